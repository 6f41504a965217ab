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
 * col2im(G W) -- each a single large product per chunk. Threads take whole chunks (one
 * parallel region per call, per-thread buffers and partial weight gradients). Patches are
 * rebuilt in backward rather than stored, so memory stays bounded by the chunk size. For
 * stride 1 the input gradient uses rows padded to the input width, which turns col2im into one
 * contiguous run per tap. No allocation once the batch and T are stable.
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
#include <spikelab/core/serialization.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/layers/image_shape.hpp>
#include <spikelab/layers/linear.hpp>  // SparseMode, SparseColumns
#include <spikelab/layers/weighted_layer.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

namespace spikelab {

/// Hyperparameters of a Conv2d layer (square kernel).
struct Conv2dConfig {
  Index kernel = 3;   ///< kernel size k (k x k)
  Index stride = 1;   ///< stride s
  Index padding = 0;  ///< zero padding p on every side
  bool bias = true;  ///< with a bias per output channel
  Init init = Init::uniform_fan_in;  ///< fan_in = C_in k k
  double init_scale = 1.0;  ///< a factor on the initial weights
  SparseMode sparse = SparseMode::automatic;  ///< dense product, sparse accumulation, or chosen from the input density
  /// Automatic mode uses the sparse path when the estimated input density is below this.
  double sparse_density = 0.1;
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("kernel", std::int64_t(kernel)), cereal::make_nvp("stride", std::int64_t(stride)),
       cereal::make_nvp("padding", std::int64_t(padding)), CEREAL_NVP(bias), CEREAL_NVP(init), CEREAL_NVP(init_scale),
       CEREAL_NVP(sparse), CEREAL_NVP(sparse_density));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
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

/// A 2-D convolution (cross-correlation) with stride, zero padding and bias applied to every
/// (sample, step) column, \f$ y_o(u,v) = b_o + \sum_{c,i,j} W_{o,c,i,j}\, x_c(su+i-p, sv+j-p) \f$,
/// all T steps in one batched product and a sparse path for spike input (LeCun et al.,
/// Proceedings of the IEEE 1998; im2col: Chellapilla, Puri & Simard, IWFHR 2006).
/// @tparam S the scalar type (float or double)
template <Scalar S>
class Conv2d : public detail::WeightedLayer<Conv2d<S>, S, Conv2dConfig, ImageShape> {
 public:
  static constexpr const char* out_key = "out_channels";  ///< the name of the output size in a checkpoint

  Conv2d() = default;
  /// A convolution from an `in` map to `out_channels` channels.
  /// @param in the input map's shape
  /// @param out_channels the number of output channels
  /// @param rng draws the initial weights
  /// @param cfg kernel, stride, padding, bias and initialisation
  Conv2d(ImageShape in, Index out_channels, Rng& rng, Conv2dConfig cfg = {})
      : Conv2d::WeightedLayer(in, out_channels, cfg) {
    this->allocate(rng);
  }

  /// Each output column depends on the same input column only (Sequential::forward_step
  /// runs the layer one step at a time).
  static constexpr bool per_column = true;
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Conv2d"; }
  /// Features per input column.
  Index input_size() const noexcept { return in_.size(); }
  /// Features per output column.
  Index output_size() const noexcept { return out_ * out_h_ * out_w_; }
  /// The shape of the input map.
  ImageShape input_shape() const noexcept { return in_; }
  /// The shape of the output map.
  ImageShape output_shape() const noexcept { return {out_, out_h_, out_w_}; }
  /// C_in k k: the length of one patch (columns of the weight matrix).
  Index patch_size() const noexcept { return in_.channels * cfg_.kernel * cfg_.kernel; }
  /// Inputs per output value, C_in k k (the initialisation's fan-in).
  Index fan_in() const noexcept { return patch_size(); }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const {
    return "Conv2d(" + in_.to_string() + "->" + output_shape().to_string() + ",k" + std::to_string(cfg_.kernel) + ",s" +
           std::to_string(cfg_.stride) + ",p" + std::to_string(cfg_.padding) + (cfg_.bias ? ",bias" : "") + ")";
  }
  // The weight matrix (weight()) is C_out x (C_in k k), column (c k + i) k + j; the bias is
  // C_out x 1 (0 x 1 without bias).

  /// Adds a zero bias to a layer built without one (used when folding a normalisation in).
  void enable_bias() {
    if (cfg_.bias) return;
    cfg_.bias = true;
    b_.setZero(out_, 1);
    gb_.setZero(out_, 1);
  }

  /// True when the last forward pass used the sparse path.
  bool used_sparse() const noexcept { return sparse_; }

