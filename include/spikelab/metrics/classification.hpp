/**
 * @file metrics/classification.hpp
 * @brief ClassificationMeter: accumulates a probabilistic classifier's class probabilities
 *        and the true labels, and reports accuracy, the log-likelihood of the true class, the
 *        Brier score and the calibration (ECE with its reliability diagram); it also averages
 *        the log-likelihood of target output sequences that probabilistic SNNs report.
 *
 * For sample n with class probabilities p_n (summing to 1) and label y_n, the prediction is
 * \f$\hat y_n = \arg\max_c p_{n,c}\f$ (lowest index on ties), its confidence
 * \f$p_{n,\hat y_n}\f$, and
 * \f[ \mathrm{acc} = \frac1N\sum_n [\hat y_n = y_n],\quad
 *     \overline{\log p} = \frac1N\sum_n \log\max(p_{n,y_n}, \epsilon),\quad
 *     \mathrm{Brier} = \frac1N\sum_n\sum_c (p_{n,c} - [c = y_n])^2 \f]
 * and the ECE of the (confidence, correct) pairs (metrics/calibration.hpp).
 */
#ifndef SPIKELAB_METRICS_CLASSIFICATION_HPP
#define SPIKELAB_METRICS_CLASSIFICATION_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/types.hpp>
#include <spikelab/metrics/calibration.hpp>
#include <spikelab/core/tally.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace spikelab {

/// Index of the largest entry (lowest index on ties).
template <class Derived>
Index argmax_first(const Eigen::DenseBase<Derived>& v) {
  Index best = 0;
  for (Index i = 1; i < v.size(); ++i)
    if (v(i) > v(best)) best = i;
  return best;
}

/// Accumulates a probabilistic classifier's class probabilities and true labels and reports
/// accuracy, the log-likelihood of the true class, the Brier score and the calibration.
class ClassificationMeter {
 public:
  /// An empty meter.
  /// @param bins the number of bins of the reliability diagram
  /// @param epsilon the floor of a probability inside a logarithm
  explicit ClassificationMeter(Index bins = 10, double epsilon = 1e-6) : diagram_(bins), eps_(epsilon) {}

  /// One sample: class probabilities (length = classes) and its true label.
  template <class Derived>
  void add(const Eigen::MatrixBase<Derived>& p, int label) {
    const Index classes = p.size();
    if (label < 0 || label >= classes)
      throw ShapeError("ClassificationMeter: label " + std::to_string(label) + " outside " + std::to_string(classes) +
                       " classes");
    double sum = 0;
    for (Index c = 0; c < classes; ++c) {
      const double v = double(p(c));
      if (!(v >= -1e-9 && v <= 1.0 + 1e-9))
        throw ConfigError("ClassificationMeter: class probability " + std::to_string(v) + " outside [0, 1]");
      sum += v;
    }
    if (std::abs(sum - 1.0) > 1e-4)
      throw ConfigError("ClassificationMeter: class probabilities sum to " + std::to_string(sum) + ", not 1");
    const Index yhat = argmax_first(p);
    const bool ok = yhat == label;
    ++tally_.total;
    tally_.correct += ok ? 1 : 0;
    const double conf = std::clamp(double(p(yhat)), 0.0, 1.0);
    diagram_.add(conf, ok);
    log_p_sum_ += std::log(std::max(double(p(label)), eps_));
    for (Index c = 0; c < classes; ++c) {
      const double e = double(p(c)) - (c == label ? 1.0 : 0.0);
      brier_sum_ += e * e;
    }
  }
  /// A batch: probabilities (classes x samples) and one label per sample.
  void add_batch(const Matrix<double>& p, const std::vector<int>& labels) {
    if (Index(labels.size()) != p.cols())
      throw ShapeError("ClassificationMeter: " + std::to_string(labels.size()) + " labels for " +
                       std::to_string(p.cols()) + " samples");
    for (Index n = 0; n < p.cols(); ++n) add(p.col(n), labels[std::size_t(n)]);
  }
  /// Log-likelihood of one sample's target output sequence (e.g. sum over steps and output
  /// neurons of log p(y_t | u_t)); averaged by mean_log_likelihood().
  void add_log_likelihood(double ll) {
    ll_sum_ += ll;
    ++ll_count_;
  }
  /// Adds the counts of `o` (e.g. another thread's or rank's meter).
  void merge(const ClassificationMeter& o) {
    diagram_.merge(o.diagram_);
    tally_ += o.tally_;
    log_p_sum_ += o.log_p_sum_;
    brier_sum_ += o.brier_sum_;
    ll_sum_ += o.ll_sum_;
    ll_count_ += o.ll_count_;
  }

  /// Samples counted.
  Index count() const noexcept { return tally_.total; }
  /// Correct and counted decisions.
  const Tally& tally() const noexcept { return tally_; }
  /// The fraction of samples whose most probable class is the true one.
  double accuracy() const noexcept { return tally_.accuracy(); }
  /// Mean log p(true class); -log of it is the cross-entropy.
  double mean_log_probability() const noexcept { return count() ? log_p_sum_ / double(count()) : 0.0; }
  /// The mean Brier score, the squared distance of p to the one-hot true class.
  double brier() const noexcept { return count() ? brier_sum_ / double(count()) : 0.0; }
  /// The expected calibration error of the reliability diagram.
  double ece() const noexcept { return diagram_.expected_calibration_error(); }
  /// The reliability diagram.
  const ReliabilityDiagram& diagram() const noexcept { return diagram_; }
  /// The mean log-likelihood of the target output sequences added.
  double mean_log_likelihood() const noexcept { return ll_count_ ? ll_sum_ / double(ll_count_) : 0.0; }
  /// The number of sequence log-likelihoods added.
  Index log_likelihood_count() const noexcept { return ll_count_; }

 private:
  ReliabilityDiagram diagram_;
  Tally tally_{};
  double eps_;
  double log_p_sum_ = 0, brier_sum_ = 0, ll_sum_ = 0;
  Index ll_count_ = 0;
};

}  // namespace spikelab

#endif
