/**
 * @file plot/raster.hpp
 * @brief spike_raster: the spikes of one sample of a layer's output, neuron against time step,
 *        as an SVG image; most_active_neurons picks the rows worth showing in a large layer.
 *
 * The input is a layer's output over a batch (a TimeSeries, neurons x batch*T), e.g.
 * `net.activation(i)` after `net.forward(x)`. Each nonzero value s(n, b, t) of the chosen
 * sample b is one mark, a `<rect>` in the group `<g class="spikes">`, in row n and column t;
 * row 0 is at the bottom. Step t is drawn at time t·dt (`dt` sets the unit of the axis).
 *
 * @code
 * net.forward(batch.input);
 * plot::spike_raster(net.activation(1), {.sample = 0, .title = "hidden layer"}).save("raster.svg");
 * @endcode
 */
#ifndef SPIKELAB_PLOT_RASTER_HPP
#define SPIKELAB_PLOT_RASTER_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/plot/svg.hpp>

#include <algorithm>
#include <numeric>
#include <sstream>
#include <string>
#include <vector>

namespace spikelab::plot {

/// Options of spike_raster.
struct RasterOptions {
  Index sample = 0;                   ///< the sample of the batch to show
  std::vector<Index> neurons{};         ///< the rows, bottom to top; empty: every neuron in order
  std::string title = "Spike raster";  ///< the title
  std::string subtitle{};               ///< empty: the sample, sizes and spike count
  std::string time_label = "time step";  ///< the label of the time axis
  double dt = 1.0;                    ///< length of a step in the unit of the time axis
  int width = 720;  ///< the image width in pixels
  int height = 460;  ///< the image height in pixels
};

namespace detail {
template <Scalar S>
void check_sample(const TimeSeries<S>& ts, Index sample, const char* who) {
  if (ts.steps() == 0 || ts.batch() == 0 || ts.features() == 0)
    throw ShapeError(std::string(who) + ": the series is empty " + ts.shape_string());
  if (sample < 0 || sample >= ts.batch())
    throw ShapeError(std::string(who) + ": sample " + std::to_string(sample) + " outside the batch of " +
                     std::to_string(ts.batch()));
}
inline void check_neurons(const std::vector<Index>& neurons, Index n, const char* who) {
  for (Index i : neurons)
    if (i < 0 || i >= n)
      throw ShapeError(std::string(who) + ": neuron " + std::to_string(i) + " outside the layer's " +
                       std::to_string(n) + " neurons");
}
}  // namespace detail

/// The `k` neurons with the most spikes (nonzero outputs) in sample `sample`, in increasing
/// index order; ties go to the lower index. All neurons when k >= the layer's size.
template <Scalar S>
std::vector<Index> most_active_neurons(const TimeSeries<S>& spikes, Index k, Index sample = 0) {
  detail::check_sample(spikes, sample, "most_active_neurons");
  const Index n = spikes.features();
  std::vector<Index> count(static_cast<std::size_t>(n), 0), order(static_cast<std::size_t>(n));
  for (Index t = 0; t < spikes.steps(); ++t)
    for (Index i = 0; i < n; ++i)
      if (spikes(i, sample, t) != S(0)) ++count[std::size_t(i)];
  std::iota(order.begin(), order.end(), Index(0));
  std::stable_sort(order.begin(), order.end(),
                   [&](Index a, Index b) { return count[std::size_t(a)] > count[std::size_t(b)]; });
  order.resize(std::size_t(std::clamp<Index>(k, 0, n)));
  std::sort(order.begin(), order.end());
  return order;
}

/// The raster of sample `o.sample` of `spikes` (neurons x batch*T): one `<rect>` per nonzero
/// value in `<g class="spikes">`. Throws ShapeError for an empty series, a sample outside the
/// batch or a neuron outside the layer.
template <Scalar S>
Svg spike_raster(const TimeSeries<S>& spikes, const RasterOptions& o = {}) {
  detail::check_sample(spikes, o.sample, "spike_raster");
  detail::check_neurons(o.neurons, spikes.features(), "spike_raster");
  if (!(o.dt > 0)) throw ConfigError("spike_raster: dt must be positive");
  std::vector<Index> rows = o.neurons;
  if (rows.empty()) {
    rows.resize(std::size_t(spikes.features()));
    std::iota(rows.begin(), rows.end(), Index(0));
  }
  const Index T = spikes.steps(), R = Index(rows.size());
  Index total = 0;
  for (Index r = 0; r < R; ++r)
    for (Index t = 0; t < T; ++t) total += spikes(rows[std::size_t(r)], o.sample, t) != S(0);
  std::string subtitle = o.subtitle;
  if (subtitle.empty()) {
    std::ostringstream s;
    s << "sample " << o.sample << ": ";
    if (o.neurons.empty()) s << R << " neurons";
    else s << R << " of " << spikes.features() << " neurons";
    s << ", " << T
      << " steps, " << total << " spikes (" << number_label(double(total) / double(R * T)) << " per neuron and step)";
    subtitle = s.str();
  }
  std::ostringstream os;
  detail::prepare(os);
  detail::begin_svg(os, o.width, o.height, o.title, subtitle);
  detail::Axes a;
  const bool labelled_rows = !o.neurons.empty() && R <= 40;
  a.area = {labelled_rows ? 80.0 : 70.0, 52.0, std::max(o.width - 90.0, 10.0), std::max(o.height - 52.0 - 50.0, 10.0)};
  a.xlo = -0.5 * o.dt, a.xhi = (double(T) - 0.5) * o.dt, a.ylo = 0, a.yhi = double(R);
  detail::AxesStyle st;
  st.y_ticks = o.neurons.empty();
  st.y_grid = false;
  st.x_min_step = o.dt;
  detail::draw_axes(os, a, o.time_label, o.neurons.empty() ? "neuron" : "neuron (selected)", st);
  if (labelled_rows)
    for (Index r = 0; r < R; ++r)
      os << "<text x=\"" << a.area.left - 6 << "\" y=\"" << a.y(double(r) + 0.5) + 4
         << "\" text-anchor=\"end\" font-size=\"10\">" << rows[std::size_t(r)] << "</text>\n";
  const double col = a.area.width / double(T), row = a.area.height / double(R);
  const double w = std::max(1.0, std::min(0.6 * col, 4.0)), h = std::max(0.4, 0.85 * row);
  os << "<g class=\"spikes\" fill=\"#111\">\n";
  for (Index r = 0; r < R; ++r)
    for (Index t = 0; t < T; ++t)
      if (spikes(rows[std::size_t(r)], o.sample, t) != S(0))
        os << "<rect x=\"" << a.x(double(t) * o.dt) - w / 2 << "\" y=\"" << a.y(double(r) + 0.5) - h / 2
           << "\" width=\"" << w << "\" height=\"" << h << "\"/>\n";
  os << "</g>\n";
  detail::end_svg(os);
  return Svg(os.str());
}

}  // namespace spikelab::plot

#endif
