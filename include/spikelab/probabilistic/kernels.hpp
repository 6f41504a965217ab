/**
 * @file probabilistic/kernels.hpp
 * @brief Basis kernels of probabilistic (GLM / SRM) spiking neurons: the bank of filters a_k
 *        through which a pre-synaptic spike train becomes the synaptic traces
 *        \f$(a_k * s)_{t-1} = \sum_{\tau=0}^{L-1} a_k[\tau]\, s_{t-1-\tau}\f$
 *        (index 0 multiplies the most recent spike s_{t-1}; memory of L steps).
 *
 * Kinds (KernelType):
 *  - raised_cosine (default): the "Pillow 2008" raised cosines of kclip/snn
 *    (`raised_cosine_pillow_08`), log-time centres spread evenly over the memory:
 *    \f[ n_t = \log(t + L/10),\quad \delta = \frac{n_{L-1} - n_0}{\max(K-1,1)},\quad
 *        c_k = n_0 + k\delta,\quad
 *        a_k[t] = \tfrac12\big(1 + \cos(\mathrm{clip}((n_t - c_k)\,\mu\pi/\delta, -\pi, \pi))\big) \f]
 *  - raised_cosine_hrjang: the variant of hrjang357/multi-sample-SNN (GEM's official code),
 *    phases k pi/2 on a log(t+1) axis:
 *    \f[ a_k[t] = \tfrac12 + \tfrac12\cos(\mathrm{clip}(\pi\mu\log(t+1) - k\pi/2, -\pi, \pi)) \f]
 *  - exponential: \f$a_k[t] = e^{-t/\tau_k}\f$ with \f$\tau_k = \mu\, 2^k\f$ steps (the older
 *    kclip `exponential_filter` is the K = 1 case with tau = mu).
 *
 * The two official codes disagree on the raised cosines; spikelab defaults to
 * the kclip form, whose bases tile the whole memory for any K, and keeps the hrjang form as
 * KernelType::raised_cosine_hrjang.
 *
 * @code
 * @article{pillow2008spatio, title={Spatio-temporal correlations and visual signalling in a complete
 *   neuronal population}, author={Pillow, Jonathan W. and Shlens, Jonathon and Paninski, Liam and others},
 *   journal={Nature}, volume={454}, pages={995--999}, year={2008}}
 * @endcode
 */
#ifndef SPIKELAB_PROBABILISTIC_KERNELS_HPP
#define SPIKELAB_PROBABILISTIC_KERNELS_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/types.hpp>

#include <cereal/cereal.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>
#include <sstream>
#include <string>

namespace spikelab {

/// The family of basis kernels a_k: kclip's raised cosines (default), hrjang's raised cosines,
/// or exponentials (equations in the file comment).
enum class KernelType : std::uint8_t { raised_cosine = 0, raised_cosine_hrjang = 1, exponential = 2 };

/// The kind's name as configurations and reports spell it.
constexpr const char* to_string(KernelType k) noexcept {
  switch (k) {
    case KernelType::raised_cosine: return "raised_cosine";
    case KernelType::raised_cosine_hrjang: return "raised_cosine_hrjang";
    case KernelType::exponential: return "exponential";
  }
  return "?";
}

/// A bank of K basis kernels of length L (memory in time steps).
struct KernelConfig {
  KernelType type = KernelType::raised_cosine;  ///< the family of the basis kernels
  Index bases = 8;    ///< K
  Index length = 10;  ///< L = tau (steps of memory)
  double mu = 0.5;    ///< compression (raised cosines) or base time constant in steps (exponential)

  /// Throws ConfigError naming `what` unless the kernel parameters are in range.
  void validate(const char* what) const {
    if (bases < 1 || length < 1)
      throw ConfigError(std::string(what) + ": a kernel bank needs at least one basis and one step of memory");
    if (!(mu > 0) || !std::isfinite(mu)) throw ConfigError(std::string(what) + ": kernel mu must be positive");
    if (type != KernelType::raised_cosine && type != KernelType::raised_cosine_hrjang &&
        type != KernelType::exponential)
      throw ConfigError(std::string(what) + ": unknown kernel type");
  }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const {
    std::ostringstream os;
    os << to_string(type) << '(' << bases << 'x' << length << ",mu=" << mu << ')';
    return os.str();
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(type), CEREAL_NVP(bases), CEREAL_NVP(length), CEREAL_NVP(mu));
  }
};

/// The kernels as an (L x K) matrix: entry (tau, k) = a_k[tau]; rows beyond `rows` are zero
/// (a bank shorter than the network memory is zero-padded).
template <Scalar S>
Matrix<S> make_kernel_bank(const KernelConfig& c, Index rows = -1) {
  c.validate("make_kernel_bank");
  const Index L = c.length, K = c.bases;
  if (rows < 0) rows = L;
  Matrix<S> a = Matrix<S>::Zero(std::max(rows, L), K);
  const double pi = std::numbers::pi;
  auto clip = [pi](double x) { return std::clamp(x, -pi, pi); };
  switch (c.type) {
    case KernelType::raised_cosine: {
      const double b = double(L) / 10.0;
      const double n0 = std::log(b), n_end = std::log(double(L - 1) + b);
      double db = (n_end - n0) / double(std::max<Index>(K - 1, 1));
      if (!(db > 0)) db = 1.0;  // L == 1: a single tap
      for (Index k = 0; k < K; ++k) {
        const double ck = n0 + double(k) * db;
        for (Index t = 0; t < L; ++t)
          a(t, k) = S((std::cos(clip((std::log(double(t) + b) - ck) * c.mu * pi / db)) + 1.0) / 2.0);
      }
      break;
    }
    case KernelType::raised_cosine_hrjang:
      for (Index k = 0; k < K; ++k)
        for (Index t = 0; t < L; ++t)
          a(t, k) = S(0.5 + std::cos(clip(pi * c.mu * std::log(double(t) + 1.0) - double(k) * pi / 2.0)) / 2.0);
      break;
    case KernelType::exponential:
      for (Index k = 0; k < K; ++k) {
        const double tau = c.mu * std::pow(2.0, double(k));
        for (Index t = 0; t < L; ++t) a(t, k) = S(std::exp(-double(t) / tau));
      }
      break;
  }
  a.conservativeResize(rows, K);
  return a;
}

}  // namespace spikelab

#endif
