// spikelab-thresholds: trainable thresholds against fixed ones on N-MNIST (Mahmoodi Takaghaj &
// Sampson, arXiv 2024, "Rouser"), started from thresholds so high that most hidden neurons never fire.
//
// Network (the paper's, smaller by default): 34x34x2 -> H -> H -> 10, current-based LIF (current
// decay 0.75, voltage decay 0.97, reset to 0), per-neuron thresholds, exponential surrogate
// dS/dV = (s/tau) exp(-|V - Th|/tau) (s = 1.5, tau = 3.75), Kaiming-normal weights, spike-rate MSE
// on the output spikes (target rates 0.2 / 0.03, Lava-DL's N-MNIST tutorial), Adam lr 1e-3 for the
// weights. The variants differ only in the thresholds' learning rate (--lr-thresholds, e.g.
// "0,0.001,0.01"): 0 is "fixed" (the paper's lr_Th = 0 ablation), 0.001 the paper's lr_Th. Every
// variant starts from the same weights for a given seed.
//
// Per epoch it reports, for every variant and seed: the fraction of dead neurons of each hidden
// layer (never fired during the training epoch; epoch 0 = before training, on the training set),
// the test accuracy and the mean threshold per hidden layer; then the epochs each variant needs to
// reach --target test accuracy. Writes thresholds_accuracy.svg, thresholds_dead.svg, thresholds.csv.
#include <spikelab/spikelab.hpp>

#include "common/command_line.hpp"
#include "common/report.hpp"
#include "common/svg.hpp"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace sl = spikelab;
using spikelab_examples::CommandLine;
using spikelab_examples::fixed;
using spikelab_examples::mean_of;
using spikelab_examples::sd_of;
namespace svg = spikelab_examples::svg;

