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
 * Batch::step_labels, averaged over scored steps (MTS-XOR's per-step decoder):
 * \f[ L = \frac{1}{|\mathcal S|}\sum_{(b,t)\in\mathcal S} \Big(\log\sum_c e^{o_{c,b,t}} - o_{y_{b,t},b,t}\Big). \f]
 * Its tally (the accuracy) counts the same steps, or only the steps marked in
 * `decision_steps` when that is set: the hSNN code trains on all 100 steps of MTS-XOR but
 * measures accuracy on the 60 coding steps (MtsXor::decision_steps()).
 */
#ifndef SPIKELAB_LOSSES_CROSS_ENTROPY_HPP
#define SPIKELAB_LOSSES_CROSS_ENTROPY_HPP

#include <spikelab/losses/concepts.hpp>
#include <spikelab/losses/loss_base.hpp>

#include <cereal/cereal.hpp>
#include <cereal/types/vector.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace spikelab {

/// How TimeReduceCrossEntropy reduces the output over time: sum, mean over valid steps, or max.
enum class TimeReduce : std::uint8_t { sum, mean, max };

/// Softmax cross-entropy on the output reduced over time (sum, mean or max) per sample,
/// \f$ L = \frac{1}{B}\sum_b (\log\sum_c e^{z_{c,b}} - z_{y_b,b}) \f$ with
/// \f$ z_{c,b} = \mathrm{Reduce}_{t} \mathrm{out}(c,b,t) \f$.
/// @tparam Reduce the reduction over time (TimeReduce)
template <TimeReduce Reduce>
class TimeReduceCrossEntropy {
 public:
  SPIKELAB_LOSS_FROM_COMPUTE

  /// Multiplies the logits (a temperature); 1 by default.
  double scale = 1.0;

  /// The type's name, as signatures, reports and checkpoints spell it.
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

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(scale)); }

 private:
  template <Scalar S>
  S compute(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>* g, Tally* tally) {
    Matrix<S>& z = z_.template get<S>();
    const Index C = out.features(), B = out.batch();
    const double total = detail::logit_cross_entropy(*this, z, out, b, g, tally, [&](Index s, const auto& ce) {
      const Index len = b.length(s);
      for (Index c = 0; c < C; ++c) {
        const S dz = ce.residual(z(c, s), c) * S(scale) / S(B);
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
    });
    return S(total / double(B));
  }
  detail::PerScalar<Matrix<float>, Matrix<double>> z_;
};

/// Cross-entropy of the output summed over time (spike counts, or the summed readout membrane).
using SumCrossEntropy = TimeReduceCrossEntropy<TimeReduce::sum>;
/// Cross-entropy of the output's mean over valid steps (rate cross-entropy).
using MeanCrossEntropy = TimeReduceCrossEntropy<TimeReduce::mean>;
/// Cross-entropy of the output's maximum over time (of a readout membrane).
using MaxCrossEntropy = TimeReduceCrossEntropy<TimeReduce::max>;

/// Cross-entropy of softmax(out[:, b, t]) at every scored (b, t); see the file comment.
class StepCrossEntropy {
 public:
  SPIKELAB_LOSS_FROM_COMPUTE

  /// Steps t whose decisions the tally counts (nonzero = counted; at least as many entries as
  /// the output has steps); empty: every scored step. The loss is not affected.
  std::vector<std::uint8_t> decision_steps;

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "StepCrossEntropy"; }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t version) {
    if (version >= 1) ar(CEREAL_NVP(decision_steps));
  }

 private:
  template <Scalar S>
  S compute(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>* g, Tally* tally) {
    detail::require_labels(b.step_labels.size() == std::size_t(out.columns()), name(), "per-step labels");
    const Index C = out.features(), B = out.batch(), T = out.steps();
    if (!decision_steps.empty() && Index(decision_steps.size()) < T)
      throw ShapeError(name() + ": decision_steps has " + std::to_string(decision_steps.size()) +
                       " entries for an output of " + std::to_string(T) + " steps");
    if (g) g->resize_zero(C, B, T);
    Index scored = 0;
    for (Index t = 0; t < T; ++t)
      for (Index s = 0; s < B; ++s) scored += (t < b.length(s) && b.step_labels[t * B + s] >= 0);
    double total = 0;
    for (Index t = 0; t < T; ++t)
      for (Index s = 0; s < B; ++s) {
        const int y = b.step_labels[t * B + s];
        if (y < 0 || t >= b.length(s)) continue;
        const auto col = out.values().col(t * B + s);
        const detail::SoftmaxCrossEntropy<S> ce(col, detail::check_label(y, C, name()));
        if (decision_steps.empty() || decision_steps[std::size_t(t)] != 0) detail::count_decision(tally, ce.correct());
        total += ce.loss;
        if (g)
          for (Index c = 0; c < C; ++c) g->values()(c, t * B + s) = ce.residual(col(c), c) / S(scored);
      }
    return scored ? S(total / double(scored)) : S(0);
  }
};

static_assert(Loss<SumCrossEntropy, float> && Loss<MaxCrossEntropy, double> && Loss<StepCrossEntropy, float>);

}  // namespace spikelab

CEREAL_CLASS_VERSION(spikelab::StepCrossEntropy, 1)

#endif
