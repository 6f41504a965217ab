/**
 * @file probabilistic/vowel.hpp
 * @brief Vowel: VOWEL, the variational online local learning rule for recurrent networks of
 *        probabilistic WTA circuits (Jang, Skatchkovsky & Simeone 2020), as a member of the
 *        ThreeFactor family. It trains binary GLM networks too (the kclip binary-SNN rule).
 *
 * At each step the outputs are clamped to the target and the hidden circuits sampled; the
 * global learning signal is the output log-likelihood minus the KL term that pulls the
 * hidden circuits towards a sparse reference distribution q (no spike q_0, each symbol q_c):
 * \f[ \ell_t = \sum_{i\in Y}\log p(y_{i,t}\mid u_{i,t})
 *      - \gamma\sum_{i\in H}\Big[\sum_c s_{i,c,t}\log\frac{p_{i,c,t}}{q_c} + \big(1-\textstyle\sum_c s_{i,c,t}\big)\log\frac{p_{i,0,t}}{q_0}\Big] \f]
 * with traces \f$e_t = \kappa e_{t-1} + (1-\kappa)\nabla\log p\f$, the optimal baseline b_t
 * (decay beta) and
 * \f[ U_t = \kappa U_{t-1} + (1-\kappa)(\ell_t - b_t)\,e^H_t,\quad \theta_H \leftarrow \theta_H + \eta U_t,
 *     \qquad \theta_Y \leftarrow \theta_Y + \eta\, e^Y_t \f]
 * (three-factor for hidden circuits, purely local for outputs; kclip/snn
 * `multivalued_training.py`). Traces and baselines carry over from one example to the next
 * as in the official code (ThreeFactorConfig::reset_per_example = false).
 *
 * The two official codes disagree on the sparsity reference r. spikelab
 * follows the WTA code (SparsityReference::no_spike): r is the reference NO-spike
 * probability, q_0 = r and q_c = (1 - r)/C. The binary-SNN code's convention,
 * SparsityReference::spike (r = reference spiking probability: q_c = r/C, q_0 = 1 - r), is
 * reachable as an option; VowelSignal::binary_code() also selects that code's filtered
 * learning signal \f$\ell_t = \kappa\ell_{t-1} + (1-\kappa)\ell^{inst}_t\f$ and its direct
 * update \f$\theta_H \mathrel{+}= \eta(\ell_t - b_t)e^H_t\f$ (no U accumulator).
 * Defaults (first kclip commit): eta = 0.005, kappa = 0.2, beta = 0.05, gamma = 1, r = 0.8.
 *
 * @code
 * @inproceedings{jang2020vowel, title={{VOWEL}: A Local Online Learning Rule for Recurrent Networks of
 *   Probabilistic Spiking Winner-Take-All Circuits}, author={Jang, Hyeryung and Skatchkovsky, Nicolas
 *   and Simeone, Osvaldo}, booktitle={25th International Conference on Pattern Recognition (ICPR)},
 *   year={2021}, note={arXiv:2004.09416}}
 * @endcode
 */
#ifndef SPIKELAB_PROBABILISTIC_VOWEL_HPP
#define SPIKELAB_PROBABILISTIC_VOWEL_HPP

#include <spikelab/probabilistic/three_factor.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace spikelab {

/// Meaning of VOWEL's sparsity parameter r.
enum class SparsityReference : std::uint8_t {
  no_spike,  ///< r = reference probability of NO spike (kclip WTA code; default)
  spike      ///< r = reference probability of a spike (kclip binary-SNN code)
};

/// VOWEL's learning signal: output log-likelihood minus gamma times the hidden KL term.
struct VowelSignal {
  double gamma = 1.0;  ///< the KL weight of the hidden circuits' learning signal
  double r = 0.8;  ///< the sparsity parameter of the reference distribution q (see `reference`)
  SparsityReference reference = SparsityReference::no_spike;  ///< whether r is the probability of no spike or of a spike
  bool filter_signal = false;     ///< l_t = kappa l_{t-1} + (1 - kappa) l_inst (binary code)
  bool accumulate_hidden = true;  ///< U accumulator for the hidden update (WTA code)

