/**
 * @file neurons/concepts.hpp
 * @brief The neuron concepts, with their archetypes: NeuronModel, ResetPolicy, and the
 *        concepts that find a layer's decays and threshold (HasMembraneDecay,
 *        HasSynapticDecay, SpikingNeuronLayer); run_stepwise().
 *
 * NeuronModel<N>: a layer of neurons with explicit state that can also be advanced one step
 * at a time (streaming inference, online rules). Requirements on N (besides Layer): a nested
 * `State` type; `n.make_state(batch)` returns the zero state for `batch` samples;
 * `n.step(state, x)` advances it by one step with input x (neurons x batch); `n.output(state)`
 * is the layer's output at that step (spikes, or the membrane of a readout). The sequence
 * forward pass always starts from the zero state, so no state is ever hidden inside the layer;
 * run_stepwise() gives the same result step by step.
 *
 * ResetPolicy<R>: the membrane update of a LIF neuron, v_t = R::next(beta, v_{t-1}, s_{t-1},
 * theta, I_t), with its partials R::d_vprev, R::d_sprev, R::d_theta (direct path) and
 * R::d_beta, each taking (beta, v_{t-1}, s_{t-1}, theta); all static, templates over the
 * scalar (checked with double), plus `R::name()`. The spike s is a real number in these
 * formulas, so the same partials serve the smooth twin. Which of them BPTT uses is the layer's
 * ResetGradient (neurons/reset.hpp: kept, detached, or linear through the reset), not part of R.
 *
 * HasMembraneDecay<L>: `l.beta()` is the layer's membrane decay, a
 * NeuronParameter<L::scalar_type>&. HasSynapticDecay<L>: `l.alpha()` is its synaptic-current
 * decay. SpikingNeuronLayer<L>: a HasMembraneDecay layer with a threshold `l.threshold()`
 * (the "hidden layers" whose time constants the hierarchy initialisers set; a non-spiking
 * readout is not one).
 *
 * detail::check_step_input() is the shape check of step() that every neuron model shares.
 */
#ifndef SPIKELAB_NEURONS_CONCEPTS_HPP
#define SPIKELAB_NEURONS_CONCEPTS_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/layers/concepts.hpp>
#include <spikelab/neurons/neuron_parameter.hpp>

#include <concepts>
#include <string>
#include <utility>

namespace spikelab {

/// A Layer of neurons with explicit state that can also be advanced one step at a time
/// (streaming inference, online rules): a nested `State`, `make_state(batch)`, `step(state, x)`
/// and `output(state)` (requirements in the file comment); run_stepwise() equals forward().
/// @tparam N the neuron layer type
template <class N>
concept NeuronModel = Layer<N> && requires(N& n, const N& cn, typename N::State& st,
                                           const ConstMatrixRef<typename N::scalar_type>& x) {
  typename N::State;
  { cn.make_state(Index{1}) } -> std::same_as<typename N::State>;
  n.step(st, x);
  { cn.output(std::as_const(st)) } -> std::convertible_to<const Matrix<typename N::scalar_type>&>;
};

/// The smallest NeuronModel: the identity layer, whose state is its last input.
struct NeuronModelArchetype : LayerArchetype {
  /// The archetype's state: the last input.
  struct State {
    Matrix<float> v;  ///< the last input
  };
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "NeuronModelArchetype"; }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const { return name(); }
  /// The zero state of `batch` samples (see NeuronModel).
  State make_state(Index batch) const { return {Matrix<float>::Zero(1, batch)}; }
  /// Stores x as the state.
  void step(State& st, const ConstMatrixRef<float>& x) const { st.v = x; }
  /// The state.
  const Matrix<float>& output(const State& st) const { return st.v; }
};
static_assert(NeuronModel<NeuronModelArchetype> && !NeuronModel<LayerArchetype>);

/// A reset policy of the LIF membrane update (see the file comment).
/// @tparam R the policy type
template <class R>
concept ResetPolicy = requires(double x) {
  { R::next(x, x, x, x, x) } -> std::same_as<double>;  // (beta, v_prev, s_prev, theta, input)
  { R::d_vprev(x, x, x, x) } -> std::same_as<double>;  // (beta, v_prev, s_prev, theta)
  { R::d_sprev(x, x, x, x) } -> std::same_as<double>;
  { R::d_theta(x, x, x, x) } -> std::same_as<double>;
  { R::d_beta(x, x, x, x) } -> std::same_as<double>;
  { R::name() } -> std::convertible_to<std::string>;
};

