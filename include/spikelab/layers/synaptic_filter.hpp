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

namespace spikelab {

/// Shape of the synaptic kernel.
enum class SynapseKind : std::uint8_t { exponential = 0, alpha = 1 };

struct SynapticFilterConfig {
  SynapseKind kind = SynapseKind::alpha;
  double tau = 0.005;  ///< time constant (s); 0 = no filtering
  double dt = 0.001;   ///< simulation step (s)
  void validate() const {
    if (!(tau >= 0) || !(dt > 0) || !std::isfinite(tau) || !std::isfinite(dt) ||
        (kind != SynapseKind::exponential && kind != SynapseKind::alpha))
      throw ConfigError("SynapticFilter: need tau >= 0, dt > 0 and a known kind (got tau=" + std::to_string(tau) +
                        ", dt=" + std::to_string(dt) + ")");
  }
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(kind), CEREAL_NVP(tau), CEREAL_NVP(dt));
  }
};

namespace detail {

/// The zero-order-hold low-pass recursion along time of every feature of an n x (B*T) series
/// x: y_t = a y_{t-1} + c x_t from y_{-1} = 0; with `two`, two such stages in cascade, the
/// first one's state in z (n x B, zero on entry).
template <Scalar S>
void low_pass(const S* x, S* y, S* z, Index n, Index B, Index T, S a, S c, bool two) {
  parallel_ranges(n, double(B) * double(T) * 3, [&](Index r0, Index r1) {
    for (Index t = 0; t < T; ++t)
      for (Index b = 0; b < B; ++b) {
        const Index col = (t * B + b) * n, prev = col - B * n;
        for (Index r = r0; r < r1; ++r) {
          S u = x[col + r];
          if (two) u = z[b * n + r] = a * z[b * n + r] + c * u;
          y[col + r] = (t == 0 ? S(0) : a * y[prev + r]) + c * u;
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

template <Scalar S>
class SynapticFilter : public detail::FeatureLayer<SynapticFilter<S>, S, SynapticFilterConfig> {
 public:
  static constexpr const char* config_key = "config";

  /// Explicit state: the first stage z and the output y (neurons x batch).
  struct State {
    Matrix<S> z, y;
  };

  SynapticFilter() = default;
  explicit SynapticFilter(Index features, SynapticFilterConfig cfg = {}) : SynapticFilter::FeatureLayer(features, cfg) {}

  static std::string name() { return "SynapticFilter"; }
  /// Throws ConfigError unless `cfg` is valid (it fits any number of features).
  static void validate(Index, const SynapticFilterConfig& cfg) { cfg.validate(); }
  const SynapticFilterConfig& config() const noexcept { return cfg_; }
  bool alpha() const noexcept { return cfg_.kind == SynapseKind::alpha; }
  /// The per-step decay a = exp(-dt/tau) (0 for tau = 0).
  double decay() const noexcept { return cfg_.tau > 0 ? std::exp(-cfg_.dt / cfg_.tau) : 0.0; }
  /// "SynapticFilter(n)": the structure only (checkpoints restore the configuration).
  std::string signature() const { return name() + "(" + std::to_string(n_) + ")"; }
  /// The signature with the configuration: "SynapticFilter<alpha,tau=0.005,dt=0.001>(n)".
  std::string description() const {
    std::ostringstream s;
    s << name() << "<" << (alpha() ? "alpha" : "exponential") << ",tau=" << cfg_.tau << ",dt=" << cfg_.dt << ">(" << n_
      << ")";
    return s.str();
  }

  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    this->require_input(in);
    const Index B = in.batch(), T = in.steps();
    out.resize(n_, B, T);
    const S a = S(decay());
    if (alpha()) z_.setZero(n_, B);
    detail::low_pass(in.data(), out.data(), z_.data(), n_, B, T, a, S(1) - a, alpha());
  }

  /// The adjoint recursion: dL/dx from dL/dy, backwards in time. No parameters.
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    this->require_gradient(in, out, grad_out);
    if (!grad_in) return;
    const Index B = out.batch(), T = out.steps();
    grad_in->resize(n_, B, T);
    const S a = S(decay());
    gy_.setZero(n_, B);
    if (alpha()) gz_.setZero(n_, B);
    detail::low_pass_adjoint(grad_out.data(), grad_in->data(), gy_.data(), gz_.data(), n_, B, T, a, S(1) - a, alpha());
  }

  State make_state(Index batch) const {
    State s;
    s.z.setZero(n_, batch);
    s.y.setZero(n_, batch);
    return s;
  }
  /// Advances `st` by one step with input x (n x batch).
  void step(State& st, const ConstMatrixRef<S>& x) const {
    if (x.rows() != n_ || x.cols() != st.y.cols()) throw ShapeError(signature() + "::step: input does not match the state");
    const S a = S(decay()), c = S(1) - a;
    if (alpha()) {
      st.z = a * st.z + c * x;
      st.y = a * st.y + c * st.z;
    } else {
      st.y = a * st.y + c * x;
    }
  }
  const Matrix<S>& output(const State& st) const noexcept { return st.y; }

 private:
  using SynapticFilter::FeatureLayer::n_, SynapticFilter::FeatureLayer::cfg_;
  Matrix<S> z_, gy_, gz_;  // per-step state / adjoint buffers (n x batch), reused
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::SynapticFilter<S>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::SynapticFilterConfig), 1)

#endif
