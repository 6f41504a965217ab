// The paper's spiking evaluation: filters in cascade and continued in pieces, the zero-phase
// readout against a hand computation, ContinuousRun against one long forward pass, and
// evaluate_back_to_back() against the protocol computed by hand on one long sequence per run.
#include "support/conversion_support.hpp"

#include <spikelab/conversion/back_to_back.hpp>

#include <vector>

using namespace spikelab;

namespace {

// The alpha kernel of SynapticFilter for a unit impulse: c^2 (k + 1) a^k.
double alpha_kernel(Index k, double a) { return (1 - a) * (1 - a) * double(k + 1) * std::pow(a, double(k)); }

// Steps [t0, t0 + T) of x (features x batch x steps) as a series of T steps.
template <class S>
TimeSeries<S> piece(const TimeSeries<S>& x, Index t0, Index T) {
  TimeSeries<S> p(x.features(), x.batch(), T);
  for (Index t = 0; t < T; ++t) p.slot(t) = x.slot(t0 + t);
  return p;
}

using Net = Sequential<Linear<double>, SynapticFilter<double>, RefractoryLif<double>, Linear<double>,
                       SynapticFilter<double>>;

Net make_net(Rng& rng, Index in = 4, Index hidden = 12, Index out = 3) {
  Net net{Linear<double>(in, hidden, rng), SynapticFilter<double>(hidden, {SynapseKind::alpha, 0.004, 1e-3, 2}),
          RefractoryLif<double>(hidden, {.gain = 3.0, .amplitude = 1000.0}), Linear<double>(hidden, out, rng),
          SynapticFilter<double>(out, {SynapseKind::alpha, 0.005, 1e-3, 2})};
  net.layer<0>().weight() *= 3.0;  // strong enough to make most neurons fire
  return net;
}

}  // namespace

TEST_CASE("SynapticFilter stages: a cascade of the kernel, exact adjoint, continued in pieces", "[synaptic_filter]") {
  Rng rng(3);
  for (SynapseKind kind : {SynapseKind::exponential, SynapseKind::alpha}) {
    SynapticFilter<double> one(3, {kind, 0.004, 1e-3}), two(3, {kind, 0.004, 1e-3, 2});
    TimeSeries<double> x(3, 2, 40), y1, y11, y2;
    test::fill_uniform(x, rng, -1.0, 1.0);
    one.forward(x, y1, ForwardContext::eval());
    one.forward(y1, y11, ForwardContext::eval());
    two.forward(x, y2, ForwardContext::eval());
    CHECK((y2.values() - y11.values()).norm() <= 1e-13);
    CHECK((y2.values() - y1.values()).norm() > 0.1);
    // adjoint: <g, F x> = <F^T g, x>
    TimeSeries<double> g(3, 2, 40), gx;
    test::fill_uniform(g, rng, -1.0, 1.0);
    two.backward(x, y2, g, &gx);
    CHECK((g.values().array() * y2.values().array()).sum() ==
          Approx((gx.values().array() * x.values().array()).sum()).epsilon(1e-12));
    // step by step and in pieces from the state
    CHECK((run_stepwise(two, x).values() - y2.values()).norm() <= 1e-13);
    auto st = two.make_state(2);
    TimeSeries<double> a, b;
    two.forward_continued(piece(x, 0, 15), a, st);
    two.forward_continued(piece(x, 15, 25), b, st);
    CHECK((a.values() - piece(y2, 0, 15).values()).norm() <= 1e-13);
    CHECK((b.values() - piece(y2, 15, 25).values()).norm() <= 1e-13);
    auto wrong = two.make_state(3);
    CHECK_THROWS_AS(two.forward_continued(x, a, wrong), ShapeError);
  }
  CHECK(SynapticFilter<float>(2, {SynapseKind::alpha, 0.005, 1e-3, 2}).description().find("alphax2") != std::string::npos);
  CHECK_THROWS_AS(SynapticFilter<float>(2, {SynapseKind::alpha, 0.005, 1e-3, 0}), ConfigError);
}

TEST_CASE("RefractoryLif continued in pieces equals one forward pass", "[refractory_lif]") {
  Rng rng(5);
  RefractoryLif<double> lif(6, {.gain = 2.0});
  TimeSeries<double> x(6, 2, 300), y;
  test::fill_uniform(x, rng, 0.0, 1.5);
  lif.forward(x, y, ForwardContext::eval());
  REQUIRE(y.values().sum() > 10);  // it spikes
  auto st = lif.make_state(2);
  TimeSeries<double> a, b;
  lif.forward_continued(piece(x, 0, 137), a, st);
  lif.forward_continued(piece(x, 137, 163), b, st);
  CHECK(a.values() == piece(y, 0, 137).values());
  CHECK(b.values() == piece(y, 137, 163).values());
  CHECK(st.s == y.slot(299));
  auto wrong = lif.make_state(1);
  CHECK_THROWS_AS(lif.forward_continued(x, a, wrong), ShapeError);
}

