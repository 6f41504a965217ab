// spikelab-hierarchy: the temporal-hierarchy experiments of Moro et al. (arXiv 2024; hSNN) on the
// multi-time-scale XOR task (MTS-XOR), with the configurations of the paper's code (sweep.py,
// hsnn_optimization_finds_hierarchy.ipynb):
//
//  --protocol hsnn        Fig. 3 as the notebook runs it: decays alpha = exp(-dt/tau) trained from a
//                         homogeneous start (tau = 0.2 s, 3 hidden layers x 32; the code's n_layers 4
//                         counts the readout), every detail of the code set and printed (below).
//                         Reports per layer the mean trained tau and the fraction of neurons whose
//                         alpha sits at or beyond the clip 0.98: does tau grow with depth?
//  --protocol hsnn-fig2a  Fig. 2a: accuracy against tau_mem (fixed, homogeneous, 10% normal spread)
//                         for 2 and 3 hidden layers of 10 neurons, the same details.
//  --experiment sweep     Fig. 2b: accuracy against the layer spread delta_tau of the time constants
//                         (tanh hierarchy around tau_mem = 0.3 s, 10 neurons per hidden layer, time
//                         constants fixed), for 2 and 3 hidden layers.
//  --experiment trained   Fig. 3 with spikelab's own defaults (see below).
//  --experiment fig2a     Fig. 2a with spikelab's own defaults.
//  --experiment single    one run with the options given (progress per epoch).
//  --experiment delays    LIF without and with learnable synaptic delays on the first synapse
//                         (--delays MAX: a LearnableDelay in the DCLS form, Hammouamri et al., ICLR
//                         2024, instead of the first Linear; sigma annealed from MAX/3 to 0.5 over
//                         half the epochs, then 0, i.e. rounded delays), --seeds seeds each; the
//                         round_delays() network is then streamed step by step over the test set.
//
// What --protocol sets that the plain experiments do not (each also a flag of its own): labels on
// all 100 steps (0 during signal A, the segment's label on its silent steps too) with the
// cross-entropy over all of them and accuracy on the 60 coding steps; alpha clipped to
// [1e-5, 0.98] in the forward pass only (the trained alpha may leave the range; the loss's
// gradient is zero beyond it, the alpha penalties act on the stored alpha); Adam's bias
// correction indexed by the epoch (jax's adam called with the epoch); lr x0.5 every 5 epochs from
// 0-based epoch 26; BatchNorm with the batch's statistics in evaluation; a dropout mask per
// (sample, step, neuron); weights U(+-w_l) with the code's w_scale (computed from its defaults
// n_in 700, n_hid 128: [1/sqrt(700), 1/sqrt(128) x3], their mean when the network has another
// number of layers); model selection on the last best validation epoch (>=), whose parameters give
// the reported test accuracy and trained tau.
// Without --protocol: labels on the coding steps only, alpha projected into [1e-5, 0.98] after each
// step, textbook Adam, lr x0.75 every 10 epochs from epoch 25, running BatchNorm statistics, one
// dropout mask per sample, U(+-1/sqrt(fan_in)), first best validation epoch.
//
// Network (hSNN): 40 inputs -> [Linear -> BatchNorm -> LIF (subtractive reset, threshold 1, box
// surrogate |v - 1| < 0.5, reset gradient kept) -> dropout 0.1] x L_h -> Linear -> BatchNorm ->
// leaky integrator (alpha_out = exp(-dt/0.05 s), input scaled by 1 - alpha_out), softmax
// cross-entropy per step. Adam lr 0.01, batch 512, 60 epochs, 10240 / 1024 / 1024 samples.
//
// --csv FILE: one row per variant, seed and epoch (test accuracy, dead fraction, mean tau and
// clip fraction per hidden layer). --resume FILE: every run keeps a training checkpoint
// FILE.<variant>-s<seed> (and its selection state, .state) up to date after each epoch, and
// continues from it when started again with the same options; finished runs are not retrained.
//
// --task shd --shd-dir DIR runs the plain experiments on the Spiking Heidelberg Digits
// (DIR/shd_train.h5, DIR/shd_test.h5, gunzipped or as downloaded (.h5.gz); needs the HDF5 reader,
// i.e. a build with spikelab::hdf5):
// 700 channels in 100 bins of 14 ms, the train file split 80/20 into train/validation, the
// 'cum' decoder (softmax over time of the readout's softmax), tau_out 0.2 s, and the paper's SHD
// defaults (Fig. 2c sweep: tau_mem 0.1 s, tanh hierarchy, uniform heterogeneity sd 0.2, delta_tau
// 0 / 0.15, 2-5 hidden layers; Fig. 3: 5 hidden layers x 32, tau_mem 0.1 s, normal sd 0.1,
// l2_alpha_sd 0.1, 40 epochs).
#include <spikelab/spikelab.hpp>

#include "common/command_line.hpp"
#include "common/data_files.hpp"
#include "common/report.hpp"
#include "common/training.hpp"
#include "common/svg.hpp"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <limits>
#include <numeric>
#include <sstream>
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
using Dly = sl::LearnableDelay<float>;

// Sequential<[Lin, Norm, Hidden, Drop] x H, Lin, Norm, Out>: hSNN's network with H hidden layers
// (BatchNorm on every layer's input current, dropout on the hidden spikes); with --delays, the
// first synapse is a LearnableDelay (First = Dly) instead of a Linear.
template <class T>
struct ToSequential;
template <class... Ts>
struct ToSequential<std::tuple<Ts...>> {
  using type = sl::Sequential<Ts...>;
};
template <class First, std::size_t... I>
auto hidden_tuple(std::index_sequence<I...>)
    -> decltype(std::tuple_cat(std::declval<std::tuple<First, Norm, Hidden, Drop>>(),
                               (void(I), std::declval<std::tuple<Lin, Norm, Hidden, Drop>>())...,
                               std::declval<std::tuple<Lin, Norm, Out>>()));
