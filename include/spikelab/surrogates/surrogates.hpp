/**
 * @file surrogates/surrogates.hpp
 * @brief Surrogate gradients for the Heaviside spike: FastSigmoid, Arctan, Sigmoid,
 *        Triangle, Boxcar, Exponential, and SmoothTwin<G> (the smooth network whose exact
 *        gradient equals the surrogate gradient, for gradient checks).
 *
 * Each surrogate G gives d s / d x at x = v - threshold. The forward pass of a spiking
 * neuron is always H(x); only the backward pass uses G.
 *
 * @code
 * @article{neftci2019surrogate, title={Surrogate gradient learning in spiking neural networks},
 *   author={Neftci, Emre O. and Mostafa, Hesham and Zenke, Friedemann},
 *   journal={IEEE Signal Processing Magazine}, volume={36}, number={6}, pages={51--63}, year={2019}}
 * @endcode
 */
#ifndef SPIKELAB_SURROGATES_SURROGATES_HPP
#define SPIKELAB_SURROGATES_SURROGATES_HPP

#include <spikelab/core/versioning.hpp>
#include <spikelab/surrogates/concepts.hpp>

#include <cereal/cereal.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <string>

namespace spikelab {

/**
 * Fast sigmoid (SuperSpike, Zenke & Ganguli 2018):
 * \f[ \partial s/\partial x = 1 / (1 + k|x|)^2, \quad P(x) = x/(1+k|x|) + 1/k. \f]
 * Default slope k = 25 (snnTorch's default).
 */
struct FastSigmoid {
  double slope = 25.0;  ///< k, the steepness
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "FastSigmoid"; }
  /// The spike H(x) of the forward pass.
  template <Scalar S> S forward(S x) const noexcept { return heaviside(x); }
  /// The surrogate derivative at x, used by BPTT in place of H'(x).
  template <Scalar S> S derivative(S x) const noexcept {
    const S d = S(1) + S(slope) * std::abs(x);
    return S(1) / (d * d);
  }
  /// A primitive of derivative() (the smooth spike of SmoothTwin).
  template <Scalar S> S primitive(S x) const noexcept {
    return x / (S(1) + S(slope) * std::abs(x)) + S(1) / S(slope);
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar> void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(slope)); }
};

/**
 * Arctan surrogate (Fang et al. 2021, snnTorch `atan`):
 * \f[ \partial s/\partial x = \frac{\alpha/2}{1 + (\pi \alpha x / 2)^2}, \quad
 *     P(x) = \arctan(\pi\alpha x/2)/\pi + 1/2. \f]
 */
struct Arctan {
  double alpha = 2.0;  ///< alpha, the steepness
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Arctan"; }
  /// The spike H(x) of the forward pass.
  template <Scalar S> S forward(S x) const noexcept { return heaviside(x); }
  /// The surrogate derivative at x, used by BPTT in place of H'(x).
  template <Scalar S> S derivative(S x) const noexcept {
    const S a = S(alpha), z = std::numbers::pi_v<S> * a * x / S(2);
    return (a / S(2)) / (S(1) + z * z);
  }
  /// A primitive of derivative() (the smooth spike of SmoothTwin).
  template <Scalar S> S primitive(S x) const noexcept {
    return std::atan(std::numbers::pi_v<S> * S(alpha) * x / S(2)) / std::numbers::pi_v<S> + S(0.5);
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar> void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(alpha)); }
};

/**
 * Sigmoid surrogate: \f[ \partial s/\partial x = k\,\sigma(kx)(1-\sigma(kx)), \quad P(x) = \sigma(kx). \f]
 */
struct Sigmoid {
  double slope = 5.0;  ///< k, the steepness
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Sigmoid"; }
  /// The spike H(x) of the forward pass.
  template <Scalar S> S forward(S x) const noexcept { return heaviside(x); }
  /// The surrogate derivative at x, used by BPTT in place of H'(x).
  template <Scalar S> S derivative(S x) const noexcept {
    const S p = primitive(x);
    return S(slope) * p * (S(1) - p);
  }
  /// A primitive of derivative() (the smooth spike of SmoothTwin).
  template <Scalar S> S primitive(S x) const noexcept { return S(1) / (S(1) + std::exp(-S(slope) * x)); }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar> void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(slope)); }
};

