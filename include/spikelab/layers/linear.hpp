/**
 * @file layers/linear.hpp
 * @brief Linear: the dense feed-forward synapse y_t = W x_t + b, for all T steps at once.
 *
 * \f[ Y = W X + b\,\mathbf{1}^\top, \qquad \partial L/\partial W = G X^\top, \qquad
 *     \partial L/\partial X = W^\top G \f]
 * where X (in x batch*T) holds every step, so the forward projection and the weight gradient
 * are each ONE matrix product over all steps. When X is sparse (binary spikes at low density,
 * estimated on a sample of columns), both are computed from a compressed column index
 * instead: only active inputs touch the weights. The sparse and dense paths give the same
 * numbers up to float rounding.
 */
#ifndef SPIKELAB_LAYERS_LINEAR_HPP
#define SPIKELAB_LAYERS_LINEAR_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/product.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/serialization.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/layers/weighted_layer.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#if defined(__AVX__) || defined(__AVX512F__)
#include <immintrin.h>
#endif

namespace spikelab {

/// How the layer chooses between the dense product and the sparse accumulation.
enum class SparseMode : std::uint8_t { automatic, always, never };

/// Hyperparameters of a Linear layer: bias, initialisation, and when the sparse path is taken.
struct LinearConfig {
  bool bias = true;  ///< with a bias per output
  Init init = Init::uniform_fan_in;  ///< the initialisation of the weights
  double init_scale = 1.0;  ///< a factor on the initial weights
  SparseMode sparse = SparseMode::automatic;  ///< dense product, sparse accumulation, or chosen from the input density
  /// Automatic mode uses the sparse path when the estimated input density is below this,
  /// scaled by min(1, outputs / 64) (the dense product is cheap for few outputs). Break-even
  /// densities measured while tuning (1 thread, forward + weight gradient, SparseMode::always vs never):
  /// 2312->512 0.32, 700->256 0.45, 256->256 0.5, 256->20 0.13.
  double sparse_density = 0.25;
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(bias), CEREAL_NVP(init), CEREAL_NVP(init_scale), CEREAL_NVP(sparse), CEREAL_NVP(sparse_density));
  }
};

namespace detail {

/// Bit k of the result is set when p[k] != 0, for k < count <= 16 (one SIMD compare per 8 or
/// 16 values where available); *nonbinary is set if some nonzero differs from 1.
template <Scalar S>
inline std::uint32_t nonzero_mask16(const S* p, int count, bool* nonbinary) noexcept {
#if defined(__AVX512F__)
  if constexpr (std::same_as<S, float>) {
    const __mmask16 lm = count >= 16 ? __mmask16(0xFFFF) : __mmask16((1u << count) - 1u);
    const __m512 v = _mm512_maskz_loadu_ps(lm, p);
    const __mmask16 nz = _mm512_mask_cmp_ps_mask(lm, v, _mm512_setzero_ps(), _CMP_NEQ_UQ);
    if (_mm512_mask_cmp_ps_mask(nz, v, _mm512_set1_ps(1.0f), _CMP_NEQ_UQ)) *nonbinary = true;
    return nz;
  }
#elif defined(__AVX__)
  if constexpr (std::same_as<S, float>) {
    if (count >= 16) {
      const __m256 a = _mm256_loadu_ps(p), b = _mm256_loadu_ps(p + 8), z = _mm256_setzero_ps(), o = _mm256_set1_ps(1.0f);
      const std::uint32_t nz = std::uint32_t(_mm256_movemask_ps(_mm256_cmp_ps(a, z, _CMP_NEQ_UQ))) |
                               (std::uint32_t(_mm256_movemask_ps(_mm256_cmp_ps(b, z, _CMP_NEQ_UQ))) << 8);
      const std::uint32_t n1 = std::uint32_t(_mm256_movemask_ps(_mm256_cmp_ps(a, o, _CMP_NEQ_UQ))) |
                               (std::uint32_t(_mm256_movemask_ps(_mm256_cmp_ps(b, o, _CMP_NEQ_UQ))) << 8);
      if (nz & n1) *nonbinary = true;
      return nz;
    }
  }
#endif
  std::uint32_t m = 0;
  for (int k = 0; k < count; ++k) {
    const bool nz = p[k] != S(0);
    m |= std::uint32_t(nz) << k;
    if (nz && p[k] != S(1)) *nonbinary = true;
  }
  return m;
}

/// Compressed-column index of the nonzeros of a matrix (rows as int32; values only when
/// some nonzero differs from 1). Built in one vectorised pass over the matrix, in parallel
/// over column ranges; the buffers are kept between calls.
template <Scalar S>
struct SparseColumns {
  std::vector<std::int64_t> start;  // size cols+1
  std::vector<std::int32_t> row;    // size nnz (capacity kept between builds)
  std::vector<S> value;             // empty when binary
  Index rows = 0, cols = 0;
  bool binary() const noexcept { return value.empty(); }
  std::int64_t nnz() const noexcept { return start.empty() ? 0 : start.back(); }

