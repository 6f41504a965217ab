// The NA-LIF neuron (forward by hand, step-by-step equivalence, PSP back-accumulation), the
// input PSP filter, the surrogate-BPTT policy (exact on the smooth twin), and the NA policy on a
// neuron worked out by hand (chain effect, both forms, both re-simulation starts, rescaling).
#include "support/na_support.hpp"

#include <cereal/archives/json.hpp>

#include <sstream>

using namespace spikelab;

namespace {

// A policy that hands dL/ds through unchanged: exposes the layer's PSP back-accumulation.
struct RecordingDerivative {
  static std::string name() { return "Recording"; }
  template <Scalar S>
  S spike(S x) const noexcept {
    return x > S(0) ? S(1) : S(0);
  }
  template <Scalar S>
  void backward(const NaLifDynamics<S>&, const NeuronTrace<S>& tr, S* out) const noexcept {
    for (Index t = 0; t < tr.steps; ++t) out[t * tr.stride] = tr.gs(t);
  }
  template <class Ar>
  void serialize(Ar&, std::uint32_t) {}
};

const NaLifConfig kCfg{.tau_m = 5.0, .tau_s = 2.0, .threshold = 1.0};

// The hand-worked neuron: c = [1.2, 0.15, 0.9, 0.1] gives (beta = 0.8)
// u = [1.2, 0.15, 0.12 + 0.9 = 1.02, 0.1], spikes [1, 0, 1, 0].
const std::vector<double> kC{1.2, 0.15, 0.9, 0.1};
const std::vector<double> kG{0.3, -0.2, 0.7, 0.4};  // dL/ds

}  // namespace

TEST_CASE("NA-LIF forward: potentials, strict threshold, reset to zero and PSP output by hand", "[na][neuron]") {
  NaLifType<double, RecordingDerivative> lif(1, kCfg);
  TimeSeries<double> x(1, 1, 5), y;
  const double c[5] = {1.2, 0.15, 0.9, 0.1, 0.92};
  for (Index t = 0; t < 5; ++t) x(0, 0, t) = c[t];
  Rng rng(1);
  lif.forward(x, y, ForwardContext::train(rng));
  // u = [1.2, 0.15, 1.02, 0.1, 0.08 + 0.92 = 1.0 (exactly at threshold: no spike)]
  const double u[5] = {1.2, 0.15, 1.02, 0.1, 1.0};
  for (Index t = 0; t < 5; ++t) CHECK(lif.membrane()(0, 0, t) == Approx(u[t]).margin(1e-12));
  // a = [0.5, 0.25, 0.125 + 0.5, 0.3125, 0.15625]
  const double a[5] = {0.5, 0.25, 0.625, 0.3125, 0.15625};
  for (Index t = 0; t < 5; ++t) CHECK(y(0, 0, t) == Approx(a[t]).margin(1e-12));
  // the same step by step from the explicit state
  TimeSeries<double> z = run_stepwise(lif, x);
  CHECK(z.values() == y.values());
}

TEST_CASE("NA-LIF backward: dL/da is back-accumulated through the PSP filter into dL/ds", "[na][neuron]") {
  // e[t] = g[t] + 0.5 e[t+1], dL/ds = e / 2. For g = [1, 0, 0, 2]: e = [1.25, 0.5, 1, 2]
  NaLifType<double, RecordingDerivative> one(1, kCfg);
  TimeSeries<double> x(1, 1, 4), y, g(1, 1, 4), gin;
  Rng rng(1);
  x.set_zero();
  one.forward(x, y, ForwardContext::train(rng));
  g.set_zero();
  g(0, 0, 0) = 1.0;
  g(0, 0, 3) = 2.0;
  one.backward(x, y, g, &gin);
  const double want[4] = {0.625, 0.25, 0.5, 1.0};
  for (Index t = 0; t < 4; ++t) CHECK(gin(0, 0, t) == Approx(want[t]));

  // several neurons and samples: each trace sees its own accumulation (layout check), float
  NaLifType<float, RecordingDerivative> lif(3, {.tau_m = 8.0, .tau_s = 4.0});
  TimeSeries<float> xf(3, 2, 6), yf, gf(3, 2, 6), gif;
  test::fill_uniform(xf, rng, 0.0, 1.0);
  test::fill_uniform(gf, rng, -1.0, 1.0);
  lif.forward(xf, yf, ForwardContext::train(rng));
  lif.backward(xf, yf, gf, &gif);
  for (Index i = 0; i < 3; ++i)
    for (Index b = 0; b < 2; ++b) {
      double e = 0;
      for (Index t = 5; t >= 0; --t) {
        e = gf(i, b, t) + 0.75 * e;
        CHECK(gif(i, b, t) == Approx(e / 4.0).epsilon(1e-5));
      }
    }
}

