/**
 * @file training/trainer.hpp
 * @brief Trainer<Net, Rule, Optimizer>: the epoch loop. `fit` trains over a batch source
 *        (optionally validating after each epoch) and `evaluate` measures a source.
 *
 * The loop is chosen at compile time from the rule: a GradientRule (Bptt, NA) accumulates
 * gradients and the optimizer applies them; an OnlineRule (GEM, VOWEL) updates the network
 * itself step by step. Callbacks are any objects with some of the hooks
 * `on_train_begin`, `on_epoch_begin`, `on_batch_end`, `on_epoch_end`, `on_train_end`, each
 * taking `(const TrainInfo&)` or `(const TrainInfo&, Net&)`; a hook returning `true` stops
 * training. Hooks run in the order the callbacks are given (so a callback may read what an
 * earlier one computed in the same hook). The library prints nothing itself: progress goes through callbacks
 * (training/callbacks.hpp).
 *
 * Resuming: the trainer keeps a TrainingProgress, the last point from which a fit can be
 * continued exactly (after every batch, and after every finished epoch with its validation).
 * `continue_from(progress)` makes the next `fit` start there instead of at epoch 1: it
 * restores the Rng, the running figures of a partly done epoch and the best-validation
 * bookkeeping, and replays the batch source up to the stored batch. Training checkpoints
 * (io/training_checkpoint.hpp) store the progress with the network, the optimizer and the
 * rule, and call continue_from when loaded.
 */
#ifndef SPIKELAB_TRAINING_TRAINER_HPP
#define SPIKELAB_TRAINING_TRAINER_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/learning/concepts.hpp>
#include <spikelab/training/hooks.hpp>

#include <chrono>
#include <concepts>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace spikelab {

/// Result of `fit`. After a resumed fit, epochs_run and the best-validation figures count
/// the epochs before the interruption too; seconds is the wall time of this call.
struct FitResult {
  int epochs_run = 0;  ///< epochs trained (with those before an interruption)
  /// mean training loss of the last epoch
  double train_loss = 0.0, train_accuracy = 0.0;  ///< training accuracy of the last epoch
  /// validation loss after the last epoch (0 without validation)
  double val_loss = 0.0, val_accuracy = 0.0;  ///< validation accuracy after the last epoch
  double best_val_accuracy = 0.0;  ///< the best validation accuracy of any epoch
  int best_epoch = 0;  ///< the epoch that reached it
  double seconds = 0.0;  ///< wall time of this call
  bool stopped_early = false;  ///< a callback stopped training before the last epoch
};

/// Result of `evaluate`.
struct EvalResult {
  double loss = 0.0;  ///< mean loss over the source
  double accuracy = 0.0;  ///< correct / scored decisions
  Tally tally{};  ///< the decision counts
  Index batches = 0;  ///< batches evaluated
  double seconds = 0.0;  ///< wall time
};

/// Stand-in optimizer for rules that update the network themselves.
struct NoOptimizer {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "NoOptimizer"; }
  /// Ignored.
  void set_progress(double, int) noexcept {}
  /// 0: no learning rate.
  double current_lr() const noexcept { return 0.0; }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar&) {}
};

/**
 * TrainingProgress: where a fit stands, i.e. everything besides the network, the optimizer
 * and the rule that a continuation needs to train exactly as if it had not stopped.
 *
 * `epoch` epochs are finished (their validation included) and `batch` batches of epoch
 * `epoch + 1` are done (0 at an epoch boundary), with the running loss and tally of those
 * batches. `rng` is the trainer's generator at that point (before the validation of a partly
 * done epoch). `result` holds the best-validation bookkeeping and the last epoch's figures
 * of FitResult as of epoch `epoch`. The batch source is not stored: continuing replays it
 * (start_epoch(epoch + 1), then `batch` calls of next), which reproduces its state because a
 * BatchSource's batches depend only on its seed, the epoch and the batches drawn since
 * start_epoch.
 */
struct TrainingProgress {
  int epoch = 0;          ///< epochs finished
  Index batch = 0;        ///< batches done in epoch + 1
  int epochs = 0;         ///< epochs the interrupted fit was asked for
  Index samples = 0;      ///< TrainInfo::samples of epoch + 1 so far
  double loss_sum = 0.0;  ///< sum of batch loss x batch size over the batches done in epoch + 1
  Index loss_weight = 0;  ///< sum of the batch sizes of those batches
  Tally tally{};          ///< correct / scored decisions of those batches
  RngState rng{};         ///< the trainer's generator
  FitResult result{};     ///< FitResult as of epoch `epoch` (seconds: of the call that got there)
};

/// The Trainer's settings: the seed of its Rng.
struct TrainerConfig {
  std::uint64_t seed = 1;  ///< seeds the trainer's Rng (forward noise, dropout, sampling)
};

