// libFuzzer target: Aedat31 (cAER AEDAT 3.1 packets), whole-file and windowed (DVS Gesture) reads.
#include <spikelab/data/formats/aedat31.hpp>

#include "fuzz_check.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace spikelab;
  const Aedat31 reader;
  try {
    const EventSample s = reader.parse(ByteSpan(data, size), "fuzz");
    fuzz::check_sample(s);
    const std::vector<EventWindow> w{{0, 1000, 0}, {500, 1 << 20, 3}, {std::int64_t(1) << 31, std::int64_t(1) << 40, 10}};
    const std::vector<EventSample> parts = reader.parse_windows(ByteSpan(data, size), "fuzz", w);
    fuzz::require(parts.size() == w.size(), "one sample per window");
    for (std::size_t k = 0; k < w.size(); ++k) {
      fuzz::check_sample(parts[k]);
      std::size_t n = 0;
      for (const Event& e : s.events) n += e.t >= w[k].start && e.t < w[k].end;
      fuzz::require(parts[k].events.size() == n, "window holds exactly the events of its time range");
    }
  } catch (const FormatError&) {
  }
  return 0;
}
