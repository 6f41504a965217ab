// spikelab-softlif: Hunsberger & Eliasmith (2015), "Spiking Deep Networks with LIF Neurons".
//
// Trains the paper's MNIST network as a rate network with soft-LIF neurons (ordinary
// backpropagation, T = 1), with Gaussian training noise or without, transfers it in one call
// to the equivalent spiking LIF network (refractory LIF neurons, alpha synapses) and classifies
// the test images from the filtered output of the spiking network. The network
// (layers-mnist-lif.cfg of the authors' cuda-convnet2):
//   conv 16 5x5 pad 2 -> soft-LIF -> avg-pool 2x2 s2 -> conv 64 5x5 pad 2 -> soft-LIF ->
//   avg-pool 2x2 s2 -> fc 2000 soft-LIF -> dropout 0.5 -> fc 10,
// neurons softlif[m=0.063, tau_ref=2 ms, tau_RC=22 ms, a=1, gamma=0.02, sigma=10 Hz].
//
// Two protocols (--protocol), each a training recipe and a spiking evaluation:
//  - lenient (spikelab's own): Adam 2e-4 with cosine decay, batch 50, PyTorch-style uniform
//    initialisation, pixels in [0, 1]; every test image is run from the reset network for
//    150 ms (one alpha synapse of 5 ms before each neuron layer and on the output) and
//    classified from the mean filtered output over [50, 150) ms.
//  - paper: what the authors' code sets. cuda-convnet2 training (layer-params-mnist-lif.cfg,
//    train-mnist.sh, convdata.py): SGD with momentum 0.9 in cuda-convnet2's form, learning rate
//    0.002 for weights and 0.004 for biases falling exponentially to 1/100 over training (one
//    step per 10,000 images), L2 weight decay 0.004 on fc1 and 0.001 on fc10 only, Gaussian
//    initial weights (sd 0.1 conv, 0.01 fc) and zero biases, batch 128, 200 epochs, input
//    x + 1 - mean_pixel (x in [0, 1], the mean over training and test images). Evaluation as
//    its Nengo script (run_nengo.py): test images back to back for 150 ms each without reset,
//    runs of 100 images, two alpha synapses of 5 ms between layers (it filters a layer's input
//    and its neurons' current), the output filtered with an alpha of 10 ms forward and backward
//    in time, every step of the last 10 ms of each image classified, the image an error when
//    more than 40 % of them are wrong (conversion/back_to_back.hpp).
// It prints the settings, the rate network's (ANN) test error, the spiking network's error and,
// under the lenient evaluation, the spiking error against presentation time (SVG, CSV).
#include <spikelab/spikelab.hpp>

#include "common/command_line.hpp"
#include "common/report.hpp"
#include "common/training.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace sl = spikelab;
using spikelab_examples::CommandLine;
using spikelab_examples::fixed;

