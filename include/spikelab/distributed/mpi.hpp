/**
 * @file distributed/mpi.hpp
 * @brief Data-parallel training over MPI: MpiSession (RAII init/finalize), MpiCommunicator
 *        (collectives with a deadline), DistributedRule<Rule> (gradient or update averaging with
 *        one fused allreduce per step), ShardedSource<Src> (each rank's slice of every global
 *        batch) and RootOnly<Callback> (checkpoints and printing on rank 0 only). Optional: needs
 *        the `spikelab::mpi` CMake target (option SPIKELAB_WITH_MPI), which defines SPIKELAB_HAS_MPI.
 *
 * Data parallelism. With N ranks, rank r trains on a shard of each global batch and the
 * per-rank results are combined as a weighted mean
 * \f[ g = \frac{\sum_r w_r\, g_r}{\sum_r w_r}, \qquad w_r = \text{the loss's normaliser on rank } r \f]
 * (for gradient rules Tally::total of the step: samples for the per-sample losses, scored
 * steps for StepCrossEntropy; for online rules, which report no tally, the samples). Every spikelab loss is a mean over exactly that count, so g equals the
 * gradient of one process on the whole global batch (up to float rounding: the fused buffer is
 * summed in double). All parameter gradients (for a GradientRule) or parameter updates
 * theta_after - theta_before (for an OnlineRule such as GEM or VOWEL) are packed into ONE
 * buffer of doubles together with w_r, w_r * loss_r and the tally, reduced with one
 * MPI_Iallreduce per step, divided by sum w_r and unpacked; every rank then holds the same
 * gradient, so the optimizer (Adam state included) keeps the weights identical on all ranks.
 * The first training step broadcasts rank 0's parameters, so ranks also start identical.
 * For an online rule the average equals the one-process update exactly when the rule computes
 * its batch update from the weights at the start of the batch (tested with a BPTT-SGD online
 * rule); GEM and VOWEL update at every time step, so N ranks run N shorter trajectories from
 * the same weights and average them each batch (local SGD with per-batch averaging): close to,
 * not bit-equal to, one process on the whole batch.
 *
 * Failure. MPI_ERRORS_RETURN is set on the communicator; every collective is non-blocking and
 * polled (MPI_Test) against a deadline (MpiOptions::timeout_seconds); a rank that died or
 * stalled makes the others throw MpiError naming the rank, the operation and the step instead
 * of hanging. The MpiSession destructor then calls MPI_Abort rather than MPI_Finalize (which
 * would wait for the lost rank). (With Open MPI, mpirun itself also ends the job when a rank
 * exits without MPI_Finalize or on a signal.)
 *
 * Determinism. For the halves-equal-whole property the network must be deterministic in
 * training (no dropout / noise: each rank's Rng sees other samples than one process would)
 * and every rank must build the same global batches (same data, same seed): ShardedSource
 * slices a global batch that every rank generates, so shuffling and stochastic encoders agree
 * with the one-process run. Data loading is therefore not divided among ranks (the compute —
 * forward, BPTT — is); for costly loaders shard the data set itself.
 *
 * Callbacks that may stop training must decide the same way on every rank: losses and tallies
 * are reduced, so EarlyStopping on validation accuracy agrees; wrap wall-clock or file-writing
 * callbacks (TimeLimit, CheckpointEvery, TrainingCheckpointEvery, ProgressPrinter, CsvLogger) in
 * RootOnly, which runs them on rank 0 and broadcasts any stop decision.
 *
 * @code
 * @article{sergeev2018horovod, title={Horovod: fast and easy distributed deep learning in TensorFlow},
 *   author={Sergeev, Alexander and Del Balso, Mike}, journal={arXiv preprint arXiv:1802.05799}, year={2018}}
 * @endcode
 */
#ifndef SPIKELAB_DISTRIBUTED_MPI_HPP
#define SPIKELAB_DISTRIBUTED_MPI_HPP

#ifndef SPIKELAB_HAS_MPI
#error "spikelab/distributed/mpi.hpp needs MPI: link the spikelab::mpi CMake target (SPIKELAB_WITH_MPI)"
#endif

#include <spikelab/core/batch.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/learning/concepts.hpp>
#include <spikelab/training/trainer.hpp>

#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <concepts>
#include <cstdint>
#include <exception>
#include <limits>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace spikelab {

/// A collective call failed or did not complete before its deadline.
class MpiError : public Error {
 public:
  using Error::Error;
};

