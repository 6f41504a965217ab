// Learning with trainable thresholds: a layer whose threshold is too high to ever fire recovers
// when its threshold is trained (and the spike statistics see it), but stays silent when the
// threshold is fixed; on real N-MNIST a short run trains and reports its dead neurons.
#include <spikelab/spikelab.hpp>

#include "support/test_support.hpp"

using namespace spikelab;

namespace {

// One batch of 8 samples, 4 input channels spiking with probability 0.5, label = sample % 3.
struct FixedSource {
  Batch<float> batch;
  bool done = false;
  FixedSource() {
    Rng rng(17);
    batch.input.resize(4, 8, 20);
    test::fill_spikes(batch.input, rng, 0.5);
    for (int b = 0; b < 8; ++b) batch.labels.push_back(b % 3);
  }
  void start_epoch(std::uint64_t) { done = false; }
  Index batches_per_epoch() const { return 1; }
  bool next(Batch<float>& b) {
    if (done) return false;
    b = batch;
    done = true;
    return true;
  }
};

using Rouser = LifType<float, Exponential, ZeroReset, LifOptions{.threshold = Train::per_neuron}>;
using Net = Sequential<Linear<float>, Rouser>;

struct Outcome {
  double first_loss = 0, last_loss = 0;
  double first_dead = 0, last_dead = 0;
  double threshold = 0;
};

Outcome train(double threshold_lr_scale) {
  Rng rng(3);
  Net net{Linear<float>(4, 3, rng, {.bias = false}),
          Rouser(3, {.beta = 0.9, .alpha = 0.5, .threshold = 6.0}, {.scale = 1.5, .tau = 3.75})};
  net.layer<0>().weight().setConstant(0.05f);  // the membrane stays well below 6: no spike at first
  OptimizerConfig oc{.lr = 0.05};
  oc.lr_scale[ParamGroup::weight] = 0.0;  // only the thresholds may change
  oc.lr_scale[ParamGroup::threshold] = threshold_lr_scale;
  Trainer trainer(net, Bptt<RateMse>(RateMse{.on_rate = 0.5, .off_rate = 0.2}), Optimizer<float, Adam>(oc));
  struct Losses {
    std::vector<double> v;
    void on_epoch_end(const TrainInfo& i) { v.push_back(i.loss); }
  } losses;
  SpikeStatistics stats;
  FixedSource src;
  trainer.fit(src, 150, stats, losses);
  Outcome o;
  o.first_loss = losses.v.front();
  o.last_loss = losses.v.back();
  o.first_dead = stats.history().front().dead_fraction();
  o.last_dead = stats.history().back().dead_fraction();
  o.threshold = mean_thresholds(net)[0];
  return o;
}

}  // namespace

TEST_CASE("Trained thresholds wake up a silent layer, fixed ones leave it silent", "[temporal][thresholds][learning]") {
  const Outcome fixed = train(0.0), trained = train(1.0);
  INFO("fixed: loss " << fixed.first_loss << " -> " << fixed.last_loss << ", dead " << fixed.first_dead << " -> "
                      << fixed.last_dead);
  INFO("trained: loss " << trained.first_loss << " -> " << trained.last_loss << ", dead " << trained.first_dead << " -> "
                        << trained.last_dead << ", mean threshold " << trained.threshold);
  CHECK(fixed.first_dead == 1.0);
  CHECK(fixed.last_dead == 1.0);
  CHECK(fixed.last_loss == Approx(fixed.first_loss));
  CHECK(fixed.threshold == Approx(6.0));
  CHECK(trained.first_dead == 1.0);
  CHECK(trained.last_dead == 0.0);
  CHECK(trained.threshold < 4.0);
  CHECK(trained.last_loss < 0.5 * trained.first_loss);
}

