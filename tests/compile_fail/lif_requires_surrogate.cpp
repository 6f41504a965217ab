// Concept: SurrogateGradient
// A LIF layer's surrogate must model SurrogateGradient.
#include <spikelab/neurons/lif.hpp>

struct NotASurrogate {
  double slope = 1;
};

int main() {
#ifdef SPIKELAB_SHOULD_FAIL
  spikelab::LifType<float, NotASurrogate> lif(4);
#else
  spikelab::LifType<float, spikelab::FastSigmoid> lif(4);
#endif
  return int(lif.output_size()) - 4;
}
