// The spiking side: RefractoryLif firing rates against the LIF rate formula, synaptic filters
// (impulse responses, exact gradients), the readout, and to_spiking() (structure, weights,
// rates through a transferred network, checkpoints).
#include "support/conversion_support.hpp"

#include <type_traits>
#include <vector>

using namespace spikelab;

namespace {

// Simulates one RefractoryLif neuron per input value for T steps of constant input and returns
// each neuron's spike steps.
template <class S>
std::vector<std::vector<Index>> spike_steps(const RefractoryLifConfig& cfg, const std::vector<double>& xs, Index T) {
  const Index n = Index(xs.size());
  RefractoryLif<S> lif(n, cfg);
  TimeSeries<S> in(n, 1, T), out;
  for (Index t = 0; t < T; ++t)
    for (Index i = 0; i < n; ++i) in(i, 0, t) = S(xs[std::size_t(i)]);
  lif.forward(in, out, ForwardContext::eval());
  std::vector<std::vector<Index>> s(static_cast<std::size_t>(n));
  for (Index t = 0; t < T; ++t)
    for (Index i = 0; i < n; ++i) {
      const S v = out(i, 0, t);
      REQUIRE((v == S(0) || v == S(cfg.amplitude)));
      if (v != S(0)) s[std::size_t(i)].push_back(t);
    }
  return s;
}

template <class S>
void check_rates(double dt, double slack) {
  const RefractoryLifConfig cfg{.tau_rc = 0.022, .tau_ref = 0.002, .dt = dt, .gain = 1.0, .bias = 1.0, .amplitude = 1.0};
  std::vector<double> xs;
  for (double x = 0.02; x < 60.0; x *= 1.25) xs.push_back(x);  // 36 inputs, 11.3 Hz ... 409 Hz
  const double duration = 4.0;
  const Index T = Index(std::lround(duration / dt));
  const auto spikes = spike_steps<S>(cfg, xs, T);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double J = xs[i] + 1.0, r = lif_rate(J, 0.002, 0.022);
    const auto& k = spikes[i];
    INFO("x = " << xs[i] << ", rate formula " << r << " Hz, " << k.size() << " spikes, dt " << dt);
    REQUIRE(k.size() >= 10);
    // Spike n happens at t_n = t_1 + (n-1)/r (exact integration) and is reported in step k_n,
    // i.e. t_n in (k_n dt, (k_n + 1) dt]. Hence (N-1)/r lies strictly within one step of
    // (k_N - k_1) dt, which bounds the rate from both sides; nothing else is discretised.
    const double N1 = double(k.size() - 1), span = double(k.back() - k.front());
    const double lo = N1 / ((span + 1.0) * dt), hi = N1 / ((span - 1.0) * dt);
    CHECK(r >= lo * (1 - slack));
    CHECK(r <= hi * (1 + slack));
    // The same as a tolerance on the measured rate (N-1) / ((k_N - k_1) dt): since |(k_N - k_1) dt - (N-1)/r| < dt,
    // |measured / r - 1| < 1 / (k_N - k_1), i.e. below 0.03% at 4 s for every rate here (11 ... 409 Hz).
    const double measured = N1 / (span * dt);
    CHECK(std::abs(measured / r - 1.0) < 1.0 / span + slack);
    CHECK(1.0 / span < (dt < 5e-4 ? 3e-5 : 3e-4));  // the bound is tight: the formula is met to 3e-4 (dt 1 ms)
    // the first spike from rest (no refractory period yet) at t_1 = tau_rc log(J / (J - 1))
    const double t1 = 0.022 * std::log(J / (J - 1.0));
    CHECK(double(k.front()) * dt < t1 + slack * t1 + 1e-12);
    CHECK(double(k.front() + 1) * dt >= t1 - slack * t1 - 1e-12);
    // the spike count over the whole run: first spike, then one every 1/r
    CHECK(double(k.size()) == Approx(1.0 + std::floor((duration - t1) * r)).margin(1.0));
  }
}

}  // namespace