  /// Upper bound on the elements of one chunk's patch matrix (default 2^18): larger chunks
  /// mean fewer, larger products and more memory.
  void set_chunk_elements(Index n) { chunk_elements_ = std::max<Index>(n, 1); }

  /// All T steps of `in` to `out` (see Layer); with ctx.training the layer keeps what backward() needs.
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    this->require_input(in);
    out.resize(output_size(), in.batch(), in.steps());
    reserve_threads();
    static_ = in.static_steps();
    static_in_ = &in;
    if (static_) {
      sparse_ = false;
      static_forward(in, out);
      return;
    }
    sparse_ = choose_sparse(in.values());
    if (sparse_) {
      forward_sparse(in, out);
      return;
    }
    dense_forward(in, out, true);
  }

  /// Writes dL/d(in) to *grad_in (when not null) from dL/d(out) = grad_out and adds the parameter gradients (see Layer).
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    this->require_gradient(in, out, grad_out);
    if (gw_.rows() != w_.rows() || gw_.cols() != w_.cols()) this->zero_grad();
    const Index N = in.columns();
    reserve_threads();
    if (static_ && &in != static_in_) static_ = in.static_steps();  // (static_ points into the forward's input)
    if (static_) {
      static_weight_grad(in, grad_out);
      if (!grad_in) return;
    }
    const bool sparse = !static_ && sparse_ && sp_.cols == N && sp_.rows == input_size();
    if (sparse) {
      weight_grad_sparse(grad_out);
      if (!grad_in) return;
    }
    chunked_backward(in, grad_out, grad_in, !sparse && !static_, true);
  }

  /// True when the last forward pass found a static input (every step a multiple of one block,
  /// TimeSeries::static_steps) and convolved that block once.
  bool used_static() const noexcept { return static_.has_value(); }

 private:
  // The base reaches the members below; doxygen cannot resolve this friend, so it skips it.
  /// @cond
  friend typename Conv2d::WeightedLayer;
  /// @endcond
  using Conv2d::WeightedLayer::in_, Conv2d::WeightedLayer::out_, Conv2d::WeightedLayer::cfg_;
  using Conv2d::WeightedLayer::w_, Conv2d::WeightedLayer::b_, Conv2d::WeightedLayer::gw_, Conv2d::WeightedLayer::gb_;
  // (out_ is the number of output channels)

  void validate() {
    in_.validate("Conv2d");
    if (out_ <= 0) throw ConfigError("Conv2d: out_channels must be positive");
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
  // Per-thread work buffers (reused across calls; no allocation once sizes are stable).
  struct Work {
    Vector<S> pt;   // patches or patch gradients of one chunk (rows x K)
    Vector<S> o;    // products or output gradients of one chunk (rows x C_out)
    Vector<S> buf;  // sparse path: a (position x channel) block; wide col2im: a padded input map
    Vector<S> acc;  // partial weight and bias gradients (K x C_out, then C_out)
  };
  static void grow(Vector<S>& v, Index n) {
    if (v.size() < n) v.resize(n);
  }
  // rows of one column in the compact layout, or in the wide layout (stride 1: each output row
  // padded to the padded input width, so col2im adds one long contiguous run per tap)
  Index wide_width() const noexcept { return in_.width + 2 * cfg_.padding; }
  double chunk_cost(Index chunk) const noexcept {
    return 2.0 * double(chunk) * double(out_h_ * out_w_) * double(patch_size()) * double(out_);
  }

  // The im2col products over all columns of `in`; the bias is added when `bias`.
  void dense_forward(const TimeSeries<S>& in, TimeSeries<S>& out, bool bias) {
    // one parallel region over chunks of columns; each thread has its own patch buffers and
    // runs single-threaded products (Eigen does not nest inside an OpenMP team)
    const Index N = in.columns(), chunk = chunk_columns(N), chunks = (N + chunk - 1) / chunk;
    detail::parallel_ranges(chunks, chunk_cost(chunk), [&](Index a, Index e) {
      Work& wk = work_[std::size_t(detail::thread_index())];
      for (Index q = a; q < e; ++q) forward_chunk(in, out, q * chunk, std::min(chunk, N - q * chunk), wk, bias);
    });
  }

  // dW (and db, when `bias`) when `weights`, dL/dX when grad_in is given, chunk by chunk.
  void chunked_backward(const TimeSeries<S>& in, const TimeSeries<S>& grad_out, TimeSeries<S>* grad_in, bool weights,
                        bool bias) {
    if (!weights && !grad_in) return;
    const Index N = in.columns();
    if (grad_in) grad_in->resize_zero(input_size(), in.batch(), in.steps());
    const Index chunk = chunk_columns(N), chunks = (N + chunk - 1) / chunk, K = patch_size(), C = out_;
    const int threads = std::max(1, num_threads());
    if (weights)
      for (int t = 0; t < threads; ++t) work_[std::size_t(t)].acc.setZero(C * K + C);
    detail::parallel_ranges(chunks, chunk_cost(chunk), [&](Index a, Index e) {
      Work& wk = work_[std::size_t(detail::thread_index())];
      for (Index q = a; q < e; ++q)
        backward_chunk(in, grad_out, grad_in, q * chunk, std::min(chunk, N - q * chunk), weights, bias, wk);
    });
    if (weights)
      for (int t = 0; t < threads; ++t) {
        const S* acc = work_[std::size_t(t)].acc.data();
        gw_ += Eigen::Map<const Matrix<S>>(acc, C, K);
        if (cfg_.bias && bias) gb_.col(0) += Eigen::Map<const Vector<S>>(acc + C * K, C);
      }
  }

  // A static input X_t = a_t X_0: Z = conv(X_0) once, Y_t = a_t Z + b.
  void static_forward(const TimeSeries<S>& in, TimeSeries<S>& out) {
    const Index B = in.batch(), T = in.steps(), Fo = output_size(), P = out_h_ * out_w_;
    base_.resize(input_size(), B, 1);
    base_.values() = Eigen::Map<const Matrix<S>>(static_->base, input_size(), B);
    z_.resize(Fo, B, 1);
    dense_forward(base_, z_, static_->unit);
    if (static_->unit) {
      for (Index t = 0; t < T; ++t) out.slot(t) = z_.values();
      return;
    }
    for (Index t = 0; t < T; ++t) {
      auto yt = out.slot(t);
      yt = static_->factor(t) * z_.values();
      if (cfg_.bias)
        for (Index c = 0; c < out_; ++c) yt.middleRows(c * P, P).array() += b_(c, 0);
    }
  }

  // dW += sum_t a_t G_t (x) X_0 (one pass over G, then the products of batch columns); db from G.
  void static_weight_grad(const TimeSeries<S>& in, const TimeSeries<S>& grad_out) {
    const Index B = in.batch(), T = in.steps(), Fo = output_size(), P = out_h_ * out_w_;
    base_.resize(input_size(), B, 1);
    base_.values() = Eigen::Map<const Matrix<S>>(static_->base, input_size(), B);
    gsum_.resize(Fo, B, 1);
    gsum_.values() = static_->factor(0) * grad_out.slot(0);
    for (Index t = 1; t < T; ++t) gsum_.values() += static_->factor(t) * grad_out.slot(t);
    chunked_backward(base_, gsum_, nullptr, true, false);
    if (cfg_.bias) {
      const Vector<S> rows = grad_out.values().rowwise().sum();
      for (Index c = 0; c < out_; ++c) gb_(c, 0) += rows.segment(c * P, P).sum();
    }
  }

  void forward_chunk(const TimeSeries<S>& in, TimeSeries<S>& out, Index n0, Index nc, Work& wk, bool bias) const {
    const Index P = out_h_ * out_w_, K = patch_size(), C = out_, rows = nc * P, F = input_size();
    grow(wk.pt, rows * K);
    grow(wk.o, rows * C);
    const S* x = in.data();
    for (Index n = 0; n < nc; ++n)
      detail::im2col_column(x + (n0 + n) * F, in_, cfg_.kernel, cfg_.stride, cfg_.padding, out_h_, out_w_,
                            wk.pt.data(), rows, n * P);
    Eigen::Map<const Matrix<S>> pt(wk.pt.data(), rows, K);
    Eigen::Map<Matrix<S>> o(wk.o.data(), rows, C);
    o.noalias() = pt * w_.transpose();
    // (n, p) x c  ->  column n, feature c*P + p (contiguous copies), plus the bias
    S* y = out.data();
    const S* od = wk.o.data();
    for (Index n = 0; n < nc; ++n)
      for (Index c = 0; c < C; ++c) {
        const S* src = od + c * rows + n * P;
        S* d = y + (n0 + n) * C * P + c * P;
        const S bc = cfg_.bias && bias ? b_(c, 0) : S(0);
        for (Index p = 0; p < P; ++p) d[p] = src[p] + bc;
      }
  }

  // dL/dY of columns [n0, n0+nc) into `dst` as ((n, oy, ox) x c), rows padded to `width`.
  void gather_grad(const S* g, Index n0, Index nc, Index width, S* dst) const {
    const Index C = out_, P = out_h_ * out_w_, Ho = out_h_, Wo = out_w_, Pr = Ho * width, rows = nc * Pr;
    for (Index n = 0; n < nc; ++n)
      for (Index c = 0; c < C; ++c) {
        const S* src = g + (n0 + n) * C * P + c * P;
        S* d = dst + c * rows + n * Pr;
        if (width == Wo) {
          std::copy(src, src + P, d);
          continue;
        }
        for (Index oy = 0; oy < Ho; ++oy) {
          std::copy(src + oy * Wo, src + (oy + 1) * Wo, d + oy * width);
          std::fill(d + oy * width + Wo, d + (oy + 1) * width, S(0));
        }
      }
  }

  void backward_chunk(const TimeSeries<S>& in, const TimeSeries<S>& grad_out, TimeSeries<S>* grad_in, Index n0,
                      Index nc, bool weights, bool bias, Work& wk) const {
    const Index P = out_h_ * out_w_, K = patch_size(), C = out_, F = input_size(), k = cfg_.kernel,
                s = cfg_.stride, pad = cfg_.padding, Ho = out_h_, Wo = out_w_;
    const S* g = grad_out.data();
    const bool wide = s == 1;
    const Index width = wide ? std::max(Wo, wide_width()) : Wo;
    grow(wk.pt, nc * Ho * width * K);
    grow(wk.o, nc * Ho * width * C);
    if (weights) {  // dW += G^T P, db += column sums of G (compact rows)
      const Index rows = nc * P;
      gather_grad(g, n0, nc, Wo, wk.o.data());
      const S* x = in.data();
      for (Index n = 0; n < nc; ++n)
        detail::im2col_column(x + (n0 + n) * F, in_, k, s, pad, Ho, Wo, wk.pt.data(), rows, n * P);
      Eigen::Map<const Matrix<S>> gt(wk.o.data(), rows, C);
      Eigen::Map<const Matrix<S>> pt(wk.pt.data(), rows, K);
      Eigen::Map<Matrix<S>> acc(wk.acc.data(), C, K);
      acc.noalias() += gt.transpose() * pt;
      if (cfg_.bias && bias) Eigen::Map<Vector<S>>(wk.acc.data() + C * K, C) += gt.colwise().sum().transpose();
    }
    if (!grad_in) return;
    // dL/dX: one product for the patch gradients, then col2im
    const Index rows = nc * Ho * width;
    if (wide || !weights) gather_grad(g, n0, nc, width, wk.o.data());
    Eigen::Map<const Matrix<S>> gt(wk.o.data(), rows, C);
    Eigen::Map<Matrix<S>> dpt(wk.pt.data(), rows, K);
    dpt.noalias() = gt * w_;  // (wide rows with ox >= Wo are exactly zero)
    const S* dp = wk.pt.data();
    S* gi = grad_in->data();
    if (!wide) {
      for (Index n = 0; n < nc; ++n) detail::col2im_column(dp, rows, n * P, in_, k, s, pad, Ho, Wo, gi + (n0 + n) * F);
      return;
    }
    const Index H = in_.height, W = in_.width, Hp = H + 2 * pad, Wp = width, Pw = Ho * Wp, L = (Ho - 1) * Wp + Wo,
                Cin = in_.channels;
    if (pad > 0) grow(wk.buf, Cin * Hp * Wp);
    for (Index n = 0; n < nc; ++n) {
      S* map = pad > 0 ? wk.buf.data() : gi + (n0 + n) * F;  // the (padded) input map of column n
      if (pad > 0) std::fill(map, map + Cin * Hp * Wp, S(0));
      for (Index c = 0; c < Cin; ++c)
        for (Index i = 0; i < k; ++i)
          for (Index j = 0; j < k; ++j) {
            const S* src = dp + ((c * k + i) * k + j) * rows + n * Pw;
            S* dst = map + (c * Hp + i) * Wp + j;
            for (Index q = 0; q < L; ++q) dst[q] += src[q];
          }
      if (pad > 0) {
        S* o = gi + (n0 + n) * F;
        for (Index c = 0; c < Cin; ++c)
          for (Index y = 0; y < H; ++y) {
            const S* row = map + (c * Hp + y + pad) * Wp + pad;
            std::copy(row, row + W, o + (c * H + y) * W);
          }
      }
    }
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
    return (out_ + lanes - 1) / lanes * lanes;
  }
  void reserve_threads() {
    const std::size_t T = std::size_t(std::max(1, num_threads()));
    if (work_.size() < T) work_.resize(T);
  }

  // f(c, p, t, v) for every nonzero input (c, y, x) of column n of the sparse index (value v, 1
  // for binary spikes) and every output position p it reaches through kernel tap t.
  template <class F>
  void for_each_reach(Index n, F&& f) const {
    const Index k = cfg_.kernel, s = cfg_.stride, pad = cfg_.padding;
    const bool bin = sp_.binary();
    for (std::int64_t e = sp_.start[n]; e < sp_.start[n + 1]; ++e) {
      Index ci, yy, xx;
      decode(sp_.row[e], ci, yy, xx);
      const S v = bin ? S(1) : sp_.value[e];
      detail::for_each_tap(yy, xx, k, s, pad, out_h_, out_w_, [&](Index p, Index t) { f(ci, p, t, v); });
    }
  }
  // dst[0, Cp) += v src (binary spikes: v = 1, no multiply).
  static void add_scaled(S* dst, const S* src, S v, bool bin, Index Cp) noexcept {
    if (bin)
      for (Index c = 0; c < Cp; ++c) dst[c] += src[c];
    else
      for (Index c = 0; c < Cp; ++c) dst[c] += v * src[c];
  }

  // Y from the nonzero inputs only: each active (c, y, x) adds W[:, c, i, j] to the outputs it
  // reaches, accumulated per column in a (position x channel) buffer, then transposed out.
  void forward_sparse(const TimeSeries<S>& in, TimeSeries<S>& out) {
    sp_.build(in.values());
    reserve_threads();
    const Index N = in.columns(), P = out_h_ * out_w_, C = out_, Cp = padded_channels(), K = patch_size(),
                Fo = output_size(), kk = cfg_.kernel * cfg_.kernel;
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
      Vector<S>& buf = work_[std::size_t(detail::thread_index())].buf;
      grow(buf, P * Cp);
      S* o = buf.data();
      for (Index n = n0; n < n1; ++n) {
        std::fill(o, o + P * Cp, S(0));
        for_each_reach(n, [&](Index ci, Index p, Index t, S v) {
          add_scaled(o + p * Cp, wt + (ci * kk + t) * Cp, v, bin, Cp);
        });
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
    const Index N = sp_.cols, P = out_h_ * out_w_, C = out_, Cp = padded_channels(), K = patch_size(),
                Fo = output_size(), kk = cfg_.kernel * cfg_.kernel;
    const bool bin = sp_.binary();
    const S* g = grad_out.data();
    const int T = std::max(1, num_threads());
    for (int t = 0; t < T; ++t) work_[std::size_t(t)].acc.setZero(K * Cp + C);  // K x Cp weights, then C biases
    const double per_col = double(P * Cp) + double(sp_.row.size()) / double(std::max<Index>(N, 1)) * double(kk * Cp);
    detail::parallel_ranges(N, per_col, [&](Index n0, Index n1) {
      Work& wk = work_[std::size_t(detail::thread_index())];
      grow(wk.buf, P * Cp);
      S* gb = wk.buf.data();
      S* acc = wk.acc.data();
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
        for_each_reach(n, [&](Index ci, Index p, Index t, S v) {
          add_scaled(acc + (ci * kk + t) * Cp, gb + p * Cp, v, bin, Cp);
        });
      }
    });
    for (int t = 0; t < T; ++t) {
      Eigen::Map<const Matrix<S>> a(work_[std::size_t(t)].acc.data(), Cp, K);
      gw_ += a.topRows(C);
      if (cfg_.bias) gb_.col(0) += Eigen::Map<const Vector<S>>(work_[std::size_t(t)].acc.data() + K * Cp, C);
    }
  }

  // columns per chunk: the patch matrix stays below chunk_elements_, and every thread gets work
  Index chunk_columns(Index N) const {
    const Index per = out_h_ * out_w_ * std::max(patch_size(), out_);
    const Index by_size = std::max<Index>(1, chunk_elements_ / std::max<Index>(per, 1));
    const Index threads = std::max(1, num_threads());
    return std::max<Index>(1, std::min(by_size, (N + threads - 1) / threads));
  }

  Index out_h_ = 0, out_w_ = 0;
  Index chunk_elements_ = Index(1) << 18;
  std::vector<Work> work_;  // one per thread
  // sparse path
  detail::SparseColumns<S> sp_;
  Vector<S> wpad_;                        // weights, tap-major with Cp channels per tap
  bool sparse_ = false;
  // static path (the last forward's input was static; static_ points into it)
  std::optional<StaticSteps<S>> static_;
  const TimeSeries<S>* static_in_ = nullptr;
  TimeSeries<S> base_, z_, gsum_;  // X_0, conv(X_0), sum_t a_t G_t (one step each)
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::Conv2d<S>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::Conv2dConfig), 1)

#endif
