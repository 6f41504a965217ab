/**
 * @file io/nir.hpp
 * @brief write_nir / read_nir: spikelab Sequential networks as Neuromorphic Intermediate
 *        Representation (NIR) files, the HDF5 graph format shared by snnTorch, Norse,
 *        SpikingJelly, Lava and neuromorphic hardware tool chains. Optional: needs the
 *        `spikelab::hdf5` CMake target (option SPIKELAB_WITH_HDF5), which defines SPIKELAB_HAS_HDF5.
 *
 * File layout (as the reference `nir` package writes and reads it):
 *  - `/version`: variable-length UTF-8 string (nir_format_version);
 *  - `/node`: the graph, a group with `type` = "NIRGraph", `nodes/` (one group per node),
 *    `edges` (N x 2 variable-length strings: source, target) and `metadata/` (spikelab writes
 *    `dt` in seconds, `generator` and the network `signature`);
 *  - every node group has a `type` string and its parameters as datasets, shapes without batch
 *    or time: Input / Output (`shape`), Affine (`weight` out x in, `bias`), Linear (`weight`),
 *    LIF (`tau`, `r`, `v_leak`, `v_threshold`, `v_reset`), CubaLIF (`tau_mem`, `tau_syn`, `r`,
 *    `v_leak`, `v_threshold`, `v_reset`, `w_in`), LI (`tau`, `r`, `v_leak`), Conv2d (`weight`
 *    C_out x C_in x k x k, `bias`, `stride`, `padding`, `dilation`, `groups`, `input_shape` = H, W),
 *    Flatten (`start_dim`, `end_dim`, `input_type` = C, H, W), NIRGraph (a subgraph).
 * Weights are stored in the network's scalar type, neuron parameters as float64.
 *
 * Units. NIR's neurons are continuous: LIF \f$\tau \dot v = (v_{leak} - v) + R I\f$, CubaLIF
 * adds \f$\tau_{syn} \dot I = -I + w_{in} S\f$, LI is LIF without spikes. spikelab's layers are
 * their forward-Euler discretisation with step dt (NirOptions::dt, seconds; 1 ms by default,
 * stored as metadata/dt), which fixes the parameters:
 * \f[ \tau = \frac{dt}{1-\beta},\quad R = \frac{\tau}{dt} = \frac{1}{1-\beta},\quad
 *     \tau_{syn} = \frac{dt}{1-\alpha},\quad w_{in} = \frac{\tau_{syn}}{dt},\quad v_{leak} = 0,\quad
 *     v_{threshold} = \theta,\quad v_{reset} = 0 \f]
 * so that v_t = beta v_{t-1} + I_t and I_t = alpha I_{t-1} + x_t exactly (the snnTorch convention).
 * A LeakyIntegrator with `normalize` (input scaled by 1 - beta) has R = 1. beta = 1 gives
 * tau = R = +inf (the integrate-and-fire limit).
 *
 * Reset. NIR's LIF resets to v_reset (= 0), which is spikelab's ZeroReset. SubtractReset and
 * NoReset have no NIR equivalent; they are written as LIF/CubaLIF with `metadata/reset` =
 * "subtract" / "none" ("zero" for ZeroReset) so that spikelab reads them back exactly; other
 * tools will read them as reset-to-zero neurons. A file without that metadata is read as
 * reset-to-zero and needs a network type with ZeroReset.
 *
 * Layers: Linear (Affine with bias, else Linear), Lif (LIF, or CubaLIF with a synaptic current),
 * RecurrentLif (a NIRGraph subgraph input -> lif -> output with lif -> w_rec -> lif, w_rec a
 * Linear node holding the recurrent weights), LeakyIntegrator (LI), Conv2d, Flatten. Other
 * layers are a compile-time error. Not in NIR and not written: surrogate gradients, parameter
 * bounds, detach_reset (read_nir uses the defaults).
 *
 * read_nir<Net>(path) rebuilds a network of type Net from a sequential graph (a single path
 * Input -> ... -> Output): wrong node types, shapes, non-zero v_leak or v_reset, a gain R other
 * than the one above, per-layer parameters that differ between neurons, ... raise FormatError
 * naming the file and the node.
 *
 * @code
 * @article{pedersen2024neuromorphic, title={Neuromorphic intermediate representation: A unified
 *   instruction set for interoperable brain-inspired computing}, author={Pedersen, Jens E. and
 *   Abreu, Steven and Jobst, Matthias and Lenz, Gregor and Fra, Vittorio and Bauer, Felix C. and
 *   others}, journal={Nature Communications}, volume={15}, pages={8122}, year={2024}}
 * @endcode
 */
#ifndef SPIKELAB_IO_NIR_HPP
#define SPIKELAB_IO_NIR_HPP

#ifndef SPIKELAB_HAS_HDF5
#error "spikelab/io/nir.hpp needs HDF5: link the spikelab::hdf5 CMake target (SPIKELAB_WITH_HDF5)"
#endif

#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/data/formats/shd_hdf5.hpp>  // detail::Hdf5Session, detail::H5Handle
#include <spikelab/layers/conv2d.hpp>
#include <spikelab/layers/flatten.hpp>
#include <spikelab/layers/linear.hpp>
#include <spikelab/networks/sequential.hpp>
#include <spikelab/neurons/leaky_integrator.hpp>
#include <spikelab/neurons/lif.hpp>
#include <spikelab/version.hpp>