template <std::size_t H, class First = Lin>
using HsnnNet = typename ToSequential<decltype(hidden_tuple<First>(std::make_index_sequence<H - 1>{}))>::type;

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
  int lr_every = 10;       ///< epochs between learning-rate decays
  double lr_gamma = 0.75;  ///< factor per decay
  int lr_first = 25;       ///< 0-based epoch of the first decay
  // the hSNN code's details (--protocol sets them all; see the file comment)
  bool all_step_labels = false;
  bool forward_clip = false;
  bool adam_per_epoch = false;
  bool bn_batch_stats_eval = false;
  bool dropout_per_step = false;
  bool hsnn_weight_init = false;
  bool select_last_best = false;
  std::uint64_t seed = 0;
  bool verbose = false;
  long delays = 0;               ///< max delay (steps) of a LearnableDelay as the first synapse; 0: a Linear
  double delay_sigma = 0;        ///< its initial spread (steps); 0: delays / 3
  int delay_anneal = 0;          ///< epochs over which sigma falls to 0.5 (then 0: rounded); 0: epochs / 2
  bool delay_per_channel = false;
  std::string variant = "run";  ///< name of this configuration in the CSV and the checkpoint files
  std::string resume;           ///< checkpoint prefix (empty: none)
};

struct RunResult {
  double best_val = 0, test_at_best = 0, final_test = 0;
  int best_epoch = 0;
  std::vector<double> tau_init, tau_final;  // mean tau per hidden layer (s)
  std::vector<double> tau_best, clip_best;  // mean tau and clip fraction per hidden layer at the selected epoch
  std::vector<double> clip_final, dead_final;
  std::vector<double> tau_sd_final;  // sd of tau within each hidden layer (s)
  double seconds = 0;
  bool resumed = false;
  // --delays on MTS-XOR: the round_delays() network, streamed step by step over the test set
  double stream_max_diff = -1;  // largest |output| difference to the trained network's forward()
  double stream_accuracy = -1;  // its coding-window accuracy
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

/// The hSNN code's weight bounds w_l for a network of `layers` weight layers (hidden + readout):
/// SimArgs computes w_scale = [1/sqrt(700), 1/sqrt(128) x 3] from its defaults (n_in 700, n_hid
/// 128, n_layers 3) once; params_initializer uses it as is when it has one entry per layer and
/// its mean for every layer otherwise (reshape_weight_scale_factor).
std::vector<double> hsnn_weight_bounds(std::size_t layers) {
  const std::vector<double> w{1 / std::sqrt(700.0), 1 / std::sqrt(128.0), 1 / std::sqrt(128.0), 1 / std::sqrt(128.0)};
  if (layers == w.size()) return w;
  return std::vector<double>(layers, mean_of(w));
}

std::string list_of(const std::vector<double>& v, int digits, double scale = 1.0) {
  std::string s;
  for (double x : v) s += (s.empty() ? "" : " ") + fixed(scale * x, digits);
  return s;
}

/// The per-epoch CSV shared by all runs of one invocation (appended to when resuming).
class EpochCsv {
 public:
  EpochCsv() = default;
  EpochCsv(const std::string& path, std::size_t max_layers, bool append) : layers_(max_layers) {
    if (path.empty()) return;
    const bool has_rows = append && std::filesystem::exists(path) && std::filesystem::file_size(path) > 0;
    out_.open(path, has_rows ? std::ios::app : std::ios::trunc);
    if (!out_) throw std::invalid_argument("cannot write --csv file '" + path + "'");
    if (has_rows) return;
    out_ << "variant,task,hidden_layers,neurons,tau_mem,delta_tau,train_tau,seed,epoch,lr,train_loss,train_acc,val_acc,test_acc";
    for (const char* what : {"dead", "tau_ms", "clip"})
      for (std::size_t l = 1; l <= layers_; ++l) out_ << ',' << what << '_' << l;
    out_ << ",epoch_seconds\n" << std::flush;
  }
  void row(const RunConfig& c, const sl::TrainInfo& i, double test, const std::vector<double>& dead,
           const std::vector<double>& tau, const std::vector<double>& clip) {
    if (!out_.is_open()) return;
    out_ << c.variant << ',' << c.task << ',' << c.hidden_layers << ',' << c.neurons << ',' << c.tau_mem << ','
         << c.delta_tau << ',' << int(c.train_tau) << ',' << c.seed << ',' << i.epoch << ',' << i.lr << ',' << i.loss
         << ',' << i.accuracy << ',' << i.val_accuracy << ',' << test;
    for (const auto* v : {&dead, &tau, &clip})
      for (std::size_t l = 0; l < layers_; ++l) {
        out_ << ',';
        if (l < v->size()) out_ << (v == &tau ? 1000 * (*v)[l] : (*v)[l]);
      }
    out_ << ',' << i.epoch_seconds << '\n' << std::flush;
  }

 private:
  std::size_t layers_ = 0;
  std::ofstream out_;
};

/// The model selection's state of a run, kept next to its checkpoint (plain text).
struct Selection {
  double best_val = -1, test_at_best = 0, last_test = 0;
  int best_epoch = 0;
  std::vector<double> tau_best, clip_best;

  void save(const std::filesystem::path& p) const {
    const std::filesystem::path tmp = p.string() + ".tmp";
    {
      std::ofstream f(tmp);
      f.precision(17);
      f << best_val << ' ' << test_at_best << ' ' << last_test << ' ' << best_epoch << ' ' << tau_best.size();
      for (double t : tau_best) f << ' ' << t;
      for (double t : clip_best) f << ' ' << t;
      f << '\n';
      if (!f) throw sl::Error("cannot write '" + tmp.string() + "'");
    }
    std::filesystem::rename(tmp, p);
  }
  static Selection load(const std::filesystem::path& p) {
    Selection s;
    std::ifstream f(p);
    std::size_t n = 0;
    if (!(f >> s.best_val >> s.test_at_best >> s.last_test >> s.best_epoch >> n) || n > 64)
      throw sl::Error("'" + p.string() + "' is not a selection state written by spikelab-hierarchy");
    s.tau_best.resize(n);
    s.clip_best.resize(n);
    for (double& t : s.tau_best) f >> t;
    for (double& t : s.clip_best) f >> t;
    if (!f) throw sl::Error("'" + p.string() + "' is truncated");
    return s;
  }
};

// After every epoch: the test accuracy, the per-layer figures, the model selection (the hSNN
// code's: best validation accuracy, ties to the first or the last such epoch), the CSV row, and
// the selection state and training checkpoint when resuming.
template <class TrainerT, class Src>
struct EpochTracker {
  const RunConfig* c;
  Src* test;
  sl::SpikeStatistics* stats;
  EpochCsv* csv;
  std::filesystem::path checkpoint;
  Selection sel;

