/**
 * @file networks/sequential.hpp
 * @brief Sequential<Layers...>: a feed-forward stack of layers fixed at compile time.
 *
 * The structure is the type (a flat std::tuple, no virtual calls); sizes are run-time.
 * Each layer processes the whole sequence at once (recurrence lives inside layers), so
 * the forward pass is layer by layer over all T steps and BPTT is layer by layer in
 * reverse, which is exact for such stacks. Activations and gradient buffers are kept
 * between calls and reused (no allocation once batch and T are stable); layers whose
 * backward runs in place (LIF, leaky integrator) share their gradient buffer with the
 * layer below.
 *
 * Streaming (deployment): forward_step() advances the whole stack by ONE time step from an
 * explicit StreamState (make_stream_state), so that inputs can arrive one step at a time. A
 * neuron layer steps its own State (NeuronModel); a layer that works column by column
 * (declares `per_column`: its output at step t depends on its input at step t only, such as
 * Linear, Conv2d, pooling) runs its forward pass on the one step. Step by step from the zero
 * state, the outputs equal those of forward() on the whole sequence.
 *
 * @code
 * Rng rng(1);
 * Sequential<Linear<float>, Lif<float>, Linear<float>, LeakyIntegrator<float>> net{
 *     Linear<float>(784, 256, rng), Lif<float>(256), Linear<float>(256, 10, rng), LeakyIntegrator<float>(10)};
 * const TimeSeries<float>& y = net.forward(x, ForwardContext::train(rng));
 * @endcode
 */
#ifndef SPIKELAB_NETWORKS_SEQUENTIAL_HPP
#define SPIKELAB_NETWORKS_SEQUENTIAL_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/layers/concepts.hpp>
#include <spikelab/neurons/concepts.hpp>

#include <array>
#include <cmath>
#include <optional>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace spikelab {

namespace detail {
/// A layer whose output at step t depends on its input at step t only (declares `per_column`).
template <class L>
inline constexpr bool per_column_v = requires { requires L::per_column; };
/// A layer forward_step can run: a neuron model with its own state, or a per-column layer.
template <class L>
inline constexpr bool streamable_v = NeuronModel<L> || per_column_v<L>;
/// The streaming state of a layer: its State, or nothing for a per-column layer.
template <class L>
struct step_state {
  using type = std::monostate;
};
template <NeuronModel L>
struct step_state<L> {
  using type = typename L::State;
};
template <class L>
using step_state_t = typename step_state<L>::type;
}  // namespace detail

/// A feed-forward stack of layers fixed at compile time (a std::tuple, no virtual calls): the
/// forward pass runs layer by layer over all T steps and BPTT layer by layer in reverse;
/// forward_step() streams one step at a time from an explicit StreamState.
/// @tparam Ls the layers, input first (each a Layer)
template <Layer... Ls>
  requires(sizeof...(Ls) > 0)
class Sequential {
 public:
  using scalar_type = typename std::tuple_element_t<0, std::tuple<Ls...>>::scalar_type;  ///< the scalar type S
  using S = scalar_type;  ///< the scalar type
  using layer_types = std::tuple<Ls...>;  ///< the layers as a std::tuple
  static constexpr std::size_t size = sizeof...(Ls);  ///< the number of layers
  static constexpr std::uint32_t class_version = 1;  ///< the class version checkpoints store (cereal)
  static_assert((std::same_as<typename Ls::scalar_type, S> && ...),
                "all layers of a Sequential must use the same scalar type");

  Sequential() = default;
  /// A stack of the given layers; throws ShapeError naming the first pair whose output and input
  /// sizes differ.
  /// @param layers the layers, input first
  explicit Sequential(Ls... layers) : layers_(std::move(layers)...) { check_chain(); }

  /// Layer I of the stack.
  template <std::size_t I>
  auto& layer() noexcept {
    return std::get<I>(layers_);
  }
  /// Layer I of the stack.
  template <std::size_t I>
  const auto& layer() const noexcept {
    return std::get<I>(layers_);
  }

  /// Features per input column.
  Index input_size() const { return std::get<0>(layers_).input_size(); }
  /// Features per output column.
  Index output_size() const { return std::get<size - 1>(layers_).output_size(); }

  /// "Sequential<f32>[Linear(784,256,bias);Lif<...>(256);...]"
  std::string signature() const {
    std::string s = std::string("Sequential<") + (std::same_as<S, float> ? "f32" : "f64") + ">[";
    std::size_t i = 0;
    // two appends rather than `";" + l.signature()`: GCC 12 warns falsely (-Wstringop-overflow) on the latter
    for_each_layer([&](const auto& l, std::size_t) {
      if (i++) s += ';';
      s += l.signature();
    });
    return s + "]";
  }

