// spikelab-delays: learnable synaptic delays in the DCLS form (Hammouamri, Khalfaoui-Hassani &
// Masquelier, "Learning Delays in Spiking Neural Networks using Dilated Convolutions with
// Learnable Spacings", ICLR 2024) on the Spiking Heidelberg Digits, as the paper's code trains
// them, and the same recipe on the N-MNIST recordings.
//
//  --task shd --shd-dir DIR   SHD (DIR/shd_train.h5 and DIR/shd_test.h5, or their .h5.gz; needs
//                             the HDF5 reader). SHD is not distributed with spikelab: download it
//                             (Cramer et al. 2020, https://zenkelab.org/datasets/).
//  --task nmnist --data DIR   N-MNIST recordings (Train/Test folders or SLAYER's NMNISTsmall).
//  --variants delays,lif      the network with learnable delays and the same network without
//                             (every delay 0: a LearnableDelay with a one-tap window is a Linear).
//
// On N-MNIST (no result in the paper) the recipe keeps every value but the input (17 x 17 x 2 after
// downsampling by 2, 30 frames of 10 ms), the window (delays up to 10 steps, sigma from 5), the
// epochs (30, sigma annealed over the first 7) and the batch (64).
//
// --protocol dcls (the default) sets what the official code's configuration sets
// (Thvnvtos/SNN-delays at d169b4e: config.py = best_config_SHD.py, snn_delays.py, model.py;
// every value is printed at the start of a run):
//   input: the 700 channels summed in groups of 5 (140 inputs), spike counts in 10 ms frames;
//   network: [DCLS delay synapse (no bias) -> BatchNorm over time and batch -> LIF -> dropout]
//   x 2 hidden layers of 256, then a DCLS synapse -> leaky readout. LIF: SpikingJelly's LIFNode
//   with tau 10.05 ms at 10 ms steps and decay_input False, i.e. v_t = (1 - 1/1.005) v_{t-1} + x_t,
//   threshold 1, hard reset to 0 whose gradient is detached, ATan surrogate with alpha 5; the
//   readout is the same neuron with threshold 1e9 (it never fires): a leaky integrator. Dropout
//   0.4 (one mask per sample, SpikingJelly's multi-step Dropout). Weights kaiming-uniform (relu
//   gain: U(+-sqrt(6 / fan_in))).
//   delays: max_delay 250 ms -> 25 taps (delays 0..24 steps) on every synapse, Gaussian kernel,
//   positions uniform over the window, sigma from 25 // 2 = 12 decreased exponentially at the end
//   of each epoch, reaching 0.23 after epoch 150 // 4 = 37 and held there; the window is padded
//   by (25 - 1) // 2 = 12 steps at the end per delay layer (3 x 12 zero steps after the input).
//   loss: the per-step softmax of the readout summed over time, then cross-entropy (the code's
//   loss 'sum'); prediction: argmax of that sum.
//   optimisation: batch 256, 150 epochs; Adam for weights, BatchNorm and positions; weights follow
//   PyTorch's OneCycleLR(max_lr 5e-3, total_steps = epochs) stepped once per epoch, positions
//   CosineAnnealingLR(T_max = epochs) from 100 x 1e-3 = 0.1 steps (here 0.1 / 24 on positions
//   stored as P / max_delay, the same steps per update).
//   evaluation: the code's "validation" set for SHD is the test set (no separate validation
//   split); it keeps the epoch with the lowest test loss after the annealing. We report the test
//   accuracy after the last epoch, the best-epoch accuracy (labelled as chosen on the test set),
//   and the round_delays() network (integer delays, IntegerDelay) on the test set, also streamed
//   step by step (Sequential::forward_step).
// Deviations kept (and why), also printed: Adam's weight decay 1e-5 on the synaptic weights only
// is not applied (spikelab's Adam decays every block it updates: positions and BatchNorm too);
// the frames are padded to 1.4 s + 36 steps for every batch (the code pads to the batch's
// longest recording + 36); the cosine schedule of the positions is continuous within an epoch
// (PyTorch steps it at epoch ends).
//
// Per seed and epoch rows go to --csv; --resume FILE keeps a training checkpoint and continues
// from it (with several variants or seeds, FILE.<variant>-s<seed> per run).

