/**
 * @file layers/synaptic_filter.hpp
 * @brief SynapticFilter: a linear synapse that low-pass filters every feature over time:
 *        exponential (first-order) or alpha (second-order) kernel with unit area, discretised
 *        with step dt. Differentiable (exact adjoint), so it serves spiking inference networks
 *        and trained SNNs alike.
 *
 * Continuous kernels: exponential \f$ h(t) = e^{-t/\tau}/\tau \f$, alpha \f$ h(t) = t e^{-t/\tau}/\tau^2 \f$
 * (the alpha kernel is two exponential stages in cascade). With \f$ a = e^{-dt/\tau} \f$, each stage
 * is the zero-order-hold update
 * \f[ z_t = a\, z_{t-1} + (1 - a)\, x_t, \qquad \text{alpha: } y_t = a\, y_{t-1} + (1 - a)\, z_t, \f]
 * from zero state, so a constant input x gives y -> x (unit DC gain) and a spike of value 1/dt
 * in one step adds a unit-area response. tau = 0 passes the input through. The backward pass
 * runs the same recursions backwards in time (the adjoint of a linear filter).
 *
 * `stages` > 1 applies the kernel that many times in cascade (still unit DC gain): a Nengo
 * network that filters both a layer's input and the current into its neurons with the same
 * synapse, as Hunsberger & Eliasmith's evaluation script does, puts two alpha kernels between
 * one layer's spikes and the next layer's neurons. forward_continued() runs a sequence from a
 * given State and leaves the state after its last step there, so that a long run can be
 * simulated in pieces (conversion/back_to_back.hpp).
 *
 * @code
 * @article{hunsberger2015spiking, title={Spiking Deep Networks with LIF Neurons},
 *   author={Hunsberger, Eric and Eliasmith, Chris}, journal={arXiv:1510.08829}, year={2015}}
 * @book{dayan2001theoretical, title={Theoretical Neuroscience}, author={Dayan, Peter and Abbott, Laurence F.},
 *   publisher={MIT Press}, year={2001}}
 * @endcode
 */
#ifndef SPIKELAB_LAYERS_SYNAPTIC_FILTER_HPP
#define SPIKELAB_LAYERS_SYNAPTIC_FILTER_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/layers/layer_base.hpp>

#include <cereal/cereal.hpp>

#include <cmath>
#include <cstdint>
#include <sstream>
#include <string>
#include <vector>

