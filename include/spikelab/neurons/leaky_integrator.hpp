/**
 * @file neurons/leaky_integrator.hpp
 * @brief LeakyIntegratorType: a non-spiking readout whose output is its membrane potential.
 *
 * \f[ v_t = \beta v_{t-1} + c\, x_t, \qquad c = 1 \text{ or } c = 1 - \beta \text{ (normalised, hSNN's form)} \f]
 * with v_{-1} = 0. beta is a NeuronParameter (fixed, per layer or per neuron). Losses then
 * read the membrane (sum or max over time, or per step).
 *
 * @code
 * @article{zenke2021remarkable, title={The remarkable robustness of surrogate gradient learning for
 *   instilling complex function in spiking neural networks}, author={Zenke, Friedemann and Vogels, Tim P.},
 *   journal={Neural Computation}, volume={33}, number={4}, pages={899--925}, year={2021}}
 * @endcode
 */
#ifndef SPIKELAB_NEURONS_LEAKY_INTEGRATOR_HPP
#define SPIKELAB_NEURONS_LEAKY_INTEGRATOR_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/neurons/neuron_parameter.hpp>

#include <string>

namespace spikelab {

/// Run-time hyperparameters of a LeakyIntegratorType: the membrane decay, its projection range
/// when trained, and whether the input is scaled by (1 - beta).
struct LeakyIntegratorConfig {
  double beta = 0.9;  ///< membrane decay beta
  bool normalize = false;  ///< scale the input by (1 - beta)
  /// Projection range [beta_min, beta_max] of a trained beta.
  double beta_min = 0.0, beta_max = 1.0;  ///< projection range of a trained beta
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(beta), CEREAL_NVP(normalize), CEREAL_NVP(beta_min), CEREAL_NVP(beta_max));
  }
};

/// A non-spiking readout layer whose output is its membrane potential,
/// \f$ v_t = \beta v_{t-1} + c\, x_t \f$ with \f$ c = 1 - \beta \f$ when normalised and 1
/// otherwise (hSNN's form); the readout of Zenke & Vogels, Neural Computation 2021.
/// @tparam S the scalar type (float or double)
/// @tparam BetaMode whether beta is fixed, trained per layer or trained per neuron (Train)
template <Scalar S, Train BetaMode = Train::fixed>
class LeakyIntegratorType {
 public:
  using scalar_type = S;  ///< the scalar type S
  static constexpr std::uint32_t class_version = 1;  ///< the class version checkpoints store (cereal)