#include <spikelab/spikelab.hpp>

#include "common/command_line.hpp"
#include "common/data_files.hpp"
#include "common/report.hpp"
#include "common/training.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace sl = spikelab;
using spikelab_examples::CommandLine;
using spikelab_examples::fixed;
using spikelab_examples::mean_sd;

namespace {

using Dly = sl::LearnableDelay<float>;
using Idly = sl::IntegerDelay<float>;
using Norm = sl::BatchNorm<float>;
using Hidden = sl::LifType<float, sl::Arctan, sl::ZeroReset, sl::LifOptions{.reset_gradient = sl::ResetGradient::detached}>;
using Drop = sl::Dropout<float>;
using Out = sl::LeakyIntegrator<float>;
using Net = sl::Sequential<Dly, Norm, Hidden, Drop, Dly, Norm, Hidden, Drop, Dly, Out>;
using RoundedNet = sl::Sequential<Idly, Norm, Hidden, Drop, Idly, Norm, Hidden, Drop, Idly, Out>;
using Opt = sl::Optimizer<float, sl::Adam, sl::SplitSchedule<sl::OneCycleLr, sl::CosineLr>>;

struct Config {
  std::string task = "shd";
  std::string shd_dir, data;
  std::vector<std::string> variants{"delays"};
  int epochs = 150;
  sl::Index batch = 256;
  sl::Index hidden = 256;
  double step_ms = 10.0;     // frame length
  int channel_bins = 5;      // SHD: channels summed in groups of 5 (700 -> 140)
  double downsample = 2.0;   // N-MNIST: 34 x 34 -> 17 x 17
  double duration_ms = 1400; // frames cover [0, duration)
  sl::Index max_delay = 24;  // delays 0..24 steps (the code's 25-tap window)
  double sigma0 = 12;        // the code's sigInit = 25 // 2
  double sigma_final = 0.23; // the code decreases sigma to 0.23 and holds it
  int sigma_epochs = 37;     // the code's final_epoch = epochs // 4
  double tau_steps = 1.005;  // SpikingJelly's tau in steps (10.05 ms / 10 ms)
  double threshold = 1.0;
  double atan_alpha = 5.0;
  double dropout = 0.4;
  double lr_w = 5e-3;        // OneCycleLR's max_lr for the weights
  double lr_pos = 0.1;       // the positions' initial rate, in steps
  double init_gain = std::sqrt(6.0);  // kaiming-uniform (relu): U(+-sqrt(6 / fan_in))
  sl::Index train_limit = 0, test_limit = 0;
  std::uint64_t seed = 0;
  int seeds = 1;
  std::string csv, resume, checkpoint;
  int stop_after = 0;
  bool one_run = true;  // one variant and one seed: --resume names the file itself
};

// The DCLS code's values (best_config_SHD.py); the N-MNIST task keeps them but for its input.
void set_dcls(Config& c) {
  c.epochs = 150;
  c.batch = 256;
  c.hidden = 256;
  c.step_ms = 10;
  c.channel_bins = 5;
  c.max_delay = 24;
  c.sigma0 = double(25 / 2);
  c.sigma_final = 0.23;
  c.sigma_epochs = 150 / 4;
  c.tau_steps = (10.05 + 1e-9) / 10.0;
  c.threshold = 1.0;
  c.atan_alpha = 5.0;
  c.dropout = 0.4;
  c.lr_w = 5 * 1e-3;
  c.lr_pos = 100 * 1e-3;
}

void print_settings(const Config& c, sl::Index inputs, sl::Index steps, sl::Index pad) {
  std::cout << "settings (--protocol dcls: Thvnvtos/SNN-delays best_config_SHD.py; options override):\n"
            << "  input " << inputs << " channels, " << c.step_ms << " ms frames (spike counts), " << steps
            << " frames + " << pad << " zero steps (the delay windows' right padding, " << pad / 3 << " per layer)\n"
            << "  network " << inputs << " -> " << c.hidden << " -> " << c.hidden << " -> classes; each synapse a "
            << "LearnableDelay (Gaussian, no bias, delays 0.." << c.max_delay << " steps), BatchNorm (time x batch), "
            << "LIF, dropout " << c.dropout << "\n"
            << "  LIF beta " << 1.0 - 1.0 / c.tau_steps << " (tau " << c.tau_steps * c.step_ms << " ms, decay_input False), "
            << "threshold " << c.threshold << ", reset to 0 (gradient detached), ATan surrogate alpha " << c.atan_alpha << "\n"
            << "  readout: leaky integrator with the same beta (the code's LIF with threshold 1e9)\n"
            << "  weights U(+-" << fixed(c.init_gain, 3) << "/sqrt(fan_in)) (kaiming-uniform, relu gain)\n"
            << "  sigma " << c.sigma0 << " -> " << c.sigma_final << " exponentially over " << c.sigma_epochs
            << " epochs, then held\n"
            << "  loss: cross-entropy of the readout's per-step softmax summed over time (the code's 'sum')\n"
            << "  Adam; weights and BatchNorm: OneCycleLR max_lr " << c.lr_w << " (start " << c.lr_w / 25 << ", end "
            << c.lr_w / 25 / 1e4 << ", peak at 30 %, stepped per epoch); positions: cosine from " << c.lr_pos
            << " steps per update (" << c.lr_pos / double(std::max<sl::Index>(c.max_delay, 1)) << " on P / max_delay)\n"
            << "  batch " << c.batch << ", " << c.epochs << " epochs\n"
            << "  not as the code: no Adam weight decay (1e-5 on weights there); frames padded to a fixed length; the "
            << "positions' cosine is continuous within an epoch\n";
}

// Sets every delay layer's spread at the start of each epoch: sigma_0 (sigma_f / sigma_0)^((e - 1) /
// E_a) until epoch E_a + 1, then sigma_f (the code multiplies sigma at the end of each of its first
// E_a epochs).
struct SigmaAnnealer {
  sl::DelaySigmaSchedule schedule;
  bool on = true;
  template <class N>
  void on_epoch_begin(const sl::TrainInfo& i, N& net) {
    if (!on) return;
    const double s = schedule.value(i.epoch);
    net.template layer<0>().set_sigma(s);
    net.template layer<4>().set_sigma(s);
    net.template layer<8>().set_sigma(s);
  }
};

// One row per epoch on stdout and in the CSV.
struct EpochReport {
  std::ofstream* csv = nullptr;
  std::string task, variant;
  std::uint64_t seed = 0;
  double best_acc = -1, best_loss = 1e300;
  int best_epoch = 0;
  template <class Tr>
    requires requires(Tr& t) { t.optimizer(); }
  void on_epoch_end(const sl::TrainInfo& i, Tr& tr) {
    const auto& net = tr.net();
    const double sigma = net.template layer<0>().sigma();
    const double lr_pos = tr.optimizer().lr_of(sl::ParamGroup::other, "position");
    if (i.val_loss < best_loss) {
      best_loss = i.val_loss;
      best_acc = i.val_accuracy;
      best_epoch = i.epoch;
    }
    std::cout << "  epoch " << i.epoch << "/" << i.epochs << "  loss " << fixed(i.loss, 4) << "  train "
              << fixed(100 * i.accuracy, 2) << " %  test " << fixed(100 * i.val_accuracy, 2) << " % (loss "
              << fixed(i.val_loss, 4) << ")  lr_w " << i.lr << "  lr_pos " << lr_pos << "  sigma " << fixed(sigma, 3)
              << "  " << fixed(i.epoch_seconds, 1) << " s\n"
              << std::flush;
    if (csv && *csv)
      *csv << task << ',' << variant << ',' << seed << ',' << i.epoch << ',' << i.lr << ',' << lr_pos << ',' << sigma
           << ',' << i.loss << ',' << i.accuracy << ',' << i.val_loss << ',' << i.val_accuracy << ','
           << i.epoch_seconds << '\n'
           << std::flush;
  }
};

struct RunResult {
  double final_acc = 0, best_acc = 0, rounded_acc = 0, stream_acc = 0, stream_diff = 0, seconds = 0;
  int best_epoch = 0;
};

// The trained network with every LearnableDelay replaced by its round_delays() form.
RoundedNet rounded_of(Net& n) {
  return RoundedNet(n.layer<0>().round_delays(), n.layer<1>(), n.layer<2>(), n.layer<3>(), n.layer<4>().round_delays(),
                    n.layer<5>(), n.layer<6>(), n.layer<7>(), n.layer<8>().round_delays(), n.layer<9>());
}

// The rounded network streamed one step at a time over `test`: its accuracy (argmax of the summed
// per-step softmax, as the loss decides) and its largest output difference to its own forward().
template <class Src>
std::pair<double, double> stream(RoundedNet& net, Src& test) {
  double diff = 0;
  long right = 0, scored = 0;
  sl::Batch<float> b;
  test.start_epoch(0);
  while (test.next(b)) {
    const sl::Index B = b.batch(), T = b.steps();
    const sl::Matrix<float> y = net.forward(b.input, sl::ForwardContext::eval()).values();
    auto st = net.make_stream_state(B);
    sl::Matrix<double> votes = sl::Matrix<double>::Zero(y.rows(), B), e(y.rows(), B);
    for (sl::Index t = 0; t < T; ++t) {
      const sl::Matrix<float>& s = net.forward_step(st, b.input.slot(t));
      diff = std::max(diff, double((s - y.middleCols(t * B, B)).cwiseAbs().maxCoeff()));
      // this step's softmax per sample, added to the votes
      e = s.cast<double>();
      e.rowwise() -= e.colwise().maxCoeff();
      e = e.array().exp().matrix();
      votes += (e.array().rowwise() / e.colwise().sum().array()).matrix();
    }
    for (sl::Index j = 0; j < B; ++j) {
      if (b.labels[std::size_t(j)] < 0) continue;
      sl::Index k = 0;
      votes.col(j).maxCoeff(&k);
      right += k == b.labels[std::size_t(j)];
      ++scored;
    }
  }
  return {scored ? double(right) / double(scored) : 0.0, diff};
}

template <class TrainSrc, class TestSrc>
RunResult train_one(const Config& c, const std::string& variant, std::uint64_t seed, sl::Index inputs, sl::Index classes,
                    TrainSrc& train_src, TestSrc& test_src, std::ofstream* csv) {
  const bool delays = variant == "delays";
  const sl::Index D = delays ? c.max_delay : 0;
  sl::Rng rng(1000 + seed);
  auto delay = [&](sl::Index in, sl::Index out) {
    const sl::LearnableDelayConfig dc{.max_delay = D, .sigma = delays ? c.sigma0 : 0.0, .bias = false,
                                      .init_scale = c.init_gain};
    return Dly(in, out, rng, dc);
  };
  const double beta = 1.0 - 1.0 / c.tau_steps;
  const sl::LifConfig lif{.beta = beta, .threshold = c.threshold};
  const sl::Arctan atan{.alpha = c.atan_alpha};
  Net net{delay(inputs, c.hidden),   Norm(c.hidden, {}), Hidden(c.hidden, lif, atan), Drop(c.hidden, {.p = c.dropout}),
          delay(c.hidden, c.hidden), Norm(c.hidden, {}), Hidden(c.hidden, lif, atan), Drop(c.hidden, {.p = c.dropout}),
          delay(c.hidden, classes),  Out(classes, {.beta = beta})};
  // positions are stored as P / max_delay: the code's rate in steps divided by max_delay
  const double pos_scale = delays ? c.lr_pos / double(D) / c.lr_w : 0.0;
  Opt opt({.lr = c.lr_w}, sl::Adam{},
          {.first = sl::OneCycleLr{}, .second = sl::CosineLr{}, .names = {"position"}, .scale = pos_scale});
  sl::Trainer trainer(net, sl::Bptt<sl::CumSoftmaxCrossEntropy>{}, std::move(opt), {.seed = seed + 1});
  const std::string ckpt = c.resume.empty() ? std::string()
                           : c.one_run    ? c.resume
                                          : c.resume + "." + variant + "-s" + std::to_string(seed);
  auto checkpoints = spikelab_examples::resume_if_asked(trainer, ckpt, c.epochs, std::cout);
  SigmaAnnealer anneal{{.initial = c.sigma0, .target = c.sigma_final, .anneal_epochs = c.sigma_epochs + 1,
                        .after = c.sigma_final},
                       delays};
  EpochReport report{csv, c.task, variant, seed};
  const spikelab_examples::StopAfter stop{c.stop_after};
  const auto t0 = std::chrono::steady_clock::now();
  const sl::FitResult fr = trainer.fit(train_src, test_src, c.epochs, anneal, report, checkpoints, stop);
  spikelab_examples::say_if_stopped(std::cout, fr, c.stop_after, ckpt);
  RunResult r;
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  r.final_acc = trainer.evaluate(test_src).accuracy;
  r.best_acc = report.best_acc;
  r.best_epoch = report.best_epoch;
  RoundedNet rounded = rounded_of(net);
  // evaluation only: the optimizer never steps
  sl::Trainer rounded_eval(rounded, sl::Bptt<sl::CumSoftmaxCrossEntropy>{}, sl::Optimizer<float>{}, {.seed = seed + 1});
  r.rounded_acc = rounded_eval.evaluate(test_src).accuracy;
  std::tie(r.stream_acc, r.stream_diff) = stream(rounded, test_src);
  if (!c.checkpoint.empty()) sl::save_checkpoint(c.checkpoint, net);
  std::cout << variant << " seed " << seed << ": test accuracy: " << fixed(100 * r.final_acc, 2) << "% after epoch "
            << trainer.progress().epoch << " (sigma " << fixed(net.layer<0>().sigma(), 3) << "); rounded integer delays "
            << fixed(100 * r.rounded_acc, 2) << "%, streamed step by step " << fixed(100 * r.stream_acc, 2)
            << "% (largest output difference to the rounded forward " << r.stream_diff << ")\n"
            << "  lowest test loss of this fit at epoch " << r.best_epoch << ": " << fixed(100 * r.best_acc, 2)
            << "% (an epoch chosen on the test set, as the code does); " << fixed(r.seconds, 0) << " s\n";
  return r;
}

template <class Dataset, class Transform>
int run_all(const Config& c, const Dataset& train, const Dataset& test, const Transform& tf, sl::Index inputs,
            sl::Index classes, sl::Index steps) {
  const sl::Index pad = 3 * (c.max_delay / 2);
  print_settings(c, inputs, steps, pad);
  steps += pad;
  using Loader = sl::EventLoader<float, Dataset, Transform>;
  std::ofstream csv;
  if (!c.csv.empty()) {
    const bool append = !c.resume.empty() && std::filesystem::exists(c.csv);
    csv.open(c.csv, append ? std::ios::app : std::ios::trunc);
    if (!csv) throw std::invalid_argument("cannot write --csv " + c.csv);
    if (!append) csv << "task,variant,seed,epoch,lr_w,lr_pos,sigma,train_loss,train_acc,test_loss,test_acc,seconds\n";
  }
  std::ofstream summary;
  for (const std::string& v : c.variants) {
    std::vector<double> fin, best, rnd;
    for (int k = 0; k < c.seeds; ++k) {
      const std::uint64_t seed = c.seed + std::uint64_t(k);
      Loader train_src(train, tf,
                       {.batch_size = c.batch, .seed = seed + 11, .steps = steps, .cache = true, .limit = c.train_limit});
      Loader test_src(test, tf,
                      {.batch_size = c.batch, .shuffle = false, .steps = steps, .cache = true, .limit = c.test_limit});
      std::cout << "== " << v << ", seed " << seed << "\n";
      const RunResult r = train_one(c, v, seed, inputs, classes, train_src, test_src, csv.is_open() ? &csv : nullptr);
      fin.push_back(r.final_acc);
      best.push_back(r.best_acc);
      rnd.push_back(r.rounded_acc);
    }
    std::cout << "summary " << v << " (" << c.seeds << " seed(s)): test after the last epoch " << mean_sd(fin, 2, 100)
              << " %, rounded delays " << mean_sd(rnd, 2, 100) << " %, lowest-test-loss epoch " << mean_sd(best, 2, 100)
              << " %\n";
  }
  return 0;
}

int run(const Config& c) {
  const auto window = std::int64_t(std::llround(c.step_ms * 1000.0));
  const sl::Index steps = sl::Index(std::llround(c.duration_ms / c.step_ms));
  // the frames run on past the recording by the delay windows' right padding, so that these
  // steps are part of every sample, of its loss and of its decision, as in the code
  const sl::Index frames = steps + 3 * (c.max_delay / 2);
  using Transform = sl::Compose<sl::Downsample, sl::ToFrame>;
  if (c.task == "shd") {
#ifdef SPIKELAB_HAS_HDF5
    if (c.shd_dir.empty()) throw std::invalid_argument("--task shd needs --shd-dir DIR");
    const sl::ShdDataset train = sl::Shd::load(spikelab_examples::shd_file(c.shd_dir, "shd_train.h5"));
    const sl::ShdDataset test = sl::Shd::load(spikelab_examples::shd_file(c.shd_dir, "shd_test.h5"));
    const Transform tf(sl::Downsample{1.0 / c.channel_bins}, sl::ToFrame::fixed_bins(window, frames, 0, false));
    std::cout << "SHD: " << train.size() << " train / " << test.size() << " test recordings (--train-limit / --test-limit "
              << c.train_limit << " / " << c.test_limit << ", 0 = all)\n";
    return run_all(c, train, test, tf, 700 / c.channel_bins, sl::Shd::classes, steps);
#else
    throw std::invalid_argument(
        "--task shd needs the HDF5 reader: this build has none; install libhdf5-dev and configure with "
        "-DSPIKELAB_WITH_HDF5=ON");
#endif
  }
  if (c.task == "nmnist") {
    if (c.data.empty()) throw std::invalid_argument("--task nmnist needs --data DIR (N-MNIST Train/Test or NMNISTsmall)");
    const sl::NMnistDataset train = sl::NMnist::load(c.data, "train");
    const sl::NMnistDataset test = sl::NMnist::load(c.data, "test");
    const Transform tf(sl::Downsample{1.0 / c.downsample}, sl::ToFrame::fixed_bins(window, frames, 0, false));
    sl::EventSample probe;
    probe.sensor = sl::NMnist::sensor;
    sl::Rng probe_rng(1);
    const sl::Index inputs = tf(probe, probe_rng).sensor.features();
    std::cout << "N-MNIST: " << train.size() << " train / " << test.size() << " test recordings (--train-limit / --test-limit "
              << c.train_limit << " / " << c.test_limit << ", 0 = all)\n";
    return run_all(c, train, test, tf, inputs, sl::NMnist::classes, steps);
  }
  throw std::invalid_argument("unknown --task '" + c.task + "' (shd or nmnist)");
}

}  // namespace

