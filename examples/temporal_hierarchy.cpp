// spikelab-hierarchy: the temporal-hierarchy experiments of Moro et al. (arXiv 2024; hSNN) on the
// multi-time-scale XOR task (MTS-XOR), with the configurations of the paper's code (sweep.py,
// hsnn_optimization_finds_hierarchy.ipynb):
//
//  --experiment sweep    Fig. 2b: accuracy against the layer spread delta_tau of the time constants
//                        (tanh hierarchy around tau_mem = 0.3 s, dt = 10 ms, 10 neurons per hidden
//                        layer, time constants fixed), for 2 and 3 hidden layers (hSNN's n_layers
//                        3 and 4 count the readout), several seeds. Writes hierarchy_sweep.svg/.csv.
//  --experiment trained  Fig. 3: decays alpha = exp(-dt/tau) trained (clip [1e-5, 0.98], the alpha
//                        regularisers) from a homogeneous start (tau = 0.2 s, 3 hidden layers x 32);
//                        reports the mean tau per layer after training: does it grow with depth?
//                        Writes hierarchy_trained.svg/.csv.
//  --experiment single   one run with the options given (progress per epoch).
//
// --task shd --shd-dir DIR runs the same experiments on the Spiking Heidelberg Digits
// (DIR/shd_train.h5, DIR/shd_test.h5; needs the HDF5 reader, i.e. a build with spikelab::hdf5):
// 700 channels in 100 bins of 14 ms, the train file split 80/20 into train/validation, the
// 'cum' decoder (softmax over time of the readout's softmax), tau_out 0.2 s, and the paper's SHD
// defaults (Fig. 2c sweep: tau_mem 0.1 s, tanh hierarchy, uniform heterogeneity sd 0.2, delta_tau
// 0 / 0.15, 2-5 hidden layers; Fig. 3: 5 hidden layers x 32, tau_mem 0.1 s, normal sd 0.1,
// l2_alpha_sd 0.1, 40 epochs).
//
// Network (hSNN): 40 inputs -> [Linear -> BatchNorm -> LIF (subtractive reset, threshold 1, box
// surrogate |v - 1| < 0.5) -> dropout 0.1] x L_h -> Linear -> BatchNorm -> leaky integrator
// (alpha_out = exp(-dt/0.05 s), input scaled by 1 - alpha_out), softmax cross-entropy at every
// step of the coding windows. Adam lr 0.01, lr x0.75 every 10 epochs from epoch 25, batch 512.
// (spikelab's dropout keeps one mask per sample over all steps; hSNN's draws one per step.)
#include <spikelab/spikelab.hpp>

#include "common/command_line.hpp"
#include "common/report.hpp"
#include "common/svg.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <numeric>
#include <tuple>

namespace sl = spikelab;
using spikelab_examples::CommandLine;
using spikelab_examples::fixed;
using spikelab_examples::mean_of;
using spikelab_examples::mean_sd;
using spikelab_examples::sd_of;
namespace svg = spikelab_examples::svg;

