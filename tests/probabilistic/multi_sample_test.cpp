// Metrics (reliability diagram, ECE, classification meter) against hand-computed values, and
// K-compartment inference (majority / averaged decisions, their class probabilities, the
// K-sample log-likelihood estimates) on networks whose behaviour is known.
#include <spikelab/spikelab.hpp>

#include "support/probabilistic_support.hpp"
#include "support/test_support.hpp"

#include <cmath>

using namespace spikelab;

TEST_CASE("The reliability diagram bins confidences and gives the hand-computed ECE", "[probabilistic][metrics]") {
  ReliabilityDiagram d(5);  // bins [0,.2) [.2,.4) [.4,.6) [.6,.8) [.8,1]
  d.add(0.9, true);
  d.add(0.9, false);
  d.add(1.0, true);   // the last bin includes 1
  d.add(0.5, true);
  d.add(0.45, false);
  d.add(0.0, false);  // the first bin includes 0
  REQUIRE(d.count() == 6);
  CHECK(d.bin(4).count == 3);
  CHECK(d.bin(4).mean_confidence() == Approx(2.8 / 3));
  CHECK(d.bin(4).accuracy() == Approx(2.0 / 3));
  CHECK(d.bin(2).count == 2);
  CHECK(d.bin(0).count == 1);
  CHECK(d.bin(1).count == 0);
  // ECE = 3/6 |2/3 - 2.8/3| + 2/6 |1/2 - 0.475| + 1/6 |0 - 0|
  const double ece = 0.5 * std::abs(2.0 / 3 - 2.8 / 3) + (2.0 / 6) * std::abs(0.5 - 0.475);
  CHECK(d.expected_calibration_error() == Approx(ece));
  CHECK(d.maximum_calibration_error() == Approx(std::abs(2.0 / 3 - 2.8 / 3)));
  CHECK(d.accuracy() == Approx(3.0 / 6));
  CHECK(expected_calibration_error({0.9, 0.9, 1.0, 0.5, 0.45, 0.0}, {true, false, true, true, false, false}, 5) ==
        Approx(ece));
  // a calibrated predictor: confidence 0.75, right 3 times out of 4
  ReliabilityDiagram c(10);
  for (int i = 0; i < 400; ++i) c.add(0.75, i % 4 != 0);
  CHECK(c.expected_calibration_error() == Approx(0.0).margin(1e-12));
  ReliabilityDiagram e(5);
  e.merge(d);
  CHECK(e.expected_calibration_error() == Approx(ece));
  CHECK_THROWS_AS(d.add(1.5, true), ConfigError);
  CHECK_THROWS_AS(ReliabilityDiagram(0), ConfigError);
  CHECK_THROWS_AS(c.merge(d), ConfigError);
}

TEST_CASE("The classification meter reports accuracy, log p of the true class, Brier score and ECE",
          "[probabilistic][metrics]") {
  ClassificationMeter m(10);
  Matrix<double> p(3, 3);
  p.col(0) << 0.7, 0.2, 0.1;    // label 0: right, conf .7
  p.col(1) << 0.25, 0.25, 0.5;  // label 1: wrong, conf .5
  p.col(2) << 0.4, 0.4, 0.2;    // label 1: tie -> predicts 0 (lowest index): wrong, conf .4
  m.add_batch(p, {0, 1, 1});
  CHECK(m.count() == 3);
  CHECK(m.accuracy() == Approx(1.0 / 3));
  CHECK(m.mean_log_probability() == Approx((std::log(0.7) + std::log(0.25) + std::log(0.4)) / 3));
  const double brier = (0.09 + 0.04 + 0.01 + 0.0625 + 0.5625 + 0.25 + 0.16 + 0.36 + 0.04) / 3;
  CHECK(m.brier() == Approx(brier));
  CHECK(m.ece() == Approx((std::abs(1 - 0.7) + 0.5 + 0.4) / 3));
  m.add_log_likelihood(-10);
  m.add_log_likelihood(-20);
  CHECK(m.mean_log_likelihood() == Approx(-15));
  Vector<double> bad(3);
  bad << 0.5, 0.6, 0.1;
  CHECK_THROWS_AS(m.add(bad, 0), ConfigError);
  CHECK_THROWS_AS(m.add(p.col(0), 3), ShapeError);
  CHECK_THROWS_AS(m.add_batch(p, {0, 1}), ShapeError);
}

