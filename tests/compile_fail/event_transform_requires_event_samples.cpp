// Concept: EventTransform
// An EventTransform works in place on EventSamples; an in-place transform of Frames is not one.
#include <spikelab/data/concepts.hpp>


#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::EventTransform<spikelab::InPlaceTransformArchetype<spikelab::Frames>>);
#else
static_assert(spikelab::EventTransform<spikelab::EventTransformArchetype>);
static_assert(!(spikelab::EventTransform<spikelab::InPlaceTransformArchetype<spikelab::Frames>>));
#endif

int main() { return 0; }
