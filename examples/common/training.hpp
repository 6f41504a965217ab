// Training pieces shared by the example trainers (not part of the library): --resume FILE
// (continue from a training checkpoint and keep writing one), --stop-after N (stop after epoch N
// as if interrupted), and Maybe<C>, a callback that may be switched off, so that a trainer
// passes one argument list to fit whatever options were given.
//
//   cli.resume(o.resume, o.stop_after);                                             // the options
//   auto resume = spikelab_examples::resume_if_asked(trainer, o.resume, o.epochs, std::cout);  // before fit
//   const auto r = trainer.fit(train, test, o.epochs, progress, std::move(resume), StopAfter{o.stop_after});
//   spikelab_examples::say_if_stopped(std::cout, r, o.stop_after, o.resume);
#ifndef SPIKELAB_EXAMPLES_COMMON_TRAINING_HPP
#define SPIKELAB_EXAMPLES_COMMON_TRAINING_HPP

#include <spikelab/io/training_checkpoint.hpp>
#include <spikelab/training/hooks.hpp>
#include <spikelab/training/trainer.hpp>

#include <cereal/archives/json.hpp>

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <optional>
#include <ostream>
#include <string>
#include <system_error>
#include <type_traits>
#include <utility>

namespace spikelab_examples {

/// A callback that is either a C or nothing; its hooks forward to the C (with the network, the
/// trainer or neither, as C's hooks take them) when there is one.
template <class C>
class Maybe {
 public:
  Maybe() = default;
  explicit Maybe(C c) : c_(std::move(c)) {}
  explicit Maybe(std::optional<C> c) : c_(std::move(c)) {}
  bool engaged() const noexcept { return c_.has_value(); }
  C* get() noexcept { return c_ ? &*c_ : nullptr; }

#define SPIKELAB_EXAMPLES_MAYBE_HOOK(NAME)                              \
  template <class Tr>                                                   \
    requires requires(Tr& t) { t.net(); t.progress(); }                 \
  bool NAME(const spikelab::TrainInfo& i, Tr& tr) {                     \
    if (!c_) return false;                                              \
    if constexpr (requires { c_->NAME(i, tr.net()); })                  \
      return stops([&] { return c_->NAME(i, tr.net()); });              \
    else if constexpr (requires { c_->NAME(i, tr); })                   \
      return stops([&] { return c_->NAME(i, tr); });                    \
    else if constexpr (requires { c_->NAME(i); })                       \
      return stops([&] { return c_->NAME(i); });                        \
    else                                                                \
      return false;                                                     \
  }
  SPIKELAB_EXAMPLES_MAYBE_HOOK(on_train_begin)
  SPIKELAB_EXAMPLES_MAYBE_HOOK(on_epoch_begin)
  SPIKELAB_EXAMPLES_MAYBE_HOOK(on_batch_end)
  SPIKELAB_EXAMPLES_MAYBE_HOOK(on_epoch_end)
  SPIKELAB_EXAMPLES_MAYBE_HOOK(on_train_end)
#undef SPIKELAB_EXAMPLES_MAYBE_HOOK

