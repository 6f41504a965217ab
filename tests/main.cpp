// Catch2 (v2) main for all spikelab test executables: prints the library version, the
// data directory used for real-data tests, and Catch's rng seed (tests that need
// randomness seed spikelab::Rng from test_seed()).
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>

#include <spikelab/version.hpp>

#include <iostream>

int main(int argc, char* argv[]) {
  Catch::Session session;
  if (const int rc = session.applyCommandLine(argc, argv); rc != 0) return rc;
  if (session.configData().listTests || session.configData().listTestNamesOnly) return session.run();
  std::cerr << "spikelab " << spikelab::version::as_string() << " tests; real data: " << SPIKELAB_TEST_DATA_DIR << "\n";
  return session.run();
}
