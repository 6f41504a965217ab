// Shared pieces of the probabilistic-SNN example trainers (spikelab-gem, spikelab-vowel,
// spikelab-ml): the N-MNIST pipeline binned as the GEM / VOWEL codes bin MNIST-DVS, a synthetic
// fallback task, the MNIST-DVS spike patterns of the GEM paper's prediction task, --protocol
// presets, the GEM family's rules by name, one training run with its per-epoch measurements
// (resumable, one CSV row per epoch), and the summary tables (mean +- sd over seeds, also
// regenerated from a CSV file). Not part of the library.
//
// Measurements separate training from estimation: every network, whatever K it was trained
// with, is measured with the same number N of evaluation samples (--eval-samples): the 1-sample
// test log-likelihood and the K-sample bound at the training K from the same N runs, accuracy and
// ECE of the averaged spike-count distributions of N free runs.
#ifndef SPIKELAB_EXAMPLES_PROBABILISTIC_HPP
#define SPIKELAB_EXAMPLES_PROBABILISTIC_HPP

#include <spikelab/spikelab.hpp>

#include "common/command_line.hpp"
#include "common/report.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <type_traits>
#include <vector>

namespace spikelab_examples {

namespace sl = spikelab;

/// Options common to the probabilistic example trainers.
struct ProbOptions {
  std::string task = "nmnist";  // nmnist | synthetic (| prediction: spikelab-gem)
  std::string digits;           // N-MNIST: keep only these digits, relabelled 0.. (empty: all 10)
  std::string data;             // N-MNIST directory (NMNISTsmall layout) or MNIST-DVS directory (prediction)
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
  double fb_mu = -1;            // feedback kernel's mu (< 0: --mu)
  std::string kernel = "raised_cosine";
  double init = 0.1;
  std::string topology = "gem-code";
  double lr = -1, kappa = -1, beta = -1;  // < 0: the rule's default
  int lr_halve_every = 0;       // halve the learning rate every n epochs (0: constant)
  long eval_samples = 8;        // N: samples per input of every measurement
  long train_eval = 200;        // training samples whose 1-sample log-likelihood is measured
  int threads = 1;
  int jobs = 1;                 // runs trained in parallel threads
  std::uint64_t seed = 1;
  int seeds = 1;
  long bins = 10;               // reliability-diagram bins
  std::string checkpoint;
  std::string csv;
  std::string resume;
  std::string summarize;

