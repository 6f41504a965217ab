/**
 * @file neurons/concepts.hpp
 * @brief The NeuronModel concept: a layer of neurons with explicit state that can also be
 *        advanced one step at a time (streaming inference, online rules).
 *
 * Requirements on N (besides Layer): a nested `State` type; `n.make_state(batch)` returns
 * the zero state for `batch` samples; `n.step(state, x)` advances it by one step with input
 * x (neurons x batch). The sequence forward pass always starts from the zero state, so no
 * state is ever hidden inside the layer.
 */
#ifndef SPIKELAB_NEURONS_CONCEPTS_HPP
#define SPIKELAB_NEURONS_CONCEPTS_HPP

#include <spikelab/layers/concepts.hpp>

namespace spikelab {

template <class N>
concept NeuronModel = Layer<N> && requires(N& n, const N& cn, typename N::State& st,
                                           const ConstMatrixRef<typename N::scalar_type>& x) {
  typename N::State;
  { cn.make_state(Index{1}) } -> std::same_as<typename N::State>;
  n.step(st, x);
};

}  // namespace spikelab

#endif
