/**
 * @file layers/image_shape.hpp
 * @brief ImageShape: the (channels, height, width) of a feature map held in the feature
 *        dimension of a TimeSeries, and the layout convention every image layer follows.
 *
 * A C x H x W map is flattened into the feature dimension as
 * \f[ f = (c H + y) W + x, \f]
 * (channel-major, then row, then column; PyTorch's NCHW order per column), and each column of a
 * TimeSeries is one (sample, step). So a Linear layer can read a convolution's or a pooling
 * layer's output directly, and Flatten is only a re-interpretation.
 */
#ifndef SPIKELAB_LAYERS_IMAGE_SHAPE_HPP
#define SPIKELAB_LAYERS_IMAGE_SHAPE_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/types.hpp>

#include <cereal/cereal.hpp>

#include <cstdint>
#include <string>

namespace spikelab {

/// Channels x height x width of a feature map (feature index f = (c*H + y)*W + x).
struct ImageShape {
  Index channels = 1;  ///< C
  Index height = 1;  ///< H
  Index width = 1;  ///< W

  /// C*H*W, the features of the map.
  constexpr Index size() const noexcept { return channels * height * width; }
  /// H*W, the positions of one channel.
  constexpr Index plane() const noexcept { return height * width; }
  /// Feature index of (c, y, x).
  constexpr Index index(Index c, Index y, Index x) const noexcept { return (c * height + y) * width + x; }
  /// Equal extents.
  constexpr bool operator==(const ImageShape&) const = default;
  /// "CxHxW", for messages and signatures.
  std::string to_string() const {
    return std::to_string(channels) + "x" + std::to_string(height) + "x" + std::to_string(width);
  }
  /// Throws ConfigError naming `who` unless every extent is positive.
  void validate(const std::string& who) const {
    if (channels <= 0 || height <= 0 || width <= 0)
      throw ConfigError(who + ": image shape " + to_string() + " must have positive extents");
  }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar) const {
    ar(cereal::make_nvp("channels", std::int64_t(channels)), cereal::make_nvp("height", std::int64_t(height)),
       cereal::make_nvp("width", std::int64_t(width)));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar) {
    std::int64_t c = 0, h = 0, w = 0;
    ar(cereal::make_nvp("channels", c), cereal::make_nvp("height", h), cereal::make_nvp("width", w));
    if (c <= 0 || h <= 0 || w <= 0 || c > (std::int64_t(1) << 24) || h > (std::int64_t(1) << 24) ||
        w > (std::int64_t(1) << 24))
      throw cereal::Exception("ImageShape: stored extents are not positive or are implausibly large");
    channels = c;
    height = h;
    width = w;
  }
};

namespace detail {

/// Output extent of a sliding window: floor((n + 2 pad - kernel) / stride) + 1, or 0 if the
/// kernel does not fit.
constexpr Index window_out(Index n, Index kernel, Index stride, Index pad) noexcept {
  const Index span = n + 2 * pad - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

}  // namespace detail
}  // namespace spikelab

#endif
