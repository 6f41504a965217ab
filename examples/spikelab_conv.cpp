// spikelab-conv: a convolutional spiking network on N-MNIST event recordings.
//
// Recordings are binned into T frames (polarity as 2 channels, 34 x 34) and fed to
//   --model conv (default):  Conv2d(2->C1, 5x5) -> MaxPool 2 -> LIF -> Conv2d(C1->C2, 5x5) -> MaxPool 2 -> LIF
//                            -> Dropout (fixed over time) -> Linear(C2*5*5 -> 10) -> leaky-integrator readout
//   --model conv-bn:         the same with BatchNorm (over time and batch) on each convolution's output,
//                            folded into the convolutions after training (the accuracy is reported again)
//   --model mlp:             the core's spiking MLP on the same frames: Linear(2312 -> H) -> LIF
//                            -> Linear(H -> 10) -> leaky-integrator readout
// trained with surrogate-gradient BPTT (cross-entropy of the readout summed over time, Adam with a
// cosine schedule). The readout integrates (1 - beta) x_t (hSNN's normalised form), which keeps the
// summed logits moderate over T steps. It prints one progress line per epoch, then the test accuracy, the time taken
// and where the checkpoint and the training curves went. Use --data DIR with the original Train/Test folders or
// SLAYER's NMNISTsmall (1000 training and 100 test recordings).
// --plots DIR adds, for the first test recording, its input frames, the spike raster of each LIF
// layer, membrane traces of its most active neurons, the readout's potentials and the test set's
// confusion matrix (SVG). --resume FILE continues from the training checkpoint FILE when it exists
// and writes one there after every epoch, so an interrupted run goes on where it stopped.
#include <spikelab/spikelab.hpp>

#include "common/command_line.hpp"
#include "common/plots.hpp"
#include "common/report.hpp"
#include "common/training.hpp"

#include <filesystem>
#include <iostream>

namespace sl = spikelab;
using spikelab_examples::CommandLine;
using spikelab_examples::fixed;

