/**
 * @file layers/layer_base.hpp
 * @brief What the layers of this folder share, as bases over the layer L (CRTP, no virtual
 *        functions): detail::LayerBase (the scalar type, the class version, the checks of the
 *        forward and backward arguments and of a loaded configuration) and
 *        detail::FeatureLayer (a layer of n features in and out with one configuration: its
 *        sizes, construction and checkpoint form).
 */
#ifndef SPIKELAB_LAYERS_LAYER_BASE_HPP
#define SPIKELAB_LAYERS_LAYER_BASE_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/versioning.hpp>

#include <cereal/cereal.hpp>

#include <cstdint>
#include <string>
#include <utility>

namespace spikelab::detail {

/// The base of every layer L (which provides name(), signature(), input_size() and
/// output_size()). Error messages name the layer by its signature.
template <class L, Scalar S>
class LayerBase {
 public:
  using scalar_type = S;
  /// The version of the layer's stored form, which checkpoints record: a layer that changes its
  /// stored form declares a higher one and reads the older forms.
  static constexpr std::uint32_t class_version = 1;

 protected:
  const L& self() const noexcept { return static_cast<const L&>(*this); }
  L& self() noexcept { return static_cast<L&>(*this); }

  /// forward's argument: ShapeError unless `in` has input_size() features.
  void require_input(const TimeSeries<S>& in) const {
    if (in.features() != self().input_size())
      throw ShapeError(self().signature() + ": input has " + std::to_string(in.features()) + " features, expected " +
                       std::to_string(self().input_size()) + " " + in.shape_string());
  }
  /// backward's arguments: ShapeError unless `in` has input_size() and `out` output_size()
  /// features over the same samples and steps, and `grad_out` has the shape of `out`.
  void require_gradient(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out) const {
    if (in.features() != self().input_size() || out.features() != self().output_size() || in.batch() != out.batch() ||
        in.steps() != out.steps() || !grad_out.same_shape(out))
      throw ShapeError(self().signature() + "::backward: gradient " + grad_out.shape_string() + " / input " +
                       in.shape_string() + " do not match output " + out.shape_string());
  }
  /// load's checks: a stored class version this build knows, and a stored configuration that
  /// `validate` accepts (its ConfigError becomes a cereal::Exception naming the layer).
  static void require_version(std::uint32_t stored) { check_version(stored, L::class_version, L::name().c_str()); }
  template <class F>
  static void require_valid(F&& validate) {
    validate_loaded(std::forward<F>(validate), L::name() + ": stored configuration is invalid: ");
  }
};

/**
 * A layer of n features in and out (element-wise or per-feature: activations, dropout,
 * filters) with one configuration C. L provides `static void validate(Index n, const C& cfg)`
 * (ConfigError when cfg does not fit n features) and `config_key`, the name of C in
 * checkpoints, which store ("features", n) and (config_key, cfg).
 */
template <class L, Scalar S, class C>
class FeatureLayer : public LayerBase<L, S> {
 public:
  Index input_size() const noexcept { return n_; }
  Index output_size() const noexcept { return n_; }

  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("features", std::int64_t(n_)), cereal::make_nvp(L::config_key, cfg_));
  }
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    this->require_version(version);
    std::int64_t n = 0;
    ar(cereal::make_nvp("features", n), cereal::make_nvp(L::config_key, cfg_));
    if (n <= 0) throw cereal::Exception(L::name() + ": stored number of features is not positive");
    n_ = Index(n);
    this->require_valid([this] { L::validate(n_, cfg_); });
  }

 protected:
  FeatureLayer() = default;
  FeatureLayer(Index features, C cfg) : n_(features), cfg_(std::move(cfg)) {
    if (n_ <= 0) throw ConfigError(L::name() + ": number of features must be positive");
    L::validate(n_, cfg_);
  }

  Index n_ = 0;
  C cfg_{};
};

}  // namespace spikelab::detail

#endif
