/**
 * @file data/formats/event_format.hpp
 * @brief The byte-level helpers the event readers share; the readers model EventFormat
 *        (data/concepts.hpp), one interface for every single-recording event reader.
 *
 * A reader is a small policy object (its configuration is the sensor it expects):
 *  - `F::name()`: the format's name for messages;
 *  - `f.sensor()`: the sensor the events must fit (a record outside it is an error);
 *  - `f.parse(bytes, name)`: decodes a whole file already in memory (`name` is used in
 *    errors; this is also what the fuzz targets drive);
 *  - `f.read(path)`: reads and decodes a file.
 * Both return an EventSample (label -1) whose events are time-ordered. Every problem throws
 * FileError (cannot open) or FormatError (bad content) naming the file and the byte offset.
 * Readers: NmnistBin (N-MNIST / N-Caltech101 .bin, .bs2), Aedat2 (jAER AEDAT 1.0/2.0, DVS128),
 * Aedat31 (cAER AEDAT 3.1 polarity packets), Evt2 and Evt3 (Prophesee / Metavision .raw, EVT 2.0
 * and EVT 3.0). SHD/SSC HDF5 files hold many samples and have
 * their own class (formats/shd_hdf5.hpp).
 */
#ifndef SPIKELAB_DATA_FORMATS_EVENT_FORMAT_HPP
#define SPIKELAB_DATA_FORMATS_EVENT_FORMAT_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/data/concepts.hpp>
#include <spikelab/data/event.hpp>

#include <concepts>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

namespace spikelab {

namespace detail {

/// Opens a file for binary reading, or throws FileError saying why not; returns its size.
inline std::uint64_t open_for_reading(const std::filesystem::path& path, std::ifstream& in) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec || !fs::exists(st)) throw FileError(path.string(), -1, "cannot open: no such file");
  if (fs::is_directory(st)) throw FileError(path.string(), -1, "cannot open: is a directory, not a file");
  in.open(path, std::ios::binary);
  if (!in) throw FileError(path.string(), -1, "cannot open (no permission?)");
  const auto size = fs::file_size(path, ec);
  if (ec) throw FileError(path.string(), -1, "cannot determine the file size");
  return size;
}

/// Reads a whole file into `out` (reusing its storage).
inline void read_file_into(const std::filesystem::path& path, std::vector<std::uint8_t>& out) {
  std::ifstream in;
  const std::uint64_t size = open_for_reading(path, in);
  out.resize(std::size_t(size));
  if (size && !in.read(reinterpret_cast<char*>(out.data()), std::streamsize(size)))
    throw FileError(path.string(), std::int64_t(in.gcount()), "read error");
}

inline std::vector<std::uint8_t> read_file(const std::filesystem::path& path) {
  std::vector<std::uint8_t> out;
  read_file_into(path, out);
  return out;
}

inline std::uint32_t load_be32(const std::uint8_t* p) noexcept {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}
inline std::uint16_t load_be16(const std::uint8_t* p) noexcept {
  return std::uint16_t((std::uint32_t(p[0]) << 8) | std::uint32_t(p[1]));
}
inline std::uint32_t load_le32(const std::uint8_t* p) noexcept {
  return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8) | (std::uint32_t(p[2]) << 16) | (std::uint32_t(p[3]) << 24);
}
inline std::int32_t load_le32s(const std::uint8_t* p) noexcept { return static_cast<std::int32_t>(load_le32(p)); }
inline std::int16_t load_le16s(const std::uint8_t* p) noexcept {
  return static_cast<std::int16_t>(std::uint16_t(p[0] | (p[1] << 8)));
}

/// Printable form of a header line or field for error messages (control bytes escaped, cut at 60).
inline std::string printable(const std::uint8_t* p, std::size_t n) {
  std::string s;
  for (std::size_t k = 0; k < n && k < 60; ++k) {
    const unsigned char c = p[k];
    if (c >= 32 && c < 127) {
      s += char(c);
    } else {
      static const char* hex = "0123456789abcdef";
      s += "\\x";
      s += hex[c >> 4];
      s += hex[c & 15];
    }
  }
  if (n > 60) s += "...";
  return s;
}

}  // namespace detail
}  // namespace spikelab

#endif