/// The epoch loop: `fit` trains a network over a batch source with a learning rule (a
/// GradientRule with an optimizer, or an OnlineRule) and callbacks, `evaluate` measures a source,
/// and `continue_from` resumes a fit exactly where a training checkpoint left it.
/// @tparam Net the network (e.g. a Sequential)
/// @tparam Rule the learning rule (a LearningRule for Net)
/// @tparam Opt the optimizer (NoOptimizer for an online rule)
template <class Net, class Rule, class Opt = NoOptimizer>
  requires LearningRule<Rule, Net>
class Trainer {
 public:
  using S = typename Net::scalar_type;  ///< the scalar type

  /// A trainer of `net` (kept by reference: it must outlive the trainer).
  /// @param net the network
  /// @param rule the learning rule
  /// @param opt the optimizer
  /// @param cfg the seed
  Trainer(Net& net, Rule rule = {}, Opt opt = {}, TrainerConfig cfg = {})
      : net_(net), rule_(std::move(rule)), opt_(std::move(opt)), cfg_(cfg), rng_(cfg.seed) {
    if constexpr (GradientRule<Rule, Net>)
      static_assert(requires(Opt& o) { o.step(net); }, "a gradient rule needs an optimizer with step(net)");
    progress_.rng = rng_.state();
  }

  /// The network being trained.
  Net& net() noexcept { return net_; }
  /// The learning rule.
  Rule& rule() noexcept { return rule_; }
  /// The optimizer.
  Opt& optimizer() noexcept { return opt_; }
  /// The trainer's generator (forward noise, dropout, sampling).
  Rng& rng() noexcept { return rng_; }

  /// The last point from which a fit can be continued exactly: updated after every batch and
  /// after every finished epoch (validation included); a fit stopped by a callback within an
  /// epoch leaves it at the last batch done.
  const TrainingProgress& progress() const noexcept { return progress_; }

  /// Makes the next `fit` continue from `p` (with epochs = the total number of epochs wanted,
  /// as in the interrupted call) instead of starting at epoch 1; it sets the Rng to p.rng now
  /// and again when that fit starts. The network, optimizer and rule must already hold the
  /// state they had at `p` (load_training_checkpoint restores all of them).
  void continue_from(const TrainingProgress& p) {
    if (p.epoch < 0 || p.batch < 0 || p.samples < 0 || p.loss_weight < 0 || p.tally.correct < 0 ||
        p.tally.total < p.tally.correct)
      throw ConfigError("Trainer::continue_from: inconsistent training progress (epoch " + std::to_string(p.epoch) +
                        ", batch " + std::to_string(p.batch) + ")");
    resume_ = p;
    rng_.set_state(p.rng);
    progress_ = p;
  }
  /// True between continue_from and the fit that continues.
  bool continuing() const noexcept { return resume_.has_value(); }

  /// Trains for `epochs` epochs over `train`.
  template <BatchSource<S> Train, class... Cbs>
  FitResult fit(Train& train, int epochs, Cbs&&... cbs) {
    return run<Train, Train>(train, nullptr, epochs, cbs...);
  }
  /// Trains for `epochs` epochs over `train`, evaluating `valid` after each epoch.
  template <BatchSource<S> Train, BatchSource<S> Valid, class... Cbs>
  FitResult fit(Train& train, Valid& valid, int epochs, Cbs&&... cbs) {
    return run(train, &valid, epochs, cbs...);
  }

  /// Loss and accuracy of the network over one pass of `src`.
  template <BatchSource<S> Src>
  EvalResult evaluate(Src& src) {
    const auto t0 = std::chrono::steady_clock::now();
    EvalResult r;
    src.start_epoch(0);
    double loss_sum = 0;
    Index loss_weight = 0;
    while (src.next(batch_)) {
      StepStats st;
      if constexpr (GradientRule<Rule, Net>)
        st = rule_.evaluate(net_, batch_);
      else
        st = rule_.evaluate(net_, batch_, rng_);
      const Index w = std::max<Index>(batch_.batch(), 1);
      loss_sum += st.loss * double(w);
      loss_weight += w;
      r.tally += st.tally;
      ++r.batches;
    }
    r.loss = loss_weight ? loss_sum / double(loss_weight) : 0.0;
    r.accuracy = r.tally.accuracy();
    r.seconds = detail::seconds_since(t0);
    return r;
  }