#include <hdf5.h>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace spikelab {

/// The NIR format version written to /version.
inline constexpr const char* nir_format_version = "1.0.0";

struct NirOptions {
  double dt = 1e-3;  ///< seconds per simulation step (tau = dt / (1 - beta))
};

struct NirReadOptions {
  double dt = 0.0;  ///< seconds per step; 0: the file's metadata/dt if present, else 1e-3
};

namespace detail {

/// An array read from a NIR file: values as double and the dimensions.
struct NirArray {
  std::vector<double> values;
  std::vector<hsize_t> dims;
  std::size_t size() const noexcept { return values.size(); }
};

/// Writes HDF5 objects of a NIR file; every failure is a FileError naming the file.
class NirWriter {
 public:
  explicit NirWriter(std::string path) : path_(std::move(path)) {}
  const std::string& path() const noexcept { return path_; }

  H5Handle create_file() {
    H5Handle f(H5Fcreate(path_.c_str(), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT), H5Fclose);
    if (!f.valid()) throw FileError(path_, -1, "HDF5 cannot create the file");
    return f;
  }
  H5Handle group(hid_t parent, const std::string& name) {
    H5Handle g(H5Gcreate2(parent, name.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT), H5Gclose);
    if (!g.valid()) throw FileError(path_, -1, "HDF5 cannot create group '" + name + "'");
    return g;
  }
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

/// One node group of a NIR file being read; errors are FormatErrors naming file and node.
class NirNode {
 public:
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

  bool has(const std::string& key) const { return H5Lexists(g_.get(), key.c_str(), H5P_DEFAULT) > 0; }
  std::string type() const { return string("type"); }

  std::string string(const std::string& key) const { return read_string(g_.get(), key); }
  NirArray array(const std::string& key) const {
    H5Handle ds = open(key);
    H5Handle space(H5Dget_space(ds.get()), H5Sclose);
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank < 0) throw error("'" + key + "' has no readable shape");
    NirArray a;
    a.dims.resize(std::size_t(rank));
    if (rank > 0) H5Sget_simple_extent_dims(space.get(), a.dims.data(), nullptr);
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
    if (!has("metadata") || H5Lexists(g_.get(), p.c_str(), H5P_DEFAULT) <= 0) return fallback;
    return read_string(g_.get(), p);
  }
  std::vector<std::pair<std::string, std::string>> edges() const {
    H5Handle ds = open("edges");
    H5Handle space(H5Dget_space(ds.get()), H5Sclose);
    hsize_t dims[2] = {0, 0};
    const int rank = H5Sget_simple_extent_ndims(space.get());
    if (rank == 1) {
      H5Sget_simple_extent_dims(space.get(), dims, nullptr);
      if (dims[0] != 0) throw error("'edges' must be an N x 2 array of node names");
      return {};
    }
    if (rank != 2) throw error("'edges' must be an N x 2 array of node names");
    H5Sget_simple_extent_dims(space.get(), dims, nullptr);
    if (dims[1] != 2) throw error("'edges' must be an N x 2 array of node names");
    const std::vector<std::string> s = read_strings(ds.get(), "edges", std::size_t(dims[0] * 2));
    std::vector<std::pair<std::string, std::string>> e;
    for (std::size_t i = 0; i < std::size_t(dims[0]); ++i) e.emplace_back(s[2 * i], s[2 * i + 1]);
    return e;
  }

  FormatError error(const std::string& what) const {
    return FormatError(*path_, -1, "NIR node '" + where_ + "': " + what);
  }

