/**
 * @file core/time_series.hpp
 * @brief `TimeSeries<S>`: T time steps of a (features x batch) block held in ONE contiguous
 *        column-major matrix of shape features x (batch * T).
 *
 * Slot t (all samples at time t) is the block of columns [t*batch, (t+1)*batch), so
 *  - a feed-forward projection of all T steps is one matrix product  W * values(),
 *  - a weight gradient over all T steps is one product  G * X^T,
 *  - one time step is a contiguous block (cheap for recurrent per-step products).
 * Column c holds sample c % batch at step c / batch.
 *
 * Static inputs: when every step is a multiple of one block, \f$ X_t = a_t X_0 \f$ (an image
 * shown at every step, a = 1; or such an input through a linear filter over time), a linear
 * layer projects the block once instead of T times and its weight gradient is
 * \f$ (\sum_t a_t G_t) X_0^\top \f$. static_steps() finds such series: from the data (all steps
 * bitwise equal) or from the factors a producer recorded with assign_static(), checked against
 * the values, so a series changed since is never taken for static.
 */
#ifndef SPIKELAB_CORE_TIME_SERIES_HPP
#define SPIKELAB_CORE_TIME_SERIES_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/types.hpp>

#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace spikelab {

/// A series whose every step is a multiple of one block: slot(t) = scale[t] * base (see the
/// file comment). The pointers point into the series (valid while it lives, unchanged).
/// @tparam S the scalar type (float or double)
template <Scalar S>
struct StaticSteps {
  const S* base = nullptr;    ///< features x batch, column-major
  const S* scale = nullptr;   ///< one factor per step, or null when every factor is 1
  bool unit = false;          ///< every factor is 1 (all steps equal)
  /// a_t, the factor of step t.
  S factor(Index t) const noexcept { return scale ? scale[t] : S(1); }
};

/// T time steps of a (features x batch) block in one contiguous column-major matrix of shape
/// features x (batch * T): slot t is columns [t*batch, (t+1)*batch), so a projection of all
/// steps is one matrix product (layout and static inputs: the file comment).
/// @tparam S the scalar type (float or double)
template <Scalar S>
class TimeSeries {
 public:
  using scalar_type = S;  ///< the scalar type S

  TimeSeries() = default;
  /// A series of the given shape (values uninitialised).
  /// @param features rows of every column
  /// @param batch samples per step
  /// @param steps time steps T
  TimeSeries(Index features, Index batch, Index steps) { resize(features, batch, steps); }

  /// Resizes without keeping values. Storage is reused when the element count is unchanged.
  void resize(Index features, Index batch, Index steps) {
    if (features < 0 || batch < 0 || steps < 0) throw ShapeError("TimeSeries: negative size");
    values_.resize(features, batch * steps);
    batch_ = batch;
    steps_ = steps;
    scale_.clear();
  }
  /// Resizes (if needed) and sets every value to zero.
  void resize_zero(Index features, Index batch, Index steps) {
    resize(features, batch, steps);
    values_.setZero();
  }
  /// Sets every value to zero, keeping the shape.
  void set_zero() {
    values_.setZero();
    scale_.clear();
  }

  /// Sets every step t to scale[t] * base (base: features x batch, scale: one factor per step)
  /// and records the factors for static_steps().
  void assign_static(const ConstMatrixRef<S>& base, const std::vector<S>& scale) {
    if (base.rows() != features() || base.cols() != batch_ || Index(scale.size()) != steps_)
      throw ShapeError("TimeSeries::assign_static: a " + std::to_string(base.rows()) + " x " +
                       std::to_string(base.cols()) + " block and " + std::to_string(scale.size()) + " factors for " +
                       shape_string());
    base_ = base;
    for (Index t = 0; t < steps_; ++t) slot(t) = scale[std::size_t(t)] * base_;
    scale_ = scale;
  }

  /// The block and factors if every step is a multiple of one block (see the file comment),
  /// else nothing; also nothing for fewer than two steps. One pass over the values at most
  /// (a series that varies usually differs within its first few values).
  std::optional<StaticSteps<S>> static_steps() const {
    if (steps_ < 2 || values_.size() == 0) return std::nullopt;
    const Index n = features() * batch_;
    const S* v = values_.data();
    if (!scale_.empty() && Index(scale_.size()) == steps_ && base_.rows() == features() && base_.cols() == batch_) {
      const S* b = base_.data();
      bool unit = true;
      for (Index t = 0; t < steps_; ++t) {
        const S a = scale_[std::size_t(t)];
        const S* vt = v + t * n;
        for (Index k = 0; k < n; ++k)
          if (!(vt[k] == a * b[k])) return std::nullopt;
        unit = unit && a == S(1);
      }
      return StaticSteps<S>{b, unit ? nullptr : scale_.data(), unit};
    }
    for (Index t = 1; t < steps_; ++t)
      if (std::memcmp(v + t * n, v, std::size_t(n) * sizeof(S)) != 0) return std::nullopt;
    return StaticSteps<S>{v, nullptr, true};
  }

  /// Rows of every column.
  Index features() const noexcept { return values_.rows(); }
  /// Samples per step.
  Index batch() const noexcept { return batch_; }
  /// Time steps T.
  Index steps() const noexcept { return steps_; }
  /// batch * steps.
  Index columns() const noexcept { return values_.cols(); }

  /// All steps: features x (batch * steps).
  Matrix<S>& values() noexcept { return values_; }
  /// All steps: features x (batch * steps).
  const Matrix<S>& values() const noexcept { return values_; }

  /// The (features x batch) block of step t.
  auto slot(Index t) { return values_.middleCols(t * batch_, batch_); }
  /// The (features x batch) block of step t.
  auto slot(Index t) const { return values_.middleCols(t * batch_, batch_); }

  /// Column index of (sample b, step t).
  Index column(Index b, Index t) const noexcept { return t * batch_ + b; }
  /// The value of `feature` for sample b at step t.
  S& operator()(Index feature, Index b, Index t) { return values_(feature, t * batch_ + b); }
  /// The value of `feature` for sample b at step t.
  S operator()(Index feature, Index b, Index t) const { return values_(feature, t * batch_ + b); }

  /// The first value; the layout is column-major, column t*batch + b for (sample b, step t).
  S* data() noexcept { return values_.data(); }
  /// The first value; the layout is column-major, column t*batch + b for (sample b, step t).
  const S* data() const noexcept { return values_.data(); }

  /// True if `o` has the same features, batch and steps.
  bool same_shape(const TimeSeries& o) const noexcept {
    return features() == o.features() && batch_ == o.batch_ && steps_ == o.steps_;
  }
  /// The shape as "[F features x B batch x T steps]", for messages.
  std::string shape_string() const {
    std::string s(1, '[');
    s += std::to_string(features());
    s += " features x ";
    s += std::to_string(batch_);
    s += " batch x ";
    s += std::to_string(steps_);
    s += " steps]";
    return s;
  }

 private:
  Matrix<S> values_;
  Index batch_ = 0;
  Index steps_ = 0;
  // the factors recorded by assign_static (scale_ empty: none)
  Matrix<S> base_;
  std::vector<S> scale_;
};

}  // namespace spikelab

#endif
