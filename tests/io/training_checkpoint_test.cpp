// Training checkpoints: a fit interrupted (at an epoch end, killed after a mid-epoch save, or
// stopped by a callback within an epoch) and continued from its checkpoint ends bit-identical
// to the uninterrupted fit, for BPTT + Adam with a cosine schedule and for VOWEL (whose traces
// carry over from batch to batch); wrong network, optimizer, parameter groups, truncated
// files, newer versions and the other kind of checkpoint are refused with a named error and
// change nothing.
#include <spikelab/spikelab.hpp>

#include "support/probabilistic_support.hpp"
#include "support/test_support.hpp"

#include <cereal/archives/portable_binary.hpp>

#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

using namespace spikelab;

namespace {

/// The exact bytes of an object's cereal archive: equal bytes = bit-identical state.
template <class T>
std::string state_bytes(const T& x) {
  std::ostringstream os;
  {
    cereal::PortableBinaryOutputArchive ar(os);
    ar(x);
  }
  return os.str();
}


// ---- a gradient rule: BPTT, Adam with a cosine schedule, dropout drawing from the trainer's Rng
using Hidden = LifType<float, FastSigmoid, SubtractReset,
                       LifOptions{.threshold = Train::per_neuron, .beta = Train::per_layer, .recurrent = true}>;
using Net = Sequential<Linear<float>, Hidden, Dropout<float>, Linear<float>, LeakyIntegrator<float>>;
using Opt = Optimizer<float, Adam, CosineLr>;
using BpttTrainer = Trainer<Net, Bptt<SumCrossEntropy>, Opt>;

Net make_net(std::uint64_t seed, Index hidden = 16) {
  Rng rng(seed);
  return Net{Linear<float>(64, hidden, rng), Hidden(hidden, rng, {.beta = 0.9, .threshold = 0.8}),
             Dropout<float>(hidden, {.p = 0.2}), Linear<float>(hidden, 3, rng), LeakyIntegrator<float>(3, {.beta = 0.9})};
}
Opt make_optimizer(double lr = 5e-3) {
  OptimizerConfig cfg{.lr = lr};
  cfg.lr_scale[ParamGroup::threshold] = 0.5;
  return Opt(cfg, Adam{}, CosineLr{.min_factor = 0.1, .warmup_epochs = 1});
}

/// 8x8 images of 3 classes (a bright row band per class, plus noise), rate-coded: the encoder
/// draws from the source's own generator inside next(), so replaying a source must reproduce it.
ImageDataset make_images(Index n, std::uint64_t seed) {
  ImageDataset d;
  d.count = n;
  d.height = d.width = 8;
  d.classes = 3;
  Rng rng(seed);
  for (Index i = 0; i < n; ++i) {
    const int y = int(rng.below(3));
    d.labels.push_back(y);
    for (Index r = 0; r < 8; ++r)
      for (Index c = 0; c < 8; ++c)
        d.pixels.push_back(std::uint8_t(r / 3 == y ? 150 + rng.below(100) : rng.below(60)));
  }
  return d;
}

struct Images {
  ImageDataset train = make_images(90, 1), valid = make_images(40, 2);
  // 5 batches per epoch, the last one smaller
  ImageSource<float, RateEncoder> train_source() const {
    return {train, RateEncoder{}, {.batch_size = 20, .steps = 6, .seed = 3}};
  }
  ImageSource<float, RateEncoder> valid_source() const {
    return {valid, RateEncoder{}, {.batch_size = 20, .steps = 6, .shuffle = false, .seed = 5}};
  }
};

/// Stops the fit after batch `batch` of epoch `epoch` (batch 0: at the end of the epoch).
struct StopAt {
  int epoch;
  Index batch;
  bool on_batch_end(const TrainInfo& i) const { return batch > 0 && i.epoch == epoch && i.batch == batch; }
  bool on_epoch_end(const TrainInfo& i) const { return batch == 0 && i.epoch == epoch; }
};
/// Kills the run (an exception out of fit) after batch `batch` of epoch `epoch`.
struct KillAt {
  int epoch;
  Index batch;
  void on_batch_end(const TrainInfo& i) const {
    if (i.epoch == epoch && i.batch == batch) throw std::runtime_error("killed");
  }
};

struct BpttRun {
  std::string net, opt;
  FitResult fit;
  std::map<int, double> epoch_loss;  ///< training loss of each epoch this run finished
};

/// Records the training loss of every finished epoch.
struct EpochLosses {
  std::map<int, double>* out;
  void on_epoch_end(const TrainInfo& i) const {
    if (i.batch == i.batches) (*out)[i.epoch] = i.loss;
  }
};

/// Fits a fresh trainer for 4 epochs, or continues the one in `checkpoint` (loaded into a
/// trainer whose network starts from other weights, so loading must replace them).
template <class... Cbs>
BpttRun run_bptt(const Images& data, const std::filesystem::path& checkpoint, Cbs&&... cbs) {
  Net net = make_net(checkpoint.empty() ? 1 : 99);
  BpttTrainer trainer(net, {}, make_optimizer(checkpoint.empty() ? 5e-3 : 1.0), {.seed = 4});
  if (!checkpoint.empty()) load_training_checkpoint(checkpoint, trainer);
  auto train = data.train_source();
  auto valid = data.valid_source();
  BpttRun r;
  r.fit = trainer.fit(train, valid, 4, cbs..., EpochLosses{&r.epoch_loss});
  r.net = state_bytes(net);
  r.opt = state_bytes(trainer.optimizer());
  return r;
}

void check_same_run(const BpttRun& a, const BpttRun& b) {
  CHECK(a.net == b.net);
  CHECK(a.opt == b.opt);
  CHECK(a.fit.epochs_run == b.fit.epochs_run);
  CHECK(a.fit.train_loss == b.fit.train_loss);
  CHECK(a.fit.val_accuracy == b.fit.val_accuracy);
  CHECK(a.fit.best_val_accuracy == b.fit.best_val_accuracy);
  CHECK(a.fit.best_epoch == b.fit.best_epoch);
  // the epoch the continuation started in reports the loss of all its batches, as before
  REQUIRE_FALSE(b.epoch_loss.empty());
  for (const auto& [epoch, loss] : b.epoch_loss) {
    INFO("epoch " << epoch);
    CHECK(a.epoch_loss.at(epoch) == loss);
  }
}

}  // namespace

