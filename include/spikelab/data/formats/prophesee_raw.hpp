/**
 * @file data/formats/prophesee_raw.hpp
 * @brief PropheseeRaw, the reader of Prophesee `.raw` recordings that Evt2 and Evt3 are
 *        (formats/evt2.hpp, evt3.hpp): the ASCII header that carries the sensor geometry, the
 *        counts of the words a reader skips, and the unwrapping of the time-high counter.
 *
 * A Metavision `.raw` recording starts with ASCII lines that begin with '%', e.g.
 * @code{.txt}
 * % camera_integrator_name Prophesee
 * % evt 3.0
 * % format EVT3;height=720;width=1280
 * % geometry 1280x720
 * % end
 * @endcode
 * followed by the binary event stream. The header is read line by line while a line starts
 * with '%', and ends after `% end` (older recordings have no `% end`: there it ends at the first
 * line that does not start with '%'). The sensor size comes from `% format <EVT>;height=H;width=W`
 * or `% geometry WxH` (both must agree when both are present); the encoding from the name in
 * `% format` (EVT2, EVT3, EVT21...) or from `% evt 2.0` / `% evt 3.0`. A file without a header,
 * or with a header that gives no geometry, takes its sensor from the reader's constructor
 * argument; without one it is a FormatError.
 *
 * Time: both encodings split a microsecond counter into a high part, sent in its own
 * EVT_TIME_HIGH word when it changes, and a low part attached to the events. The high part
 * wraps (EVT 2.0: after 2^34 µs, about 4 h 46 min; EVT 3.0: after 2^24 µs, about 16.8 s), so
 * a high value *lower* than the previous one by at least half of its range is the counter's
 * wrap and adds one period to every later time (times stay monotonic over recordings of any
 * length); a smaller decrease cannot come from a counter that only counts up and is a
 * FormatError at the offending word.
 *
 * Reference: Prophesee, "Event Stream Data Formats: EVT 2.0, EVT 3.0" and "RAW file format",
 * Metavision SDK documentation (docs.prophesee.ai), 2024.
 */
#ifndef SPIKELAB_DATA_FORMATS_PROPHESEE_RAW_HPP
#define SPIKELAB_DATA_FORMATS_PROPHESEE_RAW_HPP

#include <spikelab/data/formats/event_format.hpp>

#include <cstdlib>
#include <optional>

