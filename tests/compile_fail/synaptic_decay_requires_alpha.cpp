// Concept: HasSynapticDecay
// HasSynapticDecay finds a layer's synaptic-current decay alpha(); a membrane decay is not one.
#include <spikelab/neurons/concepts.hpp>


#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::HasSynapticDecay<spikelab::HasMembraneDecayArchetype>);
#else
static_assert(spikelab::HasSynapticDecay<spikelab::HasSynapticDecayArchetype>);
static_assert(!(spikelab::HasSynapticDecay<spikelab::HasMembraneDecayArchetype>));
#endif

int main() { return 0; }
