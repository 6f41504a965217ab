/**
 * @file io/nir/layers.hpp
 * @brief NirLayer<L>: how one spikelab layer becomes one NIR node and back (Linear <-> Affine /
 *        Linear, Lif <-> LIF / CubaLIF / IF (no leak), RecurrentLif <-> a NIRGraph subgraph,
 *        LeakyIntegrator <-> LI, Conv2d <-> Conv2d, Flatten <-> Flatten, AvgPool2d / SumPool2d <->
 *        AvgPool2d / SumPool2d, IntegerDelay <-> a NIRGraph subgraph with a Delay node). Each
 *        specialisation writes its node into a graph's `nodes/` group and reads it back into a
 *        layer, checking that the node means what the layer computes. Optional: needs the
 *        `spikelab::hdf5` CMake target.
 *
 * Units. NIR's neurons are continuous in time (Pedersen et al. 2024):
 * \f[ \text{LIF: } \tau \dot{v} = (v_{leak} - v) + R I,\qquad
 *     \text{CubaLIF: } \tau_{syn} \dot{I} = -I + w_{in} S,\quad \tau_{mem} \dot{v} = (v_{leak} - v) + R I, \f]
 * LI is LIF without spikes; a neuron spikes when v > v_threshold and is set to v_reset. spikelab's
 * layers are their forward-Euler discretisation with step dt (seconds; NirContext::dt), which
 * fixes the parameters:
 * \f[ \tau = \frac{dt}{1-\beta},\quad R = \frac{\tau}{dt} = \frac{1}{1-\beta},\quad
 *     \tau_{syn} = \frac{dt}{1-\alpha},\quad w_{in} = \frac{\tau_{syn}}{dt},\quad v_{leak} = 0,\quad
 *     v_{threshold} = \theta,\quad v_{reset} = 0 \f]
 * so that \f$v_t = \beta v_{t-1} + I_t\f$ and \f$I_t = \alpha I_{t-1} + x_t\f$ exactly (the
 * snnTorch convention). A LeakyIntegrator with `normalize` (input scaled by 1 - beta) has R = 1.
 * beta = 1 gives tau = R = +inf (the integrate-and-fire limit); a Lif whose neurons all have
 * beta = 1 is written as NIR's IF, \f$\dot v = R I\f$ with R = 1/dt (1/s), instead. Time constants are in seconds,
 * everything else dimensionless; weights are stored in the network's scalar type (out x in, as
 * torch), neuron parameters as float64 with the shape of the layer's output (C x H x W after a
 * convolution, else n).
 *
 * Reset. NIR's LIF resets to v_reset (= 0), which is spikelab's ZeroReset. SubtractReset and
 * NoReset have no NIR equivalent; they are written as LIF/CubaLIF with `metadata/reset` =
 * "subtract" / "none" ("zero" for ZeroReset) so that spikelab reads them back exactly; other
 * tools will read them as reset-to-zero neurons (a NirNote says so). A node without that
 * metadata is read as reset-to-zero and needs a layer type with ZeroReset.
 *
 * Dialects. Each simulator reads NIR's continuous-time neurons its own way (NirDialect):
 * NirContext::dialect picks the conventions above (spikelab), snnTorch's (the same formulas with
 * dt = 1e-4 s, one threshold per layer, no IF / LI / Delay) or Norse's (r of LIF / LI / IF
 * ignored, so thresholds carry the input gain; LI only normalised). Each mapping documents its
 * dialects; docs/nir.md has the table of everything a dialect refuses or notes.
 *
 * Lossy mappings. Where a value is written that other tools read differently, or a NIR value is
 * ignored or a default assumed on reading, the mapping records a NirNote (node, field, what was
 * done) in the caller's list (NirOptions::notes, NirReadOptions::notes); a mapping that would
 * change what the network computes is an error instead.
 *
 * Not in NIR and not written: surrogate gradients, parameter bounds (reading uses the layer
 * type's defaults), the reset's gradient (part of the layer type, LifOptions::reset_gradient).
 * Reading checks node types, shapes, v_leak = v_reset = 0, the gains R and w_in above, and that
 * parameters a layer type holds per layer are equal over its neurons; a mismatch is a
 * FormatError naming the file and the node. Other layer types have no NirLayer: writing or
 * reading them is a compile-time error, except the adaptive LIF (AdaptiveLifType) and
 * MaxPool2d, which NIR cannot express and which write_nir / read_nir reject at run time with an
 * error naming the layer (NirUnsupported below).
 *
 * @code
 * @article{pedersen2024neuromorphic, title={Neuromorphic intermediate representation: A unified
 *   instruction set for interoperable brain-inspired computing}, author={Pedersen, Jens E. and
 *   Abreu, Steven and Jobst, Matthias and Lenz, Gregor and Fra, Vittorio and Bauer, Felix C. and
 *   others}, journal={Nature Communications}, volume={15}, pages={8122}, year={2024}}
 * @endcode
 */
#ifndef SPIKELAB_IO_NIR_LAYERS_HPP
#define SPIKELAB_IO_NIR_LAYERS_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/hdf5.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/io/nir/file.hpp>
#include <spikelab/layers/conv2d.hpp>
#include <spikelab/layers/flatten.hpp>
#include <spikelab/layers/learnable_delay.hpp>
#include <spikelab/layers/linear.hpp>
#include <spikelab/layers/pooling.hpp>
#include <spikelab/neurons/adaptive_lif.hpp>
#include <spikelab/neurons/leaky_integrator.hpp>
#include <spikelab/neurons/lif.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <limits>
#include <map>
#include <string>
#include <tuple>
#include <vector>

namespace spikelab {

/// One place where write_nir / read_nir mapped a value between spikelab and NIR (Pedersen et
/// al., Nature Communications 2024) other than exactly: a value that other NIR tools will read
/// differently, a NIR value that spikelab ignored, or a default it assumed. The library does not
/// print them; a caller collects them through NirOptions::notes / NirReadOptions::notes.
struct NirNote {
  std::string node;   ///< the node's path in the graph ("lif", "rlif/lif", "node/metadata")
  std::string field;  ///< the NIR field concerned ("v_reset", "r", "dt", ...)
  std::string what;   ///< what was done, with the values and units involved
};

/**
 * Whose conventions a NIR file follows: which NIR parameters stand for spikelab's decays,
 * thresholds and input gains (docs/nir.md has the whole table). NIR's neurons are continuous in
 * time, and each simulator discretises them its own way, so the same file means different
 * networks to different tools. Writing in a dialect gives a file that the tool's importer reads
 * into the network spikelab simulates; reading in a dialect reads a file as that tool's importer
 * would (which is what its exporter writes). What a dialect cannot express is refused by name
 * (ConfigError on writing, FormatError on reading) or, where nothing the network computes
 * changes, reported as a NirNote.
 */
enum class NirDialect {
  /// spikelab's own: forward Euler with step dt (NirOptions::dt, kept in metadata/dt):
  /// tau = dt / (1 - beta), r = tau / dt, w_in = tau_syn / dt, v_threshold = theta, IF r = 1 / dt,
  /// LI r = tau / dt (r = 1 when normalised), a subtractive reset kept in metadata/reset.
  spikelab,
  /// snnTorch's export_to_nir / import_from_nir (jeshraghian/snntorch, snntorch/export_nir.py
  /// and import_nir.py at commit 634fc22): the same formulas with dt fixed at 1e-4 s (both
  /// hard-code it), beta = 1 - dt / tau on reading, v_threshold divided by r dt / tau (LIF) or
  /// w_in dt / tau_syn (CubaLIF) when that is not 1, reset to zero. No IF, LI or Delay; one
  /// threshold per layer.
  snntorch,
  /// Norse's to_nir / from_nir (norse/norse, norse/torch/utils/export_nir.py and import_nir.py
  /// at commit 065a3b4; from_nir's dt, 1e-3 s unless given): LIF, LI and IF ignore r, so a
  /// neuron takes its input with gain dt / tau (LIF, LI) or 1 (IF); a CubaLIF scales its input
  /// by w_in dt / tau_syn and its current by r dt / tau_mem. Written with r = w_in = 1 (as Norse
  /// writes) and v_threshold = theta (dt / tau_mem) (dt / tau_syn); LI only normalised (input
  /// scaled by 1 - beta); reset to zero; no Delay.
  norse,
};

/// The dialect's name as metadata/dialect stores it: "spikelab", "snntorch", "norse".
inline const char* nir_dialect_name(NirDialect d) {
  switch (d) {
    case NirDialect::snntorch: return "snntorch";
    case NirDialect::norse: return "norse";
    default: return "spikelab";
  }
}

}  // namespace spikelab