/// The smallest ResetPolicy: no reset, v_t = beta v_{t-1} + I_t.
struct ResetPolicyArchetype {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "ResetPolicyArchetype"; }
  template <Scalar S> static S next(S beta, S v, S, S, S i) noexcept { return beta * v + i; }  ///< beta v + I
  template <Scalar S> static S d_vprev(S beta, S, S, S) noexcept { return beta; }  ///< dR/dv_{t-1}
  template <Scalar S> static S d_sprev(S, S, S, S) noexcept { return S(0); }  ///< dR/ds_{t-1}
  template <Scalar S> static S d_theta(S, S, S, S) noexcept { return S(0); }  ///< dR/dtheta
  template <Scalar S> static S d_beta(S, S v, S, S) noexcept { return v; }  ///< dR/dbeta
};
static_assert(ResetPolicy<ResetPolicyArchetype>);

/// A layer whose membrane decay is a NeuronParameter reachable as `beta()` (LIF, leaky integrator).
/// @tparam L the layer type
template <class L>
concept HasMembraneDecay = requires(L& l) {
  { l.beta() } -> std::same_as<NeuronParameter<typename L::scalar_type>&>;
};

/// The smallest HasMembraneDecay: a membrane decay and nothing else.
struct HasMembraneDecayArchetype {
  using scalar_type = float;  ///< the scalar type S
  NeuronParameter<float> membrane_decay;  ///< the decay beta() returns
  /// The membrane decay.
  NeuronParameter<float>& beta() { return membrane_decay; }
};
static_assert(HasMembraneDecay<HasMembraneDecayArchetype>);

/// A layer with a synaptic-current decay `alpha()` (current-based LIF).
/// @tparam L the layer type
template <class L>
concept HasSynapticDecay = requires(L& l) {
  { l.alpha() } -> std::same_as<NeuronParameter<typename L::scalar_type>&>;
};

/// The smallest HasSynapticDecay: a synaptic decay and nothing else.
struct HasSynapticDecayArchetype {
  using scalar_type = float;  ///< the scalar type S
  NeuronParameter<float> synaptic_decay;  ///< the decay alpha() returns
  /// The synaptic decay.
  NeuronParameter<float>& alpha() { return synaptic_decay; }
};
static_assert(HasSynapticDecay<HasSynapticDecayArchetype> && !HasMembraneDecay<HasSynapticDecayArchetype>);

/// A spiking neuron layer with a membrane decay and a threshold (see the file comment).
/// @tparam L the layer type
template <class L>
concept SpikingNeuronLayer = HasMembraneDecay<L> && requires(L& l) {
  { l.threshold() } -> std::same_as<NeuronParameter<typename L::scalar_type>&>;
};

/// The smallest SpikingNeuronLayer: a membrane decay and a threshold.
struct SpikingNeuronLayerArchetype : HasMembraneDecayArchetype {
  NeuronParameter<float> firing_threshold;  ///< the threshold threshold() returns
  /// The firing threshold.
  NeuronParameter<float>& threshold() { return firing_threshold; }
};
static_assert(SpikingNeuronLayer<SpikingNeuronLayerArchetype> && !SpikingNeuronLayer<HasMembraneDecayArchetype>);

namespace detail {
/// The check at the top of a neuron model's step(): throws ShapeError unless the input x is
/// neurons x batch, the shape of the state. `who()` names the layer; it is called only to
/// compose the message, so a step that passes the check builds no string.
template <Scalar S, class Who>
void check_step_input(const ConstMatrixRef<S>& x, Index neurons, Index batch, Who&& who) {
  if (x.rows() != neurons || x.cols() != batch)
    throw ShapeError(std::string(who()) + "::step: input " + std::to_string(x.rows()) + "x" + std::to_string(x.cols()) +
                     " does not match the state " + std::to_string(neurons) + "x" + std::to_string(batch));
}
}  // namespace detail

/// Simulates `neuron` one step at a time from its zero state over every step of `in`
/// (streaming inference with explicit state); the result equals the layer's forward().
template <NeuronModel N>
TimeSeries<typename N::scalar_type> run_stepwise(N& neuron, const TimeSeries<typename N::scalar_type>& in) {
  using S = typename N::scalar_type;
  TimeSeries<S> out(neuron.output_size(), in.batch(), in.steps());
  auto st = neuron.make_state(in.batch());
  for (Index t = 0; t < in.steps(); ++t) {
    neuron.step(st, in.slot(t));
    out.slot(t) = neuron.output(st);
  }
  return out;
}

}  // namespace spikelab

#endif
