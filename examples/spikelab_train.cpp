// spikelab-train: the main example trainer.
//
// Trains a spiking network with surrogate-gradient BPTT and reports test accuracy:
//  - on Fashion-MNIST from Debian's dataset-fashion-mnist package (the default), or on any
//    MNIST-style idx files given with --data DIR: a spiking MLP 784 -> hidden LIF -> 10
//    leaky-integrator readout, images presented for T steps (direct, rate or latency coding);
//  - on the MTS-XOR task (--task mts-xor): 40 inputs -> recurrent LIF layers -> 2 readouts,
//    scored per step inside the coding windows;
//  - on N-MNIST event recordings (--dataset nmnist --data DIR, DIR in the original Train/Test
//    folder layout or SLAYER's NMNISTsmall layout): recordings downsampled by --downsample (2:
//    17 x 17) and binned into --steps frames of --bin-ms with polarity as 2 channels (2*17*17 =
//    578 inputs by default), a spiking MLP as for images;
//  - on a synthetic task of the Spiking Heidelberg Digits' shape (--task shd-shaped, for when no
//    SHD files are at hand): 700 input channels, 100 steps, 20 classes of moving spike ridges,
//    700 -> 256 -> 256 -> 20 (the usual SHD network).
// --neuron alif makes the hidden layers of MTS-XOR and N-MNIST adaptive LIF neurons
// (spikelab::AdaptiveLifType, the LSNN neuron; --tau-a, --adaptation).
// --reset-gradient kept | detached | linear chooses what BPTT does with the LIF reset
// (spikelab::ResetGradient, neurons/reset.hpp).
// It prints one progress line per epoch, the final test accuracy and where the checkpoint and the
// training curves went. --plots DIR adds, for the first test sample, its input, the spike raster of
// each LIF layer, membrane traces of its most active neurons, the readout's potentials and the test
// set's confusion matrix (SVG). --resume FILE continues from the training checkpoint FILE when it
// exists and writes one there after every epoch, so an interrupted run goes on where it stopped
// (with the same options and --epochs it ends with the same network as an uninterrupted run).
//
// Built with MPI (CMake target spikelab::mpi), it runs unchanged under `mpirun -np N`: every rank
// builds the same batches and trains on its slice of each (ShardedSource), gradients are averaged
// with one allreduce per step (DistributedRule), rank 0 alone prints and writes the checkpoint.
#include <spikelab/spikelab.hpp>
#ifdef SPIKELAB_HAS_MPI
#include <spikelab/distributed/mpi.hpp>
#endif

#include "common/command_line.hpp"
#include "common/plots.hpp"
#include "common/report.hpp"
#include "common/training.hpp"

#include <array>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <numeric>
#include <type_traits>

namespace sl = spikelab;
using spikelab_examples::CommandLine;
using spikelab_examples::fixed;

