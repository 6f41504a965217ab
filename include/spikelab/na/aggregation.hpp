/**
 * @file na/aggregation.hpp
 * @brief NeighborhoodAggregation: the NA spike-derivative policy of Yang, Zhang & Li (ICML 2021)
 *        for NaLifType layers, and `NaLif<S>` = NaLifType<S, NeighborhoodAggregation>.
 *
 * BPTT cannot give dL/du of a spiking neuron (dH/du is a Dirac delta). NA estimates it from
 * neighbours of the present membrane waveform u (the ICML 2021 poster, boxes 1-4). The simple
 * neighbourhood used in practice has T neighbours per neuron: neighbour u_k = u ⊞ ε_k with
 * ε_k = (ϑ - u[k]) e_k, which flips the spike at step k (a removed spike leaves the potential
 * at ϑ, an added one resets it to 0); every later step is re-simulated with the SAME input
 * currents, so later spikes may change too (the chain effect). With the loss change to first
 * order, \f$ L(u_k) - L(u) \approx \nabla_a L \cdot (a_k - a) = \sum_t \partial L/\partial s[t]\,
 * (s_k[t] - s[t]) \f$ (a is linear in s), and the directions being axis-aligned, the aggregated
 * finite difference is
 * \f[ \delta[k] = \tilde\nabla_u L[k] = \frac{\Delta L_k}{\vartheta - u[k]}
 *     \qquad (\text{poster form: } d_{MP}(u, u_k) = |\vartheta - u[k]|). \f]
 * δ is the layer's dL/dc (a perturbation of u[k] by ε through ⊞ is a perturbation of the
 * input current c[k] by ε), so the synapses below get \f$ \partial L/\partial w_{ij} = \sum_t a_j[t]\,\delta_i[t] \f$.
 *
 * The re-simulation is local: one neuron, from step k on, stopping as soon as the neighbour and
 * the original both spike (both reset to 0: identical from there) or can no longer differ
 * (neighbour potential <= original and the original never fires again): O(T) to O(T^2) per
 * neuron and sample, nothing else is re-run.
 *
 * NaConfig selects the form; three are named:
 *  - NaConfig::poster() (the default): the poster's aggregate, weight 1/d with d = |ϑ - u[k]|,
 *    \f[ \delta[k] = \frac{\Delta L_k}{\vartheta - u[k]}, \qquad
 *        \Delta L_k = \sum_t \frac{\partial L}{\partial a[t]}\,(a_k[t] - a[t]) \f]
 *    (the exact first-order loss change of the neighbour);
 *  - NaConfig::first_order(): the same exact first-order ΔL_k with the official code's weight and
 *    per-layer rescaling (unrounded means):
 *    \f$ \delta = \Delta L_k\,\mathrm{clamp}(1/(\vartheta - u[k])^3, -5, 5) \f$, then
 *    \f$ \delta_l \leftarrow 1.2\,\delta_l \ln(R / (m_l + 10^{-5}) + 1.02) \f$ with
 *    \f$ m_l = \overline{|\delta_l|} \f$ over the layer's neurons, batch and steps, R = m_out for the output
 *    NA layer and \f$ R = f_{out}\,m_{out} \f$ (its rescaled mean) for the layers below;
 *  - NaConfig::official_code(): the official code in full (`functions/na.py`, `neighbors.py`).
 *    (1) The error is back-accumulated through the PSP filter, \f$ E[t] = \partial L/\partial a[t] +
 *    (1 - 1/\tau_s) E[t+1] \f$, and dotted with the PSP change:
 *    \f[ \Delta L_k = \sum_t E[t]\,(a_k[t] - a[t]) = \sum_i \Delta s_k[i] \sum_{j \ge i}
 *        \frac{(j - i + 1)(1 - 1/\tau_s)^{j-i}}{\tau_s}\,\frac{\partial L}{\partial a[j]}, \f]
 *    i.e. the PSP filter applied twice (later errors weigh up to ~τ_s times more than in the first-order
 *    change). (2) The weight clamp(1/(ϑ - u)^3, ±5). (3) The per-layer rescaling above with both means
 *    rounded to 3 decimals as the code's `update_norm` stores them: \f$ R_{out} = [m_{out}]_3 \f$ for the
 *    output layer's own factor, \f$ R = [f_{out} m_{out}]_3 \f$ for the layers below. Below a mean of
 *    5e-4 the rounding gives R = 0 and every factor collapses to 1.2 ln 1.02 ≈ 0.024. (4) The code's
 *    loss is summed over the batch (PspKernelMse::sum_over_batch = true), which keeps m_out above that
 *    collapse; the rounding and the summed loss belong together.
 * Practical note (runs of this library: 784-300-10 MLP on 10k MNIST, 2312-200-10 MLP on 1k
 * N-MNIST, 3 seeds): the poster's unbounded 1/d gives neurons whose potential lies within a hair of
 * ϑ arbitrarily large weights; it learned markedly worse than surrogate BPTT there (MNIST 87.4 % vs
 * 94.6 %, N-MNIST 72 % vs 88 %), while the same rule with the weight capped at 5
 * (NaConfig{.clip = 5}, i.e. d >= 0.2) or the clamped cube matched or slightly beat it. The
 * default stays the poster's form, as published.
 *
 * The re-simulation starts from the potential the ⊞ perturbation leaves (ϑ s[k]), which is the
 * official code's `mem = ϑ·s_orig[k]` as well; NeighbourStart::keep_potential is an alternative
 * reading (flip the spike, keep u[k]) that is not a ⊞ neighbour.
 *
 * @code
 * @inproceedings{yang2021backpropagated, title={Backpropagated Neighborhood Aggregation for Accurate Training of
 *   Spiking Neural Networks}, author={Yang, Yukun and Zhang, Wenrui and Li, Peng}, booktitle={ICML},
 *   pages={11852--11862}, year={2021}}
 * @endcode
 */
