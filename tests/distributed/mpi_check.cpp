// spikelab_mpi_check: run under `mpirun -np 2` by ctest (tests/CMakeLists.txt). Modes:
//   equal   two ranks on halves of every batch == one process on the whole batch, for a gradient
//           rule (BPTT + Adam, float and double) and for an online rule (update averaging); the
//           ranks end bit-identical; rank 0 trains the one-process reference itself.
//   stall   rank 1 stops taking part at step 3; rank 0 must fail with a clear MpiError (timeout 3 s).
//   kill    rank 1 kills itself (SIGKILL) at step 3; the job must end (mpirun reports it).
// Prints "PASS ..." lines and returns 0 on success; "FAIL ..." and 1 otherwise.
#include <spikelab/distributed/mpi.hpp>
#include <spikelab/spikelab.hpp>

#include <chrono>
#include <csignal>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

namespace sl = spikelab;

namespace {

template <class S>
using Hidden = sl::LifType<S, sl::FastSigmoid, sl::SubtractReset,
                           sl::LifOptions{.beta = sl::Train::per_neuron, .recurrent = true}>;
template <class S>
using Net = sl::Sequential<sl::Linear<S>, Hidden<S>, sl::Linear<S>, sl::LeakyIntegrator<S>>;

template <class S>
Net<S> make_net() {
  sl::Rng rng(7);
  const sl::LifConfig lif{.beta = 0.9, .threshold = 1.0};
  return Net<S>{sl::Linear<S>(40, 24, rng), Hidden<S>(24, rng, lif), sl::Linear<S>(24, 2, rng),
                sl::LeakyIntegrator<S>(2, {.beta = 0.8})};
}

template <class NetT>
std::vector<double> parameters(NetT& net) {
  using S = typename NetT::scalar_type;
  std::vector<double> v;
  net.for_each_parameter([&](sl::ParamRef<S> p) {
    for (sl::Index k = 0; k < p.value.size(); ++k) v.push_back(double(p.value.data()[k]));
  });
  return v;
}

std::string sci(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2e", x);
  return buf;
}

int failures = 0;
void expect(bool ok, int rank, const std::string& what) {
  if (rank == 0 || !ok) std::cout << (ok ? "PASS " : "FAIL ") << "rank " << rank << ": " << what << std::endl;
  if (!ok) ++failures;
}

/// Every rank's vector equals rank 0's, bit for bit.
bool identical_across_ranks(const std::vector<double>& v, sl::MpiCommunicator& comm) {
  std::vector<double> root = v;
  comm.broadcast(root.data(), root.size(), 0, "check");
  int same = root == v ? 1 : 0;
  comm.allreduce_sum(&same, 1, "check");
  return same == comm.size();
}

double max_rel_diff(const std::vector<double>& a, const std::vector<double>& b) {
  double m = 0, scale = 1e-30;
  for (std::size_t i = 0; i < a.size(); ++i) {
    m = std::max(m, std::abs(a[i] - b[i]));
    scale = std::max(scale, std::abs(b[i]));
  }
  return m / scale;
}

/// MTS-XOR, 29 samples in global batches of 7 (7,7,7,7,1: the last one leaves rank 0 empty with
/// two ranks), StepCrossEntropy (per-rank normaliser = scored steps, unequal across ranks).
template <class S>
void check_gradient_rule(sl::MpiCommunicator& comm, double tol) {
  const std::string tag = std::string("BPTT+Adam ") + (std::same_as<S, float> ? "f32" : "f64");
  using Opt = sl::Optimizer<S, sl::Adam>;
  auto net = make_net<S>();
  {
    sl::MtsXorSource<S> data(29, 7, 11);
    sl::ShardedSource<sl::MtsXorSource<S>> shard(data, comm);
    sl::Trainer trainer(net, sl::DistributedRule(sl::Bptt<sl::StepCrossEntropy>{}, comm), Opt({.lr = 1e-2}));
    const auto r = trainer.fit(shard, 2);
    expect(std::isfinite(r.train_loss), comm.rank(), tag + ": distributed training ran, loss " + std::to_string(r.train_loss));
  }
  const auto dist = parameters(net);
  expect(identical_across_ranks(dist, comm), comm.rank(), tag + ": weights bit-identical on all ranks");
  if (comm.root()) {
    auto ref = make_net<S>();
    const auto init = parameters(ref);
    sl::MtsXorSource<S> data(29, 7, 11);
    sl::Trainer trainer(ref, sl::Bptt<sl::StepCrossEntropy>{}, Opt({.lr = 1e-2}));
    trainer.fit(data, 2);
    const auto whole = parameters(ref);
    const double d = max_rel_diff(dist, whole), moved = max_rel_diff(init, whole);
    expect(moved > 1e-3, 0, tag + ": training moved the weights (max rel change " + sci(moved) + ")");
    expect(d <= tol, 0, tag + ": halves == whole batch, max rel diff " + sci(d) + " <= " + sci(tol));
  }
}

/// A tiny online rule: it updates the network itself, W -= lr * dL/dW after each batch (plain
/// SGD through BPTT), standing in for GEM/VOWEL, which average their updates the same way.
struct SgdOnline {
  double lr = 0.05;
  sl::Bptt<sl::StepCrossEntropy> bptt;
  template <class N>
  sl::StepStats train_batch(N& net, const sl::Batch<typename N::scalar_type>& b, sl::Rng& rng) {
    using S = typename N::scalar_type;
    net.zero_grad();
    const sl::StepStats st = bptt.accumulate(net, b, rng);
    net.for_each_parameter([&](sl::ParamRef<S> p) {
      p.value -= S(lr) * p.grad;
      p.value = p.value.cwiseMax(p.lower).cwiseMin(p.upper);
    });
    return st;
  }
  template <class N>
  sl::StepStats evaluate(N& net, const sl::Batch<typename N::scalar_type>& b, sl::Rng&) {
    return bptt.evaluate(net, b);
  }
};

void check_online_rule(sl::MpiCommunicator& comm) {
  auto net = make_net<double>();
  {
    sl::MtsXorSource<double> data(32, 8, 5);
    sl::ShardedSource<sl::MtsXorSource<double>> shard(data, comm);
    static_assert(sl::OnlineRule<sl::DistributedRule<SgdOnline>, Net<double>>);
    sl::Trainer trainer(net, sl::DistributedRule(SgdOnline{}, comm));
    trainer.fit(shard, 2);
  }
  const auto dist = parameters(net);
  expect(identical_across_ranks(dist, comm), comm.rank(), "online rule f64: weights bit-identical on all ranks");
  if (comm.root()) {
    auto ref = make_net<double>();
    const auto init = parameters(ref);
    sl::MtsXorSource<double> data(32, 8, 5);
    sl::Trainer trainer(ref, SgdOnline{});
    trainer.fit(data, 2);
    const auto whole = parameters(ref);
    const double d = max_rel_diff(dist, whole);
    expect(max_rel_diff(init, whole) > 1e-3, 0, "online rule f64: training moved the weights");
    expect(d <= 1e-9, 0, "online rule f64: averaged updates == whole batch, max rel diff " + sci(d));
  }
}

/// RootOnly: hooks run on rank 0 only; a stop decision taken there stops every rank.
void check_root_only(sl::MpiCommunicator& comm) {
  struct Counter {
    int* epochs;
    void on_epoch_end(const sl::TrainInfo&) { ++*epochs; }
  };
  struct StopAfterFirst {  // decides on rank 0 only (other ranks never run it)
    bool on_epoch_end(const sl::TrainInfo& i) { return i.epoch >= 1; }
  };
  int counted = 0;
  auto net = make_net<float>();
  sl::MtsXorSource<float> data(32, 8, 5);
  sl::ShardedSource<sl::MtsXorSource<float>> shard(data, comm);
  sl::Trainer trainer(net, sl::DistributedRule(sl::Bptt<sl::StepCrossEntropy>{}, comm),
                      sl::Optimizer<float, sl::Adam>({.lr = 1e-2}));
  const auto r = trainer.fit(shard, 3, sl::RootOnly(Counter{&counted}, comm), sl::RootOnly(StopAfterFirst{}, comm));
  expect(counted == (comm.root() ? 1 : 0), comm.rank(), "RootOnly: the callback ran on rank 0 only");
  int stopped = r.epochs_run == 1 && r.stopped_early ? 1 : 0;
  comm.allreduce_sum(&stopped, 1, "check");
  expect(stopped == comm.size(), comm.rank(), "RootOnly: rank 0's stop decision stopped every rank after epoch 1");
}

/// Trains until step 3, where rank 1 stalls or dies.
void check_failure(sl::MpiCommunicator& comm, const std::string& mode) {
  auto net = make_net<float>();
  sl::MtsXorSource<float> data(400, 8, 3);
  sl::ShardedSource<sl::MtsXorSource<float>> shard(data, comm);
  struct Saboteur {
    int rank;
    std::string mode;
    void on_batch_end(const sl::TrainInfo& i) {
      if (rank != 1 || i.batch != 3) return;
      if (mode == "kill") std::raise(SIGKILL);
      std::this_thread::sleep_for(std::chrono::seconds(120));  // stall: never join the next allreduce
    }
  };
  sl::Trainer trainer(net, sl::DistributedRule(sl::Bptt<sl::StepCrossEntropy>{}, comm),
                      sl::Optimizer<float, sl::Adam>({.lr = 1e-2}));
  trainer.fit(shard, 1, Saboteur{comm.rank(), mode});
  std::cout << "FAIL rank " << comm.rank() << ": training finished although rank 1 " << mode << "ed" << std::endl;
  ++failures;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "equal";
  sl::set_num_threads(1);
  sl::MpiSession mpi(argc, argv, {.timeout_seconds = mode == "equal" ? 120.0 : 3.0});
  try {
    auto& comm = mpi.world();
    if (mode == "equal") {
      check_gradient_rule<double>(comm, 1e-9);
      check_gradient_rule<float>(comm, 1e-4);
      check_online_rule(comm);
      check_root_only(comm);
    } else {
      check_failure(comm, mode);
    }
  } catch (const std::exception& e) {
    std::cout << "error: " << e.what() << std::endl;
    return 1;
  }
  return failures ? 1 : 0;
}