  /// Fraction of nonzeros in up to `samples` evenly spaced columns.
  static double estimate_density(const Matrix<S>& x, Index samples = 64) {
    const Index C = x.cols(), R = x.rows();
    if (C == 0 || R == 0) return 0.0;
    const Index k = std::min(C, samples);
    Index nz = 0;
    for (Index j = 0; j < k; ++j) {
      const Index c = (C * j) / k;
      const S* p = x.data() + c * R;
      for (Index r = 0; r < R; ++r) nz += (p[r] != S(0));
    }
    return double(nz) / double(k * R);
  }

  void build(const Matrix<S>& x, double density_hint = 0.1) {
    if (x.rows() > Index(std::numeric_limits<std::int32_t>::max()))
      throw ShapeError("sparse index: more than 2^31 rows");
    rows = x.rows();
    cols = x.cols();
    start.resize(static_cast<std::size_t>(cols) + 1);
    const int chunks = max_chunks();
    if (extra_.size() < std::size_t(chunks)) extra_.resize(std::size_t(chunks));
    chunk_end_.assign(std::size_t(chunks) + 1, 0);
    chunk_cols_.assign(std::size_t(chunks) + 1, 0);
    nonbinary_.assign(std::size_t(chunks), 0);
    const S* d = x.data();
    const Index R = rows;
    parallel_chunks(cols, double(rows) * 0.25, [&](int k, Index c0, Index c1) {
      std::vector<std::int32_t>& buf = k == 0 ? row : extra_[std::size_t(k)];
      const std::size_t want = std::size_t(double(R) * double(c1 - c0) * std::min(1.0, density_hint * 1.25 + 0.01)) +
                               std::size_t(R) + 16;
      if (buf.size() < want) buf.resize(want);
      std::int64_t n = 0;
      bool nonbin = false;
      for (Index c = c0; c < c1; ++c) {
        // room for a whole column, plus one SIMD register written past the end
        if (buf.size() < std::size_t(n + R + 16)) buf.resize(std::max(buf.size() * 2, std::size_t(n + R + 16)));
        std::int32_t* out = buf.data();
        const S* p = d + c * R;
        start[std::size_t(c)] = n;
        for (Index r = 0; r < R; r += 16) {
          std::uint32_t m = nonzero_mask16(p + r, int(std::min<Index>(16, R - r)), &nonbin);
#if defined(__AVX512F__)
          // branch-free: the positions of the set bits, packed to the front of one register, stored whole
          const __m512i pos = _mm512_add_epi32(_mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
                                               _mm512_set1_epi32(std::int32_t(r)));
          _mm512_storeu_si512(out + n, _mm512_maskz_compress_epi32(__mmask16(m), pos));
          n += std::popcount(m);
#else
          while (m) {
            out[n++] = std::int32_t(r + std::countr_zero(m));
            m &= m - 1;
          }
#endif
        }
      }
      chunk_end_[std::size_t(k) + 1] = n;
      chunk_cols_[std::size_t(k) + 1] = c1;
      nonbinary_[std::size_t(k)] = nonbin;
    });
    // concatenate the chunks' entries after chunk 0's (which are already in `row`)
    std::int64_t total = chunk_end_[1];
    bool bin = !nonbinary_[0];
    for (int k = 1; k < chunks && chunk_cols_[std::size_t(k) + 1] > 0; ++k) {
      const std::int64_t n = chunk_end_[std::size_t(k) + 1];
      if (row.size() < std::size_t(total + n)) row.resize(std::size_t(total + n));
      std::copy_n(extra_[std::size_t(k)].data(), n, row.data() + total);
      for (Index c = chunk_cols_[std::size_t(k)]; c < chunk_cols_[std::size_t(k) + 1]; ++c) start[std::size_t(c)] += total;
      total += n;
      bin = bin && !nonbinary_[std::size_t(k)];
    }
    start[std::size_t(cols)] = total;
    row.resize(std::size_t(total));  // keeps its capacity for the next build
    value.clear();
    if (!bin) {
      value.resize(std::size_t(total));
      for (Index c = 0; c < cols; ++c)
        for (std::int64_t k = start[std::size_t(c)]; k < start[std::size_t(c) + 1]; ++k)
          value[std::size_t(k)] = d[c * R + row[std::size_t(k)]];
    }
  }

