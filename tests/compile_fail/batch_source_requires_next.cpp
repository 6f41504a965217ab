// Concept: BatchSource
// A BatchSource must hand out batches with next(batch); one that only counts them is not a source.
#include <spikelab/core/batch.hpp>

struct CountsOnly {
  void start_epoch(std::uint64_t) {}
  spikelab::Index batches_per_epoch() const { return 0; }
};

#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::BatchSource<CountsOnly, float>);
#else
static_assert(spikelab::BatchSource<spikelab::BatchSourceArchetype, float>);
static_assert(!(spikelab::BatchSource<CountsOnly, float>));
#endif

int main() { return 0; }
