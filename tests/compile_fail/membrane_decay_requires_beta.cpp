// Concept: HasMembraneDecay
// HasMembraneDecay finds a layer's membrane decay beta(); a layer with only a synaptic decay has none.
#include <spikelab/neurons/concepts.hpp>


#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::HasMembraneDecay<spikelab::HasSynapticDecayArchetype>);
#else
static_assert(spikelab::HasMembraneDecay<spikelab::HasMembraneDecayArchetype>);
static_assert(!(spikelab::HasMembraneDecay<spikelab::HasSynapticDecayArchetype>));
#endif

int main() { return 0; }
