// Shared pieces of the probabilistic-SNN example trainers (spikelab-gem, spikelab-vowel,
// spikelab-ml): the N-MNIST pipeline binned as Jang & Simeone (ICASSP 2021) bin MNIST-DVS, a
// synthetic fallback task, per-epoch progress, one training run with its final measurements, and
// the summary table (mean +- sd over seeds). Not part of the library.
#ifndef SPIKELAB_EXAMPLES_PROBABILISTIC_HPP
#define SPIKELAB_EXAMPLES_PROBABILISTIC_HPP

#include <spikelab/spikelab.hpp>

#include "common/command_line.hpp"
#include "common/report.hpp"

#include <cmath>
#include <cstdlib>
#include <functional>
#include <filesystem>
#include <iostream>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace spikelab_examples {

namespace sl = spikelab;

/// Options common to the probabilistic example trainers.
struct ProbOptions {
  std::string task = "nmnist";  // nmnist | synthetic
  std::string data;             // N-MNIST directory (NMNISTsmall layout or Train/Test folders)
  int epochs = 3;
  long hidden = 16;
  long train_samples = 800;     // N-MNIST: first n of train1K train, the rest of train1K + test100 test
  long test_limit = 0;
  long bin_us = 25000;          // MNIST-DVS binning: 25 ms windows, a spike if >= 1 event
  long steps = 12;              // 12 x 25 ms = the 300 ms of an N-MNIST recording
  double downsample = 0.5;      // 34 x 34 -> 17 x 17 pixels
  long bases = 8;               // K_a feed-forward raised cosines
  long memory = 10;             // tau_ff = tau_fb (steps)
  double mu = 0.5;              // kernel compression (kclip raised cosines)
  std::string kernel = "raised_cosine";
  double init = 0.1;
  std::string readout = "paper";  // paper | feedforward
  double lr = -1, kappa = -1, beta = -1;  // < 0: the rule's default
  int threads = 1;
  int jobs = 1;                 // runs trained in parallel threads
  std::uint64_t seed = 1;
  int seeds = 1;
  long bins = 10;               // reliability-diagram bins
  std::string checkpoint;

  void add_to(CommandLine& cli) {
    cli.option("task", task, "nmnist | synthetic (class-conditional random spike patterns, no data needed)")
        .option("data", data, "N-MNIST directory (default: $SPIKELAB_DATA_DIR/nmnist/NMNISTsmall)")
        .option("epochs", epochs, "training epochs")
        .option("hidden", hidden, "hidden neurons / circuits")
        .option("train-samples", train_samples,
                "N-MNIST: train on the first N samples of the train list; test on the rest plus the test list")
        .option("test-limit", test_limit, "use only the first N test samples (0 = all)")
        .option("bin-us", bin_us, "time bin in microseconds (a spike if >= 1 event in the bin)")
        .option("steps", steps, "time steps per sample (bins from t = 0)")
        .option("downsample", downsample, "spatial factor in (0, 1] (0.5: 34x34 -> 17x17)")
        .option("bases", bases, "feed-forward raised-cosine bases K_a")
        .option("memory", memory, "kernel memory tau_ff = tau_fb in steps")
        .option("mu", mu, "kernel compression mu")
        .option("kernel", kernel, "raised_cosine (kclip) | raised_cosine_hrjang | exponential")
        .option("init", init, "initial weights and biases uniform in [-init, init]")
        .option("readout", readout,
                "paper (outputs receive from outputs and their own history, as in the official code) | "
                "feedforward (outputs see only inputs and hidden neurons)")
        .option("lr", lr, "learning rate (default: the rule's)")
        .option("kappa", kappa, "eligibility-trace decay kappa (default: the rule's)")
        .option("beta", beta, "baseline decay beta (default: the rule's)")
        .threads(threads, "threads per run for matrix products and loops")
        .option("jobs", jobs, "runs trained at the same time (one thread each)")
        .seed(seed, "first random seed")
        .seeds(seeds, "runs per configuration, with seeds seed, seed+1, ...")
        .option("bins", bins, "reliability-diagram bins for the ECE")
        .option("checkpoint", checkpoint, "write the last run's network here (.json: JSON, else binary)");
  }

