/**
 * @file na/na_lif.hpp
 * @brief NaLifType<S, D>: the NA-LIF neuron of Yang, Zhang & Li (ICML 2021) -- a discrete LIF
 *        with reset to zero whose output is its post-synaptic potential (PSP), with the
 *        derivative of the spike given by a policy D (neighbourhood aggregation or a surrogate).
 *
 * For neuron i, sample b, step t, with input current c (e.g. a Conv2d or Linear output):
 * \f[
 *   u[t] = (1 - 1/\tau_m)\, u[t-1]\,(1 - s[t-1]) + c[t], \qquad
 *   s[t] = H(u[t] - \vartheta) = [u[t] > \vartheta], \qquad
 *   a[t] = (1 - 1/\tau_s)\, a[t-1] + s[t]/\tau_s,
 * \f]
 * u[-1] = s[-1] = a[-1] = 0 (Yang, Zhang & Li, ICML 2021; as in the authors' reference code:
 * `mem += -mem/tau_m + input`, spike when `mem > threshold`, `mem *= 1 - spike`,
 * `syn += (spike - syn)/tau_s`). The layer output passed downstream is the PSP a, not the spikes.
 *
 * Backward (the BPTT part shared with TSSL-BP): the error dL/da is back-accumulated through
 * the PSP filter, \f$ e[t] = \partial L/\partial a[t] + (1 - 1/\tau_s)\, e[t+1] \f$, so that
 * \f$ \partial L/\partial s[t] = e[t]/\tau_s \f$. The spike-derivative policy D then turns
 * dL/ds of one neuron's whole trace into dL/dc (the layer's input gradient), from which the
 * synapse layers below compute their weight gradients \f$ \sum_t a_j[t]\,\delta_i[t] \f$:
 *  - NeighborhoodAggregation (na/aggregation.hpp): the NA gradient;
 *  - SurrogateSpikeDerivative<G>: exact BPTT through the membrane and the reset with dH/du
 *    replaced by the surrogate G (the surrogate-gradient baseline on the same network; with
 *    SmoothTwin<G> the forward spike is smooth and the gradient is exact).
 *
 * A spike-derivative policy D (concept SpikeDerivative, na/concepts.hpp) provides `D::name()`, the forward
 * spike `d.spike(u - threshold)` and `d.backward(dynamics, trace, out)`, which writes
 * dL/dc[t] of ONE neuron of one sample (a NeuronTrace: strided views of c, u and dL/ds);
 * optionally `d.prepare(dynamics, grad_spike)` transforms the layer's whole dL/ds before the
 * per-neuron pass, and `d.finish(grad)` post-processes the whole input gradient of the layer. Traces
 * are independent, so the layer runs them in parallel over neurons.
 *
 * @code
 * @inproceedings{yang2021backpropagated, title={Backpropagated Neighborhood Aggregation for Accurate Training of
 *   Spiking Neural Networks}, author={Yang, Yukun and Zhang, Wenrui and Li, Peng}, booktitle={ICML},
 *   pages={11852--11862}, year={2021}}
 * @inproceedings{zhang2020temporal, title={Temporal Spike Sequence Learning via Backpropagation for Deep Spiking
 *   Neural Networks}, author={Zhang, Wenrui and Li, Peng}, booktitle={NeurIPS}, year={2020}}
 * @endcode
 */
#ifndef SPIKELAB_NA_NA_LIF_HPP
#define SPIKELAB_NA_NA_LIF_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/na/concepts.hpp>
#include <spikelab/neurons/concepts.hpp>
#include <spikelab/surrogates/surrogates.hpp>

#include <cereal/cereal.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <string>

namespace spikelab {

/// Hyperparameters of an NA-LIF layer (the settings of Yang, Zhang & Li, ICML 2021: MNIST
/// tau_m 5, tau_s 2; N-MNIST 8, 4; threshold 1).
struct NaLifConfig {
  double tau_m = 5.0;      ///< membrane time constant in steps; decay 1 - 1/tau_m (>= 1)
  double tau_s = 2.0;      ///< PSP (synaptic) time constant in steps; decay 1 - 1/tau_s (>= 1)
  double threshold = 1.0;  ///< firing threshold (spike when u > threshold)

