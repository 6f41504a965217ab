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
#include <string>

namespace spikelab {

/// Result of `fit`.
struct FitResult {
  int epochs_run = 0;
  double train_loss = 0.0, train_accuracy = 0.0;
  double val_loss = 0.0, val_accuracy = 0.0;
  double best_val_accuracy = 0.0;
  int best_epoch = 0;
  double seconds = 0.0;
  bool stopped_early = false;
};

/// Result of `evaluate`.
struct EvalResult {
  double loss = 0.0;
  double accuracy = 0.0;
  Tally tally{};
  Index batches = 0;
  double seconds = 0.0;
};

/// Stand-in optimizer for rules that update the network themselves.
struct NoOptimizer {
  void set_progress(double, int) noexcept {}
  double current_lr() const noexcept { return 0.0; }
};

struct TrainerConfig {
  std::uint64_t seed = 1;  ///< seeds the trainer's Rng (forward noise, dropout, sampling)
};

template <class Net, class Rule, class Opt = NoOptimizer>
  requires LearningRule<Rule, Net>
class Trainer {
 public:
  using S = typename Net::scalar_type;

  Trainer(Net& net, Rule rule = {}, Opt opt = {}, TrainerConfig cfg = {})
      : net_(net), rule_(std::move(rule)), opt_(std::move(opt)), cfg_(cfg), rng_(cfg.seed) {
    if constexpr (GradientRule<Rule, Net>)
      static_assert(requires(Opt& o) { o.step(net); }, "a gradient rule needs an optimizer with step(net)");
  }

  Net& net() noexcept { return net_; }
  Rule& rule() noexcept { return rule_; }
  Opt& optimizer() noexcept { return opt_; }
  Rng& rng() noexcept { return rng_; }

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
    FitResult res;
    TrainInfo info;
    info.epochs = epochs;
    info.batches = Index(train.batches_per_epoch());
    bool stop = false;
    // every callback's hook runs, in argument order (a comma fold is sequenced; `|` is not)
    auto any = [&]([[maybe_unused]] auto hook) {
      bool r = false;
      ((r = hook(cbs) || r), ...);
      return r;
    };
    stop |= any([&](auto& c) { return detail::hook_on_train_begin(c, info, net_); });
    for (int e = 1; e <= epochs && !stop; ++e) {
      const auto t_epoch = std::chrono::steady_clock::now();
      info.epoch = e;
      info.batch = 0;
      info.samples = 0;
      info.loss = info.accuracy = 0;
      info.has_validation = false;
      opt_.set_progress(double(e - 1), epochs);
      info.lr = opt_.current_lr();
      stop |= any([&](auto& c) { return detail::hook_on_epoch_begin(c, info, net_); });
      train.start_epoch(std::uint64_t(e));
      double loss_sum = 0;
      Index loss_weight = 0;
      Tally tally;
      while (!stop && train.next(batch_)) {
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
        stop |= any([&](auto& c) { return detail::hook_on_batch_end(c, info, net_); });
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
      const bool cb_stop = any([&](auto& c) { return detail::hook_on_epoch_end(c, info, net_); });
      if (cb_stop && e < epochs) res.stopped_early = true;
      stop |= cb_stop;
    }
    res.seconds = detail::seconds_since(t_start);
    info.total_seconds = res.seconds;
    any([&](auto& c) { return detail::hook_on_train_end(c, info, net_); });
    return res;
  }

  Net& net_;
  Rule rule_;
  Opt opt_;
  TrainerConfig cfg_;
  Rng rng_;
  Batch<S> batch_;
};

}  // namespace spikelab

#endif