TEST_CASE("NA-LIF: bad shapes and configurations throw", "[na][neuron]") {
  CHECK_THROWS_AS(NaLif<float>(0), ConfigError);
  CHECK_THROWS_AS(NaLif<float>(4, {.tau_m = 0.5}), ConfigError);
  CHECK_THROWS_AS(NaLif<float>(4, {.tau_s = 0.0}), ConfigError);
  CHECK_THROWS_AS(NaLif<float>(4, {.threshold = -1.0}), ConfigError);
  CHECK_THROWS_AS(NeighborhoodAggregation(NaConfig{.distance_power = 0.0}), ConfigError);
  CHECK_THROWS_AS(NeighborhoodAggregation(NaConfig{.round_norms = true}), ConfigError);  // nothing to round
  NaLif<float> lif(4);
  TimeSeries<float> x(3, 2, 5), y, g, gin;
  CHECK_THROWS_AS(lif.forward(x, y, ForwardContext::eval()), ShapeError);
  TimeSeries<float> x4(4, 2, 5);
  x4.set_zero();
  lif.forward(x4, y, ForwardContext::eval());  // inference keeps nothing: backward must refuse
  g.resize_zero(4, 2, 5);
  CHECK_THROWS_AS(lif.backward(x4, y, g, &gin), ShapeError);
  CHECK_THROWS_AS(PspFilter<float>(0), ConfigError);
  CHECK_THROWS_AS(PspFilter<float>(3, 0.5), ConfigError);
}

TEST_CASE("PSP filter: forward by hand and backward as its adjoint", "[na][neuron]") {
  PspFilter<double> f(2, 2.0);
  TimeSeries<double> x(2, 1, 3), y;
  for (Index t = 0; t < 3; ++t) x(0, 0, t) = 1.0, x(1, 0, t) = t == 1 ? 4.0 : 0.0;
  f.forward(x, y, ForwardContext::eval());
  // constant 1: 0.5, 0.75, 0.875 (= the NA target PSP); a pulse of 4 at t = 1: 0, 2, 1
  CHECK(y(0, 0, 0) == 0.5);
  CHECK(y(0, 0, 1) == 0.75);
  CHECK(y(0, 0, 2) == 0.875);
  CHECK(y(1, 0, 1) == 2.0);
  CHECK(y(1, 0, 2) == 1.0);
  // <g, F x> = <F^T g, x>
  Rng rng(2);
  TimeSeries<double> xr(2, 3, 7), yr, g(2, 3, 7), gin;
  test::fill_uniform(xr, rng, -1, 1);
  test::fill_uniform(g, rng, -1, 1);
  PspFilter<double> f4(2, 4.0);
  f4.forward(xr, yr, ForwardContext::eval());
  f4.backward(xr, yr, g, &gin);
  CHECK((g.values().cwiseProduct(yr.values())).sum() == Approx((gin.values().cwiseProduct(xr.values())).sum()));
}

TEST_CASE("Surrogate NA-LIF: BPTT through the PSP, the membrane and the reset is exact on the smooth twin",
          "[na][neuron][gradient]") {
  using Twin = NaLifType<double, SurrogateSpikeDerivative<SmoothTwin<Sigmoid>>>;
  const SurrogateSpikeDerivative<SmoothTwin<Sigmoid>> d{{Sigmoid{3.0}}};
  Rng rng(5);
  using Net = Sequential<PspFilter<double>, Linear<double>, Twin, Linear<double>, Twin>;
  Net net{PspFilter<double>(6, 2.0), Linear<double>(6, 5, rng, {.init = Init::normal, .init_scale = 1.5}),
          Twin(5, kCfg, d), Linear<double>(5, 3, rng, {.init = Init::normal, .init_scale = 1.5}), Twin(3, kCfg, d)};
  const Batch<double> b = test::uniform_batch<double>(rng, 6, 3, 7, 3, 0.0, 2.0);
  PspKernelMse loss;
  auto r = testing::check_gradients(net, loss, b, {.step = 1e-6, .max_per_block = 40});
  INFO(r.report());
  REQUIRE(r.blocks.size() == 5);  // 2 x (weight, bias) + input
  for (const auto& blk : r.blocks) {
    INFO(blk.name);
    CHECK(blk.analytic_norm > 0);
    CHECK(blk.rel_error < 1e-6);
  }
}

