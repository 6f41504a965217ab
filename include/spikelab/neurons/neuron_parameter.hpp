/**
 * @file neurons/neuron_parameter.hpp
 * @brief `NeuronParameter<S>`: a per-neuron quantity of a neuron layer (threshold, decay, ...)
 *        that is fixed, trainable as one value per layer, or trainable per neuron (Train).
 *
 * Values are kept per neuron whatever the mode (so a fixed parameter may still be
 * heterogeneous, as in Moro et al. 2024); a per-layer parameter is one trainable scalar
 * broadcast to all neurons, and its gradient is the sum of the per-neuron gradients.
 * Bounds are enforced by the optimizer's projection after every update, and by set().
 *
 * Parameterization (for decays): the stored, trained quantity p is either the decay itself
 * (Parameterization::direct, the default; hSNN trains alpha = exp(-dt/tau) directly) or the
 * time constant (Parameterization::time_constant, switched on with use_time_constant(dt, ...)):
 * \f[ \beta = e^{-\Delta t/\tau}, \qquad
 *     \frac{\partial L}{\partial \tau} = \frac{\partial L}{\partial \beta}\,\beta\,\frac{\Delta t}{\tau^2}. \f]
 * values() always returns the per-neuron decays the neuron model uses, add_grad() always
 * takes dL/d(decay) per neuron and applies the chain rule, and the bounds apply to the stored
 * quantity (so tau >= tau_min > 0 is kept by the optimizer's projection).
 *
 * Forward clip (set_forward_clip(lo, hi), off by default): the neuron model sees
 * \f[ \hat v = \mathrm{clip}(u, lo, hi), \qquad
 *     \frac{\partial \hat v}{\partial u} = \begin{cases} 1 & lo \le u \le hi \\ 0 & \text{otherwise} \end{cases} \f]
 * where u is the unclipped value (the stored decay, or exp(-dt/tau)). The stored parameter is
 * NOT held inside [lo, hi]: only its use is clipped, and a gradient from the neuron model
 * (add_grad) stops beyond the clip. This is how Moro et al. 2024's code bounds a trained decay
 * (jnp.clip(alpha, 1e-5, 0.98) inside the LIF step): alpha may drift above 0.98, where the
 * loss no longer moves it and only a penalty on the stored value (add_grad_unclipped, see
 * DecayRegularizer) brings it back. The projection bounds [lower, upper] still act on the
 * stored quantity; to leave it free as hSNN does, construct the parameter with wide bounds
 * (e.g. -inf, +inf). The derivative on the clip boundary itself is taken as 1 (jnp.clip gives
 * 1/2 there, a difference on a set of measure zero).
 */
#ifndef SPIKELAB_NEURONS_NEURON_PARAMETER_HPP
#define SPIKELAB_NEURONS_NEURON_PARAMETER_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/serialization.hpp>
#include <spikelab/core/versioning.hpp>

#include <cereal/cereal.hpp>

#include <algorithm>
#include <cereal/types/vector.hpp>
#include <cmath>
#include <vector>
#include <string>

namespace spikelab {

/// What a NeuronParameter stores and trains: the value itself, or a time constant tau whose
/// value is the decay exp(-dt/tau).
enum class Parameterization : std::uint8_t { direct = 0, time_constant = 1 };

/// A per-neuron quantity of a neuron layer (threshold, decay, ...) that is fixed, trainable as
/// one value per layer or trainable per neuron, stored directly or as a time constant
/// \f$ \tau \f$ with value \f$ e^{-\Delta t/\tau} \f$, projected onto [lower, upper] after each
/// update (forward clip: the file comment).
/// @tparam S the scalar type (float or double)
template <Scalar S>
class NeuronParameter {
 public:
  NeuronParameter() = default;
  /// A parameter of `neurons` neurons, every value `init`.
  /// @param mode fixed, trained per layer or trained per neuron
  /// @param neurons the number of neurons
  /// @param init the initial value
  /// @param lower the lower end of the projection range
  /// @param upper the upper end of the projection range
  NeuronParameter(Train mode, Index neurons, double init, double lower, double upper)
      : mode_(mode), n_(neurons), lower_(lower), upper_(upper) {
    if (!(lower <= init && init <= upper))
      throw ConfigError("neuron parameter initial value " + std::to_string(init) + " outside [" +
                        std::to_string(lower) + ", " + std::to_string(upper) + "]");
    value_.setConstant(mode == Train::per_layer ? 1 : neurons, 1, S(init));
    grad_.setZero(value_.rows(), 1);
    refresh();
  }