/// Deadlines and polling of an MpiCommunicator's collectives.
struct MpiOptions {
  /// Seconds a collective may take before MpiError (a peer died or stalled).
  double timeout_seconds = 300.0;
  /// A waiting collective is polled (MPI_Test drives its progress) without pause for this long,
  /// then with poll_interval sleeps between polls, so that a stalled peer costs little CPU.
  std::chrono::microseconds spin{2000};
  std::chrono::microseconds poll_interval{100};  ///< the sleep between two polls after `spin`
};

namespace detail {
/// Shared between a session and its communicators: the first failure makes the session abort.
struct MpiHealth {
  bool failed = false;
};

inline std::string mpi_error_string(int code) {
  char buf[MPI_MAX_ERROR_STRING];
  int len = 0;
  if (MPI_Error_string(code, buf, &len) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(buf, std::size_t(len));
}

template <class S>
MPI_Datatype mpi_type() {
  if constexpr (std::same_as<S, double>) return MPI_DOUBLE;
  else if constexpr (std::same_as<S, float>) return MPI_FLOAT;
  else if constexpr (std::same_as<S, int>) return MPI_INT;
  else if constexpr (std::same_as<S, std::int64_t>) return MPI_INT64_T;
  else static_assert(sizeof(S) == 0, "no MPI datatype for this type");
}
}  // namespace detail

/**
 * A communicator whose collectives are non-blocking requests polled against a deadline.
 * Rank-aware errors: "MPI rank 0 of 2: allreduce (gradients, step 17) did not complete
 * within 30 s ...".
 */
class MpiCommunicator {
 public:
  /// Collectives over `comm`, whose errors are returned to spikelab (and thrown as MpiError).
  /// @param comm the communicator
  /// @param opt deadlines and polling
  /// @param health the shared health record of the MpiSession (null for a standalone communicator)
  MpiCommunicator(MPI_Comm comm, MpiOptions opt = {}, detail::MpiHealth* health = nullptr)
      : comm_(comm), opt_(opt), health_(health) {
    check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
    check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
  }

  /// This process's rank.
  int rank() const noexcept { return rank_; }
  /// The number of ranks.
  int size() const noexcept { return size_; }
  /// True on rank 0.
  bool root() const noexcept { return rank_ == 0; }
  /// The MPI communicator.
  MPI_Comm handle() const noexcept { return comm_; }
  /// Deadlines and polling.
  const MpiOptions& options() const noexcept { return opt_; }

  /// In-place sum over all ranks. `what` names the operation in errors.
  template <class T>
  void allreduce_sum(T* data, std::size_t n, const std::string& what) {
    MPI_Request req = MPI_REQUEST_NULL;
    check(MPI_Iallreduce(MPI_IN_PLACE, data, count(n, what), detail::mpi_type<T>(), MPI_SUM, comm_, &req),
          "allreduce (" + what + ")");
    wait(req, "allreduce (" + what + ")");
  }
  /// Copies rank `root`'s data to every rank.
  template <class T>
  void broadcast(T* data, std::size_t n, int root, const std::string& what) {
    MPI_Request req = MPI_REQUEST_NULL;
    check(MPI_Ibcast(data, count(n, what), detail::mpi_type<T>(), root, comm_, &req), "broadcast (" + what + ")");
    wait(req, "broadcast (" + what + ")");
  }
  /// All ranks reach this point (or MpiError after the deadline).
  void barrier(const std::string& what) {
    MPI_Request req = MPI_REQUEST_NULL;
    check(MPI_Ibarrier(comm_, &req), "barrier (" + what + ")");
    wait(req, "barrier (" + what + ")");
  }