  void add_to(CommandLine& cli) {
    cli.option("task", task, "nmnist | synthetic (class-conditional random spike patterns, no data needed)")
        .option("data", data, "N-MNIST directory (default: $SPIKELAB_DATA_DIR/nmnist/NMNISTsmall)")
        .option("epochs", epochs, "training epochs")
        .option("hidden", hidden, "hidden neurons / circuits")
        .option("digits", digits,
                "N-MNIST: comma-separated digits to keep, relabelled 0, 1, ... in this order (the GEM code's "
                "--digits 2 is 1,7; empty: all 10)")
        .option("train-samples", train_samples,
                "N-MNIST: train on the first N samples of the train list; test on the rest plus the test list")
        .option("test-limit", test_limit, "use only the first N test samples (0 = all)")
        .option("bin-us", bin_us, "time bin in microseconds (a spike if >= 1 event in the bin)")
        .option("steps", steps, "time steps per sample (bins from t = 0)")
        .option("downsample", downsample, "spatial factor in (0, 1] (0.5: 34x34 -> 17x17)")
        .option("bases", bases, "feed-forward raised-cosine bases K_a")
        .option("memory", memory, "kernel memory tau_ff = tau_fb in steps")
        .option("mu", mu, "kernel compression mu")
        .option("fb-mu", fb_mu, "the feedback kernel's mu (< 0: --mu)")
        .option("kernel", kernel, "raised_cosine (kclip) | raised_cosine_hrjang | exponential")
        .option("init", init, "initial weights and biases uniform in [-init, init]")
        .option("topology", topology,
                std::string("connections: ") + sl::ProbabilisticTopology::preset_names +
                    " (gem-code: outputs see inputs, hidden and outputs; kclip-feedforward: outputs see only hidden "
                    "neurons and outputs; kclip-binary: gem-code plus hidden <- output; direct-readout: outputs see "
                    "inputs and hidden neurons only; hidden-readout: outputs see hidden neurons only)")
        .option("lr", lr, "learning rate (default: the rule's)")
        .option("kappa", kappa, "eligibility-trace decay kappa (default: the rule's)")
        .option("beta", beta, "baseline decay beta (default: the rule's)")
        .option("lr-halve-every", lr_halve_every, "halve the learning rate every N epochs (0: constant)")
        .option("eval-samples", eval_samples,
                "N: samples per input of every measurement, whatever K the network was trained with (1-sample LL, "
                "K-sample bound, accuracy and ECE of the averaged distributions)")
        .option("train-eval", train_eval, "training samples whose log-likelihood is measured after each epoch")
        .threads(threads, "threads per run for matrix products and loops")
        .option("jobs", jobs, "runs trained at the same time (one thread each)")
        .seed(seed, "first random seed")
        .seeds(seeds, "runs per configuration, with seeds seed, seed+1, ...")
        .option("bins", bins, "reliability-diagram bins for the ECE")
        .option("checkpoint", checkpoint, "write the last run's network here (.json: JSON, else binary)")
        .csv(csv, "append one row per run and epoch here (rule, K, hidden, topology, seed, epoch, train_ll, "
                  "test_ll_1, test_ll_K, acc, ece, ...)")
        .option("resume", resume,
                "training checkpoints: run R writes FILE.<R>.ckpt after every epoch and continues from it when it "
                "exists (same options, same --threads)")
        .option("summarize", summarize, "print the summary tables of a CSV file written with --csv, and exit");
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
  sl::ProbabilisticTopology topology_value(const std::string& name) const {
    try {
      return sl::ProbabilisticTopology::from_name(name);
    } catch (const sl::ConfigError& e) {
      throw std::invalid_argument(std::string("--topology: ") + e.what());
    }
  }
  sl::ProbabilisticSnnConfig network_config(sl::Index inputs, sl::Index outputs, const std::string& topo = {},
                                            double feedback_mu = -1) const {
    sl::ProbabilisticSnnConfig c;
    c.inputs = inputs;
    c.hidden = hidden;
    c.outputs = outputs;
    c.feedforward = {kernel_type(), bases, memory, mu};
    const double fm = feedback_mu > 0 ? feedback_mu : fb_mu > 0 ? fb_mu : mu;
    c.feedback = {kernel_type(), 1, memory, fm};
    c.init_magnitude = init;
    c.topology = topology_value(topo.empty() ? topology : topo);
    return c;
  }
  void check() const {
    if (eval_samples < 1) throw std::invalid_argument("--eval-samples must be >= 1");
    if (train_eval < 1) throw std::invalid_argument("--train-eval must be >= 1");
    if (lr_halve_every < 0) throw std::invalid_argument("--lr-halve-every must be >= 0");
    (void)topology_value(topology);
  }
};

/// The task as the CSV names it: "nmnist", "nmnist-1-7" (--digits 1,7), "synthetic", "prediction".
inline std::string task_name(const ProbOptions& o) {
  if (o.task != "nmnist" || o.digits.empty()) return o.task;
  std::string t = "nmnist-" + o.digits;
  std::replace(t.begin(), t.end(), ',', '-');
  return t;
}

// ---- protocols -----------------------------------------------------------------------------

/// One value a --protocol sets: the option, its value as text, where the value comes from, and
/// how to set it (before the command line is parsed, so that an option given there wins).
struct ProtocolSetting {
  std::string option, value, source;
  std::function<void()> apply;
};

template <class T>
ProtocolSetting set_option(const std::string& option, T& field, std::type_identity_t<T> value, const std::string& source) {
  std::ostringstream v;
  v << value;
  return {option, v.str(), source, [&field, value] { field = value; }};
}

/// Applies a protocol's settings (call before CommandLine::parse).
inline void apply_protocol(const std::vector<ProtocolSetting>& p) {
  for (const auto& s : p) s.apply();
}

/// Prints what the protocol sets, marking the options the command line overrode.
inline void print_protocol(const std::string& name, const std::vector<ProtocolSetting>& p, CommandLine& cli) {
  if (p.empty()) return;
  std::cout << "protocol " << name << " sets (an option given on the command line wins):\n";
  for (const auto& s : p) {
    const bool given = cli.app().count("--" + s.option) > 0;
    std::cout << "  --" << s.option << " " << s.value << "  [" << s.source << "]"
              << (given ? "  (overridden on the command line)" : "") << "\n";
  }
}

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
    int classes = train.classes();
    if (!o.digits.empty()) {  // keep the listed digits, relabelled by their position in the list
      const std::vector<int> keep = parse_list<int>("digits", o.digits, 0);
      auto filter = [&](std::vector<sl::LabelledFile>& v) {
        std::vector<sl::LabelledFile> out;
        for (auto f : v) {
          const auto it = std::find(keep.begin(), keep.end(), f.label);
          if (it == keep.end()) continue;
          f.label = int(it - keep.begin());
          out.push_back(std::move(f));
        }
        v = std::move(out);
      };
      filter(a);
      filter(b);
      classes = int(keep.size());
      if (a.empty()) throw std::invalid_argument("--digits: no training sample left");
    }
    if (o.test_limit > 0 && o.test_limit < sl::Index(b.size())) b.resize(std::size_t(o.test_limit));
    if (b.empty()) throw std::invalid_argument("no test samples left (lower --train-samples)");
    train_ = sl::NMnistDataset(std::move(a), train.format(), classes);
    test_ = sl::NMnistDataset(std::move(b), train.format(), classes);
    transform_ = NmnistTransform(sl::Downsample{o.downsample, 1.0}, sl::ToFrame::fixed_bins(o.bin_us, o.steps, 0, true));
    const sl::Index side = sl::Index(std::floor(33.0 * o.downsample)) + 1;
    pixels_ = side * side;
    classes_ = classes;
    std::ostringstream d;
    d << "N-MNIST (" << dir.string() << "): " << train_.size() << " training samples, " << test_.size()
      << " test samples (the rest of the train list + the test list), " << classes
      << (o.digits.empty() ? std::string(" classes") : " classes (digits " + o.digits + ")") << "; " << side << "x" << side
      << " pixels (downsample " << o.downsample << ") x 2 polarities, " << o.steps << " bins of " << o.bin_us / 1000.0
      << " ms from t = 0 (a spike if >= 1 event)";
    description_ = d.str();
  }