TEST_CASE("Training on real N-MNIST reports dead neurons per epoch", "[temporal][thresholds][real]") {
  const auto root = test::real_data("nmnist/NMNISTsmall", "N-MNIST subset");
  if (root.empty()) return;
  const NMnistDataset train_set = NMnist::load(root, "train");
  EventLoader<float, NMnistDataset, ToFrame> loader(train_set, NMnist::standard_transform(),
                                                    {.batch_size = 32, .seed = 1, .steps = 30, .limit = 128});
  Rng rng(5);
  using L = LifType<float, Exponential, ZeroReset, LifOptions{.threshold = Train::per_neuron}>;
  const LifConfig cfg{.beta = 0.97, .alpha = 0.75, .threshold = 1.25};
  Sequential<Linear<float>, L, Linear<float>, L> net{
      Linear<float>(2312, 64, rng, {.bias = false, .init = Init::kaiming_normal}), L(64, cfg),
      Linear<float>(64, 10, rng, {.bias = false, .init = Init::kaiming_normal}), L(10, cfg)};
  Trainer trainer(net, Bptt<RateMse>(RateMse{.on_rate = 0.2, .off_rate = 0.03}), Optimizer<float, Adam>({.lr = 1e-3}));
  SpikeStatistics stats;
  const FitResult r = trainer.fit(loader, 2, stats);
  REQUIRE(stats.history().size() == 2);
  const auto& last = stats.last();
  REQUIRE(last.layers.size() == 2);
  CHECK(last.layers[0].samples == 128);
  CHECK(last.layers[0].sample_steps == 128 * 30);
  CHECK(last.layers[0].neurons == 64);
  CHECK(last.layers[0].mean_rate() > 0.0);  // the hidden layer is alive at the paper's threshold
  CHECK(last.layers[0].dead_fraction() < 0.5);
  CHECK(std::isfinite(r.train_loss));
  // thresholds moved (trained) but stayed positive
  const auto th = mean_thresholds(net);
  CHECK(th[0] != Approx(1.25).epsilon(1e-7));
  CHECK(net.layer<1>().threshold().raw().minCoeff() > 0.0f);
}

TEST_CASE("The Rouser setting learns N-MNIST from 1 ms binary bins with the linear reset gradient",
          "[temporal][thresholds][real][learning]") {
  // CUBA LIF (current decay 0.75, voltage decay 0.97, reset to zero), per-neuron thresholds from
  // 1.25 trained with Adam 1e-3, the exponential surrogate with Lava-DL's amplitude, Lava-DL's
  // reset gradient, U(+-1/sqrt(fan_in)) weights, rate MSE; shrunk: 256 recordings, 150 bins.
  const auto root = test::real_data("nmnist/NMNISTsmall", "N-MNIST subset");
  if (root.empty()) return;
  const NMnistDataset train_set = NMnist::load(root, "train"), test_set = NMnist::load(root, "test");
  const ToFrame bins = ToFrame::fixed_bins(1000, 150, 0, true);
  EventLoader<float, NMnistDataset, ToFrame> train(train_set, bins, {.batch_size = 32, .seed = 2, .steps = 150, .limit = 256});
  EventLoader<float, NMnistDataset, ToFrame> test(test_set, bins, {.batch_size = 100, .shuffle = false, .steps = 150});
  using L = LifType<float, Exponential, ZeroReset,
                    LifOptions{.threshold = Train::per_neuron, .reset_gradient = ResetGradient::linear}>;
  const LifConfig cfg{.beta = 0.97, .alpha = 0.75, .threshold = 1.25, .threshold_min = -1e6};
  const Exponential g{.scale = 1.5, .tau = 3.75, .convention = ExponentialConvention::lava_dl};
  Rng rng(2);
  Sequential<Linear<float>, L, Linear<float>, L> net{Linear<float>(2312, 64, rng, {.bias = false}), L(64, cfg, g),
                                                     Linear<float>(64, 10, rng, {.bias = false}), L(10, cfg, g)};
  OptimizerConfig oc{.lr = 1e-3};
  oc.lr_scale[ParamGroup::threshold] = 1.0;
  Trainer trainer(net, Bptt<RateMse>(RateMse{.on_rate = 0.2, .off_rate = 0.03}), Optimizer<float, Adam>(oc), {.seed = 2});
  const double before = trainer.evaluate(test).accuracy;
  trainer.fit(train, 3);
  const double after = trainer.evaluate(test).accuracy;
  INFO("test accuracy " << before << " -> " << after);
  CHECK(after > 0.4);  // 10 classes: chance is 0.1
  CHECK(after > before + 0.2);
  const auto th = mean_thresholds(net);
  CHECK(th[0] != Approx(1.25).epsilon(1e-7));  // the thresholds were trained
}
