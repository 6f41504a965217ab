/**
 * @file layers/batch_norm.hpp
 * @brief BatchNorm: batch normalisation over time and batch (and space, for feature maps),
 *        with running statistics for inference and folding into the preceding Linear/Conv2d.
 *
 * For channel c, the statistics run over every value of that channel in the sequence: all
 * B*T (sample, step) columns and, for a C x H x W map, all H*W positions (M values):
 * \f[ \mu_c = \frac{1}{M}\sum x, \quad \sigma_c^2 = \frac{1}{M}\sum (x-\mu_c)^2, \quad
 *     y = \gamma_c \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c . \f]
 * Sharing the statistics over time (rather than per step, as BNTT does) keeps one scale for
 * the input current of a neuron at every step, which is what threshold-based neurons need
 * (tdBN); hSNN (Moro et al., arXiv 2024) normalises the input current of its LIF layers this way.
 * Training passes use the batch statistics and update running estimates
 * (r <- (1-m) r + m stat, unbiased variance, PyTorch's convention); evaluation uses the
 * running estimates, i.e. a fixed affine map that fold_batch_norm() moves into the weights of
 * the preceding Linear or Conv2d (W' = a W, b' = a (b - mu) + beta, a = gamma/sqrt(var+eps)),
 * after which this layer passes its input through. With `batch_statistics_in_eval`,
 * evaluation normalises with the statistics of the batch it is given, as training does (the
 * running estimates are still kept, but not used): Moro et al. 2024's hSNN code keeps no running
 * statistics. Predictions then depend on the evaluation batch, and the layer cannot be folded.
 *
 * Padded steps of ragged batches (Batch::lengths) are included in the statistics.
 *
 * @code
 * @inproceedings{ioffe2015batch, title={Batch normalization: Accelerating deep network training by reducing internal
 *   covariate shift}, author={Ioffe, Sergey and Szegedy, Christian}, booktitle={ICML}, pages={448--456}, year={2015}}
 * @inproceedings{zheng2021going, title={Going deeper with directly-trained larger spiking neural networks},
 *   author={Zheng, Hanle and Wu, Yujie and Deng, Lei and Hu, Yifan and Li, Guoqi}, booktitle={AAAI},
 *   volume={35}, number={12}, pages={11062--11070}, year={2021}}
 * @endcode
 */
#ifndef SPIKELAB_LAYERS_BATCH_NORM_HPP
#define SPIKELAB_LAYERS_BATCH_NORM_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/serialization.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/layers/conv2d.hpp>
#include <spikelab/layers/image_shape.hpp>
#include <spikelab/layers/layer_base.hpp>
#include <spikelab/layers/linear.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace spikelab {

/// Hyperparameters of a BatchNorm layer: epsilon, the running statistics' momentum, the affine
/// parameters and the statistics used in evaluation.
struct BatchNormConfig {
  double eps = 1e-5;  ///< epsilon, added to the variance
  double momentum = 0.1;  ///< weight of the new batch in the running statistics
  bool affine = true;     ///< trainable gamma (group "other") and beta (group "bias")
  double gamma = 1.0;     ///< initial gamma (e.g. a threshold-dependent scale, as tdBN uses)
  bool batch_statistics_in_eval = false;  ///< evaluation normalises with the batch's own statistics
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t version) {
    ar(CEREAL_NVP(eps), CEREAL_NVP(momentum), CEREAL_NVP(affine), CEREAL_NVP(gamma));
    if (version >= 2) ar(CEREAL_NVP(batch_statistics_in_eval));
  }
};

