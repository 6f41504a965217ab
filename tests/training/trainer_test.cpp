// Learning: a spiking MLP learns real MNIST; the trainer's callbacks, determinism and NaN reports.
#include <spikelab/spikelab.hpp>

#include "support/test_support.hpp"

#include <algorithm>
#include <fstream>
#include <limits>
#include <sstream>

using namespace spikelab;

namespace {
using Mlp = Sequential<Linear<float>, Lif<float>, Linear<float>, LeakyIntegrator<float>>;
Mlp make_mlp(Index in, Index hidden, Index out, std::uint64_t seed) {
  Rng rng(seed);
  return Mlp{Linear<float>(in, hidden, rng), Lif<float>(hidden, {.beta = 0.9, .threshold = 1.0}),
             Linear<float>(hidden, out, rng), LeakyIntegrator<float>(out, {.beta = 0.9})};
}

// A synthetic task: class = which of two input groups fires more.
struct TwoGroupSource {
  Index n, bs;
  std::uint64_t seed;
  bool same_every_epoch = false;
  Index pos = 0;
  Rng rng{1};
  void start_epoch(std::uint64_t e) {
    pos = 0;
    rng = Rng(seed).fork(same_every_epoch ? 0 : e);
  }
  Index batches_per_epoch() const { return (n + bs - 1) / bs; }
  bool next(Batch<float>& b) {
    const Index B = std::min(bs, n - pos);
    if (B <= 0) return false;
    b.input.resize(20, B, 15);
    b.labels.resize(std::size_t(B));
    for (Index s = 0; s < B; ++s) {
      const int y = int(rng.below(2));
      b.labels[std::size_t(s)] = y;
      for (Index t = 0; t < 15; ++t)
        for (Index c = 0; c < 20; ++c) b.input(c, s, t) = rng.uniform() < ((c < 10) == (y == 0) ? 0.5 : 0.1) ? 1.f : 0.f;
    }
    pos += B;
    return true;
  }
};
}  // namespace

TEST_CASE("A spiking MLP trained on real MNIST reaches accuracy far above chance", "[training][real]") {
  const auto dir = test::real_data("mnist", "spiking MLP on real MNIST");
  if (dir.empty()) return;
  const ImageDataset train = load_idx_split(dir, "train").head(3000);
  const ImageDataset test = load_idx_split(dir, "test").head(1000);
  Mlp net = make_mlp(784, 96, 10, 1);
  ImageSource<float> train_src(train, DirectEncoder{}, {.batch_size = 50, .steps = 6, .seed = 3});
  ImageSource<float> test_src(test, DirectEncoder{}, {.batch_size = 250, .steps = 6, .shuffle = false});
  Trainer trainer(net, Bptt<SumCrossEntropy>{}, Optimizer<float, Adam>({.lr = 3e-3}));
  const auto before = trainer.evaluate(test_src);
  const FitResult r = trainer.fit(train_src, test_src, 3);
  INFO("test accuracy before " << before.accuracy << " after " << r.val_accuracy);
  CHECK(before.accuracy < 0.3);
  CHECK(r.val_accuracy > 0.80);  // chance is 0.10
  CHECK(r.train_loss < 1.0);
}

TEST_CASE("Training lowers the loss, is deterministic per seed, and reports to callbacks", "[training]") {
  const auto dir = test::temp_dir("train");
  auto run = [&](std::uint64_t seed, int epochs, auto&... cbs) {
    Mlp net = make_mlp(20, 16, 2, seed);
    TwoGroupSource src{400, 20, 7};
    Trainer trainer(net, Bptt<SumCrossEntropy>{}, Optimizer<float, Adam>({.lr = 5e-3}), {.seed = 4});
    return trainer.fit(src, epochs, cbs...);
  };
  std::ostringstream log;
  ProgressPrinter progress(log, 0.0);
  CsvLogger csv(dir / "metrics.csv");
  CheckpointEvery ckpt(dir / "net.bin", 2);
  const FitResult a = run(1, 4, progress, csv, ckpt);
  const FitResult b = run(1, 4);
  CHECK(a.train_loss == b.train_loss);  // bit-for-bit on one machine
  CHECK(a.train_accuracy > 0.9);
  CHECK(a.epochs_run == 4);
  CHECK(log.str().find("epoch 4/4") != std::string::npos);
  CHECK(log.str().find("loss") != std::string::npos);
  std::ifstream is(dir / "metrics.csv");
  std::string line;
  int rows = 0;
  while (std::getline(is, line)) ++rows;
  CHECK(rows == 5);  // header + 4 epochs
  CHECK(std::filesystem::exists(dir / "net.bin"));
  // loss falls
  const FitResult one = run(2, 1);
  const FitResult four = run(2, 4);
  CHECK(four.train_loss < one.train_loss);
  std::filesystem::remove_all(dir);
}

