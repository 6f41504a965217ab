/**
 * @file conversion/transfer.hpp
 * @brief to_spiking(): turns a trained soft-LIF rate network into the equivalent spiking LIF
 *        network in one call (Hunsberger & Eliasmith 2015). The result is an ordinary
 *        Sequential of spikelab layers (evaluate, checkpoint, benchmark it like any other).
 *
 * Layer by layer, with the same weights:
 *  - SoftLifRate (Activation<S, SoftLif>, parameters m, tau_ref, tau_RC, a)  ->
 *    SynapticFilter (alpha or exponential, tau_s) followed by RefractoryLif with the same tau_RC,
 *    tau_ref, gain a, bias 1 (J = a x + 1, threshold 1, reset 0) and spike value m / dt, so
 *    the filtered spike train of a neuron firing at r Hz carries m r -- the soft-LIF output;
 *  - Dropout -> removed (inverted dropout is the identity at inference);
 *  - Linear, Conv2d -> copied, with the sparse-path threshold raised to
 *    TransferConfig::sparse_density (their inputs are now spikes);
 *  - any other layer (pooling, Flatten, ...) -> copied unchanged;
 *  - and a final SynapticFilter on the network output (tau_output), the readout to classify from.
 * Each filter is `synapse_stages` (output: `output_stages`) kernels in cascade: 1 by default; 2
 * reproduces the Nengo network of Hunsberger & Eliasmith's evaluation script, which filters a
 * layer's input and the current into its neurons with the same alpha synapse.
 * Any other activation (e.g. Relu) has no LIF counterpart and is rejected at compile time.
 *
 * The filter sits before each neuron layer, i.e. it filters the synaptic current W s + b rather
 * than the spikes s; the two are the same (a linear time-invariant filter commutes with the
 * linear layers in between) except that the bias current also rises with the filter from
 * t = 0. Filtering currents keeps the inputs of Linear/Conv2d sparse spikes, so they run on
 * their sparse paths. The spiking network is run on a static input repeated for T = t_p / dt
 * steps (present_static(), or ImageSource with DirectEncoder), from the zero state for every
 * sample, and classified from its filtered output (SpikingReadout, WindowCrossEntropy).
 *
 * @code
 * Sequential<Conv2d<float>, SoftLifRate<float>, AvgPool2d<float>, Linear<float>, SoftLifRate<float>,
 *            Dropout<float>, Linear<float>> ann{...};            // trained with Bptt<SumCrossEntropy>, T = 1
 * auto snn = to_spiking(ann, {.dt = 0.001, .tau_synapse = 0.005});
 * // Sequential<Conv2d, SynapticFilter, RefractoryLif, AvgPool2d, Linear, SynapticFilter,
 * //            RefractoryLif, Linear, SynapticFilter>
 * @endcode
 *
 * @code
 * @article{hunsberger2015spiking, title={Spiking Deep Networks with LIF Neurons},
 *   author={Hunsberger, Eric and Eliasmith, Chris}, journal={arXiv:1510.08829}, year={2015}}
 * @endcode
 */
#ifndef SPIKELAB_CONVERSION_TRANSFER_HPP
#define SPIKELAB_CONVERSION_TRANSFER_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/layers/activation.hpp>
#include <spikelab/layers/conv2d.hpp>
#include <spikelab/layers/dropout.hpp>
#include <spikelab/layers/linear.hpp>
#include <spikelab/layers/synaptic_filter.hpp>
#include <spikelab/networks/sequential.hpp>
#include <spikelab/conversion/refractory_lif.hpp>
#include <spikelab/conversion/soft_lif.hpp>

#include <cmath>
#include <tuple>
#include <type_traits>
#include <utility>

namespace spikelab {

/// How a rate network is run as a spiking network.
struct TransferConfig {
  double dt = 0.001;                          ///< simulation step (s)
  SynapseKind synapse = SynapseKind::alpha;   ///< synaptic kernel on every connection
  double tau_synapse = 0.005;                 ///< tau_s (s)
  double tau_output = -1.0;                   ///< output filter tau (s); < 0: tau_synapse
  double sparse_density = 0.3;                ///< sparse-path threshold of Linear / Conv2d on spike inputs
  int synapse_stages = 1;  ///< kernels in cascade before each neuron layer (2: Nengo filtering input and current)
  int output_stages = -1;  ///< kernels in cascade on the output; < 0: synapse_stages