 private:
  int count(std::size_t n, const std::string& what) const {
    if (n > std::size_t(std::numeric_limits<int>::max()))
      throw MpiError(prefix() + what + ": " + std::to_string(n) + " elements exceed MPI's int count");
    return int(n);
  }
  std::string prefix() const {
    return "MPI rank " + std::to_string(rank_) + " of " + std::to_string(size_) + ": ";
  }
  void fail() const {
    if (health_) health_->failed = true;
  }
  void check(int code, const std::string& what) const {
    if (code == MPI_SUCCESS) return;
    fail();
    throw MpiError(prefix() + what + " failed: " + detail::mpi_error_string(code));
  }
  void wait(MPI_Request& req, const std::string& what) const {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const auto deadline = start + std::chrono::duration_cast<clock::duration>(
                                      std::chrono::duration<double>(opt_.timeout_seconds));
    for (;;) {
      int done = 0;
      const int code = MPI_Test(&req, &done, MPI_STATUS_IGNORE);
      if (code != MPI_SUCCESS) {
        fail();
        throw MpiError(prefix() + what + " failed: " + detail::mpi_error_string(code));
      }
      if (done) return;
      const auto now = clock::now();
      if (now > deadline) {
        fail();
        std::ostringstream os;
        os << prefix() << what << " did not complete within " << opt_.timeout_seconds
           << " s: another rank has died or stalled";
        throw MpiError(os.str());
      }
      if (now - start > opt_.spin) std::this_thread::sleep_for(opt_.poll_interval);
    }
  }

  MPI_Comm comm_;
  MpiOptions opt_;
  detail::MpiHealth* health_ = nullptr;
  int rank_ = 0, size_ = 1;
};

/**
 * RAII MPI environment: MPI_Init (unless already initialised) and, at the end, a barrier with
 * the deadline followed by MPI_Finalize; if a collective failed or the barrier times out
 * (a lost rank), MPI_Abort instead, so that no process waits for a dead peer.
 */
class MpiSession {
 public:
  /// Initialises MPI unless it already is (the destructor finalises it, or aborts after a failure).
  /// @param argc the program's argument count, as MPI_Init takes it
  /// @param argv the program's arguments, as MPI_Init takes them
  /// @param opt deadlines and polling of the world communicator
  MpiSession(int& argc, char**& argv, MpiOptions opt = {}) : opt_(opt) {
    int init = 0;
    MPI_Initialized(&init);
    if (!init) {
      int provided = 0;
      if (MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        throw MpiError("MPI_Init_thread failed");
      owner_ = true;
    }
    world_ = std::make_unique<MpiCommunicator>(MPI_COMM_WORLD, opt_, &health_);
  }
  MpiSession(const MpiSession&) = delete;
  MpiSession& operator=(const MpiSession&) = delete;
  ~MpiSession() {
    if (!owner_) return;
    if (!health_.failed && std::uncaught_exceptions() == 0) {
      try {
        world_->barrier("finalize");
      } catch (const MpiError&) {
        health_.failed = true;
      }
    }
    if (health_.failed || std::uncaught_exceptions() > 0)
      MPI_Abort(MPI_COMM_WORLD, 1);
    else
      MPI_Finalize();
  }

  /// The world communicator.
  MpiCommunicator& world() noexcept { return *world_; }
  /// This process's rank.
  int rank() const noexcept { return world_->rank(); }
  /// The number of ranks.
  int size() const noexcept { return world_->size(); }
  /// True on rank 0.
  bool root() const noexcept { return world_->root(); }
  /// Marks the run as failed: the destructor aborts the job instead of finalising.
  void mark_failed() noexcept { health_.failed = true; }

 private:
  MpiOptions opt_;
  detail::MpiHealth health_;
  std::unique_ptr<MpiCommunicator> world_;
  bool owner_ = false;
};

/// Copies rank 0's parameter values to every rank (one fused broadcast).
template <class Net>
void broadcast_parameters(Net& net, MpiCommunicator& comm) {
  using S = typename Net::scalar_type;
  std::vector<S> buf;
  net.for_each_parameter([&](ParamRef<S> p) { buf.insert(buf.end(), p.value.data(), p.value.data() + p.value.size()); });
  comm.broadcast(buf.data(), buf.size(), 0, "initial parameters");
  std::size_t k = 0;
  net.for_each_parameter([&](ParamRef<S> p) {
    std::copy(buf.begin() + std::ptrdiff_t(k), buf.begin() + std::ptrdiff_t(k + std::size_t(p.value.size())), p.value.data());
    k += std::size_t(p.value.size());
  });
}

/// Which per-rank count weights the average.
enum class ShardWeight : std::uint8_t {
  automatic,  ///< tally for gradient rules, samples for online rules (GEM/VOWEL report no tally)
  tally,      ///< Tally::total of the step (the normaliser of every spikelab loss)
  samples,    ///< samples in the rank's batch
};

/// How a DistributedRule weighs the ranks' shards and whether it broadcasts rank 0's initial
/// parameters.
struct DistributedConfig {
  ShardWeight weight = ShardWeight::automatic;  ///< how the ranks' shards are weighed
  bool broadcast_initial_parameters = true;  ///< copy rank 0's weights on the first step
};

/**
 * DistributedRule<Rule>: wraps a GradientRule (provides accumulate/evaluate) or an OnlineRule
 * (provides train_batch/evaluate) and averages across ranks as in the file comment. The
 * communicator must outlive the rule. evaluate() reduces loss and tally as well, so all ranks
 * report the global figures.
 */
/// @tparam Rule the wrapped rule (a GradientRule or an OnlineRule)
template <class Rule>
class DistributedRule {
 public:
  /// Wraps `rule`; `comm` is kept by reference and must outlive the rule.
  /// @param rule the learning rule run on every rank
  /// @param comm the communicator of the ranks
  /// @param cfg the shard weights and the initial broadcast
  DistributedRule(Rule rule, MpiCommunicator& comm, DistributedConfig cfg = {})
      : rule_(std::move(rule)), comm_(&comm), cfg_(cfg) {}