TEST_CASE("A RefractoryLif neuron fires at the LIF rate formula for constant input (dt = 1 ms and 0.1 ms)", "[refractory_lif]") {
  // double: exact up to rounding; float: the refractory clock and membrane carry ~1e-7 relative
  // error per step, so allow 1e-4 relative on the bounds
  check_rates<double>(1e-3, 1e-9);
  check_rates<double>(1e-4, 1e-9);
  check_rates<float>(1e-3, 1e-4);
}

TEST_CASE("RefractoryLif is silent at or below threshold and caps at one spike per step", "[refractory_lif]") {
  const RefractoryLifConfig cfg{.tau_rc = 0.02, .tau_ref = 0.0, .dt = 1e-3, .gain = 2.0, .bias = 1.0, .amplitude = 1000.0};
  const auto s = spike_steps<double>(cfg, {-3.0, -0.01, 0.0, 1e6}, 500);
  CHECK(s[0].empty());
  CHECK(s[1].empty());
  CHECK(s[2].empty());          // J = 1 exactly: the membrane approaches 1 but never crosses it
  CHECK(s[3].size() == 500u);   // tau_ref = 0 and a huge current: every step, never more
  RefractoryLif<double> lif(3, cfg);
  CHECK(lif.rate(0.0) == 0.0);
  CHECK(lif.rate(0.5) == Approx(1.0 / (0.02 * std::log(2.0))));  // J = 2
}

TEST_CASE("RefractoryLif step by step equals its sequence forward pass", "[refractory_lif]") {
  Rng rng(3);
  RefractoryLif<float> lif(7, {.tau_rc = 0.03, .tau_ref = 0.004, .dt = 1e-3, .gain = 1.5, .bias = 1.0, .amplitude = 2.0});
  TimeSeries<float> in(7, 3, 120), out;
  test::fill_uniform(in, rng, -0.5, 4.0);
  lif.forward(in, out, ForwardContext::eval());
  const TimeSeries<float> stepwise = run_stepwise(lif, in);
  CHECK(stepwise.values() == out.values());
  CHECK(out.values().sum() > 0);
  // no gradient: backward says so
  TimeSeries<float> g = out, gi;
  CHECK_THROWS_AS(lif.backward(in, out, g, &gi), ConfigError);
  CHECK_THROWS_AS(RefractoryLif<float>(4, {.tau_rc = 0.0}), ConfigError);
  CHECK_THROWS_AS(RefractoryLif<float>(4, {.dt = -1.0}), ConfigError);
  TimeSeries<float> wrong(6, 1, 2);
  CHECK_THROWS_AS(lif.forward(wrong, out, ForwardContext::eval()), ShapeError);
}

TEST_CASE("SynapticFilter impulse responses have unit area and follow the continuous kernels", "[synaptic_filter]") {
  const double dt = 1e-5, tau = 0.005;
  const Index T = Index(0.2 / dt);  // 40 tau
  for (SynapseKind kind : {SynapseKind::exponential, SynapseKind::alpha}) {
    SynapticFilter<double> f(1, {kind, tau, dt});
    TimeSeries<double> x(1, 1, T), y;
    x.set_zero();
    x(0, 0, 0) = 1.0 / dt;  // a unit-area spike
    f.forward(x, y, ForwardContext::eval());
    CHECK(y.values().sum() * dt == Approx(1.0).epsilon(1e-9));
    const double a = std::exp(-dt / tau), c = 1 - a;
    for (double t : {0.001, 0.005, 0.012}) {
      const Index k = Index(std::lround(t / dt));
      // discrete responses: c a^k / dt (exponential), c^2 (k+1) a^k / dt (alpha, two stages)
      const double disc = kind == SynapseKind::alpha ? c * c * double(k + 1) * std::pow(a, double(k)) / dt
                                                     : c * std::pow(a, double(k)) / dt;
      CHECK(y(0, 0, k) == Approx(disc).epsilon(1e-9));
      // continuous kernels; c = dt/tau (1 + O(dt/tau)) and the alpha response is that of t + dt
      const double cont = kind == SynapseKind::alpha ? t * std::exp(-t / tau) / (tau * tau) : std::exp(-t / tau) / tau;
      CHECK(y(0, 0, k) == Approx(cont).epsilon(dt / tau + (kind == SynapseKind::alpha ? dt / t : 0.0)));
    }
  }
  // constant input: the output rises to it (unit DC gain); tau = 0 passes through
  SynapticFilter<float> f(2, {SynapseKind::alpha, 0.005, 1e-3});
  TimeSeries<float> c(2, 1, 200), y;
  c.values().setConstant(3.0f);
  f.forward(c, y, ForwardContext::eval());
  CHECK(y(0, 0, 0) < 0.5f);
  CHECK(y(1, 0, 199) == Approx(3.0f).epsilon(1e-5));
  SynapticFilter<float> none(2, {SynapseKind::exponential, 0.0, 1e-3});
  none.forward(c, y, ForwardContext::eval());
  CHECK(y.values() == c.values());
  CHECK(run_stepwise(f, c).values().isApprox(
      [&] { TimeSeries<float> z; f.forward(c, z, ForwardContext::eval()); return z.values(); }(), 1e-6f));
}