namespace {
/// A network whose outputs ignore the input: output circuit c fires with probability q[c].
GlmSnn<double> fixed_rate_network(const std::vector<double>& q, Index inputs) {
  ProbabilisticSnnConfig cfg;
  cfg.inputs = inputs;
  cfg.hidden = 2;
  cfg.outputs = Index(q.size());
  Rng rng(1);
  GlmSnn<double> net(cfg, rng);
  net.weight().setZero();
  net.feedback_weight().setZero();
  for (Index c = 0; c < Index(q.size()); ++c) net.bias()(2 + c, 0) = std::log(q[std::size_t(c)] / (1 - q[std::size_t(c)]));
  return net;
}
}  // namespace

TEST_CASE("Multi-sample inference gives vote fractions and averaged count distributions", "[probabilistic][inference]") {
  // output 1 always fires, outputs 0 and 2 never: every compartment votes for class 1
  GlmSnn<double> net = fixed_rate_network({1e-12, 1 - 1e-12, 1e-12}, 4);
  Batch<double> batch;
  batch.input.resize(4, 2, 10);
  batch.input.set_zero();
  batch.labels = {1, 0};
  Rng rng(3);
  MultiSamplePrediction pred;
  predict(net, batch, 5, rng, pred);
  REQUIRE(pred.counts.rows() == 3);
  REQUIRE(pred.counts.cols() == 10);
  CHECK(pred.counts.row(1).minCoeff() == 10);
  CHECK(pred.counts.row(0).maxCoeff() == 0);
  for (Index b = 0; b < 2; ++b) {
    CHECK(pred.majority(1, b) == 1.0);
    CHECK(pred.average(1, b) == 1.0);
    CHECK(pred.predicted(Decision::majority, b) == 1);
  }
  // a silent network votes uniformly
  GlmSnn<double> silent = fixed_rate_network({1e-12, 1e-12, 1e-12}, 4);
  predict(silent, batch, 3, rng, pred);
  CHECK(pred.majority.col(0).isApproxToConstant(1.0 / 3));
  CHECK(pred.average.col(1).isApproxToConstant(1.0 / 3));
  // two equally likely classes: with K compartments the vote fraction of class 0 is
  // Binomial(K, 1/2)/K on average 1/2, and its calibration improves with K
  GlmSnn<double> coin = fixed_rate_network({0.5, 0.5, 1e-12}, 4);
  Batch<double> many;
  many.input.resize(4, 400, 1);  // one step: each compartment emits one spike at most
  many.input.set_zero();
  many.labels.assign(400, 0);
  for (Index K : {1, 8}) {
    predict(coin, many, K, rng, pred);
    ClassificationMeter meter(10);
    meter.add_batch(pred.majority, many.labels);
    INFO("K = " << K << " accuracy " << meter.accuracy() << " ECE " << meter.ece());
    CHECK(pred.majority.row(2).maxCoeff() < 0.34);  // only silent-compartment ties vote for it
    if (K == 1) CHECK(meter.ece() > 0.3);           // one sample: confident, right half the time
    if (K == 8) CHECK(meter.ece() < 0.25);
    CHECK(pred.majority.colwise().sum().isApproxToConstant(1.0));
    CHECK(pred.average.colwise().sum().isApproxToConstant(1.0));
  }
}

