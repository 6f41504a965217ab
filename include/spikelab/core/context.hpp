/**
 * @file core/context.hpp
 * @brief ForwardContext: what a forward pass is run for (training or inference) and the
 *        random generator that stochastic layers draw from. Passed explicitly.
 */
#ifndef SPIKELAB_CORE_CONTEXT_HPP
#define SPIKELAB_CORE_CONTEXT_HPP

#include <spikelab/core/random.hpp>

namespace spikelab {

/// What a forward pass is run for (training or inference) and the Rng that stochastic layers
/// (dropout, training noise, sampling) draw from; passed explicitly so that no layer holds
/// hidden global state.
struct ForwardContext {
  /// true: layers keep what backward() needs, dropout and noise are active.
  bool training = false;
  /// Generator for stochastic layers (dropout, noise, stochastic neurons); may be null
  /// when no layer needs one.
  Rng* rng = nullptr;

  /// A training pass drawing from `r`.
  static ForwardContext train(Rng& r) { return {true, &r}; }
  /// An inference pass (no randomness).
  static ForwardContext eval() { return {false, nullptr}; }
};

}  // namespace spikelab

#endif
