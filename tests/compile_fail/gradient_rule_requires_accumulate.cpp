// Concept: GradientRule
// A GradientRule accumulates gradients over a batch; an online rule, which updates the network itself, is not one.
#include <spikelab/learning/concepts.hpp>

using Net = spikelab::Sequential<spikelab::LayerArchetype>;

#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::GradientRule<spikelab::OnlineRuleArchetype, Net>);
#else
static_assert(spikelab::GradientRule<spikelab::GradientRuleArchetype, Net>);
static_assert(!(spikelab::GradientRule<spikelab::OnlineRuleArchetype, Net>));
#endif

int main() { return 0; }
