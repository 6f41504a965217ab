/**
 * @file neurons/adaptive_lif.hpp
 * @brief AdaptiveLifType: a layer of adaptive leaky integrate-and-fire neurons (ALIF), whose
 *        threshold rises with each of the neuron's own spikes and relaxes back with a slow
 *        time constant (the LSNN neuron of Bellec et al. 2018), trained by exact BPTT with a
 *        surrogate gradient, through the adaptation variable as well as the membrane.
 *
 * For neuron i, sample b, step t (x = the layer input; with `recurrent` plus V s_{t-1}):
 * \f[
 *   a_t = \rho\, a_{t-1} + s_{t-1},\qquad
 *   \theta_t = \theta_0 + \beta_a a_t,\qquad
 *   v_t = R(\beta, v_{t-1}, s_{t-1}, \theta_0, x_t),\qquad
 *   s_t = H(v_t - \theta_t),
 * \f]
 * with a_{-1} = v_{-1} = s_{-1} = 0 (so a_0 = 0) and R a reset policy of neurons/reset.hpp
 * (SubtractReset: \f$\beta v_{t-1} + x_t - \theta_0 s_{t-1}\f$). In the backward pass H' is
 * replaced by the surrogate G evaluated at \f$v_t - \theta_t\f$.
 *
 * Conventions, and why:
 *  - Timing: the spike of step t-1 raises the threshold that step t is compared with, as in the
 *    LSNN code (the adaptation update comes before the spike of the step, from the previous spike).
 *  - Increment: a_t = rho a_{t-1} + s_{t-1}, without the factor (1 - rho) of the LSNN code
 *    (b_t = rho b_{t-1} + (1 - rho) z_{t-1}). For a fixed rho the two are the same neuron with
 *    beta_a = (1 - rho) beta_LSNN; with a trained rho the gradients differ (here rho changes only
 *    the memory, not the size of one spike's step).
 *  - Reset: by the baseline threshold theta_0, not theta_t, as the LSNN code does
 *    (I_reset = z thr with the baseline thr). The adaptation then acts on the firing condition
 *    only, and with beta_a = 0 the layer is exactly LifType with the same R (tested).
 *  - The layer's ResetGradient (AdaptiveLifOptions::reset_gradient, neurons/reset.hpp) applies
 *    to the membrane's reset only; the spike's path into a_{t+1} is always differentiated: it
 *    is how the adaptation carries gradient across time.
 *
 * BPTT (per neuron; \f$h_t = G(v_t - \theta_t)\f$, A = ResetAdjoint<R, P> at
 * \f$(\beta, v_t, s_t, \theta_0)\f$, \f$\delta\f$ = total derivative of the loss, zero after T-1):
 * \f[ \delta s_t = \frac{\partial L}{\partial s_t} + \delta v_{t+1} A_s + \delta a_{t+1},\quad
 *     \delta v_t = \delta s_t h_t + \delta v_{t+1} A_v,\quad
 *     \delta\theta_t = -\delta s_t h_t,\quad
 *     \delta a_t = \beta_a \delta\theta_t + \rho\,\delta a_{t+1}, \f]
 * \f[ \frac{\partial L}{\partial x_t} = \delta v_t,\quad
 *     \frac{\partial L}{\partial \theta_0} = \sum_t \delta\theta_t + \delta v_{t+1} A_\theta,\quad
 *     \frac{\partial L}{\partial \beta_a} = \sum_t \delta\theta_t a_t,\quad
 *     \frac{\partial L}{\partial \rho} = \sum_t \delta a_t a_{t-1},\quad
 *     \frac{\partial L}{\partial \beta} = \sum_t \delta v_t A_\beta(\beta, v_{t-1}, s_{t-1}, \theta_0). \f]
 * theta_0, beta, rho and beta_a are NeuronParameters: fixed, trainable per layer or per neuron
 * (AdaptiveLifOptions), projected into their AdaptiveLifConfig ranges after each optimizer step;
 * rho (like beta) may be switched to a time-constant parameterization with
 * `rho().use_time_constant(dt)`. The training forward pass keeps v and a (n x batch*T each)
 * for the backward pass. There is no synaptic current (LifType has one).
 *
 * @code
 * @inproceedings{bellec2018long, title={Long short-term memory and learning-to-learn in networks of
 *   spiking neurons}, author={Bellec, Guillaume and Salaj, Darjan and Subramoney, Anand and
 *   Legenstein, Robert and Maass, Wolfgang}, booktitle={Advances in Neural Information Processing
 *   Systems (NeurIPS)}, volume={31}, year={2018}}
 * @endcode
 */