  const std::string& description() const noexcept { return description_; }
  sl::Index pixels() const noexcept { return pixels_; }
  sl::Index classes() const noexcept { return classes_; }

  /// Calls f(train, train_eval, test) with fresh batch sources (train shuffled with `seed`;
  /// train_eval = the first --train-eval training samples).
  template <class F>
  auto with_sources(std::uint64_t seed, F&& f) const {
    if (o_.task == "synthetic") {
      SyntheticSource train, train_eval, test;
      train.seed = train_eval.seed = 1000 + o_.seed;  // the same data for every run; only the order varies
      train.steps = train_eval.steps = test.steps = o_.steps;
      train_eval.fixed = true;
      train_eval.batch_size = 10;
      train_eval.n = std::min<sl::Index>(train.n, o_.train_eval);
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
    sl::EventLoaderConfig tec = ec;
    tec.limit = o_.train_eval;
    NmnistLoader train(train_, transform_, tc), train_eval(train_, transform_, tec), test(test_, transform_, ec);
    return f(train, train_eval, test);
  }

 private:
  ProbOptions o_;
  sl::NMnistDataset train_, test_;
  NmnistTransform transform_{};
  sl::Index pixels_ = 0, classes_ = 0;
  std::string description_;
};

/// The GEM paper's prediction (memorisation) task on MNIST-DVS: each recording cropped to
/// 26 x 26 pixels (x, y in [48, 73]), polarities merged (a pixel spikes in a 25 ms bin if it had
/// >= 1 event of either polarity), 80 bins = 2 s; the upper half of the image (rows y < 13, 338
/// pixels) is the input, the lower half (338 pixels) the output pattern to reproduce.
class PatternData {
 public:
  static constexpr sl::Index side = 26, half = side * side / 2, steps = 80;

