/**
 * @file learning/concepts.hpp
 * @brief The learning-rule concepts, with their archetypes. The trainer picks its loop at
 *        compile time from them.
 *
 *  - GradientRule<R, Net>: `r.accumulate(net, batch, rng)` runs a training forward pass,
 *    the loss and the backward pass over a whole batch and ADDS gradients to the network's
 *    parameters (an optimizer applies them); `r.evaluate(net, batch)` runs inference.
 *    BPTT and neighbourhood aggregation are gradient rules.
 *  - OnlineRule<R, Net>: `r.train_batch(net, batch, rng)` runs the batch step by step and
 *    updates the network itself as it goes (no BPTT memory; GEM, VOWEL);
 *    `r.evaluate(net, batch, rng)` runs inference (stochastic networks need the rng).
 *  - LearningRule<R, Net>: either of the two.
 * All return StepStats (mean loss and a Tally of correct decisions); the batch is a
 * Batch<Net::scalar_type>.
 *  - Regularizer<R, Net>: a penalty of a gradient rule on the network's parameters:
 *    `r.value(net)` returns it; `r.add_gradient(net)` ADDS its gradient to the parameters'
 *    gradients and returns it; `R::name()`.
 * The archetypes are templates over the network; they are checked on Sequential<LayerArchetype>.
 */
#ifndef SPIKELAB_LEARNING_CONCEPTS_HPP
#define SPIKELAB_LEARNING_CONCEPTS_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/tally.hpp>
#include <spikelab/layers/concepts.hpp>
#include <spikelab/networks/sequential.hpp>

#include <concepts>
#include <string>

namespace spikelab {

/// What one batch of training or evaluation produced.
struct StepStats {
  double loss = 0.0;  ///< the mean loss
  Tally tally{};  ///< the decisions
};

/// A rule that accumulates gradients over a batch (see the file comment).
/// @tparam R the rule type
/// @tparam Net the network it trains
template <class R, class Net>
concept GradientRule = requires(R& r, Net& net, const Batch<typename Net::scalar_type>& b, Rng& rng) {
  { r.accumulate(net, b, rng) } -> std::same_as<StepStats>;
  { r.evaluate(net, b) } -> std::same_as<StepStats>;
};

/// The smallest GradientRule: adds no gradient and decides nothing.
struct GradientRuleArchetype {
  /// Forward pass, loss and backward pass of one batch, adding to the gradients (GradientRule).
  template <class Net>
  StepStats accumulate(Net&, const Batch<typename Net::scalar_type>&, Rng&) { return {}; }
  /// Measures loss and decisions on a batch without learning.
  template <class Net>
  StepStats evaluate(Net&, const Batch<typename Net::scalar_type>&) { return {}; }
};

/// A rule that updates the network step by step (see the file comment).
/// @tparam R the rule type
/// @tparam Net the network it trains
template <class R, class Net>
concept OnlineRule = requires(R& r, Net& net, const Batch<typename Net::scalar_type>& b, Rng& rng) {
  { r.train_batch(net, b, rng) } -> std::same_as<StepStats>;
  { r.evaluate(net, b, rng) } -> std::same_as<StepStats>;
};

/// The smallest OnlineRule: changes nothing and decides nothing.
struct OnlineRuleArchetype {
  /// Trains on one batch, updating the network step by step (OnlineRule).
  template <class Net>
  StepStats train_batch(Net&, const Batch<typename Net::scalar_type>&, Rng&) { return {}; }
  /// Measures loss and decisions on a batch without learning.
  template <class Net>
  StepStats evaluate(Net&, const Batch<typename Net::scalar_type>&, Rng&) { return {}; }
};

/// What a Trainer accepts: a gradient rule or an online rule.
/// @tparam R the rule type
/// @tparam Net the network it trains
template <class R, class Net>
concept LearningRule = GradientRule<R, Net> || OnlineRule<R, Net>;

/// LearningRule is a disjunction: its archetype is the smaller of the two, the online rule
/// (it needs no optimizer).
using LearningRuleArchetype = OnlineRuleArchetype;

/// A penalty on the network's parameters (see the file comment).
/// @tparam R the regulariser type
/// @tparam Net the network it penalises
template <class R, class Net>
concept Regularizer = requires(R& r, Net& net) {
  { R::name() } -> std::convertible_to<std::string>;
  { r.value(net) } -> std::convertible_to<double>;
  { r.add_gradient(net) } -> std::convertible_to<double>;
};

/// The smallest Regularizer: no penalty.
struct RegularizerArchetype {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "RegularizerArchetype"; }
  /// The penalty on the network's parameters.
  template <class Net>
  double value(Net&) const { return 0.0; }
  /// Adds the penalty's gradient to the parameter gradients; returns the penalty.
  template <class Net>
  double add_gradient(Net&) const { return 0.0; }
};

namespace detail {
using ArchetypeNetwork = Sequential<LayerArchetype>;
}  // namespace detail
static_assert(GradientRule<GradientRuleArchetype, detail::ArchetypeNetwork> &&
              !OnlineRule<GradientRuleArchetype, detail::ArchetypeNetwork>);
static_assert(OnlineRule<OnlineRuleArchetype, detail::ArchetypeNetwork> &&
              !GradientRule<OnlineRuleArchetype, detail::ArchetypeNetwork>);
static_assert(LearningRule<LearningRuleArchetype, detail::ArchetypeNetwork> &&
              LearningRule<GradientRuleArchetype, detail::ArchetypeNetwork>);
static_assert(Regularizer<RegularizerArchetype, detail::ArchetypeNetwork>);

}  // namespace spikelab

#endif