namespace {

struct Options {
  std::string protocol = "lenient";
  std::string data;
  std::string dataset = "mnist";
  int epochs = 10;
  long conv1 = 16, conv2 = 64, fc = 2000;
  double noise = 10.0;
  bool compare_noise = false;
  double gamma = 0.02;
  long batch = 50;
  // training recipe
  std::string optimizer = "adam";     // adam | sgd | cc2
  double lr = 2e-4;
  double bias_lr_scale = 1.0;         // cc2: biases' learning rate / weights'
  double momentum = 0.9;              // sgd, cc2
  double lr_decay = 100.0;            // cc2: the rate falls to lr / lr_decay
  std::string weight_decay = "0,0,0,0";  // cc2: conv1, conv2, fc1, fc10
  std::string init = "uniform";       // uniform | normal
  double init_conv = 0.1, init_fc = 0.01;
  std::string input = "unit";         // unit | cc2
  std::string mean_over = "all";      // cc2 input: mean image over train+test (all) or train
  // evaluation
  std::string eval;                   // lenient | paper | both (default: the protocol's)
  long train_limit = 0, test_limit = 0, spike_limit = 1000;
  double dt = 0.001, t_present = 0.15, t_classify = 0.05, tau_s = 0.005;
  std::string synapse = "alpha";
  long spike_batch = 10;
  int synapse_stages = 2;             // paper evaluation: alpha kernels per connection
  long images_per_run = 100, window = 10, clock_offset = 1;
  double max_wrong = 0.4, readout_tau = 0.01;
  bool test_noise = false;            // also the ANN error with the training noise in the test pass
  // output
  std::string svg = "spikelab-softlif.svg";
  std::string csv, curve_csv;
  std::string checkpoint, resume, load_ann;
  int threads = 2;
  std::uint64_t seed = 1;
  int seeds = 1;
  double time_limit = 0;
};

// The defaults of a protocol (the command line may override each).
void protocol_defaults(Options& o) {
  if (o.protocol != "paper") return;
  o.epochs = 200;
  o.batch = 128;
  o.optimizer = "cc2";
  o.lr = 0.002;
  o.bias_lr_scale = 2.0;
  o.momentum = 0.9;
  o.lr_decay = 100.0;
  o.weight_decay = "0,0,0.004,0.001";
  o.init = "normal";
  o.input = "cc2";
  o.test_noise = true;
}

// ---- the networks ------------------------------------------------------------------------

using F = float;
using RateNet = sl::Sequential<sl::Conv2d<F>, sl::SoftLifRate<F>, sl::AvgPool2d<F>, sl::Conv2d<F>, sl::SoftLifRate<F>,
                               sl::AvgPool2d<F>, sl::Linear<F>, sl::SoftLifRate<F>, sl::Dropout<F>, sl::Linear<F>>;
constexpr std::size_t fc1_layer = 6, dropout_layer = 8, fc10_layer = 9;

RateNet make_rate_net(const Options& o, sl::Index side, int classes, double noise, sl::Rng& rng) {
  sl::SoftLifConfig neuron = sl::SoftLifConfig::mnist();
  neuron.noise = noise;
  neuron.gamma = o.gamma;
  const sl::SoftLif f(neuron);
  const bool normal = o.init == "normal";
  sl::Conv2dConfig cc{.kernel = 5, .padding = 2};
  sl::LinearConfig fcc{};
  if (normal) {  // cuda-convnet2's initW: N(0, initW^2), biases 0
    cc.init = fcc.init = sl::Init::normal;
    cc.init_scale = o.init_conv;
    fcc.init_scale = o.init_fc;
  }
  sl::Conv2d<F> c1({1, side, side}, o.conv1, rng, cc);
  sl::AvgPool2d<F> p1(c1.output_shape(), {.kernel = 2, .stride = 2});
  sl::Conv2d<F> c2(p1.output_shape(), o.conv2, rng, cc);
  sl::AvgPool2d<F> p2(c2.output_shape(), {.kernel = 2, .stride = 2});
  const sl::Index flat = p2.output_shape().size();
  const sl::ImageShape s1 = c1.output_shape(), s2 = c2.output_shape();
  return RateNet{std::move(c1), sl::SoftLifRate<F>(s1, f), std::move(p1),
                 std::move(c2), sl::SoftLifRate<F>(s2, f), std::move(p2),
                 sl::Linear<F>(flat, o.fc, rng, fcc), sl::SoftLifRate<F>(o.fc, f), sl::Dropout<F>(o.fc, {.p = 0.5}),
                 sl::Linear<F>(o.fc, classes, rng, fcc)};
}

// ---- results -----------------------------------------------------------------------------

struct Curve {
  std::vector<double> ms, instant, cumulative;
};

struct SpikeResult {
  std::string eval;                  // lenient | paper
  double ann_error_subset = 0;       // the images the spiking network saw
  double hard_error_subset = 0;      // the rate network with the hard LIF response (gamma -> 0), same images
  double snn_error = 0;
  sl::Index images = 0;
  double seconds = 0;
  Curve curve;                       // lenient only
};

struct Result {
  std::uint64_t seed = 1;
  double noise = 0;
  double ann_error = 0;        // full test set (or --test-limit)
  double ann_noisy_error = -1; // the same with the training noise in the test pass (< 0: not measured)
  sl::Index test_images = 0;
  double train_seconds = 0;
  std::vector<SpikeResult> spiking;
};

std::string pct(double e) { return fixed(100.0 * e, 2) + "%"; }

// One layer per line, with the neuron and synapse parameters where a layer has them.
template <class Net>
std::string describe(const Net& net) {
  std::string s;
  net.for_each_layer([&](const auto& l, std::size_t i) {
    s += "  " + std::to_string(i) + ": ";
    if constexpr (requires { l.description(); })
      s += l.description();
    else
      s += l.signature();
    s += "\n";
  });
  return s;
}

// ---- the CSV log: one row per seed, noise and epoch, and one per evaluation -----------------

class CsvLog {
 public:
  CsvLog(std::string path, const Options& o) : path_(std::move(path)), o_(&o) {
    if (path_.empty()) return;
    std::error_code ec;
    if (std::filesystem::exists(path_, ec) && std::filesystem::file_size(path_, ec) > 0) return;  // append
    std::ofstream os(path_);
    if (!os) throw std::runtime_error("cannot write " + path_);
    os << "protocol,dataset,train_images,seed,noise_hz,row,epoch,lr,train_loss,train_error,seconds,"
          "ann_error,ann_noisy_error,eval,spike_images,ann_error_spiked,hard_lif_error_spiked,snn_error\n";
  }
  void epoch(std::uint64_t seed, double noise, long train_images, const sl::TrainInfo& i) const {
    row(seed, noise, train_images, "epoch", i.epoch,
        fixed(i.lr, 8) + "," + fixed(i.loss, 6) + "," + fixed(1.0 - i.accuracy, 6) + "," + fixed(i.epoch_seconds, 1) +
            ",,,,,,,");
  }
  void final_row(const Result& r, long train_images, int epochs, const SpikeResult* s) const {
    std::string rest = ",,," + fixed(r.train_seconds, 1) + "," + fixed(r.ann_error, 6) + "," +
                       (r.ann_noisy_error >= 0 ? fixed(r.ann_noisy_error, 6) : std::string()) + ",";
    if (s)
      rest += s->eval + "," + std::to_string(s->images) + "," + fixed(s->ann_error_subset, 6) + "," +
              fixed(s->hard_error_subset, 6) + "," + fixed(s->snn_error, 6);
    else
      rest += ",,,,";
    row(r.seed, r.noise, train_images, "final", epochs, rest);
  }