TEST_CASE("The zero-phase filter of an impulse is the autocorrelation of the kernel", "[back_to_back][filter]") {
  const double tau = 0.005, dt = 1e-3, a = std::exp(-dt / tau);
  const Index T = 400, t0 = 150;  // the forward state left at the end is below 1e-30
  Matrix<double> y = Matrix<double>::Zero(2, T);
  y(0, t0) = 1.0;
  y(1, t0) = -2.0;  // linear, per feature
  zero_phase_filter(y, {SynapseKind::alpha, tau, dt});
  // forward: h[j - t0] for j >= t0; backward: sum_{j >= k} h[j - k] (forward at j)
  for (Index k : {Index(0), Index(100), Index(145), t0, Index(155), Index(180), Index(250)}) {
    double want = 0;
    for (Index j = std::max(k, t0); j < T; ++j) want += alpha_kernel(j - k, a) * alpha_kernel(j - t0, a);
    CHECK(y(0, k) == Approx(want).epsilon(1e-10));
    CHECK(y(1, k) == Approx(-2 * want).epsilon(1e-10));
  }
  // zero phase: symmetric about the impulse, peak at it
  for (Index d : {Index(1), Index(5), Index(20)}) CHECK(y(0, t0 + d) == Approx(y(0, t0 - d)).epsilon(1e-12));
  Index peak = 0;
  y.row(0).maxCoeff(&peak);
  CHECK(peak == t0);
  // two exponential stages by hand: y1 = h2(h1(x)) forward from zero; then the reversed y1
  // through h1 and h2, each continued from the state its forward pass ended in
  Matrix<double> z = Matrix<double>::Random(1, 60), zz = z;
  zero_phase_filter(z, {SynapseKind::exponential, tau, dt, 2});
  const double c = 1 - a;
  {
    Matrix<double> x = zz;
    double s1 = 0, s2 = 0;
    for (Index t = 0; t < x.cols(); ++t) x(0, t) = s1 = a * s1 + c * x(0, t);
    for (Index t = 0; t < x.cols(); ++t) x(0, t) = s2 = a * s2 + c * x(0, t);
    for (Index t = x.cols() - 1; t >= 0; --t) x(0, t) = s1 = a * s1 + c * x(0, t);
    for (Index t = x.cols() - 1; t >= 0; --t) x(0, t) = s2 = a * s2 + c * x(0, t);
    CHECK((z - x).norm() <= 1e-13);
  }
  // unit DC gain; the forward pass starts from zero, the backward pass from the forward's end
  Matrix<double> k = Matrix<double>::Constant(1, 400, 3.0);
  zero_phase_filter(k, {SynapseKind::alpha, 0.01, dt});
  CHECK(k(0, 200) == Approx(3.0).epsilon(1e-6));
  CHECK(k(0, 399) == Approx(3.0).epsilon(1e-6));
  CHECK(k(0, 0) < 2.0);
}

TEST_CASE("ContinuousRun over pieces equals one forward pass over the whole sequence", "[back_to_back]") {
  Rng rng(8);
  Net net = make_net(rng);
  TimeSeries<double> x(4, 3, 90), whole;
  test::fill_uniform(x, rng, 0.0, 1.0);
  Net ref = net;
  whole = ref.forward(x, ForwardContext::eval());
  REQUIRE(whole.values().norm() > 0);
  ContinuousRun run(net, 3);
  Index t0 = 0;
  for (Index len : {Index(30), Index(1), Index(29), Index(30)}) {
    const TimeSeries<double>& y = run.run(piece(x, t0, len));
    CHECK((y.values() - piece(whole, t0, len).values()).norm() <= 1e-9 * (1 + whole.values().norm()));
    t0 += len;
  }
  // the state is carried: the last piece alone, from the zero state, differs
  Net fresh = net;
  const TimeSeries<double>& alone = fresh.forward(piece(x, 60, 30), ForwardContext::eval());
  CHECK((alone.values() - piece(whole, 60, 30).values()).norm() > 1e-3);
  // reset: back to the zero state
  run.reset(3);
  CHECK((run.run(piece(x, 0, 30)).values() - piece(whole, 0, 30).values()).norm() <= 1e-9 * (1 + whole.values().norm()));
  TimeSeries<double> bad(4, 2, 5);
  CHECK_THROWS_AS(run.run(bad), ShapeError);
}

