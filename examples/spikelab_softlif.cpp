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
// It prints the rate network's (ANN) test error, the spiking network's error, the spiking error
// as a function of presentation time, and writes that curve as an SVG plot (its own minimal
// SVG writer below) and optionally as CSV.
#include <spikelab/spikelab.hpp>

#include "common/command_line.hpp"
#include "common/report.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
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
  std::string data;
  std::string dataset = "mnist";
  int epochs = 10;
  long conv1 = 16, conv2 = 64, fc = 2000;
  double noise = 10.0;
  bool compare_noise = false;
  double gamma = 0.02;
  long batch = 50;
  std::string optimizer = "adam";
  double lr = 2e-4;
  long train_limit = 0, test_limit = 0, spike_limit = 1000;
  double dt = 0.001, t_present = 0.15, t_classify = 0.05, tau_s = 0.005;
  std::string synapse = "alpha";
  long spike_batch = 10;
  std::string svg = "spikelab-softlif.svg";
  std::string csv;
  std::string checkpoint;
  int threads = 2;
  std::uint64_t seed = 1;
  double time_limit = 0;
};

// ---- the networks ------------------------------------------------------------------------

using F = float;
using RateNet = sl::Sequential<sl::Conv2d<F>, sl::SoftLifRate<F>, sl::AvgPool2d<F>, sl::Conv2d<F>, sl::SoftLifRate<F>,
                               sl::AvgPool2d<F>, sl::Linear<F>, sl::SoftLifRate<F>, sl::Dropout<F>, sl::Linear<F>>;

RateNet make_rate_net(const Options& o, sl::Index side, int classes, double noise, sl::Rng& rng) {
  sl::SoftLifConfig neuron = sl::SoftLifConfig::mnist();
  neuron.noise = noise;
  neuron.gamma = o.gamma;
  const sl::SoftLif f(neuron);
  sl::Conv2d<F> c1({1, side, side}, o.conv1, rng, {.kernel = 5, .padding = 2});
  sl::AvgPool2d<F> p1(c1.output_shape(), {.kernel = 2, .stride = 2});
  sl::Conv2d<F> c2(p1.output_shape(), o.conv2, rng, {.kernel = 5, .padding = 2});
  sl::AvgPool2d<F> p2(c2.output_shape(), {.kernel = 2, .stride = 2});
  const sl::Index flat = p2.output_shape().size();
  const sl::ImageShape s1 = c1.output_shape(), s2 = c2.output_shape();
  return RateNet{std::move(c1), sl::SoftLifRate<F>(s1, f), std::move(p1),
                 std::move(c2), sl::SoftLifRate<F>(s2, f), std::move(p2),
                 sl::Linear<F>(flat, o.fc, rng), sl::SoftLifRate<F>(o.fc, f), sl::Dropout<F>(o.fc, {.p = 0.5}),
                 sl::Linear<F>(o.fc, classes, rng)};
}

// ---- results -----------------------------------------------------------------------------

struct Curve {
  std::vector<double> ms, instant, cumulative;
};

