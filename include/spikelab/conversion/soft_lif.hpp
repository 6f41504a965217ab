/**
 * @file conversion/soft_lif.hpp
 * @brief SoftLif: the smoothed LIF rate response (Hunsberger & Eliasmith 2015) as an
 *        ActivationFunction policy, with its derivative and Gaussian training noise; the hard
 *        LIF rate lif_rate(); the layer alias `SoftLifRate<S>` = Activation<S, SoftLif>.
 *
 * A LIF neuron (membrane time constant tau_RC, refractory period tau_ref, threshold 1, reset 0)
 * driven by a constant normalised current j fires at
 * \f[ r(j) = \big[\tau_{ref} + \tau_{RC} \log(1 + 1/\rho(j - 1))\big]^{-1},\qquad \rho(x) = \max(x, 0). \f]
 * Soft-LIF replaces rho by the smooth maximum \f$\rho_\gamma(x) = \gamma \log(1 + e^{x/\gamma})\f$, so the
 * derivative stays bounded. In the implemented form (cuda-convnet2 `softlif[m,t,r,a,g,n]`) x is the
 * layer pre-activation, the LIF bias current 1 is folded in (the neuron fires for x > 0), a is an
 * input gain and m an output amplitude:
 * \f[ y = a x / \gamma,\quad j = \gamma\,\mathrm{softplus}(y),\quad
 *     f(x) = \frac{m}{\tau_{ref} + \tau_{RC}\,\mathrm{log1p}(1/j)},\quad
 *     f'(x) = \frac{m\, a\, \tau_{RC}}{(\tau_{ref} + \tau_{RC}\,\mathrm{log1p}(1/j))^2\; j (j + 1)\; (1 + e^{-y})}. \f]
 * As gamma -> 0, f converges to the hard response m r(a x + 1): uniformly on |x| >= delta for any
 * delta > 0, and at x = 0 only logarithmically (f(0) ~ m / (tau_RC log(1/(gamma log 2)))).
 *
 * Training noise (forward only; backward uses the noise-free f'): where the neuron would fire
 * (y > 0), \f$ f(x) + m\,\mathcal N(0, \sigma^2) \f$, clipped at 0; elsewhere f(x) unchanged.
 *
 * Numerics: softplus is evaluated stably (max(y, 0) + log1p(e^{-|y|})), not with the code's
 * "y if y > 4" shortcut (which jumps by 0.018 gamma at y = 4). For y < -36 the response is
 * evaluated in log space, log1p(1/j) = -log(gamma) - y (exact to e^{-36}), so rates and
 * derivatives stay finite and continuous where j underflows. Arrays are evaluated with Eigen's
 * vectorised exp/log1p in blocks on the stack.
 *
 * @code
 * @article{hunsberger2015spiking, title={Spiking Deep Networks with LIF Neurons},
 *   author={Hunsberger, Eric and Eliasmith, Chris}, journal={arXiv:1510.08829}, year={2015}}
 * @phdthesis{hunsberger2018spiking, title={Spiking Deep Neural Networks: Engineered and Biological Approaches
 *   to Object Recognition}, author={Hunsberger, Eric}, school={University of Waterloo}, year={2018}}
 * @endcode
 */
#ifndef SPIKELAB_CONVERSION_SOFT_LIF_HPP
#define SPIKELAB_CONVERSION_SOFT_LIF_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/types.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/layers/activation.hpp>

#include <cereal/cereal.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>
#include <string>

namespace spikelab {

/// Firing rate (Hz) of a LIF neuron with threshold 1 and reset 0 under the constant normalised
/// input current j: 1 / (tau_ref + tau_rc log(1 + 1/(j - 1))) for j > 1, else 0.
template <Scalar S>
S lif_rate(S j, S tau_ref, S tau_rc) noexcept {
  if (!(j > S(1))) return S(0);
  return S(1) / (tau_ref + tau_rc * std::log1p(S(1) / (j - S(1))));
}

/// Parameters of the soft-LIF response, in cuda-convnet2's order softlif[m, t, r, a, g, n].
struct SoftLifConfig {
  double amplitude = 0.063;  ///< m: output = m * rate (rate in Hz)
  double tau_ref = 0.002;    ///< t: refractory period (s)
  double tau_rc = 0.022;     ///< r: membrane time constant (s)
  double gain = 1.0;         ///< a: input gain (J = a x + 1)
  double gamma = 0.02;       ///< g: smoothing of the rectification
  double noise = 10.0;       ///< n: training noise sigma (Hz), 0 = none

