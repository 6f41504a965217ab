/**
 * @file losses/loss_base.hpp
 * @brief SPIKELAB_LOSS_FROM_COMPUTE: the value / gradient / tally trio of the Loss concept from
 *        one pass of the loss, and what the losses share: the label checks, the softmax cross-entropy of
 *        one column of logits, and per-scalar scratch buffers.
 *
 * A loss L defines one pass
 * @code
 * template <Scalar S>
 * S compute(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>* g, Tally* tally);
 * @endcode
 * that returns the loss, writes dL/d(out) into *g when g is not null (resized to out's shape)
 * and counts correct decisions into *tally when tally is not null. SPIKELAB_LOSS_FROM_COMPUTE,
 * written in L's public section, turns it into
 * `value_and_gradient` (g, no tally), `value` (neither) and `tally` (tally only), so that the
 * loss, its gradient and its decisions always score the same samples and steps.
 *
 * The softmax cross-entropy of a column of logits z against the class y is
 * \f[ \ell(z, y) = \log\sum_c e^{z_c} - z_y, \qquad
 *     \frac{\partial \ell}{\partial z_c} = \frac{e^{z_c}}{\sum_{c'} e^{z_{c'}}} - [c = y], \f]
 * with the log-sum-exp taken from the largest logit (no overflow), and the decision argmax_c z_c.
 */
#ifndef SPIKELAB_LOSSES_LOSS_BASE_HPP
#define SPIKELAB_LOSSES_LOSS_BASE_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/tally.hpp>

#include <cmath>
#include <concepts>
#include <string>

namespace spikelab {

}  // namespace spikelab

/// Declares, inside a loss class that defines the one pass `compute` (see the file comment), the
/// Loss trio `value_and_gradient`, `value` and `tally`. A macro rather than a CRTP base: a base
/// class would make `RateMse{.on_rate = 0.9}` warn under -Wextra (GCC's missing initializer for
/// the unnamed base), and losses are configured that way.
#define SPIKELAB_LOSS_FROM_COMPUTE                                                                     \
  /** The loss; dL/d(out) into g (resized to out's shape). */                                          \
  template <::spikelab::Scalar S>                                                                      \
  S value_and_gradient(const ::spikelab::TimeSeries<S>& out, const ::spikelab::Batch<S>& b,            \
                       ::spikelab::TimeSeries<S>& g) {                                                 \
    return this->template compute<S>(out, b, &g, nullptr);                                             \
  }                                                                                                    \
  /** The loss only. */                                                                                \
  template <::spikelab::Scalar S>                                                                      \
  S value(const ::spikelab::TimeSeries<S>& out, const ::spikelab::Batch<S>& b) {                       \
    return this->template compute<S>(out, b, nullptr, nullptr);                                        \
  }                                                                                                    \
  /** The correct decisions over the batch. */                                                         \
  template <::spikelab::Scalar S>                                                                      \
  ::spikelab::Tally tally(const ::spikelab::TimeSeries<S>& out, const ::spikelab::Batch<S>& b) {       \
    ::spikelab::Tally t;                                                                               \
    this->template compute<S>(out, b, nullptr, &t);                                                    \
    return t;                                                                                          \
  }

namespace spikelab {

namespace detail {

/// Throws ShapeError naming the loss unless `ok` (the batch holds the labels the loss reads).
inline void require_labels(bool ok, const std::string& loss, const char* what) {
  if (!ok) throw ShapeError(loss + ": the batch has no " + what);
}

/// Throws ShapeError naming the loss unless the batch holds one label per sample of out.
template <Scalar S>
void require_sample_labels(const TimeSeries<S>& out, const Batch<S>& b, const std::string& loss) {
  require_labels(b.labels.size() == std::size_t(out.batch()), loss, "per-sample labels");
}

/// Returns the label y, or throws ShapeError naming the loss when it is outside [0, classes).
inline int check_label(int y, Index classes, const std::string& loss) {
  if (y < 0 || y >= classes)
    throw ShapeError(loss + ": label " + std::to_string(y) + " outside [0, " + std::to_string(classes) + ")");
  return y;
}

/// The checked label of sample s (after require_sample_labels).
template <Scalar S>
int sample_label(const Batch<S>& b, Index s, Index classes, const std::string& loss) {
  return check_label(b.labels[std::size_t(s)], classes, loss);
}

/// Argmax over classes of the output summed over the first `len` steps of sample s.
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

/// Counts one decision into *tally when tally is not null.
inline void count_decision(Tally* tally, bool correct) noexcept {
  if (!tally) return;
  tally->correct += correct;
  ++tally->total;
}

/// The softmax cross-entropy of one column z of logits against the (checked) class y; see the
/// file comment. `z` is any Eigen column expression of scalar S.
template <Scalar S>
struct SoftmaxCrossEntropy {
  int y = 0;
  Index arg = 0;  ///< the decision: the first largest logit
  S lse = 0;      ///< log sum_c e^{z_c}
  double loss = 0;

  template <class Z>
  SoftmaxCrossEntropy(const Eigen::MatrixBase<Z>& z, int label) : y(label) {
    const S m = z.maxCoeff(&arg);
    lse = m + std::log((z.array() - m).exp().sum());
    loss = double(lse - z(y));
  }
  /// d loss / d z_c, given z_c.
  S residual(S zc, Index c) const noexcept { return std::exp(zc - lse) - (c == y ? S(1) : S(0)); }
  bool correct() const noexcept { return arg == y; }
};

/// The pass of a cross-entropy on logits: checks the labels, computes the logits z
/// (classes x batch) with `loss.logits(out, b, z)`, sizes g, and sums the softmax cross-entropy
/// of every column s of z against sample s's label, counting the decisions into *tally; when g
/// is not null, calls `spread(s, ce)` to write dL/d(out) of sample s from dce/dz (ce.residual).
template <Scalar S, class L, class Spread>
double logit_cross_entropy(const L& loss, Matrix<S>& z, const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>* g,
                           Tally* tally, Spread&& spread) {
  require_sample_labels(out, b, L::name());
  loss.logits(out, b, z);
  if (g) g->resize_zero(out.features(), out.batch(), out.steps());
  double total = 0;
  for (Index s = 0; s < z.cols(); ++s) {
    const SoftmaxCrossEntropy<S> ce(z.col(s), sample_label(b, s, z.rows(), L::name()));
    count_decision(tally, ce.correct());
    total += ce.loss;
    if (g) spread(s, ce);
  }
  return total;
}

}  // namespace detail

}  // namespace spikelab

#endif