 private:
  H5Handle open(const std::string& key) const {
    if (!has(key)) throw error("missing dataset '" + key + "'");
    H5Handle ds(H5Dopen2(g_.get(), key.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.valid()) throw error("'" + key + "' is not a dataset");
    return ds;
  }
  std::string read_string(hid_t loc, const std::string& key) const {
    if (H5Lexists(loc, key.c_str(), H5P_DEFAULT) <= 0) throw error("missing string '" + key + "'");
    H5Handle ds(H5Dopen2(loc, key.c_str(), H5P_DEFAULT), H5Dclose);
    if (!ds.valid()) throw error("'" + key + "' is not a dataset");
    H5Handle space(H5Dget_space(ds.get()), H5Sclose);
    if (H5Sget_simple_extent_npoints(space.get()) != 1) throw error("'" + key + "' should be one string");
    return read_strings(ds.get(), key, 1)[0];
  }
  /// n strings of a dataset, variable-length or fixed-length.
  std::vector<std::string> read_strings(hid_t ds, const std::string& key, std::size_t n) const {
    H5Handle ftype(H5Dget_type(ds), H5Tclose);
    if (H5Tget_class(ftype.get()) != H5T_STRING) throw error("'" + key + "' is not a string dataset");
    std::vector<std::string> out(n);
    if (H5Tis_variable_str(ftype.get()) > 0) {
      H5Handle mtype(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(mtype.get(), H5T_VARIABLE);
      H5Tset_cset(mtype.get(), H5Tget_cset(ftype.get()));
      std::vector<char*> p(n, nullptr);
      if (H5Dread(ds, mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, p.data()) < 0) throw error("cannot read '" + key + "'");
      for (std::size_t i = 0; i < n; ++i) out[i] = p[i] ? p[i] : "";
      H5Handle space(H5Dget_space(ds), H5Sclose);
      H5Dvlen_reclaim(mtype.get(), space.get(), H5P_DEFAULT, p.data());
    } else {
      const std::size_t len = H5Tget_size(ftype.get());
      H5Handle mtype(H5Tcopy(H5T_C_S1), H5Tclose);
      H5Tset_size(mtype.get(), len);
      H5Tset_cset(mtype.get(), H5Tget_cset(ftype.get()));
      std::vector<char> buf(n * len);
      if (H5Dread(ds, mtype.get(), H5S_ALL, H5S_ALL, H5P_DEFAULT, buf.data()) < 0) throw error("cannot read '" + key + "'");
      for (std::size_t i = 0; i < n; ++i) {
        const char* s = buf.data() + i * len;
        std::size_t l = 0;
        while (l < len && s[l] != '\0') ++l;
        out[i] = std::string(s, l);
      }
    }
    return out;
  }

  const std::string* path_;
  std::string name_, where_;
  H5Handle g_;
};

/// What writers and readers share: dt, unique node names, the current image shape.
struct NirContext {
  double dt = 1e-3;
  std::map<std::string, int> counts;
  ImageShape image{};  ///< shape of the current activation when it is an image (channels > 0)
  bool has_image = false;
  /// "lif", "lif_1", "lif_2", ... (the reference package's NIRGraph.from_list naming).
  std::string unique(const std::string& base) {
    const int k = counts[base]++;
    return k == 0 ? base : base + "_" + std::to_string(k);
  }
};

/// Shape of an element-wise neuron layer's parameters: the image shape after a convolution, else n.
inline std::vector<hsize_t> neuron_dims(const NirContext& ctx, Index n) {
  if (ctx.has_image && ctx.image.size() == n)
    return {hsize_t(ctx.image.channels), hsize_t(ctx.image.height), hsize_t(ctx.image.width)};
  return {hsize_t(n)};
}

template <class M>
std::vector<double> row_major(const M& m) {
  std::vector<double> v(std::size_t(m.size()));
  for (Index r = 0; r < m.rows(); ++r)
    for (Index c = 0; c < m.cols(); ++c) v[std::size_t(r * m.cols() + c)] = double(m(r, c));
  return v;
}
template <class S, class M>
std::vector<S> row_major_as(const M& m) {
  std::vector<S> v(std::size_t(m.size()));
  for (Index r = 0; r < m.rows(); ++r)
    for (Index c = 0; c < m.cols(); ++c) v[std::size_t(r * m.cols() + c)] = S(m(r, c));
  return v;
}

inline std::vector<double> nir_tau(const std::vector<double>& decay, double dt) {
  std::vector<double> t(decay.size());
  for (std::size_t i = 0; i < t.size(); ++i)
    t[i] = decay[i] >= 1.0 ? std::numeric_limits<double>::infinity() : dt / (1.0 - decay[i]);
  return t;
}
inline std::vector<double> nir_decay(const NirNode& node, const std::vector<double>& tau, double dt, const char* key) {
  std::vector<double> d(tau.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (!(tau[i] > 0)) throw node.error(std::string(key) + "[" + std::to_string(i) + "] = " + std::to_string(tau[i]) + " is not positive");
    d[i] = std::isinf(tau[i]) ? 1.0 : 1.0 - dt / tau[i];
  }
  return d;
}
/// Checks gain[i] * (1 - decay[i]) == 1 (the Euler gain that makes the input enter with weight 1).
inline void nir_check_unit_gain(const NirNode& node, const std::vector<double>& gain, const std::vector<double>& decay,
                                const char* key) {
  for (std::size_t i = 0; i < gain.size(); ++i) {
    if (decay[i] >= 1.0) continue;  // IF limit: R = tau = inf
    const double g = gain[i] * (1.0 - decay[i]);
    if (!(std::abs(g - 1.0) <= 1e-6))
      throw node.error(std::string(key) + "[" + std::to_string(i) + "] = " + std::to_string(gain[i]) +
                       " is not tau/dt (spikelab's neurons take their input with gain 1; see io/nir.hpp)");
  }
}
inline void nir_check_zero(const NirNode& node, const std::string& key, std::size_t n) {
  if (!node.has(key)) return;
  for (double v : node.vector(key, n))
    if (v != 0.0) throw node.error("'" + key + "' must be 0 for spikelab's neurons (found " + std::to_string(v) + ")");
}
template <class S>
Vector<S> to_vector(const std::vector<double>& v) {
  Vector<S> r(Index(v.size()));
  for (std::size_t i = 0; i < v.size(); ++i) r[Index(i)] = S(v[i]);
  return r;
}
/// Per-neuron values of a neuron parameter from its stored value (values() is refreshed only by
/// the next forward pass, so it can be one optimizer step behind).
template <class S>
std::vector<double> neuron_values(const NeuronParameter<S>& p) {
  const Matrix<S>& raw = p.raw();
  std::vector<double> r(std::size_t(p.neurons()));
  for (Index i = 0; i < p.neurons(); ++i) r[std::size_t(i)] = double(raw.rows() == 1 ? raw(0, 0) : raw(i, 0));
  return r;
}

/// NirLayer<L>: write(w, ctx, nodes_group, layer) -> node name, read(node, ctx) -> layer.
template <class L>
struct NirLayer {
  static_assert(sizeof(L) == 0,
                "write_nir/read_nir: this layer type has no NIR node (supported: Linear, Lif, RecurrentLif, "
                "LeakyIntegrator, Conv2d, Flatten)");
};

template <class S>
struct NirLayer<Linear<S>> {
  static std::string write(NirWriter& w, NirContext& ctx, hid_t nodes, const Linear<S>& l) {
    const bool bias = l.config().bias;
    const std::string name = ctx.unique(bias ? "affine" : "linear");
    H5Handle g = w.group(nodes, name);
    w.string(g.get(), "type", bias ? "Affine" : "Linear");
    w.array(g.get(), "weight", row_major_as<S>(l.weight()), {hsize_t(l.output_size()), hsize_t(l.input_size())});
    if (bias) w.array(g.get(), "bias", row_major_as<S>(l.bias()), {hsize_t(l.output_size())});
    ctx.has_image = false;
    return name;
  }
  static Linear<S> read(const NirNode& node, NirContext& ctx) {
    const std::string t = node.type();
    if (t != "Affine" && t != "Linear") throw node.error("is a " + t + " node, expected Affine or Linear (spikelab Linear)");
    const NirArray wt = node.array("weight");
    if (wt.dims.size() != 2) throw node.error("'weight' must be 2-D (out x in)");
    const Index out = Index(wt.dims[0]), in = Index(wt.dims[1]);
    Rng rng(0);
    Linear<S> l(in, out, rng, LinearConfig{.bias = t == "Affine"});
    for (Index r = 0; r < out; ++r)
      for (Index c = 0; c < in; ++c) l.weight()(r, c) = S(wt.values[std::size_t(r * in + c)]);
    if (t == "Affine") l.bias().col(0) = to_vector<S>(node.vector("bias", std::size_t(out)));
    ctx.has_image = false;
    return l;
  }
};

template <class R>
constexpr const char* nir_reset_name() {
  if constexpr (std::same_as<R, SubtractReset>) return "subtract";
  else if constexpr (std::same_as<R, ZeroReset>) return "zero";
  else if constexpr (std::same_as<R, NoReset>) return "none";
  else return "custom";
}

template <class S, class G, class R, LifOptions O>
struct NirLayer<LifType<S, G, R, O>> {
  using L = LifType<S, G, R, O>;

  static std::string write(NirWriter& w, NirContext& ctx, hid_t nodes, const L& l) {
    const Index n = l.output_size();
    if constexpr (!O.recurrent) {
      const std::string name = ctx.unique(l.synaptic() ? "cubalif" : "lif");
      write_neuron(w, ctx, nodes, name, l);  // element-wise: an image stays an image
      return name;
    } else {
      const std::string name = ctx.unique("rlif");
      H5Handle g = w.group(nodes, name);
      w.string(g.get(), "type", "NIRGraph");
      H5Handle sub = w.group(g.get(), "nodes");
      write_io(w, sub.get(), "input", "Input", n);
      write_io(w, sub.get(), "output", "Output", n);
      NirContext flat = ctx;
      flat.has_image = false;
      write_neuron(w, flat, sub.get(), "lif", l);
      H5Handle rec = w.group(sub.get(), "w_rec");
      w.string(rec.get(), "type", "Linear");
      w.array(rec.get(), "weight", row_major_as<S>(l.recurrent_weight()), {hsize_t(n), hsize_t(n)});
      w.string_pairs(g.get(), "edges", {{"input", "lif"}, {"lif", "w_rec"}, {"w_rec", "lif"}, {"lif", "output"}});
      ctx.has_image = false;
      return name;
    }
  }

  static L read(const NirNode& node, NirContext& ctx) {
    if constexpr (!O.recurrent) {
      return read_neuron(node, ctx, nullptr);
    } else {
      if (node.type() != "NIRGraph")
        throw node.error("is a " + node.type() + " node, expected a NIRGraph subgraph (spikelab RecurrentLif)");
      const auto edges = node.edges();
      const NirNode sub(node.file(), node.get(), "nodes", node.where() + "/nodes");
      // the neuron (LIF/CubaLIF) and the recurrent projection (Linear): the loop lif -> w_rec -> lif
      std::string lif, rec;
      for (const auto& [a, b] : edges)
        for (const auto& [c, d] : edges)
          if (a == d && b == c && a != b && lif.empty()) {
            const NirNode na(node.file(), sub.get(), a, node.where() + "/" + a);
            if (na.type() == "LIF" || na.type() == "CubaLIF") lif = a, rec = b;
          }
      if (lif.empty()) throw node.error("subgraph has no LIF/CubaLIF node with a recurrent Linear loop (lif -> w_rec -> lif)");
      const NirNode nl(node.file(), sub.get(), lif, node.where() + "/" + lif);
      const NirNode nr(node.file(), sub.get(), rec, node.where() + "/" + rec);
      if (nr.type() != "Linear") throw nr.error("is a " + nr.type() + " node, expected the recurrent Linear projection");
      const NirArray wt = nr.array("weight");
      ctx.has_image = false;
      return read_neuron(nl, ctx, &wt);
    }
  }

 private:
  static void write_io(NirWriter& w, hid_t nodes, const std::string& name, const char* type, Index n) {
    H5Handle g = w.group(nodes, name);
    w.string(g.get(), "type", type);
    w.array(g.get(), "shape", std::vector<std::int64_t>{std::int64_t(n)}, {1});
  }
  static void write_neuron(NirWriter& w, const NirContext& ctx, hid_t nodes, const std::string& name, const L& l) {
    const std::vector<hsize_t> n = neuron_dims(ctx, l.output_size());
    const std::vector<double> beta = neuron_values(l.beta()), theta = neuron_values(l.threshold());
    const std::vector<double> tau = nir_tau(beta, ctx.dt), zeros(beta.size(), 0.0);
    std::vector<double> r(beta.size());
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = tau[i] / ctx.dt;
    H5Handle g = w.group(nodes, name);
    if (l.synaptic()) {
      const std::vector<double> alpha = neuron_values(l.alpha());
      const std::vector<double> tau_syn = nir_tau(alpha, ctx.dt);
      std::vector<double> w_in(alpha.size());
      for (std::size_t i = 0; i < w_in.size(); ++i) w_in[i] = tau_syn[i] / ctx.dt;
      w.string(g.get(), "type", "CubaLIF");
      w.array(g.get(), "tau_mem", tau, n);
      w.array(g.get(), "tau_syn", tau_syn, n);
      w.array(g.get(), "w_in", w_in, n);
    } else {
      w.string(g.get(), "type", "LIF");
      w.array(g.get(), "tau", tau, n);
    }
    w.array(g.get(), "r", r, n);
    w.array(g.get(), "v_leak", zeros, n);
    w.array(g.get(), "v_threshold", theta, n);
    w.array(g.get(), "v_reset", zeros, n);
    H5Handle m = w.group(g.get(), "metadata");
    w.string(m.get(), "reset", nir_reset_name<R>());
  }

  static L read_neuron(const NirNode& node, NirContext& ctx, const NirArray* rec) {
    const std::string t = node.type();
    if (t != "LIF" && t != "CubaLIF")
      throw node.error("is a " + t + " node, expected LIF or CubaLIF (spikelab " + L::name() + ")");
    const bool cuba = t == "CubaLIF";
    const NirArray thr = node.array("v_threshold");
    const std::size_t n = thr.size();
    if (n == 0) throw node.error("'v_threshold' is empty");
    const std::vector<double> tau = node.vector(cuba ? "tau_mem" : "tau", n);
    const std::vector<double> beta = nir_decay(node, tau, ctx.dt, cuba ? "tau_mem" : "tau");
    nir_check_unit_gain(node, node.vector("r", n), beta, "r");
    nir_check_zero(node, "v_leak", n);
    nir_check_zero(node, "v_reset", n);
    std::vector<double> alpha(n, 0.0);
    if (cuba) {
      alpha = nir_decay(node, node.vector("tau_syn", n), ctx.dt, "tau_syn");
      if (node.has("w_in")) nir_check_unit_gain(node, node.vector("w_in", n), alpha, "w_in");
    }
    const std::string reset = node.meta_string("reset", "zero");
    if (reset != nir_reset_name<R>())
      throw node.error("resets by '" + reset + "' but the network type uses " + R::name() +
                       (node.has("metadata") ? "" : " (NIR's LIF resets to v_reset: use ZeroReset)"));
    LifConfig cfg;
    cfg.beta = beta[0];
    cfg.alpha = alpha[0];
    cfg.threshold = thr.values[0];
    try {
      if constexpr (O.recurrent) {
        if (rec->dims.size() != 2 || rec->dims[0] != n || rec->dims[1] != n)
          throw node.error("the recurrent weight must be " + std::to_string(n) + " x " + std::to_string(n));
        Rng rng(0);
        L l(Index(n), rng, cfg, G{});
        for (Index r = 0; r < Index(n); ++r)
          for (Index c = 0; c < Index(n); ++c) l.recurrent_weight()(r, c) = S(rec->values[std::size_t(r) * n + std::size_t(c)]);
        set_params(l, beta, alpha, thr.values);
        return l;
      } else {
        L l(Index(n), cfg, G{});
        set_params(l, beta, alpha, thr.values);
        return l;
      }
    } catch (const ConfigError& e) {
      throw node.error(std::string("does not fit the network type ") + L::name() + ": " + e.what());
    } catch (const ShapeError& e) {
      throw node.error(std::string("does not fit the network type ") + L::name() + ": " + e.what());
    }
  }
  static void set_params(L& l, const std::vector<double>& beta, const std::vector<double>& alpha,
                         const std::vector<double>& theta) {
    l.beta().set(to_vector<S>(beta));
    l.threshold().set(to_vector<S>(theta));
    l.alpha().set(to_vector<S>(alpha));
  }
};

template <class S, Train M>
struct NirLayer<LeakyIntegratorType<S, M>> {
  using L = LeakyIntegratorType<S, M>;
  static std::string write(NirWriter& w, NirContext& ctx, hid_t nodes, const L& l) {
    const std::string name = ctx.unique("li");
    const std::vector<hsize_t> n = neuron_dims(ctx, l.output_size());
    const std::vector<double> beta = neuron_values(l.beta());
    const std::vector<double> tau = nir_tau(beta, ctx.dt), zeros(beta.size(), 0.0);
    std::vector<double> r(beta.size());
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = l.config().normalize ? 1.0 : tau[i] / ctx.dt;
    H5Handle g = w.group(nodes, name);
    w.string(g.get(), "type", "LI");
    w.array(g.get(), "tau", tau, n);
    w.array(g.get(), "r", r, n);
    w.array(g.get(), "v_leak", zeros, n);
    return name;
  }
  static L read(const NirNode& node, NirContext& ctx) {
    if (node.type() != "LI") throw node.error("is a " + node.type() + " node, expected LI (spikelab LeakyIntegrator)");
    const NirArray tau_a = node.array("tau");
    const std::size_t n = tau_a.size();
    if (n == 0) throw node.error("'tau' is empty");
    const std::vector<double> beta = nir_decay(node, tau_a.values, ctx.dt, "tau");
    const std::vector<double> r = node.vector("r", n);
    nir_check_zero(node, "v_leak", n);
    // gain c = r (1 - beta): 1 for the plain integrator, 1 - beta (r = 1) when normalised
    bool plain = true, normalised = true;
    for (std::size_t i = 0; i < n; ++i) {
      if (beta[i] >= 1.0) continue;
      plain = plain && std::abs(r[i] * (1.0 - beta[i]) - 1.0) <= 1e-6;
      normalised = normalised && std::abs(r[i] - 1.0) <= 1e-6;
    }
    if (!plain && !normalised)
      throw node.error("'r' is neither tau/dt (input gain 1) nor 1 (gain 1 - beta, normalize = true)");
    LeakyIntegratorConfig cfg;
    cfg.beta = beta[0];
    cfg.normalize = !plain;
    try {
      L l(Index(n), cfg);
      l.beta().set(to_vector<S>(beta));
      return l;
    } catch (const ConfigError& e) {
      throw node.error(std::string("does not fit the network type: ") + e.what());
    }
  }
};

template <class S>
struct NirLayer<Conv2d<S>> {
  static std::string write(NirWriter& w, NirContext& ctx, hid_t nodes, const Conv2d<S>& l) {
    const std::string name = ctx.unique("conv2d");
    const ImageShape in = l.input_shape(), out = l.output_shape();
    const Conv2dConfig& c = l.config();
    H5Handle g = w.group(nodes, name);
    w.string(g.get(), "type", "Conv2d");
    // C_out x (C_in k k) with column (c k + i) k + j is row-major C_out x C_in x k x k
    w.array(g.get(), "weight", row_major_as<S>(l.weight()),
            {hsize_t(out.channels), hsize_t(in.channels), hsize_t(c.kernel), hsize_t(c.kernel)});
    std::vector<S> bias(std::size_t(out.channels), S(0));
    for (Index i = 0; i < l.bias().rows(); ++i) bias[std::size_t(i)] = l.bias()(i, 0);
    w.array(g.get(), "bias", bias, {hsize_t(out.channels)});
    w.array(g.get(), "stride", std::vector<std::int64_t>{c.stride, c.stride}, {2});
    w.array(g.get(), "padding", std::vector<std::int64_t>{c.padding, c.padding}, {2});
    w.array(g.get(), "dilation", std::vector<std::int64_t>{1, 1}, {2});
    w.scalar(g.get(), "groups", std::int64_t(1));
    w.array(g.get(), "input_shape", std::vector<std::int64_t>{in.height, in.width}, {2});
    ctx.image = out;
    ctx.has_image = true;
    return name;
  }
  static Conv2d<S> read(const NirNode& node, NirContext& ctx) {
    if (node.type() != "Conv2d") throw node.error("is a " + node.type() + " node, expected Conv2d");
    const NirArray wt = node.array("weight");
    if (wt.dims.size() != 4 || wt.dims[2] != wt.dims[3])
      throw node.error("'weight' must be C_out x C_in x k x k (square kernels)");
    const Index cout = Index(wt.dims[0]), cin = Index(wt.dims[1]), k = Index(wt.dims[2]);
    auto pair = [&](const char* key, double dflt) {
      if (!node.has(key)) return dflt;
      const NirArray a = node.array(key);
      if (a.size() == 1) return a.values[0];
      if (a.size() != 2 || a.values[0] != a.values[1]) throw node.error(std::string("'") + key + "' must be equal in both dimensions");
      return a.values[0];
    };
    const double stride = pair("stride", 1), padding = pair("padding", 0), dilation = pair("dilation", 1);
    if (dilation != 1) throw node.error("dilation other than 1 is not supported");
    if (node.has("groups") && node.number("groups") != 1) throw node.error("groups other than 1 are not supported");
    ImageShape in;
    if (node.has("input_shape")) {
      const NirArray s = node.array("input_shape");
      if (s.size() != 2) throw node.error("'input_shape' must be H, W");
      in = {cin, Index(s.values[0]), Index(s.values[1])};
    } else if (ctx.has_image) {
      in = ctx.image;
    } else {
      throw node.error("no 'input_shape' and the input is not an image");
    }
    if (ctx.has_image && !(ctx.image == in))
      throw node.error("input " + in.to_string() + " does not match the previous node's output " + ctx.image.to_string());
    std::vector<double> bias(std::size_t(cout), 0.0);
    if (node.has("bias")) bias = node.vector("bias", std::size_t(cout));
    bool any_bias = false;
    for (double b : bias) any_bias = any_bias || b != 0.0;
    Rng rng(0);
    Conv2dConfig cfg;
    cfg.kernel = k;
    cfg.stride = Index(stride);
    cfg.padding = Index(padding);
    cfg.bias = any_bias;
    try {
      Conv2d<S> l(in, cout, rng, cfg);
      for (Index r = 0; r < cout; ++r)
        for (Index c = 0; c < l.patch_size(); ++c) l.weight()(r, c) = S(wt.values[std::size_t(r * l.patch_size() + c)]);
      if (any_bias) l.bias().col(0) = to_vector<S>(bias);
      ctx.image = l.output_shape();
      ctx.has_image = true;
      return l;
    } catch (const ConfigError& e) {
      throw node.error(std::string("invalid convolution: ") + e.what());
    } catch (const ShapeError& e) {
      throw node.error(std::string("invalid convolution: ") + e.what());
    }
  }
};

template <class S>
struct NirLayer<Flatten<S>> {
  static std::string write(NirWriter& w, NirContext& ctx, hid_t nodes, const Flatten<S>& l) {
    const std::string name = ctx.unique("flatten");
    const ImageShape in = l.input_shape();
    H5Handle g = w.group(nodes, name);
    w.string(g.get(), "type", "Flatten");
    w.scalar(g.get(), "start_dim", std::int64_t(0));
    w.scalar(g.get(), "end_dim", std::int64_t(-1));
    w.array(g.get(), "input_type", std::vector<std::int64_t>{in.channels, in.height, in.width}, {3});
    ctx.has_image = false;
    return name;
  }
  static Flatten<S> read(const NirNode& node, NirContext& ctx) {
    if (node.type() != "Flatten") throw node.error("is a " + node.type() + " node, expected Flatten");
    ImageShape in;
    if (node.has("input_type")) {
      const NirArray s = node.array("input_type");
      if (s.size() != 3) throw node.error("'input_type' must be C, H, W");
      in = {Index(s.values[0]), Index(s.values[1]), Index(s.values[2])};
    } else if (ctx.has_image) {
      in = ctx.image;
    } else {
      throw node.error("no 'input_type' and the input is not an image");
    }
    const double start = node.has("start_dim") ? node.number("start_dim") : 0;
    const double end = node.has("end_dim") ? node.number("end_dim") : -1;
    if (start != 0 || (end != -1 && end != 2)) throw node.error("only a full flatten (start_dim 0, end_dim -1) is supported");
    ctx.has_image = false;
    return Flatten<S>(in);
  }
};

}  // namespace detail

/// Writes `net` (a Sequential of supported layers) to `path` as a NIR graph (temporary file + rename).
template <class Net>
void write_nir(const std::filesystem::path& path, const Net& net, NirOptions opt = {}) {
  namespace fs = std::filesystem;
  if (!(opt.dt > 0)) throw ConfigError("write_nir: dt must be positive");
  const fs::path tmp = path.string() + ".tmp";
  {
    detail::Hdf5Session session;
    detail::NirWriter w(tmp.string());
    detail::NirContext ctx;
    ctx.dt = opt.dt;
    detail::H5Handle file = w.create_file();
    w.string(file.get(), "version", nir_format_version);
    detail::H5Handle node = w.group(file.get(), "node");
    w.string(node.get(), "type", "NIRGraph");
    detail::H5Handle nodes = w.group(node.get(), "nodes");
    // the Input node: an image shape when the first layer takes images
    std::vector<std::int64_t> in_shape{std::int64_t(net.input_size())};
    using First = std::remove_cvref_t<decltype(net.template layer<0>())>;
    if constexpr (requires(const First& f) { f.input_shape(); }) {
      const ImageShape s = net.template layer<0>().input_shape();
      in_shape = {s.channels, s.height, s.width};
    }
    {
      detail::H5Handle g = w.group(nodes.get(), "input");
      w.string(g.get(), "type", "Input");
      w.array(g.get(), "shape", in_shape, {hsize_t(in_shape.size())});
    }
    std::vector<std::string> names{"input"};
    net.for_each_layer([&](const auto& l, std::size_t) {
      names.push_back(detail::NirLayer<std::remove_cvref_t<decltype(l)>>::write(w, ctx, nodes.get(), l));
    });
    {
      detail::H5Handle g = w.group(nodes.get(), "output");
      w.string(g.get(), "type", "Output");
      w.array(g.get(), "shape", std::vector<std::int64_t>{std::int64_t(net.output_size())}, {1});
    }
    names.push_back("output");
    std::vector<std::pair<std::string, std::string>> edges;
    for (std::size_t i = 0; i + 1 < names.size(); ++i) edges.emplace_back(names[i], names[i + 1]);
    w.string_pairs(node.get(), "edges", edges);
    detail::H5Handle meta = w.group(node.get(), "metadata");
    w.scalar(meta.get(), "dt", opt.dt);
    w.string(meta.get(), "generator", "spikelab " + version::as_string());
    w.string(meta.get(), "signature", net.signature());
    if (H5Fflush(file.get(), H5F_SCOPE_LOCAL) < 0) throw FileError(tmp.string(), -1, "HDF5 cannot flush the file");
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw FileError(path.string(), -1, "cannot rename the temporary file into place");
  }
}

/// Reads a sequential NIR graph into a new network of type Net (see the file comment).
template <class Net>
Net read_nir(const std::filesystem::path& path, NirReadOptions opt = {}) {
  namespace fs = std::filesystem;
  const std::string p = path.string();
  std::error_code ec;
  if (!fs::exists(path, ec)) throw FileError(p, -1, "cannot open: no such file");
  if (fs::is_directory(path, ec)) throw FileError(p, -1, "cannot open: is a directory, not a file");
  const auto bytes = fs::file_size(path, ec);
  if (ec || bytes == 0) throw FormatError(p, 0, "empty file");
  detail::Hdf5Session session;
  if (H5Fis_hdf5(p.c_str()) <= 0) throw FormatError(p, 0, "not an HDF5 file (no HDF5 signature)");
  detail::H5Handle file(H5Fopen(p.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  if (!file.valid()) throw FormatError(p, std::int64_t(bytes), "HDF5 cannot open the file: truncated or corrupt");
  if (H5Lexists(file.get(), "version", H5P_DEFAULT) <= 0) throw FormatError(p, -1, "not a NIR file: no /version");
  const detail::NirNode graph(p, file.get(), "node", "node");
  if (graph.type() != "NIRGraph") throw graph.error("the top node is a " + graph.type() + ", expected NIRGraph");
  detail::NirContext ctx;
  ctx.dt = opt.dt > 0 ? opt.dt : 1e-3;
  if (!(opt.dt > 0) && graph.has("metadata") && H5Lexists(graph.get(), "metadata/dt", H5P_DEFAULT) > 0) {
    const detail::NirNode meta(p, graph.get(), "metadata", "node/metadata");
    ctx.dt = meta.number("dt");
    if (!(ctx.dt > 0)) throw meta.error("dt must be positive");
  }
  const auto edges = graph.edges();
  const detail::NirNode nodes(p, graph.get(), "nodes", "node/nodes");
  // the chain: the only node without an incoming edge, then one outgoing edge per node
  std::map<std::string, std::vector<std::string>> next;
  std::map<std::string, int> incoming;
  for (const auto& [a, b] : edges) {
    next[a].push_back(b);
    incoming[b]++;
    incoming.try_emplace(a, 0);
  }
  std::string start;
  for (const auto& [name, k] : incoming)
    if (k == 0) {
      if (!start.empty()) throw graph.error("more than one input ('" + start + "', '" + name + "'): not a sequential graph");
      start = name;
    }
  if (start.empty()) throw graph.error("no input node");
  std::vector<std::string> chain{start};
  while (next.count(chain.back())) {
    const auto& nx = next[chain.back()];
    if (nx.size() != 1) throw graph.error("node '" + chain.back() + "' has " + std::to_string(nx.size()) + " successors: not a sequential graph");
    chain.push_back(nx[0]);
    if (chain.size() > edges.size() + 1) throw graph.error("the edges form a cycle");
  }
  const detail::NirNode first(p, nodes.get(), chain.front(), chain.front());
  const detail::NirNode last(p, nodes.get(), chain.back(), chain.back());
  if (first.type() != "Input") throw first.error("the graph starts with a " + first.type() + " node, expected Input");
  if (last.type() != "Output") throw last.error("the graph ends with a " + last.type() + " node, expected Output");
  const std::size_t layers = chain.size() - 2;
  if (layers != Net::size)
    throw graph.error("the graph has " + std::to_string(layers) + " nodes between Input and Output but the network type has " +
                      std::to_string(Net::size) + " layers");
  const detail::NirArray in_shape = first.array("shape");
  if (in_shape.dims.size() <= 1 && in_shape.size() == 3) {
    ctx.image = {Index(in_shape.values[0]), Index(in_shape.values[1]), Index(in_shape.values[2])};
    ctx.has_image = true;
  }
  Net net = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return Net{detail::NirLayer<std::tuple_element_t<I, typename Net::layer_types>>::read(
        detail::NirNode(p, nodes.get(), chain[I + 1], chain[I + 1]), ctx)...};
  }(std::make_index_sequence<Net::size>{});
  Index in_size = 1;
  for (double d : in_shape.values) in_size *= Index(d);
  if (in_size != net.input_size())
    throw first.error("shape has " + std::to_string(in_size) + " elements but the first layer takes " +
                      std::to_string(net.input_size()));
  const detail::NirArray out_shape = last.array("shape");
  Index out_size = 1;
  for (double d : out_shape.values) out_size *= Index(d);
  if (out_size != net.output_size())
    throw last.error("shape has " + std::to_string(out_size) + " elements but the last layer gives " +
                     std::to_string(net.output_size()));
  return net;
}

}  // namespace spikelab

#endif
