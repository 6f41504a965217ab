// Invariants every decoded sample must satisfy; a violation aborts the fuzzer (a finding).
#ifndef SPIKELAB_FUZZ_CHECK_HPP
#define SPIKELAB_FUZZ_CHECK_HPP

#include <spikelab/data/event.hpp>
#include <spikelab/data/transforms/to_frame.hpp>

#include <cstdio>
#include <cstdlib>

namespace spikelab::fuzz {

inline void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "invariant violated: %s\n", what);
    std::abort();
  }
}

/// Time-ordered, inside the sensor, non-negative times; binning counts every event exactly once.
inline void check_sample(const EventSample& s, bool times_non_negative = true) {
  require(is_time_ordered(s.events), "events are not time-ordered");
  for (const Event& e : s.events) {
    require(e.x < s.sensor.width && e.y < s.sensor.height && e.p < s.sensor.polarities, "event outside the sensor");
    if (times_non_negative) require(e.t >= 0, "negative time");
  }
  if (s.sensor.features() <= 40000) {  // keep each run cheap: bin small sensors only
    Rng rng(1);
    const Frames f = ToFrame({.n_time_bins = 2})(s, rng);
    require(f.total() == double(s.events.size()), "ToFrame lost or duplicated events");
  }
}

}  // namespace spikelab::fuzz

#endif
