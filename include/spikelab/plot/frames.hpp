/**
 * @file plot/frames.hpp
 * @brief Event-frame images: event_frame draws the events of a recording accumulated per
 *        pixel (ON red, OFF blue), frame_image the same picture from the dense frames a
 *        transform made of it (a batch's input, summed over time).
 *
 * Pixel (x, y) with c_on ON and c_off OFF events (or summed frame values) out of a largest
 * count m over the image gets the colour
 * \f[ (R, G, B) = (1 - f_{off},\ 1 - \max(f_{on}, f_{off}),\ 1 - f_{on}),\qquad f = c / m , \f]
 * white where nothing happened, red for ON, blue for OFF, dark purple for both; a sensor with
 * one polarity channel (or more than two, summed) is drawn in grey. Row 0 is at the top, as on the sensor. Each pixel
 * with a nonzero count is one `<rect>` in `<g class="pixels">`.
 *
 * Frames use the feature layout of data/event.hpp, f = (c·H + y)·W + x (channel c =
 * polarity), so `frame_image(batch.input, sensor, b)` shows what the network was given.
 *
 * @code
 * const EventSample s = train.get(0);
 * plot::event_frame(s).save("sample.svg");
 * @endcode
 */
#ifndef SPIKELAB_PLOT_FRAMES_HPP
#define SPIKELAB_PLOT_FRAMES_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/data/event.hpp>
#include <spikelab/plot/raster.hpp>
#include <spikelab/plot/svg.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace spikelab::plot {

/// Options of event_frame and frame_image.
struct FrameOptions {
  std::string title = "Events";  ///< the title
  std::string subtitle{};  ///< empty: the sensor, the totals and the largest count
  int pixel = 0;         ///< pixels per sensor pixel; 0: the image fits about 400 x 400
};

namespace detail {
/// counts: polarities x (H*W), row-major pixels (y*W + x).
inline Svg count_image(const std::vector<std::vector<double>>& counts, const SensorSize& sensor,
                       const FrameOptions& o, const std::string& what) {
  const int W = sensor.width, H = sensor.height, P = sensor.polarities;
  const int px = o.pixel > 0 ? o.pixel : std::max(1, 400 / std::max(W, H));
  double m = 0, on_total = 0, off_total = 0;
  for (int c = 0; c < P; ++c)
    for (double v : counts[std::size_t(c)]) {
      m = std::max(m, v);
      (P == 2 && c == 0 ? off_total : on_total) += v;
    }
  std::string subtitle = o.subtitle;
  if (subtitle.empty()) {
    std::ostringstream s;
    s << "sensor " << sensor.to_string() << ": ";
    if (P == 2)
      s << "ON " << number_label(on_total) << " (red), OFF " << number_label(off_total) << " (blue)";
    else
      s << number_label(on_total) << ' ' << what;
    s << "; at most " << number_label(m) << " per pixel";
    subtitle = s.str();
  }
  const double left = 50, top = 52;
  const int width = std::max(int(left) + W * px + 30, 520), height = int(top) + H * px + 40;
  std::ostringstream os;
  prepare(os);
  begin_svg(os, width, height, o.title, subtitle);
  const double x0 = left + std::max(0.0, (double(width - int(left) - 30) - double(W * px)) / 2);
  os << "<g class=\"pixels\" shape-rendering=\"crispEdges\">\n";
  for (int y = 0; y < H; ++y)
    for (int x = 0; x < W; ++x) {
      const std::size_t k = std::size_t(y) * std::size_t(W) + std::size_t(x);
      double on = 0, off = 0;
      if (P == 2) {
        off = counts[0][k], on = counts[1][k];
      } else {
        for (int c = 0; c < P; ++c) on += counts[std::size_t(c)][k];
      }
      if (on <= 0 && off <= 0) continue;
      const double fon = m > 0 ? std::max(on, 0.0) / m : 0, foff = m > 0 ? std::max(off, 0.0) / m : 0;
      const std::string colour = P == 2 ? rgb(1 - foff, 1 - std::max(fon, foff), 1 - fon)
                                        : rgb(1 - std::min(fon, 1.0), 1 - std::min(fon, 1.0), 1 - std::min(fon, 1.0));
      os << "<rect x=\"" << x0 + double(x * px) << "\" y=\"" << top + double(y * px) << "\" width=\"" << px
         << "\" height=\"" << px << "\" fill=\"" << colour << "\"/>\n";
    }
  os << "</g>\n<rect x=\"" << x0 << "\" y=\"" << top << "\" width=\"" << W * px << "\" height=\"" << H * px
     << "\" fill=\"none\" stroke=\"#333\"/>\n"
     << "<text x=\"" << x0 + double(W * px) / 2 << "\" y=\"" << top + double(H * px) + 18
     << "\" text-anchor=\"middle\" font-size=\"12\">x (0 to " << W - 1 << "), y (0 to " << H - 1
     << ") downwards</text>\n";
  end_svg(os);
  return Svg(os.str());
}

inline void check_sensor(const SensorSize& s, const char* who) {
  if (s.width < 1 || s.height < 1 || s.polarities < 1)
    throw ShapeError(std::string(who) + ": empty sensor " + s.to_string());
}
}  // namespace detail

/// The events of `s` accumulated per pixel and polarity over the whole recording. Throws
/// ShapeError for an empty sensor or an event outside it.
inline Svg event_frame(const EventSample& s, const FrameOptions& o = {}) {
  detail::check_sensor(s.sensor, "event_frame");
  check_events_in_sensor(s, "event_frame");
  const std::size_t pixels = std::size_t(s.sensor.width) * std::size_t(s.sensor.height);
  std::vector<std::vector<double>> counts(std::size_t(s.sensor.polarities), std::vector<double>(pixels, 0.0));
  for (const Event& e : s.events) counts[e.p][std::size_t(e.y) * std::size_t(s.sensor.width) + e.x] += 1.0;
  return detail::count_image(counts, s.sensor, o, "events");
}

/// Sample `sample` of dense frames (features = sensor.features(), layout (c·H + y)·W + x)
/// summed over time. Throws ShapeError when the features do not match the sensor or the sample
/// is outside the batch.
template <Scalar S>
Svg frame_image(const TimeSeries<S>& frames, const SensorSize& sensor, Index sample = 0, const FrameOptions& o = {}) {
  detail::check_sensor(sensor, "frame_image");
  detail::check_sample(frames, sample, "frame_image");
  if (frames.features() != sensor.features())
    throw ShapeError("frame_image: frames of " + std::to_string(frames.features()) + " features for the sensor " +
                     sensor.to_string() + " (" + std::to_string(sensor.features()) + " features)");
  const std::size_t pixels = std::size_t(sensor.width) * std::size_t(sensor.height);
  std::vector<std::vector<double>> counts(std::size_t(sensor.polarities), std::vector<double>(pixels, 0.0));
  for (Index t = 0; t < frames.steps(); ++t)
    for (Index c = 0; c < sensor.polarities; ++c)
      for (std::size_t k = 0; k < pixels; ++k)
        counts[std::size_t(c)][k] += double(frames(c * Index(pixels) + Index(k), sample, t));
  return detail::count_image(counts, sensor, o, "(frames summed)");
}

}  // namespace spikelab::plot

#endif
