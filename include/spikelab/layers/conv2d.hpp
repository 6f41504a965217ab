/**
 * @file layers/conv2d.hpp
 * @brief Conv2d: a 2-D convolution (cross-correlation) with stride, zero padding and bias,
 *        applied to every (sample, step) column; all T steps in one batched product.
 *
 * For an input map x (C_in x H x W, see ImageShape) and a kernel of size k:
 * \f[ y_{o}(u, v) = b_o + \sum_{c=0}^{C_{in}-1} \sum_{i,j=0}^{k-1}
 *       W_{o,c,i,j}\; x_c(u s - p + i,\; v s - p + j), \f]
 * with x = 0 outside the image, output extent H_out = floor((H + 2p - k)/s) + 1 (same for W).
 * The weights are a C_out x (C_in k k) matrix whose column index is (c k + i) k + j (PyTorch's
 * `weight.view(C_out, -1)`).
 *
 * Implementation (im2col over all batch*T columns): the columns are taken in chunks; each
 * chunk's patches form ONE matrix P (chunk*H_out*W_out rows, C_in k k columns), so the
 * forward pass is Y = P W^T, the weight gradient dW += G^T P and the input gradient
 * col2im(G W) -- each a single large product per chunk. Patches are rebuilt in backward
 * rather than stored, so memory stays bounded by the chunk size. No allocation once the
 * batch and T are stable.
 *
 * Sparse path: when the input is sparse (spikes at low density, estimated on a sample of
 * columns, as Linear does), the forward product and the weight gradient are accumulated from
 * the nonzero inputs only: each active input (c, y, x) adds its k*k weight slices W[:, c, i, j]
 * (contiguous C_out vectors) to the outputs it reaches. The input gradient stays a dense product.
 * Both paths give the same numbers up to float rounding.
 *
 * @code
 * @article{lecun1998gradient, title={Gradient-based learning applied to document recognition},
 *   author={LeCun, Yann and Bottou, L{\'e}on and Bengio, Yoshua and Haffner, Patrick},
 *   journal={Proceedings of the IEEE}, volume={86}, number={11}, pages={2278--2324}, year={1998}}
 * @article{chellapilla2006high, title={High performance convolutional neural networks for document processing},
 *   author={Chellapilla, Kumar and Puri, Sidd and Simard, Patrice}, booktitle={IWFHR}, year={2006}}
 * @endcode
 */
#ifndef SPIKELAB_LAYERS_CONV2D_HPP
#define SPIKELAB_LAYERS_CONV2D_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/io/eigen.hpp>
#include <spikelab/io/versioning.hpp>
#include <spikelab/layers/image_shape.hpp>
#include <spikelab/layers/linear.hpp>  // Init

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace spikelab {

/// Hyperparameters of a Conv2d layer (square kernel).
struct Conv2dConfig {
  Index kernel = 3;   ///< kernel size k (k x k)
  Index stride = 1;   ///< stride s
  Index padding = 0;  ///< zero padding p on every side
  bool bias = true;
  Init init = Init::uniform_fan_in;  ///< fan_in = C_in k k
  double init_scale = 1.0;
  SparseMode sparse = SparseMode::automatic;
  /// Automatic mode uses the sparse path when the estimated input density is below this.
  double sparse_density = 0.1;
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("kernel", std::int64_t(kernel)), cereal::make_nvp("stride", std::int64_t(stride)),
       cereal::make_nvp("padding", std::int64_t(padding)), CEREAL_NVP(bias), CEREAL_NVP(init), CEREAL_NVP(init_scale),
       CEREAL_NVP(sparse), CEREAL_NVP(sparse_density));
  }
  template <class Ar>
  void load(Ar& ar, std::uint32_t) {
    std::int64_t k = 0, s = 0, p = 0;
    ar(cereal::make_nvp("kernel", k), cereal::make_nvp("stride", s), cereal::make_nvp("padding", p), CEREAL_NVP(bias),
       CEREAL_NVP(init), CEREAL_NVP(init_scale), CEREAL_NVP(sparse), CEREAL_NVP(sparse_density));
    kernel = k;
    stride = s;
    padding = p;
  }
};

