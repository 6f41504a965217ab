/**
 * @file data/event.hpp
 * @brief Event, SensorSize and EventSample: the compact integer representation of event-
 *        camera (DVS/ATIS) and spike-train (cochlea) recordings that every reader produces
 *        and every event transform consumes.
 *
 * An event is \f$ e_k = (t_k, x_k, y_k, p_k) \f$: time in microseconds, column x, row y and
 * polarity p. Conventions, fixed once for the whole library:
 *  - **polarity channel 0 = OFF** (brightness decrease), **1 = ON** (increase), whatever the
 *    file's own bit meaning is (AEDAT 2.0 DVS128 stores 0 = ON; the reader converts);
 *  - coordinates are 0-based, x in [0, width), y in [0, height);
 *  - 1-D sensors (the SHD/SSC cochlea model, 700 channels) put the channel index in x, with
 *    height 1 and one polarity (y = p = 0);
 *  - times are int64 microseconds, non-decreasing within a sample (readers sort when a file
 *    is out of order).
 *
 * A dense frame of such a sample (see transforms/to_frame.hpp) flattens (channel c = polarity,
 * row y, column x) into one feature index, channel-major:
 * \f[ f = (c \cdot H + y) \cdot W + x , \f]
 * so a convolution can read the feature vector as a C x H x W image.
 *
 * @code
 * @article{lichtsteiner2008128, title={A 128x128 120 dB 15 us latency asynchronous temporal contrast vision
 *   sensor}, author={Lichtsteiner, Patrick and Posch, Christoph and Delbruck, Tobi},
 *   journal={IEEE Journal of Solid-State Circuits}, volume={43}, number={2}, pages={566--576}, year={2008}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_EVENT_HPP
#define SPIKELAB_DATA_EVENT_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/types.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

namespace spikelab {

/// The geometry of an event sensor, as tonic's `sensor_size` (width, height, polarities).
struct SensorSize {
  std::int32_t width = 0;       ///< x range [0, width)
  std::int32_t height = 0;      ///< y range [0, height)
  std::int32_t polarities = 2;  ///< polarity channels (2 = OFF/ON, 1 = merged or 1-D sensors)

  /// Features of one dense frame: polarities * height * width.
  Index features() const noexcept { return Index(width) * Index(height) * Index(polarities); }
  /// Feature index of (channel c, row y, column x): (c*H + y)*W + x.
  Index feature(Index c, Index y, Index x) const noexcept { return (c * height + y) * width + x; }
  /// "WxHxP", for messages.
  std::string to_string() const {
    return std::to_string(width) + "x" + std::to_string(height) + "x" + std::to_string(polarities);
  }
  friend bool operator==(const SensorSize&, const SensorSize&) = default;
};

/// One event: time (µs), column x (or channel for 1-D sensors), row y, polarity (0 OFF, 1 ON).
/// 16 bytes.
struct Event {
  std::int64_t t = 0;  ///< time in µs
  std::uint16_t x = 0;  ///< column
  std::uint16_t y = 0;  ///< row
  std::uint8_t p = 0;  ///< polarity (channel)
  friend bool operator==(const Event&, const Event&) = default;
};
static_assert(sizeof(Event) == 16, "Event is meant to stay 16 bytes");

/// A recording (or a segment of one): its events, the sensor they live on, and the class
/// label (-1 when unknown).
struct EventSample {
  std::vector<Event> events;  ///< the events, in time order
  SensorSize sensor{};  ///< the sensor the events live on
  int label = -1;  ///< the class, -1 when unknown

  /// The number of events.
  std::size_t size() const noexcept { return events.size(); }
  /// True without events.
  bool empty() const noexcept { return events.empty(); }
  /// Time of the first and last event (0 when empty).
  std::int64_t first_time() const noexcept { return events.empty() ? 0 : events.front().t; }
  /// Time of the last event (0 when empty).
  std::int64_t last_time() const noexcept { return events.empty() ? 0 : events.back().t; }
};

/// True if the event times never decrease.
inline bool is_time_ordered(const std::vector<Event>& ev) noexcept {
  for (std::size_t k = 1; k < ev.size(); ++k)
    if (ev[k].t < ev[k - 1].t) return false;
  return true;
}

/// Sorts events by time, keeping the file order of events with equal times (stable); does
/// nothing (one pass) when they are already ordered.
inline void sort_by_time(std::vector<Event>& ev) {
  if (!is_time_ordered(ev))
    std::stable_sort(ev.begin(), ev.end(), [](const Event& a, const Event& b) { return a.t < b.t; });
}

/// Throws ShapeError if an event lies outside the sample's sensor (x, y or polarity).
inline void check_events_in_sensor(const EventSample& s, const std::string& where) {
  const auto W = std::uint32_t(s.sensor.width), H = std::uint32_t(s.sensor.height),
             P = std::uint32_t(s.sensor.polarities);
  for (std::size_t k = 0; k < s.events.size(); ++k) {
    const Event& e = s.events[k];
    if (e.x >= W || e.y >= H || e.p >= P)
      throw ShapeError(where + ": event " + std::to_string(k) + " (x=" + std::to_string(e.x) + ", y=" +
                       std::to_string(e.y) + ", p=" + std::to_string(e.p) + ") lies outside the " +
                       s.sensor.to_string() + " sensor");
  }
}

}  // namespace spikelab

#endif
