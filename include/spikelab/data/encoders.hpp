/**
 * @file data/encoders.hpp
 * @brief Encoders that turn a static input x in [0, 1]^F (an image) into T steps of
 *        network input, for one sample column of a TimeSeries.
 *
 *  - DirectEncoder: the analog value as a constant current, \f$ x_t = g\,x \f$ (direct coding).
 *  - OffsetEncoder: the same with a per-feature offset, \f$ x_{t,f} = g\,x_f + c_f \f$: mean
 *    subtraction (c = -mean_image(data), data/image_dataset.hpp) and similar preprocessing.
 *  - RateEncoder: Bernoulli spikes, \f$ P(s_t = 1) = \min(1, g\,x) \f$ at every step (rate coding).
 *  - LatencyEncoder: one spike per feature with x > threshold, at step
 *    \f$ t = \mathrm{round}((1 - x)(T - 1)) \f$ (brighter = earlier; time-to-first-spike coding).
 */
#ifndef SPIKELAB_DATA_ENCODERS_HPP
#define SPIKELAB_DATA_ENCODERS_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/data/concepts.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <string>
#include <vector>

namespace spikelab {

/// Direct coding: the analog value as a constant current at every step, \f$ x_t = g\,x \f$.
struct DirectEncoder {
  double gain = 1.0;  ///< g
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "direct"; }
  /// Writes the T steps of sample column b of `out` from the F values x (StaticEncoder).
  template <Scalar S>
  void encode(const float* x, Index b, TimeSeries<S>& out, Rng&) const {
    const Index F = out.features();
    for (Index t = 0; t < out.steps(); ++t) {
      S* col = out.data() + out.column(b, t) * F;
      for (Index f = 0; f < F; ++f) col[f] = S(gain * x[f]);
    }
  }
};

/// Direct coding with a per-feature offset, \f$ x_{t,f} = g\,x_f + c_f \f$ (mean subtraction and
/// similar preprocessing).
struct OffsetEncoder {
  std::vector<float> offset;  ///< c_f, one per feature (empty: none)
  double gain = 1.0;  ///< g
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "offset"; }
  /// Writes the T steps of sample column b of `out` from the F values x (StaticEncoder).
  template <Scalar S>
  void encode(const float* x, Index b, TimeSeries<S>& out, Rng&) const {
    const Index F = out.features();
    if (!offset.empty() && Index(offset.size()) != F)
      throw ShapeError("OffsetEncoder: " + std::to_string(offset.size()) + " offsets for " + std::to_string(F) +
                       " features");
    for (Index t = 0; t < out.steps(); ++t) {
      S* col = out.data() + out.column(b, t) * F;
      for (Index f = 0; f < F; ++f)
        col[f] = S(gain * x[f] + (offset.empty() ? 0.0 : double(offset[std::size_t(f)])));
    }
  }
};

/// Rate coding: a Bernoulli spike at every step with \f$ P(s_t = 1) = \min(1, g\,x) \f$.
struct RateEncoder {
  double gain = 1.0;  ///< g
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "rate"; }
  /// Writes the T steps of sample column b of `out` from the F values x (StaticEncoder).
  template <Scalar S>
  void encode(const float* x, Index b, TimeSeries<S>& out, Rng& rng) const {
    const Index F = out.features();
    for (Index t = 0; t < out.steps(); ++t) {
      S* col = out.data() + out.column(b, t) * F;
      for (Index f = 0; f < F; ++f) {
        const double p = std::min(1.0, gain * double(x[f]));
        col[f] = (p > 0 && rng.uniform() < p) ? S(1) : S(0);
      }
    }
  }
};

/// Time-to-first-spike coding: one spike per feature with x > threshold, at step
/// \f$ t = \mathrm{round}((1 - x)(T - 1)) \f$ (brighter is earlier).
struct LatencyEncoder {
  double threshold = 0.1;  ///< features at or below it never spike
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "latency"; }
  /// Writes the T steps of sample column b of `out` from the F values x (StaticEncoder).
  template <Scalar S>
  void encode(const float* x, Index b, TimeSeries<S>& out, Rng&) const {
    const Index F = out.features(), T = out.steps();
    for (Index t = 0; t < T; ++t) std::fill_n(out.data() + out.column(b, t) * F, F, S(0));
    if (T == 0) return;
    for (Index f = 0; f < F; ++f) {
      const double v = std::clamp(double(x[f]), 0.0, 1.0);
      if (v <= threshold) continue;
      const Index t = std::clamp<Index>(Index(std::lround((1.0 - v) * double(T - 1))), 0, T - 1);
      out.data()[out.column(b, t) * F + f] = S(1);
    }
  }
};

static_assert(StaticEncoder<DirectEncoder, float> && StaticEncoder<OffsetEncoder, float> &&
              StaticEncoder<RateEncoder, double> &&
              StaticEncoder<LatencyEncoder, float>);

}  // namespace spikelab

#endif
