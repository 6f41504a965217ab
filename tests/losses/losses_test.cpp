// Losses against hand-computed values.
#include <spikelab/losses/cross_entropy.hpp>
#include <spikelab/losses/rate_mse.hpp>

#include <catch2/catch.hpp>

#include <cmath>

using namespace spikelab;

namespace {
Batch<double> two_class_batch() {
  // 2 classes, 1 sample, 3 steps: class 0 outputs (1, 2, 0), class 1 outputs (0, 1, 4)
  Batch<double> b;
  b.input.resize(1, 1, 3);
  b.labels = {1};
  return b;
}
TimeSeries<double> outputs() {
  TimeSeries<double> o(2, 1, 3);
  o(0, 0, 0) = 1, o(0, 0, 1) = 2, o(0, 0, 2) = 0;
  o(1, 0, 0) = 0, o(1, 0, 1) = 1, o(1, 0, 2) = 4;
  return o;
}
}  // namespace

TEST_CASE("Sum / mean / max cross-entropy match hand-computed values", "[losses][hand]") {
  auto b = two_class_batch();
  auto o = outputs();
  TimeSeries<double> g;
  // sum: z = (3, 5), label 1: L = log(e^3 + e^5) - 5
  SumCrossEntropy sum;
  const double ls = std::log(std::exp(3.0) + std::exp(5.0)) - 5.0;
  CHECK(sum.value_and_gradient(o, b, g) == Approx(ls));
  const double p0 = std::exp(3.0) / (std::exp(3.0) + std::exp(5.0));
  CHECK(g(0, 0, 1) == Approx(p0));
  CHECK(g(1, 0, 2) == Approx(-p0));  // p1 - 1 = -p0
  // mean: z = (1, 5/3)
  MeanCrossEntropy mean;
  CHECK(mean.value(o, b) == Approx(std::log(std::exp(1.0) + std::exp(5.0 / 3)) - 5.0 / 3));
  // max: z = (2, 4); gradient only at the argmax steps
  MaxCrossEntropy mx;
  CHECK(mx.value_and_gradient(o, b, g) == Approx(std::log(std::exp(2.0) + std::exp(4.0)) - 4.0));
  CHECK(g(0, 0, 0) == 0.0);
  CHECK(g(0, 0, 1) == Approx(std::exp(2.0) / (std::exp(2.0) + std::exp(4.0))));
  CHECK(g(1, 0, 1) == 0.0);
  CHECK(g(1, 0, 2) < 0.0);
  CHECK(mx.tally(o, b).correct == 1);
}

TEST_CASE("Padding steps beyond a sample's length do not count", "[losses][ragged]") {
  auto b = two_class_batch();
  b.lengths = {2};
  auto o = outputs();
  TimeSeries<double> g;
  SumCrossEntropy sum;  // z = (3, 1) over the first 2 steps
  CHECK(sum.value_and_gradient(o, b, g) == Approx(std::log(std::exp(3.0) + std::exp(1.0)) - 1.0));
  CHECK(g(0, 0, 2) == 0.0);
  CHECK(g(1, 0, 2) == 0.0);
  CHECK(sum.tally(o, b).correct == 0);
}

TEST_CASE("Step cross-entropy scores only labelled steps", "[losses][step]") {
  auto o = outputs();
  Batch<double> b;
  b.input.resize(1, 1, 3);
  b.step_labels = {-1, 0, 1};
  StepCrossEntropy ce;
  TimeSeries<double> g;
  const double l1 = std::log(std::exp(2.0) + std::exp(1.0)) - 2.0;
  const double l2 = std::log(std::exp(0.0) + std::exp(4.0)) - 4.0;
  CHECK(ce.value_and_gradient(o, b, g) == Approx((l1 + l2) / 2));
  CHECK(g(0, 0, 0) == 0.0);
  CHECK(g(1, 0, 0) == 0.0);
  const Tally t = ce.tally(o, b);
  CHECK(t.total == 2);
  CHECK(t.correct == 2);
  b.step_labels.clear();
  CHECK_THROWS_AS(ce.value(o, b), ShapeError);
}

