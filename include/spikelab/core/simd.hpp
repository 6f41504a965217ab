/**
 * @file core/simd.hpp
 * @brief Helpers for spikelab's fused loops: a portable "these iterations are independent"
 *        hint (SPIKELAB_IVDEP) so that element-wise neuron loops vectorise even when the
 *        compiler cannot prove that the buffers do not overlap.
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

#endif
