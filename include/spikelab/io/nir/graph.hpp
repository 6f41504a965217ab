/**
 * @file io/nir/graph.hpp
 * @brief write_nir / read_nir: a whole spikelab Sequential network as a NIR graph file and
 *        back. Optional: needs the `spikelab::hdf5` CMake target (SPIKELAB_WITH_HDF5).
 *
 * write_nir writes the sequential graph Input -> one node per layer -> Output (node names
 * "affine", "lif", "lif_1", ... as the reference package's NIRGraph.from_list gives them; the
 * layers' nodes are io/nir/layers.hpp), its edges, and `metadata/` with `dt` (seconds per
 * simulation step), `generator` and the network `signature`. The Input node has the first
 * layer's image shape (C, H, W) when it takes images, else its size; the Output node the last
 * layer's size; `metadata/dialect` names the dialect. The file is written to a temporary file
 * next to `path` and renamed into place.
 *
 * read_nir<Net>(path) rebuilds a network of type Net from a sequential graph (a single path
 * Input -> ... -> Output): the number of nodes between Input and Output must be Net's number
 * of layers and each node must map onto its layer type. A recurrent loop neuron -> w_rec ->
 * neuron drawn in the graph itself (snnTorch's exporter flattens its recurrent layers so; w_rec
 * a Linear or Affine node with no other edges) counts as one node, for a recurrent LIF layer.
 * Any other branch, skip connection, merge or cycle raises FormatError naming the node; wrong
 * node types and shapes too.
 *
 * Dialects (NirDialect, NirOptions::dialect, NirReadOptions::dialect): whose conventions the
 * file follows, spikelab's own or what snnTorch's or Norse's importer reads; docs/nir.md lists
 * every difference. dt: write_nir uses NirOptions::dt, else the dialect's (1e-3 s; 1e-4 s for
 * snnTorch, which hard-codes it and allows no other); read_nir uses NirReadOptions::dt, else
 * for the spikelab and norse dialects the file's metadata/dt, else, in the spikelab dialect, the
 * dt that tau / r of the first LIF or CubaLIF node (1 / r of an IF; not r = 1) implies, else
 * 1e-3 s (also Norse's from_nir default); the snntorch dialect always reads with 1e-4 s. Every dt read_nir
 * infers or assumes is a NirNote, and NirReadOptions::dt_used receives the one it used.
 *
 * Both take an optional list (NirOptions::notes, NirReadOptions::notes) where they report each
 * lossy mapping as a NirNote (node, field, what was done) instead of printing it.
 *
 * @code
 * @article{pedersen2024neuromorphic, title={Neuromorphic intermediate representation: A unified
 *   instruction set for interoperable brain-inspired computing}, author={Pedersen, Jens E. and
 *   Abreu, Steven and Jobst, Matthias and Lenz, Gregor and Fra, Vittorio and Bauer, Felix C. and
 *   others}, journal={Nature Communications}, volume={15}, pages={8122}, year={2024}}
 * @endcode
 */
#ifndef SPIKELAB_IO_NIR_GRAPH_HPP
#define SPIKELAB_IO_NIR_GRAPH_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/hdf5.hpp>
#include <spikelab/io/nir/file.hpp>
#include <spikelab/io/nir/layers.hpp>
#include <spikelab/io/temporary_file.hpp>
#include <spikelab/networks/sequential.hpp>
#include <spikelab/version.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace spikelab {

/// How write_nir maps discrete steps to NIR's continuous time (Pedersen et al., Nature
/// Communications 2024): in the spikelab dialect tau = dt / (1 - beta) seconds, R = tau / dt, an
/// IF's R = 1 / dt; the other dialects write what snnTorch's or Norse's importer reads into the
/// same network (NirDialect).
struct NirOptions {
  /// Whose conventions the file follows: spikelab's, or what snnTorch's / Norse's importer reads.
  NirDialect dialect = NirDialect::spikelab;
  /// Seconds per simulation step (tau = dt / (1 - beta)); 0: the dialect's, 1e-3 (spikelab, and
  /// Norse's from_nir default) or 1e-4 (snntorch, the only dt that dialect allows).
  double dt = 0.0;
  /// Where write_nir appends a NirNote for each value it writes that other NIR tools will read
  /// differently (e.g. a SubtractReset as metadata/reset); null: not collected. The list is
  /// appended to, not cleared.
  std::vector<NirNote>* notes = nullptr;
};

