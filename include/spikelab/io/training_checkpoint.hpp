/**
 * @file io/training_checkpoint.hpp
 * @brief Training checkpoints: what a stopped fit needs to go on as if it had never stopped,
 *        and TrainingCheckpointEvery, the callback that writes them during a fit.
 *
 * A training checkpoint stores
 *  - the network (as a weight-only checkpoint does, io/checkpoint.hpp);
 *  - the optimizer: its configuration (learning rate, per-group learning-rate and gradient
 *    scales, clipping), the update policy's hyperparameters, the schedule and its position,
 *    and the state of every parameter block (Adam's moments and step counts, SGD's velocity),
 *    with the optimizer's step count;
 *  - the learning rule: what it carries from one batch to the next (nothing for Bptt; the
 *    configuration, learning signal, eligibility traces, baselines and accumulators of a
 *    ThreeFactor rule such as VOWEL, whose traces run on across examples);
 *  - the trainer's TrainingProgress: epochs finished, batches done in the next epoch with
 *    their running loss and tally, the trainer's Rng (the only generator training draws
 *    from: dropout, sampling and the rules use it; batch sources derive theirs from their
 *    seed and the epoch), and FitResult's best-validation bookkeeping.
 *
 * Guarantee: a fit interrupted after any batch or epoch and continued from a checkpoint
 * written there, with `load_training_checkpoint(path, trainer)` then
 * `trainer.fit(train, valid, epochs, ...)` (the same total `epochs`), ends with the same
 * network, optimizer state and rule state, bit for bit, as the uninterrupted fit, provided the
 * trainer is built with the same types, the batch sources with the same data, batch size and
 * seed, and the run uses the same number of threads.
 *
 * Granularity: one batch. A checkpoint written at an epoch end continues with the next
 * epoch; one written within an epoch (TrainingCheckpointEvery's `batches`, or a callback that
 * stopped the fit mid-epoch) continues that epoch after its last trained batch: the batch
 * source is replayed up to there (those batches are drawn but not trained on, so continuing
 * costs their loading once).
 *
 * The configuration in the file wins: a continued run keeps the optimizer and rule settings
 * it was saved with; to change them, set them on trainer.optimizer() / trainer.rule() after
 * loading. Not stored: the batch sources (they are rebuilt by the caller), the callbacks'
 * own state (EarlyStopping's patience count, ...), wall-clock times.
 *
 * File: a cereal archive (portable binary or JSON) holding the magic
 * "spikelab-training-checkpoint", the format version, a header {library version, network
 * signature, optimizer name, rule name, number of parameter groups}, then the network, the
 * optimizer, the rule, the progress and an end marker. It is written to a temporary file
 * that is renamed over the target, so an interrupted save leaves the previous checkpoint.
 * Loading throws, and then leaves the trainer, its network, optimizer and rule untouched:
 *  - CheckpointError naming the file (and, for binary files, the byte offset) for a missing,
 *    truncated or corrupt file, or one that is not a training checkpoint;
 *  - VersionError for a format version newer than this build;
 *  - SignatureError, showing the stored and the expected side, when the file holds another
 *    network structure, another optimizer type, another learning rule or another number of
 *    parameter groups.
 * A SignatureError, and a part of the file that fails to load, name the library version that
 * wrote the file when it differs from this one.
 */
#ifndef SPIKELAB_IO_TRAINING_CHECKPOINT_HPP
#define SPIKELAB_IO_TRAINING_CHECKPOINT_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/io/checkpoint.hpp>
#include <spikelab/training/trainer.hpp>
#include <spikelab/version.hpp>

#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <filesystem>
#include <string>
#include <utility>

namespace spikelab {

/// The header of a training checkpoint, after its magic and format version.
struct TrainingCheckpointHeader {
  static constexpr const char* magic_value = "spikelab-training-checkpoint";  ///< what `magic` must hold
  static constexpr std::uint32_t current_format = 1;  ///< the format version this build writes
  std::string library_version = version::as_string();  ///< the spikelab version that wrote it
  std::string network;    ///< the network's signature()
  std::string optimizer;  ///< the optimizer's name() ("Optimizer<float, Adam, CosineLr>", "NoOptimizer")
  std::string rule;       ///< the learning rule's name(), or empty when it has none
  std::uint32_t parameter_groups = std::uint32_t(num_param_groups);  ///< the number of parameter groups, checked on load
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar) {
    ar(CEREAL_NVP(library_version), CEREAL_NVP(network), CEREAL_NVP(optimizer), CEREAL_NVP(rule),
       CEREAL_NVP(parameter_groups));
  }
};

