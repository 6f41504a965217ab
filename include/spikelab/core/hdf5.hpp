/**
 * @file core/hdf5.hpp
 * @brief RAII around libhdf5's C API for spikelab's HDF5 readers and writers (the SHD/SSC reader,
 *        NIR export / import): the process-wide lock (Hdf5Session), owned identifiers (H5Handle)
 *        and the checked helpers they share: opening a file for reading, testing a path, the
 *        shape of a dataset, reading strings. Optional: needs the `spikelab::hdf5` CMake target
 *        (option SPIKELAB_WITH_HDF5), which defines SPIKELAB_HAS_HDF5.
 *
 * libhdf5 builds need not be thread-safe, so every call into it holds one process-wide mutex
 * (an Hdf5Session), and HDF5's own error printing to stderr is silenced meanwhile: spikelab
 * reports failures as exceptions that name the file. The helpers leave the wording of an error
 * to their caller (a `fail(what)` argument that returns the exception to throw), so that a
 * reader names its own dataset or node.
 */
#ifndef SPIKELAB_CORE_HDF5_HPP
#define SPIKELAB_CORE_HDF5_HPP

#ifndef SPIKELAB_HAS_HDF5
#error "spikelab/core/hdf5.hpp needs HDF5: link the spikelab::hdf5 CMake target (SPIKELAB_WITH_HDF5)"
#endif

#include <spikelab/core/error.hpp>

#include <hdf5.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace spikelab::detail {

/// One process-wide lock around libhdf5.
inline std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}

/// Holds the HDF5 lock and silences HDF5's error printing for its lifetime. Every H5* call,
/// closing an H5Handle included, runs while one is alive.
class Hdf5Session {
 public:
  Hdf5Session() : lock_(hdf5_mutex()) {
    H5Eget_auto2(H5E_DEFAULT, &func_, &data_);
    H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr);
  }
  ~Hdf5Session() { H5Eset_auto2(H5E_DEFAULT, func_, data_); }
  Hdf5Session(const Hdf5Session&) = delete;
  Hdf5Session& operator=(const Hdf5Session&) = delete;

 private:
  std::lock_guard<std::mutex> lock_;
  H5E_auto2_t func_ = nullptr;
  void* data_ = nullptr;
};

/// An owned HDF5 identifier, closed with the matching H5?close.
class H5Handle {
 public:
  using Closer = herr_t (*)(hid_t);
  H5Handle() = default;
  H5Handle(hid_t id, Closer c) : id_(id), close_(c) {}
  H5Handle(H5Handle&& o) noexcept : id_(o.id_), close_(o.close_) { o.id_ = -1; }
  H5Handle& operator=(H5Handle&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = o.id_;
      close_ = o.close_;
      o.id_ = -1;
    }
    return *this;
  }
  H5Handle(const H5Handle&) = delete;
  H5Handle& operator=(const H5Handle&) = delete;
  ~H5Handle() { reset(); }
  void reset() {
    if (id_ >= 0 && close_) close_(id_);
    id_ = -1;
  }
  hid_t get() const noexcept { return id_; }
  bool valid() const noexcept { return id_ >= 0; }

 private:
  hid_t id_ = -1;
  Closer close_ = nullptr;
};

/// Opens the HDF5 file `path` read-only (call it inside an Hdf5Session). A missing path or a
/// directory is a FileError; an empty file, one without the HDF5 signature, or one that HDF5
/// cannot open (truncated or corrupt: offset = the file's size) is a FormatError.
inline H5Handle h5_open_read_only(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (ec || !fs::exists(status)) throw FileError(path, -1, "cannot open: no such file");
  if (fs::is_directory(status)) throw FileError(path, -1, "cannot open: is a directory, not a file");
  const auto bytes = fs::file_size(path, ec);
  if (ec) throw FileError(path, -1, "cannot determine the file size");
  if (bytes == 0) throw FormatError(path, 0, "empty file");
  if (H5Fis_hdf5(path.c_str()) <= 0)
    throw FormatError(path, 0, "not an HDF5 file (no HDF5 signature at byte 0, 512, 1024, ...)");
  H5Handle file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid())
    throw FormatError(path, std::int64_t(bytes),
                      "HDF5 cannot open the file: truncated or corrupt (the file ends at byte " + std::to_string(bytes) +
                          ")");
  return file;
}

