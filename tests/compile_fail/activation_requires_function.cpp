// Concept: ActivationFunction
// An Activation layer's policy must model ActivationFunction; a policy without derivatives is refused.
#include <spikelab/layers/activation.hpp>

struct NoDerivative {
  static std::string name() { return "NoDerivative"; }
  std::string describe() const { return {}; }
  template <class S>
  void values(const S*, S*, spikelab::Index) const {}
  bool noisy() const { return false; }
  template <class S>
  void add_noise(const S*, S*, spikelab::Index, spikelab::Rng&) const {}
};

int main() {
#ifdef SPIKELAB_SHOULD_FAIL
  spikelab::Activation<float, NoDerivative> layer(3);
#else
  spikelab::Activation<float, spikelab::ActivationFunctionArchetype> layer(3);
#endif
  return int(layer.output_size()) - 3;
}
