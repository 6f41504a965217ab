/**
 * @file layers/learnable_delay.hpp
 * @brief Learnable synaptic delays in the DCLS form: LearnableDelay (the training form: every
 *        connection's delay is a real position, interpolated over a bounded window with a spread
 *        annealed during training), IntegerDelay (the inference form: integer delays read from a
 *        ring buffer, streaming one step at a time), round_delays() from the one to the other, and
 *        DelaySigmaSchedule (the spread's exponential annealing per epoch).
 *
 * Connection (o, i) carries a weight W_{oi} and a delay P_{oi} in [0, D] steps (D = max_delay;
 * with `per_channel` one delay P_i per input channel, shared by all outputs). Its kernel over
 * the window d = 0..D is the interpolation of a spike at P, normalised over the window:
 * \f[ y_t = b + \sum_{d=0}^{D} K_d\, x_{t-d}, \qquad (K_d)_{oi} = W_{oi}\, n_d(P_{oi}, \sigma), \qquad
 *     n_d = \frac{g\big((d - P)/\sigma\big)}{\sum_{e=0}^{D} g\big((e - P)/\sigma\big)}, \f]
 * with g(u) = exp(-u^2/2) (DelayKernel::gaussian, the DCLS-Gauss form) or g(u) = max(0, 1 - |u|)
 * (DelayKernel::triangle, needs sigma >= 1 so that some tap is inside). As sigma -> 0 the
 * kernel becomes one tap at the nearest integer delay; sigma = 0 is that limit exactly, the
 * rounded delay \f$ \lfloor P + 1/2 \rfloor \f$ (no gradient for P then), so a network trained
 * down to sigma = 0 and its round_delays() form give the same outputs.
 *
 * Gradients: with z_d = (d - P)/sigma and g'_d the derivative of g at z_d,
 * \f[ \frac{\partial n_d}{\partial P} = \frac{\gamma^P_d - n_d \sum_e \gamma^P_e}{\sum_e g_e}, \quad
 *     \gamma^P_d = -\frac{g'_d}{\sigma}, \qquad
 *     \frac{\partial n_d}{\partial \sigma} = \frac{\gamma^\sigma_d - n_d \sum_e \gamma^\sigma_e}{\sum_e g_e}, \quad
 *     \gamma^\sigma_d = -\frac{z_d\, g'_d}{\sigma}, \f]
 * and dL/dK_d = sum over steps of G_t x_{t-d}^T, so that dL/dW_{oi} = sum_d (dL/dK_d)_{oi} n_d and
 * dL/dP_{oi} = W_{oi} sum_d (dL/dK_d)_{oi} dn_d/dP.
 *
 * Cost: the kernels K_d (out x in, D + 1 of them) are built once per forward pass; as in
 * TemporalConv, a lag of d steps is a column offset of dB in a TimeSeries, so each tap is ONE
 * matrix product over all steps (D + 1 products forward, 2 (D + 1) backward), and taps that no
 * connection uses (sigma = 0, or the triangle's zeros) are skipped. A sparse input (spikes
 * below LearnableDelayConfig::sparse_density) is scattered instead: each nonzero adds its
 * kernel column to the D + 1 steps it reaches, forward and for dL/dK. Memory: K and dL/dK,
 * 2 (D + 1) out in scalars.
 *
 * Trainable blocks: "weight", "position" and, with `train_sigma`, "sigma" (and "bias"). The
 * stored position is p = P / D in [0, 1] (projected there after each update, as DCLS clamps
 * its positions): an optimizer's step then moves delays in proportion to the window (Adam with
 * learning rate eta moves a delay by about eta D steps per update), which DCLS obtains by a
 * separate, larger learning rate for the positions. The paper does not train sigma: it anneals
 * it by a schedule (set_sigma(), DelaySigmaSchedule), from about D/3 down to a small value over
 * the first half of training, then rounds the positions.
 *
 * @code
 * @inproceedings{hammouamri2024learning, title={Learning Delays in Spiking Neural Networks using Dilated
 *   Convolutions with Learnable Spacings}, author={Hammouamri, Ilyass and Khalfaoui-Hassani, Ismail and
 *   Masquelier, Timoth{\'e}e}, booktitle={ICLR}, year={2024}}
 * @inproceedings{khalfaoui2023dilated, title={Dilated Convolution with Learnable Spacings},
 *   author={Khalfaoui-Hassani, Ismail and Pellegrini, Thomas and Masquelier, Timoth{\'e}e}, booktitle={ICLR}, year={2023}}
 * @endcode
 */
#ifndef SPIKELAB_LAYERS_LEARNABLE_DELAY_HPP
#define SPIKELAB_LAYERS_LEARNABLE_DELAY_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/product.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/serialization.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/layers/layer_base.hpp>
#include <spikelab/layers/weighted_layer.hpp>

