/**
 * @file losses/concepts.hpp
 * @brief The Loss concept.
 *
 * Requirements on a loss L for scalar S, given the network output `out` (a TimeSeries) and
 * the Batch `b` (labels, step labels, lengths):
 *  - `l.value_and_gradient(out, b, g)` returns the loss (mean over samples or scored steps)
 *    and writes dL/d(out) into g (resized to out's shape);
 *  - `l.value(out, b)` returns the loss only;
 *  - `l.tally(out, b)` counts correct decisions (core/tally.hpp);
 *  - `L::name()`.
 * Padding steps (t >= length of a sample) never contribute.
 */
#ifndef SPIKELAB_LOSSES_CONCEPTS_HPP
#define SPIKELAB_LOSSES_CONCEPTS_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/tally.hpp>

#include <cereal/cereal.hpp>

#include <concepts>
#include <string>

namespace spikelab {

template <class L, class S>
concept Loss = Scalar<S> && requires(L& l, const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>& g) {
  { L::name() } -> std::convertible_to<std::string>;
  { l.value_and_gradient(out, b, g) } -> std::same_as<S>;
  { l.value(out, b) } -> std::same_as<S>;
  { l.tally(out, b) } -> std::same_as<Tally>;
};

namespace detail {
inline void require_labels(bool ok, const std::string& loss, const char* what) {
  if (!ok) throw ShapeError(loss + ": the batch has no " + what);
}
}  // namespace detail

}  // namespace spikelab

#endif
