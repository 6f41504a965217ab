// Concept: NeuronModel
// run_stepwise needs a NeuronModel (explicit state, one step at a time); a Linear layer is not one.
#include <spikelab/layers/linear.hpp>
#include <spikelab/neurons/concepts.hpp>
#include <spikelab/neurons/lif.hpp>

int main() {
  namespace sl = spikelab;
  sl::Rng rng(1);
  sl::TimeSeries<float> x(4, 1, 3);
  x.set_zero();
#ifdef SPIKELAB_SHOULD_FAIL
  sl::Linear<float> layer(4, 4, rng);
#else
  sl::Lif<float> layer(4);
#endif
  return int(sl::run_stepwise(layer, x).steps()) - 3;
}