TEST_CASE("BPTT + Adam: a fit stopped at an epoch end and continued from its checkpoint ends bit-identical",
          "[training_checkpoint]") {
  const auto dir = test::temp_dir("tckpt-epoch");
  const Images data;
  const BpttRun whole = run_bptt(data, {});
  REQUIRE(whole.fit.epochs_run == 4);
  for (auto fmt : {CheckpointFormat::binary, CheckpointFormat::json}) {
    const auto path = dir / (fmt == CheckpointFormat::binary ? "run.bin" : "run.json");
    const BpttRun first = run_bptt(data, {}, TrainingCheckpointEvery(path, 1, 0, fmt), StopAt{2, 0});
    REQUIRE(first.fit.epochs_run == 2);
    REQUIRE(first.fit.stopped_early);
    REQUIRE(first.net != whole.net);  // the comparison below can fail
    CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));
    {
      Net net = make_net(99);
      BpttTrainer trainer(net, {}, make_optimizer(1.0), {.seed = 4});
      load_training_checkpoint(path, trainer);
      CHECK(trainer.continuing());
      CHECK(trainer.progress().epoch == 2);
      CHECK(trainer.progress().batch == 0);
      CHECK(trainer.progress().result.best_epoch == first.fit.best_epoch);
      CHECK(trainer.optimizer().config().lr == 5e-3);  // the stored configuration wins
      CHECK(trainer.optimizer().steps() == 10);        // 2 epochs x 5 batches
      CHECK(state_bytes(net) == first.net);
    }
    const BpttRun rest = run_bptt(data, path);
    check_same_run(whole, rest);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("BPTT + Adam: a run killed mid-epoch continues from its last mid-epoch checkpoint bit-identically",
          "[training_checkpoint]") {
  const auto dir = test::temp_dir("tckpt-kill");
  const Images data;
  const BpttRun whole = run_bptt(data, {});
  const auto path = dir / "run.ckpt";
  // a checkpoint every 2 batches; the run dies after batch 3 of epoch 3, so the file on disk
  // stops after batch 2 of epoch 3
  CHECK_THROWS_WITH(run_bptt(data, {}, TrainingCheckpointEvery(path, 1, 2), KillAt{3, 3}), "killed");
  {
    Net net = make_net(99);
    BpttTrainer trainer(net, {}, make_optimizer(), {.seed = 4});
    load_training_checkpoint(path, trainer);
    CHECK(trainer.progress().epoch == 2);
    CHECK(trainer.progress().batch == 2);
    CHECK(trainer.progress().samples == 40);
    CHECK(trainer.optimizer().steps() == 12);
  }
  const BpttRun rest = run_bptt(data, path);
  check_same_run(whole, rest);

  // stopped by a callback within an epoch (a time limit): the epoch's validation still runs,
  // the checkpoint written at the end continues that epoch after its last batch
  const BpttRun first = run_bptt(data, {}, TrainingCheckpointEvery(path), StopAt{2, 4});
  REQUIRE(first.fit.epochs_run == 2);
  const BpttRun rest2 = run_bptt(data, path);
  check_same_run(whole, rest2);
  std::filesystem::remove_all(dir);
}

