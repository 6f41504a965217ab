/**
 * @file neurons/lif.hpp
 * @brief LifType: a layer of current-based leaky integrate-and-fire neurons, trained by
 *        surrogate-gradient BPTT (exact with respect to the surrogate).
 *
 * For neuron i, sample b, step t (x = the layer input, e.g. a Linear layer's output):
 * \f[
 *   I_t = \alpha I_{t-1} + x_t \quad(\text{only with a synaptic current, } \alpha > 0),\qquad
 *   v_t = R(\beta, v_{t-1}, s_{t-1}, \theta, I_t),\qquad
 *   s_t = H(v_t - \theta),
 * \f]
 * with the reset policy R (SubtractReset: \f$\beta v_{t-1} + I_t - \theta s_{t-1}\f$, ZeroReset,
 * NoReset), v_{-1} = I_{-1} = s_{-1} = 0. In the backward pass dH/dx is replaced by the
 * surrogate G. Threshold theta, membrane decay beta and synaptic decay alpha are
 * NeuronParameters: fixed, trainable per layer, or trainable per neuron (LifOptions). With
 * `recurrent = true` the layer adds a trainable recurrent projection V s_{t-1} to x_t.
 *
 * The reset's gradient is a compile-time choice too, `LifOptions::reset_gradient`
 * (ResetGradient, neurons/reset.hpp, has the equations): `kept` differentiates through the
 * reset's spike (exact BPTT with the surrogate), `detached` treats that spike as a constant
 * (snnTorch), `linear` backpropagates as if there were no reset (Lava-DL's SLAYER). It changes
 * neither the forward pass nor what a checkpoint stores (nor the signature).
 *
 * Fast path (feed-forward layers): the update is one fused loop over contiguous neurons per
 * (sample, step), with the state in a small per-thread buffer and no allocation per step.
 * BPTT memory: nothing beyond the input and the spikes, which the network keeps anyway. The
 * backward pass recomputes v (and I) for a block of neurons of one sample over all T steps
 * into a small per-thread buffer (reading the forward's spikes, so the recomputation matches
 * the forward exactly), then sweeps that block backwards in time. The backward pass may run
 * in place (grad_in == &grad_out). Recurrent layers keep v (and I when alpha is trained).
 *
 * @code
 * @article{neftci2019surrogate, title={Surrogate gradient learning in spiking neural networks},
 *   author={Neftci, Emre O. and Mostafa, Hesham and Zenke, Friedemann},
 *   journal={IEEE Signal Processing Magazine}, volume={36}, number={6}, pages={51--63}, year={2019}}
 * @endcode
 */
#ifndef SPIKELAB_NEURONS_LIF_HPP
#define SPIKELAB_NEURONS_LIF_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/simd.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/serialization.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/neurons/concepts.hpp>
#include <spikelab/neurons/neuron_parameter.hpp>
#include <spikelab/neurons/reset.hpp>
#include <spikelab/surrogates/surrogates.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <optional>
#include <string>

namespace spikelab {

/// Compile-time options of a LIF layer: which neuron parameters are trained, and how; what
/// BPTT does with the reset (ResetGradient, neurons/reset.hpp).
struct LifOptions {
  Train threshold = Train::fixed;  ///< how the threshold is trained
  Train beta = Train::fixed;  ///< how the membrane decay is trained
  Train alpha = Train::fixed;  ///< how the synaptic decay is trained
  bool recurrent = false;  ///< with trainable recurrent weights V
  ResetGradient reset_gradient = ResetGradient::kept;  ///< what BPTT does with the reset (ResetGradient)
};

/// Run-time hyperparameters of a LIF layer.
struct LifConfig {
  double beta = 0.9;        ///< membrane decay, v_t = beta v_{t-1} + ...
  double alpha = 0.0;       ///< synaptic-current decay; 0 and fixed: no synaptic current (I_t = x_t)
  double threshold = 1.0;   ///< firing threshold theta
  /// Projection range [beta_min, beta_max] of a trained beta.
  double beta_min = 0.0, beta_max = 1.0;    ///< projection range of a trained beta
  /// Projection range [alpha_min, alpha_max] of a trained alpha.
  double alpha_min = 0.0, alpha_max = 1.0;  ///< projection range of a trained alpha
  /// Projection range [threshold_min, threshold_max] of a trained threshold.
  double threshold_min = 1e-3, threshold_max = 1e6;  ///< projection range of a trained threshold
  /// Set only by loading a configuration of class version 1, where the reset's gradient was the
  /// run-time flag `detach_reset` (true = ResetGradient::detached, false = the then default
  /// `kept`); the layer's load rejects a stored `true` unless its type detaches the reset. Never
  /// saved: the reset's gradient is now part of the layer type (LifOptions::reset_gradient).
  std::optional<bool> stored_detach_reset{};

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(CEREAL_NVP(beta), CEREAL_NVP(alpha), CEREAL_NVP(threshold), CEREAL_NVP(beta_min), CEREAL_NVP(beta_max),
       CEREAL_NVP(alpha_min), CEREAL_NVP(alpha_max), CEREAL_NVP(threshold_min), CEREAL_NVP(threshold_max));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, 2, "LifConfig");
    stored_detach_reset.reset();
    ar(CEREAL_NVP(beta), CEREAL_NVP(alpha), CEREAL_NVP(threshold));
    if (version < 2) {
      bool detach_reset = false;
      ar(CEREAL_NVP(detach_reset));
      stored_detach_reset = detach_reset;
    }
    ar(CEREAL_NVP(beta_min), CEREAL_NVP(beta_max), CEREAL_NVP(alpha_min), CEREAL_NVP(alpha_max),
       CEREAL_NVP(threshold_min), CEREAL_NVP(threshold_max));
  }
};

