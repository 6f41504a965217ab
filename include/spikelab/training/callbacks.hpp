/**
 * @file training/callbacks.hpp
 * @brief Ready-made trainer callbacks: ProgressPrinter (loss, accuracy, throughput and ETA,
 *        to a stream the caller chooses: one line redrawn in place on a terminal, one plain
 *        line per epoch in a file or a pipe), EarlyStopping, CsvLogger and TimeLimit
 *        (CheckpointEvery lives with the checkpoints, io/checkpoint.hpp).
 */
#ifndef SPIKELAB_TRAINING_CALLBACKS_HPP
#define SPIKELAB_TRAINING_CALLBACKS_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/training/hooks.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <ostream>
#include <sstream>
#include <string>
#include <system_error>

#if __has_include(<unistd.h>)
#include <unistd.h>
#elif defined(_WIN32)
#include <io.h>
#include <stdio.h>
#endif

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

/// How ProgressPrinter shows the progress within an epoch.
enum class Redraw : std::uint8_t {
  automatic,  ///< redraw in place when the stream is a terminal, plain lines otherwise
  always,     ///< redraw one line in place (a carriage return) after every refresh
  never       ///< one plain line per epoch (files, pipes, CI logs)
};

namespace detail {
/// True when `os` is std::cout, std::cerr or std::clog and that standard stream is a terminal.
/// Other streams (files, string streams) are never terminals here.
inline bool is_terminal(const std::ostream& os) {
#if __has_include(<unistd.h>)
  if (&os == &std::cout) return ::isatty(STDOUT_FILENO) == 1;
  if (&os == &std::cerr || &os == &std::clog) return ::isatty(STDERR_FILENO) == 1;
#elif defined(_WIN32)
  if (&os == &std::cout) return ::_isatty(::_fileno(stdout)) != 0;
  if (&os == &std::cerr || &os == &std::clog) return ::_isatty(::_fileno(stderr)) != 0;
#else
  (void)os;
#endif
  return false;
}
}  // namespace detail

/// Prints training progress to `os`. On a terminal, a line redrawn in place during the epoch
/// ("epoch 2/5 [=====>    ] 120/469 loss 0.4231 acc 86.1% 1.5k samples/s ETA 0:32"); at the
/// end of each epoch, a line with the epoch's time and validation figures. A stream that is not
/// a terminal (a log file, a pipe, a CI log) gets the end-of-epoch lines only, so that no
/// carriage returns glue lines together; Redraw::always / Redraw::never choose explicitly.
class ProgressPrinter {
 public:
  /// A progress line written to `os`.
  /// @param os the stream (kept by reference)
  /// @param refresh_seconds the least time between two redraws
  /// @param redraw whether the line is redrawn in place
  explicit ProgressPrinter(std::ostream& os, double refresh_seconds = 0.25, Redraw redraw = Redraw::automatic)
      : os_(&os), refresh_(refresh_seconds),
        cr_(redraw == Redraw::always || (redraw == Redraw::automatic && detail::is_terminal(os))) {}
  /// `carriage_return`: Redraw::always when true, Redraw::never when false.
  /// @param os the stream (kept by reference)
  /// @param refresh_seconds the least time between two redraws
  /// @param carriage_return redraw the line in place
  ProgressPrinter(std::ostream& os, double refresh_seconds, bool carriage_return)
      : ProgressPrinter(os, refresh_seconds, carriage_return ? Redraw::always : Redraw::never) {}

  /// True when the line is redrawn in place during an epoch.
  bool redraws() const noexcept { return cr_; }

  /// Trainer hook (see Trainer).
  void on_epoch_begin(const TrainInfo&) { last_ = -1e9; }
  /// Trainer hook (see Trainer).
  void on_batch_end(const TrainInfo& i) {
    if (i.epoch_seconds - last_ < refresh_ && i.batch != i.batches) return;
    last_ = i.epoch_seconds;
    if (!cr_) return;
    *os_ << '\r' << padded(line(i)) << std::flush;
  }
  /// Trainer hook (see Trainer).
  void on_epoch_end(const TrainInfo& i) {
    std::string s = line(i);
    s += " | " + detail::format_seconds(i.epoch_seconds);
    if (i.has_validation)
      s += " | val loss " + detail::fixed(i.val_loss, 4) + " acc " + detail::fixed(100.0 * i.val_accuracy, 2) + "%";
    if (cr_) *os_ << '\r' << padded(s);
    else *os_ << s;
    *os_ << "\n" << std::flush;
    shown_ = 0;
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
  // a redrawn line covers all of the previous one
  std::string padded(std::string s) {
    const std::size_t n = s.size();
    if (n < shown_) s.append(shown_ - n, ' ');
    shown_ = n;
    return s;
  }
  std::ostream* os_;
  double refresh_;
  bool cr_;
  double last_ = -1e9;
  std::size_t shown_ = 0;
};

/// Stops when the monitored validation figure has not improved by `min_delta` for
/// `patience` epochs (validation accuracy by default; training loss if no validation).
class EarlyStopping {
 public:
  /// The figure watched: the validation accuracy (higher is better), or a loss (lower is better).
  enum class Monitor { val_accuracy, val_loss, train_loss };
  /// Stops after `patience` epochs without an improvement larger than `min_delta`.
  /// @param patience epochs without improvement
  /// @param min_delta the smallest change that counts as an improvement
  /// @param monitor the figure watched
  explicit EarlyStopping(int patience = 5, double min_delta = 0.0, Monitor monitor = Monitor::val_accuracy)
      : patience_(patience), min_delta_(min_delta), monitor_(monitor) {}
  /// Trainer hook (see Trainer).
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
  /// The epoch with the best figure.
  int best_epoch() const noexcept { return best_epoch_; }
  /// The best figure.
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
  /// A log written to `path`, one line per epoch.
  /// @param path the CSV file
  explicit CsvLogger(std::filesystem::path path) : path_(std::move(path)) {}
  /// Trainer hook (see Trainer).
  void on_train_begin(const TrainInfo& i) {
    std::error_code ec;
    if (i.resumed && std::filesystem::file_size(path_, ec) > 0 && !ec) return;
    std::ofstream os(path_, std::ios::trunc);
    if (!os) throw FileError(path_.string(), -1, "cannot open the metrics log for writing");
    os << "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,epoch_seconds\n";
  }
  /// Trainer hook (see Trainer).
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
  /// Stops training after `seconds` of wall time.
  /// @param seconds the limit
  explicit TimeLimit(double seconds) : limit_(seconds) {}
  /// Trainer hook (see Trainer).
  bool on_batch_end(const TrainInfo& i) {
    hit_ = limit_ > 0 && i.total_seconds >= limit_;
    return hit_;
  }
  /// True once the limit stopped training.
  bool reached() const noexcept { return hit_; }

 private:
  double limit_;
  bool hit_ = false;
};

}  // namespace spikelab

#endif
