// hSNN's 'cum' decoder loss: a hand-computed value, gradients against finite differences
// (directly and through a network), padding, and learning on MTS-XOR-like data.
#include <spikelab/spikelab.hpp>
#include <spikelab/testing/gradient_check.hpp>

#include "support/test_support.hpp"

using namespace spikelab;

TEST_CASE("The cum decoder's loss matches a hand computation", "[temporal][loss]") {
  // one sample, 2 classes, 2 steps: V_0 = (0, 0), V_1 = (ln 3, 0)
  // q_0 = (1/2, 1/2), q_1 = (3/4, 1/4) -> z = (5/4, 3/4); label 0: L = log(1 + e^{-1/2})
  Batch<double> b;
  b.input.resize(1, 1, 2);
  b.labels = {0};
  TimeSeries<double> v(2, 1, 2);
  v(0, 0, 0) = 0;
  v(1, 0, 0) = 0;
  v(0, 0, 1) = std::log(3.0);
  v(1, 0, 1) = 0;
  CumSoftmaxCrossEntropy loss;
  CHECK(loss.value(v, b) == Approx(std::log(1 + std::exp(-0.5))).epsilon(1e-12));
  const Tally t = loss.tally(v, b);
  CHECK(t.correct == 1);
  CHECK(t.total == 1);
  b.labels = {1};
  CHECK(loss.value(v, b) == Approx(std::log(1 + std::exp(0.5))).epsilon(1e-12));
  CHECK(loss.tally(v, b).correct == 0);
  b.labels = {2};
  CHECK_THROWS_AS(loss.value(v, b), ShapeError);
}

TEST_CASE("The cum decoder's gradient matches finite differences, with padding", "[temporal][loss][gradient]") {
  Rng rng(4);
  const Index C = 4, B = 3, T = 7;
  TimeSeries<double> v(C, B, T);
  test::fill_uniform(v, rng, -2, 2);
  Batch<double> b;
  b.input.resize(1, B, T);
  b.labels = {3, 0, 2};
  b.lengths = {7, 4, 1};
  CumSoftmaxCrossEntropy loss;
  TimeSeries<double> g;
  const double l0 = loss.value_and_gradient(v, b, g);
  CHECK(l0 == Approx(loss.value(v, b)));
  for (Index k = 0; k < v.values().size(); ++k) {
    const double keep = v.values().data()[k], h = 1e-6;
    v.values().data()[k] = keep + h;
    const double up = loss.value(v, b);
    v.values().data()[k] = keep - h;
    const double down = loss.value(v, b);
    v.values().data()[k] = keep;
    CHECK(g.values().data()[k] == Approx((up - down) / (2 * h)).margin(1e-9));
  }
  // padding steps get no gradient
  CHECK(g.values().col(v.column(2, 1)).norm() == 0.0);
  CHECK(g.values().col(v.column(1, 5)).norm() == 0.0);
  CHECK(g.values().col(v.column(1, 3)).norm() > 0.0);
}

TEST_CASE("BPTT through a network is exact under the cum decoder loss", "[temporal][loss][gradient]") {
  Rng rng(6);
  using L = LifType<double, SmoothTwin<Boxcar>, SubtractReset, LifOptions{.beta = Train::per_neuron}>;
  Sequential<Linear<double>, L, Linear<double>, LeakyIntegrator<double>> net{
      Linear<double>(5, 6, rng), L(6, {.beta = 0.9, .threshold = 0.6}, {{.height = 0.8, .half_width = 1.2}}),
      Linear<double>(6, 3, rng), LeakyIntegrator<double>(3, {.beta = 0.8, .normalize = true})};
  Batch<double> b;
  b.input.resize(5, 3, 20);
  test::fill_uniform(b.input, rng, -0.5, 1.5);
  b.labels = {1, 2, 0};
  b.lengths = {20, 13, 17};
  CumSoftmaxCrossEntropy loss;
  auto r = testing::check_gradients(net, loss, b, {.step = 1e-6, .max_per_block = 40});
  INFO(r.report());
  for (const auto& blk : r.blocks) REQUIRE(blk.analytic_norm > 0);
  CHECK(r.max_rel_error < 1e-6);
}