namespace detail {

/// Fills ONE block of an im2col patch matrix: for input column `src` (a C x H x W map), the
/// rows [row0, row0 + Ho*Wo) of every patch column k = (c K + i) K + j, where `pt` is
/// column-major with leading dimension `ld`. Out-of-image taps are 0.
template <Scalar S>
void im2col_column(const S* src, const ImageShape& in, Index K, Index stride, Index pad, Index Ho, Index Wo, S* pt,
                   Index ld, Index row0) {
  const Index H = in.height, W = in.width;
  for (Index c = 0; c < in.channels; ++c)
    for (Index i = 0; i < K; ++i)
      for (Index j = 0; j < K; ++j) {
        S* dst = pt + ((c * K + i) * K + j) * ld + row0;
        // valid output columns: 0 <= ox*stride - pad + j < W
        const Index lo = std::clamp<Index>((pad - j + stride - 1) / stride, 0, Wo);
        const Index hi = std::clamp<Index>(W - 1 + pad - j < 0 ? 0 : (W - 1 + pad - j) / stride + 1, lo, Wo);
        for (Index oy = 0; oy < Ho; ++oy) {
          S* d = dst + oy * Wo;
          const Index iy = oy * stride - pad + i;
          if (iy < 0 || iy >= H) {
            std::fill(d, d + Wo, S(0));
            continue;
          }
          const S* row = src + (c * H + iy) * W;
          const Index off = j - pad;  // input column of output column ox: ox*stride + off
          std::fill(d, d + lo, S(0));
          if (stride == 1) {
            if (lo < hi) std::copy(row + lo + off, row + hi + off, d + lo);
          } else {
            for (Index ox = lo; ox < hi; ++ox) d[ox] = row[ox * stride + off];
          }
          std::fill(d + hi, d + Wo, S(0));
        }
      }
}

/// The adjoint of im2col_column: adds the patch-gradient rows back onto the input map `dst`.
template <Scalar S>
void col2im_column(const S* pt, Index ld, Index row0, const ImageShape& in, Index K, Index stride, Index pad, Index Ho,
                   Index Wo, S* dst) {
  const Index H = in.height, W = in.width;
  for (Index c = 0; c < in.channels; ++c)
    for (Index i = 0; i < K; ++i)
      for (Index j = 0; j < K; ++j) {
        const S* src = pt + ((c * K + i) * K + j) * ld + row0;
        const Index lo = std::clamp<Index>((pad - j + stride - 1) / stride, 0, Wo);
        const Index hi = std::clamp<Index>(W - 1 + pad - j < 0 ? 0 : (W - 1 + pad - j) / stride + 1, lo, Wo);
        for (Index oy = 0; oy < Ho; ++oy) {
          const Index iy = oy * stride - pad + i;
          if (iy < 0 || iy >= H) continue;
          S* row = dst + (c * H + iy) * W;
          const Index off = j - pad;
          const S* s = src + oy * Wo;
          if (stride == 1)
            for (Index ox = lo; ox < hi; ++ox) row[ox + off] += s[ox];
          else
            for (Index ox = lo; ox < hi; ++ox) row[ox * stride + off] += s[ox];
        }
      }
}

/// Index of the calling thread inside a parallel_ranges team (0 outside one).
inline int thread_index() noexcept {
#ifdef _OPENMP
  return omp_in_parallel() ? omp_get_thread_num() : 0;
#else
  return 0;
#endif
}

/// Calls f(p, kidx) for every output position p = oy*Wo + ox that input pixel (y, x) reaches
/// through kernel tap (i, j), kidx = i*k + j (add c*k*k for the patch index). The taps that
/// reach an output satisfy (y + pad - i) % stride == 0, so they step by the stride: no
/// division inside the loops.
template <class F>
inline void for_each_tap(Index y, Index x, Index k, Index stride, Index pad, Index Ho, Index Wo, F&& f) {
  const Index ty = y + pad, tx = x + pad;
  const Index i0 = stride == 1 ? 0 : ty % stride, oy0 = stride == 1 ? ty : ty / stride;
  const Index j0 = stride == 1 ? 0 : tx % stride, ox0 = stride == 1 ? tx : tx / stride;
  // skip the taps whose output lies beyond the last row / column
  const Index si = std::max<Index>(0, oy0 - (Ho - 1)), sj = std::max<Index>(0, ox0 - (Wo - 1));
  for (Index i = i0 + si * stride, oy = oy0 - si; i < k && oy >= 0; i += stride, --oy)
    for (Index j = j0 + sj * stride, ox = ox0 - sj; j < k && ox >= 0; j += stride, --ox) f(oy * Wo + ox, i * k + j);
}

}  // namespace detail

