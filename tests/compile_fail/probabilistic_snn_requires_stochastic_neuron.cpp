// Concept: StochasticNeuron
// A ProbabilisticSnn is built of StochasticNeurons; a neuron policy that cannot sample is refused.
#include <spikelab/probabilistic/network.hpp>

struct CannotSample {
  static constexpr spikelab::Index symbols = 1;
  static std::string name() { return "CannotSample"; }
  template <class S>
  static void probabilities(const S*, S* p) { p[0] = S(0.5); }
  template <class S>
  static S log_partition(const S*) { return S(0); }
};

int main() {
#ifdef SPIKELAB_SHOULD_FAIL
  using Net = spikelab::ProbabilisticSnn<float, CannotSample>;
  static_assert(sizeof(Net) > 0);
#else
  using Net = spikelab::ProbabilisticSnn<float, spikelab::StochasticNeuronArchetype>;
  static_assert(sizeof(Net) > 0);
#endif
  return 0;
}