/// Batch normalisation of each channel over all samples, steps (and positions) of a batch,
/// \f$ y = \gamma (x - \mu_c)/\sqrt{\sigma_c^2 + \epsilon} + \beta \f$, with running statistics
/// for inference and fold_batch_norm() into the preceding Linear or Conv2d (Ioffe & Szegedy,
/// ICML 2015; over time as tdBN, Zheng et al., AAAI 2021).
/// @tparam S the scalar type (float or double)
template <Scalar S>
class BatchNorm : public detail::LayerBase<BatchNorm<S>, S> {
 public:
  BatchNorm() = default;
  /// Normalises each of `features` features separately (after a Linear layer).
  /// @param features the number of features
  /// @param cfg epsilon, momentum, the affine parameters and the evaluation statistics
  explicit BatchNorm(Index features, BatchNormConfig cfg = {}) : c_(features), p_(1), cfg_(cfg) { init(); }
  /// Normalises each channel of a C x H x W map over all its positions (after a Conv2d).
  /// @param shape the feature map's shape
  /// @param cfg epsilon, momentum, the affine parameters and the evaluation statistics
  explicit BatchNorm(ImageShape shape, BatchNormConfig cfg = {}) : c_(shape.channels), p_(shape.plane()), cfg_(cfg) {
    shape.validate("BatchNorm");
    init();
  }