#ifndef SPIKELAB_NEURONS_ADAPTIVE_LIF_HPP
#define SPIKELAB_NEURONS_ADAPTIVE_LIF_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/serialization.hpp>
#include <spikelab/core/simd.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/neurons/concepts.hpp>
#include <spikelab/neurons/neuron_parameter.hpp>
#include <spikelab/neurons/reset.hpp>
#include <spikelab/surrogates/surrogates.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

namespace spikelab {

/// Compile-time options of an adaptive LIF layer: which neuron parameters are trained, and how;
/// the recurrent projection; what BPTT does with the membrane's reset (ResetGradient).
struct AdaptiveLifOptions {
  Train threshold = Train::fixed;   ///< the baseline threshold theta_0
  Train beta = Train::fixed;        ///< the membrane decay
  Train rho = Train::fixed;         ///< the adaptation decay
  Train adaptation = Train::fixed;  ///< the adaptation strength beta_a
  bool recurrent = false;           ///< with trainable recurrent weights V
  ResetGradient reset_gradient = ResetGradient::kept;  ///< what BPTT does with the membrane's reset
};

/// Run-time hyperparameters of an adaptive LIF layer (each value must lie in its range).
struct AdaptiveLifConfig {
  double beta = 0.9;        ///< membrane decay, v_t = beta v_{t-1} + ...
  double threshold = 1.0;   ///< baseline threshold theta_0
  double rho = 0.99;        ///< adaptation decay, a_t = rho a_{t-1} + s_{t-1} (0.99: 100 steps)
  double adaptation = 0.1;  ///< adaptation strength beta_a, theta_t = theta_0 + beta_a a_t
  /// Projection range [beta_min, beta_max] of a trained beta (within [0, 1]).
  double beta_min = 0.0, beta_max = 1.0;  ///< projection range of a trained beta
  /// Projection range [rho_min, rho_max] of a trained rho (within [0, 1]).
  double rho_min = 0.0, rho_max = 1.0;  ///< projection range of a trained rho
  /// Projection range [adaptation_min, adaptation_max] of a trained beta_a.
  double adaptation_min = 0.0, adaptation_max = 1e6;  ///< projection range of a trained beta_a
  /// Projection range [threshold_min, threshold_max] of a trained theta_0.
  double threshold_min = 1e-3, threshold_max = 1e6;  ///< projection range of a trained theta_0

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t version) {
    detail::check_version(version, 1, "AdaptiveLifConfig");
    ar(CEREAL_NVP(beta), CEREAL_NVP(threshold), CEREAL_NVP(rho), CEREAL_NVP(adaptation), CEREAL_NVP(beta_min),
       CEREAL_NVP(beta_max), CEREAL_NVP(rho_min), CEREAL_NVP(rho_max), CEREAL_NVP(adaptation_min),
       CEREAL_NVP(adaptation_max), CEREAL_NVP(threshold_min), CEREAL_NVP(threshold_max));
  }
};

/// A layer of adaptive LIF neurons (the LSNN's ALIF; Bellec, Salaj, Subramoney, Legenstein & Maass,
/// NeurIPS 2018): \f$ a_t = \rho a_{t-1} + s_{t-1},\ \theta_t = \theta_0 + \beta_a a_t, \f$
/// \f$ v_t = R(\beta, v_{t-1}, s_{t-1}, \theta_0, x_t),\ s_t = H(v_t - \theta_t) \f$, with the surrogate G
/// in place of H' in the backward pass (conventions and adjoint equations in the file comment).
/// @tparam S the scalar type (float or double)
/// @tparam G the surrogate derivative of the spike (a SurrogateGradient)
/// @tparam R the reset of the membrane after a spike (a ResetPolicy; it subtracts theta_0)
/// @tparam O which parameters are trained, recurrence, and the reset's gradient (AdaptiveLifOptions)
template <Scalar S, SurrogateGradient G = FastSigmoid, ResetPolicy R = SubtractReset,
          AdaptiveLifOptions O = AdaptiveLifOptions{}>
