// Threshold and time-constant policies: the time-constant parameterization of NeuronParameter,
// BPTT gradients of thresholds and decays (per layer and per neuron, decay or tau trained)
// against finite differences on smooth twins, and the constraints kept by the optimizer.
#include <spikelab/spikelab.hpp>
#include <spikelab/testing/gradient_check.hpp>

#include "support/test_support.hpp"

#include <cereal/archives/json.hpp>
#include <cereal/archives/portable_binary.hpp>
#include <limits>
#include <sstream>

using namespace spikelab;

namespace {

constexpr Index kIn = 5, kHidden = 6, kOut = 3, kBatch = 3, kSteps = 25;

Batch<double> make_batch(Rng& rng) {
  Batch<double> b;
  b.input.resize(kIn, kBatch, kSteps);
  test::fill_uniform(b.input, rng, -0.3, 1.2);
  b.labels = {2, 0, 1};
  return b;
}

// Every trainable block of `net` must get a gradient that matches finite differences.
template <class Net, class LossT = SumCrossEntropy>
void require_exact(Net& net, Rng& rng, LossT loss = {}) {
  auto r = testing::check_gradients(net, loss, make_batch(rng), {.step = 1e-6, .max_per_block = 40});
  INFO(r.report());
  for (const auto& blk : r.blocks) REQUIRE(blk.analytic_norm > 0);
  CHECK(r.max_rel_error < 1e-6);
}

template <class Hidden>
auto make_net(Hidden hidden, Rng& rng) {
  using Readout = LeakyIntegratorType<double, Train::per_neuron>;
  return Sequential<Linear<double>, Hidden, Linear<double>, Hidden, Linear<double>, Readout>{
      Linear<double>(kIn, kHidden, rng),     hidden, Linear<double>(kHidden, kHidden, rng), hidden,
      Linear<double>(kHidden, kOut, rng),    Readout(kOut, {.beta = 0.8, .normalize = true})};
}

}  // namespace

TEST_CASE("A decay parameterized by its time constant gives exp(-dt/tau) and the chain rule", "[temporal][parameter]") {
  NeuronParameter<double> p(Train::per_neuron, 3, 0.9, 0.0, 1.0);
  Vector<double> d(3);
  d << 0.5, 0.9, 0.99;
  p.set(d);
  p.use_time_constant(0.01, 1e-4, 100.0);
  CHECK(p.parameterization() == Parameterization::time_constant);
  CHECK(p.lower() == 1e-4);
  // the stored values are the time constants, the neuron model sees the same decays
  CHECK(p.raw()(0, 0) == Approx(-0.01 / std::log(0.5)));
  CHECK(p.raw()(2, 0) == Approx(-0.01 / std::log(0.99)));
  CHECK(p.values()[1] == Approx(0.9).epsilon(1e-12));
  // dL/dtau = dL/dbeta * beta * dt / tau^2
  Vector<double> g(3);
  g << 1.0, -2.0, 0.5;
  p.add_grad(g);
  for (Index i = 0; i < 3; ++i) {
    const double tau = p.raw()(i, 0), beta = std::exp(-0.01 / tau);
    CHECK(p.grad()(i, 0) == Approx(g[i] * beta * 0.01 / (tau * tau)));
  }
  // set_values converts decays; set() sets the stored tau
  Vector<double> d2(3);
  d2 << 0.2, 0.3, 0.4;
  p.set_values(d2);
  CHECK(p.values()[2] == Approx(0.4));
  p.set(0.05);
  CHECK(p.values()[0] == Approx(std::exp(-0.2)));
  CHECK_THROWS_AS(p.set(0.0), ConfigError);  // tau below its lower bound
  CHECK_THROWS_AS(p.use_time_constant(0.01), ConfigError);  // twice

  // a per-layer tau: one value, the gradient summed over neurons times the chain factor
  NeuronParameter<double> q(Train::per_layer, 4, 0.8, 0.0, 1.0);
  q.use_time_constant(0.001);
  Vector<double> g4 = Vector<double>::Ones(4);
  q.add_grad(g4);
  const double tau = q.raw()(0, 0);
  CHECK(tau == Approx(-0.001 / std::log(0.8)));
  CHECK(q.grad()(0, 0) == Approx(4 * 0.8 * 0.001 / (tau * tau)));

  // decays outside (0, 1) have no time constant
  NeuronParameter<double> bad(Train::per_neuron, 2, 1.0, 0.0, 1.0);
  CHECK_THROWS_AS(bad.use_time_constant(0.01), ConfigError);
  NeuronParameter<double> ok(Train::per_neuron, 2, 0.5, 0.0, 1.0);
  CHECK_THROWS_AS(ok.use_time_constant(0.0), ConfigError);
  CHECK_THROWS_AS(ok.use_time_constant(0.01, 0.0, 1.0), ConfigError);
}

