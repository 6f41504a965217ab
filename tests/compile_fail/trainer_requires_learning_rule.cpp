// Concept: LearningRule
// A Trainer's rule must model GradientRule or OnlineRule for the network.
#include <spikelab/spikelab.hpp>

struct NotARule {
  int accumulate() { return 0; }
};

int main() {
  namespace sl = spikelab;
  sl::Rng rng(1);
  using Net = sl::Sequential<sl::Linear<float>, sl::LeakyIntegrator<float>>;
  Net net{sl::Linear<float>(3, 2, rng), sl::LeakyIntegrator<float>(2)};
#ifdef SPIKELAB_SHOULD_FAIL
  sl::Trainer trainer(net, NotARule{}, sl::Optimizer<float, sl::Adam>());
#else
  sl::Trainer trainer(net, sl::Bptt<sl::StepCrossEntropy>{}, sl::Optimizer<float, sl::Adam>());
#endif
  return 0;
}