TEST_CASE("K-sample target log-likelihoods: the mean is exact without hidden noise and the IW estimate is larger",
          "[probabilistic][inference]") {
  // outputs depend only on biases: LL is deterministic and both estimates equal it
  GlmSnn<double> net = fixed_rate_network({0.2, 0.7}, 3);
  Batch<double> batch;
  batch.input.resize(3, 2, 6);
  batch.input.set_zero();
  batch.labels = {1, 0};
  Rng rng(2);
  std::vector<double> mean, iw;
  target_log_likelihood(net, batch, 4, rng, mean, iw);
  const double ll1 = 6 * (std::log(0.8) + std::log(0.7)), ll0 = 6 * (std::log(0.2) + std::log(0.3));
  CHECK(mean[0] == Approx(ll1));
  CHECK(iw[0] == Approx(ll1));
  CHECK(mean[1] == Approx(ll0));
  // with hidden neurons driving the outputs, log-mean-exp >= mean (Jensen)
  ProbabilisticSnnConfig cfg;
  cfg.inputs = 3;
  cfg.hidden = 6;
  cfg.outputs = 2;
  cfg.init_magnitude = 1.5;
  GlmSnn<double> noisy(cfg, rng);
  target_log_likelihood(noisy, batch, 8, rng, mean, iw);
  CHECK(iw[0] > mean[0]);
  CHECK(iw[1] > mean[1]);
  // evaluate_multi_sample over a source
  test::PatternSource<double> src;
  src.inputs = 3;
  src.classes = 2;
  src.n = 20;
  src.batch_size = 7;
  const MultiSampleReport r = evaluate_multi_sample(noisy, src, {.compartments = 4, .bins = 5}, rng);
  CHECK(r.samples == 20);
  CHECK(r.majority.count() == 20);
  CHECK(r.average.count() == 20);
  CHECK(r.ll_iw >= r.ll_mean);
  CHECK(r.majority.diagram().bins() == 5);
  CHECK(r.majority.mean_log_likelihood() == Approx(r.ll_iw));
}

TEST_CASE("The K-sample bound from N samples: groups of K, the mean at K = 1, monotone along divisors of N",
          "[probabilistic][inference]") {
  const std::vector<double> ll = {9.0, -3.0, -4.0, -1.0, -7.0, -2.0, -5.0, -6.0, 2.0};  // first entry skipped
  auto lme = [](std::initializer_list<double> x) {
    double z = 0;
    for (double a : x) z += std::exp(a);
    return std::log(z / double(x.size()));
  };
  CHECK(detail::k_sample_bound(ll, 1, 8, 1) == Approx((-3 - 4 - 1 - 7 - 2 - 5 - 6 + 2) / 8.0));
  CHECK(detail::k_sample_bound(ll, 1, 8, 2) ==
        Approx((lme({-3, -4}) + lme({-1, -7}) + lme({-2, -5}) + lme({-6, 2})) / 4.0));
  CHECK(detail::k_sample_bound(ll, 1, 8, 8) == Approx(lme({-3, -4, -1, -7, -2, -5, -6, 2})));
  // a remainder that does not fill a group is left out
  CHECK(detail::k_sample_bound(ll, 1, 7, 3) == Approx((lme({-3, -4, -1}) + lme({-7, -2, -5})) / 2.0));
  CHECK(detail::k_sample_bound(ll, 1, 8, 1) < detail::k_sample_bound(ll, 1, 8, 2));
  CHECK(detail::k_sample_bound(ll, 1, 8, 2) < detail::k_sample_bound(ll, 1, 8, 4));
  CHECK(detail::k_sample_bound(ll, 1, 8, 4) < detail::k_sample_bound(ll, 1, 8, 8));
  CHECK_THROWS_AS(detail::k_sample_bound(ll, 1, 8, 9), ConfigError);
  // evaluate_multi_sample reports the bounds from its N samples: K = 1 is the mean, K = N the IW estimate
  ProbabilisticSnnConfig cfg;
  cfg.inputs = 3;
  cfg.hidden = 6;
  cfg.outputs = 2;
  cfg.init_magnitude = 1.5;
  Rng rng(4);
  GlmSnn<double> noisy(cfg, rng);
  test::PatternSource<double> src;
  src.inputs = 3;
  src.classes = 2;
  src.n = 12;
  src.batch_size = 5;
  const MultiSampleReport r = evaluate_multi_sample(noisy, src, {.compartments = 8, .bounds = {1, 2, 8}}, rng);
  REQUIRE(r.ll_bound.size() == 3);
  CHECK(r.ll_bound[0] == Approx(r.ll_mean));
  CHECK(r.ll_bound[2] == Approx(r.ll_iw));
  CHECK(r.ll_bound[0] < r.ll_bound[1]);
  CHECK(r.ll_bound[1] < r.ll_bound[2]);
  CHECK_THROWS_AS(evaluate_multi_sample(noisy, src, {.compartments = 4, .bounds = {8}}, rng), ConfigError);
  // likelihoods only: no decisions are scored
  const MultiSampleReport lo = evaluate_multi_sample(noisy, src, {.compartments = 2, .decisions = false}, rng);
  CHECK(lo.majority.count() == 0);
  CHECK(lo.ll_mean < 0);
  // a network that always answers class 1: one compartment is right exactly when the label is 1
  GlmSnn<double> sure = fixed_rate_network({1e-12, 1 - 1e-12}, 3);
  const MultiSampleReport s1 = evaluate_multi_sample(sure, src, {.compartments = 3}, rng);
  CHECK(s1.majority.accuracy() > 0);
  CHECK(s1.majority.accuracy() < 1);
  CHECK(s1.single_accuracy == Approx(s1.majority.accuracy()));
}

