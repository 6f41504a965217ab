// libFuzzer target: Aedat2 (jAER AEDAT 1.0/2.0 header and DVS128 events).
#include <spikelab/data/formats/aedat2.hpp>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace spikelab;
  try {
    const Aedat2Header h = parse_aedat2_header(ByteSpan(data, size), "fuzz");
    fuzz::require(h.size <= size, "header longer than the file");
    fuzz::check_sample(Aedat2{}.parse(ByteSpan(data, size), "fuzz"));
  } catch (const FormatError&) {
  }
  return 0;
}
