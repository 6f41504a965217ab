/**
 * @file layers/weighted_layer.hpp
 * @brief Init (the weight initialisation schemes) and detail::WeightedLayer, the base (CRTP over
 *        the layer L) of the layers whose parameters are a weight matrix and a bias: Linear,
 *        Conv2d and TemporalConv. It holds the sizes, the configuration and the parameters, and
 *        gives their accessors, initialisation, gradients and checkpoint form.
 */
#ifndef SPIKELAB_LAYERS_WEIGHTED_LAYER_HPP
#define SPIKELAB_LAYERS_WEIGHTED_LAYER_HPP

#include <spikelab/core/parameter.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/serialization.hpp>
#include <spikelab/layers/layer_base.hpp>

#include <cereal/cereal.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

namespace spikelab {

/// Weight initialisation schemes.
enum class Init : std::uint8_t {
  uniform_fan_in,  ///< U(+-scale/sqrt(fan_in)) for weights and bias (PyTorch's nn.Linear default)
  kaiming_normal,  ///< N(0, scale^2 * 2/fan_in), zero bias
  normal,          ///< N(0, scale^2), zero bias
  zeros
};

namespace detail {
/// Draws a layer's weights w and bias b for `init` with fan-in `fan` (weights first, then bias,
/// so every layer consumes its Rng stream in the same order). Shared by Linear, Conv2d, TemporalConv.
template <Scalar S>
void init_weights(Matrix<S>& w, Matrix<S>& b, Init init, double scale, double fan, Rng& rng) {
  auto fill = [&](Matrix<S>& m, auto gen) {
    for (Index k = 0; k < m.size(); ++k) m.data()[k] = S(gen());
  };
  switch (init) {
    case Init::uniform_fan_in: {
      const double bound = scale / std::sqrt(fan);
      fill(w, [&] { return rng.uniform(-bound, bound); });
      fill(b, [&] { return rng.uniform(-bound, bound); });
      break;
    }
    case Init::kaiming_normal:
      fill(w, [&] { return rng.normal(0.0, scale * std::sqrt(2.0 / fan)); });
      b.setZero();
      break;
    case Init::normal:
      fill(w, [&] { return rng.normal(0.0, scale); });
      b.setZero();
      break;
    case Init::zeros:
      w.setZero();
      b.setZero();
      break;
  }
}

/**
 * A layer from an input of shape In (a number of features, or an ImageShape) to `out` outputs
 * (features, or channels) whose parameters are a weight matrix W (out x L::fan_in()) and a
 * bias b (out x 1, or 0 x 1 without one), drawn by init_weights. The configuration C has
 * `bias`, `init` and `init_scale`. L provides `fan_in()`, `validate()` (ConfigError when the
 * sizes and the configuration do not fit together; it may set L's own derived sizes) and
 * `out_key`, the name of `out` in checkpoints, which store ("in", in), (out_key, out),
 * ("config", cfg), ("weight", W) and ("bias", b).
 */
template <class L, Scalar S, class C, class In = Index>
class WeightedLayer : public LayerBase<L, S> {
 public:
  /// Sizes of a layer from `in` features to `out` features (a layer of maps has its own).
  Index input_size() const noexcept
    requires std::is_integral_v<In>
  {
    return in_;
  }
  Index output_size() const noexcept
    requires std::is_integral_v<In>
  {
    return out_;
  }
  const C& config() const noexcept { return cfg_; }
  Matrix<S>& weight() noexcept { return w_; }
  const Matrix<S>& weight() const noexcept { return w_; }
  Matrix<S>& bias() noexcept { return b_; }
  const Matrix<S>& bias() const noexcept { return b_; }
  Matrix<S>& weight_grad() noexcept { return gw_; }
  Matrix<S>& bias_grad() noexcept { return gb_; }

  /// Draws W and b anew (the configuration's init and init_scale, fan-in L::fan_in()) and
  /// zeroes the gradients.
  void reset_parameters(Rng& rng) {
    init_weights(w_, b_, cfg_.init, cfg_.init_scale, double(this->self().fan_in()), rng);
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

  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("in", Stored(in_)), cereal::make_nvp(L::out_key, std::int64_t(out_)),
       cereal::make_nvp("config", cfg_), cereal::make_nvp("weight", w_), cereal::make_nvp("bias", b_));
  }
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    this->require_version(version);
    Stored in{};
    std::int64_t out = 0;
    ar(cereal::make_nvp("in", in), cereal::make_nvp(L::out_key, out), cereal::make_nvp("config", cfg_),
       cereal::make_nvp("weight", w_), cereal::make_nvp("bias", b_));
    in_ = In(in);
    out_ = Index(out);
    this->require_valid([this] { this->self().validate(); });
    if (w_.rows() != out_ || w_.cols() != this->self().fan_in() || b_.rows() != (cfg_.bias ? out_ : 0))
      throw cereal::Exception(L::name() + ": stored weights do not match the stored sizes");
    zero_grad();
  }

 protected:
  WeightedLayer() = default;
  WeightedLayer(In in, Index out, C cfg) : in_(std::move(in)), out_(out), cfg_(std::move(cfg)) {}
  /// For L's constructor: validates, then sizes W and b and draws them.
  void allocate(Rng& rng) {
    this->self().validate();
    w_.resize(out_, this->self().fan_in());
    b_.setZero(cfg_.bias ? out_ : 0, 1);
    reset_parameters(rng);
  }

  In in_{};
  Index out_ = 0;
  C cfg_{};
  Matrix<S> w_, b_, gw_, gb_;

 private:
  // how checkpoints store the input shape: a number of features as int64
  using Stored = std::conditional_t<std::is_integral_v<In>, std::int64_t, In>;
};

}  // namespace detail
}  // namespace spikelab

#endif