  static constexpr std::uint32_t class_version = 3;  ///< the class version checkpoints store (cereal)

  /// Fixed, trained per layer or trained per neuron.
  Train mode() const noexcept { return mode_; }
  /// Whether the value or a time constant is stored and trained.
  Parameterization parameterization() const noexcept { return param_; }
  /// Time step of the time-constant parameterization (0 when direct).
  double dt() const noexcept { return dt_; }
  /// True unless the mode is Train::fixed.
  bool trainable() const noexcept { return mode_ != Train::fixed; }
  /// The number of neurons of the layer.
  Index neurons() const noexcept { return n_; }
  /// The lower end of the projection range.
  double lower() const noexcept { return lower_; }
  /// The upper end of the projection range.
  double upper() const noexcept { return upper_; }

  /// Per-neuron values the neuron model uses (a per-layer value broadcast; decays exp(-dt/tau)
  /// when the stored quantity is a time constant; clipped when a forward clip is set); valid
  /// after refresh().
  const Vector<S>& values() const noexcept { return eff_; }
  /// Per-neuron values before the forward clip (the same as values() without one).
  const Vector<S>& unclipped_values() const noexcept { return clip_ ? unclipped_ : eff_; }
  /// Recomputes the per-neuron values from the stored parameter (after an optimizer step).
  void refresh() {
    eff_.resize(n_);
    if (param_ == Parameterization::time_constant) {
      // decay and d(decay)/d(tau) per stored element
      const S dt = S(dt_);
      dvalue_ = (-dt / value_.col(0).array()).exp().matrix();
      dvalue_.array() *= dt / value_.col(0).array().square();
      if (value_.rows() == 1)
        eff_.setConstant(std::exp(-dt / value_(0, 0)));
      else
        eff_ = (-dt / value_.col(0).array()).exp().matrix();
    } else if (value_.rows() == 1) {
      eff_.setConstant(value_(0, 0));
    } else {
      eff_ = value_.col(0);
    }
    if (!clip_) return;
    // the clip and its derivative (1 inside [lo, hi], 0 beyond) per stored element
    const S lo = S(clip_lo_), hi = S(clip_hi_);
    unclipped_ = eff_;
    eff_ = eff_.cwiseMax(lo).cwiseMin(hi);
    pass_.resize(value_.rows());
    for (Index k = 0; k < value_.rows(); ++k) pass_[k] = (unclipped_[k] >= lo && unclipped_[k] <= hi) ? S(1) : S(0);
  }

  /// Clips the values the neuron model uses to [lo, hi] in the forward pass only (see the file
  /// comment); the stored parameter keeps its own bounds. lo <= hi, both finite.
  void set_forward_clip(double lo, double hi) {
    if (!std::isfinite(lo) || !std::isfinite(hi) || !(lo <= hi))
      throw ConfigError("neuron parameter: forward clip [" + std::to_string(lo) + ", " + std::to_string(hi) +
                        "] needs finite lo <= hi");
    clip_ = true;
    clip_lo_ = lo;
    clip_hi_ = hi;
    refresh();
  }
  /// Removes the forward clip.
  void clear_forward_clip() {
    clip_ = false;
    unclipped_.resize(0);
    pass_.resize(0);
    refresh();
  }
  /// True if the forward pass clips the value (set_forward_clip).
  bool has_forward_clip() const noexcept { return clip_; }
  /// The lower end of the forward clip.
  double clip_lower() const noexcept { return clip_lo_; }
  /// The upper end of the forward clip.
  double clip_upper() const noexcept { return clip_hi_; }

  /// Neurons held at a limit: with a forward clip, those whose unclipped value lies at or
  /// beyond the clip (u <= lo or u >= hi); without one, those whose stored quantity sits on a
  /// projection bound. Valid after refresh().
  Index neurons_at_limit() const {
    Index k = 0;
    for (Index i = 0; i < n_; ++i) {
      if (clip_) {
        const S u = unclipped_[i];
        k += (u <= S(clip_lo_) || u >= S(clip_hi_));
      } else {
        const S u = value_.rows() == 1 ? value_(0, 0) : value_(i, 0);
        k += (u <= S(lower_) || u >= S(upper_));
      }
    }
    return k;
  }

