// Adaptive LIF neurons (ALIF): a neuron worked out by hand, beta_a = 0 against LifType, step-by-step
// simulation against the sequence forward, BPTT against central finite differences on the smooth
// twin in double (inputs, theta_0, beta, rho, beta_a, recurrent weights), serialisation, bad configs.
#include <spikelab/layers/linear.hpp>
#include <spikelab/losses/cross_entropy.hpp>
#include <spikelab/networks/sequential.hpp>
#include <spikelab/neurons/adaptive_lif.hpp>
#include <spikelab/neurons/concepts.hpp>
#include <spikelab/neurons/leaky_integrator.hpp>
#include <spikelab/neurons/lif.hpp>
#include <spikelab/testing/gradient_check.hpp>

#include "support/test_support.hpp"

#include <cereal/archives/json.hpp>

#include <sstream>
#include <vector>

using namespace spikelab;

static_assert(NeuronModel<AdaptiveLif<float>> && NeuronModel<RecurrentAdaptiveLif<double>>);
static_assert(SpikingNeuronLayer<AdaptiveLif<float>> && ParametricLayer<RecurrentAdaptiveLif<float>>);

TEST_CASE("A 1-neuron ALIF: the threshold after known spikes follows a_t = rho a_{t-1} + s_{t-1}", "[alif][hand]") {
  // beta = 0 and no reset: v_t = x_t = 1.2 at every step, so a LIF neuron with theta 1 fires at every
  // step. With rho = 0.5, beta_a = 0.25: a = 0, 1, 0.5, 1.25, 0.625, 1.3125, ...,
  // theta_t = 1 + a_t / 4 = 1, 1.25, 1.125, 1.3125, 1.15625, 1.328125: the neuron fires every other step.
  AdaptiveLifType<double, FastSigmoid, NoReset> alif(1, {.beta = 0.0, .threshold = 1.0, .rho = 0.5, .adaptation = 0.25});
  TimeSeries<double> x(1, 1, 6), s;
  x.values().setConstant(1.2);
  Rng rng(1);
  alif.forward(x, s, ForwardContext::train(rng));
  const double a[] = {0, 1, 0.5, 1.25, 0.625, 1.3125};
  const double spikes[] = {1, 0, 1, 0, 1, 0};
  for (int t = 0; t < 6; ++t) {
    INFO("step " << t);
    CHECK(alif.adaptation_trace()(0, 0, t) == Approx(a[t]).margin(1e-15));
    CHECK(alif.membrane()(0, 0, t) == Approx(1.2).margin(1e-15));
    CHECK(s(0, 0, t) == spikes[t]);
  }
  // With SubtractReset the reset takes theta_0 (not theta_t) off: v_1 = 1.2 - 1 (s_0 = 1) = 0.2.
  AdaptiveLifType<double> sub(1, {.beta = 0.0, .threshold = 1.0, .rho = 0.5, .adaptation = 0.25});
  sub.forward(x, s, ForwardContext::train(rng));
  CHECK(sub.membrane()(0, 0, 1) == Approx(0.2).margin(1e-15));
}

