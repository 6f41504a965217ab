/**
 * @file io/nir/file.hpp
 * @brief The HDF5 side of a Neuromorphic Intermediate Representation (NIR) file: NirWriter
 *        writes node groups, their parameters and the edge list; NirNode reads them back and
 *        turns every defect into a FormatError naming the file and the node. The mapping of
 *        spikelab's layers to NIR nodes is io/nir/layers.hpp, whole networks io/nir/graph.hpp.
 *        Optional: needs the `spikelab::hdf5` CMake target (SPIKELAB_WITH_HDF5).
 *
 * File layout (as the reference `nir` Python package writes and reads it, format 1.0):
 *  - `/version`: a variable-length UTF-8 string (nir_format_version);
 *  - `/node`: the graph, a group with `type` = "NIRGraph", `nodes/` (one group per node),
 *    `edges` (an N x 2 array of variable-length strings: source node, target node) and
 *    `metadata/` (free-form attributes);
 *  - every node group has a `type` string and its parameters as datasets whose shapes leave out
 *    the batch and time dimensions; a NIRGraph node nests a subgraph in the same layout.
 * Units follow the paper: times (tau, dt) in seconds, weights and voltages dimensionless.
 * Parameters may be stored as scalars or arrays of any numeric HDF5 type; they are read as
 * float64. Strings may be variable- or fixed-length.
 *
 * @code
 * @article{pedersen2024neuromorphic, title={Neuromorphic intermediate representation: A unified
 *   instruction set for interoperable brain-inspired computing}, author={Pedersen, Jens E. and
 *   Abreu, Steven and Jobst, Matthias and Lenz, Gregor and Fra, Vittorio and Bauer, Felix C. and
 *   others}, journal={Nature Communications}, volume={15}, pages={8122}, year={2024}}
 * @endcode
 */
#ifndef SPIKELAB_IO_NIR_FILE_HPP
#define SPIKELAB_IO_NIR_FILE_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/hdf5.hpp>

#include <concepts>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace spikelab {

/// The NIR format version written to /version (Pedersen et al., Nature Communications 2024).
inline constexpr const char* nir_format_version = "1.0.0";

namespace detail {

/// An array read from a NIR file: values as double (row-major) and the dimensions.
struct NirArray {
  std::vector<double> values;
  std::vector<hsize_t> dims;
  std::size_t size() const noexcept { return values.size(); }
};

/// Writes the HDF5 objects of a NIR file (see the file comment for the layout); every failure
/// is a FileError naming the file. Call it inside an Hdf5Session.
class NirWriter {
 public:
  explicit NirWriter(std::string path) : path_(std::move(path)) {}
  const std::string& path() const noexcept { return path_; }