struct Result {
  double noise = 0;
  double ann_error = 0;         // full test set (or --test-limit)
  double ann_error_subset = 0;  // the images the spiking network saw
  double hard_error_subset = 0; // the rate network with the hard LIF response (gamma -> 0), same images
  double snn_error = 0;         // window [t_c, t_p)
  sl::Index spike_images = 0, test_images = 0;
  double train_seconds = 0, spike_seconds = 0;
  Curve curve;
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

template <class Opt>
double train(RateNet& net, Opt opt, const sl::ImageDataset& train_set, const sl::ImageDataset& test_set,
             const Options& o, sl::EvalResult& test_result) {
  sl::ImageSource<F> train_src(train_set, {}, {.batch_size = o.batch, .steps = 1, .seed = o.seed});
  sl::ImageSource<F> test_src(test_set, {}, {.batch_size = 500, .steps = 1, .shuffle = false});
  sl::Trainer trainer(net, sl::Bptt<sl::SumCrossEntropy>{}, std::move(opt), {.seed = o.seed});
  sl::ProgressPrinter progress(std::cout);
  sl::TimeLimit limit(o.time_limit);
  // no per-epoch validation pass (it would cost a test-set forward pass per epoch); the test
  // error is measured once, after training
  const sl::FitResult r = trainer.fit(train_src, o.epochs, progress, limit);
  test_result = trainer.evaluate(test_src);
  return r.seconds;
}

Result run_one(const Options& o, double noise, const sl::ImageDataset& train_set, const sl::ImageDataset& test_set) {
  Result res;
  res.noise = noise;
  sl::Rng rng(o.seed);
  RateNet ann = make_rate_net(o, train_set.height, std::max(train_set.classes, 2), noise, rng);
  std::cout << "\n=== rate network, training noise sigma = " << noise << " Hz ===\n"
            << "rate network (" << ann.parameter_count() << " parameters):\n" << describe(ann);
  sl::EvalResult test_eval;
  if (o.optimizer == "adam") {
    res.train_seconds = train(ann, sl::Optimizer<F, sl::Adam, sl::CosineLr>({.lr = o.lr}, {}, {.min_factor = 0.02}),
                              train_set, test_set, o, test_eval);
  } else if (o.optimizer == "sgd") {  // the paper: momentum 0.9, learning rate divided by 100 over training
    const double gamma = std::pow(0.01, 1.0 / std::max(o.epochs, 1));
    res.train_seconds = train(ann, sl::Optimizer<F, sl::Sgd, sl::ExponentialLr>({.lr = o.lr}, {.momentum = 0.9}, {gamma}),
                              train_set, test_set, o, test_eval);
  } else {
    throw std::invalid_argument("--optimizer must be adam or sgd");
  }
  res.ann_error = 1.0 - test_eval.accuracy;
  res.test_images = test_eval.tally.total;
  std::cout << "ANN test error: " << pct(res.ann_error) << " on " << res.test_images << " images\n";

  // transfer: one call; the spiking network is an ordinary Sequential
  const sl::SynapseKind kind = o.synapse == "alpha" ? sl::SynapseKind::alpha : sl::SynapseKind::exponential;
  auto snn = sl::to_spiking(ann, {.dt = o.dt, .synapse = kind, .tau_synapse = o.tau_s});
  std::cout << "spiking network (to_spiking):\n" << describe(snn);
  if (!o.checkpoint.empty()) {
    const std::string tag = "-noise" + fixed(noise, 0);
    sl::save_checkpoint(o.checkpoint + tag + "-ann.ckpt", ann);
    sl::save_checkpoint(o.checkpoint + tag + "-snn.ckpt", snn);
    std::cout << "checkpoints: " << o.checkpoint + tag + "-{ann,snn}.ckpt\n";
  }

  const sl::ImageDataset shown = test_set.head(o.spike_limit);
  const sl::Index T = sl::Index(std::lround(o.t_present / o.dt)), tc = sl::Index(std::lround(o.t_classify / o.dt));
  sl::ImageSource<F> rate_src(shown, {}, {.batch_size = 500, .steps = 1, .shuffle = false});
  sl::ImageSource<F> spike_src(shown, {}, {.batch_size = o.spike_batch, .steps = T, .shuffle = false});
  sl::Bptt<sl::SumCrossEntropy> rate_rule;
  sl::Tally ann_subset;
  sl::Batch<F> b;
  rate_src.start_epoch(0);
  while (rate_src.next(b)) ann_subset += rate_rule.evaluate(ann, b).tally;
  res.ann_error_subset = 1.0 - ann_subset.accuracy();
  // The same rate network with the hard LIF response (gamma = 1e-5): the rates the spiking neurons
  // realise; separates the soft -> hard mismatch from the spiking network's own variability.
  {
    RateNet hard = ann;
    sl::SoftLifConfig hc = ann.layer<1>().function().config();
    hc.gamma = 1e-5;
    hard.layer<1>().function() = hard.layer<4>().function() = hard.layer<7>().function() = sl::SoftLif(hc);
    sl::Tally hard_subset;
    rate_src.start_epoch(0);
    while (rate_src.next(b)) hard_subset += rate_rule.evaluate(hard, b).tally;
    res.hard_error_subset = 1.0 - hard_subset.accuracy();
    std::cout << "rate network with the hard LIF response (gamma 1e-5): error " << pct(res.hard_error_subset) << " on "
              << hard_subset.total << " images\n";
  }

  sl::SpikingReadout readout(tc);
  const auto t0 = std::chrono::steady_clock::now();
  spike_src.start_epoch(0);
  while (spike_src.next(b)) {
    readout.add(snn.forward(b.input), b.labels);
    std::cout << "\rspiking test: " << readout.samples() << "/" << shown.count << " images, error so far "
              << pct(readout.window_error()) << std::flush;
  }
  res.spike_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.snn_error = readout.window_error();
  res.spike_images = readout.samples();
  std::cout << "\rspiking test error: " << pct(res.snn_error) << " on " << res.spike_images << " images ("
            << fixed(o.t_present * 1e3, 0) << " ms each, dt " << o.dt * 1e3 << " ms, classified from "
            << fixed(o.t_classify * 1e3, 0) << " ms; " << fixed(res.spike_seconds, 1)
            << " s); ANN error on the same images: " << pct(res.ann_error_subset) << "\n";
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

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CommandLine cli("spikelab-softlif",
                  "Soft-LIF (Hunsberger & Eliasmith 2015): trains the paper's MNIST conv network as a rate network with\n"
                  "soft-LIF neurons and training noise, transfers it to a spiking LIF network with alpha synapses, and\n"
                  "reports the ANN error, the spiking error and the spiking error vs presentation time (SVG plot).\n"
                  "Data: --data DIR with idx files (MNIST), or Fashion-MNIST from Debian's dataset-fashion-mnist\n"
                  "(--dataset fashion, " + std::string(sl::debian_fashion_mnist_dir()) + ").");
  cli.option("data", o.data, "directory with idx files (train-*/t10k-*); default for --dataset fashion: Debian's")
      .option("dataset", o.dataset, "mnist | fashion (names the data in the output; fashion has a default directory)")
      .option("epochs", o.epochs, "training epochs (the paper: 200 on 60k images)")
      .option("conv1", o.conv1, "filters of the first 5x5 convolution (paper: 16)")
      .option("conv2", o.conv2, "filters of the second 5x5 convolution (paper: 64)")
      .option("fc", o.fc, "soft-LIF units of the fully connected layer (paper: 2000)")
      .option("noise", o.noise, "training noise sigma in Hz (paper: 10; 0 = none)")
      .flag("compare-noise", o.compare_noise, "train twice, with --noise and without noise, and compare")
      .option("gamma", o.gamma, "soft-LIF smoothing gamma (paper: 0.02)")
      .option("batch", o.batch, "training batch size")
      .option("optimizer", o.optimizer, "adam (cosine-decayed) | sgd (momentum 0.9, lr / 100 over training, as the paper)")
      .option("lr", o.lr, "learning rate")
      .option("train-limit", o.train_limit, "use only the first N training images (0 = all)")
      .option("test-limit", o.test_limit, "use only the first N test images for the ANN error (0 = all)")
      .option("spike-limit", o.spike_limit, "test images run through the spiking network (0 = all)")
      .option("dt", o.dt, "spiking simulation step (s)")
      .option("tp", o.t_present, "presentation time per image (s)")
      .option("tc", o.t_classify, "classification window start (s): decide from the mean filtered output over [tc, tp)")
      .option("tau-s", o.tau_s, "synaptic time constant (s)")
      .option("synapse", o.synapse, "alpha | exponential")
      .option("spike-batch", o.spike_batch, "images simulated together (memory grows with batch x tp/dt)")
      .option("svg", o.svg, "write the error-vs-presentation-time plot here (empty = no plot)")
      .csv(o.csv, "also write the curve as CSV here")
      .option("checkpoint", o.checkpoint, "save the rate and spiking networks as PREFIX-noiseN-{ann,snn}.ckpt")
      .threads(o.threads, "threads")
      .seed(o.seed)
      .option("time-limit", o.time_limit, "stop training after this many seconds (0 = no limit)");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    if (o.dt <= 0 || o.t_present < o.dt || o.t_classify < 0 || o.t_classify >= o.t_present)
      throw std::invalid_argument("need dt > 0 and 0 <= tc < tp, tp >= dt");
    if (o.synapse != "alpha" && o.synapse != "exponential") throw std::invalid_argument("--synapse must be alpha or exponential");
    if (o.dataset != "mnist" && o.dataset != "fashion") throw std::invalid_argument("--dataset must be mnist or fashion");
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

    std::vector<double> noises{o.noise};
    if (o.compare_noise && o.noise != 0.0) noises.push_back(0.0);
    std::vector<Result> results;
    for (double n : noises) results.push_back(run_one(o, n, train_set, test_set));

    std::cout << "\n=== summary (" << o.dataset << ", " << o.epochs << " epochs on " << train_set.count
              << " training images; spiking: " << results[0].spike_images << " test images, t_p "
              << fixed(o.t_present * 1e3, 0) << " ms, t_c " << fixed(o.t_classify * 1e3, 0)
              << " ms, " << o.synapse << " synapses tau_s " << fixed(o.tau_s * 1e3, 1) << " ms) ===\n"
              << "| data | seed | noise (Hz) | ANN error (all test) | ANN error (spiking subset) | hard-LIF ANN (subset) | "
                 "spiking error | gap |\n";
    for (const auto& r : results)
      std::cout << "| " << o.dataset << " | " << o.seed << " | " << std::setw(10) << r.noise << " | " << std::setw(20) << pct(r.ann_error) << " | " << std::setw(26)
                << pct(r.ann_error_subset) << " | " << std::setw(21) << pct(r.hard_error_subset) << " | " << std::setw(13)
                << pct(r.snn_error) << " | "
                << pct(r.snn_error - r.ann_error_subset) << " |\n";

    if (!o.csv.empty()) {
      std::ofstream os(o.csv);
      os << "noise_hz,t_ms,error_instant,error_cumulative\n";
      for (const auto& r : results)
        for (std::size_t i = 0; i < r.curve.ms.size(); ++i)
          os << r.noise << "," << r.curve.ms[i] << "," << r.curve.instant[i] / 100 << "," << r.curve.cumulative[i] / 100 << "\n";
      std::cout << "curve written to " << o.csv << "\n";
    }
    if (!o.svg.empty()) {
      const char* colors[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd"};
      std::vector<Series> series;
      std::size_t k = 0;
      double worst = 0;  // the plot shows up to 4x the worst final error
      for (const auto& r : results) worst = std::max({worst, r.ann_error_subset, r.snn_error, r.curve.cumulative.back() / 100});
      for (const auto& r : results) {
        const std::string tag = "noise " + fixed(r.noise, 0) + " Hz";
        series.push_back({tag + ": instant", colors[(2 * k) % 4], r.curve.ms, r.curve.instant, false});
        series.push_back({tag + ": cumulative", colors[(2 * k) % 4], r.curve.ms, r.curve.cumulative, true});
        series.push_back({tag + ": ANN", "#777777", {0.0, r.curve.ms.back()},
                          {100 * r.ann_error_subset, 100 * r.ann_error_subset}, true});
        ++k;
      }
      write_svg(o.svg, "Spiking soft-LIF network on " + o.dataset + ": error vs presentation time",
                "presentation time (ms)", "test error (%)", series, std::max(5.0, 400.0 * worst));
      std::cout << "plot written to " << std::filesystem::absolute(o.svg).string() << "\n";
    }
    return 0;
  } catch (const std::invalid_argument& e) {
    std::cerr << "spikelab-softlif: error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "spikelab-softlif: error: " << e.what() << "\n";
    return 1;
  }
}