namespace spikelab::detail {

/// What the layer mappings share while a graph is written or read: the dialect, dt (seconds per
/// step), unique node names, the shape of the current activation when it is an image, and where
/// the caller collects the NirNotes of lossy mappings (none when `notes` is null).
struct NirContext {
  NirDialect dialect = NirDialect::spikelab;
  double dt = 1e-3;
  std::map<std::string, int> counts;
  ImageShape image{};  ///< shape of the current activation when it is an image (channels > 0)
  bool has_image = false;
  std::vector<NirNote>* notes = nullptr;  ///< the caller's list of lossy mappings, or null
  /// Reading: the number of features of the current activation (0: not known); a neuron node
  /// whose parameters are single numbers (as snnTorch and Norse write a layer with one beta)
  /// has this many neurons.
  Index features = 0;
  /// Reading: the Linear / Affine node of a recurrent loop drawn in the top graph around the
  /// node being read (neuron -> w_rec -> neuron, as snnTorch's exporter flattens an RLeaky),
  /// for a recurrent LIF layer to take; null when there is none. The layer clears it.
  const NirNode* recurrent = nullptr;
  /// Records a lossy mapping of `field` of the node `node` (no-op without a list).
  void note(const std::string& node, const std::string& field, const std::string& what) const {
    if (notes) notes->push_back(NirNote{node, field, what});
  }
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

/// A matrix's entries in row-major order, converted to S.
template <class S, class M>
std::vector<S> row_major_as(const M& m) {
  std::vector<S> v(std::size_t(m.size()));
  for (Index r = 0; r < m.rows(); ++r)
    for (Index c = 0; c < m.cols(); ++c) v[std::size_t(r * m.cols() + c)] = S(m(r, c));
  return v;
}

/// tau = dt / (1 - decay) in seconds (+inf for decay 1).
inline std::vector<double> nir_tau(const std::vector<double>& decay, double dt) {
  std::vector<double> t(decay.size());
  for (std::size_t i = 0; i < t.size(); ++i)
    t[i] = decay[i] >= 1.0 ? std::numeric_limits<double>::infinity() : dt / (1.0 - decay[i]);
  return t;
}
/// decay = 1 - dt / tau (1 for tau = +inf); tau must be positive.
inline std::vector<double> nir_decay(const NirNode& node, const std::vector<double>& tau, double dt, const char* key) {
  std::vector<double> d(tau.size());
  for (std::size_t i = 0; i < d.size(); ++i) {
    if (!(tau[i] > 0)) throw node.error(std::string(key) + "[" + std::to_string(i) + "] = " + std::to_string(tau[i]) + " is not positive");
    d[i] = std::isinf(tau[i]) ? 1.0 : 1.0 - dt / tau[i];
  }
  return d;
}
/// Notes a finite gain `key` of a neuron without leak (decay 1, tau = +inf): the continuous
/// equation then ignores its input (dt / tau * R = 0), spikelab takes it with gain 1, as the
/// limit R = tau / dt = +inf that write_nir writes would.
inline void nir_note_ignored_gain(const NirContext& ctx, const NirNode& node, const std::vector<double>& gain,
                                  const std::vector<double>& decay, const char* key) {
  for (std::size_t i = 0; i < gain.size(); ++i)
    if (decay[i] >= 1.0 && std::isfinite(gain[i])) {
      ctx.note(node.where(), key,
               std::string(key) + "[" + std::to_string(i) + "] = " + std::to_string(gain[i]) +
                   " with an infinite time constant ignored: the input is taken with gain 1 (the limit r = tau/dt)");
      return;
    }
}
/// Checks gain[i] * (1 - decay[i]) == 1 (the Euler gain that makes the input enter with weight 1).
inline void nir_check_unit_gain(const NirContext& ctx, const NirNode& node, const std::vector<double>& gain,
                                const std::vector<double>& decay, const char* key) {
  nir_note_ignored_gain(ctx, node, gain, decay, key);
  for (std::size_t i = 0; i < gain.size(); ++i) {
    if (decay[i] >= 1.0) continue;  // no leak: see nir_note_ignored_gain
    const double g = gain[i] * (1.0 - decay[i]);
    if (!(std::abs(g - 1.0) <= 1e-6))
      throw node.error(std::string(key) + "[" + std::to_string(i) + "] = " + std::to_string(gain[i]) +
                       " is not tau/dt (spikelab's neurons take their input with gain 1; see io/nir/layers.hpp)");
  }
}
/// Checks that the optional parameter `key` is 0 for all n neurons.
inline void nir_check_zero(const NirNode& node, const std::string& key, std::size_t n) {
  if (!node.has(key)) return;
  for (double v : node.vector(key, n))
    if (v != 0.0) throw node.error("'" + key + "' must be 0 for spikelab's neurons (found " + std::to_string(v) + ")");
}
/// The importer that a dialect other than spikelab's follows, as messages name it.
inline const char* nir_tool(NirDialect d) {
  return d == NirDialect::snntorch ? "snnTorch's import_from_nir" : "Norse's from_nir";
}
/// The number of neurons of a neuron node whose parameters hold `stored` values: a single value
/// stands for every feature of the current activation (snnTorch and Norse write a layer with one
/// beta and one threshold as 0-d arrays).
inline std::size_t nir_neuron_count(std::size_t stored, const NirContext& ctx) {
  return stored == 1 && ctx.features > 1 ? std::size_t(ctx.features) : stored;
}
/// numpy.allclose(x, 1) with its default tolerances (rtol 1e-5, atol 1e-8), as the importers test
/// their input scales.
inline bool nir_allclose_one(double x) { return std::abs(x - 1.0) <= 1e-8 + 1e-5; }
/// Values that differ only by the rounding of a conversion (relative 1e-13) are made equal, so
/// that a layer type holding the parameter per layer takes them.
inline void nir_snap_uniform(std::vector<double>& v) {
  if (v.empty()) return;
  for (double x : v)
    if (!(std::abs(x - v[0]) <= 1e-13 * std::abs(v[0]))) return;
  std::fill(v.begin(), v.end(), v[0]);
}
/// Notes a parameter `key` that the dialect's importer ignores when it is not `expected` for
/// every neuron (Norse's from_nir warns and ignores r of LIF / LI / IF, both tools ignore v_reset).
inline void nir_note_ignored(const NirContext& ctx, const NirNode& node, const std::string& key, std::size_t n,
                             double expected, const std::string& what) {
  if (!node.has(key)) return;
  for (double v : node.vector(key, n))
    if (v != expected) {
      ctx.note(node.where(), key,
               key + " = " + std::to_string(v) + " ignored, as " + nir_tool(ctx.dialect) + " ignores it: " + what);
      return;
    }
}
/// The recurrent weights of a recurrent LIF layer from its Linear node, or an Affine node whose
/// bias is zero (spikelab's recurrent layer has no recurrent bias; snnTorch's RLeaky writes its
/// torch.nn.Linear as Affine).
inline NirArray nir_recurrent_weight(const NirNode& w) {
  const std::string t = w.type();
  if (t != "Linear" && t != "Affine") throw w.error("is a " + t + " node, expected the recurrent Linear projection");
  NirArray wt = w.array("weight");
  if (t == "Affine" && wt.dims.size() == 2)
    for (double b : w.vector("bias", std::size_t(wt.dims[0])))
      if (b != 0.0)
        throw w.error("the recurrent projection has a bias (" + std::to_string(b) +
                      "), which spikelab's recurrent LIF layer has not");
  return wt;
}
/// A NIR (height, width) parameter that spikelab holds as one number (square kernels, equal
/// strides and paddings): a scalar, or two equal values.
inline double nir_square(const NirNode& node, const std::string& key) {
  const NirArray a = node.array(key);
  if (a.size() == 1) return a.values[0];
  if (a.size() != 2 || a.values[0] != a.values[1])
    throw node.error("'" + key +
                     "' must be one number or two equal ones (height, width): spikelab's windows are square");
  return a.values[0];
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
/// Builds the layer read from `node` with `make()`; a ConfigError or ShapeError of the layer
/// (parameters the layer type cannot hold) becomes a FormatError naming the node.
template <class F>
auto nir_build(const NirNode& node, const std::string& context, F&& make) -> decltype(make()) {
  try {
    return make();
  } catch (const ConfigError& e) {
    throw node.error(context + e.what());
  } catch (const ShapeError& e) {
    throw node.error(context + e.what());
  }
}

/// NirLayer<L>: `write(w, ctx, nodes, layer)` adds the layer's node to the group `nodes` and
/// returns its name; `read(node, ctx)` rebuilds the layer from a node. Only the specialisations
/// below exist.
template <class L>
struct NirLayer {
  static_assert(sizeof(L) == 0,
                "write_nir/read_nir: this layer type has no NIR node (supported: Linear, Lif, RecurrentLif, "
                "LeakyIntegrator, Conv2d, Flatten, AvgPool2d, SumPool2d, IntegerDelay; write a LearnableDelay's "
                "round_delays())");
};

/// The base of a NirLayer<L> for a layer type that NIR cannot express: the NirLayer gives the
/// reason as `static constexpr const char* unsupported`; write_nir checks for it before it
/// creates any file and throws a ConfigError naming the layer, read_nir throws the FormatError
/// of the node that was to be read into the layer.
template <class L>
struct NirUnsupported {
  static std::string write(NirWriter&, NirContext&, hid_t, const L& l) {
    throw ConfigError("write_nir: " + l.signature() + " has no NIR node: " + NirLayer<L>::unsupported);
  }
  static L read(const NirNode& node, NirContext&) {
    throw node.error("the network type's layer here is spikelab " + L::name() +
                     ", which has no NIR node: " + NirLayer<L>::unsupported);
  }
};

/// Linear <-> NIR Affine (y = W x + b, with bias) or Linear (y = W x): `weight` out x in, `bias` out.
template <class S>
struct NirLayer<Linear<S>> {
  static std::string write(NirWriter& w, NirContext& ctx, hid_t nodes, const Linear<S>& l) {
    const bool bias = l.config().bias;
    const std::string name = ctx.unique(bias ? "affine" : "linear");
    H5Handle g = w.node(nodes, name, bias ? "Affine" : "Linear");
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

/// The `metadata/reset` value that names a reset policy (see the file comment).
template <class R>
constexpr const char* nir_reset_name() {
  if constexpr (std::same_as<R, SubtractReset>) return "subtract";
  else if constexpr (std::same_as<R, ZeroReset>) return "zero";
  else if constexpr (std::same_as<R, NoReset>) return "none";
  else return "custom";
}

/// Lif <-> NIR LIF (`tau`, `r`, `v_leak`, `v_threshold`, `v_reset`) or, with a synaptic current,
/// CubaLIF (`tau_mem`, `tau_syn`, `r`, `v_leak`, `v_threshold`, `v_reset`, `w_in`), with
/// tau = dt/(1-beta), tau_syn = dt/(1-alpha), r = tau/dt, w_in = tau_syn/dt (seconds). A Lif
/// without leak (beta = 1 for every neuron, no synaptic current) is NIR's IF (`r`,
/// `v_threshold`, `v_reset`): \f$\dot v = R I\f$, whose Euler step v_t = v_{t-1} + dt R I_t has
/// input gain 1 for r = 1/dt (1/s; the limit of the LIF's R / tau = 1/dt). Reading an IF node
/// also accepts r = 1, which tools that write IF as a per-step accumulator use (a NirNote says
/// so). A recurrent Lif is a NIRGraph subgraph input -> lif (or if) -> output with the loop
/// lif -> w_rec -> lif, w_rec a Linear node holding the recurrent weights (n x n); reading also
/// takes the loop drawn in the top graph (snnTorch's exporter flattens its RLeaky so), with
/// w_rec a Linear or a zero-bias Affine node.
///
/// Dialects (NirDialect). snntorch: the formulas above with dt = 1e-4 s; no IF (snnTorch reads
/// IF as a Leaky with beta 0.9), so beta = 1 and alpha = 1 are refused, as are thresholds that
/// differ between neurons; reading divides v_threshold by r dt / tau (LIF) or w_in dt / tau_syn
/// (CubaLIF) when that is not 1, as snnTorch's importer does. norse: Norse's LIF adds its input
/// with gain dt / tau whatever r says, and its CubaLIF scales input by w_in dt / tau_syn and
/// current by r dt / tau_mem; with zero reset, the membrane v' = g v of a neuron of gain g
/// crosses g theta exactly when v crosses theta, so a LIF is written with r = 1 and
/// v_threshold = theta dt / tau, a CubaLIF with r = w_in = 1 and
/// v_threshold = theta (dt / tau_mem) (dt / tau_syn), an IF with r = 1 (Norse's IAFCell adds
/// its input with gain 1); reading divides by the same gains. Both tools reset to zero: other
/// resets are refused, a non-zero v_reset is ignored with a note.
template <class S, class G, class R, LifOptions O>
struct NirLayer<LifType<S, G, R, O>> {
  using L = LifType<S, G, R, O>;

  /// Why write_nir cannot write `l` in dialect `d` (empty: it can).
  static std::string refusal(const L& l, NirDialect d) {
    if (d == NirDialect::spikelab) return {};
    if constexpr (!std::same_as<R, ZeroReset>)
      return std::string("its ") + R::name() + " is not NIR's reset to v_reset and " + nir_tool(d) +
             " resets to zero; use ZeroReset, or the spikelab dialect, which keeps the reset in metadata";
    const std::vector<double> beta = neuron_values(l.beta()), theta = neuron_values(l.threshold());
    const std::vector<double> alpha = l.synaptic() ? neuron_values(l.alpha()) : std::vector<double>{};
    const auto any_one = [](const std::vector<double>& v) {
      return std::any_of(v.begin(), v.end(), [](double x) { return x >= 1.0; });
    };
    if (d == NirDialect::snntorch) {
      if (any_one(beta))
        return "beta = 1 (no leak): snnTorch's import_from_nir reads NIR's IF as snn.Leaky with beta = 0.9, and a "
               "LIF with tau = inf gets the input scale r dt / tau = NaN";
      if (any_one(alpha)) return "alpha = 1: snnTorch's import_from_nir gets the input scale w_in dt / tau_syn = NaN";
      if (std::any_of(theta.begin(), theta.end(), [&](double t) { return t != theta[0]; }))
        return "its thresholds differ between neurons: snnTorch's import_from_nir asserts one v_threshold per layer";
      return {};
    }
    if (any_one(alpha) || (any_one(beta) && (l.synaptic() || !integrate_and_fire(l))))
      return "beta = 1 or alpha = 1 (no leak): Norse's from_nir gives a neuron with tau = inf no input (1 / tau = 0); "
             "only a whole layer without leak and without synaptic current can be written, as NIR's IF";
    return {};
  }

  static std::string write(NirWriter& w, NirContext& ctx, hid_t nodes, const L& l) {
    const Index n = l.output_size();
    const std::string kind = l.synaptic() ? "cubalif" : integrate_and_fire(l) ? "if" : "lif";
    if constexpr (!O.recurrent) {
      const std::string name = ctx.unique(kind);
      write_neuron(w, ctx, nodes, name, name, l);  // element-wise: an image stays an image
      return name;
    } else {
      const std::string name = ctx.unique("rlif");
      H5Handle g = w.node(nodes, name, "NIRGraph");
      H5Handle sub = w.group(g.get(), "nodes");
      w.io_node(sub.get(), "input", "Input", {std::int64_t(n)});
      w.io_node(sub.get(), "output", "Output", {std::int64_t(n)});
      NirContext flat = ctx;
      flat.has_image = false;
      write_neuron(w, flat, sub.get(), kind, name + "/" + kind, l);
      H5Handle rec = w.node(sub.get(), "w_rec", "Linear");
      w.array(rec.get(), "weight", row_major_as<S>(l.recurrent_weight()), {hsize_t(n), hsize_t(n)});
      w.edges(g.get(), {{"input", kind}, {kind, "w_rec"}, {"w_rec", kind}, {kind, "output"}});
      ctx.has_image = false;
      return name;
    }
  }

  static L read(const NirNode& node, NirContext& ctx) {
    if constexpr (!O.recurrent) {
      if (ctx.recurrent)
        throw node.error("is in a recurrent loop through '" + ctx.recurrent->where() +
                         "', but the network type's layer here is the feed-forward " + L::name());
      return read_neuron(node, ctx, nullptr);
    } else {
      ctx.has_image = false;
      if (ctx.recurrent) {  // the loop neuron -> w_rec -> neuron drawn in the top graph
        const NirArray wt = nir_recurrent_weight(*ctx.recurrent);
        ctx.recurrent = nullptr;
        return read_neuron(node, ctx, &wt);
      }
      if (node.type() != "NIRGraph")
        throw node.error("is a " + node.type() +
                         " node, expected a NIRGraph subgraph or a neuron in a recurrent loop (spikelab RecurrentLif)");
      const auto edges = node.edges();
      const NirNode sub(node.file(), node.get(), "nodes", node.where() + "/nodes");
      // the neuron (LIF/CubaLIF/IF) and the recurrent projection: the loop lif -> w_rec -> lif
      std::string lif, rec;
      for (const auto& [a, b] : edges)
        for (const auto& [c, d] : edges)
          if (a == d && b == c && a != b && lif.empty()) {
            const NirNode na(node.file(), sub.get(), a, node.where() + "/" + a);
            if (neuron_type(na.type())) lif = a, rec = b;
          }
      if (lif.empty())
        throw node.error("subgraph has no LIF/CubaLIF/IF node with a recurrent Linear loop (lif -> w_rec -> lif)");
      const NirNode nl(node.file(), sub.get(), lif, node.where() + "/" + lif);
      const NirNode nr(node.file(), sub.get(), rec, node.where() + "/" + rec);
      const NirArray wt = nir_recurrent_weight(nr);
      return read_neuron(nl, ctx, &wt);
    }
  }

 private:
  /// Whether `l` is NIR's IF: no synaptic current and beta = 1 (no leak) for every neuron.
  static bool integrate_and_fire(const L& l) {
    if (l.synaptic()) return false;
    const std::vector<double> beta = neuron_values(l.beta());
    return std::all_of(beta.begin(), beta.end(), [](double b) { return b == 1.0; });
  }
  static bool neuron_type(const std::string& t) { return t == "LIF" || t == "CubaLIF" || t == "IF"; }

  /// Writes the neuron node `name`; `where` is its path in the graph for NirNotes.
  static void write_neuron(NirWriter& w, const NirContext& ctx, hid_t nodes, const std::string& name,
                           const std::string& where, const L& l) {
    const std::vector<hsize_t> n = neuron_dims(ctx, l.output_size());
    const std::vector<double> beta = neuron_values(l.beta());
    std::vector<double> theta = neuron_values(l.threshold());
    const std::vector<double> zeros(beta.size(), 0.0), ones(beta.size(), 1.0);
    const bool norse = ctx.dialect == NirDialect::norse;
    if (integrate_and_fire(l)) {
      H5Handle g = w.node(nodes, name, "IF");
      w.array(g.get(), "r", norse ? ones : std::vector<double>(beta.size(), 1.0 / ctx.dt), n);
      w.array(g.get(), "v_threshold", theta, n);
      w.array(g.get(), "v_reset", zeros, n);
      write_reset(w, ctx, g.get(), where);
      return;
    }
    const std::vector<double> tau = nir_tau(beta, ctx.dt);
    std::vector<double> r(beta.size());
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = norse ? 1.0 : tau[i] / ctx.dt;
    if (std::any_of(beta.begin(), beta.end(), [](double b) { return b >= 1.0; }))
      ctx.note(where, l.synaptic() ? "tau_mem" : "tau",
               "neurons with beta = 1 (no leak) are written with tau = r = +inf, the integrate-and-fire limit "
               "(NIR's IF holds whole layers without synaptic current only); tools that compute r / tau get NaN");
    H5Handle g = w.node(nodes, name, l.synaptic() ? "CubaLIF" : "LIF");
    if (l.synaptic()) {
      const std::vector<double> alpha = neuron_values(l.alpha());
      const std::vector<double> tau_syn = nir_tau(alpha, ctx.dt);
      std::vector<double> w_in(alpha.size());
      for (std::size_t i = 0; i < w_in.size(); ++i) {
        w_in[i] = norse ? 1.0 : tau_syn[i] / ctx.dt;
        if (norse) theta[i] *= (ctx.dt / tau[i]) * (ctx.dt / tau_syn[i]);  // the gain of Norse's CubaLIF
      }
      w.array(g.get(), "tau_mem", tau, n);
      w.array(g.get(), "tau_syn", tau_syn, n);
      w.array(g.get(), "w_in", w_in, n);
    } else {
      if (norse)
        for (std::size_t i = 0; i < theta.size(); ++i) theta[i] *= ctx.dt / tau[i];  // the gain of Norse's LIF
      w.array(g.get(), "tau", tau, n);
    }
    w.array(g.get(), "r", r, n);
    w.array(g.get(), "v_leak", zeros, n);
    w.array(g.get(), "v_threshold", theta, n);
    w.array(g.get(), "v_reset", zeros, n);
    write_reset(w, ctx, g.get(), where);
  }
  /// metadata/reset, and a NirNote when the reset is not NIR's reset to v_reset.
  static void write_reset(NirWriter& w, const NirContext& ctx, hid_t g, const std::string& where) {
    H5Handle m = w.group(g, "metadata");
    w.string(m.get(), "reset", nir_reset_name<R>());
    if constexpr (!std::same_as<R, ZeroReset>)
      ctx.note(where, "v_reset",
               std::string("spikelab's ") + R::name() +
                   " is not NIR's reset to v_reset: written as metadata/reset = '" + nir_reset_name<R>() +
                   "', which only spikelab reads; other tools reset to v_reset = 0");
  }

  static L read_neuron(const NirNode& node, NirContext& ctx, const NirArray* rec) {
    const std::string t = node.type();
    if (!neuron_type(t))
      throw node.error("is a " + t + " node, expected LIF, CubaLIF or IF (spikelab " + L::name() + ")");
    const NirArray thr = node.array("v_threshold");
    if (thr.size() == 0) throw node.error("'v_threshold' is empty");
    const std::size_t n = nir_neuron_count(thr.size(), ctx);
    std::vector<double> theta = node.vector("v_threshold", n), beta(n, 1.0), alpha(n, 0.0);
    if (ctx.dialect == NirDialect::snntorch) read_snntorch(node, ctx, t, beta, alpha, theta);
    else if (ctx.dialect == NirDialect::norse) read_norse(node, ctx, t, beta, alpha, theta);
    else read_spikelab(node, ctx, t, beta, alpha);
    if (ctx.dialect != NirDialect::spikelab) nir_snap_uniform(theta);
    read_reset(node, ctx, n);
    LifConfig cfg;
    cfg.beta = beta[0];
    cfg.alpha = alpha[0];
    cfg.threshold = theta[0];
    return nir_build(node, std::string("does not fit the network type ") + L::name() + ": ", [&] {
      if constexpr (O.recurrent) {
        if (rec->dims.size() != 2 || rec->dims[0] != n || rec->dims[1] != n)
          throw node.error("the recurrent weight must be " + std::to_string(n) + " x " + std::to_string(n));
        Rng rng(0);
        L l(Index(n), rng, cfg, G{});
        for (Index r = 0; r < Index(n); ++r)
          for (Index c = 0; c < Index(n); ++c) l.recurrent_weight()(r, c) = S(rec->values[std::size_t(r) * n + std::size_t(c)]);
        set_params(l, beta, alpha, theta);
        return l;
      } else {
        L l(Index(n), cfg, G{});
        set_params(l, beta, alpha, theta);
        return l;
      }
    });
  }
  /// The spikelab dialect: r = tau/dt, w_in = tau_syn/dt (gain 1), v_leak = 0; IF r = 1/dt or 1.
  static void read_spikelab(const NirNode& node, NirContext& ctx, const std::string& t, std::vector<double>& beta,
                            std::vector<double>& alpha) {
    const std::size_t n = beta.size();
    const bool cuba = t == "CubaLIF";
    if (t == "IF") {
      read_if_gain(node, ctx, n);
    } else {
      const std::vector<double> tau = node.vector(cuba ? "tau_mem" : "tau", n);
      beta = nir_decay(node, tau, ctx.dt, cuba ? "tau_mem" : "tau");
      nir_check_unit_gain(ctx, node, node.vector("r", n), beta, "r");
      nir_check_zero(node, "v_leak", n);
    }
    if (cuba) {
      alpha = nir_decay(node, node.vector("tau_syn", n), ctx.dt, "tau_syn");
      if (node.has("w_in"))
        nir_check_unit_gain(ctx, node, node.vector("w_in", n), alpha, "w_in");
      else
        ctx.note(node.where(), "w_in",
                 "absent: read as tau_syn/dt (input gain 1); NIR's default w_in = 1 would give the gain dt/tau_syn");
    }
  }
  /// A time constant that the dialect's importer divides by: positive and finite.
  static std::vector<double> finite_tau(const NirNode& node, const NirContext& ctx, const char* key, std::size_t n) {
    std::vector<double> tau = node.vector(key, n);
    for (std::size_t i = 0; i < n; ++i)
      if (!(tau[i] > 0) || std::isinf(tau[i]))
        throw node.error(std::string(key) + "[" + std::to_string(i) + "] = " + std::to_string(tau[i]) + " is not a " +
                         "positive finite time constant, which " + nir_tool(ctx.dialect) +
                         " needs (with tau = inf its neuron gets no input or a NaN scale)");
    return tau;
  }
  /// The snntorch dialect (snnTorch's import_from_nir): beta = 1 - dt/tau, alpha = 1 - dt/tau_syn
  /// with dt = 1e-4 s; v_threshold divided by w_scale = r dt / tau (LIF) or w_in dt / tau_syn
  /// (CubaLIF, whose r must be tau_mem/dt) where w_scale is not 1 (numpy.allclose).
  static void read_snntorch(const NirNode& node, NirContext& ctx, const std::string& t, std::vector<double>& beta,
                            std::vector<double>& alpha, std::vector<double>& theta) {
    const std::size_t n = beta.size();
    if (t == "IF")
      throw node.error("is an IF node, which snnTorch's import_from_nir reads as snn.Leaky with beta = 0.9 (and its "
                       "export_to_nir never writes): read the file in the spikelab or norse dialect");
    const bool cuba = t == "CubaLIF";
    const char* key = cuba ? "tau_mem" : "tau";
    const std::vector<double> tau = finite_tau(node, ctx, key, n);
    beta = nir_decay(node, tau, ctx.dt, key);
    nir_check_zero(node, "v_leak", n);
    const std::vector<double> r = node.vector("r", n);
    std::vector<double> scale(n);
    if (!cuba) {
      for (std::size_t i = 0; i < n; ++i) scale[i] = r[i] * ctx.dt / tau[i];
      divide_threshold(ctx, node, theta, scale, "r", "r dt / tau");
      return;
    }
    for (std::size_t i = 0; i < n; ++i)
      if (!(std::abs(r[i] - tau[i] / ctx.dt) <= 1e-8 + 1e-5 * std::abs(tau[i] / ctx.dt)))
        throw node.error("r[" + std::to_string(i) + "] = " + std::to_string(r[i]) + " is not tau_mem/dt = " +
                         std::to_string(tau[i] / ctx.dt) + " (dt = 1e-4 s), which snnTorch's import_from_nir asserts");
    const std::vector<double> tau_syn = finite_tau(node, ctx, "tau_syn", n);
    alpha = nir_decay(node, tau_syn, ctx.dt, "tau_syn");
    const std::vector<double> w_in = node.vector("w_in", n);
    for (std::size_t i = 0; i < n; ++i) scale[i] = w_in[i] * ctx.dt / tau_syn[i];
    divide_threshold(ctx, node, theta, scale, "w_in", "w_in dt / tau_syn");
  }
  /// snnTorch's hack_w_scale: an input scale other than 1 divides the threshold instead.
  static void divide_threshold(const NirContext& ctx, const NirNode& node, std::vector<double>& theta,
                               const std::vector<double>& scale, const char* key, const char* formula) {
    if (std::all_of(scale.begin(), scale.end(), nir_allclose_one)) return;
    for (std::size_t i = 0; i < theta.size(); ++i) {
      if (!(scale[i] > 0) || std::isinf(scale[i]))
        throw node.error(std::string(formula) + " = " + std::to_string(scale[i]) + " is not a positive input scale");
      theta[i] /= scale[i];
    }
    ctx.note(node.where(), key,
             std::string(formula) + " = " + std::to_string(scale[0]) +
                 " is not 1: v_threshold divided by it, as snnTorch's import_from_nir does (hack_w_scale), so that the "
                 "input enters with gain 1");
  }
  /// The norse dialect (Norse's from_nir with step dt): LIF gain dt/tau (r ignored), CubaLIF gain
  /// (w_in dt / tau_syn) (r dt / tau_mem), IF gain 1 (r ignored); theta = v_threshold / gain.
  static void read_norse(const NirNode& node, NirContext& ctx, const std::string& t, std::vector<double>& beta,
                         std::vector<double>& alpha, std::vector<double>& theta) {
    const std::size_t n = beta.size();
    if (t == "IF") {
      nir_note_ignored(ctx, node, "r", n, 1.0, "Norse's IAFCell adds its input with gain 1");
      return;
    }
    const bool cuba = t == "CubaLIF";
    const char* key = cuba ? "tau_mem" : "tau";
    const std::vector<double> tau = finite_tau(node, ctx, key, n);
    beta = nir_decay(node, tau, ctx.dt, key);
    nir_check_zero(node, "v_leak", n);
    std::vector<double> gain(n);
    if (!cuba) {
      nir_note_ignored(ctx, node, "r", n, 1.0, "Norse's LIFBoxCell takes its input with gain dt / tau");
      for (std::size_t i = 0; i < n; ++i) gain[i] = ctx.dt / tau[i];
    } else {
      const std::vector<double> tau_syn = finite_tau(node, ctx, "tau_syn", n);
      alpha = nir_decay(node, tau_syn, ctx.dt, "tau_syn");
      const std::vector<double> r = node.vector("r", n), w_in = node.vector("w_in", n);
      for (std::size_t i = 0; i < n; ++i) gain[i] = (ctx.dt / tau[i]) * (ctx.dt / tau_syn[i]) * (r[i] * w_in[i]);
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (!(gain[i] > 0) || std::isinf(gain[i]))
        throw node.error("the input gain of neuron " + std::to_string(i) + " in Norse's simulation is " +
                         std::to_string(gain[i]) + ", not positive");
      theta[i] /= gain[i];
    }
  }
  /// The reset: the spikelab dialect reads metadata/reset and needs v_reset = 0; snnTorch and
  /// Norse reset to zero whatever the file says (a NirNote when it says otherwise).
  static void read_reset(const NirNode& node, const NirContext& ctx, std::size_t n) {
    const std::string reset = node.meta_string("reset", "zero");
    if (ctx.dialect == NirDialect::spikelab) {
      nir_check_zero(node, "v_reset", n);
      if (reset != nir_reset_name<R>())
        throw node.error("resets by '" + reset + "' but the network type uses " + R::name() +
                         (node.has("metadata") ? "" : " (NIR's LIF resets to v_reset: use ZeroReset)"));
      return;
    }
    nir_note_ignored(ctx, node, "v_reset", n, 0.0, "its neurons reset to 0");
    if (reset != "zero")
      ctx.note(node.where(), "metadata/reset",
               "'" + reset + "' ignored: " + nir_tool(ctx.dialect) + " resets to zero");
    if constexpr (!std::same_as<R, ZeroReset>)
      throw node.error(std::string(nir_tool(ctx.dialect)) + " resets to zero, but the network type uses " + R::name() +
                       ": read into a layer type with ZeroReset");
  }
  /// Checks an IF node's `r`: 1/dt (gain 1 per Euler step of dv/dt = R I) or 1 (gain 1 per
  /// step, the per-step accumulator's convention; noted, since with dt != 1 s it is not the
  /// Euler step of the equation).
  static void read_if_gain(const NirNode& node, const NirContext& ctx, std::size_t n) {
    const std::vector<double> r = node.vector("r", n);
    bool per_step = false;
    for (std::size_t i = 0; i < n; ++i) {
      if (std::abs(r[i] * ctx.dt - 1.0) <= 1e-6) continue;
      if (r[i] != 1.0)
        throw node.error("r[" + std::to_string(i) + "] = " + std::to_string(r[i]) + " is neither 1/dt = " +
                         std::to_string(1.0 / ctx.dt) + " (input gain 1 per step of dt = " + std::to_string(ctx.dt) +
                         " s) nor 1 (spikelab's neurons take their input with gain 1)");
      per_step = true;
    }
    if (!per_step) return;
    const std::string euler =
        "the Euler step of dv/dt = R I with dt = " + std::to_string(ctx.dt) + " s gives gain r dt";
    ctx.note(node.where(), "r",
             "r = 1 read as input gain 1 per step (as tools that write IF as a per-step accumulator); " + euler);
  }
  static void set_params(L& l, const std::vector<double>& beta, const std::vector<double>& alpha,
                         const std::vector<double>& theta) {
    l.beta().set(to_vector<S>(beta));
    l.threshold().set(to_vector<S>(theta));
    l.alpha().set(to_vector<S>(alpha));
  }
};

/// AdaptiveLif / RecurrentAdaptiveLif: no NIR node. NIR's neurons (LIF, CubaLIF, IF, LI, I) all
/// compare v with a fixed v_threshold, and no graph of NIR nodes computes the adaptive threshold
/// theta_0 + beta_a a_t exactly: feeding -beta_a a_t into the membrane instead would be leaked by
/// beta and kept across the reset, another neuron. `unsupported` says why; write_nir checks for
/// it before it creates any file and throws a ConfigError naming the layer, read_nir throws the
/// FormatError of the node that was to be read into it.
template <class S, class G, class R, AdaptiveLifOptions O>
struct NirLayer<AdaptiveLifType<S, G, R, O>> : NirUnsupported<AdaptiveLifType<S, G, R, O>> {
  static constexpr const char* unsupported =
      "NIR has no neuron with an adaptive threshold (theta_0 + beta_a a_t); export the network without it";
};

/// LeakyIntegrator <-> NIR LI (`tau`, `r`, `v_leak`): tau = dt/(1-beta) seconds; r = tau/dt
/// (input gain 1), or r = 1 when the integrator normalises its input by 1 - beta. Dialects:
/// snnTorch's import_from_nir has no LI mapping (the snntorch dialect refuses LI both ways);
/// Norse's from_nir ignores r and takes the input with gain dt / tau = 1 - beta, which is the
/// normalised integrator (the norse dialect writes only that, and reads every LI as it).
template <class S, Train M>
struct NirLayer<LeakyIntegratorType<S, M>> {
  using L = LeakyIntegratorType<S, M>;
  /// Why write_nir cannot write `l` in dialect `d` (empty: it can).
  static std::string refusal(const L& l, NirDialect d) {
    if (d == NirDialect::snntorch)
      return "snnTorch's import_from_nir has no mapping for NIR's LI node (nor has nirtorch's default map)";
    if (d == NirDialect::norse) {
      if (!l.config().normalize)
        return "Norse's from_nir ignores r and takes an LI's input with gain dt / tau = 1 - beta: use "
               "LeakyIntegratorConfig::normalize = true";
      const std::vector<double> beta = neuron_values(l.beta());
      if (std::any_of(beta.begin(), beta.end(), [](double b) { return b >= 1.0; }))
        return "beta = 1: Norse's from_nir gives an LI with tau = inf no input (1 / tau = 0)";
    }
    return {};
  }
  static std::string write(NirWriter& w, NirContext& ctx, hid_t nodes, const L& l) {
    const std::string name = ctx.unique("li");
    const std::vector<hsize_t> n = neuron_dims(ctx, l.output_size());
    const std::vector<double> beta = neuron_values(l.beta());
    const std::vector<double> tau = nir_tau(beta, ctx.dt), zeros(beta.size(), 0.0);
    std::vector<double> r(beta.size());
    for (std::size_t i = 0; i < r.size(); ++i) r[i] = l.config().normalize ? 1.0 : tau[i] / ctx.dt;
    H5Handle g = w.node(nodes, name, "LI");
    w.array(g.get(), "tau", tau, n);
    w.array(g.get(), "r", r, n);
    w.array(g.get(), "v_leak", zeros, n);
    return name;
  }
  static L read(const NirNode& node, NirContext& ctx) {
    if (node.type() != "LI") throw node.error("is a " + node.type() + " node, expected LI (spikelab LeakyIntegrator)");
    if (ctx.dialect == NirDialect::snntorch)
      throw node.error("is an LI node, for which snnTorch's import_from_nir has no mapping: read the file in the "
                       "spikelab or norse dialect");
    const NirArray tau_a = node.array("tau");
    if (tau_a.size() == 0) throw node.error("'tau' is empty");
    const std::size_t n = nir_neuron_count(tau_a.size(), ctx);
    const std::vector<double> tau = node.vector("tau", n);
    const std::vector<double> beta = nir_decay(node, tau, ctx.dt, "tau");
    nir_check_zero(node, "v_leak", n);
    LeakyIntegratorConfig cfg;
    cfg.beta = beta[0];
    if (ctx.dialect == NirDialect::norse) {
      for (std::size_t i = 0; i < n; ++i)
        if (std::isinf(tau[i]))
          throw node.error("tau[" + std::to_string(i) + "] = inf: Norse's from_nir gives this LI no input (1 / tau = 0)");
      nir_note_ignored(ctx, node, "r", n, 1.0, "Norse's LIBoxCell takes its input with gain dt / tau");
      cfg.normalize = true;
    } else {
      const std::vector<double> r = node.vector("r", n);
      nir_note_ignored_gain(ctx, node, r, beta, "r");
      // gain c = r (1 - beta): 1 for the plain integrator, 1 - beta (r = 1) when normalised
      bool plain = true, normalised = true;
      for (std::size_t i = 0; i < n; ++i) {
        if (beta[i] >= 1.0) continue;
        plain = plain && std::abs(r[i] * (1.0 - beta[i]) - 1.0) <= 1e-6;
        normalised = normalised && std::abs(r[i] - 1.0) <= 1e-6;
      }
      if (!plain && !normalised)
        throw node.error("'r' is neither tau/dt (input gain 1) nor 1 (gain 1 - beta, normalize = true)");
      cfg.normalize = !plain;
    }
    return nir_build(node, "does not fit the network type: ", [&] {
      L l(Index(n), cfg);
      l.beta().set(to_vector<S>(beta));
      return l;
    });
  }
};

/// Conv2d <-> NIR Conv2d: `weight` C_out x C_in x k x k, `bias` C_out, `stride`, `padding`,
/// `dilation` (1) and `groups` (1), `input_shape` = H, W. Square kernels, equal strides and
/// paddings in both dimensions.
template <class S>
struct NirLayer<Conv2d<S>> {
  static std::string write(NirWriter& w, NirContext& ctx, hid_t nodes, const Conv2d<S>& l) {
    const std::string name = ctx.unique("conv2d");
    const ImageShape in = l.input_shape(), out = l.output_shape();
    const Conv2dConfig& c = l.config();
    H5Handle g = w.node(nodes, name, "Conv2d");
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
    auto pair = [&](const char* key, double dflt) { return node.has(key) ? nir_square(node, key) : dflt; };
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
    return nir_build(node, "invalid convolution: ", [&] {
      Conv2d<S> l(in, cout, rng, cfg);
      for (Index r = 0; r < cout; ++r)
        for (Index c = 0; c < l.patch_size(); ++c) l.weight()(r, c) = S(wt.values[std::size_t(r * l.patch_size() + c)]);
      if (any_bias) l.bias().col(0) = to_vector<S>(bias);
      ctx.image = l.output_shape();
      ctx.has_image = true;
      return l;
    });
  }
};

/// Flatten <-> NIR Flatten over all dimensions: `start_dim` 0, `end_dim` -1, `input_type` = C, H, W.
template <class S>
struct NirLayer<Flatten<S>> {
  static std::string write(NirWriter& w, NirContext& ctx, hid_t nodes, const Flatten<S>& l) {
    const std::string name = ctx.unique("flatten");
    const ImageShape in = l.input_shape();
    H5Handle g = w.node(nodes, name, "Flatten");
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

/// AvgPool2d / SumPool2d <-> NIR AvgPool2d / SumPool2d: `kernel_size`, `stride`, `padding`, each
/// (height, width) as int64 (Pedersen et al., Nature Communications 2024; the windows of
/// torch.nn.AvgPool2d, output extent floor((H + 2 p - k) / s) + 1):
/// \f[ \text{AvgPool2d: } y = \frac{1}{k^2} \sum_{R} x, \qquad \text{SumPool2d: } y = \sum_{R} x \f]
/// over the k x k window R, zero padding counted (the average divides by k^2, torch's
/// count_include_pad). spikelab holds square windows with equal strides and paddings, 2 p <= k,
/// and no factor: a layer with PoolConfig::scale != 1 is refused by write_nir (refusal()), a node
/// outside these bounds by read_nir, each naming the layer or node. The input must be an image
/// (the Input node's C, H, W or a preceding Conv2d / pooling node). snnTorch's and Norse's
/// importers read SumPool2d through nirtorch's default map (torch.nn.LPPool2d with norm 1), which
/// ignores padding: their dialects refuse a padded SumPool2d and read one without its padding.
template <class S, class Mode>
struct NirLayer<Pool2d<S, Mode>> {
  using L = Pool2d<S, Mode>;
  /// Why write_nir cannot write `l` (empty: it can).
  static std::string refusal(const L& l, NirDialect d) {
    if (l.config().scale != 1.0)
      return "PoolConfig::scale = " + std::to_string(l.config().scale) + ": NIR's " + Mode::name() +
             " has no output factor; export the pooling with scale 1 and fold the factor into the next weights";
    if (std::same_as<Mode, SumPooling> && d != NirDialect::spikelab && l.config().padding != 0)
      return "padding " + std::to_string(l.config().padding) + ": " + nir_tool(d) +
             " maps SumPool2d to torch.nn.LPPool2d (nirtorch's default map), which ignores padding";
    return {};
  }
  static std::string write(NirWriter& w, NirContext& ctx, hid_t nodes, const L& l) {
    const std::string name = ctx.unique(std::same_as<Mode, AvgPooling> ? "avgpool2d" : "sumpool2d");
    const PoolConfig& c = l.config();
    const std::int64_t k = c.kernel, s = c.stride == 0 ? c.kernel : c.stride, p = c.padding;
    H5Handle g = w.node(nodes, name, Mode::name());
    w.array(g.get(), "kernel_size", std::vector<std::int64_t>{k, k}, {2});
    w.array(g.get(), "stride", std::vector<std::int64_t>{s, s}, {2});
    w.array(g.get(), "padding", std::vector<std::int64_t>{p, p}, {2});
    ctx.image = l.output_shape();
    ctx.has_image = true;
    return name;
  }
  static L read(const NirNode& node, NirContext& ctx) {
    if (node.type() != Mode::name())
      throw node.error("is a " + node.type() + " node, expected " + Mode::name() + " (spikelab " + L::name() + ")");
    if (!ctx.has_image)
      throw node.error(
          "the input is not an image: pooling needs C x H x W (an Input node of shape C, H, W or a Conv2d before it)");
    PoolConfig cfg;
    const double k = nir_square(node, "kernel_size"), s = nir_square(node, "stride"), p = nir_square(node, "padding");
    for (const auto& [key, v, least] :
         {std::tuple{"kernel_size", k, 1.0}, std::tuple{"stride", s, 1.0}, std::tuple{"padding", p, 0.0}})
      if (!(v >= least && v <= 1e6 && v == std::floor(v)))
        throw node.error(std::string("'") + key + "' = " + std::to_string(v) +
                         " is not a whole number >= " + std::to_string(int(least)));
    cfg.kernel = Index(k);
    cfg.stride = Index(s);
    cfg.padding = Index(p);
    if (std::same_as<Mode, SumPooling> && ctx.dialect != NirDialect::spikelab && cfg.padding != 0) {
      ctx.note(node.where(), "padding",
               std::to_string(cfg.padding) + " ignored, as " + nir_tool(ctx.dialect) +
                   " does (torch.nn.LPPool2d, nirtorch's default SumPool2d map, has no padding)");
      cfg.padding = 0;
    }
    return nir_build(node, "does not fit spikelab's pooling: ", [&] {
      L l(ctx.image, cfg);
      ctx.image = l.output_shape();
      return l;
    });
  }
};

/// MaxPool2d: no NIR node (NIR 1.0 has SumPool2d and AvgPool2d only); write_nir refuses it
/// before it creates any file, with an error naming the layer.
template <class S>
struct NirLayer<Pool2d<S, MaxPooling>> : NirUnsupported<Pool2d<S, MaxPooling>> {
  static constexpr const char* unsupported =
      "NIR has no max-pooling node (only SumPool2d and AvgPool2d); on binary spikes a SumPool2d followed by a "
      "threshold is the closest";
};

/// IntegerDelay <-> a NIRGraph subgraph with NIR's Delay node (y_i(t) = x_i(t - tau_i), `delay`
/// in seconds = steps x dt). One delay per input channel: input -> delay (in) -> affine / linear
/// -> output. One delay per connection: input -> fanout (a Linear copying input i to the in x
/// out lanes o in + i) -> delay (in out) -> affine / linear (weight out x in out, W_oi at
/// column o in + i) -> output. `metadata/max_delay` keeps the layer's window (steps).
template <class S>
struct NirLayer<IntegerDelay<S>> {
  /// Why write_nir cannot write `l` in dialect `d`: neither importer maps NIR's Delay node.
  static std::string refusal(const IntegerDelay<S>&, NirDialect d) {
    if (d == NirDialect::spikelab) return {};
    return std::string(nir_tool(d)) + " has no mapping for NIR's Delay node (nor has nirtorch's default map)";
  }
  static std::string write(NirWriter& w, NirContext& ctx, hid_t nodes, const IntegerDelay<S>& l) {
    const Index in = l.input_size(), out = l.output_size();
    const bool shared = l.delays().rows() == 1, bias = l.has_bias();
    const Index lanes = shared ? in : in * out;
    const std::string name = ctx.unique("delay");
    H5Handle g = w.node(nodes, name, "NIRGraph");
    H5Handle sub = w.group(g.get(), "nodes");
    w.io_node(sub.get(), "input", "Input", {std::int64_t(in)});
    w.io_node(sub.get(), "output", "Output", {std::int64_t(out)});
    std::vector<double> tau(static_cast<std::size_t>(lanes));
    for (Index i = 0; i < in; ++i)
      for (Index o = 0; o < (shared ? 1 : out); ++o) tau[std::size_t(o * in + i)] = double(l.delay(o, i)) * ctx.dt;
    {
      H5Handle d = w.node(sub.get(), "delay", "Delay");
      w.array(d.get(), "delay", tau, {hsize_t(lanes)});
    }
    std::vector<S> weight(std::size_t(out * lanes), S(0));
    for (Index o = 0; o < out; ++o)
      for (Index i = 0; i < in; ++i) weight[std::size_t(o * lanes + (shared ? i : o * in + i))] = l.weight()(o, i);
    const std::string proj = bias ? "affine" : "linear";
    {
      H5Handle a = w.node(sub.get(), proj, bias ? "Affine" : "Linear");
      w.array(a.get(), "weight", weight, {hsize_t(out), hsize_t(lanes)});
      if (bias) w.array(a.get(), "bias", row_major_as<S>(l.bias()), {hsize_t(out)});
    }
    if (shared) {
      w.edges(g.get(), {{"input", "delay"}, {"delay", proj}, {proj, "output"}});
    } else {
      std::vector<S> copy(std::size_t(lanes * in), S(0));
      for (Index o = 0; o < out; ++o)
        for (Index i = 0; i < in; ++i) copy[std::size_t((o * in + i) * in + i)] = S(1);
      H5Handle f = w.node(sub.get(), "fanout", "Linear");
      w.array(f.get(), "weight", copy, {hsize_t(lanes), hsize_t(in)});
      w.edges(g.get(), {{"input", "fanout"}, {"fanout", "delay"}, {"delay", proj}, {proj, "output"}});
    }
    H5Handle m = w.group(g.get(), "metadata");
    w.string(m.get(), "max_delay", std::to_string(l.max_delay()));
    ctx.has_image = false;
    return name;
  }

  static IntegerDelay<S> read(const NirNode& node, NirContext& ctx) {
    if (node.type() != "NIRGraph")
      throw node.error("is a " + node.type() + " node, expected a NIRGraph subgraph with a Delay node (spikelab IntegerDelay)");
    if (ctx.dialect != NirDialect::spikelab)
      throw node.error(std::string("holds a Delay node, for which ") + nir_tool(ctx.dialect) +
                       " has no mapping: read the file in the spikelab dialect");
    // the chain from input to output
    std::map<std::string, std::string> next;
    for (const auto& [a, b] : node.edges())
      if (!next.emplace(a, b).second) throw node.error("node '" + a + "' has two successors; expected a chain");
    std::vector<std::string> chain;
    bool reached = false;
    for (std::string at = "input"; next.count(at) && chain.size() <= 3;) {
      at = next[at];
      if ((reached = at == "output")) break;
      chain.push_back(at);
    }
    const NirNode sub(node.file(), node.get(), "nodes", node.where() + "/nodes");
    auto open = [&](const std::string& n) { return NirNode(node.file(), sub.get(), n, node.where() + "/" + n); };
    auto types = [&] {
      std::string t;
      for (const auto& n : chain) t += (t.empty() ? "" : " -> ") + open(n).type();
      return t;
    };
    const bool shared = chain.size() == 2;
    if (!reached || (chain.size() != 2 && chain.size() != 3) || open(chain[chain.size() - 2]).type() != "Delay" ||
        (!shared && open(chain[0]).type() != "Linear"))
      throw node.error("subgraph is input -> " + types() +
                       " -> output; expected input -> [Linear (fan-out) ->] Delay -> Affine/Linear -> output");
    const NirNode nd = open(chain[chain.size() - 2]), np = open(chain.back());
    const std::string pt = np.type();
    if (pt != "Affine" && pt != "Linear") throw np.error("is a " + pt + " node, expected Affine or Linear");
    const NirArray wt = np.array("weight");
    if (wt.dims.size() != 2) throw np.error("'weight' must be 2-D");
    const Index out = Index(wt.dims[0]), lanes = Index(wt.dims[1]);
    Index in = lanes;
    if (!shared) {
      const NirArray fan = open(chain[0]).array("weight");
      if (fan.dims.size() != 2 || Index(fan.dims[0]) != lanes || out <= 0 || lanes % out != 0 || Index(fan.dims[1]) * out != lanes)
        throw open(chain[0]).error("the fan-out must be (in out) x in for the projection's " + std::to_string(lanes) + " lanes");
      in = Index(fan.dims[1]);
      for (Index r = 0; r < lanes; ++r)
        for (Index c = 0; c < in; ++c)
          if (fan.values[std::size_t(r * in + c)] != (c == r % in ? 1.0 : 0.0))
            throw open(chain[0]).error("is not the fan-out copying input i to lanes o in + i");
    }
    const std::vector<double> tau = nd.vector("delay", std::size_t(lanes));
    DelayMatrix delays(shared ? 1 : out, in);
    Index largest = 0;
    for (Index k = 0; k < lanes; ++k) {
      const double steps = tau[std::size_t(k)] / ctx.dt, r = std::round(steps);
      if (!(r >= 0) || std::abs(steps - r) > 1e-6 * std::max(1.0, r) || r > 1e6)
        throw nd.error("delay[" + std::to_string(k) + "] = " + std::to_string(tau[std::size_t(k)]) +
                       " s is not a whole number of steps of dt = " + std::to_string(ctx.dt) + " s");
      delays(shared ? 0 : k / in, k % in) = std::int32_t(r);
      largest = std::max(largest, Index(r));
    }
    Matrix<S> weight(out, in);
    for (Index o = 0; o < out; ++o)
      for (Index i = 0; i < in; ++i) weight(o, i) = S(wt.values[std::size_t(o * lanes + (shared ? i : o * in + i))]);
    if (!shared)  // the projection may only read each output's own lanes
      for (Index o = 0; o < out; ++o)
        for (Index k = 0; k < lanes; ++k)
          if (k / in != o && wt.values[std::size_t(o * lanes + k)] != 0.0)
            throw np.error("weight[" + std::to_string(o) + ", " + std::to_string(k) + "] reads another output's lane");
    Matrix<S> bias;
    if (pt == "Affine") bias = to_vector<S>(np.vector("bias", std::size_t(out)));
    const std::string stored = node.meta_string("max_delay", "");
    Index max_delay = largest;
    if (stored.empty()) {
      ctx.note(node.where(), "metadata/max_delay",
               "absent: the layer's window is the largest delay, " + std::to_string(largest) + " steps");
    } else {
      std::size_t used = 0;
      long long v = -1;
      try {
        v = std::stoll(stored, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != stored.size() || v < 0) throw node.error("metadata/max_delay '" + stored + "' is not a number of steps");
      max_delay = Index(v);
    }
    ctx.has_image = false;
    return nir_build(node, "invalid delays: ", [&] { return IntegerDelay<S>(weight, delays, max_delay, bias); });
  }
};

}  // namespace spikelab::detail

#endif