 private:
  std::vector<std::vector<std::int32_t>> extra_;  // entries of chunks 1, 2, ... before concatenation
  std::vector<std::int64_t> chunk_end_;
  std::vector<Index> chunk_cols_;
  std::vector<char> nonbinary_;
};

/// Kernels of the sparse path: y(:, c) = init + sum_k v_k W(:, j_k) over the nonzeros (j_k, v_k)
/// of column c, accumulated in registers one tile of rows at a time (Eigen packets).
template <Scalar S>
struct SparseKernels {
  using P = typename Eigen::internal::packet_traits<S>::type;
  static constexpr int PS = Eigen::internal::unpacket_traits<P>::size;
#ifdef SPIKELAB_SPARSE_NP
  static constexpr int NP = SPIKELAB_SPARSE_NP;
#else
  static constexpr int NP = 4;  // packets per tile (two sets of accumulators in registers)
#endif
  static constexpr Index TILE = NP * PS;

  /// out[0, len) = init (or 0) + sum over entries of val * W(r0 + ., j); `w` = W.data() + r0.
  template <bool Binary>
  static void gather(const S* w, Index ldw, const std::int32_t* idx, const S* val, std::int64_t k0, std::int64_t k1,
                     const S* init, S* out, Index len) {
    using namespace Eigen::internal;
    Index r = 0;
    for (; r + TILE <= len; r += TILE) {
      P a[NP], b[NP];
      for (int q = 0; q < NP; ++q) {
        a[q] = init ? ploadu<P>(init + r + q * PS) : pset1<P>(S(0));
        b[q] = pset1<P>(S(0));
      }
      std::int64_t k = k0;
      for (; k + 1 < k1; k += 2) {  // two independent accumulator sets hide the add latency
        const S* w0 = w + Index(idx[k]) * ldw + r;
        const S* w1 = w + Index(idx[k + 1]) * ldw + r;
        if constexpr (Binary) {
          for (int q = 0; q < NP; ++q) a[q] = padd(a[q], ploadu<P>(w0 + q * PS));
          for (int q = 0; q < NP; ++q) b[q] = padd(b[q], ploadu<P>(w1 + q * PS));
        } else {
          const P v0 = pset1<P>(val[k]), v1 = pset1<P>(val[k + 1]);
          for (int q = 0; q < NP; ++q) a[q] = pmadd(v0, ploadu<P>(w0 + q * PS), a[q]);
          for (int q = 0; q < NP; ++q) b[q] = pmadd(v1, ploadu<P>(w1 + q * PS), b[q]);
        }
      }
      if (k < k1) {
        const S* w0 = w + Index(idx[k]) * ldw + r;
        if constexpr (Binary) {
          for (int q = 0; q < NP; ++q) a[q] = padd(a[q], ploadu<P>(w0 + q * PS));
        } else {
          const P v0 = pset1<P>(val[k]);
          for (int q = 0; q < NP; ++q) a[q] = pmadd(v0, ploadu<P>(w0 + q * PS), a[q]);
        }
      }
      for (int q = 0; q < NP; ++q) pstoreu(out + r + q * PS, padd(a[q], b[q]));
    }
    for (; r + PS <= len; r += PS) {
      P a = init ? ploadu<P>(init + r) : pset1<P>(S(0));
      for (std::int64_t k = k0; k < k1; ++k) {
        const S* w0 = w + Index(idx[k]) * ldw + r;
        if constexpr (Binary)
          a = padd(a, ploadu<P>(w0));
        else
          a = pmadd(pset1<P>(val[k]), ploadu<P>(w0), a);
      }
      pstoreu(out + r, a);
    }
    for (; r < len; ++r) {
      S a = init ? init[r] : S(0);
      for (std::int64_t k = k0; k < k1; ++k) a += (Binary ? S(1) : val[k]) * w[Index(idx[k]) * ldw + r];
      out[r] = a;
    }
  }

