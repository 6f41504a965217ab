// libFuzzer target: NmnistBin (N-MNIST / N-Caltech101 40-bit records).
#include <spikelab/data/formats/nmnist_bin.hpp>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace spikelab;
  for (const NmnistBin& reader : {NmnistBin::nmnist(), NmnistBin::ncaltech101()}) {
    try {
      fuzz::check_sample(reader.parse(ByteSpan(data, size), "fuzz"));
    } catch (const FormatError&) {
    }
  }
  return 0;
}