TEST_CASE("A time-constant parameterization survives a checkpoint round trip", "[temporal][parameter][io]") {
  LifType<double, FastSigmoid, SubtractReset, LifOptions{.beta = Train::per_neuron}> lif(4, {.beta = 0.95});
  lif.beta().use_time_constant(0.01, 1e-3, 10.0);
  lif.beta().raw()(2, 0) = 0.5;
  std::stringstream ss;
  {
    cereal::JSONOutputArchive ar(ss);
    ar(lif);
  }
  decltype(lif) back(4);
  {
    cereal::JSONInputArchive ar(ss);
    ar(back);
  }
  CHECK(back.beta().parameterization() == Parameterization::time_constant);
  CHECK(back.beta().dt() == 0.01);
  CHECK(back.beta().upper() == 10.0);
  CHECK(back.beta().values()[2] == Approx(std::exp(-0.01 / 0.5)));
}

TEST_CASE("Gradients of per-layer and per-neuron thresholds and decays are exact", "[temporal][gradient]") {
  Rng rng(31);
  using G = SmoothTwin<Sigmoid>;
  const LifConfig cfg{.beta = 0.85, .threshold = 0.7};
  SECTION("per-layer threshold and per-layer beta") {
    using L = LifType<double, G, SubtractReset, LifOptions{.threshold = Train::per_layer, .beta = Train::per_layer}>;
    auto net = make_net(L(kHidden, cfg, {{2.5}}), rng);
    require_exact(net, rng);
  }
  SECTION("per-neuron threshold, beta and synaptic alpha (CUBA), zero reset") {
    using L = LifType<double, G, ZeroReset,
                      LifOptions{.threshold = Train::per_neuron, .beta = Train::per_neuron, .alpha = Train::per_neuron}>;
    auto net = make_net(L(kHidden, {.beta = 0.9, .alpha = 0.6, .threshold = 0.7}, {{2.5}}), rng);
    require_exact(net, rng);
  }
}

TEST_CASE("Gradients are exact when tau is trained instead of the decay", "[temporal][gradient]") {
  Rng rng(32);
  using G = SmoothTwin<FastSigmoid>;
  SECTION("per-neuron tau of beta and alpha, heterogeneous") {
    using L = LifType<double, G, SubtractReset,
                      LifOptions{.threshold = Train::per_neuron, .beta = Train::per_neuron, .alpha = Train::per_neuron}>;
    L lif(kHidden, {.beta = 0.9, .alpha = 0.5, .threshold = 0.6}, {{.slope = 2}});
    Vector<double> d(kHidden);
    d << 0.7, 0.8, 0.85, 0.9, 0.95, 0.97;
    lif.beta().set(d);
    lif.beta().use_time_constant(0.01, 1e-4, 10.0);
    lif.alpha().use_time_constant(0.01, 1e-4, 10.0);
    auto net = make_net(lif, rng);
    require_exact(net, rng);
  }
  SECTION("per-layer tau, and a trained readout tau") {
    using L = LifType<double, G, SubtractReset, LifOptions{.beta = Train::per_layer}>;
    L lif(kHidden, {.beta = 0.9, .threshold = 0.6}, {{.slope = 2}});
    lif.beta().use_time_constant(0.001, 1e-5, 1.0);
    auto net = make_net(lif, rng);
    net.layer<5>().beta().use_time_constant(0.001);
    require_exact(net, rng);
  }
}

TEST_CASE("Gradients are exact for the Rouser neuron: CUBA, reset to zero, exponential surrogate, trained thresholds",
          "[temporal][gradient][rouser]") {
  Rng rng(33);
  // Table II of Mahmoodi Takaghaj & Sampson 2024: current decay 0.75, voltage decay 0.97,
  // threshold 1.25, s = 1.5, tau = 3.75 (per-layer variant checked as well)
  const LifConfig cfg{.beta = 0.97, .alpha = 0.75, .threshold = 1.25};
  const SmoothTwin<Exponential> g{{.scale = 1.5, .tau = 3.75}};
  using PerNeuron = LifType<double, SmoothTwin<Exponential>, ZeroReset, LifOptions{.threshold = Train::per_neuron}>;
  using PerLayer = LifType<double, SmoothTwin<Exponential>, ZeroReset, LifOptions{.threshold = Train::per_layer}>;
  auto a = make_net(PerNeuron(kHidden, cfg, g), rng);
  require_exact(a, rng, RateMse{});
  auto b = make_net(PerLayer(kHidden, cfg, g), rng);
  require_exact(b, rng, RateMse{});
}