namespace spikelab {

/// Shape of the synaptic kernel.
enum class SynapseKind : std::uint8_t { exponential = 0, alpha = 1 };

/// Hyperparameters of a SynapticFilter: the kernel, its time constant, the step and the number
/// of stages in cascade.
struct SynapticFilterConfig {
  SynapseKind kind = SynapseKind::alpha;  ///< exponential or alpha kernel
  double tau = 0.005;  ///< time constant (s); 0 = no filtering
  double dt = 0.001;   ///< simulation step (s)
  int stages = 1;      ///< the kernel applied this many times in cascade
  /// Throws ConfigError unless every value is in range.
  void validate() const {
    if (!(tau >= 0) || !(dt > 0) || !std::isfinite(tau) || !std::isfinite(dt) ||
        (kind != SynapseKind::exponential && kind != SynapseKind::alpha) || stages < 1 || stages > 16)
      throw ConfigError("SynapticFilter: need tau >= 0, dt > 0, a known kind and 1 <= stages <= 16 (got tau=" +
                        std::to_string(tau) + ", dt=" + std::to_string(dt) + ", stages=" + std::to_string(stages) +
                        ")");
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t version) {
    ar(CEREAL_NVP(kind), CEREAL_NVP(tau), CEREAL_NVP(dt));
    if (version >= 2) ar(CEREAL_NVP(stages));
    else stages = 1;
  }
};

namespace detail {

/// The zero-order-hold low-pass recursion along time of every feature of an n x (B*T) series
/// x: y_t = a y_{t-1} + c x_t from y_{-1} = ys; with `two`, two such stages in cascade, the
/// first one's state in z. The states ys and z (n x B) hold the values before the first step
/// on entry and those after the last step on return. y may be x (in place).
template <Scalar S>
void low_pass(const S* x, S* y, S* ys, S* z, Index n, Index B, Index T, S a, S c, bool two) {
  parallel_ranges(n, double(B) * double(T) * 3, [&](Index r0, Index r1) {
    for (Index t = 0; t < T; ++t)
      for (Index b = 0; b < B; ++b) {
        const Index col = (t * B + b) * n, sc = b * n;
        for (Index r = r0; r < r1; ++r) {
          S u = x[col + r];
          if (two) u = z[sc + r] = a * z[sc + r] + c * u;
          y[col + r] = ys[sc + r] = a * ys[sc + r] + c * u;
        }
      }
  });
}

/// The adjoint of low_pass: dL/dx (gx) from dL/dy (g), the same recursions backwards in time,
/// with the adjoint states of the stages in uy and uz (n x B, zero on entry).
template <Scalar S>
void low_pass_adjoint(const S* g, S* gx, S* uy, S* uz, Index n, Index B, Index T, S a, S c, bool two) {
  parallel_ranges(n, double(B) * double(T) * 4, [&](Index r0, Index r1) {
    for (Index t = T - 1; t >= 0; --t)
      for (Index b = 0; b < B; ++b) {
        const Index col = (t * B + b) * n, sc = b * n;
        for (Index r = r0; r < r1; ++r) {
          // u_t = dL/dy_t + a u_{t+1}: the total gradient reaching y_t
          const S u = uy[sc + r] = g[col + r] + a * uy[sc + r];
          S d = c * u;
          if (two) d = c * (uz[sc + r] = d + a * uz[sc + r]);
          gx[col + r] = d;
        }
      }
  });
}

}  // namespace detail

/// A linear synapse that low-pass filters every feature with an exponential or alpha kernel of
/// unit area, \f$ z_t = a z_{t-1} + (1-a) x_t \f$ per stage with \f$ a = e^{-dt/\tau} \f$
/// (Dayan & Abbott, Theoretical Neuroscience, MIT Press 2001; Nengo's synapses as used by
/// Hunsberger & Eliasmith, arXiv:1510.08829, 2015).
/// @tparam S the scalar type (float or double)
template <Scalar S>
class SynapticFilter : public detail::FeatureLayer<SynapticFilter<S>, S, SynapticFilterConfig> {
 public:
  static constexpr const char* config_key = "config";  ///< the name of the configuration in a checkpoint

  /// Explicit state, per stage of the cascade: the first exponential stage z (alpha only) and
  /// the stage's output y (neurons x batch each).
  struct State {
    ///@{
    /// The intermediate (z) and output (y) stages of the last step.
    std::vector<Matrix<S>> z, y;
    ///@}
  };

  SynapticFilter() = default;
  /// A filter of `features` features.
  /// @param features the number of features
  /// @param cfg kernel, time constant, step and stages
  explicit SynapticFilter(Index features, SynapticFilterConfig cfg = {}) : SynapticFilter::FeatureLayer(features, cfg) {}

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "SynapticFilter"; }
  /// Throws ConfigError unless `cfg` is valid (it fits any number of features).
  static void validate(Index, const SynapticFilterConfig& cfg) { cfg.validate(); }
  /// The run-time configuration.
  const SynapticFilterConfig& config() const noexcept { return cfg_; }
  /// True for the alpha kernel, false for the exponential one.
  bool alpha() const noexcept { return cfg_.kind == SynapseKind::alpha; }
  /// The per-step decay a = exp(-dt/tau) (0 for tau = 0).
  double decay() const noexcept { return cfg_.tau > 0 ? std::exp(-cfg_.dt / cfg_.tau) : 0.0; }
  /// "SynapticFilter(n)": the structure only (checkpoints restore the configuration).
  std::string signature() const { return name() + "(" + std::to_string(n_) + ")"; }
  /// The signature with the configuration: "SynapticFilter<alpha,tau=0.005,dt=0.001>(n)", with
  /// "x2" after the kind for two stages.
  std::string description() const {
    std::ostringstream s;
    s << name() << "<" << (alpha() ? "alpha" : "exponential");
    if (cfg_.stages > 1) s << "x" << cfg_.stages;
    s << ",tau=" << cfg_.tau << ",dt=" << cfg_.dt << ">(" << n_ << ")";
    return s.str();
  }

