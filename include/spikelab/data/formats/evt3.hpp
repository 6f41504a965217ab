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

/// The reader of Prophesee EVT 3.0 `.raw` recordings (Prophesee, Metavision documentation,
/// 2024): a stateful decoder of 16-bit words with vectorised events,
/// \f$ t = n_{\mathrm{wrap}} 2^{24} + (\mathrm{high} \ll 12) | \mathrm{low} \f$ µs; triggers and
/// vendor words skipped and counted.
class Evt3 {
 public:
  /// A reader that takes the sensor size from each file's header (a file without one is an error).
  Evt3() = default;
  /// A reader for files of the given sensor: used when a file's header gives no geometry; a
  /// header that gives another geometry is a FormatError. Throws ConfigError unless the sides
  /// are in [1, 2048] (or 0 x 0: from the header) with 2 polarities.
  /// @param sensor the sensor size, e.g. {1280, 720, 2} for the IMX636
  explicit Evt3(SensorSize sensor) : sensor_(detail::check_prophesee_sensor(sensor, "Evt3")) {}

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Prophesee EVT 3.0 (.raw)"; }
  /// The sensor given to the constructor (width 0: taken from each file's header).
  SensorSize sensor() const noexcept { return sensor_; }

  /// The events of an EVT 3.0 file held in `bytes`; `name` names it in errors.
  EventSample parse(ByteSpan bytes, const std::string& name) const {
    PropheseeCounts counts;
    return parse(bytes, name, counts);
  }
  /// The events of `bytes`, and in `counts` what else the file held.
  EventSample parse(ByteSpan bytes, const std::string& name, PropheseeCounts& counts) const {
    counts = PropheseeCounts{};
    const PropheseeHeader h = detail::read_prophesee_header(bytes, name);
    const SensorSize sensor = detail::prophesee_sensor(h, sensor_, "3.0", name);
    const std::size_t n = (bytes.size() - h.size) / 2;
    if ((bytes.size() - h.size) % 2)
      throw FormatError(name, std::int64_t(h.size + 2 * n),
                        "truncated: the last byte does not make a 2-byte EVT 3.0 word");
    const auto W = std::uint32_t(sensor.width), H = std::uint32_t(sensor.height);
    std::vector<Event> ev;
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
      at = h.size + 2 * k;
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
          const std::uint32_t before = time.high();
          if (!time.update(high, counts))
            throw FormatError(name, std::int64_t(at),
                              "EVT_TIME_HIGH goes back from " + std::to_string(before) + " to " + std::to_string(high) +
                                  " (x 4096 us) without wrapping");
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
          throw FormatError(name, std::int64_t(at),
                            "reserved EVT 3.0 word type 0x" + detail::hex_digits(type, 1) + " (word 0x" +
                                detail::hex_digits(w, 4) + ")");
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

static_assert(EventFormat<Evt3>);

}  // namespace spikelab

#endif
