/**
 * @file data/transforms/denoise.hpp
 * @brief Denoise (tonic's neighbour filter): drops isolated events. An event at (x, y, t) is
 *        kept if one of its 4 neighbours (x±1, y), (x, y±1) had an event at a time t' with
 *        \f$ t - t' < \Delta \f$ (`filter_time`, µs); polarity is ignored. Unlike tonic, which
 *        starts its memory at t = filter_time (so every event of the first filter_time µs
 *        passes), no pixel counts as active before its first event.
 *
 * @code
 * @inproceedings{delbruck2008frame, title={Frame-free dynamic digital vision}, author={Delbruck, Tobi},
 *   booktitle={Proc. Intl. Symp. on Secure-Life Electronics}, pages={21--26}, year={2008}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_TRANSFORMS_DENOISE_HPP
#define SPIKELAB_DATA_TRANSFORMS_DENOISE_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/data/event.hpp>

#include <limits>
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

}  // namespace spikelab

#endif