  /// Rows of one register tile of scatter (no dependency chain: four packets suffice).
#ifdef SPIKELAB_SPARSE_NPS
  static constexpr int NPS = SPIKELAB_SPARSE_NPS;
#else
  static constexpr int NPS = 4;
#endif
  static constexpr Index TILE_S = NPS * PS;

  /// W(r0 + ., j) += val * g[0, len) for every entry (j, val); `w` = W.data() + r0.
  template <bool Binary>
  static void scatter(S* w, Index ldw, const std::int32_t* idx, const S* val, std::int64_t k0, std::int64_t k1,
                      const S* g, Index len) {
    using namespace Eigen::internal;
    Index r = 0;
    for (; r + TILE_S <= len; r += TILE_S) {
      P gt[NPS];
      for (int q = 0; q < NPS; ++q) gt[q] = ploadu<P>(g + r + q * PS);
      for (std::int64_t k = k0; k < k1; ++k) {
        S* w0 = w + Index(idx[k]) * ldw + r;
        if constexpr (Binary) {
          for (int q = 0; q < NPS; ++q) pstoreu(w0 + q * PS, padd(ploadu<P>(w0 + q * PS), gt[q]));
        } else {
          const P v = pset1<P>(val[k]);
          for (int q = 0; q < NPS; ++q) pstoreu(w0 + q * PS, pmadd(v, gt[q], ploadu<P>(w0 + q * PS)));
        }
      }
    }
    for (; r + PS <= len; r += PS) {
      const P gt = ploadu<P>(g + r);
      for (std::int64_t k = k0; k < k1; ++k) {
        S* w0 = w + Index(idx[k]) * ldw + r;
        if constexpr (Binary)
          pstoreu(w0, padd(ploadu<P>(w0), gt));
        else
          pstoreu(w0, pmadd(pset1<P>(val[k]), gt, ploadu<P>(w0)));
      }
    }
    for (; r < len; ++r)
      for (std::int64_t k = k0; k < k1; ++k) w[Index(idx[k]) * ldw + r] += (Binary ? S(1) : val[k]) * g[r];
  }

  /// Rows per block such that a block of W (rows x in) stays in about `bytes` of cache; a
  /// multiple of TILE (or all rows).
#ifndef SPIKELAB_SPARSE_BLOCK_KB
#define SPIKELAB_SPARSE_BLOCK_KB 512
#endif
  static Index block_rows(Index out, Index in, Index tile = TILE, Index bytes = Index(SPIKELAB_SPARSE_BLOCK_KB) * 1024) {
    const Index r = std::max<Index>(tile, (bytes / (Index(sizeof(S)) * std::max<Index>(in, 1))) / tile * tile);
    return std::min(out, r);
  }
};

}  // namespace detail

