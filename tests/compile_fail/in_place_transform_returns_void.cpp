// Concept: InPlaceTransform
// An in-place transform changes its argument and returns void; a stage that returns a new value is not one.
#include <spikelab/data/concepts.hpp>

struct ReturnsCopy {
  spikelab::Frames operator()(spikelab::Frames f, spikelab::Rng&) const { return f; }
};

#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::InPlaceTransform<ReturnsCopy, spikelab::Frames>);
#else
static_assert(spikelab::InPlaceTransform<spikelab::InPlaceTransformArchetype<spikelab::Frames>, spikelab::Frames>);
static_assert(!(spikelab::InPlaceTransform<ReturnsCopy, spikelab::Frames>));
#endif

int main() { return 0; }