TEST_CASE("SynapticFilter and WindowCrossEntropy have exact gradients", "[synaptic_filter]") {
  Rng rng(4);
  for (SynapseKind kind : {SynapseKind::exponential, SynapseKind::alpha}) {
    using Net = Sequential<Linear<double>, SynapticFilter<double>, Linear<double>, SynapticFilter<double>>;
    Net net{Linear<double>(5, 6, rng), SynapticFilter<double>(6, {kind, 0.004, 1e-3}), Linear<double>(6, 3, rng),
            SynapticFilter<double>(3, {kind, 0.002, 1e-3})};
    Batch<double> b;
    b.input.resize(5, 3, 9);
    test::fill_uniform(b.input, rng, -1, 1);
    b.labels = {0, 2, 1};
    b.lengths = {9, 6, 9};  // a shorter (padded) sample
    WindowCrossEntropy loss(3);
    const auto r = testing::check_gradients(net, loss, b, {.step = 1e-6, .max_per_block = 64});
    INFO(r.report());
    CHECK(r.max_rel_error < 1e-6);
  }
}

TEST_CASE("SpikingReadout scores window, instantaneous and cumulative decisions", "[readout]") {
  // two classes, two samples, four steps
  TimeSeries<float> out(2, 2, 4);
  // sample 0 (label 1): class 0 leads at t=0,1, class 1 at t=2,3 (strongly at 3)
  const float s0[4][2] = {{1, 0}, {1, 0.5f}, {0, 1}, {0, 5}};
  // sample 1 (label 0): always class 0 except step 2
  const float s1[4][2] = {{2, 1}, {2, 1}, {0, 3}, {2, 1}};
  for (Index t = 0; t < 4; ++t)
    for (Index c = 0; c < 2; ++c) {
      out(c, 0, t) = s0[t][c];
      out(c, 1, t) = s1[t][c];
    }
  SpikingReadout r(2);  // window = steps 2, 3
  r.add(out, {1, 0});
  CHECK(r.steps() == 4);
  CHECK(r.samples() == 2);
  // window means: sample 0 (0, 3) -> 1 correct; sample 1 (1, 2) -> 1 wrong
  CHECK(r.window().correct == 1);
  CHECK(r.window_error() == Approx(0.5));
  // instant: t0: s0 wrong, s1 right; t2: s0 right, s1 wrong; t3: both right
  CHECK(r.instant_error(0) == Approx(0.5));
  CHECK(r.instant_error(2) == Approx(0.5));
  CHECK(r.instant_error(3) == Approx(0.0));
  // cumulative sums: s0 (1,0) (2,0.5) (2,1.5) (2,6.5); s1 (2,1) (4,2) (4,5) (6,6): tie -> class 0
  CHECK(r.cumulative_error(1) == Approx(0.5));
  CHECK(r.cumulative_error(2) == Approx(1.0));
  CHECK(r.cumulative_error(3) == Approx(0.0));
  // the loss reads the same window
  Batch<float> b;
  b.input = out;
  b.labels = {1, 0};
  WindowCrossEntropy loss(2);
  CHECK(loss.tally(out, b).correct == 1);
  CHECK_THROWS_AS(r.add(out, {1}), ShapeError);
  CHECK_THROWS_AS(r.instant_error(4), ShapeError);
  TimeSeries<float> other(2, 1, 5);
  other.set_zero();
  CHECK_THROWS_AS(r.add(other, {0}), ShapeError);
}