 private:
  // a hook returning bool may stop training; one returning void never does
  template <class F>
  static bool stops(F&& f) {
    if constexpr (std::is_same_v<decltype(f()), bool>)
      return f();
    else {
      f();
      return false;
    }
  }
  std::optional<C> c_;
};

/// Stops training after epoch `epoch` (0: never), as an interruption would: with --resume, the
/// training checkpoint written at that epoch's end continues the run.
struct StopAfter {
  int epoch = 0;
  bool on_epoch_end(const spikelab::TrainInfo& i) const { return epoch > 0 && i.epoch >= epoch && i.epoch < i.epochs; }
};

/// After a fit: says that --stop-after stopped it, and how to continue.
inline void say_if_stopped(std::ostream& out, const spikelab::FitResult& r, int stop_after, const std::string& resume) {
  if (!r.stopped_early || stop_after <= 0) return;
  out << "stopped after epoch " << r.epochs_run << " (--stop-after)";
  if (!resume.empty()) out << "; run again with --resume " << resume << " to continue";
  out << "\n";
}

/// The optimizer settings a training checkpoint restores (base rate, group scales, clipping, the
/// update rule's hyperparameters, the schedule), one `"name": value` per line (cereal's JSON).
template <class Opt>
std::string optimizer_settings(const Opt& opt) {
  std::ostringstream os;
  {
    cereal::JSONOutputArchive ar(os);
    ar(cereal::make_nvp("config", opt.config()), cereal::make_nvp("update", opt.update_policy()),
       cereal::make_nvp("schedule", opt.schedule()));
  }
  return os.str();
}

/// Loads the training checkpoint at `path` into `trainer` and warns on `log` about every optimizer
/// setting that the checkpoint restores with a value other than the one this run was built with,
/// and about a changed number of epochs: a resumed run keeps the checkpoint's settings, so one
/// resumed with another --lr, --lr-decay or --epochs is not the run its options describe (an
/// exponential schedule's factor, for one, is spread over the new epoch count).
template <class Trainer>
void load_checkpoint_warning_on_changes(const std::string& path, Trainer& trainer, int epochs, std::ostream& log) {
  const std::string mine = optimizer_settings(trainer.optimizer());
  spikelab::load_training_checkpoint(path, trainer);
  const std::string theirs = optimizer_settings(trainer.optimizer());
  if (mine != theirs) {
    std::istringstream a(mine), b(theirs);
    std::string la, lb;
    log << "warning: " << path << " restores optimizer settings that differ from this command line's; the "
        << "checkpoint's are kept (start a new run to change them):\n";
    while (std::getline(a, la) && std::getline(b, lb))
      if (la != lb) log << "  this run:" << la << "  ->  checkpoint:" << lb << "\n";
  }
  // a changed epoch count matters only to schedules that depend on it (exponential to a target
  // factor, cosine), and only for the epochs still to run
  const auto& opt = trainer.optimizer();
  const int was = opt.total_epochs();
  const double from = trainer.progress().epoch;
  bool moved = false;
  for (int k = 0; k <= 16 && was != epochs && from > 0; ++k) {
    const double e = from + (std::max(was, epochs) - from) * k / 16.0;
    moved = moved || opt.schedule().factor(e, was) != opt.schedule().factor(e, epochs);
  }
  if (moved)
    log << "warning: " << path << " was written by a run of " << was << " epochs; this run asks for " << epochs
        << ", so its learning-rate schedule is spread over " << epochs << " epochs from here on (factor now "
        << opt.schedule().factor(from, was) << " of " << was << " epochs, " << opt.schedule().factor(from, epochs)
        << " of " << epochs << ")\n";
}

/// --resume FILE: when FILE exists, loads it into `trainer` (network, optimizer, rule and where
/// the fit stopped), so that the next fit continues from there; returns the callback that writes
/// the training checkpoint to FILE after every epoch and when training stops. An empty path:
/// nothing is loaded and the callback does nothing. Says on `log` what it did.
template <class Trainer>
Maybe<spikelab::TrainingCheckpointEvery> resume_if_asked(Trainer& trainer, const std::string& path, int epochs,
                                                         std::ostream& log) {
  if (path.empty()) return {};
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) {
    load_checkpoint_warning_on_changes(path, trainer, epochs, log);
    const auto& p = trainer.progress();
    log << "resuming from " << path << ": " << p.epoch << " epoch(s) done";
    if (p.batch > 0) log << " and " << p.batch << " batch(es) of epoch " << p.epoch + 1;
    log << "\n";
  } else {
    log << "training checkpoints go to " << path << " (it does not exist yet: starting from epoch 1)\n";
  }
  return Maybe<spikelab::TrainingCheckpointEvery>(spikelab::TrainingCheckpointEvery(path));
}

}  // namespace spikelab_examples

#endif