  /// Switches a decay parameter to the time-constant parameterization: the stored, trained
  /// quantity becomes tau = -dt / log(decay) (same per-neuron decays as before), bounded to
  /// [tau_min, tau_max] (tau_min > 0). The decays must lie in (0, 1).
  void use_time_constant(double dt, double tau_min = 1e-6, double tau_max = 1e6) {
    if (!(dt > 0) || !(tau_min > 0) || !(tau_min < tau_max))
      throw ConfigError("neuron parameter: time-constant parameterization needs dt > 0 and 0 < tau_min < tau_max (got dt " +
                        std::to_string(dt) + ", [" + std::to_string(tau_min) + ", " + std::to_string(tau_max) + "])");
    if (param_ == Parameterization::time_constant)
      throw ConfigError("neuron parameter: already parameterized by a time constant");
    Matrix<S> tau(value_.rows(), 1);
    for (Index i = 0; i < value_.rows(); ++i) {
      const double d = double(value_(i, 0));
      if (!(d > 0 && d < 1))
        throw ConfigError("neuron parameter: decay " + std::to_string(d) + " of neuron " + std::to_string(i) +
                          " is not in (0, 1), so it has no time constant");
      tau(i, 0) = S(std::clamp(-dt / std::log(d), tau_min, tau_max));
    }
    value_ = std::move(tau);
    param_ = Parameterization::time_constant;
    dt_ = dt;
    lower_ = tau_min;
    upper_ = tau_max;
    refresh();
  }

  /// Sets the per-neuron values the neuron model uses (decays, thresholds), whatever the
  /// parameterization: with a time constant, tau = -dt / log(v) is stored. Values (or the
  /// resulting tau) must lie within the bounds.
  void set_values(const Vector<S>& v) {
    if (param_ == Parameterization::direct) return set(v);
    if (v.size() != n_) throw ShapeError("neuron parameter: expected " + std::to_string(n_) + " values, got " + std::to_string(v.size()));
    Vector<S> tau(n_);
    for (Index i = 0; i < n_; ++i) {
      if (!(v[i] > 0 && v[i] < 1))
        throw ConfigError("neuron parameter: decay " + std::to_string(double(v[i])) + " is not in (0, 1)");
      tau[i] = S(-dt_ / std::log(double(v[i])));
    }
    set(tau);
  }

  /// Sets the stored quantity of every neuron to v (the value, or tau with a time-constant
  /// parameterization; set_values() always takes the values the neuron model uses).
  void set(double v) {
    check(v);
    value_.setConstant(S(v));
    refresh();
  }
  /// Sets the per-neuron stored quantities (not allowed for a per-layer parameter unless all equal).
  void set(const Vector<S>& v) {
    if (v.size() != n_) throw ShapeError("neuron parameter: expected " + std::to_string(n_) + " values, got " + std::to_string(v.size()));
    for (Index i = 0; i < v.size(); ++i) check(double(v[i]));
    if (mode_ == Train::per_layer) {
      if ((v.array() != v[0]).any()) throw ConfigError("a per-layer parameter must have one value for all neurons");
      value_(0, 0) = v[0];
    } else {
      value_.col(0) = v;
    }
    refresh();
  }

  /// The stored quantity (the value, or tau), one entry per layer or per neuron.
  Matrix<S>& raw() noexcept { return value_; }
  /// The stored quantity (the value, or tau), one entry per layer or per neuron.
  const Matrix<S>& raw() const noexcept { return value_; }
  /// The accumulated gradient of the stored quantity.
  Matrix<S>& grad() noexcept { return grad_; }
  /// Sets every parameter gradient to zero.
  void zero_grad() { grad_.setZero(); }

