// Firing-rate and dead-neuron statistics: exact counts on a network whose spikes are known,
// the per-epoch callback inside the Trainer, and explicit layer selection.
#include <spikelab/spikelab.hpp>

#include "support/test_support.hpp"

using namespace spikelab;

namespace {

using L = Lif<double, FastSigmoid, ZeroReset>;
using Net = Sequential<Linear<double>, L, Linear<double>, LeakyIntegrator<double>>;

// Identity input weights, threshold 0.5, no leak: a neuron fires exactly when its input is 1.
Net make_net() {
  Rng rng(1);
  Net net{Linear<double>(3, 3, rng, {.bias = false}), L(3, {.beta = 0.0, .threshold = 0.5}),
          Linear<double>(3, 2, rng), LeakyIntegrator<double>(2)};
  net.layer<0>().weight().setIdentity();
  return net;
}

// A source of `n` one-sample batches where input channel 0 spikes at every step, channel 1
// at the first step only, channel 2 never.
struct KnownSource {
  Index n = 4, steps = 5, pos = 0;
  void start_epoch(std::uint64_t) { pos = 0; }
  Index batches_per_epoch() const { return n; }
  bool next(Batch<double>& b) {
    if (pos++ >= n) return false;
    b.input.resize(3, 1, steps);
    b.input.values().setZero();
    for (Index t = 0; t < steps; ++t) b.input(0, 0, t) = 1;
    b.input(1, 0, 0) = 1;
    b.labels = {0};
    b.step_labels.clear();
    b.lengths.clear();
    return true;
  }
};

}  // namespace

TEST_CASE("Spike statistics count every spike and find the dead neurons", "[temporal][stats]") {
  Net net = make_net();
  KnownSource src;
  const SpikeStatsEpoch e = measure_spike_stats(net, src);
  REQUIRE(e.layers.size() == 1);  // the LIF layer only: linear layers and the readout emit no spikes
  const LayerSpikeStats& s = e.layers[0];
  CHECK(s.layer == 1);
  CHECK(s.neurons == 3);
  CHECK(s.samples == 4);
  CHECK(s.sample_steps == 20);
  CHECK(s.counts[0] == 20);
  CHECK(s.counts[1] == 4);
  CHECK(s.counts[2] == 0);
  CHECK(s.dead == 1);
  CHECK(s.dead_fraction() == Approx(1.0 / 3));
  CHECK(s.mean_rate() == Approx(24.0 / 60));
  CHECK(s.mean_count() == Approx(24.0 / 12));
  CHECK(s.max_rate() == 1.0);
  CHECK(e.dead_fraction() == Approx(1.0 / 3));
  // explicit layers: the readout too (its "counts" are summed membranes), a bad index throws
  KnownSource src2;
  CHECK(measure_spike_stats(net, src2, {1, 3}).layers.size() == 2);
  KnownSource src3;
  CHECK_THROWS_AS(measure_spike_stats(net, src3, {7}), ConfigError);
}

TEST_CASE("The SpikeStatistics callback reports each training epoch", "[temporal][stats][trainer]") {
  Net net = make_net();
  KnownSource src;
  SpikeStatistics stats;
  CHECK_THROWS_AS(stats.last(), ConfigError);
  // lr 0: the network does not change, so each epoch has the same exact statistics
  Trainer trainer(net, Bptt<SumCrossEntropy>{}, Optimizer<double, Sgd>({.lr = 0.0}));
  trainer.fit(src, 3, stats);
  REQUIRE(stats.history().size() == 3);
  for (int e = 0; e < 3; ++e) {
    const auto& h = stats.history()[std::size_t(e)];
    CHECK(h.epoch == e + 1);
    CHECK(h.layers[0].counts[0] == 20);
    CHECK(h.layers[0].dead == 1);
  }
  CHECK(stats.last().layers[0].counts[1] == 4);
}

TEST_CASE("Callbacks run in argument order, so a later one can read the statistics of this epoch",
          "[temporal][stats][trainer]") {
  Net net = make_net();
  KnownSource src;
  SpikeStatistics stats;
  struct Reader {
    const SpikeStatistics* stats;
    std::vector<int> seen;
    void on_epoch_end(const TrainInfo& i) {
      seen.push_back(stats->history().empty() ? -1 : stats->last().epoch);
      CHECK(i.epoch == seen.back());
    }
  } reader{&stats, {}};
  Trainer trainer(net, Bptt<SumCrossEntropy>{}, Optimizer<double, Sgd>({.lr = 0.0}));
  trainer.fit(src, 2, stats, reader);
  CHECK(reader.seen == std::vector<int>{1, 2});
}