#include <cereal/cereal.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace spikelab {

/// The interpolation g of a delay over the window (see LearnableDelay).
enum class DelayKernel : std::uint8_t { gaussian, triangle };

/// Integer delays, one per connection (out x in) or per input channel (1 x in).
using DelayMatrix = Eigen::Matrix<std::int32_t, Eigen::Dynamic, Eigen::Dynamic>;

/// Hyperparameters of a LearnableDelay layer: the window, the kernel g and its spread, per-channel
/// delays, bias, initialisation and the sparse-path threshold.
struct LearnableDelayConfig {
  Index max_delay = 25;  ///< D: delays lie in [0, D] steps (the window has D + 1 taps)
  DelayKernel kernel = DelayKernel::gaussian;  ///< the interpolation g of a delay over the window
  double sigma = 8.0;        ///< initial spread (steps); 0: rounded delays
  bool per_channel = false;  ///< one delay per input channel, shared by all outputs
  bool train_sigma = false;  ///< expose sigma as a trainable block (the paper anneals it instead)
  bool bias = false;  ///< with a bias per output
  Init init = Init::uniform_fan_in;  ///< weights, fan_in = in
  double init_scale = 1.0;  ///< a factor on the initial weights
  /// Inputs with fewer than this fraction of nonzero values (spikes) take the sparse path
  /// (the same numbers up to rounding); 0: always the dense products.
  double sparse_density = 0.1;
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("max_delay", std::int64_t(max_delay)), CEREAL_NVP(kernel), CEREAL_NVP(sigma),
       CEREAL_NVP(per_channel), CEREAL_NVP(train_sigma), CEREAL_NVP(bias), CEREAL_NVP(init), CEREAL_NVP(init_scale),
       CEREAL_NVP(sparse_density));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t) {
    std::int64_t d = 0;
    ar(cereal::make_nvp("max_delay", d), CEREAL_NVP(kernel), CEREAL_NVP(sigma), CEREAL_NVP(per_channel),
       CEREAL_NVP(train_sigma), CEREAL_NVP(bias), CEREAL_NVP(init), CEREAL_NVP(init_scale), CEREAL_NVP(sparse_density));
    max_delay = d;
  }
};

namespace detail {

/// The kernel of one connection over the window: n_d and, when asked, dn_d/dP and dn_d/dsigma
/// (see LearnableDelay). sigma = 0 gives the one-hot kernel at the rounded delay, without
/// derivatives. Taps outside [lo, hi) have n_d = 0 (and zero derivatives).
struct DelayInterpolation {
  std::vector<double> n, dp, ds;
  Index lo = 0, hi = 0;

  static Index rounded(double p, Index max_delay) {
    return std::clamp<Index>(Index(std::floor(p + 0.5)), 0, max_delay);
  }

