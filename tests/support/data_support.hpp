// Helpers shared by the event-data tests: writing byte fixtures, encoding records, and
// checking that an error names the file and the byte offset.
#ifndef SPIKELAB_TESTS_DATA_SUPPORT_HPP
#define SPIKELAB_TESTS_DATA_SUPPORT_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/data/event.hpp>

#include "support/test_support.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace spikelab::test {

using Bytes = std::vector<std::uint8_t>;

inline void write_bytes(const std::filesystem::path& p, const Bytes& b) {
  std::ofstream os(p, std::ios::binary | std::ios::trunc);
  os.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}
inline void write_text(const std::filesystem::path& p, const std::string& s) {
  std::ofstream os(p, std::ios::binary | std::ios::trunc);
  os << s;
}
inline Bytes read_bytes(const std::filesystem::path& p) {
  std::ifstream is(p, std::ios::binary);
  return Bytes((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
}

/// One N-MNIST 40-bit record.
inline void put_nmnist(Bytes& b, unsigned x, unsigned y, unsigned p, std::uint32_t t) {
  b.push_back(std::uint8_t(x));
  b.push_back(std::uint8_t(y));
  b.push_back(std::uint8_t((p << 7) | ((t >> 16) & 0x7F)));
  b.push_back(std::uint8_t(t >> 8));
  b.push_back(std::uint8_t(t));
}
inline void put_be32(Bytes& b, std::uint32_t v) {
  for (int k = 3; k >= 0; --k) b.push_back(std::uint8_t(v >> (8 * k)));
}
inline void put_be16(Bytes& b, std::uint16_t v) {
  b.push_back(std::uint8_t(v >> 8));
  b.push_back(std::uint8_t(v));
}
inline void put_le32(Bytes& b, std::uint32_t v) {
  for (int k = 0; k < 4; ++k) b.push_back(std::uint8_t(v >> (8 * k)));
}
inline void put_le16(Bytes& b, std::uint16_t v) {
  b.push_back(std::uint8_t(v));
  b.push_back(std::uint8_t(v >> 8));
}
inline void put_text(Bytes& b, const std::string& s) { b.insert(b.end(), s.begin(), s.end()); }

/// An AEDAT 3.1 packet header.
inline void put_packet_header(Bytes& b, int type, std::int32_t size, std::int32_t ts_off, std::int32_t overflow,
                              std::int32_t capacity, std::int32_t number, std::int32_t valid) {
  put_le16(b, std::uint16_t(type));
  put_le16(b, 1);
  for (std::int32_t v : {size, ts_off, overflow, capacity, number, valid}) put_le32(b, std::uint32_t(v));
}
inline std::uint32_t polarity_word(unsigned x, unsigned y, unsigned p, bool valid = true) {
  return (std::uint32_t(x) << 17) | (std::uint32_t(y) << 2) | (std::uint32_t(p) << 1) | (valid ? 1u : 0u);
}

/// Runs f, which must throw a FileError (or subclass) whose path is `path` and whose offset
/// is `offset` (any offset when offset == -2); returns the message.
template <class F>
std::string file_error_of(F&& f, const std::string& path, std::int64_t offset) {
  try {
    f();
  } catch (const FileError& e) {
    INFO("message: " << e.what());
    CHECK(e.path() == path);
    if (offset != -2) CHECK(e.offset() == offset);
    const std::string m = e.what();
    CHECK(m.find(path) != std::string::npos);
    if (e.offset() >= 0) CHECK(m.find("at byte " + std::to_string(e.offset())) != std::string::npos);
    return m;
  }
  FAIL("no FileError thrown for " << path);
  return {};
}

}  // namespace spikelab::test

#endif
