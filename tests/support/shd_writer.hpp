// Writes small SHD/SSC-layout HDF5 files with libhdf5's C API, independently of the reader:
// /spikes/times as variable-length arrays of IEEE half floats (what h5py writes for float16),
// /spikes/units as vlen uint16, /labels uint8, /extra/keys fixed- or variable-length strings,
// /extra/speaker uint8. Used by the SHD tests and the SHD fuzz target.
#ifndef SPIKELAB_TESTS_DATA_SHD_WRITER_HPP
#define SPIKELAB_TESTS_DATA_SHD_WRITER_HPP

#include <hdf5.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

namespace spikelab::test {

struct ShdRow {
  std::vector<float> times;  // seconds
  std::vector<int> units;
  int label = 0;
};

struct ShdLayout {
  bool float16_times = true;       // else float32
  bool write_times = true, write_units = true, write_labels = true, write_keys = true, write_speaker = true;
  bool vlen_keys = false;          // variable-length strings instead of fixed-length bytes
  bool labels_2d = false;          // write /labels with shape (N, 1): a wrong rank
  bool float_units = false;        // store units as vlen float (a wrong element type)
  int label_rows_delta = 0;        // write N + delta labels
  std::vector<std::string> keys{};
};

/// The HDF5 type h5py uses for numpy float16: IEEE binary16, little-endian.
inline hid_t make_half_type() {
  const hid_t t = H5Tcopy(H5T_IEEE_F32LE);
  H5Tset_fields(t, 15, 10, 5, 0, 10);
  H5Tset_size(t, 2);
  H5Tset_ebias(t, 15);
  return t;
}

inline void write_shd(const std::filesystem::path& path, const std::vector<ShdRow>& rows, const ShdLayout& L = {}) {
  const hid_t f = H5Fcreate(path.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
  if (f < 0) throw std::runtime_error("H5Fcreate failed for " + path.string());
  const hid_t spikes = H5Gcreate2(f, "spikes", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
  const hsize_t n = rows.size();
  const hid_t space = H5Screate_simple(1, &n, nullptr);
  auto vlen_write = [&](const char* name, hid_t file_base, hid_t mem_base, auto member) {
    const hid_t ft = H5Tvlen_create(file_base), mt = H5Tvlen_create(mem_base);
    std::vector<hvl_t> v(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const auto& data = rows[i].*member;
      v[i].len = data.size();
      v[i].p = const_cast<void*>(static_cast<const void*>(data.data()));
    }
    const hid_t d = H5Dcreate2(spikes, name, ft, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (n) H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
    H5Dclose(d);
    H5Tclose(ft);
    H5Tclose(mt);
  };
  if (L.write_times) {
    const hid_t half = make_half_type();
    vlen_write("times", L.float16_times ? half : H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, &ShdRow::times);
    H5Tclose(half);
  }
  if (L.write_units) {
    if (L.float_units) {
      std::vector<ShdRow> as_float = rows;
      for (auto& r : as_float) r.times.assign(r.units.begin(), r.units.end());
      const hid_t ft = H5Tvlen_create(H5T_IEEE_F32LE), mt = H5Tvlen_create(H5T_NATIVE_FLOAT);
      std::vector<hvl_t> v(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) v[i] = {as_float[i].times.size(), as_float[i].times.data()};
      const hid_t d = H5Dcreate2(spikes, "units", ft, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      if (n) H5Dwrite(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data());
      H5Dclose(d);
      H5Tclose(ft);
      H5Tclose(mt);
    } else {
      vlen_write("units", H5T_STD_U16LE, H5T_NATIVE_INT, &ShdRow::units);
    }
  }
  if (L.write_labels) {
    std::vector<int> lab;
    for (const auto& r : rows) lab.push_back(r.label);
    lab.resize(std::size_t(std::max<long>(0, long(rows.size()) + L.label_rows_delta)), 0);
    hsize_t dims[2] = {lab.size(), 1};
    const hid_t ls = H5Screate_simple(L.labels_2d ? 2 : 1, dims, nullptr);
    const hid_t d = H5Dcreate2(f, "labels", H5T_STD_U8LE, ls, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (!lab.empty()) H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, lab.data());
    H5Dclose(d);
    H5Sclose(ls);
  }
  if (L.write_keys || L.write_speaker) {
    const hid_t extra = H5Gcreate2(f, "extra", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (L.write_keys && !L.keys.empty()) {
      const hsize_t k = L.keys.size();
      const hid_t ks = H5Screate_simple(1, &k, nullptr);
      const hid_t st = H5Tcopy(H5T_C_S1);
      if (L.vlen_keys) {
        H5Tset_size(st, H5T_VARIABLE);
        std::vector<const char*> p;
        for (const auto& s : L.keys) p.push_back(s.c_str());
        const hid_t d = H5Dcreate2(extra, "keys", st, ks, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(d, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data());
        H5Dclose(d);
      } else {
        std::size_t w = 1;
        for (const auto& s : L.keys) w = std::max(w, s.size());
        H5Tset_size(st, w);
        H5Tset_strpad(st, H5T_STR_NULLPAD);
        std::vector<char> buf(w * L.keys.size(), 0);
        for (std::size_t i = 0; i < L.keys.size(); ++i) std::copy(L.keys[i].begin(), L.keys[i].end(), buf.begin() + std::ptrdiff_t(i * w));
        const hid_t d = H5Dcreate2(extra, "keys", st, ks, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Dwrite(d, st, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data());
        H5Dclose(d);
      }
      H5Tclose(st);
      H5Sclose(ks);
    }
    if (L.write_speaker) {
      std::vector<int> sp;
      for (std::size_t i = 0; i < rows.size(); ++i) sp.push_back(int(i % 3));
      const hid_t d = H5Dcreate2(extra, "speaker", H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
      if (n) H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, sp.data());
      H5Dclose(d);
    }
    H5Gclose(extra);
  }
  H5Sclose(space);
  H5Gclose(spikes);
  H5Fclose(f);
}

}  // namespace spikelab::test

#endif