namespace spikelab {

/// The ASCII header of a Prophesee `.raw` file (see the file comment).
struct PropheseeHeader {
  std::size_t size = 0;            ///< bytes up to and including the last header line (0: no header)
  std::vector<std::string> lines;  ///< the header lines without '%', leading blanks and line ends
  std::string encoding;            ///< "2.0", "3.0", "2.1"... from `% format` or `% evt`; empty if not given
  std::int32_t width = 0;          ///< sensor width from `% format` / `% geometry`; 0 if not given
  std::int32_t height = 0;         ///< sensor height; 0 if not given
};

/// What a Prophesee reader decoded besides the change-detection events, for a caller who
/// wants to know what was skipped (triggers are not events of the pixel array).
struct PropheseeCounts {
  std::uint64_t events = 0;             ///< change-detection events decoded
  std::uint64_t triggers = 0;           ///< EXT_TRIGGER words (skipped)
  std::uint64_t other_words = 0;        ///< OTHERS and CONTINUED words (vendor extensions, skipped)
  std::uint64_t before_first_time = 0;  ///< events before the first EVT_TIME_HIGH (time unknown, skipped)
  std::uint64_t time_wraps = 0;         ///< wraps of the time-high counter that were unwrapped
};

namespace detail {

/// Parses an unsigned decimal in [1, 2048] (the largest Prophesee sensor side), else nullopt.
inline std::optional<std::int32_t> prophesee_side(const std::string& s) {
  if (s.empty() || s.size() > 5) return std::nullopt;
  std::int32_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  if (v < 1 || v > 2048) return std::nullopt;
  return v;
}

/// Reads the '%' header at the start of `b` (an empty header when the file does not start with '%').
inline PropheseeHeader read_prophesee_header(ByteSpan b, const std::string& name) {
  PropheseeHeader h;
  std::size_t pos = 0;
  std::int32_t fw = 0, fh = 0, gw = 0, gh = 0;
  std::string format_enc, evt_enc;
  while (pos < b.size() && b[pos] == '%') {
    const std::size_t start = pos;
    while (pos < b.size() && b[pos] != '\n') ++pos;
    const bool eol = pos < b.size();
    std::string line(reinterpret_cast<const char*>(b.data()) + start + 1, pos - start - 1);
    if (eol) ++pos;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const std::size_t first = line.find_first_not_of(" \t");
    line = first == std::string::npos ? std::string() : line.substr(first);
    auto bad = [&](const std::string& what) {
      return FormatError(
          name, std::int64_t(start),
          "header line '%" + printable(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()) + "': " + what);
    };
    h.lines.push_back(line);
    const std::size_t sp = line.find_first_of(" \t");
    const std::string key = line.substr(0, sp);
    std::string value = sp == std::string::npos ? std::string() : line.substr(sp);
    const std::size_t v0 = value.find_first_not_of(" \t");
    value = v0 == std::string::npos ? std::string() : value.substr(v0);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    if (key == "end") break;
    if (key == "evt") {
      evt_enc = value;
    } else if (key == "format") {  // EVT3;height=720;width=1280
      std::size_t k = value.find(';');
      const std::string enc = value.substr(0, k);
      if (enc.size() < 4 || enc.compare(0, 3, "EVT") != 0) throw bad("unknown encoding '" + enc + "'");
      format_enc = enc.substr(3, 1) + "." + (enc.size() > 4 ? enc.substr(4) : std::string("0"));
      while (k != std::string::npos) {
        const std::size_t next = value.find(';', k + 1);
        const std::string kv = value.substr(k + 1, next == std::string::npos ? std::string::npos : next - k - 1);
        const std::size_t eq = kv.find('=');
        const std::string kk = kv.substr(0, eq), vv = eq == std::string::npos ? std::string() : kv.substr(eq + 1);
        if (kk == "width" || kk == "height") {
          const auto side = prophesee_side(vv);
          if (!side) throw bad(kk + " '" + vv + "' is not a whole number in [1, 2048]");
          (kk == "width" ? fw : fh) = *side;
        }
        k = next;
      }
      if ((fw == 0) != (fh == 0)) throw bad("gives only one of width and height");
    } else if (key == "geometry") {  // 1280x720
      const std::size_t x = value.find('x');
      const auto w = prophesee_side(value.substr(0, x));
      const auto hh = x == std::string::npos ? std::nullopt : prophesee_side(value.substr(x + 1));
      if (!w || !hh) throw bad("the geometry is not WxH with sides in [1, 2048]");
      gw = *w;
      gh = *hh;
    }
    if (!eol) break;
  }
  h.size = pos;
  if (!format_enc.empty() && !evt_enc.empty() && format_enc != evt_enc)
    throw FormatError(name, 0, "the header names two encodings: format EVT " + format_enc + " and evt " + evt_enc);
  h.encoding = !format_enc.empty() ? format_enc : evt_enc;
  if (fw && gw && (fw != gw || fh != gh))
    throw FormatError(name, 0,
                      "the header's format line says " + std::to_string(fw) + "x" + std::to_string(fh) +
                          " but its geometry line says " + std::to_string(gw) + "x" + std::to_string(gh));
  h.width = fw ? fw : gw;
  h.height = fw ? fh : gh;
  return h;
}

/// The sensor of a file: the header's geometry, else the reader's `fallback` (width 0: none).
/// Throws when the encoding named in the header is not `encoding`, when the header and the
/// fallback disagree, or when neither gives a size.
inline SensorSize prophesee_sensor(const PropheseeHeader& h, SensorSize fallback, const std::string& encoding,
                                   const std::string& name) {
  if (!h.encoding.empty() && h.encoding != encoding)
    throw FormatError(name, 0,
                      "the header says the events are encoded as EVT " + h.encoding + ", this reader decodes EVT " +
                          encoding +
                          (h.encoding == "2.0"   ? " (use Evt2)"
                           : h.encoding == "3.0" ? " (use Evt3)"
                                                 : ""));
  if (h.width) {
    if (fallback.width && (fallback.width != h.width || fallback.height != h.height))
      throw FormatError(name, 0,
                        "the header gives a " + std::to_string(h.width) + "x" + std::to_string(h.height) +
                            " sensor, the reader was made for " + std::to_string(fallback.width) + "x" +
                            std::to_string(fallback.height));
    return SensorSize{h.width, h.height, 2};
  }
  if (!fallback.width)
    throw FormatError(name, 0,
                      h.size ? "the header gives no sensor geometry (no '% format' or '% geometry' line); pass the "
                               "sensor size to the reader"
                             : "no '%' header, so no sensor geometry; pass the sensor size to the reader");
  return fallback;
}

/// Checks a reader's sensor argument: width 0 (take it from the header) or sides in [1, 2048].
inline SensorSize check_prophesee_sensor(SensorSize s, const char* reader) {
  const bool from_header = s.width == 0 && s.height == 0;
  if (s.polarities != 2 || (!from_header && (s.width < 1 || s.height < 1 || s.width > 2048 || s.height > 2048)))
    throw ConfigError(std::string(reader) +
                      ": the sensor needs sides in [1, 2048] (or 0 x 0: from the file's header) "
                      "and 2 polarities");
  return s;
}

/// The time-high counter of a Prophesee stream, unwrapped (see the file comment).
/// @tparam Bits the width of the counter's high part (28 for EVT 2.0, 12 for EVT 3.0)
template <int Bits>
class TimeHighUnwrapper {
 public:
  /// Takes a new high value from the word at byte `at` of file `name`; throws FormatError when
  /// it decreases by less than half of the range (no wrap). `unit` names a high step in messages.
  void update(std::uint32_t high, PropheseeCounts& counts, const std::string& name, std::size_t at, const char* unit) {
    constexpr std::uint32_t half = std::uint32_t(1) << (Bits - 1);
    if (seen_ && high < high_) {
      if (high_ - high < half)
        throw FormatError(name, std::int64_t(at),
                          "EVT_TIME_HIGH goes back from " + std::to_string(high_) + " to " + std::to_string(high) +
                              " (x " + unit + ") without wrapping");
      ++wraps_;
      ++counts.time_wraps;
    }
    seen_ = true;
    high_ = high;
  }
  /// True once a high value has been seen.
  bool seen() const noexcept { return seen_; }
  /// The current high value.
  std::uint32_t high() const noexcept { return high_; }
  /// The unwrapped high part: wraps * 2^Bits + high.
  std::int64_t unwrapped() const noexcept { return (wraps_ << Bits) + std::int64_t(high_); }