  sl::KernelType kernel_type() const {
    if (kernel == "raised_cosine") return sl::KernelType::raised_cosine;
    if (kernel == "raised_cosine_hrjang") return sl::KernelType::raised_cosine_hrjang;
    if (kernel == "exponential") return sl::KernelType::exponential;
    throw std::invalid_argument("--kernel must be raised_cosine, raised_cosine_hrjang or exponential");
  }
  /// The rule's defaults with the options that were given.
  sl::ThreeFactorConfig rule_config(sl::ThreeFactorConfig c) const {
    if (lr >= 0) c.lr = lr;
    if (kappa >= 0) c.kappa = kappa;
    if (beta >= 0) c.beta = beta;
    return c;
  }
  sl::ProbabilisticSnnConfig network_config(sl::Index inputs, sl::Index outputs) const {
    sl::ProbabilisticSnnConfig c;
    c.inputs = inputs;
    c.hidden = hidden;
    c.outputs = outputs;
    c.feedforward = {kernel_type(), bases, memory, mu};
    c.feedback = {kernel_type(), 1, memory, mu};
    c.init_magnitude = init;
    if (readout == "feedforward") {
      c.output_recurrence = false;
      c.output_feedback = false;
    } else if (readout != "paper") {
      throw std::invalid_argument("--readout must be paper or feedforward");
    }
    return c;
  }
};

// ---- data ----------------------------------------------------------------------------------

using NmnistTransform = sl::Compose<sl::Downsample, sl::ToFrame>;
using NmnistLoader = sl::EventLoader<float, sl::NMnistDataset, NmnistTransform>;

/// Where N-MNIST is: --data, else $SPIKELAB_DATA_DIR/nmnist/NMNISTsmall.
inline std::filesystem::path nmnist_dir(const ProbOptions& o) {
  if (!o.data.empty()) return o.data;
  if (const char* e = std::getenv("SPIKELAB_DATA_DIR")) return std::filesystem::path(e) / "nmnist" / "NMNISTsmall";
  return {};
}

/// Synthetic stand-in: class y makes input circuits i with i % classes == y fire more; a firing
/// circuit emits symbol (i / classes + y) % 2 (two polarity planes).
struct SyntheticSource {
  sl::Index n = 600, batch_size = 1, pixels = 60, classes = 4, steps = 12;
  std::uint64_t seed = 1;
  bool fixed = false;
  sl::Index pos = 0;
  sl::Rng rng{1};
  void start_epoch(std::uint64_t e) {
    pos = 0;
    rng = sl::Rng(seed).fork(fixed ? 0 : e);
  }
  sl::Index batches_per_epoch() const { return (n + batch_size - 1) / batch_size; }
  bool next(sl::Batch<float>& b) {
    const sl::Index B = std::min(batch_size, n - pos);
    if (B <= 0) return false;
    b.input.resize(pixels * 2, B, steps);
    b.input.set_zero();
    b.labels.resize(std::size_t(B));
    b.lengths.clear();
    b.step_labels.clear();
    for (sl::Index s = 0; s < B; ++s) {
      const int y = int(rng.below(std::uint64_t(classes)));
      b.labels[std::size_t(s)] = y;
      for (sl::Index t = 0; t < steps; ++t)
        for (sl::Index i = 0; i < pixels; ++i)
          if (rng.uniform() < (i % classes == y ? 0.35 : 0.08)) b.input(((i / classes + y) % 2) * pixels + i, s, t) = 1.f;
    }
    pos += B;
    return true;
  }
};

/// The data of one experiment: N-MNIST (split and binned) or the synthetic task.
class ExperimentData {
 public:
  explicit ExperimentData(const ProbOptions& o) : o_(o) {
    if (o.task == "synthetic") {
      pixels_ = 60;
      classes_ = 4;
      description_ = "synthetic: 4 classes of random spike patterns over 60 pixels x 2 polarities, " +
                     std::to_string(o.steps) + " steps; 600 training and 300 test samples";
      return;
    }
    if (o.task != "nmnist") throw std::invalid_argument("--task must be nmnist or synthetic");
    const auto dir = nmnist_dir(o);
    std::error_code ec;
    if (dir.empty() || !std::filesystem::is_directory(dir, ec))
      throw std::runtime_error("no N-MNIST data at '" + dir.string() +
                               "'; pass --data DIR (e.g. .../shared/data/nmnist/NMNISTsmall) or use --task synthetic");
    const sl::NMnistDataset train = sl::NMnist::load(dir, "train"), test = sl::NMnist::load(dir, "test");
    const auto& tf = train.files();
    if (o.train_samples <= 0 || o.train_samples > sl::Index(tf.size()))
      throw std::invalid_argument("--train-samples must be in [1, " + std::to_string(tf.size()) + "]");
    std::vector<sl::LabelledFile> a(tf.begin(), tf.begin() + o.train_samples), b(tf.begin() + o.train_samples, tf.end());
    b.insert(b.end(), test.files().begin(), test.files().end());
    if (o.test_limit > 0 && o.test_limit < sl::Index(b.size())) b.resize(std::size_t(o.test_limit));
    if (b.empty()) throw std::invalid_argument("no test samples left (lower --train-samples)");
    train_ = sl::NMnistDataset(std::move(a), train.format(), train.classes());
    test_ = sl::NMnistDataset(std::move(b), train.format(), train.classes());
    transform_ = NmnistTransform(sl::Downsample{o.downsample, 1.0}, sl::ToFrame::fixed_bins(o.bin_us, o.steps, 0, true));
    const sl::Index side = sl::Index(std::floor(33.0 * o.downsample)) + 1;
    pixels_ = side * side;
    classes_ = train.classes();
    std::ostringstream d;
    d << "N-MNIST (" << dir.string() << "): " << train_.size() << " training samples, " << test_.size()
      << " test samples (the rest of the train list + the test list), 10 classes; " << side << "x" << side
      << " pixels (downsample " << o.downsample << ") x 2 polarities, " << o.steps << " bins of " << o.bin_us / 1000.0
      << " ms from t = 0 (a spike if >= 1 event)";
    description_ = d.str();
  }