  void on_epoch_end(const sl::TrainInfo& i, TrainerT& trainer) {
    auto& net = trainer.net();
    sel.last_test = trainer.evaluate(*test).accuracy;
    const std::vector<double> tau = sl::mean_time_constants(net, c->dt), clip = sl::decay_limit_fractions(net);
    std::vector<double> dead;
    for (const auto& l : stats->last().layers) dead.push_back(l.dead_fraction());
    const bool better = c->select_last_best ? i.val_accuracy >= sel.best_val : i.val_accuracy > sel.best_val;
    if (better) {
      sel.best_val = i.val_accuracy;
      sel.test_at_best = sel.last_test;
      sel.best_epoch = i.epoch;
      sel.tau_best = tau;
      sel.clip_best = clip;
    }
    csv->row(*c, i, sel.last_test, dead, tau, clip);
    if (!checkpoint.empty()) {
      // the state first: an epoch re-run after an interruption between the two writes gives the
      // same numbers again, so the selection stays consistent
      sel.save(checkpoint.string() + ".state");
      sl::save_training_checkpoint(checkpoint, trainer);
    }
    if (c->verbose) {
      std::cout << "  epoch " << i.epoch << "/" << i.epochs << "  loss " << fixed(i.loss, 4) << "  train "
                << fixed(100 * i.accuracy, 2) << "%  val " << fixed(100 * i.val_accuracy, 2) << "%  test "
                << fixed(100 * sel.last_test, 2) << "%  tau(ms) " << list_of(tau, 1, 1000) << "  at clip "
                << list_of(clip, 2) << "  dead " << list_of(dead, 2) << "  lr " << i.lr << "  "
                << fixed(i.epoch_seconds, 1) << " s\n"
                << std::flush;
    }
  }
};

// The trained network with its LearnableDelay replaced by round_delays(), streamed one step at
// a time (Sequential::forward_step) over the MTS-XOR test set: the largest output difference to
// the trained network's forward() and the accuracy on the coding steps.
template <class Net, class Src>
std::pair<double, double> stream_rounded(Net& net, Src& test) {
  auto rounded = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return sl::Sequential<sl::IntegerDelay<float>, std::tuple_element_t<I + 1, typename Net::layer_types>...>(
        net.template layer<0>().round_delays(), net.template layer<I + 1>()...);
  }(std::make_index_sequence<Net::size - 1>{});
  const std::vector<std::uint8_t> decide = test.task().decision_steps();
  double diff = 0;
  long right = 0, scored = 0;
  sl::Batch<float> b;
  test.start_epoch(0);
  while (test.next(b)) {
    const sl::Index B = b.batch(), T = b.steps();
    const sl::Matrix<float> y = net.forward(b.input, sl::ForwardContext::eval()).values();
    auto st = rounded.make_stream_state(B);
    for (sl::Index t = 0; t < T; ++t) {
      const sl::Matrix<float>& s = rounded.forward_step(st, b.input.slot(t));
      diff = std::max(diff, double((s - y.middleCols(t * B, B)).cwiseAbs().maxCoeff()));
      if (!decide[std::size_t(t)]) continue;
      for (sl::Index j = 0; j < B; ++j) {
        const int label = b.step_labels[std::size_t(t * B + j)];
        if (label < 0) continue;
        sl::Index k = 0;
        s.col(j).maxCoeff(&k);
        right += k == label;
        ++scored;
      }
    }
  }
  return {diff, scored ? double(right) / double(scored) : 0.0};
}

// Sets every epoch's spread of the first layer's delays (DCLS's annealing).
struct DelayAnnealer {
  sl::DelaySigmaSchedule schedule;
  template <class Net>
  void on_epoch_begin(const sl::TrainInfo& i, Net& net) {
    net.template layer<0>().set_sigma(schedule.value(i.epoch));
  }
};

