/**
 * @file probabilistic/glm.hpp
 * @brief GlmNeuron: the probabilistic generalized-linear-model (spike-response) neuron with
 *        Bernoulli(sigmoid(u)) spiking; it and the WTA circuit (probabilistic/wta.hpp) model
 *        StochasticNeuron (probabilistic/concepts.hpp).
 *
 * A stochastic neuron ("circuit") has C symbols. At step t it emits either no spike or exactly
 * one symbol, drawn from the categorical distribution over [0, u_1 .. u_C]:
 * \f[ p(s_t = c \mid u_t) = \frac{e^{u_{c,t}}}{1 + \sum_{c'} e^{u_{c',t}}},\qquad
 *     p(s_t = 0 \mid u_t) = \frac{1}{1 + \sum_{c'} e^{u_{c',t}}} \f]
 * so that \f$\log p(s_t|u_t) = \sum_c s_{c,t} u_{c,t} - \log(1 + \sum_c e^{u_{c,t}})\f$ and
 * \f$\partial \log p / \partial u_{c,t} = s_{c,t} - p_{c,t}\f$. The GLM neuron is C = 1:
 * \f$p(s_t = 1) = \sigma(u_t)\f$, \f$\log p = s\log\sigma(u) + (1-s)\log(1-\sigma(u))\f$,
 * \f$\partial\log p/\partial u = s - \sigma(u)\f$.
 *
 * The membrane potential (computed by the network, probabilistic/network.hpp) is the SRM / GLM
 * potential of Jang & Simeone (ICASSP 2021):
 * \f[ u_{i,t} = \sum_{j\in P_i}\sum_k w_{j,i,k}\,(a_k * s_j)_{t-1}
 *            + \sum_k w^{fb}_{i,k}\,(b_k * s_i)_{t-1} + \gamma_i \f]
 * with basis kernels a_k, b_k (probabilistic/kernels.hpp). A neuron policy only knows its own
 * distribution: probabilities, log-partition, sampling.
 *
 * Logs are exact (stable log-sigmoid / log-sum-exp); the official codes add 1e-7 inside them.
 *
 * @code
 * @article{jang2019introduction, title={An introduction to probabilistic spiking neural networks:
 *   probabilistic models, learning rules, and applications}, author={Jang, Hyeryung and Simeone, Osvaldo
 *   and Gardner, Brian and Gruning, Andre}, journal={IEEE Signal Processing Magazine}, volume={36},
 *   number={6}, pages={64--77}, year={2019}}
 * @article{pillow2008spatio, title={Spatio-temporal correlations and visual signalling in a complete
 *   neuronal population}, author={Pillow, Jonathan W. and others}, journal={Nature}, year={2008}}
 * @endcode
 */
#ifndef SPIKELAB_PROBABILISTIC_GLM_HPP
#define SPIKELAB_PROBABILISTIC_GLM_HPP

#include <spikelab/core/random.hpp>
#include <spikelab/core/types.hpp>
#include <spikelab/probabilistic/concepts.hpp>

#include <cmath>
#include <concepts>
#include <string>

namespace spikelab {

namespace detail {
/// log(1 + e^x) without overflow.
template <Scalar S>
inline S softplus(S x) noexcept {
  return x > S(0) ? x + std::log1p(std::exp(-x)) : std::log1p(std::exp(x));
}
}  // namespace detail

/// The binary GLM neuron: Bernoulli(sigmoid(u)) spiking (C = 1).
struct GlmNeuron {
  static constexpr Index symbols = 1;  ///< one symbol: a Bernoulli spike
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Glm"; }

  /// The spike probabilities of every symbol from the potentials u.
  template <Scalar S>
  static void probabilities(const S* u, S* p) noexcept {
    const S x = u[0];
    if (x >= S(0)) {
      p[0] = S(1) / (S(1) + std::exp(-x));
    } else {
      const S e = std::exp(x);
      p[0] = e / (S(1) + e);
    }
  }
  /// log(1 + e^u).
  template <Scalar S>
  static S log_partition(const S* u) noexcept {
    return detail::softplus(u[0]);
  }
  /// Draws s ~ Bernoulli(p).
  template <Scalar S>
  static void sample(const S* p, S* s, Rng& rng) noexcept {
    s[0] = rng.uniform() < double(p[0]) ? S(1) : S(0);
  }
};

static_assert(StochasticNeuron<GlmNeuron>);

}  // namespace spikelab

#endif
