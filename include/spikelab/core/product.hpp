/**
 * @file core/product.hpp
 * @brief Matrix products split by output columns over spikelab's threads.
 *
 * \f[ D_{:,J_k} \mathrel{(+)}= A\,B_{:,J_k} \f] for disjoint column ranges J_k, one per thread:
 * every thread runs a single-threaded product on its own columns, so there is no
 * synchronisation inside the product (Eigen's own parallel GEMM shares packed blocks between
 * threads and waits at barriers, which costs much when the cores are shared with other work).
 * With EIGEN_USE_BLAS (CMake option SPIKELAB_USE_BLAS) each part runs in the BLAS.
 */
#ifndef SPIKELAB_CORE_PRODUCT_HPP
#define SPIKELAB_CORE_PRODUCT_HPP

#include <spikelab/core/threads.hpp>
#include <spikelab/core/types.hpp>

namespace spikelab::detail {

/// dst = lhs * rhs (or dst += lhs * rhs with `accumulate`), dst already sized; columns of dst
/// split over the threads. lhs and rhs are any Eigen expressions a product accepts (blocks,
/// transposes).
template <class Dst, class Lhs, class Rhs>
void parallel_product(Dst& dst, const Lhs& lhs, const Rhs& rhs, bool accumulate = false) {
  const Index n = dst.cols();
  // below about a million multiply-adds a thread team does not pay
  const double cost = double(dst.rows()) * double(lhs.cols());
  auto part = [&](Index c0, Index c1) {
    auto d = dst.middleCols(c0, c1 - c0);
    if (accumulate)
      d.noalias() += lhs * rhs.middleCols(c0, c1 - c0);
    else
      d.noalias() = lhs * rhs.middleCols(c0, c1 - c0);
  };
  // at least 64 columns per part, so each part keeps the GEMM's register blocking efficient
#ifdef SPIKELAB_OPENBLAS
  static const bool blas_single = [] {
    openblas_set_num_threads(1);  // the parts run concurrently, one per spikelab thread
    return true;
  }();
  (void)blas_single;
#endif
  const Index parts = std::min<Index>(max_chunks(), std::max<Index>(1, n / 64));
  if (parts <= 1 || cost * double(n) < 2.0e6) {
    part(0, n);
    return;
  }
  parallel_ranges(parts, cost * double(n) / double(parts), [&](Index p0, Index p1) {
    part(n * p0 / parts, n * p1 / parts);
  });
}

}  // namespace spikelab::detail

#endif
