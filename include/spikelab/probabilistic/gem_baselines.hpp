/**
 * @file probabilistic/gem_baselines.hpp
 * @brief The multi-sample rules the GEM paper compares GEM-SNN with, as members of the
 *        ThreeFactor family: Iw<K> (importance-weighted score function), Iwb<K> (IW with
 *        per-sample VIMCO baselines) and Mb<K> (K single-sample REINFORCE updates averaged).
 *
 * All three run K weight-sharing compartments per sample like GEM (probabilistic/gem.hpp):
 * inputs and outputs clamped, hidden spikes \f$h^k \sim p_\theta(h \| x, y)\f$ sampled per
 * compartment, an update after every step. With, per sample, step t and compartment k,
 * \f[ r^k_t = \sum_{i\in Y}\log p(y_{i,t}\mid u^k_{i,t}),\quad v^k_t = \kappa v^k_{t-1} + r^k_t,\quad
 *     e^k_t = \kappa e^k_{t-1} + \nabla_\theta\log p(s^k_t\mid u^k_t), \f]
 * \f[ w^k_t = \mathrm{softmax}_k(v_t),\qquad L_t = \log\frac1K\sum_k e^{v^k_t}, \f]
 * they differ in the hidden neurons' update (the outputs' is local):
 *  - IW:   \f$\Delta\theta_H = (L_t - b_t)\sum_k e^{k,H}_t\f$ with one baseline b per sample from
 *          \f$x = \sum_k e^{k,H}_t\f$, \f$g = L_t\f$;  \f$\Delta\theta_Y = \sum_k w^k_t e^{k,Y}_t\f$;
 *  - IW-b: \f$\Delta\theta_H = \sum_k L^k_t e^{k,H}_t\f$, \f$L^k_t = L_t - \log\frac1K\sum_j e^{\tilde v^{(k)}_j}\f$
 *          where \f$\tilde v^{(k)}\f$ is v with its k-th entry replaced by the mean of the others
 *          (VIMCO's leave-one-out baseline); no other baseline; \f$\Delta\theta_Y = \sum_k w^k_t e^{k,Y}_t\f$;
 *  - MB:   \f$\Delta\theta_H = \frac1K\sum_k (v^k_t - b^k_t)\,e^{k,H}_t\f$ with a baseline per
 *          compartment from \f$x = e^{k,H}_t\f$, \f$g = v^k_t\f$; \f$\Delta\theta_Y = \frac1K\sum_k e^{k,Y}_t\f$.
 * The baseline is the ThreeFactor optimal baseline (decay beta, elementwise):
 * \f$b = \langle x^2 g\rangle_\beta / (\langle x^2\rangle_\beta + \epsilon)\f$. With K = 1, IW and MB are
 * the REINFORCE form of the single-sample rule (hrjang `train_ml_online`); IW-b needs K >= 2.
 * Defaults as GEM's (hrjang driver): eta = kappa = beta = 0.05, traces \f$\kappa e + \nabla\f$, reset at
 * every example.
 *
 * Differences from the official code (hrjang357/multi-sample-SNN, `training_multi_utils.py`):
 *  - IW-b: the code computes \f$L^k_t = L_t - \log\sum_j e^{\tilde v^{(k)}_j} - \log K\f$ (the log K
 *    with the wrong sign: every \f$L^k\f$ is lowered by 2 log K, a constant that adds variance to
 *    the score-function update without changing its mean), and it writes each
 *    \f$\tilde v^{(k)}\f$ into v itself, so the baselines of later compartments see the
 *    replacements of earlier ones. Here \f$L^k\f$ is VIMCO's, from the unmodified v.
 *  - The code's baselines accumulate \f$\beta\,num + x^2 g\f$ without the (1 - beta) weight and
 *    start from the first step's values; the ratio num/den is the same up to epsilon.
 *  - MB is implemented by giving each compartment the signal \f$v^k/K\f$: the baseline is linear
 *    in its signal, so \f$(v^k/K - b(v^k/K)) = (v^k - b(v^k))/K\f$ exactly.
 *
 * @code
 * @article{jang2020multisample, title={Multi-Sample Online Learning for Probabilistic Spiking Neural Networks},
 *   author={Jang, Hyeryung and Simeone, Osvaldo}, journal={IEEE Transactions on Neural Networks and Learning
 *   Systems}, volume={33}, number={5}, pages={2034--2044}, year={2022}, note={arXiv:2007.11894}}
 * @inproceedings{burda2016iwae, title={Importance Weighted Autoencoders}, author={Burda, Yuri and Grosse, Roger
 *   and Salakhutdinov, Ruslan}, booktitle={ICLR}, year={2016}}
 * @inproceedings{mnih2016vimco, title={Variational Inference for {Monte Carlo} Objectives}, author={Mnih, Andriy
 *   and Rezende, Danilo J.}, booktitle={ICML}, year={2016}}
 * @endcode
 */
