// BatchNorm over time and batch (statistics, running estimates or the batch's own in evaluation,
// folding, exact gradients) and Dropout with a per-sample mask fixed over time or one per step.
#include "support/layers_support.hpp"

using namespace spikelab;

TEST_CASE("BatchNorm normalises each feature over all batch*T columns", "[batch_norm]") {
  Rng rng(1);
  BatchNorm<double> bn(3);
  TimeSeries<double> x(3, 4, 6), y;
  test::fill_uniform(x, rng, -1, 1);
  x.values().row(1) = x.values().row(1) * 5.0 + Matrix<double>::Constant(1, 24, 3.0);
  bn.forward(x, y, ForwardContext::train(rng));
  for (Index f = 0; f < 3; ++f) {
    const auto r = y.values().row(f);
    const double mean = r.mean(), var = (r.array() - mean).square().mean();
    CHECK(std::abs(mean) < 1e-12);
    CHECK(var == Approx(1.0).epsilon(1e-4));  // eps = 1e-5
  }
  // running estimates moved 10% toward the batch statistics (unbiased variance)
  const auto r1 = x.values().row(1);
  const double m1 = r1.mean(), v1 = (r1.array() - m1).square().sum() / 23.0;
  CHECK(bn.running_mean()(1, 0) == Approx(0.1 * m1));
  CHECK(bn.running_var()(1, 0) == Approx(0.9 + 0.1 * v1));
}

TEST_CASE("BatchNorm on a feature map shares statistics per channel over space", "[batch_norm]") {
  Rng rng(2);
  const ImageShape s{2, 3, 3};
  BatchNorm<double> bn(s, {.gamma = 2.0});
  bn.beta()(1, 0) = 0.5;
  TimeSeries<double> x(18, 2, 5), y;
  test::fill_uniform(x, rng, 0, 4);
  bn.forward(x, y, ForwardContext::train(rng));
  for (Index c = 0; c < 2; ++c) {
    const auto blk = y.values().middleRows(c * 9, 9);
    const double mean = blk.mean(), var = (blk.array() - mean).square().mean();
    CHECK(mean == Approx(c == 1 ? 0.5 : 0.0).margin(1e-12));
    CHECK(var == Approx(4.0).epsilon(1e-4));
    // single positions are NOT normalised on their own
  }
  CHECK(std::abs(y.values().row(0).mean()) > 1e-3);
}

TEST_CASE("BatchNorm uses running statistics in evaluation", "[batch_norm]") {
  Rng rng(3);
  BatchNorm<float> bn(2, {.momentum = 1.0});  // running = last batch
  TimeSeries<float> x(2, 8, 10), y, z;
  test::fill_uniform(x, rng, 1, 3);
  bn.forward(x, y, ForwardContext::train(rng));
  TimeSeries<float> one(2, 1, 1);
  one.values() << 2.0f, 2.0f;
  bn.forward(one, z, ForwardContext::eval());
  for (Index f = 0; f < 2; ++f) {
    const double m = x.values().row(f).cast<double>().mean();
    const double v = (x.values().row(f).cast<double>().array() - m).square().sum() / 79.0;
    CHECK(z.values()(f, 0) == Approx((2.0 - m) / std::sqrt(v + 1e-5)).epsilon(1e-4));
  }
}

TEST_CASE("BatchNorm can normalise with the batch's own statistics in evaluation", "[batch_norm]") {
  Rng rng(4);
  BatchNorm<double> bn(2, {.momentum = 1.0, .batch_statistics_in_eval = true});
  TimeSeries<double> x(2, 8, 10), y, z;
  test::fill_uniform(x, rng, 1, 3);
  bn.forward(x, y, ForwardContext::train(rng));
  const Matrix<double> running = bn.running_mean();
  // an evaluation batch with other statistics: normalised with its own (biased) mean and variance
  TimeSeries<double> e(2, 4, 5);
  test::fill_uniform(e, rng, -5, 0);
  bn.forward(e, z, ForwardContext::eval());
  for (Index f = 0; f < 2; ++f) {
    const double m = e.values().row(f).mean();
    const double v = (e.values().row(f).array() - m).square().sum() / 20.0;
    for (Index n = 0; n < 20; n += 7) CHECK(z.values()(f, n) == Approx((e.values()(f, n) - m) / std::sqrt(v + 1e-5)));
  }
  CHECK(bn.running_mean() == running);  // evaluation does not move the running estimates
  CHECK_THROWS_AS(bn.backward(e, z, z, nullptr), ShapeError);  // nor prepares a backward pass
  Linear<double> lin(3, 2, rng);
  CHECK_THROWS_AS(fold_batch_norm(lin, bn), ConfigError);
  // the option survives a checkpoint
  BatchNorm<double> back;
  test::json_round_trip(bn, back);
  CHECK(back.config().batch_statistics_in_eval);
}