  explicit PatternData(const ProbOptions& o) {
    std::filesystem::path dir = o.data;
    if (dir.empty())
      if (const char* e = std::getenv("SPIKELAB_DATA_DIR")) dir = std::filesystem::path(e) / "mnist_dvs";
    std::error_code ec;
    if (dir.empty() || !std::filesystem::is_directory(dir, ec))
      throw std::runtime_error("no MNIST-DVS data at '" + dir.string() + "'; pass --data DIR (e.g. .../shared/data/mnist_dvs)");
    const sl::MnistDvsDataset all = sl::MnistDvs::load(dir, "all", 4);
    if (all.size() < 2) throw std::runtime_error("MNIST-DVS: need at least 2 scale-4 recordings in '" + dir.string() + "'");
    using T = sl::Compose<sl::Crop, sl::MergePolarities, sl::ToFrame>;
    const T tf(sl::Crop{48, 48, side, side}, sl::MergePolarities{}, sl::ToFrame::fixed_bins(25000, steps, 0, true));
    sl::EventLoaderConfig c;
    c.batch_size = 1;
    c.shuffle = false;
    c.steps = steps;
    sl::EventLoader<float, sl::MnistDvsDataset, T> loader(all, tf, c);
    loader.start_epoch(0);
    sl::Batch<float> b;
    while (loader.next(b)) {
      if (b.input.features() != side * side)
        throw std::runtime_error("MNIST-DVS: a frame has " + std::to_string(b.input.features()) + " features, expected 676");
      sl::Batch<float> x;
      x.input.resize(half, 1, steps);
      sl::TimeSeries<float> y(half, 1, steps);
      for (sl::Index t = 0; t < steps; ++t) {
        x.input.slot(t) = b.input.slot(t).topRows(half);
        y.slot(t) = b.input.slot(t).bottomRows(half);
      }
      inputs_.push_back(std::move(x));
      outputs_.push_back(std::move(y));
    }
    std::ostringstream d;
    d << "MNIST-DVS digit 0, scale 4 (" << dir.string() << "): " << inputs_.size()
      << " recordings; 26x26 crop, polarities merged, 80 bins of 25 ms; input = upper half (338 pixels), "
         "output pattern = lower half (338 pixels)";
    description_ = d.str();
  }
  sl::Index recordings() const noexcept { return sl::Index(inputs_.size()); }
  const sl::Batch<float>& input(sl::Index i) const { return inputs_.at(std::size_t(i)); }
  const sl::TimeSeries<float>& output(sl::Index i) const { return outputs_.at(std::size_t(i)); }
  const std::string& description() const noexcept { return description_; }

 private:
  std::vector<sl::Batch<float>> inputs_;
  std::vector<sl::TimeSeries<float>> outputs_;
  std::string description_;
};

// ---- the GEM family by name ----------------------------------------------------------------

/// The rule names spikelab-gem accepts.
inline constexpr const char* gem_family_names = "gem, iw, iwb, mb, single, single-reinforce";

/// Calls f(rule) with the rule named `name` and K training compartments: gem (GEM), iw (IW), iwb
/// (IW-b, K >= 2), mb (MB), single (the single-sample rule, EM form = GEM with K = 1) and
/// single-reinforce (its REINFORCE form = IW / MB with K = 1); single* need K = 1.
template <class F>
auto with_gem_family_rule(const std::string& name, sl::Index K, const sl::ThreeFactorConfig& c, F&& f) {
  if (name == "gem") return f(sl::Gem<>(c, sl::GemSignal<>(K)));
  if (name == "iw") return f(sl::Iw<>(c, sl::IwSignal<>(K)));
  if (name == "iwb") {
    if (K < 2) throw std::invalid_argument("rule iwb (VIMCO baselines) needs K >= 2");
    return f(sl::Iwb<>(c, sl::IwbSignal<>(K)));
  }
  if (name == "mb") return f(sl::Mb<>(c, sl::MbSignal<>(K)));
  if (name == "single" || name == "single-reinforce") {
    if (K != 1) throw std::invalid_argument("rule " + name + " is single-sample: K must be 1");
    return f(sl::SingleSampleMl(c, sl::SingleSampleSignal(name == "single" ? sl::SingleSampleSignal::Hidden::em
                                                                           : sl::SingleSampleSignal::Hidden::reinforce)));
  }
  throw std::invalid_argument("unknown rule '" + name + "' (known: " + gem_family_names + ")");
}

// ---- runs, measurements and the CSV log ----------------------------------------------------

/// What identifies a run (a CSV row adds the epoch and the measurements).
struct RunSpec {
  std::string task = "nmnist";
  std::string rule;
  sl::Index K = 1;
  sl::Index hidden = 0;
  std::string topology;
  std::uint64_t seed = 1;