TEST_CASE("The optimizer keeps tau > 0, the decay in its clip range and the threshold > 0", "[temporal][constraints]") {
  Rng rng(4);
  using L = LifType<float, FastSigmoid, SubtractReset, LifOptions{.threshold = Train::per_neuron, .beta = Train::per_neuron}>;
  L direct(8, {.beta = 0.97, .threshold = 0.05, .beta_min = hsnn_decay_min, .beta_max = hsnn_decay_max,
               .threshold_min = 0.01});
  L tau(8, {.beta = 0.5, .threshold = 1.0});
  tau.beta().use_time_constant(0.01, 1e-3, 2.0);
  Sequential<Linear<float>, L, Linear<float>, L> net{Linear<float>(8, 8, rng), direct, Linear<float>(8, 8, rng), tau};
  // huge gradients pushing every parameter past its bounds, both ways
  Optimizer<float, Sgd> opt({.lr = 1.0});
  for (int sign : {1, -1}) {
    net.zero_grad();
    net.for_each_parameter([&](ParamRef<float> p) { p.grad.setConstant(float(sign) * 1e4f); });
    opt.step(net);
    net.layer<1>().beta().refresh();
    net.layer<3>().beta().refresh();
    const auto& b = net.layer<1>().beta().values();
    CHECK(b.minCoeff() >= float(hsnn_decay_min));
    CHECK(b.maxCoeff() <= float(hsnn_decay_max));
    CHECK(net.layer<1>().threshold().raw().minCoeff() >= 0.01f);
    const auto& t = net.layer<3>().beta().raw();
    CHECK(t.minCoeff() >= 1e-3f);
    CHECK(t.maxCoeff() <= 2.0f);
    CHECK(net.layer<3>().beta().values().allFinite());
    CHECK(net.layer<3>().threshold().raw().minCoeff() > 0.0f);
  }
}

TEST_CASE("Adam is nearly invariant to a constant gradient scale of the time constants, SGD is not",
          "[temporal][optimizer]") {
  // hSNN multiplies alpha's gradient by 0.1 before Adam: with Adam that changes almost nothing
  // (m / sqrt(v) cancels the factor, up to epsilon); a smaller learning rate (lr_scale) is what
  // actually slows the decays down.
  auto run = [](auto update, double grad_scale, double lr_scale) {
    Rng rng(8);
    using L = LifType<double, FastSigmoid, SubtractReset, LifOptions{.beta = Train::per_neuron}>;
    Sequential<Linear<double>, L, Linear<double>, LeakyIntegrator<double>> net{
        Linear<double>(6, 10, rng), L(10, {.beta = 0.9, .threshold = 0.5}), Linear<double>(10, 2, rng),
        LeakyIntegrator<double>(2)};
    OptimizerConfig cfg{.lr = 1e-2};
    cfg.grad_scale[ParamGroup::time_constant] = grad_scale;
    cfg.lr_scale[ParamGroup::time_constant] = lr_scale;
    Optimizer<double, decltype(update)> opt(cfg, update);
    Bptt<SumCrossEntropy> rule;
    Batch<double> b;
    b.input.resize(6, 8, 30);
    Rng data(3);
    test::fill_spikes(b.input, data, 0.3);
    b.labels = {0, 1, 0, 1, 1, 0, 0, 1};
    const Vector<double> start = net.layer<1>().beta().values();
    for (int k = 0; k < 20; ++k) {
      net.zero_grad();
      rule.accumulate(net, b, rng);
      opt.step(net);
    }
    net.layer<1>().beta().refresh();
    return Vector<double>(net.layer<1>().beta().values() - start);
  };
  const Vector<double> adam1 = run(Adam{}, 1.0, 1.0), adam01 = run(Adam{}, 0.1, 1.0), adam_lr = run(Adam{}, 1.0, 0.1);
  REQUIRE(adam1.norm() > 1e-3);
  CHECK((adam01 - adam1).norm() < 1e-3 * adam1.norm());  // same trajectory
  CHECK(adam_lr.norm() < 0.2 * adam1.norm());            // lr_scale does slow it down
  const Vector<double> sgd1 = run(Sgd{}, 1.0, 1.0), sgd01 = run(Sgd{}, 0.1, 1.0);
  REQUIRE(sgd1.norm() > 0);
  CHECK(sgd01.norm() < 0.2 * sgd1.norm());
}