#ifndef SPIKELAB_PROBABILISTIC_GEM_BASELINES_HPP
#define SPIKELAB_PROBABILISTIC_GEM_BASELINES_HPP

#include <spikelab/probabilistic/gem.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace spikelab {

/// IW's learning signal: L_t for the pooled hidden update (against one baseline per sample),
/// w^k_t on the output traces.
/// @tparam K the number of compartments, or 0 to set it at run time
template <Index K = 0>
  requires(K >= 0)
class IwSignal : public detail::CompartmentSignal<K> {
  using Base = detail::CompartmentSignal<K>;

 public:
  IwSignal() = default;
  /// The signal of K compartments (run-time K).
  /// @param compartments the number of compartments K
  explicit IwSignal(Index compartments)
    requires(K == 0)
      : Base(compartments, 1, "IwSignal") {}

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return K == 0 ? std::string("Iw") : "Iw<" + std::to_string(K) + ">"; }
  /// The rule's default hyperparameters.
  static ThreeFactorConfig default_config() { return {}; }
  /// True if the rule subtracts the per-parameter baseline from the learning signal.
  bool uses_baseline() const noexcept { return true; }
  /// True if the hidden updates are accumulated, U_t = kappa U_{t-1} + (1 - kappa) dtheta.
  bool accumulates_hidden() const noexcept { return false; }
  /// True if the hidden rows learn once per sample from the sum of its compartments' traces.
  bool pools_hidden() const noexcept { return true; }

  /// The learning signals of step t: one hidden and one output value per column.
  template <ProbabilisticNetwork Net>
  void compute(const Net& net, Index, const std::vector<char>& active, std::vector<double>& h,
               std::vector<double>& y) {
    const auto& r = net.output_log_likelihood();
    const std::size_t Kc = this->per_sample();
    for (std::size_t b = 0; b < this->samples(); ++b) {
      if (!active[b * Kc]) continue;
      const double L = this->softmax(b, this->update(b, r), y) - std::log(double(Kc));
      for (std::size_t k = 0; k < Kc; ++k) h[b * Kc + k] = L;
    }
  }
};

/// IW-b's learning signal: VIMCO's per-compartment L^k_t for the hidden traces, w^k_t on the
/// output traces.
/// @tparam K the number of compartments, or 0 to set it at run time
template <Index K = 0>
  requires(K == 0 || K >= 2)
class IwbSignal : public detail::CompartmentSignal<K> {
  using Base = detail::CompartmentSignal<K>;

