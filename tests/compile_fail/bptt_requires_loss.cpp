// Concept: Loss
// Bptt needs a Loss: a Trainer with Bptt over something that is not
// a Loss is refused at compile time.
#include <spikelab/spikelab.hpp>

struct NotALoss {
  static std::string name() { return "NotALoss"; }
};

int main() {
  namespace sl = spikelab;
  sl::Rng rng(1);
  using Net = sl::Sequential<sl::Linear<float>, sl::LeakyIntegrator<float>>;
  Net net{sl::Linear<float>(3, 2, rng), sl::LeakyIntegrator<float>(2)};
#ifdef SPIKELAB_SHOULD_FAIL
  sl::Trainer trainer(net, sl::Bptt<NotALoss>{}, sl::Optimizer<float, sl::Adam>());
#else
  sl::Trainer trainer(net, sl::Bptt<sl::SumCrossEntropy>{}, sl::Optimizer<float, sl::Adam>());
#endif
  return 0;
}
