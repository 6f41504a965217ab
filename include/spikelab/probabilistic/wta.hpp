/**
 * @file probabilistic/wta.hpp
 * @brief WtaNeuron<C>: a probabilistic winner-take-all circuit with a C-symbol alphabet. At
 *        each step it emits no spike or exactly one of C symbols (e.g. the two polarities of
 *        an event camera), drawn from the categorical distribution softmax([0, u_1 .. u_C]):
 * \f[ p(s_t = c) = \frac{e^{u_{c,t}}}{1 + \sum_{c'} e^{u_{c',t}}},\qquad
 *     p(s_t = 0) = \frac{1}{1 + \sum_{c'} e^{u_{c',t}}},\qquad
 *     \frac{\partial \log p(s_t)}{\partial u_{c,t}} = s_{c,t} - p_{c,t}. \f]
 * Each symbol c has its own potential
 * \f$u_{i,c,t} = \sum_{j,c',k} w_{i,c,j,c',k}(a_k * s_{j,c'})_{t-1} + \sum_k w^{fb}_{i,c,k}(b_k * s_{i,c})_{t-1}
 *  + \gamma_{i,c}\f$, computed by the network (probabilistic/network.hpp).
 * WtaNeuron<1> is the binary GLM neuron (softmax([0,u]) = sigmoid(u)); GlmNeuron is its
 * specialised form.
 *
 * @code
 * @inproceedings{jang2020vowel, title={{VOWEL}: A Local Online Learning Rule for Recurrent Networks of
 *   Probabilistic Spiking Winner-Take-All Circuits}, author={Jang, Hyeryung and Skatchkovsky, Nicolas
 *   and Simeone, Osvaldo}, booktitle={25th International Conference on Pattern Recognition (ICPR)},
 *   year={2021}, note={arXiv:2004.09416}}
 * @endcode
 */
#ifndef SPIKELAB_PROBABILISTIC_WTA_HPP
#define SPIKELAB_PROBABILISTIC_WTA_HPP

#include <spikelab/probabilistic/glm.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace spikelab {

/// A probabilistic winner-take-all circuit with a C-symbol alphabet: at each step no spike or
/// one symbol, drawn from \f$ \mathrm{softmax}([0, u_1, \dots, u_C]) \f$ (Jang, Skatchkovsky &
/// Simeone, ICPR 2021).
/// @tparam C the number of symbols, 1 to 64 (WtaNeuron<1> is the binary GLM neuron)
template <int C>
  requires(C >= 1 && C <= 64)
struct WtaNeuron {
  static constexpr Index symbols = C;  ///< C
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Wta" + std::to_string(C); }

  /// The spike probabilities of every symbol from the potentials u.
  template <Scalar S>
  static void probabilities(const S* u, S* p) noexcept {
    S m = S(0);  // the "no spike" potential
    for (int c = 0; c < C; ++c) m = std::max(m, u[c]);
    S z = std::exp(-m);
    for (int c = 0; c < C; ++c) {
      p[c] = std::exp(u[c] - m);
      z += p[c];
    }
    for (int c = 0; c < C; ++c) p[c] /= z;
  }
  /// log(1 + sum_c e^{u_c}).
  template <Scalar S>
  static S log_partition(const S* u) noexcept {
    S m = S(0);
    for (int c = 0; c < C; ++c) m = std::max(m, u[c]);
    S z = std::exp(-m);
    for (int c = 0; c < C; ++c) z += std::exp(u[c] - m);
    return m + std::log(z);
  }
  /// Draws no spike or one symbol from the probabilities p.
  template <Scalar S>
  static void sample(const S* p, S* s, Rng& rng) noexcept {
    double x = rng.uniform(), acc = 0.0;
    int pick = -1;
    for (int c = 0; c < C; ++c) {
      acc += double(p[c]);
      if (pick < 0 && x < acc) pick = c;
    }
    for (int c = 0; c < C; ++c) s[c] = c == pick ? S(1) : S(0);
  }
};

static_assert(StochasticNeuron<WtaNeuron<2>>);

}  // namespace spikelab

#endif
