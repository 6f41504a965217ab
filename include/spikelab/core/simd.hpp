/**
 * @file core/simd.hpp
 * @brief Helpers for spikelab's fused loops: a portable "these iterations are independent"
 *        hint (SPIKELAB_IVDEP) so that element-wise neuron loops vectorise even when the
 *        compiler cannot prove that the buffers do not overlap, and SPIKELAB_ALWAYS_INLINE for
 *        the per-neuron functions those loops call (a call left in the loop body would stop
 *        its vectorisation).
 */
#ifndef SPIKELAB_CORE_SIMD_HPP
#define SPIKELAB_CORE_SIMD_HPP

#define SPIKELAB_PRAGMA(x) _Pragma(#x)
#if defined(__clang__)
/// The next loop has no loop-carried memory dependence (element k is read and written only by iteration k).
#define SPIKELAB_IVDEP SPIKELAB_PRAGMA(clang loop vectorize(assume_safety))
#elif defined(__GNUC__)
#define SPIKELAB_IVDEP SPIKELAB_PRAGMA(GCC ivdep)
#else
#define SPIKELAB_IVDEP
#endif

#if defined(__GNUC__) || defined(__clang__)
/// Inline this function into its callers whatever the optimiser's cost model says.
#define SPIKELAB_ALWAYS_INLINE inline __attribute__((always_inline))
#elif defined(_MSC_VER)
#define SPIKELAB_ALWAYS_INLINE __forceinline
#else
#define SPIKELAB_ALWAYS_INLINE inline
#endif

#endif