  void compute(double p, double sigma, Index max_delay, DelayKernel kernel, bool derivatives) {
    const std::size_t taps = std::size_t(max_delay + 1);
    n.assign(taps, 0.0);
    if (derivatives) {
      dp.assign(taps, 0.0);
      ds.assign(taps, 0.0);
    }
    if (sigma <= 0) {
      lo = rounded(p, max_delay);
      hi = lo + 1;
      n[std::size_t(lo)] = 1.0;
      return;
    }
    // Gaussian: g relative to its largest tap (the common factor cancels in n_d and its
    // derivatives), so a small sigma never divides 0 by 0; triangle: only |z| < 1 is nonzero.
    double shift = 0;
    if (kernel == DelayKernel::gaussian) {
      const double z0 = (double(rounded(p, max_delay)) - p) / sigma;
      shift = 0.5 * z0 * z0;
      lo = 0;
      hi = max_delay + 1;
    } else {
      lo = std::clamp<Index>(Index(std::floor(p - sigma)), 0, max_delay);
      hi = std::clamp<Index>(Index(std::ceil(p + sigma)) + 1, 0, max_delay + 1);
    }
    double sum = 0, sum_p = 0, sum_s = 0;
    for (Index d = lo; d < hi; ++d) {
      const double z = (double(d) - p) / sigma;
      double g = 0, gd = 0;  // g(z), g'(z)
      if (kernel == DelayKernel::gaussian) {
        g = std::exp(shift - 0.5 * z * z);
        gd = -z * g;
      } else if (std::abs(z) < 1) {
        g = 1 - std::abs(z);
        gd = z > 0 ? -1.0 : 1.0;
      }
      const std::size_t k = std::size_t(d);
      n[k] = g;
      sum += g;
      if (derivatives) {
        dp[k] = -gd / sigma;      // dg/dP
        ds[k] = -z * gd / sigma;  // dg/dsigma
        sum_p += dp[k];
        sum_s += ds[k];
      }
    }
    for (Index d = lo; d < hi; ++d) {
      const std::size_t k = std::size_t(d);
      n[k] /= sum;
      if (derivatives) {
        dp[k] = (dp[k] - n[k] * sum_p) / sum;
        ds[k] = (ds[k] - n[k] * sum_s) / sum;
      }
    }
  }
};

/// The products of a delay layer with its kernels K = [K_0 ... K_D] (out x (D+1) in): dense, one
/// matrix product per used tap over all steps; or, for a sparse input (spikes), a scatter of
/// each nonzero input into the steps it reaches, which costs nnz (D+1) out instead of
/// in (D+1) out per column. Keeps the input's nonzero index between forward and backward.
template <Scalar S>
class DelayProducts {
 public:
  /// y += sum_d K_d x_{t-d}, over the taps marked used; the sparse path when fewer than
  /// `sparse_density` of the input's values are nonzero.
  void forward(const Matrix<S>& kernels, const std::vector<char>& used, Index in, const TimeSeries<S>& x,
               Matrix<S>& y, double sparse_density) {
    const Index B = x.batch(), T = x.steps();
    sparse_ = sparse_density > 0 && index(x, sparse_density);
    if (sparse_) {
      // tap by tap, so that one tap's kernel (out x in) stays in cache while the input streams by
      for (Index d = 0; d < Index(used.size()) && d < T; ++d) {
        if (!used[std::size_t(d)]) continue;
        const Index n = (T - d) * B;
        for (Index c = 0; c < n; ++c)
          for (std::int64_t k = start_[std::size_t(c)]; k < start_[std::size_t(c) + 1]; ++k)
            y.col(c + d * B) += value_[std::size_t(k)] * kernels.col(d * in + row_[std::size_t(k)]);
      }
      return;
    }
    for (std::size_t d = 0; d < used.size(); ++d) {
      const Index lag = Index(d);
      if (!used[d] || lag >= T) continue;
      const Index n = (T - lag) * B;
      auto dst = y.middleCols(lag * B, n);
      parallel_product(dst, kernels.middleCols(lag * in, in), x.values().leftCols(n), true);
    }
  }

  /// The adjoint: dL/dK_d = sum_t G_t x_{t-d}^T into grad_kernels (set; used taps only) and,
  /// when grad_in is given, dL/dx = sum_d K_d^T G_{t+d}.
  void backward(const Matrix<S>& kernels, const std::vector<char>& used, Index in, const TimeSeries<S>& x,
                const Matrix<S>& g, Matrix<S>& grad_kernels, TimeSeries<S>* grad_in) {
    const Index B = x.batch(), T = x.steps();
    grad_kernels.setZero(kernels.rows(), kernels.cols());
    if (grad_in) grad_in->resize_zero(in, B, T);
    const bool sparse = sparse_ && cols_ == x.columns() && rows_ == x.features();
    for (std::size_t d = 0; d < used.size(); ++d) {
      const Index lag = Index(d);
      if (!used[d] || lag >= T) continue;
      const Index n = (T - lag) * B;
      if (!sparse) {
        auto gk = grad_kernels.middleCols(lag * in, in);
        parallel_product(gk, g.middleCols(lag * B, n), x.values().leftCols(n).transpose());
      }
      if (grad_in) {
        auto gi = grad_in->values().leftCols(n);
        parallel_product(gi, kernels.middleCols(lag * in, in).transpose(), g.middleCols(lag * B, n), true);
      }
    }
    if (!sparse) return;
    for (Index d = 0; d < Index(used.size()) && d < T; ++d) {
      if (!used[std::size_t(d)]) continue;
      const Index n = (T - d) * B;
      for (Index c = 0; c < n; ++c)
        for (std::int64_t k = start_[std::size_t(c)]; k < start_[std::size_t(c) + 1]; ++k)
          grad_kernels.col(d * in + row_[std::size_t(k)]) += value_[std::size_t(k)] * g.col(c + d * B);
    }
  }

  /// True when the last forward pass took the sparse path.
  bool used_sparse() const noexcept { return sparse_; }

 private:
  // the nonzeros of x by column; false (and no index) once more than `density` of x is nonzero
  bool index(const TimeSeries<S>& x, double density) {
    const Matrix<S>& v = x.values();
    const std::int64_t limit = std::int64_t(density * double(v.size()));
    start_.assign(std::size_t(v.cols()) + 1, 0);
    row_.clear();
    value_.clear();
    for (Index c = 0; c < v.cols(); ++c) {
      const S* p = v.data() + c * v.rows();
      for (Index r = 0; r < v.rows(); ++r)
        if (p[r] != S(0)) {
          row_.push_back(std::int32_t(r));
          value_.push_back(p[r]);
        }
      if (std::int64_t(row_.size()) > limit) return false;
      start_[std::size_t(c) + 1] = std::int64_t(row_.size());
    }
    rows_ = v.rows();
    cols_ = v.cols();
    return true;
  }