namespace {

using Neuron = sl::LifType<float, sl::Exponential, sl::ZeroReset, sl::LifOptions{.threshold = sl::Train::per_neuron}>;
using Net = sl::Sequential<sl::Linear<float>, Neuron, sl::Linear<float>, Neuron, sl::Linear<float>, Neuron>;
using Loader = sl::EventLoader<float, sl::NMnistDataset, sl::ToFrame>;

struct Options {
  std::string data;
  long hidden = 200;
  double threshold = 1.25;
  double output_threshold = 1.25;
  double scale = 1.5, tau = 3.75;
  double current_decay = 0.75, voltage_decay = 0.97;
  double on_rate = 0.2, off_rate = 0.03;
  double lr = 1e-3;
  std::string lr_thresholds = "0,0.001";
  int epochs = 15;
  int seeds = 3;
  long steps = 30;
  long bin_us = 10000;
  long batch = 32;
  long train_limit = 0, test_limit = 0;
  double target = 0.5;
  int threads = 1;
  std::string out = ".";
  std::string thresholds_list;
};

// Per epoch (index 0 = before training) of one run.
struct Curve {
  std::vector<double> dead[2];       // dead fraction of hidden layer 1 and 2
  std::vector<double> accuracy;      // test accuracy
  std::vector<double> threshold[2];  // mean threshold of hidden layer 1 and 2
  int epochs_to_target = -1;
  double dead_hidden(std::size_t e) const { return (dead[0][e] + dead[1][e]) / 2; }  // equal layer sizes
};

std::string variant_name(double lr_th) {
  if (lr_th == 0) return "fixed";
  char b[32];
  std::snprintf(b, sizeof b, "lr_th %g", lr_th);
  return b;
}

Net make_net(const Options& o, sl::Index in, std::uint64_t seed) {
  sl::Rng rng(seed);
  const sl::LifConfig cfg{.beta = o.voltage_decay, .alpha = o.current_decay, .threshold = o.threshold};
  sl::LifConfig out = cfg;
  out.threshold = o.output_threshold;
  const sl::Exponential g{.scale = o.scale, .tau = o.tau};
  const sl::LinearConfig lin{.bias = false, .init = sl::Init::kaiming_normal};
  return Net{sl::Linear<float>(in, o.hidden, rng, lin),       Neuron(o.hidden, cfg, g),
             sl::Linear<float>(o.hidden, o.hidden, rng, lin), Neuron(o.hidden, cfg, g),
             sl::Linear<float>(o.hidden, 10, rng, lin),       Neuron(10, out, g)};
}

void record(Curve& c, const sl::SpikeStatsEpoch& st, Net& net, double accuracy) {
  const auto th = sl::mean_thresholds(net);
  for (int l = 0; l < 2; ++l) {
    c.dead[l].push_back(st.layers[std::size_t(l)].dead_fraction());
    c.threshold[l].push_back(th[std::size_t(l)]);
  }
  c.accuracy.push_back(accuracy);
}

// Records the dead fractions (its own SpikeStatistics over the hidden layers, so that they are
// closed before being read), the test accuracy and the thresholds after each epoch.
template <class TrainerT>
struct EpochRecorder {
  TrainerT* trainer;
  Loader* test;
  Curve* curve;
  std::string name;
  sl::SpikeStatistics stats{{1, 3}};
  void on_epoch_begin(const sl::TrainInfo& i, Net& net) { stats.on_epoch_begin(i, net); }
  void on_batch_end(const sl::TrainInfo& i, Net& net) { stats.on_batch_end(i, net); }
  void on_epoch_end(const sl::TrainInfo& i, Net& net) {
    stats.on_epoch_end(i, net);
    record(*curve, stats.last(), net, trainer->evaluate(*test).accuracy);
    const Curve& c = *curve;
    std::printf("  %-12s epoch %2d  loss %.4f  train %5.1f%%  test %5.1f%%  dead L1 %5.1f%% L2 %5.1f%%  threshold L1 %.3f L2 %.3f  (%.1f s)\n",
                name.c_str(), i.epoch, i.loss, 100 * i.accuracy, 100 * c.accuracy.back(), 100 * c.dead[0].back(),
                100 * c.dead[1].back(), c.threshold[0].back(), c.threshold[1].back(), i.epoch_seconds);
    std::fflush(stdout);
  }
};

Curve run(const Options& o, const sl::NMnistDataset& train_set, const sl::NMnistDataset& test_set, double lr_th,
          std::uint64_t seed) {
  const sl::ToFrame tf = sl::NMnist::standard_transform(o.bin_us, o.steps);
  Loader train(train_set, tf, {.batch_size = o.batch, .seed = seed, .steps = o.steps, .cache = true, .limit = o.train_limit});
  Loader test(test_set, tf, {.batch_size = 100, .shuffle = false, .steps = o.steps, .cache = true, .limit = o.test_limit});
  Net net = make_net(o, 2 * 34 * 34, seed);
  sl::OptimizerConfig oc{.lr = o.lr};
  oc.lr_scale[sl::ParamGroup::threshold] = lr_th / o.lr;
  sl::Trainer trainer(net, sl::Bptt<sl::RateMse>(sl::RateMse{.on_rate = o.on_rate, .off_rate = o.off_rate}),
                      sl::Optimizer<float, sl::Adam>(oc), {.seed = seed});
  Curve c;
  // epoch 0: before training
  Loader probe(train_set, tf, {.batch_size = 100, .shuffle = false, .steps = o.steps, .limit = o.train_limit});
  record(c, sl::measure_spike_stats(net, probe, {1, 3}), net, trainer.evaluate(test).accuracy);
  const std::string name = variant_name(lr_th);
  std::printf("  %-12s epoch  0  test %5.1f%%  dead L1 %5.1f%% L2 %5.1f%%  threshold %.3f\n", name.c_str(),
              100 * c.accuracy[0], 100 * c.dead[0][0], 100 * c.dead[1][0], c.threshold[0][0]);
  EpochRecorder<decltype(trainer)> rec{&trainer, &test, &c, name};
  trainer.fit(train, o.epochs, rec);
  for (std::size_t e = 0; e < c.accuracy.size(); ++e)
    if (c.accuracy[e] >= o.target) {
      c.epochs_to_target = int(e);
      break;
    }
  return c;
}

// Dead fraction of the hidden layers at initialisation for each threshold in a list (choosing
// a threshold "so high that most hidden neurons never fire").
int calibrate(const Options& o, const sl::NMnistDataset& train_set, const std::vector<double>& thresholds) {
  const sl::ToFrame tf = sl::NMnist::standard_transform(o.bin_us, o.steps);
  std::cout << " threshold   dead hidden neurons at init (seed 0, " << (o.train_limit ? o.train_limit : train_set.size())
            << " training samples)\n";
  for (double th : thresholds) {
    Options p = o;
    p.threshold = th;
    Net net = make_net(p, 2 * 34 * 34, 0);
    Loader probe(train_set, tf, {.batch_size = 100, .shuffle = false, .steps = o.steps, .limit = o.train_limit});
    const auto st = sl::measure_spike_stats(net, probe, {1, 3});
    std::printf(" %9.3f   %5.1f%%   (layer 1 %5.1f%%, layer 2 %5.1f%%, mean rate %.4f / %.4f)\n", th,
                100 * st.dead_fraction(), 100 * st.layers[0].dead_fraction(), 100 * st.layers[1].dead_fraction(),
                st.layers[0].mean_rate(), st.layers[1].mean_rate());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  CommandLine cli("spikelab-thresholds",
                  "Trainable vs fixed neuron thresholds (Mahmoodi Takaghaj & Sampson 2024) on N-MNIST, started with\n"
                  "thresholds so high that most hidden neurons never fire. --data is a folder with Train/ and Test/\n"
                  "(.bin) or SLAYER's NMNISTsmall (<id>.bs2 + train1K.txt / test100.txt).\n"
                  "With --calibrate-thresholds LIST it only prints the dead fraction at initialisation per threshold.");
  cli.option("data", o.data, "N-MNIST folder")
      .option("threshold", o.threshold, "initial threshold of the hidden neurons (paper 1.25)")
      .option("output-threshold", o.output_threshold, "initial threshold of the output neurons (paper 1.25)")
      .option("lr-thresholds", o.lr_thresholds, "comma-separated threshold learning rates, one variant each (0 = fixed)")
      .option("hidden", o.hidden, "neurons per hidden layer (paper 500)")
      .option("epochs", o.epochs, "training epochs")
      .seeds(o.seeds, "seeds (0 .. N-1), each run for every variant")
      .option("steps", o.steps, "time bins per sample")
      .option("bin-us", o.bin_us, "bin width (microseconds)")
      .option("batch", o.batch, "batch size")
      .option("lr", o.lr, "Adam learning rate of the weights")
      .option("scale", o.scale, "surrogate scale s")
      .option("tau", o.tau, "surrogate steepness tau")
      .option("current-decay", o.current_decay, "synaptic current decay")
      .option("voltage-decay", o.voltage_decay, "membrane decay")
      .option("on-rate", o.on_rate, "target output rate of the true class")
      .option("off-rate", o.off_rate, "target output rate of the other classes")
      .option("train-limit", o.train_limit, "use the first N training samples (0 = all)")
      .option("test-limit", o.test_limit, "use the first N test samples (0 = all)")
      .option("target", o.target, "test accuracy whose first epoch is reported")
      .threads(o.threads, "threads")
      .option("out", o.out, "directory for the SVG figures and the CSV")
      .option("calibrate-thresholds", o.thresholds_list, "comma-separated thresholds: print dead fractions at init and exit");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    if (o.data.empty()) throw std::invalid_argument("--data is required (e.g. /work/shared/data/nmnist/NMNISTsmall)");
    const std::vector<double> variants = spikelab_examples::parse_list("lr-thresholds", o.lr_thresholds);
    sl::set_num_threads(o.threads);
    const sl::NMnistDataset train_set = sl::NMnist::load(o.data, "train");
    const sl::NMnistDataset test_set = sl::NMnist::load(o.data, "test");
    std::cout << "spikelab " << sl::version::as_string() << " -- thresholds on N-MNIST: " << train_set.size() << " train / "
              << test_set.size() << " test samples, " << o.steps << " bins of " << o.bin_us / 1000.0 << " ms, 2312 -> "
              << o.hidden << " -> " << o.hidden << " -> 10, initial hidden threshold " << o.threshold << " (output "
              << o.output_threshold << "), " << o.epochs << " epochs, " << o.seeds << " seed(s)\n";
    if (!o.thresholds_list.empty())
      return calibrate(o, train_set, spikelab_examples::parse_list("calibrate-thresholds", o.thresholds_list));
    std::filesystem::create_directories(o.out);
    std::vector<std::vector<Curve>> curves(variants.size());
    for (int s = 0; s < o.seeds; ++s)
      for (std::size_t v = 0; v < variants.size(); ++v) {
        std::cout << "seed " << s << ", " << variant_name(variants[v]) << "\n";
        curves[v].push_back(run(o, train_set, test_set, variants[v], std::uint64_t(s)));
      }
    // table, CSV and figures
    std::ofstream csv(std::filesystem::path(o.out) / "thresholds.csv");
    csv << "variant,lr_threshold,seed,epoch,dead_layer1,dead_layer2,test_accuracy,threshold_layer1,threshold_layer2\n";
    svg::Plot acc("N-MNIST: test accuracy from a silent start", "epoch", "test accuracy (%)");
    svg::Plot dead("N-MNIST: dead hidden neurons (never fired in the epoch)", "epoch", "dead neurons (%)");
    const std::string sub = "hidden threshold " + fixed(o.threshold, 2) + ", 2312-" + std::to_string(o.hidden) + "-" +
                            std::to_string(o.hidden) + "-10, " + std::to_string(train_set.size()) + " train / " +
                            std::to_string(test_set.size()) + " test, mean +- sd over " + std::to_string(o.seeds) + " seeds";
    acc.subtitle(sub).y_range(0, 100);
    dead.subtitle(sub + "; solid: layer 1, dashed: layer 2").y_range(0, 100);
    std::cout << "\n variant       epoch   dead L1 %       dead L2 %       test acc %      threshold L1  L2   (mean +- sd over seeds)\n";
    for (std::size_t v = 0; v < variants.size(); ++v) {
      const std::string name = variant_name(variants[v]);
      std::vector<double> xs, am, as, d1m, d1s, d2m, d2s;
      for (int e = 0; e <= o.epochs; ++e) {
        std::vector<double> a, d1, d2, t1, t2;
        for (int s = 0; s < o.seeds; ++s) {
          const Curve& c = curves[v][std::size_t(s)];
          const std::size_t k = std::size_t(e);
          a.push_back(100 * c.accuracy[k]);
          d1.push_back(100 * c.dead[0][k]);
          d2.push_back(100 * c.dead[1][k]);
          t1.push_back(c.threshold[0][k]);
          t2.push_back(c.threshold[1][k]);
          csv << name << ',' << variants[v] << ',' << s << ',' << e << ',' << c.dead[0][k] << ',' << c.dead[1][k] << ','
              << c.accuracy[k] << ',' << c.threshold[0][k] << ',' << c.threshold[1][k] << '\n';
        }
        xs.push_back(e);
        am.push_back(mean_of(a)), as.push_back(sd_of(a));
        d1m.push_back(mean_of(d1)), d1s.push_back(sd_of(d1)), d2m.push_back(mean_of(d2)), d2s.push_back(sd_of(d2));
        std::printf(" %-12s  %5d   %5.1f +- %-5.1f  %5.1f +- %-5.1f  %5.1f +- %-5.1f  %7.3f  %7.3f\n", name.c_str(), e, d1m.back(),
                    d1s.back(), d2m.back(), d2s.back(), am.back(), as.back(), mean_of(t1), mean_of(t2));
      }
      const std::string colour = v == 0 ? "#1f77b4" : v == 1 ? "#d62728" : v == 2 ? "#2ca02c" : "#ff7f0e";
      acc.add({name, xs, am, as, true, true, colour, false});
      dead.add({name + " L1", xs, d1m, d1s, true, true, colour, false});
      dead.add({name + " L2", xs, d2m, d2s, true, true, colour, true});
    }
    std::cout << "\nepochs to reach " << fixed(100 * o.target, 1) << "% test accuracy (-1 = not within "
              << o.epochs << " epochs), per seed:\n";
    for (std::size_t v = 0; v < variants.size(); ++v) {
      std::printf("  %-12s:", variant_name(variants[v]).c_str());
      for (const Curve& c : curves[v]) std::printf(" %d", c.epochs_to_target);
      std::printf("\n");
    }
    acc.save((std::filesystem::path(o.out) / "thresholds_accuracy.svg").string());
    dead.save((std::filesystem::path(o.out) / "thresholds_dead.svg").string());
    std::cout << "wrote " << (std::filesystem::path(o.out) / "thresholds_accuracy.svg").string()
              << ", thresholds_dead.svg and thresholds.csv\n";
    return 0;
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const sl::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