/// How read_nir maps NIR's continuous time back to steps: beta = 1 - dt / tau, and, in the
/// snntorch and norse dialects, the input gains those tools give each node (NirDialect).
struct NirReadOptions {
  /// Whose conventions the file follows: spikelab's, or those of snnTorch's / Norse's exporter
  /// and importer.
  NirDialect dialect = NirDialect::spikelab;
  /// Seconds per step; 0: from the file or the dialect (see io/nir/graph.hpp). The snntorch
  /// dialect allows only 1e-4.
  double dt = 0.0;
  /// Where read_nir appends a NirNote for each NIR value it ignored or approximated and each
  /// default it assumed or inferred (e.g. dt = 1 ms for a file without metadata/dt); null: not
  /// collected. A file that spikelab wrote from a network with ZeroReset neurons reads with none.
  std::vector<NirNote>* notes = nullptr;
  /// Where read_nir stores the dt (seconds) it used: given, from metadata/dt, inferred or the
  /// dialect's; null: not stored.
  double* dt_used = nullptr;
};

namespace detail {

/// A seconds value for messages ("0.0001", "0.002").
inline std::string nir_seconds(double v) {
  std::ostringstream o;
  o << std::setprecision(6) << v;
  return o.str();
}

/// A sequential graph read from its edges: the node names from Input to Output, and the
/// recurrent loops drawn in the graph itself (neuron -> w_rec -> neuron), by neuron.
struct NirChain {
  std::vector<std::string> nodes;
  std::map<std::string, std::string> loops;  ///< neuron node -> its recurrent Linear / Affine node
};

/// The chain of a sequential graph from its edges (nodes: the graph's `nodes` group): recurrent
/// loops neuron <-> Linear / Affine whose projection has no other edge are set aside (snnTorch's
/// import_from_nir finds them the same way); then every node may have one input and one
/// successor, the one node without an input starts the chain, and every node must be on it.
inline NirChain nir_chain(const NirNode& graph, const NirNode& nodes,
                          std::vector<std::pair<std::string, std::string>> edges) {
  NirChain c;
  std::map<std::string, int> in_degree, out_degree;
  for (const auto& [a, b] : edges) out_degree[a]++, in_degree[b]++;
  const auto type_of = [&](const std::string& n) { return NirNode(graph.file(), nodes.get(), n, n).type(); };
  std::set<std::string> projections;
  for (const auto& [a, b] : edges) {
    if (a == b || c.loops.count(a) || in_degree[b] != 1 || out_degree[b] != 1) continue;
    if (std::find(edges.begin(), edges.end(), std::pair{b, a}) == edges.end()) continue;
    const std::string ta = type_of(a), tb = type_of(b);
    if ((ta == "LIF" || ta == "CubaLIF" || ta == "IF") && (tb == "Linear" || tb == "Affine")) {
      c.loops[a] = b;
      projections.insert(b);
    }
  }
  std::erase_if(edges, [&](const auto& e) { return projections.count(e.first) || projections.count(e.second); });
  std::map<std::string, std::vector<std::string>> prev, next;
  for (const auto& [a, b] : edges) {
    next[a].push_back(b);
    prev[b].push_back(a);
    prev.try_emplace(a);
  }
  const auto names = [](const std::vector<std::string>& v) {
    std::string s;
    for (const auto& n : v) s += (s.empty() ? "'" : ", '") + n + "'";
    return s;
  };
  for (const auto& [name, from] : prev)
    if (from.size() > 1)
      throw graph.error("node '" + name + "' has " + std::to_string(from.size()) + " inputs (" + names(from) +
                        "): a skip connection or merge, but read_nir reads only sequential graphs "
                        "(one chain Input -> ... -> Output)");
  std::string start;
  for (const auto& [name, from] : prev)
    if (from.empty()) {
      if (!start.empty()) throw graph.error("more than one input ('" + start + "', '" + name + "'): not a sequential graph");
      start = name;
    }
  if (start.empty()) throw graph.error("no input node");
  c.nodes.push_back(start);
  while (next.count(c.nodes.back())) {
    const auto& nx = next[c.nodes.back()];
    if (nx.size() != 1)
      throw graph.error("node '" + c.nodes.back() + "' has " + std::to_string(nx.size()) + " successors (" + names(nx) +
                        "): a branch, but read_nir reads only sequential graphs");
    c.nodes.push_back(nx[0]);
    if (c.nodes.size() > edges.size() + 1) throw graph.error("the edges form a cycle");
  }
  for (const auto& [name, from] : prev)
    if (std::find(c.nodes.begin(), c.nodes.end(), name) == c.nodes.end())
      throw graph.error("node '" + name + "' is not on the chain from '" + start + "' (a second chain or a cycle)");
  return c;
}

/// The dt (seconds) that a neuron node written in spikelab's conventions implies: tau / r of a
/// LIF, tau_mem / r of a CubaLIF, 1 / r of an IF; 0 when the node tells nothing (other types,
/// infinite or missing values, and r = 1, which Norse writes whatever dt is).
inline double nir_node_dt(const NirNode& n) {
  const std::string t = n.type();
  const auto ratio = [&](const char* num, const char* den) {
    if (!n.has(num) || !n.has(den)) return 0.0;
    const NirArray a = n.array(num), b = n.array(den);
    for (std::size_t i = 0; i < a.size() && b.size() > 0; ++i) {
      const double x = a.values[i], y = b.values[b.size() == 1 ? 0 : std::min(i, b.size() - 1)];
      if (x > 0 && y > 0 && y != 1.0 && std::isfinite(x) && std::isfinite(y)) return x / y;
    }
    return 0.0;
  };
  if (t == "LIF") return ratio("tau", "r");
  if (t == "CubaLIF") return ratio("tau_mem", "r");
  if (t == "IF" && n.has("r"))
    for (double r : n.array("r").values)
      if (r > 0 && std::isfinite(r) && r != 1.0) return 1.0 / r;
  return 0.0;
}

/// The first dt that a neuron node of the chain (or of a subgraph on it) implies, with the
/// node's name; {0, ""} when none does.
inline std::pair<double, std::string> nir_infer_dt(const NirNode& nodes, const NirChain& chain) {
  for (const std::string& name : chain.nodes) {
    const NirNode n(nodes.file(), nodes.get(), name, name);
    if (n.type() != "NIRGraph") {
      if (const double dt = nir_node_dt(n); dt > 0) return {dt, name};
      continue;
    }
    const NirNode sub(nodes.file(), n.get(), "nodes", name + "/nodes");
    for (const auto& [a, b] : n.edges())
      for (const std::string& m : {a, b})
        if (sub.has(m))
          if (const double dt = nir_node_dt(NirNode(nodes.file(), sub.get(), m, name + "/" + m)); dt > 0)
            return {dt, name + "/" + m};
  }
  return {0.0, ""};
}

/// The dt read_nir uses (see the file comment), with the NirNotes of what it assumed.
inline double nir_read_dt(const NirNode& graph, const NirNode& nodes, const NirChain& chain, const NirReadOptions& opt,
                          const NirContext& ctx) {
  const bool snntorch = opt.dialect == NirDialect::snntorch;
  double from_file = 0;
  if (graph.has("metadata/dialect")) {
    const NirNode meta(graph.file(), graph.get(), "metadata", "node/metadata");
    const std::string d = meta.string("dialect");
    if (d != nir_dialect_name(opt.dialect))
      ctx.note("node/metadata", "dialect",
               "the file was written in the " + d + " dialect and is read in the " + nir_dialect_name(opt.dialect) +
                   " dialect");
  }
  if (graph.has("metadata/dt")) {
    const NirNode meta(graph.file(), graph.get(), "metadata", "node/metadata");
    from_file = meta.number("dt");
    if (!(from_file > 0) || std::isinf(from_file)) throw meta.error("dt must be positive");
  }
  if (opt.dt > 0) return opt.dt;
  if (snntorch) {
    if (from_file > 0 && from_file != 1e-4)
      ctx.note("node/metadata", "dt",
               "metadata/dt = " + nir_seconds(from_file) +
                   " s ignored: snnTorch's import_from_nir always uses dt = 1e-4 s, and so does the snntorch dialect");
    return 1e-4;
  }
  if (from_file > 0) return from_file;
  if (opt.dialect == NirDialect::spikelab)
    if (const auto [dt, where] = nir_infer_dt(nodes, chain); dt > 0) {
      ctx.note("node/metadata", "dt",
               "absent and not given in NirReadOptions: dt = " + nir_seconds(dt) + " s inferred from node '" + where +
                   "' (r = tau / dt)");
      return dt;
    }
  ctx.note("node/metadata", "dt",
           std::string("absent and not given in NirReadOptions: dt = 1 ms assumed") +
               (opt.dialect == NirDialect::norse ? " (Norse's from_nir default)" : "") +
               " (time constants become decays with it)");
  return 1e-3;
}

/// Reads layer `i` of the chain into a layer of type L, handing it the recurrent loop drawn
/// around its node (if any), and records its output size for the next node.
template <class L>
L nir_read_layer(const NirNode& nodes, const NirChain& chain, std::size_t i, NirContext& ctx) {
  const std::string& name = chain.nodes[i + 1];
  const NirNode node(nodes.file(), nodes.get(), name, name);
  std::optional<NirNode> loop;
  if (const auto it = chain.loops.find(name); it != chain.loops.end()) {
    loop.emplace(nodes.file(), nodes.get(), it->second, it->second);
    ctx.recurrent = &*loop;
  }
  L l = NirLayer<L>::read(node, ctx);
  if (ctx.recurrent) {
    ctx.recurrent = nullptr;
    throw node.error("is in a recurrent loop through '" + loop->where() +
                     "', which only a recurrent LIF layer (RecurrentLif) reads");
  }
  ctx.features = l.output_size();
  return l;
}

/// The number of elements of an Input / Output node's `shape`.
inline Index nir_shape_size(const NirArray& shape) {
  Index n = 1;
  for (double d : shape.values) n *= Index(d);
  return n;
}

}  // namespace detail

