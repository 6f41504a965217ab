// The PSP-kernel MSE and the count loss: values by hand, gradients against finite differences,
// padding, batch reduction, prediction by the summed output, and errors.
#include "support/na_support.hpp"

using namespace spikelab;

namespace {
template <class L>
void check_fd(L loss, const Batch<double>& b, Rng& rng) {
  TimeSeries<double> out(b.input.features(), b.batch(), b.steps()), g;
  test::fill_uniform(out, rng, 0.0, 1.0);
  loss.value_and_gradient(out, b, g);
  const double h = 1e-6;
  for (Index k = 0; k < out.values().size(); ++k) {
    double& v = out.values().data()[k];
    const double keep = v;
    v = keep + h;
    const double lp = loss.value(out, b);
    v = keep - h;
    const double lm = loss.value(out, b);
    v = keep;
    CHECK(g.values().data()[k] == Approx((lp - lm) / (2 * h)).margin(1e-8));
  }
}
}  // namespace

TEST_CASE("PSP-kernel MSE: value and gradient by hand", "[na][loss]") {
  // tau_s = 2: the labelled class's target PSP is 0.5, 0.75, 0.875; the others' is 0
  Batch<double> b;
  b.input.resize(2, 1, 3);
  b.labels = {0};
  TimeSeries<double> out(2, 1, 3), g;
  const double o0[3] = {0.5, 0.5, 1.0}, o1[3] = {0.25, 0.0, 0.0};
  for (Index t = 0; t < 3; ++t) out(0, 0, t) = o0[t], out(1, 0, t) = o1[t];
  PspKernelMse loss;
  CHECK(loss.target(0) == 0.5);
  CHECK(loss.target(2) == 0.875);
  // diffs: class 0 [0, -0.25, 0.125], class 1 [0.25, 0, 0]; L = (0.0625 + 0.015625 + 0.0625) / 2
  CHECK(loss.value_and_gradient(out, b, g) == Approx(0.0703125));
  CHECK(g(0, 0, 1) == Approx(-0.25));
  CHECK(g(0, 0, 2) == Approx(0.125));
  CHECK(g(1, 0, 0) == Approx(0.25));
  CHECK(g(1, 0, 1) == 0.0);
  CHECK(loss.tally(out, b).correct == 1);
}

TEST_CASE("PSP-kernel MSE: mean or sum over the batch, padding ignored, finite differences", "[na][loss]") {
  Rng rng(3);
  Batch<double> b = test::uniform_batch<double>(rng, 4, 3, 5, 4, 0, 1);
  TimeSeries<double> out(4, 3, 5);
  test::fill_uniform(out, rng, 0.0, 1.0);
  PspKernelMse mean_loss{.tau_s = 4.0}, sum_loss{.tau_s = 4.0, .sum_over_batch = true};
  CHECK(sum_loss.value(out, b) == Approx(3.0 * mean_loss.value(out, b)));
  check_fd(mean_loss, b, rng);
  check_fd(sum_loss, b, rng);
  // padding: steps beyond a sample's length change nothing and get no gradient
  b.lengths = {5, 2, 4};
  TimeSeries<double> g;
  const double before = mean_loss.value_and_gradient(out, b, g);
  out(1, 1, 3) += 10.0;
  CHECK(mean_loss.value(out, b) == before);
  CHECK(g(1, 1, 3) == 0.0);
  check_fd(mean_loss, b, rng);
}

TEST_CASE("PSP count loss: only counts on the wrong side of their target are penalised", "[na][loss]") {
  // classes 3, T 4, label 1, desired 3, undesired 1; counts 2 (too many), 1 (too few), 0.5 (fine)
  Batch<double> b;
  b.input.resize(3, 1, 4);
  b.labels = {1};
  TimeSeries<double> out(3, 1, 4), g;
  for (Index t = 0; t < 4; ++t) out(0, 0, t) = 0.5, out(1, 0, t) = 0.25, out(2, 0, t) = 0.125;
  PspCountMse loss{.desired = 3.0, .undesired = 1.0};
  // deltas (2-1)/4 = 0.25 and (1-3)/4 = -0.5; L = 0.5 * 4 * (0.0625 + 0.25)
  CHECK(loss.value_and_gradient(out, b, g) == Approx(0.625));
  for (Index t = 0; t < 4; ++t) {
    CHECK(g(0, 0, t) == Approx(0.25));
    CHECK(g(1, 0, t) == Approx(-0.5));
    CHECK(g(2, 0, t) == 0.0);
  }
  CHECK(loss.tally(out, b).correct == 0);  // class 0 has the largest summed output
  Rng rng(5);
  Batch<double> rb = test::uniform_batch<double>(rng, 5, 4, 6, 5, 0, 1);
  check_fd(PspCountMse{.desired = 4.0, .undesired = 1.0}, rb, rng);
}

TEST_CASE("PSP losses: missing or out-of-range labels throw", "[na][loss]") {
  Batch<float> b;
  b.input.resize(3, 2, 4);
  TimeSeries<float> out(3, 2, 4), g;
  out.set_zero();
  CHECK_THROWS_AS(PspKernelMse{}.value(out, b), ShapeError);
  CHECK_THROWS_AS(PspCountMse{}.value(out, b), ShapeError);
  b.labels = {0, 3};
  CHECK_THROWS_AS(PspKernelMse{}.value_and_gradient(out, b, g), ShapeError);
  CHECK_THROWS_AS(PspCountMse{}.tally(out, b), ShapeError);
  b.labels = {0, 1};
  CHECK_THROWS_AS((PspKernelMse{.tau_s = 0.5}.value(out, b)), ConfigError);
}
