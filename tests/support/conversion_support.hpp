// Helpers shared by the soft-LIF tests.
#ifndef SPIKELAB_TESTS_SOFTLIF_SUPPORT_HPP
#define SPIKELAB_TESTS_SOFTLIF_SUPPORT_HPP

#include <spikelab/spikelab.hpp>
#include <spikelab/testing/gradient_check.hpp>

#include "support/test_support.hpp"

#include <cmath>

namespace spikelab::test {

/// The soft-LIF response straight from its definition, in long double (a reference only):
/// m / (tau_ref + tau_rc log1p(1 / (gamma log(1 + exp(a x / gamma))))).
inline long double soft_lif_reference(const SoftLifConfig& c, long double x) {
  const long double y = (long double)c.gain * x / (long double)c.gamma;
  const long double sp = y > 0 ? y + std::log1p(std::exp(-y)) : std::log1p(std::exp(y));
  const long double j = (long double)c.gamma * sp;
  return (long double)c.amplitude / ((long double)c.tau_ref + (long double)c.tau_rc * std::log1p(1.0L / j));
}

/// A random batch with labels in [0, classes) and one step per sample (rate networks).
template <class S>
Batch<S> rate_batch(Rng& rng, Index features, Index batch, int classes, double lo = -1.0, double hi = 1.0) {
  Batch<S> b;
  b.input.resize(features, batch, 1);
  fill_uniform(b.input, rng, lo, hi);
  for (Index i = 0; i < batch; ++i) b.labels.push_back(int(rng.below(std::uint64_t(classes))));
  return b;
}

}  // namespace spikelab::test

#endif