TEST_CASE("BPTT through BatchNorm is exact after Linear and after Conv2d", "[batch_norm][gradient]") {
  Rng rng(21);
  {
    // (a bias before BatchNorm gets exactly zero gradient: the mean removes it; leave it out)
    Sequential<Linear<double>, BatchNorm<double>, test::TwinLif, Linear<double>, test::Readout> net{
        Linear<double>(5, 6, rng, {.bias = false}), BatchNorm<double>(6, {.gamma = 0.7}), test::twin_lif(6), Linear<double>(6, 3, rng),
        test::readout(3)};
    net.layer<1>().beta().setConstant(0.2);
    test::require_exact_gradients(net, test::random_batch(rng, 5, 3, 8, 3));
  }
  {
    Conv2d<double> c({2, 5, 5}, 3, rng, {.kernel = 3, .padding = 1, .bias = false});
    const ImageShape o = c.output_shape();
    Sequential<Conv2d<double>, BatchNorm<double>, test::TwinLif, Linear<double>, test::Readout> net{
        std::move(c), BatchNorm<double>(o), test::twin_lif(o.size()), Linear<double>(o.size(), 3, rng),
        test::readout(3)};
    test::require_exact_gradients(net, test::random_batch(rng, 50, 2, 6, 3));
  }
}

TEST_CASE("Folding BatchNorm into Linear and Conv2d leaves inference unchanged", "[batch_norm]") {
  Rng rng(4);
  // train a few passes so the running statistics and gamma/beta are not trivial
  auto warm = [&](auto& net, Index features) {
    TimeSeries<float> x(features, 6, 5);
    for (int i = 0; i < 5; ++i) {
      test::fill_uniform(x, rng, -1, 2);
      net.forward(x, ForwardContext::train(rng));
    }
  };
  {
    Sequential<Linear<float>, BatchNorm<float>, Lif<float>> net{Linear<float>(7, 5, rng, {.bias = false}),
                                                                BatchNorm<float>(5), Lif<float>(5)};
    warm(net, 7);
    net.layer<1>().gamma() = Matrix<float>::Random(5, 1) + Matrix<float>::Constant(5, 1, 1.5f);
    net.layer<1>().beta() = Matrix<float>::Random(5, 1);
    TimeSeries<float> x(7, 3, 4);
    test::fill_uniform(x, rng, -1, 2);
    net.forward(x, ForwardContext::eval());
    const Matrix<float> before = net.activation(1).values();
    fold_batch_norm(net.layer<0>(), net.layer<1>());
    CHECK(net.layer<1>().folded());
    CHECK(net.layer<0>().config().bias);
    net.forward(x, ForwardContext::eval());
    CHECK((net.activation(0).values() - before).cwiseAbs().maxCoeff() < 1e-5f);
    CHECK(net.activation(1).values() == net.activation(0).values());  // the folded layer passes through
    CHECK_THROWS_AS(fold_batch_norm(net.layer<0>(), net.layer<1>()), ConfigError);
  }
  {
    Conv2d<float> c({2, 6, 6}, 4, rng, {.kernel = 3, .stride = 2, .padding = 1});
    const ImageShape o = c.output_shape();
    Sequential<Conv2d<float>, BatchNorm<float>, Lif<float>> net{std::move(c), BatchNorm<float>(o), Lif<float>(o.size())};
    warm(net, 72);
    net.layer<1>().gamma() = Matrix<float>::Random(4, 1) + Matrix<float>::Constant(4, 1, 1.5f);
    TimeSeries<float> x(72, 3, 4);
    test::fill_uniform(x, rng, -1, 2);
    net.forward(x, ForwardContext::eval());
    const Matrix<float> before = net.activation(1).values();
    fold_batch_norm(net.layer<0>(), net.layer<1>());
    net.forward(x, ForwardContext::eval());
    CHECK((net.activation(0).values() - before).cwiseAbs().maxCoeff() < 1e-5f);
    // a per-feature BatchNorm cannot be folded into shared conv weights
    Conv2d<float> c2({2, 6, 6}, 4, rng, {.kernel = 3});
    BatchNorm<float> per_feature(c2.output_size());
    CHECK_THROWS_AS(fold_batch_norm(c2, per_feature), ShapeError);
  }
}

