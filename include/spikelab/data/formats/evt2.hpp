/**
 * @file data/formats/evt2.hpp
 * @brief Evt2: reader of Prophesee / Metavision `.raw` recordings encoded as EVT 2.0 (Gen3,
 *        GenX320 and IMX636 sensors at low event rates).
 *
 * After the '%' header (formats/prophesee_raw.hpp: geometry, encoding) come 32-bit
 * little-endian words whose 4 high bits give the type:
 *  - CD_OFF (0x0) and CD_ON (0x1): a change-detection event, polarity 0 (OFF) or 1 (ON), with
 *    bits 27..22 the low 6 bits of its time, bits 21..11 x and bits 10..0 y;
 *  - EVT_TIME_HIGH (0x8): bits 27..0 the high 28 bits of the time of the events that follow;
 *  - EXT_TRIGGER (0xA): an edge on an external trigger input: skipped, counted;
 *  - OTHERS (0xE) and CONTINUED (0xF): vendor extensions: skipped, counted;
 *  - any other type is reserved: a FormatError.
 * An event's time, in microseconds, is
 * \f[ t = (\mathrm{high} \ll 6) \,|\, \mathrm{low}_6 , \f]
 * with `high` unwrapped over the 2^34 µs period of the counter (prophesee_raw.hpp). Events
 * before the first EVT_TIME_HIGH have no known time: they are skipped and counted
 * (PropheseeCounts::before_first_time), as happens at the start of a stream cut anywhere.
 * Times stay on the file's clock; events are sorted by time (stable) as every reader does.
 *
 * Errors (FormatError naming the file and byte offset): a header naming another encoding or
 * unreadable geometry, no sensor size at all (no header geometry, no constructor argument), a
 * reserved word type, an event outside the sensor, a time-high that goes backwards without
 * wrapping, a data part whose length is not a whole number of 4-byte words (a truncated file).
 * The file is read whole into memory (a `.raw` word is 4 bytes, a decoded Event 16).
 *
 * Reference: Prophesee, "EVT 2.0 Format", Metavision SDK documentation (docs.prophesee.ai),
 * 2024.
 */
#ifndef SPIKELAB_DATA_FORMATS_EVT2_HPP
#define SPIKELAB_DATA_FORMATS_EVT2_HPP

#include <spikelab/data/formats/prophesee_raw.hpp>

namespace spikelab {

/// The reader of Prophesee EVT 2.0 `.raw` recordings (Prophesee, Metavision documentation,
/// 2024): \f$ t = (\mathrm{high} \ll 6) | \mathrm{low}_6 \f$ µs, x and y from 11-bit fields,
/// polarity from the word type; triggers and vendor words skipped and counted.
class Evt2 {
 public:
  /// A reader that takes the sensor size from each file's header (a file without one is an error).
  Evt2() = default;
  /// A reader for files of the given sensor: used when a file's header gives no geometry; a
  /// header that gives another geometry is a FormatError. Throws ConfigError unless the sides
  /// are in [1, 2048] (or 0 x 0: from the header) with 2 polarities.
  /// @param sensor the sensor size, e.g. {1280, 720, 2} for the IMX636
  explicit Evt2(SensorSize sensor) : sensor_(detail::check_prophesee_sensor(sensor, "Evt2")) {}

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Prophesee EVT 2.0 (.raw)"; }
  /// The sensor given to the constructor (width 0: taken from each file's header).
  SensorSize sensor() const noexcept { return sensor_; }

  /// The events of an EVT 2.0 file held in `bytes`; `name` names it in errors.
  EventSample parse(ByteSpan bytes, const std::string& name) const {
    PropheseeCounts counts;
    return parse(bytes, name, counts);
  }
  /// The events of `bytes`, and in `counts` what else the file held.
  EventSample parse(ByteSpan bytes, const std::string& name, PropheseeCounts& counts) const {
    counts = PropheseeCounts{};
    const PropheseeHeader h = detail::read_prophesee_header(bytes, name);
    const SensorSize sensor = detail::prophesee_sensor(h, sensor_, "2.0", name);
    const std::size_t n = (bytes.size() - h.size) / 4, tail = (bytes.size() - h.size) % 4;
    if (tail)
      throw FormatError(name, std::int64_t(h.size + 4 * n),
                        "truncated: the last " + std::to_string(tail) + " bytes do not make a 4-byte EVT 2.0 word");
    const auto W = std::uint32_t(sensor.width), H = std::uint32_t(sensor.height);
    std::vector<Event> ev;
    ev.reserve(n);
    detail::TimeHighUnwrapper<28> time;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t at = h.size + 4 * k;
      const std::uint32_t w = detail::load_le32(bytes.data() + at);
      const std::uint32_t type = w >> 28;
      switch (type) {
        case 0x0:
        case 0x1: {
          if (!time.seen()) {
            ++counts.before_first_time;
            break;
          }
          const std::uint32_t x = (w >> 11) & 0x7FFu, y = w & 0x7FFu;
          if (x >= W || y >= H)
            throw FormatError(name, std::int64_t(at),
                              "event x=" + std::to_string(x) + " y=" + std::to_string(y) + " lies outside the " +
                                  std::to_string(W) + "x" + std::to_string(H) + " sensor");
          Event e;
          e.t = (time.unwrapped() << 6) | std::int64_t((w >> 22) & 0x3Fu);
          e.x = std::uint16_t(x);
          e.y = std::uint16_t(y);
          e.p = std::uint8_t(type);
          ev.push_back(e);
          ++counts.events;
          break;
        }
        case 0x8: {
          const std::uint32_t high = w & 0x0FFFFFFFu;
          const std::uint32_t before = time.high();
          if (!time.update(high, counts))
            throw FormatError(name, std::int64_t(at),
                              "EVT_TIME_HIGH goes back from " + std::to_string(before) + " to " + std::to_string(high) +
                                  " (x 64 us) without wrapping");
          break;
        }
        case 0xA:
          ++counts.triggers;
          break;
        case 0xE:
        case 0xF:
          ++counts.other_words;
          break;
        default:
          throw FormatError(name, std::int64_t(at),
                            "reserved EVT 2.0 word type 0x" + detail::hex_digits(type, 1) + " (word 0x" +
                                detail::hex_digits(w, 8) + ")");
      }
    }
    return detail::finish_prophesee(std::move(ev), sensor);
  }

  /// The events of the file at `path`.
  EventSample read(const std::filesystem::path& path) const { return parse(detail::read_file(path), path.string()); }
  /// The events of the file at `path`, and in `counts` what else it held.
  EventSample read(const std::filesystem::path& path, PropheseeCounts& counts) const {
    return parse(detail::read_file(path), path.string(), counts);
  }

 private:
  SensorSize sensor_{0, 0, 2};
};

static_assert(EventFormat<Evt2>);

}  // namespace spikelab

#endif
