/**
 * @file data/formats/aedat2.hpp
 * @brief Aedat2: reader of jAER AEDAT 1.0 / 2.0 files from a DVS128 (MNIST-DVS, the original
 *        CIFAR10-DVS, other DVS128 / tmpdiff128 recordings).
 *
 * Header: zero or more ASCII lines starting with '#', ended by CRLF or LF; the first line is
 * normally `#!AER-DAT2.0` (or 1.0; no version line means 1.0). The header ends at the first
 * line that does not start with '#'. Body, big-endian: v2.0 = (uint32 address, uint32 time µs)
 * per event, v1.0 = (uint16 address, uint32 time).
 *
 * DVS128 address bits and the conventions chosen (those of the dataset authors' reader):
 * \f[ p_{\mathrm{file}} = a \,\&\, 1\ (0 = \mathrm{ON}),\quad x = 127 - ((a \gg 1) \,\&\, 0x7F),
 *     \quad y = (a \gg 8) \,\&\, 0x7F , \f]
 * stored as polarity 1 = ON, 0 = OFF (library convention). Addresses with bit 15 set are
 * jAER special (external/sync) events and are skipped; an address with any of bits 16..31
 * set is not a DVS128 event and is an error. Times are un-wrapped when they decrease: by
 * 2^32 when the drop is a 32-bit wrap (more than 2^31), otherwise the clock is taken as
 * reset and restarts at the previous event's time, t = t_prev + raw (as the authors' dat2mat.m
 * does); then
 * the first time is subtracted, so samples start at t = 0. Note that tonic's
 * `read_dvs_128` transposes x and y and keeps the raw polarity bit; use the Flip/Transpose
 * transforms to match other conventions.
 *
 * Errors (FormatError with the byte offset): empty file, an AEDAT 3.x or unknown version line,
 * an AEChip other than DVS128/Tmpdiff128 (their address layouts differ), a truncated last
 * event, a non-DVS128 address.
 *
 * @code
 * @article{serrano2015poker, title={Poker-DVS and MNIST-DVS. Their history, how they were made, and
 *   other details}, author={Serrano-Gotarredona, Teresa and Linares-Barranco, Bernab{\'e}},
 *   journal={Frontiers in Neuroscience}, volume={9}, pages={481}, year={2015}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_FORMATS_AEDAT2_HPP
#define SPIKELAB_DATA_FORMATS_AEDAT2_HPP

#include <spikelab/data/formats/event_format.hpp>

#include <string_view>

namespace spikelab {

/// The parsed text header of an AEDAT 1.0/2.0 file.
struct Aedat2Header {
  int version = 1;            ///< 1 or 2 (no version line: 1)
  std::size_t size = 0;       ///< header length in bytes (the body starts here)
  std::string chip;           ///< the `# AEChip:` value, or empty
  std::vector<std::string> lines;  ///< header lines without the line end
};

/// Parses the '#' header lines of an AEDAT 1.0/2.0 file (throws FormatError for AEDAT 3+).
inline Aedat2Header parse_aedat2_header(ByteSpan bytes, const std::string& name) {
  Aedat2Header h;
  std::size_t pos = 0;
  const std::size_t n = bytes.size();
  while (pos < n && bytes[pos] == '#') {
    std::size_t end = pos;
    while (end < n && bytes[end] != '\n') ++end;
    std::size_t stop = end;
    if (stop > pos && bytes[stop - 1] == '\r') --stop;
    std::string line(reinterpret_cast<const char*>(bytes.data() + pos), stop - pos);
    if (line.rfind("#!AER-DAT", 0) == 0) {
      if (!h.lines.empty())
        throw FormatError(name, std::int64_t(pos), "version line '" + line + "' is not the first header line");
      const std::string v = line.substr(9);
      if (v.rfind("2.", 0) == 0)
        h.version = 2;
      else if (v.rfind("1.", 0) == 0)
        h.version = 1;
      else if (v.rfind("3.", 0) == 0 || v.rfind("4.", 0) == 0)
        throw FormatError(name, std::int64_t(pos), "this is an AEDAT " + v + " file; read it with Aedat31 (3.x)");
      else
        throw FormatError(name, std::int64_t(pos),
                          "unknown AEDAT version line '" + detail::printable(bytes.data() + pos, stop - pos) + "'");
    }
    constexpr std::string_view chip_key = "# AEChip:";
    if (line.rfind(chip_key, 0) == 0) {
      std::string c = line.substr(chip_key.size());
      while (!c.empty() && c.front() == ' ') c.erase(c.begin());
      while (!c.empty() && (c.back() == ' ' || c.back() == '\t')) c.pop_back();
      h.chip = c;
    }
    h.lines.push_back(std::move(line));
    pos = end < n ? end + 1 : end;
  }
  h.size = pos;
  return h;
}

/// The EventFormat reader of jAER AEDAT 1.0 / 2.0 files from a DVS128 (MNIST-DVS, the original
/// CIFAR10-DVS); throws FormatError naming the file and byte offset on bad input.
class Aedat2 {
 public:
  static constexpr SensorSize dvs128_sensor{128, 128, 2};  ///< 128 x 128, 2 polarities

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "AEDAT 2.0 (jAER, DVS128)"; }
  /// The sensor the samples live on.
  SensorSize sensor() const noexcept { return dvs128_sensor; }

  /// The events of an AEDAT 2.0 file held in `bytes`; `name` names it in errors.
  EventSample parse(ByteSpan bytes, const std::string& name) const {
    EventSample s;
    s.sensor = dvs128_sensor;
    if (bytes.empty()) throw FormatError(name, 0, "empty file");
    const Aedat2Header h = parse_aedat2_header(bytes, name);
    if (!h.chip.empty() && h.chip.find("DVS128") == std::string::npos &&
        h.chip.find("Tmpdiff128") == std::string::npos && h.chip.find("tmpdiff128") == std::string::npos)
      throw FormatError(name, 0,
                        "AEChip '" + h.chip + "' is not a DVS128: only DVS128/Tmpdiff128 addresses are decoded");
    const std::size_t rec = h.version == 2 ? 8 : 6;
    const std::size_t body = bytes.size() - h.size;
    if (body % rec != 0)
      throw FormatError(name, std::int64_t(h.size + body - body % rec),
                        "truncated event: " + std::to_string(body % rec) + " bytes left after the last complete " +
                            std::to_string(rec) + "-byte event");
    const std::size_t count = body / rec;
    s.events.reserve(count);
    const std::uint8_t* b = bytes.data() + h.size;
    std::int64_t offset = 0, first = 0;
    std::uint32_t prev_raw = 0;
    bool have = false, ordered = true;
    std::int64_t last = 0;
    for (std::size_t k = 0; k < count; ++k, b += rec) {
      std::uint32_t a, ts;
      if (rec == 8) {
        a = detail::load_be32(b);
        ts = detail::load_be32(b + 4);
      } else {
        a = detail::load_be16(b);
        ts = detail::load_be32(b + 2);
      }
      if (a >> 16)
        throw FormatError(name, std::int64_t(h.size + k * rec),
                          "address 0x" + hex(a) + " has bits above 15 set: not a DVS128 polarity event");
      if (have && ts < prev_raw) {
        if (prev_raw - ts > 0x80000000u)
          offset += std::int64_t(1) << 32;  // 32-bit wrap
        else
          offset += std::int64_t(prev_raw);  // clock reset: restart from the previous event's time (dat2mat)
      }
      prev_raw = ts;
      const std::int64_t t = std::int64_t(ts) + offset;
      if (!have) {
        first = t;
        have = true;
      }
      if (a & 0x8000u) continue;  // special (external) event
      Event e;
      e.t = t - first;
      e.x = std::uint16_t(127 - ((a >> 1) & 0x7F));
      e.y = std::uint16_t((a >> 8) & 0x7F);
      e.p = std::uint8_t((a & 1u) ? 0 : 1);
      ordered &= e.t >= last;
      last = e.t;
      s.events.push_back(e);
    }
    if (!ordered) sort_by_time(s.events);
    return s;
  }

  /// The events of the file at `path`.
  EventSample read(const std::filesystem::path& path) const {
    std::vector<std::uint8_t> buf;
    detail::read_file_into(path, buf);
    return parse(ByteSpan(buf.data(), buf.size()), path.string());
  }

 private:
  static std::string hex(std::uint32_t v) {
    static const char* d = "0123456789abcdef";
    std::string s(8, '0');
    for (int i = 7; i >= 0; --i, v >>= 4) s[std::size_t(i)] = d[v & 15];
    return s;
  }
};

}  // namespace spikelab

#endif