namespace {

// Data parallelism over MPI when built with spikelab::mpi; the identity otherwise.
struct Parallel {
#ifdef SPIKELAB_HAS_MPI
  sl::MpiCommunicator* comm = nullptr;
  bool root() const { return comm->root(); }
  bool distributed() const { return comm->size() > 1; }
  template <class Rule>
  auto rule(Rule r) const { return sl::DistributedRule<Rule>(std::move(r), *comm); }
  template <class Src>
  auto source(Src& s) const { return sl::ShardedSource<Src>(s, *comm); }
  template <class C>
  auto callback(C c) const { return sl::RootOnly<C>(std::move(c), *comm); }
#else
  bool root() const { return true; }
  bool distributed() const { return false; }
  template <class Rule>
  Rule rule(Rule r) const { return r; }
  template <class Src>
  Src& source(Src& s) const { return s; }
  template <class C>
  C callback(C c) const { return c; }
#endif
};

struct Options {
  std::string task = "auto";
  std::string data;
  int epochs = 3;
  long hidden = 256;
  long steps = 8;
  long batch = 64;
  double lr = 2e-3;
  double beta = 0.9;
  double threshold = 1.0;
  double slope = 5.0;
  std::string encoding = "direct";
  long train_limit = 0;
  long test_limit = 0;
  int threads = 2;
  std::uint64_t seed = 1;
  std::string checkpoint = "spikelab-train.ckpt";
  std::string format = "binary";
  std::string csv;
  double time_limit = 0;
  long layers = 2;
  long samples = 10240;
  double bin_ms = 10.0;
  double downsample = 1.0;  // nmnist default: 2 (17 x 17)
  std::string plots;
  std::string resume;
  int stop_after = 0;
  std::filesystem::path log;  // the CSV log (--csv, or a default beside the checkpoint or in --plots)
  std::string reset_gradient = sl::reset_gradient_name(sl::LifOptions{}.reset_gradient);
  std::string neuron = "lif";  // mts-xor, nmnist: lif | alif
  double tau_a = 200.0;        // alif: adaptation time constant in steps (rho = exp(-1 / tau_a))
  double adaptation = 0.1;     // alif: adaptation strength beta_a
  long test_samples = 2048;
  Parallel par;
};

sl::CheckpointFormat format_of(const std::string& f) {
  if (f == "binary") return sl::CheckpointFormat::binary;
  if (f == "json") return sl::CheckpointFormat::json;
  throw std::invalid_argument("--format must be binary or json");
}

// The hidden LIF layers: fast-sigmoid surrogate, subtractive reset, reset gradient P.
template <sl::ResetGradient P>
using HiddenLif = sl::LifType<float, sl::FastSigmoid, sl::SubtractReset, sl::LifOptions{.reset_gradient = P}>;
template <sl::ResetGradient P>
using HiddenRecurrentLif =
    sl::LifType<float, sl::FastSigmoid, sl::SubtractReset, sl::LifOptions{.recurrent = true, .reset_gradient = P}>;

// --neuron alif: adaptive LIF hidden layers (spikelab::AdaptiveLifType, Bellec et al. 2018), whose
// threshold theta_0 + beta_a a_t remembers the neuron's own spikes for about --tau-a steps.
template <sl::ResetGradient P>
using HiddenAlif =
    sl::AdaptiveLifType<float, sl::FastSigmoid, sl::SubtractReset, sl::AdaptiveLifOptions{.reset_gradient = P}>;
template <sl::ResetGradient P>
using HiddenRecurrentAlif = sl::AdaptiveLifType<float, sl::FastSigmoid, sl::SubtractReset,
                                                sl::AdaptiveLifOptions{.recurrent = true, .reset_gradient = P}>;

/// A hidden layer of type Hidden (LIF or adaptive LIF, feed-forward or recurrent) of h neurons,
/// configured from the command line.
template <class Hidden>
Hidden make_hidden(sl::Index h, sl::Rng& rng, const Options& o) {
  auto make = [&](auto cfg) {
    if constexpr (Hidden::options.recurrent)
      return Hidden(h, rng, cfg, sl::FastSigmoid{o.slope});
    else
      return Hidden(h, cfg, sl::FastSigmoid{o.slope});
  };
  if constexpr (requires { Hidden::options.rho; })
    return make(sl::AdaptiveLifConfig{.beta = o.beta, .threshold = o.threshold, .rho = std::exp(-1.0 / o.tau_a),
                                      .adaptation = o.adaptation});
  else
    return make(sl::LifConfig{.beta = o.beta, .threshold = o.threshold});
}

/// The adaptation's settings, for the start-up lines (nothing for LIF).
std::string adaptation_line(const Options& o) {
  if (o.neuron != "alif") return {};
  return "adaptation: tau_a " + fixed(o.tau_a, 1) + " steps (rho " + fixed(std::exp(-1.0 / o.tau_a), 5) + "), beta_a " +
         fixed(o.adaptation, 4) + "\n";
}

/// Calls f.template operator()<P>() with the ResetGradient named `name`.
template <class F>
int with_reset_gradient(const std::string& name, F&& f) {
  switch (sl::parse_reset_gradient(name)) {
    case sl::ResetGradient::kept: return f.template operator()<sl::ResetGradient::kept>();
    case sl::ResetGradient::detached: return f.template operator()<sl::ResetGradient::detached>();
    case sl::ResetGradient::linear: return f.template operator()<sl::ResetGradient::linear>();
  }
  return 2;
}

// Everything the trainer reports goes through these callbacks; the library itself prints nothing.
// Every rank loads a training checkpoint (--resume); rank 0 alone prints and writes files.
template <class Trainer, class TrainSrc, class TestSrc>
sl::FitResult fit(Trainer& trainer, TrainSrc& train_src, TestSrc& test_src, const Options& o) {
  decltype(auto) train = o.par.source(train_src);
  decltype(auto) test = o.par.source(test_src);
  auto resume = o.par.callback(spikelab_examples::resume_if_asked(trainer, o.resume, o.epochs, std::cout));
  const sl::FitResult r = trainer.fit(train, test, o.epochs, o.par.callback(sl::ProgressPrinter(std::cout)),
                                      o.par.callback(sl::TimeLimit(o.time_limit)), o.par.callback(sl::CsvLogger(o.log)),
                                      resume, spikelab_examples::StopAfter{o.stop_after});
  spikelab_examples::say_if_stopped(std::cout, r, o.stop_after, o.resume);
  return r;
}

template <class Trainer, class TestSrc>
void finish(Trainer& trainer, TestSrc& test_src, const std::string& what, double seconds, const Options& o,
            const spikelab_examples::PlotOptions& plots = {}) {
  decltype(auto) src = o.par.source(test_src);
  const sl::EvalResult test = trainer.evaluate(src);
  if (o.par.root()) sl::save_checkpoint(o.checkpoint, trainer.net(), format_of(o.format));
#ifdef SPIKELAB_HAS_MPI
  if (o.par.distributed())
    std::cout << "MPI: rank 0 spent " << fixed(trainer.rule().communication_seconds(), 2)
              << " s in allreduce (waiting for other ranks included)\n";
#endif
  std::cout << "test accuracy: " << fixed(100.0 * test.accuracy, 2) << "% on " << test.tally.total << " "
            << what << " (loss " << fixed(test.loss, 4) << ")\n"
            << "training time: " << fixed(seconds, 1) << " s\n"
            << "checkpoint written to: " << std::filesystem::absolute(o.checkpoint).string() << "\n";
  if (o.par.root())  // the whole test source on rank 0, after the others are done with it
    spikelab_examples::write_run_plots(std::cout, o.plots, o.log, o.checkpoint, "spikelab-train: " + what,
                                       trainer.net(), test_src, plots);
}

// ---- images: Fashion-MNIST / MNIST ----------------------------------------------------------

template <sl::ResetGradient P, class Encoder>
int run_images(const Options& o, const std::filesystem::path& dir, Encoder enc) {
  std::cout << "data: " << dir.string() << "\n";
  sl::ImageDataset train = sl::load_idx_split(dir, "train").head(o.train_limit);
  sl::ImageDataset test = sl::load_idx_split(dir, "test").head(o.test_limit);
  std::cout << "train " << train.count << " images, test " << test.count << " images, " << train.height << "x"
            << train.width << ", " << train.classes << " classes; " << o.encoding << " coding over " << o.steps
            << " steps\n";

  // The network type is the structure: Linear -> LIF -> Linear -> leaky-integrator readout.
  using Net = sl::Sequential<sl::Linear<float>, HiddenLif<P>, sl::Linear<float>, sl::LeakyIntegrator<float>>;
  sl::Rng rng(o.seed);
  const sl::Index classes = std::max(train.classes, 2);
  Net net{sl::Linear<float>(train.features(), o.hidden, rng),
          HiddenLif<P>(o.hidden, {.beta = o.beta, .threshold = o.threshold}, sl::FastSigmoid{o.slope}),
          sl::Linear<float>(o.hidden, classes, rng), sl::LeakyIntegrator<float>(classes, {.beta = o.beta})};
  std::cout << "network: " << net.signature() << " (" << net.parameter_count() << " parameters), reset gradient "
            << sl::reset_gradient_name(P) << "\n";

  sl::ImageSource<float, Encoder> train_src(train, enc, {.batch_size = o.batch, .steps = o.steps, .seed = o.seed});
  sl::ImageSource<float, Encoder> test_src(test, enc, {.batch_size = 500, .steps = o.steps, .shuffle = false});
  sl::Trainer trainer(net, o.par.rule(sl::Bptt<sl::SumCrossEntropy>{}),
                      sl::Optimizer<float, sl::Adam, sl::CosineLr>({.lr = o.lr}, {}, {.min_factor = 0.05}),
                      {.seed = o.seed});
  const sl::FitResult r = fit(trainer, train_src, test_src, o);
  finish(trainer, test_src, "test images", r.seconds, o,
         {.sensor = sl::SensorSize{std::int32_t(train.width), std::int32_t(train.height), 1}});
  return 0;
}

// ---- N-MNIST events --------------------------------------------------------------------------

template <class Hidden>
int run_nmnist(const Options& o) {
  constexpr sl::ResetGradient P = Hidden::options.reset_gradient;
  if (o.data.empty()) throw std::invalid_argument("--dataset nmnist needs --data DIR (N-MNIST Train/Test folders or NMNISTsmall)");
  std::cout << "data: " << o.data << "\n";
  const sl::NMnistDataset train = sl::NMnist::load(o.data, "train").head(o.train_limit);
  const sl::NMnistDataset test = sl::NMnist::load(o.data, "test").head(o.test_limit);
  // downsample (1 = keep 34x34), then bin: steps frames of bin_ms from t = 0, polarity as channels
  using Transform = sl::Compose<sl::Downsample, sl::ToFrame>;
  const auto bin_us = std::int64_t(o.bin_ms * 1000.0);
  const Transform tf(sl::Downsample{1.0 / o.downsample}, sl::ToFrame::fixed_bins(bin_us, o.steps));
  sl::EventSample probe;
  probe.sensor = sl::NMnist::sensor;
  sl::Rng probe_rng(1);
  const sl::SensorSize frames = tf(probe, probe_rng).sensor;  // polarity x rows x columns after the transform
  const sl::Index features = frames.features();
  std::cout << "train " << train.size() << " recordings, test " << test.size() << "; " << o.steps << " frames of " << o.bin_ms
            << " ms, " << features << " inputs (polarity x rows x columns)\n";

  using Net = sl::Sequential<sl::Linear<float>, Hidden, sl::Linear<float>, sl::LeakyIntegrator<float>>;
  sl::Rng rng(o.seed);
  Net net{sl::Linear<float>(features, o.hidden, rng), make_hidden<Hidden>(o.hidden, rng, o),
          sl::Linear<float>(o.hidden, sl::NMnist::classes, rng), sl::LeakyIntegrator<float>(sl::NMnist::classes, {.beta = o.beta})};
  std::cout << "network: " << net.signature() << " (" << net.parameter_count() << " parameters), reset gradient "
            << sl::reset_gradient_name(P) << "\n"
            << adaptation_line(o);

  // decoded recordings are cached after the first epoch; batches are prepared on a worker thread
  sl::EventLoader<float, sl::NMnistDataset, Transform> train_src(train, tf,
                                                                 {.batch_size = o.batch, .seed = o.seed, .cache = true});
  sl::EventLoader<float, sl::NMnistDataset, Transform> test_src(test, tf, {.batch_size = 100, .shuffle = false, .cache = true});
  sl::Trainer trainer(net, o.par.rule(sl::Bptt<sl::SumCrossEntropy>{}),
                      sl::Optimizer<float, sl::Adam, sl::CosineLr>({.lr = o.lr}, {}, {.min_factor = 0.05}),
                      {.seed = o.seed});
  const sl::FitResult r = fit(trainer, train_src, test_src, o);
  finish(trainer, test_src, "test recordings", r.seconds, o, {.sensor = frames});
  return 0;
}

// ---- MTS-XOR ------------------------------------------------------------------------------

template <class Hidden>
int run_mts_xor(const Options& o) {
  constexpr sl::ResetGradient P = Hidden::options.reset_gradient;
  using Net = sl::Sequential<sl::Linear<float>, Hidden, sl::Linear<float>, Hidden, sl::Linear<float>,
                             sl::LeakyIntegrator<float>>;
  sl::Rng rng(o.seed);
  const sl::Index h = o.hidden;
  Net net{sl::Linear<float>(40, h, rng),    make_hidden<Hidden>(h, rng, o),
          sl::Linear<float>(h, h, rng),     make_hidden<Hidden>(h, rng, o),
          sl::Linear<float>(h, 2, rng),     sl::LeakyIntegrator<float>(2, {.beta = 0.8})};
  std::cout << "task: MTS-XOR (40 channels, 100 steps, 6 coding windows), " << o.samples << " training samples\n"
            << "network: " << net.signature() << " (" << net.parameter_count() << " parameters), reset gradient "
            << sl::reset_gradient_name(P) << "\n"
            << adaptation_line(o);
  sl::MtsXorSource<float> train(o.samples, o.batch, o.seed);
  sl::MtsXorSource<float> test(2048, 512, o.seed + 1000003, false);
  sl::Trainer trainer(net, o.par.rule(sl::Bptt<sl::StepCrossEntropy>{}),
                      sl::Optimizer<float, sl::Adam, sl::CosineLr>({.lr = o.lr, .clip_norm = 5.0}, {},
                                                                   {.min_factor = 0.05}),
                      {.seed = o.seed});
  const sl::FitResult r = fit(trainer, train, test, o);
  finish(trainer, test, "coding-window steps", r.seconds, o);
  return 0;
}

// ---- a synthetic task of the Spiking Heidelberg Digits' shape --------------------------------

// 700 channels (SHD's cochlear channels), `steps` steps, 20 classes. Class c is a fixed set of
// three ridges: ridge k starts in channel band k (of three overlapping bands) at a class-specific
// step and drifts over the channels at a class-specific speed for a class-specific duration, as
// formants move in a spoken digit. A sample shifts its class's ridges by a random time offset
// (+-8 steps) and channel offset (+-20), fires channel ch at step t with probability
// 0.5 exp(-(ch - centre(t))^2 / 32) along each ridge, and adds background spikes (0.2 % per
// channel and step). Sample i of a set is drawn from Rng(seed).fork(i); the classes from Rng(7).
class SyntheticShd {
 public:
  static constexpr sl::Index channels = 700, classes = 20;
  SyntheticShd(sl::Index samples, sl::Index batch_size, sl::Index steps, std::uint64_t seed, bool shuffle)
      : n_(samples), bs_(batch_size), T_(steps), seed_(seed), shuffle_(shuffle), order_(std::size_t(samples)) {
    if (samples <= 0 || batch_size <= 0 || steps < 20) throw std::invalid_argument("shd-shaped: sizes too small");
    sl::Rng r(7);
    for (auto& cls : ridges_)
      for (std::size_t k = 0; k < cls.size(); ++k) {
        Ridge& g = cls[k];
        g.start = double(k) * 200.0 + r.uniform(0, 300);
        g.speed = r.uniform(-3.0, 3.0);
        g.t0 = double(r.below(std::uint64_t(T_ / 3)));
        g.length = double(T_) / 4 + r.uniform(0, double(T_) / 2);
      }
    std::iota(order_.begin(), order_.end(), sl::Index(0));
  }
  sl::Index batches_per_epoch() const noexcept { return (n_ + bs_ - 1) / bs_; }
  void start_epoch(std::uint64_t epoch) {
    pos_ = 0;
    std::iota(order_.begin(), order_.end(), sl::Index(0));
    if (shuffle_) {
      sl::Rng r = sl::Rng(seed_ ^ 0x5EEDULL).fork(epoch);
      for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[r.below(i)]);
    }
  }
  bool next(sl::Batch<float>& b) {
    const sl::Index B = std::min(bs_, n_ - pos_);
    if (B <= 0) return false;
    b.input.resize(channels, B, T_);
    b.input.set_zero();
    b.labels.assign(std::size_t(B), 0);
    b.step_labels.clear();
    b.lengths.clear();
    const sl::Rng base(seed_);
    for (sl::Index s = 0; s < B; ++s) {
      const auto id = std::uint64_t(order_[std::size_t(pos_ + s)]);
      sl::Rng r = base.fork(id);
      const int c = int(id % classes);  // balanced classes
      b.labels[std::size_t(s)] = c;
      const double dt = r.uniform(-8, 8), dc = r.uniform(-20, 20);
      for (const Ridge& g : ridges_[std::size_t(c)])
        for (sl::Index t = 0; t < T_; ++t) {
          const double u = double(t) - g.t0 - dt;
          if (u < 0 || u >= g.length) continue;
          const double centre = g.start + dc + g.speed * u;
          for (sl::Index ch = std::max<sl::Index>(0, sl::Index(centre) - 12);
               ch <= std::min<sl::Index>(channels - 1, sl::Index(centre) + 12); ++ch) {
            const double d = double(ch) - centre;
            if (r.bernoulli(0.5 * std::exp(-d * d / 32.0))) b.input(ch, s, t) = 1.0f;
          }
        }
      const auto noise = std::uint64_t(0.002 * double(channels * T_));  // background spikes
      for (std::uint64_t k = 0; k < noise; ++k)
        b.input(sl::Index(r.below(std::uint64_t(channels))), s, sl::Index(r.below(std::uint64_t(T_)))) = 1.0f;
    }
    pos_ += B;
    return true;
  }