  /// The wrapped rule.
  Rule& inner() noexcept { return rule_; }
  /// The wrapped rule.
  const Rule& inner() const noexcept { return rule_; }
  /// The communicator.
  MpiCommunicator& communicator() noexcept { return *comm_; }
  /// Training steps (allreduces) done so far.
  std::uint64_t steps() const noexcept { return step_; }
  /// Seconds spent in this rule's collectives (waiting for slower ranks included).
  double communication_seconds() const noexcept { return comm_seconds_; }

  /// "Distributed<" + the wrapped rule's name + ">": a training checkpoint records it, so that
  /// one written by a data-parallel run is continued by a data-parallel run (on any number of
  /// ranks, since every rank holds the same state).
  static std::string name()
    requires requires { { Rule::name() } -> std::convertible_to<std::string>; }
  {
    return "Distributed<" + std::string(Rule::name()) + ">";
  }
  /// What a training checkpoint stores: the wrapped rule's state (the same on every rank); the
  /// step count and the time spent communicating are statistics of this process.
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(cereal::make_nvp("rule", rule_));
  }

  /// Forward pass, loss and backward pass of one batch, adding to the gradients (GradientRule).
  template <class Net>
    requires GradientRule<Rule, Net>
  StepStats accumulate(Net& net, const Batch<typename Net::scalar_type>& batch, Rng& rng) {
    using S = typename Net::scalar_type;
    sync_start(net);
    StepStats st;
    if (batch.batch() > 0) st = rule_.accumulate(net, batch, rng);
    const double w = weight(st, batch, ShardWeight::tally);
    buf_.clear();
    if (comm_->size() == 1) {
      // one rank: the weighted mean of one gradient is that gradient (w g / w is exact in
      // double), so only the statistics go through the collective
      if (reduce(st, w, "gradients") <= 0) net.for_each_parameter([&](ParamRef<S> p) { p.grad.setZero(); });
      return st;
    }
    net.for_each_parameter([&](ParamRef<S> p) {
      const S* g = p.grad.data();
      for (Index k = 0; k < p.grad.size(); ++k) buf_.push_back(w * double(g[k]));
    });
    const double W = reduce(st, w, "gradients");
    std::size_t k = 0;
    net.for_each_parameter([&](ParamRef<S> p) {
      S* g = p.grad.data();
      for (Index i = 0; i < p.grad.size(); ++i, ++k) g[i] = W > 0 ? S(buf_[k] / W) : S(0);
    });
    return st;
  }

  /// Trains on one batch, updating the network step by step (OnlineRule).
  template <class Net>
    requires OnlineRule<Rule, Net>
  StepStats train_batch(Net& net, const Batch<typename Net::scalar_type>& batch, Rng& rng) {
    using S = typename Net::scalar_type;
    sync_start(net);
    before_.clear();
    net.for_each_parameter([&](ParamRef<S> p) {
      const S* v = p.value.data();
      for (Index k = 0; k < p.value.size(); ++k) before_.push_back(double(v[k]));
    });
    StepStats st;
    if (batch.batch() > 0) st = rule_.train_batch(net, batch, rng);
    const double w = weight(st, batch, ShardWeight::samples);
    buf_.clear();
    std::size_t k = 0;
    net.for_each_parameter([&](ParamRef<S> p) {
      const S* v = p.value.data();
      for (Index i = 0; i < p.value.size(); ++i, ++k) buf_.push_back(w * (double(v[i]) - before_[k]));
    });
    const double W = reduce(st, w, "parameter updates");
    k = 0;
    net.for_each_parameter([&](ParamRef<S> p) {
      S* v = p.value.data();
      for (Index i = 0; i < p.value.size(); ++i, ++k) v[i] = S(before_[k] + (W > 0 ? buf_[k] / W : 0.0));
    });
    return st;
  }