namespace detail {

template <class T>
std::string name_of() {
  if constexpr (requires { { T::name() } -> std::convertible_to<std::string>; })
    return T::name();
  else
    return {};
}

template <class Net, class Rule, class Opt>
TrainingCheckpointHeader training_header(Trainer<Net, Rule, Opt>& t) {
  static_assert(cereal::traits::is_output_serializable<Rule, cereal::PortableBinaryOutputArchive>::value,
                "a training checkpoint needs a serializable learning rule: give it serialize(archive, version) "
                "saving what it carries from one batch to the next (nothing, if it carries nothing)");
  static_assert(cereal::traits::is_output_serializable<Opt, cereal::PortableBinaryOutputArchive>::value,
                "a training checkpoint needs a serializable optimizer (spikelab's Optimizer and NoOptimizer are)");
  TrainingCheckpointHeader h;
  h.network = t.net().signature();
  h.optimizer = name_of<Opt>();
  h.rule = name_of<Rule>();
  return h;
}

/// TrainingProgress as archive fields (fixed-width integers, validated on load).
struct ProgressRecord {
  TrainingProgress* p;
  template <class Ar>
  void save(Ar& ar) const {
    const TrainingProgress& q = *p;
    ar(cereal::make_nvp("epoch", std::int32_t(q.epoch)), cereal::make_nvp("batch", std::int64_t(q.batch)),
       cereal::make_nvp("epochs", std::int32_t(q.epochs)), cereal::make_nvp("samples", std::int64_t(q.samples)),
       cereal::make_nvp("loss_sum", q.loss_sum), cereal::make_nvp("loss_weight", std::int64_t(q.loss_weight)),
       cereal::make_nvp("correct", std::int64_t(q.tally.correct)), cereal::make_nvp("scored", std::int64_t(q.tally.total)),
       cereal::make_nvp("rng0", q.rng.words[0]), cereal::make_nvp("rng1", q.rng.words[1]),
       cereal::make_nvp("rng2", q.rng.words[2]), cereal::make_nvp("rng3", q.rng.words[3]),
       cereal::make_nvp("rng_spare", q.rng.spare), cereal::make_nvp("rng_has_spare", q.rng.has_spare));
    const FitResult& r = q.result;
    ar(cereal::make_nvp("epochs_run", std::int32_t(r.epochs_run)), cereal::make_nvp("train_loss", r.train_loss),
       cereal::make_nvp("train_accuracy", r.train_accuracy), cereal::make_nvp("val_loss", r.val_loss),
       cereal::make_nvp("val_accuracy", r.val_accuracy), cereal::make_nvp("best_val_accuracy", r.best_val_accuracy),
       cereal::make_nvp("best_epoch", std::int32_t(r.best_epoch)), cereal::make_nvp("seconds", r.seconds));
  }
  template <class Ar>
  void load(Ar& ar) {
    std::int32_t epoch = 0, epochs = 0, epochs_run = 0, best_epoch = 0;
    std::int64_t batch = 0, samples = 0, loss_weight = 0, correct = 0, scored = 0;
    TrainingProgress q;
    ar(cereal::make_nvp("epoch", epoch), cereal::make_nvp("batch", batch), cereal::make_nvp("epochs", epochs),
       cereal::make_nvp("samples", samples), cereal::make_nvp("loss_sum", q.loss_sum),
       cereal::make_nvp("loss_weight", loss_weight), cereal::make_nvp("correct", correct),
       cereal::make_nvp("scored", scored), cereal::make_nvp("rng0", q.rng.words[0]),
       cereal::make_nvp("rng1", q.rng.words[1]), cereal::make_nvp("rng2", q.rng.words[2]),
       cereal::make_nvp("rng3", q.rng.words[3]), cereal::make_nvp("rng_spare", q.rng.spare),
       cereal::make_nvp("rng_has_spare", q.rng.has_spare));
    FitResult& r = q.result;
    ar(cereal::make_nvp("epochs_run", epochs_run), cereal::make_nvp("train_loss", r.train_loss),
       cereal::make_nvp("train_accuracy", r.train_accuracy), cereal::make_nvp("val_loss", r.val_loss),
       cereal::make_nvp("val_accuracy", r.val_accuracy), cereal::make_nvp("best_val_accuracy", r.best_val_accuracy),
       cereal::make_nvp("best_epoch", best_epoch), cereal::make_nvp("seconds", r.seconds));
    if (epoch < 0 || batch < 0 || epochs < 0 || samples < 0 || loss_weight < 0 || correct < 0 || scored < correct ||
        epochs_run < 0 || epochs_run > epoch || best_epoch < 0 || best_epoch > epoch || !std::isfinite(q.loss_sum))
      throw cereal::Exception("inconsistent training progress (epoch " + std::to_string(epoch) + ", batch " +
                              std::to_string(batch) + ")");
    if ((q.rng.words[0] | q.rng.words[1] | q.rng.words[2] | q.rng.words[3]) == 0)
      throw cereal::Exception("the stored random generator state is all zero");
    q.epoch = epoch;
    q.batch = Index(batch);
    q.epochs = epochs;
    q.samples = Index(samples);
    q.loss_weight = Index(loss_weight);
    q.tally.correct = Index(correct);
    q.tally.total = Index(scored);
    r.epochs_run = epochs_run;
    r.best_epoch = best_epoch;
    *p = q;
  }
};

template <class Archive, class Net, class Rule, class Opt>
void write_training_checkpoint(Archive& ar, Trainer<Net, Rule, Opt>& t) {
  const TrainingCheckpointHeader h = training_header(t);
  std::string magic = TrainingCheckpointHeader::magic_value, end = checkpoint_end;
  std::uint32_t format_version = TrainingCheckpointHeader::current_format;
  TrainingProgress progress = t.progress();
  const ProgressRecord record{&progress};
  ar(cereal::make_nvp("magic", magic), cereal::make_nvp("format_version", format_version),
     cereal::make_nvp("header", h), cereal::make_nvp("network", t.net()), cereal::make_nvp("optimizer", t.optimizer()),
     cereal::make_nvp("rule", t.rule()), cereal::make_nvp("progress", record), cereal::make_nvp("end", end));
}

/// Reads a training checkpoint into copies of the trainer's parts; checks before reading
/// each part that the file holds the same kind of part.
template <class Archive, class Net, class Rule, class Opt>
void read_training_checkpoint(Archive& ar, const TrainingCheckpointHeader& mine, Net& net, Rule& rule, Opt& opt,
                              TrainingProgress& progress, const std::string& path) {
  std::string magic;
  std::uint32_t format_version = 0;
  ar(cereal::make_nvp("magic", magic), cereal::make_nvp("format_version", format_version));
  if (magic != TrainingCheckpointHeader::magic_value) throw CheckpointError(path, 0, "not a training checkpoint");
  if (format_version > TrainingCheckpointHeader::current_format)
    throw VersionError(path, -1, "training checkpoint format version " + std::to_string(format_version) +
                                     " is newer than this build's " +
                                     std::to_string(TrainingCheckpointHeader::current_format));
  TrainingCheckpointHeader h;
  ar(cereal::make_nvp("header", h));
  auto differs = [&](const std::string& what, const std::string& stored, const std::string& expected) {
    if (stored != expected)
      throw SignatureError(path, -1, "the training checkpoint (written by spikelab " + h.library_version +
                                         ") holds " + what + ".\n  stored:   " + stored + "\n  expected: " + expected);
  };
  differs("another network structure", h.network, mine.network);
  differs("the state of another optimizer", h.optimizer, mine.optimizer);
  differs("the state of another learning rule", h.rule, mine.rule);
  differs("another number of parameter groups", std::to_string(h.parameter_groups),
          std::to_string(mine.parameter_groups));
  ProgressRecord record{&progress};
  std::string end;
  read_written_by(h.library_version, [&] {
    ar(cereal::make_nvp("network", net), cereal::make_nvp("optimizer", opt), cereal::make_nvp("rule", rule),
       cereal::make_nvp("progress", record));
    ar(cereal::make_nvp("end", end));
  });
  if (end != checkpoint_end) throw CheckpointError(path, -1, "missing end marker (truncated or corrupt file)");
  if constexpr (requires { { opt.mismatch(net) } -> std::convertible_to<std::string>; }) {
    const std::string why = opt.mismatch(net);
    if (!why.empty()) throw CheckpointError(path, -1, "the optimizer state does not fit the network: " + why);
  }
}

}  // namespace detail

