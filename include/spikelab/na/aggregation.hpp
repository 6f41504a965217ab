/**
 * @file na/aggregation.hpp
 * @brief NeighborhoodAggregation: the NA spike-derivative policy of Yang, Zhang & Li (ICML 2021)
 *        for NaLifType layers, and NaLif<S> = NaLifType<S, NeighborhoodAggregation>.
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
 * NaConfig selects the form:
 *  - NaConfig::poster() (the default): weight 1/d, d = |ϑ - u[k]|;
 *  - NaConfig::official_code(): the official code's heuristics (`functions/na.py`,
 *    `neighbors.py`): \f$ \delta = \Delta L \cdot \mathrm{clamp}(1/(\vartheta - u)^3, -5, 5) \f$ and a
 *    per-layer gradient rescaling \f$ \delta \leftarrow 1.2\,\delta \log(\overline{|\delta_{out}|} /
 *    (\overline{|\delta|} + 10^{-5}) + 1.02) \f$ relative to the output layer (needs
 *    connect_gradient_norms()).
 * Practical note (runs of this library: 784-300-10 MLP on 10k MNIST, 2312-200-10 MLP on 1k
 * N-MNIST, 3 seeds): the poster's unbounded 1/d gives neurons whose potential lies within a hair of
 * ϑ arbitrarily large weights; it learned markedly worse than surrogate BPTT there (MNIST 87.4 % vs
 * 94.6 %, N-MNIST 72 % vs 88 %), while the same rule with the weight capped at 5
 * (NaConfig{.clip = 5}, i.e. d >= 0.2) or the official code's form matched or slightly beat it. The
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

/// Options of neighbourhood aggregation. Weight of neighbour k: sign(ϑ - u[k]) * min(d^-p, clip)
/// with d = max(|ϑ - u[k]|, min_distance).
struct NaConfig {
  double distance_power = 1.0;  ///< p: 1 in the poster, 3 in the official code
  double clip = 0.0;            ///< upper bound on d^-p; 0 = none (poster), 5 in the official code
  bool layer_rescale = false;   ///< the official code's per-layer gradient rescaling
  NeighbourStart start = NeighbourStart::at_threshold;
  double min_distance = 1e-6;   ///< floor on d (a potential exactly at ϑ would divide by zero)

  /// The poster's form: δ = ΔL / (ϑ - u[k]).
  static NaConfig poster() { return {}; }
  /// The official code's form: δ = ΔL clamp(1/(ϑ - u)^3, ±5), then per-layer rescaling.
  static NaConfig official_code() { return {.distance_power = 3.0, .clip = 5.0, .layer_rescale = true}; }

  /// "poster", "official-code" or "custom".
  std::string form_name() const {
    auto same = [&](const NaConfig& o) {
      return distance_power == o.distance_power && clip == o.clip && layer_rescale == o.layer_rescale &&
             start == o.start && min_distance == o.min_distance;
    };
    if (same(poster())) return "poster";
    if (same(official_code())) return "official-code";
    return "custom";
  }
  void validate() const {
    if (!(distance_power > 0.0) || !std::isfinite(distance_power) || !(clip >= 0.0) || !std::isfinite(clip) ||
        !(min_distance > 0.0) || !std::isfinite(min_distance))
      throw ConfigError("NaConfig: distance_power and min_distance must be positive and finite, clip >= 0 (p " +
                        std::to_string(distance_power) + ", clip " + std::to_string(clip) + ", min_distance " +
                        std::to_string(min_distance) + ")");
  }
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(distance_power), CEREAL_NVP(clip), CEREAL_NVP(layer_rescale), CEREAL_NVP(start),
       CEREAL_NVP(min_distance));
  }
};

/// Shared state of the official code's per-layer rescaling: the mean |δ| of the reference
/// (output) NA layer after its own rescaling, refreshed at every backward pass (the output
/// layer's backward runs first). Connect with connect_gradient_norms().
struct NaGradientNorms {
  double reference_mean = 0.0;
  bool reference_seen = false;
};

class NeighborhoodAggregation : public detail::ValidatedConfig<NaConfig> {
 public:
  NeighborhoodAggregation() = default;
  explicit NeighborhoodAggregation(NaConfig cfg) : ValidatedConfig(cfg) {}

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

  /// First-order loss change ΔL_k = Σ_t dL/ds[t] (s_k[t] - s[t]) of neighbour k (the spike at
  /// k flipped, later steps re-simulated with the same currents). `last` is the last step at
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

  /// The official code's per-layer rescaling (when enabled), over the layer's whole dL/dc.
  template <Scalar S>
  void finish(Matrix<S>& grad) {
    if (!cfg_.layer_rescale) return;
    if (!norms_)
      throw ConfigError("NeighborhoodAggregation: layer_rescale needs the layers connected to a shared "
                        "NaGradientNorms (connect_gradient_norms(net, norms))");
    const double n = double(std::max<Index>(grad.size(), 1));
    const double mean = double(grad.cwiseAbs().template cast<double>().sum()) / n;
    if (reference_) {
      const double f = 1.2 * std::log(mean / (mean + 1e-5) + 1.02);
      grad *= S(f);
      norms_->reference_mean = mean * f;
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
SPIKELAB_CLASS_VERSION((), (spikelab::NaConfig), 1)

#endif
