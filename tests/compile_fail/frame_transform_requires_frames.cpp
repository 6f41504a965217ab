// Concept: FrameTransform
// A FrameTransform must turn an EventSample into Frames; an in-place event transform leaves an EventSample.
#include <spikelab/data/concepts.hpp>


#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::FrameTransform<spikelab::EventTransformArchetype>);
#else
static_assert(spikelab::FrameTransform<spikelab::FrameTransformArchetype>);
static_assert(!(spikelab::FrameTransform<spikelab::EventTransformArchetype>));
#endif

int main() { return 0; }