int main(int argc, char** argv) {
  Config c;
  std::string protocol = spikelab_examples::early_value(argc, argv, {"protocol"}, "dcls");
  c.task = spikelab_examples::early_value(argc, argv, {"task"}, "shd");
  if (protocol != "dcls") {
    std::cerr << "error: unknown --protocol '" << protocol << "' (dcls)\n";
    return 2;
  }
  set_dcls(c);
  if (c.task == "nmnist") {  // N-MNIST recordings last ~300 ms: 30 frames of 10 ms, 17 x 17 x 2 inputs,
    c.duration_ms = 300;      // delays up to 100 ms (a third of a recording), 30 epochs of batches of 64
    c.epochs = 30;
    c.batch = 64;
    c.max_delay = 10;
    c.sigma0 = double((c.max_delay + 1) / 2);
    c.sigma_epochs = c.epochs / 4;
  }
  std::string variants = "delays";
  int threads = 2;
  CommandLine cli("spikelab-delays",
                  "Learnable synaptic delays (DCLS, Hammouamri et al., ICLR 2024) on SHD or N-MNIST, as the paper's\n"
                  "code trains them (--protocol dcls, the default; every value printed). --variants delays,lif also\n"
                  "trains the same network without delays.");
  cli.protocol(protocol, {"dcls"}, "dcls: Thvnvtos/SNN-delays best_config_SHD.py")
      .option("task", c.task, "shd | nmnist")
      .option("shd-dir", c.shd_dir, "folder with shd_train.h5 and shd_test.h5, or their .h5.gz (--task shd)")
      .option("data", c.data, "N-MNIST folder (--task nmnist)")
      .option("variants", variants, "comma-separated: delays (learnable delays), lif (no delays)")
      .option("epochs", c.epochs, "training epochs")
      .option("batch", c.batch, "batch size")
      .option("hidden", c.hidden, "neurons per hidden layer")
      .option("max-delay", c.max_delay, "largest delay (steps); the window has max-delay + 1 taps")
      .option("sigma", c.sigma0, "initial spread of the delay kernels (steps)")
      .option("sigma-final", c.sigma_final, "spread reached after --sigma-epochs, then held")
      .option("sigma-epochs", c.sigma_epochs, "epochs over which the spread falls")
      .option("dropout", c.dropout, "dropout on the hidden spikes")
      .option("lr", c.lr_w, "peak (one-cycle) learning rate of weights and BatchNorm")
      .option("lr-pos", c.lr_pos, "initial learning rate of the delay positions, in steps")
      .option("step-ms", c.step_ms, "frame length (ms)")
      .option("duration-ms", c.duration_ms, "frames cover [0, duration)")
      .option("downsample", c.downsample, "N-MNIST spatial downsampling (2: 17 x 17)")
      .option("train-limit", c.train_limit, "use the first N training recordings (0: all)")
      .option("test-limit", c.test_limit, "use the first N test recordings (0: all)")
      .seed(c.seed, "first seed")
      .seeds(c.seeds)
      .threads(threads)
      .csv(c.csv, "one row per variant, seed and epoch")
      .option("checkpoint", c.checkpoint, "save the trained network (weights and delays) here")
      .resume(c.resume, c.stop_after);
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    sl::set_num_threads(threads);
    c.variants.clear();
    std::stringstream vs(variants);
    for (std::string v; std::getline(vs, v, ',');)
      if (!v.empty()) c.variants.push_back(v);
    if (c.variants.empty()) throw std::invalid_argument("--variants: none given (delays, lif)");
    for (const std::string& v : c.variants)
      if (v != "delays" && v != "lif") throw std::invalid_argument("--variants: unknown '" + v + "' (delays, lif)");
    if (c.seeds < 1) throw std::invalid_argument("--seeds must be >= 1");
    c.one_run = c.variants.size() == 1 && c.seeds == 1;
    if (c.max_delay < 1) throw std::invalid_argument("--max-delay must be >= 1 (--variants lif trains without delays)");
    if (c.sigma_epochs < 1) throw std::invalid_argument("--sigma-epochs must be >= 1");
    std::cout << "spikelab " << sl::version::as_string() << " -- learnable delays (DCLS) on " << c.task << ", "
              << sl::num_threads() << " thread(s)\n";
    return run(c);
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const sl::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
