// The code example of README.md, kept compiling (a test checks the two stay identical).
#include <spikelab/spikelab.hpp>
#include <iostream>
namespace sl = spikelab;

int main() {
  sl::Rng rng(42);                                   // explicit randomness, no global state
  using Net = sl::Sequential<sl::Linear<float>, sl::Lif<float>, sl::Linear<float>, sl::LeakyIntegrator<float>>;
  Net net{sl::Linear<float>(784, 256, rng), sl::Lif<float>(256, {.beta = 0.9, .threshold = 1.0}),
          sl::Linear<float>(256, 10, rng), sl::LeakyIntegrator<float>(10)};

  sl::ImageDataset train = sl::load_idx_split("/usr/share/datasets/fashion-mnist", "train");
  sl::ImageDataset test = sl::load_idx_split("/usr/share/datasets/fashion-mnist", "test");
  sl::ImageSource<float> train_src(train, sl::DirectEncoder{}, {.batch_size = 64, .steps = 8});
  sl::ImageSource<float> test_src(test, sl::DirectEncoder{}, {.batch_size = 500, .steps = 8, .shuffle = false});

  sl::Trainer trainer(net, sl::Bptt<sl::SumCrossEntropy>{}, sl::Optimizer<float, sl::Adam>({.lr = 2e-3}));
  sl::ProgressPrinter progress(std::cout);
  trainer.fit(train_src, test_src, /*epochs=*/3, progress);
  std::cout << "test accuracy " << trainer.evaluate(test_src).accuracy << "\n";
  sl::save_checkpoint("fashion.ckpt", net);
}