  /// Each output column depends on the same input column only in evaluation (Sequential::forward_step
  /// runs the layer one step at a time).
  static constexpr bool per_column = true;
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "BatchNorm"; }
  /// Features per input column.
  Index input_size() const noexcept { return c_ * p_; }
  /// Features per output column.
  Index output_size() const noexcept { return c_ * p_; }
  /// Number of normalised groups (features, or channels of a map) and positions per group.
  Index channels() const noexcept { return c_; }
  /// Positions per channel (H*W; 1 after a Linear layer).
  Index plane() const noexcept { return p_; }
  /// The run-time configuration.
  const BatchNormConfig& config() const noexcept { return cfg_; }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const {
    std::string s = "BatchNorm(";
    s += std::to_string(c_);
    if (p_ != 1) s.append("x").append(std::to_string(p_));
    if (cfg_.affine) s += ",affine";
    if (cfg_.batch_statistics_in_eval) s += ",batch_stats_in_eval";
    s += ')';
    return s;
  }

  /// The scale gamma, one per channel.
  Matrix<S>& gamma() noexcept { return gamma_; }
  /// The shift beta, one per channel.
  Matrix<S>& beta() noexcept { return beta_; }
  /// The running mean used in evaluation, one per channel.
  Matrix<S>& running_mean() noexcept { return rmean_; }
  /// The running (unbiased) variance used in evaluation, one per channel.
  Matrix<S>& running_var() noexcept { return rvar_; }
  /// The scale gamma, one per channel.
  const Matrix<S>& gamma() const noexcept { return gamma_; }
  /// The shift beta, one per channel.
  const Matrix<S>& beta() const noexcept { return beta_; }
  /// The running mean used in evaluation, one per channel.
  const Matrix<S>& running_mean() const noexcept { return rmean_; }
  /// The running (unbiased) variance used in evaluation, one per channel.
  const Matrix<S>& running_var() const noexcept { return rvar_; }
  /// True once the inference transform was moved into the preceding layer (pass-through).
  bool folded() const noexcept { return folded_; }

  /// The inference transform y = a x + c per channel (from the running statistics).
  void inference_affine(Vector<S>& a, Vector<S>& c) const {
    a.resize(c_);
    c.resize(c_);
    for (Index k = 0; k < c_; ++k) {
      const double s = double(gamma_(k, 0)) / std::sqrt(double(rvar_(k, 0)) + cfg_.eps);
      a[k] = S(s);
      c[k] = S(double(beta_(k, 0)) - s * double(rmean_(k, 0)));
    }
  }
  /// Marks the layer as folded (pass-through); use fold_batch_norm() rather than this directly.
  void mark_folded() noexcept { folded_ = true; }

  /// Calls f(`ParamRef<S>`) for every trainable parameter block, in a fixed order.
  template <class F>
  void for_each_parameter(F&& f) {
    if (!cfg_.affine) return;
    f(ParamRef<S>{"gamma", ParamGroup::other, gamma_, ggamma_});
    f(ParamRef<S>{"beta", ParamGroup::bias, beta_, gbeta_});
  }
  /// Sets every parameter gradient to zero.
  void zero_grad() {
    ggamma_.setZero(c_, 1);
    gbeta_.setZero(c_, 1);
  }
  /// Draws the parameters anew from their initialisation.
  void reset_parameters(Rng&) {
    gamma_.setConstant(c_, 1, S(cfg_.gamma));
    beta_.setZero(c_, 1);
    rmean_.setZero(c_, 1);
    rvar_.setOnes(c_, 1);
    folded_ = false;
    zero_grad();
  }

  /// All T steps of `in` to `out` (see Layer); with ctx.training the layer keeps what backward() needs.
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext& ctx) {
    this->require_input(in);
    out.resize(in.features(), in.batch(), in.steps());
    trained_ = false;
    if (folded_) {
      out.values() = in.values();
      return;
    }
    const Index N = in.columns(), C = c_, P = p_, F = C * P;
    if (ctx.training || cfg_.batch_statistics_in_eval) {
      const bool update_running = ctx.training;
      if (N * P < 2) throw ShapeError(signature() + ": batch statistics need at least 2 values per channel");
      mean_.resize(C);
      istd_.resize(C);
      const S* x = in.data();
      const double M = double(N * P);
      per_channel(N, [&](Index c0, Index c1) {
        for (Index c = c0; c < c1; ++c) acc_[c] = 0.0;
        for (Index n = 0; n < N; ++n) {
          const S* xn = x + n * F;
          for (Index c = c0; c < c1; ++c) {
            double s = 0;
            for (Index p = c * P; p < (c + 1) * P; ++p) s += double(xn[p]);
            acc_[c] += s;
          }
        }
        for (Index c = c0; c < c1; ++c) {
          mean_[c] = acc_[c] / M;
          acc_[c] = 0.0;
        }
        for (Index n = 0; n < N; ++n) {
          const S* xn = x + n * F;
          for (Index c = c0; c < c1; ++c) {
            const double mu = mean_[c];
            double s = 0;
            for (Index p = c * P; p < (c + 1) * P; ++p) s += (double(xn[p]) - mu) * (double(xn[p]) - mu);
            acc_[c] += s;
          }
        }
        for (Index c = c0; c < c1; ++c) {
          const double var = acc_[c] / M;
          istd_[c] = 1.0 / std::sqrt(var + cfg_.eps);
          if (!update_running) continue;
          const double m = cfg_.momentum;
          rmean_(c, 0) = S((1 - m) * double(rmean_(c, 0)) + m * mean_[c]);
          rvar_(c, 0) = S((1 - m) * double(rvar_(c, 0)) + m * var * M / (M - 1));
        }
      });
      for (Index c = 0; c < C; ++c) {
        a_[c] = S(double(gamma_(c, 0)) * istd_[c]);
        b_[c] = S(double(beta_(c, 0)) - double(gamma_(c, 0)) * istd_[c] * mean_[c]);
      }
      trained_ = ctx.training;
    } else {
      inference_affine(a_, b_);
    }
    apply(in, out);
  }

  /// Writes dL/d(in) to *grad_in (when not null) from dL/d(out) = grad_out and adds the parameter gradients (see Layer).
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    this->require_gradient(in, out, grad_out);
    if (folded_) {
      if (grad_in) {
        grad_in->resize(in.features(), in.batch(), in.steps());
        grad_in->values() = grad_out.values();
      }
      return;
    }
    if (!trained_) throw ShapeError(signature() + "::backward needs a training forward pass");
    if (ggamma_.rows() != c_) zero_grad();
    const Index N = in.columns(), C = c_, P = p_, F = C * P;
    const double M = double(N * P);
    const S* x = in.data();
    const S* g = grad_out.data();
    if (grad_in) grad_in->resize(F, in.batch(), in.steps());
    S* gi = grad_in ? grad_in->data() : nullptr;
    per_channel(N, [&](Index c0, Index c1) {
      // acc_: sum g, acc2_: sum g * xhat
      for (Index c = c0; c < c1; ++c) acc_[c] = acc2_[c] = 0.0;
      for (Index n = 0; n < N; ++n) {
        const S* xn = x + n * F;
        const S* gn = g + n * F;
        for (Index c = c0; c < c1; ++c) {
          const double mu = mean_[c], is = istd_[c];
          double sg = 0, sgx = 0;
          for (Index p = c * P; p < (c + 1) * P; ++p) {
            sg += double(gn[p]);
            sgx += double(gn[p]) * (double(xn[p]) - mu) * is;
          }
          acc_[c] += sg;
          acc2_[c] += sgx;
        }
      }
      for (Index c = c0; c < c1; ++c) {
        if (cfg_.affine) {
          ggamma_(c, 0) += S(acc2_[c]);
          gbeta_(c, 0) += S(acc_[c]);
        }
      }
      if (!gi) return;
      for (Index n = 0; n < N; ++n) {
        const S* xn = x + n * F;
        const S* gn = g + n * F;
        S* dn = gi + n * F;
        for (Index c = c0; c < c1; ++c) {
          const double mu = mean_[c], is = istd_[c], k = double(gamma_(c, 0)) * is;
          const double mg = acc_[c] / M, mgx = acc2_[c] / M;
          for (Index p = c * P; p < (c + 1) * P; ++p) {
            const double xh = (double(xn[p]) - mu) * is;
            dn[p] = S(k * (double(gn[p]) - mg - xh * mgx));
          }
        }
      }
    });
  }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("channels", std::int64_t(c_)), cereal::make_nvp("plane", std::int64_t(p_)),
       cereal::make_nvp("config", cfg_), cereal::make_nvp("gamma", gamma_), cereal::make_nvp("beta", beta_),
       cereal::make_nvp("running_mean", rmean_), cereal::make_nvp("running_var", rvar_),
       cereal::make_nvp("folded", folded_));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    this->require_version(version);
    std::int64_t c = 0, p = 0;
    ar(cereal::make_nvp("channels", c), cereal::make_nvp("plane", p), cereal::make_nvp("config", cfg_),
       cereal::make_nvp("gamma", gamma_), cereal::make_nvp("beta", beta_), cereal::make_nvp("running_mean", rmean_),
       cereal::make_nvp("running_var", rvar_), cereal::make_nvp("folded", folded_));
    if (c <= 0 || p <= 0) throw cereal::Exception("BatchNorm: stored sizes are not positive");
    c_ = c;
    p_ = p;
    for (const Matrix<S>* m : {&gamma_, &beta_, &rmean_, &rvar_})
      if (m->rows() != c_ || m->cols() != 1) throw cereal::Exception("BatchNorm: stored statistics do not match the sizes");
    alloc();
  }

 private:
  void init() {
    if (c_ <= 0 || p_ <= 0) throw ConfigError("BatchNorm: sizes must be positive");
    if (!(cfg_.eps > 0.0) || !(cfg_.momentum >= 0.0 && cfg_.momentum <= 1.0))
      throw ConfigError("BatchNorm: eps must be positive and momentum in [0, 1]");
    Rng unused;
    reset_parameters(unused);
    alloc();
  }
  void alloc() {
    acc_.assign(std::size_t(c_), 0.0);
    acc2_.assign(std::size_t(c_), 0.0);
    mean_.assign(std::size_t(c_), 0.0);
    istd_.assign(std::size_t(c_), 1.0);
    a_.resize(c_);
    b_.resize(c_);
    zero_grad();
  }
  template <class F>
  void per_channel(Index N, F&& f) {
    detail::parallel_ranges(c_, double(N * p_) * 2, f);
  }
  // out = a_c x + b_c
  void apply(const TimeSeries<S>& in, TimeSeries<S>& out) const {
    const Index N = in.columns(), C = c_, P = p_, F = C * P;
    const S* x = in.data();
    S* y = out.data();
    const S* a = a_.data();
    const S* b = b_.data();
    detail::parallel_ranges(N, double(F), [&](Index n0, Index n1) {
      for (Index n = n0; n < n1; ++n)
        for (Index c = 0; c < C; ++c)
          for (Index p = c * P; p < (c + 1) * P; ++p) y[n * F + p] = a[c] * x[n * F + p] + b[c];
    });
  }

  Index c_ = 0, p_ = 1;
  BatchNormConfig cfg_{};
  Matrix<S> gamma_, beta_, ggamma_, gbeta_, rmean_, rvar_;
  std::vector<double> acc_, acc2_, mean_, istd_;
  Vector<S> a_, b_;
  bool trained_ = false, folded_ = false;
};