  /// Creates (or truncates) the file and writes its /version.
  H5Handle create_file() {
    H5Handle f(H5Fcreate(path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!f.valid()) throw FileError(path_, -1, "HDF5 cannot create the file");
    string(f.get(), "version", nir_format_version);
    return f;
  }
  H5Handle group(hid_t parent, const std::string& name) {
    H5Handle g(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    if (!g.valid()) throw FileError(path_, -1, "HDF5 cannot create group '" + name + "'");
    return g;
  }
  /// A node group `name` below `nodes` with its `type` string; the caller adds the parameters.
  H5Handle node(hid_t nodes, const std::string& name, const std::string& type) {
    H5Handle g = group(nodes, name);
    string(g.get(), "type", type);
    return g;
  }
  /// An Input or Output node: its `shape` (without batch and time).
  void io_node(hid_t nodes, const std::string& name, const std::string& type, const std::vector<std::int64_t>& shape) {
    H5Handle g = node(nodes, name, type);
    array(g.get(), "shape", shape, {hsize_t(shape.size())});
  }
  /// The `edges` dataset of a graph group: (source, target) node names.
  void edges(hid_t graph, const std::vector<std::pair<std::string, std::string>>& e) { string_pairs(graph, "edges", e); }

  void string(hid_t loc, const std::string& name, const std::string& value) {
    H5Handle type = vlen_string_type();
    H5Handle space(H5Screate(H5S_SCALAR), H5Sclose);
    H5Handle ds = dataset(loc, name, type.get(), space.get());
    const char* p = value.c_str();
    if (H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, &p) < 0) fail(name);
  }
  /// An (N x 2) dataset of variable-length strings.
  void string_pairs(hid_t loc, const std::string& name, const std::vector<std::pair<std::string, std::string>>& v) {
    H5Handle type = vlen_string_type();
    const hsize_t dims[2] = {hsize_t(v.size()), 2};
    H5Handle space(H5Screate_simple(2, dims, nullptr), H5Sclose);
    H5Handle ds = dataset(loc, name, type.get(), space.get());
    std::vector<const char*> p;
    for (const auto& [a, b] : v) {
      p.push_back(a.c_str());
      p.push_back(b.c_str());
    }
    if (!v.empty() && H5Dwrite(ds.get(), type.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) < 0) fail(name);
  }
  /// A row-major array of doubles / floats / int64 with the given dimensions (empty = scalar).
  template <class T>
  void array(hid_t loc, const std::string& name, const std::vector<T>& v, std::vector<hsize_t> dims) {
    hid_t file_type, mem_type;
    if constexpr (std::same_as<T, double>) file_type = H5T_IEEE_F64LE, mem_type = H5T_NATIVE_DOUBLE;
    else if constexpr (std::same_as<T, float>) file_type = H5T_IEEE_F32LE, mem_type = H5T_NATIVE_FLOAT;
    else {
      static_assert(std::same_as<T, std::int64_t>);
      file_type = H5T_STD_I64LE, mem_type = H5T_NATIVE_INT64;
    }
    H5Handle space(dims.empty() ? H5Screate(H5S_SCALAR) : H5Screate_simple(int(dims.size()), dims.data(), nullptr),
                   H5Sclose);
    H5Handle ds = dataset(loc, name, file_type, space.get());
    if (!v.empty() && H5Dwrite(ds.get(), mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) < 0) fail(name);
  }
  void scalar(hid_t loc, const std::string& name, std::int64_t v) { array(loc, name, std::vector<std::int64_t>{v}, {}); }
  void scalar(hid_t loc, const std::string& name, double v) { array(loc, name, std::vector<double>{v}, {}); }

 private:
  static H5Handle vlen_string_type() {
    H5Handle t(H5Tcopy(H5T_C_S1), H5Tclose);
    H5Tset_size(t.get(), H5T_VARIABLE);
    H5Tset_cset(t.get(), H5T_CSET_UTF8);
    return t;
  }
  H5Handle dataset(hid_t loc, const std::string& name, hid_t type, hid_t space) {
    H5Handle ds(H5Dcreate2(loc, name.c_str(), type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Dclose);
    if (!ds.valid()) fail(name);
    return ds;
  }
  [[noreturn]] void fail(const std::string& name) const {
    throw FileError(path_, -1, "HDF5 cannot write dataset '" + name + "'");
  }
  std::string path_;
};

/// Opens the NIR file `path` for reading (inside an Hdf5Session): an HDF5 file with a /version.
inline H5Handle nir_open_file(const std::string& path) {
  H5Handle file = h5_open_read_only(path);
  if (H5Lexists(file.get(), "version", H5P_DEFAULT) <= 0) throw FormatError(path, -1, "not a NIR file: no /version");
  return file;
}

/// One node group of a NIR file being read (a graph, a subgraph, a node or a metadata group);
/// errors are FormatErrors naming the file and the node ("NIR node '<where>': ...").
class NirNode {
 public:
  /// Opens the group `name` below `parent`; `where` names it in messages (e.g. "rlif/lif").
  NirNode(const std::string& path, hid_t parent, std::string name, std::string where)
      : path_(&path), name_(std::move(name)), where_(std::move(where)) {
    if (H5Lexists(parent, name_.c_str(), H5P_DEFAULT) <= 0) throw error("no such node");
    g_ = H5Handle(H5Gopen2(parent, name_.c_str(), H5P_DEFAULT), H5Gclose);
    if (!g_.valid()) throw error("not a group");
  }
  hid_t get() const noexcept { return g_.get(); }
  const std::string& file() const noexcept { return *path_; }
  const std::string& name() const noexcept { return name_; }
  const std::string& where() const noexcept { return where_; }

  /// Whether the dataset or group `key` ("a" or "a/b") exists in this node.
  bool has(const std::string& key) const { return h5_exists(g_.get(), key); }
  std::string type() const { return string("type"); }

  /// The single string `key`.
  std::string string(const std::string& key) const {
    H5Handle ds = open(key, "string");
    const auto dims = h5_dims(ds.get());
    std::size_t n = 1;
    if (dims)
      for (hsize_t d : *dims) n *= std::size_t(d);
    if (!dims || n != 1) throw error("'" + key + "' should be one string");
    return h5_read_strings(ds.get(), key, fail())[0];
  }
  /// The numeric dataset `key` (a scalar or an array of any numeric type) as doubles.
  NirArray array(const std::string& key) const {
    H5Handle ds = open(key, "dataset");
    const auto dims = h5_dims(ds.get());
    if (!dims) throw error("'" + key + "' has no readable shape");
    NirArray a;
    a.dims = *dims;
    hsize_t n = 1;
    for (hsize_t d : a.dims) n *= d;
    H5Handle type(H5Dget_type(ds.get()), H5Tclose);
    const H5T_class_t cls = H5Tget_class(type.get());
    if (cls != H5T_FLOAT && cls != H5T_INTEGER) throw error("'" + key + "' is not numeric");
    a.values.resize(std::size_t(n));
    if (n > 0 && H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.values.data()) < 0)
      throw error("cannot read '" + key + "'");
    return a;
  }
  /// A parameter of n values in any shape (a scalar or 1-element array is broadcast).
  std::vector<double> vector(const std::string& key, std::size_t n) const {
    NirArray a = array(key);
    if (a.size() == 1 && n != 1) return std::vector<double>(n, a.values[0]);
    if (a.size() != n)
      throw error("'" + key + "' has " + std::to_string(a.size()) + " values, expected " + std::to_string(n));
    return a.values;
  }
  double number(const std::string& key) const {
    NirArray a = array(key);
    if (a.size() != 1) throw error("'" + key + "' should be a single number");
    return a.values[0];
  }
  /// metadata/<key> as a string, or `fallback` when absent.
  std::string meta_string(const std::string& key, const std::string& fallback) const {
    const std::string p = "metadata/" + key;
    return has(p) ? string(p) : fallback;
  }
  /// The graph's edges (source, target); an empty graph may store a 1-D empty array.
  std::vector<std::pair<std::string, std::string>> edges() const {
    H5Handle ds = open("edges", "dataset");
    const auto dims = h5_dims(ds.get());
    if (dims && dims->size() == 1 && (*dims)[0] == 0) return {};
    if (!dims || dims->size() != 2 || (*dims)[1] != 2) throw error("'edges' must be an N x 2 array of node names");
    const std::vector<std::string> s = h5_read_strings(ds.get(), "edges", fail());
    std::vector<std::pair<std::string, std::string>> e;
    for (std::size_t i = 0; i < std::size_t((*dims)[0]); ++i) e.emplace_back(s[2 * i], s[2 * i + 1]);
    return e;
  }

  FormatError error(const std::string& what) const {
    return FormatError(*path_, -1, "NIR node '" + where_ + "': " + what);
  }

 private:
  /// The `fail` argument of the h5_* helpers: their errors name this node.
  struct Fail {
    const NirNode* node;
    FormatError operator()(const std::string& what) const { return node->error(what); }
  };
  Fail fail() const { return Fail{this}; }
  /// The dataset `key`; `what` ("string", "dataset") names what was expected when it is missing.
  H5Handle open(const std::string& key, const char* what) const {
    if (!has(key)) throw error("missing " + std::string(what) + " '" + key + "'");
    H5Handle ds(H5Dopen2(g_.get(), key.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.valid()) throw error("'" + key + "' is not a dataset");
    return ds;
  }

  const std::string* path_;
  std::string name_, where_;
  H5Handle g_;
};

}  // namespace detail

}  // namespace spikelab

#endif