 private:
  void row(std::uint64_t seed, double noise, long train_images, const char* kind, int epoch,
           const std::string& rest) const {
    if (path_.empty()) return;
    std::ofstream os(path_, std::ios::app);
    if (!os) throw std::runtime_error("cannot append to " + path_);
    os << o_->protocol << "," << o_->dataset << "," << train_images << "," << seed << "," << noise << "," << kind << ","
       << epoch << "," << rest << "\n";
  }
  std::string path_;
  const Options* o_;
};

// Trainer callback: one CSV row per epoch.
struct EpochRows {
  const CsvLog* log;
  std::uint64_t seed;
  double noise;
  long train_images;
  void on_epoch_end(const sl::TrainInfo& i) const { log->epoch(seed, noise, train_images, i); }
};

// ---- a minimal SVG line plot ---------------------------------------------------------------

struct Series {
  std::string label, color;
  std::vector<double> x, y;
  bool dashed = false;
};

// y values above y_cap (if > 0) are drawn at the top edge.
void write_svg(const std::string& path, const std::string& title, const std::string& xlabel, const std::string& ylabel,
               const std::vector<Series>& series, double y_cap = 0) {
  const double W = 720, H = 460, L = 70, R = 200, T = 40, B = 55;
  double xmax = 0, ymax = 0;
  for (const auto& s : series) {
    for (double v : s.x) xmax = std::max(xmax, v);
    for (double v : s.y) ymax = std::max(ymax, v);
  }
  if (y_cap > 0) ymax = std::min(ymax, y_cap);
  if (xmax <= 0) xmax = 1;
  // y axis: a "nice" upper bound
  double step = std::pow(10.0, std::floor(std::log10(std::max(ymax, 1e-9))));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (ymax / (m * step) <= 5.0) {
      step *= m;
      break;
    }
  const double ytop = std::max(step, std::ceil(ymax / step) * step);
  auto px = [&](double x) { return L + (W - L - R) * x / xmax; };
  auto py = [&](double y) { return H - B - (H - T - B) * std::min(y, ytop) / ytop; };
  std::ofstream os(path);
  if (!os) throw std::runtime_error("cannot write " + path);
  os << std::fixed << std::setprecision(2);
  os << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << W << "\" height=\"" << H << "\" font-family=\"sans-serif\" "
     << "font-size=\"12\">\n<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  os << "<text x=\"" << W / 2 - R / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">" << title << "</text>\n";
  // grid and ticks
  for (double y = 0; y <= ytop + 1e-12; y += step) {
    os << "<line x1=\"" << L << "\" y1=\"" << py(y) << "\" x2=\"" << W - R << "\" y2=\"" << py(y)
       << "\" stroke=\"#ddd\"/>\n<text x=\"" << L - 6 << "\" y=\"" << py(y) + 4 << "\" text-anchor=\"end\">" << y
       << "</text>\n";
  }
  const double xstep = xmax > 100 ? 25 : 10;
  for (double x = 0; x <= xmax + 1e-9; x += xstep)
    os << "<line x1=\"" << px(x) << "\" y1=\"" << H - B << "\" x2=\"" << px(x) << "\" y2=\"" << H - B + 5
       << "\" stroke=\"black\"/>\n<text x=\"" << px(x) << "\" y=\"" << H - B + 18 << "\" text-anchor=\"middle\">" << x
       << "</text>\n";
  os << "<line x1=\"" << L << "\" y1=\"" << H - B << "\" x2=\"" << W - R << "\" y2=\"" << H - B << "\" stroke=\"black\"/>\n"
     << "<line x1=\"" << L << "\" y1=\"" << T << "\" x2=\"" << L << "\" y2=\"" << H - B << "\" stroke=\"black\"/>\n";
  os << "<text x=\"" << (L + W - R) / 2 << "\" y=\"" << H - 15 << "\" text-anchor=\"middle\">" << xlabel << "</text>\n";
  os << "<text transform=\"translate(18," << (T + H - B) / 2 << ") rotate(-90)\" text-anchor=\"middle\">" << ylabel
     << "</text>\n";
  // series and legend
  double ly = T + 10;
  for (const auto& s : series) {
    os << "<polyline fill=\"none\" stroke=\"" << s.color << "\" stroke-width=\"1.8\""
       << (s.dashed ? " stroke-dasharray=\"6,4\"" : "") << " points=\"";
    for (std::size_t i = 0; i < s.x.size(); ++i) os << px(s.x[i]) << "," << py(s.y[i]) << " ";
    os << "\"/>\n";
    os << "<line x1=\"" << W - R + 12 << "\" y1=\"" << ly << "\" x2=\"" << W - R + 36 << "\" y2=\"" << ly << "\" stroke=\""
       << s.color << "\" stroke-width=\"2\"" << (s.dashed ? " stroke-dasharray=\"6,4\"" : "") << "/>\n<text x=\""
       << W - R + 42 << "\" y=\"" << ly + 4 << "\">" << s.label << "</text>\n";
    ly += 20;
  }
  os << "</svg>\n";
}

// ---- one experiment: train, transfer, run spiking ----------------------------------------

using Source = sl::ImageSource<F, sl::OffsetEncoder>;

// The input encoding: pixels x in [0, 1] (unit), or cuda-convnet2's x + 1 - mean (cc2):
// convdata.py subtracts --scalar-mean, whose default -1 it subtracts too, then the mean image.
sl::OffsetEncoder make_encoder(const Options& o, const sl::ImageDataset& train_set, const sl::ImageDataset& test_set) {
  sl::OffsetEncoder e;
  if (o.input != "cc2") return e;
  const std::vector<float> mean =
      o.mean_over == "train" ? sl::mean_image({&train_set}) : sl::mean_image({&train_set, &test_set});
  e.offset.resize(mean.size());
  for (std::size_t f = 0; f < mean.size(); ++f) e.offset[f] = 1.0f - mean[f];
  return e;
}

// cuda-convnet2 steps the learning rate once per data batch file of 10,000 images.
int lr_updates_per_epoch(long train_images) { return std::max(1, int(std::lround(double(train_images) / 10000.0))); }

std::string tag(const Options& o, std::uint64_t seed, double noise) {
  return (o.seeds > 1 ? "-s" + std::to_string(seed) : std::string()) + "-noise" + fixed(noise, 0);
}

template <class Rule, class Opt>
double train(RateNet& net, Rule rule, Opt opt, const sl::OffsetEncoder& enc, const sl::ImageDataset& train_set,
             const sl::ImageDataset& test_set, const Options& o, std::uint64_t seed, double noise, const CsvLog& log,
             sl::EvalResult& test_result) {
  Source train_src(train_set, enc, {.batch_size = o.batch, .steps = 1, .seed = seed});
  Source test_src(test_set, enc, {.batch_size = 500, .steps = 1, .shuffle = false});
  sl::Trainer trainer(net, std::move(rule), std::move(opt), {.seed = seed});
  sl::ProgressPrinter progress(std::cout, 0.25, isatty(fileno(stdout)) != 0);
  sl::TimeLimit limit(o.time_limit);
  const EpochRows rows{&log, seed, noise, long(train_set.count)};
  // no per-epoch validation pass (it would cost a test-set forward pass per epoch); the test
  // error is measured once, after training
  double seconds = 0;
  if (!o.resume.empty()) {
    const std::string path = o.resume + tag(o, seed, noise) + ".ckpt";
    if (std::filesystem::exists(path)) {
      spikelab_examples::load_checkpoint_warning_on_changes(path, trainer, o.epochs, std::cout);
      std::cout << "resumed from " << path << " after epoch " << trainer.progress().epoch << "\n";
    }
    seconds = trainer.fit(train_src, o.epochs, progress, rows, sl::TrainingCheckpointEvery(path), limit).seconds;
  } else {
    seconds = trainer.fit(train_src, o.epochs, progress, rows, limit).seconds;
  }
  test_result = trainer.evaluate(test_src);
  return seconds;
}

// The test error of the rate network with its training noise in the forward pass and without
// dropout: what cuda-convnet2's test pass measures (its noise is on in every forward pass).
double noisy_test_error(const RateNet& ann, const Options& o, const sl::ImageDataset& test_set,
                        const sl::OffsetEncoder& enc, std::uint64_t seed) {
  RateNet noisy = ann;
  noisy.layer<dropout_layer>() = sl::Dropout<F>(o.fc, {.p = 0.0});
  sl::Rng rng(seed + 7919);
  Source src(test_set, enc, {.batch_size = 500, .steps = 1, .shuffle = false});
  sl::SumCrossEntropy loss;
  sl::Tally t;
  sl::Batch<F> b;
  src.start_epoch(0);
  while (src.next(b)) t += loss.tally(noisy.forward(b.input, sl::ForwardContext::train(rng)), b);
  return 1.0 - t.accuracy();
}

// Lenient evaluation: every image from the reset network, mean filtered output over [tc, tp).
SpikeResult eval_lenient(const RateNet& ann, const Options& o, const sl::ImageDataset& shown, const sl::OffsetEncoder& enc) {
  SpikeResult res;
  res.eval = "lenient";
  const sl::SynapseKind kind = o.synapse == "alpha" ? sl::SynapseKind::alpha : sl::SynapseKind::exponential;
  auto snn = sl::to_spiking(ann, {.dt = o.dt, .synapse = kind, .tau_synapse = o.tau_s});
  std::cout << "spiking network, lenient evaluation (to_spiking):\n" << describe(snn);
  const sl::Index T = sl::Index(std::lround(o.t_present / o.dt)), tc = sl::Index(std::lround(o.t_classify / o.dt));
  Source spike_src(shown, enc, {.batch_size = o.spike_batch, .steps = T, .shuffle = false});
  sl::SpikingReadout readout(tc);
  sl::Batch<F> b;
  const auto t0 = std::chrono::steady_clock::now();
  spike_src.start_epoch(0);
  const bool tty = isatty(fileno(stdout)) != 0;
  while (spike_src.next(b)) {
    readout.add(snn.forward(b.input), b.labels);
    if (tty)
      std::cout << "\rspiking test: " << readout.samples() << "/" << shown.count << " images, error so far "
                << pct(readout.window_error()) << std::flush;
  }
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.snn_error = readout.window_error();
  res.images = readout.samples();
  std::cout << (tty ? "\r" : "") << "spiking test error (lenient): " << pct(res.snn_error) << " on " << res.images
            << " images (" << fixed(o.t_present * 1e3, 0) << " ms each from reset, dt " << o.dt * 1e3
            << " ms, classified from " << fixed(o.t_classify * 1e3, 0) << " ms; " << fixed(res.seconds, 1) << " s)\n";
  for (sl::Index t = 0; t < T; ++t) {
    res.curve.ms.push_back(double(t + 1) * o.dt * 1e3);
    res.curve.instant.push_back(100.0 * readout.instant_error(t));
    res.curve.cumulative.push_back(100.0 * readout.cumulative_error(t));
  }
  std::cout << "spiking error vs presentation time (decision at t: instant = filtered output at t, "
               "cumulative = mean filtered output over [0, t]):\n   t (ms)   instant   cumulative\n";
  const sl::Index every = std::max<sl::Index>(1, T / 15);
  for (sl::Index t = every - 1; t < T; t += every)
    std::cout << std::setw(9) << fixed(res.curve.ms[std::size_t(t)], 0) << std::setw(9)
              << fixed(res.curve.instant[std::size_t(t)], 2) << "%" << std::setw(12)
              << fixed(res.curve.cumulative[std::size_t(t)], 2) << "%\n";
  return res;
}

sl::BackToBackConfig back_to_back_config(const Options& o) {
  sl::BackToBackConfig c;
  c.steps_per_image = sl::Index(std::lround(o.t_present / o.dt));
  c.window = o.window;
  c.max_wrong_fraction = o.max_wrong;
  c.readout = {sl::SynapseKind::alpha, o.readout_tau, o.dt};
  c.zero_phase = true;
  c.clock_offset = o.clock_offset;
  c.images_per_run = o.images_per_run;
  c.runs_together = o.spike_batch;
  return c;
}

// The paper's evaluation: back to back without reset, zero-phase readout, last 10 ms.
SpikeResult eval_paper(const RateNet& ann, const Options& o, const sl::ImageDataset& shown, const sl::OffsetEncoder& enc) {
  SpikeResult res;
  res.eval = "paper";
  const sl::SynapseKind kind = o.synapse == "alpha" ? sl::SynapseKind::alpha : sl::SynapseKind::exponential;
  auto snn = sl::to_spiking(ann, {.dt = o.dt, .synapse = kind, .tau_synapse = o.tau_s, .synapse_stages = o.synapse_stages});
  std::cout << "spiking network, paper evaluation (to_spiking):\n" << describe(snn);
  Source src(shown, enc, {.batch_size = std::max<sl::Index>(shown.count, 1), .steps = 1, .shuffle = false});
  sl::Batch<F> b;
  src.start_epoch(0);
  src.next(b);
  const sl::Matrix<F> images = b.input.values();
  const bool tty = isatty(fileno(stdout)) != 0;
  const auto t0 = std::chrono::steady_clock::now();
  const sl::BackToBackResult r =
      sl::evaluate_back_to_back(snn, images, b.labels, back_to_back_config(o), [&](sl::Index done, sl::Index total) {
        if (tty) std::cout << "\rspiking test (paper): " << done << "/" << total << " images" << std::flush;
      });
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.snn_error = r.error();
  res.images = r.images;
  std::vector<sl::Index> hist(std::size_t(o.window) + 1, 0);
  for (sl::Index w : r.wrong_steps) ++hist[std::size_t(w)];
  std::cout << (tty ? "\r" : "") << "spiking test error (paper): " << pct(res.snn_error) << " on " << res.images
            << " images (" << fixed(o.t_present * 1e3, 0) << " ms each, back to back in runs of " << o.images_per_run
            << "; " << fixed(res.seconds, 1) << " s)\nimages by wrong steps in their window (0.." << o.window << "):";
  for (sl::Index h : hist) std::cout << " " << h;
  std::cout << "\n";
  return res;
}

Result run_one(const Options& o, std::uint64_t seed, double noise, const sl::ImageDataset& train_set,
               const sl::ImageDataset& test_set, const sl::OffsetEncoder& enc, const CsvLog& log) {
  Result res;
  res.seed = seed;
  res.noise = noise;
  sl::Rng rng(seed);
  RateNet ann = make_rate_net(o, train_set.height, std::max(train_set.classes, 2), noise, rng);
  std::cout << "\n=== seed " << seed << ", rate network, training noise sigma = " << noise << " Hz ===\n"
            << "rate network (" << ann.parameter_count() << " parameters):\n" << describe(ann);
  sl::EvalResult test_eval;
  if (!o.load_ann.empty()) {
    const std::string path = o.load_ann + tag(o, seed, noise) + "-ann.ckpt";
    sl::load_checkpoint(path, ann);
    std::cout << "loaded the trained rate network from " << path << " (no training)\n";
    Source test_src(test_set, enc, {.batch_size = 500, .steps = 1, .shuffle = false});
    sl::Trainer evaluator(ann, sl::Bptt<sl::SumCrossEntropy>{}, sl::Optimizer<F>(sl::OptimizerConfig{}), {.seed = seed});
    test_eval = evaluator.evaluate(test_src);
  } else if (o.optimizer == "adam") {
    res.train_seconds = train(ann, sl::Bptt<sl::SumCrossEntropy>{},
                              sl::Optimizer<F, sl::Adam, sl::CosineLr>({.lr = o.lr}, {}, {.min_factor = 0.02}), enc,
                              train_set, test_set, o, seed, noise, log, test_eval);
  } else if (o.optimizer == "sgd") {  // momentum, learning rate divided by 100 over training, per epoch
    const double gamma = std::pow(0.01, 1.0 / std::max(o.epochs, 1));
    res.train_seconds = train(ann, sl::Bptt<sl::SumCrossEntropy>{},
                              sl::Optimizer<F, sl::Sgd, sl::ExponentialLr>({.lr = o.lr}, {.momentum = o.momentum}, {gamma}),
                              enc, train_set, test_set, o, seed, noise, log, test_eval);
  } else {  // cc2: cuda-convnet2's SGD, per-layer weight decay, bias learning rate, exponential decay
    const std::vector<double> wc = spikelab_examples::parse_list<double>("weight-decay", o.weight_decay, 0.0);
    if (wc.size() != 4) throw std::invalid_argument("--weight-decay needs 4 values: conv1, conv2, fc1, fc10");
    std::vector<double> per_layer(RateNet::size, 0.0);
    per_layer[0] = wc[0];
    per_layer[3] = wc[1];
    per_layer[fc1_layer] = wc[2];
    per_layer[fc10_layer] = wc[3];
    sl::OptimizerConfig oc{.lr = o.lr};
    oc.lr_scale[sl::ParamGroup::bias] = o.bias_lr_scale;
    res.train_seconds = train(
        ann, sl::Bptt<sl::SumCrossEntropy, sl::WeightDecay>({}, sl::WeightDecay(per_layer)),
        sl::Optimizer<F, sl::Sgd, sl::ExpDecayLr>(oc, {.momentum = o.momentum, .lr_inside = true},
                                                  {.target_factor = o.lr_decay,
                                                   .updates_per_epoch = lr_updates_per_epoch(long(train_set.count))}),
        enc, train_set, test_set, o, seed, noise, log, test_eval);
  }
  res.ann_error = 1.0 - test_eval.accuracy;
  res.test_images = test_eval.tally.total;
  std::cout << "ANN test error: " << pct(res.ann_error) << " on " << res.test_images << " images\n";
  if (o.test_noise && noise > 0) {
    res.ann_noisy_error = noisy_test_error(ann, o, test_set, enc, seed);
    std::cout << "ANN test error with the training noise in the test pass (cuda-convnet2's test pass): "
              << pct(res.ann_noisy_error) << "\n";
  }
  if (!o.checkpoint.empty() && o.load_ann.empty()) {
    const std::string path = o.checkpoint + tag(o, seed, noise) + "-ann.ckpt";
    sl::save_checkpoint(path, ann);
    std::cout << "checkpoint: " << path << "\n";
  }

  // the rate network on the images the spiking network sees, with the soft and the hard LIF
  // response (gamma 1e-5: the rates the spiking neurons realise; separates the soft -> hard
  // mismatch from the spiking network's own variability)
  const sl::ImageDataset shown = test_set.head(o.spike_limit);
  Source rate_src(shown, enc, {.batch_size = 500, .steps = 1, .shuffle = false});
  sl::Bptt<sl::SumCrossEntropy> rate_rule;
  sl::Tally soft, hard;
  RateNet hard_net = ann;
  sl::SoftLifConfig hc = ann.layer<1>().function().config();
  hc.gamma = 1e-5;
  hard_net.layer<1>().function() = hard_net.layer<4>().function() = hard_net.layer<7>().function() = sl::SoftLif(hc);
  sl::Batch<F> b;
  rate_src.start_epoch(0);
  while (rate_src.next(b)) {
    soft += rate_rule.evaluate(ann, b).tally;
    hard += rate_rule.evaluate(hard_net, b).tally;
  }
  std::cout << "rate network on the " << soft.total << " images run spiking: error " << pct(1.0 - soft.accuracy())
            << "; with the hard LIF response (gamma 1e-5): " << pct(1.0 - hard.accuracy()) << "\n";
  for (const std::string& ev : {std::string("lenient"), std::string("paper")}) {
    if (o.eval != ev && o.eval != "both") continue;
    SpikeResult s = ev == "lenient" ? eval_lenient(ann, o, shown, enc) : eval_paper(ann, o, shown, enc);
    s.ann_error_subset = 1.0 - soft.accuracy();
    s.hard_error_subset = 1.0 - hard.accuracy();
    std::cout << "ANN error on the same images: " << pct(s.ann_error_subset) << "\n";
    res.spiking.push_back(std::move(s));
  }
  if (res.spiking.empty()) log.final_row(res, long(train_set.count), o.epochs, nullptr);
  for (const auto& s : res.spiking) log.final_row(res, long(train_set.count), o.epochs, &s);
  return res;
}

// Every value the protocol sets, as the run uses it.
void print_settings(const Options& o, const sl::ImageDataset& train_set, const sl::ImageDataset& test_set,
                    const sl::OffsetEncoder& enc) {
  const sl::SoftLifConfig n = sl::SoftLifConfig::mnist();
  std::cout << "protocol: " << o.protocol << "\n"
            << "  network: conv " << o.conv1 << " 5x5 pad 2 -> soft-LIF -> avg-pool 2 -> conv " << o.conv2
            << " 5x5 pad 2 -> soft-LIF -> avg-pool 2 -> fc " << o.fc << " soft-LIF -> dropout 0.5 -> fc "
            << std::max(train_set.classes, 2) << " -> softmax cross-entropy\n"
            << "  neurons: softlif[m=" << n.amplitude << ", tau_ref=" << n.tau_ref << " s, tau_rc=" << n.tau_rc
            << " s, a=" << n.gain << ", gamma=" << o.gamma << "], training noise sigma " << o.noise << " Hz"
            << (o.compare_noise ? " and 0 Hz" : "") << " (where a x > 0, clipped at 0, forward only)\n"
            << "  data: " << train_set.count << " training, " << test_set.count << " test images; batch " << o.batch
            << ", " << o.epochs << " epochs, shuffled each epoch\n";
  if (o.input == "cc2")
    std::cout << "  input: x + 1 - mean_pixel, x = pixel/255, mean over " << (o.mean_over == "train" ? "the training images" : "the training and test images")
              << " (offset 1 - mean: min " << fixed(*std::min_element(enc.offset.begin(), enc.offset.end()), 4) << ", max "
              << fixed(*std::max_element(enc.offset.begin(), enc.offset.end()), 4) << ")\n";
  else
    std::cout << "  input: x = pixel/255 in [0, 1]\n";
  if (o.init == "normal")
    std::cout << "  init: weights N(0, " << o.init_conv << "^2) conv, N(0, " << o.init_fc << "^2) fc; biases 0\n";
  else
    std::cout << "  init: weights and biases U(+-1/sqrt(fan_in))\n";
  if (o.optimizer == "cc2")
    std::cout << "  optimizer: SGD, cuda-convnet2 form v <- " << o.momentum << " v + lr (g + wc W), W <- W - v\n"
              << "  learning rate: weights " << o.lr << ", biases " << o.lr * o.bias_lr_scale << ", times "
              << o.lr_decay << "^(-progress), stepped " << lr_updates_per_epoch(long(train_set.count))
              << " times per epoch (per 10,000 images)\n"
              << "  weight decay wc (conv1, conv2, fc1, fc10): " << o.weight_decay << "; biases none\n";
  else if (o.optimizer == "sgd")
    std::cout << "  optimizer: SGD momentum " << o.momentum << " (PyTorch form), lr " << o.lr
              << ", times 0.01^(epoch/epochs) per epoch; no weight decay\n";
  else
    std::cout << "  optimizer: Adam lr " << o.lr << ", cosine decay to 0.02 lr; no weight decay\n";
  if (o.test_noise) std::cout << "  ANN test error also measured with the training noise on (cuda-convnet2's test pass)\n";
  const std::string ev = o.eval;
  if (ev == "lenient" || ev == "both")
    std::cout << "  lenient evaluation: each image from the reset network for " << o.t_present * 1e3 << " ms, dt "
              << o.dt * 1e3 << " ms, one " << o.synapse << " synapse tau " << o.tau_s * 1e3
              << " ms before each neuron layer and on the output; class = argmax of the mean output over ["
              << o.t_classify * 1e3 << ", " << o.t_present * 1e3 << ") ms; " << o.spike_limit << " test images\n";
  if (ev == "paper" || ev == "both")
    std::cout << "  paper evaluation: images back to back, " << o.t_present * 1e3 << " ms each, dt " << o.dt * 1e3
              << " ms, no reset within runs of " << o.images_per_run << " images; " << o.synapse_stages << " "
              << o.synapse << " synapse(s) tau " << o.tau_s * 1e3
              << " ms in cascade before each neuron layer and on the output; output filtered with alpha "
              << o.readout_tau * 1e3 << " ms forward and backward (zero phase); every step of the last " << o.window
              << " steps of each image classified (argmax), the image an error when more than " << o.max_wrong * 100
              << " % of them are wrong; Nengo clock offset " << o.clock_offset << " step(s); " << o.spike_limit
              << " test images in file order\n";
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  o.protocol = spikelab_examples::early_value(argc, argv, {"protocol"}, "lenient");
  protocol_defaults(o);
  CommandLine cli("spikelab-softlif",
                  "Soft-LIF (Hunsberger & Eliasmith 2015): trains the paper's MNIST conv network as a rate network with\n"
                  "soft-LIF neurons and training noise, transfers it to a spiking LIF network with alpha synapses, and\n"
                  "reports the ANN error and the spiking error. --protocol lenient (spikelab's recipe and evaluation) or\n"
                  "paper (the authors' cuda-convnet2 training and Nengo evaluation; it sets the defaults below).\n"
                  "Data: --data DIR with idx files (MNIST), or Fashion-MNIST from Debian's dataset-fashion-mnist\n"
                  "(--dataset fashion, " + std::string(sl::debian_fashion_mnist_dir()) + ").");
  cli.protocol(o.protocol, {"lenient", "paper"}, "lenient | paper: the training recipe and evaluation (sets defaults)")
      .option("data", o.data, "directory with idx files (train-*/t10k-*); default for --dataset fashion: Debian's")
      .option("dataset", o.dataset, "mnist | fashion (names the data in the output; fashion has a default directory)")
      .option("epochs", o.epochs, "training epochs (the paper: 200 on 60k images)")
      .option("conv1", o.conv1, "filters of the first 5x5 convolution (paper: 16)")
      .option("conv2", o.conv2, "filters of the second 5x5 convolution (paper: 64)")
      .option("fc", o.fc, "soft-LIF units of the fully connected layer (paper: 2000)")
      .option("noise", o.noise, "training noise sigma in Hz (paper: 10; 0 = none)")
      .flag("compare-noise", o.compare_noise, "train twice, with --noise and without noise, and compare")
      .option("gamma", o.gamma, "soft-LIF smoothing gamma (paper: 0.02)")
      .option("batch", o.batch, "training batch size (paper: 128)")
      .option("optimizer", o.optimizer,
              "adam (cosine-decayed) | sgd (momentum, lr / 100 over training per epoch) | cc2 (cuda-convnet2's SGD: "
              "--momentum, --bias-lr-scale, --lr-decay, --weight-decay)")
      .option("lr", o.lr, "learning rate (of the weights for cc2)")
      .option("bias-lr-scale", o.bias_lr_scale, "cc2: the biases' learning rate over the weights' (paper: 2)")
      .option("momentum", o.momentum, "sgd, cc2: momentum")
      .option("lr-decay", o.lr_decay, "cc2: the learning rate falls to lr / this over training (paper: 100)")
      .option("weight-decay", o.weight_decay, "cc2: L2 decay of the weights of conv1,conv2,fc1,fc10 (paper: 0,0,0.004,0.001)")
      .option("init", o.init, "uniform (U(+-1/sqrt(fan_in)), weights and biases) | normal (N(0, s^2), biases 0)")
      .option("init-conv", o.init_conv, "normal init: sd of the conv weights (paper: 0.1)")
      .option("init-fc", o.init_fc, "normal init: sd of the fc weights (paper: 0.01)")
      .option("input", o.input, "unit (x = pixel/255) | cc2 (x + 1 - mean image, as cuda-convnet2's data provider)")
      .option("mean-over", o.mean_over, "cc2 input: mean image over all (training and test images, as the paper) | train")
      .option("eval", o.eval, "spiking evaluation: lenient | paper | both (default: the protocol's)")
      .option("train-limit", o.train_limit, "use only the first N training images (0 = all)")
      .option("test-limit", o.test_limit, "use only the first N test images for the ANN error (0 = all)")
      .option("spike-limit", o.spike_limit, "test images run through the spiking network (0 = all)")
      .option("dt", o.dt, "spiking simulation step (s)")
      .option("tp", o.t_present, "presentation time per image (s)")
      .option("tc", o.t_classify, "lenient: classification window start (s): decide from the mean output over [tc, tp)")
      .option("tau-s", o.tau_s, "synaptic time constant (s)")
      .option("synapse", o.synapse, "alpha | exponential")
      .option("synapse-stages", o.synapse_stages, "paper evaluation: synapses in cascade per connection (Nengo script: 2)")
      .option("images-per-run", o.images_per_run, "paper evaluation: consecutive images per run without reset")
      .option("window", o.window, "paper evaluation: the last steps of each image that are classified")
      .option("max-wrong", o.max_wrong, "paper evaluation: an image is an error when more than this fraction is wrong")
      .option("readout-tau", o.readout_tau, "paper evaluation: alpha readout filter (s), applied forward and backward")
      .option("clock-offset", o.clock_offset, "paper evaluation: images start this many steps before their block (Nengo: 1)")
      .flag("test-noise", o.test_noise, "also measure the ANN test error with the training noise on (paper: on)")
      .option("spike-batch", o.spike_batch, "images (lenient) or runs (paper) simulated together")
      .option("svg", o.svg, "lenient evaluation: write the error-vs-presentation-time plot here (empty = no plot)")
      .csv(o.csv, "append one row per seed, noise and epoch, and one per evaluation, to this CSV file")
      .option("curve-csv", o.curve_csv, "lenient evaluation: write the error-vs-presentation-time curve as CSV here")
      .option("checkpoint", o.checkpoint, "save each trained rate network as PREFIX[-sSEED]-noiseN-ann.ckpt")
      .option("resume", o.resume, "training checkpoints PREFIX[-sSEED]-noiseN.ckpt: written every epoch, continued if present")
      .option("load-ann", o.load_ann, "skip training: load PREFIX[-sSEED]-noiseN-ann.ckpt (as --checkpoint wrote it)")
      .threads(o.threads, "threads")
      .seed(o.seed)
      .seeds(o.seeds, "runs, with seeds --seed, --seed + 1, ...")
      .option("time-limit", o.time_limit, "stop training after this many seconds (0 = no limit)");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    if (o.eval.empty()) o.eval = o.protocol;
    if (o.dt <= 0 || o.t_present < o.dt || o.t_classify < 0 || o.t_classify >= o.t_present)
      throw std::invalid_argument("need dt > 0 and 0 <= tc < tp, tp >= dt");
    if (o.synapse != "alpha" && o.synapse != "exponential") throw std::invalid_argument("--synapse must be alpha or exponential");
    if (o.dataset != "mnist" && o.dataset != "fashion") throw std::invalid_argument("--dataset must be mnist or fashion");
    if (o.optimizer != "adam" && o.optimizer != "sgd" && o.optimizer != "cc2")
      throw std::invalid_argument("--optimizer must be adam, sgd or cc2");
    if (o.init != "uniform" && o.init != "normal") throw std::invalid_argument("--init must be uniform or normal");
    if (o.input != "unit" && o.input != "cc2") throw std::invalid_argument("--input must be unit or cc2");
    if (o.mean_over != "all" && o.mean_over != "train") throw std::invalid_argument("--mean-over must be all or train");
    if (o.eval != "lenient" && o.eval != "paper" && o.eval != "both")
      throw std::invalid_argument("--eval must be lenient, paper or both");
    if (o.seeds < 1) throw std::invalid_argument("--seeds must be at least 1");
    back_to_back_config(o).validate();  // ConfigError for a bad window, fraction or offset
    std::filesystem::path dir = o.data;
    if (dir.empty()) {
      if (o.dataset != "fashion") throw std::invalid_argument("--dataset mnist needs --data DIR (MNIST idx files)");
      dir = sl::debian_fashion_mnist_dir();
    }
    if (!sl::find_idx_pair(dir, "train") || !sl::find_idx_pair(dir, "test")) {
      std::cerr << "error: no idx train/test files in " << dir.string() << "\n";
      return 2;
    }
    sl::set_num_threads(o.threads);
    std::cout << "spikelab " << sl::version::as_string() << ", " << sl::num_threads() << " threads\n";
    const sl::ImageDataset train_set = sl::load_idx_split(dir, "train").head(o.train_limit);
    const sl::ImageDataset test_set = sl::load_idx_split(dir, "test").head(o.test_limit);
    if (train_set.height != train_set.width) throw std::invalid_argument("images must be square");
    std::cout << "data: " << dir.string() << " (" << o.dataset << "): train " << train_set.count << ", test "
              << test_set.count << " images of " << train_set.height << "x" << train_set.width << "\n";
    const sl::OffsetEncoder enc = make_encoder(o, train_set, test_set);
    print_settings(o, train_set, test_set, enc);
    const CsvLog log(o.csv, o);

    std::vector<double> noises{o.noise};
    if (o.compare_noise && o.noise != 0.0) noises.push_back(0.0);
    std::vector<Result> results;
    for (int k = 0; k < o.seeds; ++k)
      for (double n : noises) results.push_back(run_one(o, o.seed + std::uint64_t(k), n, train_set, test_set, enc, log));

    std::cout << "\n=== summary (" << o.protocol << " protocol, " << o.dataset << ", " << o.epochs << " epochs on "
              << train_set.count << " training images) ===\n"
              << "| data | seed | noise (Hz) | ANN error (all test) | ANN error, noisy test | eval | spiking images | "
                 "ANN error (same images) | hard-LIF ANN (same images) | spiking error | gap |\n";
    for (const auto& r : results)
      for (const auto& s : r.spiking)
        std::cout << "| " << o.dataset << " | " << r.seed << " | " << r.noise << " | " << pct(r.ann_error) << " | "
                  << (r.ann_noisy_error >= 0 ? pct(r.ann_noisy_error) : std::string("-")) << " | " << s.eval << " | "
                  << s.images << " | " << pct(s.ann_error_subset) << " | " << pct(s.hard_error_subset) << " | "
                  << pct(s.snn_error) << " | " << pct(s.snn_error - s.ann_error_subset) << " |\n";

    if (!o.curve_csv.empty()) {
      std::ofstream os(o.curve_csv);
      os << "seed,noise_hz,t_ms,error_instant,error_cumulative\n";
      for (const auto& r : results)
        for (const auto& s : r.spiking)
          for (std::size_t i = 0; i < s.curve.ms.size(); ++i)
            os << r.seed << "," << r.noise << "," << s.curve.ms[i] << "," << s.curve.instant[i] / 100 << ","
               << s.curve.cumulative[i] / 100 << "\n";
      std::cout << "curve written to " << o.curve_csv << "\n";
    }
    std::vector<const SpikeResult*> curves;
    std::vector<double> curve_noise;
    for (const auto& r : results)
      for (const auto& s : r.spiking)
        if (!s.curve.ms.empty() && r.seed == o.seed) {
          curves.push_back(&s);
          curve_noise.push_back(r.noise);
        }
    if (!o.svg.empty() && !curves.empty()) {
      const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
      std::vector<Series> series;
      double worst = 0;  // the plot shows up to 4x the worst final error
      for (const SpikeResult* s : curves) worst = std::max({worst, s->ann_error_subset, s->snn_error, s->curve.cumulative.back() / 100});
      for (std::size_t k = 0; k < curves.size(); ++k) {
        const SpikeResult& s = *curves[k];
        const std::string t = "noise " + fixed(curve_noise[k], 0) + " Hz";
        series.push_back({t + ": instant", colors[(2 * k) % 4], s.curve.ms, s.curve.instant, false});
        series.push_back({t + ": cumulative", colors[(2 * k) % 4], s.curve.ms, s.curve.cumulative, true});
        series.push_back({t + ": ANN", "#777777", {0.0, s.curve.ms.back()},
                          {100 * s.ann_error_subset, 100 * s.ann_error_subset}, true});
      }
      write_svg(o.svg, "Spiking soft-LIF network on " + o.dataset + ": error vs presentation time",
                "presentation time (ms)", "test error (%)", series, std::max(5.0, 400.0 * worst));
      std::cout << "plot written to " << std::filesystem::absolute(o.svg).string() << "\n";
    }
    return 0;
  } catch (const std::invalid_argument& e) {
    std::cerr << "spikelab-softlif: error: " << e.what() << "\n";
    return 2;
  } catch (const sl::ConfigError& e) {
    std::cerr << "spikelab-softlif: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "spikelab-softlif: error: " << e.what() << "\n";
    return 1;
  }
}