namespace {

using RateNet = Sequential<Conv2d<double>, SoftLifRate<double>, AvgPool2d<double>, Linear<double>, SoftLifRate<double>,
                           Dropout<double>, Linear<double>>;

RateNet small_rate_net(Rng& rng) {
  Conv2d<double> conv({1, 6, 6}, 2, rng, {.kernel = 3, .padding = 1});
  const ImageShape cs = conv.output_shape();
  AvgPool2d<double> pool(cs, {.kernel = 2});
  const Index pooled = pool.output_shape().size();
  return RateNet{std::move(conv),
                 SoftLifRate<double>(cs, SoftLif(SoftLifConfig::mnist())),
                 std::move(pool),
                 Linear<double>(pooled, 5, rng),
                 SoftLifRate<double>(5, SoftLif(SoftLifConfig::mnist())),
                 Dropout<double>(5, {.p = 0.5}),
                 Linear<double>(5, 3, rng)};
}

}  // namespace

TEST_CASE("to_spiking builds the LIF network with the same weights in one call", "[transfer]") {
  Rng rng(8);
  RateNet ann = small_rate_net(rng);
  auto snn = to_spiking(ann, {.dt = 5e-4, .synapse = SynapseKind::alpha, .tau_synapse = 0.004, .tau_output = 0.01});
  using Expected = Sequential<Conv2d<double>, SynapticFilter<double>, RefractoryLif<double>, AvgPool2d<double>,
                              Linear<double>, SynapticFilter<double>, RefractoryLif<double>, Linear<double>,
                              SynapticFilter<double>>;
  static_assert(std::is_same_v<decltype(snn), Expected>);
  static_assert(std::is_same_v<SpikingNetworkOf<RateNet>, Expected>);
  CHECK(snn.layer<0>().weight() == ann.layer<0>().weight());
  CHECK(snn.layer<0>().bias() == ann.layer<0>().bias());
  CHECK(snn.layer<0>().config().sparse_density == 0.3);
  CHECK(snn.layer<4>().weight() == ann.layer<3>().weight());
  CHECK(snn.layer<7>().weight() == ann.layer<6>().weight());
  CHECK(snn.layer<7>().bias() == ann.layer<6>().bias());
  const RefractoryLifConfig& lc = snn.layer<2>().config();
  CHECK(lc.tau_rc == 0.022);
  CHECK(lc.tau_ref == 0.002);
  CHECK(lc.gain == 1.0);
  CHECK(lc.bias == 1.0);
  CHECK(lc.dt == 5e-4);
  CHECK(lc.amplitude == Approx(0.063 / 5e-4));
  CHECK(snn.layer<1>().config().tau == 0.004);
  CHECK(snn.layer<1>().alpha());
  CHECK(snn.layer<8>().config().tau == 0.01);
  CHECK(snn.input_size() == ann.input_size());
  CHECK(snn.output_size() == 3);
  CHECK_THROWS_AS(to_spiking(ann, {.dt = 0.0}), ConfigError);
}