  bool sparse_ = false;
  Index rows_ = 0, cols_ = 0;
  std::vector<std::int64_t> start_;
  std::vector<std::int32_t> row_;
  std::vector<S> value_;
};

}  // namespace detail

template <Scalar S>
class IntegerDelay;

/**
 * The training form of learnable synaptic delays (DCLS; Hammouamri, Khalfaoui-Hassani &
 * Masquelier, ICLR 2024): y_t = b + sum_{d=0}^{D} K_d x_{t-d}, (K_d)_{oi} = W_{oi} n_d(P_{oi}, sigma),
 * the interpolated kernel of the file comment. A synapse layer: put it where a Linear would go,
 * before any neuron model. round_delays() gives the inference form.
 */
template <Scalar S>
class LearnableDelay : public detail::WeightedLayer<LearnableDelay<S>, S, LearnableDelayConfig> {
 public:
  static constexpr const char* out_key = "out";  ///< the name of the output size in a checkpoint

  LearnableDelay() = default;
  /// Weights by the configuration's init; positions uniform over the window (DCLS's
  /// initialisation); sigma from the configuration.
  LearnableDelay(Index in, Index out, Rng& rng, LearnableDelayConfig cfg = {})
      : LearnableDelay::WeightedLayer(in, out, cfg) {
    this->allocate(rng);
    draw_positions(rng);
  }

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "LearnableDelay"; }
  /// Inputs per output: the weights' fan-in.
  Index fan_in() const noexcept { return in_; }
  /// D: the largest delay in steps.
  Index max_delay() const noexcept { return cfg_.max_delay; }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const {
    return "LearnableDelay(" + std::to_string(in_) + "," + std::to_string(out_) + ",D" + std::to_string(cfg_.max_delay) +
           (cfg_.kernel == DelayKernel::gaussian ? ",gauss" : ",triangle") + (cfg_.per_channel ? ",per_channel" : "") +
           (cfg_.train_sigma ? ",train_sigma" : "") + (cfg_.bias ? ",bias" : "") + ")";
  }

  /// The stored positions p = P / D in [0, 1]: out x in, or 1 x in per channel.
  Matrix<S>& position() noexcept { return pos_; }
  /// The stored positions p = P / D (read-only).
  const Matrix<S>& position() const noexcept { return pos_; }
  /// dL/dp for the stored positions (same shape as position()).
  Matrix<S>& position_grad() noexcept { return gpos_; }
  /// The delay of connection (o, i) in steps, P = D p clamped to [0, D].
  double delay(Index o, Index i) const {
    return std::clamp(double(pos_(cfg_.per_channel ? 0 : o, i)), 0.0, 1.0) * double(cfg_.max_delay);
  }
  /// The current spread (steps).
  double sigma() const noexcept { return double(sigma_(0, 0)); }
  /// Sets the spread: the annealing hook a trainer calls per epoch (DelaySigmaSchedule). 0 gives
  /// rounded delays; the triangle needs sigma = 0 or sigma >= 1.
  void set_sigma(double sigma) {
    check_sigma(sigma);
    sigma_(0, 0) = S(sigma);
  }
  /// dL/dsigma, accumulated by backward().
  S& sigma_grad() noexcept { return gsigma_(0, 0); }

  /// The dense kernels [K_0 ... K_D] (out x (D+1) in) of the last forward pass.
  const Matrix<S>& kernels() const noexcept { return kernels_; }
  /// The input density below which the sparse path is taken (0: never).
  void set_sparse_density(double d) { cfg_.sparse_density = d; }
  /// True when the last forward pass took the sparse path.
  bool used_sparse() const noexcept { return products_.used_sparse(); }

  /// Draws W and b anew (the configuration's init), the positions uniformly over the window,
  /// and zeroes the gradients (sigma is left as it is).
  void reset_parameters(Rng& rng) {
    LearnableDelay::WeightedLayer::reset_parameters(rng);
    draw_positions(rng);
    zero_grad();
  }

  /// Calls f with each trainable block: weight, bias (if any), position (projected to [0, 1]) and,
  /// with train_sigma, sigma.
  template <class F>
  void for_each_parameter(F&& f) {
    LearnableDelay::WeightedLayer::for_each_parameter(f);
    f(ParamRef<S>{"position", ParamGroup::other, pos_, gpos_, S(0), S(1)});
    if (cfg_.train_sigma)
      f(ParamRef<S>{"sigma", ParamGroup::other, sigma_, gsigma_, S(cfg_.kernel == DelayKernel::triangle ? 1.0 : 1e-3)});
  }
  /// Sets every gradient to zero.
  void zero_grad() {
    LearnableDelay::WeightedLayer::zero_grad();
    gpos_.setZero(pos_.rows(), pos_.cols());
    gsigma_.setZero(1, 1);
  }

  /// All T steps of `in` to `out` (see Layer): builds the kernels K_d from W, P and sigma, then one
  /// product per tap over all steps.
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    this->require_input(in);
    out.resize(out_, in.batch(), in.steps());
    Matrix<S>& y = out.values();
    if (cfg_.bias)
      y.colwise() = b_.col(0);
    else
      y.setZero();
    build_kernels();
    products_.forward(kernels_, used_, in_, in, y, cfg_.sparse_density);
  }

  /// Writes dL/d(in) to *grad_in (when not null) from dL/d(out) = grad_out and adds the gradients
  /// of W, P (and sigma) through the kernels (see Layer).
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    this->require_gradient(in, out, grad_out);
    if (gw_.rows() != w_.rows() || gw_.cols() != w_.cols() || gpos_.size() != pos_.size()) zero_grad();
    const Matrix<S>& g = grad_out.values();
    if (cfg_.bias) gb_.col(0) += g.rowwise().sum();
    products_.backward(kernels_, used_, in_, in, g, gkernels_, grad_in);
    // chain dL/dK_d into W, P and sigma, connection by connection; input by input, so that the
    // D + 1 columns of dL/dK that input i owns are read whole into `cols` (tap d at d out)
    const Index D = cfg_.max_delay;
    const double sig = sigma();
    double gs = 0;
    detail::DelayInterpolation ip;
    cols_.resize(std::size_t((D + 1) * out_));
    for (Index i = 0; i < in_; ++i) {
      for (Index d = 0; d <= D; ++d)
        if (used_[std::size_t(d)])
          for (Index o = 0; o < out_; ++o) cols_[std::size_t(d * out_ + o)] = double(gkernels_(o, d * in_ + i));
      for (Index o = 0; o < out_; ++o) {
        const Index r = cfg_.per_channel ? 0 : o;
        ip.compute(delay(o, i), sig, D, cfg_.kernel, true);
        double gw = 0, gp = 0, gsig = 0;
        for (Index d = ip.lo; d < ip.hi; ++d) {
          const std::size_t k = std::size_t(d);
          if (ip.n[k] == 0) continue;  // (an unused tap's column was not read)
          const double gk = cols_[std::size_t(d * out_ + o)];
          gw += gk * ip.n[k];
          gp += gk * ip.dp[k];
          gsig += gk * ip.ds[k];
        }
        const double w = double(w_(o, i));
        gw_(o, i) += S(gw);
        // dP/dp = D; also at the window's edges, so that a position projected onto an edge
        // can move back inside
        gpos_(r, i) += S(w * gp * double(D));
        gs += w * gsig;
      }
    }
    gsigma_(0, 0) += S(gs);
  }

  /// The inference form: the same weights and bias, each delay rounded to floor(P + 1/2).
  IntegerDelay<S> round_delays() const;

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t version) const {
    LearnableDelay::WeightedLayer::save(ar, version);
    ar(cereal::make_nvp("position", pos_), cereal::make_nvp("sigma", sigma_));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    LearnableDelay::WeightedLayer::load(ar, version);
    ar(cereal::make_nvp("position", pos_), cereal::make_nvp("sigma", sigma_));
    if (pos_.rows() != (cfg_.per_channel ? 1 : out_) || pos_.cols() != in_ || sigma_.rows() != 1 || sigma_.cols() != 1)
      throw cereal::Exception(signature() + ": stored positions or sigma do not match the stored sizes");
    this->require_valid([this] { check_sigma(sigma()); });
    zero_grad();
  }

 private:
  // The base reaches the members below; doxygen cannot resolve this friend, so it skips it.
  /// @cond
  friend typename LearnableDelay::WeightedLayer;
  /// @endcond
  using LearnableDelay::WeightedLayer::in_, LearnableDelay::WeightedLayer::out_, LearnableDelay::WeightedLayer::cfg_;
  using LearnableDelay::WeightedLayer::w_, LearnableDelay::WeightedLayer::b_, LearnableDelay::WeightedLayer::gw_,
      LearnableDelay::WeightedLayer::gb_;

  void validate() {
    if (in_ <= 0 || out_ <= 0)
      throw ConfigError("LearnableDelay(" + std::to_string(in_) + "," + std::to_string(out_) + "): sizes must be positive");
    if (cfg_.max_delay < 0 || cfg_.max_delay > 100000)
      throw ConfigError("LearnableDelay(" + std::to_string(in_) + "," + std::to_string(out_) + "): max_delay " +
                        std::to_string(cfg_.max_delay) + " must lie in [0, 100000] steps");
    if (cfg_.init_scale < 0 || !std::isfinite(cfg_.init_scale))
      throw ConfigError(signature() + ": init_scale must be finite and >= 0");
    check_sigma(cfg_.sigma);
    pos_.setZero(cfg_.per_channel ? 1 : out_, in_);
    sigma_.setConstant(1, 1, S(cfg_.sigma));
  }
  void check_sigma(double s) const {
    if (!(s >= 0) || !std::isfinite(s))
      throw ConfigError(signature() + ": sigma must be finite and >= 0 (got " + std::to_string(s) + ")");
    if (cfg_.kernel == DelayKernel::triangle && s > 0 && s < 1)
      throw ConfigError(signature() + ": the triangle kernel needs sigma = 0 or sigma >= 1 (got " + std::to_string(s) +
                        "), or no tap may lie inside it");
  }

  void draw_positions(Rng& rng) {
    for (Index k = 0; k < pos_.size(); ++k) pos_.data()[k] = S(rng.uniform(0.0, 1.0));
  }

  // K_d = W .* n_d, input by input: the interpolations of input i's connections first (tap d at
  // d out in `cols_`), then each of its D + 1 kernel columns written whole
  void build_kernels() {
    const Index D = cfg_.max_delay;
    kernels_.resize(out_, (D + 1) * in_);
    used_.assign(std::size_t(D + 1), 0);
    cols_.resize(std::size_t((D + 1) * out_));
    detail::DelayInterpolation ip;
    for (Index i = 0; i < in_; ++i) {
      std::fill(cols_.begin(), cols_.end(), 0.0);
      for (Index o = 0; o < out_; ++o) {
        ip.compute(delay(o, i), sigma(), D, cfg_.kernel, false);
        for (Index d = ip.lo; d < ip.hi; ++d) {
          const double n = ip.n[std::size_t(d)];
          if (n == 0) continue;
          used_[std::size_t(d)] = 1;
          cols_[std::size_t(d * out_ + o)] = n;
        }
      }
      for (Index d = 0; d <= D; ++d) {
        const Eigen::Map<const Vector<double>> n(cols_.data() + d * out_, out_);
        kernels_.col(d * in_ + i) = w_.col(i).cwiseProduct(n.cast<S>());
      }
    }
  }

  Matrix<S> pos_, gpos_;
  Matrix<S> sigma_ = Matrix<S>::Zero(1, 1), gsigma_ = Matrix<S>::Zero(1, 1);
  Matrix<S> kernels_, gkernels_;
  std::vector<char> used_;
  std::vector<double> cols_;  // one input's interpolations or kernel gradients, tap by tap
  detail::DelayProducts<S> products_;
};

