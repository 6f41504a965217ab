/**
 * @file core/tally.hpp
 * @brief Tally: counts of correct and scored decisions (accuracy = correct / total).
 */
#ifndef SPIKELAB_CORE_TALLY_HPP
#define SPIKELAB_CORE_TALLY_HPP

#include <spikelab/core/types.hpp>

namespace spikelab {

/// Counts of correct and scored decisions; accuracy = correct / total (0 when nothing was scored).
struct Tally {
  Index correct = 0;  ///< decisions that were right
  Index total = 0;  ///< decisions scored
  /// correct / total, 0 when nothing was scored.
  double accuracy() const noexcept { return total ? double(correct) / double(total) : 0.0; }
  /// Adds the counts of `o`.
  Tally& operator+=(const Tally& o) noexcept {
    correct += o.correct;
    total += o.total;
    return *this;
  }
};

}  // namespace spikelab

#endif
