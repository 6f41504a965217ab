/**
 * @file plot/membrane.hpp
 * @brief Membrane traces: record_membrane runs a neuron layer step by step on its input and
 *        keeps the membrane potential and the output of every step; membrane_traces draws the
 *        potential of chosen neurons over time, one panel per neuron, with the threshold and
 *        the spikes; neuron_traces does both for a spiking layer, reading its thresholds.
 *
 * A layer's sequence forward pass does not keep the membrane (backpropagation recomputes
 * it); stepping the layer through its explicit State (NeuronModel, neurons/concepts.hpp) from
 * the zero state reproduces the forward pass and exposes `State::v` at every step. The input
 * is what the layer received, e.g. `net.activation(i - 1)` after `net.forward(x)` for layer i.
 *
 * record_membrane needs a neuron model whose State holds its membrane as `v` (neurons x batch):
 * LIF layers, the leaky-integrator readout, the refractory LIF, the NA-LIF neuron.
 *
 * In the image, neuron k's potential v(n_k, b, t) is a `<polyline>` in `<g class="traces">`,
 * its threshold a dashed `<line>` in `<g class="thresholds">`, and each step where its output is
 * nonzero a `<line>` in `<g class="spikes">`. TraceOptions::overlay draws all neurons in one
 * panel, to compare them (the potentials of a readout, whose largest sum is the decision). With a
 * reset by subtraction the potential drawn at a spike's step is the one that crossed the
 * threshold (the reset acts on the next step).
 *
 * @code
 * net.forward(batch.input);
 * auto& lif = net.layer<1>();
 * plot::neuron_traces(lif, net.activation(0), plot::most_active_neurons(net.activation(1), 4)).save("v.svg");
 * @endcode
 */
#ifndef SPIKELAB_PLOT_MEMBRANE_HPP
#define SPIKELAB_PLOT_MEMBRANE_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/neurons/concepts.hpp>
#include <spikelab/plot/raster.hpp>
#include <spikelab/plot/svg.hpp>
#include <spikelab/training/concepts.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace spikelab::plot {

/// What record_membrane returns: the potential and the output of every step.
/// @tparam S the scalar type (float or double)
template <Scalar S>
struct NeuronRecording {
  TimeSeries<S> membrane;  ///< v after each step (neurons x batch*T)
  TimeSeries<S> output;    ///< the layer's output of each step (its spikes)
};

/// Runs `neuron` from its zero state over every step of `input` (the layer's input,
/// neurons x batch*T) and records the membrane potential and the output of each step.
template <NeuronModel N>
  requires requires(const typename N::State& st) {
    { st.v } -> std::convertible_to<const Matrix<typename N::scalar_type>&>;
  }
NeuronRecording<typename N::scalar_type> record_membrane(N& neuron, const TimeSeries<typename N::scalar_type>& input) {
  using S = typename N::scalar_type;
  if (input.features() != neuron.input_size())
    throw ShapeError("record_membrane: the input has " + std::to_string(input.features()) + " features, the layer " +
                     neuron.signature() + " has " + std::to_string(neuron.input_size()) + " inputs");
  NeuronRecording<S> r{TimeSeries<S>(neuron.output_size(), input.batch(), input.steps()),
                       TimeSeries<S>(neuron.output_size(), input.batch(), input.steps())};
  auto st = neuron.make_state(input.batch());
  for (Index t = 0; t < input.steps(); ++t) {
    neuron.step(st, input.slot(t));
    r.membrane.slot(t) = st.v;
    r.output.slot(t) = neuron.output(st);
  }
  return r;
}

/// Options of membrane_traces.
struct TraceOptions {
  Index sample = 0;                   ///< the sample of the batch to show
  std::vector<double> thresholds{};   ///< one per neuron of the layer, or one for all; empty: none drawn
  std::string title = "Membrane potential";  ///< the title
  std::string subtitle{};             ///< empty: the sample and the neurons
  std::string time_label = "time step";  ///< the label of the time axis
  double dt = 1.0;                    ///< length of a step in the unit of the time axis
  bool overlay = false;               ///< all neurons in one panel, to compare them (a readout's potentials)
  int width = 720;  ///< the image width in pixels
  int height = 0;                     ///< 0: 110 pixels per panel (overlay: 300) and the margins
};