namespace detail {
template <Scalar S>
void fold_rows(Matrix<S>& w, Matrix<S>& bias, const BatchNorm<S>& bn, Index rows_per_channel) {
  Vector<S> a, c;
  bn.inference_affine(a, c);
  for (Index r = 0; r < w.rows(); ++r) {
    const Index ch = r / rows_per_channel;
    bias(r, 0) = a[ch] * bias(r, 0) + c[ch];
    w.row(r) *= a[ch];
  }
}
}  // namespace detail

/**
 * Moves the inference transform of `bn` into `lin` (which must feed it directly):
 * W' = diag(a) W, b' = a b + c with a = gamma/sqrt(running_var + eps), c = beta - a running_mean.
 * A Linear without bias gets one. `bn` then passes its input through, so the network computes in
 * evaluation what it computed before (up to rounding). Fold once training is over.
 */
template <Scalar S>
void fold_batch_norm(Linear<S>& lin, BatchNorm<S>& bn) {
  if (bn.folded()) throw ConfigError("fold_batch_norm: " + bn.signature() + " is already folded");
  if (bn.config().batch_statistics_in_eval)
    throw ConfigError("fold_batch_norm: " + bn.signature() + " normalises with batch statistics in evaluation, "
                      "which no fixed affine map reproduces");
  if (lin.output_size() != bn.input_size())
    throw ShapeError("fold_batch_norm: " + lin.signature() + " outputs " + std::to_string(lin.output_size()) +
                     " features but " + bn.signature() + " normalises " + std::to_string(bn.input_size()));
  if (!lin.config().bias) {
    lin.config().bias = true;
    lin.bias().setZero(lin.output_size(), 1);
    lin.zero_grad();
  }
  detail::fold_rows(lin.weight(), lin.bias(), bn, bn.plane());
  bn.mark_folded();
}

/// Moves the inference transform of a per-channel `bn` (built from conv.output_shape()) into
/// `conv`'s weights and bias; see the Linear overload.
template <Scalar S>
void fold_batch_norm(Conv2d<S>& conv, BatchNorm<S>& bn) {
  if (bn.folded()) throw ConfigError("fold_batch_norm: " + bn.signature() + " is already folded");
  if (bn.config().batch_statistics_in_eval)
    throw ConfigError("fold_batch_norm: " + bn.signature() + " normalises with batch statistics in evaluation, "
                      "which no fixed affine map reproduces");
  const ImageShape o = conv.output_shape();
  if (bn.channels() != o.channels || bn.plane() != o.plane())
    throw ShapeError("fold_batch_norm: " + bn.signature() + " must normalise the " + std::to_string(o.channels) +
                     " channels of " + conv.signature() + " (construct it from conv.output_shape())");
  conv.enable_bias();
  detail::fold_rows(conv.weight(), conv.bias(), bn, 1);
  bn.mark_folded();
}

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::BatchNorm<S>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::BatchNormConfig), 2)

#endif