namespace {

struct Options {
  std::string data;
  std::string model = "conv";
  int epochs = 10;
  long steps = 15;
  double bin_ms = 20.0;
  long batch = 32;
  double lr = 5e-3;
  double beta = 0.9;
  double threshold = 1.0;
  double slope = 5.0;
  long channels1 = 12;
  long channels2 = 32;
  long hidden = 128;
  double dropout = 0.2;
  double init_scale = 1.0;
  bool raw_readout = false;
  long train_limit = 0;
  long test_limit = 0;
  int threads = 2;
  std::uint64_t seed = 1;
  std::string checkpoint = "spikelab-conv.ckpt";
  double time_limit = 0;
  std::string csv;
  std::string plots;
  std::string resume;
  int stop_after = 0;
};

using Transform = sl::ToFrame;
using Loader = sl::EventLoader<float, sl::NMnistDataset, Transform>;

template <class Net>
int train_and_report(Net& net, Loader& train, Loader& test, const Options& o) {
  std::cout << "network: " << net.signature() << "\n"
            << "parameters: " << net.parameter_count() << "\n";
  sl::Trainer trainer(net, sl::Bptt<sl::SumCrossEntropy>{},
                      sl::Optimizer<float, sl::Adam, sl::CosineLr>({.lr = o.lr}, {}, {.min_factor = 0.05}),
                      {.seed = o.seed});
  auto resume = spikelab_examples::resume_if_asked(trainer, o.resume, o.epochs, std::cout);
  const auto log = spikelab_examples::training_log_path(o.csv, o.plots, o.checkpoint);
  const sl::FitResult r = trainer.fit(train, test, o.epochs, sl::ProgressPrinter(std::cout), sl::TimeLimit(o.time_limit),
                                      sl::CsvLogger(log), std::move(resume), spikelab_examples::StopAfter{o.stop_after});
  const sl::EvalResult e = trainer.evaluate(test);
  sl::save_checkpoint(o.checkpoint, net);
  std::cout << "model: " << o.model << ", seed " << o.seed << ", " << r.epochs_run << " epochs, " << o.steps
            << " frames of " << o.bin_ms << " ms\n";
  spikelab_examples::say_if_stopped(std::cout, r, o.stop_after, o.resume);
  std::cout << "test accuracy: " << fixed(100.0 * e.accuracy, 2) << "% on " << e.tally.total
            << " test recordings (loss " << fixed(e.loss, 4) << "; best epoch " << r.best_epoch << " at "
            << fixed(100.0 * r.best_val_accuracy, 2) << "%)\n"
            << "training time: " << fixed(r.seconds, 1) << " s\n"
            << "checkpoint written to: " << std::filesystem::absolute(o.checkpoint).string() << "\n";
  spikelab_examples::write_run_plots(std::cout, o.plots, log, o.checkpoint, "spikelab-conv: " + o.model + " on N-MNIST",
                                     net, test, {.sensor = sl::NMnist::sensor});
  return 0;
}

int run(const Options& o) {
  std::cout << "data: " << o.data << "\n";
  const sl::NMnistDataset train = sl::NMnist::load(o.data, "train").head(o.train_limit);
  const sl::NMnistDataset test = sl::NMnist::load(o.data, "test").head(o.test_limit);
  const Transform tf = sl::ToFrame::fixed_bins(std::int64_t(o.bin_ms * 1000.0), o.steps);
  const sl::ImageShape in{sl::NMnist::sensor.polarities, sl::NMnist::sensor.height, sl::NMnist::sensor.width};
  std::cout << "train " << train.size() << " recordings, test " << test.size() << "; " << o.steps << " frames of "
            << o.bin_ms << " ms, input " << in.to_string() << " (polarity x rows x columns)\n";
  // decoded recordings are cached after the first epoch; batches are prepared on a worker thread
  Loader train_src(train, tf, {.batch_size = o.batch, .seed = o.seed, .cache = true});
  Loader test_src(test, tf, {.batch_size = 100, .shuffle = false, .cache = true});
  sl::Rng rng(o.seed);
  const sl::LifConfig lif{.beta = o.beta, .threshold = o.threshold};
  const sl::FastSigmoid sg{o.slope};
  const int classes = sl::NMnist::classes;
  const sl::LeakyIntegratorConfig readout{.beta = o.beta, .normalize = !o.raw_readout};

  if (o.model == "mlp") {
    using Net = sl::Sequential<sl::Linear<float>, sl::Lif<float>, sl::Linear<float>, sl::LeakyIntegrator<float>>;
    Net net{sl::Linear<float>(in.size(), o.hidden, rng), sl::Lif<float>(o.hidden, lif, sg),
            sl::Linear<float>(o.hidden, classes, rng), sl::LeakyIntegrator<float>(classes, readout)};
    return train_and_report(net, train_src, test_src, o);
  }
  if (o.model == "conv-bn") {  // batch norm (over time and batch) on each convolution's output current
    using Net = sl::Sequential<sl::Conv2d<float>, sl::BatchNorm<float>, sl::MaxPool2d<float>, sl::Lif<float>,
                               sl::Conv2d<float>, sl::BatchNorm<float>, sl::MaxPool2d<float>, sl::Lif<float>,
                               sl::Dropout<float>, sl::Linear<float>, sl::LeakyIntegrator<float>>;
    sl::Conv2d<float> c1(in, o.channels1, rng, {.kernel = 5, .bias = false, .init_scale = o.init_scale});
    const sl::ImageShape o1 = c1.output_shape();
    sl::MaxPool2d<float> p1(o1, {.kernel = 2});
    const sl::ImageShape s1 = p1.output_shape();
    sl::Conv2d<float> c2(s1, o.channels2, rng, {.kernel = 5, .bias = false, .init_scale = o.init_scale});
    const sl::ImageShape o2 = c2.output_shape();
    sl::MaxPool2d<float> p2(o2, {.kernel = 2});
    const sl::ImageShape s2 = p2.output_shape();
    Net net{std::move(c1),
            sl::BatchNorm<float>(o1),
            std::move(p1),
            sl::Lif<float>(s1.size(), lif, sg),
            std::move(c2),
            sl::BatchNorm<float>(o2),
            std::move(p2),
            sl::Lif<float>(s2.size(), lif, sg),
            sl::Dropout<float>(s2.size(), {.p = o.dropout}),
            sl::Linear<float>(s2.size(), classes, rng),
            sl::LeakyIntegrator<float>(classes, readout)};
    const int rc = train_and_report(net, train_src, test_src, o);
    // inference form: the normalisations folded into the convolutions give the same accuracy
    sl::fold_batch_norm(net.layer<0>(), net.layer<1>());
    sl::fold_batch_norm(net.layer<4>(), net.layer<5>());
    sl::Trainer folded(net, sl::Bptt<sl::SumCrossEntropy>{}, sl::Optimizer<float, sl::Adam>{});
    std::cout << "test accuracy with batch norm folded into the convolutions: "
              << fixed(100.0 * folded.evaluate(test_src).accuracy, 2) << "%\n";
    return rc;
  }
  if (o.model != "conv") throw std::invalid_argument("--model must be conv, conv-bn or mlp");
  using Net = sl::Sequential<sl::Conv2d<float>, sl::MaxPool2d<float>, sl::Lif<float>, sl::Conv2d<float>,
                             sl::MaxPool2d<float>, sl::Lif<float>, sl::Dropout<float>, sl::Linear<float>,
                             sl::LeakyIntegrator<float>>;
  sl::Conv2d<float> c1(in, o.channels1, rng, {.kernel = 5, .init_scale = o.init_scale});
  sl::MaxPool2d<float> p1(c1.output_shape(), {.kernel = 2});
  const sl::ImageShape s1 = p1.output_shape();
  sl::Conv2d<float> c2(s1, o.channels2, rng, {.kernel = 5, .init_scale = o.init_scale});
  sl::MaxPool2d<float> p2(c2.output_shape(), {.kernel = 2});
  const sl::ImageShape s2 = p2.output_shape();
  Net net{std::move(c1),
          std::move(p1),
          sl::Lif<float>(s1.size(), lif, sg),
          std::move(c2),
          std::move(p2),
          sl::Lif<float>(s2.size(), lif, sg),
          sl::Dropout<float>(s2.size(), {.p = o.dropout}),
          sl::Linear<float>(s2.size(), classes, rng),
          sl::LeakyIntegrator<float>(classes, readout)};
  return train_and_report(net, train_src, test_src, o);
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CommandLine cli("spikelab-conv",
                  "Trains a convolutional spiking network (or, with --model mlp, a spiking MLP) on N-MNIST event\n"
                  "recordings with surrogate-gradient BPTT and reports the test accuracy. --data DIR: N-MNIST in its\n"
                  "original Train/Test folders, or SLAYER's NMNISTsmall (<id>.bs2 files with train1K.txt/test100.txt).");
  cli.option("data", o.data, "N-MNIST directory (required)")
      .option("model", o.model, "conv | conv-bn (batch norm after each convolution) | mlp")
      .option("epochs", o.epochs, "training epochs")
      .option("steps", o.steps, "frames per recording")
      .option("bin-ms", o.bin_ms, "frame length in ms (frames cover [0, steps*bin-ms))")
      .option("batch", o.batch, "batch size")
      .option("lr", o.lr, "Adam learning rate (cosine-decayed to 5%)")
      .option("beta", o.beta, "membrane decay beta (LIF and readout)")
      .option("threshold", o.threshold, "firing threshold")
      .option("slope", o.slope, "fast-sigmoid surrogate slope")
      .option("channels1", o.channels1, "conv: channels of the first convolution")
      .option("channels2", o.channels2, "conv: channels of the second convolution")
      .option("dropout", o.dropout, "conv: dropout before the readout projection (mask fixed over time)")
      .option("init-scale", o.init_scale, "conv: scale of the convolutions' uniform +-1/sqrt(fan_in) initialisation")
      .flag("raw-readout", o.raw_readout, "do not scale the readout's input by (1 - beta)")
      .option("hidden", o.hidden, "mlp: hidden LIF neurons")
      .option("train-limit", o.train_limit, "use only the first N training recordings (0 = all)")
      .option("test-limit", o.test_limit, "use only the first N test recordings (0 = all)")
      .threads(o.threads, "threads for the layers' loops and products")
      .seed(o.seed, "random seed (weights, shuffling, dropout)")
      .option("checkpoint", o.checkpoint, "where to write the trained network")
      .csv(o.csv, "per-epoch metrics as CSV (default: beside the checkpoint, or in --plots DIR)")
      .plots(o.plots)
      .resume(o.resume, o.stop_after)
      .option("time-limit", o.time_limit, "stop training after this many seconds (0 = no limit)");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    if (o.data.empty()) throw std::invalid_argument("--data DIR is required (try --help)");
    if (!std::filesystem::is_directory(o.data)) {
      std::cerr << "error: no N-MNIST data at " << o.data << "\n";
      return 2;
    }
    sl::set_num_threads(o.threads);
    std::cout << "spikelab " << sl::version::as_string() << ", " << sl::num_threads() << " threads\n";
    return run(o);
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const sl::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
