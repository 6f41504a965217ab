/**
 * @file conversion/refractory_lif.hpp
 * @brief RefractoryLif: a layer of continuous-time LIF neurons with an absolute refractory
 *        period, simulated with step dt (Nengo's LIF update: exact exponential integration,
 *        interpolated spike times and sub-step refractory accounting). An inference model: the
 *        spiking counterpart of the soft-LIF rate neurons (see conversion/transfer.hpp).
 *
 * Input current \f$ J = a x + b \f$ (gain a, bias b; x = the layer input, e.g. filtered synaptic
 * current). Between spikes the membrane follows \f$ \tau_{RC}\, \frac{dv}{dt} = J - v \f$; a spike is emitted when
 * v crosses the threshold 1, after which v is held at 0 for tau_ref. Over one step of length dt,
 * with r the refractory time left:
 * \f[ r \leftarrow r - dt,\quad \Delta = \mathrm{clip}(dt - r, 0, dt),\quad
 *     v \leftarrow v + (J - v)(1 - e^{-\Delta/\tau_{RC}}), \f]
 * and if v > 1: the crossing time inside the step, \f$ t_s = dt + \tau_{RC}\log\big(1 - (v-1)/(J-1)\big) \f$
 * (exact for constant J), v <- 0, r <- tau_ref + t_s; else v <- max(v, 0). The output is
 * `amplitude` at a spike step and 0 otherwise (amplitude 1/dt gives Nengo's unit-area spikes).
 * For constant J the inter-spike interval is exactly tau_ref + tau_RC log(1 + 1/(J - 1)), the
 * rate lif_rate(J) of soft_lif.hpp; the only discretisation is that spikes are reported at step
 * resolution (and at most one per step: rates up to 1/dt).
 *
 * The layer has no surrogate gradient: backward() throws (train the rate network instead).
 * Memory: the state (v, r) of the current step only, member buffers reused between calls.
 *
 * @code
 * @book{gerstner2002spiking, title={Spiking Neuron Models}, author={Gerstner, Wulfram and Kistler, Werner M.},
 *   publisher={Cambridge University Press}, year={2002}}
 * @article{bekolay2014nengo, title={Nengo: a Python tool for building large-scale functional brain models},
 *   author={Bekolay, Trevor and others}, journal={Frontiers in Neuroinformatics}, volume={7}, pages={48}, year={2014}}
 * @article{hunsberger2015spiking, title={Spiking Deep Networks with LIF Neurons},
 *   author={Hunsberger, Eric and Eliasmith, Chris}, journal={arXiv:1510.08829}, year={2015}}
 * @endcode
 */
#ifndef SPIKELAB_CONVERSION_REFRACTORY_LIF_HPP
#define SPIKELAB_CONVERSION_REFRACTORY_LIF_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/neurons/concepts.hpp>

#include <cereal/cereal.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

namespace spikelab {

/// Parameters of a RefractoryLif layer: time constants, simulation step and the input current
/// J = gain x + bias.
struct RefractoryLifConfig {
  double tau_rc = 0.02;    ///< membrane time constant (s)
  double tau_ref = 0.002;  ///< absolute refractory period (s)
  double dt = 0.001;       ///< simulation step (s)
  double gain = 1.0;       ///< a in J = a x + b
  double bias = 1.0;       ///< b in J = a x + b (1: the neuron fires for x > 0 when a > 0)
  double amplitude = 1.0;  ///< output value of a spike step

  /// Throws ConfigError unless every value is in range.
  void validate() const {
    auto finite = [](double v) { return std::isfinite(v); };
    if (!(tau_rc > 0) || !(tau_ref >= 0) || !(dt > 0) || !finite(tau_rc) || !finite(tau_ref) || !finite(dt) ||
        !finite(gain) || !finite(bias) || !finite(amplitude))
      throw ConfigError("RefractoryLif: need finite parameters with tau_rc > 0, tau_ref >= 0, dt > 0 (got tau_rc=" +
                        std::to_string(tau_rc) + ", tau_ref=" + std::to_string(tau_ref) + ", dt=" + std::to_string(dt) +
                        ")");
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(tau_rc), CEREAL_NVP(tau_ref), CEREAL_NVP(dt), CEREAL_NVP(gain), CEREAL_NVP(bias),
       CEREAL_NVP(amplitude));
  }
};

