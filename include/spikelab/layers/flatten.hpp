/**
 * @file layers/flatten.hpp
 * @brief Flatten: re-reads a C x H x W feature map as C*H*W plain features.
 *
 * \f[ y_f = x_{c,y,x}, \qquad f = (c H + y) W + x. \f]
 * Feature maps are already stored flat in this order (ImageShape), so Flatten changes no
 * value: it only states the interpretation in the network's type and signature, and a Linear
 * layer may equally follow a Conv2d or pooling layer directly. Inside a Sequential, which owns
 * one output buffer per layer, it costs one contiguous copy forward and one backward.
 */
#ifndef SPIKELAB_LAYERS_FLATTEN_HPP
#define SPIKELAB_LAYERS_FLATTEN_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/layers/image_shape.hpp>
#include <spikelab/layers/layer_base.hpp>

#include <string>

namespace spikelab {

/// Re-reads a C x H x W feature map as C*H*W plain features (the values are not moved; the
/// layer only changes the shape the next layer is told).
/// @tparam S the scalar type (float or double)
template <Scalar S>
class Flatten : public detail::LayerBase<Flatten<S>, S> {
 public:
  Flatten() = default;
  /// A flattening of an `in` map; throws ConfigError for an empty shape.
  /// @param in the feature map's shape
  explicit Flatten(ImageShape in) : in_(in) { in_.validate("Flatten"); }

  /// Each output column depends on the same input column only (Sequential::forward_step
  /// runs the layer one step at a time).
  static constexpr bool per_column = true;
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Flatten"; }
  /// Features per input column.
  Index input_size() const noexcept { return in_.size(); }
  /// Features per output column.
  Index output_size() const noexcept { return in_.size(); }
  /// The shape of the input map.
  ImageShape input_shape() const noexcept { return in_; }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const { return "Flatten(" + in_.to_string() + "->" + std::to_string(in_.size()) + ")"; }

  /// All T steps of `in` to `out` (see Layer); with ctx.training the layer keeps what backward() needs.
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    this->require_input(in);
    out.resize(in.features(), in.batch(), in.steps());
    out.values() = in.values();
  }
  /// Writes dL/d(in) to *grad_in (when not null) from dL/d(out) = grad_out and adds the parameter gradients (see Layer).
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    this->require_gradient(in, out, grad_out);
    if (!grad_in) return;
    grad_in->resize(in.features(), in.batch(), in.steps());
    grad_in->values() = grad_out.values();
  }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("in", in_));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    this->require_version(version);
    ar(cereal::make_nvp("in", in_));
  }

 private:
  ImageShape in_{};
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::Flatten<S>), 1)

#endif