  /// Calls f(layer, index) for every layer in order.
  template <class F>
  void for_each_layer(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (f(std::get<I>(layers_), I), ...); }
    (std::make_index_sequence<size>{});
  }
  /// Calls f(layer, index) for every layer in order.
  template <class F>
  void for_each_layer(F&& f) const {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (f(std::get<I>(layers_), I), ...); }
    (std::make_index_sequence<size>{});
  }

  /// Calls f(`ParamRef<S>`) for every trainable parameter block, in a fixed order.
  template <class F>
  void for_each_parameter(F&& f) {
    for_each_layer([&](auto& l, std::size_t i) {
      if constexpr (ParametricLayer<std::remove_cvref_t<decltype(l)>>)
        l.for_each_parameter([&](ParamRef<S> p) {
          p.layer = i;
          f(p);
        });
    });
  }
  /// Number of trainable scalars.
  Index parameter_count() {
    Index n = 0;
    for_each_parameter([&](ParamRef<S> p) { n += p.value.size(); });
    return n;
  }

  /// Sets every parameter gradient to zero.
  void zero_grad() {
    for_each_layer([](auto& l, std::size_t) {
      if constexpr (requires { l.zero_grad(); }) l.zero_grad();
    });
  }
  /// Draws the parameters anew from their initialisation.
  void reset_parameters(Rng& rng) {
    for_each_layer([&](auto& l, std::size_t) {
      if constexpr (requires { l.reset_parameters(rng); }) l.reset_parameters(rng);
    });
  }

  /// Runs all layers over the whole sequence. The returned output stays valid until the next
  /// forward. With ctx.training, `x` must stay alive until backward() (it is not copied).
  const TimeSeries<S>& forward(const TimeSeries<S>& x, const ForwardContext& ctx = {}) {
    if (x.features() != input_size())
      throw ShapeError("Sequential: input has " + std::to_string(x.features()) + " features, the first layer (" +
                       std::get<0>(layers_).signature() + ") expects " + std::to_string(input_size()));
    input_ = &x;
    trained_ = ctx.training;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((std::get<I>(layers_).forward(I == 0 ? x : acts_[I == 0 ? 0 : I - 1], acts_[I], ctx)), ...);
    }
    (std::make_index_sequence<size>{});
    return acts_[size - 1];
  }

  /// BPTT through all layers given dL/d(output). Adds to the parameter gradients (call
  /// zero_grad() first). If `grad_input` is given, it receives dL/d(input); if not, the layers
  /// below the first one with parameters are skipped and that one computes no input gradient
  /// (a filter on the input, such as PspFilter, costs nothing in backward then).
  void backward(const TimeSeries<S>& grad_output, TimeSeries<S>* grad_input = nullptr) {
    if (!trained_ || input_ == nullptr)
      throw ShapeError("Sequential::backward needs a forward pass with ForwardContext::training = true");
    if (!grad_output.same_shape(acts_[size - 1]))
      throw ShapeError("Sequential::backward: gradient " + grad_output.shape_string() + " does not match output " +
                       acts_[size - 1].shape_string());
    [&]<std::size_t... I>(std::index_sequence<I...>) { (backward_layer<size - 1 - I>(grad_output, grad_input), ...); }
    (std::make_index_sequence<size>{});
  }

  /// The state of a stream: every neuron layer's State and the last step's outputs.
  struct StreamState {
    std::tuple<detail::step_state_t<Ls>...> layers;  ///< each neuron layer's state
    /// each layer's output at the last step
    std::array<TimeSeries<S>, size> out;  // the output of each layer at the last step (one step)
    Index batch = 0;  ///< samples in the stream
  };
  /// The zero state of a stream of `batch` samples.
  StreamState make_stream_state(Index batch) const {
    static_assert((detail::streamable_v<Ls> && ...),
                  "Sequential::forward_step: every layer must be a NeuronModel (State, make_state, step, output) "
                  "or declare `static constexpr bool per_column = true`");
    if (batch <= 0) throw ShapeError("Sequential::make_stream_state: batch must be positive");
    StreamState st;
    st.batch = batch;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((make_layer_state<I>(st)), ...);
    }
    (std::make_index_sequence<size>{});
    return st;
  }
  /// Advances the stream by one step with input x (input_size x batch); returns the network's
  /// output at that step (output_size x batch), valid until the next call with `st`.
  const Matrix<S>& forward_step(StreamState& st, const ConstMatrixRef<S>& x) {
    if (x.rows() != input_size() || x.cols() != st.batch)
      throw ShapeError("Sequential::forward_step: input " + std::to_string(x.rows()) + "x" + std::to_string(x.cols()) +
                       " does not match " + std::to_string(input_size()) + " features x " + std::to_string(st.batch) +
                       " samples of the stream state");
    [&]<std::size_t... I>(std::index_sequence<I...>) { ((step_layer<I>(st, x)), ...); }
    (std::make_index_sequence<size>{});
    return st.out[size - 1].values();
  }

  /// Output of layer i of the last forward pass.
  const TimeSeries<S>& activation(std::size_t i) const { return acts_.at(i); }

  /// Index and signature of the first layer whose last output holds a NaN or Inf, if any.
  std::optional<std::pair<std::size_t, std::string>> first_non_finite_layer() const {
    std::optional<std::pair<std::size_t, std::string>> r;
    for_each_layer([&](const auto& l, std::size_t i) {
      if (!r && !acts_[i].values().allFinite()) r = std::make_pair(i, l.signature());
    });
    return r;
  }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    std::array<std::string, size> names;
    for (std::size_t i = 0; i < size; ++i) names[i] = "layer" + std::to_string(i);
    [&]<std::size_t... I>(std::index_sequence<I...>) { (ar(cereal::make_nvp(names[I], std::get<I>(layers_))), ...); }
    (std::make_index_sequence<size>{});
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, class_version, "Sequential");
    std::array<std::string, size> names;
    for (std::size_t i = 0; i < size; ++i) names[i] = "layer" + std::to_string(i);
    [&]<std::size_t... I>(std::index_sequence<I...>) { (ar(cereal::make_nvp(names[I], std::get<I>(layers_))), ...); }
    (std::make_index_sequence<size>{});
    check_chain();
    trained_ = false;
  }

 private:
  template <std::size_t I>
  void make_layer_state(StreamState& st) const {
    const auto& l = std::get<I>(layers_);
    if constexpr (NeuronModel<std::tuple_element_t<I, layer_types>>) std::get<I>(st.layers) = l.make_state(st.batch);
    st.out[I].resize_zero(l.output_size(), st.batch, 1);
  }
  template <std::size_t I>
  void step_layer(StreamState& st, const ConstMatrixRef<S>& x) {
    using L = std::tuple_element_t<I, layer_types>;
    auto& l = std::get<I>(layers_);
    if constexpr (NeuronModel<L>) {
      if constexpr (I == 0) {
        l.step(std::get<I>(st.layers), x);
      } else {
        l.step(std::get<I>(st.layers), st.out[I - 1].values());
      }
      st.out[I].values() = l.output(std::get<I>(st.layers));
    } else {
      if constexpr (I == 0) {
        step_in_.resize(x.rows(), x.cols(), 1);
        step_in_.values() = x;
        l.forward(step_in_, st.out[I], ForwardContext::eval());
      } else {
        l.forward(st.out[I - 1], st.out[I], ForwardContext::eval());
      }
    }
  }

  // A layer whose backward may write dL/d(input) over dL/d(output) (declares
  // `static constexpr bool backward_in_place = true`) shares one gradient buffer with the layer
  // below it: grad_slot[i] is the buffer holding dL/d(output of layer i), i < size - 1.
  template <class L>
  static constexpr bool in_place_v = requires { requires L::backward_in_place; };
  static constexpr std::array<std::size_t, size> grad_slot = [] {
    constexpr std::array<bool, size> in_place{in_place_v<Ls>...};
    std::array<std::size_t, size> slot{};
    for (std::size_t i = size; i-- > 0;)
      slot[i] = (i + 2 < size && in_place[i + 1]) ? slot[i + 1] : i;
    return slot;
  }();

  // Index of the first layer with parameters (size if none): below it, nothing needs a gradient
  // unless the caller asks for dL/d(input).
  static constexpr std::size_t first_parametric = [] {
    constexpr std::array<bool, size> parametric{ParametricLayer<Ls>...};
    for (std::size_t i = 0; i < size; ++i)
      if (parametric[i]) return i;
    return size;
  }();

  template <std::size_t I>
  void backward_layer(const TimeSeries<S>& grad_output, TimeSeries<S>* grad_input) {
    const bool want_input_grad = grad_input != nullptr;
    if (!want_input_grad && I < first_parametric) return;
    const TimeSeries<S>& in = I == 0 ? *input_ : acts_[I == 0 ? 0 : I - 1];
    const TimeSeries<S>& gout = I == size - 1 ? grad_output : grads_[grad_slot[I]];
    TimeSeries<S>* gin = I == 0 ? grad_input
                         : (want_input_grad || I > first_parametric) ? &grads_[grad_slot[I == 0 ? 0 : I - 1]]
                                                                     : nullptr;
    std::get<I>(layers_).backward(in, acts_[I], gout, gin);
  }

  void check_chain() const {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (check_pair<I>(), ...); }
    (std::make_index_sequence<size - 1>{});
  }
  template <std::size_t I>
  void check_pair() const {
    const auto& a = std::get<I>(layers_);
    const auto& b = std::get<I + 1>(layers_);
    if (a.output_size() != b.input_size())
      throw ShapeError("Sequential: layer " + std::to_string(I) + " (" + a.signature() + ") outputs " +
                       std::to_string(a.output_size()) + " features but layer " + std::to_string(I + 1) + " (" +
                       b.signature() + ") expects " + std::to_string(b.input_size()));
  }

  std::tuple<Ls...> layers_;
  std::array<TimeSeries<S>, size> acts_;
  std::array<TimeSeries<S>, size> grads_;  // grads_[grad_slot[i]] = dL/d(output of layer i), i < size-1
  const TimeSeries<S>* input_ = nullptr;
  bool trained_ = false;
  TimeSeries<S> step_in_;  // forward_step: the input step for a per_column first layer
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((spikelab::Layer... Ls), (spikelab::Sequential<Ls...>), 1)

#endif
