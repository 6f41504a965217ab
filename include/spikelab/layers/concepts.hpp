/**
 * @file layers/concepts.hpp
 * @brief The layer concepts, with their archetypes: Layer (what Sequential needs of a layer),
 *        ParametricLayer, ActivationFunction (the policy of an Activation layer) and
 *        PoolingMode (the mode of a Pool2d).
 *
 * Layer<L>: requirements on a layer L (scalar S = L::scalar_type, a Scalar; L movable):
 *  - `L::name()`, `l.signature()` (name plus sizes; stored in checkpoints),
 *    `l.input_size()`, `l.output_size()` (features per column);
 *  - `l.forward(in, out, ctx)`: all T steps of `in` (input_size x batch*T) to `out`
 *    (output_size x batch*T); with ctx.training the layer keeps what backward needs;
 *  - `l.backward(in, out, grad_out, grad_in)`: given the same in/out and dL/d(out), writes
 *    dL/d(in) to *grad_in when grad_in is not null, and ADDS parameter gradients.
 * Optional (detected): `for_each_parameter(f)` with f(`ParamRef<S>`), `zero_grad()`,
 * `reset_parameters(Rng&)`. A layer a checkpoint must hold is cereal-serializable.
 *
 * ParametricLayer<L>: a Layer whose `l.for_each_parameter(f)` calls f(`ParamRef<S>`) for every
 * trainable parameter block.
 *
 * ActivationFunction<F>: requirements on an element-wise rate activation F, for S = float
 * and double (F copyable):
 *  - `F::name()`, `f.describe()` (its parameters, for the layer signature);
 *  - `f.values(x, y, n)` and `f.derivatives(x, d, n)`: y_i = f(x_i), d_i = f'(x_i) for n values;
 *  - `f.noisy()`, and `f.add_noise(x, y, n, rng)`: perturbs y = f(x) in place (training only);
 *  - cereal `serialize` (not checked by the concept).
 *
 * PoolingMode<M>: one of the pooling modes AvgPooling, MaxPooling, SumPooling
 * (layers/pooling.hpp); a closed set, since Pool2d implements each mode itself.
 */
#ifndef SPIKELAB_LAYERS_CONCEPTS_HPP
#define SPIKELAB_LAYERS_CONCEPTS_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/time_series.hpp>

#include <concepts>
#include <cstdint>
#include <string>

namespace spikelab {

/// What Sequential needs of a layer: `name()`, `signature()`, `input_size()`, `output_size()`,
/// `forward(in, out, ctx)` over all T steps and `backward(in, out, grad_out, grad_in)`, which
/// writes dL/d(in) and adds the parameter gradients (requirements in the file comment).
/// @tparam L the layer type
template <class L>
concept Layer = requires { typename L::scalar_type; } && Scalar<typename L::scalar_type> && std::movable<L> &&
    requires(L& l, const L& cl, const TimeSeries<typename L::scalar_type>& in, TimeSeries<typename L::scalar_type>& out,
             const ForwardContext& ctx, TimeSeries<typename L::scalar_type>* grad_in) {
      { L::name() } -> std::convertible_to<std::string>;
      { cl.signature() } -> std::convertible_to<std::string>;
      { cl.input_size() } -> std::same_as<Index>;
      { cl.output_size() } -> std::same_as<Index>;
      l.forward(in, out, ctx);
      l.backward(in, out, in, grad_in);
    };

/// The smallest Layer: the identity on float.
struct LayerArchetype {
  using scalar_type = float;  ///< the scalar type S
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "LayerArchetype"; }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const { return name(); }
  /// Features per input column.
  Index input_size() const { return 1; }
  /// Features per output column.
  Index output_size() const { return 1; }
  /// Copies `in` to `out`.
  void forward(const TimeSeries<float>& in, TimeSeries<float>& out, const ForwardContext&) { out = in; }
  /// Copies grad_out to *grad_in.
  void backward(const TimeSeries<float>&, const TimeSeries<float>&, const TimeSeries<float>& grad_out,
                TimeSeries<float>* grad_in) {
    if (grad_in) *grad_in = grad_out;
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar&, std::uint32_t) {}
};
static_assert(Layer<LayerArchetype>);

