// Concept: ResetPolicy
// A LIF layer's reset must model ResetPolicy; a reset without its partial derivatives is refused.
#include <spikelab/neurons/lif.hpp>

struct ForwardOnlyReset {
  static std::string name() { return "ForwardOnlyReset"; }
  template <class S>
  static S next(S beta, S v, S, S, S i) noexcept { return beta * v + i; }
};

int main() {
#ifdef SPIKELAB_SHOULD_FAIL
  spikelab::LifType<float, spikelab::FastSigmoid, ForwardOnlyReset> lif(4);
#else
  spikelab::LifType<float, spikelab::FastSigmoid, spikelab::ResetPolicyArchetype> lif(4);
#endif
  return int(lif.output_size()) - 4;
}