  /// Throws ConfigError unless every value is in range.
  void validate() const {
    if (!(dt > 0) || !std::isfinite(dt) || !(tau_synapse >= 0) || !std::isfinite(tau_synapse) ||
        !std::isfinite(tau_output) || !(sparse_density >= 0) || !(sparse_density <= 1))
      throw ConfigError("to_spiking: need dt > 0, tau_synapse >= 0, finite tau_output and sparse_density in [0, 1] (dt=" +
                        std::to_string(dt) + ", tau_synapse=" + std::to_string(tau_synapse) + ")");
    synapse_config().validate();
    output_config().validate();
  }
  /// The synapse of the spiking network.
  SynapticFilterConfig synapse_config() const { return {synapse, tau_synapse, dt, synapse_stages}; }
  /// The synapse in front of the readout (the network's own unless set).
  SynapticFilterConfig output_config() const {
    return {synapse, tau_output < 0 ? tau_synapse : tau_output, dt, output_stages < 0 ? synapse_stages : output_stages};
  }
};

namespace detail {

template <class>
inline constexpr bool no_spiking_counterpart = false;

/// The spiking layers that replace a rate layer L (a tuple; empty = removed). Default: a copy.
template <class L>
struct SpikingCounterpart {
  static std::tuple<L> make(const L& l, const TransferConfig&) { return std::tuple<L>(l); }
};

template <Scalar S>
struct SpikingCounterpart<Linear<S>> {
  static std::tuple<Linear<S>> make(const Linear<S>& l, const TransferConfig& c) {
    Linear<S> copy = l;
    copy.config().sparse_density = c.sparse_density;
    return std::tuple<Linear<S>>(std::move(copy));
  }
};

template <Scalar S>
struct SpikingCounterpart<Conv2d<S>> {
  static std::tuple<Conv2d<S>> make(const Conv2d<S>& l, const TransferConfig& c) {
    Conv2dConfig cfg = l.config();
    cfg.sparse_density = c.sparse_density;
    Rng unused(0);
    Conv2d<S> copy(l.input_shape(), l.output_shape().channels, unused, cfg);
    copy.weight() = l.weight();
    copy.bias() = l.bias();
    return std::tuple<Conv2d<S>>(std::move(copy));
  }
};

template <Scalar S>
struct SpikingCounterpart<Dropout<S>> {
  static std::tuple<> make(const Dropout<S>&, const TransferConfig&) { return {}; }
};

template <Scalar S>
struct SpikingCounterpart<Activation<S, SoftLif>> {
  static std::tuple<SynapticFilter<S>, RefractoryLif<S>> make(const Activation<S, SoftLif>& a, const TransferConfig& c) {
    const SoftLifConfig& p = a.function().config();
    const RefractoryLifConfig lif{.tau_rc = p.tau_rc,
                                  .tau_ref = p.tau_ref,
                                  .dt = c.dt,
                                  .gain = p.gain,
                                  .bias = 1.0,
                                  .amplitude = p.amplitude / c.dt};
    return {SynapticFilter<S>(a.input_size(), c.synapse_config()), RefractoryLif<S>(a.input_size(), lif)};
  }
};

template <Scalar S, class F>
struct SpikingCounterpart<Activation<S, F>> {
  static_assert(no_spiking_counterpart<F>,
                "to_spiking: this activation has no spiking LIF counterpart (only SoftLifRate layers transfer)");
  static std::tuple<> make(const Activation<S, F>&, const TransferConfig&) { return {}; }
};

}  // namespace detail

/// The spiking LIF network equivalent to the soft-LIF rate network `rate` (see the file comment).
template <Layer... Ls>
auto to_spiking(const Sequential<Ls...>& rate, const TransferConfig& cfg = {}) {
  cfg.validate();
  using S = typename Sequential<Ls...>::scalar_type;
  auto parts = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return std::tuple_cat(detail::SpikingCounterpart<Ls>::make(rate.template layer<I>(), cfg)...);
  }(std::make_index_sequence<sizeof...(Ls)>{});
  auto all = std::tuple_cat(std::move(parts),
                            std::tuple<SynapticFilter<S>>(SynapticFilter<S>(rate.output_size(), cfg.output_config())));
  return std::apply([](auto&&... l) { return Sequential<std::remove_cvref_t<decltype(l)>...>(std::move(l)...); },
                    std::move(all));
}

/// The type to_spiking() returns for a rate network type.
template <class RateNet>
using SpikingNetworkOf = decltype(to_spiking(std::declval<const RateNet&>()));

/// Repeats every column of a one-step input x (features x batch, T = 1) for `steps` steps:
/// the static presentation of an image to a spiking network.
template <Scalar S>
void present_static(const TimeSeries<S>& x, Index steps, TimeSeries<S>& out) {
  if (x.steps() != 1) throw ShapeError("present_static: expected a one-step input, got " + x.shape_string());
  if (steps <= 0) throw ConfigError("present_static: steps must be positive");
  out.resize(x.features(), x.batch(), steps);
  for (Index t = 0; t < steps; ++t) out.slot(t) = x.slot(0);
}

}  // namespace spikelab

#endif