/**
 * Triangle surrogate (Esser et al. 2016; Bellec et al. 2018 use height 0.3):
 * \f[ \partial s/\partial x = h \max(0, 1 - |x|/w). \f]
 */
struct Triangle {
  double height = 1.0;  ///< the peak, at x = 0
  double width = 1.0;   ///< the half-width of the base
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Triangle"; }
  /// The spike H(x) of the forward pass.
  template <Scalar S> S forward(S x) const noexcept { return heaviside(x); }
  /// The surrogate derivative at x, used by BPTT in place of H'(x).
  template <Scalar S> S derivative(S x) const noexcept {
    const S r = S(1) - std::abs(x) / S(width);
    return r > S(0) ? S(height) * r : S(0);
  }
  /// A primitive of derivative() (the smooth spike of SmoothTwin).
  template <Scalar S> S primitive(S x) const noexcept {
    const S w = S(width), h = S(height);
    const S c = std::clamp(x, -w, w);
    // integral of h(1 - |u|/w) from -w to c
    const S half = h * w / S(2);
    return c < S(0) ? h * (c + w) * (c + w) / (S(2) * w) : half + h * (c - c * c / (S(2) * w));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar> void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(height), CEREAL_NVP(width)); }
};

/**
 * Boxcar (rectangular) surrogate; hSNN's `box` (Moro et al. 2024) is height 1, half-width 0.5:
 * \f[ \partial s/\partial x = h\,[|x| < w]. \f]
 */
struct Boxcar {
  double height = 1.0;      ///< the value inside the box
  double half_width = 0.5;  ///< the box is |x| <= half_width
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Boxcar"; }
  /// The spike H(x) of the forward pass.
  template <Scalar S> S forward(S x) const noexcept { return heaviside(x); }
  /// The surrogate derivative at x, used by BPTT in place of H'(x).
  template <Scalar S> S derivative(S x) const noexcept {
    return std::abs(x) < S(half_width) ? S(height) : S(0);
  }
  /// A primitive of derivative() (the smooth spike of SmoothTwin).
  template <Scalar S> S primitive(S x) const noexcept {
    const S w = S(half_width);
    return S(height) * (std::clamp(x, -w, w) + w);
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar> void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(height), CEREAL_NVP(half_width)); }
};

/// Which amplitude the exponential surrogate's (s, tau) stand for (see Exponential).
enum class ExponentialConvention : std::uint8_t {
  paper,    ///< peak s/tau: the equation as Mahmoodi Takaghaj & Sampson print it
  lava_dl,  ///< peak 0.1 s/tau: what Lava-DL's CUBA neuron computes for the same s and tau
};

/**
 * Exponential (Laplace-shaped) surrogate of Mahmoodi Takaghaj & Sampson ("To spike or not to
 * spike", AICAS 2025; arXiv 2024 "Rouser"), eqs. (2)-(3), with amplitude factor c:
 * \f[ \partial S/\partial V = c\,(s/\tau)\,e^{-|V - Th|/\tau}, \qquad \partial S/\partial Th = -\partial S/\partial V,
 *     \qquad P(x) = c\,s\,(e^{x/\tau}\ [x < 0],\ 2 - e^{-x/\tau}\ [x \ge 0]). \f]
 * c = 1 (`ExponentialConvention::paper`) is the equation as printed. c = 0.1
 * (`ExponentialConvention::lava_dl`) is what Lava-DL computes for the same numbers: its CUBA
 * neuron calls the spike function with \f$\tau_\rho = 100\,\tau_{grad}\,\theta\f$ and
 * \f$0.1\,s_{grad}\f$ (its TAU_RHO_MULT and SCALE_RHO_MULT), whose derivative is
 * \f$0.1\,s_{grad}/(2\tau_\rho)\,e^{-|V-\theta|/\tau_\rho}\f$; the paper's Table II values
 * (Th 1.25, s 1.5, tau 3.75) are exactly Lava-DL's N-MNIST tutorial (threshold 1.25, tau_grad
 * 0.03, scale_grad 3) with \f$\tau = \tau_\rho\f$ and \f$s = s_{grad}/2\f$, so that its
 * peak is 0.04 there, not 0.4 (an inference from that match; the paper does not state it).
 * Defaults: Table II (s = 1.5, tau = 3.75), the printed convention.
 */
