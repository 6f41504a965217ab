/**
 * @file layers/activation.hpp
 * @brief Activation<S, F>: an element-wise rate activation y = f(x) (optionally with training
 *        noise) as a layer, for non-spiking (rate) networks trained by ordinary backpropagation;
 *        the Relu policy. Policies (Relu, SoftLif, ...) model ActivationFunction (layers/concepts.hpp).
 *
 * \f[ y_{f,c} = f(x_{f,c}) \;(+\; \text{noise, training only}), \qquad
 *     \frac{\partial L}{\partial x_{f,c}} = f'(x_{f,c})\, \frac{\partial L}{\partial y_{f,c}} \f]
 * for every feature f and column c. A rate network is an ordinary spikelab network with T = 1
 * (one column per sample): Linear / Conv2d / pooling layers and Activation layers compose in a
 * Sequential and train with Bptt and a cross-entropy loss (SumCrossEntropy over one step is the
 * plain softmax cross-entropy). The backward pass uses the noise-free derivative f'(x), so noise
 * is a forward-only perturbation (Hunsberger & Eliasmith's training noise). Nothing is stored for
 * backward: the derivative is recomputed from the layer input.
 *
 * Requirements on a policy F (concept ActivationFunction), for S = float and double:
 *  - `F::name()`, `f.describe()` (its parameters, for the layer signature);
 *  - `f.values(x, y, n)` and `f.derivatives(x, d, n)`: y_i = f(x_i), d_i = f'(x_i) for n values;
 *  - `f.noisy()`, and `f.add_noise(x, y, n, rng)`: perturbs y = f(x) in place (training only);
 *  - cereal `serialize`.
 *
 * @code
 * @article{nair2010rectified, title={Rectified linear units improve restricted Boltzmann machines},
 *   author={Nair, Vinod and Hinton, Geoffrey E.}, booktitle={ICML}, year={2010}}
 * @article{hunsberger2015spiking, title={Spiking Deep Networks with LIF Neurons},
 *   author={Hunsberger, Eric and Eliasmith, Chris}, journal={arXiv:1510.08829}, year={2015}}
 * @endcode
 */
#ifndef SPIKELAB_LAYERS_ACTIVATION_HPP
#define SPIKELAB_LAYERS_ACTIVATION_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/layers/concepts.hpp>
#include <spikelab/layers/image_shape.hpp>
#include <spikelab/layers/layer_base.hpp>

#include <cereal/cereal.hpp>

#include <concepts>
#include <cstdint>
#include <string>

namespace spikelab {

/// Rectified linear unit: f(x) = max(x, 0), f'(x) = [x > 0]. No noise.
struct Relu {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Relu"; }
  /// The parameters for the layer signature: none.
  std::string describe() const { return {}; }
  /// max(x, 0).
  template <Scalar S>
  S value(S x) const noexcept { return x > S(0) ? x : S(0); }
  /// [x > 0].
  template <Scalar S>
  S derivative(S x) const noexcept { return x > S(0) ? S(1) : S(0); }
  /// y_i = f(x_i) for n values.
  template <Scalar S>
  void values(const S* x, S* y, Index n) const noexcept {
    for (Index i = 0; i < n; ++i) y[i] = value(x[i]);
  }
  /// d_i = f'(x_i) for n values.
  template <Scalar S>
  void derivatives(const S* x, S* d, Index n) const noexcept {
    for (Index i = 0; i < n; ++i) d[i] = derivative(x[i]);
  }
  /// False: no training noise.
  bool noisy() const noexcept { return false; }
  /// No noise: nothing to do.
  template <Scalar S>
  void add_noise(const S*, S*, Index, Rng&) const noexcept {}
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar&, std::uint32_t) {}
};