  /// The MNIST network's neurons: softlif[0.063, 0.002, 0.022, 1.0, 0.02, 10.0].
  static SoftLifConfig mnist() { return {0.063, 0.002, 0.022, 1.0, 0.02, 10.0}; }
  /// The CIFAR-10 network's neurons: softlif[0.063, 0.001, 0.05, 0.825, 0.02, 10.0].
  static SoftLifConfig cifar10() { return {0.063, 0.001, 0.05, 0.825, 0.02, 10.0}; }

  /// Throws ConfigError unless every parameter is in range.
  void validate() const {
    auto bad = [](double v) { return !(v > 0.0) || !std::isfinite(v); };
    if (bad(amplitude) || bad(tau_rc) || bad(gain) || bad(gamma) || !(tau_ref >= 0.0) || !std::isfinite(tau_ref) ||
        !(noise >= 0.0) || !std::isfinite(noise))
      throw ConfigError("SoftLif: parameters must be finite with amplitude, tau_rc, gain, gamma > 0 and tau_ref, "
                        "noise >= 0 (got m=" + std::to_string(amplitude) + ", tau_ref=" + std::to_string(tau_ref) +
                        ", tau_rc=" + std::to_string(tau_rc) + ", a=" + std::to_string(gain) + ", gamma=" +
                        std::to_string(gamma) + ", noise=" + std::to_string(noise) + ")");
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(amplitude), CEREAL_NVP(tau_ref), CEREAL_NVP(tau_rc), CEREAL_NVP(gain), CEREAL_NVP(gamma),
       CEREAL_NVP(noise));
  }
};