// Builds the hSNN network with H hidden layers (the first synapse of type First), initialises its
// time constants and trains it over the given sources with `loss`.
template <std::size_t H, class First, class LossT, class TrainSrc, class ValidSrc, class TestSrc>
RunResult train(const RunConfig& c, sl::Index inputs, sl::Index classes, LossT loss, TrainSrc& train_src,
                ValidSrc& valid_src, TestSrc& test_src, EpochCsv& csv) {
  const auto t0 = std::chrono::steady_clock::now();
  sl::Rng rng(1000 + c.seed);
  constexpr double inf = std::numeric_limits<double>::infinity();
  // the forward clip leaves the stored alpha free (no projection); otherwise it is projected
  const sl::LifConfig lif{.beta = 0.9, .threshold = 1.0, .beta_min = c.forward_clip ? -inf : sl::hsnn_decay_min,
                          .beta_max = c.forward_clip ? inf : sl::hsnn_decay_max};
  const sl::Boxcar box{.height = 1.0, .half_width = 0.5};
  const sl::Index n = c.neurons;
  const std::vector<double> bounds = c.hsnn_weight_init ? hsnn_weight_bounds(H + 1) : std::vector<double>{};
  HsnnNet<H, First> net;
  const double sigma0 = c.delay_sigma > 0 ? c.delay_sigma : double(c.delays) / 3.0;
  [&]<std::size_t... K>(std::index_sequence<K...>) {
    auto set = [&]<std::size_t I>(std::integral_constant<std::size_t, I>) {
      auto& l = net.template layer<I>();
      using L = std::remove_cvref_t<decltype(l)>;
      constexpr bool readout = I >= 4 * H;
      if constexpr (std::same_as<L, Out>) {
        l = Out(classes, {.beta = std::exp(-c.dt / c.tau_out), .normalize = true});
      } else if constexpr (std::same_as<L, Hidden>) {
        l = Hidden(n, lif, box);
        if (c.forward_clip) l.beta().set_forward_clip(sl::hsnn_decay_min, sl::hsnn_decay_max);
      } else if constexpr (std::same_as<L, Norm>) {
        l = Norm(readout ? classes : n, {.eps = 1e-5, .batch_statistics_in_eval = c.bn_batch_stats_eval});
      } else if constexpr (std::same_as<L, Drop>) {
        l = Drop(n, {.p = c.dropout, .per_step = c.dropout_per_step});
      } else if constexpr (std::same_as<L, Dly>) {
        sl::LearnableDelayConfig dc{.max_delay = c.delays, .sigma = sigma0, .per_channel = c.delay_per_channel};
        if (!bounds.empty()) dc.init_scale = bounds[0] * std::sqrt(double(inputs));
        l = Dly(inputs, n, rng, dc);
      } else {
        const sl::Index fan_in = I == 0 ? inputs : n;
        sl::LinearConfig lc{.bias = false};
        if (!bounds.empty()) lc.init_scale = bounds[I / 4] * std::sqrt(double(fan_in));  // U(+-w_l)
        l = Lin(fan_in, readout ? classes : n, rng, lc);
      }
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
  const sl::Adam adam{.bias_correction = c.adam_per_epoch ? sl::AdamBiasCorrection::per_epoch : sl::AdamBiasCorrection::per_step};
  sl::Trainer trainer(net, sl::Bptt<LossT, sl::DecayRegularizer>(std::move(loss), reg),
                      sl::Optimizer<float, sl::Adam, sl::StepLr>(oc, adam, {.every = c.lr_every, .gamma = c.lr_gamma, .first = c.lr_first}),
                      {.seed = c.seed + 1});
  sl::SpikeStatistics stats;
  EpochTracker<decltype(trainer), TestSrc> tracker{&c, &test_src, &stats, &csv, {}, {}};
  if (!c.resume.empty()) {
    tracker.checkpoint = c.resume + "." + c.variant + "-s" + std::to_string(c.seed);
    if (std::filesystem::exists(tracker.checkpoint)) {
      spikelab_examples::load_checkpoint_warning_on_changes(tracker.checkpoint.string(), trainer, c.epochs, std::cout);
      const std::filesystem::path state = tracker.checkpoint.string() + ".state";
      if (std::filesystem::exists(state)) tracker.sel = Selection::load(state);
      res.resumed = true;
      if (c.verbose)
        std::cout << "  continuing " << tracker.checkpoint.string() << " after epoch " << trainer.progress().epoch << "\n";
    }
  }
  if constexpr (std::same_as<First, Dly>) {
    const int anneal_epochs = c.delay_anneal > 0 ? c.delay_anneal : std::max(1, c.epochs / 2);
    DelayAnnealer anneal{{.initial = sigma0, .target = 0.5, .anneal_epochs = anneal_epochs}};
    trainer.fit(train_src, valid_src, c.epochs, anneal, stats, tracker);
    if constexpr (requires { test_src.task().decision_steps(); })
      if (!c.bn_batch_stats_eval) std::tie(res.stream_max_diff, res.stream_accuracy) = stream_rounded(net, test_src);
  } else {
    trainer.fit(train_src, valid_src, c.epochs, stats, tracker);
  }
  res.best_val = tracker.sel.best_val;
  res.test_at_best = tracker.sel.test_at_best;
  res.final_test = tracker.sel.last_test;
  res.best_epoch = tracker.sel.best_epoch;
  res.tau_best = tracker.sel.tau_best;
  res.clip_best = tracker.sel.clip_best;
  res.tau_final = sl::mean_time_constants(net, c.dt);
  res.clip_final = sl::decay_limit_fractions(net);
  if (!stats.history().empty())
    for (const auto& l : stats.last().layers) res.dead_final.push_back(l.dead_fraction());
  sl::for_each_spiking_decay(net, [&](auto& p, std::size_t) {
    const sl::Vector<double> t = sl::time_constants(p, c.dt);
    res.tau_sd_final.push_back(std::sqrt((t.array() - t.mean()).square().sum() / double(std::max<sl::Index>(t.size() - 1, 1))));
  });
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return res;
}

template <std::size_t H, class First>
RunResult run_mts_xor(const RunConfig& c, EpochCsv& csv) {
  const sl::MtsXorConfig task{.labels = c.all_step_labels ? sl::MtsXorLabels::all_steps : sl::MtsXorLabels::coding_steps};
  sl::MtsXorSource<float> train_src(c.train_samples, c.batch, 100 * c.seed + 1, true, task);
  sl::MtsXorSource<float> valid(c.valid_samples, c.batch, 100 * c.seed + 2, false, task);
  sl::MtsXorSource<float> test(c.test_samples, c.batch, 100 * c.seed + 3, false, task);
  // accuracy on the coding steps whatever carries a label
  return train<H, First>(c, 40, 2, sl::StepCrossEntropy{.decision_steps = train_src.task().decision_steps()}, train_src, valid,
                  test, csv);
}

#ifdef SPIKELAB_HAS_HDF5
using ShdLoader = sl::EventLoader<float, sl::ShdDataset, sl::ToFrame>;

template <std::size_t H, class First>
RunResult run_shd(const RunConfig& c, EpochCsv& csv) {
  const std::filesystem::path dir(c.shd_dir);
  const std::filesystem::path train_path = spikelab_examples::shd_file(dir, "shd_train.h5"),
                              test_path = spikelab_examples::shd_file(dir, "shd_test.h5");
  const sl::ShdDataset train_file = sl::Shd::load(train_path);
  const sl::ShdDataset test_file = sl::Shd::load(test_path);
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
  return train<H, First>(c, 700, sl::Shd::classes, sl::CumSoftmaxCrossEntropy{}, train_src, valid, test, csv);
}
#endif

template <std::size_t H, class First = Lin>
RunResult run(const RunConfig& c, EpochCsv& csv) {
  if (c.task == "mts-xor") return run_mts_xor<H, First>(c, csv);
  if (c.task == "shd") {
#ifdef SPIKELAB_HAS_HDF5
    return run_shd<H, First>(c, csv);
#else
    throw std::invalid_argument(
        "--task shd needs the HDF5 reader: this build has none; install libhdf5-dev and configure with "
        "-DSPIKELAB_WITH_HDF5=ON");
#endif
  }
  throw std::invalid_argument("unknown --task '" + c.task + "' (mts-xor or shd)");
}

RunResult run_any(const RunConfig& c, EpochCsv& csv) {
  if (c.delays < 0) throw std::invalid_argument("--delays must be >= 0");
  if (c.delays > 0) {  // one network shape with delays, to keep the build small
    if (c.hidden_layers != 2) throw std::invalid_argument("--delays needs --hidden-layers 2");
    return run<2, Dly>(c, csv);
  }
  switch (c.hidden_layers) {
    case 2: return run<2>(c, csv);
    case 3: return run<3>(c, csv);
    case 4: return run<4>(c, csv);
    case 5: return run<5>(c, csv);
  }
  throw std::invalid_argument("--hidden-layers must be 2, 3, 4 or 5");
}

std::string task_title(const RunConfig& c) { return c.task == "shd" ? "SHD" : "MTS-XOR"; }

// Prints every value a run uses (what --protocol sets, and the rest).
void print_settings(const RunConfig& c, const std::string& protocol, const std::string& experiment, int seeds) {
  const auto onoff = [](bool b) { return b ? "yes" : "no"; };
  std::cout << "settings (" << (protocol.empty() ? "no protocol: spikelab's defaults" : "--protocol " + protocol) << ", experiment "
            << experiment << "):\n"
            << "  task " << task_title(c) << ", dt " << c.dt << " s, " << c.train_samples << " train / " << c.valid_samples
            << " validation / " << c.test_samples << " test samples, batch " << c.batch << ", " << seeds
            << " seed(s) from " << c.seed << "\n"
            << "  labels on all steps (0 during A, segment label on silent steps): " << onoff(c.all_step_labels)
            << "; loss: per-step softmax cross-entropy, mean over labelled steps; accuracy on the coding steps\n"
            << "  network: " << (experiment == "fig2a" || experiment == "sweep" ? "per run" : std::to_string(c.hidden_layers))
            << " hidden LIF layers x " << c.neurons
            << ", Linear (no bias) -> BatchNorm (eps 1e-5, gamma 1, beta 0, batch statistics in evaluation: "
            << onoff(c.bn_batch_stats_eval) << ") -> LIF -> dropout " << c.dropout
            << " (mask per step: " << onoff(c.dropout_per_step) << ")\n"
            << "  LIF: v = alpha v + I - s_prev, spike v > 1, box surrogate 1[|v - 1| < 0.5], reset gradient kept\n"
            << "  readout: Linear -> BatchNorm -> leaky integrator alpha_out = exp(-dt/" << c.tau_out
            << " s) = " << fixed(std::exp(-c.dt / c.tau_out), 4) << ", input x (1 - alpha_out), fixed\n"
            << "  weights: "
            << (c.hsnn_weight_init ? "U(+-w_l), hSNN w_scale (" + list_of(hsnn_weight_bounds(c.hidden_layers + 1), 4) + " for " +
                                         std::to_string(c.hidden_layers) + " hidden layers)"
                                   : std::string("U(+-1/sqrt(fan_in))"))
            << "\n"
            << "  time constants: tau_mem " << c.tau_mem << " s, profile " << c.profile << ", delta_tau " << c.delta_tau
            << " s, heterogeneity " << c.heterogeneity << " sd " << c.sd
            << ", alpha = exp(-dt/tau) clipped to [0.1, 0.99] at init\n"
            << "  alpha trained: " << onoff(c.train_tau) << "; clip [1e-5, 0.98] "
            << (c.forward_clip ? "in the forward pass only (stored alpha free, zero loss gradient beyond)"
                               : "by projection after each step")
            << "\n";
  if (c.train_tau)
    std::cout << "  alpha penalties: " << c.alpha_penalty << " ||ReLU(alpha - 0.95)|| + " << c.l2_alpha_sd
              << " ||alpha_l - mean alpha_l|| (one norm over all layers, on the stored alpha); alpha gradient x"
              << c.alpha_grad_scale << "\n";
  if (c.delays > 0)
    std::cout << "  first synapse: LearnableDelay (DCLS), delays in [0, " << c.delays << "] steps"
              << (c.delay_per_channel ? " (one per input channel)" : " (one per connection)")
              << ", Gaussian kernel, sigma from " << (c.delay_sigma > 0 ? c.delay_sigma : double(c.delays) / 3.0)
              << " down to 0.5 over " << (c.delay_anneal > 0 ? c.delay_anneal : std::max(1, c.epochs / 2))
              << " epochs, then 0 (rounded delays, weights fine-tuned); positions uniform at init, stored as P/"
              << c.delays << " (Adam moves a delay ~" << c.lr * double(c.delays) << " steps per update)\n";
  std::cout << "  optimiser: Adam (0.9, 0.999, 1e-8), bias correction per " << (c.adam_per_epoch ? "epoch" : "step")
            << ", lr " << c.lr << " x" << c.lr_gamma << " every " << c.lr_every << " epochs from 0-based epoch "
            << c.lr_first << ", " << c.epochs << " epochs\n"
            << "  model selection: " << (c.select_last_best ? "last" : "first")
            << " epoch of best validation accuracy; test accuracy and tau reported there\n"
            << std::flush;
}

// A grid over one configuration value (delta_tau for Fig. 2b, tau_mem for Fig. 2a) and the
// depth: test accuracy at the selected epoch, mean +- sd over seeds, as a table, a CSV and a plot.
struct Grid {
  std::string name;     ///< file stem and variant prefix: "sweep", "fig2a"
  std::string what;     ///< the swept value's column name and axis label
  std::string key;      ///< its short name in the variant ("dtau", "tau")
  std::string title;    ///< the plot's title
  std::string subtitle;
  void (*set)(RunConfig&, double);
};

int grid(RunConfig base, const Grid& g, const std::vector<double>& values, const std::vector<long>& depths, int seeds,
         const std::filesystem::path& out, EpochCsv& epoch_csv) {
  std::ofstream csv(out / ("hierarchy_" + g.name + ".csv"));
  csv << "hidden_layers," << g.what << ",seed,best_val,test_at_best_val,final_test,best_epoch,tau_init_ms,dead_final,seconds\n";
  svg::Plot plot(g.title, g.what + " (s)", "test accuracy at the selected epoch (%)");
  plot.subtitle(g.subtitle + ", " + std::to_string(base.neurons) + " neurons/layer, " + std::to_string(base.epochs) + " epochs, " +
                std::to_string(base.train_samples) + " samples, mean +- sd over " + std::to_string(seeds) + " seeds");
  std::printf("\n hidden  %10s   test acc (mean +- sd)   per seed\n", g.what.c_str());
  for (long dl : depths) {
    std::vector<double> xs, ys, es;
    for (double v : values) {
      std::vector<double> accs;
      std::string per;
      for (int s = 0; s < seeds; ++s) {
        RunConfig c = base;
        c.hidden_layers = std::size_t(dl);
        g.set(c, v);
        c.seed = base.seed + std::uint64_t(s);
        c.variant = g.name + "-h" + std::to_string(dl) + "-" + g.key + fixed(v, 3);
        const RunResult r = run_any(c, epoch_csv);
        accs.push_back(100 * r.test_at_best);
        per += ' ';
        per += fixed(100 * r.test_at_best, 2);
        csv << c.hidden_layers << ',' << v << ',' << c.seed << ',' << r.best_val << ',' << r.test_at_best << ',' << r.final_test
            << ',' << r.best_epoch << ',' << list_of(r.tau_init, 1, 1000) << ',' << list_of(r.dead_final, 3) << ','
            << r.seconds << '\n'
            << std::flush;
      }
      xs.push_back(v);
      ys.push_back(mean_of(accs));
      es.push_back(sd_of(accs));
      std::printf(" %6zu  %10.3f   %6.2f +- %-5.2f        %s\n", std::size_t(dl), v, ys.back(), es.back(), per.c_str());
      std::fflush(stdout);
    }
    plot.line(std::to_string(int(dl)) + " hidden layers (n_layers " + std::to_string(int(dl) + 1) + ")", xs, ys, es);
  }
  const std::string svg_path = (out / ("hierarchy_" + g.name + ".svg")).string();
  plot.save(svg_path);
  std::cout << "\nwrote " << svg_path << " and hierarchy_" << g.name << ".csv\n";
  return 0;
}

int trained(RunConfig base, int seeds, const std::filesystem::path& out, EpochCsv& epoch_csv) {
  std::ofstream csv(out / "hierarchy_trained.csv");
  csv << "seed,layer,tau_init_ms,tau_selected_ms,clip_selected,tau_final_ms,tau_final_sd_ms,clip_final,dead_final,best_epoch,"
         "best_val,test_at_best_val,final_test\n";
  const std::size_t L = base.hidden_layers;
  std::vector<std::vector<double>> init(L), sel(L), fin(L), clip(L), clip_fin(L);
  std::vector<double> accs;
  std::cout << "\n seed   test acc  epoch   mean tau per hidden layer at the selected epoch (ms, input -> output) | "
               "fraction of alpha at/beyond the clip\n";
  for (int s = 0; s < seeds; ++s) {
    RunConfig c = base;
    c.seed = base.seed + std::uint64_t(s);
    c.variant = "fig3";
    const RunResult r = run_any(c, epoch_csv);
    accs.push_back(100 * r.test_at_best);
    for (std::size_t l = 0; l < L; ++l) {
      init[l].push_back(1000 * r.tau_init[l]);
      sel[l].push_back(1000 * r.tau_best[l]);
      fin[l].push_back(1000 * r.tau_final[l]);
      clip[l].push_back(r.clip_best[l]);
      clip_fin[l].push_back(r.clip_final[l]);
      csv << c.seed << ',' << l + 1 << ',' << 1000 * r.tau_init[l] << ',' << 1000 * r.tau_best[l] << ',' << r.clip_best[l] << ','
          << 1000 * r.tau_final[l] << ',' << 1000 * r.tau_sd_final[l] << ',' << r.clip_final[l] << ','
          << (l < r.dead_final.size() ? r.dead_final[l] : 0.0) << ',' << r.best_epoch << ',' << r.best_val << ','
          << r.test_at_best << ',' << r.final_test << '\n';
    }
    std::printf(" %4d   %6.2f%%  %5d   %s | %s   (%.0f s%s)\n", int(c.seed), accs.back(), r.best_epoch,
                list_of(r.tau_best, 1, 1000).c_str(), list_of(r.clip_best, 3).c_str(), r.seconds,
                r.resumed ? ", resumed" : "");
    std::fflush(stdout);
  }
  std::vector<double> xs, yi, ei, yf, ef;
  int increasing = 0;
  for (std::size_t l = 0; l < L; ++l) {
    xs.push_back(double(l + 1));
    yi.push_back(mean_of(init[l]));
    ei.push_back(sd_of(init[l]));
    yf.push_back(mean_of(sel[l]));
    ef.push_back(sd_of(sel[l]));
  }
  for (int s = 0; s < seeds; ++s) {
    bool inc = true;
    for (std::size_t l = 1; l < L; ++l) inc &= sel[l][std::size_t(s)] > sel[l - 1][std::size_t(s)];
    increasing += inc;
  }
  svg::Plot plot(task_title(base) + ": time constants trained from a homogeneous start (Fig. 3)", "hidden layer (input -> output)",
                 "mean membrane time constant (ms)");
  plot.subtitle(std::to_string(L) + " hidden layers x " + std::to_string(base.neurons) + ", tau_mem " +
                fixed(base.tau_mem, 2) + " s, " + std::to_string(base.epochs) + " epochs, mean +- sd over " +
                std::to_string(seeds) + " seeds");
  plot.line("initial", xs, yi, ei).line("trained (selected epoch)", xs, yf, ef);
  plot.save((out / "hierarchy_trained.svg").string());
  std::cout << "\nper hidden layer (input -> output), mean +- sd over seeds:\n  tau at the selected epoch (ms): ";
  for (std::size_t l = 0; l < L; ++l) std::cout << mean_sd(sel[l], 1) << "  ";
  std::cout << "\n  alpha at/beyond the clip:       ";
  for (std::size_t l = 0; l < L; ++l) std::cout << mean_sd(clip[l], 3) << "  ";
  std::cout << "\n  tau after the last epoch (ms):  ";
  for (std::size_t l = 0; l < L; ++l) std::cout << mean_sd(fin[l], 1) << "  ";
  std::cout << "\n  at/beyond the clip, last epoch: ";
  for (std::size_t l = 0; l < L; ++l) std::cout << mean_sd(clip_fin[l], 3) << "  ";
  std::cout << "\nseeds whose mean tau grows strictly with depth: " << increasing << "/" << seeds
            << "\ntest accuracy: " << mean_sd(accs, 2)
            << " %\nwrote " << (out / "hierarchy_trained.svg").string() << " and hierarchy_trained.csv\n";
  return 0;
}

// LIF without and with the delay layer (--delays), the same seeds: test accuracy on the coding
// steps at the selected epoch and after the last one (sigma 0 by then: the rounded delays), and
// the round_delays() network streamed step by step.
int delays_experiment(RunConfig base, int seeds, EpochCsv& epoch_csv) {
  if (base.delays <= 0) throw std::invalid_argument("--experiment delays needs --delays MAX (> 0)");
  std::cout << "\n variant          seed  test@best  test(final)  streamed rounded (acc, max |dy|)  seconds\n";
  for (bool with : {false, true}) {
    RunConfig c = base;
    if (!with) c.delays = 0;
    c.variant = with ? "delays" + std::to_string(base.delays) : "lif";
    std::vector<double> best, fin, stream, secs;
    for (int s = 0; s < seeds; ++s) {
      c.seed = base.seed + std::uint64_t(s);
      const RunResult r = run_any(c, epoch_csv);
      best.push_back(100 * r.test_at_best);
      fin.push_back(100 * r.final_test);
      secs.push_back(r.seconds);
      if (r.stream_accuracy >= 0) stream.push_back(100 * r.stream_accuracy);
      std::printf(" %-15s %5d   %6.2f%%     %6.2f%%     ", c.variant.c_str(), int(c.seed), best.back(), fin.back());
      if (r.stream_accuracy >= 0)
        std::printf("%6.2f%%, %.2g              ", 100 * r.stream_accuracy, r.stream_max_diff);
      else
        std::printf("%-30s", "-");
      std::printf("%6.0f%s\n", r.seconds, r.resumed ? " (resumed)" : "");
      std::fflush(stdout);
    }
    std::cout << " " << c.variant << ": test@best " << mean_sd(best, 2) << " %, final " << mean_sd(fin, 2) << " %";
    if (!stream.empty()) std::cout << ", streamed rounded " << mean_sd(stream, 2) << " %";
    std::cout << ", " << fixed(mean_of(secs), 0) << " s per run\n";
  }
  return 0;
}

// The hSNN code's details, all on (--protocol).
void set_hsnn_details(RunConfig& c) {
  c.all_step_labels = true;
  c.forward_clip = true;
  c.adam_per_epoch = true;
  c.bn_batch_stats_eval = true;
  c.dropout_per_step = true;
  c.hsnn_weight_init = true;
  c.select_last_best = true;
  c.lr_every = 5;
  c.lr_gamma = 0.5;
  c.lr_first = 26;
}

}  // namespace

int main(int argc, char** argv) {
  RunConfig c;
  // the protocol, the experiment and the task decide the other options' defaults, so they are read first
  std::string protocol = spikelab_examples::early_value(argc, argv, {"protocol"}, "");
  std::string experiment = spikelab_examples::early_value(argc, argv, {"experiment"}, "");
  c.task = spikelab_examples::early_value(argc, argv, {"task"}, "mts-xor");
  std::string deltas = "-0.5,-0.4,-0.2,-0.1,0,0.1,0.2,0.4,0.5", depths = "2,3", out = ".", csv_path;
  std::string taus = "0.01,0.05,0.1,0.2,0.25,0.3,0.4,0.6";
  int seeds = 5, threads = 1;
  long first_seed = 0;
  long hidden_layers = 2;
  if (protocol == "hsnn") {
    if (experiment.empty()) experiment = "trained";
  } else if (protocol == "hsnn-fig2a") {
    if (experiment.empty()) experiment = "fig2a";
  } else if (!protocol.empty()) {
    std::cerr << "error: unknown --protocol '" << protocol << "' (hsnn or hsnn-fig2a)\n";
    return 2;
  }
  if (experiment.empty()) experiment = "sweep";
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
    } else {  // notebook cell 6: n_layers 4, n_hid 32, tau_mem 0.2, distrib 'normal' with sd 0
      hidden_layers = 3;
      c.neurons = 32;
      c.tau_mem = 0.2;
      c.sd = 0.0;
      c.heterogeneity = "none";
      c.profile = "homogeneous";
    }
  }
  if (experiment == "fig2a") {  // sweep.py hSNN_Figure_2a: no hierarchy, n_hid 10, normal sd 0.1, alpha fixed
    c.profile = "homogeneous";
    c.neurons = 10;
    c.heterogeneity = "normal";
    c.sd = 0.1;
  }
  if (!protocol.empty()) set_hsnn_details(c);
  CommandLine cli("spikelab-hierarchy",
                  "Temporal hierarchy of time constants (Moro et al., arXiv 2024) on MTS-XOR or SHD.\n"
                  "  --protocol hsnn        Fig. 3 as the hSNN code runs it (trained tau, every detail of the code)\n"
                  "  --protocol hsnn-fig2a  Fig. 2a as the hSNN code runs it (accuracy against tau_mem)\n"
                  "  --experiment sweep     accuracy against delta_tau (Fig. 2b), fixed time constants\n"
                  "  --experiment fig2a     accuracy against tau_mem (Fig. 2a), fixed time constants\n"
                  "  --experiment trained   time constants trained from a homogeneous start (Fig. 3)\n"
                  "  --experiment single    one run with the options given, progress per epoch\n"
                  "  --experiment delays    LIF without and with learnable delays (--delays MAX), --seeds seeds each\n"
                  "  --task shd --shd-dir DIR  the plain experiments on SHD (DIR/shd_train.h5, DIR/shd_test.h5, or "
                  "their .h5.gz; needs HDF5)\n"
                  "Defaults follow the paper's code where the protocol, task and experiment set them; those are read\n"
                  "before the other options, which override them.");
  cli.protocol(protocol, "hsnn (Fig. 3) or hsnn-fig2a (Fig. 2a): the hSNN code's setting, printed")
      .option("experiment", experiment, "sweep | fig2a | trained | single | delays")
      .option("task", c.task, "mts-xor | shd")
      .option("shd-dir", c.shd_dir, "folder with shd_train.h5 and shd_test.h5, or their .h5.gz (--task shd)")
      .option("hidden-layers", hidden_layers, "hidden LIF layers (trained / single; 2, 3, 4 or 5)")
      .option("depths", depths, "sweep / fig2a: comma-separated numbers of hidden layers")
      .option("deltas", deltas, "sweep: comma-separated delta_tau values (s)")
      .option("taus", taus, "fig2a: comma-separated tau_mem values (s)")
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
      .option("lr", c.lr, "Adam learning rate")
      .option("lr-every", c.lr_every, "epochs between learning-rate decays")
      .option("lr-gamma", c.lr_gamma, "learning-rate factor per decay")
      .option("lr-first", c.lr_first, "0-based epoch of the first learning-rate decay")
      .flag("train-tau", c.train_tau, "train the decays alpha (single)")
      .option("alpha-penalty", c.alpha_penalty, "weight of ||ReLU(alpha - 0.95)|| when training alpha")
      .option("l2-alpha-sd", c.l2_alpha_sd, "weight of ||alpha_l - mean(alpha_l)|| when training alpha")
      .option("alpha-grad-scale", c.alpha_grad_scale, "gradient scale of alpha (hSNN 0.1; nearly no effect with Adam)")
      .option("dropout", c.dropout, "dropout on the hidden spikes (hSNN 0.1)")
      .option("delays", c.delays, "max delay (steps) of learnable DCLS delays on the first synapse (0: none; needs 2 hidden layers)")
      .option("delay-sigma", c.delay_sigma, "initial spread of the delays' kernel (steps; 0: delays / 3)")
      .option("delay-anneal", c.delay_anneal, "epochs over which the spread falls to 0.5, then 0 (0: epochs / 2)")
      .flag("delay-per-channel", c.delay_per_channel, "one delay per input channel instead of per connection")
      .flag("all-step-labels", c.all_step_labels, "MTS-XOR labels on all steps, as the hSNN code (--protocol)")
      .flag("forward-clip", c.forward_clip, "clip alpha in the forward pass only, as the hSNN code (--protocol)")
      .flag("adam-per-epoch", c.adam_per_epoch, "Adam's bias correction indexed by the epoch, as the hSNN code (--protocol)")
      .flag("bn-batch-stats-eval", c.bn_batch_stats_eval, "BatchNorm with batch statistics in evaluation (--protocol)")
      .flag("dropout-per-step", c.dropout_per_step, "a dropout mask per step, as the hSNN code (--protocol)")
      .flag("hsnn-weight-init", c.hsnn_weight_init, "the hSNN code's weight bounds w_scale (--protocol)")
      .flag("select-last-best", c.select_last_best, "model selection on the last best validation epoch (--protocol)")
      .threads(threads, "threads")
      .csv(csv_path, "one row per variant, seed and epoch: test accuracy, dead fraction, mean tau, clip fraction per layer")
      .resume(c.resume, "checkpoint prefix: each run keeps PREFIX.<variant>-s<seed> and continues from it")
      .option("out", out, "directory for the SVG figure and the summary CSV")
      .flag("verbose", c.verbose, "print every epoch of every run");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    sl::set_num_threads(threads);
    c.hidden_layers = std::size_t(hidden_layers);
    if (first_seed < 0) throw std::invalid_argument("--first-seed must be >= 0");
    if (seeds < 1) throw std::invalid_argument("--seeds must be >= 1");
    c.seed = std::uint64_t(first_seed);
    if (!protocol.empty() && c.task != "mts-xor")
      throw std::invalid_argument("--protocol " + protocol + " is the hSNN code's MTS-XOR run (no SHD files here)");
    std::filesystem::create_directories(out);
    if (c.task == "shd" && c.shd_dir.empty()) throw std::invalid_argument("--task shd needs --shd-dir");
    std::cout << "spikelab " << sl::version::as_string() << " -- " << task_title(c) << " temporal hierarchy, experiment '"
              << experiment << "', " << c.epochs << " epochs, batch " << c.batch << ", " << sl::num_threads() << " thread(s)\n";
    print_settings(c, protocol, experiment, seeds);
    const std::vector<long> depth_list = spikelab_examples::parse_list<long>("depths", depths);
    std::size_t max_layers = c.hidden_layers;
    if (experiment == "sweep" || experiment == "fig2a")
      for (long d : depth_list) max_layers = std::max(max_layers, std::size_t(std::max(d, 0L)));
    EpochCsv epoch_csv(csv_path, max_layers, !c.resume.empty());
    if (experiment == "sweep") {
      const Grid g{"sweep", "delta_tau", "dtau",
                   task_title(c) + ": accuracy against the time-constant hierarchy (Fig. 2" + (c.task == "shd" ? "c)" : "b)"),
                   "tau_mem " + fixed(c.tau_mem, 2) + " s, " + c.profile + " profile",
                   [](RunConfig& r, double v) { r.delta_tau = v; }};
      return grid(c, g, spikelab_examples::parse_list("deltas", deltas), depth_list, seeds, out, epoch_csv);
    }
    if (experiment == "fig2a") {
      const Grid g{"fig2a", "tau_mem", "tau", task_title(c) + ": accuracy against the membrane time constant (Fig. 2a)",
                   c.heterogeneity + " spread sd " + fixed(c.sd, 2), [](RunConfig& r, double v) { r.tau_mem = v; }};
      return grid(c, g, spikelab_examples::parse_list("taus", taus), depth_list, seeds, out, epoch_csv);
    }
    if (experiment == "trained") return trained(c, seeds, out, epoch_csv);
    if (experiment == "delays") return delays_experiment(c, seeds, epoch_csv);
    if (experiment == "single") {
      c.verbose = true;
      c.variant = "single";
      const RunResult r = run_any(c, epoch_csv);
      std::cout << "tau per layer (ms): initial " << list_of(r.tau_init, 1, 1000) << " -> selected epoch "
                << list_of(r.tau_best, 1, 1000) << ", final " << list_of(r.tau_final, 1, 1000) << "\n"
                << "alpha at/beyond the clip per layer: selected epoch " << list_of(r.clip_best, 3) << ", final "
                << list_of(r.clip_final, 3) << "\n"
                << "best validation accuracy " << fixed(100 * r.best_val, 2) << "% (epoch " << r.best_epoch
                << "), test accuracy there " << fixed(100 * r.test_at_best, 2) << "%, final test "
                << fixed(100 * r.final_test, 2) << "%, " << fixed(r.seconds, 1) << " s\n";
      if (r.stream_accuracy >= 0)
        std::cout << "round_delays() network streamed step by step: test accuracy " << fixed(100 * r.stream_accuracy, 2)
                  << "%, largest output difference to the trained network " << r.stream_max_diff << "\n";
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
