/**
 * @file layers/psp_filter.hpp
 * @brief PspFilter: the first-order post-synaptic-potential filter of NA / TSSL-BP applied to
 *        a network's input (non-spiking, no parameters).
 *
 * \f[ y[t] = (1 - 1/\tau_s)\, y[t-1] + x[t]/\tau_s, \qquad y[-1] = 0, \f]
 * i.e. \f$ y = x * \sigma \f$ with \f$ \sigma[t] = (1/\tau_s)(1 - 1/\tau_s)^t \f$. NA and TSSL-BP
 * filter the input (static images repeated for every step, or event frames) this way before
 * the first weighted layer (the official NA code's `f.psp(input)`). Backward is the adjoint:
 * \f$ \partial L/\partial x[t] = e[t]/\tau_s \f$ with \f$ e[t] = \partial L/\partial y[t] + (1 - 1/\tau_s) e[t+1] \f$.
 *
 * @code
 * @inproceedings{yang2021backpropagated, title={Backpropagated Neighborhood Aggregation for Accurate Training of
 *   Spiking Neural Networks}, author={Yang, Yukun and Zhang, Wenrui and Li, Peng}, booktitle={ICML}, year={2021}}
 * @endcode
 */
#ifndef SPIKELAB_LAYERS_PSP_FILTER_HPP
#define SPIKELAB_LAYERS_PSP_FILTER_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/versioning.hpp>

#include <cereal/cereal.hpp>

#include <cmath>
#include <cstdint>
#include <string>

namespace spikelab {

template <Scalar S>
class PspFilter {
 public:
  using scalar_type = S;
  static constexpr std::uint32_t class_version = 1;

  PspFilter() = default;
  /// A filter of `features` channels with time constant tau_s (>= 1 step).
  explicit PspFilter(Index features, double tau_s = 2.0) : n_(features), tau_s_(tau_s) { validate(); }

  static std::string name() { return "PspFilter"; }
  Index input_size() const noexcept { return n_; }
  Index output_size() const noexcept { return n_; }
  double tau_s() const noexcept { return tau_s_; }
  std::string signature() const { return name() + "(" + std::to_string(n_) + ",tau_s=" + std::to_string(tau_s_) + ")"; }

  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    if (in.features() != n_)
      throw ShapeError(signature() + ": input has " + std::to_string(in.features()) + " features " + in.shape_string());
    const Index T = in.steps();
    out.resize(n_, in.batch(), T);
    const S decay = S(1.0 - 1.0 / tau_s_), gain = S(1.0 / tau_s_);
    for (Index t = 0; t < T; ++t) {
      if (t == 0)
        out.slot(0) = gain * in.slot(0);
      else
        out.slot(t) = decay * out.slot(t - 1) + gain * in.slot(t);
    }
  }

  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    if (!grad_out.same_shape(out) || !in.same_shape(out))
      throw ShapeError(signature() + "::backward: gradient " + grad_out.shape_string() + " / input " +
                       in.shape_string() + " do not match output " + out.shape_string());
    if (!grad_in) return;
    const Index T = out.steps();
    grad_in->resize(n_, out.batch(), T);
    const S decay = S(1.0 - 1.0 / tau_s_), gain = S(1.0 / tau_s_);
    for (Index t = T - 1; t >= 0; --t) {
      if (t == T - 1)
        grad_in->slot(t) = grad_out.slot(t);
      else
        grad_in->slot(t) = grad_out.slot(t) + decay * grad_in->slot(t + 1);
    }
    grad_in->values() *= gain;
  }

  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("features", std::int64_t(n_)), cereal::make_nvp("tau_s", tau_s_));
  }
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, class_version, "PspFilter");
    std::int64_t n = 0;
    ar(cereal::make_nvp("features", n), cereal::make_nvp("tau_s", tau_s_));
    n_ = n;
    try {
      validate();
    } catch (const ConfigError& e) {
      throw cereal::Exception(std::string("PspFilter: stored configuration is invalid: ") + e.what());
    }
  }

 private:
  void validate() const {
    if (n_ <= 0) throw ConfigError("PspFilter: number of features must be positive");
    if (!(tau_s_ >= 1.0) || !std::isfinite(tau_s_))
      throw ConfigError("PspFilter: tau_s must be finite and >= 1 (got " + std::to_string(tau_s_) + ")");
  }
  Index n_ = 0;
  double tau_s_ = 2.0;
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::PspFilter<S>), 1)

#endif
