/**
 * @file data/image_source.hpp
 * @brief ImageSource<S, Encoder>: a BatchSource over an ImageDataset that encodes each image
 *        into T steps (direct, rate or latency coding), with seeded shuffling per epoch.
 *
 * The dataset is held by reference and must outlive the source. Pixels are scaled to
 * [0, 1] (divided by 255). The rate encoder's randomness is drawn from an Rng derived from
 * (seed, epoch), so a run is reproducible.
 */
#ifndef SPIKELAB_DATA_IMAGE_SOURCE_HPP
#define SPIKELAB_DATA_IMAGE_SOURCE_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/data/encoders.hpp>
#include <spikelab/data/image_dataset.hpp>

#include <numeric>
#include <vector>

namespace spikelab {

/// Batching of an ImageSource: batch size, steps per sample, shuffling and its seed.
struct ImageSourceConfig {
  Index batch_size = 128;  ///< samples per batch
  Index steps = 10;  ///< time steps T per sample
  bool shuffle = true;  ///< a new order every epoch
  std::uint64_t seed = 1;  ///< seeds the order (and a rate encoder's spikes)
  bool drop_last = false;  ///< skip a last, smaller batch
};

/// A BatchSource over an ImageDataset that encodes each image into T steps (direct, rate or
/// latency coding), shuffled per epoch with a seed.
/// @tparam S the scalar type (float or double)
/// @tparam Encoder how an image becomes T steps (DirectEncoder, RateEncoder, ...)
template <Scalar S, class Encoder = DirectEncoder>
  requires StaticEncoder<Encoder, S>
class ImageSource {
 public:
  /// A source over `data` (kept by reference: it must outlive the source).
  /// @param data the images and labels
  /// @param enc the encoder of an image into T steps
  /// @param cfg batch size, steps and shuffling
  ImageSource(const ImageDataset& data, Encoder enc = {}, ImageSourceConfig cfg = {})
      : data_(&data), enc_(enc), cfg_(cfg), order_(std::size_t(data.count)) {
    if (cfg.batch_size <= 0 || cfg.steps <= 0) throw ConfigError("ImageSource: batch size and steps must be positive");
    std::iota(order_.begin(), order_.end(), std::int64_t(0));
    pixel_.resize(std::size_t(data.features()));
  }

  /// Batches in one epoch (BatchSource).
  Index batches_per_epoch() const noexcept {
    const Index n = data_->count, b = cfg_.batch_size;
    return cfg_.drop_last ? n / b : (n + b - 1) / b;
  }
  /// The number of samples.
  Index size() const noexcept { return data_->count; }

  /// Starts an epoch: a new order when shuffling (BatchSource).
  void start_epoch(std::uint64_t epoch) {
    pos_ = 0;
    rng_ = Rng(cfg_.seed).fork(epoch);
    std::iota(order_.begin(), order_.end(), std::int64_t(0));
    if (cfg_.shuffle)
      for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[rng_.below(i)]);
  }

  /// Fills the next batch; false at the end of the epoch (BatchSource).
  bool next(Batch<S>& b) {
    const Index n = data_->count;
    Index B = std::min<Index>(cfg_.batch_size, n - pos_);
    if (B <= 0 || (cfg_.drop_last && B < cfg_.batch_size)) return false;
    const Index F = data_->features();
    b.input.resize(F, B, cfg_.steps);
    b.labels.resize(std::size_t(B));
    b.step_labels.clear();
    b.lengths.clear();
    for (Index s = 0; s < B; ++s) {
      const std::int64_t idx = order_[std::size_t(pos_ + s)];
      const std::uint8_t* px = data_->image(idx);
      for (Index f = 0; f < F; ++f) pixel_[std::size_t(f)] = float(px[f]) * (1.0f / 255.0f);
      enc_.encode(pixel_.data(), s, b.input, rng_);
      b.labels[std::size_t(s)] = data_->labels[std::size_t(idx)];
    }
    pos_ += B;
    return true;
  }

 private:
  const ImageDataset* data_;
  Encoder enc_;
  ImageSourceConfig cfg_;
  std::vector<std::int64_t> order_;
  std::vector<float> pixel_;
  Index pos_ = 0;
  Rng rng_{1};
};

}  // namespace spikelab

#endif
