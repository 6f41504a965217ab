// Concept: Layer
// Only types that model Layer compose into a Sequential.
#include <spikelab/layers/linear.hpp>
#include <spikelab/networks/sequential.hpp>

struct NotALayer {
  using scalar_type = float;
  int forward() { return 0; }
};

int main() {
  spikelab::Rng rng(1);
#ifdef SPIKELAB_SHOULD_FAIL
  spikelab::Sequential<spikelab::Linear<float>, NotALayer> net;
#else
  spikelab::Sequential<spikelab::Linear<float>> net{spikelab::Linear<float>(3, 4, rng)};
#endif
  return int(net.output_size()) - 4;
}