  /// Throws ConfigError naming `who` unless tau_m, tau_s >= 1 and threshold > 0.
  void validate(const std::string& who) const {
    if (!(tau_m >= 1.0) || !(tau_s >= 1.0) || !(threshold > 0.0) || !std::isfinite(tau_m) || !std::isfinite(tau_s) ||
        !std::isfinite(threshold))
      throw ConfigError(who + ": tau_m and tau_s must be finite and >= 1, threshold finite and > 0 (tau_m " +
                        std::to_string(tau_m) + ", tau_s " + std::to_string(tau_s) + ", threshold " +
                        std::to_string(threshold) + ")");
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(tau_m), CEREAL_NVP(tau_s), CEREAL_NVP(threshold));
  }
};

/// The NA-LIF update in scalar form, shared by the layer, the NA re-simulation and the
/// membrane-distance functions (so that all of them compute bit-identical potentials).
/// @tparam S the scalar type (float or double)
template <Scalar S>
struct NaLifDynamics {
  S decay_m = S(0.8);    ///< 1 - 1/tau_m
  S decay_s = S(0.5);    ///< 1 - 1/tau_s
  S gain_s = S(0.5);     ///< 1/tau_s
  S threshold = S(1);  ///< the firing threshold

  /// The constants of a configuration.
  static NaLifDynamics from(const NaLifConfig& c) {
    return {S(1.0 - 1.0 / c.tau_m), S(1.0 - 1.0 / c.tau_s), S(1.0 / c.tau_s), S(c.threshold)};
  }
  /// u[t] from the potential left after step t-1 (u[t-1] (1 - s[t-1])) and the input c[t].
  S integrate(S v, S c) const noexcept { return decay_m * v + c; }
  /// s[t] = [u[t] > threshold].
  bool fires(S u) const noexcept { return u > threshold; }
  /// The potential left after a step: u (1 - s).
  S after(S u, S s) const noexcept { return u * (S(1) - s); }
  /// a[t] from a[t-1] and s[t].
  S psp(S a, S s) const noexcept { return decay_s * a + gain_s * s; }
};

/// One neuron of one sample over all T steps, as strided views into the layer's
/// (neurons x batch*T) buffers: element t is at `p[t * stride]`.
/// @tparam S the scalar type (float or double)
template <Scalar S>
struct NeuronTrace {
  const S* current = nullptr;    ///< input current c[t]
  const S* potential = nullptr;  ///< membrane potential u[t] (before the reset)
  const S* grad_spike = nullptr; ///< dL/ds[t] (after the PSP back-accumulation)
  Index steps = 0;  ///< time steps T
  Index stride = 1;  ///< the distance between two steps in the arrays
  /// c[t].
  S c(Index t) const noexcept { return current[t * stride]; }
  /// u[t].
  S u(Index t) const noexcept { return potential[t * stride]; }
  /// dL/ds[t].
  S gs(Index t) const noexcept { return grad_spike[t * stride]; }
};

/**
 * Surrogate-gradient BPTT through the NA-LIF neuron: dH/du is replaced by G; the reset's
 * dependence on the spike is kept unless `detach_reset`. With
 * \f$ u[t+1] = \beta u[t](1 - s[t]) + c[t+1] \f$ (\f$\beta = 1 - 1/\tau_m\f$):
 * \f[ \frac{\partial L}{\partial u[t]} = \Big(\frac{\partial L}{\partial s[t]} - \beta u[t]
 *     \frac{\partial L}{\partial u[t+1]}\Big) G(u[t] - \vartheta) + \beta (1 - s[t])
 *     \frac{\partial L}{\partial u[t+1]}, \qquad \frac{\partial L}{\partial c[t]} = \frac{\partial L}{\partial u[t]}. \f]
 * The forward spike is G::forward (Heaviside, or smooth for SmoothTwin<G>).
 */
/// @tparam G the surrogate derivative (a SurrogateGradient)
template <SurrogateGradient G = FastSigmoid>
struct SurrogateSpikeDerivative {
  G surrogate{};  ///< the surrogate derivative
  bool detach_reset = false;  ///< treat the reset's spike as a constant in BPTT

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Surrogate<" + G::name() + ">"; }
  /// The spike H(x).
  template <Scalar S>
  S spike(S x) const noexcept {
    return surrogate.forward(x);
  }
  /// dL/du of every step through the surrogate (BPTT of the NA-LIF dynamics).
  template <Scalar S>
  void backward(const NaLifDynamics<S>& dyn, const NeuronTrace<S>& tr, S* out) const noexcept {
    const Index T = tr.steps, st = tr.stride;
    const S beta = dyn.decay_m, th = dyn.threshold;
    S gu_next = S(0);
    for (Index t = T - 1; t >= 0; --t) {
      const S u = tr.u(t), x = u - th, s = surrogate.forward(x);
      S gs = tr.gs(t);
      if (!detach_reset) gs -= gu_next * beta * u;
      const S gu = gs * surrogate.derivative(x) + gu_next * beta * (S(1) - s);
      out[t * st] = gu;
      gu_next = gu;
    }
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(surrogate), CEREAL_NVP(detach_reset));
  }
};