TEST_CASE("BatchNorm checks its inputs and survives a checkpoint", "[batch_norm][errors]") {
  Rng rng(5);
  CHECK_THROWS_AS(BatchNorm<float>(0), ConfigError);
  CHECK_THROWS_AS(BatchNorm<float>(3, {.eps = 0.0}), ConfigError);
  BatchNorm<float> bn(3);
  TimeSeries<float> x(4, 2, 2), y, one(3, 1, 1);
  CHECK_THROWS_AS(bn.forward(x, y, ForwardContext::train(rng)), ShapeError);
  CHECK_THROWS_AS(bn.forward(one, y, ForwardContext::train(rng)), ShapeError);  // one value per feature
  using Net = Sequential<Linear<float>, BatchNorm<float>, LeakyIntegrator<float>>;
  Net a{Linear<float>(3, 4, rng), BatchNorm<float>(4), LeakyIntegrator<float>(4)};
  TimeSeries<float> in(3, 5, 6);
  test::fill_uniform(in, rng, 0, 1);
  a.forward(in, ForwardContext::train(rng));
  Net b{Linear<float>(3, 4, rng), BatchNorm<float>(4), LeakyIntegrator<float>(4)};
  const auto dir = test::temp_dir("bn-ckpt");
  save_checkpoint(dir / "bn.json", a, CheckpointFormat::json);
  load_checkpoint(dir / "bn.json", b);
  CHECK(b.layer<1>().running_mean() == a.layer<1>().running_mean());
  CHECK(b.layer<1>().running_var() == a.layer<1>().running_var());
  CHECK(b.forward(in).values() == a.forward(in).values());
  std::filesystem::remove_all(dir);
}

TEST_CASE("Dropout keeps one mask per sample for all time steps", "[dropout]") {
  Rng rng(6);
  Dropout<float> d(200, {.p = 0.3});
  TimeSeries<float> x(200, 5, 8), y;
  x.values().setOnes();
  d.forward(x, y, ForwardContext::train(rng));
  const float keep = 1.0f / 0.7f;
  Index dropped = 0;
  for (Index b = 0; b < 5; ++b)
    for (Index f = 0; f < 200; ++f) {
      const float v0 = y(f, b, 0);
      CHECK((v0 == 0.0f || v0 == Approx(keep)));
      dropped += v0 == 0.0f;
      for (Index t = 1; t < 8; ++t) REQUIRE(y(f, b, t) == v0);  // the same mask at every step
    }
  CHECK(dropped > 200);
  CHECK(dropped < 400);  // ~300 of 1000 (binomial sd ~14)
  // samples get different masks
  CHECK(y.values().col(0) != y.values().col(1));
  // evaluation passes through; so does p = 0 in training
  TimeSeries<float> z;
  d.forward(x, z, ForwardContext::eval());
  CHECK(z.values() == x.values());
  Dropout<float> none(200, {.p = 0.0});
  none.forward(x, z, ForwardContext::train(rng));
  CHECK(z.values() == x.values());
  // a training pass needs a generator
  CHECK_THROWS_AS(d.forward(x, z, ForwardContext{true, nullptr}), ConfigError);
  CHECK_THROWS_AS(Dropout<float>(10, {.p = 1.0}), ConfigError);
  CHECK_THROWS_AS(Dropout<float>(10, {.p = 0.2, .block = 3}), ConfigError);
}