 public:
  IwbSignal() = default;
  /// The signal of K compartments (run-time K).
  /// @param compartments the number of compartments K
  explicit IwbSignal(Index compartments)
    requires(K == 0)
      : Base(compartments, 2, "IwbSignal") {}

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return K == 0 ? std::string("Iwb") : "Iwb<" + std::to_string(K) + ">"; }
  /// The rule's default hyperparameters.
  static ThreeFactorConfig default_config() { return {}; }
  /// True if the rule subtracts the per-parameter baseline from the learning signal.
  bool uses_baseline() const noexcept { return false; }
  /// True if the hidden updates are accumulated, U_t = kappa U_{t-1} + (1 - kappa) dtheta.
  bool accumulates_hidden() const noexcept { return false; }
  /// True if the hidden rows learn once per sample from the sum of its compartments' traces.
  bool pools_hidden() const noexcept { return false; }

  /// The learning signals of step t: one hidden and one output value per column.
  template <ProbabilisticNetwork Net>
  void compute(const Net& net, Index, const std::vector<char>& active, std::vector<double>& h,
               std::vector<double>& y) {
    const auto& r = net.output_log_likelihood();
    const std::size_t Kc = this->per_sample();
    if (Kc < 2) throw ConfigError("IwbSignal: the leave-one-out baseline needs at least 2 compartments");
    const double log_k = std::log(double(Kc));
    for (std::size_t b = 0; b < this->samples(); ++b) {
      if (!active[b * Kc]) continue;
      const double lse = this->softmax(b, this->update(b, r), y);
      const double* v = this->v_.data() + b * Kc;
      double sum = 0;
      for (std::size_t k = 0; k < Kc; ++k) sum += v[k];
      for (std::size_t k = 0; k < Kc; ++k) {
        const double loo = (sum - v[k]) / double(Kc - 1);  // the mean of the others replaces v^k
        double mx = loo;
        for (std::size_t j = 0; j < Kc; ++j)
          if (j != k) mx = std::max(mx, v[j]);
        double z = std::exp(loo - mx);
        for (std::size_t j = 0; j < Kc; ++j)
          if (j != k) z += std::exp(v[j] - mx);
        h[b * Kc + k] = (lse - log_k) - (mx + std::log(z) - log_k);
      }
    }
  }
};

/// MB's learning signal: each compartment's own v^k (scaled by 1/K) against its own baseline,
/// 1/K on the output traces.
/// @tparam K the number of compartments, or 0 to set it at run time
template <Index K = 0>
  requires(K >= 0)
class MbSignal : public detail::CompartmentSignal<K> {
  using Base = detail::CompartmentSignal<K>;

 public:
  MbSignal() = default;
  /// The signal of K compartments (run-time K).
  /// @param compartments the number of compartments K
  explicit MbSignal(Index compartments)
    requires(K == 0)
      : Base(compartments, 1, "MbSignal") {}

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return K == 0 ? std::string("Mb") : "Mb<" + std::to_string(K) + ">"; }
  /// The rule's default hyperparameters.
  static ThreeFactorConfig default_config() { return {}; }
  /// True if the rule subtracts the per-parameter baseline from the learning signal.
  bool uses_baseline() const noexcept { return true; }
  /// True if the hidden updates are accumulated, U_t = kappa U_{t-1} + (1 - kappa) dtheta.
  bool accumulates_hidden() const noexcept { return false; }
  /// True if the hidden rows learn once per sample from the sum of its compartments' traces.
  bool pools_hidden() const noexcept { return false; }

  /// The learning signals of step t: one hidden and one output value per column.
  template <ProbabilisticNetwork Net>
  void compute(const Net& net, Index, const std::vector<char>& active, std::vector<double>& h,
               std::vector<double>& y) {
    const auto& r = net.output_log_likelihood();
    const std::size_t Kc = this->per_sample();
    for (std::size_t b = 0; b < this->samples(); ++b) {
      if (!active[b * Kc]) continue;
      this->update(b, r);
      for (std::size_t k = 0; k < Kc; ++k) {
        h[b * Kc + k] = this->v_[b * Kc + k] / double(Kc);
        y[b * Kc + k] = 1.0 / double(Kc);
      }
    }
  }
};

/// IW with K compartments (K = 0: set at run time through IwSignal<>(K)).
template <Index K = 0>
using Iw = ThreeFactor<IwSignal<K>>;
/// IW-b (VIMCO baselines) with K >= 2 compartments (K = 0: run time, IwbSignal<>(K)).
template <Index K = 0>
using Iwb = ThreeFactor<IwbSignal<K>>;
/// MB (averaged single-sample REINFORCE) with K compartments (K = 0: run time, MbSignal<>(K)).
template <Index K = 0>
using Mb = ThreeFactor<MbSignal<K>>;

}  // namespace spikelab

#endif
