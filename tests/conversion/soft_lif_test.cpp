// The soft-LIF rate response: hand-computed values, derivative against finite differences,
// convergence to the hard LIF response as gamma -> 0, the training noise model, and the
// SoftLifRate layer's exact gradients inside dense and convolutional rate networks.
#include "support/conversion_support.hpp"

#include <vector>

using namespace spikelab;

TEST_CASE("Soft-LIF matches hand-computed values at x = 0 and x = 1 (MNIST parameters)", "[soft_lif]") {
  const SoftLif f(SoftLifConfig::mnist());  // m 0.063, tau_ref 2 ms, tau_rc 22 ms, a 1, gamma 0.02
  // x = 1: y = 50, j = 0.02 (50 + log1p(e^-50)) = 1 (to 1e-23), den = 0.002 + 0.022 ln 2 = 0.01724943,
  //   f = 0.063 / den = 3.652335 (58.0 Hz), f' = m a tau_rc / (den^2 j (j+1) (1+e^-50)) = 0.001386 / (2 den^2) = 2.329128
  const double den1 = 0.002 + 0.022 * std::log(2.0);
  CHECK(den1 == Approx(0.01724924).epsilon(1e-6));
  CHECK(f.value(1.0) == Approx(0.063 / den1).epsilon(1e-12));
  CHECK(f.value(1.0) == Approx(3.65233525684445).epsilon(1e-12));
  CHECK(f.derivative(1.0) == Approx(0.063 * 0.022 / (2 * den1 * den1)).epsilon(1e-12));
  CHECK(f.derivative(1.0) == Approx(2.32912827162348).epsilon(1e-12));
  // x = 0: y = 0, j = 0.02 ln 2 = 0.013862944, den = 0.002 + 0.022 ln(1 + 1/j) = 0.09643..., sigma(0) = 1/2
  const double j0 = 0.02 * std::log(2.0), den0 = 0.002 + 0.022 * std::log1p(1.0 / j0);
  CHECK(j0 == Approx(0.0138629436).epsilon(1e-9));
  CHECK(f.value(0.0) == Approx(0.063 / den0).epsilon(1e-12));
  CHECK(f.value(0.0) == Approx(0.653319044205776).epsilon(1e-12));
  CHECK(f.derivative(0.0) == Approx(0.5 * 0.063 * 0.022 / (den0 * den0 * j0 * (1 + j0))).epsilon(1e-12));
  CHECK(f.derivative(0.0) == Approx(5.30234601477802).epsilon(1e-12));
  // more points, from a 30-digit evaluation of the same formula (mpmath)
  CHECK(f.value(-0.05) == Approx(0.437583013185111).epsilon(1e-11));
  CHECK(f.derivative(-0.05) == Approx(3.20974316571982).epsilon(1e-11));
  CHECK(f.value(0.1) == Approx(1.15117159285983).epsilon(1e-11));
  CHECK(f.derivative(0.1) == Approx(4.17270052300177).epsilon(1e-11));
  CHECK(f.value(3.0) == Approx(7.5639281651874).epsilon(1e-11));
  CHECK(f.derivative(3.0) == Approx(1.66492884171764).epsilon(1e-11));
  // float agrees to float precision
  CHECK(f.value(1.0f) == Approx(3.65233525684445).epsilon(2e-6));
  CHECK(f.derivative(0.0f) == Approx(5.30234601477802).epsilon(2e-6));
}

TEST_CASE("Soft-LIF equals its definition over a wide input range, in float and double", "[soft_lif]") {
  for (const SoftLifConfig c : {SoftLifConfig::mnist(), SoftLifConfig::cifar10(), SoftLifConfig{1.0, 0.0, 0.05, 2.0, 0.1, 0.0}}) {
    const SoftLif f(c);
    std::vector<double> xs;
    for (double x = -1.0; x <= 10.0; x += 0.0137) xs.push_back(x);
    std::vector<double> yd(xs.size());
    f.values(xs.data(), yd.data(), Index(xs.size()));
    std::vector<float> xf(xs.begin(), xs.end()), yf(xs.size());
    f.values(xf.data(), yf.data(), Index(xf.size()));
    double worst_d = 0, worst_f = 0;
    for (std::size_t i = 0; i < xs.size(); ++i) {
      const double ref = double(test::soft_lif_reference(c, (long double)xs[i]));
      // the reference underflows j = gamma e^y to 0 below y ~ -11000 only; fine on [-1, 10]
      worst_d = std::max(worst_d, std::abs(yd[i] - ref) / ref);
      worst_f = std::max(worst_f, std::abs(double(yf[i]) - double(test::soft_lif_reference(c, (long double)xf[i]))) / ref);
      CHECK(yd[i] == Approx(f.value(xs[i])).epsilon(1e-14));  // batched == scalar
    }
    INFO("m=" << c.amplitude << " gamma=" << c.gamma << ": worst rel. error double " << worst_d << ", float " << worst_f);
    CHECK(worst_d < 1e-12);
    CHECK(worst_f < 2e-6);
  }
}