  /// Adds a per-neuron gradient dL/d(value) of the values the neuron model used (summed over
  /// neurons for a per-layer parameter; times d(decay)/d(tau) for a time-constant
  /// parameterization; zero where a forward clip held the value).
  template <class V>
  void add_grad(const V& per_neuron) {
    if (mode_ == Train::fixed) return;
    if (!clip_) return add_grad_unclipped(per_neuron);
    if (mode_ == Train::per_layer)
      add_grad_unclipped(Vector<S>::Constant(1, S(per_neuron.sum()) * pass_[0]));
    else
      add_grad_unclipped((per_neuron.array() * pass_.array()).matrix());
  }
  /// Adds a per-neuron gradient dL/du of the unclipped values u (a penalty on the stored
  /// parameter, which the forward clip does not stop); the same as add_grad() without a clip.
  template <class V>
  void add_grad_unclipped(const V& per_neuron) {
    if (mode_ == Train::fixed) return;
    if (param_ == Parameterization::time_constant) {
      if (mode_ == Train::per_layer)
        grad_(0, 0) += per_neuron.sum() * dvalue_(0, 0);
      else
        grad_.col(0).array() += per_neuron.array() * dvalue_.col(0).array();
      return;
    }
    if (mode_ == Train::per_layer)
      grad_(0, 0) += per_neuron.sum();
    else
      grad_.col(0) += per_neuron;
  }

  /// Visits the parameter if it is trainable.
  template <class F>
  void visit(F&& f, std::string_view name, ParamGroup group) {
    if (trainable()) f(ParamRef<S>{name, group, value_, grad_, S(lower_), S(upper_)});
  }

  /// The mode's name as signatures spell it.
  static std::string mode_name(Train m) {
    switch (m) {
      case Train::fixed: return "fixed";
      case Train::per_layer: return "layer";
      case Train::per_neuron: return "neuron";
    }
    return "?";
  }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("mode", static_cast<std::uint8_t>(mode_)), cereal::make_nvp("neurons", std::int64_t(n_)),
       cereal::make_nvp("lower", lower_), cereal::make_nvp("upper", upper_));
    ar(cereal::make_nvp("value", value_));
    ar(cereal::make_nvp("parameterization", static_cast<std::uint8_t>(param_)), cereal::make_nvp("dt", dt_));
    ar(cereal::make_nvp("forward_clip", clip_), cereal::make_nvp("clip_lower", clip_lo_),
       cereal::make_nvp("clip_upper", clip_hi_));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, class_version, "NeuronParameter");
    std::uint8_t m = 0, pz = 0;
    std::int64_t n = 0;
    double dt = 0;
    ar(cereal::make_nvp("mode", m), cereal::make_nvp("neurons", n), cereal::make_nvp("lower", lower_),
       cereal::make_nvp("upper", upper_));
    Matrix<S> v;
    ar(cereal::make_nvp("value", v));
    if (version >= 2) ar(cereal::make_nvp("parameterization", pz), cereal::make_nvp("dt", dt));
    bool clip = false;
    double clip_lo = 0, clip_hi = 0;
    if (version >= 3)
      ar(cereal::make_nvp("forward_clip", clip), cereal::make_nvp("clip_lower", clip_lo),
         cereal::make_nvp("clip_upper", clip_hi));
    if (clip && !(std::isfinite(clip_lo) && std::isfinite(clip_hi) && clip_lo <= clip_hi))
      throw cereal::Exception("neuron parameter: invalid stored forward clip");
    if (m > 2 || n < 0 || v.cols() != 1 || v.rows() != (Train(m) == Train::per_layer ? 1 : n))
      throw cereal::Exception("neuron parameter: inconsistent stored sizes");
    if (pz > 1 || (pz == 1 && !(dt > 0)))
      throw cereal::Exception("neuron parameter: invalid stored parameterization");
    mode_ = Train(m);
    n_ = n;
    param_ = Parameterization(pz);
    dt_ = dt;
    clip_ = clip;
    clip_lo_ = clip_lo;
    clip_hi_ = clip_hi;
    value_ = std::move(v);
    grad_.setZero(value_.rows(), 1);
    refresh();
  }

 private:
  void check(double v) const {
    // compared in S: a bound and a value that round to the same S (0.98 in float) are equal
    if (!(S(lower_) <= S(v) && S(v) <= S(upper_)))
      throw ConfigError("neuron parameter value " + std::to_string(v) + " outside [" + std::to_string(lower_) + ", " +
                        std::to_string(upper_) + "]");
  }
  Train mode_ = Train::fixed;
  Parameterization param_ = Parameterization::direct;
  Index n_ = 0;
  double lower_ = 0, upper_ = 0, dt_ = 0;
  bool clip_ = false;
  double clip_lo_ = 0, clip_hi_ = 0;
  Matrix<S> value_, grad_, dvalue_;
  Vector<S> eff_, unclipped_, pass_;
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::NeuronParameter<S>), 3)

#endif
