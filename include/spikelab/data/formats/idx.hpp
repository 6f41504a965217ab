/**
 * @file data/formats/idx.hpp
 * @brief Reader for LeCun's idx format (MNIST, Fashion-MNIST), plain or gzip-compressed.
 *
 * Header, big-endian: magic 00 00 TT DD (TT element type: 08 uint8, 09 int8, 0B int16,
 * 0C int32, 0D float32, 0E float64; DD number of dimensions), DD uint32 sizes, then the data
 * in row-major order, big-endian. gzip input is detected by its magic bytes (1f 8b) and
 * decompressed with zlib; byte offsets in errors then refer to the decompressed stream.
 * Errors (FormatError) name the file and the offset: missing file, wrong magic, unknown type,
 * too few bytes for the declared sizes, trailing bytes.
 *
 * @code
 * @article{lecun1998gradient, title={Gradient-based learning applied to document recognition},
 *   author={LeCun, Yann and Bottou, L{\'e}on and Bengio, Yoshua and Haffner, Patrick},
 *   journal={Proceedings of the IEEE}, volume={86}, number={11}, pages={2278--2324}, year={1998}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_FORMATS_IDX_HPP
#define SPIKELAB_DATA_FORMATS_IDX_HPP

#include <spikelab/core/error.hpp>

#include <zlib.h>

#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace spikelab {

/// An idx array: element type code, dimensions and the raw elements converted to host order.
struct IdxArray {
  std::uint8_t type = 0;  ///< the idx element type code (0x08: unsigned byte, ...)
  std::vector<std::int64_t> dims;  ///< the extents, outermost first
  std::vector<std::uint8_t> data;  ///< elements, host byte order, element_size() bytes each

  /// The number of elements.
  std::int64_t count() const {
    std::int64_t n = 1;
    for (auto d : dims) n *= d;
    return dims.empty() ? 0 : n;
  }
  /// Bytes per element of an idx type code.
  static int element_size(std::uint8_t type) {
    switch (type) {
      case 0x08: case 0x09: return 1;
      case 0x0B: return 2;
      case 0x0C: case 0x0D: return 4;
      case 0x0E: return 8;
      default: return 0;
    }
  }
  /// Element k converted to double.
  double at(std::int64_t k) const {
    const std::uint8_t* p = data.data() + k * element_size(type);
    switch (type) {
      case 0x08: return *p;
      case 0x09: return static_cast<std::int8_t>(*p);
      case 0x0B: { std::int16_t v; std::memcpy(&v, p, 2); return v; }
      case 0x0C: { std::int32_t v; std::memcpy(&v, p, 4); return v; }
      case 0x0D: { float v; std::memcpy(&v, p, 4); return v; }
      case 0x0E: { double v; std::memcpy(&v, p, 8); return v; }
      default: return 0;
    }
  }
};

namespace detail {

/// Reads a whole file, decompressing gzip transparently.
inline std::vector<std::uint8_t> read_maybe_gzip(const std::string& path) {
  std::ifstream probe(path, std::ios::binary);
  if (!probe) throw FileError(path, -1, "cannot open (missing file or no permission)");
  unsigned char magic[2] = {0, 0};
  probe.read(reinterpret_cast<char*>(magic), 2);
  const bool gz = probe.gcount() == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
  std::vector<std::uint8_t> out;
  if (!gz) {
    probe.clear();
    probe.seekg(0, std::ios::end);
    const auto size = static_cast<std::size_t>(probe.tellg());
    probe.seekg(0);
    out.resize(size);
    if (size && !probe.read(reinterpret_cast<char*>(out.data()), std::streamsize(size)))
      throw FileError(path, -1, "read error");
    return out;
  }
  probe.close();
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw FileError(path, -1, "cannot open gzip stream");
  std::uint8_t buf[1 << 16];
  for (;;) {
    const int n = gzread(f, buf, sizeof buf);
    if (n < 0) {
      int err = 0;
      const std::string msg = gzerror(f, &err);
      gzclose(f);
      throw FormatError(path, std::int64_t(out.size()), "corrupt gzip data (" + msg + ")");
    }
    if (n == 0) break;
    out.insert(out.end(), buf, buf + n);
  }
  int err = 0;
  const char* msg = gzerror(f, &err);
  if (err != Z_OK && err != Z_STREAM_END) {
    const std::string m = msg ? msg : "unknown";
    gzclose(f);
    throw FormatError(path, std::int64_t(out.size()), "truncated or corrupt gzip data (" + m + ")");
  }
  gzclose(f);
  return out;
}

inline std::uint32_t read_be32(const std::uint8_t* p) {
  return (std::uint32_t(p[0]) << 24) | (std::uint32_t(p[1]) << 16) | (std::uint32_t(p[2]) << 8) | std::uint32_t(p[3]);
}

}  // namespace detail

/// Parses idx content already in memory; `name` is used in error messages.
inline IdxArray parse_idx(const std::vector<std::uint8_t>& bytes, const std::string& name) {
  if (bytes.empty()) throw FormatError(name, 0, "empty file");
  if (bytes.size() < 4) throw FormatError(name, 0, "truncated header (" + std::to_string(bytes.size()) + " bytes)");
  if (bytes[0] != 0 || bytes[1] != 0)
    throw FormatError(name, 0, "wrong magic: not an idx file (first bytes must be 00 00)");
  IdxArray a;
  a.type = bytes[2];
  const int es = IdxArray::element_size(a.type);
  if (es == 0) throw FormatError(name, 2, "unknown idx element type 0x" + std::to_string(int(a.type)));
  const int nd = bytes[3];
  if (nd == 0) throw FormatError(name, 3, "idx file with zero dimensions");
  const std::size_t header = 4 + 4 * std::size_t(nd);
  if (bytes.size() < header) throw FormatError(name, std::int64_t(bytes.size()), "truncated header");
  std::int64_t count = 1;
  for (int d = 0; d < nd; ++d) {
    const std::int64_t v = detail::read_be32(bytes.data() + 4 + 4 * d);
    a.dims.push_back(v);
    if (v != 0 && count > (std::int64_t(1) << 40) / v) throw FormatError(name, 4 + 4 * d, "dimensions too large");
    count *= v;
  }
  const std::size_t need = header + std::size_t(count) * std::size_t(es);
  if (bytes.size() < need)
    throw FormatError(name, std::int64_t(bytes.size()),
                      "truncated data: header declares " + std::to_string(count) + " elements (" + std::to_string(need) +
                          " bytes in all), the file has " + std::to_string(bytes.size()) + " bytes");
  if (bytes.size() > need)
    throw FormatError(name, std::int64_t(need), std::to_string(bytes.size() - need) + " unexpected trailing bytes");
  a.data.assign(bytes.begin() + std::ptrdiff_t(header), bytes.end());
  if (es > 1 && std::endian::native == std::endian::little)
    for (std::size_t k = 0; k < a.data.size(); k += std::size_t(es))
      for (int i = 0; i < es / 2; ++i) std::swap(a.data[k + i], a.data[k + es - 1 - i]);
  return a;
}

/// Reads an idx file (plain or .gz).
inline IdxArray read_idx(const std::filesystem::path& path) {
  const std::string p = path.string();
  return parse_idx(detail::read_maybe_gzip(p), p);
}

}  // namespace spikelab

#endif
