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
 *
 * ResetGradient and ResetAdjoint<R, P>: what BPTT does with the reset (see ResetGradient).
 */
#ifndef SPIKELAB_NEURONS_RESET_HPP
#define SPIKELAB_NEURONS_RESET_HPP

#include <spikelab/core/types.hpp>
#include <spikelab/neurons/concepts.hpp>

#include <concepts>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace spikelab {

/// Reset by subtraction: \f$ v_{t+1} = \beta v_t + I_{t+1} - \theta s_t \f$ (the membrane keeps
/// what exceeded the threshold), with its partial derivatives for BPTT.
struct SubtractReset {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "SubtractReset"; }
  template <Scalar S> static S next(S beta, S v, S s, S theta, S i) noexcept { return beta * v + i - theta * s; }  ///< the update R(beta, v_{t-1}, s_{t-1}, theta, I_t)
  template <Scalar S> static S d_vprev(S beta, S, S, S) noexcept { return beta; }  ///< dR/dv_{t-1}
  template <Scalar S> static S d_sprev(S, S, S, S theta) noexcept { return -theta; }  ///< dR/ds_{t-1} (as BPTT uses it)
  template <Scalar S> static S d_theta(S, S, S s, S) noexcept { return -s; }  ///< dR/dtheta
  template <Scalar S> static S d_beta(S, S v, S, S) noexcept { return v; }  ///< dR/dbeta
};

/// Reset to zero: \f$ v_{t+1} = \beta v_t (1 - s_t) + I_{t+1} \f$, with its partial derivatives
/// for BPTT.
struct ZeroReset {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "ZeroReset"; }
  template <Scalar S> static S next(S beta, S v, S s, S, S i) noexcept { return beta * v * (S(1) - s) + i; }  ///< the update R(beta, v_{t-1}, s_{t-1}, theta, I_t)
  template <Scalar S> static S d_vprev(S beta, S, S s, S) noexcept { return beta * (S(1) - s); }  ///< dR/dv_{t-1}
  template <Scalar S> static S d_sprev(S beta, S v, S, S) noexcept { return -beta * v; }  ///< dR/ds_{t-1} (as BPTT uses it)
  template <Scalar S> static S d_theta(S, S, S, S) noexcept { return S(0); }  ///< dR/dtheta
  template <Scalar S> static S d_beta(S, S v, S s, S) noexcept { return v * (S(1) - s); }  ///< dR/dbeta
};

/// No reset is the smallest reset policy, its archetype.
struct NoReset : ResetPolicyArchetype {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "NoReset"; }
};

static_assert(ResetPolicy<SubtractReset> && ResetPolicy<ZeroReset> && ResetPolicy<NoReset>);

