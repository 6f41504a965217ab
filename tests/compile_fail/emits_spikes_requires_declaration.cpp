// Concept: EmitsSpikes
// EmitsSpikes: a layer counts as spiking when it has a threshold and a membrane decay or declares it; an identity layer does neither.
#include <spikelab/training/concepts.hpp>


#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::EmitsSpikes<spikelab::LayerArchetype>);
#else
static_assert(spikelab::EmitsSpikes<spikelab::EmitsSpikesArchetype> && spikelab::EmitsSpikes<spikelab::SpikingNeuronLayerArchetype>);
static_assert(!(spikelab::EmitsSpikes<spikelab::LayerArchetype>));
#endif

int main() { return 0; }
