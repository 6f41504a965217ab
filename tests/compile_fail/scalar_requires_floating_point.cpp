// Concept: Scalar
// Scalar admits the floating-point types only: an integer is not a scalar spikelab computes in.
#include <spikelab/core/concepts.hpp>


#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::Scalar<int>);
#else
static_assert(spikelab::Scalar<spikelab::ScalarArchetype> && spikelab::Scalar<double>);
static_assert(!(spikelab::Scalar<int>));
#endif

int main() { return 0; }