TEST_CASE("Soft-LIF derivative matches central finite differences", "[soft_lif]") {
  for (const SoftLifConfig c : {SoftLifConfig::mnist(), SoftLifConfig::cifar10()}) {
    const SoftLif f(c);
    double worst = 0;
    // through the threshold region (y ~ +-1 around x = 0), the far negative tail (log-space form
    // below y = -36, i.e. x < -0.72 for MNIST) and the saturating range
    for (double x = -3.0; x <= 8.0; x += 0.0071) {
      const double h = 1e-6;
      const double fd = (f.value(x + h) - f.value(x - h)) / (2 * h);
      const double d = f.derivative(x);
      worst = std::max(worst, std::abs(d - fd) / std::max(std::abs(fd), 1e-3));
    }
    INFO("worst relative deviation " << worst);
    CHECK(worst < 1e-6);
  }
}

TEST_CASE("Soft-LIF is continuous and monotone across the log-space switch and far into the tail", "[soft_lif]") {
  const SoftLif f(SoftLifConfig::mnist());
  const double x0 = -36.0 * 0.02;  // y = -36
  for (double eps : {1e-10, 1e-8, 1e-6}) {
    // across the switch f moves by no more than its slope allows, and f' is continuous
    const double jump = f.value(x0 + eps) - f.value(x0 - eps);
    CHECK(jump > 0);
    CHECK(jump < 2 * eps * f.derivative(x0) * 1.001 + 1e-15);
    CHECK(f.derivative(x0 - eps) == Approx(f.derivative(x0 + eps)).epsilon(1e-5));
  }
  // the log-space tail: log1p(1/j) = -log(gamma) - y, so f = m / (tau_ref + tau_rc (-ln 0.02 + 50 x))
  for (double x : {-1.0, -10.0, -1000.0}) {
    const double expect = 0.063 / (0.002 + 0.022 * (-std::log(0.02) - x / 0.02));
    CHECK(f.value(x) == Approx(expect).epsilon(1e-12));
    CHECK(f.value(float(x)) == Approx(expect).epsilon(1e-5));
    CHECK(std::isfinite(f.derivative(float(x))));
    CHECK(f.derivative(x) > 0);
  }
  double prev = -1;
  for (double x = -2.0; x < 5.0; x += 0.001) {
    const double v = f.value(x);
    CHECK(v > prev);
    prev = v;
  }
}

TEST_CASE("Soft-LIF converges to the hard LIF response as gamma goes to 0", "[soft_lif]") {
  // hard: m / (tau_ref + tau_rc log(1 + 1/(a x))) for x > 0, else 0
  SoftLifConfig c = SoftLifConfig::mnist();
  const SoftLif hard_ref(c);
  CHECK(hard_ref.hard_value(1.0) == Approx(0.063 / (0.002 + 0.022 * std::log(2.0))));
  CHECK(hard_ref.hard_value(-0.5) == 0.0);
  CHECK(hard_ref.hard_value(0.0) == 0.0);
  double prev_pos = 1e9, prev_neg = 1e9, prev_zero = 1e9;
  for (double gamma : {0.1, 0.03, 0.01, 3e-3, 1e-3, 1e-4}) {
    c.gamma = gamma;
    const SoftLif f(c);
    double pos = 0, neg = 0;  // sup errors over x >= 0.05 and over x <= -0.05
    for (double x = -2.0; x <= 6.0; x += 0.01) {
      if (x >= 0.05) pos = std::max(pos, std::abs(f.value(x) - f.hard_value(x)));
      if (x <= -0.05) neg = std::max(neg, std::abs(f.value(x) - f.hard_value(x)));
    }
    const double at_zero = f.value(0.0) - f.hard_value(0.0);
    INFO("gamma " << gamma << ": sup error on x >= 0.05 " << pos << ", on x <= -0.05 " << neg << ", at 0 " << at_zero);
    CHECK((pos < prev_pos || pos < 1e-13));  // down to rounding
    CHECK(neg < prev_neg);
    CHECK(at_zero < prev_zero);
    // below threshold the soft tail is m / (tau_ref + tau_rc (log(1/gamma) + a|x|/gamma)) <= m gamma / (tau_rc a |x|):
    // the error vanishes linearly in gamma
    CHECK(neg <= 0.063 * gamma / (0.022 * 0.05));
    // at x = 0 the gap closes only logarithmically: f(0) = m / (tau_ref + tau_rc log1p(1/(gamma ln 2)))
    CHECK(at_zero == Approx(0.063 / (0.002 + 0.022 * std::log1p(1.0 / (gamma * std::log(2.0))))).epsilon(1e-9));
    prev_pos = pos;
    prev_neg = neg;
    prev_zero = at_zero;
  }
  CHECK(prev_pos < 1e-12);  // gamma = 1e-4: above threshold the error is ~ gamma e^{-0.05/gamma}, below double precision
  // gamma = 0.01 (the thesis figure): within 1.5e-3 of the hard response away from threshold
  c.gamma = 0.01;
  const SoftLif f01(c);
  double away01 = 0;
  for (double x = 0.05; x <= 6.0; x += 0.01) away01 = std::max(away01, std::abs(f01.value(x) - f01.hard_value(x)));
  CHECK(away01 < 1.5e-3);
}

