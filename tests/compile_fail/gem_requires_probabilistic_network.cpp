// Concept: ProbabilisticNetwork
// The online probabilistic rules (GEM, VOWEL, the single-sample rule) train only networks of
// stochastic neurons: pairing GEM with a Sequential of deterministic LIF layers is refused at
// compile time (the Trainer's LearningRule constraint fails).
#include <spikelab/spikelab.hpp>

int main() {
  namespace sl = spikelab;
  sl::Rng rng(1);
#ifdef SPIKELAB_SHOULD_FAIL
  using Net = sl::Sequential<sl::Linear<float>, sl::Lif<float>>;
  Net net{sl::Linear<float>(3, 2, rng), sl::Lif<float>(2)};
  sl::Trainer trainer(net, sl::Gem<4>{});
#else
  sl::ProbabilisticSnnConfig cfg;
  cfg.inputs = 3;
  cfg.hidden = 2;
  cfg.outputs = 2;
  sl::GlmSnn<float> net(cfg, rng);
  sl::Trainer trainer(net, sl::Gem<4>{});
#endif
  return 0;
}
