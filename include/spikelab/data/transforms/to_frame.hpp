/**
 * @file data/transforms/to_frame.hpp
 * @brief ToFrame: bins an event sample into dense frames (counts per polarity channel, row,
 *        column and time slice), as tonic's `ToFrame`, plus the slicing rules it uses.
 *
 * Exactly one slicing mode is chosen:
 *  - `time_window` (µs): slices [t_s + k*stride, t_s + k*stride + window) with stride =
 *    window - overlap (overlap in µs). t_s is the first event's time, or `start_time` when set;
 *    the number of slices is floor((duration - window)/stride) + 1 (ceil with
 *    `include_incomplete`), at least 1, where duration = (end_time or last event time) - t_s.
 *    With start_time = 0 and end_time = T*window this gives exactly T bins of the fixed range
 *    [0, T*window): the papers' "25 ms bins, 80 steps" (MNIST-DVS) or "100 bins over 1.4 s"
 *    (SHD); events outside the range are dropped.
 *  - `event_count`: slices of that many consecutive events, stride = count - overlap (overlap
 *    in events); the count is clipped to the sample's length so a short sample gives 1 frame.
 *  - `n_time_bins`: n equal slices of [first, last] time; overlap in (0, 1) is a fraction, the
 *    window is duration/n*(1+overlap). Every event lands in a bin (tonic floors the window to
 *    whole µs and can drop the last events).
 *  - `n_event_bins`: n slices of floor(count/n*(1+overlap)) events each; without overlap the
 *    last slice also takes the remainder (tonic drops it).
 *
 * Frame k counts the events of slice k:
 * \f[ F_k[c, y, x] = \#\{ e \in \mathrm{slice}_k : p_e = c, y_e = y, x_e = x \} \f]
 * stored at feature (c*H + y)*W + x (channel 0 = OFF, 1 = ON); with `binary`, counts are
 * clipped to 1 (a spike per bin, as the MNIST-DVS and SHD pipelines do). The sensor is taken
 * from the sample (after spatial transforms). Events are assumed time-ordered (readers
 * guarantee it); an event outside the sensor throws ShapeError.
 *
 * @code
 * @misc{lenz2021tonic, title={Tonic: event-based datasets and transformations}, author={Lenz, Gregor
 *   and Chaney, Kenneth and Shrestha, Sumit Bam and others}, year={2021},
 *   note={https://github.com/neuromorphs/tonic}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_TRANSFORMS_TO_FRAME_HPP
#define SPIKELAB_DATA_TRANSFORMS_TO_FRAME_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/data/event.hpp>
#include <spikelab/data/frames.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <utility>
#include <vector>

namespace spikelab {

/// Half-open index ranges [begin, end) of the events in each slice.
using SliceIndices = std::vector<std::pair<std::size_t, std::size_t>>;

namespace detail {
inline std::size_t first_at_or_after(const std::vector<Event>& ev, double t) {
  return std::size_t(std::lower_bound(ev.begin(), ev.end(), t, [](const Event& e, double v) { return double(e.t) < v; }) -
                     ev.begin());
}
}  // namespace detail

/// Slices of fixed duration (tonic's slice_events_by_time); see ToFrame for the rules.
inline SliceIndices slice_by_time(const std::vector<Event>& ev, std::int64_t window, std::int64_t overlap = 0,
                                  bool include_incomplete = false, std::optional<std::int64_t> start_time = {},
                                  std::optional<std::int64_t> end_time = {}) {
  if (window <= 0) throw ConfigError("slice_by_time: the time window must be positive");
  const std::int64_t stride = window - overlap;
  if (overlap < 0 || stride <= 0) throw ConfigError("slice_by_time: the overlap must be in [0, window)");
  const std::int64_t t0 = start_time ? *start_time : (ev.empty() ? 0 : ev.front().t);
  const std::int64_t t1 = end_time ? *end_time : (ev.empty() ? t0 : ev.back().t);
  if (t1 < t0) throw ConfigError("slice_by_time: the end time lies before the start time");
  const double q = double(t1 - t0 - window) / double(stride) + 1.0;
  const std::int64_t n = std::max<std::int64_t>(1, std::int64_t(include_incomplete ? std::ceil(q) : std::floor(q)));
  if (n > (std::int64_t(1) << 26))
    throw ConfigError("slice_by_time: " + std::to_string(n) + " slices of " + std::to_string(window) +
                      " us; use a longer window or a fixed start/end time");
  SliceIndices out(static_cast<std::size_t>(n));
  std::size_t lo = 0;
  for (std::int64_t k = 0; k < n; ++k) {
    const std::int64_t a = t0 + k * stride, b = a + window;
    // starts never decrease, so search from the previous start
    const auto from = ev.begin() + std::ptrdiff_t(lo);
    lo = std::size_t(std::lower_bound(from, ev.end(), a, [](const Event& e, std::int64_t v) { return e.t < v; }) - ev.begin());
    const std::size_t hi =
        std::size_t(std::lower_bound(ev.begin() + std::ptrdiff_t(lo), ev.end(), b,
                                     [](const Event& e, std::int64_t v) { return e.t < v; }) -
                    ev.begin());
    out[std::size_t(k)] = {lo, hi};
  }
  return out;
}

/// Slices of a fixed number of events (tonic's slice_events_by_count).
inline SliceIndices slice_by_count(std::size_t events, std::int64_t count, std::int64_t overlap = 0,
                                   bool include_incomplete = false) {
  if (count <= 0) throw ConfigError("slice_by_count: the event count must be positive");
  if (overlap < 0 || overlap >= count) throw ConfigError("slice_by_count: the overlap must be in [0, count)");
  const std::int64_t c = std::max<std::int64_t>(1, std::min<std::int64_t>(count, std::int64_t(events)));
  const std::int64_t stride = std::max<std::int64_t>(1, c - std::min(overlap, c - 1));
  const double q = double(std::int64_t(events) - c) / double(stride);
  const std::int64_t n = std::max<std::int64_t>(1, std::int64_t(include_incomplete ? std::ceil(q) : std::floor(q)) + 1);
  SliceIndices out(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) {
    const std::int64_t a = std::min<std::int64_t>(k * stride, std::int64_t(events));
    out[std::size_t(k)] = {std::size_t(a), std::size_t(std::min<std::int64_t>(a + c, std::int64_t(events)))};
  }
  return out;
}

/// n slices of equal duration over [first, last] (tonic's slice_events_by_time_bins).
inline SliceIndices slice_by_time_bins(const std::vector<Event>& ev, std::int64_t n, double overlap = 0.0) {
  if (n <= 0 || n > (std::int64_t(1) << 26)) throw ConfigError("slice_by_time_bins: the number of bins must lie in [1, 2^26]");
  if (overlap < 0 || overlap >= 1) throw ConfigError("slice_by_time_bins: the overlap must be in [0, 1)");
  SliceIndices out(std::size_t(n), {0, 0});
  if (ev.empty()) return out;
  const double t0 = double(ev.front().t), dur = double(ev.back().t - ev.front().t);
  const double window = dur / double(n) * (1.0 + overlap), stride = window * (1.0 - overlap);
  for (std::int64_t k = 0; k < n; ++k) {
    const double a = t0 + double(k) * stride;
    const std::size_t lo = k == 0 ? 0 : detail::first_at_or_after(ev, a);
    const std::size_t hi = k == n - 1 && overlap == 0.0 ? ev.size() : detail::first_at_or_after(ev, a + window);
    out[std::size_t(k)] = {lo, std::max(lo, hi)};
  }
  return out;
}

/// n slices of equal event count (tonic's slice_events_by_event_bins).
inline SliceIndices slice_by_event_bins(std::size_t events, std::int64_t n, double overlap = 0.0) {
  if (n <= 0 || n > (std::int64_t(1) << 26)) throw ConfigError("slice_by_event_bins: the number of bins must lie in [1, 2^26]");
  if (overlap < 0 || overlap >= 1) throw ConfigError("slice_by_event_bins: the overlap must be in [0, 1)");
  const auto count = std::int64_t(double(events) / double(n) * (1.0 + overlap));
  const auto stride = std::int64_t(double(count) * (1.0 - overlap));
  SliceIndices out(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) {
    const std::int64_t a = std::min<std::int64_t>(k * stride, std::int64_t(events));
    const std::int64_t b = k == n - 1 && overlap == 0.0 ? std::int64_t(events) : std::min<std::int64_t>(a + count, std::int64_t(events));
    out[std::size_t(k)] = {std::size_t(a), std::size_t(b)};
  }
  return out;
}

/// How ToFrame slices a sample: by time window, event count, number of time bins or number of
/// event bins (one of the four), with overlap and an optional fixed time range.
struct ToFrameConfig {
  std::int64_t time_window = 0;  ///< µs per slice (mode 1)
  std::int64_t event_count = 0;  ///< events per slice (mode 2)
  std::int64_t n_time_bins = 0;  ///< number of equal-duration slices (mode 3)
  std::int64_t n_event_bins = 0; ///< number of equal-count slices (mode 4)
  double overlap = 0.0;          ///< µs (mode 1), events (mode 2) or a fraction in [0, 1) (modes 3, 4)
  bool include_incomplete = false;        ///< keep a last partial slice (modes 1, 2)
  std::optional<std::int64_t> start_time{}; ///< mode 1: fixed range start (default: the first event)
  std::optional<std::int64_t> end_time{};   ///< mode 1: fixed range end (default: the last event)
  bool binary = false;                    ///< clip counts to 1
};

/// Bins an event sample into dense Frames (counts per polarity channel, row, column and time
/// slice), as tonic's ToFrame (Lenz et al., 2021).
class ToFrame {
 public:
  ToFrame() = default;  // invalid until configured: operator() throws ConfigError
  /// A binning by `cfg`; throws ConfigError unless exactly one slicing mode is set.
  /// @param cfg the slicing mode and its parameters
  explicit ToFrame(ToFrameConfig cfg) : cfg_(cfg) { check(); }

  /// Fixed bins of `window` µs covering [start, start + steps*window): always `steps` frames.
  static ToFrame fixed_bins(std::int64_t window, std::int64_t steps, std::int64_t start = 0, bool binary = false) {
    if (steps <= 0) throw ConfigError("ToFrame::fixed_bins: steps must be positive");
    ToFrameConfig c;
    c.time_window = window;
    c.start_time = start;
    c.end_time = start + window * steps;
    c.binary = binary;
    return ToFrame(c);
  }

  /// The run-time configuration.
  const ToFrameConfig& config() const noexcept { return cfg_; }

  /// The event index ranges of each frame of a sample.
  SliceIndices slices(const std::vector<Event>& ev) const {
    check();
    if (cfg_.time_window > 0)
      return slice_by_time(ev, cfg_.time_window, std::int64_t(cfg_.overlap), cfg_.include_incomplete, cfg_.start_time,
                           cfg_.end_time);
    if (cfg_.event_count > 0)
      return slice_by_count(ev.size(), cfg_.event_count, std::int64_t(cfg_.overlap), cfg_.include_incomplete);
    if (cfg_.n_time_bins > 0) return slice_by_time_bins(ev, cfg_.n_time_bins, cfg_.overlap);
    return slice_by_event_bins(ev.size(), cfg_.n_event_bins, cfg_.overlap);
  }

  /// The frames of sample `s` (a FrameTransform).
  Frames operator()(const EventSample& s, Rng&) const {
    Frames f;
    apply(s, f);
    return f;
  }

  /// Bins into `f`, reusing its storage.
  void apply(const EventSample& s, Frames& f) const {
    if (s.sensor.width <= 0 || s.sensor.height <= 0 || s.sensor.polarities <= 0)
      throw ShapeError("ToFrame: the sample has no sensor size (" + s.sensor.to_string() + ")");
    const SliceIndices sl = slices(s.events);
    if (double(sl.size()) * double(s.sensor.features()) > double(std::int64_t(1) << 32))
      throw ShapeError("ToFrame: " + std::to_string(sl.size()) + " frames of " + s.sensor.to_string() +
                       " would need more than 2^32 values; use a longer window or a smaller sensor");
    f.reset(Index(sl.size()), s.sensor);
    f.label = s.label;
    const Index F = s.sensor.features();
    const auto W = std::uint32_t(s.sensor.width), H = std::uint32_t(s.sensor.height),
               P = std::uint32_t(s.sensor.polarities);
    const float cap = cfg_.binary ? 1.0f : std::numeric_limits<float>::max();
    for (std::size_t k = 0; k < sl.size(); ++k) {
      float* row = f.values.data() + Index(k) * F;
      for (std::size_t i = sl[k].first; i < sl[k].second; ++i) {
        const Event& e = s.events[i];
        if (e.x >= W || e.y >= H || e.p >= P)
          throw ShapeError("ToFrame: event " + std::to_string(i) + " (x=" + std::to_string(e.x) + ", y=" +
                           std::to_string(e.y) + ", p=" + std::to_string(e.p) + ") lies outside the " +
                           s.sensor.to_string() + " sensor");
        float& v = row[(std::size_t(e.p) * H + e.y) * W + e.x];
        v = std::min(v + 1.0f, cap);
      }
    }
  }

 private:
  void check() const {
    const int modes = (cfg_.time_window > 0) + (cfg_.event_count > 0) + (cfg_.n_time_bins > 0) + (cfg_.n_event_bins > 0);
    if (modes != 1)
      throw ConfigError("ToFrame: set exactly one of time_window, event_count, n_time_bins, n_event_bins (" +
                        std::to_string(modes) + " set)");
    if (cfg_.time_window < 0 || cfg_.event_count < 0 || cfg_.n_time_bins < 0 || cfg_.n_event_bins < 0)
      throw ConfigError("ToFrame: negative slicing parameter");
  }
  ToFrameConfig cfg_{};
};

}  // namespace spikelab

#endif
