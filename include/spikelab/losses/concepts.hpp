/**
 * @file losses/concepts.hpp
 * @brief The Loss concept and its archetype.
 *
 * Loss<L, S>: requirements on a loss L for scalar S, given the network output `out` (a
 * TimeSeries) and the Batch `b` (labels, step labels, lengths):
 *  - `l.value_and_gradient(out, b, g)` returns the loss (mean over samples or scored steps)
 *    and writes dL/d(out) into g (resized to out's shape);
 *  - `l.value(out, b)` returns the loss only;
 *  - `l.tally(out, b)` counts correct decisions (core/tally.hpp);
 *  - `L::name()`.
 * Padding steps (t >= length of a sample) never contribute. The library's losses get the
 * three calls from one pass through SPIKELAB_LOSS_FROM_COMPUTE (losses/loss_base.hpp).
 */
#ifndef SPIKELAB_LOSSES_CONCEPTS_HPP
#define SPIKELAB_LOSSES_CONCEPTS_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/tally.hpp>

#include <concepts>
#include <string>

namespace spikelab {

/// A loss on a network's output: its value, its gradient with respect to the output, and the
/// tally of correct decisions on a batch (requirements in the file comment).
/// @tparam L the loss type
/// @tparam S the scalar type of the network output
template <class L, class S>
concept Loss = Scalar<S> && requires(L& l, const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>& g) {
  { L::name() } -> std::convertible_to<std::string>;
  { l.value_and_gradient(out, b, g) } -> std::same_as<S>;
  { l.value(out, b) } -> std::same_as<S>;
  { l.tally(out, b) } -> std::same_as<Tally>;
};

/// The smallest Loss: zero loss, zero gradient, no decisions.
struct LossArchetype {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "LossArchetype"; }
  /// Loss 0 and a zero gradient.
  template <Scalar S>
  S value_and_gradient(const TimeSeries<S>& out, const Batch<S>&, TimeSeries<S>& g) {
    g.resize_zero(out.features(), out.batch(), out.steps());
    return S(0);
  }
  /// 0.
  template <Scalar S>
  S value(const TimeSeries<S>&, const Batch<S>&) { return S(0); }
  /// No decisions.
  template <Scalar S>
  Tally tally(const TimeSeries<S>&, const Batch<S>&) { return {}; }
};
static_assert(Loss<LossArchetype, float> && Loss<LossArchetype, double>);

}  // namespace spikelab

#endif
