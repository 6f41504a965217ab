// Concept: PoolingMode
// A Pool2d's mode is one of the pooling modes it implements; any other tag is refused.
#include <spikelab/layers/pooling.hpp>

struct MedianPooling {
  static constexpr const char* name() { return "MedianPool2d"; }
};

int main() {
#ifdef SPIKELAB_SHOULD_FAIL
  using Pool = spikelab::Pool2d<float, MedianPooling>;
  static_assert(sizeof(Pool) > 0);
#else
  using Pool = spikelab::Pool2d<float, spikelab::PoolingModeArchetype>;
  static_assert(sizeof(Pool) > 0);
#endif
  return 0;
}
