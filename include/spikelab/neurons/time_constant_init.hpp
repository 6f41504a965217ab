/**
 * @file neurons/time_constant_init.hpp
 * @brief The hierarchical time-constant initialiser of Moro et al. 2024 (hSNN): a time
 *        constant per hidden layer along a linear or tanh profile of spread delta_tau,
 *        per-neuron heterogeneity around it, and the decays alpha = exp(-dt/tau).
 *
 * For L_h hidden (spiking) layers l = 0 .. L_h-1 and x_l = l / (L_h - 1)
 * (hSNN code, utils_initialization.py::params_initializer):
 *  - homogeneous: tau_l = tau_mem;
 *  - linear: tau_l = linspace(max(0, tau_mem - dtau/2), max(0, tau_mem + dtau/2), L_h)[l];
 *  - tanh: h_l = tanh((x_l - c)/a), hat h_l = (h_l - min h)/max|h - min h| - 1/2 in [-1/2, 1/2],
 *    tau_l = tau_mem + dtau * hat h_l  (c = tanh_center, a = tanh_coef);
 * then per neuron
 *  - uniform: tau ~ U(tau_l (1 - sd), tau_l (1 + sd));  normal: tau = tau_l (1 + sd N(0, 1));
 *  - tau clipped to [tau_min, tau_max] = [1e-10, 10] s, alpha = exp(-dt/tau) clipped to
 *    [decay_min, decay_max] = [0.1, 0.99].
 * dtau > 0 puts the slow neurons near the output (a hierarchy), dtau < 0 inverts it. With a
 * single hidden layer every profile gives tau_mem (the hSNN code gives tau_mem - dtau/2 for
 * 'linear' and NaN for 'tanh' there).
 *
 * @code
 * @article{moro2024temporal, title={The Role of Temporal Hierarchy in Spiking Neural Networks},
 *   author={Moro, Filippo and Aceituno, Pau Vilimelis and Kriener, Laura and Payvand, Melika},
 *   journal={arXiv preprint arXiv:2407.18838}, year={2024}}
 * @endcode
 */
#ifndef SPIKELAB_NEURONS_TIME_CONSTANT_INIT_HPP
#define SPIKELAB_NEURONS_TIME_CONSTANT_INIT_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/types.hpp>
#include <spikelab/neurons/neuron_parameter.hpp>
#include <spikelab/neurons/time_constant.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace spikelab {

/// How the layer time constants vary with depth.
enum class TauProfile : std::uint8_t { homogeneous, linear, tanh };
/// How neuron time constants vary around their layer's.
enum class TauHeterogeneity : std::uint8_t { none, uniform, normal };

/// Configuration of the hierarchical initialiser (defaults: hSNN's SimArgs where it has one).
struct TimeConstantHierarchy {
  double dt = 0.01;          ///< simulation step (s)
  double tau_mem = 0.1;      ///< centre time constant (s)
  double delta_tau = 0.0;    ///< spread across layers (s); > 0: slow near the output
  TauProfile profile = TauProfile::tanh;  ///< how the centre time constant changes across layers
  double tanh_center = 0.5;  ///< c of the tanh profile
  double tanh_coef = 0.5;    ///< a of the tanh profile (steepness)
  TauHeterogeneity heterogeneity = TauHeterogeneity::uniform;  ///< how neuron time constants spread within a layer
  double heterogeneity_sd = 0.2;             ///< relative spread sd of the neuron time constants
  /// Clip [tau_min, tau_max] of the sampled time constants (s).
  double tau_min = 1e-10, tau_max = 10.0;    ///< clip of the sampled time constants (s)
  /// Clip [decay_min, decay_max] of the initial decays.
  double decay_min = 0.1, decay_max = 0.99;  ///< clip of the initial decays

  /// Throws ConfigError unless every value is in range.
  void validate() const {
    if (!(dt > 0)) throw ConfigError("TimeConstantHierarchy: dt must be positive");
    if (!(tau_mem > 0)) throw ConfigError("TimeConstantHierarchy: tau_mem must be positive");
    if (profile == TauProfile::tanh && !(tanh_coef > 0)) throw ConfigError("TimeConstantHierarchy: tanh_coef must be positive");
    if (!(heterogeneity_sd >= 0)) throw ConfigError("TimeConstantHierarchy: heterogeneity_sd must be >= 0");
    if (!(0 < tau_min && tau_min < tau_max)) throw ConfigError("TimeConstantHierarchy: need 0 < tau_min < tau_max");
    if (!(0 < decay_min && decay_min <= decay_max && decay_max < 1))
      throw ConfigError("TimeConstantHierarchy: need 0 < decay_min <= decay_max < 1");
  }
};

