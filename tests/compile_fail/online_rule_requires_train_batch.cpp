// Concept: OnlineRule
// An OnlineRule trains a batch step by step with train_batch; a gradient rule, which needs an optimizer, is not one.
#include <spikelab/learning/concepts.hpp>

using Net = spikelab::Sequential<spikelab::LayerArchetype>;

#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::OnlineRule<spikelab::GradientRuleArchetype, Net>);
#else
static_assert(spikelab::OnlineRule<spikelab::OnlineRuleArchetype, Net>);
static_assert(!(spikelab::OnlineRule<spikelab::GradientRuleArchetype, Net>));
#endif

int main() { return 0; }