 private:
  struct Ridge {
    double start = 0, speed = 0, t0 = 0, length = 0;
  };
  sl::Index n_, bs_, T_;
  std::uint64_t seed_;
  bool shuffle_;
  std::vector<sl::Index> order_;
  sl::Index pos_ = 0;
  std::array<std::array<Ridge, 3>, classes> ridges_{};
};

template <sl::ResetGradient P>
int run_synthetic_shd(const Options& o) {
  using Net = sl::Sequential<sl::Linear<float>, HiddenLif<P>, sl::Linear<float>, HiddenLif<P>, sl::Linear<float>,
                             sl::LeakyIntegrator<float>>;
  sl::Rng rng(o.seed);
  const sl::Index h = o.hidden, C = SyntheticShd::classes;
  const sl::LifConfig lif{.beta = o.beta, .threshold = o.threshold};
  Net net{sl::Linear<float>(SyntheticShd::channels, h, rng), HiddenLif<P>(h, lif, sl::FastSigmoid{o.slope}),
          sl::Linear<float>(h, h, rng),                      HiddenLif<P>(h, lif, sl::FastSigmoid{o.slope}),
          sl::Linear<float>(h, C, rng),                      sl::LeakyIntegrator<float>(C, {.beta = o.beta})};
  std::cout << "task: synthetic SHD-shaped (700 channels, " << o.steps << " steps, 20 classes of moving spike ridges), "
            << o.samples << " training / " << o.test_samples << " test samples\n"
            << "network: " << net.signature() << " (" << net.parameter_count() << " parameters), reset gradient "
            << sl::reset_gradient_name(P) << "\n";
  SyntheticShd train(o.samples, o.batch, o.steps, o.seed, true);
  SyntheticShd test(o.test_samples, 256, o.steps, o.seed + 1000003, false);
  // cross-entropy of the readout's maximum over time, as is usual on SHD
  sl::Trainer trainer(net, o.par.rule(sl::Bptt<sl::MaxCrossEntropy>{}),
                      sl::Optimizer<float, sl::Adam, sl::CosineLr>({.lr = o.lr}, {}, {.min_factor = 0.05}),
                      {.seed = o.seed});
  const sl::FitResult r = fit(trainer, train, test, o);
  finish(trainer, test, "test samples", r.seconds, o);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
#ifdef SPIKELAB_HAS_MPI
  sl::MpiSession mpi(argc, argv);
  o.par.comm = &mpi.world();
  if (!mpi.root()) std::cout.setstate(std::ios::badbit);  // rank 0 alone reports (errors: every rank)
#endif
  o.task = spikelab_examples::early_value(argc, argv, {"task", "dataset"}, "auto");  // it decides the defaults
  if (o.task == "mts-xor") {  // a smaller recurrent network, longer training
    o.hidden = 64;
    o.beta = 0.95;
    o.epochs = 20;
    o.lr = 5e-3;
  } else if (o.task == "shd-shaped") {  // SHD's network: 700 -> 256 -> 256 -> 20, 100 steps
    o.hidden = 256;
    o.steps = 100;
    o.beta = 0.95;
    o.epochs = 15;
    o.samples = 4000;
    o.test_samples = 1000;
  } else if (o.task == "nmnist") {  // 30 frames of 10 ms at 17 x 17
    o.steps = 30;
    o.downsample = 2;
    o.epochs = 15;
    o.batch = 32;
    o.hidden = 128;
    o.lr = 2e-3;
  }
  CommandLine cli("spikelab-train",
                  "Trains a spiking network with surrogate-gradient BPTT. By default on Fashion-MNIST from Debian's\n"
                  "dataset-fashion-mnist (" +
                      std::string(sl::debian_fashion_mnist_dir()) +
                      "); --data DIR trains on MNIST-style idx files in DIR;\n"
                      "--task mts-xor trains on the multi-time-scale XOR task; --dataset nmnist --data DIR on N-MNIST\n"
                      "event recordings (Train/Test folders or SLAYER's NMNISTsmall).");
  cli.option("task", o.task, "auto | images | mts-xor | nmnist | shd-shaped (auto: images if idx data is found)")
      .option("dataset", o.task, "alias of --task")
      .option("data", o.data, "directory with idx files (train-images-idx3-ubyte[.gz], t10k-..., ...) or N-MNIST")
      .option("epochs", o.epochs, "training epochs")
      .option("hidden", o.hidden, "hidden LIF neurons (per layer)")
      .option("steps", o.steps, "time steps per image (frames per recording for nmnist)")
      .option("bin-ms", o.bin_ms, "nmnist: frame length in ms")
      .option("downsample", o.downsample, "nmnist: spatial downsampling factor (1 = 34x34, 2 = 17x17)")
      .option("batch", o.batch, "batch size")
      .option("lr", o.lr, "Adam learning rate (cosine-decayed)")
      .option("beta", o.beta, "membrane decay beta")
      .option("threshold", o.threshold, "firing threshold")
      .option("slope", o.slope, "fast-sigmoid surrogate slope")
      .option("encoding", o.encoding, "direct | rate | latency (images)")
      .option("train-limit", o.train_limit, "use only the first N training images (0 = all)")
      .option("test-limit", o.test_limit, "use only the first N test images (0 = all)")
      .option("samples", o.samples, "MTS-XOR / shd-shaped training samples")
      .option("test-samples", o.test_samples, "shd-shaped test samples")
      .option("reset-gradient", o.reset_gradient, "what BPTT does with the LIF reset: kept | detached | linear")
      .option("neuron", o.neuron, "mts-xor, nmnist: hidden neurons, lif | alif (adaptive LIF, Bellec et al. 2018)")
      .option("tau-a", o.tau_a, "alif: adaptation time constant in steps (rho = exp(-1/tau_a))")
      .option("adaptation", o.adaptation, "alif: adaptation strength beta_a (threshold theta + beta_a a_t)")
      .threads(o.threads)
      .seed(o.seed, "random seed (weights, shuffling, encoding)")
      .option("checkpoint", o.checkpoint, "where to write the trained network")
      .option("format", o.format, "checkpoint format: binary | json")
      .csv(o.csv, "per-epoch metrics as CSV (default: beside the checkpoint, or in --plots DIR)")
      .plots(o.plots)
      .resume(o.resume, o.stop_after)
      .option("time-limit", o.time_limit, "stop training after this many seconds (0 = no limit)");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    o.log = spikelab_examples::training_log_path(o.csv, o.plots, o.checkpoint);
    sl::set_num_threads(o.threads);
    std::cout << "spikelab " << sl::version::as_string() << ", " << sl::num_threads() << " threads\n";
#ifdef SPIKELAB_HAS_MPI
    if (mpi.size() > 1) std::cout << "MPI: " << mpi.size() << " ranks (data parallel)\n";
#endif
    sl::parse_reset_gradient(o.reset_gradient);  // an unknown name is a usage error before any data is read
    if (o.neuron != "lif" && o.neuron != "alif") throw std::invalid_argument("--neuron must be lif or alif");
    if (o.neuron == "alif" && o.task != "mts-xor" && o.task != "nmnist")
      throw std::invalid_argument("--neuron alif is for --task mts-xor and --dataset nmnist");
    if (!(o.tau_a > 0)) throw std::invalid_argument("--tau-a must be positive");
    if (o.task == "mts-xor")
      return with_reset_gradient(o.reset_gradient, [&]<sl::ResetGradient P>() {
        return o.neuron == "alif" ? run_mts_xor<HiddenRecurrentAlif<P>>(o) : run_mts_xor<HiddenRecurrentLif<P>>(o);
      });
    if (o.task == "shd-shaped")
      return with_reset_gradient(o.reset_gradient, [&]<sl::ResetGradient P>() { return run_synthetic_shd<P>(o); });
    if (o.task == "nmnist") {
      if (!o.data.empty() && !std::filesystem::is_directory(o.data)) {
        std::cerr << "error: no N-MNIST data at " << o.data << "\n";
        return 2;
      }
      return with_reset_gradient(o.reset_gradient, [&]<sl::ResetGradient P>() {
        return o.neuron == "alif" ? run_nmnist<HiddenAlif<P>>(o) : run_nmnist<HiddenLif<P>>(o);
      });
    }
    if (o.task != "auto" && o.task != "images") throw std::invalid_argument("unknown --task '" + o.task + "'");
    std::filesystem::path dir = o.data.empty() ? std::filesystem::path(sl::debian_fashion_mnist_dir())
                                               : std::filesystem::path(o.data);
    if (!sl::find_idx_pair(dir, "train")) {
      std::cerr << "error: no idx training files in " << dir.string() << "\n"
                << (o.data.empty() ? "install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist), "
                                     "pass --data DIR with MNIST idx files, or use --task mts-xor\n"
                                   : "expected files such as train-images-idx3-ubyte.gz and t10k-images-idx3-ubyte.gz\n");
      return 2;
    }
    auto images = [&](auto encoder) {
      return with_reset_gradient(o.reset_gradient, [&]<sl::ResetGradient P>() { return run_images<P>(o, dir, encoder); });
    };
    if (o.encoding == "direct") return images(sl::DirectEncoder{});
    if (o.encoding == "rate") return images(sl::RateEncoder{});
    if (o.encoding == "latency") return images(sl::LatencyEncoder{});
    throw std::invalid_argument("--encoding must be direct, rate or latency");
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const sl::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
