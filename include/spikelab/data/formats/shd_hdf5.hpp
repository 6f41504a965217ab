/**
 * @file data/formats/shd_hdf5.hpp
 * @brief ShdFile: reader of the Spiking Heidelberg Digits / Spiking Speech Commands HDF5
 *        files through libhdf5's C API. Optional: needs the `spikelab::hdf5` CMake target
 *        (option SPIKELAB_WITH_HDF5), which defines SPIKELAB_HAS_HDF5.
 *
 * Layout of one split file (shd_train.h5, shd_test.h5, ssc_{train,valid,test}.h5):
 *  - `/spikes/times`: N rows, each a variable-length array of spike times in **seconds**,
 *    stored as float16 by h5py; read through a `H5Tvlen_create(H5T_NATIVE_FLOAT)` memory type so
 *    that HDF5 converts the half floats (never reinterpreting the 2-byte values);
 *  - `/spikes/units`: N rows of channel ids (0..699), paired element-wise with the times;
 *  - `/labels`: N integers (SHD 0..19, SSC 0..34); `/extra/keys`: the class names (fixed or
 *    variable-length strings; index = label); `/extra/speaker`: N speaker ids (optional).
 * Integer data are read through native int memory types, whatever their width on disk.
 * A row becomes an EventSample on the 1-D sensor 700 x 1 x 1: x = channel, y = p = 0,
 * \f$ t = \mathrm{round}(10^6\, t_{\mathrm{s}}) \f$ µs (float16 quantises 0.5-2 s to ~0.5-1 ms),
 * sorted by time.
 *
 * A gzip-compressed file (`.h5.gz`: it starts with the gzip magic bytes, whatever its name) is
 * first decompressed through zlib into a temporary file (formats/gunzip.hpp) that is removed
 * when the last copy of the ShdFile goes; a corrupt or truncated gzip stream is a FormatError
 * naming the file and the compressed byte offset.
 *
 * Errors: a missing path or directory (FileError); an empty file, no HDF5 signature or a
 * truncated/corrupt file (FormatError at byte 0 or at the end of the data); missing datasets,
 * wrong ranks or types, rows whose times and units differ in length, channels outside the
 * sensor, negative or non-finite times, labels outside the key list (FormatError naming the
 * dataset and row; offset -1). HDF5's own error printing is silenced while spikelab calls it,
 * and every call holds one process-wide mutex (libhdf5 builds need not be thread-safe).
 *
 * @code
 * @article{cramer2020heidelberg, title={The Heidelberg spiking data sets for the systematic evaluation of
 *   spiking neural networks}, author={Cramer, Benjamin and Stradmann, Yannik and Schemmel, Johannes and
 *   Zenke, Friedemann}, journal={IEEE TNNLS}, volume={33}, number={7}, pages={2744--2757}, year={2022}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_FORMATS_SHD_HDF5_HPP
#define SPIKELAB_DATA_FORMATS_SHD_HDF5_HPP

#ifndef SPIKELAB_HAS_HDF5
#error "spikelab/data/formats/shd_hdf5.hpp needs HDF5: link the spikelab::hdf5 CMake target (SPIKELAB_WITH_HDF5)"
#endif

#include <spikelab/core/error.hpp>
#include <spikelab/core/hdf5.hpp>
#include <spikelab/data/event.hpp>
#include <spikelab/data/formats/gunzip.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace spikelab {

/// The reader of a Spiking Heidelberg Digits / Spiking Speech Commands HDF5 file through
/// libhdf5's C API (needs SPIKELAB_HAS_HDF5: link spikelab::hdf5); copies share the open file.
class ShdFile {
 public:
  /// SHD and SSC: 700 cochlea channels.
  static constexpr SensorSize shd_sensor{700, 1, 1};

  /// Opens `path`, checks the layout and reads labels, keys and speakers.
  /// @param path the HDF5 file
  /// @param sensor the sensor size (700 channels by default)
  explicit ShdFile(const std::filesystem::path& path, SensorSize sensor = shd_sensor)
      : state_(std::make_shared<State>()) {
    State& st = *state_;
    st.path = path.string();
    st.sensor = sensor;
    if (sensor.width <= 0 || sensor.height != 1 || sensor.polarities != 1)
      throw ConfigError("ShdFile: the sensor must be channels x 1 x 1");
    // .h5.gz: libhdf5 opens paths only, so decompress to a file first (before taking the HDF5 lock)
    if (GunzippedCopy::is_gzip(path)) st.gunzipped.emplace(path);
    detail::Hdf5Session session;
    if (!st.gunzipped) {
      st.file = detail::h5_open_read_only(st.path);
    } else {
      try {
        st.file = detail::h5_open_read_only(st.gunzipped->path().string());
      } catch (const FileError& e) {
        throw FormatError(
            st.path, -1,
            std::string("gzip-compressed, but what it holds is not a readable HDF5 file (") + e.what() + ")");
      }
    }
    st.times = open_dataset("/spikes/times");
    st.units = open_dataset("/spikes/units");
    detail::H5Handle labels = open_dataset("/labels");
    st.rows = rows_of(st.times, "/spikes/times");
    check_vlen(st.times, "/spikes/times", H5T_FLOAT);
    check_vlen(st.units, "/spikes/units", H5T_INTEGER);
    if (rows_of(st.units, "/spikes/units") != st.rows)
      throw error("/spikes/units has " + std::to_string(rows_of(st.units, "/spikes/units")) + " rows but /spikes/times has " +
                  std::to_string(st.rows));
    if (rows_of(labels, "/labels") != st.rows)
      throw error("/labels has " + std::to_string(rows_of(labels, "/labels")) + " entries but /spikes/times has " +
                  std::to_string(st.rows) + " rows");
    st.labels = read_ints(labels, "/labels");
    for (std::size_t i = 0; i < st.labels.size(); ++i)
      if (st.labels[i] < 0) throw error("/labels[" + std::to_string(i) + "] = " + std::to_string(st.labels[i]) + " is negative");
    if (exists("/extra/keys")) st.keys = read_strings(open_dataset("/extra/keys"), "/extra/keys");
    if (!st.keys.empty())
      for (std::size_t i = 0; i < st.labels.size(); ++i)
        if (std::size_t(st.labels[i]) >= st.keys.size())
          throw error("/labels[" + std::to_string(i) + "] = " + std::to_string(st.labels[i]) + " but /extra/keys names only " +
                      std::to_string(st.keys.size()) + " classes");
    if (exists("/extra/speaker")) {
      detail::H5Handle sp = open_dataset("/extra/speaker");
      if (rows_of(sp, "/extra/speaker") == st.rows) st.speakers = read_ints(sp, "/extra/speaker");
    }
    st.vlen_float = detail::H5Handle(H5Tvlen_create(H5T_NATIVE_FLOAT), H5Tclose);
    st.vlen_int = detail::H5Handle(H5Tvlen_create(H5T_NATIVE_INT), H5Tclose);
  }

  /// The file.
  const std::string& path() const noexcept { return state_->path; }
  /// The number of samples.
  Index size() const noexcept { return Index(state_->rows); }
  /// The sensor the samples live on.
  SensorSize sensor() const noexcept { return state_->sensor; }
  /// The label of every recording.
  const std::vector<int>& labels() const noexcept { return state_->labels; }
  /// Class names from /extra/keys (empty if the file has none).
  const std::vector<std::string>& keys() const noexcept { return state_->keys; }
  /// Speaker ids from /extra/speaker (empty if absent).
  const std::vector<int>& speakers() const noexcept { return state_->speakers; }
  /// Number of classes: the key count, else the largest label + 1.
  int classes() const noexcept {
    if (!state_->keys.empty()) return int(state_->keys.size());
    int m = -1;
    for (int l : state_->labels) m = std::max(m, l);
    return m + 1;
  }

  /// Row i as an event sample (x = channel, times in µs, sorted), labelled.
  EventSample read(Index i) const {
    const State& st = *state_;
    if (i < 0 || std::uint64_t(i) >= st.rows)
      throw ConfigError("ShdFile::read: row " + std::to_string(i) + " outside [0, " + std::to_string(st.rows) + ")");
    detail::Hdf5Session session;
    std::vector<float> t;
    std::vector<int> u;
    read_row(st.times, st.vlen_float, "/spikes/times", std::uint64_t(i), t);
    read_row(st.units, st.vlen_int, "/spikes/units", std::uint64_t(i), u);
    std::string row(1, '[');  // (built stepwise: GCC 12 warns falsely on "[" + to_string(i))
    row += std::to_string(i);
    row += ']';
    if (t.size() != u.size())
      throw error("row " + std::to_string(i) + ": /spikes/times" + row + " has " + std::to_string(t.size()) +
                  " spikes but /spikes/units" + row + " has " + std::to_string(u.size()));
    EventSample s;
    s.sensor = st.sensor;
    s.label = st.labels[std::size_t(i)];
    s.events.resize(t.size());
    for (std::size_t k = 0; k < t.size(); ++k) {
      if (!std::isfinite(t[k]) || t[k] < 0 || t[k] > 1e6f)
        throw error("/spikes/times" + row + "[" + std::to_string(k) + "] = " + std::to_string(t[k]) +
                    " s is not a time in [0, 1e6] s");
      if (u[k] < 0 || u[k] >= st.sensor.width)
        throw error("/spikes/units" + row + "[" + std::to_string(k) + "] = " + std::to_string(u[k]) + " lies outside the " +
                    std::to_string(st.sensor.width) + " channels");
      Event& e = s.events[k];
      e.t = std::llround(double(t[k]) * 1e6);
      e.x = std::uint16_t(u[k]);
    }
    sort_by_time(s.events);
    return s;
  }

 private:
  struct State {
    State() = default;
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    ~State() {  // close under the HDF5 lock
      detail::Hdf5Session session;
      vlen_int.reset();
      vlen_float.reset();
      units.reset();
      times.reset();
      file.reset();
    }
    std::optional<GunzippedCopy> gunzipped;  // first member: its file outlives the HDF5 handles
    std::string path;
    SensorSize sensor{};
    detail::H5Handle file, times, units, vlen_float, vlen_int;
    std::uint64_t rows = 0;
    std::vector<int> labels, speakers;
    std::vector<std::string> keys;
  };

  FormatError error(const std::string& what) const { return FormatError(state_->path, -1, what); }

  bool exists(const std::string& path) const { return detail::h5_exists(state_->file.get(), path); }

  detail::H5Handle open_dataset(const std::string& name) const {
    if (!exists(name)) throw error("no dataset '" + name + "' (not an SHD/SSC file?)");
    detail::H5Handle d(H5Dopen2(state_->file.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
    if (!d.valid()) throw error("'" + name + "' is not a readable dataset");
    return d;
  }

  std::uint64_t rows_of(const detail::H5Handle& d, const std::string& name) const {
    const auto dims = detail::h5_dims(d.get());
    if (!dims) throw error("cannot read the shape of '" + name + "'");
    if (dims->size() != 1)
      throw error("'" + name + "' has rank " + std::to_string(dims->size()) + ", expected a 1-D dataset");
    return std::uint64_t((*dims)[0]);
  }

  void check_vlen(const detail::H5Handle& d, const std::string& name, H5T_class_t base) const {
    detail::H5Handle type(H5Dget_type(d.get()), H5Tclose);
    if (!type.valid() || H5Tget_class(type.get()) != H5T_VLEN)
      throw error("'" + name + "' is not a dataset of variable-length arrays");
    detail::H5Handle super(H5Tget_super(type.get()), H5Tclose);
    const H5T_class_t c = super.valid() ? H5Tget_class(super.get()) : H5T_NO_CLASS;
    if (c != base && !(base == H5T_FLOAT && c == H5T_INTEGER))
      throw error("'" + name + "' holds arrays of the wrong element type (expected " +
                  (base == H5T_FLOAT ? std::string("floats") : std::string("integers")) + ")");
  }

  std::vector<int> read_ints(const detail::H5Handle& d, const std::string& name) const {
    detail::H5Handle type(H5Dget_type(d.get()), H5Tclose);
    if (!type.valid() || H5Tget_class(type.get()) != H5T_INTEGER) throw error("'" + name + "' is not an integer dataset");
    std::vector<int> v(std::size_t(rows_of(d, name)));
    if (!v.empty() && H5Dread(d.get(), H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0)
      throw error("cannot read '" + name + "'");
    return v;
  }

  std::vector<std::string> read_strings(const detail::H5Handle& d, const std::string& name) const {
    rows_of(d, name);  // a 1-D list of names
    return detail::h5_read_strings(d.get(), name, [this](const std::string& what) { return error(what); });
  }

  template <class T>
  void read_row(const detail::H5Handle& d, const detail::H5Handle& mem_type, const std::string& name, std::uint64_t i,
                std::vector<T>& out) const {
    detail::H5Handle fspace(H5Dget_space(d.get()), H5Sclose);
    const hsize_t start = i, count = 1;
    if (!fspace.valid() || H5Sselect_hyperslab(fspace.get(), H5S_SELECT_SET, &start, nullptr, &count, nullptr) < 0)
      throw error("cannot select row " + std::to_string(i) + " of '" + name + "'");
    detail::H5Handle mspace(H5Screate_simple(1, &count, nullptr), H5Sclose);
    hvl_t v{0, nullptr};
    if (H5Dread(d.get(), mem_type.get(), mspace.get(), fspace.get(), H5P_DEFAULT, &v) < 0)
      throw error("cannot read row " + std::to_string(i) + " of '" + name + "' (corrupt data or unconvertible type)");
    const T* p = static_cast<const T*>(v.p);
    out.assign(p, p + v.len);
    H5Dvlen_reclaim(mem_type.get(), mspace.get(), H5P_DEFAULT, &v);
  }

  std::shared_ptr<State> state_;
};

}  // namespace spikelab

#endif
