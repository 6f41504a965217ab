/**
 * @file data/transforms/compose.hpp
 * @brief Compose<Ts...>: a whole preprocessing / augmentation pipeline as one type, applied
 *        stage by stage with no run-time dispatch and no std::function (the transform concepts
 *        and apply_transform are in data/concepts.hpp).
 *
 * A transform is a const callable taking the current value and an Rng& (which it may ignore):
 *  - an **in-place** stage returns void: `t(EventSample& s, Rng& rng)` (Downsample, Crop,
 *    Denoise, TimeJitter, MergePolarities, ...);
 *  - a **converting** stage returns a new value: `Frames t(const EventSample& s, Rng& rng)`
 *    (ToFrame).
 * `Compose{a, b, c}` applies a, then b, then c; its result type is decided at compile time
 * (EventSample if every stage is in place, Frames if the chain ends with ToFrame). An in-place
 * Compose is itself an in-place transform, so pipelines nest. Randomised stages draw from the
 * Rng they are given; the loader hands each sample its own stream derived from (seed, epoch,
 * sample), so a run is reproducible whatever the thread timing.
 * \f[ \mathrm{Compose}\{a, b, c\}(s) = c(b(a(s))) \f] (tonic's `transforms.Compose`, resolved at compile time).
 *
 * @code
 * @misc{lenz2021tonic, title={Tonic: event-based datasets and transformations}, author={Lenz, Gregor
 *   and Chaney, Kenneth and Shrestha, Sumit Bam and others}, year={2021},
 *   note={https://github.com/neuromorphs/tonic}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_TRANSFORMS_COMPOSE_HPP
#define SPIKELAB_DATA_TRANSFORMS_COMPOSE_HPP

#include <spikelab/core/random.hpp>
#include <spikelab/data/concepts.hpp>
#include <spikelab/data/event.hpp>
#include <spikelab/data/frames.hpp>

#include <concepts>
#include <tuple>
#include <type_traits>
#include <utility>

namespace spikelab {

/// The identity.
struct NoTransform {
  /// Leaves the sample as it is (an InPlaceTransform).
  void operator()(EventSample&, Rng&) const noexcept {}
};

/// A whole preprocessing / augmentation pipeline as one type, applied stage by stage with no
/// run-time dispatch (tonic's Compose: Lenz et al., 2021).
/// @tparam Ts the stages, in order (in-place transforms, then possibly a FrameTransform)
template <class... Ts>
class Compose {
 public:
  Compose() = default;
  /// A pipeline of the given stages, applied in order.
  /// @param ts the stages
  explicit Compose(Ts... ts) : stages_(std::move(ts)...) {}

  /// In place, when every stage is in place.
  void operator()(EventSample& s, Rng& rng) const
    requires(InPlaceTransform<Ts, EventSample> && ...)
  {
    std::apply([&](const auto&... t) { (t(s, rng), ...); }, stages_);
  }

  /// Converting, when some stage changes the type (e.g. ends with ToFrame).
  auto operator()(EventSample s, Rng& rng) const
    requires(!(InPlaceTransform<Ts, EventSample> && ...))
  {
    return run<0>(std::move(s), rng);
  }

  /// Stage I of the pipeline.
  template <std::size_t I>
  const auto& stage() const noexcept {
    return std::get<I>(stages_);
  }
  /// Stage I of the pipeline.
  template <std::size_t I>
  auto& stage() noexcept {
    return std::get<I>(stages_);
  }
  /// The number of stages.
  static constexpr std::size_t size() noexcept { return sizeof...(Ts); }

 private:
  template <std::size_t I, class X>
  auto run(X x, Rng& rng) const {
    if constexpr (I == sizeof...(Ts))
      return x;
    else
      return run<I + 1>(apply_transform(std::get<I>(stages_), std::move(x), rng), rng);
  }

  std::tuple<Ts...> stages_;
};

/// Compose(a, b, ...) deduces the pipeline's stages from its arguments.
template <class... Ts>
Compose(Ts...) -> Compose<Ts...>;

}  // namespace spikelab

#endif