/// The dense feed-forward synapse for all T steps at once, \f$ Y = W X + b\,\mathbf{1}^\top \f$,
/// \f$ \partial L/\partial W = G X^\top \f$, \f$ \partial L/\partial X = W^\top G \f$: one matrix
/// product over every step, or a sparse accumulation over the active inputs of spike input
/// (gradient-based learning of SNNs: Neftci, Mostafa & Zenke, IEEE Signal Processing Magazine 2019).
/// @tparam S the scalar type (float or double)
template <Scalar S>
class Linear : public detail::WeightedLayer<Linear<S>, S, LinearConfig> {
 public:
  static constexpr const char* out_key = "out";  ///< the name of the output size in a checkpoint

  Linear() = default;
  /// A dense layer from `in` to `out` features.
  /// @param in the number of input features
  /// @param out the number of output features
  /// @param rng draws the initial weights
  /// @param cfg bias, initialisation and the sparse path
  Linear(Index in, Index out, Rng& rng, LinearConfig cfg = {}) : Linear::WeightedLayer(in, out, cfg) {
    this->allocate(rng);
  }

  /// Each output column depends on the same input column only (Sequential::forward_step
  /// runs the layer one step at a time).
  static constexpr bool per_column = true;
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Linear"; }
  /// Inputs one output sums (the columns of the weight matrix).
  Index fan_in() const noexcept { return in_; }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const {
    return "Linear(" + std::to_string(in_) + "," + std::to_string(out_) + (cfg_.bias ? ",bias" : "") + ")";
  }
  using Linear::WeightedLayer::config;
  /// The run-time configuration.
  LinearConfig& config() noexcept { return cfg_; }

  /// True when the last forward pass used the sparse path.
  bool used_sparse() const noexcept { return sparse_; }