/// A layer that exposes trainable parameters.
/// @tparam L the layer type
template <class L>
concept ParametricLayer = Layer<L> && requires(L& l) {
  l.for_each_parameter([](ParamRef<typename L::scalar_type>) {});
};

/// The smallest ParametricLayer: y = w x with one trainable gain w (a 1 x 1 block).
struct ParametricLayerArchetype : LayerArchetype {
  /// the one parameter, a gain
  Matrix<float> gain = Matrix<float>::Ones(1, 1);
  /// its gradient
  Matrix<float> gain_grad = Matrix<float>::Zero(1, 1);

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "ParametricLayerArchetype"; }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const { return name(); }
  /// out = gain * in.
  void forward(const TimeSeries<float>& in, TimeSeries<float>& out, const ForwardContext&) {
    out = in;
    out.values() *= gain(0, 0);
  }
  /// Gradients of out = gain * in.
  void backward(const TimeSeries<float>& in, const TimeSeries<float>&, const TimeSeries<float>& grad_out,
                TimeSeries<float>* grad_in) {
    gain_grad(0, 0) += in.values().cwiseProduct(grad_out.values()).sum();
    if (!grad_in) return;
    *grad_in = grad_out;
    grad_in->values() *= gain(0, 0);
  }
  /// Calls f(`ParamRef<S>`) for every trainable parameter block, in a fixed order.
  template <class F>
  void for_each_parameter(F&& f) {
    f(ParamRef<float>{"gain", ParamGroup::weight, gain, gain_grad});
  }
};
static_assert(ParametricLayer<ParametricLayerArchetype> && !ParametricLayer<LayerArchetype>);

/// An element-wise rate activation policy (see the file comment).
/// @tparam F the policy type
template <class F>
concept ActivationFunction =
    std::copyable<F> && requires(const F& f, const float* xf, float* yf, const double* xd, double* yd, Index n, Rng& rng) {
      { F::name() } -> std::convertible_to<std::string>;
      { f.describe() } -> std::convertible_to<std::string>;
      f.values(xf, yf, n);
      f.values(xd, yd, n);
      f.derivatives(xf, yf, n);
      f.derivatives(xd, yd, n);
      { f.noisy() } -> std::same_as<bool>;
      f.add_noise(xf, yf, n, rng);
      f.add_noise(xd, yd, n, rng);
    };

/// The smallest ActivationFunction: the identity f(x) = x, f'(x) = 1, without noise.
struct ActivationFunctionArchetype {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "ActivationFunctionArchetype"; }
  /// No parameters.
  std::string describe() const { return {}; }
  /// The identity.
  template <Scalar S>
  void values(const S* x, S* y, Index n) const {
    for (Index i = 0; i < n; ++i) y[i] = x[i];
  }
  /// 1.
  template <Scalar S>
  void derivatives(const S*, S* d, Index n) const {
    for (Index i = 0; i < n; ++i) d[i] = S(1);
  }
  /// True if training adds noise.
  bool noisy() const { return false; }
  /// No noise.
  template <Scalar S>
  void add_noise(const S*, S*, Index, Rng&) const {}
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar&, std::uint32_t) {}
};
static_assert(ActivationFunction<ActivationFunctionArchetype>);

struct AvgPooling;
struct MaxPooling;
struct SumPooling;

/// The mode of a pooling layer: one of AvgPooling, MaxPooling, SumPooling (layers/pooling.hpp).
/// @tparam M the mode type
template <class M>
concept PoolingMode = std::same_as<M, AvgPooling> || std::same_as<M, MaxPooling> || std::same_as<M, SumPooling>;

/// PoolingMode is a closed set: its archetype is one of its members, spike-count pooling.
using PoolingModeArchetype = SumPooling;
static_assert(PoolingMode<PoolingModeArchetype> && !PoolingMode<LayerArchetype>);

}  // namespace spikelab

#endif
