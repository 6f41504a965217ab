// NIR export/import (io/nir.hpp): round trips give identical outputs, the file follows the NIR
// layout (node types, parameter names, units), bad files and mismatched types raise clear errors,
// and an independent h5py script (nir_check.py) checks the file the way NIR's reader would.
#include <spikelab/io/nir.hpp>
#include <spikelab/spikelab.hpp>

#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <limits>
#include <string>
#include <vector>

namespace sl = spikelab;

namespace {

template <class S>
using TrainedLif = sl::LifType<S, sl::FastSigmoid, sl::SubtractReset,
                               sl::LifOptions{.threshold = sl::Train::per_neuron, .beta = sl::Train::per_neuron}>;
template <class S>
using RLif = sl::LifType<S, sl::FastSigmoid, sl::SubtractReset,
                         sl::LifOptions{.beta = sl::Train::per_neuron, .recurrent = true}>;
template <class S>
using MlpNet = sl::Sequential<sl::Linear<S>, TrainedLif<S>, sl::Linear<S>, RLif<S>, sl::Linear<S>,
                              sl::LeakyIntegratorType<S, sl::Train::per_neuron>>;

template <class S>
MlpNet<S> make_mlp(sl::Rng& rng) {
  const sl::LifConfig lif{.beta = 0.9, .threshold = 1.0};
  return MlpNet<S>{sl::Linear<S>(40, 24, rng),
                   TrainedLif<S>(24, lif),
                   sl::Linear<S>(24, 16, rng, {.bias = false}),
                   RLif<S>(16, rng, {.beta = 0.85, .threshold = 0.8}),
                   sl::Linear<S>(16, 2, rng),
                   sl::LeakyIntegratorType<S, sl::Train::per_neuron>(2, {.beta = 0.8})};
}

/// A few Adam steps on MTS-XOR so that betas and thresholds differ per neuron.
template <class NetT>
void train_briefly(NetT& net) {
  using S = typename NetT::scalar_type;
  sl::MtsXorSource<S> data(64, 16, 3);
  sl::Trainer trainer(net, sl::Bptt<sl::StepCrossEntropy>{}, sl::Optimizer<S, sl::Adam>({.lr = 2e-2}));
  trainer.fit(data, 1);
}

template <class S>
sl::Batch<S> mts_batch() {
  sl::MtsXorSource<S> data(12, 12, 99, false);
  sl::Batch<S> b;
  data.start_epoch(0);
  data.next(b);
  return b;
}

template <class NetT>
sl::Matrix<typename NetT::scalar_type> run(NetT& net, const sl::TimeSeries<typename NetT::scalar_type>& x) {
  return net.forward(x, sl::ForwardContext::eval()).values();
}

std::string read_type(const std::string& file, const std::string& node) {
  sl::detail::Hdf5Session s;
  sl::detail::H5Handle f(H5Fopen(file.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  const sl::detail::NirNode n(file, f.get(), node, node);
  return n.type();
}

/// The top graph of a NIR file, open for reading its nodes while the object lives.
struct OpenNir {
  explicit OpenNir(std::string p)
      : path(std::move(p)),
        file(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose),
        graph(path, file.get(), "node", "node"),
        nodes(path, graph.get(), "nodes", "nodes") {}
  OpenNir(const OpenNir&) = delete;
  OpenNir& operator=(const OpenNir&) = delete;
  /// The top-level node `name`.
  sl::detail::NirNode node(const std::string& name) const { return {path, nodes.get(), name, name}; }

  sl::detail::Hdf5Session session;
  std::string path;
  sl::detail::H5Handle file;
  sl::detail::NirNode graph, nodes;
};

/// Checks that `net` and its read-back copy `back` compute the same non-zero output on `x`.
template <class NetT>
void check_same_outputs(NetT& net, NetT& back, const sl::TimeSeries<typename NetT::scalar_type>& x) {
  const auto a = run(net, x);
  CHECK((a.array() != 0).any());
  CHECK(a == run(back, x));
}

/// A NIR file written by hand, as another tool would: Input (shape `in`) named "input", the
/// nodes that `add(writer, nodes)` writes (it returns their names), Output (`out` elements) named
/// "output", the edges `edges_of(names)` gives, and metadata/dt = 1 ms when `with_dt`.
template <class F, class E>
void hand_file(const std::string& path, const std::vector<std::int64_t>& in, std::int64_t out, F add, E edges_of,
               bool with_dt) {
  sl::detail::Hdf5Session s;
  sl::detail::NirWriter w(path);
  const sl::detail::H5Handle file = w.create_file();
  const sl::detail::H5Handle node = w.node(file.get(), "node", "NIRGraph");
  const sl::detail::H5Handle nodes = w.group(node.get(), "nodes");
  w.io_node(nodes.get(), "input", "Input", in);
  const std::vector<std::string> names = add(w, nodes.get());
  w.io_node(nodes.get(), "output", "Output", {out});
  w.edges(node.get(), edges_of(names));
  if (with_dt) {
    const sl::detail::H5Handle meta = w.group(node.get(), "metadata");
    w.scalar(meta.get(), "dt", 1e-3);
  }
}

/// A chain written by hand: Input -> the nodes `add` writes, in the order of the names it
/// returns -> Output, with metadata/dt = 1 ms when `with_dt`.
template <class F>
void hand_nir(const std::string& path, const std::vector<std::int64_t>& in, std::int64_t out, F add,
              bool with_dt = true) {
  auto chain = [](const std::vector<std::string>& middle) {
    std::vector<std::string> names{"input"};
    names.insert(names.end(), middle.begin(), middle.end());
    names.push_back("output");
    std::vector<std::pair<std::string, std::string>> edges;
    for (std::size_t i = 0; i + 1 < names.size(); ++i) edges.emplace_back(names[i], names[i + 1]);
    return edges;
  };
  hand_file(path, in, out, add, chain, with_dt);
}

/// A (height, width) pooling parameter as NIR stores it.
void pool_pair(sl::detail::NirWriter& w, hid_t g, const char* key, std::int64_t a, std::int64_t b) {
  w.array(g, key, std::vector<std::int64_t>{a, b}, {2});
}

/// Whether /usr/bin/python3 with h5py and numpy runs the check scripts (else the test says so).
bool have_h5py() {
  if (std::system("/usr/bin/python3 -c 'import h5py, numpy' > /dev/null 2>&1") == 0) return true;
  WARN("SKIPPED: /usr/bin/python3 with h5py and numpy is not available");
  return false;
}

/// The dataset `name` of an HDF5 file as doubles with its dimensions.
sl::detail::NirArray read_dataset(const std::string& path, const std::string& name) {
  sl::detail::Hdf5Session s;
  const sl::detail::H5Handle f = sl::detail::h5_open_read_only(path);
  const sl::detail::H5Handle ds(H5Dopen2(f.get(), name.c_str(), H5P_DEFAULT), H5Dclose);
  REQUIRE(ds.valid());
  sl::detail::NirArray a;
  a.dims = *sl::detail::h5_dims(ds.get());
  hsize_t n = 1;
  for (hsize_t d : a.dims) n *= d;
  a.values.resize(std::size_t(n));
  REQUIRE(H5Dread(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, a.values.data()) >= 0);
  return a;
}

/// A T x F array (one sample) as a TimeSeries of F features, batch 1, T steps, and back.
template <class S>
sl::TimeSeries<S> steps_as_series(const sl::detail::NirArray& a) {
  const sl::Index T = sl::Index(a.dims[0]), F = sl::Index(a.dims[1]);
  sl::TimeSeries<S> x(F, 1, T);
  for (sl::Index t = 0; t < T; ++t)
    for (sl::Index f = 0; f < F; ++f) x.values()(f, t) = S(a.values[std::size_t(t * F + f)]);
  return x;
}
template <class M>
std::vector<double> series_as_steps(const M& y) {
  std::vector<double> v;
  for (sl::Index t = 0; t < y.cols(); ++t)
    for (sl::Index f = 0; f < y.rows(); ++f) v.push_back(double(y(f, t)));
  return v;
}

/// The largest absolute difference between the output `y` (features x steps, one sample) and
/// the expected T x F array.
template <class M>
double max_difference(const M& y, const sl::detail::NirArray& want) {
  REQUIRE(want.dims.size() == 2);
  REQUIRE(sl::Index(want.dims[0]) == y.cols());
  REQUIRE(sl::Index(want.dims[1]) == y.rows());
  const std::vector<double> got = series_as_steps(y);
  double d = 0;
  for (std::size_t k = 0; k < got.size(); ++k) d = std::max(d, std::abs(got[k] - want.values[k]));
  return d;
}

/// What nir_dialects.py check compares with: the input and spikelab's output (T x F, one
/// sample) and, for each neuron node (its path with '.' for '/'), beta, alpha and threshold.
struct SideFile {
  struct Params {
    std::string node;
    std::vector<double> beta, alpha, threshold;
  };
  template <class S, class M>
  static void write(const std::string& path, const sl::TimeSeries<S>& x, const M& y, const std::vector<Params>& ps) {
    sl::detail::Hdf5Session s;
    sl::detail::NirWriter w(path);
    const sl::detail::H5Handle f = w.create_file();
    w.array(f.get(), "input", series_as_steps(x.values()), {hsize_t(x.steps()), hsize_t(x.features())});
    w.array(f.get(), "output", series_as_steps(y), {hsize_t(y.cols()), hsize_t(y.rows())});
    const sl::detail::H5Handle g = w.group(f.get(), "params");
    for (const Params& p : ps) {
      const sl::detail::H5Handle n = w.group(g.get(), p.node);
      for (const auto& [key, v] : {std::pair{"beta", &p.beta}, std::pair{"alpha", &p.alpha},
                                   std::pair{"threshold", &p.threshold}})
        if (!v->empty()) w.array(n.get(), key, *v, {hsize_t(v->size())});
    }
  }
};
/// A LIF layer's parameters for SideFile (alpha only when it has a synaptic current).
template <class L>
SideFile::Params lif_params(const std::string& node, const L& l) {
  return {node, sl::detail::neuron_values(l.beta()),
          l.synaptic() ? sl::detail::neuron_values(l.alpha()) : std::vector<double>{},
          sl::detail::neuron_values(l.threshold())};
}

/// A NIR file written by hand with any edges: Input (shape `in`) named "input", the nodes that
/// `add(writer, nodes)` writes, Output (`out` elements) named "output".
template <class F>
void hand_graph(const std::string& path, const std::vector<std::int64_t>& in, std::int64_t out, F add,
                const std::vector<std::pair<std::string, std::string>>& edges) {
  hand_file(
      path, in, out,
      [&](sl::detail::NirWriter& w, hid_t g) {
        add(w, g);
        return std::vector<std::string>{};
      },
      [&](const std::vector<std::string>&) { return edges; }, false);
}

/// Random binary spikes of `features` x batch 3 x 10 steps.
template <class S>
sl::TimeSeries<S> random_spikes(sl::Index features, std::uint64_t seed) {
  sl::TimeSeries<S> x(features, 3, 10);
  sl::Rng data(seed);
  for (sl::Index k = 0; k < x.values().size(); ++k) x.values().data()[k] = S(data.bernoulli(0.3) ? 1 : 0);
  return x;
}

}  // namespace

TEMPLATE_TEST_CASE("NIR round trip of a trained recurrent network gives identical outputs", "", float, double) {
  using S = TestType;
  const auto dir = sl::test::temp_dir("nir-mlp");
  sl::Rng rng(5);
  auto net = make_mlp<S>(rng);
  train_briefly(net);
  // training moved the per-neuron parameters away from their initial values
  REQUIRE((net.template layer<1>().beta().raw().array() != S(0.9)).any());
  REQUIRE((net.template layer<1>().threshold().raw().array() != S(1.0)).any());
  const auto path = dir / "mlp.nir";
  sl::write_nir(path, net, {.dt = 1e-3});
  auto back = sl::read_nir<MlpNet<S>>(path);
  CHECK(back.signature() == net.signature());
  const auto batch = mts_batch<S>();
  const auto a = run(net, batch.input);
  const auto b = run(back, batch.input);
  REQUIRE(a.size() == b.size());
  CHECK((a.array() != 0).any());
  CHECK(a == b);  // bit-identical
  // the parameters themselves survive exactly
  CHECK(back.template layer<0>().weight() == net.template layer<0>().weight());
  CHECK(back.template layer<1>().beta().raw() == net.template layer<1>().beta().raw());
  CHECK(back.template layer<1>().threshold().raw() == net.template layer<1>().threshold().raw());
  CHECK(back.template layer<3>().recurrent_weight() == net.template layer<3>().recurrent_weight());
  CHECK(back.template layer<3>().beta().raw() == net.template layer<3>().beta().raw());
  CHECK(back.template layer<5>().beta().raw() == net.template layer<5>().beta().raw());
  std::filesystem::remove_all(dir);
}

TEST_CASE("NIR file follows the specification's node and parameter names and units") {
  const auto dir = sl::test::temp_dir("nir-layout");
  sl::Rng rng(2);
  auto net = make_mlp<float>(rng);
  const auto path = (dir / "layout.nir").string();
  sl::write_nir(path, net, {.dt = 2e-3});

  sl::detail::Hdf5Session session;
  sl::detail::H5Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
  REQUIRE(f.valid());
  REQUIRE(H5Lexists(f.get(), "version", H5P_DEFAULT) > 0);
  const sl::detail::NirNode graph(path, f.get(), "node", "node");
  CHECK(graph.type() == "NIRGraph");
  using Edge = std::pair<std::string, std::string>;
  const std::vector<Edge> expected{{"input", "affine"}, {"affine", "lif"},  {"lif", "linear"},
                                   {"linear", "rlif"},  {"rlif", "affine_1"}, {"affine_1", "li"}, {"li", "output"}};
  CHECK(graph.edges() == expected);
  const sl::detail::NirNode nodes(path, graph.get(), "nodes", "nodes");
  auto node = [&](const std::string& n) { return sl::detail::NirNode(path, nodes.get(), n, n); };

  CHECK(node("input").type() == "Input");
  CHECK(node("input").array("shape").values == std::vector<double>{40});
  CHECK(node("output").type() == "Output");
  CHECK(node("output").array("shape").values == std::vector<double>{2});

  const auto affine = node("affine");
  CHECK(affine.type() == "Affine");
  const auto w = affine.array("weight");
  CHECK(w.dims == std::vector<hsize_t>{24, 40});  // out x in, as torch / NIR
  CHECK(w.values[1] == Approx(net.layer<0>().weight()(0, 1)));
  CHECK(w.values[40] == Approx(net.layer<0>().weight()(1, 0)));
  CHECK(affine.array("bias").dims == std::vector<hsize_t>{24});
  CHECK(node("linear").type() == "Linear");
  CHECK_FALSE(node("linear").has("bias"));

  // LIF with beta = 0.9 at dt = 2 ms: tau = dt / (1 - beta) = 20 ms, r = tau / dt = 10
  const auto lif = node("lif");
  CHECK(lif.type() == "LIF");
  for (const char* key : {"tau", "r", "v_leak", "v_threshold", "v_reset"}) CHECK(lif.array(key).dims == std::vector<hsize_t>{24});
  CHECK(lif.vector("tau", 24)[0] == Approx(0.02).epsilon(1e-6));
  CHECK(lif.vector("r", 24)[0] == Approx(10.0).epsilon(1e-6));
  CHECK(lif.vector("v_threshold", 24)[3] == Approx(1.0));
  CHECK(lif.vector("v_leak", 24)[0] == 0.0);
  CHECK(lif.meta_string("reset", "") == "subtract");

  // the recurrent layer: a subgraph with the recurrent Linear loop
  const auto rlif = node("rlif");
  CHECK(rlif.type() == "NIRGraph");
  const std::vector<Edge> sub{{"input", "lif"}, {"lif", "w_rec"}, {"w_rec", "lif"}, {"lif", "output"}};
  CHECK(rlif.edges() == sub);
  const sl::detail::NirNode rnodes(path, rlif.get(), "nodes", "rlif/nodes");
  CHECK(sl::detail::NirNode(path, rnodes.get(), "w_rec", "w_rec").array("weight").dims == std::vector<hsize_t>{16, 16});
  CHECK(sl::detail::NirNode(path, rnodes.get(), "lif", "lif").vector("tau", 16)[0] == Approx(2e-3 / 0.15).epsilon(1e-6));

  // LI readout (beta 0.8, not normalised): tau = 10 ms, r = 5
  const auto li = node("li");
  CHECK(li.type() == "LI");
  CHECK(li.vector("tau", 2)[1] == Approx(0.01).epsilon(1e-6));
  CHECK(li.vector("r", 2)[1] == Approx(5.0).epsilon(1e-6));
  CHECK_FALSE(li.has("v_threshold"));

  const sl::detail::NirNode meta(path, graph.get(), "metadata", "metadata");
  CHECK(meta.number("dt") == 2e-3);
  std::filesystem::remove_all(dir);
}

TEST_CASE("NIR round trip of a convolutional network with a synaptic ZeroReset LIF") {
  using S = float;
  using Cuba = sl::LifType<S, sl::FastSigmoid, sl::ZeroReset>;
  using Net = sl::Sequential<sl::Conv2d<S>, sl::Lif<S>, sl::Flatten<S>, sl::Linear<S>, Cuba, sl::Linear<S>,
                             sl::LeakyIntegrator<S>>;
  const auto dir = sl::test::temp_dir("nir-conv");
  sl::Rng rng(8);
  const sl::ImageShape in{2, 9, 9};
  sl::Conv2d<S> conv(in, 4, rng, {.kernel = 3, .stride = 2, .padding = 1});
  const sl::ImageShape mid = conv.output_shape();
  Net net{conv,
          sl::Lif<S>(mid.size(), {.beta = 0.7, .threshold = 0.5}),
          sl::Flatten<S>(mid),
          sl::Linear<S>(mid.size(), 12, rng),
          Cuba(12, {.beta = 0.9, .alpha = 0.6, .threshold = 0.7}),
          sl::Linear<S>(12, 3, rng),
          sl::LeakyIntegrator<S>(3, {.beta = 0.95, .normalize = true})};
  const auto path = dir / "conv.nir";
  sl::write_nir(path, net);
  CHECK(read_type(path.string(), "node/nodes/conv2d") == "Conv2d");
  CHECK(read_type(path.string(), "node/nodes/flatten") == "Flatten");
  CHECK(read_type(path.string(), "node/nodes/cubalif") == "CubaLIF");
  auto back = sl::read_nir<Net>(path);
  CHECK(back.signature() == net.signature());
  check_same_outputs(net, back, random_spikes<S>(in.size(), 4));
  std::filesystem::remove_all(dir);
}

TEST_CASE("NIR reader rejects wrong files and mismatched network types clearly") {
  const auto dir = sl::test::temp_dir("nir-errors");
  sl::Rng rng(1);
  auto net = make_mlp<float>(rng);
  const auto path = dir / "net.nir";
  sl::write_nir(path, net);

  // a network type whose second layer uses another reset than the file
  using ZeroNet = sl::Sequential<sl::Linear<float>, sl::LifType<float, sl::FastSigmoid, sl::ZeroReset,
                                 sl::LifOptions{.threshold = sl::Train::per_neuron, .beta = sl::Train::per_neuron}>,
                                 sl::Linear<float>, RLif<float>, sl::Linear<float>,
                                 sl::LeakyIntegratorType<float, sl::Train::per_neuron>>;
  CHECK_THROWS_WITH(sl::read_nir<ZeroNet>(path), Catch::Contains("NIR node 'lif'") && Catch::Contains("subtract") &&
                                                     Catch::Contains("ZeroReset"));
  // fewer layers than nodes
  using Short = sl::Sequential<sl::Linear<float>, sl::Lif<float>>;
  CHECK_THROWS_WITH(sl::read_nir<Short>(path), Catch::Contains("6 nodes between Input and Output") &&
                                                   Catch::Contains("2 layers"));
  // a node type that does not match the layer
  using Swapped = sl::Sequential<sl::Linear<float>, sl::LeakyIntegrator<float>, sl::Linear<float>, RLif<float>,
                                 sl::Linear<float>, sl::LeakyIntegrator<float>>;
  CHECK_THROWS_WITH(sl::read_nir<Swapped>(path), Catch::Contains("NIR node 'lif': is a LIF node, expected LI"));
  // per-neuron betas into a per-layer parameter
  train_briefly(net);
  sl::write_nir(path, net);
  using PerLayer = sl::Sequential<sl::Linear<float>, sl::LifType<float, sl::FastSigmoid, sl::SubtractReset,
                                  sl::LifOptions{.threshold = sl::Train::per_neuron, .beta = sl::Train::per_layer}>,
                                  sl::Linear<float>, RLif<float>, sl::Linear<float>,
                                  sl::LeakyIntegratorType<float, sl::Train::per_neuron>>;
  CHECK_THROWS_WITH(sl::read_nir<PerLayer>(path), Catch::Contains("NIR node 'lif'") && Catch::Contains("per-layer"));

  // not a file, not HDF5, empty
  CHECK_THROWS_AS(sl::read_nir<MlpNet<float>>(dir / "missing.nir"), sl::FileError);
  { std::ofstream(dir / "text.nir") << "this is not an HDF5 file, just some text of a reasonable length\n"; }
  CHECK_THROWS_WITH(sl::read_nir<MlpNet<float>>(dir / "text.nir"), Catch::Contains("text.nir") && Catch::Contains("not an HDF5 file"));
  { std::ofstream(dir / "empty.nir"); }
  CHECK_THROWS_AS(sl::read_nir<MlpNet<float>>(dir / "empty.nir"), sl::FormatError);
  std::filesystem::remove_all(dir);
}

TEST_CASE("NIR export and import reject adaptive LIF layers, naming the layer, and write no file") {
  const auto dir = sl::test::temp_dir("nir-alif");
  sl::Rng rng(1);
  using AlifNet = sl::Sequential<sl::Linear<float>, sl::RecurrentAdaptiveLif<float>, sl::Linear<float>,
                                 sl::LeakyIntegrator<float>>;
  AlifNet alif{sl::Linear<float>(40, 8, rng), sl::RecurrentAdaptiveLif<float>(8, rng), sl::Linear<float>(8, 2, rng),
               sl::LeakyIntegrator<float>(2)};
  const auto path = dir / "alif.nir";
  CHECK_THROWS_WITH(sl::write_nir(path, alif), Catch::Contains("layer 1 (RecurrentAdaptiveLif<") &&
                                                   Catch::Contains("adaptive threshold"));
  CHECK(std::filesystem::is_empty(dir));  // neither the file nor a temporary
  // a LIF network's file read into a type whose second layer is adaptive
  auto net = make_mlp<float>(rng);
  sl::write_nir(path, net);
  using ReadAlif = sl::Sequential<sl::Linear<float>, sl::AdaptiveLif<float>, sl::Linear<float>, RLif<float>,
                                  sl::Linear<float>, sl::LeakyIntegratorType<float, sl::Train::per_neuron>>;
  CHECK_THROWS_WITH(sl::read_nir<ReadAlif>(path), Catch::Contains("NIR node 'lif'") && Catch::Contains("AdaptiveLif") &&
                                                      Catch::Contains("adaptive threshold"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("NIR file opens in h5py the way the nir package reads it") {
  if (std::system("/usr/bin/python3 -c 'import h5py, numpy' > /dev/null 2>&1") != 0) {
    WARN("SKIPPED: /usr/bin/python3 with h5py and numpy is not available");
    return;
  }
  const auto dir = sl::test::temp_dir("nir-python");
  sl::Rng rng(3);
  auto net = make_mlp<float>(rng);
  train_briefly(net);
  sl::write_nir(dir / "mlp.nir", net, {.dt = 1e-3});
  using Cuba = sl::LifType<float, sl::FastSigmoid, sl::ZeroReset>;
  using Net = sl::Sequential<sl::Conv2d<float>, sl::Lif<float>, sl::Flatten<float>, sl::Linear<float>, Cuba,
                             sl::LeakyIntegrator<float>>;
  sl::Conv2d<float> conv({1, 8, 8}, 3, rng, {.kernel = 3, .stride = 1, .padding = 0});
  Net conv_net{conv, sl::Lif<float>(conv.output_size()), sl::Flatten<float>(conv.output_shape()),
               sl::Linear<float>(conv.output_size(), 5, rng), Cuba(5, {.beta = 0.9, .alpha = 0.5}),
               sl::LeakyIntegrator<float>(5, {.beta = 0.9, .normalize = true})};
  sl::write_nir(dir / "conv.nir", conv_net, {.dt = 1e-4});
  // pooling (shapes inferred through the pooling nodes) and IF neurons (r = 1 / dt)
  using ZLif = sl::Lif<float, sl::FastSigmoid, sl::ZeroReset>;
  using PoolNet = sl::Sequential<sl::Conv2d<float>, ZLif, sl::AvgPool2d<float>, sl::SumPool2d<float>, ZLif,
                                 sl::Flatten<float>, sl::Linear<float>, sl::LeakyIntegrator<float>>;
  sl::Conv2d<float> pconv({1, 9, 9}, 2, rng, {.kernel = 3, .stride = 1, .padding = 1});
  sl::AvgPool2d<float> avg(pconv.output_shape(), {.kernel = 2});
  sl::SumPool2d<float> sum(avg.output_shape(), {.kernel = 3, .stride = 1, .padding = 1});
  PoolNet pool_net{pconv,
                   ZLif(pconv.output_size(), {.beta = 1.0}),
                   avg,
                   sum,
                   ZLif(sum.output_size()),
                   sl::Flatten<float>(sum.output_shape()),
                   sl::Linear<float>(sum.output_size(), 3, rng),
                   sl::LeakyIntegrator<float>(3)};
  sl::write_nir(dir / "pool.nir", pool_net, {.dt = 2e-3});
  const std::string cmd = "/usr/bin/python3 " SPIKELAB_NIR_CHECK_SCRIPT " " + (dir / "mlp.nir").string() + " " +
                          (dir / "conv.nir").string() + " " + (dir / "pool.nir").string();
  INFO(cmd);
  CHECK(std::system(cmd.c_str()) == 0);
  // the script really checks: a file with a misnamed parameter fails it
  {
    sl::detail::Hdf5Session s;
    const std::string p = (dir / "mlp.nir").string();
    sl::detail::H5Handle f(H5Fopen(p.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
    REQUIRE(H5Lmove(f.get(), "node/nodes/lif/v_threshold", f.get(), "node/nodes/lif/threshold", H5P_DEFAULT, H5P_DEFAULT) >= 0);
  }
  const std::string bad = "/usr/bin/python3 " SPIKELAB_NIR_CHECK_SCRIPT " " + (dir / "mlp.nir").string() + " > /dev/null 2>&1";
  CHECK(std::system(bad.c_str()) != 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("NIR round trip of integer delays (per connection and per input channel) through NIR's Delay node") {
  using S = float;
  using Net = sl::Sequential<sl::IntegerDelay<S>, sl::Lif<S>, sl::Linear<S>, sl::LeakyIntegrator<S>>;
  const auto dir = sl::test::temp_dir("nir-delay");
  for (bool per_channel : {false, true}) {
    sl::Rng rng(11);
    sl::LearnableDelay<S> trained(40, 12, rng, {.max_delay = 9, .sigma = 0.0, .per_channel = per_channel, .bias = per_channel});
    trained.weight() *= S(4);
    Net net{trained.round_delays(), sl::Lif<S>(12, {.beta = 0.9, .threshold = 1.0}), sl::Linear<S>(12, 2, rng),
            sl::LeakyIntegrator<S>(2, {.beta = 0.8})};
    const auto path = (dir / (per_channel ? "channel.nir" : "connection.nir")).string();
    sl::write_nir(path, net, {.dt = 1e-3});
    auto back = sl::read_nir<Net>(path);
    CHECK(back.signature() == net.signature());
    CHECK(back.layer<0>().delays() == net.layer<0>().delays());
    CHECK(back.layer<0>().weight() == net.layer<0>().weight());
    check_same_outputs(net, back, mts_batch<S>().input);
    // the layout: a subgraph whose Delay node holds the delays in seconds
    const OpenNir file(path);
    const sl::detail::NirNode sub = file.node("delay");
    CHECK(sub.type() == "NIRGraph");
    const sl::detail::NirNode inner(path, sub.get(), "nodes", "delay/nodes");
    const sl::detail::NirNode d(path, inner.get(), "delay", "delay/nodes/delay");
    CHECK(d.type() == "Delay");
    const std::size_t lanes = per_channel ? 40 : 40 * 12;
    const std::vector<double> tau = d.vector("delay", lanes);
    CHECK(tau[3] == Approx(1e-3 * double(net.layer<0>().delay(0, 3))));
    CHECK(tau[lanes - 1] == Approx(1e-3 * double(net.layer<0>().delay(11, 39))));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("NIR round trip of average and sum pooling through NIR's AvgPool2d and SumPool2d nodes") {
  using S = float;
  using ZLif = sl::Lif<S, sl::FastSigmoid, sl::ZeroReset>;
  using Net = sl::Sequential<sl::AvgPool2d<S>, sl::Conv2d<S>, ZLif, sl::SumPool2d<S>, ZLif, sl::Flatten<S>,
                             sl::Linear<S>, sl::LeakyIntegrator<S>>;
  const auto dir = sl::test::temp_dir("nir-pool");
  sl::Rng rng(21);
  const sl::ImageShape in{2, 12, 12};
  sl::AvgPool2d<S> avg(in, {.kernel = 2});
  sl::Conv2d<S> conv(avg.output_shape(), 4, rng, {.kernel = 3, .stride = 1, .padding = 1});
  conv.weight() *= S(3);
  sl::SumPool2d<S> sum(conv.output_shape(), {.kernel = 3, .stride = 2, .padding = 1});
  const sl::ImageShape pooled = sum.output_shape();
  REQUIRE(pooled == sl::ImageShape{4, 3, 3});
  Net net{avg,
          conv,
          ZLif(conv.output_size(), {.beta = 0.8, .threshold = 0.3}),
          sum,
          ZLif(pooled.size(), {.beta = 0.7, .threshold = 1.0}),
          sl::Flatten<S>(pooled),
          sl::Linear<S>(pooled.size(), 3, rng),
          sl::LeakyIntegrator<S>(3, {.beta = 0.9})};
  const auto path = (dir / "pool.nir").string();
  std::vector<sl::NirNote> notes;
  sl::write_nir(path, net, {.dt = 1e-3, .notes = &notes});
  CHECK(notes.empty());
  auto back = sl::read_nir<Net>(path, {.notes = &notes});
  CHECK(notes.empty());  // a clean round trip approximates nothing
  CHECK(back.signature() == net.signature());
  check_same_outputs(net, back, random_spikes<S>(in.size(), 6));
  CHECK(back.layer<3>().config().kernel == 3);
  CHECK(back.layer<3>().config().padding == 1);

  // the layout: kernel_size, stride and padding as (height, width) integers
  const OpenNir file(path);
  const sl::detail::NirNode ap = file.node("avgpool2d"), sp = file.node("sumpool2d");
  CHECK(ap.type() == "AvgPool2d");
  CHECK(sp.type() == "SumPool2d");
  CHECK(ap.array("kernel_size").values == std::vector<double>{2, 2});
  CHECK(ap.array("stride").values == std::vector<double>{2, 2});  // stride 0 (= kernel) written out
  CHECK(ap.array("padding").values == std::vector<double>{0, 0});
  CHECK(sp.array("kernel_size").dims == std::vector<hsize_t>{2});
  CHECK(sp.array("stride").values == std::vector<double>{2, 2});
  CHECK(sp.array("padding").values == std::vector<double>{1, 1});
  // the LIF after the sum pooling has the pooled image's shape
  CHECK(file.node("lif_1").array("tau").dims == std::vector<hsize_t>{4, 3, 3});
  std::filesystem::remove_all(dir);
}

TEST_CASE("NIR pooling node written by hand imports to the right layer, unrepresentable ones fail naming the node") {
  using S = double;
  const auto dir = sl::test::temp_dir("nir-pool-hand");
  const std::string path = (dir / "hand.nir").string();
  // Input 1 x 4 x 4 -> SumPool2d (2 x 2 windows, stride 2) -> Flatten -> Output 4
  auto pool_file = [&](const char* type, std::int64_t kh, std::int64_t kw, std::int64_t pad) {
    hand_nir(path, {1, 4, 4}, 4, [&](sl::detail::NirWriter& w, hid_t nodes) {
      {
        const sl::detail::H5Handle g = w.node(nodes, "pool", type);
        pool_pair(w, g.get(), "kernel_size", kh, kw);
        pool_pair(w, g.get(), "stride", 2, 2);
        pool_pair(w, g.get(), "padding", pad, pad);
      }
      const sl::detail::H5Handle fl = w.node(nodes, "flat", "Flatten");
      w.scalar(fl.get(), "start_dim", std::int64_t(0));
      w.scalar(fl.get(), "end_dim", std::int64_t(-1));
      return std::vector<std::string>{"pool", "flat"};
    });
  };
  using SumNet = sl::Sequential<sl::SumPool2d<S>, sl::Flatten<S>>;
  using AvgNet = sl::Sequential<sl::AvgPool2d<S>, sl::Flatten<S>>;
  pool_file("SumPool2d", 2, 2, 0);
  auto sum = sl::read_nir<SumNet>(path);
  CHECK(sum.layer<0>().config().kernel == 2);
  CHECK(sum.layer<0>().input_shape() == sl::ImageShape{1, 4, 4});
  CHECK(sum.layer<0>().output_shape() == sl::ImageShape{1, 2, 2});
  // x = 0, 1, ..., 15 row-major: the top-left window holds 0, 1, 4, 5
  sl::TimeSeries<S> x(16, 1, 1);
  for (sl::Index k = 0; k < 16; ++k) x.values()(k, 0) = S(k);
  const sl::Matrix<S> y = run(sum, x);
  CHECK(y(0, 0) == 0 + 1 + 4 + 5);
  CHECK(y(3, 0) == 10 + 11 + 14 + 15);
  pool_file("AvgPool2d", 2, 2, 0);
  auto avg = sl::read_nir<AvgNet>(path);
  CHECK(run(avg, x)(3, 0) == Approx((10 + 11 + 14 + 15) / 4.0));
  // a node of the other pooling, a non-square window, padding above half the window
  CHECK_THROWS_WITH(sl::read_nir<SumNet>(path),
                    Catch::Contains("NIR node 'pool'") && Catch::Contains("expected SumPool2d"));
  pool_file("SumPool2d", 2, 3, 0);
  CHECK_THROWS_WITH(sl::read_nir<SumNet>(path), Catch::Contains("NIR node 'pool'") && Catch::Contains("kernel_size"));
  pool_file("SumPool2d", 2, 2, 2);
  CHECK_THROWS_WITH(sl::read_nir<SumNet>(path), Catch::Contains("NIR node 'pool'") && Catch::Contains("padding"));
  // a pooling node on a flat input (no image shape anywhere)
  hand_nir(path, {16}, 4, [&](sl::detail::NirWriter& w, hid_t nodes) {
    const sl::detail::H5Handle g = w.node(nodes, "pool", "SumPool2d");
    pool_pair(w, g.get(), "kernel_size", 2, 2);
    pool_pair(w, g.get(), "stride", 2, 2);
    pool_pair(w, g.get(), "padding", 0, 0);
    return std::vector<std::string>{"pool"};
  });
  CHECK_THROWS_WITH(sl::read_nir<sl::Sequential<sl::SumPool2d<S>>>(path),
                    Catch::Contains("NIR node 'pool'") && Catch::Contains("not an image"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("NIR export refuses max pooling and scaled pooling, naming the layer, and writes no file") {
  using S = float;
  const auto dir = sl::test::temp_dir("nir-maxpool");
  sl::Rng rng(3);
  const sl::ImageShape in{1, 6, 6};
  using MaxNet = sl::Sequential<sl::Conv2d<S>, sl::Lif<S>, sl::MaxPool2d<S>, sl::Flatten<S>>;
  sl::Conv2d<S> conv(in, 2, rng, {.kernel = 3, .padding = 1});
  sl::MaxPool2d<S> max(conv.output_shape(), {.kernel = 2});
  MaxNet net{conv, sl::Lif<S>(conv.output_size()), max, sl::Flatten<S>(max.output_shape())};
  CHECK_THROWS_WITH(sl::write_nir(dir / "max.nir", net),
                    Catch::Contains("layer 2 (MaxPool2d(") && Catch::Contains("no max-pooling node"));
  using SumNet = sl::Sequential<sl::SumPool2d<S>, sl::Flatten<S>>;
  sl::SumPool2d<S> scaled(in, {.kernel = 2, .scale = 1.1});
  SumNet na{scaled, sl::Flatten<S>(scaled.output_shape())};
  CHECK_THROWS_WITH(sl::write_nir(dir / "scaled.nir", na),
                    Catch::Contains("layer 0 (SumPool2d(") && Catch::Contains("scale"));
  CHECK(std::filesystem::is_empty(dir));  // neither a file nor a temporary
  // reading into a MaxPool2d names the node
  SumNet plain{sl::SumPool2d<S>(in, {.kernel = 2}), sl::Flatten<S>(sl::ImageShape{1, 3, 3})};
  sl::write_nir(dir / "sum.nir", plain);
  CHECK_THROWS_WITH((sl::read_nir<sl::Sequential<sl::MaxPool2d<S>, sl::Flatten<S>>>(dir / "sum.nir")),
                    Catch::Contains("NIR node 'sumpool2d'") && Catch::Contains("MaxPool2d"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("NIR round trip of non-leaky LIF layers through NIR's IF node") {
  using S = double;
  using ZLif = sl::Lif<S, sl::FastSigmoid, sl::ZeroReset>;
  using ZRLif = sl::RecurrentLif<S, sl::FastSigmoid, sl::ZeroReset>;
  using Net = sl::Sequential<sl::Linear<S>, ZLif, sl::Linear<S>, ZRLif, sl::Linear<S>, sl::LeakyIntegrator<S>>;
  const auto dir = sl::test::temp_dir("nir-if");
  sl::Rng rng(17);
  Net net{sl::Linear<S>(40, 16, rng), ZLif(16, {.beta = 1.0, .threshold = 0.6}),
          sl::Linear<S>(16, 10, rng), ZRLif(10, rng, {.beta = 1.0, .threshold = 0.9}),
          sl::Linear<S>(10, 2, rng),  sl::LeakyIntegrator<S>(2, {.beta = 0.9})};
  const std::string path = (dir / "if.nir").string();
  std::vector<sl::NirNote> notes;
  sl::write_nir(path, net, {.dt = 5e-4, .notes = &notes});
  CHECK(notes.empty());
  auto back = sl::read_nir<Net>(path, {.notes = &notes});
  CHECK(notes.empty());
  CHECK(back.signature() == net.signature());
  CHECK((back.layer<1>().beta().values().array() == 1.0).all());
  CHECK((back.layer<3>().beta().values().array() == 1.0).all());
  check_same_outputs(net, back, mts_batch<S>().input);
  {
    // IF nodes: r = 1 / dt (1/s), v_threshold, v_reset = 0; no tau
    const OpenNir file(path);
    const sl::detail::NirNode n = file.node("if");
    CHECK(n.type() == "IF");
    CHECK(n.vector("r", 16)[5] == Approx(2000.0));
    CHECK(n.vector("v_threshold", 16)[0] == Approx(0.6));
    CHECK(n.vector("v_reset", 16)[0] == 0.0);
    CHECK_FALSE(n.has("tau"));
    const sl::detail::NirNode rlif = file.node("rlif");
    using Edge = std::pair<std::string, std::string>;
    CHECK(rlif.edges() == std::vector<Edge>{{"input", "if"}, {"if", "w_rec"}, {"w_rec", "if"}, {"if", "output"}});
  }
  // an IF written by a tool that uses r = 1 (gain 1 per step) reads with a note; any other r fails
  auto if_file = [&](double r) {
    hand_nir(path, {4}, 4, [&](sl::detail::NirWriter& w, hid_t nodes) {
      const sl::detail::H5Handle g = w.node(nodes, "neuron", "IF");
      w.array(g.get(), "r", std::vector<double>(4, r), {4});
      w.array(g.get(), "v_threshold", std::vector<double>{1, 1, 2, 2}, {4});
      return std::vector<std::string>{"neuron"};
    });
  };
  using IfNet = sl::Sequential<ZLif>;
  if_file(1.0);
  notes.clear();
  auto one = sl::read_nir<IfNet>(path, {.notes = &notes});
  CHECK(one.layer<0>().beta().values()[0] == 1.0);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].node == "neuron");
  CHECK(notes[0].field == "r");
  CHECK_THAT(notes[0].what, Catch::Contains("gain 1 per step"));
  if_file(1000.0);  // 1 / dt: exact
  notes.clear();
  sl::read_nir<IfNet>(path, {.notes = &notes});
  CHECK(notes.empty());
  if_file(3.0);
  CHECK_THROWS_WITH(sl::read_nir<IfNet>(path), Catch::Contains("NIR node 'neuron'") && Catch::Contains("r[0]"));
  // a layer type with a trained beta takes the IF's beta = 1 as it is (inside its range [0, 1], no clamping)
  using Bounded = sl::LifType<S, sl::FastSigmoid, sl::ZeroReset, sl::LifOptions{.beta = sl::Train::per_neuron}>;
  if_file(1000.0);
  CHECK(sl::read_nir<sl::Sequential<Bounded>>(path).layer<0>().beta().values()[3] == 1.0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("NIR notes report lossy mappings to the caller and stay empty for exact ones") {
  using S = float;
  const auto dir = sl::test::temp_dir("nir-notes");
  sl::Rng rng(5);
  auto net = make_mlp<S>(rng);  // SubtractReset neurons: NIR has no subtractive reset
  const auto path = (dir / "mlp.nir").string();
  std::vector<sl::NirNote> notes;
  sl::write_nir(path, net, {.notes = &notes});
  REQUIRE(notes.size() == 2);
  CHECK(notes[0].node == "lif");
  CHECK(notes[0].field == "v_reset");
  CHECK_THAT(notes[0].what, Catch::Contains("SubtractReset") && Catch::Contains("metadata/reset = 'subtract'"));
  CHECK(notes[1].node == "rlif/lif");
  // spikelab reads its own reset metadata back exactly: no note
  notes.clear();
  sl::read_nir<MlpNet<S>>(path, {.notes = &notes});
  CHECK(notes.empty());
  // the existing API without notes still works
  CHECK(sl::read_nir<MlpNet<S>>(path).signature() == net.signature());

  // a file without metadata/dt: 1 ms assumed, noted; not noted when the caller gives dt
  using ZLif = sl::Lif<S, sl::FastSigmoid, sl::ZeroReset>;
  auto lif_file = [&](double tau, double r, bool with_dt) {
    hand_nir(
        path, {3}, 3,
        [&](sl::detail::NirWriter& w, hid_t nodes) {
          const sl::detail::H5Handle g = w.node(nodes, "neuron", "LIF");
          w.array(g.get(), "tau", std::vector<double>(3, tau), {3});
          w.array(g.get(), "r", std::vector<double>(3, r), {3});
          w.array(g.get(), "v_leak", std::vector<double>(3, 0.0), {3});
          w.array(g.get(), "v_threshold", std::vector<double>(3, 1.0), {3});
          return std::vector<std::string>{"neuron"};
        },
        with_dt);
  };
  lif_file(0.01, 10.0, false);
  notes.clear();
  auto lif = sl::read_nir<sl::Sequential<ZLif>>(path, {.notes = &notes});
  CHECK(lif.layer<0>().beta().values()[0] == Approx(0.9));
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].node == "node/metadata");
  CHECK(notes[0].field == "dt");
  notes.clear();
  sl::read_nir<sl::Sequential<ZLif>>(path, {.dt = 1e-3, .notes = &notes});
  CHECK(notes.empty());
  // tau = inf with a finite r: NIR's neuron ignores its input, spikelab integrates it: noted
  lif_file(std::numeric_limits<double>::infinity(), 1.0, true);
  notes.clear();
  sl::read_nir<sl::Sequential<ZLif>>(path, {.notes = &notes});
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].node == "neuron");
  CHECK(notes[0].field == "r");
  // a CubaLIF without w_in (as older nir versions write it): the gain 1 assumed, noted
  hand_nir(path, {3}, 3, [&](sl::detail::NirWriter& w, hid_t nodes) {
    const sl::detail::H5Handle g = w.node(nodes, "neuron", "CubaLIF");
    w.array(g.get(), "tau_mem", std::vector<double>(3, 0.01), {3});
    w.array(g.get(), "tau_syn", std::vector<double>(3, 0.005), {3});
    w.array(g.get(), "r", std::vector<double>(3, 10.0), {3});
    w.array(g.get(), "v_leak", std::vector<double>(3, 0.0), {3});
    w.array(g.get(), "v_threshold", std::vector<double>(3, 1.0), {3});
    return std::vector<std::string>{"neuron"};
  });
  notes.clear();
  const auto cuba = sl::read_nir<sl::Sequential<ZLif>>(path, {.notes = &notes});
  CHECK(cuba.layer<0>().alpha().values()[0] == Approx(0.8));
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].field == "w_in");
  // a non-zero v_leak changes what the neuron computes: an error, not a note
  hand_nir(path, {3}, 3, [&](sl::detail::NirWriter& w, hid_t nodes) {
    const sl::detail::H5Handle g = w.node(nodes, "neuron", "LIF");
    for (const char* key : {"tau", "r", "v_leak", "v_threshold"})
      w.array(g.get(), key,
              std::vector<double>(3, std::string(key) == "tau" ? 0.01
                                     : std::string(key) == "r" ? 10.0
                                                               : 0.5),
              {3});
    return std::vector<std::string>{"neuron"};
  });
  CHECK_THROWS_WITH(sl::read_nir<sl::Sequential<ZLif>>(path),
                    Catch::Contains("NIR node 'neuron'") && Catch::Contains("v_leak"));
  // a Lif with beta = 1 for some neurons only: written with tau = inf, noted
  auto mixed_beta = sl::Vector<S>(3);
  mixed_beta << S(0.9), S(1), S(0.8);
  sl::LifType<S, sl::FastSigmoid, sl::ZeroReset, sl::LifOptions{.beta = sl::Train::per_neuron}> per(3, {.beta = 0.9});
  per.beta().set(mixed_beta);
  notes.clear();
  sl::write_nir(path, sl::Sequential<decltype(per)>{per}, {.notes = &notes});
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].field == "tau");
  std::filesystem::remove_all(dir);
}

namespace {

/// LIF layers with zero reset as snnTorch's and Norse's importers build them: per-neuron beta
/// (and threshold), the recurrent one with fixed parameters.
template <class S>
using PnLif = sl::LifType<S, sl::FastSigmoid, sl::ZeroReset, sl::LifOptions{.beta = sl::Train::per_neuron}>;
template <class S>
using PnLif2 = sl::LifType<S, sl::FastSigmoid, sl::ZeroReset,
                           sl::LifOptions{.threshold = sl::Train::per_neuron, .beta = sl::Train::per_neuron}>;
template <class S>
using ZRLif = sl::RecurrentLif<S, sl::FastSigmoid, sl::ZeroReset>;

/// Random binary spikes of `features` x one sample x `steps`.
template <class S>
sl::TimeSeries<S> one_sample_spikes(sl::Index features, sl::Index steps, std::uint64_t seed) {
  sl::TimeSeries<S> x(features, 1, steps);
  sl::Rng data(seed);
  for (sl::Index k = 0; k < x.values().size(); ++k) x.values().data()[k] = S(data.bernoulli(0.3) ? 1 : 0);
  return x;
}

/// Per-neuron decays drawn in [lo, hi).
template <class S>
sl::Vector<S> decays(sl::Index n, double lo, double hi, std::uint64_t seed) {
  sl::Rng r(seed);
  sl::Vector<S> v(n);
  for (sl::Index i = 0; i < n; ++i) v[i] = S(lo + (hi - lo) * r.uniform());
  return v;
}

/// The snnTorch-dialect test network: Linear, LIF, Linear (no bias), CubaLIF, Linear, recurrent
/// LIF, Linear, LIF, all resetting to zero, with per-neuron betas and one threshold per layer.
template <class S>
using SnnNet = sl::Sequential<sl::Linear<S>, PnLif<S>, sl::Linear<S>, PnLif<S>, sl::Linear<S>, ZRLif<S>,
                              sl::Linear<S>, PnLif<S>>;
template <class S>
SnnNet<S> make_snn_net(std::uint64_t seed) {
  sl::Rng rng(seed);
  SnnNet<S> net{sl::Linear<S>(40, 16, rng),
                PnLif<S>(16, {.beta = 0.9, .threshold = 0.5}),
                sl::Linear<S>(16, 12, rng, {.bias = false}),
                PnLif<S>(12, {.beta = 0.85, .alpha = 0.6, .threshold = 0.8}),
                sl::Linear<S>(12, 10, rng),
                ZRLif<S>(10, rng, {.beta = 0.9, .threshold = 0.7}),
                sl::Linear<S>(10, 3, rng),
                PnLif<S>(3, {.beta = 0.8, .threshold = 0.4})};
  net.template layer<0>().weight() *= S(3);
  net.template layer<2>().weight() *= S(3);
  net.template layer<4>().weight() *= S(3);
  net.template layer<6>().weight() *= S(3);
  net.template layer<1>().beta().set(decays<S>(16, 0.7, 0.95, seed + 1));
  net.template layer<3>().beta().set(decays<S>(12, 0.75, 0.95, seed + 2));
  net.template layer<7>().beta().set(decays<S>(3, 0.8, 0.95, seed + 3));
  return net;
}

/// The Norse-dialect test network: Linear, LIF, Linear, CubaLIF (per-neuron beta), Linear, IF
/// (a LIF with beta = 1), Linear, recurrent LIF, Linear, normalised LI.
template <class S>
using IfLif = sl::LifType<S, sl::FastSigmoid, sl::ZeroReset, sl::LifOptions{.threshold = sl::Train::per_neuron}>;
template <class S>
using NorseNet = sl::Sequential<sl::Linear<S>, sl::Lif<S, sl::FastSigmoid, sl::ZeroReset>, sl::Linear<S>, PnLif<S>,
                                sl::Linear<S>, IfLif<S>, sl::Linear<S>, ZRLif<S>, sl::Linear<S>, sl::LeakyIntegrator<S>>;
template <class S>
NorseNet<S> make_norse_net(std::uint64_t seed) {
  sl::Rng rng(seed);
  NorseNet<S> net{sl::Linear<S>(40, 16, rng),
                  sl::Lif<S, sl::FastSigmoid, sl::ZeroReset>(16, {.beta = 0.9, .threshold = 0.6}),
                  sl::Linear<S>(16, 12, rng),
                  PnLif<S>(12, {.beta = 0.85, .alpha = 0.7, .threshold = 0.9}),
                  sl::Linear<S>(12, 10, rng),
                  IfLif<S>(10, {.beta = 1.0, .threshold = 1.2}),
                  sl::Linear<S>(10, 8, rng),
                  ZRLif<S>(8, rng, {.beta = 0.8, .threshold = 0.5}),
                  sl::Linear<S>(8, 3, rng),
                  sl::LeakyIntegrator<S>(3, {.beta = 0.9, .normalize = true})};
  for (sl::Linear<S>* l : {&net.template layer<0>(), &net.template layer<2>(), &net.template layer<4>(),
                           &net.template layer<6>()})
    l->weight() *= S(3);
  net.template layer<3>().beta().set(decays<S>(12, 0.7, 0.95, seed + 1));
  net.template layer<5>().threshold().set(decays<S>(10, 0.8, 1.6, seed + 2));
  return net;
}

/// Multiplies the dataset `key` of a file by `factor` (a planted defect for the check scripts).
void scale_dataset(const std::string& path, const std::string& key, double factor) {
  const sl::detail::NirArray a = read_dataset(path, key);
  std::vector<double> v = a.values;
  for (double& x : v) x *= factor;
  sl::detail::Hdf5Session s;
  const sl::detail::H5Handle f(H5Fopen(path.c_str(), H5F_ACC_RDWR, H5P_DEFAULT), H5Fclose);
  const sl::detail::H5Handle ds(H5Dopen2(f.get(), key.c_str(), H5P_DEFAULT), H5Dclose);
  REQUIRE(H5Dwrite(ds.get(), H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v.data()) >= 0);
}

/// Parameters of a dialect round trip: bit-identical for float networks, within two units in the
/// last place for double ones (see check_round_trip_outputs).
template <class V>
void check_round_trip_values(const V& back, const V& original) {
  using S = typename V::Scalar;
  REQUIRE(back.size() == original.size());
  for (sl::Index i = 0; i < back.size(); ++i) {
    if constexpr (std::is_same_v<S, float>)
      CHECK(back[i] == original[i]);
    else
      CHECK(std::abs(back[i] - original[i]) <= 4.5e-16 * std::abs(original[i]));
  }
}

/// Outputs of a dialect round trip: bit-identical for float networks; for double ones the
/// decays and thresholds may come back one or two units in the last place off (tau = dt/(1-beta)
/// and the thresholds' gains are rounded twice), which moves the outputs by rounding only.
template <class M>
void check_round_trip_outputs(const M& a, const M& b) {
  using S = typename M::Scalar;
  REQUIRE(a.size() == b.size());
  CHECK((a.array() != 0).any());
  if constexpr (std::is_same_v<S, float>)
    CHECK(a == b);
  else
    CHECK((a - b).cwiseAbs().maxCoeff() <= 1e-12);
}

}  // namespace

TEST_CASE("NIR files written as snnTorch's and Norse's exporters write them read in their dialects") {
  if (!have_h5py()) return;
  using S = double;
  const auto dir = sl::test::temp_dir("nir-fixtures");
  const std::string cmd = "/usr/bin/python3 " SPIKELAB_NIR_DIALECTS_SCRIPT " write " + dir.string() + " > /dev/null";
  INFO(cmd);
  REQUIRE(std::system(cmd.c_str()) == 0);
  const auto file = [&](const char* n) { return (dir / n).string(); };
  std::vector<sl::NirNote> notes;
  double dt = 0;
  const auto snntorch = sl::NirDialect::snntorch, norse = sl::NirDialect::norse;

  // snnTorch: Linear -> Leaky -> Linear (no bias) -> Synaptic -> Linear -> Leaky, dt = 1e-4 s
  using SnnMlp = sl::Sequential<sl::Linear<S>, PnLif<S>, sl::Linear<S>, PnLif<S>, sl::Linear<S>, PnLif<S>>;
  auto mlp = sl::read_nir<SnnMlp>(file("snntorch_mlp.nir"), {.dialect = snntorch, .notes = &notes, .dt_used = &dt});
  CHECK(notes.empty());
  CHECK(dt == 1e-4);
  CHECK(mlp.layer<1>().beta().values()[2] == Approx(0.95).epsilon(1e-6));  // 1 - dt / tau
  CHECK(mlp.layer<1>().threshold().values()[4] == Approx(0.8));
  CHECK_FALSE(mlp.layer<2>().config().bias);
  CHECK(mlp.layer<3>().synaptic());
  CHECK(mlp.layer<3>().alpha().values()[1] == Approx(0.6).epsilon(1e-6));
  CHECK(mlp.layer<3>().beta().values()[3] == Approx(0.75).epsilon(1e-6));
  const std::string mlp_expected = file("snntorch_mlp.expected.h5");
  const auto mlp_out = run(mlp, steps_as_series<S>(read_dataset(mlp_expected, "input")));
  CHECK(mlp_out.sum() > 0);
  CHECK(max_difference(mlp_out, read_dataset(mlp_expected, "output")) == 0.0);  // the same spikes

  // snnTorch's RLeaky: the loop 1.lif <-> 1.w_rec drawn in the top graph
  using SnnRec = sl::Sequential<sl::Linear<S>, ZRLif<S>, sl::Linear<S>, PnLif<S>>;
  const std::string rec_file = file("snntorch_rleaky.nir"), rec_expected = file("snntorch_rleaky.expected.h5");
  notes.clear();
  auto rec = sl::read_nir<SnnRec>(rec_file, {.dialect = snntorch, .notes = &notes});
  CHECK(notes.empty());
  const auto w_rec = read_dataset(rec_file, "node/nodes/1.w_rec/weight");
  CHECK(rec.layer<1>().recurrent_weight()(2, 2) == w_rec.values[2 * 5 + 2]);
  CHECK(rec.layer<1>().recurrent_weight()(2, 3) == 0.0);
  const auto rx = steps_as_series<S>(read_dataset(rec_expected, "input"));
  CHECK(max_difference(run(rec, rx), read_dataset(rec_expected, "output")) == 0.0);
  // in the spikelab dialect the same file reads alike, its dt inferred from tau / r
  notes.clear();
  auto rec2 = sl::read_nir<SnnRec>(rec_file, {.notes = &notes, .dt_used = &dt});
  CHECK(dt == Approx(1e-4).epsilon(1e-6));
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].field == "dt");
  CHECK_THAT(notes[0].what, Catch::Contains("inferred from node '1.lif'") && Catch::Contains("0.0001"));
  CHECK(max_difference(run(rec2, rx), read_dataset(rec_expected, "output")) == 0.0);
  // a feed-forward layer type where the loop is: refused, naming the node and the projection
  using SnnFf = sl::Sequential<sl::Linear<S>, PnLif<S>, sl::Linear<S>, PnLif<S>>;
  CHECK_THROWS_WITH(sl::read_nir<SnnFf>(rec_file, {.dialect = snntorch}),
                    Catch::Contains("NIR node '1.lif'") && Catch::Contains("recurrent loop through '1.w_rec'"));

  // Norse: Linear -> LIFBoxCell -> Linear -> LIFCell (CubaLIF) -> Linear -> IAFCell -> Linear ->
  // LIBoxCell, r = w_in = 1, scalar parameters as 0-d arrays, no metadata/dt
  using NorseMlp = sl::Sequential<sl::Linear<S>, sl::Lif<S, sl::FastSigmoid, sl::ZeroReset>, sl::Linear<S>, PnLif2<S>,
                                  sl::Linear<S>, IfLif<S>, sl::Linear<S>, sl::LeakyIntegrator<S>>;
  const std::string nm_file = file("norse_mlp.nir"), nm_expected = file("norse_mlp.expected.h5");
  notes.clear();
  auto nm = sl::read_nir<NorseMlp>(nm_file, {.dialect = norse, .notes = &notes, .dt_used = &dt});
  CHECK(dt == 1e-3);
  REQUIRE(notes.size() == 1);
  CHECK(notes[0].field == "dt");
  CHECK_THAT(notes[0].what, Catch::Contains("Norse's from_nir default"));
  // LIFBoxCell(tau_mem_inv = 100 / s, v_th = 0.3): beta = 1 - dt / tau = 0.9 and, as the input
  // enters with gain dt / tau = 0.1, theta = 0.3 / 0.1 = 3; one neuron per feature
  CHECK(nm.layer<1>().output_size() == 5);
  CHECK(nm.layer<1>().beta().values()[4] == Approx(0.9).epsilon(1e-6));
  CHECK(nm.layer<1>().threshold().values()[0] == Approx(3.0).epsilon(1e-6));
  // LIFCell(tau_mem_inv = 100, tau_syn_inv = 200, v_th = 0.03): theta = 0.03 / (0.1 * 0.2) = 1.5
  CHECK(nm.layer<3>().alpha().values()[0] == Approx(0.8).epsilon(1e-6));
  CHECK(nm.layer<3>().threshold().values()[0] == Approx(1.5).epsilon(1e-6));
  CHECK(nm.layer<3>().threshold().values()[1] == Approx(0.03 / (0.12 * 0.2)).epsilon(1e-6));
  CHECK(nm.layer<5>().beta().values()[0] == 1.0);
  CHECK(nm.layer<5>().threshold().values()[1] == Approx(0.4));
  CHECK(nm.layer<7>().config().normalize);
  CHECK(nm.layer<7>().beta().values()[0] == Approx(0.95).epsilon(1e-6));
  const auto nm_out = run(nm, steps_as_series<S>(read_dataset(nm_expected, "input")));
  CHECK(max_difference(nm_out, read_dataset(nm_expected, "output")) <= 1e-9);  // LI membranes
  // the same file in the other dialects: snnTorch asserts r = tau_mem / dt for a CubaLIF, the
  // spikelab dialect wants r = tau / dt
  CHECK_THROWS_WITH(sl::read_nir<NorseMlp>(nm_file, {.dialect = snntorch}),
                    Catch::Contains("NIR node '_3'") && Catch::Contains("tau_mem/dt"));
  CHECK_THROWS_WITH(sl::read_nir<NorseMlp>(nm_file), Catch::Contains("NIR node '_1'") && Catch::Contains("is not tau/dt"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("NIR files in the snntorch and norse dialects are read by an h5py transcription of the importers") {
  if (!have_h5py()) return;
  using S = double;
  const auto dir = sl::test::temp_dir("nir-dialect-check");
  // runs the check; returns its exit status and what it printed
  const auto check = [&](const char* tool, const std::string& nir, const std::string& side) {
    const std::string log = (dir / "check.log").string();
    const std::string cmd = "/usr/bin/python3 " SPIKELAB_NIR_DIALECTS_SCRIPT " check " + std::string(tool) + " " + nir +
                            " " + side + " > " + log + " 2>&1";
    const int rc = std::system(cmd.c_str());
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return std::pair{rc, text};
  };
  std::vector<sl::NirNote> notes;

  auto snn = make_snn_net<S>(41);
  const auto x = one_sample_spikes<S>(40, 30, 7);
  const auto y = run(snn, x);
  REQUIRE(y.sum() > 0);
  const std::string snn_file = (dir / "snn.nir").string(), snn_side = (dir / "snn.side.h5").string();
  sl::write_nir(snn_file, snn, {.dialect = sl::NirDialect::snntorch, .notes = &notes});
  CHECK(notes.empty());
  CHECK(read_dataset(snn_file, "node/metadata/dt").values[0] == 1e-4);
  SideFile::write(snn_side, x, y,
                  {lif_params("lif", snn.layer<1>()), lif_params("cubalif", snn.layer<3>()),
                   lif_params("rlif.lif", snn.layer<5>()), lif_params("lif_1", snn.layer<7>())});
  {
    const auto [rc, out] = check("snntorch", snn_file, snn_side);
    INFO(out);
    CHECK(rc == 0);
  }

  auto norse = make_norse_net<S>(43);
  const auto z = run(norse, x);
  const std::string norse_file = (dir / "norse.nir").string(), norse_side = (dir / "norse.side.h5").string();
  sl::write_nir(norse_file, norse, {.dialect = sl::NirDialect::norse, .dt = 2e-3, .notes = &notes});
  REQUIRE(notes.size() == 1);  // Norse must be told the dt
  CHECK(notes[0].field == "dt");
  CHECK_THAT(notes[0].what, Catch::Contains("from_nir(graph, dt=0.002)"));
  const sl::Vector<S> li_beta = norse.layer<9>().beta().values();
  SideFile::write(norse_side, x, z,
                  {lif_params("lif", norse.layer<1>()), lif_params("cubalif", norse.layer<3>()),
                   lif_params("if", norse.layer<5>()), lif_params("rlif.lif", norse.layer<7>()),
                   SideFile::Params{"li", std::vector<double>(li_beta.data(), li_beta.data() + li_beta.size()), {}, {}}});
  {
    const auto [rc, out] = check("norse", norse_file, norse_side);
    INFO(out);
    CHECK(rc == 0);
  }

  // the check reads what it should: each file read in the other tool's way fails, and so does a
  // file with a changed time constant or threshold, each for its reason
  const auto fails_with = [&](const char* tool, const std::string& nir, const std::string& side, const char* why) {
    const auto [rc, out] = check(tool, nir, side);
    INFO(out);
    CHECK(rc != 0);
    CHECK_THAT(out, Catch::Contains(why));
  };
  // Norse ignores r of a LIF, so the snnTorch file's LIF threshold means another one to Norse
  fails_with("norse", snn_file, snn_side, "lif: norse's importer derives threshold");
  // snnTorch asserts r = tau_mem / dt of a CubaLIF; Norse's file has r = 1
  fails_with("snntorch", norse_file, norse_side, "r not supported in CubaLIF");
  scale_dataset(snn_file, "node/nodes/lif/tau", 1.5);
  fails_with("snntorch", snn_file, snn_side, "lif: snntorch's importer derives beta");
  scale_dataset(norse_file, "node/nodes/cubalif/v_threshold", 1.1);
  fails_with("norse", norse_file, norse_side, "cubalif: norse's importer derives threshold");
  std::filesystem::remove_all(dir);
}

TEMPLATE_TEST_CASE("NIR round trip through the snntorch and norse dialects gives the same outputs", "", float, double) {
  using S = TestType;
  const auto dir = sl::test::temp_dir("nir-dialect-trip");
  std::vector<sl::NirNote> notes;
  const auto x = one_sample_spikes<S>(40, 30, 9);

  auto snn = make_snn_net<S>(51);
  const std::string snn_file = (dir / "snn.nir").string();
  sl::write_nir(snn_file, snn, {.dialect = sl::NirDialect::snntorch, .notes = &notes});
  double dt = 0;
  auto snn_back = sl::read_nir<SnnNet<S>>(snn_file, {.dialect = sl::NirDialect::snntorch, .notes = &notes, .dt_used = &dt});
  CHECK(notes.empty());
  CHECK(dt == 1e-4);
  check_round_trip_outputs(run(snn, x), run(snn_back, x));
  CHECK(snn_back.template layer<0>().weight() == snn.template layer<0>().weight());
  CHECK(snn_back.template layer<5>().recurrent_weight() == snn.template layer<5>().recurrent_weight());
  CHECK(snn_back.template layer<1>().threshold().values() == snn.template layer<1>().threshold().values());

  auto norse = make_norse_net<S>(53);
  const std::string norse_file = (dir / "norse.nir").string();
  sl::write_nir(norse_file, norse, {.dialect = sl::NirDialect::norse, .notes = &notes});
  CHECK(notes.empty());  // dt = 1 ms, Norse's default
  auto norse_back = sl::read_nir<NorseNet<S>>(norse_file, {.dialect = sl::NirDialect::norse, .notes = &notes});
  CHECK(notes.empty());
  check_round_trip_outputs(run(norse, x), run(norse_back, x));
  check_round_trip_values(norse_back.template layer<3>().beta().values(), norse.template layer<3>().beta().values());
  check_round_trip_values(norse_back.template layer<3>().threshold().values(), norse.template layer<3>().threshold().values());
  check_round_trip_values(norse_back.template layer<5>().threshold().values(), norse.template layer<5>().threshold().values());
  check_round_trip_values(snn_back.template layer<3>().beta().values(), snn.template layer<3>().beta().values());
  check_round_trip_values(snn_back.template layer<3>().alpha().values(), snn.template layer<3>().alpha().values());
  {
    // the threshold in the file carries Norse's input gain: theta (dt / tau_mem) (dt / tau_syn)
    const OpenNir file(norse_file);
    const double beta0 = double(norse.template layer<3>().beta().values()[0]), alpha = 0.7;
    CHECK(file.node("cubalif").vector("v_threshold", 12)[0] == Approx(0.9 * (1 - beta0) * (1 - alpha)).epsilon(1e-6));
    CHECK(file.node("cubalif").vector("r", 12)[0] == 1.0);
    CHECK(file.node("cubalif").vector("w_in", 12)[0] == 1.0);
    CHECK(file.node("lif").vector("v_threshold", 16)[0] == Approx(0.6 * 0.1).epsilon(1e-6));
    CHECK(file.node("if").vector("r", 10)[0] == 1.0);
    CHECK(file.node("li").vector("r", 3)[0] == 1.0);
    CHECK(file.graph.meta_string("dialect", "") == "norse");
  }
  // a norse file read in the spikelab dialect: its metadata names the dialect (a note), and its
  // LIF's r = 1 is not spikelab's tau / dt
  notes.clear();
  CHECK_THROWS_WITH(sl::read_nir<NorseNet<S>>(norse_file, {.notes = &notes}),
                    Catch::Contains("NIR node 'lif'") && Catch::Contains("is not tau/dt"));
  REQUIRE_FALSE(notes.empty());
  CHECK(notes[0].field == "dialect");
  std::filesystem::remove_all(dir);
}

TEST_CASE("NIR dialects refuse what snnTorch's or Norse's importer cannot read, naming the layer or node") {
  using S = float;
  const auto dir = sl::test::temp_dir("nir-dialect-refuse");
  const auto path = dir / "x.nir";
  const auto snntorch = sl::NirDialect::snntorch, norse = sl::NirDialect::norse;
  sl::Rng rng(3);
  using ZLif = sl::Lif<S, sl::FastSigmoid, sl::ZeroReset>;
  // a subtractive reset: both tools reset to zero
  sl::Sequential<sl::Linear<S>, sl::Lif<S>> sub{sl::Linear<S>(4, 3, rng), sl::Lif<S>(3)};
  for (const auto d : {snntorch, norse})
    CHECK_THROWS_WITH(sl::write_nir(path, sub, {.dialect = d}),
                      Catch::Contains("layer 1 (") && Catch::Contains("dialect") && Catch::Contains("SubtractReset"));
  // snnTorch: no leak (read as a Leaky with beta 0.9), per-neuron thresholds, LI, dt other than 1e-4
  sl::Sequential<sl::Linear<S>, ZLif> no_leak{sl::Linear<S>(4, 3, rng), ZLif(3, {.beta = 1.0})};
  CHECK_THROWS_WITH(sl::write_nir(path, no_leak, {.dialect = snntorch}),
                    Catch::Contains("layer 1 (") && Catch::Contains("snntorch dialect") && Catch::Contains("beta = 0.9"));
  sl::Sequential<sl::Linear<S>, PnLif2<S>> thresholds{sl::Linear<S>(4, 3, rng), PnLif2<S>(3)};
  sl::Vector<S> th(3);
  th << S(1), S(0.5), S(1);
  thresholds.layer<1>().threshold().set(th);
  CHECK_THROWS_WITH(sl::write_nir(path, thresholds, {.dialect = snntorch}),
                    Catch::Contains("layer 1 (") && Catch::Contains("one v_threshold per layer"));
  sl::Sequential<sl::Linear<S>, sl::LeakyIntegrator<S>> li{sl::Linear<S>(4, 3, rng), sl::LeakyIntegrator<S>(3)};
  CHECK_THROWS_WITH(sl::write_nir(path, li, {.dialect = snntorch}),
                    Catch::Contains("layer 1 (LeakyIntegrator") && Catch::Contains("LI node"));
  sl::Sequential<sl::Linear<S>, ZLif> plain{sl::Linear<S>(4, 3, rng), ZLif(3)};
  CHECK_THROWS_WITH(sl::write_nir(path, plain, {.dialect = snntorch, .dt = 1e-3}), Catch::Contains("1e-4"));
  CHECK_THROWS_AS(sl::write_nir(path, plain, {.dt = -1.0}), sl::ConfigError);
  // Norse: an LI that is not normalised (Norse ignores r), a layer with beta = 1 for some neurons
  CHECK_THROWS_WITH(sl::write_nir(path, li, {.dialect = norse}),
                    Catch::Contains("layer 1 (LeakyIntegrator") && Catch::Contains("normalize = true"));
  sl::Sequential<sl::Linear<S>, PnLif<S>> mixed{sl::Linear<S>(4, 3, rng), PnLif<S>(3)};
  sl::Vector<S> b(3);
  b << S(0.9), S(1), S(0.8);
  mixed.layer<1>().beta().set(b);
  CHECK_THROWS_WITH(sl::write_nir(path, mixed, {.dialect = norse}),
                    Catch::Contains("layer 1 (") && Catch::Contains("tau = inf"));
  // both: a padded sum pooling (nirtorch's LPPool2d has no padding), integer delays
  sl::Sequential<sl::SumPool2d<S>, sl::Flatten<S>> pool{sl::SumPool2d<S>({1, 4, 4}, {.kernel = 3, .stride = 1, .padding = 1}),
                                                        sl::Flatten<S>(sl::ImageShape{1, 4, 4})};
  for (const auto d : {snntorch, norse})
    CHECK_THROWS_WITH(sl::write_nir(path, pool, {.dialect = d}),
                      Catch::Contains("layer 0 (SumPool2d") && Catch::Contains("padding"));
  sl::LearnableDelay<S> ld(4, 3, rng, {.max_delay = 3, .sigma = 0.0});
  sl::Sequential<sl::IntegerDelay<S>, ZLif> delay{ld.round_delays(), ZLif(3)};
  for (const auto d : {snntorch, norse})
    CHECK_THROWS_WITH(sl::write_nir(path, delay, {.dialect = d}),
                      Catch::Contains("layer 0 (") && Catch::Contains("Delay node"));
  CHECK(std::filesystem::is_empty(dir));  // no file, no temporary
  // what each dialect can write, it writes
  sl::write_nir(path, no_leak, {.dialect = norse});
  CHECK(read_type(path.string(), "node/nodes/if") == "IF");
  sl::write_nir(path, pool, {});
  std::filesystem::remove(path);

  // reading: nodes outside the dialect name the node
  const std::string p = path.string();
  auto neuron_file = [&](const char* type, std::vector<std::pair<std::string, double>> fields, bool with_dt = true) {
    hand_nir(
        p, {3}, 3,
        [&](sl::detail::NirWriter& w, hid_t nodes) {
          const sl::detail::H5Handle g = w.node(nodes, "neuron", type);
          for (const auto& [key, v] : fields) w.array(g.get(), key, std::vector<double>(3, v), {3});
          return std::vector<std::string>{"neuron"};
        },
        with_dt);
  };
  using Z = sl::Sequential<ZLif>;
  neuron_file("IF", {{"r", 1.0}, {"v_threshold", 1.0}});
  CHECK_THROWS_WITH(sl::read_nir<Z>(p, {.dialect = snntorch}),
                    Catch::Contains("NIR node 'neuron'") && Catch::Contains("beta = 0.9"));
  CHECK(sl::read_nir<Z>(p, {.dialect = norse}).layer<0>().beta().values()[0] == 1.0);
  CHECK_THROWS_AS(sl::read_nir<Z>(p, {.dialect = snntorch, .dt = 1e-3}), sl::ConfigError);
  neuron_file("LI", {{"tau", 0.01}, {"r", 1.0}, {"v_leak", 0.0}});
  CHECK_THROWS_WITH(sl::read_nir<sl::Sequential<sl::LeakyIntegrator<S>>>(p, {.dialect = snntorch}),
                    Catch::Contains("NIR node 'neuron'") && Catch::Contains("LI node"));
  // Norse: tau = inf gives no input; an ignored r or v_reset is noted
  neuron_file("LIF", {{"tau", std::numeric_limits<double>::infinity()}, {"r", 1.0}, {"v_leak", 0.0}, {"v_threshold", 0.1}});
  CHECK_THROWS_WITH(sl::read_nir<Z>(p, {.dialect = norse}), Catch::Contains("NIR node 'neuron'") && Catch::Contains("tau[0]"));
  neuron_file("LIF", {{"tau", 0.01}, {"r", 10.0}, {"v_leak", 0.0}, {"v_threshold", 0.1}, {"v_reset", 0.5}});
  std::vector<sl::NirNote> notes;
  const auto lif = sl::read_nir<Z>(p, {.dialect = norse, .notes = &notes});
  CHECK(lif.layer<0>().threshold().values()[0] == Approx(1.0));  // 0.1 / (dt / tau)
  REQUIRE(notes.size() == 2);
  CHECK(notes[0].field == "r");
  CHECK(notes[1].field == "v_reset");
  // snnTorch: an input scale r dt / tau other than 1 divides the threshold (hack_w_scale)
  neuron_file("LIF", {{"tau", 1e-3}, {"r", 20.0}, {"v_leak", 0.0}, {"v_threshold", 1.0}}, false);
  notes.clear();
  const auto hack = sl::read_nir<Z>(p, {.dialect = snntorch, .notes = &notes});
  CHECK(hack.layer<0>().threshold().values()[0] == Approx(0.5));  // 1 / (20 * 1e-4 / 1e-3)
  CHECK(hack.layer<0>().beta().values()[0] == Approx(0.9));
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0].what, Catch::Contains("hack_w_scale"));
  // a network type with another reset than the tool's
  CHECK_THROWS_WITH(sl::read_nir<sl::Sequential<sl::Lif<S>>>(p, {.dialect = snntorch}),
                    Catch::Contains("NIR node 'neuron'") && Catch::Contains("resets to zero"));
  std::filesystem::remove_all(dir);
}

TEST_CASE("NIR reader rejects skip connections and branches, naming the node") {
  using S = float;
  const auto dir = sl::test::temp_dir("nir-skip");
  const std::string p = (dir / "skip.nir").string();
  const auto add = [](sl::detail::NirWriter& w, hid_t nodes) {
    for (const char* name : {"a", "c"}) {
      const sl::detail::H5Handle g = w.node(nodes, name, "Linear");
      w.array(g.get(), "weight", std::vector<double>(16, 0.5), {4, 4});
    }
    const sl::detail::H5Handle g = w.node(nodes, "b", "LIF");
    for (const auto& [key, v] : {std::pair{"tau", 0.01}, std::pair{"r", 10.0}, std::pair{"v_leak", 0.0},
                                 std::pair{"v_threshold", 1.0}})
      w.array(g.get(), key, std::vector<double>(4, v), {4});
  };
  using Net = sl::Sequential<sl::Linear<S>, sl::Lif<S, sl::FastSigmoid, sl::ZeroReset>, sl::Linear<S>>;
  // input -> a -> b -> c -> output, and a -> c: c has two inputs
  hand_graph(p, {4}, 4, add, {{"input", "a"}, {"a", "b"}, {"b", "c"}, {"c", "output"}, {"a", "c"}});
  CHECK_THROWS_WITH(sl::read_nir<Net>(p), Catch::Contains("skip.nir") && Catch::Contains("node 'c' has 2 inputs ('b', 'a')") &&
                                              Catch::Contains("skip connection"));
  // input -> a -> b -> output and a -> c: a branch at a
  hand_graph(p, {4}, 4, add, {{"input", "a"}, {"a", "b"}, {"b", "output"}, {"a", "c"}});
  CHECK_THROWS_WITH(sl::read_nir<Net>(p), Catch::Contains("node 'a' has 2 successors ('b', 'c')"));
  // a loop b -> c -> b whose projection also feeds the output is no recurrent layer
  hand_graph(p, {4}, 4, add, {{"input", "a"}, {"a", "b"}, {"b", "c"}, {"c", "b"}, {"c", "output"}});
  CHECK_THROWS_WITH(sl::read_nir<Net>(p), Catch::Contains("node 'b' has 2 inputs"));
  // a loop b -> w -> b drawn in the graph is a recurrent layer; an Affine w with a bias is refused
  using RNet = sl::Sequential<sl::Linear<S>, ZRLif<S>, sl::Linear<S>>;
  for (const double bias : {0.5, 0.0}) {
    hand_graph(
        p, {4}, 4,
        [&](sl::detail::NirWriter& w, hid_t nodes) {
          add(w, nodes);
          const sl::detail::H5Handle g = w.node(nodes, "w", "Affine");
          w.array(g.get(), "weight", std::vector<double>(16, 0.25), {4, 4});
          w.array(g.get(), "bias", std::vector<double>(4, bias), {4});
        },
        {{"input", "a"}, {"a", "b"}, {"b", "w"}, {"w", "b"}, {"b", "c"}, {"c", "output"}});
    if (bias != 0.0) {
      CHECK_THROWS_WITH(sl::read_nir<RNet>(p), Catch::Contains("NIR node 'w'") && Catch::Contains("bias"));
    } else {
      const auto r = sl::read_nir<RNet>(p);
      CHECK(r.layer<1>().recurrent_weight()(1, 3) == 0.25f);
    }
  }
  // the chain itself reads
  hand_graph(p, {4}, 4, add, {{"c", "output"}, {"input", "a"}, {"b", "c"}, {"a", "b"}});
  std::vector<sl::NirNote> notes;
  double dt = 0;
  const auto net = sl::read_nir<Net>(p, {.notes = &notes, .dt_used = &dt});
  CHECK(dt == Approx(1e-3));  // inferred from tau / r of 'b'
  CHECK(net.layer<1>().beta().values()[0] == Approx(0.9));
  REQUIRE(notes.size() == 1);
  CHECK_THAT(notes[0].what, Catch::Contains("inferred from node 'b'"));
  std::filesystem::remove_all(dir);
}