TEST_CASE("Pattern evaluation: likelihood of explicit output trains and the filtered distance by hand",
          "[probabilistic][inference][pattern]") {
  // outputs fire with fixed probabilities 1 and 0 (biases only): generated trains are certain
  GlmSnn<double> net = fixed_rate_network({1 - 1e-12, 1e-12}, 2);
  Batch<double> batch;
  batch.input.resize(2, 1, 5);
  batch.input.set_zero();
  TimeSeries<double> y(2, 1, 5);
  y.set_zero();
  // target: unit 0 fires at t = 0, 1, 3; unit 1 fires at t = 2
  y(0, 0, 0) = y(0, 0, 1) = y(0, 0, 3) = 1.0;
  y(1, 0, 2) = 1.0;
  Rng rng(1);
  const PatternReport r = evaluate_pattern(net, batch, y, {.compartments = 3, .bounds = {1, 3}}, rng);
  // generated: unit 0 fires at every step, unit 1 never; the fb kernel filters over the memory
  const Matrix<double>& bk = net.feedback_kernels();
  const double gen[2][5] = {{1, 1, 1, 1, 1}, {0, 0, 0, 0, 0}};
  const double tgt[2][5] = {{1, 1, 0, 1, 0}, {0, 0, 1, 0, 0}};
  double d = 0;
  for (int i = 0; i < 2; ++i)
    for (int t = 0; t < 5; ++t) {
      double fy = 0, fg = 0;
      for (int tau = 0; tau <= t && tau < bk.rows(); ++tau) {
        fy += bk(tau, 0) * tgt[i][t - tau];
        fg += bk(tau, 0) * gen[i][t - tau];
      }
      d += (fy - fg) * (fy - fg);
    }
  CHECK(r.distance == Approx(d / 10.0));
  CHECK(r.distance_majority == Approx(d / 10.0));  // every compartment generated the same train
  CHECK(r.distance > 0.1);
  // the target has 3 impossible events (unit 0 silent at t = 2, 4; unit 1 firing at t = 2)
  CHECK(r.ll_mean < -20);
  CHECK(r.ll_bound[0] == Approx(r.ll_mean));
  CHECK(r.ll_bound[1] == Approx(r.ll_iw));
  // the pattern the network generates has likelihood 1 and distance 0
  TimeSeries<double> g(2, 1, 5);
  g.set_zero();
  for (Index t = 0; t < 5; ++t) g(0, 0, t) = 1.0;
  const PatternReport p = evaluate_pattern(net, batch, g, {.compartments = 2}, rng);
  CHECK(p.distance == 0.0);
  CHECK(p.ll_mean == Approx(0.0).margin(1e-9));
  TimeSeries<double> wrong(3, 1, 5);
  CHECK_THROWS_AS(evaluate_pattern(net, batch, wrong, {.compartments = 2}, rng), ShapeError);
}
