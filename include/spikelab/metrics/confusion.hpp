/**
 * @file metrics/confusion.hpp
 * @brief ConfusionMatrix: counts of (true class, predicted class) pairs, with the accuracy and
 *        the per-class recall and precision they give.
 *
 * For C classes, entry (i, j) counts the samples of true class i predicted as class j:
 * \f[ N_{ij} = \#\{n : y_n = i,\ \hat y_n = j\},\qquad
 *     \mathrm{acc} = \frac{\sum_i N_{ii}}{\sum_{ij} N_{ij}},\quad
 *     \mathrm{recall}_i = \frac{N_{ii}}{\sum_j N_{ij}},\quad
 *     \mathrm{precision}_j = \frac{N_{jj}}{\sum_i N_{ij}} . \f]
 * add_scores() takes a (classes x samples) block of scores (summed readout potentials, spike
 * counts, probabilities) and predicts the arg max of each column, the lowest index on ties.
 */
#ifndef SPIKELAB_METRICS_CONFUSION_HPP
#define SPIKELAB_METRICS_CONFUSION_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/types.hpp>

#include <Eigen/Core>

#include <string>
#include <vector>

namespace spikelab {

/// Counts of (true class, predicted class) pairs, with the accuracy, per-class recall and
/// precision they give.
class ConfusionMatrix {
 public:
  /// A matrix of counts.
  using Counts = Eigen::Matrix<Index, Eigen::Dynamic, Eigen::Dynamic>;

  /// An empty matrix of `classes` x `classes` counts; throws ConfigError for classes < 1.
  /// @param classes the number of classes
  explicit ConfusionMatrix(Index classes) {
    if (classes < 1) throw ConfigError("ConfusionMatrix: " + std::to_string(classes) + " classes (need at least 1)");
    n_ = Counts::Zero(classes, classes);
  }

  /// The number of classes.
  Index classes() const noexcept { return n_.rows(); }
  /// Counts: rows are true classes, columns predicted classes.
  const Counts& counts() const noexcept { return n_; }
  /// Samples of true class `label` predicted as `predicted`.
  Index count(Index label, Index predicted) const { return n_(label, predicted); }

  /// One sample of true class `label` predicted as `predicted`; throws ShapeError for a class
  /// outside [0, classes).
  void add(Index label, Index predicted) {
    check("label", label);
    check("prediction", predicted);
    ++n_(label, predicted);
  }
  /// One sample per column of `scores` (classes x samples), predicted as the column's arg max.
  template <class Derived>
  void add_scores(const Eigen::MatrixBase<Derived>& scores, const std::vector<int>& labels) {
    if (scores.rows() != classes())
      throw ShapeError("ConfusionMatrix: scores of " + std::to_string(scores.rows()) + " classes for a matrix of " +
                       std::to_string(classes()));
    if (Index(labels.size()) != scores.cols())
      throw ShapeError("ConfusionMatrix: " + std::to_string(labels.size()) + " labels for " +
                       std::to_string(scores.cols()) + " score columns");
    for (Index c = 0; c < scores.cols(); ++c) {
      Index best = 0;
      for (Index k = 1; k < scores.rows(); ++k)
        if (scores(k, c) > scores(best, c)) best = k;
      add(labels[std::size_t(c)], best);
    }
  }
  /// Adds the counts of `o` (same number of classes).
  void merge(const ConfusionMatrix& o) {
    if (o.classes() != classes())
      throw ShapeError("ConfusionMatrix::merge: " + std::to_string(o.classes()) + " classes into " +
                       std::to_string(classes()));
    n_ += o.n_;
  }

  /// Samples counted.
  Index total() const { return n_.sum(); }
  /// Samples predicted correctly (the trace).
  Index correct() const { return n_.trace(); }
  /// Fraction of samples predicted correctly (0 when empty).
  double accuracy() const {
    const Index t = total();
    return t ? double(correct()) / double(t) : 0.0;
  }
  /// Fraction of class `c`'s samples predicted as c (0 when the class has none).
  double recall(Index c) const {
    check("class", c);
    const Index t = n_.row(c).sum();
    return t ? double(n_(c, c)) / double(t) : 0.0;
  }
  /// Fraction of the predictions of class `c` that are right (0 when c was never predicted).
  double precision(Index c) const {
    check("class", c);
    const Index t = n_.col(c).sum();
    return t ? double(n_(c, c)) / double(t) : 0.0;
  }

 private:
  void check(const char* what, Index c) const {
    if (c < 0 || c >= classes())
      throw ShapeError(std::string("ConfusionMatrix: ") + what + " " + std::to_string(c) + " outside [0, " +
                       std::to_string(classes()) + ")");
  }
  Counts n_;
};

}  // namespace spikelab

#endif
