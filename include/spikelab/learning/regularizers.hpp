/**
 * @file learning/regularizers.hpp
 * @brief Regularizer policies for gradient rules (Bptt<Loss, Regularizer>): penalties on the
 *        network's parameters added to the loss and to the gradients after the backward pass.
 *
 * Each models Regularizer<R, Net> (learning/concepts.hpp): `r.value(net)` returns the penalty;
 * `r.add_gradient(net)` ADDS its gradient to the parameters' gradients and returns the penalty;
 * `R::name()`.
 *  - NoRegularizer: the default, nothing.
 *  - DecayRegularizer: hSNN's penalties on the trained membrane decays alpha (Moro et al.
 *    2024, training.py), over every layer whose membrane decay beta() is trainable:
 *    \f[ R = w_{hi} \,\big\lVert \mathrm{ReLU}(\alpha - a_{hi}) \big\rVert_2
 *          + w_{sd} \,\big\lVert \alpha_l - \overline{\alpha_l} \big\rVert_2, \f]
 *    with a_hi = 0.95, w_hi = 0.1 and w_sd = l2_alpha_sd (1e-2 default, 1e-3 for MTS-XOR). The
 *    mean is per layer; the norms are taken over all regularised layers at once (jax's
 *    l2_norm of a list, as in the hSNN code) or per layer and summed (per_layer_norm).
 *    A norm of zero contributes zero gradient. alpha is the decay whatever is trained (the
 *    chain rule to tau is NeuronParameter::add_grad's), taken before a forward clip
 *    (NeuronParameter::set_forward_clip): hSNN penalises its stored alpha, so the penalty
 *    still pulls back a decay the clip holds at 0.98, where the loss no longer moves it. The hSNN code also sums its output
 *    layer's alpha, which is fixed there; fixed decays are skipped here (they add a constant).
 *  - WeightDecay: L2 weight decay with its own coefficient per layer, on the weights only
 *    (cuda-convnet2's per-layer `wc`, with which Hunsberger & Eliasmith 2015 decay only the
 *    fully connected layers), \f$ R = \sum_l \tfrac12 \lambda_l \lVert W_l \rVert^2 \f$, gradient
 *    \f$ \lambda_l W_l \f$. Added to the gradient it is coupled decay: inside Adam's moments, or
 *    inside SGD's velocity, where cuda-convnet2 puts it.
 *  - Regularizers<R...>: the sum of several.
 *
 * @code
 * @article{moro2024temporal, title={The Role of Temporal Hierarchy in Spiking Neural Networks},
 *   author={Moro, Filippo and Aceituno, Pau Vilimelis and Kriener, Laura and Payvand, Melika},
 *   journal={arXiv preprint arXiv:2407.18838}, year={2024}}
 * @endcode
 */
#ifndef SPIKELAB_LEARNING_REGULARIZERS_HPP
#define SPIKELAB_LEARNING_REGULARIZERS_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/learning/concepts.hpp>
#include <spikelab/neurons/time_constant.hpp>

#include <cmath>
#include <concepts>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

namespace spikelab {

/// No penalty (the default of Bptt).
struct NoRegularizer {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "none"; }
  /// The penalty on the network's parameters.
  template <class Net>
  double value(Net&) const noexcept { return 0.0; }
  /// Adds the penalty's gradient to the parameter gradients; returns the penalty.
  template <class Net>
  double add_gradient(Net&) const noexcept { return 0.0; }
};

/// The weights and the bound of DecayRegularizer's penalties on trained decays.
struct DecayRegularizerConfig {
  double upper_weight = 0.1;    ///< w_hi: weight of ||ReLU(alpha - upper_start)||
  double upper_start = 0.95;    ///< a_hi
  double spread_weight = 1e-2;  ///< w_sd (hSNN's l2_alpha_sd)
  bool per_layer_norm = false;  ///< sum of per-layer norms instead of one norm over all layers
  bool include_synaptic = false;  ///< also regularise trainable synaptic decays (alpha() of CUBA LIF)
};