TEST_CASE("evaluate_back_to_back equals the protocol computed on one long sequence per run", "[back_to_back]") {
  Rng rng(21);
  Net net = make_net(rng);
  const Index N = 7, F = 4, C = 3;
  Matrix<double> images(F, N);
  for (Index i = 0; i < N; ++i)
    for (Index f = 0; f < F; ++f) images(f, i) = rng.uniform();
  std::vector<int> labels;
  for (Index i = 0; i < N; ++i) labels.push_back(int(rng.below(3)));
  BackToBackConfig cfg;
  cfg.steps_per_image = 40;
  cfg.window = 6;
  cfg.max_wrong_fraction = 0.4;
  cfg.readout = {SynapseKind::alpha, 0.01, 1e-3};
  cfg.images_per_run = 3;  // runs of 3, 3 and 1 images
  cfg.runs_together = 2;   // simulated as batches of 2 runs and 1 run
  Index calls = 0;
  const BackToBackResult r = evaluate_back_to_back(net, images, labels, cfg, [&](Index done, Index total) {
    ++calls;
    CHECK(total == N);
    CHECK(done <= N);
  });
  CHECK(calls == 2);
  REQUIRE(r.images == N);
  REQUIRE(r.wrong_steps.size() == std::size_t(N));

  // by hand: each run as one long sequence of batch 1, Nengo's clock, wrapping to its first image
  const Index T = cfg.steps_per_image;
  Index errors = 0, total_wrong = 0;
  for (Index first = 0; first < N; first += 3) {
    const Index len = std::min<Index>(3, N - first);
    TimeSeries<double> x(F, 1, len * T);
    auto image_at = [&](Index k) { return first + ((k + 1) / T) % len; };
    for (Index k = 0; k < len * T; ++k) x.slot(k) = images.col(image_at(k));
    Net fresh = net;
    const TimeSeries<double>& out = fresh.forward(x, ForwardContext::eval());
    Matrix<double> y = out.values();
    REQUIRE(y.rows() == C);
    zero_phase_filter(y, cfg.readout);
    for (Index i = 0; i < len; ++i) {
      Index wrong = 0;
      for (Index k = (i + 1) * T - cfg.window; k < (i + 1) * T; ++k) {
        Index best = 0;
        for (Index c = 1; c < C; ++c)
          if (y(c, k) > y(best, k)) best = c;
        wrong += best != labels[std::size_t(image_at(k))];
      }
      CHECK(r.wrong_steps[std::size_t(first + i)] == wrong);
      errors += double(wrong) / double(cfg.window) > 0.4;
      total_wrong += wrong;
    }
  }
  CHECK(r.errors == errors);
  CHECK(total_wrong > 0);                  // the network is not perfect on random labels
  CHECK(total_wrong < N * cfg.window);     // nor always wrong
  CHECK(r.tally().total == N);
  CHECK(r.error() == Approx(double(errors) / double(N)));
}

TEST_CASE("evaluate_back_to_back rejects bad input and settings", "[back_to_back][errors]") {
  Rng rng(2);
  Net net = make_net(rng);
  Matrix<double> images = Matrix<double>::Constant(4, 2, 0.5);
  const BackToBackConfig ok{.steps_per_image = 20};
  CHECK_NOTHROW(evaluate_back_to_back(net, images, {0, 2}, ok));
  CHECK_THROWS_AS(evaluate_back_to_back(net, images, {0}, ok), ShapeError);
  CHECK_THROWS_WITH(evaluate_back_to_back(net, images, {0, 3}, ok), Catch::Contains("image 1"));
  Matrix<double> wide = Matrix<double>::Constant(5, 2, 0.5);
  CHECK_THROWS_AS(evaluate_back_to_back(net, wide, {0, 1}, ok), ShapeError);
  BackToBackConfig bad = ok;
  bad.window = 21;
  CHECK_THROWS_AS(evaluate_back_to_back(net, images, {0, 1}, bad), ConfigError);
  bad = ok;
  bad.clock_offset = 20;
  CHECK_THROWS_AS(evaluate_back_to_back(net, images, {0, 1}, bad), ConfigError);
  bad = ok;
  bad.max_wrong_fraction = 1.0;
  CHECK_THROWS_AS(evaluate_back_to_back(net, images, {0, 1}, bad), ConfigError);
  bad = ok;
  bad.readout.tau = -1;
  CHECK_THROWS_AS(evaluate_back_to_back(net, images, {0, 1}, bad), ConfigError);
}

TEST_CASE("to_spiking with two synapses per connection puts two-stage filters everywhere", "[transfer]") {
  Rng rng(4);
  Sequential<Linear<float>, SoftLifRate<float>, Linear<float>> ann{Linear<float>(3, 4, rng), SoftLifRate<float>(4),
                                                                  Linear<float>(4, 2, rng)};
  auto snn = to_spiking(ann, {.dt = 1e-3, .tau_synapse = 0.005, .synapse_stages = 2});
  CHECK(snn.layer<1>().config().stages == 2);
  CHECK(snn.layer<4>().config().stages == 2);
  auto one_out = to_spiking(ann, {.dt = 1e-3, .tau_synapse = 0.005, .synapse_stages = 2, .output_stages = 1});
  CHECK(one_out.layer<1>().config().stages == 2);
  CHECK(one_out.layer<4>().config().stages == 1);
  CHECK_THROWS_AS(to_spiking(ann, {.synapse_stages = 0}), ConfigError);
}
