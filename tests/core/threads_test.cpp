// Thread control and the work split over threads: parallel_chunks and parallel_ranges cover
// [0, n) exactly once, with chunk numbers below max_chunks() used by one thread each; the
// column-split product equals the one-thread product. With two threads these loops really run
// in parallel, so ThreadSanitizer (the tsan preset) checks them for data races.
#include <spikelab/core/product.hpp>
#include <spikelab/core/threads.hpp>

#include "support/test_support.hpp"

#include <algorithm>
#include <atomic>
#include <vector>

using namespace spikelab;

namespace {
/// Restores two threads (the tests' setting) when leaving a scope that changed them.
struct TwoThreadsAfter {
  ~TwoThreadsAfter() { set_num_threads(2); }
};
}  // namespace

TEST_CASE("parallel_chunks and parallel_ranges cover every item once, each chunk number on one thread",
          "[core][threads]") {
  TwoThreadsAfter guard;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    CHECK(num_threads() >= 1);
    for (Index n : {0, 1, 7, 1000, 100000}) {
      INFO("threads " << threads << ", n " << n);
      std::vector<int> hits(std::size_t(n), 0);
      const int max_chunks = detail::max_chunks();
      std::vector<std::atomic<int>> chunk_users(static_cast<std::size_t>(max_chunks));
      std::atomic<int> chunks_seen{0};
      // cost per item high enough that a team pays for n >= 1000
      std::atomic<int> bad_numbers{0};
      // (no Catch assertions inside: Catch is not thread-safe)
      detail::parallel_chunks(n, 1000.0, [&](int k, Index b, Index e) {
        if (k < 0 || k >= max_chunks) {
          ++bad_numbers;
          return;
        }
        ++chunk_users[std::size_t(k)];
        ++chunks_seen;
        for (Index i = b; i < e; ++i) ++hits[std::size_t(i)];  // disjoint ranges: no race
      });
      CHECK(bad_numbers == 0);
      CHECK(std::count(hits.begin(), hits.end(), 1) == n);
      for (auto& u : chunk_users) CHECK(u <= 1);
      CHECK(chunks_seen <= max_chunks);
      std::vector<int> marks(std::size_t(n), 0);
      detail::parallel_ranges(n, 1000.0, [&](Index b, Index e) {
        for (Index i = b; i < e; ++i) marks[std::size_t(i)] += int(i % 3) + 1;
      });
      Index wrong = 0;
      for (Index i = 0; i < n; ++i) wrong += marks[std::size_t(i)] != int(i % 3) + 1;
      CHECK(wrong == 0);
    }
  }
}

TEST_CASE("The column-split product equals the one-thread product", "[core][threads]") {
  TwoThreadsAfter guard;
  Rng rng(3);
  Matrix<double> a(96, 80), b(80, 700);
  for (Index k = 0; k < a.size(); ++k) a.data()[k] = rng.uniform(-1, 1);
  for (Index k = 0; k < b.size(); ++k) b.data()[k] = rng.uniform(-1, 1);
  const Matrix<double> ref = a * b;
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    INFO("threads " << threads);
    Matrix<double> d(96, 700);
    detail::parallel_product(d, a, b);
    CHECK((d - ref).cwiseAbs().maxCoeff() <= 1e-12);
    detail::parallel_product(d, a, b, true);  // accumulate
    CHECK((d - 2 * ref).cwiseAbs().maxCoeff() <= 1e-12);
    // blocks and transposes as operands, as the layers pass them
    Matrix<double> e(80, 700);
    detail::parallel_product(e, a.transpose(), d.leftCols(700));
    CHECK((e - a.transpose() * d).cwiseAbs().maxCoeff() <= 1e-9);
  }
}