/// Writes a training checkpoint of `trainer` (network, optimizer, rule, trainer.progress()) to
/// `path` through a temporary file renamed into place. Called between batches (from a
/// callback, or after fit returns), it captures a point the next fit can continue from.
template <class Net, class Rule, class Opt>
void save_training_checkpoint(const std::filesystem::path& path, Trainer<Net, Rule, Opt>& trainer,
                              CheckpointFormat format = CheckpointFormat::binary) {
  detail::save_archive(path, format, [&](auto& ar) { detail::write_training_checkpoint(ar, trainer); });
}

/// Loads the training checkpoint in `path` (format detected from the content) into `trainer`:
/// its network, optimizer and rule take the stored state, and its next fit continues from the
/// stored progress (Trainer::continue_from). On any error nothing is changed.
template <class Net, class Rule, class Opt>
void load_training_checkpoint(const std::filesystem::path& path, Trainer<Net, Rule, Opt>& trainer) {
  const TrainingCheckpointHeader mine = detail::training_header(trainer);
  Net net = trainer.net();
  Rule rule = trainer.rule();
  Opt opt = trainer.optimizer();
  TrainingProgress progress;
  detail::load_archive(path, TrainingCheckpointHeader::magic_value,
                       "not a training checkpoint (wrong magic); a weight-only checkpoint from save_checkpoint "
                       "holds no training state and is read with load_checkpoint",
                       [&](auto& ar) { detail::read_training_checkpoint(ar, mine, net, rule, opt, progress, path.string()); });
  trainer.net() = std::move(net);
  trainer.rule() = std::move(rule);
  trainer.optimizer() = std::move(opt);
  trainer.continue_from(progress);
}

