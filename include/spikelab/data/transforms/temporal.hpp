/**
 * @file data/transforms/temporal.hpp
 * @brief In-place temporal transforms and time-window slicing of event samples:
 *  - TimeJitter{std}: \f$ t' = t + \mathrm{round}(\epsilon),\ \epsilon \sim \mathcal{N}(0, \sigma^2) \f$
 *    per event (seeded through the Rng); events pushed below 0 are dropped (`clip_negative`) and
 *    the sample is re-sorted by time (`sort_timestamps`, on by default: frames need ordered times);
 *  - CropTime{min, max}: keeps events with min <= t < max (half-open, like every window here);
 *  - TimeShift{to_zero}: subtracts the first event's time (or a fixed offset) from every time;
 *  - TimeSkew{coefficient, offset}: \f$ t' = \mathrm{trunc}(c\, t + b) \f$ (truncation toward 0,
 *    as tonic's assignment of the real result to integer times); c > 0 keeps the time order;
 *  - RandomTimeReversal{p, flip_polarities}: with probability p (one draw per sample),
 *    \f$ t' = \max_k t_k - t \f$, the event order reversed (so times stay non-decreasing) and,
 *    with `flip_polarities`, ON and OFF swapped, \f$ p' = 1 - p \f$ (a reversed ON edge is an
 *    OFF edge);
 *  - slice_sample(sample, window, overlap): tonic's SliceByTime, cuts one recording into
 *    consecutive sub-samples of `window` µs (each re-based to t = 0, same label and sensor).
 *
 * @code
 * @misc{lenz2021tonic, title={Tonic: event-based datasets and transformations}, author={Lenz, Gregor
 *   and Chaney, Kenneth and Shrestha, Sumit Bam and others}, year={2021},
 *   note={https://github.com/neuromorphs/tonic}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_TRANSFORMS_TEMPORAL_HPP
#define SPIKELAB_DATA_TRANSFORMS_TEMPORAL_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/data/event.hpp>
#include <spikelab/data/transforms/to_frame.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace spikelab {

/// Adds Gaussian noise to every time, \f$ t' = t + \mathrm{round}(\epsilon),\;
/// \epsilon \sim \mathcal{N}(0, \sigma^2) \f$; drops events pushed below 0 and re-sorts by time.
struct TimeJitter {
  double std = 1.0;  ///< µs
  bool clip_negative = true;  ///< drop events pushed below t = 0
  bool sort_timestamps = true;  ///< re-sort the events by time

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng& rng) const {
    if (!(std >= 0)) throw ConfigError("TimeJitter: std must be >= 0");
    std::size_t w = 0;
    for (const Event& e : s.events) {
      Event r = e;
      r.t += std::llround(rng.normal(0.0, std));
      if (clip_negative && r.t < 0) continue;
      s.events[w++] = r;
    }
    s.events.resize(w);
    if (sort_timestamps) sort_by_time(s.events);
  }
};

/// Keeps the events with min <= t < max.
struct CropTime {
  std::int64_t min = 0;  ///< the first time kept (µs)
  std::int64_t max = std::numeric_limits<std::int64_t>::max();  ///< the end of the kept range (µs, exclusive)

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng&) const {
    if (max < min) throw ConfigError("CropTime: max < min");
    std::size_t w = 0;
    for (const Event& e : s.events)
      if (e.t >= min && e.t < max) s.events[w++] = e;
    s.events.resize(w);
  }
};

/// Subtracts the first event's time (or a fixed offset) from every time.
struct TimeShift {
  bool to_zero = true;      ///< subtract the first event's time
  std::int64_t offset = 0;  ///< otherwise subtract this

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng&) const {
    const std::int64_t d = to_zero ? s.first_time() : offset;
    for (Event& e : s.events) e.t -= d;
  }
};

/// Stretches and shifts every time, \f$ t' = \mathrm{trunc}(c\, t + b) \f$ (tonic's TimeSkew).
struct TimeSkew {
  double coefficient = 1.0;  ///< c, > 0
  double offset = 0.0;       ///< b, µs

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng&) const {
    if (!(coefficient > 0) || !std::isfinite(coefficient))
      throw ConfigError("TimeSkew: coefficient must be finite and > 0");
    if (!std::isfinite(offset)) throw ConfigError("TimeSkew: offset must be finite");
    constexpr double limit = 0x1p62;  // well inside int64, so the conversion is exact and defined
    for (Event& e : s.events) {
      const double t = std::trunc(coefficient * double(e.t) + offset);
      if (!(std::abs(t) < limit))
        throw ConfigError("TimeSkew: the time " + std::to_string(e.t) + " us maps outside the int64 range of times");
      e.t = std::int64_t(t);
    }
  }
};

/// With probability p (one draw per sample): \f$ t' = \max_k t_k - t \f$, the events in reverse
/// order and, with `flip_polarities`, \f$ p' = 1 - p \f$ (tonic's RandomTimeReversal).
struct RandomTimeReversal {
  double p = 0.5;               ///< the probability of the reversal, in [0, 1]
  bool flip_polarities = true;  ///< swap ON and OFF when reversing (needs a 2-polarity sensor)

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng& rng) const {
    if (!(p >= 0 && p <= 1)) throw ConfigError("RandomTimeReversal: p must lie in [0, 1]");
    if (flip_polarities && s.sensor.polarities != 2)
      throw ShapeError("RandomTimeReversal: flip_polarities needs 2 polarities, the sensor is " + s.sensor.to_string() +
                       " (set flip_polarities = false for merged or 1-D samples)");
    if (!(rng.uniform() < p) || s.events.empty()) return;
    const std::int64_t t_max =
        std::max_element(s.events.begin(), s.events.end(), [](const Event& a, const Event& b) { return a.t < b.t; })->t;
    for (Event& e : s.events) {
      e.t = t_max - e.t;
      if (flip_polarities) e.p = e.p == 0 ? 1 : 0;
    }
    std::reverse(s.events.begin(), s.events.end());
  }
};

/// Cuts a recording into sub-samples of `window` µs (stride window - overlap), starting at the
/// first event; each keeps the label and sensor and is re-based so that its window starts at 0.
inline std::vector<EventSample> slice_sample(const EventSample& s, std::int64_t window, std::int64_t overlap = 0,
                                             bool include_incomplete = false) {
  const SliceIndices sl = slice_by_time(s.events, window, overlap, include_incomplete);
  std::vector<EventSample> out(sl.size());
  const std::int64_t t0 = s.first_time();
  for (std::size_t k = 0; k < sl.size(); ++k) {
    out[k].sensor = s.sensor;
    out[k].label = s.label;
    out[k].events.assign(s.events.begin() + std::ptrdiff_t(sl[k].first), s.events.begin() + std::ptrdiff_t(sl[k].second));
    const std::int64_t base = t0 + std::int64_t(k) * (window - overlap);
    for (Event& e : out[k].events) e.t -= base;
  }
  return out;
}

}  // namespace spikelab

#endif
