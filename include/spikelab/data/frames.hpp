/**
 * @file data/frames.hpp
 * @brief Frames: the dense result of binning an EventSample (transforms/to_frame.hpp) —
 *        T steps of event counts over (polarity channel, row, column), ready to be copied into
 *        a TimeSeries by the loader.
 *
 * Step t is the row `values[t*F .. (t+1)*F)` with F = C*H*W and feature
 * \f$ f = (c \cdot H + y) \cdot W + x \f$ (channel-major; channel 0 = OFF, 1 = ON), which is
 * exactly tonic's frame layout (T, P, H, W) flattened.
 */
#ifndef SPIKELAB_DATA_FRAMES_HPP
#define SPIKELAB_DATA_FRAMES_HPP

#include <spikelab/data/event.hpp>

#include <vector>

namespace spikelab {

/// The dense result of binning an EventSample: T steps of event counts over (polarity channel,
/// row, column), step-major, ready to be copied into a TimeSeries.
struct Frames {
  Index steps = 0;  ///< time steps T
  SensorSize sensor{};       ///< channels = sensor.polarities
  std::vector<float> values;  ///< steps x features, step-major
  int label = -1;  ///< the class, -1 when unknown

  /// Features per step (channels x height x width).
  Index features() const noexcept { return sensor.features(); }
  /// Sets the shape and zeroes every count.
  void reset(Index t, SensorSize s) {
    steps = t;
    sensor = s;
    values.assign(std::size_t(t * s.features()), 0.0f);
  }
  /// The counts of step t.
  float* step(Index t) noexcept { return values.data() + t * features(); }
  /// The counts of step t.
  const float* step(Index t) const noexcept { return values.data() + t * features(); }
  /// The count at step t, channel c, row y, column x.
  float& operator()(Index t, Index c, Index y, Index x) noexcept {
    return values[std::size_t(t * features() + sensor.feature(c, y, x))];
  }
  /// The count at step t, channel c, row y, column x.
  float operator()(Index t, Index c, Index y, Index x) const noexcept {
    return values[std::size_t(t * features() + sensor.feature(c, y, x))];
  }
  /// Sum of all counts.
  double total() const noexcept {
    double s = 0;
    for (float v : values) s += v;
    return s;
  }
};

}  // namespace spikelab

#endif
