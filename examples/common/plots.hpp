// The plots of a training run, for the example trainers (not part of the library; built on
// spikelab::plot, include/spikelab/plot/): the training curves from the run's CSV log, and with
// --plots DIR, for one test sample, the input frames, the spike raster of every spiking layer, the
// membrane traces of its most active neurons and the readout's potentials, and the confusion
// matrix over the test set. A trainer adopts them with two calls:
//
//   const auto log = spikelab_examples::training_log_path(o.csv, o.plots, o.checkpoint);  // CsvLogger(log)
//   ... trainer.fit(train, test, epochs, ..., sl::CsvLogger(log)) ...
//   spikelab_examples::write_run_plots(std::cout, o.plots, log, o.checkpoint, net, test_src, {.sensor = ...});
#ifndef SPIKELAB_EXAMPLES_COMMON_PLOTS_HPP
#define SPIKELAB_EXAMPLES_COMMON_PLOTS_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/data/event.hpp>
#include <spikelab/metrics/confusion.hpp>
#include <spikelab/plot/plot.hpp>
#include <spikelab/training/concepts.hpp>

#include <filesystem>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace spikelab_examples {

namespace fs = std::filesystem;

/// What write_activity_plots draws.
struct PlotOptions {
  spikelab::Index sample = 0;             ///< the sample of the first test batch
  spikelab::Index traces = 4;             ///< neurons per membrane plot (the most active ones)
  spikelab::Index raster_neurons = 512;   ///< larger layers show their most active neurons only
  std::optional<spikelab::SensorSize> sensor{};  ///< the input's frame geometry, for input.svg
  std::vector<std::string> class_names{};   ///< for the confusion matrix (empty: 0, 1, ...)
};

/// Where a trainer's CSV log goes: --csv FILE if given, else DIR/training_log.csv with --plots
/// DIR, else beside the checkpoint (<checkpoint>.csv).
inline fs::path training_log_path(const std::string& csv, const std::string& plots_dir, const std::string& checkpoint) {
  if (!csv.empty()) return csv;
  if (!plots_dir.empty()) {
    fs::create_directories(plots_dir);
    return fs::path(plots_dir) / "training_log.csv";
  }
  return fs::path(checkpoint).replace_extension(".csv");
}

/// The training curves of the CSV log `log` as `svg`.
inline void write_training_curves(const fs::path& log, const fs::path& svg, const std::string& title) {
  spikelab::plot::training_curves(spikelab::plot::read_training_log(log), {.title = title}).save(svg);
}

/// For sample `o.sample` of the first batch of `test` (after a forward pass of the network in
/// inference mode), writes to `dir`: input.svg (when o.sensor gives the input's geometry);
/// raster_layer<i>.svg for every spiking layer i, and membrane_layer<i>.svg with its `o.traces`
/// most active neurons when the layer has a membrane state; readout.svg with the last layer's
/// potentials when it is a non-spiking neuron layer with at most 20 outputs; and confusion.svg
/// over the whole test source when its batches carry one label per sample (prediction: the arg
/// max of the output summed over time). Returns the files written.
template <class Net, class Source>
std::vector<fs::path> write_activity_plots(const fs::path& dir, Net& net, Source& test, const PlotOptions& o = {}) {
  namespace sl = spikelab;
  namespace plot = spikelab::plot;
  using S = typename Net::scalar_type;
  fs::create_directories(dir);
  std::vector<fs::path> written;
  auto save = [&](const plot::Svg& svg, const std::string& name) {
    svg.save(dir / name);
    written.push_back(dir / name);
  };
  sl::Batch<S> batch;
  test.start_epoch(0);
  if (!test.next(batch)) throw std::runtime_error("write_activity_plots: the test source gives no batch");
  const sl::Index b = o.sample;
  if (b < 0 || b >= batch.batch())
    throw std::invalid_argument("write_activity_plots: sample " + std::to_string(b) + " outside the first test batch of " +
                                std::to_string(batch.batch()));
  net.forward(batch.input, sl::ForwardContext::eval());
  const std::string label = batch.labels.empty() ? "" : ", label " + std::to_string(batch.labels[std::size_t(b)]);
  if (o.sensor)
    save(plot::frame_image(batch.input, *o.sensor, b, {.title = "Input of test sample " + std::to_string(b) + label}),
         "input.svg");
  net.for_each_layer([&](auto& layer, std::size_t i) {
    using L = std::remove_cvref_t<decltype(layer)>;
    const sl::TimeSeries<S>& in = i == 0 ? batch.input : net.activation(i - 1);
    const sl::TimeSeries<S>& out = net.activation(i);
    const std::string where = "layer " + std::to_string(i) + " (" + L::name() + ", " +
                              std::to_string(out.features()) + " neurons), test sample " + std::to_string(b) + label;
    constexpr bool has_membrane = requires { plot::record_membrane(layer, in); };
    if constexpr (sl::EmitsSpikes<L>) {
      plot::RasterOptions ro{.sample = b, .title = "Spikes of " + where};
      if (out.features() > o.raster_neurons) ro.neurons = plot::most_active_neurons(out, o.raster_neurons, b);
      save(plot::spike_raster(out, ro), "raster_layer" + std::to_string(i) + ".svg");
      if constexpr (has_membrane)
        save(plot::neuron_traces(layer, in, plot::most_active_neurons(out, o.traces, b),
                                 {.sample = b, .title = "Membrane potential of " + where}),
             "membrane_layer" + std::to_string(i) + ".svg");
    } else if constexpr (has_membrane) {
      if (i + 1 == Net::size && out.features() <= 20) {
        std::vector<sl::Index> all(std::size_t(out.features()));
        for (std::size_t k = 0; k < all.size(); ++k) all[k] = sl::Index(k);
        save(plot::neuron_traces(layer, in, all, {.sample = b, .title = "Readout potentials, " + where, .overlay = true}),
             "readout.svg");
      }
    }
  });
  if (!batch.labels.empty()) {
    sl::ConfusionMatrix m(net.output_size());
    test.start_epoch(0);
    sl::Matrix<S> scores;
    while (test.next(batch)) {
      const sl::TimeSeries<S>& y = net.forward(batch.input, sl::ForwardContext::eval());
      scores.setZero(y.features(), y.batch());
      for (sl::Index t = 0; t < y.steps(); ++t) scores += y.slot(t);
      m.add_scores(scores, batch.labels);
    }
    save(plot::confusion_matrix(m, {.title = "Confusion matrix of the test set", .class_names = o.class_names}),
         "confusion.svg");
  }
  return written;
}

/// What a trainer writes after training: the training curves of `log` (to DIR/training_curves.svg
/// with --plots DIR, else beside the checkpoint as <checkpoint>-curves.svg), and with --plots DIR
/// the activity plots of write_activity_plots. Says on `out` where they went.
template <class Net, class Source>
void write_run_plots(std::ostream& out, const std::string& plots_dir, const fs::path& log, const std::string& checkpoint,
                     const std::string& title, Net& net, Source& test, const PlotOptions& o = {}) {
  const fs::path curves = plots_dir.empty()
                              ? fs::path(checkpoint).replace_extension("").concat("-curves.svg")
                              : fs::path(plots_dir) / "training_curves.svg";
  write_training_curves(log, curves, title);
  out << "training curves written to: " << fs::absolute(curves).string() << "\n";
  if (plots_dir.empty()) return;
  const auto files = write_activity_plots(plots_dir, net, test, o);
  out << "plots written to " << fs::absolute(plots_dir).string() << ":";
  for (const auto& f : files) out << ' ' << f.filename().string();
  out << "\n";
}

}  // namespace spikelab_examples

#endif
