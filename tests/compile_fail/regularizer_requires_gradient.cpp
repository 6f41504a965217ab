// Concept: Regularizer
// A Regularizer must add its gradient (add_gradient), not only report its value.
#include <spikelab/learning/concepts.hpp>

struct ValueOnly {
  static std::string name() { return "ValueOnly"; }
  template <class Net>
  double value(Net&) const { return 0.0; }
};
using Net = spikelab::Sequential<spikelab::LayerArchetype>;

#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::Regularizer<ValueOnly, Net>);
#else
static_assert(spikelab::Regularizer<spikelab::RegularizerArchetype, Net>);
static_assert(!(spikelab::Regularizer<ValueOnly, Net>));
#endif

int main() { return 0; }
