/**
 * @file core/batch.hpp
 * @brief `Batch<S>`: what a batch source hands the trainer. The input is a TimeSeries
 *        (features x batch*T); targets are per-sample labels and/or per-step labels, with
 *        per-sample lengths for ragged (padded) sequences. What produces them models BatchSource
 *        (core/concepts.hpp).
 */
#ifndef SPIKELAB_CORE_BATCH_HPP
#define SPIKELAB_CORE_BATCH_HPP

#include <spikelab/core/concepts.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/time_series.hpp>

#include <concepts>
#include <cstdint>
#include <string>
#include <vector>

namespace spikelab {

/// One batch as a BatchSource hands it to the trainer: the input series and its targets
/// (per-sample labels, per-step labels, per-sample lengths of padded sequences).
/// @tparam S the scalar type (float or double)
template <Scalar S>
struct Batch {
  using scalar_type = S;  ///< the scalar type S
  /// features x (batch * steps), step-major (see TimeSeries).
  TimeSeries<S> input;
  /// One class label per sample (size batch), or empty.
  std::vector<int> labels;
  /// One class label per (sample b, step t) at index t*batch + b; -1 = not scored. Or empty.
  std::vector<int> step_labels;
  /// Valid steps per sample (steps beyond are padding), or empty when all are valid.
  std::vector<Index> lengths;

  /// Samples in the batch.
  Index batch() const noexcept { return input.batch(); }
  /// Time steps T of the input.
  Index steps() const noexcept { return input.steps(); }
  /// Valid steps of sample b (T when the batch is not ragged).
  Index length(Index b) const noexcept { return lengths.empty() ? input.steps() : lengths[static_cast<std::size_t>(b)]; }

  /// Throws ShapeError if the targets do not match the input.
  void validate() const {
    const auto B = static_cast<std::size_t>(batch());
    if (!labels.empty() && labels.size() != B)
      throw ShapeError("Batch: " + std::to_string(labels.size()) + " labels for " + std::to_string(B) + " samples");
    if (!step_labels.empty() && step_labels.size() != static_cast<std::size_t>(input.columns()))
      throw ShapeError("Batch: " + std::to_string(step_labels.size()) + " step labels for " +
                       std::to_string(input.columns()) + " (sample, step) columns");
    if (!lengths.empty()) {
      if (lengths.size() != B) throw ShapeError("Batch: lengths has the wrong size");
      for (Index l : lengths)
        if (l < 0 || l > steps()) throw ShapeError("Batch: a sample length is outside [0, steps]");
    }
  }
};

}  // namespace spikelab

#endif
