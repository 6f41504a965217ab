// Concept: SpikingNeuronLayer
// A SpikingNeuronLayer has a threshold besides its membrane decay; a leaky readout without one is not spiking.
#include <spikelab/neurons/concepts.hpp>


#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::SpikingNeuronLayer<spikelab::HasMembraneDecayArchetype>);
#else
static_assert(spikelab::SpikingNeuronLayer<spikelab::SpikingNeuronLayerArchetype>);
static_assert(!(spikelab::SpikingNeuronLayer<spikelab::HasMembraneDecayArchetype>));
#endif

int main() { return 0; }
