// All layers of a Sequential must compute in the same scalar type.
#include <spikelab/layers/linear.hpp>
#include <spikelab/networks/sequential.hpp>
#include <spikelab/neurons/lif.hpp>

int main() {
  spikelab::Rng rng(1);
#ifdef SPIKELAB_SHOULD_FAIL
  spikelab::Sequential<spikelab::Linear<float>, spikelab::Lif<double>> net{spikelab::Linear<float>(3, 4, rng),
                                                                          spikelab::Lif<double>(4)};
#else
  spikelab::Sequential<spikelab::Linear<float>, spikelab::Lif<float>> net{spikelab::Linear<float>(3, 4, rng),
                                                                         spikelab::Lif<float>(4)};
#endif
  return int(net.output_size()) - 4;
}
