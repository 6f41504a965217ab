/**
 * @file na/membrane_distance.hpp
 * @brief The membrane-potential arithmetic of neighbourhood aggregation (Yang, Zhang & Li,
 *        ICML 2021, poster Algorithms 1-2): input-current recovery f^-1, the perturbed
 *        waveform u ⊞ ε, the subtraction u' ⊟ u, the distance d_MP and the least-squares
 *        aggregation of directional finite differences.
 *
 * For an NA-LIF waveform u (one neuron, T steps; beta = 1 - 1/tau_m, H(x) = [x > 0]):
 *  - input_currents (f^-1): \f$ c[t] = u[t] - \beta\, u[t-1] (1 - H(u[t-1] - \vartheta)) \f$;
 *  - membrane_plus (u ⊞ ε, Algorithm 1): with v = 0, for each t
 *    \f$ u'[t] = \beta v + \varepsilon[t] + c[t],\; v = u'[t](1 - H(u'[t] - \vartheta)) \f$
 *    -- the neuron re-simulated with the extra input current ε;
 *  - membrane_minus (u' ⊟ u, Algorithm 2): with v = 0, for each t
 *    \f$ \varepsilon[t] = u'[t] - (\beta v + c[t]),\; v = u'[t](1 - H(u'[t] - \vartheta)) \f$
 *    -- the extra input current that turns u into u', so (u ⊞ ε) ⊟ u = ε;
 *  - membrane_distance: \f$ d_{MP}(u, u') = \lVert u' ⊟ u \rVert_2 \f$;
 *  - aggregate_least_squares: with unit directions \f$ o_m = (u_m ⊟ u)/\lVert u_m ⊟ u\rVert \f$ and
 *    finite differences \f$ f_m = \Delta L_m / \lVert u_m ⊟ u \rVert \f$ of M neighbours, the
 *    minimum-norm least-squares solution \f$ \tilde\nabla_u L = O^+ f \f$ of \f$ O\,g = f \f$.
 * For the simple neighbourhood (neighbour k flips the spike at step k, ε = (ϑ - u[k]) e_k) O is
 * diagonal and the aggregate is \f$ \Delta L_k / (\vartheta - u[k]) \f$, which is what
 * NeighborhoodAggregation computes directly. These functions allocate their results; they are
 * for analysis and tests, not for per-step loops.
 *
 * @code
 * @inproceedings{yang2021backpropagated, title={Backpropagated Neighborhood Aggregation for Accurate Training of
 *   Spiking Neural Networks}, author={Yang, Yukun and Zhang, Wenrui and Li, Peng}, booktitle={ICML}, year={2021}}
 * @endcode
 */
#ifndef SPIKELAB_NA_MEMBRANE_DISTANCE_HPP
#define SPIKELAB_NA_MEMBRANE_DISTANCE_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/types.hpp>
#include <spikelab/na/na_lif.hpp>

#include <Eigen/QR>

#include <string>

namespace spikelab {

namespace detail {
template <Scalar S>
void require_same_length(const Vector<S>& a, const Vector<S>& b, const char* who) {
  if (a.size() != b.size())
    throw ShapeError(std::string(who) + ": waveforms of different lengths (" + std::to_string(a.size()) + " and " +
                     std::to_string(b.size()) + " steps)");
}
}  // namespace detail

namespace detail {
/// The reset recursion under every operation of this file: for t = 0..T-1, r[t] = f(t, v), where
/// v is the potential carried into step t (0 at t = 0): the step's potential w(t, r[t]), or 0
/// when that crossed the threshold.
template <Scalar S, class F, class W>
Vector<S> along_waveform(const NaLifDynamics<S>& dyn, Index T, F&& f, W&& w) {
  Vector<S> r(T);
  S v = S(0);
  for (Index t = 0; t < T; ++t) {
    r[t] = f(t, v);
    const S wt = w(t, r[t]);
    v = dyn.fires(wt) ? S(0) : wt;
  }
  return r;
}
}  // namespace detail

/// f^-1: the input currents c that produce the waveform u (u must be a waveform of the dynamics).
template <Scalar S>
Vector<S> input_currents(const NaLifDynamics<S>& dyn, const Vector<S>& u) {
  return detail::along_waveform(
      dyn, u.size(), [&](Index t, S v) { return u[t] - dyn.decay_m * v; }, [&](Index t, S) { return u[t]; });
}

/// u ⊞ ε (Algorithm 1): the waveform of the neuron driven by the currents of u plus ε.
template <Scalar S>
Vector<S> membrane_plus(const NaLifDynamics<S>& dyn, const Vector<S>& u, const Vector<S>& eps) {
  detail::require_same_length(u, eps, "membrane_plus");
  const Vector<S> c = input_currents(dyn, u);
  return detail::along_waveform(
      dyn, u.size(), [&](Index t, S v) { return dyn.integrate(v, c[t] + eps[t]); }, [](Index, S up) { return up; });
}

/// u' ⊟ u (Algorithm 2): the extra input current ε with u ⊞ ε = u'.
template <Scalar S>
Vector<S> membrane_minus(const NaLifDynamics<S>& dyn, const Vector<S>& u_prime, const Vector<S>& u) {
  detail::require_same_length(u_prime, u, "membrane_minus");
  const Vector<S> c = input_currents(dyn, u);
  return detail::along_waveform(
      dyn, u.size(), [&](Index t, S v) { return u_prime[t] - (dyn.decay_m * v + c[t]); },
      [&](Index t, S) { return u_prime[t]; });
}

/// d_MP(u, u') = || u' ⊟ u ||_2: the L2 norm of the extra input current that turns u into u'.
template <Scalar S>
S membrane_distance(const NaLifDynamics<S>& dyn, const Vector<S>& u, const Vector<S>& u_prime) {
  return membrane_minus(dyn, u_prime, u).norm();
}

/**
 * Least-squares aggregation of M neighbours (poster box 3): column m of `neighbours` (T x M) is
 * the waveform u_m, `loss_change[m]` = L(u_m) - L(u). Returns \f$ O^+ f \f$ (T values), the
 * gradient estimate most consistent with every directional finite difference. Throws
 * ShapeError on mismatched sizes and NumericError when a neighbour equals u (zero distance).
 */
template <Scalar S>
Vector<S> aggregate_least_squares(const NaLifDynamics<S>& dyn, const Vector<S>& u, const Matrix<S>& neighbours,
                                  const Vector<S>& loss_change) {
  if (neighbours.rows() != u.size() || neighbours.cols() != loss_change.size())
    throw ShapeError("aggregate_least_squares: " + std::to_string(neighbours.rows()) + "x" +
                     std::to_string(neighbours.cols()) + " neighbours, " + std::to_string(loss_change.size()) +
                     " loss changes, waveform of " + std::to_string(u.size()) + " steps");
  const Index M = neighbours.cols();
  Matrix<S> O(M, u.size());
  Vector<S> f(M);
  for (Index m = 0; m < M; ++m) {
    const Vector<S> eps = membrane_minus(dyn, Vector<S>(neighbours.col(m)), u);
    const S d = eps.norm();
    if (!(d > S(0)))
      throw NumericError("aggregate_least_squares: neighbour " + std::to_string(m) + " is at distance 0 from u");
    O.row(m) = (eps / d).transpose();
    f[m] = loss_change[m] / d;
  }
  return O.completeOrthogonalDecomposition().solve(f);
}

}  // namespace spikelab

#endif