 private:
  template <class Train, class Valid, class... Cbs>
  FitResult run(Train& train, Valid* valid, int epochs, Cbs&... cbs) {
    if (epochs < 0) throw ConfigError("Trainer::fit: negative number of epochs");
    const auto t_start = std::chrono::steady_clock::now();
    const std::optional<TrainingProgress> from = std::exchange(resume_, std::nullopt);
    FitResult res;
    int first = 1;
    if (from) {
      res = from->result;
      res.seconds = 0;
      res.stopped_early = false;
      first = from->epoch + 1;
      rng_.set_state(from->rng);
      progress_ = *from;
    } else {
      progress_ = TrainingProgress{};
      progress_.rng = rng_.state();
    }
    progress_.epochs = epochs;
    TrainInfo info;
    info.epochs = epochs;
    info.batches = Index(train.batches_per_epoch());
    info.resumed = from.has_value();
    bool stop = false;
    // every callback's hook runs, in argument order (a comma fold is sequenced; `|` is not)
    auto any = [&]([[maybe_unused]] auto hook) {
      bool r = false;
      ((r = hook(cbs) || r), ...);
      return r;
    };
    stop |= any([&](auto& c) { return detail::hook_on_train_begin(c, info, net_, *this); });
    for (int e = first; e <= epochs && !stop; ++e) {
      const auto t_epoch = std::chrono::steady_clock::now();
      info.epoch = e;
      info.batch = 0;
      info.samples = 0;
      info.loss = info.accuracy = 0;
      info.has_validation = false;
      opt_.set_progress(double(e - 1), epochs);
      info.lr = opt_.current_lr();
      stop |= any([&](auto& c) { return detail::hook_on_epoch_begin(c, info, net_, *this); });
      train.start_epoch(std::uint64_t(e));
      double loss_sum = 0;
      Index loss_weight = 0;
      Tally tally;
      if (from && e == first && from->batch > 0) {
        // replay the source up to where the interrupted fit stopped (no training on these)
        for (Index k = 0; k < from->batch; ++k)
          if (!train.next(batch_))
            throw ConfigError("Trainer::fit: the progress to continue from is at batch " + std::to_string(from->batch) +
                              " of epoch " + std::to_string(e) + ", but the batch source gives only " +
                              std::to_string(k) + " batches in that epoch (another data set or batch size?)");
        info.batch = from->batch;
        info.samples = from->samples;
        loss_sum = from->loss_sum;
        loss_weight = from->loss_weight;
        tally = from->tally;
        info.loss = loss_weight ? loss_sum / double(loss_weight) : 0.0;
        info.accuracy = tally.accuracy();
      }
      bool exhausted = false;
      while (!stop) {
        if (!train.next(batch_)) {
          exhausted = true;
          break;
        }
        if (info.batches > 0) opt_.set_progress(double(e - 1) + double(info.batch) / double(info.batches), epochs);
        info.lr = opt_.current_lr();
        StepStats st;
        try {
          if constexpr (GradientRule<Rule, Net>) {
            net_.zero_grad();
            st = rule_.accumulate(net_, batch_, rng_);
            opt_.step(net_);
          } else {
            st = rule_.train_batch(net_, batch_, rng_);
          }
        } catch (const NumericError& err) {
          throw NumericError("epoch " + std::to_string(e) + ", batch " + std::to_string(info.batch + 1) + ": " +
                             err.what());
        }
        const Index w = std::max<Index>(batch_.batch(), 1);
        loss_sum += st.loss * double(w);
        loss_weight += w;
        tally += st.tally;
        ++info.batch;
        info.samples += batch_.batch();
        info.loss = loss_sum / double(loss_weight);
        info.accuracy = tally.accuracy();
        info.epoch_seconds = detail::seconds_since(t_epoch);
        info.total_seconds = detail::seconds_since(t_start);
        progress_.epoch = e - 1;
        progress_.batch = info.batch;
        progress_.samples = info.samples;
        progress_.loss_sum = loss_sum;
        progress_.loss_weight = loss_weight;
        progress_.tally = tally;
        progress_.rng = rng_.state();
        stop |= any([&](auto& c) { return detail::hook_on_batch_end(c, info, net_, *this); });
      }
      if (valid) {
        const EvalResult v = evaluate(*valid);
        info.has_validation = true;
        info.val_loss = v.loss;
        info.val_accuracy = v.accuracy;
        res.val_loss = v.loss;
        res.val_accuracy = v.accuracy;
        if (v.accuracy > res.best_val_accuracy || res.best_epoch == 0) {
          res.best_val_accuracy = v.accuracy;
          res.best_epoch = e;
        }
      }
      info.epoch_seconds = detail::seconds_since(t_epoch);
      info.total_seconds = detail::seconds_since(t_start);
      res.epochs_run = e;
      res.train_loss = info.loss;
      res.train_accuracy = info.accuracy;
      if (exhausted) {
        // the epoch is complete: the next one starts from here (a partly done epoch keeps the
        // progress of its last batch, taken before this validation drew from the Rng)
        progress_.epoch = e;
        progress_.batch = 0;
        progress_.samples = 0;
        progress_.loss_sum = 0;
        progress_.loss_weight = 0;
        progress_.tally = Tally{};
        progress_.rng = rng_.state();
        progress_.result = res;
        progress_.result.seconds = detail::seconds_since(t_start);
      }
      const bool cb_stop = any([&](auto& c) { return detail::hook_on_epoch_end(c, info, net_, *this); });
      if (cb_stop && e < epochs) res.stopped_early = true;
      stop |= cb_stop;
    }
    res.seconds = detail::seconds_since(t_start);
    info.total_seconds = res.seconds;
    any([&](auto& c) { return detail::hook_on_train_end(c, info, net_, *this); });
    return res;
  }

  Net& net_;
  Rule rule_;
  Opt opt_;
  TrainerConfig cfg_;
  Rng rng_;
  Batch<S> batch_;
  TrainingProgress progress_{};
  std::optional<TrainingProgress> resume_;
};

}  // namespace spikelab

#endif
