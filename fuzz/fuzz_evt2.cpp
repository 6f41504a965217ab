// libFuzzer target: Evt2 (Prophesee EVT 2.0 .raw), with the sensor from the header and from the
// constructor (fuzz_prophesee.hpp).
#include <spikelab/data/formats/evt2.hpp>

#include "fuzz_prophesee.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  return spikelab::fuzz::prophesee_input<spikelab::Evt2>(data, size);
}