/// Writes `net` (a Sequential of layers that have a NirLayer: Linear, Lif, RecurrentLif,
/// LeakyIntegrator, Conv2d, Flatten, AvgPool2d, SumPool2d, IntegerDelay) to `path` as a NIR
/// graph in the dialect `opt.dialect` with time step `opt.dt` seconds (0: the dialect's); a
/// layer the dialect cannot express is a ConfigError naming it, raised before any file exists;
/// lossy mappings go to `opt.notes` when given.
template <class Net>
void write_nir(const std::filesystem::path& path, const Net& net, NirOptions opt = {}) {
  if (!(opt.dt >= 0) || std::isinf(opt.dt)) throw ConfigError("write_nir: dt must be positive (0: the dialect's)");
  if (opt.dialect == NirDialect::snntorch && opt.dt > 0 && opt.dt != 1e-4)
    throw ConfigError("write_nir: the snntorch dialect has dt = 1e-4 s, which snnTorch's export_to_nir and "
                      "import_from_nir hard-code; got dt = " + detail::nir_seconds(opt.dt) + " s");
  const double dt = opt.dt > 0 ? opt.dt : opt.dialect == NirDialect::snntorch ? 1e-4 : 1e-3;
  // layers that NIR or the dialect cannot express (their NirLayer says why: any such layer, or
  // these settings) are refused before any file exists
  net.for_each_layer([&](const auto& l, std::size_t i) {
    using L = std::remove_cvref_t<decltype(l)>;
    const auto refuse = [&](const std::string& why, bool dialect) {
      throw ConfigError("write_nir: layer " + std::to_string(i) + " (" + l.signature() + ") " +
                        (dialect ? std::string("cannot be written in the ") + nir_dialect_name(opt.dialect) + " dialect: "
                                 : std::string("has no NIR node: ")) +
                        why);
    };
    if constexpr (requires { detail::NirLayer<L>::unsupported; }) refuse(detail::NirLayer<L>::unsupported, false);
    if constexpr (requires { detail::NirLayer<L>::refusal(l, opt.dialect); }) {
      if (const std::string why = detail::NirLayer<L>::refusal(l, NirDialect::spikelab); !why.empty()) refuse(why, false);
      if (const std::string why = detail::NirLayer<L>::refusal(l, opt.dialect); !why.empty()) refuse(why, true);
    }
  });
  const std::filesystem::path tmp = detail::temporary_path(path);
  {
    detail::Hdf5Session session;
    detail::NirWriter w(tmp.string());
    detail::NirContext ctx;
    ctx.dialect = opt.dialect;
    ctx.dt = dt;
    ctx.notes = opt.notes;
    if (opt.dialect == NirDialect::norse && dt != 1e-3)
      ctx.note("node/metadata", "dt",
               "Norse's from_nir simulates with dt = 0.001 s unless told otherwise: call from_nir(graph, dt=" +
                   detail::nir_seconds(dt) + ")");
    detail::H5Handle file = w.create_file();
    detail::H5Handle node = w.node(file.get(), "node", "NIRGraph");
    detail::H5Handle nodes = w.group(node.get(), "nodes");
    // the Input node: an image shape when the first layer takes images
    std::vector<std::int64_t> in_shape{std::int64_t(net.input_size())};
    using First = std::remove_cvref_t<decltype(net.template layer<0>())>;
    if constexpr (requires(const First& f) { f.input_shape(); }) {
      const ImageShape s = net.template layer<0>().input_shape();
      in_shape = {s.channels, s.height, s.width};
    }
    w.io_node(nodes.get(), "input", "Input", in_shape);
    std::vector<std::string> names{"input"};
    net.for_each_layer([&](const auto& l, std::size_t) {
      names.push_back(detail::NirLayer<std::remove_cvref_t<decltype(l)>>::write(w, ctx, nodes.get(), l));
    });
    w.io_node(nodes.get(), "output", "Output", {std::int64_t(net.output_size())});
    names.push_back("output");
    std::vector<std::pair<std::string, std::string>> edges;
    for (std::size_t i = 0; i + 1 < names.size(); ++i) edges.emplace_back(names[i], names[i + 1]);
    w.edges(node.get(), edges);
    detail::H5Handle meta = w.group(node.get(), "metadata");
    w.scalar(meta.get(), "dt", dt);
    w.string(meta.get(), "dialect", nir_dialect_name(opt.dialect));
    w.string(meta.get(), "generator", "spikelab " + version::as_string());
    w.string(meta.get(), "signature", net.signature());
    if (H5Fflush(file.get(), H5F_SCOPE_LOCAL) < 0) throw FileError(tmp.string(), -1, "HDF5 cannot flush the file");
  }
  detail::replace_with_temporary<FileError>(tmp, path);
}