  /// Measures loss and decisions on a batch without learning.
  template <class Net>
    requires GradientRule<Rule, Net>
  StepStats evaluate(Net& net, const Batch<typename Net::scalar_type>& batch) {
    StepStats st;
    if (batch.batch() > 0) st = rule_.evaluate(net, batch);
    reduce_stats(st, batch, ShardWeight::tally, "evaluation");
    return st;
  }
  /// Measures loss and decisions on a batch without learning.
  template <class Net>
    requires OnlineRule<Rule, Net>
  StepStats evaluate(Net& net, const Batch<typename Net::scalar_type>& batch, Rng& rng) {
    StepStats st;
    if (batch.batch() > 0) st = rule_.evaluate(net, batch, rng);
    reduce_stats(st, batch, ShardWeight::samples, "evaluation");
    return st;
  }

 private:
  template <class Net>
  void sync_start(Net& net) {
    if (step_ == 0 && cfg_.broadcast_initial_parameters && comm_->size() > 1) broadcast_parameters(net, *comm_);
    ++step_;
  }
  template <class S>
  double weight(const StepStats& st, const Batch<S>& batch, ShardWeight automatic) const {
    const ShardWeight w = cfg_.weight == ShardWeight::automatic ? automatic : cfg_.weight;
    return w == ShardWeight::tally ? double(st.tally.total) : double(batch.batch());
  }
  /// Appends (w, w*loss, correct, total) to buf_, sums buf_ over ranks, sets st to the global
  /// weighted-mean loss and summed tally, and returns the summed weight.
  double reduce(StepStats& st, double w, const char* what) {
    buf_.push_back(w);
    buf_.push_back(w * st.loss);
    buf_.push_back(double(st.tally.correct));
    buf_.push_back(double(st.tally.total));
    const auto t0 = std::chrono::steady_clock::now();
    comm_->allreduce_sum(buf_.data(), buf_.size(), std::string(what) + ", step " + std::to_string(step_));
    comm_seconds_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::size_t n = buf_.size();
    const double W = buf_[n - 4];
    st.loss = W > 0 ? buf_[n - 3] / W : 0.0;
    st.tally.correct = Index(buf_[n - 2] + 0.5);
    st.tally.total = Index(buf_[n - 1] + 0.5);
    buf_.resize(n - 4);
    return W;
  }
  template <class S>
  void reduce_stats(StepStats& st, const Batch<S>& batch, ShardWeight automatic, const char* what) {
    buf_.clear();
    reduce(st, weight(st, batch, automatic), what);
  }

  Rule rule_;
  MpiCommunicator* comm_;
  DistributedConfig cfg_;
  std::uint64_t step_ = 0;
  double comm_seconds_ = 0.0;
  std::vector<double> buf_, before_;
};

/**
 * ShardedSource<Src>: rank r of N keeps the contiguous slice [r*B/N, (r+1)*B/N) of every global
 * batch of `src` (B = that batch's size; integer division, so slices differ by at most one
 * sample and every rank sees the same number of batches, possibly empty slices).
 */
/// @tparam Src the source of the global batches (a BatchSource)
template <class Src>
class ShardedSource {
 public:
  /// Rank `rank`'s slice of every batch of `src`; throws ConfigError unless 0 <= rank < size.
  /// @param src the source of the global batches (kept by reference)
  /// @param rank this process's rank
  /// @param size the number of ranks
  ShardedSource(Src& src, int rank, int size) : src_(&src), rank_(rank), size_(size) {
    if (size < 1 || rank < 0 || rank >= size)
      throw ConfigError("ShardedSource: rank " + std::to_string(rank) + " outside a world of " + std::to_string(size));
  }
  /// The slice of the calling rank of `comm`.
  /// @param src the source of the global batches (kept by reference)
  /// @param comm the communicator whose rank and size are used
  ShardedSource(Src& src, const MpiCommunicator& comm) : ShardedSource(src, comm.rank(), comm.size()) {}