/// hSNN's decay penalties (see the file comment).
class DecayRegularizer {
 public:
  DecayRegularizer() = default;
  /// A penalty with the given weights and bounds; throws ConfigError for a negative weight.
  /// @param cfg the weights and bounds of the penalty
  explicit DecayRegularizer(DecayRegularizerConfig cfg) : cfg_(cfg) {
    if (!(cfg.upper_weight >= 0) || !(cfg.spread_weight >= 0))
      throw ConfigError("DecayRegularizer: weights must be >= 0");
  }
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "DecayRegularizer"; }
  /// The run-time configuration.
  const DecayRegularizerConfig& config() const noexcept { return cfg_; }

  /// The penalty on the network's parameters.
  template <class Net>
  double value(Net& net) {
    return compute(net, false);
  }
  /// Adds the penalty's gradient to the parameter gradients; returns the penalty.
  template <class Net>
  double add_gradient(Net& net) {
    return compute(net, true);
  }

 private:
  template <class Net, class F>
  void for_each_decay(Net& net, F&& f) const {
    net.for_each_layer([&](auto& l, std::size_t) {
      using L = std::remove_cvref_t<decltype(l)>;
      if constexpr (HasMembraneDecay<L>)
        if (l.beta().trainable()) f(l.beta());
      if constexpr (HasSynapticDecay<L>)
        if (cfg_.include_synaptic && l.alpha().trainable()) f(l.alpha());
    });
  }

  template <class Net>
  double compute(Net& net, bool grad) {
    using S = typename Net::scalar_type;
    hi_sq_.clear();
    sd_sq_.clear();
    for_each_decay(net, [&](NeuronParameter<S>& p) {
      p.refresh();
      const auto& a = p.unclipped_values();
      const double mean = double(a.mean());
      double hi = 0, sd = 0;
      for (Index i = 0; i < a.size(); ++i) {
        const double r = std::max(0.0, double(a[i]) - cfg_.upper_start), d = double(a[i]) - mean;
        hi += r * r;
        sd += d * d;
      }
      hi_sq_.push_back(hi);
      sd_sq_.push_back(sd);
    });
    double hi_all = 0, sd_all = 0, value = 0;
    for (std::size_t k = 0; k < hi_sq_.size(); ++k) {
      hi_all += hi_sq_[k];
      sd_all += sd_sq_[k];
      if (cfg_.per_layer_norm) value += cfg_.upper_weight * std::sqrt(hi_sq_[k]) + cfg_.spread_weight * std::sqrt(sd_sq_[k]);
    }
    if (!cfg_.per_layer_norm) value = cfg_.upper_weight * std::sqrt(hi_all) + cfg_.spread_weight * std::sqrt(sd_all);
    if (!grad) return value;
    std::size_t k = 0;
    for_each_decay(net, [&](NeuronParameter<S>& p) {
      const auto& a = p.unclipped_values();
      const double nh = std::sqrt(cfg_.per_layer_norm ? hi_sq_[k] : hi_all);
      const double ns = std::sqrt(cfg_.per_layer_norm ? sd_sq_[k] : sd_all);
      const double mean = double(a.mean());
      Vector<S> g(a.size());
      for (Index i = 0; i < a.size(); ++i) {
        const double r = std::max(0.0, double(a[i]) - cfg_.upper_start), d = double(a[i]) - mean;
        // d||d||/da_i = d_i/||d|| (the mean's term vanishes since sum_i d_i = 0)
        g[i] = S((nh > 0 ? cfg_.upper_weight * r / nh : 0.0) + (ns > 0 ? cfg_.spread_weight * d / ns : 0.0));
      }
      p.add_grad_unclipped(g);
      ++k;
    });
    return value;
  }

  DecayRegularizerConfig cfg_{};
  std::vector<double> hi_sq_, sd_sq_;
};

/// Per-layer L2 decay of the weights (see the file comment).
class WeightDecay {
 public:
  WeightDecay() = default;
  /// lambda[l] is the coefficient of layer l (by its index in the network); layers past the
  /// end of `lambda` are not decayed. Throws ConfigError for a negative or non-finite value.
  /// @param lambda one coefficient per layer
  explicit WeightDecay(std::vector<double> lambda) : lambda_(std::move(lambda)) {
    for (std::size_t l = 0; l < lambda_.size(); ++l)
      if (!(lambda_[l] >= 0) || !std::isfinite(lambda_[l]))
        throw ConfigError("WeightDecay: the coefficient of layer " + std::to_string(l) + " must be finite and >= 0");
  }
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "WeightDecay"; }
  /// lambda, one per layer.
  const std::vector<double>& coefficients() const noexcept { return lambda_; }

  /// The penalty on the network's parameters.
  template <class Net>
  double value(Net& net) {
    return visit(net, false);
  }
  /// Adds the penalty's gradient to the parameter gradients; returns the penalty.
  template <class Net>
  double add_gradient(Net& net) {
    return visit(net, true);
  }

 private:
  template <class Net>
  double visit(Net& net, bool grad) const {
    using S = typename Net::scalar_type;
    double r = 0.0;
    std::vector<bool> seen(lambda_.size(), false);
    net.for_each_parameter([&](ParamRef<S> p) {
      if (p.group != ParamGroup::weight || p.layer >= lambda_.size()) return;
      seen[p.layer] = true;
      const double lam = lambda_[p.layer];
      if (lam == 0.0) return;
      r += 0.5 * lam * double(p.value.squaredNorm());
      if (grad) p.grad.array() += S(lam) * p.value.array();
    });
    for (std::size_t l = 0; l < lambda_.size(); ++l)
      if (lambda_[l] > 0 && !seen[l])
        throw ConfigError("WeightDecay: layer " + std::to_string(l) + " has a decay coefficient but no weights");
    return r;
  }

  std::vector<double> lambda_;
};

/// The sum of several regularizers.
/// @tparam Rs the regularisers summed
template <class... Rs>
class Regularizers {
 public:
  Regularizers() = default;
  /// The sum of the given penalties.
  /// @param rs the regularisers
  explicit Regularizers(Rs... rs) : rs_(std::move(rs)...) {}
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() {
    std::string s = "Regularizers<";
    ((s += Rs::name() + ","), ...);
    if (sizeof...(Rs) > 0) s.pop_back();
    return s + ">";
  }
  /// The penalty on the network's parameters.
  template <class Net>
  double value(Net& net) {
    return std::apply([&](auto&... r) { return (0.0 + ... + double(r.value(net))); }, rs_);
  }
  /// Adds the penalty's gradient to the parameter gradients; returns the penalty.
  template <class Net>
  double add_gradient(Net& net) {
    return std::apply([&](auto&... r) { return (0.0 + ... + double(r.add_gradient(net))); }, rs_);
  }
  /// Regulariser I.
  template <std::size_t I>
  auto& get() noexcept {
    return std::get<I>(rs_);
  }

 private:
  std::tuple<Rs...> rs_;
};

}  // namespace spikelab

#endif
