/**
 * @file core/types.hpp
 * @brief Basic types. Matrices are column-major, shape (features x columns); a column is
 *        one sample at one time step (see TimeSeries for the time layout).
 */
#ifndef SPIKELAB_CORE_TYPES_HPP
#define SPIKELAB_CORE_TYPES_HPP

#include <spikelab/core/concepts.hpp>

#include <Eigen/Core>
#include <cstdint>

namespace spikelab {

/// Sizes and indices (Eigen's signed index type).
using Index = Eigen::Index;

/// A dynamic-size, column-major Eigen matrix of S.
template <class S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
/// A dynamic-size Eigen column vector of S.
template <class S>
using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;
/// A dynamic-size Eigen row vector of S.
template <class S>
using RowVector = Eigen::Matrix<S, 1, Eigen::Dynamic>;
/// A writable reference to a `Matrix<S>` or to a block of one, without a copy.
template <class S>
using MatrixRef = Eigen::Ref<Matrix<S>>;
/// A read-only reference to a `Matrix<S>`, a block of one or an expression.
template <class S>
using ConstMatrixRef = Eigen::Ref<const Matrix<S>>;

/// How a neuron parameter (threshold, decay) is held: fixed, one trainable value shared
/// by the layer, or one trainable value per neuron.
enum class Train : std::uint8_t { fixed, per_layer, per_neuron };

namespace detail {
/// A buffer for float (F) and one for double (D), for a class whose member templates serve
/// both scalar types: `get<S>()` is the one of S.
template <class F, class D>
struct PerScalar {
  F f;
  D d;
  template <Scalar S>
  auto& get() noexcept {
    if constexpr (std::same_as<S, float>)
      return f;
    else
      return d;
  }
};
}  // namespace detail

}  // namespace spikelab

#endif
