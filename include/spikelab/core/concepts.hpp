/**
 * @file core/concepts.hpp
 * @brief The concepts of the core types, with their archetypes.
 *
 *  - `Scalar<S>`: the scalar types spikelab computes in (float and double; any standard
 *    floating-point type satisfies it).
 *  - BatchSource<Src, S>: what produces the batches a trainer consumes:
 *    `src.start_epoch(e)` (reshuffles with a seed derived from e, or does nothing),
 *    `src.next(batch)` (fills a `Batch<S>`; false at the end of the epoch) and
 *    `src.batches_per_epoch()`.
 * This header sits below core/types.hpp (which includes it), so it names Batch by a
 * declaration only (core/batch.hpp defines it) and Eigen's index type directly.
 */
#ifndef SPIKELAB_CORE_CONCEPTS_HPP
#define SPIKELAB_CORE_CONCEPTS_HPP

#include <Eigen/Core>

#include <concepts>
#include <cstdint>

namespace spikelab {

/// The scalar types spikelab computes in.
/// @tparam S the candidate scalar type
template <class S>
concept Scalar = std::floating_point<S>;

/// The smallest Scalar.
using ScalarArchetype = float;
static_assert(Scalar<ScalarArchetype>);

template <Scalar S>
struct Batch;

/// A source of batches (see the file comment).
/// @tparam Src the source type
/// @tparam S the scalar type of the batches
template <class Src, class S>
concept BatchSource = requires(Src& src, Batch<S>& b, std::uint64_t epoch) {
  src.start_epoch(epoch);
  { src.next(b) } -> std::same_as<bool>;
  { src.batches_per_epoch() } -> std::convertible_to<Eigen::Index>;
};

/// The smallest BatchSource: an empty epoch.
struct BatchSourceArchetype {
  /// Starts an epoch: a new order when shuffling (BatchSource).
  void start_epoch(std::uint64_t) {}
  /// Fills no batch: the epoch is over at once.
  template <Scalar S>
  bool next(Batch<S>&) { return false; }
  /// Batches in one epoch (BatchSource).
  Eigen::Index batches_per_epoch() const { return 0; }
};
static_assert(BatchSource<BatchSourceArchetype, float> && BatchSource<BatchSourceArchetype, double>);

}  // namespace spikelab

#endif
