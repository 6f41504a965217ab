// Concept: LearningSignal
// A LearningSignal must give the ThreeFactorConfig its rule starts from (default_config()).
#include <spikelab/probabilistic/concepts.hpp>

struct NoDefaults {
  static std::string name() { return "NoDefaults"; }
  spikelab::Index compartments() const { return 1; }
  bool uses_baseline() const { return false; }
  bool accumulates_hidden() const { return false; }
  bool pools_hidden() const { return false; }
  void begin(const spikelab::ThreeFactorConfig&, spikelab::Index, spikelab::Index, bool) {}
};

#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::LearningSignal<NoDefaults>);
#else
static_assert(spikelab::LearningSignal<spikelab::LearningSignalArchetype>);
static_assert(!(spikelab::LearningSignal<NoDefaults>));
#endif

int main() { return 0; }