  const std::string& description() const noexcept { return description_; }
  sl::Index pixels() const noexcept { return pixels_; }
  sl::Index classes() const noexcept { return classes_; }

  /// Calls f(train, train_eval, test) with fresh batch sources (train shuffled with `seed`).
  template <class F>
  auto with_sources(std::uint64_t seed, F&& f) const {
    if (o_.task == "synthetic") {
      SyntheticSource train, train_eval, test;
      train.seed = train_eval.seed = 1000 + o_.seed;  // the same data for every run; only the order varies
      train.steps = train_eval.steps = test.steps = o_.steps;
      train_eval.fixed = true;
      train_eval.batch_size = 10;
      test.n = 300;
      test.seed = 77;
      test.fixed = true;
      test.batch_size = 10;
      (void)seed;
      return f(train, train_eval, test);
    }
    sl::EventLoaderConfig tc;
    tc.batch_size = 1;
    tc.seed = seed;
    tc.steps = o_.steps;
    tc.cache = true;
    sl::EventLoaderConfig ec = tc;
    ec.batch_size = 10;
    ec.shuffle = false;
    NmnistLoader train(train_, transform_, tc), train_eval(train_, transform_, ec), test(test_, transform_, ec);
    return f(train, train_eval, test);
  }

 private:
  ProbOptions o_;
  sl::NMnistDataset train_, test_;
  NmnistTransform transform_{};
  sl::Index pixels_ = 0, classes_ = 0;
  std::string description_;
};

// ---- runs ----------------------------------------------------------------------------------

/// What one training run measured at the end.
struct RunResult {
  std::string config;
  std::uint64_t seed = 0;
  sl::Index K = 1;
  double train_ll_iw = 0, train_ll_mean = 0;
  double test_ll_iw = 0;
  double acc_majority = 0, acc_average = 0, acc_single = 0;
  double ece_majority = 0, ece_average = 0;
  double seconds = 0;
};

/// One line per epoch: the -LL of the targets seen while training online (the weights change
/// at every step, so it is optimistic), then the test -LL and accuracy of the rule's evaluate().
struct EpochPrinter {
  std::string prefix;
  std::mutex* io = nullptr;
  void on_epoch_end(const sl::TrainInfo& i) {
    std::ostringstream s;
    s << prefix << "epoch " << i.epoch << "/" << i.epochs << ": online training -LL/sample " << fixed(i.loss, 2);
    if (i.has_validation)
      s << " | test -LL/sample " << fixed(i.val_loss, 2) << ", accuracy " << fixed(100.0 * i.val_accuracy, 1) << "%";
    s << " | " << fixed(i.epoch_seconds, 1) << " s";
    std::lock_guard<std::mutex> lock(*io);
    std::cout << s.str() << std::endl;
  }
};

