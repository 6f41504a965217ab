/**
 * @file training/callbacks.hpp
 * @brief Ready-made trainer callbacks: ProgressPrinter (one updating line with loss,
 *        accuracy, throughput and ETA, to a stream the caller chooses), EarlyStopping,
 *        CsvLogger and TimeLimit (CheckpointEvery lives with the checkpoints, io/checkpoint.hpp).
 */
#ifndef SPIKELAB_TRAINING_CALLBACKS_HPP
#define SPIKELAB_TRAINING_CALLBACKS_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/training/hooks.hpp>

#include <chrono>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <system_error>

namespace spikelab {

namespace detail {
inline std::string format_seconds(double s) {
  if (!std::isfinite(s) || s < 0) s = 0;
  const long t = long(s + 0.5);
  std::ostringstream os;
  os << std::setfill('0');
  if (t >= 3600) os << t / 3600 << ':' << std::setw(2) << (t / 60) % 60 << ':' << std::setw(2) << t % 60;
  else os << t / 60 << ':' << std::setw(2) << t % 60;
  return os.str();
}
inline std::string fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}
}  // namespace detail

/// Prints training progress to `os`: an updating line per epoch
/// ("epoch 2/5 [=====>    ] 120/469 loss 0.4231 acc 86.1% 1.5k samples/s ETA 0:32"),
/// then a summary line at the end of the epoch with validation figures.
class ProgressPrinter {
 public:
  explicit ProgressPrinter(std::ostream& os, double refresh_seconds = 0.25, bool carriage_return = true)
      : os_(&os), refresh_(refresh_seconds), cr_(carriage_return) {}

  void on_epoch_begin(const TrainInfo&) { last_ = -1e9; }
  void on_batch_end(const TrainInfo& i) {
    if (i.epoch_seconds - last_ < refresh_ && i.batch != i.batches) return;
    last_ = i.epoch_seconds;
    if (!cr_) return;
    *os_ << '\r' << line(i) << std::flush;
  }
  void on_epoch_end(const TrainInfo& i) {
    std::string s = line(i);
    s += " | " + detail::format_seconds(i.epoch_seconds);
    if (i.has_validation)
      s += " | val loss " + detail::fixed(i.val_loss, 4) + " acc " + detail::fixed(100.0 * i.val_accuracy, 2) + "%";
    *os_ << (cr_ ? "\r" : "") << s << "\n" << std::flush;
  }

 private:
  std::string line(const TrainInfo& i) const {
    const int width = 20;
    const double frac = i.batches > 0 ? double(i.batch) / double(i.batches) : 0.0;
    const int fill = int(frac * width);
    std::string bar(std::size_t(width), ' ');
    for (int k = 0; k < fill && k < width; ++k) bar[std::size_t(k)] = '=';
    if (fill < width) bar[std::size_t(fill)] = '>';
    const double rate = i.epoch_seconds > 0 ? double(i.samples) / i.epoch_seconds : 0.0;
    const double eta = frac > 0 ? i.epoch_seconds * (1.0 - frac) / frac : 0.0;
    std::string r = "epoch " + std::to_string(i.epoch) + "/" + std::to_string(i.epochs) + " [" + bar + "] " +
                    std::to_string(i.batch) + "/" + std::to_string(i.batches) + " loss " + detail::fixed(i.loss, 4) +
                    " acc " + detail::fixed(100.0 * i.accuracy, 2) + "% " +
                    (rate >= 1000 ? detail::fixed(rate / 1000.0, 1) + "k" : detail::fixed(rate, 0)) + " samples/s";
    if (i.batch < i.batches) r += " ETA " + detail::format_seconds(eta);
    return r;
  }
  std::ostream* os_;
  double refresh_;
  bool cr_;
  double last_ = -1e9;
};

/// Stops when the monitored validation figure has not improved by `min_delta` for
/// `patience` epochs (validation accuracy by default; training loss if no validation).
class EarlyStopping {
 public:
  enum class Monitor { val_accuracy, val_loss, train_loss };
  explicit EarlyStopping(int patience = 5, double min_delta = 0.0, Monitor monitor = Monitor::val_accuracy)
      : patience_(patience), min_delta_(min_delta), monitor_(monitor) {}
  bool on_epoch_end(const TrainInfo& i) {
    double v = 0;
    bool higher_better = false;
    switch (monitor_) {
      case Monitor::val_accuracy:
        if (!i.has_validation) return false;
        v = i.val_accuracy, higher_better = true;
        break;
      case Monitor::val_loss:
        if (!i.has_validation) return false;
        v = i.val_loss;
        break;
      case Monitor::train_loss: v = i.loss; break;
    }
    const bool better = !seen_ || (higher_better ? v > best_ + min_delta_ : v < best_ - min_delta_);
    if (better) {
      best_ = v;
      seen_ = true;
      wait_ = 0;
      best_epoch_ = i.epoch;
      return false;
    }
    return ++wait_ >= patience_;
  }
  int best_epoch() const noexcept { return best_epoch_; }
  double best() const noexcept { return best_; }

 private:
  int patience_;
  double min_delta_;
  Monitor monitor_;
  bool seen_ = false;
  double best_ = 0;
  int wait_ = 0, best_epoch_ = 0;
};

/// Appends one CSV row per epoch: epoch, train_loss, train_accuracy, val_loss,
/// val_accuracy, lr, epoch_seconds. A fit starts the file anew, except a resumed fit
/// (TrainInfo::resumed), which appends to an existing file.
class CsvLogger {
 public:
  explicit CsvLogger(std::filesystem::path path) : path_(std::move(path)) {}
  void on_train_begin(const TrainInfo& i) {
    std::error_code ec;
    if (i.resumed && std::filesystem::file_size(path_, ec) > 0 && !ec) return;
    std::ofstream os(path_, std::ios::trunc);
    if (!os) throw FileError(path_.string(), -1, "cannot open the metrics log for writing");
    os << "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,epoch_seconds\n";
  }
  void on_epoch_end(const TrainInfo& i) {
    std::ofstream os(path_, std::ios::app);
    if (!os) throw FileError(path_.string(), -1, "cannot append to the metrics log");
    os << i.epoch << ',' << i.loss << ',' << i.accuracy << ',';
    if (i.has_validation) os << i.val_loss << ',' << i.val_accuracy;
    else os << ',';
    os << ',' << i.lr << ',' << i.epoch_seconds << '\n';
  }

 private:
  std::filesystem::path path_;
};

/// Stops training once `seconds` of wall time have passed (checked after every batch).
class TimeLimit {
 public:
  explicit TimeLimit(double seconds) : limit_(seconds) {}
  bool on_batch_end(const TrainInfo& i) {
    hit_ = limit_ > 0 && i.total_seconds >= limit_;
    return hit_;
  }
  bool reached() const noexcept { return hit_; }

 private:
  double limit_;
  bool hit_ = false;
};

}  // namespace spikelab

#endif