TEST_CASE("A forward clip clips the values the neuron uses, not the stored parameter", "[temporal][parameter][clip]") {
  NeuronParameter<double> p(Train::per_neuron, 5, 0.5, -1e9, 1e9);
  Vector<double> u(5);
  u << 0.1, 0.2, 0.5, 0.8, 1.3;  // below, on the lower edge, inside, on the upper edge, above
  p.set(u);
  p.set_forward_clip(0.2, 0.8);
  CHECK(p.has_forward_clip());
  CHECK(p.values()[0] == 0.2);
  CHECK(p.values()[2] == 0.5);
  CHECK(p.values()[4] == 0.8);
  CHECK(p.unclipped_values()[0] == 0.1);
  CHECK(p.unclipped_values()[4] == 1.3);
  CHECK(p.raw()(4, 0) == 1.3);  // the stored value stays beyond the clip
  CHECK(p.neurons_at_limit() == 4);  // at or beyond: 0.1, 0.2, 0.8, 1.3
  // the loss's gradient stops beyond the clip (and passes on its edges), a penalty's does not
  Vector<double> g = Vector<double>::Constant(5, 2.0);
  p.add_grad(g);
  Vector<double> want(5);
  want << 0, 2, 2, 2, 0;
  CHECK(p.grad().col(0) == want);
  p.zero_grad();
  p.add_grad_unclipped(g);
  CHECK(p.grad().col(0) == g);
  // a per-layer parameter beyond the clip gets no gradient from the loss at all
  NeuronParameter<double> q(Train::per_layer, 3, 0.99, 0.0, 1.0);
  q.set_forward_clip(1e-5, 0.98);
  CHECK(q.values()[1] == Approx(0.98));
  q.add_grad(Vector<double>::Ones(3));
  CHECK(q.grad()(0, 0) == 0.0);
  q.add_grad_unclipped(Vector<double>::Ones(3));
  CHECK(q.grad()(0, 0) == 3.0);
  CHECK(q.neurons_at_limit() == 3);
  // without a clip, neurons_at_limit counts stored values on a projection bound
  NeuronParameter<double> r(Train::per_neuron, 3, 0.5, 0.0, 0.98);
  Vector<double> rv(3);
  rv << 0.98, 0.5, 0.0;
  r.set(rv);
  CHECK(r.neurons_at_limit() == 2);
  p.clear_forward_clip();
  CHECK(p.values()[4] == 1.3);
  CHECK_THROWS_AS(p.set_forward_clip(0.9, 0.1), ConfigError);
  CHECK_THROWS_AS(p.set_forward_clip(0.0, std::numeric_limits<double>::infinity()), ConfigError);
}

TEST_CASE("A forward clip survives a checkpoint round trip", "[temporal][parameter][clip][io]") {
  constexpr double inf = std::numeric_limits<double>::infinity();
  LifType<double, Boxcar, SubtractReset, LifOptions{.beta = Train::per_neuron}> lif(3, {.beta = 0.95, .beta_min = -inf, .beta_max = inf});
  lif.beta().set_forward_clip(hsnn_decay_min, hsnn_decay_max);
  lif.beta().raw()(1, 0) = 1.02;
  std::stringstream ss;
  {
    cereal::PortableBinaryOutputArchive ar(ss);
    ar(lif);
  }
  decltype(lif) back(3);
  {
    cereal::PortableBinaryInputArchive ar(ss);
    ar(back);
  }
  REQUIRE(back.beta().has_forward_clip());
  CHECK(back.beta().clip_upper() == hsnn_decay_max);
  CHECK(back.beta().raw()(1, 0) == 1.02);
  CHECK(back.beta().values()[1] == Approx(hsnn_decay_max));
  CHECK(back.beta().upper() == inf);
}