template <Scalar S>
class Conv2d {
 public:
  using scalar_type = S;
  static constexpr std::uint32_t class_version = 1;

  Conv2d() = default;
  /// A convolution from an `in` map to `out_channels` channels.
  Conv2d(ImageShape in, Index out_channels, Rng& rng, Conv2dConfig cfg = {}) : in_(in), cout_(out_channels), cfg_(cfg) {
    validate();
    w_.resize(cout_, patch_size());
    b_.setZero(cfg_.bias ? cout_ : 0, 1);
    reset_parameters(rng);
  }

  static std::string name() { return "Conv2d"; }
  Index input_size() const noexcept { return in_.size(); }
  Index output_size() const noexcept { return cout_ * out_h_ * out_w_; }
  ImageShape input_shape() const noexcept { return in_; }
  ImageShape output_shape() const noexcept { return {cout_, out_h_, out_w_}; }
  /// C_in k k: the length of one patch (columns of the weight matrix).
  Index patch_size() const noexcept { return in_.channels * cfg_.kernel * cfg_.kernel; }
  std::string signature() const {
    return "Conv2d(" + in_.to_string() + "->" + output_shape().to_string() + ",k" + std::to_string(cfg_.kernel) + ",s" +
           std::to_string(cfg_.stride) + ",p" + std::to_string(cfg_.padding) + (cfg_.bias ? ",bias" : "") + ")";
  }
  const Conv2dConfig& config() const noexcept { return cfg_; }

  /// C_out x (C_in k k); column (c k + i) k + j.
  Matrix<S>& weight() noexcept { return w_; }
  const Matrix<S>& weight() const noexcept { return w_; }
  /// C_out x 1 (0 x 1 without bias).
  Matrix<S>& bias() noexcept { return b_; }
  const Matrix<S>& bias() const noexcept { return b_; }
  Matrix<S>& weight_grad() noexcept { return gw_; }
  Matrix<S>& bias_grad() noexcept { return gb_; }
  /// Adds a zero bias to a layer built without one (used when folding a normalisation in).
  void enable_bias() {
    if (cfg_.bias) return;
    cfg_.bias = true;
    b_.setZero(cout_, 1);
    gb_.setZero(cout_, 1);
  }

  /// True when the last forward pass used the sparse path.
  bool used_sparse() const noexcept { return sparse_; }

  /// Upper bound on the elements of one chunk's patch matrix (default 2^18): larger chunks
  /// mean fewer, larger products and more memory.
  void set_chunk_elements(Index n) { chunk_elements_ = std::max<Index>(n, 1); }