  /// Filters every step of `in` from the zero state.
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    this->require_input(in);
    const Index B = in.batch();
    if (run_.y.size() != std::size_t(cfg_.stages) || (run_.y.front().cols() != B)) run_ = make_state(B);
    for (std::size_t k = 0; k < run_.y.size(); ++k) {
      run_.y[k].setZero();
      if (alpha()) run_.z[k].setZero();
    }
    filter(in, out, run_);
  }

  /// Filters every step of `in` starting from `st` (e.g. the state a previous call left) and
  /// leaves the state after the last step in `st`: forward_continued over consecutive pieces
  /// of a sequence gives what forward() gives on the whole sequence.
  void forward_continued(const TimeSeries<S>& in, TimeSeries<S>& out, State& st) const {
    this->require_input(in);
    check_state(st, in.batch());
    filter(in, out, st);
  }

  /// The adjoint recursion: dL/dx from dL/dy, backwards in time. No parameters.
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    this->require_gradient(in, out, grad_out);
    if (!grad_in) return;
    const Index B = out.batch(), T = out.steps();
    grad_in->resize(n_, B, T);
    const S a = S(decay());
    const S* g = grad_out.data();
    for (int k = 0; k < cfg_.stages; ++k) {
      gy_.setZero(n_, B);
      if (alpha()) gz_.setZero(n_, B);
      detail::low_pass_adjoint(g, grad_in->data(), gy_.data(), gz_.data(), n_, B, T, a, S(1) - a, alpha());
      g = grad_in->data();  // the next stage runs in place
    }
  }

  /// The zero state of `batch` samples (see NeuronModel).
  State make_state(Index batch) const {
    State s;
    s.y.assign(std::size_t(cfg_.stages), Matrix<S>::Zero(n_, batch));
    if (alpha()) s.z.assign(std::size_t(cfg_.stages), Matrix<S>::Zero(n_, batch));
    return s;
  }
  /// Advances `st` by one step with input x (n x batch).
  void step(State& st, const ConstMatrixRef<S>& x) const {
    if (x.rows() != n_ || st.y.empty() || x.cols() != st.y.front().cols())
      throw ShapeError(signature() + "::step: input does not match the state");
    check_state(st, x.cols());
    const S a = S(decay()), c = S(1) - a;
    for (std::size_t k = 0; k < st.y.size(); ++k) {
      const ConstMatrixRef<S> u = k == 0 ? x : ConstMatrixRef<S>(st.y[k - 1]);
      if (alpha()) {
        st.z[k] = a * st.z[k] + c * u;
        st.y[k] = a * st.y[k] + c * st.z[k];
      } else {
        st.y[k] = a * st.y[k] + c * u;
      }
    }
  }
  /// The layer's output at the state's last step (see NeuronModel).
  const Matrix<S>& output(const State& st) const noexcept { return st.y.back(); }

 private:
  using SynapticFilter::FeatureLayer::n_, SynapticFilter::FeatureLayer::cfg_;

  void check_state(const State& st, Index B) const {
    auto fits = [&](const std::vector<Matrix<S>>& v) {
      if (v.size() != std::size_t(cfg_.stages)) return false;
      for (const auto& m : v)
        if (m.rows() != n_ || m.cols() != B) return false;
      return true;
    };
    if (!fits(st.y) || (alpha() && !fits(st.z)))
      throw ShapeError(signature() + ": the state does not fit " + std::to_string(cfg_.stages) + " stage(s) of " +
                       std::to_string(n_) + " x " + std::to_string(B) + " (make it with make_state(batch))");
  }

  // every stage in turn, the first from `in` into `out`, the others in place on `out`
  void filter(const TimeSeries<S>& in, TimeSeries<S>& out, State& st) const {
    const Index B = in.batch(), T = in.steps();
    out.resize(n_, B, T);
    const S a = S(decay());
    const S* x = in.data();
    for (std::size_t k = 0; k < st.y.size(); ++k) {
      S* z = alpha() ? st.z[k].data() : nullptr;
      detail::low_pass(x, out.data(), st.y[k].data(), z, n_, B, T, a, S(1) - a, alpha());
      x = out.data();
    }
  }

  State run_;              // forward()'s state, reused
  Matrix<S> gy_, gz_;      // adjoint buffers (n x batch), reused
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::SynapticFilter<S>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::SynapticFilterConfig), 2)

#endif
