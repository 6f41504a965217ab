/**
 * @file na/concepts.hpp
 * @brief The SpikeDerivative concept of NA-LIF layers, with its archetype.
 *
 * SpikeDerivative<D, S>: the policy that gives an NA-LIF layer (na/na_lif.hpp) the forward
 * spike and the derivative of the spike in its backward pass (neighbourhood aggregation of
 * Yang, Zhang & Li, ICML 2021, or a surrogate gradient). D is copy-constructible and provides
 *  - `D::name()` (in the layer's signature);
 *  - `d.spike(x)`: the spike as a function of x = u - threshold (Heaviside for a real spiking
 *    neuron, smooth for a smooth twin);
 *  - `d.backward(dynamics, trace, out)`: writes dL/dc[t] of ONE neuron of one sample to
 *    out[t * trace.stride] for every step t, from its NaLifDynamics and its NeuronTrace
 *    (strided views of the input current c, the potential u and dL/ds);
 *  - optionally `d.prepare(dynamics, grad_spike)`, which transforms the layer's whole dL/ds
 *    (a TimeSeries, neurons x batch x T) before the per-neuron pass (NA's official-code error);
 *  - optionally `d.finish(grad)`, which post-processes the whole input gradient of the layer.
 * Traces are independent, so the layer runs them in parallel over neurons.
 * NaLifDynamics and NeuronTrace are defined with the layer; the requirements name them by a
 * declaration only.
 */
#ifndef SPIKELAB_NA_CONCEPTS_HPP
#define SPIKELAB_NA_CONCEPTS_HPP

#include <spikelab/core/types.hpp>
#include <spikelab/surrogates/concepts.hpp>

#include <concepts>
#include <string>

namespace spikelab {

template <Scalar S>
struct NaLifDynamics;
template <Scalar S>
struct NeuronTrace;

/// A spike-derivative policy for NA-LIF layers (see the file comment).
/// @tparam D the policy type
/// @tparam S the scalar type
template <class D, class S>
concept SpikeDerivative = Scalar<S> && std::copy_constructible<D> &&
    requires(const D& d, const NaLifDynamics<S>& dyn, const NeuronTrace<S>& tr, S* out, S x) {
      { D::name() } -> std::convertible_to<std::string>;
      { d.spike(x) } -> std::same_as<S>;
      d.backward(dyn, tr, out);
    };

/// The smallest SpikeDerivative: the Heaviside spike with the straight-through derivative,
/// dL/dc[t] = dL/ds[t].
struct SpikeDerivativeArchetype {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "SpikeDerivativeArchetype"; }
  /// The spike H(x).
  template <Scalar S>
  S spike(S x) const { return heaviside(x); }
  /// Straight through: dL/du[t] = dL/ds[t].
  template <Scalar S>
  void backward(const NaLifDynamics<S>&, const NeuronTrace<S>& tr, S* out) const {
    for (Index t = 0; t < tr.steps; ++t) out[t * tr.stride] = tr.gs(t);
  }
};
static_assert(SpikeDerivative<SpikeDerivativeArchetype, float> && SpikeDerivative<SpikeDerivativeArchetype, double>);

}  // namespace spikelab

#endif
