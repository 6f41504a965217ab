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
 * layer's size. The file is written to a temporary file next to `path` and renamed into place.
 *
 * read_nir<Net>(path) rebuilds a network of type Net from a sequential graph (a single path
 * Input -> ... -> Output): the number of nodes between Input and Output must be Net's number
 * of layers and each node must map onto its layer type; dt comes from NirReadOptions, else the
 * file's metadata/dt, else 1 ms (a NirNote says so). Wrong node types, shapes, branches or
 * cycles raise FormatError naming the file and the node.
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

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

namespace spikelab {

/// How write_nir maps discrete steps to NIR's continuous time (Pedersen et al., Nature
/// Communications 2024): tau = dt / (1 - beta) seconds, R = tau / dt, an IF's R = 1 / dt.
struct NirOptions {
  double dt = 1e-3;  ///< seconds per simulation step (tau = dt / (1 - beta))
  /// Where write_nir appends a NirNote for each value it writes that other NIR tools will read
  /// differently (e.g. a SubtractReset as metadata/reset); null: not collected. The list is
  /// appended to, not cleared.
  std::vector<NirNote>* notes = nullptr;
};

/// How read_nir maps NIR's continuous time back to steps: beta = 1 - dt / tau.
struct NirReadOptions {
  double dt = 0.0;  ///< seconds per step; 0: the file's metadata/dt if present, else 1e-3
  /// Where read_nir appends a NirNote for each NIR value it ignored or approximated and each
  /// default it assumed (e.g. dt = 1 ms for a file without metadata/dt); null: not collected.
  /// A file that spikelab wrote from a network with ZeroReset neurons reads with none.
  std::vector<NirNote>* notes = nullptr;
};

namespace detail {

/// The node names of a sequential graph from its edges, in order: the one node without an
/// incoming edge, then the single successor of each node until one has none.
inline std::vector<std::string> nir_chain(const NirNode& graph, const std::vector<std::pair<std::string, std::string>>& edges) {
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
  return chain;
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
/// graph with time step `opt.dt` seconds; lossy mappings go to `opt.notes` when given.
template <class Net>
void write_nir(const std::filesystem::path& path, const Net& net, NirOptions opt = {}) {
  if (!(opt.dt > 0)) throw ConfigError("write_nir: dt must be positive");
  // layers that NIR cannot express (their NirLayer says why: any such layer, or these settings)
  // are refused before any file exists
  net.for_each_layer([&](const auto& l, std::size_t i) {
    using L = std::remove_cvref_t<decltype(l)>;
    const auto refuse = [&](const std::string& why) {
      throw ConfigError("write_nir: layer " + std::to_string(i) + " (" + l.signature() + ") has no NIR node: " + why);
    };
    if constexpr (requires { detail::NirLayer<L>::unsupported; }) refuse(detail::NirLayer<L>::unsupported);
    if constexpr (requires { detail::NirLayer<L>::refusal(l); })
      if (const std::string why = detail::NirLayer<L>::refusal(l); !why.empty()) refuse(why);
  });
  const std::filesystem::path tmp = detail::temporary_path(path);
  {
    detail::Hdf5Session session;
    detail::NirWriter w(tmp.string());
    detail::NirContext ctx;
    ctx.dt = opt.dt;
    ctx.notes = opt.notes;
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
    w.scalar(meta.get(), "dt", opt.dt);
    w.string(meta.get(), "generator", "spikelab " + version::as_string());
    w.string(meta.get(), "signature", net.signature());
    if (H5Fflush(file.get(), H5F_SCOPE_LOCAL) < 0) throw FileError(tmp.string(), -1, "HDF5 cannot flush the file");
  }
  detail::replace_with_temporary<FileError>(tmp, path);
}

/// Reads a sequential NIR graph into a new network of type Net (see the file comment).
template <class Net>
Net read_nir(const std::filesystem::path& path, NirReadOptions opt = {}) {
  const std::string p = path.string();
  detail::Hdf5Session session;
  const detail::H5Handle file = detail::nir_open_file(p);
  const detail::NirNode graph(p, file.get(), "node", "node");
  if (graph.type() != "NIRGraph") throw graph.error("the top node is a " + graph.type() + ", expected NIRGraph");
  detail::NirContext ctx;
  ctx.notes = opt.notes;
  ctx.dt = opt.dt > 0 ? opt.dt : 1e-3;
  if (!(opt.dt > 0) && graph.has("metadata/dt")) {
    const detail::NirNode meta(p, graph.get(), "metadata", "node/metadata");
    ctx.dt = meta.number("dt");
    if (!(ctx.dt > 0)) throw meta.error("dt must be positive");
  } else if (!(opt.dt > 0)) {
    ctx.note("node/metadata", "dt",
             "absent and not given in NirReadOptions: dt = 1 ms assumed (time constants become decays with it)");
  }
  const auto edges = graph.edges();
  const detail::NirNode nodes(p, graph.get(), "nodes", "node/nodes");
  const std::vector<std::string> chain = detail::nir_chain(graph, edges);
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
  const Index in_size = detail::nir_shape_size(in_shape);
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
