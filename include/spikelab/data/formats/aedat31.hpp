/**
 * @file data/formats/aedat31.hpp
 * @brief Aedat31: reader of cAER AEDAT 3.1 files (DVS128 Gesture), polarity packets only,
 *        streamed packet by packet so that trial files of tens of MB are never held whole.
 *
 * Header: ASCII lines starting with '#' (`#!AER-DAT3.1`, `#Format: RAW`, `#Source 1: DVS128`,
 * ...), ended by `#!END-HEADER` (parsing stops there; binary data may start with 0x23 '#').
 * Body: packets, little-endian. A 28-byte packet header (int16 eventType, int16 eventSource,
 * int32 eventSize, eventTSOffset, eventTSOverflow, eventCapacity, eventNumber, eventValid) is
 * followed by eventCapacity x eventSize bytes. Packets with eventType != 1 (special, frame,
 * IMU...) are skipped. A polarity event is (uint32 data, int32 timestamp):
 * \f[ \mathrm{valid} = d \,\&\, 1,\quad p = (d \gg 1) \,\&\, 1\ (1 = \mathrm{ON}),\quad
 *     y = (d \gg 2) \,\&\, 0x7FFF,\quad x = (d \gg 17) \,\&\, 0x7FFF,\quad
 *     t = (\mathrm{tsOverflow} \ll 31) \,|\, \mathrm{timestamp}. \f]
 * Invalid events (valid bit 0) are skipped; only the first eventNumber slots are decoded.
 * Times stay on the file's absolute clock (DVS Gesture label windows use the same clock).
 *
 * Errors (FormatError with the byte offset): empty file, a first line other than
 * `#!AER-DAT3.x`, no `#!END-HEADER`, a truncated packet header or payload, inconsistent packet
 * fields (size, capacity, number, valid, timestamp offset), a negative timestamp, an event
 * outside the sensor (128 x 128 by default).
 *
 * @code
 * @inproceedings{amir2017low, title={A low power, fully event-based gesture recognition system},
 *   author={Amir, Arnon and Taba, Brian and Berg, David and others}, booktitle={CVPR},
 *   pages={7243--7252}, year={2017}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_FORMATS_AEDAT31_HPP
#define SPIKELAB_DATA_FORMATS_AEDAT31_HPP

#include <spikelab/data/formats/event_format.hpp>

#include <algorithm>
#include <cstring>

namespace spikelab {

/// A time window [start, end) on a recording's clock with the label of what happens in it.
struct EventWindow {
  std::int64_t start = 0;  ///< the window's first time (µs)
  std::int64_t end = 0;  ///< the time after its last event (µs, exclusive)
  int label = -1;  ///< its class
};

/// The parsed text header of an AEDAT 3.x file.
struct Aedat31Header {
  std::string version;             ///< e.g. "3.1"
  std::size_t size = 0;            ///< bytes up to and including the #!END-HEADER line
  std::vector<std::string> lines;  ///< header lines without line ends
};

namespace detail {

/// Byte input over memory.
class MemoryBytes {
 public:
  MemoryBytes(ByteSpan b) : b_(b) {}
  std::uint64_t size() const noexcept { return b_.size(); }
  std::uint64_t position() const noexcept { return pos_; }
  std::uint64_t remaining() const noexcept { return b_.size() - pos_; }
  /// Copies n bytes; false (nothing consumed) if fewer remain.
  bool read(std::uint8_t* dst, std::size_t n) {
    if (n > remaining()) return false;
    if (n) std::memcpy(dst, b_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  /// Points at the next n bytes without copying (valid until the next call); null if fewer remain.
  const std::uint8_t* view(std::size_t n, std::vector<std::uint8_t>&) {
    if (n > remaining()) return nullptr;
    const std::uint8_t* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }
  bool skip(std::uint64_t n) {
    if (n > remaining()) return false;
    pos_ += n;
    return true;
  }

 private:
  ByteSpan b_;
  std::uint64_t pos_ = 0;
};

/// Byte input over a file, buffered.
class FileBytes {
 public:
  explicit FileBytes(const std::filesystem::path& path) : path_(path.string()) {
    size_ = open_for_reading(path, in_);
  }
  std::uint64_t size() const noexcept { return size_; }
  std::uint64_t position() const noexcept { return pos_; }
  std::uint64_t remaining() const noexcept { return size_ - pos_; }
  bool read(std::uint8_t* dst, std::size_t n) {
    if (n > remaining()) return false;
    while (n) {
      if (head_ == buf_.size()) fill();
      const std::size_t k = std::min(n, buf_.size() - head_);
      std::memcpy(dst, buf_.data() + head_, k);
      head_ += k;
      dst += k;
      n -= k;
      pos_ += k;
    }
    return true;
  }
  const std::uint8_t* view(std::size_t n, std::vector<std::uint8_t>& scratch) {
    if (n > remaining()) return nullptr;
    if (buf_.size() - head_ >= n) {
      const std::uint8_t* p = buf_.data() + head_;
      head_ += n;
      pos_ += n;
      return p;
    }
    scratch.resize(n);
    read(scratch.data(), n);
    return scratch.data();
  }
  bool skip(std::uint64_t n) {
    if (n > remaining()) return false;
    const std::uint64_t in_buf = buf_.size() - head_;
    if (n <= in_buf) {
      head_ += std::size_t(n);
    } else {
      head_ = buf_.size();
      in_.seekg(std::streamoff(pos_ + n));
      if (!in_) throw FileError(path_, std::int64_t(pos_), "seek failed");
    }
    pos_ += n;
    return true;
  }

 private:
  void fill() {
    buf_.resize(std::size_t(std::min<std::uint64_t>(1 << 20, remaining())));
    head_ = 0;
    if (!in_.read(reinterpret_cast<char*>(buf_.data()), std::streamsize(buf_.size())))
      throw FileError(path_, std::int64_t(pos_), "read error");
  }
  std::string path_;
  std::ifstream in_;
  std::uint64_t size_ = 0, pos_ = 0;
  std::vector<std::uint8_t> buf_;
  std::size_t head_ = 0;
};

template <class In>
Aedat31Header read_aedat31_header(In& in, const std::string& name) {
  Aedat31Header h;
  if (in.size() == 0) throw FormatError(name, 0, "empty file");
  std::string line;
  std::uint8_t c = 0;
  for (;;) {
    const std::uint64_t line_start = in.position();
    line.clear();
    bool eol = false;
    while (in.read(&c, 1)) {
      if (c == '\n') {
        eol = true;
        break;
      }
      line += char(c);
      if (line.size() > 65536) throw FormatError(name, std::int64_t(line_start), "header line longer than 64 KiB");
    }
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!eol && line.empty()) throw FormatError(name, std::int64_t(in.position()), "the header has no #!END-HEADER line");
    if (h.lines.empty()) {
      if (line.rfind("#!AER-DAT", 0) != 0)
        throw FormatError(name, 0,
                          "not an AEDAT file: the first line is '" +
                              printable(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()) +
                              "', expected '#!AER-DAT3.1'");
      h.version = line.substr(9);
      if (h.version.rfind("3.", 0) != 0)
        throw FormatError(name, 0, "AEDAT version " + h.version + " is not 3.x (use Aedat2 for 1.0/2.0)");
    } else if (line.empty() || line[0] != '#') {
      throw FormatError(name, std::int64_t(line_start), "header line does not start with '#' before #!END-HEADER");
    }
    h.lines.push_back(line);
    if (line == "#!END-HEADER") break;
    if (!eol) throw FormatError(name, std::int64_t(in.position()), "the header has no #!END-HEADER line");
  }
  h.size = std::size_t(in.position());
  return h;
}

/// Calls f(event, byte offset of the event) for every valid polarity event, in file order.
template <class In, class F>
void for_each_aedat31_event(In& in, const std::string& name, SensorSize sensor, F&& f) {
  read_aedat31_header(in, name);
  std::uint8_t ph[28];
  std::vector<std::uint8_t> scratch;
  const auto W = std::uint32_t(sensor.width), H = std::uint32_t(sensor.height);
  while (in.remaining() > 0) {
    const std::uint64_t at = in.position();
    if (!in.read(ph, 28))
      throw FormatError(name, std::int64_t(at),
                        "truncated packet header: " + std::to_string(in.remaining()) + " bytes left, 28 needed");
    const int type = load_le16s(ph);
    const std::int64_t size = load_le32s(ph + 4), ts_off = load_le32s(ph + 8), overflow = load_le32s(ph + 12),
                       capacity = load_le32s(ph + 16), number = load_le32s(ph + 20), valid = load_le32s(ph + 24);
    auto bad = [&](std::int64_t field, const std::string& what) {
      return FormatError(name, std::int64_t(at) + field, "packet header: " + what);
    };
    if (size <= 0) throw bad(4, "event size " + std::to_string(size) + " is not positive");
    if (capacity < 0) throw bad(16, "negative event capacity " + std::to_string(capacity));
    if (number < 0 || number > capacity)
      throw bad(20, "event number " + std::to_string(number) + " outside [0, capacity " + std::to_string(capacity) + "]");
    if (valid < 0 || valid > number)
      throw bad(24, "valid count " + std::to_string(valid) + " outside [0, number " + std::to_string(number) + "]");
    const std::uint64_t payload = std::uint64_t(capacity) * std::uint64_t(size);
    if (payload > in.remaining())
      throw FormatError(name, std::int64_t(at),
                        "truncated packet: it declares " + std::to_string(capacity) + " x " + std::to_string(size) +
                            " bytes of events, only " + std::to_string(in.remaining()) + " bytes are left");
    if (type != 1) {  // not polarity: skip the payload
      in.skip(payload);
      continue;
    }
    if (size < 8) throw bad(4, "polarity events need at least 8 bytes, the packet says " + std::to_string(size));
    if (ts_off < 4 || ts_off > size - 4)
      throw bad(8, "timestamp offset " + std::to_string(ts_off) + " does not fit an event of " + std::to_string(size) +
                       " bytes");
    if (overflow < 0) throw bad(12, "negative timestamp overflow " + std::to_string(overflow));
    const std::uint64_t used = std::uint64_t(number) * std::uint64_t(size);
    const std::uint64_t body = in.position();
    const std::uint8_t* p = in.view(std::size_t(used), scratch);
    for (std::int64_t k = 0; k < number; ++k, p += size) {
      const std::uint32_t d = load_le32(p);
      if (!(d & 1u)) continue;  // invalid event
      const std::int64_t off = std::int64_t(body) + k * size;
      const std::int32_t ts = load_le32s(p + ts_off);
      if (ts < 0) throw FormatError(name, off + ts_off, "negative event timestamp " + std::to_string(ts));
      const std::uint32_t x = (d >> 17) & 0x7FFFu, y = (d >> 2) & 0x7FFFu;
      if (x >= W || y >= H)
        throw FormatError(name, off,
                          "event x=" + std::to_string(x) + " y=" + std::to_string(y) + " lies outside the " +
                              std::to_string(W) + "x" + std::to_string(H) + " sensor");
      Event e;
      e.t = (overflow << 31) | std::int64_t(ts);
      e.x = std::uint16_t(x);
      e.y = std::uint16_t(y);
      e.p = std::uint8_t((d >> 1) & 1u);
      f(e, off);
    }
    in.skip(payload - used);
  }
}

}  // namespace detail

/// The reader of cAER AEDAT 3.1 files (DVS128 Gesture): polarity packets only, streamed packet
/// by packet so that a trial file is never held whole; throws FormatError naming the file and
/// byte offset on bad input.
class Aedat31 {
 public:
  static constexpr SensorSize dvs128_sensor{128, 128, 2};  ///< 128 x 128, 2 polarities

  /// A reader for a sensor of the given size; throws ConfigError unless it has 2 polarities.
  /// @param sensor the sensor size (DVS128 by default)
  explicit Aedat31(SensorSize sensor = dvs128_sensor) : sensor_(sensor) {
    if (sensor.width <= 0 || sensor.height <= 0 || sensor.polarities != 2 || sensor.width > 32768 ||
        sensor.height > 32768)
      throw ConfigError("Aedat31: the sensor needs a size in [1, 32768] and 2 polarities");
  }
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "AEDAT 3.1 (cAER polarity packets)"; }
  /// The sensor the samples live on.
  SensorSize sensor() const noexcept { return sensor_; }

  /// The events of an AEDAT 3.1 file held in `bytes`; `name` names it in errors.
  EventSample parse(ByteSpan bytes, const std::string& name) const {
    detail::MemoryBytes in(bytes);
    return collect(in, name);
  }
  /// The events of the file at `path`.
  EventSample read(const std::filesystem::path& path) const {
    detail::FileBytes in(path);
    return collect(in, path.string());
  }

  /// Reads only the header.
  Aedat31Header read_header(const std::filesystem::path& path) const {
    detail::FileBytes in(path);
    return detail::read_aedat31_header(in, path.string());
  }

  /// One sample per window: the events with start <= t < end, times made relative to the
  /// window's start, labelled with the window's label. One pass over the file.
  std::vector<EventSample> read_windows(const std::filesystem::path& path, const std::vector<EventWindow>& w) const {
    detail::FileBytes in(path);
    return windows(in, path.string(), w);
  }
  /// One sample per window `w` of the file in `bytes` (a single pass over its packets).
  std::vector<EventSample> parse_windows(ByteSpan bytes, const std::string& name,
                                         const std::vector<EventWindow>& w) const {
    detail::MemoryBytes in(bytes);
    return windows(in, name, w);
  }

 private:
  template <class In>
  EventSample collect(In& in, const std::string& name) const {
    EventSample s;
    s.sensor = sensor_;
    bool ordered = true;
    detail::for_each_aedat31_event(in, name, sensor_, [&](const Event& e, std::int64_t) {
      ordered &= s.events.empty() || e.t >= s.events.back().t;
      s.events.push_back(e);
    });
    if (!ordered) sort_by_time(s.events);
    return s;
  }

  template <class In>
  std::vector<EventSample> windows(In& in, const std::string& name, const std::vector<EventWindow>& w) const {
    std::vector<EventSample> out(w.size());
    for (std::size_t i = 0; i < w.size(); ++i) {
      if (w[i].end < w[i].start) throw ConfigError("Aedat31::read_windows: a window ends before it starts");
      out[i].sensor = sensor_;
      out[i].label = w[i].label;
    }
    detail::for_each_aedat31_event(in, name, sensor_, [&](const Event& e, std::int64_t) {
      for (std::size_t i = 0; i < w.size(); ++i)
        if (e.t >= w[i].start && e.t < w[i].end) {
          Event r = e;
          r.t -= w[i].start;
          out[i].events.push_back(r);
        }
    });
    for (auto& s : out) sort_by_time(s.events);
    return out;
  }

  SensorSize sensor_;
};

}  // namespace spikelab

#endif
