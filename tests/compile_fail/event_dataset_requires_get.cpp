// Concept: EventDataset
// An EventDataset must give its recordings with get(i); sizes and a sensor alone are not a data set.
#include <spikelab/data/concepts.hpp>

struct NoSamples {
  spikelab::Index size() const { return 0; }
  spikelab::SensorSize sensor() const { return {}; }
  int classes() const { return 0; }
};

#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::EventDataset<NoSamples>);
#else
static_assert(spikelab::EventDataset<spikelab::EventDatasetArchetype>);
static_assert(!(spikelab::EventDataset<NoSamples>));
#endif

int main() { return 0; }