/// A layer of current-based leaky integrate-and-fire neurons trained by surrogate-gradient BPTT:
/// \f$ I_t = \alpha I_{t-1} + x_t,\ v_t = R(\beta, v_{t-1}, s_{t-1}, \theta, I_t),\;
/// s_t = H(v_t - \theta) \f$, with the surrogate G in place of H' in the backward pass
/// (Neftci, Mostafa & Zenke, IEEE Signal Processing Magazine 2019; details in the file comment).
/// @tparam S the scalar type (float or double)
/// @tparam G the surrogate derivative of the spike (a SurrogateGradient)
/// @tparam R the reset of the membrane after a spike (a ResetPolicy)
/// @tparam O which parameters are trained, recurrence, and the reset's gradient (LifOptions)
template <Scalar S, SurrogateGradient G = FastSigmoid, ResetPolicy R = SubtractReset, LifOptions O = LifOptions{}>
class LifType {
 public:
  using scalar_type = S;  ///< the scalar type S
  using surrogate_type = G;  ///< the surrogate G
  using reset_type = R;  ///< the reset policy R
  static constexpr LifOptions options = O;  ///< the compile-time options O
  static constexpr std::uint32_t class_version = 1;  ///< the class version checkpoints store (cereal)

  /// Explicit state for step-by-step simulation (one column per sample).
  struct State {
    ///@{
    /// Membrane v, synaptic current I (empty without one) and spikes s of the last step (neurons x batch).
    Matrix<S> v, i, s;
    ///@}
  };

