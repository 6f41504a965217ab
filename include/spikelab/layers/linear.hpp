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
#include <spikelab/core/random.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/io/eigen.hpp>
#include <spikelab/io/versioning.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace spikelab {

/// Weight initialisation schemes.
enum class Init : std::uint8_t {
  uniform_fan_in,  ///< U(+-scale/sqrt(fan_in)) for weights and bias (PyTorch's nn.Linear default)
  kaiming_normal,  ///< N(0, scale^2 * 2/fan_in), zero bias
  normal,          ///< N(0, scale^2), zero bias
  zeros
};

/// How the layer chooses between the dense product and the sparse accumulation.
enum class SparseMode : std::uint8_t { automatic, always, never };

struct LinearConfig {
  bool bias = true;
  Init init = Init::uniform_fan_in;
  double init_scale = 1.0;
  SparseMode sparse = SparseMode::automatic;
  /// Automatic mode uses the sparse path when the estimated input density is below this.
  double sparse_density = 0.12;
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(bias), CEREAL_NVP(init), CEREAL_NVP(init_scale), CEREAL_NVP(sparse), CEREAL_NVP(sparse_density));
  }
};

namespace detail {

/// Compressed-column index of the nonzeros of a matrix (rows as int32; values only when
/// some nonzero differs from 1).
template <Scalar S>
struct SparseColumns {
  std::vector<std::int64_t> start;  // size cols+1
  std::vector<std::int32_t> row;
  std::vector<S> value;             // empty when binary
  Index rows = 0, cols = 0;
  bool binary() const noexcept { return value.empty(); }

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

  void build(const Matrix<S>& x) {
    rows = x.rows();
    cols = x.cols();
    start.assign(static_cast<std::size_t>(cols) + 1, 0);
    const S* d = x.data();
    detail::parallel_ranges(cols, double(rows), [&](Index c0, Index c1) {
      for (Index c = c0; c < c1; ++c) {
        const S* p = d + c * rows;
        std::int64_t k = 0;
        for (Index r = 0; r < rows; ++r) k += (p[r] != S(0));
        start[static_cast<std::size_t>(c) + 1] = k;
      }
    });
    for (Index c = 0; c < cols; ++c) start[c + 1] += start[c];
    row.resize(static_cast<std::size_t>(start[cols]));
    bool bin = true;
    detail::parallel_ranges(cols, double(rows), [&](Index c0, Index c1) {
      bool local_bin = true;
      for (Index c = c0; c < c1; ++c) {
        const S* p = d + c * rows;
        std::int64_t k = start[c];
        for (Index r = 0; r < rows; ++r)
          if (p[r] != S(0)) {
            row[k++] = static_cast<std::int32_t>(r);
            local_bin &= (p[r] == S(1));
          }
      }
      if (!local_bin) {
#ifdef _OPENMP
#pragma omp atomic write
#endif
        bin = false;
      }
    });
    value.clear();
    if (!bin) {
      value.resize(row.size());
      for (Index c = 0; c < cols; ++c)
        for (std::int64_t k = start[c]; k < start[c + 1]; ++k) value[k] = d[c * rows + row[k]];
    }
  }
};

}  // namespace detail

template <Scalar S>
class Linear {
 public:
  using scalar_type = S;
  static constexpr std::uint32_t class_version = 1;

  Linear() = default;
  Linear(Index in, Index out, Rng& rng, LinearConfig cfg = {}) : in_(in), out_(out), cfg_(cfg) {
    if (in <= 0 || out <= 0) throw ConfigError("Linear: sizes must be positive");
    w_.resize(out, in);
    b_.setZero(cfg.bias ? out : 0, 1);
    reset_parameters(rng);
  }

  static std::string name() { return "Linear"; }
  Index input_size() const noexcept { return in_; }
  Index output_size() const noexcept { return out_; }
  std::string signature() const {
    return "Linear(" + std::to_string(in_) + "," + std::to_string(out_) + (cfg_.bias ? ",bias" : "") + ")";
  }
  const LinearConfig& config() const noexcept { return cfg_; }
  LinearConfig& config() noexcept { return cfg_; }

  Matrix<S>& weight() noexcept { return w_; }
  const Matrix<S>& weight() const noexcept { return w_; }
  Matrix<S>& bias() noexcept { return b_; }
  const Matrix<S>& bias() const noexcept { return b_; }
  Matrix<S>& weight_grad() noexcept { return gw_; }
  Matrix<S>& bias_grad() noexcept { return gb_; }

  void reset_parameters(Rng& rng) {
    const double fan = double(in_), sc = cfg_.init_scale;
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
    gw_.setZero(out_, in_);
    gb_.setZero(b_.rows(), 1);
  }

