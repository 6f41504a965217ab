/**
 * @file losses/window_cross_entropy.hpp
 * @brief WindowCrossEntropy: softmax cross-entropy of the output averaged over a time window
 *        [start, length) of each sample -- the readout of a spiking network that is shown a
 *        static input for a presentation time and classified from its (filtered) output after a
 *        settling time t_c (Hunsberger & Eliasmith's spiking test).
 *
 * \f[ z_{c,b} = \frac{s}{|W_b|} \sum_{t \in W_b} \text{out}(c, b, t), \quad W_b = [\min(t_0, \ell_b - 1), \ell_b),
 *     \qquad L = \frac1B \sum_b \Big(\log \sum_c e^{z_{c,b}} - z_{y_b, b}\Big), \f]
 * with t_0 = `start`, l_b the sample's length and s = `scale`. start = 0 is MeanCrossEntropy. The
 * tally counts argmax z = label, so Bptt::evaluate / Trainer::evaluate give the spiking network's
 * accuracy with this readout.
 *
 * @code
 * @article{hunsberger2015spiking, title={Spiking Deep Networks with LIF Neurons},
 *   author={Hunsberger, Eric and Eliasmith, Chris}, journal={arXiv:1510.08829}, year={2015}}
 * @endcode
 */
#ifndef SPIKELAB_LOSSES_WINDOW_CROSS_ENTROPY_HPP
#define SPIKELAB_LOSSES_WINDOW_CROSS_ENTROPY_HPP

#include <spikelab/core/versioning.hpp>
#include <spikelab/losses/concepts.hpp>
#include <spikelab/losses/loss_base.hpp>

#include <cereal/cereal.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

namespace spikelab {

/// Softmax cross-entropy of the output averaged over a time window of each sample, the
/// readout of a spiking network shown a static input after a settling time (Hunsberger &
/// Eliasmith, arXiv:1510.08829, 2015).
class WindowCrossEntropy {
 public:
  SPIKELAB_LOSS_FROM_COMPUTE

  Index start = 0;     ///< first step of the classification window (t_c / dt)
  double scale = 1.0;  ///< multiplies the logits

  WindowCrossEntropy() = default;
  /// Classifies from the mean output over steps [start, length).
  /// @param start_step the first step of the window
  /// @param logit_scale multiplies the logits
  explicit WindowCrossEntropy(Index start_step, double logit_scale = 1.0) : start(start_step), scale(logit_scale) {
    if (start_step < 0) throw ConfigError(name() + ": negative window start " + std::to_string(start_step));
  }

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "WindowCrossEntropy"; }

  /// Logits (classes x batch): the mean output over each sample's window, times scale.
  template <Scalar S>
  void logits(const TimeSeries<S>& out, const Batch<S>& b, Matrix<S>& z) const {
    if (start < 0) throw ConfigError(name() + ": negative window start " + std::to_string(start));
    const Index C = out.features(), B = out.batch();
    z.setZero(C, B);
    for (Index s = 0; s < B; ++s) {
      const Index len = b.length(s), t0 = window_start(len);
      for (Index t = t0; t < len; ++t) z.col(s) += out.values().col(out.column(s, t));
      if (len > t0) z.col(s) *= S(scale / double(len - t0));
    }
  }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("start", std::int64_t(start)), CEREAL_NVP(scale));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t) {
    std::int64_t s = 0;
    ar(cereal::make_nvp("start", s), CEREAL_NVP(scale));
    start = s;
  }

 private:

  Index window_start(Index len) const noexcept { return std::max<Index>(0, std::min(start, len - 1)); }

  template <Scalar S>
  S compute(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>* g, Tally* tally) {
    Matrix<S>& z = z_.template get<S>();
    const Index C = out.features(), B = out.batch();
    const double total = detail::logit_cross_entropy(*this, z, out, b, g, tally, [&](Index s, const auto& ce) {
      const Index len = b.length(s), t0 = window_start(len);
      if (len <= t0) return;
      for (Index c = 0; c < C; ++c) {
        const S d = ce.residual(z(c, s), c) * S(scale / double(len - t0)) / S(B);
        for (Index t = t0; t < len; ++t) (*g)(c, s, t) = d;
      }
    });
    return S(total / double(std::max<Index>(B, 1)));
  }
  detail::PerScalar<Matrix<float>, Matrix<double>> z_;
};

static_assert(Loss<WindowCrossEntropy, float> && Loss<WindowCrossEntropy, double>);

}  // namespace spikelab

CEREAL_CLASS_VERSION(spikelab::WindowCrossEntropy, 1)

#endif