/// Traces of `neurons` (indices into the layer) of sample `o.sample` of `membrane`, one panel
/// per neuron (or all in one, o.overlay); with `spikes` (the layer's output, same shape), a tick
/// at each step with a nonzero output. Throws ShapeError for an empty series, a sample or neuron
/// out of range, a `spikes` of another shape, or a threshold list of another length than 1 or
/// the layer's size.
template <Scalar S>
Svg membrane_traces(const TimeSeries<S>& membrane, const std::vector<Index>& neurons, const TraceOptions& o = {},
                    const TimeSeries<S>* spikes = nullptr) {
  detail::check_sample(membrane, o.sample, "membrane_traces");
  detail::check_neurons(neurons, membrane.features(), "membrane_traces");
  if (neurons.empty()) throw ShapeError("membrane_traces: no neurons chosen");
  if (spikes && !spikes->same_shape(membrane))
    throw ShapeError("membrane_traces: spikes " + spikes->shape_string() + " and membrane " + membrane.shape_string() +
                     " differ in shape");
  const auto n_th = Index(o.thresholds.size());
  if (n_th != 0 && n_th != 1 && n_th != membrane.features())
    throw ShapeError("membrane_traces: " + std::to_string(n_th) + " thresholds for a layer of " +
                     std::to_string(membrane.features()) + " neurons (give 1 or one per neuron)");
  if (!(o.dt > 0)) throw ConfigError("membrane_traces: dt must be positive");
  auto threshold = [&](Index i) {
    return n_th == 0 ? std::numeric_limits<double>::quiet_NaN() : o.thresholds[std::size_t(n_th == 1 ? 0 : i)];
  };
  const Index T = membrane.steps(), K = Index(neurons.size()), panels = o.overlay ? 1 : K;
  const double top = 52, bottom = 50, legend = o.overlay ? 100 : 0;
  const int height = o.height > 0 ? o.height : int(top + bottom + (o.overlay ? 300.0 : 110.0 * double(K)));
  std::string subtitle = o.subtitle;
  if (subtitle.empty()) {
    std::ostringstream s;
    s << "sample " << o.sample << ", " << K << (K == 1 ? " neuron" : " neurons") << " of " << membrane.features()
      << (n_th ? "; dashed: threshold" : "") << (spikes ? "; ticks: spikes" : "");
    subtitle = s.str();
  }
  std::ostringstream os;
  detail::prepare(os);
  detail::begin_svg(os, o.width, height, o.title, subtitle);
  const double ph = (double(height) - top - bottom) / double(panels);
  std::ostringstream traces, thresholds, ticks;
  detail::prepare(traces);
  detail::prepare(thresholds);
  detail::prepare(ticks);
  for (Index p = 0; p < panels; ++p) {
    // the neurons of this panel: one, or all of them
    const Index first = o.overlay ? 0 : p, last = o.overlay ? K : p + 1;
    double lo = 0, hi = 0;
    for (Index k = first; k < last; ++k) {
      const Index i = neurons[std::size_t(k)];
      for (Index t = 0; t < T; ++t) {
        const double v = double(membrane(i, o.sample, t));
        if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
      }
      const double th = threshold(i);
      if (std::isfinite(th)) lo = std::min(lo, th), hi = std::max(hi, th);
    }
    if (hi - lo < 1e-12) hi = lo + 1;
    const double pad = 0.08 * (hi - lo);
    detail::Axes a;
    a.area = {70.0, top + double(p) * ph + 6, std::max(o.width - 90.0 - legend, 10.0), std::max(ph - 12, 10.0)};
    a.xlo = -0.5 * o.dt, a.xhi = (double(T) - 0.5) * o.dt, a.ylo = lo - pad, a.yhi = hi + pad;
    detail::AxesStyle st;
    st.x_ticks = p == panels - 1;
    st.x_min_step = o.dt;
    st.y_tick_target = o.overlay ? 6 : 3;
    detail::draw_axes(os, a, p == panels - 1 ? o.time_label : "", "", st);
    for (Index k = first; k < last; ++k) {
      const Index i = neurons[std::size_t(k)];
      const std::string c = palette(std::size_t(k));
      if (o.overlay)
        os << "<line x1=\"" << a.area.left + a.area.width + 12 << "\" y1=\"" << a.area.top + 10 + 16.0 * double(k)
           << "\" x2=\"" << a.area.left + a.area.width + 30 << "\" y2=\"" << a.area.top + 10 + 16.0 * double(k)
           << "\" stroke=\"" << c << "\" stroke-width=\"2\"/>\n<text x=\"" << a.area.left + a.area.width + 36
           << "\" y=\"" << a.area.top + 14 + 16.0 * double(k) << "\" font-size=\"11\">neuron " << i << "</text>\n";
      else
        os << "<text x=\"" << a.area.left + 6 << "\" y=\"" << a.area.top + 13 << "\" font-size=\"11\" fill=\"#333\">neuron "
           << i << "</text>\n";
      traces << "<polyline fill=\"none\" stroke=\"" << c << "\" stroke-width=\"1.8\" points=\"";
      for (Index t = 0; t < T; ++t) {
        const double v = double(membrane(i, o.sample, t));
        if (std::isfinite(v)) traces << a.x(double(t) * o.dt) << ',' << a.y(v) << ' ';
      }
      traces << "\"/>\n";
      const double th = threshold(i);
      if (std::isfinite(th))
        thresholds << "<line x1=\"" << a.area.left << "\" y1=\"" << a.y(th) << "\" x2=\"" << a.area.left + a.area.width
                   << "\" y2=\"" << a.y(th) << "\" stroke=\"" << (o.overlay ? c : std::string("#555"))
                   << "\" stroke-dasharray=\"5,4\"/>\n";
      if (spikes)
        for (Index t = 0; t < T; ++t)
          if ((*spikes)(i, o.sample, t) != S(0))
            ticks << "<line x1=\"" << a.x(double(t) * o.dt) << "\" y1=\"" << a.area.top << "\" x2=\""
                  << a.x(double(t) * o.dt) << "\" y2=\"" << a.area.top + 8 << "\" stroke=\"" << c
                  << "\" stroke-width=\"2\"/>\n";
    }
  }
  os << "<text transform=\"translate(22," << top + (double(height) - top - bottom) / 2
     << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">membrane potential</text>\n";
  os << "<g class=\"thresholds\">\n" << thresholds.str() << "</g>\n";
  os << "<g class=\"traces\">\n" << traces.str() << "</g>\n";
  os << "<g class=\"spikes\">\n" << ticks.str() << "</g>\n";
  detail::end_svg(os);
  return Svg(os.str());
}

/// Records `neuron` on `input` (record_membrane) and draws the traces of `neurons` with the
/// layer's thresholds (`neuron.threshold().values()`, when it has one) and, for a layer whose
/// output is spikes (EmitsSpikes), its spikes.
template <NeuronModel N>
Svg neuron_traces(N& neuron, const TimeSeries<typename N::scalar_type>& input, const std::vector<Index>& neurons,
                  TraceOptions o = {}) {
  const auto rec = record_membrane(neuron, input);
  if constexpr (requires { neuron.threshold().values(); }) {
    if (o.thresholds.empty()) {
      const auto& th = neuron.threshold().values();
      o.thresholds.assign(th.data(), th.data() + th.size());
    }
  }
  if constexpr (EmitsSpikes<N>)
    return membrane_traces(rec.membrane, neurons, o, &rec.output);
  else
    return membrane_traces(rec.membrane, neurons, o);
}

}  // namespace spikelab::plot

#endif
