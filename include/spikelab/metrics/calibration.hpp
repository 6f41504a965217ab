/**
 * @file metrics/calibration.hpp
 * @brief ReliabilityDiagram: confidence-binned accuracy of a classifier's predictions and the
 *        expected / maximum calibration errors derived from it.
 *
 * Each prediction contributes its confidence (the probability it gives its predicted class)
 * and whether it was correct. With B equal-width bins over [0, 1] (a confidence of exactly 1
 * falls in the last bin, 0 in the first),
 * \f[ \mathrm{ECE} = \sum_{b=1}^{B} \frac{n_b}{N}\,\big|\mathrm{acc}_b - \mathrm{conf}_b\big|,\qquad
 *     \mathrm{MCE} = \max_{b:\,n_b>0} \big|\mathrm{acc}_b - \mathrm{conf}_b\big| \f]
 * where acc_b is the fraction of correct predictions in bin b and conf_b their mean
 * confidence. A perfectly calibrated classifier has ECE = 0.
 *
 * @code
 * @inproceedings{guo2017calibration, title={On Calibration of Modern Neural Networks},
 *   author={Guo, Chuan and Pleiss, Geoff and Sun, Yu and Weinberger, Kilian Q.}, booktitle={ICML},
 *   pages={1321--1330}, year={2017}}
 * @inproceedings{naeini2015obtaining, title={Obtaining Well Calibrated Probabilities Using Bayesian Binning},
 *   author={Naeini, Mahdi Pakdaman and Cooper, Gregory and Hauskrecht, Milos}, booktitle={AAAI}, year={2015}}
 * @endcode
 */
#ifndef SPIKELAB_METRICS_CALIBRATION_HPP
#define SPIKELAB_METRICS_CALIBRATION_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/types.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace spikelab {

/// Confidence-binned accuracy of a classifier's predictions and the calibration errors,
/// \f$ \mathrm{ECE} = \sum_b \frac{n_b}{N} |\mathrm{acc}_b - \mathrm{conf}_b| \f$ and
/// \f$ \mathrm{MCE} = \max_b |\mathrm{acc}_b - \mathrm{conf}_b| \f$ (Guo et al., ICML 2017;
/// Naeini, Cooper & Hauskrecht, AAAI 2015).
class ReliabilityDiagram {
 public:
  /// One confidence bin [lower, upper).
  struct Bin {
    /// the lower edge of the bin
    double lower = 0, upper = 0;  ///< the upper edge of the bin
    Index count = 0;  ///< predictions in the bin
    double confidence_sum = 0;  ///< the sum of their confidences
    double correct = 0;  ///< how many of them were correct
    /// conf_b: the mean confidence in the bin (0 when empty).
    double mean_confidence() const noexcept { return count ? confidence_sum / double(count) : 0.0; }
    /// acc_b: the fraction correct in the bin (0 when empty).
    double accuracy() const noexcept { return count ? correct / double(count) : 0.0; }
    /// |accuracy - mean confidence| (0 for an empty bin).
    double gap() const noexcept { return count ? std::abs(accuracy() - mean_confidence()) : 0.0; }
  };

  /// A diagram of `bins` equal-width confidence bins; throws ConfigError for bins < 1.
  /// @param bins the number of bins
  explicit ReliabilityDiagram(Index bins = 10) {
    if (bins < 1) throw ConfigError("ReliabilityDiagram: need at least one bin");
    bins_.resize(std::size_t(bins));
    for (Index b = 0; b < bins; ++b) {
      bins_[std::size_t(b)].lower = double(b) / double(bins);
      bins_[std::size_t(b)].upper = double(b + 1) / double(bins);
    }
  }

  /// Adds one prediction with confidence in [0, 1].
  void add(double confidence, bool correct) {
    if (!(confidence >= 0.0 && confidence <= 1.0))
      throw ConfigError("ReliabilityDiagram: confidence " + std::to_string(confidence) + " is outside [0, 1]");
    const Index n = bins();
    const Index b = std::min<Index>(n - 1, Index(confidence * double(n)));
    Bin& x = bins_[std::size_t(b)];
    ++x.count;
    x.confidence_sum += confidence;
    x.correct += correct ? 1.0 : 0.0;
  }
  /// Adds the counts of another diagram with the same number of bins.
  void merge(const ReliabilityDiagram& o) {
    if (o.bins() != bins()) throw ConfigError("ReliabilityDiagram::merge: different numbers of bins");
    for (std::size_t b = 0; b < bins_.size(); ++b) {
      bins_[b].count += o.bins_[b].count;
      bins_[b].confidence_sum += o.bins_[b].confidence_sum;
      bins_[b].correct += o.bins_[b].correct;
    }
  }
  /// Empties every bin.
  void clear() {
    for (auto& b : bins_) b.count = 0, b.confidence_sum = 0, b.correct = 0;
  }

  /// The number of bins.
  Index bins() const noexcept { return Index(bins_.size()); }
  /// Bin b (0 = the lowest confidences).
  const Bin& bin(Index b) const { return bins_.at(std::size_t(b)); }
  /// Predictions counted.
  Index count() const noexcept {
    Index n = 0;
    for (const auto& b : bins_) n += b.count;
    return n;
  }
  /// The fraction of predictions that were correct.
  double accuracy() const noexcept {
    double c = 0;
    for (const auto& b : bins_) c += b.correct;
    const Index n = count();
    return n ? c / double(n) : 0.0;
  }
  /// The mean confidence of all predictions.
  double mean_confidence() const noexcept {
    double c = 0;
    for (const auto& b : bins_) c += b.confidence_sum;
    const Index n = count();
    return n ? c / double(n) : 0.0;
  }
  /// Expected calibration error (0 when empty).
  double expected_calibration_error() const noexcept {
    const Index n = count();
    if (!n) return 0.0;
    double e = 0;
    for (const auto& b : bins_) e += double(b.count) / double(n) * b.gap();
    return e;
  }
  /// Maximum calibration error over non-empty bins.
  double maximum_calibration_error() const noexcept {
    double e = 0;
    for (const auto& b : bins_) e = std::max(e, b.gap());
    return e;
  }

 private:
  std::vector<Bin> bins_;
};

/// ECE of predictions given as (confidence, correct) pairs.
inline double expected_calibration_error(const std::vector<double>& confidence, const std::vector<bool>& correct,
                                         Index bins = 10) {
  if (confidence.size() != correct.size())
    throw ShapeError("expected_calibration_error: " + std::to_string(confidence.size()) + " confidences but " +
                     std::to_string(correct.size()) + " outcomes");
  ReliabilityDiagram d(bins);
  for (std::size_t i = 0; i < confidence.size(); ++i) d.add(confidence[i], correct[i]);
  return d.expected_calibration_error();
}

}  // namespace spikelab

#endif