/// Whether `path` ("a/b/c", or "/a/b/c" from the file's root) names an object below `loc`.
/// Each link is tested in turn: H5Lexists fails, rather than answering no, when a parent is missing.
inline bool h5_exists(hid_t loc, const std::string& path) {
  std::size_t pos = path.starts_with('/') ? 1 : 0;
  while (true) {
    const std::size_t slash = path.find('/', pos);
    const std::string part = path.substr(0, slash);
    if (H5Lexists(loc, part.c_str(), H5P_DEFAULT) <= 0) return false;
    if (slash == std::string::npos) return true;
    pos = slash + 1;
  }
}

/// The dimensions of a dataset (empty for a scalar), or nothing when its dataspace is unreadable.
inline std::optional<std::vector<hsize_t>> h5_dims(hid_t dataset) {
  H5Handle space(H5Dget_space(dataset), H5Sclose);
  if (!space.valid()) return std::nullopt;
  const int rank = H5Sget_simple_extent_ndims(space.get());
  if (rank < 0) return std::nullopt;
  std::vector<hsize_t> dims(std::size_t(rank), 0);
  if (rank > 0 && H5Sget_simple_extent_dims(space.get(), dims.data(), nullptr) < 0) return std::nullopt;
  return dims;
}

/// All strings of the dataset `ds` named `name`, in row-major order, whether stored as
/// variable-length strings (as h5py writes `str`) or fixed-length ones (numpy `S` arrays, read up
/// to the first NUL, trailing blanks dropped). `fail(what)` returns the exception to throw.
template <class Fail>
std::vector<std::string> h5_read_strings(hid_t ds, const std::string& name, Fail&& fail) {
  H5Handle type(H5Dget_type(ds), H5Tclose);
  if (!type.valid() || H5Tget_class(type.get()) != H5T_STRING) throw fail("'" + name + "' is not a string dataset");
  H5Handle space(H5Dget_space(ds), H5Sclose);
  const hssize_t points = space.valid() ? H5Sget_simple_extent_npoints(space.get()) : -1;
  if (points < 0) throw fail("cannot read the shape of '" + name + "'");
  const std::size_t n = std::size_t(points);
  std::vector<std::string> out;
  out.reserve(n);
  if (n == 0) return out;
  H5Handle mem(H5Tcopy(H5T_C_S1), H5Tclose);
  H5Tset_cset(mem.get(), H5Tget_cset(type.get()));
  if (H5Tis_variable_str(type.get()) > 0) {
    H5Tset_size(mem.get(), H5T_VARIABLE);
    std::vector<char*> p(n, nullptr);
    if (H5Dread(ds, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) < 0) throw fail("cannot read '" + name + "'");
    for (char* s : p) out.emplace_back(s ? s : "");
    H5Dvlen_reclaim(mem.get(), space.get(), H5P_DEFAULT, p.data());
  } else {
    const std::size_t w = H5Tget_size(type.get());
    if (w == 0 || w > 4096) throw fail("'" + name + "' has strings of unsupported width " + std::to_string(w));
    H5Tset_size(mem.get(), w);
    H5Tset_strpad(mem.get(), H5T_STR_NULLPAD);
    std::vector<char> buf(n * w, 0);
    if (H5Dread(ds, mem.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0) throw fail("cannot read '" + name + "'");
    for (std::size_t i = 0; i < n; ++i) {
      std::string s(buf.data() + i * w, w);
      s.resize(std::min(s.size(), s.find('\0')));
      while (!s.empty() && s.back() == ' ') s.pop_back();
      out.push_back(std::move(s));
    }
  }
  return out;
}

}  // namespace spikelab::detail

#endif