/// Trains `net` with `rule` on the data and measures it with K_eval compartments.
template <class Net, class Rule>
RunResult train_and_measure(Net& net, Rule rule, const ExperimentData& data, const ProbOptions& o,
                            const std::string& config, sl::Index K_eval, std::uint64_t seed, std::mutex& io) {
  return data.with_sources(seed, [&](auto& train, auto& train_eval, auto& test) {
    sl::Trainer trainer(net, std::move(rule), sl::NoOptimizer{}, {.seed = seed});
    EpochPrinter printer{"[" + config + " seed " + std::to_string(seed) + "] ", &io};
    const sl::FitResult fit = trainer.fit(train, test, o.epochs, printer);
    sl::Rng rng(seed * 7919 + 17);
    const sl::MultiSampleOptions mo{.compartments = K_eval, .bins = o.bins, .log_likelihood = true};
    const sl::MultiSampleReport tr = sl::evaluate_multi_sample(net, train_eval, mo, rng);
    const sl::MultiSampleReport te = sl::evaluate_multi_sample(net, test, mo, rng);
    const sl::MultiSampleReport t1 =
        sl::evaluate_multi_sample(net, test, {.compartments = 1, .bins = o.bins, .log_likelihood = false}, rng);
    RunResult r;
    r.config = config;
    r.seed = seed;
    r.K = K_eval;
    r.train_ll_iw = tr.ll_iw;
    r.train_ll_mean = tr.ll_mean;
    r.test_ll_iw = te.ll_iw;
    r.acc_majority = te.majority.accuracy();
    r.acc_average = te.average.accuracy();
    r.acc_single = t1.majority.accuracy();
    r.ece_majority = te.majority.ece();
    r.ece_average = te.average.ece();
    r.seconds = fit.seconds;
    std::ostringstream s;
    s << "[" << config << " seed " << seed << "] done in " << fixed(fit.seconds, 1) << " s: train LL "
      << fixed(r.train_ll_iw, 2) << ", test accuracy " << fixed(100 * r.acc_majority, 1) << "% (majority) / "
      << fixed(100 * r.acc_average, 1) << "% (average), ECE " << fixed(r.ece_majority, 3) << " / "
      << fixed(r.ece_average, 3);
    std::lock_guard<std::mutex> lock(io);
    std::cout << s.str() << std::endl;
    return r;
  });
}

/// Runs tasks (each returning a RunResult) on `jobs` threads, in order of submission; every
/// thread uses `threads` threads for its own matrix products and loops (OpenMP's thread
/// count is a per-thread setting, so each worker sets it).
inline std::vector<RunResult> run_all(std::vector<std::function<RunResult()>> tasks, int jobs, int threads) {
  std::vector<RunResult> out(tasks.size());
  std::mutex m;
  std::size_t next = 0;
  std::exception_ptr err;
  auto worker = [&] {
    sl::set_num_threads(threads);
    for (;;) {
      std::size_t i;
      {
        std::lock_guard<std::mutex> lock(m);
        if (next >= tasks.size() || err) return;
        i = next++;
      }
      try {
        out[i] = tasks[i]();
      } catch (...) {
        std::lock_guard<std::mutex> lock(m);
        if (!err) err = std::current_exception();
      }
    }
  };
  std::vector<std::thread> pool;
  for (int j = 1; j < std::max(1, jobs); ++j) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (err) std::rethrow_exception(err);
  return out;
}

/// The summary table: one row per configuration (in order of first appearance), mean +- sd
/// over its seeds.
inline void print_table(const std::vector<RunResult>& runs, const std::string& first_column) {
  std::vector<std::string> configs;
  for (const auto& r : runs)
    if (std::find(configs.begin(), configs.end(), r.config) == configs.end()) configs.push_back(r.config);
  std::cout << "\n| " << first_column
            << " | seeds | train LL (K-sample IW) | train LL (mean) | test LL (IW) | test acc % (majority) | "
               "test acc % (average) | test acc % (1 sample) | ECE (majority) | ECE (average) |\n"
            << "|---|---|---|---|---|---|---|---|---|---|\n";
  for (const auto& c : configs) {
    std::vector<double> a, b, d, e, f, g, h, k, one;
    for (const auto& r : runs)
      if (r.config == c) {
        a.push_back(r.train_ll_iw);
        b.push_back(r.train_ll_mean);
        d.push_back(r.test_ll_iw);
        e.push_back(r.acc_majority);
        f.push_back(r.acc_average);
        one.push_back(r.acc_single);
        g.push_back(r.ece_majority);
        h.push_back(r.ece_average);
        k.push_back(r.seconds);
      }
    std::cout << "| " << c << " | " << a.size() << " | " << mean_sd(a, 2) << " | " << mean_sd(b, 2) << " | "
              << mean_sd(d, 2) << " | " << mean_sd(e, 1, 100) << " | " << mean_sd(f, 1, 100) << " | "
              << mean_sd(one, 1, 100) << " | " << mean_sd(g, 3) << " | " << mean_sd(h, 3) << " |\n";
  }
  std::cout << std::flush;
}

template <class Net>
void save_if_asked(const Net& net, const ProbOptions& o) {
  if (o.checkpoint.empty()) return;
  const bool json = o.checkpoint.size() > 5 && o.checkpoint.substr(o.checkpoint.size() - 5) == ".json";
  sl::save_checkpoint(o.checkpoint, net, json ? sl::CheckpointFormat::json : sl::CheckpointFormat::binary);
  std::cout << "checkpoint of the last run written to: " << std::filesystem::absolute(o.checkpoint).string() << "\n";
}

}  // namespace spikelab_examples

#endif
