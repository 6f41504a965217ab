// NIR export/import (io/nir.hpp): round trips give identical outputs, the file follows the NIR
// layout (node types, parameter names, units), bad files and mismatched types raise clear errors,
// and an independent h5py script (nir_check.py) checks the file the way NIR's reader would.
#include <spikelab/io/nir.hpp>
#include <spikelab/spikelab.hpp>

#include "support/test_support.hpp"

#include <catch2/catch.hpp>

#include <cstdlib>
#include <fstream>

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
  sl::TimeSeries<S> x(in.size(), 3, 10);
  sl::Rng data(4);
  for (sl::Index k = 0; k < x.values().size(); ++k) x.values().data()[k] = S(data.bernoulli(0.3) ? 1 : 0);
  const auto a = run(net, x);
  const auto b = run(back, x);
  CHECK((a.array() != 0).any());
  CHECK(a == b);
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
  const std::string cmd = "/usr/bin/python3 " SPIKELAB_NIR_CHECK_SCRIPT " " + (dir / "mlp.nir").string() + " " +
                          (dir / "conv.nir").string();
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
    const auto batch = mts_batch<S>();
    const auto a = run(net, batch.input);
    CHECK((a.array() != 0).any());
    CHECK(a == run(back, batch.input));
    // the layout: a subgraph whose Delay node holds the delays in seconds
    sl::detail::Hdf5Session session;
    sl::detail::H5Handle f(H5Fopen(path.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT), H5Fclose);
    const sl::detail::NirNode graph(path, f.get(), "node", "node");
    const sl::detail::NirNode nodes(path, graph.get(), "nodes", "nodes");
    const sl::detail::NirNode sub(path, nodes.get(), "delay", "delay");
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
