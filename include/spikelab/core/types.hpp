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

using Index = Eigen::Index;

template <class S>
using Matrix = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic>;
template <class S>
using Vector = Eigen::Matrix<S, Eigen::Dynamic, 1>;
template <class S>
using RowVector = Eigen::Matrix<S, 1, Eigen::Dynamic>;
template <class S>
using MatrixRef = Eigen::Ref<Matrix<S>>;
template <class S>
using ConstMatrixRef = Eigen::Ref<const Matrix<S>>;

/// How a neuron parameter (threshold, decay) is held: fixed, one trainable value shared
/// by the layer, or one trainable value per neuron.
enum class Train : std::uint8_t { fixed, per_layer, per_neuron };

}  // namespace spikelab

#endif
