/**
 * @file data/transforms/representations.hpp
 * @brief Dense event representations besides ToFrame, with tonic's names, parameters and
 *        semantics (tonic's `transforms.py` and `functional/to_*.py` at commit d0cb6df, 2025-02):
 *        ToImage, ToVoxelGrid, ToTimesurface (event sample to Frames) and ToBinaRep (Frames to
 *        Frames).
 *
 * Every result is a Frames (step-major, feature \f$ (c H + y) W + x \f$, float values), so each
 * representation ends a `Compose<...>` and feeds the EventLoader exactly as ToFrame does. The
 * sensor is taken from the sample. Events are assumed time-ordered (readers guarantee it); an
 * event outside the sensor throws ShapeError, a bad parameter ConfigError naming the transform
 * and the parameter.
 *
 *  - ToImage: one frame counting every event, \f$ I[c, y, x] = \#\{k : p_k = c, y_k = y,
 *    x_k = x\} \f$ (tonic: ToFrame with `event_count = len(events)`, time axis squeezed; here
 *    the time axis stays, of length 1).
 *  - ToVoxelGrid{n_time_bins}: the event volume of Zhu et al. (2019). With
 *    \f$ t^*_k = B (t_k - t_0) / (t_{N-1} - t_0) \f$, \f$ i_k = \lfloor t^*_k \rfloor \f$ and
 *    \f$ \sigma_k = +1 \f$ for ON, \f$ -1 \f$ for OFF,
 *    \f[ V[b, y, x] = \sum_{k : x_k = x, y_k = y} \sigma_k \big( (1 - (t^*_k - i_k)) [b = i_k]
 *        + (t^*_k - i_k) [b = i_k + 1] \big), \quad 0 \le b < B , \f]
 *    one channel (output sensor W x H x 1). As in tonic, shares that fall at \f$ b = B \f$ are
 *    dropped: the events at the last timestamp (\f$ t^* = B \f$) add nothing, and the events of
 *    the last bin only their left share. A sample whose events all share one time puts them in
 *    bin 0 with weight \f$ \sigma_k \f$ (the reference code's \f$ t_{N-1} - t_0 := 1 \f$; tonic
 *    computes 0/0 there and writes NaN). Needs a 2-polarity sensor, as tonic asserts.
 *  - ToTimesurface{dt, tau}: global time surfaces sampled every dt (Lagorce et al., 2016, over
 *    the whole sensor rather than a neighbourhood, and without HOTS's layers: tonic's
 *    `to_timesurface_numpy`). The sample is cut into ToFrame's `time_window = dt` slices
 *    \f$ [t_0 + i\,dt, t_0 + (i+1)\,dt) \f$ (n = \f$ \lfloor (t_{N-1} - t_0 - dt)/dt \rfloor + 1 \f$, at
 *    least 1; events after the last whole slice are dropped), each pixel and polarity remembers
 *    the time \f$ m_i[c, y, x] \f$ of its latest event up to the end of slice i, and
 *    \f[ S_i[c, y, x] = \exp\!\big( -(t_0 + (i+1)\,dt - m_i[c, y, x]) / \tau \big) , \f]
 *    0 for a pixel that has not fired yet.
 *  - ToBinaRep{n_frames, n_bits}: Bina-Rep (Barchid et al., 2022). Input: T·N frames (e.g.
 *    ToFrame with `n_time_bins = n_frames * n_bits`); each group of N consecutive frames, made
 *    binary (value > 0), is read as an N-bit number, the group's first frame the most
 *    significant bit, and scaled to [0, 1]:
 *    \f[ R_j = \frac{1}{2^N - 1} \sum_{b=0}^{N-1} 2^{N-1-b} [F_{jN + b} > 0] ,
 *        \quad 0 \le j < T . \f]
 *
 * @code
 * @misc{lenz2021tonic, title={Tonic: event-based datasets and transformations}, author={Lenz, Gregor
 *   and Chaney, Kenneth and Shrestha, Sumit Bam and others}, year={2021},
 *   note={https://github.com/neuromorphs/tonic}}
 * @inproceedings{zhu2019unsupervised, title={Unsupervised event-based learning of optical flow, depth,
 *   and egomotion}, author={Zhu, Alex Zihao and Yuan, Liangzhe and Chaney, Kenneth and Daniilidis,
 *   Kostas}, booktitle={Proc. IEEE/CVF Conf. on Computer Vision and Pattern Recognition (CVPR)},
 *   pages={989--997}, year={2019}}
 * @article{lagorce2016hots, title={HOTS: a hierarchy of event-based time-surfaces for pattern
 *   recognition}, author={Lagorce, Xavier and Orchard, Garrick and Galluppi, Francesco and Shi,
 *   Bertram E. and Benosman, Ryad B.}, journal={IEEE Trans. Pattern Analysis and Machine
 *   Intelligence}, volume={39}, number={7}, pages={1346--1359}, year={2016}}
 * @misc{barchid2022binarep, title={Bina-Rep event frames: a simple and effective representation for
 *   event-based cameras}, author={Barchid, Sami and Mennesson, Jos{\'e} and Dj{\'e}raba, Chaabane},
 *   year={2022}, note={arXiv:2202.13662}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_TRANSFORMS_REPRESENTATIONS_HPP
#define SPIKELAB_DATA_TRANSFORMS_REPRESENTATIONS_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/data/event.hpp>
#include <spikelab/data/frames.hpp>
#include <spikelab/data/transforms/to_frame.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace spikelab {

namespace detail {
// The checks every representation makes before it allocates `steps` frames of `sensor`.
inline void check_representation_shape(const std::string& where, const EventSample& s, double steps,
                                       const SensorSize& out) {
  if (s.sensor.width <= 0 || s.sensor.height <= 0 || s.sensor.polarities <= 0)
    throw ShapeError(where + ": the sample has no sensor size (" + s.sensor.to_string() + ")");
  if (steps * double(out.features()) > double(std::int64_t(1) << 32))
    throw ShapeError(where + ": " + std::to_string(std::int64_t(steps)) + " frames of " + out.to_string() +
                     " would need more than 2^32 values");
  check_events_in_sensor(s, where);
}
}  // namespace detail

/// Counts every event of a sample into one frame of the sample's sensor,
/// \f$ I[c, y, x] = \#\{k : p_k = c, y_k = y, x_k = x\} \f$ (tonic's ToImage, Lenz et al., 2021).
struct ToImage {
  /// One frame of counts (a FrameTransform); an empty sample gives one frame of zeros.
  Frames operator()(const EventSample& s, Rng&) const {
    detail::check_representation_shape("ToImage", s, 1.0, s.sensor);
    Frames f;
    f.reset(1, s.sensor);
    f.label = s.label;
    for (const Event& e : s.events) f(0, e.p, e.y, e.x) += 1.0f;
    return f;
  }
};

/// The event volume of Zhu et al. (CVPR 2019): events signed by polarity and shared between the
/// two nearest of `n_time_bins` bins of the normalised time (tonic's ToVoxelGrid; the equation
/// and the edge cases are in the file comment).
struct ToVoxelGrid {
  std::int64_t n_time_bins = 0;  ///< B, the number of time bins, in [1, 2^26]

  /// B frames of one channel (a FrameTransform); an empty sample gives B frames of zeros.
  Frames operator()(const EventSample& s, Rng&) const {
    if (n_time_bins <= 0 || n_time_bins > (std::int64_t(1) << 26))
      throw ConfigError("ToVoxelGrid: n_time_bins must lie in [1, 2^26] (got " + std::to_string(n_time_bins) + ")");
    const SensorSize out{s.sensor.width, s.sensor.height, 1};
    detail::check_representation_shape("ToVoxelGrid", s, double(n_time_bins), out);
    if (s.sensor.polarities != 2)
      throw ShapeError("ToVoxelGrid: needs a sensor with 2 polarities (OFF, ON), the sample's is " +
                       s.sensor.to_string());
    Frames f;
    f.reset(Index(n_time_bins), out);
    f.label = s.label;
    if (s.events.empty()) return f;
    const std::int64_t t0 = s.events.front().t;
    const std::int64_t span = s.events.back().t - t0;
    const double B = double(n_time_bins), T = span > 0 ? double(span) : 1.0;
    for (const Event& e : s.events) {
      const double ts = B * double(e.t - t0) / T;
      const auto bin = std::int64_t(ts);
      const double right = ts - double(bin);
      const double sign = e.p == 0 ? -1.0 : 1.0;
      if (bin < n_time_bins) f(bin, 0, e.y, e.x) += float(sign * (1.0 - right));
      if (bin + 1 < n_time_bins) f(bin + 1, 0, e.y, e.x) += float(sign * right);
    }
    return f;
  }
};

/// Global time surfaces sampled every `dt` µs with time constant `tau` µs (tonic's
/// ToTimesurface, after Lagorce et al., TPAMI 2016; the equation is in the file comment).
struct ToTimesurface {
  std::int64_t dt = 0;  ///< µs between surfaces (the slice length), > 0
  double tau = 0.0;     ///< the decay's time constant in µs, > 0

  /// One surface per slice (a FrameTransform), values in [0, 1); an empty sample gives one
  /// frame of zeros.
  Frames operator()(const EventSample& s, Rng&) const {
    if (dt <= 0) throw ConfigError("ToTimesurface: dt must be positive (got " + std::to_string(dt) + ")");
    if (!(tau > 0) || !std::isfinite(tau))
      throw ConfigError("ToTimesurface: tau must be positive and finite (got " + std::to_string(tau) + ")");
    if (double(s.last_time() - s.first_time()) / double(dt) > double(std::int64_t(1) << 26))
      throw ConfigError("ToTimesurface: dt = " + std::to_string(dt) + " us gives more than 2^26 surfaces of this sample");
    const SliceIndices sl = slice_by_time(s.events, dt);
    detail::check_representation_shape("ToTimesurface", s, double(sl.size()), s.sensor);
    Frames f;
    f.reset(Index(sl.size()), s.sensor);
    f.label = s.label;
    const Index F = s.sensor.features();
    constexpr std::int64_t never = std::numeric_limits<std::int64_t>::min();
    std::vector<std::int64_t> last(std::size_t(F), never);
    const std::int64_t t0 = s.first_time();
    for (std::size_t i = 0; i < sl.size(); ++i) {
      for (std::size_t k = sl[i].first; k < sl[i].second; ++k) {
        const Event& e = s.events[k];
        last[std::size_t(s.sensor.feature(e.p, e.y, e.x))] = e.t;
      }
      const std::int64_t ref = t0 + std::int64_t(i + 1) * dt;
      float* row = f.step(Index(i));
      for (Index j = 0; j < F; ++j)
        if (last[std::size_t(j)] != never) row[j] = float(std::exp(-double(ref - last[std::size_t(j)]) / tau));
    }
    return f;
  }
};

/// Bina-Rep (Barchid et al., 2022): each group of `n_bits` binarised frames read as one
/// `n_bits`-bit number per pixel, scaled to [0, 1] (tonic's ToBinaRep; the equation is in the
/// file comment). It works on Frames, so it follows a ToFrame in a Compose.
struct ToBinaRep {
  std::int64_t n_frames = 1;  ///< T, the number of Bina-Rep frames, in [1, 2^26]
  std::int64_t n_bits = 8;    ///< N, bits per Bina-Rep frame, in [2, 32]

  /// Replaces the T*N frames of `f` by T Bina-Rep frames (an InPlaceTransform of Frames);
  /// throws ShapeError when `f` has another number of steps.
  void operator()(Frames& f, Rng&) const {
    if (n_frames < 1 || n_frames > (std::int64_t(1) << 26))
      throw ConfigError("ToBinaRep: n_frames must lie in [1, 2^26] (got " + std::to_string(n_frames) + ")");
    if (n_bits < 2 || n_bits > 32)
      throw ConfigError("ToBinaRep: n_bits must lie in [2, 32] (got " + std::to_string(n_bits) + ")");
    if (f.steps != n_frames * n_bits)
      throw ShapeError("ToBinaRep: needs n_frames * n_bits = " + std::to_string(n_frames) + " * " +
                       std::to_string(n_bits) + " input frames, got " + std::to_string(f.steps));
    const Index F = f.features();
    const double scale = 1.0 / (std::ldexp(1.0, int(n_bits)) - 1.0);
    std::vector<double> acc(static_cast<std::size_t>(F));
    for (Index j = 0; j < n_frames; ++j) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (Index b = 0; b < n_bits; ++b) {
        const float* in = f.step(j * n_bits + b);
        const double weight = std::ldexp(1.0, int(n_bits - 1 - b));
        for (Index i = 0; i < F; ++i)
          if (in[i] > 0) acc[std::size_t(i)] += weight;
      }
      // frame j is written after frames jN .. jN + N - 1 were read, and j <= jN
      float* out = f.step(j);
      for (Index i = 0; i < F; ++i) out[i] = float(acc[std::size_t(i)] * scale);
    }
    f.steps = n_frames;
    f.values.resize(std::size_t(n_frames * F));
  }
};

}  // namespace spikelab

#endif
