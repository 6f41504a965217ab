// Learning: a soft-LIF rate network trains with Bptt and an optimizer like any spikelab network
// (T = 1), and its spiking transfer classifies real MNIST digits nearly as well.
#include "support/conversion_support.hpp"

using namespace spikelab;

TEST_CASE("A soft-LIF rate network learns real MNIST and its spiking transfer keeps the accuracy", "[learning]") {
  const auto dir = test::real_data("mnist", "soft-LIF on MNIST");
  if (dir.empty()) return;
  const ImageDataset train = load_idx_split(dir, "train").head(3000);
  const ImageDataset test_set = load_idx_split(dir, "test").head(1000);
  Rng rng(1);
  using Net = Sequential<Linear<float>, SoftLifRate<float>, Dropout<float>, Linear<float>>;
  Net ann{Linear<float>(784, 100, rng), SoftLifRate<float>(100, SoftLif(SoftLifConfig::mnist())),
          Dropout<float>(100, {.p = 0.2}), Linear<float>(100, 10, rng)};
  ImageSource<float> train_src(train, {}, {.batch_size = 50, .steps = 1, .seed = 3});
  ImageSource<float> test_src(test_set, {}, {.batch_size = 500, .steps = 1, .shuffle = false});
  Trainer trainer(ann, Bptt<SumCrossEntropy>{}, Optimizer<float, Adam>({.lr = 1e-3}));
  const EvalResult before = trainer.evaluate(test_src);
  trainer.fit(train_src, 4);
  const EvalResult after = trainer.evaluate(test_src);
  INFO("rate network test accuracy " << before.accuracy << " -> " << after.accuracy);
  CHECK(before.accuracy < 0.3);
  CHECK(after.accuracy > 0.85);

  // spiking: 300 test images, 120 ms each at dt = 1 ms, classified from 40 ms on
  auto snn = to_spiking(ann, {.dt = 1e-3, .tau_synapse = 0.005});
  const ImageDataset shown = test_set.head(300);
  ImageSource<float> spike_src(shown, {}, {.batch_size = 50, .steps = 120, .shuffle = false});
  ImageSource<float> rate_src(shown, {}, {.batch_size = 300, .steps = 1, .shuffle = false});
  Bptt<WindowCrossEntropy> spiking_rule(WindowCrossEntropy(40));
  SpikingReadout readout(40);
  Batch<float> b;
  Tally via_loss;
  spike_src.start_epoch(0);
  while (spike_src.next(b)) {
    readout.add(snn.forward(b.input), b.labels);
    via_loss += spiking_rule.evaluate(snn, b).tally;
  }
  const double ann_acc = trainer.evaluate(rate_src).accuracy;
  const double snn_acc = readout.window().accuracy();
  INFO("on 300 images: rate " << ann_acc << ", spiking " << snn_acc << "; spiking error after 10 ms "
                              << readout.cumulative_error(9) << ", after 120 ms " << readout.cumulative_error(119));
  CHECK(via_loss.correct == readout.window().correct);
  CHECK(snn_acc > 0.85);
  CHECK(snn_acc > ann_acc - 0.04);
  // the decision improves with presentation time
  CHECK(readout.cumulative_error(9) > readout.cumulative_error(119));
}
