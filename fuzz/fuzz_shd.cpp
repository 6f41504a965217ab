// libFuzzer target: ShdFile (SHD/SSC HDF5), structure-aware. The fuzz bytes choose the layout
// (which datasets exist, float16 or float32 times, fixed or variable-length keys, wrong ranks or
// element types, label count) and the content (rows, spike times including NaN/negative/huge,
// channels, labels); the file is written with libhdf5 and read back. Fuzzing libhdf5's own
// container parser with raw bytes is out of scope: it is the library's code, not ours.
#include <spikelab/data/formats/shd_hdf5.hpp>

#include "support/shd_writer.hpp"
#include "fuzz_check.hpp"

#include <cstring>
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
  static const std::string path = "/tmp/spikelab-fuzz-shd-" + std::to_string(::getpid()) + ".h5";
  test::write_shd(path, rows, L);
  try {
    const ShdFile f(path);
    fuzz::require(f.size() == Index(rows.size()), "row count");
    for (Index i = 0; i < f.size(); ++i) {
      const EventSample s = f.read(i);
      fuzz::require(s.label >= 0, "negative label");
      fuzz::check_sample(s);
      fuzz::require(s.events.size() == rows[std::size_t(i)].times.size(), "spike count");
    }
  } catch (const FormatError&) {
  }
  return 0;
}
