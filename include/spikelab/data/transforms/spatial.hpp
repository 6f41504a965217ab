/**
 * @file data/transforms/spatial.hpp
 * @brief In-place spatial transforms of event samples (tonic's names and behaviour):
 *  - Downsample: \f$ x' = \lfloor f x \rfloor,\ y' = \lfloor f y \rfloor,\ t' = \lfloor f_t t \rfloor \f$;
 *    the sensor becomes \f$ \lfloor f (W-1) \rfloor + 1 \f$ wide (every event stays inside);
 *  - Crop{x0, y0, w, h}: keeps x0 <= x < x0+w, y0 <= y < y0+h and moves them to the origin
 *    (negative x0/y0 pad); the sensor becomes w x h. MNIST-DVS's standard crop x, y in [48, 73]
 *    is Crop{48, 48, 26, 26};
 *  - CenterCrop{w, h}: Crop at ((W - w) div 2, (H - h) div 2) (floor division; larger sizes pad);
 *  - Flip{x, y}: mirrors x -> W-1-x and/or y -> H-1-y; Transpose: swaps x and y (and W, H)
 *    (to match loaders with other axis conventions, e.g. tonic's DVS128 reader);
 *  - RandomShift{max_dx, max_dy}: one random translation per sample, dx uniform in
 *    [-max_dx, max_dx] (same for y); events shifted outside the sensor are dropped. With
 *    max_dy = 0 on a 1-D sensor it is the channel ("frequency") shift used to augment SHD;
 *  - RandomFlipLR{p} / RandomFlipUD{p}: Flip{x} / Flip{y} with probability p, one draw per sample;
 *  - SpatialJitter{var_x, var_y, sigma_xy, clip_outliers}: per event
 *    \f$ (\delta_x, \delta_y) \sim \mathcal{N}\!\left(0, \begin{pmatrix} \sigma_x^2 & \sigma_{xy} \\
 *    \sigma_{xy} & \sigma_y^2 \end{pmatrix}\right) \f$, \f$ x' = \mathrm{trunc}(x + \delta_x) \f$,
 *    \f$ y' = \mathrm{trunc}(y + \delta_y) \f$ (truncation toward 0, as tonic's assignment of
 *    the real sum to integer coordinates). Events that land outside the sensor are dropped
 *    (`clip_outliers`) or, unlike tonic, which leaves them outside, put on the nearest edge
 *    pixel (spikelab's coordinates are unsigned and every event lies on the sensor).
 *
 * @code
 * @misc{lenz2021tonic, title={Tonic: event-based datasets and transformations}, author={Lenz, Gregor
 *   and Chaney, Kenneth and Shrestha, Sumit Bam and others}, year={2021},
 *   note={https://github.com/neuromorphs/tonic}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_TRANSFORMS_SPATIAL_HPP
#define SPIKELAB_DATA_TRANSFORMS_SPATIAL_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/data/event.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace spikelab {

/// Scales coordinates and times, \f$ x' = \lfloor f x \rfloor,\ y' = \lfloor f y \rfloor,\;
/// t' = \lfloor f_t t \rfloor \f$, and the sensor with them.
struct Downsample {
  double spatial_factor = 1.0;  ///< in (0, 1]
  double time_factor = 1.0;     ///< in (0, 1]

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng&) const {
    if (!(spatial_factor > 0 && spatial_factor <= 1) || !(time_factor > 0 && time_factor <= 1))
      throw ConfigError("Downsample: the factors must lie in (0, 1]");
    const double f = spatial_factor;
    for (Event& e : s.events) {
      e.x = std::uint16_t(std::floor(double(e.x) * f));
      e.y = std::uint16_t(std::floor(double(e.y) * f));
      if (time_factor != 1.0) e.t = std::int64_t(std::floor(double(e.t) * time_factor));
    }
    if (s.sensor.width > 0) s.sensor.width = std::int32_t(std::floor(double(s.sensor.width - 1) * f)) + 1;
    if (s.sensor.height > 0) s.sensor.height = std::int32_t(std::floor(double(s.sensor.height - 1) * f)) + 1;
  }
};

/// Keeps the events with x0 <= x < x0 + width, y0 <= y < y0 + height and moves them to the
/// origin (negative x0, y0 pad); the sensor becomes width x height.
struct Crop {
  /// The corner of the crop.
  std::int32_t x0 = 0, y0 = 0;  ///< top-left corner (negative values pad)
  /// The size of the crop.
  std::int32_t width = 0, height = 0;  ///< the size of the crop

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng&) const {
    if (width <= 0 || height <= 0 || width > 65536 || height > 65536)
      throw ConfigError("Crop: width and height must lie in [1, 65536]");
    const std::int64_t ax = x0, ay = y0, bx = ax + width, by = ay + height;
    std::size_t w = 0;
    for (const Event& e : s.events)
      if (e.x >= ax && e.x < bx && e.y >= ay && e.y < by) {
        Event r = e;
        r.x = std::uint16_t(e.x - ax);
        r.y = std::uint16_t(e.y - ay);
        s.events[w++] = r;
      }
    s.events.resize(w);
    s.sensor.width = width;
    s.sensor.height = height;
  }
};

/// A Crop of width x height at the sensor's centre (floor division; larger sizes pad).
struct CenterCrop {
  /// The size of the crop.
  std::int32_t width = 0, height = 0;  ///< the size of the crop

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng& rng) const {
    auto floor_div2 = [](std::int32_t v) { return v >= 0 ? v / 2 : -((-v + 1) / 2); };
    Crop{floor_div2(s.sensor.width - width), floor_div2(s.sensor.height - height), width, height}(s, rng);
  }
};

/// Mirrors x to W-1-x and/or y to H-1-y.
struct Flip {
  bool x = false;  ///< mirror x
  bool y = false;  ///< mirror y

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng&) const {
    if ((x && s.sensor.width <= 0) || (y && s.sensor.height <= 0)) throw ShapeError("Flip: the sample has no sensor size");
    for (Event& e : s.events) {
      if (x) {
        if (e.x >= s.sensor.width) throw ShapeError("Flip: an event lies outside the " + s.sensor.to_string() + " sensor");
        e.x = std::uint16_t(s.sensor.width - 1 - e.x);
      }
      if (y) {
        if (e.y >= s.sensor.height) throw ShapeError("Flip: an event lies outside the " + s.sensor.to_string() + " sensor");
        e.y = std::uint16_t(s.sensor.height - 1 - e.y);
      }
    }
  }
};

/// Swaps x and y (and the sensor's width and height), to match other axis conventions.
struct Transpose {
  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng&) const {
    for (Event& e : s.events) std::swap(e.x, e.y);
    std::swap(s.sensor.width, s.sensor.height);
  }
};

/// One random translation per sample, dx uniform in [-max_dx, max_dx] (same for y); events
/// shifted outside the sensor are dropped (with max_dy = 0 on a 1-D sensor: SHD's channel shift).
struct RandomShift {
  std::int32_t max_dx = 0;  ///< the largest horizontal shift
  std::int32_t max_dy = 0;  ///< the largest vertical shift

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng& rng) const {
    if (max_dx < 0 || max_dy < 0) throw ConfigError("RandomShift: the maximum shifts must be >= 0");
    const std::int64_t dx = std::int64_t(rng.below(std::uint64_t(2 * max_dx + 1))) - max_dx;
    const std::int64_t dy = std::int64_t(rng.below(std::uint64_t(2 * max_dy + 1))) - max_dy;
    if (dx == 0 && dy == 0) return;
    std::size_t w = 0;
    for (const Event& e : s.events) {
      const std::int64_t x = e.x + dx, y = e.y + dy;
      if (x < 0 || y < 0 || x >= s.sensor.width || y >= s.sensor.height) continue;
      Event r = e;
      r.x = std::uint16_t(x);
      r.y = std::uint16_t(y);
      s.events[w++] = r;
    }
    s.events.resize(w);
  }
};

/// Mirrors x to W-1-x with probability p, one draw per sample (tonic's RandomFlipLR).
struct RandomFlipLR {
  double p = 0.5;  ///< the probability of the flip, in [0, 1]

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng& rng) const {
    if (!(p >= 0 && p <= 1)) throw ConfigError("RandomFlipLR: p must lie in [0, 1]");
    if (rng.uniform() < p) Flip{.x = true}(s, rng);
  }
};

/// Mirrors y to H-1-y with probability p, one draw per sample (tonic's RandomFlipUD).
struct RandomFlipUD {
  double p = 0.5;  ///< the probability of the flip, in [0, 1]

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng& rng) const {
    if (!(p >= 0 && p <= 1)) throw ConfigError("RandomFlipUD: p must lie in [0, 1]");
    if (rng.uniform() < p) Flip{.y = true}(s, rng);
  }
};

/// Moves every event by a correlated Gaussian shift,
/// \f$ x' = \mathrm{trunc}(x + \delta_x),\ y' = \mathrm{trunc}(y + \delta_y),\;
/// (\delta_x, \delta_y) \sim \mathcal{N}(0, [[\sigma_x^2, \sigma_{xy}], [\sigma_{xy}, \sigma_y^2]]) \f$;
/// events off the sensor are dropped (`clip_outliers`) or put on its nearest edge pixel
/// (tonic's SpatialJitter).
struct SpatialJitter {
  double var_x = 1;            ///< \f$ \sigma_x^2 \f$, pixels², >= 0
  double var_y = 1;            ///< \f$ \sigma_y^2 \f$, pixels², >= 0
  double sigma_xy = 0;         ///< the covariance, \f$ \sigma_{xy}^2 \le \sigma_x^2 \sigma_y^2 \f$
  bool clip_outliers = false;  ///< drop the events moved off the sensor (else clamp them to it)

  /// Applies the transform to the sample in place (an InPlaceTransform).
  void operator()(EventSample& s, Rng& rng) const {
    if (!(var_x >= 0) || !(var_y >= 0) || !std::isfinite(var_x) || !std::isfinite(var_y))
      throw ConfigError("SpatialJitter: var_x and var_y must be finite and >= 0");
    if (!(sigma_xy * sigma_xy <= var_x * var_y))
      throw ConfigError(
          "SpatialJitter: sigma_xy^2 must not exceed var_x * var_y (the covariance must be positive semi-definite)");
    const double W = s.sensor.width, H = s.sensor.height;
    if (W <= 0 || H <= 0) throw ShapeError("SpatialJitter: the sample has no sensor size");
    // Cholesky factor of the covariance: dx = a z1, dy = b z1 + c z2
    const double a = std::sqrt(var_x), b = a > 0 ? sigma_xy / a : 0.0, c = std::sqrt(std::max(0.0, var_y - b * b));
    std::size_t w = 0;
    for (const Event& e : s.events) {
      const double z1 = rng.normal(), z2 = rng.normal();
      double x = std::trunc(double(e.x) + a * z1), y = std::trunc(double(e.y) + b * z1 + c * z2);
      if (clip_outliers && (x < 0 || y < 0 || x >= W || y >= H)) continue;
      Event r = e;
      r.x = std::uint16_t(std::clamp(x, 0.0, W - 1));
      r.y = std::uint16_t(std::clamp(y, 0.0, H - 1));
      s.events[w++] = r;
    }
    s.events.resize(w);
  }
};

}  // namespace spikelab

#endif
