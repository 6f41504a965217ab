/**
 * @file core/product.hpp
 * @brief parallel_product: a matrix product split over spikelab's threads.
 *
 * \f[ D_{:,J_k} \mathrel{(+)}= A\,B_{:,J_k} \quad\text{or}\quad D_{I_k,:} \mathrel{(+)}= A_{I_k,:}\,B \f]
 * for disjoint column ranges J_k (or, when D has too few columns to give every thread a useful
 * share, disjoint row ranges I_k), one per thread: every thread runs a single-threaded product
 * on its own part of D, so there is no synchronisation inside the product (Eigen's own parallel
 * GEMM shares packed blocks between threads and waits at barriers, which costs much when the
 * cores are shared with other work). With EIGEN_USE_BLAS (CMake option SPIKELAB_USE_BLAS) each
 * part runs in the BLAS.
 */
#ifndef SPIKELAB_CORE_PRODUCT_HPP
#define SPIKELAB_CORE_PRODUCT_HPP

#include <spikelab/core/threads.hpp>
#include <spikelab/core/types.hpp>

namespace spikelab {

/// dst = lhs * rhs (or dst += lhs * rhs with `accumulate`), dst already sized, split over
/// spikelab's threads (set_num_threads). lhs and rhs are any Eigen expressions a product
/// accepts (blocks, transposes, maps); dst must not alias them.
template <class Dst, class Lhs, class Rhs>
void parallel_product(Dst& dst, const Lhs& lhs, const Rhs& rhs, bool accumulate = false) {
  const Index n = dst.cols(), m = dst.rows();
  // below about a million multiply-adds a thread team does not pay
  const double cost = double(m) * double(lhs.cols()) * double(n);
#ifdef SPIKELAB_OPENBLAS
  static const bool blas_single = [] {
    openblas_set_num_threads(1);  // the parts run concurrently, one per spikelab thread
    return true;
  }();
  (void)blas_single;
#endif
  auto cols = [&](Index c0, Index c1) {
    auto d = dst.middleCols(c0, c1 - c0);
    if (accumulate)
      d.noalias() += lhs * rhs.middleCols(c0, c1 - c0);
    else
      d.noalias() = lhs * rhs.middleCols(c0, c1 - c0);
  };
  auto rows = [&](Index r0, Index r1) {
    auto d = dst.middleRows(r0, r1 - r0);
    if (accumulate)
      d.noalias() += lhs.middleRows(r0, r1 - r0) * rhs;
    else
      d.noalias() = lhs.middleRows(r0, r1 - r0) * rhs;
  };
  const int threads = detail::max_chunks();
  if (threads <= 1 || cost < 2.0e6) {
    cols(0, n);
    return;
  }
  // at least 64 columns (or rows) per part, so each part keeps the GEMM's register blocking efficient
  const Index col_parts = std::min<Index>(threads, n / 64), row_parts = std::min<Index>(threads, m / 64);
  if (col_parts >= threads || (col_parts >= row_parts && col_parts > 1)) {
    detail::parallel_ranges(col_parts, cost / double(col_parts),
                            [&](Index p0, Index p1) { cols(n * p0 / col_parts, n * p1 / col_parts); });
  } else if (row_parts > 1) {
    // few columns (one time step, or a static input projected once): split the rows instead
    detail::parallel_ranges(row_parts, cost / double(row_parts),
                            [&](Index p0, Index p1) { rows(m * p0 / row_parts, m * p1 / row_parts); });
  } else {
    cols(0, n);
  }
}

namespace detail {
/// The former internal name, kept so that code written against it still compiles.
using spikelab::parallel_product;
}  // namespace detail

}  // namespace spikelab

#endif