  void reset_parameters(Rng& rng) {
    const double fan = double(patch_size()), sc = cfg_.init_scale;
    auto fill = [&](Matrix<S>& m, auto gen) {
      for (Index k = 0; k < m.size(); ++k) m.data()[k] = S(gen());
    };
    switch (cfg_.init) {
      case Init::uniform_fan_in: {
        const double bound = sc / std::sqrt(fan);
        fill(w_, [&] { return rng.uniform(-bound, bound); });
        fill(b_, [&] { return rng.uniform(-bound, bound); });
        break;
      }
      case Init::kaiming_normal:
        fill(w_, [&] { return rng.normal(0.0, sc * std::sqrt(2.0 / fan)); });
        b_.setZero();
        break;
      case Init::normal:
        fill(w_, [&] { return rng.normal(0.0, sc); });
        b_.setZero();
        break;
      case Init::zeros:
        w_.setZero();
        b_.setZero();
        break;
    }
    zero_grad();
  }

  template <class F>
  void for_each_parameter(F&& f) {
    f(ParamRef<S>{"weight", ParamGroup::weight, w_, gw_});
    if (cfg_.bias) f(ParamRef<S>{"bias", ParamGroup::bias, b_, gb_});
  }
  void zero_grad() {
    gw_.setZero(w_.rows(), w_.cols());
    gb_.setZero(b_.rows(), 1);
  }

  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    if (in.features() != input_size())
      throw ShapeError(signature() + ": input has " + std::to_string(in.features()) + " features, expected " +
                       std::to_string(input_size()) + " (" + in_.to_string() + ") " + in.shape_string());
    const Index N = in.columns(), P = out_h_ * out_w_, K = patch_size(), C = cout_;
    out.resize(output_size(), in.batch(), in.steps());
    sparse_ = choose_sparse(in.values());
    if (sparse_) {
      forward_sparse(in, out);
      return;
    }
    const Index chunk = chunk_columns();
    reserve(chunk);
    for (Index n0 = 0; n0 < N; n0 += chunk) {
      const Index nc = std::min(chunk, N - n0), rows = nc * P;
      build_patches(in, n0, nc);
      Eigen::Map<const Matrix<S>> pt(pt_.data(), rows, K);
      Eigen::Map<Matrix<S>> o(o_.data(), rows, C);
      o.noalias() = pt * w_.transpose();
      // (n, p) x c  ->  column n, feature c*P + p (contiguous copies), plus the bias
      S* y = out.data();
      const S* od = o_.data();
      const S* bd = b_.data();
      const bool bias = cfg_.bias;
      detail::parallel_ranges(nc, double(C * P), [&](Index a, Index e) {
        for (Index n = a; n < e; ++n)
          for (Index c = 0; c < C; ++c) {
            const S* s = od + c * rows + n * P;
            S* d = y + (n0 + n) * C * P + c * P;
            if (bias) {
              const S bc = bd[c];
              for (Index p = 0; p < P; ++p) d[p] = s[p] + bc;
            } else {
              std::copy(s, s + P, d);
            }
          }
      });
    }
  }

  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    if (!grad_out.same_shape(out) || in.columns() != out.columns() || in.features() != input_size())
      throw ShapeError(signature() + "::backward: gradient " + grad_out.shape_string() + " / input " +
                       in.shape_string() + " do not match output " + out.shape_string());
    if (gw_.rows() != w_.rows() || gw_.cols() != w_.cols()) zero_grad();
    const Index N = in.columns(), P = out_h_ * out_w_, K = patch_size(), C = cout_;
    const bool sparse = sparse_ && sp_.cols == N && sp_.rows == input_size();
    if (sparse) {
      weight_grad_sparse(grad_out);
      if (!grad_in) return;
    }
    const Index chunk = chunk_columns();
    reserve(chunk);
    if (grad_in) grad_in->resize_zero(input_size(), in.batch(), in.steps());
    // stride 1: the input gradient goes through "wide" rows (output width padded to the input
    // width), so col2im becomes one long contiguous add per tap instead of many short rows
    const bool wide = cfg_.stride == 1;
    const S* g = grad_out.data();
    for (Index n0 = 0; n0 < N; n0 += chunk) {
      const Index nc = std::min(chunk, N - n0), rows = nc * P;
      if (!sparse || (grad_in && !wide)) gather_grad(g, n0, nc, false);
      if (!sparse) {
        Eigen::Map<const Matrix<S>> gt(go_.data(), rows, C);
        build_patches(in, n0, nc);
        Eigen::Map<const Matrix<S>> pt(pt_.data(), rows, K);
        gw_.noalias() += gt.transpose() * pt;
        if (cfg_.bias) gb_.col(0) += gt.colwise().sum().transpose();
      }
      if (grad_in) input_grad_chunk(g, n0, nc, wide, *grad_in);
    }
  }

  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("in", in_), cereal::make_nvp("out_channels", std::int64_t(cout_)),
       cereal::make_nvp("config", cfg_), cereal::make_nvp("weight", w_), cereal::make_nvp("bias", b_));
  }
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, class_version, "Conv2d");
    std::int64_t cout = 0;
    ar(cereal::make_nvp("in", in_), cereal::make_nvp("out_channels", cout), cereal::make_nvp("config", cfg_),
       cereal::make_nvp("weight", w_), cereal::make_nvp("bias", b_));
    cout_ = cout;
    try {
      validate();
    } catch (const ConfigError& e) {
      throw cereal::Exception(std::string("Conv2d: stored configuration is invalid: ") + e.what());
    }
    if (w_.rows() != cout_ || w_.cols() != patch_size() || b_.rows() != (cfg_.bias ? cout_ : 0))
      throw cereal::Exception("Conv2d: stored weights do not match the stored sizes");
    zero_grad();
  }

 private:
  void validate() {
    in_.validate("Conv2d");
    if (cout_ <= 0) throw ConfigError("Conv2d: out_channels must be positive");
    if (cfg_.kernel <= 0 || cfg_.stride <= 0 || cfg_.padding < 0)
      throw ConfigError("Conv2d: kernel and stride must be positive and padding non-negative (kernel " +
                        std::to_string(cfg_.kernel) + ", stride " + std::to_string(cfg_.stride) + ", padding " +
                        std::to_string(cfg_.padding) + ")");
    out_h_ = detail::window_out(in_.height, cfg_.kernel, cfg_.stride, cfg_.padding);
    out_w_ = detail::window_out(in_.width, cfg_.kernel, cfg_.stride, cfg_.padding);
    if (out_h_ <= 0 || out_w_ <= 0)
      throw ConfigError("Conv2d: a " + std::to_string(cfg_.kernel) + "x" + std::to_string(cfg_.kernel) +
                        " kernel with padding " + std::to_string(cfg_.padding) + " does not fit the input " +
                        in_.to_string());
  }
  // dL/dY of columns [n0, n0+nc) into go_ as ((n, oy, ox) x c); with `wide`, each output row
  // is padded to the padded input width with zeros.
  void gather_grad(const S* g, Index n0, Index nc, bool wide) {
    const Index C = cout_, P = out_h_ * out_w_, Ho = out_h_, Wo = out_w_;
    const Index Wr = wide ? in_.width + 2 * cfg_.padding : Wo, Pr = Ho * Wr, rows = nc * Pr;
    S* gd = go_.data();
    detail::parallel_ranges(nc, double(C * Pr), [&](Index a, Index e) {
      for (Index n = a; n < e; ++n)
        for (Index c = 0; c < C; ++c) {
          const S* src = g + (n0 + n) * C * P + c * P;
          S* dst = gd + c * rows + n * Pr;
          if (!wide) {
            std::copy(src, src + P, dst);
            continue;
          }
          for (Index oy = 0; oy < Ho; ++oy) {
            std::copy(src + oy * Wo, src + (oy + 1) * Wo, dst + oy * Wr);
            std::fill(dst + oy * Wr + Wo, dst + (oy + 1) * Wr, S(0));
          }
        }
    });
  }

  // dL/dX of columns [n0, n0+nc): one product for the patch gradients, then col2im.
  void input_grad_chunk(const S* g, Index n0, Index nc, bool wide, TimeSeries<S>& grad_in) {
    const Index C = cout_, K = patch_size(), F = input_size(), k = cfg_.kernel, s = cfg_.stride, pad = cfg_.padding,
                Ho = out_h_, Wo = out_w_;
    S* gi = grad_in.data();
    const ImageShape shp = in_;
    if (!wide) {  // go_ holds the compact gradient already
      const Index rows = nc * Ho * Wo;
      Eigen::Map<const Matrix<S>> gt(go_.data(), rows, C);
      Eigen::Map<Matrix<S>> dpt(pt_.data(), rows, K);
      dpt.noalias() = gt * w_;
      const S* dp = pt_.data();
      detail::parallel_ranges(nc, double(K * Ho * Wo), [&](Index a, Index e) {
        for (Index n = a; n < e; ++n)
          detail::col2im_column(dp, rows, n * Ho * Wo, shp, k, s, pad, Ho, Wo, gi + (n0 + n) * F);
      });
      return;
    }
    const Index H = in_.height, W = in_.width, Hp = H + 2 * pad, Wp = W + 2 * pad, Pw = Ho * Wp, rows = nc * Pw,
                L = (Ho - 1) * Wp + Wo;
    gather_grad(g, n0, nc, true);
    Eigen::Map<const Matrix<S>> gt(go_.data(), rows, C);
    Eigen::Map<Matrix<S>> dpt(pt_.data(), rows, K);
    dpt.noalias() = gt * w_;  // rows with ox >= Wo are exactly zero
    const S* dp = pt_.data();
    reserve_threads();
    detail::parallel_ranges(nc, double(K * Pw), [&](Index a, Index e) {
      S* scratch = nullptr;
      if (pad > 0) {
        Vector<S>& buf = tbuf_[std::size_t(detail::thread_index())];
        if (buf.size() < shp.channels * Hp * Wp) buf.resize(shp.channels * Hp * Wp);
        scratch = buf.data();
      }
      for (Index n = a; n < e; ++n) {
        S* map = pad > 0 ? scratch : gi + (n0 + n) * F;  // the (padded) input map of column n
        if (pad > 0) std::fill(map, map + shp.channels * Hp * Wp, S(0));
        for (Index c = 0; c < shp.channels; ++c)
          for (Index i = 0; i < k; ++i)
            for (Index j = 0; j < k; ++j) {
              const S* src = dp + ((c * k + i) * k + j) * rows + n * Pw;
              S* dst = map + (c * Hp + i) * Wp + j;
              for (Index q = 0; q < L; ++q) dst[q] += src[q];
            }
        if (pad > 0) {
          S* out = gi + (n0 + n) * F;
          for (Index c = 0; c < shp.channels; ++c)
            for (Index y = 0; y < H; ++y) {
              const S* row = map + (c * Hp + y + pad) * Wp + pad;
              std::copy(row, row + W, out + (c * H + y) * W);
            }
        }
      }
    });
  }

  bool choose_sparse(const Matrix<S>& x) const {
    switch (cfg_.sparse) {
      case SparseMode::always: return true;
      case SparseMode::never: return false;
      case SparseMode::automatic: break;
    }
    return detail::SparseColumns<S>::estimate_density(x) < cfg_.sparse_density;
  }
  /// (channel, row, column) of input feature f (32-bit division: features are int32 here).
  void decode(std::int32_t f, Index& c, Index& y, Index& x) const noexcept {
    const auto u = static_cast<std::uint32_t>(f), hw = static_cast<std::uint32_t>(in_.plane()),
               w = static_cast<std::uint32_t>(in_.width);
    const std::uint32_t cc = u / hw, r = u - cc * hw, yy = r / w;
    c = Index(cc);
    y = Index(yy);
    x = Index(r - yy * w);
  }
  /// C_out rounded up to a whole number of 64-byte SIMD registers.
  Index padded_channels() const noexcept {
    constexpr Index lanes = Index(64 / sizeof(S));
    return (cout_ + lanes - 1) / lanes * lanes;
  }
  void reserve_threads() {
    const std::size_t T = std::size_t(std::max(1, num_threads()));
    if (tbuf_.size() < T) tbuf_.resize(T);
    if (tacc_.size() < T) tacc_.resize(T);
  }

  // Y from the nonzero inputs only: each active (c, y, x) adds W[:, c, i, j] to the outputs it
  // reaches, accumulated per column in a (position x channel) buffer, then transposed out.
  void forward_sparse(const TimeSeries<S>& in, TimeSeries<S>& out) {
    sp_.build(in.values());
    reserve_threads();
    const Index N = in.columns(), P = out_h_ * out_w_, C = cout_, Cp = padded_channels(), K = patch_size(),
                Fo = output_size(), k = cfg_.kernel, kk = k * k, s = cfg_.stride,
                pad = cfg_.padding, Ho = out_h_, Wo = out_w_;
    // the weights of one tap as a contiguous vector of Cp channels (zero beyond C), so the inner
    // loops run over whole SIMD registers
    wpad_.setZero(Cp * K);
    for (Index q = 0; q < K; ++q) std::copy(w_.data() + q * C, w_.data() + (q + 1) * C, wpad_.data() + q * Cp);
    const bool bin = sp_.binary(), bias = cfg_.bias;
    const S* wt = wpad_.data();
    const S* bd = b_.data();
    S* y = out.data();
    const double per_col = double(P * Cp) + double(sp_.row.size()) / double(std::max<Index>(N, 1)) * double(kk * Cp);
    detail::parallel_ranges(N, per_col, [&](Index n0, Index n1) {
      Vector<S>& buf = tbuf_[std::size_t(detail::thread_index())];
      if (buf.size() < P * Cp) buf.resize(P * Cp);
      S* o = buf.data();
      for (Index n = n0; n < n1; ++n) {
        std::fill(o, o + P * Cp, S(0));
        for (std::int64_t e = sp_.start[n]; e < sp_.start[n + 1]; ++e) {
          Index ci, yy, xx;
          decode(sp_.row[e], ci, yy, xx);
          const S v = bin ? S(1) : sp_.value[e];
          const S* wc = wt + ci * kk * Cp;
          detail::for_each_tap(yy, xx, k, s, pad, Ho, Wo, [&](Index p, Index t) {
            S* op = o + p * Cp;
            const S* wp = wc + t * Cp;
            if (bin)
              for (Index c = 0; c < Cp; ++c) op[c] += wp[c];
            else
              for (Index c = 0; c < Cp; ++c) op[c] += v * wp[c];
          });
        }
        S* yn = y + n * Fo;
        for (Index c = 0; c < C; ++c) {
          const S bc = bias ? bd[c] : S(0);
          for (Index p = 0; p < P; ++p) yn[c * P + p] = o[p * Cp + c] + bc;
        }
      }
    });
  }

  // dW (and db) from the nonzero inputs of the last sparse forward pass; per-thread partial sums.
  void weight_grad_sparse(const TimeSeries<S>& grad_out) {
    reserve_threads();
    const Index N = sp_.cols, P = out_h_ * out_w_, C = cout_, Cp = padded_channels(), K = patch_size(),
                Fo = output_size(), k = cfg_.kernel, kk = k * k, s = cfg_.stride,
                pad = cfg_.padding, Ho = out_h_, Wo = out_w_;
    const bool bin = sp_.binary();
    const S* g = grad_out.data();
    const int T = std::max(1, num_threads());
    for (int t = 0; t < T; ++t) tacc_[std::size_t(t)].setZero(K * Cp + C);  // K x Cp weights, then C biases
    const double per_col = double(P * Cp) + double(sp_.row.size()) / double(std::max<Index>(N, 1)) * double(kk * Cp);
    detail::parallel_ranges(N, per_col, [&](Index n0, Index n1) {
      const std::size_t id = std::size_t(detail::thread_index());
      Vector<S>& buf = tbuf_[id];
      if (buf.size() < P * Cp) buf.resize(P * Cp);
      S* gb = buf.data();
      S* acc = tacc_[id].data();
      S* accb = acc + K * Cp;
      for (Index n = n0; n < n1; ++n) {
        const S* gn = g + n * Fo;
        for (Index c = 0; c < C; ++c) {
          S sum = 0;
          for (Index p = 0; p < P; ++p) {
            gb[p * Cp + c] = gn[c * P + p];
            sum += gn[c * P + p];
          }
          accb[c] += sum;
        }
        if (Cp > C)
          for (Index p = 0; p < P; ++p) std::fill(gb + p * Cp + C, gb + (p + 1) * Cp, S(0));
        for (std::int64_t e = sp_.start[n]; e < sp_.start[n + 1]; ++e) {
          Index ci, yy, xx;
          decode(sp_.row[e], ci, yy, xx);
          const S v = bin ? S(1) : sp_.value[e];
          S* ac = acc + ci * kk * Cp;
          detail::for_each_tap(yy, xx, k, s, pad, Ho, Wo, [&](Index p, Index t) {
            S* ap = ac + t * Cp;
            const S* gp = gb + p * Cp;
            if (bin)
              for (Index c = 0; c < Cp; ++c) ap[c] += gp[c];
            else
              for (Index c = 0; c < Cp; ++c) ap[c] += v * gp[c];
          });
        }
      }
    });
    for (int t = 0; t < T; ++t) {
      Eigen::Map<const Matrix<S>> a(tacc_[std::size_t(t)].data(), Cp, K);
      gw_ += a.topRows(C);
      if (cfg_.bias) gb_.col(0) += Eigen::Map<const Vector<S>>(tacc_[std::size_t(t)].data() + K * Cp, C);
    }
  }

  Index chunk_columns() const {
    const Index per = out_h_ * out_w_ * std::max(patch_size(), cout_);
    return std::max<Index>(1, chunk_elements_ / std::max<Index>(per, 1));
  }
  void reserve(Index chunk) {
    // rows of the compact layout, or of the wide layout (stride 1: rows padded to the input width)
    const Index width = cfg_.stride == 1 ? std::max(out_w_, in_.width + 2 * cfg_.padding) : out_w_;
    const Index rows = chunk * out_h_ * width;
    if (pt_.size() < rows * patch_size()) pt_.resize(rows * patch_size());
    if (o_.size() < rows * cout_) o_.resize(rows * cout_);
    if (go_.size() < rows * cout_) go_.resize(rows * cout_);
  }
  void build_patches(const TimeSeries<S>& in, Index n0, Index nc) {
    const Index P = out_h_ * out_w_, rows = nc * P, F = input_size();
    const S* x = in.data();
    S* pt = pt_.data();
    const ImageShape shp = in_;
    const Index k = cfg_.kernel, s = cfg_.stride, pad = cfg_.padding, Ho = out_h_, Wo = out_w_;
    detail::parallel_ranges(nc, double(patch_size() * P), [&](Index a, Index e) {
      for (Index n = a; n < e; ++n) detail::im2col_column(x + (n0 + n) * F, shp, k, s, pad, Ho, Wo, pt, rows, n * P);
    });
  }

  ImageShape in_{};
  Index cout_ = 0, out_h_ = 0, out_w_ = 0;
  Conv2dConfig cfg_{};
  Matrix<S> w_, b_, gw_, gb_;
  Vector<S> pt_, o_, go_;  // chunk buffers: patches (rows x K), products / gradients (rows x C_out)
  Index chunk_elements_ = Index(1) << 18;
  // sparse path
  detail::SparseColumns<S> sp_;
  Vector<S> wpad_;                        // weights, tap-major with Cp channels per tap
  std::vector<Vector<S>> tbuf_, tacc_;    // per thread: a (position x channel) buffer, dW^T + db partial sums
  bool sparse_ = false;
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::Conv2d<S>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::Conv2dConfig), 1)

#endif
