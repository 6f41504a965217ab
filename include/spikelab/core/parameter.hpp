/**
 * @file core/parameter.hpp
 * @brief `ParamRef<S>`: how a layer shows one trainable parameter block (value, gradient,
 *        group, bounds) to optimizers, gradient checkers and checkpoints.
 *
 * Layers keep their parameters and gradients as Eigen matrices and visit them in a fixed
 * order with `for_each_parameter(f)`. Groups let an optimizer give thresholds or time
 * constants their own learning rate; bounds are projections applied after each update
 * (e.g. threshold > 0, decay in [0, 1]).
 */
#ifndef SPIKELAB_CORE_PARAMETER_HPP
#define SPIKELAB_CORE_PARAMETER_HPP

#include <spikelab/core/types.hpp>

#include <array>
#include <cstdint>
#include <limits>
#include <string_view>

namespace spikelab {

/// Parameter groups; an optimizer may scale the learning rate of each group.
enum class ParamGroup : std::uint8_t { weight = 0, bias, threshold, time_constant, other };
/// The number of ParamGroup values (the size of a per-group table such as GroupScales).
inline constexpr std::size_t num_param_groups = 5;

/// The group's name as checkpoints and reports spell it ("weight", "bias", ...).
constexpr std::string_view to_string(ParamGroup g) noexcept {
  switch (g) {
    case ParamGroup::weight: return "weight";
    case ParamGroup::bias: return "bias";
    case ParamGroup::threshold: return "threshold";
    case ParamGroup::time_constant: return "time_constant";
    case ParamGroup::other: return "other";
  }
  return "?";
}

/// A view of one parameter block of a layer.
/// @tparam S the scalar type (float or double)
template <Scalar S>
struct ParamRef {
  std::string_view name;  ///< e.g. "weight", "bias", "threshold", "beta"
  ParamGroup group;  ///< its group (learning-rate and gradient scales)
  Matrix<S>& value;  ///< the parameter block
  Matrix<S>& grad;  ///< its accumulated gradient
  S lower = -std::numeric_limits<S>::infinity();  ///< projection after each update
  S upper = std::numeric_limits<S>::infinity();  ///< projection after each update
  std::size_t layer = 0;  ///< index of the layer in its network (set by Sequential)
};

/// Per-group multipliers (learning rate or gradient scale), indexed by ParamGroup.
struct GroupScales {
  std::array<double, num_param_groups> value{1.0, 1.0, 1.0, 1.0, 1.0};  ///< one factor per ParamGroup
  /// The factor of group g.
  double operator[](ParamGroup g) const noexcept { return value[static_cast<std::size_t>(g)]; }
  /// The factor of group g.
  double& operator[](ParamGroup g) noexcept { return value[static_cast<std::size_t>(g)]; }
};

}  // namespace spikelab

#endif
