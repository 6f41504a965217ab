// Helpers shared by the tests: where the real data is, random batches, tolerances.
#ifndef SPIKELAB_TESTS_SUPPORT_HPP
#define SPIKELAB_TESTS_SUPPORT_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/random.hpp>

#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <unistd.h>

namespace spikelab::test {

/// The shared real-data directory (env SPIKELAB_DATA_DIR overrides the configured one).
inline std::filesystem::path data_dir() {
  if (const char* e = std::getenv("SPIKELAB_DATA_DIR")) return e;
  return SPIKELAB_TEST_DATA_DIR;
}

/// Path of a real data file or directory, or empty (with a WARN naming what is skipped) if absent.
inline std::filesystem::path real_data(const std::string& rel, const std::string& what) {
  const auto p = data_dir() / rel;
  std::error_code ec;
  if (!std::filesystem::exists(p, ec)) {
    WARN("SKIPPED (" << what << "): real data not found at " << p.string()
                     << " -- set SPIKELAB_DATA_DIR to the shared data directory");
    return {};
  }
  return p;
}

/// A fresh temporary directory for a test's files.
inline std::filesystem::path temp_dir(const std::string& name) {
  auto p = std::filesystem::temp_directory_path() / ("spikelab-test-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::create_directories(p);
  return p;
}

/// The whole content of a file (empty if it cannot be read).
inline std::string read_all(const std::filesystem::path& p) {
  std::ifstream is(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(is), std::istreambuf_iterator<char>()};
}
/// Replaces a file's content with `s`.
inline void write_all(const std::filesystem::path& p, const std::string& s) {
  std::ofstream os(p, std::ios::binary | std::ios::trunc);
  os << s;
}

/// Fills a time series with uniform values in [lo, hi).
template <class S>
void fill_uniform(TimeSeries<S>& x, Rng& rng, double lo, double hi) {
  for (Index k = 0; k < x.values().size(); ++k) x.values().data()[k] = S(rng.uniform(lo, hi));
}

/// Fills a time series with Bernoulli(p) spikes.
template <class S>
void fill_spikes(TimeSeries<S>& x, Rng& rng, double p) {
  for (Index k = 0; k < x.values().size(); ++k) x.values().data()[k] = rng.uniform() < p ? S(1) : S(0);
}

}  // namespace spikelab::test

#endif
