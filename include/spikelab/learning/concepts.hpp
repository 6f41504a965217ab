/**
 * @file learning/concepts.hpp
 * @brief Learning-rule concepts. The trainer picks its loop at compile time from them.
 *
 *  - GradientRule<R, Net>: `r.accumulate(net, batch, rng)` runs a training forward pass,
 *    the loss and the backward pass over a whole batch and ADDS gradients to the network's
 *    parameters (an optimizer applies them); `r.evaluate(net, batch)` runs inference.
 *    BPTT and neighbourhood aggregation are gradient rules.
 *  - OnlineRule<R, Net>: `r.train_batch(net, batch, rng)` runs the batch step by step and
 *    updates the network itself as it goes (no BPTT memory; GEM, VOWEL);
 *    `r.evaluate(net, batch, rng)` runs inference (stochastic networks need the rng).
 * Both return StepStats (mean loss and a Tally of correct decisions).
 */
#ifndef SPIKELAB_LEARNING_CONCEPTS_HPP
#define SPIKELAB_LEARNING_CONCEPTS_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/tally.hpp>

#include <concepts>

namespace spikelab {

/// What one batch of training or evaluation produced.
struct StepStats {
  double loss = 0.0;
  Tally tally{};
};

template <class R, class Net>
concept GradientRule = requires(R& r, Net& net, const Batch<typename Net::scalar_type>& b, Rng& rng) {
  { r.accumulate(net, b, rng) } -> std::same_as<StepStats>;
  { r.evaluate(net, b) } -> std::same_as<StepStats>;
};

template <class R, class Net>
concept OnlineRule = requires(R& r, Net& net, const Batch<typename Net::scalar_type>& b, Rng& rng) {
  { r.train_batch(net, b, rng) } -> std::same_as<StepStats>;
  { r.evaluate(net, b, rng) } -> std::same_as<StepStats>;
};

template <class R, class Net>
concept LearningRule = GradientRule<R, Net> || OnlineRule<R, Net>;

}  // namespace spikelab

#endif