/**
 * TrainingCheckpointEvery: a Trainer callback that writes a training checkpoint to `path`
 * every `epochs` epochs (after the epoch's validation), every `batches` batches within an
 * epoch when `batches` > 0, and when training ends (also when a callback stopped it within an
 * epoch: the checkpoint then continues that epoch), each save replacing the previous one.
 * @code
 * trainer.fit(train, valid, 30, TrainingCheckpointEvery("run.ckpt"));
 * // after an interruption, with the trainer and sources built the same way:
 * load_training_checkpoint("run.ckpt", trainer);
 * trainer.fit(train, valid, 30, TrainingCheckpointEvery("run.ckpt"));
 * @endcode
 */
class TrainingCheckpointEvery {
 public:
  /// @param path the training checkpoint file
  /// @param epochs epochs between checkpoints (0: none at epoch ends)
  /// @param batches batches between checkpoints within an epoch (0: none)
  /// @param format binary or JSON
  explicit TrainingCheckpointEvery(std::filesystem::path path, int epochs = 1, Index batches = 0,
                                   CheckpointFormat format = CheckpointFormat::binary)
      : path_(std::move(path)), every_(epochs), every_batches_(batches), format_(format) {
    if (epochs < 0 || batches < 0) throw ConfigError("TrainingCheckpointEvery: negative interval");
  }

  /// Trainer hook (see Trainer).
  template <class Net, class Rule, class Opt>
  void on_train_begin(const TrainInfo&, Trainer<Net, Rule, Opt>&) {
    saved_epoch_ = -1;
    saved_batch_ = -1;
  }
  /// Trainer hook (see Trainer).
  template <class Net, class Rule, class Opt>
  void on_batch_end(const TrainInfo& i, Trainer<Net, Rule, Opt>& t) {
    if (every_batches_ > 0 && i.batch % every_batches_ == 0 && i.batch < i.batches) save(t);
  }
  /// Trainer hook (see Trainer).
  template <class Net, class Rule, class Opt>
  void on_epoch_end(const TrainInfo& i, Trainer<Net, Rule, Opt>& t) {
    if (every_ > 0 && i.epoch % every_ == 0) save(t);
  }
  /// Trainer hook (see Trainer).
  template <class Net, class Rule, class Opt>
  void on_train_end(const TrainInfo&, Trainer<Net, Rule, Opt>& t) {
    if (t.progress().epoch != saved_epoch_ || t.progress().batch != saved_batch_) save(t);
  }

  /// The file.
  const std::filesystem::path& path() const noexcept { return path_; }
  /// Checkpoints written so far.
  int saves() const noexcept { return saves_; }

 private:
  template <class T>
  void save(T& t) {
    save_training_checkpoint(path_, t, format_);
    saved_epoch_ = t.progress().epoch;
    saved_batch_ = t.progress().batch;
    ++saves_;
  }

  std::filesystem::path path_;
  int every_;
  Index every_batches_;
  CheckpointFormat format_;
  int saved_epoch_ = -1;
  Index saved_batch_ = -1;
  int saves_ = 0;
};

}  // namespace spikelab

#endif
