// spikelab-thresholds: trainable against fixed neuron thresholds on N-MNIST (Mahmoodi Takaghaj &
// Sampson, "To spike or not to spike", AICAS 2025; arXiv 2024 "Rouser"), and what the reset's
// gradient does to them.
//
// Network: 34x34x2 -> H -> H -> 10 of current-based LIF neurons (synaptic current decay 0.75,
// membrane decay 0.97: the fractions retained per step), reset to zero, per-neuron thresholds in
// every layer, the exponential surrogate dS/dV = c (s/tau) exp(-|V - Th|/tau), spike-rate MSE on
// the output spikes (target rates 0.2 / 0.03), Adam for the weights and (with their own learning
// rate) the thresholds. The variants of one invocation are the product of --thresholds (initial
// threshold of the hidden layers; the output layer starts at --output-threshold, 1.25, or under a
// --protocol at the hidden layers' value; --threshold is the old spelling) and --lr-thresholds (0 = fixed: the paper's lr_Th = 0 ablation), each
// run under every --reset-gradient (kept / detached / linear, neurons/reset.hpp) and seed. A seed
// gives every variant the same initial weights.
//
// --protocol rouser sets the paper's N-MNIST setting as Lava-DL runs it (Table II; Lava-DL's
// N-MNIST tutorial for what the paper leaves open): H = 500, 300 binary bins of 1 ms, Th 1.25,
// s 1.5, tau 3.75 with Lava-DL's amplitude (c = 0.1), the linear reset gradient of Lava-DL,
// PyTorch's default weights U(+-1/sqrt(fan_in)), batch 32, Adam 1e-3, lr_Th in {0, 1e-3}.
// --protocol rouser-ablation: (Th, tau, s) = (0.25, 3, 3), lr_Th in {0, 1e-2} (Fig. 6b).
// --protocol rouser-grid: fixed thresholds 0, 0.25, 0.5, 0.75, 1 for 10 epochs (Fig. 2).
// Every value a protocol sets is printed; options given on the command line override it.
//
// Per epoch and run it records the test accuracy, the fraction of dead neurons per layer (never
// fired during the training epoch; epoch 0 = before training, on the training set), the mean spike
// rate and the mean threshold per layer (--csv, one row per reset gradient, variant, seed and
// epoch); then the epochs each run needs to reach the --targets accuracies. --resume STEM keeps a
// training checkpoint per run (STEM.<reset gradient>.<variant>.seed<k>) and continues from it,
// reusing the rows the CSV already holds (give each setting its own STEM and CSV: the names hold
// the reset gradient, the variant and the seed only). Writes thresholds_accuracy.svg and
// thresholds_dead.svg.
#include <spikelab/spikelab.hpp>

#include "common/command_line.hpp"
#include "common/report.hpp"
#include "common/training.hpp"
#include "common/svg.hpp"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>

namespace sl = spikelab;
using spikelab_examples::CommandLine;
using spikelab_examples::fixed;
using spikelab_examples::mean_of;
using spikelab_examples::sd_of;
namespace svg = spikelab_examples::svg;

