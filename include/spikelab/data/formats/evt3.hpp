/**
 * @file data/formats/evt3.hpp
 * @brief Evt3: reader of Prophesee / Metavision `.raw` recordings encoded as EVT 3.0 (the
 *        IMX636 default: 16-bit words, vectorised events, state carried from word to word).
 *
 * After the '%' header (formats/prophesee_raw.hpp: geometry, encoding) come 16-bit
 * little-endian words whose 4 high bits give the type; the decoder keeps a state (time, row,
 * polarity, a base column) that the words update:
 *  - EVT_ADDR_Y (0x0): row y = bits 10..0 (bit 11, the master/slave origin, is ignored);
 *  - EVT_ADDR_X (0x2): one event at column x = bits 10..0, polarity bit 11, on the current row;
 *  - VECT_BASE_X (0x3): base column = bits 10..0 and polarity = bit 11 for the vectors after it;
 *  - VECT_12 (0x4) / VECT_8 (0x5): an event at base + i for every set bit i of the 12 / 8 low
 *    bits, then base += 12 / 8 (consecutive vectors continue along the row);
 *  - EVT_TIME_LOW (0x6) / EVT_TIME_HIGH (0x8): the low / high 12 bits of a 24-bit time base;
 *    a new high part clears the low part;
 *  - EXT_TRIGGER (0xA): skipped, counted; OTHERS (0xE), CONTINUED_4 (0x7), CONTINUED_12 (0xF):
 *    vendor extensions, skipped, counted; any other type (0x1, 0x9, 0xB-0xD) is reserved: a
 *    FormatError.
 * An event's time in microseconds is
 * \f[ t = n_{\mathrm{wrap}}\, 2^{24} + (\mathrm{high}_{12} \ll 12) \,|\, \mathrm{low}_{12} , \f]
 * where \f$ n_{\mathrm{wrap}} \f$ counts the wraps of the 24-bit counter (every 16.8 s): a
 * time-high lower than the previous one by at least 2048 is a wrap, a smaller decrease is a
 * FormatError (prophesee_raw.hpp). Events before the first EVT_TIME_HIGH have no known time:
 * they are skipped and counted (PropheseeCounts::before_first_time). Times stay on the file's
 * clock; events are sorted by time (stable) as every reader does.
 *
 * Errors (FormatError naming the file and byte offset): a header naming another encoding or
 * unreadable geometry, no sensor size at all, a reserved word type, an EVT_ADDR_X or vector
 * with no EVT_ADDR_Y before it, a vector with no VECT_BASE_X before it, an event outside the
 * sensor (for a vector: the offset of the vector word), a time-high that goes backwards
 * without wrapping, an odd number of data bytes (a truncated file). The file is read whole.
 *
 * Reference: Prophesee, "EVT 3.0 Format", Metavision SDK documentation (docs.prophesee.ai),
 * 2024.
 */
#ifndef SPIKELAB_DATA_FORMATS_EVT3_HPP
#define SPIKELAB_DATA_FORMATS_EVT3_HPP

#include <spikelab/data/formats/prophesee_raw.hpp>

namespace spikelab {

/// The EVT 3.0 decoder, the encoding policy of Evt3 (see the file comment for the words).
struct Evt3Encoding {
  static constexpr const char* version = "3.0";  ///< the encoding as the header names it
  static constexpr const char* reader = "Evt3";  ///< the reader's name in messages
  /// The format's name for messages.
  static std::string name() { return "Prophesee EVT 3.0 (.raw)"; }
  /// Appends the change-detection events of the data words, in file order, to `ev` and counts
  /// the other words in `counts`; the words start at byte `begin` of the whole file `bytes`.
  static void decode(ByteSpan bytes, std::size_t begin, SensorSize sensor, const std::string& name,
                     std::vector<Event>& ev, PropheseeCounts& counts) {
    const std::size_t n = detail::whole_words(bytes, begin, 2, "EVT 3.0", name);
    const auto W = std::uint32_t(sensor.width), H = std::uint32_t(sensor.height);
    ev.reserve(n);
    detail::TimeHighUnwrapper<12> time;
    std::uint32_t low = 0, y = 0, base = 0, pol = 0;
    bool have_y = false, have_base = false;
    std::size_t at = 0;
    auto emit = [&](std::uint32_t x, std::uint32_t p) {
      if (x >= W || y >= H)
        throw FormatError(name, std::int64_t(at),
                          "event x=" + std::to_string(x) + " y=" + std::to_string(y) + " lies outside the " +
                              std::to_string(W) + "x" + std::to_string(H) + " sensor");
      Event e;
      e.t = (time.unwrapped() << 12) | std::int64_t(low);
      e.x = std::uint16_t(x);
      e.y = std::uint16_t(y);
      e.p = std::uint8_t(p);
      ev.push_back(e);
      ++counts.events;
    };
    auto need = [&](bool ok, const char* what) {
      if (!ok) throw FormatError(name, std::int64_t(at), what);
    };
    for (std::size_t k = 0; k < n; ++k) {
      at = begin + 2 * k;
      const std::uint32_t w = std::uint32_t(bytes[at]) | (std::uint32_t(bytes[at + 1]) << 8);
      const std::uint32_t type = w >> 12;
      switch (type) {
        case 0x0:
          y = w & 0x7FFu;
          have_y = true;
          break;
        case 0x2:
          need(have_y, "EVT_ADDR_X before any EVT_ADDR_Y: the event has no row");
          if (time.seen())
            emit(w & 0x7FFu, (w >> 11) & 1u);
          else
            ++counts.before_first_time;
          break;
        case 0x3:
          base = w & 0x7FFu;
          pol = (w >> 11) & 1u;
          have_base = true;
          break;
        case 0x4:
        case 0x5: {
          const std::uint32_t len = type == 0x4 ? 12 : 8;
          need(have_base, "vector event before any VECT_BASE_X: the vector has no base column");
          need(have_y, "vector event before any EVT_ADDR_Y: the vector has no row");
          const std::uint32_t mask = w & ((1u << len) - 1u);
          for (std::uint32_t i = 0; i < len; ++i)
            if (mask & (1u << i)) {
              if (time.seen())
                emit(base + i, pol);
              else
                ++counts.before_first_time;
            }
          base = std::min(base + len, 4096u);  // past any sensor: later set bits are errors
          break;
        }
        case 0x6:
          low = w & 0xFFFu;
          break;
        case 0x8: {
          const std::uint32_t high = w & 0xFFFu;
          time.update(high, counts, name, at, "4096 us");
          low = 0;
          break;
        }
        case 0xA:
          ++counts.triggers;
          break;
        case 0x7:
        case 0xE:
        case 0xF:
          ++counts.other_words;
          break;
        default:
          throw detail::reserved_word(name, at, "EVT 3.0", w, 4);
      }
    }
  }
};

/// The reader of Prophesee EVT 3.0 `.raw` recordings (Prophesee, Metavision documentation,
/// 2024): a stateful decoder of 16-bit words with vectorised events,
/// \f$ t = n_{\mathrm{wrap}} 2^{24} + (\mathrm{high} \ll 12) | \mathrm{low} \f$ µs; triggers and
/// vendor words skipped and counted.
using Evt3 = PropheseeRaw<Evt3Encoding>;

static_assert(EventFormat<Evt3>);

}  // namespace spikelab

#endif
