/**
 * @file surrogates/concepts.hpp
 * @brief The SurrogateGradient concept and its archetype.
 *
 * Requirements on a surrogate G (x = v - threshold):
 *  - `g.forward(x)`: the spike as a function of x. The Heaviside step H(x) = [x > 0] for a
 *    real spiking neuron; a smooth function for a smooth twin (see SmoothTwin).
 *  - `g.derivative(x)`: the value BPTT uses for d spike / d x.
 *  - `g.primitive(x)`: a smooth function whose derivative is `derivative` (used to build
 *    the smooth twin of a spiking network for exact gradient checks).
 *  - `G::name()`: a short name used in network signatures.
 * All three are templates over the scalar type (float and double).
 */
#ifndef SPIKELAB_SURROGATES_CONCEPTS_HPP
#define SPIKELAB_SURROGATES_CONCEPTS_HPP

#include <spikelab/core/types.hpp>

#include <concepts>
#include <string>

namespace spikelab {

/// A surrogate derivative of the spike function: `forward` (the Heaviside spike), `derivative`
/// (what BPTT uses in place of H'), `primitive` (a smooth function whose derivative it is, for
/// the exact gradient checks of SmoothTwin) and `name()`.
/// @tparam G the surrogate type
template <class G>
concept SurrogateGradient = std::copy_constructible<G> && requires(const G& g, float f, double d) {
  { g.forward(f) } -> std::same_as<float>;
  { g.forward(d) } -> std::same_as<double>;
  { g.derivative(f) } -> std::same_as<float>;
  { g.derivative(d) } -> std::same_as<double>;
  { g.primitive(d) } -> std::same_as<double>;
  { G::name() } -> std::convertible_to<std::string>;
};

/// Heaviside step with H(0) = 0 (a neuron spikes when v strictly exceeds its threshold).
template <Scalar S>
constexpr S heaviside(S x) noexcept {
  return x > S(0) ? S(1) : S(0);
}

/// The smallest SurrogateGradient: the Heaviside spike with the straight-through derivative 1
/// (whose primitive is x).
struct SurrogateGradientArchetype {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "SurrogateGradientArchetype"; }
  /// The Heaviside spike.
  template <Scalar S>
  S forward(S x) const { return heaviside(x); }
  /// 1 (straight through).
  template <Scalar S>
  S derivative(S) const { return S(1); }
  /// x.
  template <Scalar S>
  S primitive(S x) const { return x; }
};
static_assert(SurrogateGradient<SurrogateGradientArchetype>);

}  // namespace spikelab

#endif