  /// The kclip WTA-SNN code's choices (the defaults).
  static VowelSignal wta_code(double gamma = 1.0, double r = 0.8) {
    VowelSignal v;
    v.gamma = gamma;
    v.r = r;
    return v;
  }
  /// The kclip binary-SNN code's choices (r = reference spiking probability).
  static VowelSignal binary_code(double gamma = 1.0, double r = 0.3) {
    VowelSignal v;
    v.gamma = gamma;
    v.r = r;
    v.reference = SparsityReference::spike;
    v.filter_signal = true;
    v.accumulate_hidden = false;
    return v;
  }

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Vowel"; }
  /// The rule's default hyperparameters.
  static ThreeFactorConfig default_config() {
    ThreeFactorConfig c;
    c.lr = 0.005;
    c.kappa = 0.2;
    c.beta = 0.05;
    c.filtered_traces = true;
    c.reset_per_example = false;
    return c;
  }
  /// The number of compartments K.
  Index compartments() const noexcept { return 1; }
  /// True if the rule subtracts the per-parameter baseline from the learning signal.
  bool uses_baseline() const noexcept { return true; }
  /// True if the hidden updates are accumulated, U_t = kappa U_{t-1} + (1 - kappa) dtheta.
  bool accumulates_hidden() const noexcept { return accumulate_hidden; }
  /// True if the hidden rows learn once per sample from the sum of its compartments' traces.
  bool pools_hidden() const noexcept { return false; }

  /// Prepares a batch: its configuration, size and compartments (and whether state is reset).
  void begin(const ThreeFactorConfig& cfg, Index batch, Index K, bool reset) {
    if (!(r > 0 && r < 1)) throw ConfigError("Vowel: the sparsity reference r must be in (0, 1)");
    if (!(gamma >= 0) || !std::isfinite(gamma)) throw ConfigError("Vowel: gamma must be finite and >= 0");
    kappa_ = cfg.kappa;
    if (reset || l_.size() != std::size_t(batch * K)) l_.assign(std::size_t(batch * K), 0.0);
  }
  /// log q_0 and log q_c of the reference for C symbols.
  std::pair<double, double> log_reference(Index C) const {
    const double q0 = reference == SparsityReference::no_spike ? r : 1.0 - r;
    return {std::log(q0), std::log((1.0 - q0) / double(C))};
  }
  /// The learning signals of step t: one hidden and one output value per column.
  template <ProbabilisticNetwork Net>
  void compute(const Net& net, Index, const std::vector<char>& active, std::vector<double>& h,
               std::vector<double>& y) {
    const auto& rll = net.output_log_likelihood();
    const auto [lq0, lqc] = log_reference(Net::symbols());
    for (std::size_t m = 0; m < l_.size(); ++m) {
      if (!active[m]) continue;
      const double inst = rll[m] - (gamma > 0 ? gamma * net.hidden_kl(Index(m), lq0, lqc) : 0.0);
      l_[m] = filter_signal ? kappa_ * l_[m] + (1.0 - kappa_) * inst : inst;
      h[m] = l_[m];
      y[m] = 1.0;
    }
  }
  /// The learning signal of every column (after compute()).
  const std::vector<double>& learning_signal() const noexcept { return l_; }

  /// The variant's parameters and the carried learning signal.
  template <class Ar>
  void serialize(Ar& ar) {
    ar(CEREAL_NVP(gamma), CEREAL_NVP(r), CEREAL_NVP(reference), CEREAL_NVP(filter_signal), CEREAL_NVP(accumulate_hidden),
       cereal::make_nvp("kappa", kappa_), cereal::make_nvp("l", l_));
  }

 private:
  double kappa_ = 0.2;
  std::vector<double> l_;
};

/// VOWEL (kclip WTA-code defaults; VowelSignal::binary_code() for the binary-SNN variant).
using Vowel = ThreeFactor<VowelSignal>;

}  // namespace spikelab

#endif