  LeakyIntegratorType() = default;
  /// A readout of `neurons` neurons; throws ConfigError for neurons <= 0.
  /// @param neurons the number of neurons
  /// @param cfg the decay and its range
  explicit LeakyIntegratorType(Index neurons, LeakyIntegratorConfig cfg = {}) : n_(neurons), cfg_(cfg) {
    if (neurons <= 0) throw ConfigError("LeakyIntegrator: number of neurons must be positive");
    beta_ = NeuronParameter<S>(BetaMode, n_, cfg.beta, cfg.beta_min, cfg.beta_max);
  }

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "LeakyIntegrator"; }
  /// Features per input column.
  Index input_size() const noexcept { return n_; }
  /// Features per output column.
  Index output_size() const noexcept { return n_; }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const {
    return name() + "<beta:" + NeuronParameter<S>::mode_name(BetaMode) + (cfg_.normalize ? ",normalized" : "") + ">(" +
           std::to_string(n_) + ")";
  }
  /// The run-time configuration.
  const LeakyIntegratorConfig& config() const noexcept { return cfg_; }
  /// The membrane decay beta.
  NeuronParameter<S>& beta() noexcept { return beta_; }
  /// The membrane decay beta.
  const NeuronParameter<S>& beta() const noexcept { return beta_; }

  /// Calls f(`ParamRef<S>`) for every trainable parameter block, in a fixed order.
  template <class F>
  void for_each_parameter(F&& f) {
    beta_.visit(f, "beta", ParamGroup::time_constant);
  }
  /// Sets every parameter gradient to zero.
  void zero_grad() { beta_.zero_grad(); }

  /// All T steps of `in` to `out` (see Layer); with ctx.training the layer keeps what backward() needs.
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    if (in.features() != n_)
      throw ShapeError(signature() + ": input has " + std::to_string(in.features()) + " features " + in.shape_string());
    beta_.refresh();
    const Index B = in.batch(), T = in.steps(), n = n_;
    out.resize(n, B, T);
    const S* be = beta_.values().data();
    const S* x = in.data();
    S* v = out.data();
    const bool norm = cfg_.normalize;
    detail::parallel_ranges(n, double(B * T) * 4, [&](Index r0, Index r1) {
      for (Index t = 0; t < T; ++t)
        for (Index b = 0; b < B; ++b) {
          const Index c = (t * B + b) * n, pc = c - B * n;
          for (Index r = r0; r < r1; ++r) {
            const S sc = norm ? S(1) - be[r] : S(1);
            v[c + r] = (t == 0 ? S(0) : be[r] * v[pc + r]) + sc * x[c + r];
          }
        }
    });
  }

  /// backward() may run in place (grad_in == &grad_out); Sequential uses it to share buffers.
  static constexpr bool backward_in_place = true;

  /// Writes dL/d(in) to *grad_in (when not null) from dL/d(out) = grad_out and adds the parameter gradients (see Layer).
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    if (!grad_out.same_shape(out) || !in.same_shape(out))
      throw ShapeError(signature() + "::backward: gradient " + grad_out.shape_string() + " does not match output " +
                       out.shape_string());
    const Index B = out.batch(), T = out.steps(), n = n_;
    TimeSeries<S>& gin = grad_in ? *grad_in : scratch_;
    if (&gin != &grad_out) gin.resize(n, B, T);
    gnext_.resize(n, B);
    acc_.setZero(n);
    const S* be = beta_.values().data();
    const S* x = in.data();
    const S* v = out.data();
    const S* go = grad_out.data();
    S* gi = gin.data();
    S* gn = gnext_.data();
    S* acc = acc_.data();
    const bool norm = cfg_.normalize, want = BetaMode != Train::fixed;
    detail::parallel_ranges(n, double(B * T) * 6, [&](Index r0, Index r1) {
      for (Index t = T - 1; t >= 0; --t)
        for (Index b = 0; b < B; ++b) {
          const Index c = (t * B + b) * n, pc = c - B * n;
          S* gnb = gn + b * n;
          for (Index r = r0; r < r1; ++r) {
            const S gv = go[c + r] + (t == T - 1 ? S(0) : be[r] * gnb[r]);
            gnb[r] = gv;
            gi[c + r] = norm ? (S(1) - be[r]) * gv : gv;
            if (want) {
              if (t > 0) acc[r] += gv * v[pc + r];
              if (norm) acc[r] -= gv * x[c + r];
            }
          }
        }
    });
    beta_.add_grad(acc_);
  }

  /// Explicit state for step-by-step simulation: the membrane (neurons x batch).
  struct State {
    Matrix<S> v;  ///< the membrane potentials (neurons x batch)
  };
  /// The zero state of `batch` samples (see NeuronModel).
  State make_state(Index batch) const { return {Matrix<S>::Zero(n_, batch)}; }
  /// The readout's output at the last step of `st`: its membrane.
  const Matrix<S>& output(const State& st) const noexcept { return st.v; }
  /// Advances `st` by one step with input x (neurons x batch).
  void step(State& st, const ConstMatrixRef<S>& x) {
    if (x.rows() != n_ || x.cols() != st.v.cols()) throw ShapeError(signature() + "::step: input does not match the state");
    beta_.refresh();
    for (Index b = 0; b < x.cols(); ++b)
      for (Index r = 0; r < n_; ++r) {
        const S be = beta_.values()[r];
        st.v(r, b) = be * st.v(r, b) + (cfg_.normalize ? S(1) - be : S(1)) * x(r, b);
      }
  }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("neurons", std::int64_t(n_)), cereal::make_nvp("config", cfg_), cereal::make_nvp("beta", beta_));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, class_version, "LeakyIntegrator");
    std::int64_t n = 0;
    ar(cereal::make_nvp("neurons", n), cereal::make_nvp("config", cfg_), cereal::make_nvp("beta", beta_));
    n_ = n;
    if (beta_.neurons() != n_ || beta_.mode() != BetaMode)
      throw cereal::Exception("LeakyIntegrator: stored parameters do not match the layer type");
  }

 private:
  Index n_ = 0;
  LeakyIntegratorConfig cfg_{};
  NeuronParameter<S> beta_;
  TimeSeries<S> scratch_;
  Matrix<S> gnext_;
  Vector<S> acc_;
};

/// A leaky-integrator readout with a fixed decay.
template <Scalar S>
using LeakyIntegrator = LeakyIntegratorType<S, Train::fixed>;

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S, spikelab::Train M), (spikelab::LeakyIntegratorType<S, M>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::LeakyIntegratorConfig), 1)

#endif