TEST_CASE("NA policy: a neuron worked out by hand, with the chain effect", "[na][policy]") {
  const NaLifDynamics<double> dyn = NaLifDynamics<double>::from(kCfg);
  const std::vector<double> u = test::simulate(dyn, kC);
  REQUIRE(u[2] == Approx(1.02));
  const NeuronTrace<double> tr = test::trace_of(kC, u, kG);
  std::vector<double> out(4), spikes(4);

  SECTION("poster form") {
    // k = 0 removes the spike at 0 (potential left at 1): u' = [., 0.95, 0.76 + 0.9 = 1.66]; both
    //        spike at 2 -> identical from there: dL = -g0; delta = -0.3 / (1 - 1.2) = 1.5
    // k = 1 adds a spike at 1 (reset to 0): u'2 = 0.9, the spike at 2 is lost (chain effect),
    //        u'3 = 0.72 + 0.1 = 0.82: dL = g1 - g2 = -0.9; delta = -0.9 / 0.85
    // k = 2 removes the spike at 2: u'3 = 0.8 + 0.1 = 0.9, no spike: delta = -0.7 / (1 - 1.02) = 35
    // k = 3 adds a spike at the last step: delta = 0.4 / 0.9
    NeighborhoodAggregation na;
    CHECK(na.config().form_name() == "poster");
    na.backward(dyn, tr, out.data());
    CHECK(out[0] == Approx(1.5));
    CHECK(out[1] == Approx(-0.9 / 0.85));
    CHECK(out[2] == Approx(35.0));
    CHECK(out[3] == Approx(0.4 / 0.9));
    na.loss_change(dyn, tr, 0, 2, spikes.data());
    CHECK(spikes == std::vector<double>{0, 0, 1, 0});
    na.loss_change(dyn, tr, 1, 2, spikes.data());
    CHECK(spikes == std::vector<double>{1, 1, 0, 0});
  }
  SECTION("official-code form: dL * clamp(1/(theta - u)^3, -5, 5)") {
    NeighborhoodAggregation na(NaConfig{.distance_power = 3.0, .clip = 5.0});
    na.backward(dyn, tr, out.data());
    CHECK(out[0] == Approx(-0.3 * -5.0));                      // 1/(-0.2)^3 = -125 -> -5
    CHECK(out[1] == Approx(-0.9 / (0.85 * 0.85 * 0.85)));
    CHECK(out[2] == Approx(-0.7 * -5.0));                      // 1/(-0.02)^3 -> -5
    CHECK(out[3] == Approx(0.4 / (0.9 * 0.9 * 0.9)));
    CHECK(NaConfig::official_code().form_name() == "official-code");
    CHECK(NaConfig::first_order().form_name() == "first-order");
    CHECK(NaConfig{.distance_power = 3.0, .clip = 5.0}.form_name() == "custom");
  }
  SECTION("keep-potential start: a removed spike keeps u[k] instead of the threshold") {
    // k = 0: v' = 1.2, u'1 = 0.96 + 0.15 = 1.11 (new spike), u'2 = 0.9 (lost), u'3 = 0.82:
    // dL = -g0 + g1 - g2 = -1.2, delta = -1.2 / -0.2 = 6; the other steps as in the poster form
    NeighborhoodAggregation na(NaConfig{.start = NeighbourStart::keep_potential});
    na.backward(dyn, tr, out.data());
    CHECK(out[0] == Approx(6.0));
    CHECK(out[1] == Approx(-0.9 / 0.85));
    CHECK(out[2] == Approx(35.0));
    na.loss_change(dyn, tr, 0, 2, spikes.data());
    CHECK(spikes == std::vector<double>{0, 1, 0, 0});
  }
  SECTION("a potential exactly at the threshold divides by min_distance, not by zero") {
    const std::vector<double> c1{1.0}, u1{1.0}, g1{0.5};
    NeighborhoodAggregation na(NaConfig{.min_distance = 1e-3});
    double o = 0;
    na.backward(dyn, test::trace_of(c1, u1, g1), &o);
    CHECK(o == Approx(0.5 / 1e-3));  // adding the spike needs a positive current
  }
}

TEST_CASE("NA policy: the re-simulation equals a full re-simulation of the neuron for random traces", "[na][policy]") {
  // every neighbour of random neurons against simulating the perturbed neuron from scratch
  const NaLifDynamics<double> dyn = NaLifDynamics<double>::from({.tau_m = 8.0, .tau_s = 4.0});
  NeighborhoodAggregation na;
  Rng rng(11);
  int chains = 0;
  for (int rep = 0; rep < 300; ++rep) {
    const Index T = 2 + Index(rng.below(30));
    std::vector<double> c(T), g(T);
    for (Index t = 0; t < T; ++t) c[t] = rng.uniform(-0.3, 0.9), g[t] = rng.uniform(-1, 1);
    const std::vector<double> u = test::simulate(dyn, c);
    Index last = -1;
    for (Index t = 0; t < T; ++t)
      if (dyn.fires(u[t])) last = t;
    for (Index k = 0; k < T; ++k) {
      std::vector<double> cp = c;
      cp[k] += dyn.threshold - u[k] + (dyn.fires(u[k]) ? -1e-10 : 1e-10);
      const std::vector<double> up = test::simulate(dyn, cp);
      double dl = 0;
      int changed = 0;
      for (Index t = 0; t < T; ++t) {
        const double ds = (dyn.fires(up[t]) ? 1.0 : 0.0) - (dyn.fires(u[t]) ? 1.0 : 0.0);
        dl += g[t] * ds;
        changed += ds != 0;
      }
      chains += changed > 1;
      const double got = na.loss_change(dyn, test::trace_of(c, u, g), k, last);
      CHECK(got == Approx(dl).margin(1e-12));
    }
  }
  CHECK(chains > 50);  // the chain effect is exercised
}