#ifndef SPIKELAB_NA_AGGREGATION_HPP
#define SPIKELAB_NA_AGGREGATION_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/na/na_lif.hpp>

#include <cereal/cereal.hpp>
#include <cereal/types/common.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace spikelab {

/// Where the re-simulation of a neighbour starts after its flipped step k.
enum class NeighbourStart : std::uint8_t {
  at_threshold,   ///< u ⊞ (ϑ - u[k]) e_k: a removed spike leaves ϑ, an added one 0 (poster ⊞; code `mem = ϑ s[k]`)
  keep_potential  ///< flip the spike but keep u[k]: a removed spike leaves u[k], an added one 0
};

/// Which error NA dots with a neighbour's PSP change a_k - a to get its loss change ΔL_k.
enum class NaLossChange : std::uint8_t {
  first_order,    ///< ∂L/∂a: the exact first-order change (poster; NaConfig::first_order())
  filtered_twice  ///< E = ∂L/∂a back-accumulated through the PSP filter (the official code)
};

/// Options of neighbourhood aggregation. Weight of neighbour k: sign(ϑ - u[k]) * min(d^-p, clip)
/// with d = max(|ϑ - u[k]|, min_distance); the named forms are described in the file comment.
struct NaConfig {
  double distance_power = 1.0;  ///< p: 1 in the poster, 3 in the official code
  double clip = 0.0;            ///< upper bound on d^-p; 0 = none (poster), 5 in the official code
  bool layer_rescale = false;   ///< the official code's per-layer gradient rescaling
  NeighbourStart start = NeighbourStart::at_threshold;  ///< where the neighbouring spike trains start (NeighbourStart)
  double min_distance = 1e-6;   ///< floor on d (a potential exactly at ϑ would divide by zero)
  NaLossChange loss_change = NaLossChange::first_order;  ///< how the change of the loss is estimated (NaLossChange)
  bool round_norms = false;     ///< rescaling with the means rounded to 3 decimals (needs layer_rescale)