TEST_CASE("The forward clip's gradient matches finite differences on both sides of the clip",
          "[temporal][gradient][clip]") {
  Rng rng(41);
  using G = SmoothTwin<Sigmoid>;
  constexpr double inf = std::numeric_limits<double>::infinity(), lo = 0.3, hi = 0.9;
  // stored decays below the clip, inside it (twice), above it, and above 1 (allowed: the stored
  // decay is not bounded, only its use)
  Vector<double> stored(kHidden);
  stored << 0.12, 0.45, 0.7, 0.94, 1.05, 0.86;
  const std::vector<bool> inside = {false, true, true, false, false, true};

  // one BPTT pass, then central differences of the loss in each stored decay of hidden layer 1
  auto check = [&](auto& net, auto& param) {
    SumCrossEntropy loss;
    const Batch<double> b = make_batch(rng);
    auto eval = [&] {
      Rng r(5);
      return double(loss.value(net.forward(b.input, ForwardContext::train(r)), b));
    };
    net.zero_grad();
    {
      Rng r(5);
      TimeSeries<double> g;
      loss.value_and_gradient(net.forward(b.input, ForwardContext::train(r)), b, g);
      net.backward(g, nullptr);
    }
    const Matrix<double> analytic = param.grad();
    const double h = 1e-6;
    for (Index i = 0; i < param.raw().rows(); ++i) {
      double& v = param.raw()(i, 0);
      const double keep = v;
      v = keep + h;
      const double lp = eval();
      v = keep - h;
      const double lm = eval();
      v = keep;
      const double fd = (lp - lm) / (2 * h);
      INFO("stored value " << i << " = " << keep << ": analytic " << analytic(i, 0) << ", finite differences " << fd);
      if (param.raw().rows() == kHidden && !inside[std::size_t(i)]) {
        CHECK(analytic(i, 0) == 0.0);  // beyond the clip: no gradient from the loss ...
        CHECK(fd == 0.0);              // ... and the loss does not change there
      } else {
        REQUIRE(std::abs(fd) > 1e-8);  // inside: the loss depends on the decay ...
        CHECK(analytic(i, 0) == Approx(fd).epsilon(1e-6).margin(1e-10));  // ... and BPTT gets it right
      }
    }
  };
  SECTION("per-neuron decay trained directly") {
    using L = LifType<double, G, SubtractReset, LifOptions{.threshold = Train::per_neuron, .beta = Train::per_neuron}>;
    L lif(kHidden, {.beta = 0.5, .threshold = 0.7, .beta_min = -inf, .beta_max = inf}, {{2.5}});
    lif.beta().set(stored);
    lif.beta().set_forward_clip(lo, hi);
    auto net = make_net(lif, rng);
    check(net, net.layer<1>().beta());
    // the other blocks (weights, thresholds, the second layer's clipped decays) stay exact
    require_exact(net, rng);
  }
  SECTION("per-neuron time constant, the clip on its decay") {
    using L = LifType<double, G, SubtractReset, LifOptions{.beta = Train::per_neuron}>;
    L lif(kHidden, {.beta = 0.5, .threshold = 0.7}, {{2.5}});
    Vector<double> s = stored;
    s[4] = 0.995;  // a time constant needs a decay in (0, 1)
    lif.beta().set(s);
    lif.beta().use_time_constant(0.01, 1e-6, 1e6);
    lif.beta().set_forward_clip(lo, hi);
    auto net = make_net(lif, rng);
    check(net, net.layer<1>().beta());
  }
  SECTION("per-layer decay inside the clip, then beyond it") {
    using L = LifType<double, G, SubtractReset, LifOptions{.beta = Train::per_layer}>;
    L lif(kHidden, {.beta = 0.6, .threshold = 0.7, .beta_min = -inf, .beta_max = inf}, {{2.5}});
    lif.beta().set_forward_clip(lo, hi);
    auto net = make_net(lif, rng);
    check(net, net.layer<1>().beta());  // inside
    for (auto* q : {&net.layer<1>().beta(), &net.layer<3>().beta()}) {
      q->raw()(0, 0) = 0.97;
      q->refresh();
    }
    net.zero_grad();
    SumCrossEntropy loss;
    const Batch<double> b = make_batch(rng);
    Rng r(5);
    TimeSeries<double> g;
    loss.value_and_gradient(net.forward(b.input, ForwardContext::train(r)), b, g);
    net.backward(g, nullptr);
    CHECK(net.layer<1>().beta().grad()(0, 0) == 0.0);
    CHECK(net.layer<3>().beta().grad()(0, 0) == 0.0);
    CHECK(net.layer<0>().weight_grad().norm() > 0);  // the rest of the network still learns
  }
}
