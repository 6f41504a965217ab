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

/// The EVT 2.0 decoder, the encoding policy of Evt2 (see the file comment for the words).
struct Evt2Encoding {
  static constexpr const char* version = "2.0";  ///< the encoding as the header names it
  static constexpr const char* reader = "Evt2";  ///< the reader's name in messages
  /// The format's name for messages.
  static std::string name() { return "Prophesee EVT 2.0 (.raw)"; }
  /// Appends the change-detection events of the data words, in file order, to `ev` and counts
  /// the other words in `counts`; the words start at byte `begin` of the whole file `bytes`.
  static void decode(ByteSpan bytes, std::size_t begin, SensorSize sensor, const std::string& name,
                     std::vector<Event>& ev, PropheseeCounts& counts) {
    const std::size_t n = detail::whole_words(bytes, begin, 4, "EVT 2.0", name);
    const auto W = std::uint32_t(sensor.width), H = std::uint32_t(sensor.height);
    ev.reserve(n);
    detail::TimeHighUnwrapper<28> time;
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t at = begin + 4 * k;
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
          time.update(high, counts, name, at, "64 us");
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
          throw detail::reserved_word(name, at, "EVT 2.0", w, 8);
      }
    }
  }
};

/// The reader of Prophesee EVT 2.0 `.raw` recordings (Prophesee, Metavision documentation,
/// 2024): \f$ t = (\mathrm{high} \ll 6) | \mathrm{low}_6 \f$ µs, x and y from 11-bit fields,
/// polarity from the word type; triggers and vendor words skipped and counted.
using Evt2 = PropheseeRaw<Evt2Encoding>;

static_assert(EventFormat<Evt2>);

}  // namespace spikelab

#endif
