// Probabilistic SNNs learn on real data. N-MNIST (a small subset, binned as the GEM code bins
// MNIST-DVS): with outputs that do not see the inputs (kclip's feedforward topology),
// GEM, IW, IW-b and MB raise the 1-sample test log-likelihood.
// MNIST-DVS (the GEM paper's memorisation task): GEM learns to reproduce the spikes of the lower
// half of a recording from its upper half (pattern log-likelihood up, spike-train distance down).
#include <spikelab/spikelab.hpp>

#include "support/test_support.hpp"

#include <optional>

using namespace spikelab;

namespace {

using NmnistTransform = Compose<Downsample, ToFrame>;
using NmnistLoader = EventLoader<float, NMnistDataset, NmnistTransform>;

struct Threads {
  int previous = num_threads();
  Threads() { set_num_threads(1); }
  ~Threads() { set_num_threads(previous); }
};

/// The first `n_train` recordings of the train list and the next `n_test` ones.
std::optional<std::pair<NMnistDataset, NMnistDataset>> nmnist_subset(Index n_train, Index n_test) {
  const auto dir = test::real_data("nmnist/NMNISTsmall", "N-MNIST learning of the GEM family");
  if (dir.empty()) return std::nullopt;
  const NMnistDataset all = NMnist::load(dir, "train");
  const auto& f = all.files();
  std::vector<LabelledFile> a(f.begin(), f.begin() + n_train), b(f.begin() + n_train, f.begin() + n_train + n_test);
  return std::make_pair(NMnistDataset(std::move(a), all.format(), all.classes()),
                        NMnistDataset(std::move(b), all.format(), all.classes()));
}

ProbabilisticSnnConfig feedforward_config(Index inputs, Index hidden, Index outputs) {
  ProbabilisticSnnConfig cfg;
  cfg.inputs = inputs;
  cfg.hidden = hidden;
  cfg.outputs = outputs;
  cfg.feedforward = {KernelType::raised_cosine_hrjang, 8, 10, 1.5};
  cfg.feedback = {KernelType::raised_cosine_hrjang, 1, 10, 1.5};
  cfg.topology = ProbabilisticTopology::kclip_feedforward();
  return cfg;
}

template <class Rule>
void learns_nmnist(Rule rule, const std::pair<NMnistDataset, NMnistDataset>& data) {
  const Threads one;
  const NmnistTransform tf(Downsample{0.5, 1.0}, ToFrame::fixed_bins(25000, 12, 0, true));
  EventLoaderConfig tc;
  tc.batch_size = 1;
  tc.steps = 12;
  tc.seed = 3;
  EventLoaderConfig ec = tc;
  ec.batch_size = 10;
  ec.shuffle = false;
  NmnistLoader train(data.first, tf, tc), test(data.second, tf, ec);
  Rng init(4);
  GlmSnn<float> net(feedforward_config(17 * 17 * 2, 16, 10), init);
  Rng rng(5);
  const MultiSampleOptions mo{.compartments = 4, .bounds = {1}};
  const MultiSampleReport before = evaluate_multi_sample(net, test, mo, rng);
  Trainer trainer(net, std::move(rule), NoOptimizer{}, {.seed = 6});
  trainer.fit(train, 2);
  const MultiSampleReport after = evaluate_multi_sample(net, test, mo, rng);
  INFO(Rule::name() << ": 1-sample test LL " << before.ll_bound[0] << " -> " << after.ll_bound[0] << ", accuracy "
                    << before.average.accuracy() << " -> " << after.average.accuracy());
  CHECK(after.ll_bound[0] > before.ll_bound[0] + 20.0);
  // No accuracy threshold: with the outputs behind 16 hidden neurons, 200 recordings of 10 classes
  // and 2 epochs leave the accuracy near chance (0.09-0.15 measured); docs/reproductions/probabilistic.md
  // measures accuracy on digits 1 and 7 with more evaluation samples.
  // the topology held: the outputs still do not see the inputs
  CHECK(net.weight().block(net.hidden_units(), 0, net.output_units(), net.input_size() * 8).isZero());
}

}  // namespace

TEST_CASE("GEM, IW, IW-b and MB learn N-MNIST with outputs that do not see the inputs", "[probabilistic][learning]") {
  const auto data = nmnist_subset(200, 100);
  if (!data) return;
  SECTION("GEM") { learns_nmnist(Gem<>({}, GemSignal<>(4)), *data); }
  SECTION("IW") { learns_nmnist(Iw<>({}, IwSignal<>(4)), *data); }
  SECTION("IW-b") { learns_nmnist(Iwb<>({}, IwbSignal<>(4)), *data); }
  SECTION("MB") { learns_nmnist(Mb<>({}, MbSignal<>(4)), *data); }
}

TEST_CASE("GEM learns to reproduce a MNIST-DVS spike pattern (the memorisation task)", "[probabilistic][learning][pattern]") {
  const auto dir = test::real_data("mnist_dvs", "the GEM memorisation task");
  if (dir.empty()) return;
  const Threads one;
  const MnistDvsDataset all = MnistDvs::load(dir, "all", 4);
  REQUIRE(all.size() >= 1);
  using T = Compose<Crop, MergePolarities, ToFrame>;
  EventLoaderConfig c;
  c.batch_size = 1;
  c.shuffle = false;
  c.steps = 80;
  EventLoader<float, MnistDvsDataset, T> loader(all, T(Crop{48, 48, 26, 26}, MergePolarities{}, ToFrame::fixed_bins(25000, 80, 0, true)), c);
  loader.start_epoch(0);
  Batch<float> rec;
  REQUIRE(loader.next(rec));
  REQUIRE(rec.input.features() == 676);
  Batch<float> x;
  x.input.resize(338, 1, 80);
  TimeSeries<float> y(338, 1, 80);
  for (Index t = 0; t < 80; ++t) {
    x.input.slot(t) = rec.input.slot(t).topRows(338);
    y.slot(t) = rec.input.slot(t).bottomRows(338);
  }
  REQUIRE(y.values().sum() > 100);  // the digit's lower half has events
  ProbabilisticSnnConfig cfg;
  cfg.inputs = 338;
  cfg.hidden = 2;
  cfg.outputs = 338;
  cfg.feedforward = {KernelType::raised_cosine_hrjang, 8, 10, 1.5};
  cfg.feedback = {KernelType::raised_cosine_hrjang, 1, 10, 1.5};
  Rng init(1), rng(2), er(3);
  GlmSnn<float> net(cfg, init);
  const MultiSampleOptions mo{.compartments = 2};
  const PatternReport before = evaluate_pattern(net, x, y, mo, er);
  Gem<2> gem;
  // the first presentations push the outputs far (the LL drops below its initial value before it
  // rises: -34k -> -47k after 3 presentations); after 8, `spikelab-gem --protocol gem-paper --task
  // prediction` is near -15k
  for (int p = 0; p < 8; ++p) gem.train_pattern(net, x, y, rng);
  const PatternReport after = evaluate_pattern(net, x, y, mo, er);
  INFO("pattern LL " << before.ll_mean << " -> " << after.ll_mean << ", distance " << before.distance << " -> "
                     << after.distance);
  CHECK(after.ll_mean > before.ll_mean + 1000.0);
  CHECK(after.distance < 0.5 * before.distance);
}
