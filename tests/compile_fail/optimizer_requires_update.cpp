// Concept: UpdatePolicy
// An Optimizer's update policy must model UpdatePolicy.
#include <spikelab/optimizers/optimizer.hpp>

struct NotAnUpdate {
  double lr = 0.1;
};

int main() {
#ifdef SPIKELAB_SHOULD_FAIL
  spikelab::Optimizer<float, NotAnUpdate> opt;
#else
  spikelab::Optimizer<float, spikelab::Adam> opt;
#endif
  return int(opt.steps());
}