  /// Starts an epoch: a new order when shuffling (BatchSource).
  void start_epoch(std::uint64_t epoch) { src_->start_epoch(epoch); }
  /// Global batches per epoch (BatchSource).
  auto batches_per_epoch() const { return src_->batches_per_epoch(); }

  /// Fills the next batch; false at the end of the epoch (BatchSource).
  template <class S>
  bool next(Batch<S>& out) {
    if (!src_->next(global_scratch<S>())) return false;
    slice(global_scratch<S>(), out);
    return true;
  }

  /// Samples [lo, hi) of a global batch of B samples that this rank keeps.
  std::pair<Index, Index> range(Index B) const noexcept {
    return {Index(B * rank_ / size_), Index(B * (rank_ + 1) / size_)};
  }

 private:
  template <class S>
  Batch<S>& global_scratch() {
    if constexpr (std::same_as<S, float>) return gf_; else return gd_;
  }
  template <class S>
  void slice(const Batch<S>& g, Batch<S>& out) const {
    const Index B = g.batch(), T = g.steps(), F = g.input.features();
    const auto [lo, hi] = range(B);
    const Index b = hi - lo;
    out.input.resize(F, b, T);
    for (Index t = 0; t < T; ++t)
      if (b > 0) out.input.values().middleCols(t * b, b) = g.input.values().middleCols(t * B + lo, b);
    out.labels.clear();
    if (!g.labels.empty()) out.labels.assign(g.labels.begin() + lo, g.labels.begin() + hi);
    out.lengths.clear();
    if (!g.lengths.empty()) out.lengths.assign(g.lengths.begin() + lo, g.lengths.begin() + hi);
    out.step_labels.clear();
    if (!g.step_labels.empty()) {
      out.step_labels.resize(std::size_t(b * T));
      for (Index t = 0; t < T; ++t)
        for (Index s = 0; s < b; ++s) out.step_labels[std::size_t(t * b + s)] = g.step_labels[std::size_t(t * B + lo + s)];
    }
  }

  Src* src_;
  int rank_, size_;
  Batch<float> gf_;
  Batch<double> gd_;
};

/**
 * RootOnly<Callback>: runs a callback's hooks on rank 0 only (printing, checkpoints, CSV logs);
 * a hook that can stop training (returns bool) has its decision broadcast, so that all ranks
 * stop together. RootOnly's hooks take the trainer, so a callback whose hooks need it
 * (TrainingCheckpointEvery: the optimizer and rule state) gets it as without RootOnly.
 */
/// @tparam C the wrapped callback
template <class C>
class RootOnly {
 public:
  /// Runs `callback`'s hooks on rank 0 only (a hook's decision to stop is broadcast to every rank).
  /// @param callback the callback
  /// @param comm the communicator (kept by reference)
  RootOnly(C callback, MpiCommunicator& comm) : c_(std::move(callback)), comm_(&comm) {}
  /// The wrapped callback.
  C& callback() noexcept { return c_; }

#define SPIKELAB_DETAIL_ROOT_HOOK(NAME)                                                          \
  template <class Tr>                                                                           \
    requires requires(Tr& t) { t.net(); t.progress(); }                                         \
  auto NAME(const TrainInfo& i, Tr& tr) {                                                       \
    constexpr bool stops = requires { { c_.NAME(i, tr.net()) } -> std::same_as<bool>; } ||       \
                           requires { { c_.NAME(i, tr) } -> std::same_as<bool>; } ||             \
                           requires { { c_.NAME(i) } -> std::same_as<bool>; };                    \
    int flag = comm_->root() ? int(detail::hook_##NAME(c_, i, tr.net(), tr)) : 0;               \
    if constexpr (stops) {                                                                      \
      comm_->broadcast(&flag, 1, 0, std::string("stop decision of ") + #NAME);                   \
      return flag != 0;                                                                         \
    }                                                                                           \
  }
  SPIKELAB_DETAIL_ROOT_HOOK(on_train_begin)
  SPIKELAB_DETAIL_ROOT_HOOK(on_epoch_begin)
  SPIKELAB_DETAIL_ROOT_HOOK(on_batch_end)
  SPIKELAB_DETAIL_ROOT_HOOK(on_epoch_end)
  SPIKELAB_DETAIL_ROOT_HOOK(on_train_end)
#undef SPIKELAB_DETAIL_ROOT_HOOK

 private:
  C c_;
  MpiCommunicator* comm_;
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class R), (spikelab::DistributedRule<R>), 1)

#endif
