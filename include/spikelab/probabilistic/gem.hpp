/**
 * @file probabilistic/gem.hpp
 * @brief Gem<K>: GEM-SNN, the multi-compartment online learning rule based on generalized
 *        expectation-maximization (Jang & Simeone 2021), as a member of the ThreeFactor family.
 *
 * K compartments share all synaptic weights; each one clamps the inputs to the data and the
 * outputs to the target and samples its own hidden spikes \f$h^k \sim p_\theta(h \| x, y)\f$
 * (the compartments are extra columns of one batched pass of the network). Per step t and
 * compartment k (hrjang357/multi-sample-SNN `train_ml_multi_nols_online`, "gem" mode):
 * \f[ r^k_t = \sum_{i\in Y}\log p(y_{i,t} \mid u^k_{i,t}),\qquad
 *     v^k_t = \kappa v^k_{t-1} + r^k_t \;(v^k_0 = r^k_0),\qquad
 *     e^k_{i,t} = \kappa e^k_{i,t-1} + \nabla_\theta \log p(s^k_{i,t} \mid u^k_{i,t}), \f]
 * \f[ \ell^k_t = \mathrm{softmax}_k(v_t) = \frac{e^{v^k_t}}{\sum_{k'} e^{v^{k'}_t}}\quad\text{(E-step)},\qquad
 *     \theta \leftarrow \theta + \eta \sum_k \ell^k_t\, e^k_t\quad\text{(M-step, hidden and output alike)}. \f]
 * No baseline. Traces and v restart at every example. With K = 1, \f$\ell \equiv 1\f$ and the
 * rule is SingleSampleMl in its default (`em`) form. The bound it tightens,
 * \f$\log\frac1K\sum_k p(y \| x, h^k)\f$, is what evaluate() reports (as a loss, negated).
 *
 * K is a template argument (Gem<4>) or, with Gem<> (K = 0), a run-time value:
 * `Gem<>({...}, GemSignal<>(8))`.
 *
 * @code
 * @inproceedings{jang2021gem, title={Multi-Sample Online Learning for Spiking Neural Networks based on
 *   Generalized Expectation Maximization}, author={Jang, Hyeryung and Simeone, Osvaldo},
 *   booktitle={IEEE ICASSP}, pages={4080--4084}, year={2021}, doi={10.1109/ICASSP39728.2021.9414804}}
 * @article{jang2020multisample, title={Multi-Sample Online Learning for Probabilistic Spiking Neural Networks},
 *   author={Jang, Hyeryung and Simeone, Osvaldo}, journal={arXiv:2007.11894}, year={2020}}
 * @endcode
 */
#ifndef SPIKELAB_PROBABILISTIC_GEM_HPP
#define SPIKELAB_PROBABILISTIC_GEM_HPP

#include <spikelab/probabilistic/three_factor.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace spikelab {

namespace detail {

/// What the multi-compartment signals share (GEM and its baselines): the compartment count K
/// (template argument, or run-time when K = 0) and, per column m = b K + k, the decayed
/// output log-likelihood \f$v^m_t = \kappa v^m_{t-1} + r^m_t\f$, restarted with every example
/// when the traces are.
template <Index K>
  requires(K >= 0)
class CompartmentSignal {
 public:
  CompartmentSignal() = default;
  CompartmentSignal(Index compartments, Index at_least, const char* who) : k_(compartments) {
    if (compartments < at_least)
      throw ConfigError(std::string(who) + ": need at least " + std::to_string(at_least) + " compartment" +
                        (at_least > 1 ? "s" : ""));
  }

  Index compartments() const noexcept { return K > 0 ? K : k_; }
  void begin(const ThreeFactorConfig& cfg, Index batch, Index k, bool reset) {
    kappa_ = cfg.kappa;
    kk_ = k;
    if (reset || v_.size() != std::size_t(batch * k)) v_.assign(std::size_t(batch * k), 0.0);
  }
  /// v^k_t of every column (after compute()).
  const std::vector<double>& decayed_log_likelihood() const noexcept { return v_; }

  /// The compartment count and the carried v (it carries over batches when traces do).
  template <class Ar>
  void serialize(Ar& ar) {
    ar(cereal::make_nvp("compartments", k_), cereal::make_nvp("columns_per_sample", kk_), cereal::make_nvp("kappa", kappa_),
       cereal::make_nvp("v", v_));
    if (k_ < 1 || kk_ < 1) throw cereal::Exception("compartment signal: stored compartment count below 1");
  }

 protected:
  /// Samples in the batch and columns per sample.
  std::size_t samples() const noexcept { return v_.size() / std::max<std::size_t>(std::size_t(kk_), 1); }
  std::size_t per_sample() const noexcept { return std::size_t(kk_); }
  /// Updates v of sample b's columns from r and returns its maximum.
  double update(std::size_t b, const std::vector<double>& r) {
    const std::size_t m0 = b * std::size_t(kk_);
    double mx = -std::numeric_limits<double>::infinity();
    for (std::size_t k = 0; k < std::size_t(kk_); ++k) {
      v_[m0 + k] = kappa_ * v_[m0 + k] + r[m0 + k];
      mx = std::max(mx, v_[m0 + k]);
    }
    return mx;
  }
  /// softmax_k(v) of sample b into w[b K ..], given the maximum mx; returns log sum_k e^{v^k}.
  double softmax(std::size_t b, double mx, std::vector<double>& w) const {
    const std::size_t m0 = b * std::size_t(kk_);
    double z = 0;
    for (std::size_t k = 0; k < std::size_t(kk_); ++k) z += std::exp(v_[m0 + k] - mx);
    for (std::size_t k = 0; k < std::size_t(kk_); ++k) w[m0 + k] = std::exp(v_[m0 + k] - mx) / z;
    return mx + std::log(z);
  }

  Index k_ = 4;
  Index kk_ = 1;
  double kappa_ = 0.05;
  std::vector<double> v_;
};

}  // namespace detail

/// GEM's learning signal: the softmax over compartments of the decayed output log-likelihoods.
/// @tparam K the number of compartments, or 0 to set it at run time
template <Index K = 0>
  requires(K >= 0)
class GemSignal : public detail::CompartmentSignal<K> {
  using Base = detail::CompartmentSignal<K>;

 public:
  GemSignal() = default;
  /// Run-time number of compartments (only for GemSignal<0>).
  /// @param compartments the number of compartments K
  explicit GemSignal(Index compartments)
    requires(K == 0)
      : Base(compartments, 1, "GemSignal") {}

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return K == 0 ? std::string("Gem") : "Gem<" + std::to_string(K) + ">"; }
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
    for (std::size_t b = 0; b < this->samples(); ++b) {
      if (!active[b * this->per_sample()]) continue;
      this->softmax(b, this->update(b, r), h);
      for (std::size_t k = 0; k < this->per_sample(); ++k) y[b * this->per_sample() + k] = h[b * this->per_sample() + k];
    }
  }
};

/// GEM-SNN with K compartments (K = 0: set at run time through GemSignal<>(K)).
template <Index K = 0>
using Gem = ThreeFactor<GemSignal<K>>;

}  // namespace spikelab

#endif