TEST_CASE("NA first-order form: per-layer rescaling relative to the output layer", "[na][policy]") {
  Rng rng(7);
  using Net = Sequential<PspFilter<double>, Linear<double>, test::Tap<double>, NaLif<double>, Linear<double>,
                         test::Tap<double>, NaLif<double>>;
  auto make = [&](NaConfig cfg) {
    Rng r(3);
    return Net{PspFilter<double>(5, 2.0), Linear<double>(5, 8, r, {.init = Init::normal, .init_scale = 1.5}),
               test::Tap<double>(8),      NaLif<double>(8, kCfg, NeighborhoodAggregation(cfg)),
               Linear<double>(8, 3, r, {.init = Init::normal, .init_scale = 1.5}), test::Tap<double>(3),
               NaLif<double>(3, kCfg, NeighborhoodAggregation(cfg))};
  };
  const Batch<double> b = test::uniform_batch<double>(rng, 5, 4, 6, 3, 0.0, 2.0);
  PspKernelMse loss;
  auto run = [&](Net& net) {
    TimeSeries<double> g;
    const auto& out = net.forward(b.input, ForwardContext::train(rng));
    loss.value_and_gradient(out, b, g);
    net.zero_grad();
    net.backward(g);
  };
  Net raw = make(NaConfig{.distance_power = 3.0, .clip = 5.0});
  Net code = make(NaConfig::first_order());
  CHECK_THROWS_AS(run(code), ConfigError);  // rescaling without the shared norms
  NaGradientNorms norms;
  REQUIRE(connect_gradient_norms(code, norms) == 2);
  run(raw);
  run(code);
  auto mean_abs = [](const TimeSeries<double>& t) { return t.values().cwiseAbs().mean(); };
  const TimeSeries<double>& out_raw = raw.layer<5>().grad;
  const TimeSeries<double>& hid_raw = raw.layer<2>().grad;
  REQUIRE(mean_abs(out_raw) > 0);
  REQUIRE(mean_abs(hid_raw) > 0);
  const double m = mean_abs(out_raw), f_out = 1.2 * std::log(m / (m + 1e-5) + 1.02);
  CHECK((code.layer<5>().grad.values() - f_out * out_raw.values()).norm() < 1e-12 * (1 + out_raw.values().norm()));
  CHECK(norms.reference_mean == Approx(m * f_out));
  // the hidden layer's gradient below the output NA layer already carries the output's factor
  // (it is backpropagated from the rescaled output delta), then gets its own factor
  const double mh = mean_abs(hid_raw) * f_out;
  const double f_hid = 1.2 * std::log(m * f_out / (mh + 1e-5) + 1.02);
  CHECK((code.layer<2>().grad.values() - f_hid * f_out * hid_raw.values()).norm() <
        1e-10 * (1 + hid_raw.values().norm()));
}

TEST_CASE("NA-LIF layers round-trip through a checkpoint with their NA options", "[na][neuron]") {
  using Net = Sequential<PspFilter<float>, Linear<float>, NaLif<float>, Linear<float>, SurrogateNaLif<float>>;
  Rng rng(4);
  Net net{PspFilter<float>(4, 3.0), Linear<float>(4, 6, rng),
          NaLif<float>(6, {.tau_m = 8.0, .tau_s = 4.0}, NeighborhoodAggregation(NaConfig::official_code())),
          Linear<float>(6, 2, rng), SurrogateNaLif<float>(2, kCfg, {FastSigmoid{7.0}})};
  std::stringstream ss;
  {
    cereal::JSONOutputArchive ar(ss);
    ar(net);
  }
  Net back;
  {
    cereal::JSONInputArchive ar(ss);
    ar(back);
  }
  CHECK(back.signature() == net.signature());
  CHECK(back.layer<2>().config().tau_m == 8.0);
  CHECK(back.layer<2>().derivative().config().form_name() == "official-code");
  CHECK(back.layer<4>().derivative().surrogate.slope == 7.0);
  Batch<float> b = test::uniform_batch<float>(rng, 4, 3, 5, 2, 0.0, 2.0);
  CHECK(back.forward(b.input).values() == net.forward(b.input).values());
}
