/**
 * @file data/transforms/noise.hpp
 * @brief UniformNoise (tonic's name and semantics): adds n events drawn uniformly over the
 *        sensor and the sample's time span, then re-sorts by time:
 *        \f[ x \sim U\{0, \dots, W-1\},\ y \sim U\{0, \dots, H-1\},\ p \sim U\{0, \dots, P-1\},\
 *            t \sim U\{t_{\min}, \dots, t_{\max} - 1\} \f]
 *        (tonic draws real values and truncates them to integers, which gives the same laws for
 *        non-negative times; t = t_min when all events share one time). An empty sample stays
 *        empty, as in tonic. The sort is stable: at equal times the sample's events come before
 *        the noise.
 *
 * @code
 * @misc{lenz2021tonic, title={Tonic: event-based datasets and transformations}, author={Lenz, Gregor
 *   and Chaney, Kenneth and Shrestha, Sumit Bam and others}, year={2021},
 *   note={https://github.com/neuromorphs/tonic}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_TRANSFORMS_NOISE_HPP
#define SPIKELAB_DATA_TRANSFORMS_NOISE_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/data/event.hpp>

#include <algorithm>
#include <cstdint>

namespace spikelab {

/// Adds n noise events uniform over the sensor (x, y, polarity) and over the sample's time span
/// \f$ [t_{\min}, t_{\max}) \f$, then sorts by time (tonic's UniformNoise).
struct UniformNoise {
  std::int64_t n = 0;  ///< the number of events added, >= 0

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng& rng) const {
    if (n < 0) throw ConfigError("UniformNoise: n must be >= 0");
    const SensorSize& z = s.sensor;
    if (z.width <= 0 || z.height <= 0 || z.polarities <= 0)
      throw ShapeError("UniformNoise: the sample has no sensor size");
    if (s.events.empty()) return;
    const auto [lo, hi] =
        std::minmax_element(s.events.begin(), s.events.end(), [](const Event& a, const Event& b) { return a.t < b.t; });
    const std::int64_t t0 = lo->t, span = hi->t - lo->t;
    s.events.reserve(s.events.size() + std::size_t(n));
    for (std::int64_t k = 0; k < n; ++k) {
      Event e;
      e.x = std::uint16_t(rng.below(std::uint64_t(z.width)));
      e.y = std::uint16_t(rng.below(std::uint64_t(z.height)));
      e.p = std::uint8_t(rng.below(std::uint64_t(z.polarities)));
      e.t = t0 + (span > 0 ? std::int64_t(rng.below(std::uint64_t(span))) : 0);
      s.events.push_back(e);
    }
    sort_by_time(s.events);
  }
};

}  // namespace spikelab

#endif