TEST_CASE("With beta_a = 0 an ALIF layer is LifType exactly, forward and backward", "[alif][lif]") {
  Rng rng(7);
  constexpr AdaptiveLifOptions ao{.threshold = Train::per_neuron, .beta = Train::per_neuron, .recurrent = true};
  constexpr LifOptions lo{.threshold = Train::per_neuron, .beta = Train::per_neuron, .recurrent = true};
  AdaptiveLifType<double, FastSigmoid, SubtractReset, ao> alif(6, rng, {.beta = 0.8, .threshold = 0.6, .adaptation = 0.0});
  LifType<double, FastSigmoid, SubtractReset, lo> lif(6, rng, {.beta = 0.8, .threshold = 0.6});
  lif.recurrent_weight() = alif.recurrent_weight();
  TimeSeries<double> x(6, 3, 25), ya, yl, go(6, 3, 25), ga, gl;
  test::fill_uniform(x, rng, -0.3, 1.0);
  test::fill_uniform(go, rng, -1, 1);
  Rng r1(1), r2(1);
  alif.forward(x, ya, ForwardContext::train(r1));
  lif.forward(x, yl, ForwardContext::train(r2));
  REQUIRE(yl.values().sum() > 10);  // it spikes
  CHECK(ya.values() == yl.values());
  alif.backward(x, ya, go, &ga);
  lif.backward(x, yl, go, &gl);
  CHECK((ga.values() - gl.values()).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((alif.threshold().grad() - lif.threshold().grad()).cwiseAbs().maxCoeff() < 1e-12);
  CHECK((alif.beta().grad() - lif.beta().grad()).cwiseAbs().maxCoeff() < 1e-12);
  Matrix<double> wa, wl;
  alif.for_each_parameter([&](ParamRef<double> p) { if (p.name == "recurrent_weight") wa = p.grad; });
  lif.for_each_parameter([&](ParamRef<double> p) { if (p.name == "recurrent_weight") wl = p.grad; });
  REQUIRE(wa.size() == 36);
  CHECK((wa - wl).cwiseAbs().maxCoeff() < 1e-12);
  CHECK(wa.cwiseAbs().maxCoeff() > 1e-3);
}

TEST_CASE("ALIF: step-by-step simulation with explicit state equals the whole-sequence forward", "[alif]") {
  Rng rng(3);
  RecurrentAdaptiveLif<double, Arctan, ZeroReset> alif(5, rng, {.beta = 0.85, .threshold = 0.5, .rho = 0.9, .adaptation = 0.3});
  TimeSeries<double> x(5, 3, 30), s;
  test::fill_uniform(x, rng, -0.2, 0.9);
  alif.forward(x, s, ForwardContext::eval());
  CHECK(s.values().sum() > 0);
  CHECK(run_stepwise(alif, x).values() == s.values());
  // and adaptation does act: without it the same input gives more spikes
  RecurrentAdaptiveLif<double, Arctan, ZeroReset> plain(5, rng, {.beta = 0.85, .threshold = 0.5, .rho = 0.9, .adaptation = 0.0});
  plain.recurrent_weight() = alif.recurrent_weight();
  TimeSeries<double> s0;
  plain.forward(x, s0, ForwardContext::eval());
  CHECK(s0.values().sum() > s.values().sum());
}

namespace {

constexpr Index kIn = 4, kHidden = 6, kOut = 3, kBatch = 3, kSteps = 30;

Batch<double> make_batch(Rng& rng) {
  Batch<double> b;
  b.input.resize(kIn, kBatch, kSteps);
  test::fill_uniform(b.input, rng, -0.5, 1.5);
  b.labels = {0, 2, 1};
  return b;
}

constexpr AdaptiveLifOptions all_trained(Train mode, bool recurrent) {
  return {.threshold = mode, .beta = mode, .rho = mode, .adaptation = mode, .recurrent = recurrent};
}

// Linear -> ALIF (smooth twin) -> Linear -> leaky-integrator readout, summed cross-entropy: every
// block (weights, theta_0, beta, rho, beta_a, recurrent weights, input) against central differences.
template <class Hidden>
void check_exact(Hidden hidden, std::uint64_t seed) {
  Rng rng(seed);
  Sequential<Linear<double>, Hidden, Linear<double>, LeakyIntegrator<double>> net{
      Linear<double>(kIn, kHidden, rng, {.init = Init::normal, .init_scale = 1.5}), std::move(hidden),
      Linear<double>(kHidden, kOut, rng), LeakyIntegrator<double>(kOut, {.beta = 0.8})};
  SumCrossEntropy loss;
  auto r = testing::check_gradients(net, loss, make_batch(rng), {.step = 1e-6, .max_per_block = 40});
  INFO(net.signature() << "\n" << r.report());
  bool saw_rho = false, saw_beta_a = false;
  for (const auto& blk : r.blocks) {
    INFO(blk.name);
    CHECK(blk.analytic_norm > 1e-4);  // every block gets gradient (so the comparison can fail)
    CHECK(blk.rel_error < 1e-6);
    saw_rho = saw_rho || blk.name.find("rho") != std::string::npos;
    saw_beta_a = saw_beta_a || blk.name.find("adaptation") != std::string::npos;
  }
  CHECK(saw_rho);
  CHECK(saw_beta_a);
}

}  // namespace

TEST_CASE("ALIF BPTT is exact on the smooth twin: inputs, theta_0, beta, rho, beta_a, recurrent weights",
          "[alif][gradient]") {
  using G = SmoothTwin<Sigmoid>;
  const G g{{2.5}};
  const AdaptiveLifConfig cfg{.beta = 0.8, .threshold = 0.5, .rho = 0.9, .adaptation = 0.4};
  Rng wr(5);
  check_exact(AdaptiveLifType<double, G, SubtractReset, all_trained(Train::per_neuron, false)>(kHidden, cfg, g), 11);
  check_exact(AdaptiveLifType<double, G, SubtractReset, all_trained(Train::per_neuron, true)>(kHidden, wr, cfg, g), 12);
  check_exact(AdaptiveLifType<double, G, ZeroReset, all_trained(Train::per_layer, true)>(kHidden, wr, cfg, g), 13);
  check_exact(AdaptiveLifType<double, SmoothTwin<FastSigmoid>, NoReset, all_trained(Train::per_neuron, false)>(
                  kHidden, cfg, {{.slope = 2}}), 14);
}

TEST_CASE("ALIF BPTT: the adaptation carries gradient across time", "[alif][gradient]") {
  // One neuron, loss = s_{T-1}: only the first steps receive an input pulse. With a short membrane
  // (beta = 0.1) the pulse's effect on the last step runs through a alone, so dL/dx_0 vanishes with
  // beta_a = 0 and not with beta_a > 0.
  using G = SmoothTwin<Sigmoid>;
  auto grad_of_first_input = [](double beta_a) {
    AdaptiveLifType<double, G> alif(1, {.beta = 0.1, .threshold = 0.5, .rho = 0.95, .adaptation = beta_a}, G{{2.0}});
    TimeSeries<double> x(1, 1, 40), s, go(1, 1, 40), gi;
    x.set_zero();
    x(0, 0, 0) = 2.0;
    x(0, 0, 39) = 0.5;
    go.set_zero();
    go(0, 0, 39) = 1.0;
    Rng rng(1);
    alif.forward(x, s, ForwardContext::train(rng));
    alif.backward(x, s, go, &gi);
    return gi(0, 0, 0);
  };
  CHECK(std::abs(grad_of_first_input(0.0)) < 1e-30);  // 0.1^39 through the membrane, and the twin's spikes
  CHECK(std::abs(grad_of_first_input(0.3)) > 1e-4);
}

TEST_CASE("ALIF layers round-trip through cereal and reject a stored layer of another type", "[alif][serialization]") {
  constexpr auto O = all_trained(Train::per_neuron, true);
  using L = AdaptiveLifType<float, FastSigmoid, SubtractReset, O>;
  Rng rng(2);
  L a(7, rng, {.beta = 0.7, .threshold = 0.8, .rho = 0.97, .adaptation = 0.2});
  Vector<float> rho(7);
  for (Index i = 0; i < 7; ++i) rho[i] = 0.9f + 0.01f * float(i);
  a.rho().set(rho);
  std::ostringstream os;
  {
    cereal::JSONOutputArchive ar(os);
    ar(cereal::make_nvp("alif", a));
  }
  L b;
  {
    std::istringstream is(os.str());
    cereal::JSONInputArchive ar(is);
    ar(cereal::make_nvp("alif", b));
  }
  CHECK(b.signature() == a.signature());
  CHECK(b.rho().values() == a.rho().values());
  CHECK(b.config().adaptation == 0.2);
  TimeSeries<float> x(7, 2, 20), ya, yb;
  test::fill_uniform(x, rng, 0.0f, 1.0f);
  a.forward(x, ya, ForwardContext::eval());
  b.forward(x, yb, ForwardContext::eval());
  CHECK(ya.values() == yb.values());
  // a layer type whose rho is fixed (and everything else as stored) cannot hold a per-neuron trained one
  constexpr AdaptiveLifOptions fixed_rho{.threshold = Train::per_neuron, .beta = Train::per_neuron, .rho = Train::fixed,
                                         .adaptation = Train::per_neuron, .recurrent = true};
  AdaptiveLifType<float, FastSigmoid, SubtractReset, fixed_rho> fixed;
  std::istringstream is(os.str());
  cereal::JSONInputArchive ar(is);
  CHECK_THROWS_WITH(ar(cereal::make_nvp("alif", fixed)), Catch::Contains("RecurrentAdaptiveLif") && Catch::Contains("rho"));
}

TEST_CASE("ALIF layers reject bad configurations, naming the layer and the parameter", "[alif][errors]") {
  CHECK_THROWS_AS(AdaptiveLif<float>(0), ConfigError);
  CHECK_THROWS_WITH(AdaptiveLif<float>(4, {.rho = 1.5}), Catch::Contains("AdaptiveLif(4)") && Catch::Contains("rho"));
  CHECK_THROWS_WITH(AdaptiveLif<float>(4, {.adaptation = -0.1}),
                    Catch::Contains("AdaptiveLif(4)") && Catch::Contains("adaptation"));
  CHECK_THROWS_WITH(AdaptiveLif<float>(4, {.beta = 0.9, .beta_max = 2.0}), Catch::Contains("AdaptiveLif(4)"));
  CHECK_THROWS_WITH(AdaptiveLif<float>(4, {.threshold = std::nan("")}), Catch::Contains("threshold"));
  Rng rng(1);
  CHECK_THROWS_WITH(RecurrentAdaptiveLif<float>(3, rng, {.rho = -0.5}), Catch::Contains("RecurrentAdaptiveLif(3)"));
  AdaptiveLif<float> alif(4);
  TimeSeries<float> x(3, 2, 5), s;
  CHECK_THROWS_AS(alif.forward(x, s, ForwardContext::eval()), ShapeError);
  TimeSeries<float> y(4, 2, 5);
  y.set_zero();
  alif.forward(y, s, ForwardContext::eval());
  CHECK_THROWS_AS(alif.backward(y, s, s, nullptr), ShapeError);
}