/// A layer of continuous-time LIF neurons with an absolute refractory period simulated with
/// step dt, \f$ \tau_{rc}\, dv/dt = J - v \f$ with threshold 1 and reset to 0 (Nengo's update:
/// Bekolay et al., Frontiers in Neuroinformatics 2014; Gerstner & Kistler, Spiking Neuron
/// Models, 2002): the spiking counterpart of SoftLif (Hunsberger & Eliasmith,
/// arXiv:1510.08829, 2015).
/// @tparam S the scalar type (float or double)
template <Scalar S>
class RefractoryLif {
 public:
  using scalar_type = S;  ///< the scalar type S
  static constexpr std::uint32_t class_version = 1;  ///< the class version checkpoints store (cereal)

  /// Explicit state for step-by-step simulation: membrane v, refractory time left, last output.
  struct State {
    ///@{
    /// Membrane v, refractory time left ref and output s (neurons x batch).
    Matrix<S> v, ref, s;
    ///@}
  };

  RefractoryLif() = default;
  /// A layer of `neurons` neurons; throws ConfigError for neurons <= 0 or invalid parameters.
  /// @param neurons the number of neurons
  /// @param cfg the time constants, step and input current
  explicit RefractoryLif(Index neurons, RefractoryLifConfig cfg = {}) : n_(neurons), cfg_(cfg) {
    if (n_ <= 0) throw ConfigError("RefractoryLif: number of neurons must be positive");
    cfg_.validate();
  }

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "RefractoryLif"; }
  /// Features per input column.
  Index input_size() const noexcept { return n_; }
  /// Features per output column.
  Index output_size() const noexcept { return n_; }
  /// The run-time configuration.
  const RefractoryLifConfig& config() const noexcept { return cfg_; }
  /// "RefractoryLif(n)": the structure only (checkpoints restore the configuration).
  std::string signature() const { return name() + "(" + std::to_string(n_) + ")"; }
  /// The signature with the configuration: "RefractoryLif<rc=0.022,ref=0.002,...>(n)".
  std::string description() const {
    std::ostringstream s;
    s << name() << "<rc=" << cfg_.tau_rc << ",ref=" << cfg_.tau_ref << ",dt=" << cfg_.dt << ",a=" << cfg_.gain
      << ",b=" << cfg_.bias << ",amp=" << cfg_.amplitude << ">(" << n_ << ")";
    return s.str();
  }

  /// Firing rate (Hz) of a neuron under the constant input x: 1/(tau_ref + tau_rc log(1 + 1/(J-1))), J = a x + b.
  double rate(double x) const noexcept {
    const double j = cfg_.gain * x + cfg_.bias;
    return j > 1.0 ? 1.0 / (cfg_.tau_ref + cfg_.tau_rc * std::log1p(1.0 / (j - 1.0))) : 0.0;
  }

  /// Simulates all steps of `in` (n x batch*T) from the zero state (v = 0, not refractory).
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    check_input(in);
    v_.setZero(n_, in.batch());
    ref_.setZero(n_, in.batch());
    simulate(in, out, v_, ref_);
  }

  /// Simulates all steps of `in` from the state `st` and leaves the state after the last step
  /// in `st` (st.s: the last step's output): over consecutive pieces of a sequence it gives what
  /// forward() gives on the whole sequence, for a run simulated in pieces without reset.
  void forward_continued(const TimeSeries<S>& in, TimeSeries<S>& out, State& st) const {
    check_input(in);
    const Index B = in.batch();
    if (st.v.rows() != n_ || st.v.cols() != B || st.ref.rows() != n_ || st.ref.cols() != B)
      throw ShapeError(signature() + ": the state does not fit " + std::to_string(n_) + " x " + std::to_string(B) +
                       " (make it with make_state(batch))");
    simulate(in, out, st.v, st.ref);
    st.s = out.slot(in.steps() - 1);
  }

  /// Not differentiable: throws ConfigError.
  [[noreturn]] void backward(const TimeSeries<S>&, const TimeSeries<S>&, const TimeSeries<S>&, TimeSeries<S>*) {
    throw ConfigError(signature() +
                      ": a spiking inference layer has no gradient; train the rate network (SoftLifRate) and transfer it");
  }

  /// The zero state of `batch` samples (see NeuronModel).
  State make_state(Index batch) const {
    State s;
    s.v.setZero(n_, batch);
    s.ref.setZero(n_, batch);
    s.s.setZero(n_, batch);
    return s;
  }
  /// Advances `st` by one step with input x (n x batch); st.s holds the new output.
  void step(State& st, const ConstMatrixRef<S>& x) const {
    detail::check_step_input(x, n_, st.v.cols(), [this] { return signature(); });
    const Step f(cfg_);
    for (Index b = 0; b < x.cols(); ++b)
      for (Index r = 0; r < n_; ++r) st.s(r, b) = f(x(r, b), st.v(r, b), st.ref(r, b));
  }
  /// The layer's output at the state's last step (see NeuronModel).
  const Matrix<S>& output(const State& st) const noexcept { return st.s; }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("neurons", std::int64_t(n_)), cereal::make_nvp("config", cfg_));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, class_version, "RefractoryLif");
    std::int64_t n = 0;
    ar(cereal::make_nvp("neurons", n), cereal::make_nvp("config", cfg_));
    if (n <= 0) throw cereal::Exception("RefractoryLif: stored number of neurons is not positive");
    try {
      cfg_.validate();
    } catch (const ConfigError& e) {
      throw cereal::Exception(e.what());
    }
    n_ = n;
  }

 private:
  void check_input(const TimeSeries<S>& in) const {
    if (in.features() != n_)
      throw ShapeError(signature() + ": input has " + std::to_string(in.features()) + " features " + in.shape_string());
  }

  // every step of `in` from the state (v, ref), which it leaves after the last step
  void simulate(const TimeSeries<S>& in, TimeSeries<S>& out, Matrix<S>& vm, Matrix<S>& refm) const {
    const Index B = in.batch(), T = in.steps(), n = n_;
    out.resize(n, B, T);
    const Step st(cfg_);
    const S* x = in.data();
    S* y = out.data();
    S* v = vm.data();
    S* rf = refm.data();
    detail::parallel_ranges(n, double(B) * double(T) * 6, [&](Index r0, Index r1) {
      for (Index t = 0; t < T; ++t)
        for (Index b = 0; b < B; ++b) {
          const Index c = (t * B + b) * n, sc = b * n;
          for (Index r = r0; r < r1; ++r) y[c + r] = st(x[c + r], v[sc + r], rf[sc + r]);
        }
    });
  }

  // One neuron, one step: updates (v, ref) and returns the output.
  struct Step {
    S a, b, dt, tau, tau_ref, amp, decay_full;
    explicit Step(const RefractoryLifConfig& c)
        : a(S(c.gain)), b(S(c.bias)), dt(S(c.dt)), tau(S(c.tau_rc)), tau_ref(S(c.tau_ref)), amp(S(c.amplitude)),
          decay_full(S(-std::expm1(-c.dt / c.tau_rc))) {}
    S operator()(S x, S& v, S& ref) const noexcept {
      const S j = a * x + b;
      ref -= dt;
      if (ref <= S(0))
        v += (j - v) * decay_full;
      else if (ref < dt)
        v -= (j - v) * std::expm1(-(dt - ref) / tau);
      if (v > S(1)) {
        // crossing time inside the step (J > v > 1 here; the clamp only guards rounding)
        const S q = std::clamp((v - S(1)) / (j - S(1)), S(0), S(1) - std::numeric_limits<S>::epsilon());
        const S ts = std::clamp(dt + tau * std::log1p(-q), S(0), dt);
        v = S(0);
        ref = tau_ref + ts;
        return amp;
      }
      if (v < S(0)) v = S(0);
      return S(0);
    }
  };

  Index n_ = 0;
  RefractoryLifConfig cfg_{};
  Matrix<S> v_, ref_;  // state of the current step (n x batch), reused
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::RefractoryLif<S>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::RefractoryLifConfig), 1)

#endif
