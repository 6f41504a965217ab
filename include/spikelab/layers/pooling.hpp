/**
 * @file layers/pooling.hpp
 * @brief Pool2d<S, Mode>: 2-D pooling of every channel of every (sample, step) column:
 *        average, max, or spike-count (sum) pooling. Aliases AvgPool2d, MaxPool2d, SumPool2d.
 *
 * For a window R(u, v) = {(u s - p + i, v s - p + j) : 0 <= i, j < k} of channel c:
 * \f[ \text{avg: } y = \frac{1}{k^2} \sum_{R} x, \qquad \text{sum: } y = \sum_{R} x, \qquad
 *     \text{max: } y = \max_{R \cap \text{image}} x, \f]
 * with zero padding for avg and sum (the average always divides by k^2, PyTorch's
 * count_include_pad) and padding ignored by max. A fixed factor `PoolConfig::scale`
 * multiplies avg and sum outputs. On binary spikes, sum pooling gives spike counts (the
 * non-spiking pooling of neighborhood aggregation (Yang, Zhang & Li, ICML 2021) is sum
 * pooling with the fixed weight 1.1) and max pooling is a logical OR. Gradients: avg/sum
 * spread dL/dy over the window; max routes it to the first maximum of the window (found again
 * in backward: the first input equal to the output, so no index buffer is kept).
 *
 * @code
 * @inproceedings{yang2021backpropagated, title={Backpropagated Neighborhood Aggregation for Accurate Training of
 *   Spiking Neural Networks}, author={Yang, Yukun and Zhang, Wenrui and Li, Peng}, booktitle={ICML}, year={2021}}
 * @article{hunsberger2015spiking, title={Spiking Deep Networks with LIF Neurons},
 *   author={Hunsberger, Eric and Eliasmith, Chris}, journal={arXiv:1510.08829}, year={2015}}
 * @endcode
 */
#ifndef SPIKELAB_LAYERS_POOLING_HPP
#define SPIKELAB_LAYERS_POOLING_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/layers/concepts.hpp>
#include <spikelab/layers/image_shape.hpp>
#include <spikelab/layers/layer_base.hpp>

#include <algorithm>
#include <bit>
#include <type_traits>
#include <cstdint>
#include <string>

namespace spikelab {

/// Average pooling (divides by k^2, padding counts as zeros).
struct AvgPooling {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static constexpr const char* name() { return "AvgPool2d"; }
};
/// Maximum over the window (padding ignored); gradient to the first maximum.
struct MaxPooling {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static constexpr const char* name() { return "MaxPool2d"; }
};
/// Sum over the window: spike-count pooling on binary spikes.
struct SumPooling {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static constexpr const char* name() { return "SumPool2d"; }
};

/// Hyperparameters of a pooling layer (square window).
struct PoolConfig {
  Index kernel = 2;   ///< window size k
  Index stride = 0;   ///< stride s; 0 means s = k (non-overlapping windows)
  Index padding = 0;  ///< padding p on every side, at most k/2
  double scale = 1.0; ///< a fixed factor on the output (avg and sum; e.g. NA's pooling weight 1.1)
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("kernel", std::int64_t(kernel)), cereal::make_nvp("stride", std::int64_t(stride)),
       cereal::make_nvp("padding", std::int64_t(padding)), CEREAL_NVP(scale));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t) {
    std::int64_t k = 0, s = 0, p = 0;
    ar(cereal::make_nvp("kernel", k), cereal::make_nvp("stride", s), cereal::make_nvp("padding", p), CEREAL_NVP(scale));
    kernel = k;
    stride = s;
    padding = p;
  }
};

/// 2-D pooling of every channel of every (sample, step) column over k x k windows: average,
/// maximum or spike count (sum), times a fixed scale (NA's pooling: Yang, Zhang & Li,
/// ICML 2021; average pooling in converted networks: Hunsberger & Eliasmith,
/// arXiv:1510.08829, 2015).
/// @tparam S the scalar type (float or double)
/// @tparam Mode the pooling mode (a PoolingMode: AvgPooling, MaxPooling or SumPooling)
template <Scalar S, PoolingMode Mode>
class Pool2d : public detail::LayerBase<Pool2d<S, Mode>, S> {
 public:
  using mode_type = Mode;  ///< the pooling mode

