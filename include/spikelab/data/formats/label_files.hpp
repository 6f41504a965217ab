/**
 * @file data/formats/label_files.hpp
 * @brief Parsers of the small text files that label event recordings:
 *  - label lists `<id> <label>` per line (SLAYER's NMNISTsmall `train1K.txt` / `test100.txt`:
 *    first line `#sample #class`, tab-separated, CRLF);
 *  - DVS128 Gesture `<trial>_labels.csv`: a header `class,startTime_usec,endTime_usec`, then one
 *    row per gesture with its 1-based class and a [start, end) window on the event clock.
 *
 * Both accept LF or CRLF line ends, skip blank lines and lines starting with '#', and throw
 * FormatError naming the file and the byte offset of a bad line.
 */
#ifndef SPIKELAB_DATA_FORMATS_LABEL_FILES_HPP
#define SPIKELAB_DATA_FORMATS_LABEL_FILES_HPP

#include <spikelab/data/formats/aedat31.hpp>
#include <spikelab/data/formats/event_format.hpp>

#include <charconv>
#include <string_view>

namespace spikelab {

/// One entry of a label list.
struct LabelEntry {
  std::int64_t id = 0;  ///< the sample's id
  int label = 0;  ///< its class
};

namespace detail {

/// Calls f(line, byte offset) for every line (without its line end).
template <class F>
void for_each_line(std::string_view text, F&& f) {
  std::size_t pos = 0;
  while (pos < text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    f(line, pos);
    pos = end + 1;
  }
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

/// Parses a whole field as a signed integer; false if it is not one.
inline bool parse_int(std::string_view s, std::int64_t& v) {
  s = trim(s);
  if (s.empty()) return false;
  if (s.front() == '+') s.remove_prefix(1);
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

inline std::string read_text(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> b = read_file(path);
  return std::string(b.begin(), b.end());
}

}  // namespace detail

/// Parses a label list: lines `<id> <label>` separated by tabs or spaces.
inline std::vector<LabelEntry> parse_label_list(std::string_view text, const std::string& name) {
  std::vector<LabelEntry> out;
  detail::for_each_line(text, [&](std::string_view line, std::size_t off) {
    const std::string_view t = detail::trim(line);
    if (t.empty() || t.front() == '#') return;
    const std::size_t sep = t.find_first_of(" \t");
    std::int64_t id = 0, label = 0;
    if (sep == std::string_view::npos || !detail::parse_int(t.substr(0, sep), id) ||
        !detail::parse_int(t.substr(sep + 1), label))
      throw FormatError(name, std::int64_t(off),
                        "expected '<id> <label>' (two integers), got '" +
                            detail::printable(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()) + "'");
    if (id < 0) throw FormatError(name, std::int64_t(off), "negative sample id " + std::to_string(id));
    if (label < 0 || label > 1000000)
      throw FormatError(name, std::int64_t(off), "label " + std::to_string(label) + " is not in [0, 1000000]");
    out.push_back({id, int(label)});
  });
  if (out.empty()) throw FormatError(name, 0, "no '<id> <label>' lines");
  return out;
}

/// The entries of the label list at `path` (see parse_label_list).
inline std::vector<LabelEntry> read_label_list(const std::filesystem::path& path) {
  return parse_label_list(detail::read_text(path), path.string());
}

/// Parses a DVS128 Gesture labels CSV into windows [start, end) with label = class - 1
/// (classes 1..11 become 0..10).
inline std::vector<EventWindow> parse_gesture_labels(std::string_view text, const std::string& name) {
  std::vector<EventWindow> out;
  bool first = true;
  detail::for_each_line(text, [&](std::string_view line, std::size_t off) {
    const std::string_view t = detail::trim(line);
    if (t.empty() || t.front() == '#') return;
    const bool header = first && !t.empty() && !(t.front() >= '0' && t.front() <= '9');
    first = false;
    if (header) {
      if (t.find("class") == std::string_view::npos)
        throw FormatError(name, std::int64_t(off), "expected the header 'class,startTime_usec,endTime_usec'");
      return;
    }
    std::int64_t v[3] = {0, 0, 0};
    int fields = 0;
    bool ok = true;
    std::size_t pos = 0;
    for (;;) {
      const std::size_t comma = t.find(',', pos);
      const std::string_view field = t.substr(pos, comma == std::string_view::npos ? t.size() - pos : comma - pos);
      if (fields < 3) ok &= detail::parse_int(field, v[fields]);
      ++fields;
      if (comma == std::string_view::npos) break;
      pos = comma + 1;
    }
    if (!ok || fields != 3)
      throw FormatError(name, std::int64_t(off),
                        "expected 'class,start,end' (three integers), got '" +
                            detail::printable(reinterpret_cast<const std::uint8_t*>(line.data()), line.size()) + "'");
    if (v[0] < 1 || v[0] > 1000) throw FormatError(name, std::int64_t(off), "class " + std::to_string(v[0]) + " is not >= 1");
    if (v[1] < 0 || v[2] <= v[1])
      throw FormatError(name, std::int64_t(off),
                        "window [" + std::to_string(v[1]) + ", " + std::to_string(v[2]) + ") is empty or negative");
    out.push_back({v[1], v[2], int(v[0] - 1)});
  });
  return out;
}

/// The labelled windows of the DVS Gesture `_labels.csv` file at `path` (see parse_gesture_labels).
inline std::vector<EventWindow> read_gesture_labels(const std::filesystem::path& path) {
  return parse_gesture_labels(detail::read_text(path), path.string());
}

}  // namespace spikelab

#endif
