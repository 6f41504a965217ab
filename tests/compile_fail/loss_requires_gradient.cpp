// Concept: Loss
// The Loss concept: a loss must give value_and_gradient / value / tally for the scalar type.
#include <spikelab/losses/cross_entropy.hpp>

struct HalfALoss {
  static std::string name() { return "HalfALoss"; }
  template <class S>
  S value(const spikelab::TimeSeries<S>&, const spikelab::Batch<S>&) { return S(0); }
};

#ifdef SPIKELAB_SHOULD_FAIL
static_assert(spikelab::Loss<HalfALoss, float>, "a loss without a gradient is not a Loss");
#else
static_assert(spikelab::Loss<spikelab::SumCrossEntropy, float>);
static_assert(!spikelab::Loss<HalfALoss, float>);
#endif

int main() { return 0; }
