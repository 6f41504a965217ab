/**
 * @file training/hooks.hpp
 * @brief TrainInfo (what training callbacks are told) and the compile-time detection of the
 *        callback hooks `on_train_begin`, `on_epoch_begin`, `on_batch_end`, `on_epoch_end`,
 *        `on_train_end`.
 *
 * A callback is any object with some of these hooks, each taking `(const TrainInfo&)`,
 * `(const TrainInfo&, Net&)` or `(const TrainInfo&, Trainer&)` (the trainer running the fit,
 * for callbacks that need its optimizer, rule or progress, such as training checkpoints); a
 * hook that returns `true` asks training to stop. When a hook accepts both the network and
 * the trainer, it is given the network. Objects that only observe training (spike
 * statistics, loggers) include this header rather than the trainer, so they stay below it.
 */
#ifndef SPIKELAB_TRAINING_HOOKS_HPP
#define SPIKELAB_TRAINING_HOOKS_HPP

#include <spikelab/core/types.hpp>

#include <chrono>
#include <concepts>

namespace spikelab {

/// What callbacks are told.
struct TrainInfo {
  int epoch = 0;           ///< current epoch, 1-based
  int epochs = 0;          ///< planned epochs
  Index batch = 0;         ///< batches done in this epoch
  Index batches = 0;       ///< batches per epoch
  Index samples = 0;       ///< samples (or scored steps) seen in this epoch
  double loss = 0.0;       ///< running mean training loss of this epoch
  double accuracy = 0.0;   ///< running training accuracy of this epoch
  double lr = 0.0;         ///< learning rate in use
  double epoch_seconds = 0.0;  ///< wall time of this epoch so far
  double total_seconds = 0.0;  ///< wall time of the fit so far
  bool has_validation = false;  ///< val_loss and val_accuracy hold this epoch's validation
  double val_loss = 0.0;  ///< validation loss (at epoch end, when has_validation)
  double val_accuracy = 0.0;  ///< validation accuracy (at epoch end, when has_validation)
  bool resumed = false;    ///< this fit continues an interrupted one (Trainer::continue_from)
};

namespace detail {
#define SPIKELAB_DETAIL_HOOK(NAME)                                                   \
  template <class C, class N, class T>                                              \
  bool hook_##NAME(C& c, const TrainInfo& i, N& n, T& tr) {                         \
    if constexpr (requires { { c.NAME(i, n) } -> std::same_as<bool>; })              \
      return c.NAME(i, n);                                                          \
    else if constexpr (requires { c.NAME(i, n); }) {                                \
      c.NAME(i, n);                                                                 \
      return false;                                                                 \
    } else if constexpr (requires { { c.NAME(i, tr) } -> std::same_as<bool>; })      \
      return c.NAME(i, tr);                                                         \
    else if constexpr (requires { c.NAME(i, tr); }) {                               \
      c.NAME(i, tr);                                                                \
      return false;                                                                 \
    } else if constexpr (requires { { c.NAME(i) } -> std::same_as<bool>; })          \
      return c.NAME(i);                                                             \
    else if constexpr (requires { c.NAME(i); }) {                                   \
      c.NAME(i);                                                                    \
      return false;                                                                 \
    } else                                                                          \
      return false;                                                                 \
  }
SPIKELAB_DETAIL_HOOK(on_train_begin)
SPIKELAB_DETAIL_HOOK(on_epoch_begin)
SPIKELAB_DETAIL_HOOK(on_batch_end)
SPIKELAB_DETAIL_HOOK(on_epoch_end)
SPIKELAB_DETAIL_HOOK(on_train_end)
#undef SPIKELAB_DETAIL_HOOK

/// Wall time since t0 in seconds (TrainInfo's clocks).
inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace detail

}  // namespace spikelab

#endif