  /// The poster's form: δ = ΔL / (ϑ - u[k]), ΔL the exact first-order change.
  static NaConfig poster() { return {}; }
  /// The exact first-order ΔL with the official code's clamp(1/d^3, ±5) and per-layer rescaling.
  static NaConfig first_order() { return {.distance_power = 3.0, .clip = 5.0, .layer_rescale = true}; }
  /// The official code's form in full: the error filtered twice, clamp(1/d^3, ±5), per-layer
  /// rescaling with rounded means. Train it with the loss summed over the batch.
  static NaConfig official_code() {
    return {.distance_power = 3.0,
            .clip = 5.0,
            .layer_rescale = true,
            .loss_change = NaLossChange::filtered_twice,
            .round_norms = true};
  }

  /// "poster", "first-order", "official-code" or "custom".
  std::string form_name() const {
    auto same = [&](const NaConfig& o) {
      return distance_power == o.distance_power && clip == o.clip && layer_rescale == o.layer_rescale &&
             start == o.start && min_distance == o.min_distance && loss_change == o.loss_change &&
             round_norms == o.round_norms;
    };
    if (same(poster())) return "poster";
    if (same(first_order())) return "first-order";
    if (same(official_code())) return "official-code";
    return "custom";
  }
  /// Throws ConfigError unless every value is in range.
  void validate() const {
    if (!(distance_power > 0.0) || !std::isfinite(distance_power) || !(clip >= 0.0) || !std::isfinite(clip) ||
        !(min_distance > 0.0) || !std::isfinite(min_distance))
      throw ConfigError("NaConfig: distance_power and min_distance must be positive and finite, clip >= 0 (p " +
                        std::to_string(distance_power) + ", clip " + std::to_string(clip) + ", min_distance " +
                        std::to_string(min_distance) + ")");
    if (round_norms && !layer_rescale)
      throw ConfigError("NaConfig: round_norms rounds the means of the per-layer rescaling; it needs layer_rescale");
    if (loss_change != NaLossChange::first_order && loss_change != NaLossChange::filtered_twice)
      throw ConfigError("NaConfig: unknown loss_change " + std::to_string(int(loss_change)));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t version) {
    detail::check_version(version, 2, "NaConfig");
    ar(CEREAL_NVP(distance_power), CEREAL_NVP(clip), CEREAL_NVP(layer_rescale), CEREAL_NVP(start),
       CEREAL_NVP(min_distance));
    if (version >= 2) {
      ar(CEREAL_NVP(loss_change), CEREAL_NVP(round_norms));
    } else {  // written before the official code's error filter and rounding were options
      loss_change = NaLossChange::first_order;
      round_norms = false;
    }
  }
};

/// Shared state of the official code's per-layer rescaling: the mean |δ| of the reference
/// (output) NA layer after its own rescaling (rounded to 3 decimals when round_norms), refreshed at every backward pass (the output
/// layer's backward runs first). Connect with connect_gradient_norms().
struct NaGradientNorms {
  double reference_mean = 0.0;  ///< the reference layer's mean |delta|
  bool reference_seen = false;  ///< whether reference_mean is set yet
};

