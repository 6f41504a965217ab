/**
 * @file metrics/spiking_readout.hpp
 * @brief SpikingReadout: classification error of a spiking network's (filtered) output as a
 *        function of presentation time, accumulated over batches.
 *
 * For every sample shown for T steps with output out(c, t) (e.g. the alpha-filtered logits of a
 * transferred soft-LIF network), three decisions are scored:
 *  - window: argmax_c of the mean of out over [t_c, T) (Hunsberger & Eliasmith's protocol:
 *    presentation time t_p = T dt, classification from t_c on; the same as WindowCrossEntropy);
 *  - instant(t): argmax_c out(c, t), the decision read at time t (one curve point per step);
 *  - cumulative(t): argmax_c of the mean of out over [0, t] (output accumulated since onset).
 * instant and cumulative give the error had the presentation ended after t+1 steps.
 * Ties go to the lowest class index. Samples must all have T steps (no ragged batches).
 *
 * @code
 * @article{hunsberger2015spiking, title={Spiking Deep Networks with LIF Neurons},
 *   author={Hunsberger, Eric and Eliasmith, Chris}, journal={arXiv:1510.08829}, year={2015}}
 * @endcode
 */
#ifndef SPIKELAB_METRICS_SPIKING_READOUT_HPP
#define SPIKELAB_METRICS_SPIKING_READOUT_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/tally.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace spikelab {

/// The classification error of a spiking network's (filtered) output as a function of
/// presentation time, accumulated over batches (Hunsberger & Eliasmith, arXiv:1510.08829, 2015).
class SpikingReadout {
 public:
  SpikingReadout() = default;
  /// A readout whose window decision starts at step `classify_from` (t_c / dt).
  /// @param classify_from the first step of the window decision
  explicit SpikingReadout(Index classify_from) : start_(classify_from) {
    if (classify_from < 0) throw ConfigError("SpikingReadout: negative classification start");
  }

  /// The first step of the window decision.
  Index classify_from() const noexcept { return start_; }
  /// Steps per presentation (0 before the first add()).
  Index steps() const noexcept { return steps_; }
  /// Samples scored so far.
  Index samples() const noexcept { return window_.total; }

  /// Scores one batch: out is classes x (batch * T), labels one per sample.
  template <Scalar S>
  void add(const TimeSeries<S>& out, const std::vector<int>& labels) {
    const Index C = out.features(), B = out.batch(), T = out.steps();
    if (labels.size() != std::size_t(B))
      throw ShapeError("SpikingReadout: " + std::to_string(labels.size()) + " labels for " + std::to_string(B) + " samples");
    if (T <= 0 || C <= 0) throw ShapeError("SpikingReadout: empty output " + out.shape_string());
    if (steps_ == 0) {
      steps_ = T;
      instant_.assign(std::size_t(T), 0);
      cumulative_.assign(std::size_t(T), 0);
    } else if (steps_ != T) {
      throw ShapeError("SpikingReadout: batches with " + std::to_string(T) + " and " + std::to_string(steps_) +
                       " steps cannot be pooled");
    }
    const Index t0 = std::min(start_, T - 1);
    sum_.resize(C);
    win_.resize(C);
    for (Index b = 0; b < B; ++b) {
      const int y = labels[std::size_t(b)];
      if (y < 0 || y >= C)
        throw ShapeError("SpikingReadout: label " + std::to_string(y) + " outside [0, " + std::to_string(C) + ")");
      sum_.setZero();
      win_.setZero();
      for (Index t = 0; t < T; ++t) {
        const auto col = out.values().col(out.column(b, t));
        for (Index c = 0; c < C; ++c) sum_[c] += double(col[c]);
        if (t >= t0)
          for (Index c = 0; c < C; ++c) win_[c] += double(col[c]);
        instant_[std::size_t(t)] += (argmax(col) == y);
        cumulative_[std::size_t(t)] += (argmax(sum_) == y);
      }
      window_.correct += (argmax(win_) == y);
      ++window_.total;
    }
  }

  /// Decisions from the mean output over [t_c, T).
  const Tally& window() const noexcept { return window_; }
  /// The error of the window decision.
  double window_error() const noexcept { return 1.0 - window_.accuracy(); }
  /// Error of the decision read at step t.
  double instant_error(Index t) const { return error_at(instant_, t); }
  /// Error of the decision from the mean output over [0, t].
  double cumulative_error(Index t) const { return error_at(cumulative_, t); }

 private:
  template <class V>
  static Index argmax(const V& v) {
    Index a = 0;
    for (Index c = 1; c < v.size(); ++c)
      if (v[c] > v[a]) a = c;
    return a;
  }
  double error_at(const std::vector<Index>& v, Index t) const {
    if (t < 0 || t >= steps_) throw ShapeError("SpikingReadout: step " + std::to_string(t) + " outside the presentation");
    return window_.total ? 1.0 - double(v[std::size_t(t)]) / double(window_.total) : 0.0;
  }

  Index start_ = 0, steps_ = 0;
  Tally window_{};
  std::vector<Index> instant_, cumulative_;
  Eigen::VectorXd sum_, win_;
};

}  // namespace spikelab

#endif
