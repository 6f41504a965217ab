/**
 * @file optimizers/concepts.hpp
 * @brief The optimizer concepts, with their archetypes: UpdatePolicy (how one parameter block
 *        is updated from its gradient) and Schedule (the learning-rate factor over training).
 *
 * UpdatePolicy<U, S>: a nested `U::State<S>` (the per-parameter state, cereal-serializable so
 * that checkpoints keep it), `u.make_state<S>(rows, cols)` (the state of a rows x cols block),
 * `u.update(state, param, grad, lr)` (changes param in place from grad with learning rate lr)
 * and `U::name()`.
 *
 * Schedule<L>: `l.factor(e, E)` multiplies the base learning rate at training progress e (in
 * epochs, fractional within an epoch) of E epochs; `L::name()`.
 */
#ifndef SPIKELAB_OPTIMIZERS_CONCEPTS_HPP
#define SPIKELAB_OPTIMIZERS_CONCEPTS_HPP

#include <spikelab/core/types.hpp>

#include <concepts>
#include <cstdint>
#include <string>

namespace spikelab {

/// An update policy (see the file comment).
/// @tparam U the policy type
/// @tparam S the scalar type of the parameters
template <class U, class S>
concept UpdatePolicy = Scalar<S> && requires(const U& u, typename U::template State<S>& st, Matrix<S>& p,
                                             const Matrix<S>& g, double lr) {
  { u.template make_state<S>(Index{1}, Index{1}) } -> std::same_as<typename U::template State<S>>;
  u.update(st, p, g, lr);
  { U::name() } -> std::convertible_to<std::string>;
};

/// The smallest UpdatePolicy: plain gradient descent p <- p - lr g, without state.
struct UpdatePolicyArchetype {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "UpdatePolicyArchetype"; }
  /// The archetype's per-block state: none.
  template <Scalar S>
  struct State {
    /// cereal serialisation: what checkpoints store (not called directly).
    template <class Ar>
    void serialize(Ar&, std::uint32_t) {}
  };
  /// No state.
  template <Scalar S>
  State<S> make_state(Index, Index) const { return {}; }
  /// p <- p - lr g.
  template <Scalar S>
  void update(State<S>&, Matrix<S>& p, const Matrix<S>& g, double lr) const { p -= S(lr) * g; }
};
static_assert(UpdatePolicy<UpdatePolicyArchetype, float> && UpdatePolicy<UpdatePolicyArchetype, double>);

/// A learning-rate schedule (see the file comment).
/// @tparam L the schedule type
template <class L>
concept Schedule = requires(const L& l, double e, int E) {
  { l.factor(e, E) } -> std::convertible_to<double>;
  { L::name() } -> std::convertible_to<std::string>;
};

/// The smallest Schedule: the constant factor 1.
struct ScheduleArchetype {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "ScheduleArchetype"; }
  /// The factor on the base learning rate at progress e (epochs) of E epochs (Schedule).
  double factor(double, int) const { return 1.0; }
};
static_assert(Schedule<ScheduleArchetype>);

}  // namespace spikelab

#endif
