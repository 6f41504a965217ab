/**
 * @file core/time_series.hpp
 * @brief TimeSeries<S>: T time steps of a (features x batch) block held in ONE contiguous
 *        column-major matrix of shape features x (batch * T).
 *
 * Slot t (all samples at time t) is the block of columns [t*batch, (t+1)*batch), so
 *  - a feed-forward projection of all T steps is one matrix product  W * values(),
 *  - a weight gradient over all T steps is one product  G * X^T,
 *  - one time step is a contiguous block (cheap for recurrent per-step products).
 * Column c holds sample c % batch at step c / batch.
 */
#ifndef SPIKELAB_CORE_TIME_SERIES_HPP
#define SPIKELAB_CORE_TIME_SERIES_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/types.hpp>

#include <string>

namespace spikelab {

template <Scalar S>
class TimeSeries {
 public:
  using scalar_type = S;

  TimeSeries() = default;
  TimeSeries(Index features, Index batch, Index steps) { resize(features, batch, steps); }

  /// Resizes without keeping values. Storage is reused when the element count is unchanged.
  void resize(Index features, Index batch, Index steps) {
    if (features < 0 || batch < 0 || steps < 0) throw ShapeError("TimeSeries: negative size");
    values_.resize(features, batch * steps);
    batch_ = batch;
    steps_ = steps;
  }
  /// Resizes (if needed) and sets every value to zero.
  void resize_zero(Index features, Index batch, Index steps) {
    resize(features, batch, steps);
    values_.setZero();
  }
  void set_zero() { values_.setZero(); }

  Index features() const noexcept { return values_.rows(); }
  Index batch() const noexcept { return batch_; }
  Index steps() const noexcept { return steps_; }
  Index columns() const noexcept { return values_.cols(); }

  /// All steps: features x (batch * steps).
  Matrix<S>& values() noexcept { return values_; }
  const Matrix<S>& values() const noexcept { return values_; }

  /// The (features x batch) block of step t.
  auto slot(Index t) { return values_.middleCols(t * batch_, batch_); }
  auto slot(Index t) const { return values_.middleCols(t * batch_, batch_); }

  /// Column index of (sample b, step t).
  Index column(Index b, Index t) const noexcept { return t * batch_ + b; }
  S& operator()(Index feature, Index b, Index t) { return values_(feature, t * batch_ + b); }
  S operator()(Index feature, Index b, Index t) const { return values_(feature, t * batch_ + b); }

  S* data() noexcept { return values_.data(); }
  const S* data() const noexcept { return values_.data(); }

  bool same_shape(const TimeSeries& o) const noexcept {
    return features() == o.features() && batch_ == o.batch_ && steps_ == o.steps_;
  }
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
};

}  // namespace spikelab

#endif