/**
 * The inference form of learnable delays (Hammouamri et al., ICLR 2024, after rounding the
 * positions): y_t = b + sum_i W_{oi} x_{t - D_{oi}, i} with integer delays D_{oi} in [0, max_delay]
 * (one per connection, or one per input channel). No kernel: forward() over a whole series
 * groups the connections by delay (one product per delay that occurs), and the streaming step
 * keeps the last max_delay + 1 input steps in a ring buffer (State), so that
 * Sequential::forward_step runs it one step at a time with the same outputs as forward().
 * Trainable blocks: "weight" (and "bias"); the delays are fixed.
 */
template <Scalar S>
class IntegerDelay : public detail::LayerBase<IntegerDelay<S>, S> {
 public:
  IntegerDelay() = default;
  /// weight: out x in; delays: out x in, or 1 x in (per input channel), in [0, max_delay];
  /// bias: out x 1, or empty for none.
  IntegerDelay(Matrix<S> weight, DelayMatrix delays, Index max_delay, Matrix<S> bias = {})
      : w_(std::move(weight)), b_(std::move(bias)), delays_(std::move(delays)), max_delay_(max_delay) {
    validate();
    zero_grad();
  }

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "IntegerDelay"; }
  /// Inputs per step.
  Index input_size() const noexcept { return w_.cols(); }
  /// Outputs per step.
  Index output_size() const noexcept { return w_.rows(); }
  /// D: the largest delay in steps (the ring buffer holds D + 1 steps).
  Index max_delay() const noexcept { return max_delay_; }
  /// Whether there is one delay per input channel rather than per connection.
  bool per_channel() const noexcept { return delays_.rows() == 1 && w_.rows() != 1; }
  /// Whether the layer adds a bias.
  bool has_bias() const noexcept { return b_.size() > 0; }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const {
    return "IntegerDelay(" + std::to_string(w_.cols()) + "," + std::to_string(w_.rows()) + ",D" +
           std::to_string(max_delay_) + (per_channel() ? ",per_channel" : "") + (has_bias() ? ",bias" : "") + ")";
  }
  /// The weights W (out x in).
  Matrix<S>& weight() noexcept { return w_; }
  /// The weights W (out x in).
  const Matrix<S>& weight() const noexcept { return w_; }
  /// The bias (out x 1, or empty).
  const Matrix<S>& bias() const noexcept { return b_; }
  /// The integer delays: out x in, or 1 x in per channel.
  const DelayMatrix& delays() const noexcept { return delays_; }
  /// The delay of connection (o, i) in steps.
  Index delay(Index o, Index i) const { return delays_(delays_.rows() == 1 ? 0 : o, i); }
  /// The input density below which forward() takes the sparse path (0: never; default 0.1).
  void set_sparse_density(double d) { sparse_density_ = d; }
  /// Whether the last forward() took the sparse path.
  bool used_sparse() const noexcept { return products_.used_sparse(); }

  /// Calls f with each trainable block: weight and bias (if any); the delays are fixed.
  template <class F>
  void for_each_parameter(F&& f) {
    f(ParamRef<S>{"weight", ParamGroup::weight, w_, gw_});
    if (has_bias()) f(ParamRef<S>{"bias", ParamGroup::bias, b_, gb_});
  }
  /// Sets every gradient to zero.
  void zero_grad() {
    gw_.setZero(w_.rows(), w_.cols());
    gb_.setZero(b_.rows(), b_.cols());
  }

  /// All T steps of `in` to `out` (see Layer): one product per delay value over all steps.
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    this->require_input(in);
    out.resize(output_size(), in.batch(), in.steps());
    Matrix<S>& y = out.values();
    if (has_bias())
      y.colwise() = b_.col(0);
    else
      y.setZero();
    build_kernels();
    products_.forward(kernels_, used_, input_size(), in, y, sparse_density_);
  }
  /// Writes dL/d(in) to *grad_in (when not null) from dL/d(out) = grad_out and adds the weight and
  /// bias gradients (see Layer).
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    this->require_gradient(in, out, grad_out);
    if (gw_.rows() != w_.rows() || gw_.cols() != w_.cols()) zero_grad();
    const Matrix<S>& g = grad_out.values();
    if (has_bias()) gb_.col(0) += g.rowwise().sum();
    products_.backward(kernels_, used_, input_size(), in, g, gkernels_, grad_in);
    const Index n_in = input_size();
    for (Index i = 0; i < n_in; ++i)
      for (Index o = 0; o < output_size(); ++o) gw_(o, i) += gkernels_(o, delay(o, i) * n_in + i);
  }

  /// Streaming state: the last max_delay + 1 input steps (a ring buffer; column k * in + i
  /// holds input i of the step in slot k over the batch), the next slot, and the output.
  struct State {
    Matrix<S> ring;  ///< batch x ((max_delay + 1) in)
    Index head = 0;  ///< slot of the step being written
    Matrix<S> y;  ///< out x batch
  };
  /// A zero state for `batch` samples: empty history.
  State make_state(Index batch) const {
    return {Matrix<S>::Zero(batch, (max_delay_ + 1) * input_size()), 0, Matrix<S>::Zero(output_size(), batch)};
  }
  /// Advances `st` by one step with input x (in x batch): y = b + sum_{o,i} W_oi x_{t - D_oi, i}.
  void step(State& st, const ConstMatrixRef<S>& x) const {
    const Index n_in = input_size(), B = st.y.cols(), slots = max_delay_ + 1;
    if (x.rows() != n_in || x.cols() != B || st.ring.rows() != B || st.ring.cols() != slots * n_in)
      throw ShapeError(signature() + "::step: input " + std::to_string(x.rows()) + "x" + std::to_string(x.cols()) +
                       " does not match the state (make it with make_state(batch))");
    st.ring.middleCols(st.head * n_in, n_in) = x.transpose();
    yt_.setZero(B, output_size());
    for (Index o = 0; o < output_size(); ++o)
      for (Index i = 0; i < n_in; ++i) {
        const S w = w_(o, i);
        if (w == S(0)) continue;
        const Index slot = (st.head - delay(o, i) + slots) % slots;
        yt_.col(o) += w * st.ring.col(slot * n_in + i);
      }
    st.y = yt_.transpose();
    if (has_bias()) st.y.colwise() += b_.col(0);
    st.head = (st.head + 1) % slots;
  }
  /// The output of the last step() (out x batch).
  const Matrix<S>& output(const State& st) const noexcept { return st.y; }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("max_delay", std::int64_t(max_delay_)), cereal::make_nvp("weight", w_),
       cereal::make_nvp("bias", b_), cereal::make_nvp("delays", delays_));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    this->require_version(version);
    std::int64_t d = 0;
    ar(cereal::make_nvp("max_delay", d), cereal::make_nvp("weight", w_), cereal::make_nvp("bias", b_),
       cereal::make_nvp("delays", delays_));
    max_delay_ = Index(d);
    this->require_valid([this] { validate(); });
    zero_grad();
  }

 private:
  void validate() const {
    const std::string me = "IntegerDelay(" + std::to_string(w_.cols()) + "," + std::to_string(w_.rows()) + ")";
    if (w_.rows() <= 0 || w_.cols() <= 0) throw ConfigError(me + ": the weight matrix is empty");
    if (max_delay_ < 0 || max_delay_ > 100000)
      throw ConfigError(me + ": max_delay " + std::to_string(max_delay_) + " must lie in [0, 100000] steps");
    if (delays_.cols() != w_.cols() || (delays_.rows() != w_.rows() && delays_.rows() != 1))
      throw ConfigError(me + ": delays are " + std::to_string(delays_.rows()) + "x" + std::to_string(delays_.cols()) +
                        ", expected out x in or 1 x in");
    if (delays_.size() > 0 && (delays_.minCoeff() < 0 || delays_.maxCoeff() > max_delay_))
      throw ConfigError(me + ": delays must lie in [0, " + std::to_string(max_delay_) + "]");
    if (b_.size() != 0 && (b_.rows() != w_.rows() || b_.cols() != 1))
      throw ConfigError(me + ": bias must be out x 1 or empty");
  }
  void build_kernels() {
    const Index n_in = input_size();
    kernels_.setZero(output_size(), (max_delay_ + 1) * n_in);
    used_.assign(std::size_t(max_delay_ + 1), 0);
    for (Index i = 0; i < n_in; ++i)
      for (Index o = 0; o < output_size(); ++o) {
        const Index d = delay(o, i);
        kernels_(o, d * n_in + i) = w_(o, i);
        used_[std::size_t(d)] = 1;
      }
  }

  Matrix<S> w_, b_, gw_, gb_;
  DelayMatrix delays_;
  Index max_delay_ = 0;
  Matrix<S> kernels_, gkernels_;
  std::vector<char> used_;
  detail::DelayProducts<S> products_;
  double sparse_density_ = 0.1;
  mutable Matrix<S> yt_;  // step(): the output transposed (batch x out), reused
};

