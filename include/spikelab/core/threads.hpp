/**
 * @file core/threads.hpp
 * @brief Thread control. spikelab parallelises matrix products through Eigen and its
 *        element-wise neuron loops through OpenMP (when the consumer compiles with OpenMP;
 *        the CMake target adds it when found). set_num_threads sets both.
 */
#ifndef SPIKELAB_CORE_THREADS_HPP
#define SPIKELAB_CORE_THREADS_HPP

#include <spikelab/core/types.hpp>

#include <algorithm>

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef SPIKELAB_OPENBLAS
extern "C" void openblas_set_num_threads(int);
#endif

namespace spikelab {

/// Sets the number of threads used by spikelab's loops and Eigen's matrix products. With
/// SPIKELAB_USE_BLAS and OpenBLAS, OpenBLAS itself runs single-threaded: spikelab splits its
/// products over its own threads (core/product.hpp).
inline void set_num_threads(int n) {
  n = std::max(1, n);
  Eigen::setNbThreads(n);
#ifdef _OPENMP
  omp_set_num_threads(n);
#endif
#ifdef SPIKELAB_OPENBLAS
  openblas_set_num_threads(1);
#endif
}

/// Threads spikelab's loops will use.
inline int num_threads() {
#ifdef _OPENMP
  return omp_get_max_threads();
#else
  return 1;
#endif
}

namespace detail {

/// Work (in rough operation counts) below which a loop runs on one thread: about 50 us, more
/// than waking and joining a thread team costs when the cores are shared.
inline constexpr double parallel_min_cost = 1.0e5;

/// Number of chunks a loop of n items of the given cost runs in: one (serial) unless OpenMP is
/// on, there is more than one thread and item, no thread team runs already and the work
/// (n * cost_per_item) is large enough to pay for a team; then one per thread, at most n.
inline int team_chunks(Index n, double cost_per_item) {
#ifdef _OPENMP
  const int threads = omp_get_max_threads();
  if (threads > 1 && n > 1 && static_cast<double>(n) * cost_per_item > parallel_min_cost && !omp_in_parallel())
    return static_cast<int>(std::min<Index>(threads, n));
#endif
  (void)n;
  (void)cost_per_item;
  return 1;
}

/// Number of chunks parallel_chunks may use (the size of per-thread scratch arrays).
inline int max_chunks() { return std::max(1, num_threads()); }

/// Calls f(k, begin, end) on contiguous chunks [begin, end) of [0, n), in parallel when
/// team_chunks says it pays; k in [0, max_chunks()) numbers the chunk, so each chunk can use
/// its own scratch memory (every chunk number is used by at most one thread). Nothing is
/// called for n <= 0.
template <class F>
void parallel_chunks(Index n, double cost_per_item, F&& f) {
  const int chunks = team_chunks(n, cost_per_item);
  if (chunks == 1) {
    if (n > 0) f(0, Index{0}, n);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(chunks)
  for (int c = 0; c < chunks; ++c) f(c, n * c / chunks, n * (c + 1) / chunks);
#endif
}

/// Like parallel_chunks without the chunk number: f(begin, end). For n <= 0 it calls f(0, n)
/// once.
/// (Written out rather than wrapping f for parallel_chunks: the wrapper keeps GCC from inlining
/// the serial call of the hot loops.)
template <class F>
void parallel_ranges(Index n, double cost_per_item, F&& f) {
  const int chunks = team_chunks(n, cost_per_item);
  if (chunks == 1) {
    f(Index{0}, n);
    return;
  }
#ifdef _OPENMP
#pragma omp parallel for schedule(static) num_threads(chunks)
  for (int c = 0; c < chunks; ++c) f(n * c / chunks, n * (c + 1) / chunks);
#endif
}

}  // namespace detail
}  // namespace spikelab

#endif
