/**
 * @file neurons/reset.hpp
 * @brief Reset policies of the LIF membrane update, with the partial derivatives BPTT needs
 *        (each models ResetPolicy, neurons/concepts.hpp).
 *
 * A reset policy R defines the membrane update v_t = R::next(beta, v_{t-1}, s_{t-1}, theta, I_t)
 * and its partials with respect to v_{t-1}, s_{t-1}, theta (direct path) and beta:
 *  - SubtractReset:  v_t = beta v_{t-1} + I_t - theta s_{t-1}        (snnTorch "subtract", hSNN)
 *  - ZeroReset:      v_t = beta v_{t-1} (1 - s_{t-1}) + I_t           (NA-LIF, Lava CUBA reset to 0)
 *  - NoReset:        v_t = beta v_{t-1} + I_t
 * The spike s is a real number in these formulas, so the same partials serve the smooth twin.
 */
#ifndef SPIKELAB_NEURONS_RESET_HPP
#define SPIKELAB_NEURONS_RESET_HPP

#include <spikelab/core/types.hpp>
#include <spikelab/neurons/concepts.hpp>

#include <concepts>
#include <string>

namespace spikelab {

struct SubtractReset {
  static std::string name() { return "SubtractReset"; }
  template <Scalar S> static S next(S beta, S v, S s, S theta, S i) noexcept { return beta * v + i - theta * s; }
  template <Scalar S> static S d_vprev(S beta, S, S, S) noexcept { return beta; }
  template <Scalar S> static S d_sprev(S, S, S, S theta) noexcept { return -theta; }
  template <Scalar S> static S d_theta(S, S, S s, S) noexcept { return -s; }
  template <Scalar S> static S d_beta(S, S v, S, S) noexcept { return v; }
};

struct ZeroReset {
  static std::string name() { return "ZeroReset"; }
  template <Scalar S> static S next(S beta, S v, S s, S, S i) noexcept { return beta * v * (S(1) - s) + i; }
  template <Scalar S> static S d_vprev(S beta, S, S s, S) noexcept { return beta * (S(1) - s); }
  template <Scalar S> static S d_sprev(S beta, S v, S, S) noexcept { return -beta * v; }
  template <Scalar S> static S d_theta(S, S, S, S) noexcept { return S(0); }
  template <Scalar S> static S d_beta(S, S v, S s, S) noexcept { return v * (S(1) - s); }
};

/// No reset is the smallest reset policy, its archetype.
struct NoReset : ResetPolicyArchetype {
  static std::string name() { return "NoReset"; }
};

static_assert(ResetPolicy<SubtractReset> && ResetPolicy<ZeroReset> && ResetPolicy<NoReset>);

}  // namespace spikelab

#endif