/// Reads a sequential NIR graph in the dialect `opt.dialect` into a new network of type Net (see
/// the file comment).
template <class Net>
Net read_nir(const std::filesystem::path& path, NirReadOptions opt = {}) {
  if (!(opt.dt >= 0) || std::isinf(opt.dt)) throw ConfigError("read_nir: dt must be positive (0: from the file)");
  if (opt.dialect == NirDialect::snntorch && opt.dt > 0 && opt.dt != 1e-4)
    throw ConfigError("read_nir: the snntorch dialect reads with dt = 1e-4 s, as snnTorch's import_from_nir does; "
                      "got dt = " + detail::nir_seconds(opt.dt) + " s");
  const std::string p = path.string();
  detail::Hdf5Session session;
  const detail::H5Handle file = detail::nir_open_file(p);
  const detail::NirNode graph(p, file.get(), "node", "node");
  if (graph.type() != "NIRGraph") throw graph.error("the top node is a " + graph.type() + ", expected NIRGraph");
  detail::NirContext ctx;
  ctx.dialect = opt.dialect;
  ctx.notes = opt.notes;
  const auto edges = graph.edges();
  const detail::NirNode nodes(p, graph.get(), "nodes", "node/nodes");
  const detail::NirChain chain = detail::nir_chain(graph, nodes, edges);
  ctx.dt = detail::nir_read_dt(graph, nodes, chain, opt, ctx);
  if (opt.dt_used) *opt.dt_used = ctx.dt;
  const detail::NirNode first(p, nodes.get(), chain.nodes.front(), chain.nodes.front());
  const detail::NirNode last(p, nodes.get(), chain.nodes.back(), chain.nodes.back());
  if (first.type() != "Input") throw first.error("the graph starts with a " + first.type() + " node, expected Input");
  if (last.type() != "Output") throw last.error("the graph ends with a " + last.type() + " node, expected Output");
  const std::size_t layers = chain.nodes.size() - 2;
  if (layers != Net::size)
    throw graph.error("the graph has " + std::to_string(layers) + " nodes between Input and Output but the network type has " +
                      std::to_string(Net::size) + " layers");
  const detail::NirArray in_shape = first.array("shape");
  if (in_shape.dims.size() <= 1 && in_shape.size() == 3) {
    ctx.image = {Index(in_shape.values[0]), Index(in_shape.values[1]), Index(in_shape.values[2])};
    ctx.has_image = true;
  }
  const Index in_size = detail::nir_shape_size(in_shape);
  ctx.features = in_size;
  // a braced list evaluates left to right: each layer sees the features of the one before
  Net net = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return Net{detail::nir_read_layer<std::tuple_element_t<I, typename Net::layer_types>>(nodes, chain, I, ctx)...};
  }(std::make_index_sequence<Net::size>{});
  if (in_size != net.input_size())
    throw first.error("shape has " + std::to_string(in_size) + " elements but the first layer takes " +
                      std::to_string(net.input_size()));
  const Index out_size = detail::nir_shape_size(last.array("shape"));
  if (out_size != net.output_size())
    throw last.error("shape has " + std::to_string(out_size) + " elements but the last layer gives " +
                     std::to_string(net.output_size()));
  return net;
}

}  // namespace spikelab

#endif
