// Concept: SpikeDerivative
// An NA-LIF layer needs a SpikeDerivative policy; a surrogate gradient is not one (it has no backward over a trace).
#include <spikelab/na/na_lif.hpp>


int main() {
#ifdef SPIKELAB_SHOULD_FAIL
  spikelab::NaLifType<float, spikelab::FastSigmoid> layer(4);
#else
  spikelab::NaLifType<float, spikelab::SpikeDerivativeArchetype> layer(4);
#endif
  return int(layer.output_size()) - 4;
}
