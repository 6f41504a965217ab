/**
 * @file neurons/time_constant.hpp
 * @brief Time constants of neuron layers: decay <-> tau conversion and per-layer read-outs
 *        (mean tau, thresholds) of a network; the layers are found by the concepts
 *        HasMembraneDecay, HasSynapticDecay and SpikingNeuronLayer (neurons/concepts.hpp).
 *
 * A leaky neuron with time constant tau simulated with step dt decays by
 * \f[ \beta = e^{-\Delta t/\tau}, \qquad \tau = -\Delta t / \ln\beta . \f]
 * Decays live in NeuronParameter (neurons/neuron_parameter.hpp), which trains either the
 * decay itself (hSNN's choice) or tau (NeuronParameter::use_time_constant). The hSNN
 * constants below are the clip range of a trained decay in Moro et al. 2024's code, which
 * clips alpha where the LIF step uses it and leaves the trained alpha free. Two ways to bound a
 * decay to that range:
 *  - projection (LifConfig{.beta_min = hsnn_decay_min, .beta_max = hsnn_decay_max}): the stored
 *    decay is held inside after every optimizer step, and the loss's gradient still acts at
 *    the bound;
 *  - forward clip, hSNN's (`l.beta().set_forward_clip(hsnn_decay_min, hsnn_decay_max)` with
 *    unbounded projection, LifConfig{.beta_min = -inf, .beta_max = +inf}): only the use is
 *    clipped, the loss's gradient is zero beyond the clip, and the stored decay may leave the
 *    range (neurons_at_limit() / decay_limit_fractions() count those at or beyond it).
 *
 * Learning rates: decays and time constants are ParamGroup::time_constant, so
 * OptimizerConfig::lr_scale / grad_scale can treat them apart. hSNN multiplies alpha's gradient
 * by 0.1 (grad_scale = 0.1); with Adam that is nearly a no-op, since Adam's step
 * m / (sqrt(v) + eps) does not change when every gradient of a block is scaled by a constant
 * (only eps breaks the invariance). To make decays move more slowly under Adam, lower their
 * lr_scale instead; with SGD the two are the same.
 *
 * @code
 * @article{moro2024temporal, title={The Role of Temporal Hierarchy in Spiking Neural Networks},
 *   author={Moro, Filippo and Aceituno, Pau Vilimelis and Kriener, Laura and Payvand, Melika},
 *   journal={arXiv preprint arXiv:2407.18838}, year={2024}}
 * @endcode
 */
#ifndef SPIKELAB_NEURONS_TIME_CONSTANT_HPP
#define SPIKELAB_NEURONS_TIME_CONSTANT_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/types.hpp>
#include <spikelab/neurons/concepts.hpp>
#include <spikelab/neurons/neuron_parameter.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <string>
#include <type_traits>
#include <vector>

namespace spikelab {

/// hSNN's clip of a trained decay in the forward pass, [1e-5, 0.98] (models.py::lif_step);
/// see the file comment for the two ways to apply it.
inline constexpr double hsnn_decay_min = 1e-5;
/// The upper end of hSNN's forward clip of a trained decay (see hsnn_decay_min).
inline constexpr double hsnn_decay_max = 0.98;

/// Decay exp(-dt/tau) of time constant tau (tau > 0, dt > 0).
inline double decay_from_tau(double tau, double dt) {
  if (!(tau > 0) || !(dt > 0))
    throw ConfigError("decay_from_tau: need tau > 0 and dt > 0 (got tau " + std::to_string(tau) + ", dt " +
                      std::to_string(dt) + ")");
  return std::exp(-dt / tau);
}
/// Time constant -dt/ln(decay) of a decay in (0, 1).
inline double tau_from_decay(double decay, double dt) {
  if (!(decay > 0 && decay < 1) || !(dt > 0))
    throw ConfigError("tau_from_decay: need a decay in (0, 1) and dt > 0 (got decay " + std::to_string(decay) +
                      ", dt " + std::to_string(dt) + ")");
  return -dt / std::log(decay);
}

/// Per-neuron time constants of a decay parameter, tau_i = -dt / ln(decay_i). Decays are
/// clamped into [1e-300, 1 - 1e-16] first (a decay of 0 or 1 has tau 0 or infinity).
template <Scalar S>
Vector<double> time_constants(NeuronParameter<S>& p, double dt) {
  p.refresh();
  const auto& d = p.values();
  Vector<double> tau(d.size());
  for (Index i = 0; i < d.size(); ++i) {
    const double v = std::clamp(double(d[i]), 1e-300, 1.0 - 1e-16);
    tau[i] = -dt / std::log(v);
  }
  return tau;
}

/// Calls f(param, layer_index) for the membrane decay of every spiking neuron layer of `net`
/// (SpikingNeuronLayer), in order.
template <class Net, class F>
void for_each_spiking_decay(Net& net, F&& f) {
  net.for_each_layer([&](auto& l, std::size_t i) {
    if constexpr (SpikingNeuronLayer<std::remove_cvref_t<decltype(l)>>) f(l.beta(), i);
  });
}

/// Mean membrane time constant (seconds, with step dt) of every spiking neuron layer of `net`.
template <class Net>
std::vector<double> mean_time_constants(Net& net, double dt) {
  std::vector<double> r;
  for_each_spiking_decay(net, [&](auto& p, std::size_t) { r.push_back(time_constants(p, dt).mean()); });
  return r;
}

/// Fraction of the neurons of every spiking neuron layer of `net` whose membrane decay is held
/// at a limit (NeuronParameter::neurons_at_limit: at or beyond the forward clip, or on a
/// projection bound without one).
template <class Net>
std::vector<double> decay_limit_fractions(Net& net) {
  std::vector<double> r;
  for_each_spiking_decay(net, [&](auto& p, std::size_t) {
    p.refresh();
    r.push_back(p.neurons() > 0 ? double(p.neurons_at_limit()) / double(p.neurons()) : 0.0);
  });
  return r;
}

/// Mean threshold of every spiking neuron layer of `net`.
template <class Net>
std::vector<double> mean_thresholds(Net& net) {
  std::vector<double> r;
  net.for_each_layer([&](auto& l, std::size_t) {
    if constexpr (SpikingNeuronLayer<std::remove_cvref_t<decltype(l)>>) {
      l.threshold().refresh();
      r.push_back(double(l.threshold().values().mean()));
    }
  });
  return r;
}

}  // namespace spikelab

#endif