TEST_CASE("A resumed fit appends to its metrics log and reports itself as resumed", "[training_checkpoint]") {
  const auto dir = test::temp_dir("tckpt-log");
  const Images data;
  CsvLogger log(dir / "metrics.csv");
  run_bptt(data, {}, log, TrainingCheckpointEvery(dir / "run.ckpt"), StopAt{1, 0});
  bool resumed = false;
  struct Watch {
    bool* seen;
    void on_train_begin(const TrainInfo& i) const { *seen = i.resumed; }
  };
  run_bptt(data, dir / "run.ckpt", log, Watch{&resumed});
  CHECK(resumed);
  std::ifstream is(dir / "metrics.csv");
  std::string line;
  std::vector<std::string> lines;
  while (std::getline(is, line)) lines.push_back(line);
  REQUIRE(lines.size() == 5);  // the header and epochs 1..4
  CHECK(lines[0].rfind("epoch,", 0) == 0);
  for (int e = 1; e <= 4; ++e) CHECK(lines[std::size_t(e)].rfind(std::to_string(e) + ",", 0) == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("VOWEL: a fit stopped mid-epoch and continued from its checkpoint ends bit-identical",
          "[training_checkpoint][probabilistic]") {
  const auto dir = test::temp_dir("tckpt-vowel");
  ProbabilisticSnnConfig cfg;
  cfg.inputs = 12;
  cfg.hidden = 4;
  cfg.outputs = 3;
  cfg.feedforward = {KernelType::raised_cosine, 4, 6, 0.5};
  cfg.feedback = {KernelType::raised_cosine, 1, 6, 0.5};
  using Snn = WtaSnn<float, 2>;
  ThreeFactorConfig rule_cfg = Vowel::signal_type::default_config();
  rule_cfg.lr = 0.05;
  REQUIRE_FALSE(rule_cfg.reset_per_example);  // traces carry over batches: the rule's state matters
  struct Result {
    std::string net, rule;
    FitResult fit;
  };
  auto run = [&](const std::filesystem::path& checkpoint, auto&&... cbs) {
    Rng init(checkpoint.empty() ? 1 : 77);
    Snn net(cfg, init);
    Trainer trainer(net, Vowel(rule_cfg), NoOptimizer{}, {.seed = 4});
    if (!checkpoint.empty()) load_training_checkpoint(checkpoint, trainer);
    test::PatternSource<float> train, valid;
    train.symbols = valid.symbols = 2;
    train.n = 60;
    train.batch_size = 3;
    valid.n = 30;
    valid.batch_size = 10;
    valid.seed = 99;
    valid.fixed = true;
    Result r;
    r.fit = trainer.fit(train, valid, 3, cbs...);
    r.net = state_bytes(net);
    r.rule = state_bytes(trainer.rule());
    return r;
  };
  const Result whole = run({});
  const auto path = dir / "vowel.ckpt";
  // stopped after batch 7 of epoch 2: the validation that follows draws from the trainer's Rng,
  // which the checkpoint must hold as it was before
  const Result first = run({}, TrainingCheckpointEvery(path), StopAt{2, 7});
  REQUIRE(first.net != whole.net);
  const Result rest = run(path);
  CHECK(rest.net == whole.net);
  CHECK(rest.rule == whole.rule);
  CHECK(rest.fit.val_accuracy == whole.fit.val_accuracy);
  CHECK(rest.fit.best_epoch == whole.fit.best_epoch);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Loading a training checkpoint into another network or optimizer throws SignatureError and changes nothing",
          "[training_checkpoint][errors]") {
  const auto dir = test::temp_dir("tckpt-sig");
  const Images data;
  const auto path = dir / "run.ckpt";
  run_bptt(data, {}, TrainingCheckpointEvery(path), StopAt{1, 0});

  Net other = make_net(2, 17);
  BpttTrainer trainer(other, {}, make_optimizer(), {.seed = 4});
  const std::string net_before = state_bytes(other), opt_before = state_bytes(trainer.optimizer());
  try {
    load_training_checkpoint(path, trainer);
    FAIL("loaded into another network structure");
  } catch (const SignatureError& e) {
    const std::string m = e.what();
    CHECK(m.find(path.string()) != std::string::npos);
    CHECK(m.find("network structure") != std::string::npos);
    CHECK(m.find("(16)") != std::string::npos);
    CHECK(m.find("(17)") != std::string::npos);
  }
  CHECK(state_bytes(other) == net_before);
  CHECK(state_bytes(trainer.optimizer()) == opt_before);
  CHECK_FALSE(trainer.continuing());

  Net same = make_net(2);
  Trainer sgd(same, Bptt<SumCrossEntropy>{}, Optimizer<float, Sgd, CosineLr>({.lr = 0.1}), {.seed = 4});
  const std::string same_before = state_bytes(same);
  try {
    load_training_checkpoint(path, sgd);
    FAIL("loaded into another optimizer");
  } catch (const SignatureError& e) {
    const std::string m = e.what();
    CHECK(m.find("Optimizer<float, Adam, CosineLr>") != std::string::npos);
    CHECK(m.find("Optimizer<float, Sgd, CosineLr>") != std::string::npos);
  }
  CHECK(state_bytes(same) == same_before);

  // another number of parameter groups (a file from a build with more groups)
  save_training_checkpoint(dir / "run.json", trainer, CheckpointFormat::json);
  std::string js = test::read_all(dir / "run.json");
  const std::string groups = "\"parameter_groups\": " + std::to_string(num_param_groups);
  const auto pos = js.find(groups);
  REQUIRE(pos != std::string::npos);
  js.replace(pos, groups.size(), "\"parameter_groups\": 9");
  test::write_all(dir / "run.json", js);
  try {
    load_training_checkpoint(dir / "run.json", trainer);
    FAIL("loaded another number of parameter groups");
  } catch (const SignatureError& e) {
    CHECK(std::string(e.what()).find("parameter groups") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("Truncated, newer-version and weight-only files are refused by load_training_checkpoint",
          "[training_checkpoint][errors]") {
  const auto dir = test::temp_dir("tckpt-bad");
  const Images data;
  const auto path = dir / "run.ckpt";
  run_bptt(data, {}, TrainingCheckpointEvery(path), StopAt{1, 0});
  const std::string full = test::read_all(path);
  Net net = make_net(2);
  BpttTrainer trainer(net, {}, make_optimizer(), {.seed = 4});
  const std::string before = state_bytes(net);
  for (double frac : {0.995, 0.9, 0.5, 0.1, 0.01}) {
    test::write_all(path, full.substr(0, std::size_t(double(full.size()) * frac)));
    try {
      load_training_checkpoint(path, trainer);
      FAIL("a truncated training checkpoint loaded (" << frac << ")");
    } catch (const CheckpointError& e) {
      CHECK(std::string(e.what()).find(path.string()) != std::string::npos);
    }
    CHECK(state_bytes(net) == before);
    CHECK(trainer.optimizer().steps() == 0);
    CHECK_FALSE(trainer.continuing());
  }

  // binary: 1 byte endianness, u64 length, the 28-byte magic, then the u32 format version
  std::string bin = full;
  REQUIRE(bin.compare(9, 28, "spikelab-training-checkpoint") == 0);
  bin[37] = 99;
  test::write_all(path, bin);
  CHECK_THROWS_AS(load_training_checkpoint(path, trainer), VersionError);
  save_training_checkpoint(dir / "v.json", trainer, CheckpointFormat::json);
  std::string js = test::read_all(dir / "v.json");
  const auto pos = js.find("\"format_version\": 1");
  REQUIRE(pos != std::string::npos);
  js.replace(pos, 19, "\"format_version\": 7");
  test::write_all(dir / "v.json", js);
  try {
    load_training_checkpoint(dir / "v.json", trainer);
    FAIL("newer version loaded");
  } catch (const VersionError& e) {
    CHECK(std::string(e.what()).find("version 7") != std::string::npos);
  }

  // the two kinds of checkpoint are not confused
  save_checkpoint(dir / "weights.ckpt", net);
  try {
    load_training_checkpoint(dir / "weights.ckpt", trainer);
    FAIL("a weight-only checkpoint loaded as a training checkpoint");
  } catch (const CheckpointError& e) {
    CHECK(e.offset() == 0);
    CHECK(std::string(e.what()).find("load_checkpoint") != std::string::npos);
  }
  test::write_all(path, full);
  CHECK_THROWS_AS(load_checkpoint(path, net), CheckpointError);
  CHECK(state_bytes(net) == before);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Continuing mid-epoch with a batch source that has fewer batches throws ConfigError",
          "[training_checkpoint][errors]") {
  const auto dir = test::temp_dir("tckpt-src");
  const Images data;
  const auto path = dir / "run.ckpt";
  run_bptt(data, {}, TrainingCheckpointEvery(path), StopAt{1, 4});
  Net net = make_net(2);
  BpttTrainer trainer(net, {}, make_optimizer(), {.seed = 4});
  load_training_checkpoint(path, trainer);
  REQUIRE(trainer.progress().batch == 4);
  auto small = ImageSource<float, RateEncoder>(data.train, RateEncoder{}, {.batch_size = 40, .steps = 6, .seed = 3});
  CHECK_THROWS_AS(trainer.fit(small, 4), ConfigError);
  std::filesystem::remove_all(dir);
}