namespace {

template <sl::ResetGradient P>
using Neuron = sl::LifType<float, sl::Exponential, sl::ZeroReset,
                           sl::LifOptions{.threshold = sl::Train::per_neuron, .reset_gradient = P}>;
template <sl::ResetGradient P>
using Net = sl::Sequential<sl::Linear<float>, Neuron<P>, sl::Linear<float>, Neuron<P>, sl::Linear<float>, Neuron<P>>;
using Loader = sl::EventLoader<float, sl::NMnistDataset, sl::ToFrame>;
constexpr int kLayers = 3;  // spiking layers: hidden 1, hidden 2, output
const std::vector<std::size_t> kSpikingLayers{1, 3, 5};
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Options {
  std::string protocol;
  std::string data;
  long hidden = 200;
  std::string thresholds = "1.25";  // initial threshold of the hidden layers, one variant each
  double output_threshold = 1.25;   // initial threshold of the output layer; NaN: as the hidden layers
  double scale = 1.5, tau = 3.75;
  std::string convention = "paper";
  double current_decay = 0.75, voltage_decay = 0.97;
  double threshold_min = 1e-3, threshold_max = 1e6;
  double on_rate = 0.2, off_rate = 0.03;
  double lr = 1e-3;
  std::string lr_thresholds = "0,0.001";
  std::string reset_gradients = "kept";
  std::string init = "kaiming";
  int epochs = 15;
  int seeds = 3;
  long steps = 30;
  long bin_us = 10000;
  bool binary = false;
  long batch = 32;
  long train_limit = 0, test_limit = 0;
  std::string targets = "0.5,0.8";
  int threads = 1;
  std::string out = ".";
  std::string csv;
  std::string resume;
  std::string calibrate;
};

/// The values `--protocol` sets (before the command line, which may override them).
void apply_protocol(Options& o) {
  if (o.protocol.empty()) return;
  if (o.protocol != "rouser" && o.protocol != "rouser-ablation" && o.protocol != "rouser-grid")
    throw std::invalid_argument("--protocol must be rouser, rouser-ablation or rouser-grid");
  o.hidden = 500;
  o.steps = 300;
  o.bin_us = 1000;
  o.binary = true;
  o.thresholds = "1.25";
  o.output_threshold = kNaN;
  o.scale = 1.5;
  o.tau = 3.75;
  o.convention = "lava_dl";
  o.current_decay = 0.75;
  o.voltage_decay = 0.97;
  o.threshold_min = -1e6;  // Rouser's thresholds are unbounded
  o.threshold_max = 1e6;
  o.on_rate = 0.2;
  o.off_rate = 0.03;
  o.lr = 1e-3;
  o.lr_thresholds = "0,0.001";
  o.reset_gradients = "linear";
  o.init = "uniform";
  o.batch = 32;
  o.epochs = 20;
  if (o.protocol == "rouser-ablation") {
    o.thresholds = "0.25";
    o.tau = 3.0;
    o.scale = 3.0;
    o.lr_thresholds = "0,0.01";
  } else if (o.protocol == "rouser-grid") {
    o.thresholds = "0,0.25,0.5,0.75,1";
    o.lr_thresholds = "0";
    o.epochs = 10;
  }
}

void print_settings(const Options& o) {
  std::cout << "settings" << (o.protocol.empty() ? "" : " (--protocol " + o.protocol + ", then the command line)") << ":\n"
            << "  network            2312 -> " << o.hidden << " -> " << o.hidden << " -> 10, CUBA LIF, ZeroReset, no bias\n"
            << "  current decay      " << o.current_decay << " (retained per step: I_t = " << o.current_decay
            << " I_{t-1} + x_t)\n"
            << "  voltage decay      " << o.voltage_decay << " (v_t = " << o.voltage_decay << " v_{t-1} (1 - s_{t-1}) + I_t)\n"
            << "  thresholds         per neuron, every layer, initial " << o.thresholds
            << (std::isnan(o.output_threshold) ? std::string() : " (output layer " + fixed(o.output_threshold, 3) + ")")
            << ", bounds ["
            << o.threshold_min << ", " << o.threshold_max << "]\n"
            << "  surrogate          Exponential s " << o.scale << ", tau " << o.tau << ", convention " << o.convention
            << " (peak " << (o.convention == "lava_dl" ? 0.1 : 1.0) * o.scale / o.tau << ")\n"
            << "  reset gradient     " << o.reset_gradients << "\n"
            << "  weights            " << (o.init == "uniform" ? "U(+-1/sqrt(fan_in))" : "Kaiming normal N(0, 2/fan_in)") << "\n"
            << "  input              " << o.steps << " bins of " << o.bin_us / 1000.0 << " ms from t = 0, "
            << (o.binary ? "binary" : "event counts") << ", polarity as 2 channels\n"
            << "  loss               spike-rate MSE, target rates " << o.on_rate << " / " << o.off_rate << "\n"
            << "  optimiser          Adam lr " << o.lr << " (weights), threshold lr " << o.lr_thresholds << ", batch "
            << o.batch << ", " << o.epochs << " epochs\n"
            << "  seeds              " << o.seeds << "\n";
}

// Per epoch (index 0 = before training) of one run; NaN where not measured.
struct Curve {
  std::vector<double> accuracy, loss;
  std::vector<double> dead[kLayers], rate[kLayers], threshold[kLayers];
  bool diverged = false;
  std::string note;
  void resize(std::size_t n) {
    accuracy.resize(n, kNaN);
    loss.resize(n, kNaN);
    for (int l = 0; l < kLayers; ++l) {
      dead[l].resize(n, kNaN);
      rate[l].resize(n, kNaN);
      threshold[l].resize(n, kNaN);
    }
  }
  int epochs_to(double target) const {
    for (std::size_t e = 0; e < accuracy.size(); ++e)
      if (accuracy[e] >= target) return int(e);
    return -1;
  }
};

struct Variant {
  double threshold, lr_threshold;
  std::string name() const {
    std::string n = "Th " + fixed(threshold, 2) + " ";
    if (lr_threshold == 0) return n + "fixed";
    char b[40];
    std::snprintf(b, sizeof b, "lr_th %g", lr_threshold);
    return n + b;
  }
  std::string file_name() const {
    std::string n = name();
    for (char& c : n)
      if (c == ' ') c = '_';
    return n;
  }
};

// ---- CSV rows, kept by run and epoch -----------------------------------------------------------
const char* kCsvHeader =
    "protocol,reset_gradient,variant,threshold_init,scale,tau,convention,lr_threshold,seed,epoch,train_loss,"
    "test_accuracy,dead_layer1,dead_layer2,dead_output,rate_layer1,rate_layer2,rate_output,threshold_layer1,"
    "threshold_layer2,threshold_output";

struct RunKey {
  std::string policy, variant;
  int seed;
  auto operator<=>(const RunKey&) const = default;
};

class CsvTable {
 public:
  void load(const std::string& path) {
    std::ifstream is(path);
    std::string line;
    if (!std::getline(is, line)) return;
    while (std::getline(is, line)) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      std::string x;
      while (std::getline(ss, x, ',')) f.push_back(x);
      if (f.size() < 10) continue;
      rows_[{f[1], f[2], std::stoi(f[8])}][std::stoi(f[9])] = line;
    }
  }
  /// The stored curve of a run up to epoch `last` (inclusive); false if some epoch is missing.
  bool curve(const RunKey& k, int last, Curve& c) const {
    c.resize(std::size_t(last) + 1);
    const auto it = rows_.find(k);
    bool complete = true;
    for (int e = 0; e <= last; ++e) {
      const auto r = it == rows_.end() ? nullptr : find(it->second, e);
      if (!r) {
        complete = false;
        continue;
      }
      std::vector<double> f;
      std::stringstream ss(*r);
      std::string x;
      for (int col = 0; std::getline(ss, x, ','); ++col)
        if (col >= 10) f.push_back(x == "nan" || x.empty() ? kNaN : std::stod(x));
      if (f.size() < 11) {
        complete = false;
        continue;
      }
      const auto u = std::size_t(e);
      c.loss[u] = f[0];
      c.accuracy[u] = f[1];
      for (int l = 0; l < kLayers; ++l) {
        c.dead[l][u] = f[2 + std::size_t(l)];
        c.rate[l][u] = f[5 + std::size_t(l)];
        c.threshold[l][u] = f[8 + std::size_t(l)];
      }
    }
    return complete;
  }
  void set(const RunKey& k, int epoch, std::string row) { rows_[k][epoch] = std::move(row); }
  void drop_after(const RunKey& k, int last) {
    auto it = rows_.find(k);
    if (it != rows_.end()) it->second.erase(it->second.upper_bound(last), it->second.end());
  }
  void save(const std::string& path) const {
    const std::string tmp = path + ".tmp";
    {
      std::ofstream os(tmp);
      os << kCsvHeader << '\n';
      for (const auto& [k, by_epoch] : rows_)
        for (const auto& [e, row] : by_epoch) os << row << '\n';
      if (!os) throw std::runtime_error("cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path);
  }

 private:
  static const std::string* find(const std::map<int, std::string>& m, int e) {
    const auto it = m.find(e);
    return it == m.end() ? nullptr : &it->second;
  }
  std::map<RunKey, std::map<int, std::string>> rows_;
};

std::string num(double v) {
  if (std::isnan(v)) return "nan";
  std::ostringstream os;
  os.precision(6);
  os << v;
  return os.str();
}

struct Context {
  const Options& o;
  const sl::NMnistDataset& train_set;
  const sl::NMnistDataset& test_set;
  CsvTable& table;
  std::string csv_path;
};

std::string row_of(const Context& cx, const RunKey& k, const Variant& v, int epoch, const Curve& c) {
  const auto u = std::size_t(epoch);
  std::string r = (cx.o.protocol.empty() ? std::string("custom") : cx.o.protocol) + ',' + k.policy + ',' + k.variant + ',' +
                  num(v.threshold) + ',' + num(cx.o.scale) + ',' + num(cx.o.tau) + ',' + cx.o.convention + ',' +
                  num(v.lr_threshold) + ',' + std::to_string(k.seed) + ',' + std::to_string(epoch) + ',' + num(c.loss[u]) +
                  ',' + num(c.accuracy[u]);
  for (int l = 0; l < kLayers; ++l) r += ',' + num(c.dead[l][u]);
  for (int l = 0; l < kLayers; ++l) r += ',' + num(c.rate[l][u]);
  for (int l = 0; l < kLayers; ++l) r += ',' + num(c.threshold[l][u]);
  return r;
}

sl::ToFrame transform_of(const Options& o) { return sl::ToFrame::fixed_bins(o.bin_us, o.steps, 0, o.binary); }

template <sl::ResetGradient P>
Net<P> make_net(const Options& o, double threshold, std::uint64_t seed) {
  sl::Rng rng(seed);
  const sl::LifConfig cfg{.beta = o.voltage_decay,
                          .alpha = o.current_decay,
                          .threshold = threshold,
                          .threshold_min = o.threshold_min,
                          .threshold_max = o.threshold_max};
  const sl::Exponential g{.scale = o.scale,
                          .tau = o.tau,
                          .convention = o.convention == "lava_dl" ? sl::ExponentialConvention::lava_dl
                                                                  : sl::ExponentialConvention::paper};
  sl::LifConfig out = cfg;
  if (!std::isnan(o.output_threshold)) out.threshold = o.output_threshold;
  const sl::LinearConfig lin{.bias = false, .init = o.init == "uniform" ? sl::Init::uniform_fan_in : sl::Init::kaiming_normal};
  return Net<P>{sl::Linear<float>(2 * 34 * 34, o.hidden, rng, lin), Neuron<P>(o.hidden, cfg, g),
                sl::Linear<float>(o.hidden, o.hidden, rng, lin),    Neuron<P>(o.hidden, cfg, g),
                sl::Linear<float>(o.hidden, 10, rng, lin),          Neuron<P>(10, out, g)};
}

template <class NetT>
void record(Curve& c, int epoch, const sl::SpikeStatsEpoch& st, NetT& net, double accuracy, double loss) {
  c.resize(std::max(c.accuracy.size(), std::size_t(epoch) + 1));
  const auto u = std::size_t(epoch);
  const auto th = sl::mean_thresholds(net);
  for (int l = 0; l < kLayers; ++l) {
    c.dead[l][u] = st.layers[std::size_t(l)].dead_fraction();
    c.rate[l][u] = st.layers[std::size_t(l)].mean_rate();
    c.threshold[l][u] = th[std::size_t(l)];
  }
  c.accuracy[u] = accuracy;
  c.loss[u] = loss;
}

// Records each epoch (its own SpikeStatistics over the spiking layers), writes its CSV row.
template <class TrainerT, class NetT>
struct EpochRecorder {
  TrainerT* trainer;
  Loader* test;
  Curve* curve;
  const Context* cx;
  RunKey key;
  Variant variant;
  sl::SpikeStatistics stats{kSpikingLayers};
  void on_epoch_begin(const sl::TrainInfo& i, NetT& net) { stats.on_epoch_begin(i, net); }
  void on_batch_end(const sl::TrainInfo& i, NetT& net) { stats.on_batch_end(i, net); }
  void on_epoch_end(const sl::TrainInfo& i, NetT& net) {
    stats.on_epoch_end(i, net);
    record(*curve, i.epoch, stats.last(), net, trainer->evaluate(*test).accuracy, i.loss);
    const Curve& c = *curve;
    const auto u = std::size_t(i.epoch);
    cx->table.set(key, i.epoch, row_of(*cx, key, variant, i.epoch, c));
    if (!cx->csv_path.empty()) cx->table.save(cx->csv_path);
    std::printf("  %-9s %-20s seed %d epoch %2d  loss %.4f  test %5.1f%%  dead %5.1f/%5.1f/%5.1f%%  rate %.3f/%.3f/%.3f  "
                "threshold %.3f/%.3f/%.3f  (%.1f s)\n",
                key.policy.c_str(), key.variant.c_str(), key.seed, i.epoch, i.loss, 100 * c.accuracy[u],
                100 * c.dead[0][u], 100 * c.dead[1][u], 100 * c.dead[2][u], c.rate[0][u], c.rate[1][u], c.rate[2][u],
                c.threshold[0][u], c.threshold[1][u], c.threshold[2][u], i.epoch_seconds);
    std::fflush(stdout);
  }
};

template <sl::ResetGradient P>
Curve run(const Context& cx, const Variant& v, int seed) {
  const Options& o = cx.o;
  const RunKey key{sl::reset_gradient_name(P), v.name(), seed};
  const sl::ToFrame tf = transform_of(o);
  const auto useed = std::uint64_t(seed);
  Loader train(cx.train_set, tf, {.batch_size = o.batch, .seed = useed, .steps = o.steps, .cache = true, .limit = o.train_limit});
  Loader test(cx.test_set, tf, {.batch_size = 100, .shuffle = false, .steps = o.steps, .cache = true, .limit = o.test_limit});
  Net<P> net = make_net<P>(o, v.threshold, useed);
  sl::OptimizerConfig oc{.lr = o.lr};
  oc.lr_scale[sl::ParamGroup::threshold] = v.lr_threshold / o.lr;
  sl::Trainer trainer(net, sl::Bptt<sl::RateMse>(sl::RateMse{.on_rate = o.on_rate, .off_rate = o.off_rate}),
                      sl::Optimizer<float, sl::Adam>(oc), {.seed = useed});
  Curve c;
  c.resize(1);
  int done = 0;
  std::string ckpt;
  if (!o.resume.empty()) {
    ckpt = o.resume + "." + key.policy + "." + v.file_name() + ".seed" + std::to_string(seed);
    if (std::filesystem::exists(ckpt)) {
      spikelab_examples::load_checkpoint_warning_on_changes(ckpt, trainer, o.epochs, std::cout);
      done = trainer.progress().epoch;
      cx.table.drop_after(key, done);
      if (!cx.table.curve(key, done, c))
        std::cout << "  (resumed " << key.variant << " seed " << seed << " at epoch " << done
                  << "; some earlier epochs are missing from the CSV)\n";
      std::cout << "  " << key.policy << " " << key.variant << " seed " << seed << ": resumed after epoch " << done << "\n";
    }
  }
  if (done == 0) {
    Loader probe(cx.train_set, tf, {.batch_size = 100, .shuffle = false, .steps = o.steps, .limit = o.train_limit});
    const auto st = sl::measure_spike_stats(net, probe, kSpikingLayers);
    const auto ev = trainer.evaluate(test);
    record(c, 0, st, net, ev.accuracy, ev.loss);
    cx.table.drop_after(key, -1);
    cx.table.set(key, 0, row_of(cx, key, v, 0, c));
    std::printf("  %-9s %-20s seed %d epoch  0  test %5.1f%%  dead %5.1f/%5.1f/%5.1f%%  rate %.3f/%.3f/%.3f\n",
                key.policy.c_str(), key.variant.c_str(), seed, 100 * c.accuracy[0], 100 * c.dead[0][0], 100 * c.dead[1][0],
                100 * c.dead[2][0], c.rate[0][0], c.rate[1][0], c.rate[2][0]);
  }
  if (done < o.epochs) {
    EpochRecorder<decltype(trainer), Net<P>> rec{&trainer, &test, &c, &cx, key, v};
    try {
      if (ckpt.empty())
        trainer.fit(train, o.epochs, rec);
      else
        trainer.fit(train, o.epochs, rec, sl::TrainingCheckpointEvery(ckpt));
    } catch (const sl::NumericError& e) {  // a run whose gradient blows up: recorded, the others go on
      c.diverged = true;
      c.note = e.what();
      std::cout << "  " << key.policy << " " << key.variant << " seed " << seed << " stopped: " << e.what() << "\n";
    }
  }
  c.resize(std::size_t(o.epochs) + 1);
  return c;
}

// Dead fraction of each layer at initialisation for each threshold in a list.
int calibrate(const Options& o, const sl::NMnistDataset& train_set, const std::vector<double>& thresholds) {
  std::cout << " threshold   dead neurons at init (seed 0, " << (o.train_limit ? o.train_limit : train_set.size())
            << " training samples): layer 1, layer 2, output; mean rates\n";
  for (double th : thresholds) {
    auto net = make_net<sl::ResetGradient::kept>(o, th, 0);
    Loader probe(train_set, transform_of(o), {.batch_size = 100, .shuffle = false, .steps = o.steps, .limit = o.train_limit});
    const auto st = sl::measure_spike_stats(net, probe, kSpikingLayers);
    std::printf(" %9.3f   %5.1f%% %5.1f%% %5.1f%%   %.4f %.4f %.4f\n", th, 100 * st.layers[0].dead_fraction(),
                100 * st.layers[1].dead_fraction(), 100 * st.layers[2].dead_fraction(), st.layers[0].mean_rate(),
                st.layers[1].mean_rate(), st.layers[2].mean_rate());
  }
  return 0;
}

struct Result {
  std::string policy;
  Variant variant;
  std::vector<Curve> seeds;
};

void summarise(const Options& o, const std::vector<Result>& results, const std::vector<double>& targets) {
  const int E = o.epochs;
  std::cout << "\nsummary (mean +- sd over " << o.seeds << " seeds; test accuracy %, dead % per layer L1/L2/out)\n";
  std::vector<int> marks;
  for (int e = 0; e <= E; e += std::max(1, E / 4)) marks.push_back(e);
  if (marks.back() != E) marks.push_back(E);
  for (const Result& r : results) {
    std::cout << " " << r.policy << ", " << r.variant.name() << "\n";
    for (int e : marks) {
      const auto u = std::size_t(e);
      std::vector<double> a, d[kLayers], t[kLayers];
      for (const Curve& c : r.seeds) {
        if (std::isnan(c.accuracy[u])) continue;
        a.push_back(100 * c.accuracy[u]);
        for (int l = 0; l < kLayers; ++l) d[l].push_back(100 * c.dead[l][u]), t[l].push_back(c.threshold[l][u]);
      }
      std::printf("   epoch %2d  test %-14s dead %s / %s / %s   threshold %.3f / %.3f / %.3f%s\n", e,
                  spikelab_examples::mean_sd(a, 1).c_str(), spikelab_examples::mean_sd(d[0], 1).c_str(),
                  spikelab_examples::mean_sd(d[1], 1).c_str(), spikelab_examples::mean_sd(d[2], 1).c_str(), mean_of(t[0]),
                  mean_of(t[1]), mean_of(t[2]), a.size() < r.seeds.size() ? "  (some seeds missing)" : "");
    }
    for (double tg : targets) {
      std::cout << "   epochs to " << fixed(100 * tg, 0) << "%:";
      for (const Curve& c : r.seeds) std::cout << ' ' << c.epochs_to(tg);
      std::cout << " (per seed; -1 = not within " << E << ")\n";
    }
    for (std::size_t s = 0; s < r.seeds.size(); ++s)
      if (r.seeds[s].diverged) std::cout << "   seed " << s << " stopped: " << r.seeds[s].note << "\n";
  }
}

void plot(const Options& o, const std::vector<Result>& results, std::size_t train_size, std::size_t test_size) {
  svg::Plot acc("N-MNIST: test accuracy", "epoch", "test accuracy (%)");
  svg::Plot dead("N-MNIST: dead neurons (never fired in the epoch)", "epoch", "dead neurons (%)");
  const std::string sub = (o.protocol.empty() ? std::string() : "--protocol " + o.protocol + ", ") + "2312-" +
                          std::to_string(o.hidden) + "-" + std::to_string(o.hidden) + "-10, " + std::to_string(train_size) +
                          " train / " + std::to_string(test_size) + " test, mean +- sd over " + std::to_string(o.seeds) +
                          " seeds";
  acc.subtitle(sub).y_range(0, 100);
  dead.subtitle(sub + "; solid: layer 1, dashed: layer 2").y_range(0, 100);
  const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};
  for (std::size_t k = 0; k < results.size(); ++k) {
    const Result& r = results[k];
    std::vector<double> xs, am, as, dm[2], ds[2];
    for (int e = 0; e <= o.epochs; ++e) {
      std::vector<double> a, d[2];
      for (const Curve& c : r.seeds) {
        const auto u = std::size_t(e);
        if (std::isnan(c.accuracy[u])) continue;
        a.push_back(100 * c.accuracy[u]);
        for (int l = 0; l < 2; ++l) d[l].push_back(100 * c.dead[l][u]);
      }
      if (a.empty()) continue;
      xs.push_back(e);
      am.push_back(mean_of(a)), as.push_back(sd_of(a));
      for (int l = 0; l < 2; ++l) dm[l].push_back(mean_of(d[l])), ds[l].push_back(sd_of(d[l]));
    }
    const std::string name = r.policy + ", " + r.variant.name();
    const std::string colour = colours[k % 9];
    acc.add({name, xs, am, as, true, true, colour, false});
    dead.add({name + " L1", xs, dm[0], ds[0], true, true, colour, false});
    dead.add({name + " L2", xs, dm[1], ds[1], true, true, colour, true});
  }
  acc.save((std::filesystem::path(o.out) / "thresholds_accuracy.svg").string());
  dead.save((std::filesystem::path(o.out) / "thresholds_dead.svg").string());
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.protocol = spikelab_examples::early_value(argc, argv, {"protocol"}, "");
  CommandLine cli("spikelab-thresholds",
                  "Trainable vs fixed neuron thresholds (Mahmoodi Takaghaj & Sampson 2024/2025) on N-MNIST, under each\n"
                  "reset gradient. --data is a folder with Train/ and Test/ (.bin) or SLAYER's NMNISTsmall\n"
                  "(<id>.bs2 + train1K.txt / test100.txt). With --calibrate-thresholds LIST it only prints the dead\n"
                  "fraction at initialisation per threshold.");
  try {
    apply_protocol(o);
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  }
  cli.protocol(o.protocol, "the paper's setting: rouser (Table II), rouser-ablation (Fig. 6b), rouser-grid (Fig. 2)")
      .option("data", o.data, "N-MNIST folder")
      .option("thresholds", o.thresholds, "comma-separated initial thresholds of the hidden layers (every layer under a --protocol), one variant each")
      .option("output-threshold", o.output_threshold, "initial threshold of the output layer (nan: as the hidden layers)")
      .option("threshold", o.thresholds, "alias of --thresholds (the hidden layers' initial threshold)")
      .option("lr-thresholds", o.lr_thresholds, "comma-separated threshold learning rates, one variant each (0 = fixed)")
      .option("reset-gradient", o.reset_gradients, "comma-separated reset gradients to run: kept, detached, linear")
      .option("hidden", o.hidden, "neurons per hidden layer (paper 500)")
      .option("epochs", o.epochs, "training epochs")
      .seeds(o.seeds, "seeds (0 .. N-1), each run for every variant")
      .option("steps", o.steps, "time bins per sample")
      .option("bin-us", o.bin_us, "bin width (microseconds)")
      .flag("binary", o.binary, "clip event counts per bin to 1")
      .option("batch", o.batch, "batch size")
      .option("lr", o.lr, "Adam learning rate of the weights")
      .option("scale", o.scale, "surrogate scale s")
      .option("tau", o.tau, "surrogate width tau")
      .option("convention", o.convention, "surrogate amplitude: paper (s/tau) or lava_dl (0.1 s/tau)")
      .option("current-decay", o.current_decay, "synaptic current decay (fraction retained per step)")
      .option("voltage-decay", o.voltage_decay, "membrane decay (fraction retained per step)")
      .option("threshold-min", o.threshold_min, "lower bound of a trained threshold")
      .option("threshold-max", o.threshold_max, "upper bound of a trained threshold")
      .option("init", o.init, "weight initialisation: kaiming (normal) or uniform (+-1/sqrt(fan_in))")
      .option("on-rate", o.on_rate, "target output rate of the true class")
      .option("off-rate", o.off_rate, "target output rate of the other classes")
      .option("train-limit", o.train_limit, "use the first N training samples (0 = all)")
      .option("test-limit", o.test_limit, "use the first N test samples (0 = all)")
      .option("targets", o.targets, "test accuracies whose first epoch is reported")
      .threads(o.threads, "threads")
      .option("out", o.out, "directory for the SVG figures (and thresholds.csv without --csv)")
      .csv(o.csv, "CSV file: one row per reset gradient, variant, seed and epoch")
      .option("resume", o.resume, "checkpoint stem: continue each run from STEM.<reset gradient>.<variant>.seed<k>")
      .option("calibrate-thresholds", o.calibrate, "comma-separated thresholds: print dead fractions at init and exit");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    if (o.data.empty()) throw std::invalid_argument("--data is required (e.g. /work/shared/data/nmnist/NMNISTsmall)");
    if (o.convention != "paper" && o.convention != "lava_dl") throw std::invalid_argument("--convention must be paper or lava_dl");
    if (o.init != "kaiming" && o.init != "uniform") throw std::invalid_argument("--init must be kaiming or uniform");
    std::vector<Variant> variants;
    for (double th : spikelab_examples::parse_list("thresholds", o.thresholds))
      for (double lr : spikelab_examples::parse_list("lr-thresholds", o.lr_thresholds, std::optional<double>(0.0)))
        variants.push_back({th, lr});
    std::vector<sl::ResetGradient> policies;
    {
      std::stringstream ss(o.reset_gradients);
      std::string item;
      while (std::getline(ss, item, ','))
        if (!item.empty()) policies.push_back(sl::parse_reset_gradient(item));
      if (policies.empty()) throw std::invalid_argument("--reset-gradient needs at least one of kept, detached, linear");
    }
    const std::vector<double> targets = spikelab_examples::parse_list("targets", o.targets);
    sl::set_num_threads(o.threads);
    const sl::NMnistDataset train_set = sl::NMnist::load(o.data, "train");
    const sl::NMnistDataset test_set = sl::NMnist::load(o.data, "test");
    std::cout << "spikelab " << sl::version::as_string() << " -- thresholds on N-MNIST: " << train_set.size() << " train / "
              << test_set.size() << " test samples\n";
    print_settings(o);
    if (!o.calibrate.empty()) return calibrate(o, train_set, spikelab_examples::parse_list("calibrate-thresholds", o.calibrate));
    std::filesystem::create_directories(o.out);
    CsvTable table;
    const std::string csv_path = o.csv.empty() ? (std::filesystem::path(o.out) / "thresholds.csv").string() : o.csv;
    if (!o.resume.empty()) table.load(csv_path);
    const Context cx{o, train_set, test_set, table, csv_path};
    std::vector<Result> results;
    for (sl::ResetGradient p : policies)
      for (const Variant& v : variants) results.push_back({sl::reset_gradient_name(p), v, {}});
    for (int s = 0; s < o.seeds; ++s)
      for (std::size_t pi = 0; pi < policies.size(); ++pi)
        for (std::size_t vi = 0; vi < variants.size(); ++vi) {
          Result& r = results[pi * variants.size() + vi];
          const Variant& v = variants[vi];
          switch (policies[pi]) {
            case sl::ResetGradient::kept: r.seeds.push_back(run<sl::ResetGradient::kept>(cx, v, s)); break;
            case sl::ResetGradient::detached: r.seeds.push_back(run<sl::ResetGradient::detached>(cx, v, s)); break;
            case sl::ResetGradient::linear: r.seeds.push_back(run<sl::ResetGradient::linear>(cx, v, s)); break;
          }
        }
    table.save(csv_path);
    summarise(o, results, targets);
    plot(o, results, train_set.size(), test_set.size());
    std::cout << "wrote " << (std::filesystem::path(o.out) / "thresholds_accuracy.svg").string()
              << ", thresholds_dead.svg and " << csv_path << "\n";
    return 0;
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const sl::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
