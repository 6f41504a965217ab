/**
 * @file losses/psp_mse.hpp
 * @brief The losses of NA / TSSL-BP on PSP outputs: PspKernelMse (the "kernel" loss, MSE to the
 *        PSP of a desired spike train) and PspCountMse (the "count" loss, MSE of output counts
 *        outside a target band).
 *
 * Both read the network output y (classes x batch*T), for NA the PSPs a of the output NA-LIF
 * layer, and predict the class with the largest \f$ \sum_t y_{c}[t] \f$.
 *
 * PspKernelMse (papers.md §2, `loss: "kernel"`): the desired train d is all-ones (a spike every
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

#include <cmath>
#include <string>

namespace spikelab {

namespace detail {
/// Argmax over classes of the output summed over the valid steps of sample s.
template <Scalar S>
Index summed_argmax(const TimeSeries<S>& out, Index s, Index len) {
  Index best = 0;
  double best_v = -1e300;
  for (Index c = 0; c < out.features(); ++c) {
    double acc = 0;
    for (Index t = 0; t < len; ++t) acc += double(out(c, s, t));
    if (acc > best_v) best_v = acc, best = c;
  }
  return best;
}
inline void check_label(int y, Index classes, const std::string& who) {
  if (y < 0 || y >= classes)
    throw ShapeError(who + ": label " + std::to_string(y) + " outside [0, " + std::to_string(classes) + ")");
}
}  // namespace detail

class PspKernelMse {
 public:
  double tau_s = 2.0;            ///< time constant of the target's PSP filter (the network's tau_s)
  bool sum_over_batch = false;   ///< sum over samples instead of the mean (the official code)

  static std::string name() { return "PspKernelMse"; }

  /// The target PSP of the labelled class at step t: 1 - (1 - 1/tau_s)^(t+1).
  double target(Index t) const { return 1.0 - std::pow(1.0 - 1.0 / tau_s, double(t + 1)); }

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
    Tally t;
    for (Index s = 0; s < out.batch(); ++s) {
      const int y = b.labels[std::size_t(s)];
      detail::check_label(y, out.features(), name());
      t.correct += detail::summed_argmax(out, s, b.length(s)) == y;
      ++t.total;
    }
    return t;
  }
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(tau_s), CEREAL_NVP(sum_over_batch));
  }

 private:
  template <Scalar S>
  S compute(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>* g) const {
    detail::require_labels(b.labels.size() == std::size_t(out.batch()), name(), "per-sample labels");
    if (!(tau_s >= 1.0)) throw ConfigError(name() + ": tau_s must be >= 1 (got " + std::to_string(tau_s) + ")");
    const Index C = out.features(), B = out.batch(), T = out.steps();
    if (g) g->resize_zero(C, B, T);
    const double scale = sum_over_batch ? 1.0 : 1.0 / double(std::max<Index>(B, 1));
    double total = 0;
    for (Index s = 0; s < B; ++s) {
      const int y = b.labels[std::size_t(s)];
      detail::check_label(y, C, name());
      const Index len = b.length(s);
      for (Index t = 0; t < len; ++t) {
        const double on = target(t);
        for (Index c = 0; c < C; ++c) {
          const double d = double(out(c, s, t)) - (c == y ? on : 0.0);
          total += 0.5 * d * d;
          if (g) (*g)(c, s, t) = S(d * scale);
        }
      }
    }
    return S(total * scale);
  }
};

class PspCountMse {
 public:
  double desired = 5.0;          ///< target count of the labelled class (N-MNIST config: 15)
  double undesired = 0.0;        ///< target count of the other classes (N-MNIST config: 3)
  bool sum_over_batch = false;   ///< sum over samples instead of the mean (the official code)

  static std::string name() { return "PspCountMse"; }

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
    Tally t;
    for (Index s = 0; s < out.batch(); ++s) {
      const int y = b.labels[std::size_t(s)];
      detail::check_label(y, out.features(), name());
      t.correct += detail::summed_argmax(out, s, b.length(s)) == y;
      ++t.total;
    }
    return t;
  }
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(desired), CEREAL_NVP(undesired), CEREAL_NVP(sum_over_batch));
  }

 private:
  template <Scalar S>
  S compute(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>* g) const {
    detail::require_labels(b.labels.size() == std::size_t(out.batch()), name(), "per-sample labels");
    const Index C = out.features(), B = out.batch(), T = out.steps();
    if (g) g->resize_zero(C, B, T);
    const double scale = sum_over_batch ? 1.0 : 1.0 / double(std::max<Index>(B, 1));
    double total = 0;
    for (Index s = 0; s < B; ++s) {
      const int y = b.labels[std::size_t(s)];
      detail::check_label(y, C, name());
      const Index len = b.length(s);
      if (len == 0) continue;
      for (Index c = 0; c < C; ++c) {
        double n = 0;
        for (Index t = 0; t < len; ++t) n += double(out(c, s, t));
        double d = (n - (c == y ? desired : undesired)) / double(len);
        if (c == y ? d > 0 : d < 0) d = 0;  // on the right side of the target: no error
        total += 0.5 * double(len) * d * d;
        if (g && d != 0)
          for (Index t = 0; t < len; ++t) (*g)(c, s, t) = S(d * scale);
      }
    }
    return S(total * scale);
  }
};

static_assert(Loss<PspKernelMse, float> && Loss<PspKernelMse, double> && Loss<PspCountMse, float> &&
              Loss<PspCountMse, double>);

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((), (spikelab::PspKernelMse), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::PspCountMse), 1)

#endif