struct Exponential {
  double scale = 1.5;  ///< s
  double tau = 3.75;   ///< tau, the width
  ExponentialConvention convention = ExponentialConvention::paper;  ///< how s and tau give the amplitude (see above)
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Exponential"; }
  /// The amplitude factor c of the convention: 1 or 0.1.
  double factor() const noexcept { return convention == ExponentialConvention::lava_dl ? 0.1 : 1.0; }
  /// The peak of the derivative, c s / tau.
  double peak() const noexcept { return factor() * scale / tau; }
  /// The spike H(x) of the forward pass.
  template <Scalar S> S forward(S x) const noexcept { return heaviside(x); }
  /// The surrogate derivative at x, used by BPTT in place of H'(x).
  template <Scalar S> S derivative(S x) const noexcept {
    return S(peak()) * std::exp(-std::abs(x) / S(tau));
  }
  /// A primitive of derivative() (the smooth spike of SmoothTwin).
  template <Scalar S> S primitive(S x) const noexcept {
    const S e = std::exp(-std::abs(x) / S(tau));
    return S(factor() * scale) * (x < S(0) ? e : S(2) - e);
  }
  /// "paper" or "lava_dl".
  static std::string convention_name(ExponentialConvention c) {
    return c == ExponentialConvention::lava_dl ? "lava_dl" : "paper";
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar> void save(Ar& ar, std::uint32_t) const {
    ar(CEREAL_NVP(scale), CEREAL_NVP(tau), cereal::make_nvp("convention", convention_name(convention)));
  }
  /// Version 1 (before the convention existed) meant the printed one.
  template <class Ar> void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, 2, "Exponential");
    ar(CEREAL_NVP(scale), CEREAL_NVP(tau));
    convention = ExponentialConvention::paper;
    if (version >= 2) {
      std::string c;
      ar(cereal::make_nvp("convention", c));
      if (c == "lava_dl")
        convention = ExponentialConvention::lava_dl;
      else if (c != "paper")
        throw cereal::Exception("Exponential: unknown amplitude convention '" + c + "'");
    }
  }
};

/**
 * SmoothTwin<G>: the spike H(x) replaced by G's primitive P, so that dP/dx is exactly the
 * surrogate G. A network built with SmoothTwin<G> is differentiable, and its BPTT gradient
 * (computed by the same code as the spiking network's) must equal finite differences.
 */
/// @tparam G the surrogate whose primitive is the smooth spike
template <SurrogateGradient G>
struct SmoothTwin {
  G inner{};  ///< the surrogate whose primitive is the smooth spike
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "SmoothTwin<" + G::name() + ">"; }
  /// The smooth spike: the inner surrogate's primitive.
  template <Scalar S> S forward(S x) const noexcept { return inner.primitive(x); }
  /// The surrogate derivative at x, used by BPTT in place of H'(x).
  template <Scalar S> S derivative(S x) const noexcept { return inner.derivative(x); }
  /// A primitive of derivative() (the smooth spike of SmoothTwin).
  template <Scalar S> S primitive(S x) const noexcept { return inner.primitive(x); }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar> void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(inner)); }
};

static_assert(SurrogateGradient<FastSigmoid>);
static_assert(SurrogateGradient<Arctan>);
static_assert(SurrogateGradient<Sigmoid>);
static_assert(SurrogateGradient<Triangle>);
static_assert(SurrogateGradient<Boxcar>);
static_assert(SurrogateGradient<Exponential>);
static_assert(SurrogateGradient<SmoothTwin<FastSigmoid>>);

}  // namespace spikelab

CEREAL_CLASS_VERSION(spikelab::FastSigmoid, 1)
CEREAL_CLASS_VERSION(spikelab::Arctan, 1)
CEREAL_CLASS_VERSION(spikelab::Sigmoid, 1)
CEREAL_CLASS_VERSION(spikelab::Triangle, 1)
CEREAL_CLASS_VERSION(spikelab::Boxcar, 1)
CEREAL_CLASS_VERSION(spikelab::Exponential, 2)
SPIKELAB_CLASS_VERSION((class G), (spikelab::SmoothTwin<G>), 1)

#endif
