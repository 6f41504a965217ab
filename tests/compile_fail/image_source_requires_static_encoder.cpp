// Concept: StaticEncoder
// An ImageSource encodes images with a StaticEncoder; an encoder without a name is refused.
#include <spikelab/data/image_source.hpp>

struct Unnamed {
  template <class S>
  void encode(const float*, spikelab::Index, spikelab::TimeSeries<S>&, spikelab::Rng&) const {}
};

int main() {
#ifdef SPIKELAB_SHOULD_FAIL
  using Source = spikelab::ImageSource<float, Unnamed>;
  static_assert(sizeof(Source) > 0);
#else
  using Source = spikelab::ImageSource<float, spikelab::StaticEncoderArchetype>;
  static_assert(sizeof(Source) > 0);
#endif
  return 0;
}
