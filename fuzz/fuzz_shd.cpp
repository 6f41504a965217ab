// libFuzzer target: ShdFile (SHD/SSC HDF5), structure-aware. The fuzz bytes choose the layout
// (which datasets exist, float16 or float32 times, fixed or variable-length keys, wrong ranks or
// element types, label count) and the content (rows, spike times including NaN/negative/huge,
// channels, labels); the file is written with libhdf5 and read back. Fuzzing libhdf5's own
// container parser with raw bytes is out of scope: it is the library's code, not ours.
//
// The byte after the rows chooses how the file reaches the reader (0, or no byte left: as
// written), so the .h5.gz path (GunzippedCopy, zlib) is fuzzed too:
//   1: gzip-compressed whole (the level from the next byte): must read like the plain file;
//   2: compressed, then damaged by the next bytes: truncated, one byte flipped, or followed by a
//      second member or by stray bytes;
//   3: the gzip magic bytes followed by the rest of the input: an arbitrary gzip stream.
#include <spikelab/data/formats/shd_hdf5.hpp>

#include "support/shd_writer.hpp"
#include "fuzz_check.hpp"

#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <unistd.h>

namespace {
struct Bytes {
  const std::uint8_t* p;
  std::size_t n;
  std::uint8_t u8() { return n ? (--n, *p++) : 0; }
  float f32() {
    std::uint32_t v = 0;
    for (int k = 0; k < 4; ++k) v = (v << 8) | u8();
    float f;
    std::memcpy(&f, &v, 4);
    return f;
  }
};

std::vector<std::uint8_t> read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// One gzip member (RFC 1952 framing through zlib's deflate).
std::vector<std::uint8_t> gzip(const std::vector<std::uint8_t>& raw, int level) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) std::abort();
  std::vector<std::uint8_t> out(deflateBound(&z, uLong(raw.size())) + 32);
  z.next_in = const_cast<Bytef*>(raw.data());
  z.avail_in = uInt(raw.size());
  z.next_out = out.data();
  z.avail_out = uInt(out.size());
  if (deflate(&z, Z_FINISH) != Z_STREAM_END) std::abort();
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

void write_all(const std::string& path, const std::vector<std::uint8_t>& b) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace spikelab;
  Bytes in{data, size};
  const std::uint8_t flags = in.u8(), flags2 = in.u8();
  test::ShdLayout L;
  L.float16_times = !(flags & 1);
  L.write_times = !(flags & 2);
  L.write_units = !(flags & 4);
  L.write_labels = !(flags & 8);
  L.write_keys = !(flags & 16);
  L.vlen_keys = flags & 32;
  L.labels_2d = flags & 64;
  L.float_units = flags & 128;
  L.label_rows_delta = int(flags2 % 3) - 1;
  L.write_speaker = flags2 & 4;
  const int nkeys = (flags2 >> 3) % 24;
  for (int k = 0; k < nkeys; ++k) L.keys.push_back("k" + std::to_string(k));
  std::vector<test::ShdRow> rows(in.u8() % 6);
  for (auto& r : rows) {
    const int n = in.u8() % 8, m = (in.u8() & 1) ? n : in.u8() % 8;
    for (int k = 0; k < n; ++k) {
      const std::uint8_t kind = in.u8();
      r.times.push_back(kind < 200 ? float(in.u8()) * 0.01f : in.f32());
    }
    for (int k = 0; k < m; ++k) r.units.push_back(int(in.u8()) * 3 + (in.u8() & 3));
    r.label = in.u8() % 40;
  }
  static const std::string plain = "/tmp/spikelab-fuzz-shd-" + std::to_string(::getpid()) + ".h5";
  static const std::string gz = plain + ".gz";
  static const struct Cleanup {
    ~Cleanup() {
      std::remove(plain.c_str());
      std::remove(gz.c_str());
    }
  } cleanup;
  test::write_shd(plain, rows, L);
  const int wrap = in.u8() % 4;
  if (wrap != 0) {
    std::vector<std::uint8_t> z;
    if (wrap == 3) {
      z = {0x1f, 0x8b};
      z.insert(z.end(), in.p, in.p + in.n);
    } else {
      z = gzip(read_all(plain), in.u8() % 10);
    }
    if (wrap == 2) {
      const std::uint8_t how = in.u8(), a = in.u8(), b = in.u8();
      switch (how % 4) {
        case 0:  // truncated (possibly to nothing)
          z.resize(z.size() * a / 256);
          break;
        case 1:  // one byte flipped
          z[(std::size_t(a) << 8 | b) % z.size()] ^= std::uint8_t(in.u8() | 1);
          break;
        case 2: {  // a second member: decompresses to the file twice
          const std::vector<std::uint8_t> again = z;
          z.insert(z.end(), again.begin(), again.end());
          break;
        }
        default:  // stray bytes after the member
          z.insert(z.end(), {a, b});
      }
    }
    write_all(gz, z);
  }
  // Reads a file; false when it throws FormatError. The rows are compared unless the file is an
  // arbitrary stream (mode 3), whose content is not the one written.
  const auto read = [&](const std::string& path, bool same_rows) {
    try {
      const ShdFile f(path);
      if (same_rows) fuzz::require(f.size() == Index(rows.size()), "row count");
      for (Index i = 0; i < f.size(); ++i) {
        const EventSample s = f.read(i);
        fuzz::require(s.label >= 0, "negative label");
        fuzz::check_sample(s);
        if (same_rows) fuzz::require(s.events.size() == rows[std::size_t(i)].times.size(), "spike count");
      }
      return true;
    } catch (const FormatError&) {
      return false;
    }
  };
  if (wrap == 0) {
    read(plain, true);
  } else if (wrap == 1) {
    fuzz::require(read(gz, true) == read(plain, true), "the .h5.gz file reads unlike the plain one");
  } else {
    read(gz, wrap == 2);
  }
  return 0;
}