/// The smoothed LIF rate response as an ActivationFunction, with its derivative and Gaussian
/// training noise: \f$ r(j) = [\tau_{ref} + \tau_{rc} \log(1 + 1/\rho_\gamma(j - 1))]^{-1} \f$ with
/// the smooth maximum \f$ \rho_\gamma(x) = \gamma \log(1 + e^{x/\gamma}) \f$ (Hunsberger & Eliasmith,
/// arXiv:1510.08829, 2015).
class SoftLif : public detail::ValidatedConfig<SoftLifConfig> {
 public:
  SoftLif() = default;
  /// A soft-LIF response with the given parameters; throws ConfigError when one is out of range.
  /// @param cfg the parameters (SoftLifConfig::mnist(), SoftLifConfig::cifar10(), or your own)
  explicit SoftLif(SoftLifConfig cfg) : ValidatedConfig(cfg) {}

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "SoftLifRate"; }
  /// "m=0.063,ref=0.002,rc=0.022,a=1,g=0.02,n=10"
  std::string describe() const {
    std::ostringstream s;
    s << "m=" << cfg_.amplitude << ",ref=" << cfg_.tau_ref << ",rc=" << cfg_.tau_rc << ",a=" << cfg_.gain
      << ",g=" << cfg_.gamma << ",n=" << cfg_.noise;
    return s.str();
  }

  /// f(x) = m r(x) (scalar form; the same clamped formulas as values()).
  template <Scalar S>
  S value(S x) const noexcept {
    const Consts<S> c(cfg_);
    S yc, j;
    scalar_terms(c, x, yc, j);
    return c.m / scalar_den(c, x, j);
  }
  /// f'(x) (scalar form).
  template <Scalar S>
  S derivative(S x) const noexcept {
    const Consts<S> c(cfg_);
    S yc, j;
    scalar_terms(c, x, yc, j);
    const S den = scalar_den(c, x, j), sig = S(1) / (S(1) + std::exp(-yc));
    return c.mar * sig / (den * den * j * (j + S(1)));
  }
  /// The gamma -> 0 limit: m r(a x + 1), the hard LIF rate response.
  template <Scalar S>
  S hard_value(S x) const noexcept {
    return S(cfg_.amplitude) * lif_rate(S(cfg_.gain) * x + S(1), S(cfg_.tau_ref), S(cfg_.tau_rc));
  }

  /// y_i = f(x_i) for n values.
  template <Scalar S>
  void values(const S* x, S* y, Index n) const noexcept {
    const Consts<S> c(cfg_);
    for (Index i0 = 0; i0 < n; i0 += block) {
      const Index len = std::min(block, n - i0);
      Block<S> yc, den;
      clamped_input(c, x + i0, len, yc);
      denominator(c, x + i0, len, yc, den);
      Eigen::Map<Arr<S>>(y + i0, len) = c.m / den;
    }
  }

  /// d_i = f'(x_i) for n values.
  template <Scalar S>
  void derivatives(const S* x, S* d, Index n) const noexcept {
    const Consts<S> c(cfg_);
    for (Index i0 = 0; i0 < n; i0 += block) {
      const Index len = std::min(block, n - i0);
      Block<S> yc, den, j, sig;
      clamped_input(c, x + i0, len, yc);
      j = c.g * (yc.max(S(0)) + (-yc.abs()).exp().log1p());
      sig = S(1) / (S(1) + (-yc).exp());
      denominator(c, x + i0, len, yc, den);
      // sigma(yc) / (j (j+1)) at the clamped input: for y < y0 it equals 1/gamma to e^{y0}
      Eigen::Map<Arr<S>>(d + i0, len) = c.mar * sig / (den.square() * j * (j + S(1)));
    }
  }

  /// True if training adds noise.
  bool noisy() const noexcept { return cfg_.noise > 0.0; }

  /// Training noise: y_i += m N(0, sigma^2), clipped at 0, where y = a x / gamma > 0.
  template <Scalar S>
  void add_noise(const S* x, S* y, Index n, Rng& rng) const noexcept {
    if (!noisy()) return;
    const double sd = cfg_.amplitude * cfg_.noise;
    for (Index i = 0; i < n; ++i)
      if (x[i] > S(0)) y[i] = std::max(S(0), y[i] + S(sd * rng.normal()));
  }

 private:
  static constexpr Index block = 128;
  static constexpr double y_floor = -36.0;  // below: log-space form
  template <Scalar S>
  using Arr = Eigen::Array<S, Eigen::Dynamic, 1>;
  template <Scalar S>
  using Block = Eigen::Array<S, Eigen::Dynamic, 1, Eigen::ColMajor, block, 1>;  // on the stack
  template <Scalar S>
  struct Consts {
    S k, g, m, tr, rc, mar, lg, y0;
    explicit Consts(const SoftLifConfig& c)
        : k(S(c.gain / c.gamma)), g(S(c.gamma)), m(S(c.amplitude)), tr(S(c.tau_ref)), rc(S(c.tau_rc)),
          mar(S(c.amplitude * c.gain * c.tau_rc)), lg(S(std::log(c.gamma))), y0(S(y_floor)) {}
  };
  template <Scalar S>
  static void scalar_terms(const Consts<S>& c, S x, S& yc, S& j) noexcept {
    yc = std::max(c.k * x, c.y0);
    j = c.g * (std::max(yc, S(0)) + std::log1p(std::exp(-std::abs(yc))));
  }
  template <Scalar S>
  static S scalar_den(const Consts<S>& c, S x, S j) noexcept {
    return c.tr + c.rc * std::log1p(S(1) / j) + c.rc * std::max(c.y0 - c.k * x, S(0));
  }
  // yc = max(a x / gamma, y0)
  template <Scalar S>
  static void clamped_input(const Consts<S>& c, const S* x, Index len, Block<S>& yc) {
    yc = (c.k * Eigen::Map<const Arr<S>>(x, len)).max(c.y0);
  }
  // tau_ref + tau_rc log1p(1/j(yc)) + tau_rc (y0 - y)_+   (the last term continues the log-space form)
  template <Scalar S>
  static void denominator(const Consts<S>& c, const S* x, Index len, const Block<S>& yc, Block<S>& den) {
    den = c.tr + c.rc * (S(1) / (c.g * (yc.max(S(0)) + (-yc.abs()).exp().log1p()))).log1p() +
          c.rc * (c.y0 - c.k * Eigen::Map<const Arr<S>>(x, len)).max(S(0));
  }
};

/// Soft-LIF rate layer (Hunsberger & Eliasmith 2015) for rate networks.
template <Scalar S>
using SoftLifRate = Activation<S, SoftLif>;

static_assert(ActivationFunction<SoftLif>);

}  // namespace spikelab

CEREAL_CLASS_VERSION(spikelab::SoftLifConfig, 1)
CEREAL_CLASS_VERSION(spikelab::SoftLif, 1)

#endif
