/**
 * @file losses/psp_mse.hpp
 * @brief The losses of NA / TSSL-BP on PSP outputs: PspKernelMse (the "kernel" loss, MSE to the
 *        PSP of a desired spike train) and PspCountMse (the "count" loss, MSE of output counts
 *        outside a target band).
 *
 * Both read the network output y (classes x batch*T), for NA the PSPs a of the output NA-LIF
 * layer, and predict the class with the largest \f$ \sum_t y_{c}[t] \f$.
 *
 * PspKernelMse (Yang, Zhang & Li, ICML 2021; `loss: "kernel"` in their code): the desired train d is all-ones (a spike every
 * step) for the labelled class and all-zeros for the others; its PSP is
 * \f$ (\sigma * d)[t] = 1 - (1 - 1/\tau_s)^{t+1} \f$ for the labelled class and 0 otherwise, and
 * \f[ L = \frac{1}{B} \sum_b \sum_c \sum_{t < len_b} \tfrac12 \big((\sigma * d_{c,b})[t] - y_{c,b}[t]\big)^2. \f]
 *
 * PspCountMse (`loss: "count"`, TSSL-BP's loss_count): with \f$ n_{c,b} = \sum_{t<len_b} y_{c,b}[t] \f$,
 * target \f$ \hat n \f$ = desired for the labelled class and undesired otherwise, and
 * \f$ \Delta = (n - \hat n)/len \f$ kept only on the wrong side (labelled class: n < desired;
 * others: n > undesired; else 0),
 * \f[ L = \frac{1}{B} \sum_b \sum_c \tfrac12\, len_b\, \Delta_{c,b}^2, \qquad
 *     \partial L/\partial y_{c,b}[t] = \Delta_{c,b} / B. \f]
 * The official code sums over the batch instead of averaging (`sum_over_batch = true` does the
 * same; with Adam this matters only through gradient-norm clipping).
 *
 * @code
 * @inproceedings{yang2021backpropagated, title={Backpropagated Neighborhood Aggregation for Accurate Training of
 *   Spiking Neural Networks}, author={Yang, Yukun and Zhang, Wenrui and Li, Peng}, booktitle={ICML}, year={2021}}
 * @inproceedings{zhang2020temporal, title={Temporal Spike Sequence Learning via Backpropagation for Deep Spiking
 *   Neural Networks}, author={Zhang, Wenrui and Li, Peng}, booktitle={NeurIPS}, year={2020}}
 * @endcode
 */
#ifndef SPIKELAB_LOSSES_PSP_MSE_HPP
#define SPIKELAB_LOSSES_PSP_MSE_HPP

#include <spikelab/core/versioning.hpp>
#include <spikelab/losses/concepts.hpp>
#include <spikelab/losses/loss_base.hpp>

#include <cereal/cereal.hpp>

#include <algorithm>
#include <cmath>
#include <string>

namespace spikelab {

namespace detail {
/// The pass both PSP losses share: checks the labels, sizes g, counts the decision (the class
/// with the largest summed output) of every sample and calls `sample(s, y, len, scale, total)`,
/// which adds sample s's loss to total and writes its gradient times `scale` (1, or 1/B for the
/// mean over the batch) into *g when g is not null. Returns total * scale.
template <Scalar S, class F>
S psp_loss_pass(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>* g, Tally* tally, const std::string& loss,
                bool sum_over_batch, F&& sample) {
  require_sample_labels(out, b, loss);
  const Index C = out.features(), B = out.batch();
  if (g) g->resize_zero(C, B, out.steps());
  const double scale = sum_over_batch ? 1.0 : 1.0 / double(std::max<Index>(B, 1));
  double total = 0;
  for (Index s = 0; s < B; ++s) {
    const int y = sample_label(b, s, C, loss);
    const Index len = b.length(s);
    if (tally) count_decision(tally, summed_argmax(out, s, len) == y);
    sample(s, y, len, scale, total);
  }
  return S(total * scale);
}
}  // namespace detail

/// NA / TSSL-BP's "kernel" loss: the squared error between the output PSP and the PSP of a
/// desired spike train, \f$ L = \frac1B \sum \tfrac12 ((\sigma * d)[t] - y[t])^2 \f$ (Yang, Zhang
/// & Li, ICML 2021; Zhang & Li, NeurIPS 2020).
class PspKernelMse {
 public:
  SPIKELAB_LOSS_FROM_COMPUTE

  double tau_s = 2.0;            ///< time constant of the target's PSP filter (the network's tau_s)
  bool sum_over_batch = false;   ///< sum over samples instead of the mean (the official code)

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "PspKernelMse"; }

  /// The target PSP of the labelled class at step t: 1 - (1 - 1/tau_s)^(t+1).
  double target(Index t) const { return 1.0 - std::pow(1.0 - 1.0 / tau_s, double(t + 1)); }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(tau_s), CEREAL_NVP(sum_over_batch));
  }

 private:
  template <Scalar S>
  S compute(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>* g, Tally* tally) const {
    if (!(tau_s >= 1.0)) throw ConfigError(name() + ": tau_s must be >= 1 (got " + std::to_string(tau_s) + ")");
    return detail::psp_loss_pass(out, b, g, tally, name(), sum_over_batch,
                                 [&](Index s, int y, Index len, double scale, double& total) {
      for (Index t = 0; t < len; ++t) {
        const double on = target(t);
        for (Index c = 0; c < out.features(); ++c) {
          const double d = double(out(c, s, t)) - (c == y ? on : 0.0);
          total += 0.5 * d * d;
          if (g) (*g)(c, s, t) = S(d * scale);
        }
      }
    });
  }
};

/// NA / TSSL-BP's "count" loss: the squared error of the output spike counts, counted only on
/// the wrong side of a target band (Zhang & Li, NeurIPS 2020; Yang, Zhang & Li, ICML 2021).
class PspCountMse {
 public:
  SPIKELAB_LOSS_FROM_COMPUTE

  double desired = 5.0;          ///< target count of the labelled class (N-MNIST config: 15)
  double undesired = 0.0;        ///< target count of the other classes (N-MNIST config: 3)
  bool sum_over_batch = false;   ///< sum over samples instead of the mean (the official code)

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "PspCountMse"; }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(desired), CEREAL_NVP(undesired), CEREAL_NVP(sum_over_batch));
  }

 private:
  template <Scalar S>
  S compute(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>* g, Tally* tally) const {
    return detail::psp_loss_pass(out, b, g, tally, name(), sum_over_batch,
                                 [&](Index s, int y, Index len, double scale, double& total) {
      if (len == 0) return;
      for (Index c = 0; c < out.features(); ++c) {
        double n = 0;
        for (Index t = 0; t < len; ++t) n += double(out(c, s, t));
        double d = (n - (c == y ? desired : undesired)) / double(len);
        if (c == y ? d > 0 : d < 0) d = 0;  // on the right side of the target: no error
        total += 0.5 * double(len) * d * d;
        if (g && d != 0)
          for (Index t = 0; t < len; ++t) (*g)(c, s, t) = S(d * scale);
      }
    });
  }
};

static_assert(Loss<PspKernelMse, float> && Loss<PspKernelMse, double> && Loss<PspCountMse, float> &&
              Loss<PspCountMse, double>);

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((), (spikelab::PspKernelMse), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::PspCountMse), 1)

#endif