/// The NA spike-derivative policy for NaLifType layers: the derivative of a neuron's PSP with
/// respect to its membrane, estimated from the membrane distances to the neighbouring spike
/// trains (Yang, Zhang & Li, ICML 2021; equations in the file comment).
class NeighborhoodAggregation : public detail::ValidatedConfig<NaConfig> {
 public:
  NeighborhoodAggregation() = default;
  /// The policy with the given configuration; throws ConfigError when it is out of range.
  /// @param cfg the aggregation's parameters
  explicit NeighborhoodAggregation(NaConfig cfg) : ValidatedConfig(cfg) {}

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "NA"; }

  /// Links this layer to the shared rescaling state; `reference` marks the output NA layer.
  void set_gradient_norms(NaGradientNorms* norms, bool reference) noexcept {
    norms_ = norms;
    reference_ = reference;
  }

  /// The forward spike: the Heaviside step (spike when u > ϑ strictly).
  template <Scalar S>
  S spike(S x) const noexcept {
    return x > S(0) ? S(1) : S(0);
  }

  /// Weight of a neighbour at signed distance du = ϑ - u[k]: sign(du) min(d^-p, clip).
  template <Scalar S>
  S weight(S du) const noexcept {
    const double d = std::max(double(std::abs(du)), cfg_.min_distance);
    double w = cfg_.distance_power == 1.0 ? 1.0 / d
               : cfg_.distance_power == 3.0 ? 1.0 / (d * d * d)
                                            : std::pow(d, -cfg_.distance_power);
    if (cfg_.clip > 0.0) w = std::min(w, cfg_.clip);
    return S(du < S(0) ? -w : w);
  }

  /// Loss change ΔL_k = Σ_t e_s[t] (s_k[t] - s[t]) of neighbour k (the spike at k flipped, later
  /// steps re-simulated with the same currents), e_s the trace's error: dL/ds (the exact first
  /// order) or the official code's twice-filtered error (see prepare). `last` is the last step at
  /// which the original fires (-1 if never); when `spikes` is not null, the neighbour's spike
  /// train is written there (spikes[t] for t in [0, T), contiguous).
  template <Scalar S>
  S loss_change(const NaLifDynamics<S>& dyn, const NeuronTrace<S>& tr, Index k, Index last,
                S* spikes = nullptr) const noexcept {
    const Index T = tr.steps;
    const S uk = tr.u(k);
    const bool sk = dyn.fires(uk);
    if (spikes)
      for (Index t = 0; t < T; ++t) spikes[t] = (t == k) != dyn.fires(tr.u(t)) ? S(1) : S(0);
    S dl = sk ? -tr.gs(k) : tr.gs(k);
    // potentials left after step k: neighbour and original
    S vn = sk ? (cfg_.start == NeighbourStart::at_threshold ? dyn.threshold : uk) : S(0);
    S vo = sk ? S(0) : uk;
    for (Index t = k + 1; t < T; ++t) {
      // neither can fire again: the original never does, and the neighbour stays below it
      if (t > last && vn <= vo) break;
      const S un = dyn.integrate(vn, tr.c(t));
      const S uo = tr.u(t);
      const bool fn = dyn.fires(un), fo = dyn.fires(uo);
      if (fn != fo) {
        dl += fn ? tr.gs(t) : -tr.gs(t);
        if (spikes) spikes[t] = fn ? S(1) : S(0);
      }
      if (fn && fo) break;  // both reset to 0: identical from here on
      vn = fn ? S(0) : un;
      vo = fo ? S(0) : uo;
    }
    return dl;
  }

  /// δ[k] = ΔL_k * weight(ϑ - u[k]) for every step k of one neuron (writes out[k * stride]).
  template <Scalar S>
  void backward(const NaLifDynamics<S>& dyn, const NeuronTrace<S>& tr, S* out) const noexcept {
    const Index T = tr.steps;
    Index last = -1;
    for (Index t = 0; t < T; ++t)
      if (dyn.fires(tr.u(t))) last = t;
    for (Index k = 0; k < T; ++k)
      out[k * tr.stride] = loss_change(dyn, tr, k, last) * weight(dyn.threshold - tr.u(k));
  }

  /// The official code's error (NaLossChange::filtered_twice): dL/ds of the whole layer
  /// (neurons x batch x T) back-accumulated once more through the PSP filter,
  /// \f$ h[t] = \partial L/\partial s[t] + (1 - 1/\tau_s)\, h[t+1] \f$, so that the loss
  /// change \f$ \sum_i \Delta s[i]\, h[i] \f$ equals \f$ \sum_t E[t]\,(a_k[t] - a[t]) \f$.
  /// The first-order form leaves dL/ds as it is.
  template <Scalar S>
  void prepare(const NaLifDynamics<S>& dyn, TimeSeries<S>& grad_spike) const {
    if (cfg_.loss_change != NaLossChange::filtered_twice) return;
    for (Index t = grad_spike.steps() - 2; t >= 0; --t) grad_spike.slot(t) += dyn.decay_s * grad_spike.slot(t + 1);
  }

  /// A mean as the rescaling uses it: rounded to 3 decimals when round_norms (the official
  /// code stores `round(mean, 3)`; halves are rounded away from zero here, to even there).
  double stored_mean(double m) const noexcept { return cfg_.round_norms ? std::round(m * 1000.0) / 1000.0 : m; }

  /// The official code's per-layer rescaling (when enabled), over the layer's whole dL/dc:
  /// the output layer scales by 1.2 ln([m]/(m + 1e-5) + 1.02) and stores [f m] as the reference R;
  /// the layers below scale by 1.2 ln(R/(m + 1e-5) + 1.02) ([x] = stored_mean(x)).
  template <Scalar S>
  void finish(Matrix<S>& grad) {
    if (!cfg_.layer_rescale) return;
    if (!norms_)
      throw ConfigError("NeighborhoodAggregation: layer_rescale needs the layers connected to a shared "
                        "NaGradientNorms (connect_gradient_norms(net, norms))");
    const double n = double(std::max<Index>(grad.size(), 1));
    const double mean = double(grad.cwiseAbs().template cast<double>().sum()) / n;
    if (reference_) {
      const double f = 1.2 * std::log(stored_mean(mean) / (mean + 1e-5) + 1.02);
      grad *= S(f);
      norms_->reference_mean = stored_mean(mean * f);
      norms_->reference_seen = true;
    } else {
      if (!norms_->reference_seen)
        throw ConfigError("NeighborhoodAggregation: the reference (output) NA layer has not run backward before this "
                          "layer; connect_gradient_norms marks the last NA layer of the network");
      grad *= S(1.2 * std::log(norms_->reference_mean / (mean + 1e-5) + 1.02));
    }
  }

 private:
  NaGradientNorms* norms_ = nullptr;
  bool reference_ = false;
};