/// The layer time constants tau_l (s) of `hidden_layers` hidden layers (profile above).
inline std::vector<double> layer_time_constants(const TimeConstantHierarchy& cfg, Index hidden_layers) {
  cfg.validate();
  if (hidden_layers <= 0) throw ConfigError("layer_time_constants: need at least one hidden layer");
  const std::size_t L = std::size_t(hidden_layers);
  std::vector<double> tau(L, cfg.tau_mem);
  if (L == 1 || cfg.profile == TauProfile::homogeneous) return tau;
  if (cfg.profile == TauProfile::linear) {
    const double a = std::max(0.0, cfg.tau_mem - 0.5 * cfg.delta_tau), b = std::max(0.0, cfg.tau_mem + 0.5 * cfg.delta_tau);
    for (std::size_t l = 0; l < L; ++l) tau[l] = a + (b - a) * double(l) / double(L - 1);
    return tau;
  }
  std::vector<double> h(L);
  for (std::size_t l = 0; l < L; ++l) h[l] = std::tanh((double(l) / double(L - 1) - cfg.tanh_center) / cfg.tanh_coef);
  const double lo = *std::min_element(h.begin(), h.end());
  double span = 0;
  for (double v : h) span = std::max(span, std::abs(v - lo));
  for (std::size_t l = 0; l < L; ++l) tau[l] = cfg.tau_mem + cfg.delta_tau * ((span > 0 ? (h[l] - lo) / span : 0.5) - 0.5);
  return tau;
}

/// `n` neuron time constants around `tau_layer` (heterogeneity, then the tau clip).
inline Vector<double> sample_time_constants(double tau_layer, Index n, const TimeConstantHierarchy& cfg, Rng& rng) {
  Vector<double> tau(n);
  const double sd = cfg.heterogeneity_sd;
  for (Index i = 0; i < n; ++i) {
    double t = tau_layer;
    switch (cfg.heterogeneity) {
      case TauHeterogeneity::none: break;
      case TauHeterogeneity::uniform: t = rng.uniform(tau_layer * (1 - sd), tau_layer * (1 + sd)); break;
      case TauHeterogeneity::normal: t = tau_layer * (1 + sd * rng.normal()); break;
    }
    tau[i] = std::clamp(t, cfg.tau_min, cfg.tau_max);
  }
  return tau;
}

/// Sets the decays of `p` to exp(-dt/tau) for the given per-neuron time constants, clipped to
/// [decay_min, decay_max] and then to p's own projection bounds (its decay range, or its tau
/// range when p stores time constants). hSNN initialises alpha up to 0.99 and clips it to 0.98
/// wherever it is used: a forward clip (NeuronParameter::set_forward_clip) reproduces that
/// exactly (the stored 0.99 is used as 0.98), a decay projected onto [1e-5, 0.98] stores 0.98.
/// A per-layer parameter needs equal time constants (no heterogeneity).
template <Scalar S>
void set_time_constants(NeuronParameter<S>& p, const Vector<double>& tau, double dt, double decay_min = 1e-300,
                        double decay_max = 1.0 - 1e-12) {
  if (tau.size() != p.neurons())
    throw ShapeError("set_time_constants: " + std::to_string(tau.size()) + " time constants for " +
                     std::to_string(p.neurons()) + " neurons");
  Vector<S> d(tau.size());
  const bool direct = p.parameterization() == Parameterization::direct;
  for (Index i = 0; i < tau.size(); ++i) {
    double v = std::clamp(decay_from_tau(tau[i], dt), decay_min, decay_max);
    if (direct)  // the parameter's own bounds (e.g. hSNN's forward clip)
      d[i] = S(std::clamp(v, p.lower(), p.upper()));
    else  // p stores tau (for its own dt): set it directly, within its bounds
      d[i] = S(std::clamp(tau_from_decay(v, p.dt()), p.lower(), p.upper()));
  }
  if (p.mode() == Train::per_layer && (d.array() != d[0]).any())
    throw ConfigError("set_time_constants: a per-layer decay cannot hold heterogeneous time constants "
                      "(use TauHeterogeneity::none or a per-neuron parameter)");
  p.set(d);
}

/// Result of initialize_time_constants: the layer time constants and each neuron's.
struct HierarchyInit {
  std::vector<double> layer_tau;          ///< tau_l per hidden spiking layer (s)
  std::vector<Vector<double>> neuron_tau; ///< sampled tau per neuron (s, before the decay clip)
  std::vector<std::size_t> layers;        ///< index of each hidden layer in the network
};

/// Applies the hierarchy to the membrane decay of every spiking neuron layer of `net` (in
/// order; readouts are left alone), drawing heterogeneity from `rng`.
template <class Net>
HierarchyInit initialize_time_constants(Net& net, const TimeConstantHierarchy& cfg, Rng& rng) {
  Index count = 0;
  for_each_spiking_decay(net, [&](auto&, std::size_t) { ++count; });
  HierarchyInit r;
  if (count == 0) throw ConfigError("initialize_time_constants: the network has no spiking neuron layer");
  r.layer_tau = layer_time_constants(cfg, count);
  std::size_t k = 0;
  for_each_spiking_decay(net, [&](auto& p, std::size_t i) {
    Vector<double> tau = sample_time_constants(r.layer_tau[k], p.neurons(), cfg, rng);
    set_time_constants(p, tau, cfg.dt, cfg.decay_min, cfg.decay_max);
    r.neuron_tau.push_back(std::move(tau));
    r.layers.push_back(i);
    ++k;
  });
  return r;
}

}  // namespace spikelab

#endif