TEST_CASE("Soft-LIF training noise: Gaussian of sd m*sigma where the neuron fires, none elsewhere", "[soft_lif]") {
  const SoftLif f(SoftLifConfig::mnist());  // sd = 0.063 * 10 = 0.63
  SoftLifRate<double> layer(20000, f);
  TimeSeries<double> x(20000, 1, 1), clean, noisy;
  for (Index i = 0; i < 20000; ++i) x(i, 0, 0) = i < 10000 ? 3.0 : -0.2 - 1e-4 * double(i - 10000);
  Rng rng(7);
  layer.forward(x, clean, ForwardContext::eval());
  layer.forward(x, noisy, ForwardContext::train(rng));
  // x = 3: f = 7.56 >> 0.63, so clipping at 0 is (practically) never hit
  const Eigen::ArrayXd diff = (noisy.values().col(0).head(10000) - clean.values().col(0).head(10000)).array();
  const double mean = diff.mean(), sd = std::sqrt((diff - mean).square().mean());
  CHECK(std::abs(mean) < 4 * 0.63 / std::sqrt(10000.0));
  CHECK(sd == Approx(0.063 * 10.0).epsilon(0.03));
  // x < 0 (y < 0): the neuron would not fire: no noise at all
  CHECK((noisy.values().col(0).tail(10000) - clean.values().col(0).tail(10000)).cwiseAbs().maxCoeff() == 0.0);
  // output never negative, even when the noise exceeds the rate
  TimeSeries<double> small(20000, 1, 1), out;
  small.values().setConstant(0.001);  // f ~ 0.78 Hz-units, noise sd 0.63
  layer.forward(small, out, ForwardContext::train(rng));
  CHECK(out.values().minCoeff() == 0.0);
  CHECK(out.values().maxCoeff() > 1.5);
  // evaluation has no noise; a noise-free config has none in training either
  SoftLifConfig quiet = SoftLifConfig::mnist();
  quiet.noise = 0;
  SoftLifRate<double> q(20000, SoftLif(quiet));
  TimeSeries<double> qout;
  q.forward(x, qout, ForwardContext::train(rng));
  CHECK(qout.values() == clean.values());
}

TEST_CASE("Soft-LIF noise is reproducible and ignored by the backward pass", "[soft_lif]") {
  SoftLifRate<float> layer(64, SoftLif(SoftLifConfig::mnist()));
  TimeSeries<float> x(64, 3, 2), y1, y2, g(64, 3, 2), gi;
  Rng data(3);
  test::fill_uniform(x, data, -0.5, 2.0);
  test::fill_uniform(g, data, -1, 1);
  Rng a(11), b(11);
  layer.forward(x, y1, ForwardContext::train(a));
  layer.forward(x, y2, ForwardContext::train(b));
  CHECK(y1.values() == y2.values());
  layer.forward(x, y2, ForwardContext::train(a));  // the generator advanced: new noise
  CHECK(y1.values() != y2.values());
  layer.backward(x, y1, g, &gi);
  const SoftLif& f = layer.function();
  for (Index k = 0; k < x.values().size(); ++k)
    CHECK(gi.values().data()[k] == Approx(f.derivative(x.values().data()[k]) * g.values().data()[k]).epsilon(1e-6));
}