  std::string label() const {
    return rule + " K=" + std::to_string(K) + " hidden=" + std::to_string(hidden) + " " + topology + " seed " +
           std::to_string(seed);
  }
  /// For file names: "gem-K4-h16-kclip-feedforward-s3".
  std::string file_tag() const {
    return task + "-" + rule + "-K" + std::to_string(K) + "-h" + std::to_string(hidden) + "-" + topology + "-s" +
           std::to_string(seed);
  }
};

/// One measurement of a network (a CSV row with its RunSpec). NaN = not measured.
struct Metrics {
  static constexpr double nan = std::numeric_limits<double>::quiet_NaN();
  int epoch = 0;
  double train_ll = nan;      ///< 1-sample LL of the training samples (training pattern)
  double test_ll_1 = nan;     ///< 1-sample LL of the test samples
  double test_ll_K = nan;     ///< K-sample bound at the training K (from the same N samples)
  double acc = nan, ece = nan;  ///< averaged distributions of N free runs
  double acc_1 = nan;         ///< accuracy of one run
  double acc_majority = nan, ece_majority = nan;  ///< vote fractions of N runs
  double test_ll_N = nan;     ///< N-sample bound
  double train_ll_K = nan;    ///< prediction task: K-sample bound on the training pattern
  double distance = nan, distance_majority = nan;  ///< prediction task: filtered spike-train distances
  double seconds = 0;         ///< training time so far in this process
};

inline const std::vector<std::string>& csv_columns() {
  static const std::vector<std::string> c = {
      "rule", "K", "hidden", "topology", "seed", "epoch", "train_ll", "test_ll_1", "test_ll_K", "acc", "ece",
      "acc_1", "acc_majority", "ece_majority", "test_ll_N", "eval_samples", "train_ll_K", "distance",
      "distance_majority", "task", "seconds"};
  return c;
}

/// Appends rows to a CSV file (a header first when the file is new or empty); thread-safe.
class CsvLog {
 public:
  explicit CsvLog(std::string path) : path_(std::move(path)) {}
  bool enabled() const noexcept { return !path_.empty(); }
  void write(const RunSpec& r, const Metrics& m, long eval_samples) {
    if (path_.empty()) return;
    std::lock_guard<std::mutex> lock(mutex_);
    std::error_code ec;
    const bool fresh = !std::filesystem::exists(path_, ec) || std::filesystem::file_size(path_, ec) == 0;
    std::ofstream f(path_, std::ios::app);
    if (!f) throw std::runtime_error("cannot append to the CSV file '" + path_ + "'");
    if (fresh) {
      const auto& c = csv_columns();
      for (std::size_t i = 0; i < c.size(); ++i) f << (i ? "," : "") << c[i];
      f << "\n";
    }
    auto num = [](double v) { return std::isfinite(v) ? fixed(v, 6) : std::string(); };
    f << r.rule << "," << r.K << "," << r.hidden << "," << r.topology << "," << r.seed << "," << m.epoch << ","
      << num(m.train_ll) << "," << num(m.test_ll_1) << "," << num(m.test_ll_K) << "," << num(m.acc) << ","
      << num(m.ece) << "," << num(m.acc_1) << "," << num(m.acc_majority) << "," << num(m.ece_majority) << ","
      << num(m.test_ll_N) << "," << eval_samples << "," << num(m.train_ll_K) << "," << num(m.distance) << ","
      << num(m.distance_majority) << "," << r.task << "," << fixed(m.seconds, 1) << "\n";
    if (!f) throw std::runtime_error("cannot write to the CSV file '" + path_ + "'");
  }

