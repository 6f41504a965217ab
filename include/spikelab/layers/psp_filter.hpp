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
 * This is one exponential stage of SynapticFilter's recursion, with decay 1 - 1/tau_s.
 * A static input \f$ x[t] = a_t x_0 \f$ (an image at every step) gives
 * \f$ y[t] = c_t x_0 \f$ with \f$ c_t = (1 - 1/\tau_s) c_{t-1} + a_t/\tau_s \f$; the output is then
 * written as such (TimeSeries::assign_static), so that the weighted layer above projects x_0 once.
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
#include <spikelab/layers/layer_base.hpp>
#include <spikelab/layers/synaptic_filter.hpp>

#include <cereal/cereal.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace spikelab {

/// The first-order post-synaptic-potential filter of NA / TSSL-BP on a network's input,
/// \f$ y[t] = (1 - 1/\tau_s)\, y[t-1] + x[t]/\tau_s \f$ (Yang, Zhang & Li, ICML 2021).
/// @tparam S the scalar type (float or double)
template <Scalar S>
class PspFilter : public detail::FeatureLayer<PspFilter<S>, S, double> {
 public:
  static constexpr const char* config_key = "tau_s";  ///< the name of the configuration in a checkpoint

  PspFilter() = default;
  /// A filter of `features` channels with time constant tau_s (>= 1 step).
  /// @param features the number of features
  /// @param tau_s the time constant in steps
  explicit PspFilter(Index features, double tau_s = 2.0) : PspFilter::FeatureLayer(features, tau_s) {}

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "PspFilter"; }
  /// Throws ConfigError unless tau_s is finite and >= 1 (it fits any number of features).
  static void validate(Index, double tau_s) {
    if (!(tau_s >= 1.0) || !std::isfinite(tau_s))
      throw ConfigError("PspFilter: tau_s must be finite and >= 1 (got " + std::to_string(tau_s) + ")");
  }
  /// The time constant tau_s in steps.
  double tau_s() const noexcept { return this->cfg_; }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const { return name() + "(" + std::to_string(n_) + ",tau_s=" + std::to_string(tau_s()) + ")"; }

  /// All T steps of `in` to `out` (see Layer); with ctx.training the layer keeps what backward() needs.
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    this->require_input(in);
    out.resize(n_, in.batch(), in.steps());
    if (const auto st = in.static_steps()) {
      scale_.resize(std::size_t(in.steps()));
      S c = S(0);
      for (Index t = 0; t < in.steps(); ++t) scale_[std::size_t(t)] = c = decay() * c + gain() * st->factor(t);
      out.assign_static(Eigen::Map<const Matrix<S>>(st->base, n_, in.batch()), scale_);
      return;
    }
    ys_.setZero(n_, in.batch());
    detail::low_pass(in.data(), out.data(), ys_.data(), static_cast<S*>(nullptr), n_, in.batch(), in.steps(), decay(),
                     gain(), false);
  }

  /// Explicit state for streaming (Sequential::forward_step): the output y (n x batch).
  struct State {
    Matrix<S> y;  ///< the filter output of the last step
  };
  /// The zero state of `batch` samples (see NeuronModel).
  State make_state(Index batch) const { return {Matrix<S>::Zero(n_, batch)}; }
  /// Advances `st` by one step with input x (n x batch).
  void step(State& st, const ConstMatrixRef<S>& x) const {
    if (x.rows() != n_ || x.cols() != st.y.cols()) throw ShapeError(signature() + "::step: input does not match the state");
    st.y = decay() * st.y + gain() * x;
  }
  /// The layer's output at the state's last step (see NeuronModel).
  const Matrix<S>& output(const State& st) const noexcept { return st.y; }

  /// Writes dL/d(in) to *grad_in (when not null) from dL/d(out) = grad_out and adds the parameter gradients (see Layer).
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    this->require_gradient(in, out, grad_out);
    if (!grad_in) return;
    grad_in->resize(n_, out.batch(), out.steps());
    e_.setZero(n_, out.batch());
    detail::low_pass_adjoint(grad_out.data(), grad_in->data(), e_.data(), static_cast<S*>(nullptr), n_, out.batch(),
                             out.steps(), decay(), gain(), false);
  }

 private:
  // the recursion y[t] = decay y[t-1] + gain x[t] of the first-order low pass
  S decay() const noexcept { return S(1.0 - 1.0 / tau_s()); }
  S gain() const noexcept { return S(1.0 / tau_s()); }

  using PspFilter::FeatureLayer::n_;
  Matrix<S> e_;            // the adjoint state e[t+1] (n x batch), reused
  Matrix<S> ys_;           // the forward recursion's state y[t-1] (n x batch), reused
  std::vector<S> scale_;   // static input: the output's factors c_t
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::PspFilter<S>), 1)

#endif