namespace {

using Hidden = sl::LifType<float, sl::Boxcar, sl::SubtractReset, sl::LifOptions{.beta = sl::Train::per_neuron}>;
using Lin = sl::Linear<float>;
using Norm = sl::BatchNorm<float>;
using Drop = sl::Dropout<float>;
using Out = sl::LeakyIntegrator<float>;

// Sequential<[Lin, Norm, Hidden, Drop] x H, Lin, Norm, Out>: hSNN's network with H hidden layers
// (BatchNorm on every layer's input current, dropout on the hidden spikes).
template <class T>
struct ToSequential;
template <class... Ts>
struct ToSequential<std::tuple<Ts...>> {
  using type = sl::Sequential<Ts...>;
};
template <std::size_t... I>
auto hidden_tuple(std::index_sequence<I...>)
    -> decltype(std::tuple_cat((void(I), std::declval<std::tuple<Lin, Norm, Hidden, Drop>>())...,
                               std::declval<std::tuple<Lin, Norm, Out>>()));
template <std::size_t H>
using HsnnNet = typename ToSequential<decltype(hidden_tuple(std::make_index_sequence<H>{}))>::type;

struct RunConfig {
  std::string task = "mts-xor";  ///< mts-xor | shd
  std::string shd_dir;
  std::size_t hidden_layers = 2;
  long neurons = 10;
  double dt = 0.01;
  double tau_mem = 0.3;
  double delta_tau = 0.0;
  std::string profile = "tanh";
  std::string heterogeneity = "normal";
  double sd = 0.1;
  double tau_out = 0.05;
  bool train_tau = false;
  double alpha_penalty = 0.1;
  double l2_alpha_sd = 1e-3;
  double alpha_grad_scale = 0.1;
  double dropout = 0.1;
  int epochs = 60;
  long train_samples = 10240;
  long valid_samples = 1024;
  long test_samples = 1024;
  long batch = 512;
  double lr = 0.01;
  std::uint64_t seed = 0;
  bool verbose = false;
};

struct RunResult {
  double best_val = 0, test_at_best = 0, final_test = 0;
  int best_epoch = 0;
  std::vector<double> tau_init, tau_final;  // mean tau per hidden layer (s)
  std::vector<double> tau_sd_final;         // sd of tau within each hidden layer (s)
  double seconds = 0;
};

sl::TauProfile profile_of(const std::string& p) {
  if (p == "tanh") return sl::TauProfile::tanh;
  if (p == "linear") return sl::TauProfile::linear;
  if (p == "homogeneous") return sl::TauProfile::homogeneous;
  throw std::invalid_argument("--profile must be tanh, linear or homogeneous");
}
sl::TauHeterogeneity heterogeneity_of(const std::string& h) {
  if (h == "normal") return sl::TauHeterogeneity::normal;
  if (h == "uniform") return sl::TauHeterogeneity::uniform;
  if (h == "none") return sl::TauHeterogeneity::none;
  throw std::invalid_argument("--heterogeneity must be normal, uniform or none");
}

// Evaluates the test source after every epoch and remembers the test accuracy at the best
// validation epoch (the hSNN code's model selection).
template <class TrainerT, class Src>
struct TestTracker {
  TrainerT* trainer;
  Src* test;
  bool verbose;
  double dt;
  double best_val = -1, test_at_best = 0, last_test = 0;
  int best_epoch = 0;
  template <class Net>
  void on_epoch_end(const sl::TrainInfo& i, Net& net) {
    last_test = trainer->evaluate(*test).accuracy;
    if (i.val_accuracy > best_val) best_val = i.val_accuracy, test_at_best = last_test, best_epoch = i.epoch;
    if (verbose) {
      std::cout << "  epoch " << i.epoch << "/" << i.epochs << "  loss " << fixed(i.loss, 4) << "  train "
                << fixed(100 * i.accuracy, 2) << "%  val " << fixed(100 * i.val_accuracy, 2)
                << "%  test " << fixed(100 * last_test, 2) << "%  tau(ms)";
      for (double t : sl::mean_time_constants(net, dt)) std::cout << ' ' << fixed(1000 * t, 1);
      std::cout << "  " << fixed(i.epoch_seconds, 1) << " s\n" << std::flush;
    }
  }
};

// Builds the hSNN network with H hidden layers, initialises its time constants and trains it
// over the given sources with loss LossT.
template <std::size_t H, class LossT, class TrainSrc, class ValidSrc, class TestSrc>
RunResult train(const RunConfig& c, sl::Index inputs, sl::Index classes, TrainSrc& train_src, ValidSrc& valid_src,
                TestSrc& test_src) {
  const auto t0 = std::chrono::steady_clock::now();
  sl::Rng rng(1000 + c.seed);
  const sl::LifConfig lif{.beta = 0.9, .threshold = 1.0, .beta_min = sl::hsnn_decay_min, .beta_max = sl::hsnn_decay_max};
  const sl::Boxcar box{.height = 1.0, .half_width = 0.5};
  const sl::Index n = c.neurons;
  HsnnNet<H> net;
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    auto set = [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
      auto& l = net.template layer<I>();
      using L = std::remove_cvref_t<decltype(l)>;
      constexpr bool readout = I >= 4 * H;
      if constexpr (std::same_as<L, Out>)
        l = Out(classes, {.beta = std::exp(-c.dt / c.tau_out), .normalize = true});
      else if constexpr (std::same_as<L, Hidden>)
        l = Hidden(n, lif, box);
      else if constexpr (std::same_as<L, Norm>)
        l = Norm(readout ? classes : n);
      else if constexpr (std::same_as<L, Drop>)
        l = Drop(n, {.p = c.dropout});
      else
        l = Lin(I == 0 ? inputs : n, readout ? classes : n, rng, {.bias = false});
    };
    (set(std::integral_constant<std::size_t, K>{}), ...);
  }(std::make_index_sequence<4 * H + 3>{});