TEST_CASE("Per-step dropout draws a new mask at every step", "[dropout]") {
  Rng rng(8);
  Dropout<float> d(100, {.p = 0.25, .per_step = true});
  TimeSeries<float> x(100, 4, 6), y, g, gi;
  x.values().setOnes();
  d.forward(x, y, ForwardContext::train(rng));
  const float keep = 1.0f / 0.75f;
  Index dropped = 0, changed = 0;
  for (Index b = 0; b < 4; ++b)
    for (Index f = 0; f < 100; ++f)
      for (Index t = 0; t < 6; ++t) {
        const float v = y(f, b, t);
        CHECK((v == 0.0f || v == Approx(keep)));
        dropped += v == 0.0f;
        if (t > 0) changed += v != y(f, b, t - 1);
      }
  CHECK(dropped > 480);  // ~600 of 2400 (binomial sd ~21)
  CHECK(dropped < 720);
  CHECK(changed > 500);  // a fixed mask would change nothing; ~750 of 2000 expected
  CHECK(d.mask().cols() == 24);
  // the backward pass applies the same per-step mask
  g.resize(100, 4, 6);
  test::fill_uniform(g, rng, -1, 1);
  d.backward(x, y, g, &gi);
  CHECK(gi.values().cwiseEqual(0.0f).count() == dropped);
  for (Index n = 0; n < 24; ++n)
    for (Index f = 0; f < 100; f += 13) CHECK(gi.values()(f, n) == Approx(g.values()(f, n) * y.values()(f, n)));
  Dropout<float> back;
  test::json_round_trip(d, back);
  CHECK(back.config().per_step);
  CHECK(back.signature() == d.signature());
}

TEST_CASE("Spatial dropout drops whole channels", "[dropout]") {
  Rng rng(7);
  Dropout<double> d(ImageShape{6, 3, 3}, 0.5);
  TimeSeries<double> x(54, 4, 3), y;
  test::fill_uniform(x, rng, 1, 2);
  d.forward(x, y, ForwardContext::train(rng));
  for (Index n = 0; n < x.columns(); ++n)
    for (Index c = 0; c < 6; ++c) {
      const double ratio = y.values()(c * 9, n) / x.values()(c * 9, n);
      CHECK((ratio == 0.0 || ratio == Approx(2.0)));
      for (Index p = 1; p < 9; ++p) CHECK(y.values()(c * 9 + p, n) == Approx(ratio * x.values()(c * 9 + p, n)));
    }
}

TEST_CASE("BPTT through Dropout is exact (the mask is replayed from the same seed)", "[dropout][gradient]") {
  Rng rng(31);
  Sequential<Linear<double>, test::TwinLif, Dropout<double>, Linear<double>, test::Readout> net{
      Linear<double>(5, 8, rng), test::twin_lif(8), Dropout<double>(8, {.p = 0.4}), Linear<double>(8, 3, rng),
      test::readout(3)};
  test::require_exact_gradients(net, test::random_batch(rng, 5, 4, 8, 3));
  // backward multiplies by the same mask: dropped units get exactly zero gradient
  Dropout<double> d(6, {.p = 0.5});
  TimeSeries<double> x(6, 3, 4), y, g(6, 3, 4), gx;
  test::fill_uniform(x, rng, 1, 2);
  test::fill_uniform(g, rng, 1, 2);
  d.forward(x, y, ForwardContext::train(rng));
  d.backward(x, y, g, &gx);
  for (Index t = 0; t < 4; ++t)
    for (Index b = 0; b < 3; ++b)
      for (Index f = 0; f < 6; ++f) {
        CHECK(gx(f, b, t) == g(f, b, t) * d.mask()(f, b));
        CHECK(y(f, b, t) == x(f, b, t) * d.mask()(f, b));
      }
  CHECK((d.mask().array() == 0.0).any());
}