 private:
  bool seen_ = false;
  std::uint32_t high_ = 0;
  std::int64_t wraps_ = 0;
};

/// The number of `size`-byte words after byte `begin` of a file; throws FormatError (truncated)
/// when the bytes do not make whole words.
inline std::size_t whole_words(ByteSpan bytes, std::size_t begin, std::size_t size, const char* encoding,
                               const std::string& name) {
  const std::size_t n = (bytes.size() - begin) / size, tail = (bytes.size() - begin) % size;
  if (tail)
    throw FormatError(name, std::int64_t(begin + size * n),
                      "truncated: the last " + std::to_string(tail) + " byte(s) do not make a " + std::to_string(size) +
                          "-byte " + encoding + " word");
  return n;
}

/// The FormatError for a word of a reserved type (`w` printed with `digits` hexadecimal digits).
inline FormatError reserved_word(const std::string& name, std::size_t at, const char* encoding, std::uint32_t w,
                                 int digits) {
  const std::string all = "0123456789ABCDEF";
  std::string hex(std::size_t(digits), '0');
  for (int i = digits - 1; i >= 0; --i) hex[std::size_t(i)] = all[(w >> (4 * (digits - 1 - i))) & 15];
  return FormatError(
      name, std::int64_t(at),
      "reserved " + std::string(encoding) + " word type 0x" + hex.substr(0, 1) + " (word 0x" + hex + ")");
}

}  // namespace detail

/// A reader of Prophesee / Metavision `.raw` recordings, an EventFormat: the '%' header gives
/// the sensor (else the constructor does), the encoding policy decodes the words after it
/// (Evt2Encoding, Evt3Encoding; Prophesee, Metavision SDK documentation, 2024). Use it as
/// Evt2 / Evt3. The events come back sorted by time (stable) on the file's own clock.
/// @tparam Encoding the word decoder: `version` ("2.0"), `reader` (its name), `name()` and
///         `decode(bytes, begin, sensor, name, events, counts)`
template <class Encoding>
class PropheseeRaw {
 public:
  /// A reader that takes the sensor size from each file's header (a file without one is an error).
  PropheseeRaw() = default;
  /// A reader for files of the given sensor: used when a file's header gives no geometry; a
  /// header that gives another geometry is a FormatError. Throws ConfigError unless the sides
  /// are in [1, 2048] (or 0 x 0: from the header) with 2 polarities.
  /// @param sensor the sensor size, e.g. {1280, 720, 2} for the IMX636
  explicit PropheseeRaw(SensorSize sensor) : sensor_(detail::check_prophesee_sensor(sensor, Encoding::reader)) {}

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return Encoding::name(); }
  /// The sensor given to the constructor (width 0: taken from each file's header).
  SensorSize sensor() const noexcept { return sensor_; }

  /// The events of a file held in `bytes`; `name` names it in errors.
  EventSample parse(ByteSpan bytes, const std::string& name) const {
    PropheseeCounts counts;
    return parse(bytes, name, counts);
  }
  /// The events of `bytes`, and in `counts` what else the file held.
  EventSample parse(ByteSpan bytes, const std::string& name, PropheseeCounts& counts) const {
    counts = PropheseeCounts{};
    const PropheseeHeader h = detail::read_prophesee_header(bytes, name);
    const SensorSize sensor = detail::prophesee_sensor(h, sensor_, Encoding::version, name);
    EventSample s;
    s.sensor = sensor;
    Encoding::decode(bytes, h.size, sensor, name, s.events, counts);
    sort_by_time(s.events);
    return s;
  }

  /// The events of the file at `path` (read whole: a word is 2 or 4 bytes, a decoded Event 16).
  EventSample read(const std::filesystem::path& path) const { return parse(detail::read_file(path), path.string()); }
  /// The events of the file at `path`, and in `counts` what else it held.
  EventSample read(const std::filesystem::path& path, PropheseeCounts& counts) const {
    return parse(detail::read_file(path), path.string(), counts);
  }

 private:
  SensorSize sensor_{0, 0, 2};
};

}  // namespace spikelab

#endif