TEST_CASE("A transferred layer fires at the hard LIF rate of its rate layer's input", "[transfer]") {
  // one soft-LIF layer: the spiking neurons see the (filtered) constant current x = W u + b and
  // must fire at r(a x + 1); the filtered output then carries m r
  Rng rng(9);
  SoftLifConfig c = SoftLifConfig::mnist();
  using Net = Sequential<Linear<double>, SoftLifRate<double>>;
  Net ann{Linear<double>(4, 30, rng, {.init_scale = 3.0}), SoftLifRate<double>(30, SoftLif(c))};
  auto snn = to_spiking(ann, {.dt = 1e-3, .tau_synapse = 0.005});
  TimeSeries<double> u(4, 2, 1), x, pre;
  test::fill_uniform(u, rng, 0.0, 1.0);
  const double seconds = 3.0;
  const Index T = Index(seconds / 1e-3);
  present_static(u, T, x);
  const TimeSeries<double>& y = snn.forward(x);
  ann.layer<0>().forward(u, pre, ForwardContext::eval());
  const auto& spikes = snn.activation(2);  // RefractoryLif output
  int active = 0;
  for (Index b = 0; b < 2; ++b)
    for (Index i = 0; i < 30; ++i) {
      const double r = lif_rate(pre(i, b, 0) + 1.0, 0.002, 0.022);
      double count = 0;
      for (Index t = 0; t < T; ++t) count += spikes(i, b, t) != 0.0;
      INFO("neuron " << i << ", x = " << pre(i, b, 0) << ": " << count << " spikes, formula " << r * seconds);
      // the current rises through the alpha synapse in ~30 ms, which may cost about one spike
      CHECK(count == Approx(r * seconds).margin(2.0));
      active += r > 5;
      // the filtered output averaged over the last second estimates m r to within one spike / s
      double mean = 0;
      for (Index t = T - 1000; t < T; ++t) mean += y(i, b, t) / 1000.0;
      CHECK(mean == Approx(0.063 * r).margin(0.063 * 1.5));
    }
  CHECK(active > 10);  // the check covered firing neurons, not only silent ones
}

TEST_CASE("A transferred conv network tracks its rate network's output and survives a checkpoint", "[transfer]") {
  Rng rng(10);
  SoftLifConfig sharp = SoftLifConfig::mnist();
  sharp.gamma = 1e-4;  // close to the hard response, which the spiking neurons realise
  RateNet ann = small_rate_net(rng);
  ann.layer<1>().function() = SoftLif(sharp);
  ann.layer<4>().function() = SoftLif(sharp);
  // scale weights up so that many neurons fire
  ann.layer<0>().weight() *= 4.0;
  ann.layer<3>().weight() *= 3.0;
  TimeSeries<double> u(36, 3, 1), x;
  test::fill_uniform(u, rng, 0.0, 1.0);
  const TimeSeries<double> rate_out = ann.forward(u);
  const Index T = 1500;
  present_static(u, T, x);
  // The second layer is driven by filtered spike trains, not by constant currents, so its rates
  // deviate from the rate model by the current's fluctuations, which longer synapses smooth out.
  double prev = 1e9;
  for (double tau : {0.005, 0.02}) {  // (much longer tau_s would need a longer settling time than 0.5 s)
    auto snn = to_spiking(ann, {.tau_synapse = tau});
    const TimeSeries<double>& spike_out = snn.forward(x);
    double err = 0, norm = 0;  // mean filtered output over the last second vs the rate output
    for (Index b = 0; b < 3; ++b)
      for (Index c = 0; c < 3; ++c) {
        double mean = 0;
        for (Index t = 500; t < T; ++t) mean += spike_out(c, b, t) / double(T - 500);
        err += (mean - rate_out(c, b, 0)) * (mean - rate_out(c, b, 0));
        norm += rate_out(c, b, 0) * rate_out(c, b, 0);
      }
    const double rel = std::sqrt(err / norm);
    INFO("tau_s " << tau << ": relative output error " << rel);
    CHECK(rel < prev);
    CHECK(rel < (tau < 0.01 ? 0.25 : 0.05));
    prev = rel;
  }
  // checkpoints: binary and JSON round trips give the same spiking network and outputs
  auto snn = to_spiking(ann);
  const TimeSeries<double> spike_out = snn.forward(x);
  const auto dir = test::temp_dir("softlif-snn");
  Rng other(99);
  for (CheckpointFormat fmt : {CheckpointFormat::binary, CheckpointFormat::json}) {
    save_checkpoint(dir / "snn.ckpt", snn, fmt);
    auto back = to_spiking(small_rate_net(other), {.dt = 2e-3, .tau_synapse = 0.01});  // other weights and constants
    load_checkpoint(dir / "snn.ckpt", back);
    CHECK(back.signature() == snn.signature());
    CHECK(back.layer<2>().config().amplitude == snn.layer<2>().config().amplitude);
    CHECK(back.layer<1>().config().tau == snn.layer<1>().config().tau);
    CHECK(back.forward(x).values() == spike_out.values());
  }
  std::filesystem::remove_all(dir);
}