TEST_CASE("ProgressPrinter redraws in place on a terminal only", "[training][callbacks]") {
  auto run = [](ProgressPrinter& progress) {
    Mlp net = make_mlp(20, 8, 2, 5);
    TwoGroupSource src{200, 20, 3};
    Trainer trainer(net, Bptt<SumCrossEntropy>{}, Optimizer<float, Adam>({.lr = 5e-3}));
    trainer.fit(src, 3, progress);
  };
  // a string stream is not a terminal: one plain line per epoch, no carriage return
  std::ostringstream plain;
  ProgressPrinter automatic(plain, 0.0);
  CHECK_FALSE(automatic.redraws());
  run(automatic);
  const std::string p = plain.str();
  CHECK(p.find('\r') == std::string::npos);
  CHECK(std::count(p.begin(), p.end(), '\n') == 3);
  CHECK(p.find("epoch 3/3") != std::string::npos);
  // forced redraw: the batch lines are drawn over each other, each epoch still ends a line
  std::ostringstream redrawn;
  ProgressPrinter always(redrawn, 0.0, Redraw::always);
  CHECK(always.redraws());
  run(always);
  const std::string r = redrawn.str();
  CHECK(std::count(r.begin(), r.end(), '\n') == 3);
  CHECK(std::count(r.begin(), r.end(), '\r') > 3);
  // a file is never a terminal
  std::ofstream file(std::filesystem::temp_directory_path() / "spikelab-progress-test.txt");
  CHECK_FALSE(ProgressPrinter(file).redraws());
  CHECK_FALSE(ProgressPrinter(std::cout, 0.25, Redraw::never).redraws());
}

TEST_CASE("Early stopping and time limits stop training", "[training][callbacks]") {
  Mlp net = make_mlp(20, 8, 2, 3);
  TwoGroupSource src{100, 20, 1, true};
  Trainer trainer(net, Bptt<SumCrossEntropy>{}, Optimizer<float, Sgd>({.lr = 0.0}));  // lr 0: no progress
  EarlyStopping stop(2, 0.0, EarlyStopping::Monitor::train_loss);
  const FitResult r = trainer.fit(src, 50, stop);
  CHECK(r.epochs_run == 3);
  CHECK(r.stopped_early);
  TimeLimit instant(1e-9);
  const FitResult r2 = trainer.fit(src, 50, instant);
  CHECK(r2.epochs_run == 1);
  CHECK(instant.reached());
}

TEST_CASE("A NaN in training throws NumericError naming the layer", "[training][errors]") {
  Mlp net = make_mlp(20, 8, 2, 3);
  net.layer<2>().weight()(0, 0) = std::numeric_limits<float>::quiet_NaN();
  TwoGroupSource src{100, 20, 1};
  Trainer trainer(net, Bptt<SumCrossEntropy>{}, Optimizer<float, Adam>());
  try {
    trainer.fit(src, 1);
    FAIL("no error for a NaN weight");
  } catch (const NumericError& e) {
    const std::string m = e.what();
    INFO(m);
    CHECK(m.find("layer 2") != std::string::npos);
    CHECK(m.find("Linear(8,2") != std::string::npos);
    CHECK(m.find("epoch 1, batch 1") != std::string::npos);
  }
}

TEST_CASE("MTS-XOR: a recurrent SNN learns the per-step XOR", "[training][mts_xor]") {
  Rng rng(2);
  using Net = Sequential<Linear<float>, RecurrentLif<float>, Linear<float>, RecurrentLif<float>, Linear<float>,
                         LeakyIntegrator<float>>;
  const LifConfig lif{.beta = 0.95, .threshold = 1.0};
  Net net{Linear<float>(40, 48, rng), RecurrentLif<float>(48, rng, lif, {5.0}), Linear<float>(48, 48, rng),
          RecurrentLif<float>(48, rng, lif, {5.0}),          Linear<float>(48, 2, rng),
          LeakyIntegrator<float>(2, {.beta = 0.8})};
  MtsXorSource<float> train(2048, 64, 1), test(512, 256, 99, false);
  Trainer trainer(net, Bptt<StepCrossEntropy>{}, Optimizer<float, Adam>({.lr = 5e-3, .clip_norm = 5.0}));
  const auto before = trainer.evaluate(test);
  const FitResult r = trainer.fit(train, test, 3);
  INFO("coding-window accuracy before " << before.accuracy << " after " << r.val_accuracy);
  CHECK(before.accuracy < 0.6);
  CHECK(r.val_accuracy > 0.8);  // chance is 0.5; spikelab-train --task mts-xor reaches > 95 % with more data
}