  Pool2d() = default;
  /// Pooling of an `in` map; throws ConfigError for a window that does not fit.
  /// @param in the input map's shape
  /// @param cfg window, stride, padding and scale
  explicit Pool2d(ImageShape in, PoolConfig cfg = {}) : in_(in), cfg_(cfg) { validate(); }

  /// Each output column depends on the same input column only (Sequential::forward_step
  /// runs the layer one step at a time).
  static constexpr bool per_column = true;
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return Mode::name(); }
  /// Features per input column.
  Index input_size() const noexcept { return in_.size(); }
  /// Features per output column.
  Index output_size() const noexcept { return in_.channels * out_h_ * out_w_; }
  /// The shape of the input map.
  ImageShape input_shape() const noexcept { return in_; }
  /// The shape of the output map.
  ImageShape output_shape() const noexcept { return {in_.channels, out_h_, out_w_}; }
  /// The run-time configuration.
  const PoolConfig& config() const noexcept { return cfg_; }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const {
    std::string s = name();
    s.append("(").append(in_.to_string()).append("->").append(output_shape().to_string());
    s.append(",k").append(std::to_string(cfg_.kernel)).append(",s").append(std::to_string(stride()));
    s.append(",p").append(std::to_string(cfg_.padding));
    if (!std::same_as<Mode, MaxPooling> && cfg_.scale != 1.0) s.append(",scale").append(std::to_string(cfg_.scale));
    s.append(")");
    return s;
  }

  /// All T steps of `in` to `out` (see Layer); with ctx.training the layer keeps what backward() needs.
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    this->require_input(in);
    const Index N = in.columns(), F = input_size(), Fo = output_size();
    out.resize(Fo, in.batch(), in.steps());
    constexpr bool is_max = std::same_as<Mode, MaxPooling>;
    const S* x = in.data();
    S* y = out.data();
    const Index C = in_.channels, H = in_.height, W = in_.width, k = cfg_.kernel, s = stride(), p = cfg_.padding,
                Ho = out_h_, Wo = out_w_;
    const S factor = std::same_as<Mode, AvgPooling> ? S(cfg_.scale / double(k * k)) : S(cfg_.scale);
    detail::parallel_ranges(N, double(Fo * k * k), [&](Index n0, Index n1) {
      for (Index n = n0; n < n1; ++n) {
        const S* xn = x + n * F;
        S* yn = y + n * Fo;
        if (p == 0) {  // every window lies inside the map: branch-free rows (stride 2 unrolled)
          if (s == 2)
            pool_unpadded<2>(xn, yn, C, H, W, k, s, Ho, Wo, factor);
          else
            pool_unpadded<0>(xn, yn, C, H, W, k, s, Ho, Wo, factor);
          continue;
        }
        for_each_window([&](Index c, Index o, Index y0, Index y1, Index x0, Index x1) {
          if constexpr (is_max) {
            S best = xn[(c * H + y0) * W + x0];
            for (Index iy = y0; iy < y1; ++iy)
              for (Index ix = x0; ix < x1; ++ix) best = std::max(best, xn[(c * H + iy) * W + ix]);
            yn[o] = best;
          } else {
            S acc = 0;
            for (Index iy = y0; iy < y1; ++iy) {
              const S* row = xn + (c * H + iy) * W;
              for (Index ix = x0; ix < x1; ++ix) acc += row[ix];
            }
            yn[o] = factor * acc;
          }
        });
      }
    });
  }

  /// Writes dL/d(in) to *grad_in (when not null) from dL/d(out) = grad_out and adds the parameter gradients (see Layer).
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    this->require_gradient(in, out, grad_out);
    if (!grad_in) return;
    constexpr bool is_max = std::same_as<Mode, MaxPooling>;
    const Index N = in.columns(), F = input_size(), Fo = output_size();
    grad_in->resize_zero(F, in.batch(), in.steps());
    const S* g = grad_out.data();
    const S* x = in.data();
    const S* y = out.data();
    S* gi = grad_in->data();
    const Index C = in_.channels, H = in_.height, W = in_.width, k = cfg_.kernel, s = stride(), p = cfg_.padding,
                Ho = out_h_, Wo = out_w_;
    const S factor = std::same_as<Mode, AvgPooling> ? S(cfg_.scale / double(k * k)) : S(cfg_.scale);
    detail::parallel_ranges(N, double(Fo * (is_max ? 1 : k * k)), [&](Index n0, Index n1) {
      for (Index n = n0; n < n1; ++n) {
        const S* gn = g + n * Fo;
        S* gin = gi + n * F;
        if constexpr (is_max) {
          // the window's first input equal to the output is the maximum forward chose
          const S* xn = x + n * F;
          const S* yn = y + n * Fo;
          if (p == 0 && k == 2 && s == 2) {  // the common 2x2 case, unrolled and branch-free
            for (Index c = 0; c < C; ++c)
              for (Index oy = 0; oy < Ho; ++oy) {
                const Index row0 = (c * H + 2 * oy) * W;
                const S* r0 = xn + row0;
                const S* r1 = r0 + W;
                S* g0 = gin + row0;
                S* g1 = g0 + W;
                const S* yr = yn + (c * Ho + oy) * Wo;
                const S* gr = gn + (c * Ho + oy) * Wo;
                for (Index ox = 0; ox < Wo; ++ox) {
                  const S m = yr[ox], gv = gr[ox];
                  // non-short-circuit logic: no branches to mispredict
                  const unsigned a = r0[2 * ox] == m, b = r0[2 * ox + 1] == m, c = r1[2 * ox] == m;
                  const unsigned e1 = b & (a ^ 1u), e2 = c & ((a | b) ^ 1u), e3 = (a | b | c) ^ 1u;
                  g0[2 * ox] = keep_if(a, gv);
                  g0[2 * ox + 1] = keep_if(e1, gv);
                  g1[2 * ox] = keep_if(e2, gv);
                  g1[2 * ox + 1] = keep_if(e3, gv);
                }
              }
            continue;
          }
          if (p == 0) {  // branch-free: scan each window backwards, keep the last (= first) match
            for (Index c = 0; c < C; ++c)
              for (Index oy = 0; oy < Ho; ++oy) {
                const Index row0 = (c * H + oy * s) * W;
                const S* yr = yn + (c * Ho + oy) * Wo;
                const S* gr = gn + (c * Ho + oy) * Wo;
                for (Index ox = 0; ox < Wo; ++ox) {
                  const S* w0 = xn + row0 + ox * s;
                  const S best = yr[ox];
                  Index at = 0;
                  for (Index i = k - 1; i >= 0; --i)
                    for (Index j = k - 1; j >= 0; --j) at = w0[i * W + j] == best ? i * W + j : at;
                  gin[row0 + ox * s + at] += gr[ox];
                }
              }
            continue;
          }
          for_each_window([&](Index c, Index o, Index y0, Index y1, Index x0, Index x1) {
            const S best = yn[o];
            Index at = -1;
            for (Index iy = y0; iy < y1 && at < 0; ++iy)
              for (Index ix = x0; ix < x1; ++ix)
                if (xn[(c * H + iy) * W + ix] == best) {
                  at = (c * H + iy) * W + ix;
                  break;
                }
            if (at >= 0) gin[at] += gn[o];  // (absent only for NaN)
          });
        } else {
          for_each_window([&](Index c, Index o, Index y0, Index y1, Index x0, Index x1) {
            const S v = factor * gn[o];
            for (Index iy = y0; iy < y1; ++iy) {
              S* row = gin + (c * H + iy) * W;
              for (Index ix = x0; ix < x1; ++ix) row[ix] += v;
            }
          });
        }
      }
    });
  }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("in", in_), cereal::make_nvp("config", cfg_));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    this->require_version(version);
    ar(cereal::make_nvp("in", in_), cereal::make_nvp("config", cfg_));
    this->require_valid([this] { validate(); });
  }

 private:
  /// v if keep (0 or 1) else +0, by bit masking (GCC turns `keep ? v : 0` into a branch).
  static S keep_if(unsigned keep, S v) noexcept {
    using U = std::conditional_t<sizeof(S) == 4, std::uint32_t, std::uint64_t>;
    return std::bit_cast<S>(static_cast<U>(std::bit_cast<U>(v) & (U(0) - U(keep))));
  }

  // f(c, o, y0, y1, x0, x1) for every output o = (c Ho + oy) Wo + ox of one column, whose window
  // clipped to the image covers rows [y0, y1) and columns [x0, x1) of channel c.
  template <class F>
  void for_each_window(F&& f) const {
    const Index H = in_.height, W = in_.width, k = cfg_.kernel, s = stride(), p = cfg_.padding;
    for (Index c = 0; c < in_.channels; ++c)
      for (Index oy = 0; oy < out_h_; ++oy) {
        const Index y0 = std::max<Index>(oy * s - p, 0), y1 = std::min<Index>(oy * s - p + k, H);
        for (Index ox = 0; ox < out_w_; ++ox) {
          const Index x0 = std::max<Index>(ox * s - p, 0), x1 = std::min<Index>(ox * s - p + k, W);
          f(c, (c * out_h_ + oy) * out_w_ + ox, y0, y1, x0, x1);
        }
      }
  }

  // Pooling without padding of one column; SS > 0 fixes the stride at compile time.
  template <Index SS>
  static void pool_unpadded(const S* xn, S* yn, Index C, Index H, Index W, Index k, Index stride, Index Ho, Index Wo,
                            S factor) {
    const Index s = SS > 0 ? SS : stride;
    for (Index c = 0; c < C; ++c)
      for (Index oy = 0; oy < Ho; ++oy) {
        const S* base = xn + (c * H + oy * s) * W;
        S* yr = yn + (c * Ho + oy) * Wo;
        if constexpr (std::same_as<Mode, MaxPooling>) {
          for (Index ox = 0; ox < Wo; ++ox) yr[ox] = base[ox * s];
          for (Index i = 0; i < k; ++i)
            for (Index j = (i == 0 ? 1 : 0); j < k; ++j) {
              const S* r = base + i * W + j;
              for (Index ox = 0; ox < Wo; ++ox) yr[ox] = std::max(yr[ox], r[ox * s]);
            }
        } else {
          for (Index ox = 0; ox < Wo; ++ox) yr[ox] = S(0);
          for (Index i = 0; i < k; ++i)
            for (Index j = 0; j < k; ++j) {
              const S* r = base + i * W + j;
              for (Index ox = 0; ox < Wo; ++ox) yr[ox] += r[ox * s];
            }
          for (Index ox = 0; ox < Wo; ++ox) yr[ox] *= factor;
        }
      }
  }

  Index stride() const noexcept { return cfg_.stride == 0 ? cfg_.kernel : cfg_.stride; }
  void validate() {
    in_.validate(name());
    if (cfg_.kernel <= 0 || cfg_.stride < 0 || cfg_.padding < 0 || 2 * cfg_.padding > cfg_.kernel)
      throw ConfigError(name() + ": kernel must be positive, stride non-negative and padding in [0, kernel/2] (kernel " +
                        std::to_string(cfg_.kernel) + ", stride " + std::to_string(cfg_.stride) + ", padding " +
                        std::to_string(cfg_.padding) + ")");
    out_h_ = detail::window_out(in_.height, cfg_.kernel, stride(), cfg_.padding);
    out_w_ = detail::window_out(in_.width, cfg_.kernel, stride(), cfg_.padding);
    if (out_h_ <= 0 || out_w_ <= 0)
      throw ConfigError(name() + ": a " + std::to_string(cfg_.kernel) + "x" + std::to_string(cfg_.kernel) +
                        " window does not fit the input " + in_.to_string());
  }

  ImageShape in_{};
  PoolConfig cfg_{};
  Index out_h_ = 0, out_w_ = 0;
};

/// Average pooling (AvgPooling).
template <Scalar S>
using AvgPool2d = Pool2d<S, AvgPooling>;
/// Max pooling (MaxPooling).
template <Scalar S>
using MaxPool2d = Pool2d<S, MaxPooling>;
/// Spike-count pooling: the sum of the window (use PoolConfig::scale for a fixed pooling weight).
template <Scalar S>
using SumPool2d = Pool2d<S, SumPooling>;

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S, class M), (spikelab::Pool2d<S, M>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::PoolConfig), 1)

#endif
