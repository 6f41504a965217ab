/**
 * @file losses/cross_entropy.hpp
 * @brief Cross-entropy losses on a reduction over time of the output, and per step.
 *
 * TimeReduceCrossEntropy<Reduce>: logits z_{c,b} = Reduce_{t < len_b} out(c, b, t) * scale,
 * \f[ L = \frac{1}{B}\sum_b \Big(\log\sum_c e^{z_{c,b}} - z_{y_b, b}\Big). \f]
 *  - SumCrossEntropy: z = sum over time. On spikes it is the spike-count cross-entropy; on a
 *    leaky-integrator readout, the cross-entropy of the summed membrane.
 *  - MeanCrossEntropy: z = mean over valid steps (rate cross-entropy).
 *  - MaxCrossEntropy: z = max over time of the readout membrane (gradient to the argmax step).
 * StepCrossEntropy: softmax cross-entropy at every (sample, step) with a label >= 0 in
 * Batch::step_labels, averaged over scored steps (MTS-XOR's per-step decoder).
 */
#ifndef SPIKELAB_LOSSES_CROSS_ENTROPY_HPP
#define SPIKELAB_LOSSES_CROSS_ENTROPY_HPP

#include <spikelab/losses/concepts.hpp>

#include <cmath>
#include <limits>
#include <string>

namespace spikelab {

enum class TimeReduce : std::uint8_t { sum, mean, max };

template <TimeReduce Reduce>
class TimeReduceCrossEntropy {
 public:
  /// Multiplies the logits (a temperature); 1 by default.
  double scale = 1.0;

  static std::string name() {
    switch (Reduce) {
      case TimeReduce::sum: return "SumCrossEntropy";
      case TimeReduce::mean: return "MeanCrossEntropy";
      case TimeReduce::max: return "MaxCrossEntropy";
    }
    return "?";
  }

  /// Logits (classes x batch) of the output.
  template <Scalar S>
  void logits(const TimeSeries<S>& out, const Batch<S>& b, Matrix<S>& z) const {
    const Index C = out.features(), B = out.batch();
    z.resize(C, B);
    for (Index s = 0; s < B; ++s) {
      const Index len = b.length(s);
      for (Index c = 0; c < C; ++c) {
        S acc = Reduce == TimeReduce::max ? (len > 0 ? -std::numeric_limits<S>::infinity() : S(0)) : S(0);
        for (Index t = 0; t < len; ++t) {
          const S v = out(c, s, t);
          if constexpr (Reduce == TimeReduce::max)
            acc = v > acc ? v : acc;
          else
            acc += v;
        }
        if constexpr (Reduce == TimeReduce::mean) acc = len > 0 ? acc / S(len) : S(0);
        z(c, s) = acc * S(scale);
      }
    }
  }