  template <class F>
  void for_each_parameter(F&& f) {
    f(ParamRef<S>{"weight", ParamGroup::weight, w_, gw_});
    if (cfg_.bias) f(ParamRef<S>{"bias", ParamGroup::bias, b_, gb_});
  }
  void zero_grad() {
    gw_.setZero(out_, in_);
    gb_.setZero(b_.rows(), 1);
  }

  /// True when the last forward pass used the sparse path.
  bool used_sparse() const noexcept { return sparse_; }

  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    if (in.features() != in_)
      throw ShapeError(signature() + ": input has " + std::to_string(in.features()) + " features " + in.shape_string());
    out.resize(out_, in.batch(), in.steps());
    const Matrix<S>& x = in.values();
    Matrix<S>& y = out.values();
    sparse_ = choose_sparse(x);
    if (sparse_) {
      sp_.build(x);
      const Index C = x.cols();
      const bool bin = sp_.binary();
      detail::parallel_ranges(C, double(out_) * (1.0 + double(sp_.row.size()) / double(std::max<Index>(C, 1))),
                              [&](Index c0, Index c1) {
                                for (Index c = c0; c < c1; ++c) {
                                  auto yc = y.col(c);
                                  if (cfg_.bias)
                                    yc = b_.col(0);
                                  else
                                    yc.setZero();
                                  for (std::int64_t k = sp_.start[c]; k < sp_.start[c + 1]; ++k) {
                                    if (bin)
                                      yc += w_.col(sp_.row[k]);
                                    else
                                      yc += sp_.value[k] * w_.col(sp_.row[k]);
                                  }
                                }
                              });
    } else {
      y.noalias() = w_ * x;
      if (cfg_.bias) y.colwise() += b_.col(0);
    }
  }

  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    if (!grad_out.same_shape(out) || in.columns() != out.columns())
      throw ShapeError(signature() + "::backward: gradient " + grad_out.shape_string() + " does not match output " +
                       out.shape_string());
    const Matrix<S>& g = grad_out.values();
    if (gw_.rows() != out_ || gw_.cols() != in_) zero_grad();
    if (sparse_ && sp_.cols == in.columns() && sp_.rows == in_) {
      const bool bin = sp_.binary();
      const Index C = sp_.cols;
      detail::parallel_ranges(out_, double(sp_.row.size()), [&](Index r0, Index r1) {
        const Index len = r1 - r0;
        for (Index c = 0; c < C; ++c) {
          auto gc = g.col(c).segment(r0, len);
          for (std::int64_t k = sp_.start[c]; k < sp_.start[c + 1]; ++k) {
            if (bin)
              gw_.col(sp_.row[k]).segment(r0, len) += gc;
            else
              gw_.col(sp_.row[k]).segment(r0, len) += sp_.value[k] * gc;
          }
        }
      });
    } else {
      gw_.noalias() += g * in.values().transpose();
    }
    if (cfg_.bias) gb_.col(0) += g.rowwise().sum();
    if (grad_in) {
      grad_in->resize(in_, in.batch(), in.steps());
      grad_in->values().noalias() = w_.transpose() * g;
    }
  }

  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("in", std::int64_t(in_)), cereal::make_nvp("out", std::int64_t(out_)),
       cereal::make_nvp("config", cfg_), cereal::make_nvp("weight", w_), cereal::make_nvp("bias", b_));
  }
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, class_version, "Linear");
    std::int64_t in = 0, out = 0;
    ar(cereal::make_nvp("in", in), cereal::make_nvp("out", out), cereal::make_nvp("config", cfg_),
       cereal::make_nvp("weight", w_), cereal::make_nvp("bias", b_));
    if (w_.rows() != out || w_.cols() != in || b_.rows() != (cfg_.bias ? out : 0))
      throw cereal::Exception("Linear: stored weights do not match the stored sizes");
    in_ = in;
    out_ = out;
    zero_grad();
  }

 private:
  bool choose_sparse(const Matrix<S>& x) const {
    switch (cfg_.sparse) {
      case SparseMode::always: return true;
      case SparseMode::never: return false;
      case SparseMode::automatic: break;
    }
    return detail::SparseColumns<S>::estimate_density(x) < cfg_.sparse_density;
  }

  Index in_ = 0, out_ = 0;
  LinearConfig cfg_{};
  Matrix<S> w_, b_, gw_, gb_;
  detail::SparseColumns<S> sp_;
  bool sparse_ = false;
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::Linear<S>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::LinearConfig), 1)

#endif