/**
 * How BPTT treats the reset of a LIF neuron (chosen per neuron type at compile time, like the
 * surrogate: `LifOptions::reset_gradient`). The forward pass is the same under all three.
 *
 * Write the update as v_{t+1} = R(beta, v_t, s_t, theta, I_{t+1}) with s_t = H(v_t - theta),
 * the surrogate G in place of H' in the backward pass, and
 * \f[ \delta s_t = \frac{\partial L}{\partial s_t}\Big|_{\text{direct}} + k\,\delta v_{t+1}\,\frac{\partial R}{\partial s},
 *     \qquad \delta v_t = \delta s_t\,G(v_t-\theta) + \delta v_{t+1}\,\frac{\partial R}{\partial v}, \f]
 * \f[ \frac{\partial L}{\partial \theta} \mathrel{+}= -\delta s_t\,G(v_t-\theta) + \delta v_{t+1}\,\frac{\partial R}{\partial \theta},
 *     \qquad \frac{\partial L}{\partial \beta} \mathrel{+}= \delta v_{t+1}\,\frac{\partial R}{\partial \beta}. \f]
 *  - `kept`: k = 1 and R's own partials: the exact gradient of the network with G in place of
 *    H' (what automatic differentiation gives when nothing is detached; Neftci, Mostafa & Zenke,
 *    IEEE Signal Processing Magazine 2019; the hSNN code of Moro et al., 2024, keeps it). For ZeroReset the reset path adds
 *    \f$-\beta v_t G(v_t-\theta)\,\delta v_{t+1}\f$ to \f$\delta v_t\f$, and the factor
 *    on \f$\delta v_{t+1}\f$ becomes \f$\beta[(1 - s_t) - G(v_t-\theta)\,v_t]\f$: negative
 *    when G is large at a high membrane potential, and above 1 at a negative one, which can flip
 *    or blow up the gradient over many steps: with G = (1.5/3.75) e^{-|v-theta|/3.75} (Rouser's
 *    printed surrogate) and beta = 0.97 it reaches 1.35 at v = -3.75, and 300 steps overflow
 *    single precision at the first update; with a tenth of that amplitude it stays below 1.01.
 *  - `detached`: k = 0, R's partials otherwise: the spike that resets is a constant (snnTorch,
 *    which always detaches it, `reset = spike_grad(mem - threshold).detach()`; Eshraghian et
 *    al., Proceedings of the IEEE 2023). ZeroReset keeps the factor beta (1 - s_t) on the
 *    membrane path; SubtractReset keeps theta's term -s_t.
 *  - `linear`: k = 0 and the partials of NoReset: \f$\partial v_{t+1}/\partial v_t = \beta\f$,
 *    no threshold gradient through the reset, \f$\partial v_{t+1}/\partial\beta = v_t\f$ (the
 *    membrane before the reset): the backward pass of a neuron without reset run on the spiking
 *    forward trajectory. This is Lava-DL's SLAYER CUBA neuron (its leaky integrator's backward
 *    kernel is linear in the decay and never sees the spike; Shrestha & Orchard, NeurIPS 2018;
 *    Lava-DL, Intel 2021), on which Mahmoodi Takaghaj & Sampson (AICAS 2025) trained thresholds.
 * `detached` and `linear` are both the exact gradient of a network in which the reset term is
 * held constant: the spike s_t inside R for `detached`, the whole difference
 * R(beta, v_t, s_t, theta, I) - NoReset(...) for `linear`.
 *
 * The default stays `kept`. Measured (docs/reproductions/thresholds.md; test accuracy %, mean ±
 * sd over 3 seeds, single-thread runs on the data held here; "=" marks runs that are identical by
 * construction: with SubtractReset and a fixed threshold, `detached` and `linear` have the same
 * partials):
 *
 * | job | kept | detached | linear |
 * |---|---|---|---|
 * | spikelab-train, Fashion-MNIST 60k/10k (784-256-10, SubtractReset, 3 epochs) | 87.18 ± 0.09 | 87.22 ± 0.30 | = detached |
 * | spikelab-train --dataset nmnist (1,000/100 recordings, 578-128-10, 15 epochs) | 84.0 ± 2.0 | 83.3 ± 2.1 | = detached |
 * | spikelab-train --task mts-xor (recurrent LIF 64-64, 20 epochs) | 98.82 ± 0.12 | 50.99 ± 2.19 | = detached |
 * | spikelab-train --task shd-shaped (700-256-256-20, synthetic, 15 epochs) | 100.00 ± 0.00 | 99.90 ± 0.17 | = detached |
 * | spikelab-thresholds --protocol rouser (ZeroReset, Lava-DL amplitude, 10 epochs; fixed / trained Th) | 65.0 ± 2.0 / 65.7 ± 2.3 | 77.7 ± 1.5 / 78.0 ± 2.6 | 87.7 ± 1.5 / 88.3 ± 2.1 |
 * | spikelab-thresholds, Th 25, spikelab's surrogate amplitude, 20 epochs (fixed / trained Th) | 28.0 / 45.7 | 86.7 / 89.7 | not run |
 *
 * With SubtractReset on feed-forward networks the policies tie. The reset path decides the
 * result in two places, in opposite directions: with ZeroReset and a tall surrogate (where it
 * multiplies the membrane path by beta[(1 - s) - G v]) dropping it helps; in the recurrent
 * MTS-XOR network dropping it makes training unstable (seed 1 reaches 90 % at epoch 3, then
 * falls back to chance; seeds 2 and 3 never leave chance; with a learning rate 4x lower seed 1
 * collapses later and ends at 72 %, 10x lower it stalls at 84 %), while `kept` trains to 99 %:
 * the reset path is the negative feedback that keeps the recurrent gradient bounded. Choose
 * `detached` or `linear` for ZeroReset neurons with a wide or tall surrogate, and for trained
 * thresholds; keep `kept` for recurrent networks.
 */
enum class ResetGradient : std::uint8_t { kept, detached, linear };

/// "kept", "detached", "linear".
inline std::string reset_gradient_name(ResetGradient p) {
  switch (p) {
    case ResetGradient::kept: return "kept";
    case ResetGradient::detached: return "detached";
    case ResetGradient::linear: return "linear";
  }
  return "?";
}

/// The ResetGradient named `name` ("kept", "detached", "linear"); throws std::invalid_argument otherwise.
inline ResetGradient parse_reset_gradient(const std::string& name) {
  for (ResetGradient p : {ResetGradient::kept, ResetGradient::detached, ResetGradient::linear})
    if (name == reset_gradient_name(p)) return p;
  throw std::invalid_argument("unknown reset gradient '" + name + "' (kept, detached or linear)");
}

/**
 * The partials of reset policy R that BPTT uses under gradient policy P (see ResetGradient),
 * each taking (beta, v_t, s_t, theta) like R's: `d_sprev` is 0 unless the reset path is kept;
 * `d_vprev`, `d_theta`, `d_beta` are R's, or NoReset's under `linear`.
 */
/// @tparam R the reset policy
/// @tparam P how BPTT treats the reset (ResetGradient)
template <ResetPolicy R, ResetGradient P>
struct ResetAdjoint {
  using Partials = std::conditional_t<P == ResetGradient::linear, NoReset, R>;  ///< R, or NoReset under `linear`
  /// dR/ds_{t-1} as BPTT uses it: R's under `kept`, 0 otherwise.
  template <Scalar S> static S d_sprev(S beta, S v, S s, S theta) noexcept {
    if constexpr (P == ResetGradient::kept)
      return R::d_sprev(beta, v, s, theta);
    else
      return S(0);
  }
  template <Scalar S> static S d_vprev(S beta, S v, S s, S theta) noexcept { return Partials::d_vprev(beta, v, s, theta); }  ///< dR/dv_{t-1}
  template <Scalar S> static S d_theta(S beta, S v, S s, S theta) noexcept { return Partials::d_theta(beta, v, s, theta); }  ///< dR/dtheta
  template <Scalar S> static S d_beta(S beta, S v, S s, S theta) noexcept { return Partials::d_beta(beta, v, s, theta); }  ///< dR/dbeta
};

}  // namespace spikelab

#endif
