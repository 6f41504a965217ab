// Learning with the image layers: a conv SNN (conv, batch norm, LIF, pooling, dropout, flatten)
// learns oriented bars from spikes; a conv SNN learns real MNIST digits.
#include "support/layers_support.hpp"

using namespace spikelab;

namespace {

// 1 x 9 x 9 spike maps: a 4-pixel bar, horizontal (0), vertical (1) or diagonal (2), at a random
// place; bar pixels fire with p = 0.5 per step, every pixel with p = 0.04 (noise).
struct BarsSource {
  Index n, bs;
  std::uint64_t seed;
  Index pos = 0;
  Rng rng{1};
  void start_epoch(std::uint64_t e) {
    pos = 0;
    rng = Rng(seed).fork(e);
  }
  Index batches_per_epoch() const { return (n + bs - 1) / bs; }
  bool next(Batch<float>& b) {
    const Index B = std::min(bs, n - pos);
    if (B <= 0) return false;
    const Index T = 8;
    b.input.resize(81, B, T);
    b.labels.resize(std::size_t(B));
    for (Index s = 0; s < B; ++s) {
      const int y = int(rng.below(3));
      b.labels[std::size_t(s)] = y;
      const Index r0 = Index(rng.below(6)), c0 = Index(rng.below(6));
      bool bar[81] = {};
      for (Index k = 0; k < 4; ++k) {
        const Index r = y == 0 ? r0 : r0 + k, c = y == 1 ? c0 : c0 + k;
        bar[r * 9 + c] = true;
      }
      for (Index t = 0; t < T; ++t)
        for (Index f = 0; f < 81; ++f) b.input(f, s, t) = rng.uniform() < (bar[f] ? 0.5 : 0.04) ? 1.f : 0.f;
    }
    pos += B;
    return true;
  }
};

}  // namespace

TEST_CASE("A conv SNN with every image layer learns oriented bars from spikes", "[learning]") {
  Rng rng(1);
  Conv2d<float> conv({1, 9, 9}, 6, rng, {.kernel = 3, .padding = 1});
  const ImageShape cs = conv.output_shape();
  SumPool2d<float> pool(cs, {.kernel = 3});
  const ImageShape ps = pool.output_shape();
  using Net = Sequential<Conv2d<float>, BatchNorm<float>, Lif<float>, SumPool2d<float>, Dropout<float>, Flatten<float>,
                         Linear<float>, LeakyIntegrator<float>>;
  Net net{std::move(conv),       BatchNorm<float>(cs),           Lif<float>(cs.size(), {.beta = 0.8, .threshold = 1.0}),
          std::move(pool),       Dropout<float>(ps, 0.1),        Flatten<float>(ps),
          Linear<float>(ps.size(), 3, rng), LeakyIntegrator<float>(3, {.beta = 0.8})};
  BarsSource train{600, 30, 7}, test{300, 100, 8};
  Trainer trainer(net, Bptt<SumCrossEntropy>{}, Optimizer<float, Adam>({.lr = 2e-2}));
  const EvalResult before = trainer.evaluate(test);
  const FitResult r = trainer.fit(train, test, 8);
  const EvalResult after = trainer.evaluate(test);
  INFO("accuracy before " << before.accuracy << ", after " << after.accuracy << "; loss " << before.loss << " -> "
                          << after.loss);
  CHECK(after.loss < 0.5 * before.loss);
  CHECK(after.accuracy > 0.85);
  CHECK(r.epochs_run == 8);
  // folding the normalisation into the convolution keeps the evaluation accuracy
  fold_batch_norm(net.layer<0>(), net.layer<1>());
  const EvalResult folded = trainer.evaluate(test);
  CHECK(folded.accuracy == Approx(after.accuracy).margin(0.01));
}

TEST_CASE("A conv SNN learns real MNIST digits", "[learning][real]") {
  const auto dir = test::real_data("mnist", "conv SNN on real MNIST");
  if (dir.empty()) return;
  const ImageDataset train = load_idx_split(dir, "train").head(1500);
  const ImageDataset test = load_idx_split(dir, "test").head(500);
  Rng rng(3);
  Conv2d<float> conv({1, 28, 28}, 8, rng, {.kernel = 5, .stride = 2});  // -> 8 x 12 x 12
  const ImageShape cs = conv.output_shape();
  AvgPool2d<float> pool(cs, {.kernel = 2});  // -> 8 x 6 x 6
  const ImageShape ps = pool.output_shape();
  Sequential<Conv2d<float>, Lif<float>, AvgPool2d<float>, Linear<float>, LeakyIntegrator<float>> net{
      std::move(conv), Lif<float>(cs.size(), {.beta = 0.9, .threshold = 0.5}), std::move(pool),
      Linear<float>(ps.size(), 10, rng), LeakyIntegrator<float>(10, {.beta = 0.9})};
  ImageSource<float> train_src(train, DirectEncoder{}, {.batch_size = 50, .steps = 4, .seed = 3});
  ImageSource<float> test_src(test, DirectEncoder{}, {.batch_size = 250, .steps = 4, .shuffle = false});
  Trainer trainer(net, Bptt<SumCrossEntropy>{}, Optimizer<float, Adam>({.lr = 5e-3}));
  const FitResult r = trainer.fit(train_src, test_src, 3);
  INFO("test accuracy " << r.val_accuracy);
  CHECK(r.val_accuracy > 0.85);
}
