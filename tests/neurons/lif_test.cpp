// LIF neurons against hand-computed trajectories.
#include <spikelab/neurons/concepts.hpp>
#include <spikelab/neurons/leaky_integrator.hpp>
#include <spikelab/neurons/lif.hpp>

#include "support/test_support.hpp"

#include <cmath>

using namespace spikelab;

namespace {
// Constant current I into one neuron for T steps; returns the spike train.
template <class R>
std::vector<int> drive(double beta, double theta, double current, Index T) {
  LifType<double, FastSigmoid, R> lif(1, {.beta = beta, .threshold = theta});
  TimeSeries<double> x(1, 1, T), s;
  x.values().setConstant(current);
  lif.forward(x, s, ForwardContext::eval());
  std::vector<int> out;
  for (Index t = 0; t < T; ++t) out.push_back(int(s(0, 0, t)));
  return out;
}
}  // namespace

TEST_CASE("A 1-neuron LIF driven by a constant current first spikes at the step the equation gives",
          "[lif][hand]") {
  // v_t = beta v_{t-1} + I (no spike yet) = I (1 - beta^{t+1}) / (1 - beta); the first t with
  // v_t > theta is t* = ceil(log(1 - theta (1 - beta) / I) / log(beta)) - 1.
  const double beta = 0.9, theta = 1.0, I = 0.3;
  const int t_star = int(std::ceil(std::log(1 - theta * (1 - beta) / I) / std::log(beta))) - 1;
  REQUIRE(t_star == 3);  // v = 0.3, 0.57, 0.813, 1.0317
  auto s = drive<SubtractReset>(beta, theta, I, 12);
  for (int t = 0; t < t_star; ++t) CHECK(s[std::size_t(t)] == 0);
  CHECK(s[std::size_t(t_star)] == 1);
  // subtractive reset: v_4 = 0.9 * 1.0317 + 0.3 - 1 = 0.22853, v_5 = 0.505677, v_6 = 0.7551093,
  // v_7 = 0.97959837, v_8 = 1.181638533 -> next spike at t = 8
  CHECK(s[4] == 0);
  CHECK(s[7] == 0);
  CHECK(s[8] == 1);
  // reset to zero: the trajectory restarts from 0 after every spike -> period t* + 1
  auto z = drive<ZeroReset>(beta, theta, I, 12);
  CHECK(z == std::vector<int>{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1});
  // no reset: above threshold forever after t*
  auto n = drive<NoReset>(beta, theta, I, 8);
  CHECK(n == std::vector<int>{0, 0, 0, 1, 1, 1, 1, 1});
  // a current below the rheobase theta (1 - beta) = 0.1 never fires
  auto q = drive<SubtractReset>(beta, theta, 0.0999, 200);
  CHECK(std::count(q.begin(), q.end(), 1) == 0);
}

TEST_CASE("Membrane potentials follow the update equation exactly", "[lif][hand]") {
  LifType<double, FastSigmoid, SubtractReset> lif(1, {.beta = 0.9, .threshold = 1.0});
  TimeSeries<double> x(1, 1, 6), s;
  x.values().setConstant(0.3);
  Rng rng(1);
  lif.forward(x, s, ForwardContext::train(rng));
  const double expect[] = {0.3, 0.57, 0.813, 1.0317, 0.22853, 0.505677};
  for (int t = 0; t < 6; ++t) CHECK(lif.membrane()(0, 0, t) == Approx(expect[t]).epsilon(1e-12));
}

