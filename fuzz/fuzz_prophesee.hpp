// What the Prophesee .raw targets (fuzz_evt2, fuzz_evt3) check: each input read with the sensor
// from the header and with the sensor from the constructor; the counts must agree with the
// events returned, and the sample must lie on the reader's sensor.
#ifndef SPIKELAB_FUZZ_PROPHESEE_HPP
#define SPIKELAB_FUZZ_PROPHESEE_HPP

#include <spikelab/data/formats/prophesee_raw.hpp>

#include "fuzz_check.hpp"

namespace spikelab::fuzz {

template <class Reader>
int prophesee_input(const std::uint8_t* data, std::size_t size) {
  for (const Reader& reader : {Reader(), Reader(SensorSize{64, 48, 2})}) {
    try {
      PropheseeCounts counts;
      const EventSample s = reader.parse(ByteSpan(data, size), "fuzz", counts);
      check_sample(s);
      require(counts.events == s.events.size(), "counts.events is the number of events returned");
      require(reader.sensor().width == 0 || s.sensor == reader.sensor(), "the sample is on the reader's sensor");
    } catch (const FormatError&) {}
  }
  return 0;
}

}  // namespace spikelab::fuzz

#endif
