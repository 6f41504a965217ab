/**
 * @file data/transforms/denoise.hpp
 * @brief Per-pixel event filters, each a decision from the history of the event's own pixel
 *        (or of its neighbours) that keeps the order of the kept events:
 *  - Denoise (tonic's neighbour filter): drops isolated events. An event at (x, y, t) is kept
 *    if one of its 4 neighbours (x±1, y), (x, y±1) had an event at a time t' with
 *    \f$ t - t' < \Delta \f$ (`filter_time`, µs); polarity is ignored. Unlike tonic, which
 *    starts its memory at t = filter_time (so every event of the first filter_time µs passes),
 *    no pixel counts as active before its first event.
 *  - RefractoryPeriod{delta} (tonic's): keeps the event n of a pixel when
 *    \f$ t_n - t_{n-1} > \delta \f$, where \f$ t_{n-1} \f$ is the pixel's previous event,
 *    kept or not, and \f$ t_{-1} = -\delta \f$ (tonic's memory start: a pixel's first event
 *    is kept only if t > 0). Polarity is ignored.
 *  - Decimation{n} (tonic's): keeps every n-th event of each pixel (the n-th, 2n-th, ...);
 *    polarity is ignored.
 *  - DropPixel{coordinates, hot_pixel_frequency} (tonic's): drops every event of the listed
 *    (x, y) pixels or, when the frequency f (Hz) is positive, of the "hot" pixels that fired more
 *    than \f$ f \cdot (t_{N-1} - t_0) \cdot 10^{-6} \f$ times in the sample (the list is then
 *    ignored, as tonic does; hot pixels fire without input, e.g. from faulty hardware).
 *
 * RefractoryPeriod, Decimation and DropPixel size their pixel memory from the events (as tonic
 * does), so they need no sensor size; Denoise needs one.
 *
 * @code
 * @misc{lenz2021tonic, title={Tonic: event-based datasets and transformations}, author={Lenz, Gregor
 *   and Chaney, Kenneth and Shrestha, Sumit Bam and others}, year={2021},
 *   note={https://github.com/neuromorphs/tonic}}
 * @inproceedings{delbruck2008frame, title={Frame-free dynamic digital vision}, author={Delbruck, Tobi},
 *   booktitle={Proc. Intl. Symp. on Secure-Life Electronics}, pages={21--26}, year={2008}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_TRANSFORMS_DENOISE_HPP
#define SPIKELAB_DATA_TRANSFORMS_DENOISE_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/data/event.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

namespace spikelab {

/// Drops isolated events: an event is kept if one of its 4 neighbours had an event less than
/// `filter_time` µs before (tonic's neighbour filter; Delbruck 2008).
struct Denoise {
  std::int64_t filter_time = 10000;  ///< µs

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng&) const {
    if (filter_time <= 0) throw ConfigError("Denoise: filter_time must be positive");
    const std::int64_t W = s.sensor.width, H = s.sensor.height;
    if (W <= 0 || H <= 0) throw ShapeError("Denoise: the sample has no sensor size");
    // active_until[y*W + x] = time of the pixel's last event + filter_time
    std::vector<std::int64_t> active_until(std::size_t(W * H), std::numeric_limits<std::int64_t>::min());
    std::size_t w = 0;
    for (const Event& e : s.events) {
      const std::int64_t x = e.x, y = e.y;
      if (x >= W || y >= H)
        throw ShapeError("Denoise: an event (x=" + std::to_string(x) + ", y=" + std::to_string(y) + ") lies outside the " +
                         s.sensor.to_string() + " sensor");
      const std::int64_t t = e.t;
      active_until[std::size_t(y * W + x)] = t + filter_time;
      const bool keep = (x > 0 && active_until[std::size_t(y * W + x - 1)] > t) ||
                        (x + 1 < W && active_until[std::size_t(y * W + x + 1)] > t) ||
                        (y > 0 && active_until[std::size_t((y - 1) * W + x)] > t) ||
                        (y + 1 < H && active_until[std::size_t((y + 1) * W + x)] > t);
      if (keep) s.events[w++] = e;
    }
    s.events.resize(w);
  }
};

namespace detail {
/// The pixel grid spanned by the events: width max(x) + 1 and height max(y) + 1.
inline std::pair<std::int64_t, std::int64_t> event_extent(const std::vector<Event>& ev) noexcept {
  std::int64_t W = 0, H = 0;
  for (const Event& e : ev) {
    W = std::max<std::int64_t>(W, e.x + 1);
    H = std::max<std::int64_t>(H, e.y + 1);
  }
  return {W, H};
}
}  // namespace detail

/// Keeps the n-th event of a pixel when \f$ t_n - t_{n-1} > \delta \f$, with \f$ t_{n-1} \f$ the
/// pixel's previous event (kept or not) and \f$ t_{-1} = -\delta \f$ (tonic's RefractoryPeriod).
struct RefractoryPeriod {
  std::int64_t delta = 0;  ///< the refractory period, µs (>= 0)

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng&) const {
    if (delta < 0) throw ConfigError("RefractoryPeriod: delta must be >= 0");
    const auto [W, H] = detail::event_extent(s.events);
    std::vector<std::int64_t> last(std::size_t(W * H), -delta);
    std::size_t w = 0;
    for (const Event& e : s.events) {
      std::int64_t& prev = last[std::size_t(e.y * W + e.x)];
      const bool keep = e.t - prev > delta;
      prev = e.t;
      if (keep) s.events[w++] = e;
    }
    s.events.resize(w);
  }
};

/// Keeps the n-th, 2n-th, ... event of each pixel (tonic's Decimation).
struct Decimation {
  std::int64_t n = 1;  ///< keep one event in n per pixel (>= 1)

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng&) const {
    if (n < 1) throw ConfigError("Decimation: n must be >= 1");
    const auto [W, H] = detail::event_extent(s.events);
    std::vector<std::int64_t> count(std::size_t(W * H), 0);
    std::size_t w = 0;
    for (const Event& e : s.events) {
      std::int64_t& c = count[std::size_t(e.y * W + e.x)];
      if (++c < n) continue;
      c = 0;
      s.events[w++] = e;
    }
    s.events.resize(w);
  }
};

/// Drops every event of the listed pixels, or of the pixels that fire more often than
/// `hot_pixel_frequency` Hz over the sample: pixel (x, y) is hot when its count exceeds
/// \f$ f \cdot (t_{N-1} - t_0) \cdot 10^{-6} \f$ (tonic's DropPixel).
struct DropPixel {
  std::vector<std::pair<std::int32_t, std::int32_t>> coordinates;  ///< (x, y) pixels to drop
  double hot_pixel_frequency = 0;  ///< Hz; when positive, the hot pixels replace `coordinates`

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng&) const {
    if (!(hot_pixel_frequency >= 0) || !std::isfinite(hot_pixel_frequency))
      throw ConfigError("DropPixel: hot_pixel_frequency must be finite and >= 0");
    for (const auto& [x, y] : coordinates)
      if (x < 0 || y < 0)
        throw ConfigError("DropPixel: coordinate (" + std::to_string(x) + ", " + std::to_string(y) + ") is negative");
    if (s.events.empty()) return;
    const auto [W, H] = detail::event_extent(s.events);
    std::vector<char> dropped(std::size_t(W * H), 0);
    if (hot_pixel_frequency > 0) {
      std::vector<std::int64_t> count(dropped.size(), 0);
      for (const Event& e : s.events) ++count[std::size_t(e.y * W + e.x)];
      const double max_count = hot_pixel_frequency * double(s.events.back().t - s.events.front().t) * 1e-6;
      for (std::size_t k = 0; k < count.size(); ++k) dropped[k] = double(count[k]) > max_count;
    } else {
      for (const auto& [x, y] : coordinates)
        if (x < W && y < H) dropped[std::size_t(std::int64_t(y) * W + x)] = 1;
    }
    std::erase_if(s.events, [&](const Event& e) { return dropped[std::size_t(e.y * W + e.x)] != 0; });
  }
};

}  // namespace spikelab

#endif