TEST_CASE("Per-step cross-entropy tallies only its decision steps, and its loss covers every labelled step",
          "[losses][hand]") {
  // 4 steps, all labelled; decisions counted at steps 1 and 2 only (hSNN's MTS-XOR: loss on all
  // steps, accuracy on the coding steps)
  TimeSeries<double> o(2, 1, 4);
  o.values().col(0) << 3.0, 0.0;  // label 1: wrong
  o.values().col(1) << 0.0, 2.0;  // label 1: right
  o.values().col(2) << 0.5, 1.0;  // label 0: wrong
  o.values().col(3) << 1.0, 0.0;  // label 1: wrong
  Batch<double> b;
  b.input.resize(1, 1, 4);
  b.step_labels = {1, 1, 0, 1};
  auto ce_of = [](double z0, double z1, int y) { return std::log(std::exp(z0) + std::exp(z1)) - (y == 0 ? z0 : z1); };
  const double want = (ce_of(3, 0, 1) + ce_of(0, 2, 1) + ce_of(0.5, 1, 0) + ce_of(1, 0, 1)) / 4;
  StepCrossEntropy all, some{.decision_steps = {0, 1, 1, 0}};
  CHECK(all.value(o, b) == Approx(want));
  CHECK(some.value(o, b) == Approx(want));
  TimeSeries<double> ga, gs;
  all.value_and_gradient(o, b, ga);
  some.value_and_gradient(o, b, gs);
  CHECK(gs.values() == ga.values());  // the gradient ignores decision_steps too
  CHECK(ga(0, 0, 0) != 0.0);
  const Tally ta = all.tally(o, b), ts = some.tally(o, b);
  CHECK(ta.total == 4);
  CHECK(ta.correct == 1);
  CHECK(ts.total == 2);
  CHECK(ts.correct == 1);
  StepCrossEntropy short_mask{.decision_steps = {1, 1}};
  CHECK_THROWS_AS(short_mask.tally(o, b), ShapeError);
}

TEST_CASE("Rate MSE matches hand-computed values", "[losses][hand]") {
  TimeSeries<double> s(2, 1, 4);
  s.values().row(0) << 1, 0, 1, 0;  // class 0 rate 0.5
  s.values().row(1) << 0, 1, 1, 1;  // class 1 rate 0.75
  Batch<double> b;
  b.input.resize(1, 1, 4);
  b.labels = {0};
  RateMse mse{.on_rate = 1.0, .off_rate = 0.0};
  TimeSeries<double> g;
  CHECK(mse.value_and_gradient(s, b, g) == Approx(0.5 * (0.25 + 0.5625)));
  CHECK(g(0, 0, 0) == Approx(-0.5 / 4));
  CHECK(g(1, 0, 3) == Approx(0.75 / 4));
  CHECK(mse.tally(s, b).correct == 0);
}

TEST_CASE("Losses reject out-of-range labels", "[losses][errors]") {
  auto o = outputs();
  auto b = two_class_batch();
  b.labels = {2};
  SumCrossEntropy sum;
  CHECK_THROWS_AS(sum.value(o, b), ShapeError);
  // the tally reads the labels through the same pass, so it rejects them too
  CHECK_THROWS_AS(sum.tally(o, b), ShapeError);
  CHECK_THROWS_AS(MaxCrossEntropy{}.tally(o, b), ShapeError);
  CHECK_THROWS_AS(RateMse{}.tally(o, b), ShapeError);
  b.labels = {-1};
  CHECK_THROWS_AS(MeanCrossEntropy{}.tally(o, b), ShapeError);
  b.labels.clear();
  CHECK_THROWS_AS(sum.value(o, b), ShapeError);
  CHECK_THROWS_AS(sum.tally(o, b), ShapeError);
}
