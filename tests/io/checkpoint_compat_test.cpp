// Compatibility of checkpoints across library versions: the files in tests/fixtures/ were written
// by earlier versions (weight-only checkpoints in JSON and binary, a training checkpoint) and
// must keep loading, with the same values, as the classes evolve; a file that can no longer be
// read must say which version wrote it. The hidden test case "[.write-fixtures]" writes the
// fixtures of this version (see tests/fixtures/README.md).
#include <spikelab/io/checkpoint.hpp>
#include <spikelab/io/training_checkpoint.hpp>
#include <spikelab/layers/linear.hpp>
#include <spikelab/learning/bptt.hpp>
#include <spikelab/losses/cross_entropy.hpp>
#include <spikelab/networks/sequential.hpp>
#include <spikelab/neurons/leaky_integrator.hpp>
#include <spikelab/neurons/lif.hpp>
#include <spikelab/optimizers/optimizer.hpp>
#include <spikelab/training/trainer.hpp>

#include "support/checkpoint_support.hpp"
#include "support/test_support.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <regex>

using namespace spikelab;
using test::bit_equal;
using test::params;
namespace fs = std::filesystem;

namespace {

using Hidden = LifType<float, FastSigmoid, SubtractReset,
                       LifOptions{.threshold = Train::per_neuron, .beta = Train::per_layer, .recurrent = true}>;
using Net = Sequential<Linear<float>, Hidden, Linear<float>, LeakyIntegratorType<float, Train::per_neuron>>;
using Opt = Optimizer<float, Adam, CosineLr>;
using FixtureTrainer = Trainer<Net, Bptt<SumCrossEntropy>, Opt>;

fs::path fixture_dir() { return SPIKELAB_TEST_FIXTURE_DIR; }

Net make_net(std::uint64_t seed) {
  Rng rng(seed);
  return Net{Linear<float>(6, 5, rng), Hidden(5, rng, {.beta = 0.875, .threshold = 0.625}), Linear<float>(5, 3, rng),
             LeakyIntegratorType<float, Train::per_neuron>(3, {.beta = 0.75})};
}

/// The values the fixtures hold: element j of parameter block p by a formula (inside the
/// parameter's bounds), so that a fixture does not depend on how a version initialises weights.
float formula(std::size_t p, Index j, float lower, float upper) {
  if (std::isfinite(lower) && std::isfinite(upper) && upper <= 1) return lower + (upper - lower) * float(1 + j % 3) / 4.0f;
  if (std::isfinite(lower)) return lower + 0.5f + float(j % 5) / 8.0f;
  return float(int(j % 13) - 6) / 16.0f + float(p) / 64.0f;
}
void set_formula(Net& net) {
  std::size_t p = 0;
  net.for_each_parameter([&](ParamRef<float> r) {
    for (Index j = 0; j < r.value.size(); ++j) r.value.data()[j] = formula(p, j, r.lower, r.upper);
    ++p;
  });
}
/// Three fixed batches of 4 samples, 6 inputs, 5 steps.
struct FixedBatches {
  Index k = 0;
  void start_epoch(std::uint64_t) { k = 0; }
  bool next(Batch<float>& b) {
    if (k == 3) return false;
    b.input.resize(6, 4, 5);
    for (Index i = 0; i < b.input.values().size(); ++i) b.input.values().data()[i] = float((i * 7 + k * 3) % 4 == 0);
    b.labels = {0, 1, 2, int(k)};
    b.lengths.clear();
    b.step_labels.clear();
    ++k;
    return true;
  }
  Index batches_per_epoch() const { return 3; }
};

/// Stops a fit after batch 2 of epoch 2.
struct StopMidEpoch2 {
  bool on_batch_end(const TrainInfo& i) const { return i.epoch == 2 && i.batch == 2; }
};

Opt make_optimizer(double lr) {
  OptimizerConfig cfg{.lr = lr};
  cfg.lr_scale[ParamGroup::threshold] = 0.5;
  return Opt(cfg, Adam{}, CosineLr{.min_factor = 0.1});
}

/// The fixtures in tests/fixtures/ whose name matches `pattern` (one per version that wrote one).
std::vector<fs::path> fixtures(const std::string& pattern) {
  std::vector<fs::path> out;
  const std::regex re(pattern);
  for (const auto& e : fs::directory_iterator(fixture_dir()))
    if (std::regex_match(e.path().filename().string(), re)) out.push_back(e.path());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST_CASE("Write this version's checkpoint fixtures", "[.write-fixtures]") {
  const char* env = std::getenv("SPIKELAB_FIXTURE_OUT");
  const fs::path out = env ? fs::path(env) : fixture_dir();
  const std::string v = version::as_string();
  Net net = make_net(1);
  set_formula(net);
  save_checkpoint(out / ("checkpoint-" + v + ".json"), net, CheckpointFormat::json);
  save_checkpoint(out / ("checkpoint-" + v + ".bin"), net, CheckpointFormat::binary);
  // a training checkpoint stopped mid-epoch, with Adam's moments and the schedule's position
  Net trained = make_net(1);
  FixtureTrainer t(trained, {}, make_optimizer(0.01), {.seed = 3});
  FixedBatches data;
  t.fit(data, 3, StopMidEpoch2{});
  set_formula(t.net());
  save_training_checkpoint(out / ("training-checkpoint-" + v + ".bin"), t, CheckpointFormat::binary);
  SUCCEED("fixtures written to " << out.string());
}

TEST_CASE("Weight checkpoints written by earlier versions load with their values", "[checkpoint][compat]") {
  const auto files = fixtures(R"(checkpoint-[0-9.]+\.(json|bin))");
  REQUIRE(files.size() >= 2);
  Net expect = make_net(1);
  set_formula(expect);
  for (const fs::path& f : files) {
    INFO(f.filename().string());
    Net net = make_net(9);
    REQUIRE_NOTHROW(load_checkpoint(f, net));
    CHECK(bit_equal(params(net), params(expect)));
    CHECK(net.layer<1>().config().beta == expect.layer<1>().config().beta);
    CHECK(net.layer<1>().config().threshold == expect.layer<1>().config().threshold);
    CHECK(net.layer<3>().config().beta == expect.layer<3>().config().beta);
    // and it computes what the network it holds computes
    Rng rng(5);
    TimeSeries<float> x(6, 2, 12);
    test::fill_spikes(x, rng, 0.4);
    const Matrix<float> y = net.forward(x).values(), y_expect = expect.forward(x).values();
    CHECK(y == y_expect);
  }
}

TEST_CASE("Training checkpoints written by earlier versions load and the fit continues", "[checkpoint][compat]") {
  const auto files = fixtures(R"(training-checkpoint-[0-9.]+\.bin)");
  REQUIRE(!files.empty());
  Net expect = make_net(1);
  set_formula(expect);
  for (const fs::path& f : files) {
    INFO(f.filename().string());
    Net net = make_net(9);
    FixtureTrainer t(net, {}, make_optimizer(1.0), {.seed = 3});
    REQUIRE_NOTHROW(load_training_checkpoint(f, t));
    CHECK(bit_equal(params(t.net()), params(expect)));
    // where the fit stopped: after batch 2 of epoch 2, with 3 + 2 optimizer steps
    CHECK(t.progress().epoch == 1);
    CHECK(t.progress().batch == 2);
    CHECK(t.progress().epochs == 3);
    CHECK(t.optimizer().steps() == 5);
    CHECK(t.optimizer().config().lr == 0.01);  // the stored configuration wins
    CHECK(t.optimizer().config().lr_scale[ParamGroup::threshold] == 0.5);
    // continuing runs the last batch of epoch 2 and epoch 3
    FixedBatches data;
    const FitResult r = t.fit(data, 3);
    CHECK(r.epochs_run == 3);
    CHECK(t.optimizer().steps() == 9);
    CHECK_FALSE(bit_equal(params(t.net()), params(expect)));
    for (const auto& m : params(t.net())) CHECK(m.allFinite());
  }
}

TEST_CASE("A checkpoint from another version that cannot be read names the version that wrote it",
          "[checkpoint][compat][errors]") {
  const auto files = fixtures(R"(checkpoint-[0-9.]+\.json)");
  REQUIRE(!files.empty());
  const fs::path dir = test::temp_dir("ckpt-compat");
  // the stored form of a class changed: here, a matrix that no longer has the stored shape
  std::string js = test::read_all(files.front());
  js = std::regex_replace(js, std::regex(R"("library_version": "[0-9.]+")"), R"("library_version": "0.0.7")");
  const auto at = js.find("\"rows\": 5");
  REQUIRE(at != std::string::npos);
  js.replace(at, 9, "\"rows\": -5");
  test::write_all(dir / "old.json", js);
  Net net = make_net(9);
  const auto before = params(net);
  try {
    load_checkpoint(dir / "old.json", net);
    FAIL("a changed stored form loaded");
  } catch (const CheckpointError& e) {
    const std::string m = e.what();
    CHECK(m.find("written by spikelab 0.0.7") != std::string::npos);
    CHECK(m.find("this is spikelab " + version::as_string()) != std::string::npos);
  }
  CHECK(bit_equal(params(net), before));
  // another structure: the SignatureError names the writer too
  Rng rng(1);
  Sequential<Linear<float>, Lif<float>> other{Linear<float>(6, 5, rng), Lif<float>(5)};
  try {
    load_checkpoint(dir / "old.json", other);
    FAIL("loaded into another structure");
  } catch (const SignatureError& e) {
    CHECK(std::string(e.what()).find("written by spikelab 0.0.7") != std::string::npos);
  }
  fs::remove_all(dir);
}
