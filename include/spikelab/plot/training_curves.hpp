/**
 * @file plot/training_curves.hpp
 * @brief Training curves from the per-epoch CSV log that CsvLogger writes: read_training_log
 *        reads it into a TrainingLog, training_curves draws loss and accuracy against the
 *        epoch (training and validation) as two panels of one SVG image.
 *
 * The log has the header `epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,epoch_seconds`
 * and one row per epoch; the validation fields are empty for a fit without validation. A fit
 * continued from a training checkpoint appends to the log, and logs again an epoch it was
 * interrupted in: a row whose epoch appeared before replaces that earlier row.
 *
 * @code
 * trainer.fit(train, test, 10, CsvLogger("log.csv"));
 * plot::training_curves(plot::read_training_log("log.csv")).save("curves.svg");
 * @endcode
 */
#ifndef SPIKELAB_PLOT_TRAINING_CURVES_HPP
#define SPIKELAB_PLOT_TRAINING_CURVES_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/plot/line_plot.hpp>
#include <spikelab/plot/svg.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

namespace spikelab::plot {

/// The columns of a CsvLogger log, one entry per epoch (NaN where a field was empty).
struct TrainingLog {
  ///@{
  /// One vector per column of the log, one entry per epoch.
  std::vector<double> epoch{}, train_loss{}, train_accuracy{}, val_loss{}, val_accuracy{}, lr{}, epoch_seconds{};
  ///@}
  /// Epochs in the log.
  std::size_t size() const noexcept { return epoch.size(); }
  /// True when some epoch has a validation accuracy.
  bool has_validation() const {
    return std::any_of(val_accuracy.begin(), val_accuracy.end(), [](double v) { return std::isfinite(v); });
  }
};

namespace detail {
inline double parse_log_field(const std::string& s, const std::string& path, std::int64_t offset) {
  if (s.empty()) return std::numeric_limits<double>::quiet_NaN();
  std::istringstream is(s);
  is.imbue(std::locale::classic());
  double v = 0;
  is >> v;
  if (is.fail() || !is.eof()) {
    // "nan" and "inf" (what a stream writes for them) are values too
    if (s == "nan" || s == "-nan") return std::numeric_limits<double>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<double>::infinity();
    if (s == "-inf") return -std::numeric_limits<double>::infinity();
    throw FormatError(path, offset, "'" + s + "' is not a number");
  }
  return v;
}
}  // namespace detail

/// Reads a CsvLogger log. Throws FileError when the file cannot be opened, and FormatError
/// naming the file and the byte offset of the line for another header, a row with another
/// number of fields, a field that is not a number, or an epoch that is not a positive integer.
inline TrainingLog read_training_log(const std::filesystem::path& path) {
  static const char* header = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,epoch_seconds";
  std::ifstream f(path, std::ios::binary);
  if (!f) throw FileError(path.string(), -1, "cannot open the training log");
  std::string line;
  std::int64_t offset = 0;
  if (!std::getline(f, line)) throw FormatError(path.string(), 0, "empty file (expected the header '" + std::string(header) + "')");
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line != header)
    throw FormatError(path.string(), 0, "not a CsvLogger training log (header '" + line + "', expected '" + header + "')");
  offset += std::int64_t(line.size()) + 1;
  TrainingLog log;
  while (std::getline(f, line)) {
    const std::int64_t here = offset;
    offset += std::int64_t(line.size()) + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::string cell;
    std::istringstream ls(line);
    while (std::getline(ls, cell, ',')) fields.push_back(cell);
    if (line.back() == ',') fields.emplace_back();
    if (fields.size() != 7)
      throw FormatError(path.string(), here,
                        "a row of " + std::to_string(fields.size()) + " fields (the log has 7 columns)");
    std::vector<double> v(7);
    for (std::size_t k = 0; k < 7; ++k) v[k] = detail::parse_log_field(fields[k], path.string(), here);
    if (!(v[0] >= 1) || v[0] != std::floor(v[0]))
      throw FormatError(path.string(), here, "epoch '" + fields[0] + "' is not a positive integer");
    // a continued fit logs again the epoch it was interrupted in: the later row wins
    std::size_t i = 0;
    while (i < log.epoch.size() && log.epoch[i] != v[0]) ++i;
    if (i == log.epoch.size()) {
      for (auto* c : {&log.epoch, &log.train_loss, &log.train_accuracy, &log.val_loss, &log.val_accuracy, &log.lr,
                      &log.epoch_seconds})
        c->push_back(0.0);
    }
    std::size_t k = 0;
    for (auto* c : {&log.epoch, &log.train_loss, &log.train_accuracy, &log.val_loss, &log.val_accuracy, &log.lr,
                    &log.epoch_seconds})
      (*c)[i] = v[k++];
  }
  return log;
}

/// Options of training_curves.
struct CurvesOptions {
  std::string title = "Training curves";  ///< the title
  std::string subtitle{};  ///< a second line under the title (empty: none)
  int width = 960;  ///< the image width in pixels
  int height = 400;  ///< the image height in pixels
};

/// Two panels: the mean training loss of each epoch with the validation loss, and the
/// training and validation accuracy in percent. Each curve is a `<g class="series">` with one
/// `<circle>` per epoch (validation curves only when the log has them).
inline Svg training_curves(const TrainingLog& log, const CurvesOptions& o = {}) {
  if (log.size() == 0) throw ConfigError("training_curves: the training log has no epochs");
  auto percent = [](std::vector<double> v) {
    for (double& x : v) x *= 100.0;
    return v;
  };
  LinePlot loss("", "epoch", "loss"), acc("", "epoch", "accuracy (%)");
  loss.integer_x();
  acc.integer_x();
  loss.line("training", log.epoch, log.train_loss);
  acc.line("training", log.epoch, percent(log.train_accuracy));
  if (log.has_validation()) {
    loss.line("validation", log.epoch, log.val_loss);
    acc.line("validation", log.epoch, percent(log.val_accuracy));
  }
  const auto [lo, hi] = std::minmax_element(log.epoch.begin(), log.epoch.end());
  if (*hi > *lo) {
    loss.x_range(*lo, *hi);
    acc.x_range(*lo, *hi);
  }
  std::ostringstream os;
  detail::prepare(os);
  detail::begin_svg(os, o.width, o.height, o.title, o.subtitle);
  const double top = o.subtitle.empty() ? 36 : 52, w = double(o.width) / 2;
  loss.draw(os, {0, top, w, double(o.height) - top}, "loss");
  acc.draw(os, {w, top, w, double(o.height) - top}, "accuracy");
  detail::end_svg(os);
  return Svg(os.str());
}

}  // namespace spikelab::plot

#endif
