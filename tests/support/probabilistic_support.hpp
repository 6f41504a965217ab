// Synthetic data for the probabilistic-SNN tests: class-conditional spike patterns.
#ifndef SPIKELAB_TESTS_PROBABILISTIC_SUPPORT_HPP
#define SPIKELAB_TESTS_PROBABILISTIC_SUPPORT_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/random.hpp>

#include <algorithm>

namespace spikelab::test {

/// A BatchSource of `n` samples: class y in [0, classes); input circuit i fires with
/// probability `hi` when i % classes == y and `lo` otherwise; a firing circuit emits symbol
/// c = (i / classes + y) % C, stored at feature c * inputs + i (the planar layout of event
/// frames). With `fixed`, every epoch replays the same samples.
template <class S>
struct PatternSource {
  Index n = 300, batch_size = 1, inputs = 12, classes = 3, steps = 15, symbols = 1;
  double hi = 0.6, lo = 0.05;
  std::uint64_t seed = 1;
  bool fixed = false;
  Index pos = 0;
  Rng rng{1};

  void start_epoch(std::uint64_t e) {
    pos = 0;
    rng = Rng(seed).fork(fixed ? 0 : e);
  }
  Index batches_per_epoch() const { return (n + batch_size - 1) / batch_size; }
  bool next(Batch<S>& b) {
    const Index B = std::min(batch_size, n - pos);
    if (B <= 0) return false;
    b.input.resize(inputs * symbols, B, steps);
    b.input.set_zero();
    b.labels.resize(std::size_t(B));
    b.step_labels.clear();
    b.lengths.clear();
    for (Index s = 0; s < B; ++s) {
      const int y = int(rng.below(std::uint64_t(classes)));
      b.labels[std::size_t(s)] = y;
      for (Index t = 0; t < steps; ++t)
        for (Index i = 0; i < inputs; ++i)
          if (rng.uniform() < (i % classes == y ? hi : lo)) b.input(((i / classes + y) % symbols) * inputs + i, s, t) = S(1);
    }
    pos += B;
    return true;
  }
};

}  // namespace spikelab::test

#endif