TEST_CASE("A synaptic current filters the input with decay alpha", "[lif][hand]") {
  // impulse at t = 0: I_t = alpha^t, v_t = beta v_{t-1} + I_t (threshold high, no spikes)
  LifType<double, FastSigmoid, SubtractReset> lif(1, {.beta = 0.8, .alpha = 0.5, .threshold = 100.0});
  REQUIRE(lif.synaptic());
  TimeSeries<double> x(1, 1, 5), s;
  x.set_zero();
  x(0, 0, 0) = 1.0;
  Rng rng(1);
  lif.forward(x, s, ForwardContext::train(rng));
  double v = 0, i = 0;
  for (int t = 0; t < 5; ++t) {
    i = 0.5 * i + (t == 0 ? 1.0 : 0.0);
    v = 0.8 * v + i;
    CHECK(lif.membrane()(0, 0, t) == Approx(v).epsilon(1e-12));
  }
}

TEST_CASE("Step-by-step simulation with explicit state equals the whole-sequence forward", "[lif]") {
  Rng rng(3);
  using L = LifType<double, Arctan, ZeroReset, LifOptions{.recurrent = true}>;
  L lif(5, rng, {.beta = 0.85, .alpha = 0.3, .threshold = 0.7});
  TimeSeries<double> x(5, 3, 30), s;
  test::fill_uniform(x, rng, -0.2, 0.8);
  lif.forward(x, s, ForwardContext::eval());
  auto st = lif.make_state(3);
  for (Index t = 0; t < 30; ++t) {
    lif.step(st, x.slot(t));
    REQUIRE(st.s == Matrix<double>(s.slot(t)));
  }
  CHECK(s.values().sum() > 0);  // it did spike
  CHECK(run_stepwise(lif, x).values() == s.values());
  LeakyIntegratorType<double, Train::per_neuron> li(5, {.beta = 0.7, .normalize = true});
  TimeSeries<double> v;
  li.forward(x, v, ForwardContext::eval());
  CHECK((run_stepwise(li, x).values() - v.values()).cwiseAbs().maxCoeff() < 1e-14);
}

TEST_CASE("The recurrent projection adds V s_{t-1} to the input", "[lif]") {
  Rng rng(4);
  RecurrentLif<double> lif(2, rng, {.beta = 0.5, .threshold = 0.5});
  lif.recurrent_weight() << 0.0, 0.7, 0.0, 0.0;  // neuron 1 excites neuron 0
  TimeSeries<double> x(2, 1, 3), s;
  x.set_zero();
  x(1, 0, 0) = 1.0;  // neuron 1 spikes at t=0
  lif.forward(x, s, ForwardContext::eval());
  CHECK(s(1, 0, 0) == 1.0);
  CHECK(s(0, 0, 0) == 0.0);
  CHECK(s(0, 0, 1) == 1.0);  // 0.7 > 0.5 at t = 1 through the recurrent weight
}

TEST_CASE("A leaky integrator readout integrates its input", "[lif][readout]") {
  LeakyIntegrator<double> li(1, {.beta = 0.5});
  TimeSeries<double> x(1, 1, 4), v;
  x.values() << 1, 0, 2, 0;
  li.forward(x, v, ForwardContext::eval());
  CHECK(v.values()(0, 0) == 1.0);
  CHECK(v.values()(0, 1) == 0.5);
  CHECK(v.values()(0, 2) == 2.25);
  CHECK(v.values()(0, 3) == 1.125);
  LeakyIntegrator<double> norm(1, {.beta = 0.5, .normalize = true});
  norm.forward(x, v, ForwardContext::eval());
  CHECK(v.values()(0, 0) == 0.5);
}

TEST_CASE("LIF layers reject inputs of the wrong size and backward without a training pass", "[lif][errors]") {
  Lif<float> lif(4);
  TimeSeries<float> x(3, 2, 5), s;
  CHECK_THROWS_AS(lif.forward(x, s, ForwardContext::eval()), ShapeError);
  TimeSeries<float> y(4, 2, 5);
  y.set_zero();
  lif.forward(y, s, ForwardContext::eval());
  CHECK_THROWS_AS(lif.backward(y, s, s, nullptr), ShapeError);
  CHECK_THROWS_AS(Lif<float>(0), ConfigError);
  CHECK_THROWS_AS(Lif<float>(3, {.beta = 1.5}), ConfigError);
}
