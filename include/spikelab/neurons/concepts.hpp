/**
 * @file neurons/concepts.hpp
 * @brief The NeuronModel concept: a layer of neurons with explicit state that can also be
 *        advanced one step at a time (streaming inference, online rules).
 *
 * Requirements on N (besides Layer): a nested `State` type; `n.make_state(batch)` returns
 * the zero state for `batch` samples; `n.step(state, x)` advances it by one step with input
 * x (neurons x batch); `n.output(state)` is the layer's output at that step (spikes, or the
 * membrane of a readout). The sequence forward pass always starts from the zero state, so no
 * state is ever hidden inside the layer; run_stepwise() gives the same result step by step.
 * detail::check_step_input() is the shape check of step() that every neuron model shares.
 */
#ifndef SPIKELAB_NEURONS_CONCEPTS_HPP
#define SPIKELAB_NEURONS_CONCEPTS_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/layers/concepts.hpp>

#include <string>
#include <utility>

namespace spikelab {

template <class N>
concept NeuronModel = Layer<N> && requires(N& n, const N& cn, typename N::State& st,
                                           const ConstMatrixRef<typename N::scalar_type>& x) {
  typename N::State;
  { cn.make_state(Index{1}) } -> std::same_as<typename N::State>;
  n.step(st, x);
  { cn.output(std::as_const(st)) } -> std::convertible_to<const Matrix<typename N::scalar_type>&>;
};

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
