/**
 * @file data/mts_xor.hpp
 * @brief The Multi-Time-Scale XOR task (Zheng et al. 2024, as generated in Moro et al. 2024's
 *        code), and a BatchSource over a fixed, seeded set of its samples.
 *
 * 40 input channels in 2 groups of 20, T = 100 steps (dt = 10 ms):
 *  - background noise: every channel spikes with probability 0.01 at every step;
 *  - signal A: in steps [0, 10) channels 0-19 fire with rate r_A in {0.2, 0.6} (one draw per sample);
 *  - then 6 segments of 15 steps from step 10: 5 silent steps and 10 coding steps in which
 *    channels 20-39 fire with rate r_B in {0.2, 0.6} (one draw per segment);
 *  - target of a segment = XOR(A, B) (1 when the two rates differ).
 * Spikes of the signals are OR-ed with the noise. Accuracy is taken on the coding steps. Which
 * steps carry a label (Batch::step_labels, -1 = none) is MtsXorConfig::labels:
 *  - MtsXorLabels::coding_steps (default): the segment's label on its 10 coding steps only, so
 *    that a per-step loss trains on what can be predicted;
 *  - MtsXorLabels::all_steps, the hSNN code's targets (utils_dataset.py, get_batch): label 0 on
 *    the steps of signal A (and after the last segment), the segment's label on all 15 steps of
 *    the segment, its 5 silent steps included, where it cannot be predicted yet (their
 *    cross-entropy stays near ln 2, a floor of about 0.3 ln 2 on the mean over 100 steps).
 *    Train with StepCrossEntropy{.decision_steps = task.decision_steps()} to keep the
 *    accuracy on the coding steps.
 *
 * @code
 * @article{zheng2024temporal, title={Temporal dendritic heterogeneity incorporated with spiking neural
 *   networks for learning multi-timescale dynamics}, author={Zheng, Hanle and Zheng, Zhong and Hu, Rui and
 *   Xiao, Bo and Wu, Yujie and Yu, Fangwen and Liu, Xue and Li, Guoqi and Deng, Lei},
 *   journal={Nature Communications}, volume={15}, pages={277}, year={2024}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_MTS_XOR_HPP
#define SPIKELAB_DATA_MTS_XOR_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>

#include <cstdint>
#include <numeric>
#include <vector>

namespace spikelab {

/// Which steps of an MTS-XOR sample carry a label (see the file comment).
enum class MtsXorLabels : std::uint8_t { coding_steps, all_steps };

/// The parameters of the Multi-Time-Scale XOR task: channels, steps, segment timing, firing
/// rates, noise and which steps carry a label.
struct MtsXorConfig {
  Index channels_per_group = 20;  ///< channels of each of the two signals
  Index steps = 100;  ///< time steps T per sample
  Index start_time = 10;   ///< length of signal A
  Index remain_time = 5;   ///< silent steps before each B
  Index coding_time = 10;  ///< steps of each B
  /// Firing probability per step of a signal for bit 0 (low_rate) and bit 1 (high_rate).
  double low_rate = 0.2, high_rate = 0.6;  ///< a signal's firing probability per step for bit 0 and for bit 1
  double noise_rate = 0.01;  ///< background spike probability per channel and step
  MtsXorLabels labels = MtsXorLabels::coding_steps;  ///< which steps carry a label
};

/// The Multi-Time-Scale XOR task: signal A, then segments whose target is XOR(A, B) of two
/// rate-coded signals (Zheng et al., Nature Communications 2024; as generated in Moro et al.,
/// arXiv:2407.18838, 2024). Generates seeded samples.
class MtsXor {
 public:
  /// The task with the given parameters; throws ConfigError when signal A does not fit in `steps`.
  /// @param cfg channels, timing and rates (the defaults are the hSNN setting)
  explicit MtsXor(MtsXorConfig cfg = {}) : cfg_(cfg) {
    if (cfg.steps < cfg.start_time) throw ConfigError("MtsXor: steps shorter than signal A");
  }
  /// The run-time configuration.
  const MtsXorConfig& config() const noexcept { return cfg_; }
  /// Input channels (both groups).
  Index channels() const noexcept { return 2 * cfg_.channels_per_group; }
  /// XOR segments per sample.
  Index segments() const noexcept { return (cfg_.steps - cfg_.start_time) / (cfg_.remain_time + cfg_.coding_time); }
  /// True if step t lies in a coding window.
  bool coding_step(Index t) const noexcept {
    if (t < cfg_.start_time) return false;
    const Index seg = cfg_.remain_time + cfg_.coding_time, k = (t - cfg_.start_time) / seg;
    return k < segments() && (t - cfg_.start_time) % seg >= cfg_.remain_time;
  }

  /// One entry per step, 1 on the coding steps (where accuracy is measured), 0 elsewhere: the
  /// `decision_steps` of StepCrossEntropy.
  std::vector<std::uint8_t> decision_steps() const {
    std::vector<std::uint8_t> d(std::size_t(cfg_.steps), 0);
    for (Index t = 0; t < cfg_.steps; ++t) d[std::size_t(t)] = coding_step(t) ? 1 : 0;
    return d;
  }

  /// Writes sample column b of `batch` (input already sized 40 x B x T, step_labels sized B*T).
  template <Scalar S>
  void generate(Rng& rng, Index b, Batch<S>& batch) const {
    const Index C = channels(), T = cfg_.steps, G = cfg_.channels_per_group, B = batch.batch();
    const bool all = cfg_.labels == MtsXorLabels::all_steps;
    auto& x = batch.input;
    for (Index t = 0; t < T; ++t) {
      S* col = x.data() + x.column(b, t) * C;
      for (Index c = 0; c < C; ++c) col[c] = rng.uniform() < cfg_.noise_rate ? S(1) : S(0);
      batch.step_labels[std::size_t(t * B + b)] = all ? 0 : -1;
    }
    const bool a = rng.uniform() < 0.5;
    const double ra = a ? cfg_.high_rate : cfg_.low_rate;
    for (Index t = 0; t < cfg_.start_time; ++t)
      for (Index c = 0; c < G; ++c)
        if (rng.uniform() < ra) x(c, b, t) = S(1);
    const Index seg = cfg_.remain_time + cfg_.coding_time;
    for (Index k = 0; k < segments(); ++k) {
      const bool bb = rng.uniform() < 0.5;
      const double rb = bb ? cfg_.high_rate : cfg_.low_rate;
      const int label = (a != bb) ? 1 : 0;
      const Index t0 = cfg_.start_time + k * seg + cfg_.remain_time;
      if (all)
        for (Index t = t0 - cfg_.remain_time; t < t0; ++t) batch.step_labels[std::size_t(t * B + b)] = label;
      for (Index t = t0; t < t0 + cfg_.coding_time; ++t) {
        for (Index c = G; c < 2 * G; ++c)
          if (rng.uniform() < rb) x(c, b, t) = S(1);
        batch.step_labels[std::size_t(t * B + b)] = label;
      }
    }
  }

 private:
  MtsXorConfig cfg_;
};

/// A fixed set of `samples` MTS-XOR samples (sample i drawn from Rng(seed).fork(i)),
/// batched with seeded shuffling.
/// @tparam S the scalar type (float or double)
template <Scalar S>
class MtsXorSource {
 public:
  /// A fixed set of `samples` samples drawn with `seed`, served in batches.
  /// @param samples the number of samples
  /// @param batch_size samples per batch
  /// @param seed the seed of the samples and of the shuffling
  /// @param shuffle shuffle the order every epoch
  /// @param cfg the task's parameters
  MtsXorSource(Index samples, Index batch_size, std::uint64_t seed, bool shuffle = true, MtsXorConfig cfg = {})
      : task_(cfg), n_(samples), bs_(batch_size), seed_(seed), shuffle_(shuffle), order_(std::size_t(samples)) {
    if (samples <= 0 || batch_size <= 0) throw ConfigError("MtsXorSource: sizes must be positive");
    std::iota(order_.begin(), order_.end(), Index(0));
  }
  /// The task that generated the samples.
  const MtsXor& task() const noexcept { return task_; }
  /// Batches in one epoch (BatchSource).
  Index batches_per_epoch() const noexcept { return (n_ + bs_ - 1) / bs_; }
  /// Starts an epoch: a new order when shuffling (BatchSource).
  void start_epoch(std::uint64_t epoch) {
    pos_ = 0;
    std::iota(order_.begin(), order_.end(), Index(0));
    if (shuffle_) {
      Rng r = Rng(seed_ ^ 0xA5A5A5A5ULL).fork(epoch);
      for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[r.below(i)]);
    }
  }
  /// Fills the next batch; false at the end of the epoch (BatchSource).
  bool next(Batch<S>& b) {
    const Index B = std::min(bs_, n_ - pos_);
    if (B <= 0) return false;
    const Index T = task_.config().steps;
    b.input.resize(task_.channels(), B, T);
    b.step_labels.assign(std::size_t(B * T), -1);
    b.labels.clear();
    b.lengths.clear();
    const Rng base(seed_);
    for (Index s = 0; s < B; ++s) {
      Rng r = base.fork(std::uint64_t(order_[std::size_t(pos_ + s)]));
      task_.generate(r, s, b);
    }
    pos_ += B;
    return true;
  }

 private:
  MtsXor task_;
  Index n_, bs_;
  std::uint64_t seed_;
  bool shuffle_;
  std::vector<Index> order_;
  Index pos_ = 0;
};

}  // namespace spikelab

#endif
