// Concept: Schedule
// An Optimizer's learning-rate schedule must model Schedule; a schedule without factor(e, E) is refused.
#include <spikelab/optimizers/optimizer.hpp>

struct NoFactor {
  static std::string name() { return "NoFactor"; }
};

int main() {
#ifdef SPIKELAB_SHOULD_FAIL
  spikelab::Optimizer<float, spikelab::Adam, NoFactor> opt;
#else
  spikelab::Optimizer<float, spikelab::Adam, spikelab::ScheduleArchetype> opt;
#endif
  return int(opt.steps());
}