static_assert(SpikeDerivative<NeighborhoodAggregation, float> && SpikeDerivative<NeighborhoodAggregation, double>);

/// NA-LIF layer trained by neighbourhood aggregation.
template <Scalar S>
using NaLif = NaLifType<S, NeighborhoodAggregation>;

/// Connects every NA layer of `net` to `norms` for the official code's per-layer rescaling;
/// the last NA layer (the output layer, whose backward runs first) is the reference. Returns
/// the number of NA layers connected. `norms` must outlive the network's training.
template <class Net>
int connect_gradient_norms(Net& net, NaGradientNorms& norms) {
  int count = 0;
  net.for_each_layer([&](auto& l, std::size_t) {
    if constexpr (requires { l.derivative().set_gradient_norms(&norms, true); }) ++count;
  });
  int seen = 0;
  net.for_each_layer([&](auto& l, std::size_t) {
    if constexpr (requires { l.derivative().set_gradient_norms(&norms, true); }) {
      ++seen;
      l.derivative().set_gradient_norms(&norms, seen == count);
    }
  });
  return count;
}

/// Sets the NA options of every NA layer of `net`; returns the number of layers changed.
template <class Net>
int set_na_config(Net& net, const NaConfig& cfg) {
  int count = 0;
  net.for_each_layer([&](auto& l, std::size_t) {
    if constexpr (requires { l.derivative().set_config(cfg); }) {
      l.derivative().set_config(cfg);
      ++count;
    }
  });
  return count;
}

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((), (spikelab::NeighborhoodAggregation), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::NaConfig), 2)

#endif