/// An element-wise rate activation as a layer, \f$ y_{f,c} = f(x_{f,c}) \f$ (plus training
/// noise), backpropagated with the noise-free derivative f' (Hunsberger & Eliasmith,
/// arXiv:1510.08829, 2015; ReLU: Nair & Hinton, ICML 2010).
/// @tparam S the scalar type (float or double)
/// @tparam F the activation policy (an ActivationFunction: Relu, SoftLif, ...)
template <Scalar S, ActivationFunction F>
class Activation : public detail::FeatureLayer<Activation<S, F>, S, F> {
 public:
  using function_type = F;  ///< the activation policy F
  static constexpr const char* config_key = "function";  ///< the name of the configuration in a checkpoint

  Activation() = default;
  /// An activation over `features` features.
  /// @param features the number of features
  /// @param f the activation policy
  explicit Activation(Index features, F f = {}) : Activation::FeatureLayer(features, std::move(f)) {}
  /// An activation over every feature of a C x H x W map (for convolutional rate networks).
  /// @param shape the feature map's shape
  /// @param f the activation policy
  explicit Activation(ImageShape shape, F f = {}) : Activation((shape.validate(name()), shape.size()), std::move(f)) {}

  /// Each output column depends on the same input column only (Sequential::forward_step
  /// runs the layer one step at a time).
  static constexpr bool per_column = true;
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return F::name(); }
  /// The policy checks its own parameters: any policy fits any number of features.
  static void validate(Index, const F&) noexcept {}
  /// The activation policy.
  const F& function() const noexcept { return cfg_; }
  /// The activation policy.
  F& function() noexcept { return cfg_; }
  /// "SoftLifRate(12544)": the structure only (checkpoints restore the policy's parameters).
  std::string signature() const { return name() + "(" + std::to_string(n_) + ")"; }
  /// The signature with the policy's parameters: "SoftLifRate<m=0.063,...>(12544)".
  std::string description() const {
    std::string s = name();
    const std::string d = cfg_.describe();
    if (!d.empty()) s.append("<").append(d).append(">");
    return s.append("(").append(std::to_string(n_)).append(")");
  }

  /// y = f(x) for every step; with ctx.training and a noisy policy, the policy's noise is added
  /// (drawn from ctx.rng: one generator stream per column, so results do not depend on threads).
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext& ctx) {
    this->require_input(in);
    out.resize(n_, in.batch(), in.steps());
    const S* x = in.data();
    S* y = out.data();
    detail::parallel_ranges(in.values().size(), 30.0, [&](Index i0, Index i1) { cfg_.values(x + i0, y + i0, i1 - i0); });
    if (!(ctx.training && cfg_.noisy())) return;
    if (ctx.rng == nullptr)
      throw ConfigError(signature() + ": a training forward pass with noise needs ForwardContext::rng");
    const Rng base((*ctx.rng)());
    const Index n = n_;
    detail::parallel_ranges(in.columns(), double(n) * 10.0, [&](Index c0, Index c1) {
      for (Index c = c0; c < c1; ++c) {
        Rng r = base.fork(std::uint64_t(c));
        cfg_.add_noise(x + c * n, y + c * n, n, r);
      }
    });
  }

  /// dL/dx = f'(x) dL/dy (the noise-free derivative). No parameters.
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    this->require_gradient(in, out, grad_out);
    if (!grad_in) return;
    grad_in->resize(n_, in.batch(), in.steps());
    const S* x = in.data();
    const S* g = grad_out.data();
    S* d = grad_in->data();
    detail::parallel_ranges(in.values().size(), 30.0, [&](Index i0, Index i1) {
      cfg_.derivatives(x + i0, d + i0, i1 - i0);
      for (Index i = i0; i < i1; ++i) d[i] *= g[i];
    });
  }

 private:
  using Activation::FeatureLayer::n_;
  using Activation::FeatureLayer::cfg_;  // the policy F
};

/// ReLU rate layer.
template <Scalar S>
using ReluLayer = Activation<S, Relu>;

static_assert(ActivationFunction<Relu>);

}  // namespace spikelab

CEREAL_CLASS_VERSION(spikelab::Relu, 1)
SPIKELAB_CLASS_VERSION((class S, class F), (spikelab::Activation<S, F>), 1)

#endif