  /// All T steps of `in` to `out` (see Layer); with ctx.training the layer keeps what backward() needs.
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    this->require_input(in);
    out.resize(out_, in.batch(), in.steps());
    const Matrix<S>& x = in.values();
    Matrix<S>& y = out.values();
    static_ = in.static_steps();
    static_in_ = &in;
    if (static_) {
      sparse_ = false;
      static_forward(in, out);
      return;
    }
    sparse_ = choose_sparse(x);
    if (sparse_) {
      sp_.build(x, density_);
      sparse_forward(y);
    } else {
      parallel_product(y, w_, x);
      if (cfg_.bias) y.colwise() += b_.col(0);
    }
  }

  /// Writes dL/d(in) to *grad_in (when not null) from dL/d(out) = grad_out and adds the parameter gradients (see Layer).
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    this->require_gradient(in, out, grad_out);
    const Matrix<S>& g = grad_out.values();
    if (gw_.rows() != out_ || gw_.cols() != in_) this->zero_grad();
    if (static_ && &in != static_in_) static_ = in.static_steps();  // (static_ points into the forward's input)
    if (static_) {
      static_weight_grad(in, grad_out);
    } else if (sparse_ && sp_.cols == in.columns() && sp_.rows == in_) {
      sparse_weight_grad(g);
    } else {
      parallel_product(gw_, g, in.values().transpose(), true);
    }
    if (cfg_.bias) gb_.col(0) += g.rowwise().sum();
    if (grad_in) {
      grad_in->resize(in_, in.batch(), in.steps());
      parallel_product(grad_in->values(), w_.transpose(), g);
    }
  }

  /// True when the last forward pass found a static input (every step a multiple of one block,
  /// TimeSeries::static_steps) and projected that block once.
  bool used_static() const noexcept { return static_.has_value(); }

 private:
  // The base reaches the members below; doxygen cannot resolve this friend, so it skips it.
  /// @cond
  friend typename Linear::WeightedLayer;
  /// @endcond
  using Linear::WeightedLayer::in_, Linear::WeightedLayer::out_, Linear::WeightedLayer::cfg_;
  using Linear::WeightedLayer::w_, Linear::WeightedLayer::b_, Linear::WeightedLayer::gw_, Linear::WeightedLayer::gb_;

  void validate() const {
    if (in_ <= 0 || out_ <= 0) throw ConfigError("Linear: sizes must be positive");
  }
  bool choose_sparse(const Matrix<S>& x) {
    switch (cfg_.sparse) {
      case SparseMode::always: density_ = 0.1; return true;
      case SparseMode::never: return false;
      case SparseMode::automatic: break;
    }
    density_ = detail::SparseColumns<S>::estimate_density(x);
    return density_ < cfg_.sparse_density * std::min(1.0, double(out_) / 64.0);
  }

  // A static input X_t = a_t X_0: Z = W X_0 once, Y_t = a_t Z + b.
  void static_forward(const TimeSeries<S>& in, TimeSeries<S>& out) {
    const Index B = in.batch(), T = in.steps();
    const Eigen::Map<const Matrix<S>> base(static_->base, in_, B);
    z_.resize(out_, B);
    parallel_product(z_, w_, base);
    if (static_->unit) {
      if (cfg_.bias) z_.colwise() += b_.col(0);
      for (Index t = 0; t < T; ++t) out.slot(t) = z_;
      return;
    }
    for (Index t = 0; t < T; ++t) {
      if (cfg_.bias)
        out.slot(t) = (static_->factor(t) * z_).colwise() + b_.col(0);
      else
        out.slot(t) = static_->factor(t) * z_;
    }
  }

  // dW += (sum_t a_t G_t) X_0^T: one pass over G, then one product of batch columns.
  void static_weight_grad(const TimeSeries<S>& in, const TimeSeries<S>& grad_out) {
    const Index B = in.batch(), T = in.steps();
    gsum_ = static_->factor(0) * grad_out.slot(0);
    for (Index t = 1; t < T; ++t) gsum_ += static_->factor(t) * grad_out.slot(t);
    const Eigen::Map<const Matrix<S>> base(static_->base, in_, B);
    parallel_product(gw_, gsum_, base.transpose(), true);
  }

  // Rows of W in one block of the sparse kernels: a multiple of the register tile such that the
  // packed block (rows x in, contiguous) stays in about half of a core's L2 cache.
  Index sparse_block(Index tile) const {
    using K = detail::SparseKernels<S>;
    return K::block_rows(out_, in_, tile);
  }
  // W in row blocks, each block (len x in) contiguous, so that the columns the kernels pick at
  // random from a block lie in few pages (a block of W itself spans all in columns of stride out).
  const S* packed_weights(Index block) {
    if (block >= out_) return w_.data();
    wpack_.resize(out_ * in_);
    S* dst = wpack_.data();
    detail::parallel_ranges(in_, double(out_), [&](Index j0, Index j1) {
      for (Index r0 = 0; r0 < out_; r0 += block) {
        const Index len = std::min(block, out_ - r0);
        S* bd = dst + r0 * in_;
        for (Index j = j0; j < j1; ++j) std::copy_n(w_.data() + j * out_ + r0, len, bd + j * len);
      }
    });
    return wpack_.data();
  }

  // y = W X + b from the column index of X: columns in parallel, rows in packed blocks of W that
  // stay in cache.
  void sparse_forward(Matrix<S>& y) {
    using K = detail::SparseKernels<S>;
    const Index C = sp_.cols, block = sparse_block(K::TILE);
    const bool bin = sp_.binary();
    const S* w = packed_weights(block);
    const S* bias = cfg_.bias ? b_.data() : nullptr;
    const std::int32_t* idx = sp_.row.data();
    const S* val = bin ? nullptr : sp_.value.data();
    const double per_col = double(out_) * (1.0 + double(sp_.nnz()) / double(std::max<Index>(C, 1)));
    detail::parallel_ranges(C, per_col, [&](Index c0, Index c1) {
      for (Index r0 = 0; r0 < out_; r0 += block) {
        const Index len = std::min(block, out_ - r0);
        const S* wb = w + r0 * in_;  // the block: len x in, leading dimension len
        for (Index c = c0; c < c1; ++c) {
          const std::int64_t k0 = sp_.start[std::size_t(c)], k1 = sp_.start[std::size_t(c) + 1];
          S* yc = y.data() + c * out_ + r0;
          const S* init = bias ? bias + r0 : nullptr;
          if (bin)
            K::template gather<true>(wb, len, idx, val, k0, k1, init, yc, len);
          else
            K::template gather<false>(wb, len, idx, val, k0, k1, init, yc, len);
        }
      }
    });
  }

  // dW += G X^T from the column index of X: each thread owns a range of rows of dW, accumulated
  // block by block in a packed per-thread buffer (len x in, contiguous), then added to dW; a
  // single block of all rows is dW's own layout and is accumulated in place.
  void sparse_weight_grad(const Matrix<S>& g) {
    using K = detail::SparseKernels<S>;
    const Index C = sp_.cols, tiles = (out_ + K::TILE_S - 1) / K::TILE_S;
    const bool bin = sp_.binary();
    const std::int32_t* idx = sp_.row.data();
    const S* val = bin ? nullptr : sp_.value.data();
    const int chunks = detail::max_chunks();
    if (int(gpack_.size()) < chunks) gpack_.resize(std::size_t(chunks));
    detail::parallel_chunks(
        tiles, double(sp_.nnz()) * double(K::TILE_S) / double(std::max<Index>(tiles, 1)) + 1.0,
        [&](int chunk, Index t0, Index t1) {
          const Index r0 = t0 * K::TILE_S, r1 = std::min(out_, t1 * K::TILE_S), len = r1 - r0;
          if (len <= 0) return;
          const Index block = K::block_rows(len, in_, K::TILE_S);
          // When one block holds every row of dW, the packed buffer would have dW's own layout:
          // accumulate in place and skip zeroing a buffer and adding it back.
          const bool in_place = len == out_ && block >= len;
          Matrix<S>& buf = gpack_[std::size_t(chunk)];
          if (!in_place) buf.resize(block, in_);
          for (Index b0 = r0; b0 < r1; b0 += block) {
            const Index bl = std::min(block, r1 - b0);
            S* gb = in_place ? gw_.data() : buf.data();  // bl x in, leading dimension bl (= out in place)
            if (!in_place) std::fill_n(gb, bl * in_, S(0));
            for (Index c = 0; c < C; ++c) {
              const std::int64_t k0 = sp_.start[std::size_t(c)], k1 = sp_.start[std::size_t(c) + 1];
              if (k0 == k1) continue;
              const S* gc = g.data() + c * out_ + b0;
              if (bin)
                K::template scatter<true>(gb, bl, idx, val, k0, k1, gc, bl);
              else
                K::template scatter<false>(gb, bl, idx, val, k0, k1, gc, bl);
            }
            if (in_place) continue;
            for (Index j = 0; j < in_; ++j) {
              S* dst = gw_.data() + j * out_ + b0;
              const S* src = gb + j * bl;
              for (Index r = 0; r < bl; ++r) dst[r] += src[r];
            }
          }
        });
  }

  detail::SparseColumns<S> sp_;
  double density_ = 0.0;  // estimated input density of the last forward
  bool sparse_ = false;
  std::optional<StaticSteps<S>> static_;  // the last forward's input was static (points into it)
  const TimeSeries<S>* static_in_ = nullptr;  // that input
  Matrix<S> z_, gsum_;                    // static path: W X_0, and sum_t a_t G_t
  Vector<S> wpack_;                       // sparse path: W in packed row blocks
  std::vector<Matrix<S>> gpack_;          // sparse path: per-thread packed block of dW
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::Linear<S>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::LinearConfig), 1)

#endif