 private:
  std::string path_;
  std::mutex mutex_;
};

/// A run's identity and its last measurement.
struct RunResult {
  RunSpec spec;
  Metrics last;
};

/// Sets the rule's learning rate to lr0 / 2^floor((epoch - 1) / every) at the start of each epoch
/// (kclip's first code halves it every 3 epochs for WTA networks, every epoch for binary ones).
template <class Tr>
struct LrHalving {
  double lr0 = 0;
  int every = 0;
  void on_epoch_begin(const sl::TrainInfo& i, Tr& t) {
    if (every > 0) t.rule().config().lr = lr0 * std::pow(0.5, double((i.epoch - 1) / every));
  }
};

/// After each epoch: measures the network with N evaluation samples, prints a line and writes a
/// CSV row.
template <class Net, class Train, class Test>
struct EpochEvaluator {
  Train* train_eval;
  Test* test;
  const ProbOptions* o;
  RunSpec spec;
  CsvLog* csv;
  std::mutex* io;
  Metrics last{};
  bool measured = false;

  Metrics measure(Net& net, int epoch) {
    const sl::Index N = o->eval_samples;
    sl::Rng rng = sl::Rng(spec.seed * 7919 + 17).fork(std::uint64_t(epoch));
    const sl::MultiSampleOptions mo{.compartments = N, .bins = o->bins, .log_likelihood = true, .bounds = {1, spec.K}};
    const sl::MultiSampleReport te = sl::evaluate_multi_sample(net, *test, mo, rng);
    const sl::MultiSampleReport tr = sl::evaluate_multi_sample(
        net, *train_eval, {.compartments = N, .bins = o->bins, .log_likelihood = true, .bounds = {1}, .decisions = false},
        rng);
    Metrics m;
    m.epoch = epoch;
    m.train_ll = tr.ll_bound[0];
    m.test_ll_1 = te.ll_bound[0];
    m.test_ll_K = te.ll_bound[1];
    m.test_ll_N = te.ll_iw;
    m.acc = te.average.accuracy();
    m.ece = te.average.ece();
    m.acc_1 = te.single_accuracy;
    m.acc_majority = te.majority.accuracy();
    m.ece_majority = te.majority.ece();
    return m;
  }
  void on_epoch_end(const sl::TrainInfo& i, Net& net) {
    last = measure(net, i.epoch);
    last.seconds = i.total_seconds;
    measured = true;
    csv->write(spec, last, o->eval_samples);
    std::ostringstream s;
    s << "[" << spec.label() << "] epoch " << i.epoch << "/" << i.epochs << " (" << fixed(i.epoch_seconds, 1)
      << " s): train LL " << fixed(last.train_ll, 2) << " | test LL 1-sample " << fixed(last.test_ll_1, 2) << ", "
      << spec.K << "-sample " << fixed(last.test_ll_K, 2) << " | acc " << fixed(100 * last.acc, 1) << "% (1 run "
      << fixed(100 * last.acc_1, 1) << "%), ECE " << fixed(last.ece, 3);
    std::lock_guard<std::mutex> lock(*io);
    std::cout << s.str() << std::endl;
  }
};

/// Trains `net` with `rule` for --epochs epochs (resumable with --resume), measuring it after
/// every epoch; returns the last measurement.
template <class Net, class Rule>
RunResult train_run(Net& net, Rule rule, const ExperimentData& data, const ProbOptions& o, const RunSpec& spec,
                    CsvLog& csv, std::mutex& io, int lr_halve_every) {
  if (spec.K > o.eval_samples)
    throw std::invalid_argument("--eval-samples (" + std::to_string(o.eval_samples) + ") must be >= every K (" +
                                std::to_string(spec.K) + ")");
  return data.with_sources(spec.seed, [&](auto& train, auto& train_eval, auto& test) {
    sl::Trainer trainer(net, std::move(rule), sl::NoOptimizer{}, {.seed = spec.seed});
    using Tr = decltype(trainer);
    LrHalving<Tr> lr{trainer.rule().config().lr, lr_halve_every};
    EpochEvaluator<Net, std::remove_reference_t<decltype(train_eval)>, std::remove_reference_t<decltype(test)>> ev{
        &train_eval, &test, &o, spec, &csv, &io};
    if (o.resume.empty()) {
      trainer.fit(train, o.epochs, lr, ev);
    } else {
      const std::filesystem::path ck = o.resume + "." + spec.file_tag() + ".ckpt";
      std::error_code ec;
      if (std::filesystem::exists(ck, ec)) {
        sl::load_training_checkpoint(ck, trainer);
        std::lock_guard<std::mutex> lock(io);
        std::cout << "[" << spec.label() << "] continuing from " << ck.string() << " (epoch "
                  << trainer.progress().epoch << " done)" << std::endl;
      }
      trainer.fit(train, o.epochs, lr, ev, sl::TrainingCheckpointEvery(ck));
    }
    if (!ev.measured) ev.last = ev.measure(net, o.epochs);  // the checkpoint had finished every epoch
    return RunResult{spec, ev.last};
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

// ---- summary tables ------------------------------------------------------------------------

/// The summary tables: for each configuration (task, rule, K, hidden, topology; in order of
/// first appearance) the mean +- sd over seeds of each run's last measurement. Classification
/// and prediction runs get a table each.
inline void print_tables(const std::vector<RunResult>& runs) {
  struct Group {
    RunSpec spec;
    std::vector<const Metrics*> m;
    int epochs = 0;
  };
  std::vector<Group> groups;
  for (const auto& r : runs) {
    auto same = [&](const Group& g) {
      return g.spec.task == r.spec.task && g.spec.rule == r.spec.rule && g.spec.K == r.spec.K &&
             g.spec.hidden == r.spec.hidden && g.spec.topology == r.spec.topology;
    };
    auto it = std::find_if(groups.begin(), groups.end(), same);
    if (it == groups.end()) {
      groups.push_back({r.spec, {}, 0});
      it = groups.end() - 1;
    }
    it->m.push_back(&r.last);
    it->epochs = std::max(it->epochs, r.last.epoch);
  }
  auto col = [](const Group& g, double Metrics::*f, int digits, double scale = 1.0) {
    std::vector<double> v;
    for (const Metrics* m : g.m)
      if (std::isfinite(m->*f)) v.push_back(m->*f);
    return v.empty() ? std::string("-") : mean_sd(v, digits, scale);
  };
  bool header_c = false, header_p = false;
  for (const auto& g : groups) {
    const std::string key = "| " + g.spec.task + " | " + g.spec.rule + " | " + std::to_string(g.spec.K) + " | " +
                            std::to_string(g.spec.hidden) +
                            " | " + g.spec.topology + " | " + std::to_string(g.m.size()) + " | " + std::to_string(g.epochs);
    if (g.spec.task == "prediction") {
      if (!header_p)
        std::cout << "\n| task | rule | K | hidden | topology | seeds | presentations | pattern LL (1 sample) | pattern "
                     "LL (K-sample bound) | distance D | distance D (majority) | held-out LL (1 sample) | held-out LL "
                     "(K-sample bound) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
      header_p = true;
      std::cout << key << " | " << col(g, &Metrics::train_ll, 1) << " | " << col(g, &Metrics::train_ll_K, 1) << " | "
                << col(g, &Metrics::distance, 4) << " | " << col(g, &Metrics::distance_majority, 4) << " | "
                << col(g, &Metrics::test_ll_1, 1) << " | " << col(g, &Metrics::test_ll_K, 1) << " |\n";
    } else {
      if (!header_c)
        std::cout << "\n| task | rule | K | hidden | topology | seeds | epochs | train LL (1 sample) | test LL (1 "
                     "sample) | test LL (K-sample bound) | test acc % | ECE | acc % (1 run) | acc % (majority) | ECE "
                     "(majority) |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n";
      header_c = true;
      std::cout << key << " | " << col(g, &Metrics::train_ll, 2) << " | " << col(g, &Metrics::test_ll_1, 2) << " | "
                << col(g, &Metrics::test_ll_K, 2) << " | " << col(g, &Metrics::acc, 1, 100) << " | "
                << col(g, &Metrics::ece, 3) << " | " << col(g, &Metrics::acc_1, 1, 100) << " | "
                << col(g, &Metrics::acc_majority, 1, 100) << " | " << col(g, &Metrics::ece_majority, 3) << " |\n";
    }
  }
  std::cout << std::flush;
}

/// Reads a CSV file written with --csv and returns each run's last row (a run = task, rule, K,
/// hidden, topology and seed; of several rows for the same epoch, the last one written).
inline std::vector<RunResult> read_runs(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw std::runtime_error("cannot read the CSV file '" + path + "'");
  std::string line;
  if (!std::getline(f, line)) throw std::runtime_error(path + ": empty file");
  auto split = [](const std::string& s) {
    std::vector<std::string> v;
    std::stringstream ss(s);
    std::string x;
    while (std::getline(ss, x, ',')) v.push_back(x);
    if (!s.empty() && s.back() == ',') v.push_back("");
    return v;
  };
  const std::vector<std::string> head = split(line);
  std::map<std::string, std::size_t> at;
  for (std::size_t i = 0; i < head.size(); ++i) at[head[i]] = i;
  for (const char* need : {"rule", "K", "hidden", "topology", "seed", "epoch"})
    if (!at.count(need)) throw std::runtime_error(path + ": no column '" + need + "'");
  std::vector<RunResult> runs;
  long row = 1;
  while (std::getline(f, line)) {
    ++row;
    if (line.empty()) continue;
    const std::vector<std::string> v = split(line);
    auto get = [&](const char* c) -> std::string {
      const auto it = at.find(c);
      return it == at.end() || it->second >= v.size() ? std::string() : v[it->second];
    };
    auto num = [&](const char* c) {
      const std::string s = get(c);
      if (s.empty()) return Metrics::nan;
      try {
        return std::stod(s);
      } catch (...) {
        throw std::runtime_error(path + ", line " + std::to_string(row) + ": column " + c + " is not a number: '" + s + "'");
      }
    };
    RunResult r;
    r.spec.task = get("task").empty() ? "nmnist" : get("task");
    r.spec.rule = get("rule");
    r.spec.K = sl::Index(num("K"));
    r.spec.hidden = sl::Index(num("hidden"));
    r.spec.topology = get("topology");
    r.spec.seed = std::uint64_t(num("seed"));
    Metrics& m = r.last;
    m.epoch = int(num("epoch"));
    m.train_ll = num("train_ll");
    m.test_ll_1 = num("test_ll_1");
    m.test_ll_K = num("test_ll_K");
    m.acc = num("acc");
    m.ece = num("ece");
    m.acc_1 = num("acc_1");
    m.acc_majority = num("acc_majority");
    m.ece_majority = num("ece_majority");
    m.test_ll_N = num("test_ll_N");
    m.train_ll_K = num("train_ll_K");
    m.distance = num("distance");
    m.distance_majority = num("distance_majority");
    auto same = [&](const RunResult& q) {
      return q.spec.task == r.spec.task && q.spec.rule == r.spec.rule && q.spec.K == r.spec.K &&
             q.spec.hidden == r.spec.hidden && q.spec.topology == r.spec.topology && q.spec.seed == r.spec.seed;
    };
    const auto it = std::find_if(runs.begin(), runs.end(), same);
    if (it == runs.end())
      runs.push_back(r);
    else if (r.last.epoch >= it->last.epoch)
      *it = r;
  }
  return runs;
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