template <Scalar S>
IntegerDelay<S> LearnableDelay<S>::round_delays() const {
  DelayMatrix d(pos_.rows(), pos_.cols());
  for (Index i = 0; i < in_; ++i)
    for (Index r = 0; r < pos_.rows(); ++r)
      d(r, i) = std::int32_t(detail::DelayInterpolation::rounded(delay(r, i), cfg_.max_delay));
  return IntegerDelay<S>(w_, std::move(d), cfg_.max_delay, cfg_.bias ? b_ : Matrix<S>());
}

/**
 * The spread's annealing (Hammouamri et al., ICLR 2024): exponential from `initial` to `target`
 * over the first `anneal_epochs` epochs, then `after` (0: rounded delays, the positions frozen
 * and the weights fine-tuned with the inference form's kernel):
 * \f[ \sigma_e = \sigma_0 (\sigma_f / \sigma_0)^{(e - 1) / (E_a - 1)}, \quad 1 \le e \le E_a; \qquad
 *     \sigma_e = \sigma_{after}, \quad e > E_a \f]
 * (e 1-based, as TrainInfo::epoch). Call it from a callback's on_epoch_begin and give the value
 * to every LearnableDelay's set_sigma().
 */
struct DelaySigmaSchedule {
  double initial = 8.0;  ///< sigma_0: the spread at epoch 1 (steps)
  double target = 0.5;  ///< sigma_f: the spread at epoch E_a (steps)
  int anneal_epochs = 10;  ///< E_a: the epochs over which the spread falls
  double after = 0.0;  ///< sigma_after: the spread after E_a (0: rounded delays)
  /// The spread for epoch `epoch` (1-based); throws ConfigError on an invalid schedule.
  double value(int epoch) const {
    if (!(initial > 0) || !(target > 0) || anneal_epochs < 1 || !(after >= 0))
      throw ConfigError("DelaySigmaSchedule: initial and target must be positive, after >= 0 and anneal_epochs >= 1");
    if (epoch > anneal_epochs) return after;
    if (anneal_epochs == 1) return initial;
    const double f = double(std::max(epoch, 1) - 1) / double(anneal_epochs - 1);
    return initial * std::pow(target / initial, f);
  }
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::LearnableDelay<S>), 1)
SPIKELAB_CLASS_VERSION((class S), (spikelab::IntegerDelay<S>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::LearnableDelayConfig), 1)

#endif