class AdaptiveLifType {
 public:
  using scalar_type = S;  ///< the scalar type S
  using surrogate_type = G;  ///< the surrogate G
  using reset_type = R;  ///< the reset policy R
  static constexpr AdaptiveLifOptions options = O;  ///< the compile-time options O
  static constexpr std::uint32_t class_version = 1;  ///< the class version checkpoints store (cereal)

  /// Explicit state for step-by-step simulation (one column per sample): membrane v,
  /// adaptation a, spikes s of the last step.
  struct State {
    ///@{
    /// Membrane v, adaptation a and spikes s of the last step (neurons x batch).
    Matrix<S> v, a, s;
    ///@}
  };

  /// An empty layer (no neurons), to load a checkpoint into.
  AdaptiveLifType() = default;
  /// A feed-forward adaptive LIF layer of `neurons` neurons.
  /// @param neurons the number of neurons
  /// @param cfg decays, thresholds, adaptation and their ranges
  /// @param surrogate the surrogate derivative (its parameters)
  explicit AdaptiveLifType(Index neurons, AdaptiveLifConfig cfg = {}, G surrogate = {}) requires(!O.recurrent)
      : n_(neurons), cfg_(cfg), surrogate_(surrogate) {
    init_params();
  }
  /// A recurrent adaptive LIF layer; the recurrent weights are drawn uniform in +-1/sqrt(neurons).
  /// @param neurons the number of neurons
  /// @param rng draws the recurrent weights
  /// @param cfg decays, thresholds, adaptation and their ranges
  /// @param surrogate the surrogate derivative (its parameters)
  AdaptiveLifType(Index neurons, Rng& rng, AdaptiveLifConfig cfg = {}, G surrogate = {}) requires(O.recurrent)
      : n_(neurons), cfg_(cfg), surrogate_(surrogate) {
    init_params();
    reset_parameters(rng);
  }

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return O.recurrent ? "RecurrentAdaptiveLif" : "AdaptiveLif"; }
  /// Features per input column.
  Index input_size() const noexcept { return n_; }
  /// Features per output column.
  Index output_size() const noexcept { return n_; }
  /// The run-time configuration.
  const AdaptiveLifConfig& config() const noexcept { return cfg_; }
  /// The surrogate derivative (its parameters).
  const G& surrogate() const noexcept { return surrogate_; }
  /// The surrogate derivative (its parameters).
  G& surrogate() noexcept { return surrogate_; }

  /// The baseline threshold theta_0.
  NeuronParameter<S>& threshold() noexcept { return theta_; }
  /// The membrane decay beta.
  NeuronParameter<S>& beta() noexcept { return beta_; }
  /// The adaptation decay rho.
  NeuronParameter<S>& rho() noexcept { return rho_; }
  /// The adaptation strength beta_a.
  NeuronParameter<S>& adaptation() noexcept { return beta_a_; }
  /// The baseline threshold theta_0.
  const NeuronParameter<S>& threshold() const noexcept { return theta_; }
  /// The membrane decay beta.
  const NeuronParameter<S>& beta() const noexcept { return beta_; }
  /// The adaptation decay rho.
  const NeuronParameter<S>& rho() const noexcept { return rho_; }
  /// The adaptation strength beta_a.
  const NeuronParameter<S>& adaptation() const noexcept { return beta_a_; }
  /// The recurrent weights V (neurons x neurons; empty unless the layer is recurrent).
  Matrix<S>& recurrent_weight() noexcept { return rec_w_; }
  /// The recurrent weights V (neurons x neurons; empty unless the layer is recurrent).
  const Matrix<S>& recurrent_weight() const noexcept { return rec_w_; }

  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const {
    using P = NeuronParameter<S>;
    return name() + "<" + G::name() + "," + R::name() + ",theta:" + P::mode_name(O.threshold) +
           ",beta:" + P::mode_name(O.beta) + ",rho:" + P::mode_name(O.rho) + ",beta_a:" + P::mode_name(O.adaptation) +
           ">(" + std::to_string(n_) + ")";
  }

  /// Draws the recurrent weights anew, uniform in +-1/sqrt(neurons) (nothing to draw otherwise).
  void reset_parameters(Rng& rng) {
    if constexpr (O.recurrent) {
      const double bound = 1.0 / std::sqrt(double(std::max<Index>(n_, 1)));
      rec_w_.resize(n_, n_);
      for (Index k = 0; k < rec_w_.size(); ++k) rec_w_.data()[k] = S(rng.uniform(-bound, bound));
      rec_g_.setZero(n_, n_);
    } else {
      (void)rng;
    }
  }

  /// Calls f(`ParamRef<S>`) for every trainable parameter block, in a fixed order.
  template <class F>
  void for_each_parameter(F&& f) {
    if constexpr (O.recurrent) f(ParamRef<S>{"recurrent_weight", ParamGroup::weight, rec_w_, rec_g_});
    theta_.visit(f, "threshold", ParamGroup::threshold);
    beta_.visit(f, "beta", ParamGroup::time_constant);
    rho_.visit(f, "rho", ParamGroup::time_constant);
    beta_a_.visit(f, "adaptation", ParamGroup::other);
  }
  /// Sets every parameter gradient to zero.
  void zero_grad() {
    theta_.zero_grad();
    beta_.zero_grad();
    rho_.zero_grad();
    beta_a_.zero_grad();
    if constexpr (O.recurrent) rec_g_.setZero();
  }

  /// Runs all steps of `in` (n x batch*T) from the zero state; writes the spikes to `out`. A
  /// training pass keeps v and a for backward().
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext& ctx) {
    if (in.features() != n_)
      throw ShapeError(name() + "(" + std::to_string(n_) + "): input has " + std::to_string(in.features()) +
                       " features " + in.shape_string());
    refresh();
    const Index B = in.batch(), T = in.steps(), n = n_;
    out.resize(n, B, T);
    trained_ = ctx.training;
    shape_ = {B, T};
    v_.resize(n, B, T);
    a_.resize(n, B, T);
    state_v_.setZero(n, B);
    state_a_.setZero(n, B);
    const S* th = theta_.values().data();
    const S* be = beta_.values().data();
    const S* rh = rho_.values().data();
    const S* ba = beta_a_.values().data();
    S* s = out.data();
    S* vser = v_.data();
    S* aser = a_.data();
    S* vst = state_v_.data();
    S* ast = state_a_.data();
    const G g = surrogate_;
    auto update_rows = [&](Index t, const S* cur, Index r0, Index r1) {
      for (Index b = 0; b < B; ++b) {
        const Index c = (t * B + b) * n, pc = c - B * n;
        S* vs = vst + b * n;
        S* as = ast + b * n;
        const S* xb = cur + b * n;
        for (Index r = r0; r < r1; ++r) {
          const S sp = t ? s[pc + r] : S(0);
          S v = vs[r], a = as[r];
          s[c + r] = integrate(g, xb[r], sp, v, a, th[r], be[r], rh[r], ba[r]);
          vs[r] = v;
          as[r] = a;
          vser[c + r] = v;
          aser[c + r] = a;
        }
      }
    };
    if constexpr (O.recurrent) cur_.resize(n, B);
    for (Index t = 0; t < T; ++t) {
      const S* cp = in.data() + t * B * n;
      if constexpr (O.recurrent) {
        if (t > 0) {
          cur_.noalias() = in.slot(t) + rec_w_ * out.slot(t - 1);
          cp = cur_.data();
        }
      }
      detail::parallel_ranges(n, double(B) * 10, [&](Index r0, Index r1) { update_rows(t, cp, r0, r1); });
    }
  }

  /// BPTT through all steps. `grad_out` = dL/ds (n x batch*T); writes dL/dx to *grad_in (if
  /// given; it may be &grad_out: the pass then runs in place) and accumulates the parameter
  /// gradients. Requires a training forward pass of the same shape; `in` and `out` must be that
  /// pass's input and output.
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    if (!trained_ || out.features() != n_ || out.batch() != shape_[0] || out.steps() != shape_[1] ||
        !grad_out.same_shape(out) || !in.same_shape(out))
      throw ShapeError(name() + "::backward: needs a training forward pass of the same shape (input " +
                       in.shape_string() + ", output " + out.shape_string() + ", gradient " +
                       grad_out.shape_string() + ")");
    const Index B = out.batch(), T = out.steps(), n = n_;
    TimeSeries<S>& gin = grad_in ? *grad_in : gin_scratch_;
    if (&gin != &grad_out) gin.resize(n, B, T);
    gv_next_.setZero(n, B);
    ga_next_.setZero(n, B);
    acc_.setZero(n, 4);
    const S* th = theta_.values().data();
    const S* be = beta_.values().data();
    const S* rh = rho_.values().data();
    const S* ba = beta_a_.values().data();
    const S* s = out.data();
    const S* v = v_.data();
    const S* a = a_.data();
    const S* go = grad_out.data();
    S* gi = gin.data();
    S* at = acc_.col(0).data();
    S* ab = acc_.col(1).data();
    S* ar = acc_.col(2).data();
    S* aa = acc_.col(3).data();
    const G g = surrogate_;
    // One step t of the reverse sweep for rows [r0, r1); `extra` (null at the last step) is the
    // part of dL/ds_t that comes back through the recurrent weights.
    auto step_rows = [&](Index t, const S* extra, Index r0, Index r1) {
      for (Index b = 0; b < B; ++b) {
        const Index c = (t * B + b) * n, pc = c - B * n;
        S* gv = gv_next_.data() + b * n;
        S* ga = ga_next_.data() + b * n;
        for (Index r = r0; r < r1; ++r) {
          S gs = go[c + r];
          if (extra) gs += extra[b * n + r];
          const S vp = t ? v[pc + r] : S(0), sp = t ? s[pc + r] : S(0), ap = t ? a[pc + r] : S(0);
          gi[c + r] = adjoint(g, th[r], be[r], rh[r], ba[r], gs, v[c + r], s[c + r], a[c + r], vp, sp, ap, gv[r],
                              ga[r], at[r], ab[r], ar[r], aa[r]);
        }
      }
    };
    if constexpr (O.recurrent) rec_extra_.resize(n, B);
    for (Index t = T - 1; t >= 0; --t) {
      const S* extra = nullptr;
      if constexpr (O.recurrent) {
        if (t < T - 1) {
          // s_t feeds step t+1 through V: dL/ds_t += V^T dL/dx_{t+1}
          rec_extra_.noalias() = rec_w_.transpose() * gin.slot(t + 1);
          extra = rec_extra_.data();
        }
      }
      detail::parallel_ranges(n, double(B) * 16, [&](Index r0, Index r1) { step_rows(t, extra, r0, r1); });
    }
    if constexpr (O.recurrent) {
      // dV = sum_t dL/dx_t s_{t-1}^T, one product over all steps
      if (T > 1)
        rec_g_.noalias() += gin.values().rightCols((T - 1) * B) * out.values().leftCols((T - 1) * B).transpose();
    }
    theta_.add_grad(acc_.col(0));
    beta_.add_grad(acc_.col(1));
    rho_.add_grad(acc_.col(2));
    beta_a_.add_grad(acc_.col(3));
  }

  /// In-place backward is supported (see backward()); Sequential uses it to share buffers.
  static constexpr bool backward_in_place = true;

  /// A zero state for `batch` samples (streaming inference, one step at a time).
  State make_state(Index batch) const {
    State st;
    st.v.setZero(n_, batch);
    st.a.setZero(n_, batch);
    st.s.setZero(n_, batch);
    return st;
  }
  /// Advances `st` by one step with input `x` (n x batch); st.s holds the new spikes.
  void step(State& st, const ConstMatrixRef<S>& x) {
    detail::check_step_input(x, n_, st.v.cols(), [] { return name(); });
    refresh();
    if constexpr (O.recurrent) {
      cur_ = x;
      cur_.noalias() += rec_w_ * st.s;
    }
    const S* th = theta_.values().data();
    const S* be = beta_.values().data();
    const S* rh = rho_.values().data();
    const S* ba = beta_a_.values().data();
    const G g = surrogate_;
    for (Index b = 0; b < x.cols(); ++b) {
      const S* xb = O.recurrent ? cur_.col(b).data() : x.col(b).data();
      S* vb = st.v.col(b).data();
      S* ab = st.a.col(b).data();
      S* sb = st.s.col(b).data();
      for (Index r = 0; r < n_; ++r) sb[r] = integrate(g, xb[r], sb[r], vb[r], ab[r], th[r], be[r], rh[r], ba[r]);
    }
  }
  /// Spikes of the last step of `st`.
  const Matrix<S>& output(const State& st) const noexcept { return st.s; }

  /// Membrane potentials v of the last forward pass (n x batch*T).
  const TimeSeries<S>& membrane() const noexcept { return v_; }
  /// Adaptation variables a of the last forward pass (n x batch*T); the threshold of step t is
  /// theta_0 + beta_a a_t.
  const TimeSeries<S>& adaptation_trace() const noexcept { return a_; }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("neurons", std::int64_t(n_)), cereal::make_nvp("config", cfg_),
       cereal::make_nvp("surrogate", surrogate_), cereal::make_nvp("threshold", theta_), cereal::make_nvp("beta", beta_),
       cereal::make_nvp("rho", rho_), cereal::make_nvp("adaptation", beta_a_));
    if constexpr (O.recurrent) ar(cereal::make_nvp("recurrent_weight", rec_w_));
  }
  /// cereal serialisation: what checkpoints store (not called directly); checks that the stored
  /// parameters fit the layer type.
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, class_version, name().c_str());
    std::int64_t n = 0;
    ar(cereal::make_nvp("neurons", n), cereal::make_nvp("config", cfg_), cereal::make_nvp("surrogate", surrogate_),
       cereal::make_nvp("threshold", theta_), cereal::make_nvp("beta", beta_), cereal::make_nvp("rho", rho_),
       cereal::make_nvp("adaptation", beta_a_));
    if (n <= 0) throw cereal::Exception(name() + ": stored number of neurons " + std::to_string(n) + " is not positive");
    n_ = n;
    auto check = [&](const NeuronParameter<S>& p, Train mode, const char* what) {
      if (p.neurons() != n_ || p.mode() != mode)
        throw cereal::Exception(name() + "(" + std::to_string(n_) + "): stored " + what + " (" +
                                NeuronParameter<S>::mode_name(p.mode()) + ", " + std::to_string(p.neurons()) +
                                " neurons) does not match the layer type (" + NeuronParameter<S>::mode_name(mode) + ")");
    };
    check(theta_, O.threshold, "threshold");
    check(beta_, O.beta, "beta");
    check(rho_, O.rho, "rho");
    check(beta_a_, O.adaptation, "adaptation");
    if constexpr (O.recurrent) {
      ar(cereal::make_nvp("recurrent_weight", rec_w_));
      if (rec_w_.rows() != n_ || rec_w_.cols() != n_)
        throw cereal::Exception(name() + "(" + std::to_string(n_) + "): recurrent weight is " +
                                std::to_string(rec_w_.rows()) + "x" + std::to_string(rec_w_.cols()));
      rec_g_.setZero(n_, n_);
    }
    trained_ = false;
  }

 private:
  static constexpr bool want_theta = O.threshold != Train::fixed, want_beta = O.beta != Train::fixed,
                        want_rho = O.rho != Train::fixed, want_beta_a = O.adaptation != Train::fixed;

  // ---- the equations of one neuron: forward(), backward() and step() all call these ----

  /// One step of one neuron. In: x_t, s_{t-1}; `v` and `a` hold v_{t-1}, a_{t-1} on entry and
  /// v_t, a_t on exit. Returns s_t.
  SPIKELAB_ALWAYS_INLINE static S integrate(const G& g, const S& x, const S& sp, S& v, S& a, const S& th, const S& be,
                                            const S& rh, const S& ba) noexcept {
    const S an = rh * a + sp;
    const S vn = R::next(be, v, sp, th, x);
    a = an;
    v = vn;
    return g.forward(vn - (th + ba * an));
  }

  /// Adjoint of one step of one neuron, for the reverse sweep t = T-1, ..., 0 (the equations of
  /// the file comment). In: gs = dL/ds_t from above; v_t, s_t, a_t; vp, sp, ap = v_{t-1},
  /// s_{t-1}, a_{t-1} (0 at t = 0). Carried: gv, ga hold delta v_{t+1}, delta a_{t+1} on entry
  /// (0 at T-1) and delta v_t, delta a_t on exit. Accumulates dL/dtheta_0, dL/dbeta, dL/drho,
  /// dL/dbeta_a into at, ab, ar, aa (those trained). Returns dL/dx_t.
  SPIKELAB_ALWAYS_INLINE static S adjoint(const G& g, const S& th, const S& be, const S& rh, const S& ba, const S& gs,
                                          const S& v, const S& s, const S& a, const S& vp, const S& sp, const S& ap,
                                          S& gv, S& ga, S& at, S& ab, S& ar, S& aa) noexcept {
    using A = ResetAdjoint<R, O.reset_gradient>;
    const S gv_next = gv, ga_next = ga;
    const S gs_t = gs + gv_next * A::d_sprev(be, v, s, th) + ga_next;
    const S h = g.derivative(v - (th + ba * a));
    const S gth = -gs_t * h;  // delta theta_t
    const S gv_t = gs_t * h + gv_next * A::d_vprev(be, v, s, th);
    const S ga_t = ba * gth + rh * ga_next;
    if constexpr (want_theta) at += gth + gv_next * A::d_theta(be, v, s, th);
    if constexpr (want_beta) ab += gv_t * A::d_beta(be, vp, sp, th);
    if constexpr (want_rho) ar += ga_t * ap;
    if constexpr (want_beta_a) aa += gth * a;
    gv = gv_t;
    ga = ga_t;
    return gv_t;
  }

  void init_params() {
    const std::string who = name() + "(" + std::to_string(n_) + ")";
    if (n_ <= 0) throw ConfigError(name() + ": number of neurons must be positive (got " + std::to_string(n_) + ")");
    auto make = [&](Train mode, double init, double lo, double hi, const char* what) {
      if (!std::isfinite(init) || !(lo <= hi))
        throw ConfigError(who + ": " + what + " = " + std::to_string(init) + " with range [" + std::to_string(lo) +
                          ", " + std::to_string(hi) + "] is not a valid setting");
      try {
        return NeuronParameter<S>(mode, n_, init, lo, hi);
      } catch (const ConfigError& e) {
        throw ConfigError(who + ": " + what + ": " + e.what());
      }
    };
    if (cfg_.beta_min < 0 || cfg_.beta_max > 1 || cfg_.rho_min < 0 || cfg_.rho_max > 1)
      throw ConfigError(who + ": the ranges of the decays beta and rho must lie within [0, 1]");
    theta_ = make(O.threshold, cfg_.threshold, cfg_.threshold_min, cfg_.threshold_max, "threshold");
    beta_ = make(O.beta, cfg_.beta, cfg_.beta_min, cfg_.beta_max, "beta");
    rho_ = make(O.rho, cfg_.rho, cfg_.rho_min, cfg_.rho_max, "rho");
    beta_a_ = make(O.adaptation, cfg_.adaptation, cfg_.adaptation_min, cfg_.adaptation_max, "adaptation");
  }
  void refresh() {
    theta_.refresh();
    beta_.refresh();
    rho_.refresh();
    beta_a_.refresh();
  }

  Index n_ = 0;
  AdaptiveLifConfig cfg_{};
  G surrogate_{};
  NeuronParameter<S> theta_, beta_, rho_, beta_a_;
  Matrix<S> rec_w_, rec_g_;
  // kept by the forward pass for BPTT, and work buffers reused between calls
  TimeSeries<S> v_, a_, gin_scratch_;
  Matrix<S> state_v_, state_a_, cur_, gv_next_, ga_next_, rec_extra_, acc_;
  std::array<Index, 2> shape_{0, 0};  // batch and steps of the last forward
  bool trained_ = false;
};

/// Feed-forward adaptive LIF layer with fixed parameters and subtractive reset.
/// @tparam S the scalar type
/// @tparam G the surrogate derivative
/// @tparam R the reset policy
template <Scalar S, SurrogateGradient G = FastSigmoid, ResetPolicy R = SubtractReset>
using AdaptiveLif = AdaptiveLifType<S, G, R, AdaptiveLifOptions{}>;

/// Recurrent adaptive LIF layer (trainable recurrent weights): the LSNN's ALIF population.
/// @tparam S the scalar type
/// @tparam G the surrogate derivative
/// @tparam R the reset policy
template <Scalar S, SurrogateGradient G = FastSigmoid, ResetPolicy R = SubtractReset>
using RecurrentAdaptiveLif = AdaptiveLifType<S, G, R, AdaptiveLifOptions{.recurrent = true}>;

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S, class G, class R, spikelab::AdaptiveLifOptions O),
                       (spikelab::AdaptiveLifType<S, G, R, O>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::AdaptiveLifConfig), 1)

#endif
