// Concept: ParametricLayer
// A ParametricLayer shows its parameters with for_each_parameter; a plain Layer does not.
#include <spikelab/layers/concepts.hpp>


#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::ParametricLayer<spikelab::LayerArchetype>);
#else
static_assert(spikelab::ParametricLayer<spikelab::ParametricLayerArchetype>);
static_assert(!(spikelab::ParametricLayer<spikelab::LayerArchetype>));
#endif

int main() { return 0; }
