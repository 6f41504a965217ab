/**
 * @file data/transforms/drop.hpp
 * @brief Random event-dropping augmentations (EventDrop's three) (tonic's names, parameters and semantics); each keeps
 * the order of the events it keeps:
 *  - DropEvent{p}: drops exactly \f$ k = \lfloor p N + 1/2 \rfloor \f$ of the N events, the
 *    k-subset drawn uniformly (tonic's `drop_event_numpy`, without replacement);
 *  - DropEventByTime{duration_ratio}: with \f$ T = \max_k t_k \f$ and \f$ d = r T \f$, draws
 *    \f$ a \sim U[0, T - d) \f$ and drops every event with \f$ a \le t \le a + d \f$ (closed
 *    interval; as in tonic the recording is taken to start at t = 0, not at its first event);
 *  - DropEventByArea{area_ratio}: a box of \f$ \lfloor r W \rfloor \times \lfloor r H \rfloor \f$
 *    pixels with its corner \f$ (x_1, y_1) \f$ uniform in \f$ [0, W - w) \times [0, H - h) \f$;
 *    drops the events with \f$ x_1 \le x < x_1 + w,\ y_1 \le y < y_1 + h \f$ (the sample's
 *    sensor gives W, H).
 * (DropPixel, a per-pixel filter, is in denoise.hpp.)
 *
 * tonic's (min, max) tuple forms, which draw p or a ratio per call, are not provided: draw the
 * parameter in your own stage, or compose two transforms.
 *
 * @code
 * @misc{lenz2021tonic, title={Tonic: event-based datasets and transformations}, author={Lenz, Gregor
 *   and Chaney, Kenneth and Shrestha, Sumit Bam and others}, year={2021},
 *   note={https://github.com/neuromorphs/tonic}}
 * @inproceedings{gu2021eventdrop, title={EventDrop: data augmentation for event-based learning},
 *   author={Gu, Fuqiang and Sng, Weicong and Hu, Xuke and Yu, Fangwen},
 *   booktitle={Proc. Intl. Joint Conf. on Artificial Intelligence (IJCAI)}, pages={700--707}, year={2021}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_TRANSFORMS_DROP_HPP
#define SPIKELAB_DATA_TRANSFORMS_DROP_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/data/event.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace spikelab {

/// Drops \f$ \lfloor p N + 1/2 \rfloor \f$ of the N events, chosen uniformly without replacement
/// (tonic's DropEvent; EventDrop's random drop, Gu et al., IJCAI 2021).
struct DropEvent {
  double p = 0.5;  ///< the fraction of events dropped, in [0, 1]

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng& rng) const {
    if (!(p >= 0 && p <= 1)) throw ConfigError("DropEvent: p must lie in [0, 1]");
    const std::size_t n = s.events.size();
    std::size_t to_drop = std::size_t(std::floor(p * double(n) + 0.5));
    // selection sampling: event i is dropped with probability (drops left) / (events left),
    // which draws a uniform k-subset in one ordered pass
    std::size_t w = 0;
    for (std::size_t i = 0; i < n; ++i) {
      if (to_drop > 0 && rng.below(n - i) < to_drop) {
        --to_drop;
        continue;
      }
      s.events[w++] = s.events[i];
    }
    s.events.resize(w);
  }
};

/// Drops the events of a random time interval of length \f$ r \max_k t_k \f$ (closed, starting
/// uniformly in \f$ [0, (1 - r) \max_k t_k) \f$; tonic's DropEventByTime, Gu et al., IJCAI 2021).
struct DropEventByTime {
  double duration_ratio = 0.2;  ///< r, the interval's share of the recording, in [0, 1)

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng& rng) const {
    if (!(duration_ratio >= 0 && duration_ratio < 1))
      throw ConfigError("DropEventByTime: duration_ratio must lie in [0, 1)");
    if (s.events.empty()) return;
    const auto t_end = double(std::max_element(s.events.begin(), s.events.end(), [](const Event& a, const Event& b) {
                                return a.t < b.t;
                              })->t);
    const double d = t_end * duration_ratio;
    const double a = rng.uniform(0.0, t_end - d);
    std::erase_if(s.events, [&](const Event& e) { return double(e.t) >= a && double(e.t) <= a + d; });
  }
};

/// Drops the events inside a random box of \f$ \lfloor r W \rfloor \times \lfloor r H \rfloor \f$
/// pixels (tonic's DropEventByArea, Gu et al., IJCAI 2021).
struct DropEventByArea {
  double area_ratio = 0.2;  ///< r, the box's side as a share of the sensor's, in [0, 1)

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng& rng) const {
    if (!(area_ratio >= 0 && area_ratio < 1)) throw ConfigError("DropEventByArea: area_ratio must lie in [0, 1)");
    const std::int64_t W = s.sensor.width, H = s.sensor.height;
    if (W <= 0 || H <= 0) throw ShapeError("DropEventByArea: the sample has no sensor size");
    const auto w = std::int64_t(double(W) * area_ratio), h = std::int64_t(double(H) * area_ratio);
    const auto x1 = std::int64_t(rng.below(std::uint64_t(W - w))), y1 = std::int64_t(rng.below(std::uint64_t(H - h)));
    std::erase_if(s.events, [&](const Event& e) { return e.x >= x1 && e.x < x1 + w && e.y >= y1 && e.y < y1 + h; });
  }
};

}  // namespace spikelab

#endif