  template <Scalar S>
  S value_and_gradient(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>& g) {
    return compute<S>(out, b, &g);
  }
  template <Scalar S>
  S value(const TimeSeries<S>& out, const Batch<S>& b) {
    return compute<S>(out, b, nullptr);
  }
  template <Scalar S>
  Tally tally(const TimeSeries<S>& out, const Batch<S>& b) {
    detail::require_labels(b.labels.size() == std::size_t(out.batch()), name(), "per-sample labels");
    logits(out, b, z_cache<S>());
    Tally t;
    const auto& z = z_cache<S>();
    for (Index s = 0; s < out.batch(); ++s) {
      Index arg = 0;
      z.col(s).maxCoeff(&arg);
      t.correct += (arg == b.labels[s]);
      ++t.total;
    }
    return t;
  }

  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(scale)); }

 private:
  template <Scalar S>
  Matrix<S>& z_cache() {
    if constexpr (std::same_as<S, float>) return zf_; else return zd_;
  }
  template <Scalar S>
  S compute(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>* g) {
    detail::require_labels(b.labels.size() == std::size_t(out.batch()), name(), "per-sample labels");
    Matrix<S>& z = z_cache<S>();
    logits(out, b, z);
    const Index C = out.features(), B = out.batch();
    if (g) g->resize_zero(C, B, out.steps());
    double total = 0;
    for (Index s = 0; s < B; ++s) {
      const int y = b.labels[s];
      if (y < 0 || y >= C) throw ShapeError(name() + ": label " + std::to_string(y) + " outside [0, " + std::to_string(C) + ")");
      const S m = z.col(s).maxCoeff();
      const S lse = m + std::log((z.col(s).array() - m).exp().sum());
      total += double(lse - z(y, s));
      if (!g) continue;
      const Index len = b.length(s);
      for (Index c = 0; c < C; ++c) {
        const S dz = (std::exp(z(c, s) - lse) - (c == y ? S(1) : S(0))) * S(scale) / S(B);
        if constexpr (Reduce == TimeReduce::max) {
          Index arg = 0;
          S best = -std::numeric_limits<S>::infinity();
          for (Index t = 0; t < len; ++t)
            if (out(c, s, t) > best) best = out(c, s, t), arg = t;
          if (len > 0) (*g)(c, s, arg) = dz;
        } else {
          const S d = Reduce == TimeReduce::mean ? dz / S(len) : dz;
          for (Index t = 0; t < len; ++t) (*g)(c, s, t) = d;
        }
      }
    }
    return S(total / double(B));
  }
  Matrix<float> zf_;
  Matrix<double> zd_;
};

using SumCrossEntropy = TimeReduceCrossEntropy<TimeReduce::sum>;
using MeanCrossEntropy = TimeReduceCrossEntropy<TimeReduce::mean>;
using MaxCrossEntropy = TimeReduceCrossEntropy<TimeReduce::max>;

/// Cross-entropy of softmax(out[:, b, t]) at every scored (b, t); see the file comment.
class StepCrossEntropy {
 public:
  static std::string name() { return "StepCrossEntropy"; }

  template <Scalar S>
  S value_and_gradient(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>& g) {
    return compute<S>(out, b, &g, nullptr);
  }
  template <Scalar S>
  S value(const TimeSeries<S>& out, const Batch<S>& b) {
    return compute<S>(out, b, nullptr, nullptr);
  }
  template <Scalar S>
  Tally tally(const TimeSeries<S>& out, const Batch<S>& b) {
    Tally t;
    compute<S>(out, b, nullptr, &t);
    return t;
  }
  template <class Ar>
  void serialize(Ar&, std::uint32_t) {}

 private:
  template <Scalar S>
  S compute(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>* g, Tally* tally) {
    detail::require_labels(b.step_labels.size() == std::size_t(out.columns()), name(), "per-step labels");
    const Index C = out.features(), B = out.batch(), T = out.steps();
    if (g) g->resize_zero(C, B, T);
    Index scored = 0;
    for (Index t = 0; t < T; ++t)
      for (Index s = 0; s < B; ++s) scored += (t < b.length(s) && b.step_labels[t * B + s] >= 0);
    double total = 0;
    for (Index t = 0; t < T; ++t)
      for (Index s = 0; s < B; ++s) {
        const int y = b.step_labels[t * B + s];
        if (y < 0 || t >= b.length(s)) continue;
        if (y >= C) throw ShapeError(name() + ": label " + std::to_string(y) + " outside [0, " + std::to_string(C) + ")");
        const auto col = out.values().col(t * B + s);
        Index arg = 0;
        const S m = col.maxCoeff(&arg);
        if (tally) {
          tally->correct += (arg == y);
          ++tally->total;
        }
        const S lse = m + std::log((col.array() - m).exp().sum());
        total += double(lse - col(y));
        if (g)
          for (Index c = 0; c < C; ++c)
            g->values()(c, t * B + s) = (std::exp(col(c) - lse) - (c == y ? S(1) : S(0))) / S(scored);
      }
    return scored ? S(total / double(scored)) : S(0);
  }
};

static_assert(Loss<SumCrossEntropy, float> && Loss<MaxCrossEntropy, double> && Loss<StepCrossEntropy, float>);

}  // namespace spikelab

#endif