  LifType() = default;
  /// A feed-forward LIF layer of `neurons` neurons.
  /// @param neurons the number of neurons
  /// @param cfg decays, threshold and their ranges
  /// @param surrogate the surrogate derivative (its parameters)
  explicit LifType(Index neurons, LifConfig cfg = {}, G surrogate = {}) requires(!O.recurrent)
      : n_(neurons), cfg_(cfg), surrogate_(surrogate) {
    init_params();
  }
  /// A recurrent LIF layer; the recurrent weights are drawn uniform in +-1/sqrt(neurons).
  /// @param neurons the number of neurons
  /// @param rng draws the recurrent weights
  /// @param cfg decays, threshold and their ranges
  /// @param surrogate the surrogate derivative (its parameters)
  LifType(Index neurons, Rng& rng, LifConfig cfg = {}, G surrogate = {}) requires(O.recurrent)
      : n_(neurons), cfg_(cfg), surrogate_(surrogate) {
    init_params();
    reset_parameters(rng);
  }

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return O.recurrent ? "RecurrentLif" : "Lif"; }
  /// Features per input column.
  Index input_size() const noexcept { return n_; }
  /// Features per output column.
  Index output_size() const noexcept { return n_; }
  /// The run-time configuration.
  const LifConfig& config() const noexcept { return cfg_; }
  /// The surrogate derivative (its parameters).
  const G& surrogate() const noexcept { return surrogate_; }
  /// The surrogate derivative (its parameters).
  G& surrogate() noexcept { return surrogate_; }
  /// True if the layer has a synaptic current (alpha trained, or fixed and nonzero).
  bool synaptic() const noexcept { return O.alpha != Train::fixed || cfg_.alpha != 0.0; }

  /// The firing threshold theta.
  NeuronParameter<S>& threshold() noexcept { return theta_; }
  /// The membrane decay beta.
  NeuronParameter<S>& beta() noexcept { return beta_; }
  /// The synaptic-current decay alpha.
  NeuronParameter<S>& alpha() noexcept { return alpha_; }
  /// The firing threshold theta.
  const NeuronParameter<S>& threshold() const noexcept { return theta_; }
  /// The membrane decay beta.
  const NeuronParameter<S>& beta() const noexcept { return beta_; }
  /// The synaptic-current decay alpha.
  const NeuronParameter<S>& alpha() const noexcept { return alpha_; }
  /// The recurrent weights V (neurons x neurons; empty unless the layer is recurrent).
  Matrix<S>& recurrent_weight() noexcept { return rec_w_; }
  /// The recurrent weights V (neurons x neurons; empty unless the layer is recurrent).
  const Matrix<S>& recurrent_weight() const noexcept { return rec_w_; }

  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const {
    std::string s = name() + "<" + G::name() + "," + R::name() + ",theta:" + NeuronParameter<S>::mode_name(O.threshold) +
                    ",beta:" + NeuronParameter<S>::mode_name(O.beta) + ",alpha:" + NeuronParameter<S>::mode_name(O.alpha) +
                    (synaptic() ? ",synaptic" : "") + ">(" + std::to_string(n_) + ")";
    return s;
  }

  /// Draws the parameters anew from their initialisation.
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
    alpha_.visit(f, "alpha", ParamGroup::time_constant);
  }
  /// Sets every parameter gradient to zero.
  void zero_grad() {
    theta_.zero_grad();
    beta_.zero_grad();
    alpha_.zero_grad();
    if constexpr (O.recurrent) rec_g_.setZero();
  }

  /// Runs all steps of `in` (n x batch*T). Writes spikes to `out`.
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext& ctx) {
    check_input(in);
    refresh();
    out.resize(n_, in.batch(), in.steps());
    trained_ = ctx.training;
    shape_ = {in.batch(), in.steps()};
    if constexpr (O.recurrent) {
      synaptic() ? forward_recurrent<true>(in, out, ctx.training) : forward_recurrent<false>(in, out, ctx.training);
    } else {
      last_in_ = ctx.training ? &in : nullptr;
      membrane_valid_ = false;
      fused_forward(in.data(), out.data(), nullptr, in.batch(), in.steps());
    }
  }

  /// BPTT through all steps. `grad_out` = dL/ds (n x batch*T); writes dL/dx to *grad_in
  /// (if given; it may be &grad_out: the pass then runs in place) and accumulates parameter
  /// gradients. Requires a training forward pass of the same shape; `in` and `out` must be
  /// that pass's input and output.
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    if (!trained_ || out.features() != n_ || out.batch() != shape_[0] || out.steps() != shape_[1] ||
        !grad_out.same_shape(out) || !in.same_shape(out))
      throw ShapeError(name() + "::backward: needs a training forward pass of the same shape (input " +
                       in.shape_string() + ", output " + out.shape_string() + ", gradient " +
                       grad_out.shape_string() + ")");
    if constexpr (O.recurrent) {
      synaptic() ? backward_recurrent<true>(out, grad_out, grad_in) : backward_recurrent<false>(out, grad_out, grad_in);
    } else {
      TimeSeries<S>& gin = grad_in ? *grad_in : gin_scratch_;
      if (&gin != &grad_out) gin.resize(n_, out.batch(), out.steps());
      fused_backward(in.data(), out.data(), grad_out.data(), gin.data(), out.batch(), out.steps());
      membrane_valid_ = false;
    }
  }

  /// In-place backward is supported (see backward()); Sequential uses it to share buffers.
  static constexpr bool backward_in_place = true;

  /// A zero state for `batch` samples (streaming inference, one step at a time).
  State make_state(Index batch) const {
    State st;
    st.v.setZero(n_, batch);
    st.i.setZero(n_, batch);
    st.s.setZero(n_, batch);
    return st;
  }
  /// Advances `st` by one step with input current `x` (n x batch); st.s holds the new spikes.
  void step(State& st, const ConstMatrixRef<S>& x) {
    detail::check_step_input(x, n_, st.v.cols(), [] { return name(); });
    refresh();
    if constexpr (O.recurrent) {
      cur_ = x;
      cur_.noalias() += rec_w_ * st.s;
    }
    const S* th = theta_.values().data();
    const S* be = beta_.values().data();
    const S* al = alpha_.values().data();
    const G g = surrogate_;
    const Index n = n_;
    auto run = [&]<bool Syn>() {
      for (Index b = 0; b < x.cols(); ++b) {
        const S* xb = O.recurrent ? cur_.col(b).data() : x.col(b).data();
        S* vb = st.v.col(b).data();
        S* sb = st.s.col(b).data();
        S* ib = Syn ? st.i.col(b).data() : nullptr;  // st.i is not touched without a synaptic current
        S no_current = S(0);  // stands in for I when there is none; never read
        for (Index r = 0; r < n; ++r) {
          const S v = integrate<Syn>(xb[r], vb[r], sb[r], Syn ? ib[r] : no_current, th[r], be[r], al[r]);
          vb[r] = v;
          sb[r] = fire(g, v, th[r]);
        }
      }
    };
    synaptic() ? run.template operator()<true>() : run.template operator()<false>();
  }

  /// Spikes of the last step of `st`.
  const Matrix<S>& output(const State& st) const noexcept { return st.s; }

  /// Membrane potentials of the last training forward pass (n x batch*T). Feed-forward layers
  /// do not keep them (BPTT recomputes them); they are recomputed here on first call from that
  /// pass's input, which must still be alive and unchanged. Empty if there was no such pass.
  const TimeSeries<S>& membrane() const {
    if constexpr (!O.recurrent) {
      if (!membrane_valid_) {
        if (trained_ && last_in_ != nullptr && last_in_->features() == n_ && last_in_->batch() == shape_[0] &&
            last_in_->steps() == shape_[1]) {
          v_.resize(n_, shape_[0], shape_[1]);
          TimeSeries<S> spikes(n_, shape_[0], shape_[1]);
          fused_forward(last_in_->data(), spikes.data(), v_.data(), shape_[0], shape_[1]);
        } else {
          v_.resize(n_, 0, 0);
        }
        membrane_valid_ = true;
      }
    }
    return v_;
  }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("neurons", std::int64_t(n_)), cereal::make_nvp("config", cfg_),
       cereal::make_nvp("surrogate", surrogate_), cereal::make_nvp("threshold", theta_), cereal::make_nvp("beta", beta_),
       cereal::make_nvp("alpha", alpha_));
    if constexpr (O.recurrent) ar(cereal::make_nvp("recurrent_weight", rec_w_));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, class_version, "Lif");
    std::int64_t n = 0;
    ar(cereal::make_nvp("neurons", n), cereal::make_nvp("config", cfg_), cereal::make_nvp("surrogate", surrogate_),
       cereal::make_nvp("threshold", theta_), cereal::make_nvp("beta", beta_), cereal::make_nvp("alpha", alpha_));
    n_ = n;
    if (cfg_.stored_detach_reset.value_or(false) && O.reset_gradient != ResetGradient::detached)
      throw cereal::Exception(name() + ": stored with detach_reset = true, but this layer type's reset gradient is '" +
                              reset_gradient_name(O.reset_gradient) +
                              "': load it into a type with LifOptions{.reset_gradient = ResetGradient::detached}");
    if (theta_.neurons() != n_ || beta_.neurons() != n_ || alpha_.neurons() != n_ || theta_.mode() != O.threshold ||
        beta_.mode() != O.beta || alpha_.mode() != O.alpha)
      throw cereal::Exception("Lif: stored neuron parameters do not match the layer type");
    if constexpr (O.recurrent) {
      ar(cereal::make_nvp("recurrent_weight", rec_w_));
      if (rec_w_.rows() != n_ || rec_w_.cols() != n_) throw cereal::Exception("RecurrentLif: wrong weight shape");
      rec_g_.setZero(n_, n_);
    }
  }

 private:
  static constexpr bool want_theta = O.threshold != Train::fixed, want_beta = O.beta != Train::fixed,
                        want_alpha = O.alpha != Train::fixed;

  // ---- the equations of one neuron: every path below (fused, recomputed, recurrent, step())
  // calls these, so a change to the model is made here only. They are forced inline: the loops
  // that call them run over contiguous neurons and must stay vectorised. Inputs are taken by
  // const reference and outputs are written last, so that, once inlined, each element is read
  // where the equation uses it and no result is read back through a reference: the compiler
  // then schedules the loads and folds them into the arithmetic as in a loop written out by hand.

  /// Forward step of one neuron: \f$ I_t = \alpha I_{t-1} + x_t \f$ (only when Syn),
  /// \f$ v_t = R(\beta, v_{t-1}, s_{t-1}, \theta, I_t) \f$. `v` and `s` are v_{t-1} and s_{t-1};
  /// `i` holds I_{t-1} on entry and I_t on exit (untouched without a synaptic current). Returns v_t.
  template <bool Syn>
  SPIKELAB_ALWAYS_INLINE static S integrate(const S& x, const S& v, const S& s, S& i, const S& th, const S& be,
                                            const S& al) noexcept {
    S cur = x;
    if constexpr (Syn) {
      cur = al * i + cur;
      i = cur;
    }
    return R::next(be, v, s, th, cur);
  }

  /// The spike of one neuron, \f$ s_t = H(v_t - \theta) \f$ (G::forward: the Heaviside step, or
  /// the smooth function of a smooth twin).
  SPIKELAB_ALWAYS_INLINE static S fire(const G& g, const S& v, const S& th) noexcept { return g.forward(v - th); }

  /// Adjoint of the forward step of one neuron, for the reverse sweep t = T-1, ..., 0.
  /// In: `gs` = dL/ds_t from the layers above; v_t, s_t; vp, sp, ip = v_{t-1}, s_{t-1}, I_{t-1}
  /// (0 at t = 0; ip is read only when alpha is trained). Carried: `gv` and `gi` hold dL/dv_{t+1}
  /// and dL/dI_{t+1} on entry (0 at t = T-1) and dL/dv_t and dL/dI_t on exit (gi only when Syn).
  /// Accumulates dL/dtheta, dL/dbeta, dL/dalpha of the neuron into at, ab, aa (those trained).
  /// Returns dL/dx_t. With G the surrogate derivative at v_t - theta and A = ResetAdjoint<R, P>
  /// the partials of the reset under the layer's ResetGradient P (neurons/reset.hpp):
  /// \f[ \frac{\partial L}{\partial v_t} = \Big(\frac{\partial L}{\partial s_t} + \frac{\partial L}{\partial v_{t+1}}
  ///     A_s\Big) G + \frac{\partial L}{\partial v_{t+1}} A_v,\qquad
  ///     \frac{\partial L}{\partial I_t} = \frac{\partial L}{\partial v_t} + \alpha \frac{\partial L}{\partial I_{t+1}}, \f]
  /// where the A_s term, `through_reset`, is the reset's path (s_t enters v_{t+1} through R): R's
  /// partial when the reset's gradient is kept, 0 when it is detached or linear. This is the only
  /// place the policy enters: every path (fused, recurrent) calls this function.
  template <bool Syn, bool WantTheta, bool WantBeta, bool WantAlpha>
  SPIKELAB_ALWAYS_INLINE static S adjoint(const G& g, const S& th, const S& be, const S& al, const S& gs, const S& v,
                                          const S& s, const S& vp, const S& sp, const S& ip, S& gv, S& gi, S& at, S& ab,
                                          S& aa) noexcept {
    using A = ResetAdjoint<R, O.reset_gradient>;
    const S gv_next = gv;
    const S through_reset = gv_next * A::d_sprev(be, v, s, th);
    const S gs_t = gs + through_reset;
    const S h = g.derivative(v - th);
    const S gv_t = gs_t * h + gv_next * A::d_vprev(be, v, s, th);
    if constexpr (WantTheta) at += -gs_t * h + gv_next * A::d_theta(be, v, s, th);
    if constexpr (WantBeta) ab += gv_t * A::d_beta(be, vp, sp, th);
    S gx = gv_t;
    if constexpr (Syn) {
      gx = gv_t + al * gi;
      gi = gx;
      if constexpr (WantAlpha) aa += gx * ip;
    }
    gv = gv_t;
    return gx;
  }

  // ---- feed-forward fast path -------------------------------------------------------------
  // Work is split into units (sample b, rows [r0, r0 + len)); within a unit the loops run over
  // contiguous neurons for each step, so they vectorise, with the state in per-thread buffers.

  /// Rows per unit: all of them, or a multiple of 16 such that T steps of `arrays` buffers of
  /// the unit fit in about 256 KiB (the backward pass's recomputed v and I).
  Index unit_rows(Index T, Index arrays) const {
    const Index bytes = Index(sizeof(S)) * std::max<Index>(T, 1) * arrays;
    const Index cap = std::max<Index>(16, (Index(256) * 1024 / bytes) / 16 * 16);
    return std::min(n_, cap);
  }
  /// Per-chunk scratch of at least `rows` scalars for `chunks` chunks (grows, never shrinks).
  S* scratch(Index rows, int chunks) const {
    if (work_.rows() < rows || work_.cols() < chunks)
      work_.resize(std::max(rows, Index(work_.rows())), std::max<Index>(chunks, work_.cols()));
    return work_.data();
  }

  template <bool Syn, bool StoreV>
  static void forward_unit(const G& g, const S* th, const S* be, const S* al, const S* x, S* s, S* vout, Index stride,
                           Index T, Index len, S* vst, S* sst, S* ist) {
    for (Index k = 0; k < len; ++k) vst[k] = sst[k] = ist[k] = S(0);
    for (Index t = 0; t < T; ++t) {
      const S* xt = x + t * stride;
      S* st = s + t * stride;
      S* vt = StoreV ? vout + t * stride : nullptr;
      SPIKELAB_IVDEP
      for (Index k = 0; k < len; ++k) {
        const S v = integrate<Syn>(xt[k], vst[k], sst[k], ist[k], th[k], be[k], al[k]);
        vst[k] = v;
        if constexpr (StoreV) vt[k] = v;
        const S sp = fire(g, v, th[k]);
        sst[k] = sp;
        st[k] = sp;
      }
    }
  }

  /// Forward over all steps: spikes to s, and v to vout when not null.
  void fused_forward(const S* x, S* s, S* vout, Index B, Index T) const {
    const Index n = n_, rows = unit_rows(T, 2), per_b = (n + rows - 1) / rows;
    const int chunks = detail::max_chunks();
    const Index ws = 3 * rows;
    S* work = scratch(ws, chunks);
    const Index ld = work_.rows();
    const S* th = theta_.values().data();
    const S* be = beta_.values().data();
    const S* al = alpha_.values().data();
    const bool syn = synaptic();
    const G g = surrogate_;
    detail::parallel_chunks(B * per_b, double(T) * double(rows) * 4, [&](int chunk, Index u0, Index u1) {
      S* w = work + ld * chunk;
      for (Index u = u0; u < u1; ++u) {
        const Index b = u / per_b, r0 = (u % per_b) * rows, len = std::min(rows, n - r0), off = b * n + r0;
        auto run = [&]<bool Syn, bool StoreV>() {
          forward_unit<Syn, StoreV>(g, th + r0, be + r0, al + r0, x + off, s + off, StoreV ? vout + off : nullptr,
                                    B * n, T, len, w, w + rows, w + 2 * rows);
        };
        if (syn)
          vout ? run.template operator()<true, true>() : run.template operator()<true, false>();
        else
          vout ? run.template operator()<false, true>() : run.template operator()<false, false>();
      }
    });
  }

  template <bool Syn>
  static void backward_unit(const G& g, const S* th, const S* be, const S* al, const S* x, const S* s, const S* go,
                            S* gi, Index stride, Index T, Index len, S* vbuf, S* ibuf, S* gvn, S* gin_n, const S* zeros,
                            S* at, S* ab, S* aa) {
    // 1. recompute v (and I) of the unit for all steps, with the forward's spikes
    S* vprev = gvn;
    S* cur = gin_n;
    for (Index k = 0; k < len; ++k) vprev[k] = cur[k] = S(0);
    for (Index t = 0; t < T; ++t) {
      const S* xt = x + t * stride;
      const S* sp = t ? s + (t - 1) * stride : zeros;
      S* vb = vbuf + t * len;
      S* ib = ibuf + t * len;
      SPIKELAB_IVDEP
      for (Index k = 0; k < len; ++k) {
        const S v = integrate<Syn>(xt[k], vprev[k], sp[k], cur[k], th[k], be[k], al[k]);
        if constexpr (Syn && want_alpha) ib[k] = cur[k];
        vprev[k] = v;
        vb[k] = v;
      }
    }
    // 2. reverse sweep
    for (Index k = 0; k < len; ++k) gvn[k] = gin_n[k] = S(0);
    for (Index t = T - 1; t >= 0; --t) {
      const S* st = s + t * stride;
      const S* got = go + t * stride;
      S* git = gi + t * stride;
      const S* vb = vbuf + t * len;
      const S* vp = t ? vbuf + (t - 1) * len : zeros;
      const S* sp = t ? s + (t - 1) * stride : zeros;
      const S* ip = t ? ibuf + (t - 1) * len : zeros;
      SPIKELAB_IVDEP
      for (Index k = 0; k < len; ++k)
        git[k] = adjoint<Syn, want_theta, want_beta, want_alpha>(g, th[k], be[k], al[k], got[k], vb[k],
                                                                 st[k], vp[k], sp[k], ip[k], gvn[k], gin_n[k], at[k],
                                                                 ab[k], aa[k]);
    }
  }

  void fused_backward(const S* x, const S* s, const S* go, S* gi, Index B, Index T) {
    const bool syn = synaptic();
    const Index n = n_, rows = unit_rows(T, want_alpha ? 2 : 1), per_b = (n + rows - 1) / rows;
    const int chunks = detail::max_chunks();
    // per chunk: v (T x rows), I (T x rows, when alpha is trained), gvn, gin_n, zeros (rows each),
    // and the theta / beta / alpha gradient accumulators (n each)
    const Index vi = T * rows * (want_alpha ? 2 : 1);
    const Index ws = vi + 3 * rows + 3 * n;
    S* work = scratch(ws, chunks);
    const Index ld = work_.rows();
    for (int c = 0; c < chunks; ++c) {
      std::fill_n(work + ld * c + vi + 2 * rows, rows, S(0));
      std::fill_n(work + ld * c + vi + 3 * rows, 3 * n, S(0));
    }
    const S* th = theta_.values().data();
    const S* be = beta_.values().data();
    const S* al = alpha_.values().data();
    const G g = surrogate_;
    detail::parallel_chunks(B * per_b, double(T) * double(rows) * 12, [&](int chunk, Index u0, Index u1) {
      S* w = work + ld * chunk;
      S* vbuf = w;
      S* ibuf = want_alpha ? w + T * rows : w;
      S* gvn = w + vi;
      S* gin_n = gvn + rows;
      const S* zeros = gin_n + rows;
      S* acc = gin_n + 2 * rows;
      for (Index u = u0; u < u1; ++u) {
        const Index b = u / per_b, r0 = (u % per_b) * rows, len = std::min(rows, n - r0), off = b * n + r0;
        auto run = [&]<bool Syn>() {
          backward_unit<Syn>(g, th + r0, be + r0, al + r0, x + off, s + off, go + off, gi + off, B * n, T, len, vbuf,
                             ibuf, gvn, gin_n, zeros, acc + r0, acc + n + r0, acc + 2 * n + r0);
        };
        if (syn)
          run.template operator()<true>();
        else
          run.template operator()<false>();
      }
    });
    if constexpr (want_theta || want_beta || want_alpha) {
      acc_theta_.setZero(n);
      acc_beta_.setZero(n);
      acc_alpha_.setZero(n);
      for (int c = 0; c < chunks; ++c) {
        const S* acc = work + ld * c + vi + 3 * rows;
        acc_theta_ += Eigen::Map<const Vector<S>>(acc, n);
        acc_beta_ += Eigen::Map<const Vector<S>>(acc + n, n);
        acc_alpha_ += Eigen::Map<const Vector<S>>(acc + 2 * n, n);
      }
      theta_.add_grad(acc_theta_);
      beta_.add_grad(acc_beta_);
      alpha_.add_grad(acc_alpha_);
    }
  }

  // ---- recurrent path: one step at a time (the recurrent product couples the neurons) ----
  template <bool Syn>
  void forward_recurrent(const TimeSeries<S>& in, TimeSeries<S>& out, bool keep) {
    const Index B = in.batch(), T = in.steps(), n = n_;
    const bool keep_i = keep && Syn && want_alpha;
    if (keep) v_.resize(n, B, T);
    state_v_.setZero(n, B);
    state_i_.setZero(n, B);
    if (keep_i) i_.resize(n, B, T);
    kept_i_ = keep_i;

    const S* th = theta_.values().data();
    const S* be = beta_.values().data();
    const S* al = alpha_.values().data();
    S* s = out.data();
    S* vser = keep ? v_.data() : nullptr;
    S* iser = keep_i ? i_.data() : nullptr;
    S* vst = state_v_.data();
    S* ist = state_i_.data();
    const G g = surrogate_;

    // Neuron update for rows [r0, r1) of one step; `cur` is the input current block of step t.
    auto update_rows = [&](Index t, const S* cur, Index r0, Index r1) {
      for (Index b = 0; b < B; ++b) {
        const Index c = (t * B + b) * n;
        const Index sc = c - B * n;  // same sample, previous step
        S* vs = vst + b * n;
        S* is = ist + b * n;
        for (Index r = r0; r < r1; ++r) {
          const S sprev = t == 0 ? S(0) : s[sc + r];
          const S v = integrate<Syn>(cur[b * n + r], vs[r], sprev, is[r], th[r], be[r], al[r]);
          if (iser) iser[c + r] = is[r];
          vs[r] = v;
          if (vser) vser[c + r] = v;
          s[c + r] = fire(g, v, th[r]);
        }
      }
    };
    cur_.resize(n, B);
    for (Index t = 0; t < T; ++t) {
      if (t == 0)
        cur_ = in.slot(0);
      else
        cur_.noalias() = in.slot(t) + rec_w_ * out.slot(t - 1);
      const S* cp = cur_.data();
      detail::parallel_ranges(n, double(B) * 8, [&](Index r0, Index r1) { update_rows(t, cp, r0, r1); });
    }
  }

  template <bool Syn>
  void backward_recurrent(const TimeSeries<S>& out, const TimeSeries<S>& grad_out, TimeSeries<S>* grad_in) {
    const Index B = out.batch(), T = out.steps(), n = n_;
    TimeSeries<S>& gin = grad_in ? *grad_in : gin_scratch_;
    if (&gin != &grad_out) gin.resize(n, B, T);
    gv_next_.setZero(n, B);
    gi_next_.setZero(n, B);
    acc_theta_.setZero(n);
    acc_beta_.setZero(n);
    acc_alpha_.setZero(n);

    const S* th = theta_.values().data();
    const S* be = beta_.values().data();
    const S* al = alpha_.values().data();
    const S* s = out.data();
    const S* v = v_.data();
    const S* iser = kept_i_ ? i_.data() : nullptr;
    const S* go = grad_out.data();
    S* gi = gin.data();
    S* at = acc_theta_.data();
    S* ab = acc_beta_.data();
    S* aa = acc_alpha_.data();
    const G g = surrogate_;

    // One step t of the reverse sweep for rows [r0, r1). `extra` (null at the last step) is the
    // part of dL/ds_t that comes back through the recurrent weights.
    auto step_rows = [&](Index t, const S* extra, Index r0, Index r1) {
      for (Index b = 0; b < B; ++b) {
        const Index c = (t * B + b) * n;
        const Index pc = c - B * n;
        S* gv = gv_next_.data() + b * n;
        S* gc = gi_next_.data() + b * n;
        for (Index r = r0; r < r1; ++r) {
          S gs = go[c + r];
          if (extra) gs += extra[b * n + r];
          const S vp = t ? v[pc + r] : S(0), sp = t ? s[pc + r] : S(0);
          const S ip = (Syn && want_alpha && t) ? iser[pc + r] : S(0);
          gi[c + r] = adjoint<Syn, want_theta, want_beta, want_alpha>(g, th[r], be[r], al[r], gs, v[c + r],
                                                                      s[c + r], vp, sp, ip, gv[r], gc[r], at[r], ab[r],
                                                                      aa[r]);
        }
      }
    };

    rec_extra_.resize(n, B);
    for (Index t = T - 1; t >= 0; --t) {
      const S* extra = nullptr;
      if (t < T - 1) {
        // s_t feeds step t+1 through V: dL/ds_t += V^T dL/dx_{t+1}
        rec_extra_.noalias() = rec_w_.transpose() * gin.slot(t + 1);
        extra = rec_extra_.data();
      }
      detail::parallel_ranges(n, double(B) * 12, [&](Index r0, Index r1) { step_rows(t, extra, r0, r1); });
    }
    // dV = sum_t dL/dx_t s_{t-1}^T, one product over all steps.
    if (T > 1) rec_g_.noalias() += gin.values().rightCols((T - 1) * B) * out.values().leftCols((T - 1) * B).transpose();
    theta_.add_grad(acc_theta_);
    beta_.add_grad(acc_beta_);
    alpha_.add_grad(acc_alpha_);
  }

  void init_params() {
    if (n_ <= 0) throw ConfigError(name() + ": number of neurons must be positive");
    theta_ = NeuronParameter<S>(O.threshold, n_, cfg_.threshold, cfg_.threshold_min, cfg_.threshold_max);
    beta_ = NeuronParameter<S>(O.beta, n_, cfg_.beta, cfg_.beta_min, cfg_.beta_max);
    alpha_ = NeuronParameter<S>(O.alpha, n_, cfg_.alpha, cfg_.alpha_min, cfg_.alpha_max);
  }
  void refresh() {
    theta_.refresh();
    beta_.refresh();
    alpha_.refresh();
  }
  void check_input(const TimeSeries<S>& in) const {
    if (in.features() != n_)
      throw ShapeError(name() + "(" + std::to_string(n_) + "): input has " + std::to_string(in.features()) +
                       " features " + in.shape_string());
  }

  Index n_ = 0;
  LifConfig cfg_{};
  G surrogate_{};
  NeuronParameter<S> theta_, beta_, alpha_;
  Matrix<S> rec_w_, rec_g_;
  // work buffers (reused between calls; no allocation per step)
  mutable TimeSeries<S> v_;  // recurrent: kept for BPTT; feed-forward: membrane() on demand
  TimeSeries<S> i_, gin_scratch_;
  Matrix<S> state_v_, state_i_, cur_, gv_next_, gi_next_, rec_extra_;
  mutable Matrix<S> work_;  // per-chunk scratch of the fused loops (one column per chunk)
  Vector<S> acc_theta_, acc_beta_, acc_alpha_;
  const TimeSeries<S>* last_in_ = nullptr;  // input of the last training forward (membrane() only)
  std::array<Index, 2> shape_{0, 0};        // batch and steps of the last forward
  bool trained_ = false, kept_i_ = false;
  mutable bool membrane_valid_ = false;
};

/// Feed-forward LIF layer with fixed parameters and subtractive reset.
template <Scalar S, SurrogateGradient G = FastSigmoid, ResetPolicy R = SubtractReset>
using Lif = LifType<S, G, R, LifOptions{}>;

/// Recurrent LIF layer (trainable recurrent weights).
template <Scalar S, SurrogateGradient G = FastSigmoid, ResetPolicy R = SubtractReset>
using RecurrentLif = LifType<S, G, R, LifOptions{.recurrent = true}>;

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S, class G, class R, spikelab::LifOptions O), (spikelab::LifType<S, G, R, O>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::LifConfig), 2)

#endif