TEST_CASE("SoftLifRate and Relu layers have exact gradients in a dense rate network", "[soft_lif]") {
  Rng rng(5);
  SoftLifConfig c = SoftLifConfig::mnist();
  c.noise = 0;  // noise would make the finite differences differ from the noise-free backward by design
  using Net = Sequential<Linear<double>, SoftLifRate<double>, Linear<double>, ReluLayer<double>, Linear<double>>;
  Net net{Linear<double>(12, 16, rng), SoftLifRate<double>(16, SoftLif(c)), Linear<double>(16, 8, rng),
          ReluLayer<double>(8), Linear<double>(8, 4, rng)};
  const Batch<double> b = test::rate_batch<double>(rng, 12, 5, 4);
  SumCrossEntropy loss;
  const auto r = testing::check_gradients(net, loss, b, {.step = 1e-6, .max_per_block = 64});
  INFO(r.report());
  CHECK(r.max_rel_error < 1e-6);
  CHECK(r.blocks.size() == 7);  // 3 weights, 3 biases, input
}

TEST_CASE("SoftLifRate has exact gradients in a convolutional rate network with dropout", "[soft_lif]") {
  Rng rng(6);
  SoftLifConfig c = SoftLifConfig::mnist();
  c.noise = 0;
  Conv2d<double> conv({1, 8, 8}, 3, rng, {.kernel = 3, .padding = 1, .init_scale = 2.0});
  const ImageShape cs = conv.output_shape();
  AvgPool2d<double> pool(cs, {.kernel = 2});
  const ImageShape ps = pool.output_shape();
  using Net = Sequential<Conv2d<double>, SoftLifRate<double>, AvgPool2d<double>, Flatten<double>, Dropout<double>,
                         Linear<double>>;
  Net net{std::move(conv), SoftLifRate<double>(cs, SoftLif(c)), std::move(pool), Flatten<double>(ps),
          Dropout<double>(ps.size(), {.p = 0.3}), Linear<double>(ps.size(), 5, rng)};
  const Batch<double> b = test::rate_batch<double>(rng, 64, 4, 5, 0.0, 1.0);
  SumCrossEntropy loss;
  const auto r = testing::check_gradients(net, loss, b, {.step = 1e-6, .max_per_block = 64});
  INFO(r.report());
  CHECK(r.max_rel_error < 1e-6);
}

TEST_CASE("SoftLif rejects bad parameters and SoftLifRate bad shapes, and checkpoints keep its parameters", "[soft_lif]") {
  CHECK_THROWS_AS(SoftLif(SoftLifConfig{0.063, 0.002, 0.0, 1.0, 0.02, 10.0}), ConfigError);
  CHECK_THROWS_AS(SoftLif(SoftLifConfig{0.063, -0.001, 0.022, 1.0, 0.02, 10.0}), ConfigError);
  CHECK_THROWS_AS(SoftLif(SoftLifConfig{0.063, 0.002, 0.022, 1.0, 0.0, 10.0}), ConfigError);
  CHECK_THROWS_AS(SoftLifRate<float>(0), ConfigError);
  SoftLifRate<float> layer(10);
  TimeSeries<float> x(9, 2, 1), y;
  CHECK_THROWS_AS(layer.forward(x, y, ForwardContext::eval()), ShapeError);
  TimeSeries<float> ok(10, 2, 1);
  Rng rng(1);
  CHECK_THROWS_AS(layer.forward(ok, y, ForwardContext{true, nullptr}), ConfigError);  // noise needs an rng

  Rng r(2);
  using Net = Sequential<Linear<float>, SoftLifRate<float>, Linear<float>>;
  SoftLifConfig c = SoftLifConfig::cifar10();
  Net net{Linear<float>(6, 5, r), SoftLifRate<float>(5, SoftLif(c)), Linear<float>(5, 3, r)};
  const auto dir = test::temp_dir("softlif-ckpt");
  save_checkpoint(dir / "rate.json", net, CheckpointFormat::json);
  Net back{Linear<float>(6, 5, r), SoftLifRate<float>(5), Linear<float>(5, 3, r)};
  load_checkpoint(dir / "rate.json", back);
  CHECK(back.layer<1>().function().config().tau_rc == 0.05);
  CHECK(back.layer<1>().function().config().gain == 0.825);
  CHECK(back.layer<0>().weight() == net.layer<0>().weight());
  CHECK(back.signature() == net.signature());
  std::filesystem::remove_all(dir);
}