/// The NA-LIF neuron: a discrete LIF with reset to zero whose output is its post-synaptic
/// potential, with the spike's derivative given by a policy (Yang, Zhang & Li, ICML 2021;
/// Zhang & Li, NeurIPS 2020; equations in the file comment).
/// @tparam S the scalar type (float or double)
/// @tparam D the derivative of the spike (a SpikeDerivative: NeighborhoodAggregation or a surrogate)
template <Scalar S, class D>
  requires SpikeDerivative<D, S>
class NaLifType {
 public:
  using scalar_type = S;  ///< the scalar type S
  using derivative_type = D;  ///< the spike-derivative policy D
  static constexpr std::uint32_t class_version = 1;  ///< the class version checkpoints store (cereal)

  /// Explicit state for step-by-step simulation: the potential left after the last step
  /// (u (1 - s)) and the PSP (neurons x batch).
  struct State {
    ///@{
    /// Membrane v and PSP a of the last step (neurons x batch).
    Matrix<S> v, a;
    ///@}
  };

  NaLifType() = default;
  /// A layer of `neurons` neurons; throws ConfigError for neurons <= 0.
  /// @param neurons the number of neurons
  /// @param cfg the membrane and PSP time constants and the threshold
  /// @param derivative the spike-derivative policy
  explicit NaLifType(Index neurons, NaLifConfig cfg = {}, D derivative = {})
      : n_(neurons), cfg_(cfg), d_(std::move(derivative)) {
    if (n_ <= 0) throw ConfigError("NaLif: number of neurons must be positive");
    cfg_.validate("NaLif(" + std::to_string(n_) + ")");
  }

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "NaLif"; }
  /// Features per input column.
  Index input_size() const noexcept { return n_; }
  /// Features per output column.
  Index output_size() const noexcept { return n_; }
  /// The run-time configuration.
  const NaLifConfig& config() const noexcept { return cfg_; }
  /// The constants of the neuron update.
  NaLifDynamics<S> dynamics() const { return NaLifDynamics<S>::from(cfg_); }
  /// The spike-derivative policy (e.g. to change NA's options between epochs).
  D& derivative() noexcept { return d_; }
  /// The spike-derivative policy (its parameters).
  const D& derivative() const noexcept { return d_; }

  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const {
    std::string s = name();
    s.append("<").append(D::name()).append(">(").append(std::to_string(n_));
    s.append(",tau_m=").append(std::to_string(cfg_.tau_m)).append(",tau_s=").append(std::to_string(cfg_.tau_s));
    s.append(",theta=").append(std::to_string(cfg_.threshold)).append(")");
    return s;
  }

  /// Runs all steps of the input currents `in` (n x batch*T); writes the PSPs to `out`.
  /// Keeps the membrane potentials for backward when training.
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext& ctx) {
    if (in.features() != n_)
      throw ShapeError(signature() + ": input has " + std::to_string(in.features()) + " features " + in.shape_string());
    const Index B = in.batch(), T = in.steps(), n = n_;
    out.resize(n, B, T);
    trained_ = ctx.training;
    if (trained_) u_.resize(n, B, T);
    v_.resize(n, B);
    a_.resize(n, B);
    const NaLifDynamics<S> dyn = dynamics();
    const D d = d_;
    const S* x = in.data();
    S* y = out.data();
    S* us = trained_ ? u_.data() : nullptr;
    S* vs = v_.data();
    S* as = a_.data();
    detail::parallel_ranges(n, double(B) * double(T) * 6, [&](Index r0, Index r1) {
      for (Index t = 0; t < T; ++t)
        for (Index b = 0; b < B; ++b) {
          const Index c = (t * B + b) * n;
          S* vb = vs + b * n;
          S* ab = as + b * n;
          for (Index r = r0; r < r1; ++r) {
            const S u = dyn.integrate(t == 0 ? S(0) : vb[r], x[c + r]);
            const S s = d.spike(u - dyn.threshold);
            const S a = dyn.psp(t == 0 ? S(0) : ab[r], s);
            if (us) us[c + r] = u;
            vb[r] = dyn.after(u, s);
            ab[r] = a;
            y[c + r] = a;
          }
        }
    });
  }

  /// Given dL/da (`grad_out`), writes dL/dc to *grad_in (when given) through the spike-
  /// derivative policy. Requires a training forward pass of the same shape.
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    if (!trained_ || !u_.same_shape(out) || !grad_out.same_shape(out) || !in.same_shape(out))
      throw ShapeError(signature() + "::backward: needs a training forward pass of the same shape (output " +
                       out.shape_string() + ", gradient " + grad_out.shape_string() + ", input " + in.shape_string() +
                       ")");
    if (!grad_in) return;  // no parameters: nothing else to compute
    const Index B = out.batch(), T = out.steps(), n = n_;
    const NaLifDynamics<S> dyn = dynamics();
    // dL/ds[t] = e[t] / tau_s with e[t] = dL/da[t] + decay_s e[t+1]  (one contiguous slot per step)
    gs_.resize(n, B, T);
    for (Index t = T - 1; t >= 0; --t) {
      if (t == T - 1)
        gs_.slot(t) = grad_out.slot(t);
      else
        gs_.slot(t) = grad_out.slot(t) + dyn.decay_s * gs_.slot(t + 1);
    }
    gs_.values() *= dyn.gain_s;
    if constexpr (requires(const D& dd, TimeSeries<S>& g) { dd.prepare(dyn, g); }) d_.prepare(dyn, gs_);
    grad_in->resize(n, B, T);
    const D d = d_;
    const S* c = in.data();
    const S* u = u_.data();
    const S* gs = gs_.data();
    S* gi = grad_in->data();
    const Index stride = B * n;
    detail::parallel_ranges(n, double(B) * double(T) * double(T) * 4, [&](Index r0, Index r1) {
      for (Index b = 0; b < B; ++b)
        for (Index r = r0; r < r1; ++r) {
          const Index o = b * n + r;
          d.backward(dyn, NeuronTrace<S>{c + o, u + o, gs + o, T, stride}, gi + o);
        }
    });
    if constexpr (requires(D& dd, Matrix<S>& g) { dd.finish(g); }) d_.finish(grad_in->values());
  }

  /// The zero state of `batch` samples (see NeuronModel).
  State make_state(Index batch) const {
    State st;
    st.v.setZero(n_, batch);
    st.a.setZero(n_, batch);
    return st;
  }
  /// Advances `st` by one step with input current `x` (n x batch); st.a holds the new PSPs.
  void step(State& st, const ConstMatrixRef<S>& x) const {
    detail::check_step_input(x, n_, st.v.cols(), [this] { return signature(); });
    const NaLifDynamics<S> dyn = dynamics();
    for (Index b = 0; b < x.cols(); ++b)
      for (Index r = 0; r < n_; ++r) {
        const S u = dyn.integrate(st.v(r, b), x(r, b));
        const S s = d_.spike(u - dyn.threshold);
        st.a(r, b) = dyn.psp(st.a(r, b), s);
        st.v(r, b) = dyn.after(u, s);
      }
  }
  /// The PSPs of the last step of `st`.
  const Matrix<S>& output(const State& st) const noexcept { return st.a; }

  /// Membrane potentials u (before reset) of the last training forward pass (n x batch*T).
  const TimeSeries<S>& membrane() const noexcept { return u_; }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("neurons", std::int64_t(n_)), cereal::make_nvp("config", cfg_),
       cereal::make_nvp("derivative", d_));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, class_version, "NaLif");
    std::int64_t n = 0;
    ar(cereal::make_nvp("neurons", n), cereal::make_nvp("config", cfg_), cereal::make_nvp("derivative", d_));
    if (n <= 0 || n > (std::int64_t(1) << 40)) throw cereal::Exception("NaLif: stored neuron count is not positive");
    try {
      cfg_.validate("NaLif");
    } catch (const ConfigError& e) {
      throw cereal::Exception(std::string("NaLif: stored configuration is invalid: ") + e.what());
    }
    n_ = n;
    trained_ = false;
  }

 private:
  Index n_ = 0;
  NaLifConfig cfg_{};
  D d_{};
  // work buffers (reused; no allocation per step)
  TimeSeries<S> u_, gs_;
  Matrix<S> v_, a_;
  bool trained_ = false;
};

/// NA-LIF layer trained with surrogate-gradient BPTT (the baseline on the same network).
template <Scalar S, SurrogateGradient G = FastSigmoid>
using SurrogateNaLif = NaLifType<S, SurrogateSpikeDerivative<G>>;

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S, class D), (spikelab::NaLifType<S, D>), 1)
SPIKELAB_CLASS_VERSION((class G), (spikelab::SurrogateSpikeDerivative<G>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::NaLifConfig), 1)

#endif
