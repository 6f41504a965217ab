/**
 * @file layers/concepts.hpp
 * @brief The Layer concept: what Sequential needs of a layer.
 *
 * Requirements on a layer L (scalar S = L::scalar_type):
 *  - `L::name()`, `l.signature()` (name plus sizes; stored in checkpoints),
 *    `l.input_size()`, `l.output_size()` (features per column);
 *  - `l.forward(in, out, ctx)`: all T steps of `in` (input_size x batch*T) to `out`
 *    (output_size x batch*T); with ctx.training the layer keeps what backward needs;
 *  - `l.backward(in, out, grad_out, grad_in)`: given the same in/out and dL/d(out), writes
 *    dL/d(in) to *grad_in when grad_in is not null, and ADDS parameter gradients.
 * Optional (detected): `for_each_parameter(f)` with f(ParamRef<S>), `zero_grad()`,
 * `reset_parameters(Rng&)`. A layer a checkpoint must hold is cereal-serializable.
 */
#ifndef SPIKELAB_LAYERS_CONCEPTS_HPP
#define SPIKELAB_LAYERS_CONCEPTS_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/time_series.hpp>

#include <concepts>
#include <string>

namespace spikelab {

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

/// A layer that exposes trainable parameters.
template <class L>
concept ParametricLayer = Layer<L> && requires(L& l) {
  l.for_each_parameter([](ParamRef<typename L::scalar_type>) {});
};

}  // namespace spikelab

#endif