  sl::TimeConstantHierarchy h{.dt = c.dt, .tau_mem = c.tau_mem, .delta_tau = c.delta_tau, .profile = profile_of(c.profile),
                              .heterogeneity = heterogeneity_of(c.heterogeneity), .heterogeneity_sd = c.sd};
  sl::initialize_time_constants(net, h, rng);
  RunResult res;
  res.tau_init = sl::mean_time_constants(net, c.dt);

  sl::OptimizerConfig oc{.lr = c.lr};
  // hSNN: alpha's gradient x0.1 (Adam makes that almost a no-op); fixed time constants: lr 0
  oc.grad_scale[sl::ParamGroup::time_constant] = c.alpha_grad_scale;
  oc.lr_scale[sl::ParamGroup::time_constant] = c.train_tau ? 1.0 : 0.0;
  sl::DecayRegularizer reg({.upper_weight = c.train_tau ? c.alpha_penalty : 0.0, .spread_weight = c.train_tau ? c.l2_alpha_sd : 0.0});
  sl::Trainer trainer(net, sl::Bptt<LossT, sl::DecayRegularizer>(LossT{}, reg),
                      sl::Optimizer<float, sl::Adam, sl::StepLr>(oc, {}, {.every = 10, .gamma = 0.75, .first = 25}),
                      {.seed = c.seed + 1});
  TestTracker<decltype(trainer), TestSrc> tracker{&trainer, &test_src, c.verbose, c.dt};
  trainer.fit(train_src, valid_src, c.epochs, tracker);
  res.best_val = tracker.best_val;
  res.test_at_best = tracker.test_at_best;
  res.final_test = tracker.last_test;
  res.best_epoch = tracker.best_epoch;
  res.tau_final = sl::mean_time_constants(net, c.dt);
  sl::for_each_spiking_decay(net, [&](auto& p, std::size_t) {
    const sl::Vector<double> t = sl::time_constants(p, c.dt);
    res.tau_sd_final.push_back(std::sqrt((t.array() - t.mean()).square().sum() / double(std::max<sl::Index>(t.size() - 1, 1))));
  });
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

template <std::size_t H>
RunResult run_mts_xor(const RunConfig& c) {
  sl::MtsXorSource<float> train_src(c.train_samples, c.batch, 100 * c.seed + 1);
  sl::MtsXorSource<float> valid(c.valid_samples, c.batch, 100 * c.seed + 2, false);
  sl::MtsXorSource<float> test(c.test_samples, c.batch, 100 * c.seed + 3, false);
  return train<H, sl::StepCrossEntropy>(c, 40, 2, train_src, valid, test);
}

#ifdef SPIKELAB_HAS_HDF5
using ShdLoader = sl::EventLoader<float, sl::ShdDataset, sl::ToFrame>;

template <std::size_t H>
RunResult run_shd(const RunConfig& c) {
  const std::filesystem::path dir(c.shd_dir);
  for (const char* f : {"shd_train.h5", "shd_test.h5"})
    if (!std::filesystem::is_regular_file(dir / f))
      throw std::invalid_argument("SHD file '" + (dir / f).string() + "' is missing: download shd_train.h5.gz and "
                                  "shd_test.h5.gz (Cramer et al. 2020, https://zenkelab.org/datasets/) and gunzip them into " +
                                  dir.string());
  const sl::ShdDataset train_file = sl::Shd::load(dir / "shd_train.h5");
  const sl::ShdDataset test_file = sl::Shd::load(dir / "shd_test.h5");
  // the hSNN split: 80% of the training file for training, 20% for validation (seeded)
  std::vector<sl::Index> order(std::size_t(train_file.size()));
  std::iota(order.begin(), order.end(), sl::Index(0));
  sl::Rng split(7 + c.seed);
  for (std::size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[split.below(i)]);
  const std::size_t n_train = order.size() * 8 / 10;
  std::vector<sl::Index> tr(order.begin(), order.begin() + std::ptrdiff_t(n_train)), va(order.begin() + std::ptrdiff_t(n_train), order.end());
  if (c.train_samples > 0 && std::size_t(c.train_samples) < tr.size()) tr.resize(std::size_t(c.train_samples));
  const sl::ToFrame tf = sl::Shd::standard_transform(std::int64_t(std::llround(1.4 / c.dt)));
  const sl::Index steps = sl::Index(std::llround(1.4 / c.dt));
  ShdLoader train_src(train_file, tf, {.batch_size = c.batch, .seed = c.seed + 11, .steps = steps, .cache = true}, tr);
  ShdLoader valid(train_file, tf, {.batch_size = c.batch, .shuffle = false, .steps = steps, .cache = true}, va);
  ShdLoader test(test_file, tf, {.batch_size = c.batch, .shuffle = false, .steps = steps, .cache = true, .limit = c.test_samples});
  if (c.verbose)
    std::cout << "SHD: " << tr.size() << " train / " << va.size() << " validation / " << test_file.size() << " test samples, "
              << steps << " bins of " << 1000 * c.dt << " ms\n";
  return train<H, sl::CumSoftmaxCrossEntropy>(c, 700, sl::Shd::classes, train_src, valid, test);
}
#endif

template <std::size_t H>
RunResult run(const RunConfig& c) {
  if (c.task == "mts-xor") return run_mts_xor<H>(c);
  if (c.task == "shd") {
#ifdef SPIKELAB_HAS_HDF5
    return run_shd<H>(c);
#else
    throw std::invalid_argument(
        "--task shd needs the HDF5 reader: this build has none; install libhdf5-dev and configure with "
        "-DSPIKELAB_WITH_HDF5=ON");
#endif
  }
  throw std::invalid_argument("unknown --task '" + c.task + "' (mts-xor or shd)");
}

RunResult run_any(const RunConfig& c) {
  switch (c.hidden_layers) {
    case 2: return run<2>(c);
    case 3: return run<3>(c);
    case 4: return run<4>(c);
    case 5: return run<5>(c);
  }
  throw std::invalid_argument("--hidden-layers must be 2, 3, 4 or 5");
}

std::string task_title(const RunConfig& c) { return c.task == "shd" ? "SHD" : "MTS-XOR"; }

std::string ms_list(const std::vector<double>& taus) {
  std::string s;
  for (double t : taus) {
    if (!s.empty()) s += ' ';
    s += fixed(1000 * t, 1);
  }
  return s;
}

int sweep(RunConfig base, const std::vector<double>& deltas, const std::vector<long>& depths, int seeds,
          const std::filesystem::path& out) {
  std::ofstream csv(out / "hierarchy_sweep.csv");
  csv << "hidden_layers,delta_tau,seed,best_val,test_at_best_val,final_test,best_epoch,tau_init_ms,seconds\n";
  svg::Plot plot(task_title(base) + ": accuracy against the time-constant hierarchy (Fig. 2" + (base.task == "shd" ? "c)" : "b)"), "delta tau (s)",
                 "test accuracy at best validation epoch (%)");
  plot.subtitle("tau_mem " + fixed(base.tau_mem, 2) + " s, " + base.profile + " profile, " +
                std::to_string(base.neurons) + " neurons/layer, " + std::to_string(base.epochs) + " epochs, " +
                std::to_string(base.train_samples) + " samples, mean +- sd over " + std::to_string(seeds) + " seeds");
  std::cout << "\n hidden  delta_tau   test acc (mean +- sd)   per seed\n";
  for (long dl : depths) {
    std::vector<double> xs, ys, es;
    for (double d : deltas) {
      std::vector<double> accs;
      std::string per;
      for (int s = 0; s < seeds; ++s) {
        RunConfig c = base;
        c.hidden_layers = std::size_t(dl);
        c.delta_tau = d;
        c.seed = base.seed + std::uint64_t(s);
        const RunResult r = run_any(c);
        accs.push_back(100 * r.test_at_best);
        per += ' ';
        per += fixed(100 * r.test_at_best, 2);
        csv << c.hidden_layers << ',' << d << ',' << c.seed << ',' << r.best_val << ',' << r.test_at_best << ',' << r.final_test
            << ',' << r.best_epoch << ',' << ms_list(r.tau_init) << ',' << r.seconds << '\n'
            << std::flush;
      }
      xs.push_back(d);
      ys.push_back(mean_of(accs));
      es.push_back(sd_of(accs));
      std::printf(" %6zu  %9.2f   %6.2f +- %-5.2f        %s\n", std::size_t(dl), d, ys.back(), es.back(), per.c_str());
      std::fflush(stdout);
    }
    plot.line(std::to_string(int(dl)) + " hidden layers (n_layers " + std::to_string(int(dl) + 1) + ")", xs, ys, es);
  }
  plot.save((out / "hierarchy_sweep.svg").string());
  std::cout << "\nwrote " << (out / "hierarchy_sweep.svg").string() << " and hierarchy_sweep.csv\n";
  return 0;
}

int trained(RunConfig base, int seeds, const std::filesystem::path& out) {
  std::ofstream csv(out / "hierarchy_trained.csv");
  csv << "seed,layer,tau_init_ms,tau_trained_ms,tau_trained_sd_ms,best_val,test_at_best_val\n";
  const std::size_t L = base.hidden_layers;
  std::vector<std::vector<double>> init(L), fin(L);
  std::vector<double> accs;
  std::cout << "\n seed   test acc   mean tau per hidden layer after training (ms, input -> output)\n";
  for (int s = 0; s < seeds; ++s) {
    RunConfig c = base;
    c.seed = base.seed + std::uint64_t(s);
    const RunResult r = run_any(c);
    accs.push_back(100 * r.test_at_best);
    for (std::size_t l = 0; l < L; ++l) {
      init[l].push_back(1000 * r.tau_init[l]);
      fin[l].push_back(1000 * r.tau_final[l]);
      csv << c.seed << ',' << l + 1 << ',' << 1000 * r.tau_init[l] << ',' << 1000 * r.tau_final[l] << ','
          << 1000 * r.tau_sd_final[l] << ',' << r.best_val << ',' << r.test_at_best << '\n';
    }
    std::printf(" %4d   %6.2f%%   %s   (%.0f s)\n", int(c.seed), accs.back(), ms_list(r.tau_final).c_str(), r.seconds);
    std::fflush(stdout);
  }
  std::vector<double> xs, yi, ei, yf, ef;
  int increasing = 0;
  for (std::size_t l = 0; l < L; ++l) {
    xs.push_back(double(l + 1));
    yi.push_back(mean_of(init[l]));
    ei.push_back(sd_of(init[l]));
    yf.push_back(mean_of(fin[l]));
    ef.push_back(sd_of(fin[l]));
  }
  for (int s = 0; s < seeds; ++s) {
    bool inc = true;
    for (std::size_t l = 1; l < L; ++l) inc &= fin[l][std::size_t(s)] > fin[l - 1][std::size_t(s)];
    increasing += inc;
  }
  svg::Plot plot(task_title(base) + ": time constants trained from a homogeneous start (Fig. 3)", "hidden layer (input -> output)",
                 "mean membrane time constant (ms)");
  plot.subtitle(std::to_string(L) + " hidden layers x " + std::to_string(base.neurons) + ", tau_mem " +
                fixed(base.tau_mem, 2) + " s, " + std::to_string(base.epochs) + " epochs, mean +- sd over " +
                std::to_string(seeds) + " seeds");
  plot.line("initial", xs, yi, ei).line("trained", xs, yf, ef);
  plot.save((out / "hierarchy_trained.svg").string());
  std::cout << "\nmean tau per layer after training (ms): ";
  for (std::size_t l = 0; l < L; ++l) std::cout << mean_sd(fin[l], 1) << "  ";
  std::cout << "\nseeds whose mean tau grows strictly with depth: " << increasing << "/" << seeds
            << "\ntest accuracy: " << mean_sd(accs, 2)
            << " %\nwrote " << (out / "hierarchy_trained.svg").string() << " and hierarchy_trained.csv\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  RunConfig c;
  // the experiment and the task decide the other options' defaults, so they are read first
  std::string experiment = spikelab_examples::early_value(argc, argv, {"experiment"}, "sweep");
  c.task = spikelab_examples::early_value(argc, argv, {"task"}, "mts-xor");
  std::string deltas = "-0.5,-0.4,-0.2,-0.1,0,0.1,0.2,0.4,0.5", depths = "2,3", out = ".";
  int seeds = 5, threads = 1;
  long first_seed = 0;
  long hidden_layers = 2;
  if (c.task == "shd") {  // SimArgs defaults and the Fig. 2c sweep
    c.dt = 0.014;
    c.tau_mem = 0.1;
    c.tau_out = 0.2;
    c.neurons = 128;
    c.heterogeneity = "uniform";
    c.sd = 0.2;
    c.batch = 256;
    c.l2_alpha_sd = 1e-2;
    c.train_samples = 0;  // all of the 80% split
    c.test_samples = 0;   // all
    deltas = "0,0.15";
    depths = "2,3,4,5";
  }
  if (experiment == "trained") {  // the Fig. 3 configurations
    c.train_tau = true;
    if (c.task == "shd") {
      hidden_layers = 5;
      c.neurons = 32;
      c.heterogeneity = "normal";
      c.sd = 0.1;
      c.l2_alpha_sd = 0.1;
      c.epochs = 40;
    } else {
      hidden_layers = 3;
      c.neurons = 32;
      c.tau_mem = 0.2;
      c.sd = 0.0;
      c.heterogeneity = "none";
    }
  }
  CommandLine cli("spikelab-hierarchy",
                  "Temporal hierarchy of time constants (Moro et al., arXiv 2024) on MTS-XOR or SHD.\n"
                  "  --experiment sweep    accuracy against delta_tau (Fig. 2b), fixed time constants\n"
                  "  --experiment trained  time constants trained from a homogeneous start (Fig. 3)\n"
                  "  --experiment single   one run with the options given, progress per epoch\n"
                  "  --task shd --shd-dir DIR  the same on SHD (DIR/shd_train.h5, DIR/shd_test.h5; needs HDF5)\n"
                  "Defaults follow the paper's code; task and experiment set their own defaults before the options.");
  cli.option("experiment", experiment, "sweep | trained | single")
      .option("task", c.task, "mts-xor | shd")
      .option("shd-dir", c.shd_dir, "folder with shd_train.h5 and shd_test.h5 (--task shd)")
      .option("hidden-layers", hidden_layers, "hidden LIF layers (trained / single; 2, 3, 4 or 5)")
      .option("depths", depths, "sweep: comma-separated numbers of hidden layers")
      .option("deltas", deltas, "sweep: comma-separated delta_tau values (s)")
      .seeds(seeds, "seeds per configuration (first-seed .. first-seed + N - 1)")
      .option("first-seed", first_seed, "first seed (to add seeds to an earlier run)")
      .option("neurons", c.neurons, "neurons per hidden layer")
      .option("tau-mem", c.tau_mem, "centre membrane time constant (s)")
      .option("delta-tau", c.delta_tau, "single: layer spread of tau (s)")
      .option("profile", c.profile, "tanh | linear | homogeneous")
      .option("heterogeneity", c.heterogeneity, "per-neuron tau spread: normal | uniform | none")
      .option("sd", c.sd, "relative sd of the per-neuron spread")
      .option("tau-out", c.tau_out, "readout time constant (s)")
      .option("dt", c.dt, "time step (s)")
      .option("epochs", c.epochs, "training epochs")
      .option("train-samples", c.train_samples, "training samples (MTS-XOR, hSNN: 20 x 512 = 10240; SHD: 0 = all)")
      .option("valid-samples", c.valid_samples, "MTS-XOR validation samples (model selection)")
      .option("test-samples", c.test_samples, "test samples (SHD: 0 = all)")
      .option("batch", c.batch, "batch size")
      .option("lr", c.lr, "Adam learning rate (x0.75 every 10 epochs from epoch 25)")
      .flag("train-tau", c.train_tau, "train the decays alpha (single)")
      .option("alpha-penalty", c.alpha_penalty, "weight of ||ReLU(alpha - 0.95)|| when training alpha")
      .option("l2-alpha-sd", c.l2_alpha_sd, "weight of ||alpha_l - mean(alpha_l)|| when training alpha")
      .option("alpha-grad-scale", c.alpha_grad_scale, "gradient scale of alpha (hSNN 0.1; nearly no effect with Adam)")
      .option("dropout", c.dropout, "dropout on the hidden spikes (hSNN 0.1)")
      .threads(threads, "threads")
      .option("out", out, "directory for the SVG figure and the CSV")
      .flag("verbose", c.verbose, "print every epoch of every run");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    sl::set_num_threads(threads);
    c.hidden_layers = std::size_t(hidden_layers);
    if (first_seed < 0) throw std::invalid_argument("--first-seed must be >= 0");
    c.seed = std::uint64_t(first_seed);
    std::filesystem::create_directories(out);
    if (c.task == "shd" && c.shd_dir.empty()) throw std::invalid_argument("--task shd needs --shd-dir");
    std::cout << "spikelab " << sl::version::as_string() << " -- " << task_title(c) << " temporal hierarchy, experiment '"
              << experiment << "', " << c.epochs << " epochs, batch " << c.batch << ", " << sl::num_threads() << " thread(s)\n";
    if (experiment == "sweep")
      return sweep(c, spikelab_examples::parse_list("deltas", deltas), spikelab_examples::parse_list<long>("depths", depths), seeds,
                   out);
    if (experiment == "trained") return trained(c, seeds, out);
    if (experiment == "single") {
      c.verbose = true;
      const RunResult r = run_any(c);
      std::cout << "tau per layer (ms): initial " << ms_list(r.tau_init) << " -> final " << ms_list(r.tau_final) << "\n"
                << "best validation accuracy " << fixed(100 * r.best_val, 2) << "% (epoch " << r.best_epoch
                << "), test accuracy there " << fixed(100 * r.test_at_best, 2) << "%, final test "
                << fixed(100 * r.final_test, 2) << "%, " << fixed(r.seconds, 1) << " s\n";
      return 0;
    }
    throw std::invalid_argument("unknown --experiment '" + experiment + "'");
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const sl::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
