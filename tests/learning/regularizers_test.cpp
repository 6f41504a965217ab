// hSNN's decay regularisers as a Bptt policy: values computed by hand (numpy), gradients
// against finite differences (decay or tau trained, per neuron or per layer), and the sum
// Bptt<Loss, Regularizer> reports and applies.
#include <spikelab/spikelab.hpp>

#include "support/test_support.hpp"

using namespace spikelab;

namespace {

using Lpn = LifType<double, FastSigmoid, SubtractReset, LifOptions{.beta = Train::per_neuron}>;
using Lpl = LifType<double, FastSigmoid, SubtractReset, LifOptions{.beta = Train::per_layer}>;
using Lsyn = LifType<double, FastSigmoid, SubtractReset, LifOptions{.beta = Train::per_neuron, .alpha = Train::per_neuron}>;
using Net = Sequential<Linear<double>, Lpn, Linear<double>, Lpn, Linear<double>, Lpl, Linear<double>, Lsyn,
                       Linear<double>, LeakyIntegrator<double>>;

Net make_net(Rng& rng) {
  return Net{Linear<double>(4, 3, rng), Lpn(3),       Linear<double>(3, 2, rng), Lpn(2),
             Linear<double>(2, 4, rng), Lpl(4, {.beta = 0.97}), Linear<double>(4, 3, rng),
             Lsyn(3, {.beta = 0.9, .alpha = 0.96}), Linear<double>(3, 2, rng), LeakyIntegrator<double>(2, {.beta = 0.99})};
}

void set_decays(Net& net) {
  Vector<double> a(3), b(2), c(3);
  a << 0.9, 0.96, 0.98;
  b << 0.5, 0.97;
  c << 0.93, 0.99, 0.955;
  net.layer<1>().beta().set(a);
  net.layer<3>().beta().set(b);
  net.layer<7>().beta().set(c);
  Vector<double> s(3);
  s << 0.97, 0.6, 0.99;
  net.layer<7>().alpha().set(s);
}

// Gradient of the regulariser alone against central differences of its value, block by block.
void check_gradient(Net& net, DecayRegularizer& reg) {
  net.zero_grad();
  reg.add_gradient(net);
  int blocks = 0;
  net.for_each_parameter([&](ParamRef<double> p) {
    if (p.group != ParamGroup::time_constant) return;
    ++blocks;
    for (Index k = 0; k < p.value.size(); ++k) {
      const double keep = p.value.data()[k], h = 1e-7;
      p.value.data()[k] = keep + h;
      const double up = reg.value(net);
      p.value.data()[k] = keep - h;
      const double down = reg.value(net);
      p.value.data()[k] = keep;
      INFO("layer " << p.layer << " " << p.name << " element " << k);
      CHECK(p.grad.data()[k] == Approx((up - down) / (2 * h)).margin(1e-7).epsilon(1e-5));
    }
  });
  CHECK(blocks >= 4);
}

}  // namespace

TEST_CASE("The decay regulariser's value matches the hSNN formula", "[temporal][regularizer]") {
  Rng rng(1);
  Net net = make_net(rng);
  set_decays(net);
  // only layers 1 and 3 (layer 5: per-layer 0.97; layer 7: per-neuron) ... checked on a net
  // holding exactly the two numpy layers: freeze the others' contributions by comparing with
  // a net where they are at harmless values
  net.layer<5>().beta().set(0.5);
  Vector<double> c(3);
  c << 0.5, 0.5, 0.5;
  net.layer<7>().beta().set(c);
  DecayRegularizer global({.upper_weight = 0.1, .spread_weight = 0.01});
  CHECK(global.value(net) == Approx(0.0071168117042336165).epsilon(1e-12));
  DecayRegularizer per_layer({.upper_weight = 0.1, .spread_weight = 0.01, .per_layer_norm = true});
  CHECK(per_layer.value(net) == Approx(0.009074463589500346).epsilon(1e-12));
  // the synaptic decays count only when asked: ReLU(0.97 - 0.95) and ReLU(0.99 - 0.95), spread of [0.97, 0.6, 0.99]
  DecayRegularizer syn({.upper_weight = 0.1, .spread_weight = 0.0, .include_synaptic = true});
  const double hi = std::sqrt(0.01 * 0.01 + 0.03 * 0.03 + 0.02 * 0.02 + 0.02 * 0.02 + 0.04 * 0.04);
  CHECK(syn.value(net) == Approx(0.1 * hi).epsilon(1e-12));
  CHECK(NoRegularizer{}.value(net) == 0.0);
  CHECK_THROWS_AS(DecayRegularizer({.upper_weight = -1}), ConfigError);
}

TEST_CASE("The decay regulariser's gradient matches finite differences", "[temporal][regularizer][gradient]") {
  Rng rng(2);
  Net net = make_net(rng);
  set_decays(net);
  SECTION("one norm over all layers") {
    DecayRegularizer reg({.upper_weight = 0.1, .spread_weight = 0.05, .include_synaptic = true});
    check_gradient(net, reg);
  }
  SECTION("per-layer norms") {
    DecayRegularizer reg({.upper_weight = 0.3, .spread_weight = 0.02, .per_layer_norm = true, .include_synaptic = true});
    check_gradient(net, reg);
  }
  SECTION("decays beyond a forward clip: the penalty acts on the stored decay") {
    Vector<double> a(3);
    a << 0.9, 0.99, 0.999;  // two stored decays beyond hSNN's clip at 0.98
    net.layer<1>().beta().set(a);
    net.layer<1>().beta().set_forward_clip(hsnn_decay_min, hsnn_decay_max);
    DecayRegularizer reg({.upper_weight = 0.1, .spread_weight = 0.05});
    check_gradient(net, reg);
    net.zero_grad();
    reg.add_gradient(net);
    CHECK(net.layer<1>().beta().grad()(2, 0) > 0);  // pulls the clipped 0.999 down
    // the value is the stored decays' (0.999 counts, not the 0.98 the neuron uses)
    const double stored = reg.value(net);
    net.layer<1>().beta().clear_forward_clip();
    CHECK(reg.value(net) == Approx(stored).epsilon(1e-14));
    Vector<double> clipped(3);
    clipped << 0.9, 0.98, 0.98;
    net.layer<1>().beta().set(clipped);
    CHECK(reg.value(net) < stored - 1e-4);
  }
  SECTION("time constants trained instead of decays") {
    net.layer<1>().beta().use_time_constant(0.01, 1e-4, 10.0);
    net.layer<5>().beta().use_time_constant(0.01, 1e-4, 10.0);
    net.layer<7>().alpha().use_time_constant(0.01, 1e-4, 10.0);
    DecayRegularizer reg({.upper_weight = 0.1, .spread_weight = 0.01, .include_synaptic = true});
    check_gradient(net, reg);
  }
}

TEST_CASE("Bptt with a regulariser adds its value to the loss and its gradient to the parameters",
          "[temporal][regularizer][bptt]") {
  Rng rng(5);
  Net a = make_net(rng);
  set_decays(a);
  Net b = a;
  Batch<double> batch;
  batch.input.resize(4, 3, 20);
  test::fill_spikes(batch.input, rng, 0.4);
  batch.labels = {0, 1, 1};
  DecayRegularizer reg({.upper_weight = 0.1, .spread_weight = 1e-3});
  Bptt<SumCrossEntropy> plain;
  Bptt<SumCrossEntropy, DecayRegularizer> regularized(SumCrossEntropy{}, reg);
  Rng r1(9), r2(9);
  a.zero_grad();
  b.zero_grad();
  const StepStats sa = plain.accumulate(a, batch, r1);
  const StepStats sb = regularized.accumulate(b, batch, r2);
  const double penalty = reg.value(a);
  REQUIRE(penalty > 0);
  CHECK(sb.loss == Approx(sa.loss + penalty).epsilon(1e-12));
  // evaluation reports the data loss only
  CHECK(regularized.evaluate(b, batch).loss == Approx(plain.evaluate(a, batch).loss).epsilon(1e-12));
  // gradients: the difference is exactly the regulariser's gradient
  Net c = a;
  c.zero_grad();
  reg.add_gradient(c);
  std::vector<Matrix<double>> ga, gb, gc;
  a.for_each_parameter([&](ParamRef<double> p) { ga.push_back(p.grad); });
  b.for_each_parameter([&](ParamRef<double> p) { gb.push_back(p.grad); });
  c.for_each_parameter([&](ParamRef<double> p) { gc.push_back(p.grad); });
  REQUIRE(ga.size() == gb.size());
  double reg_norm = 0;
  for (std::size_t k = 0; k < ga.size(); ++k) {
    CHECK((gb[k] - ga[k] - gc[k]).norm() <= 1e-12 * (1 + gb[k].norm()));
    reg_norm += gc[k].norm();
  }
  CHECK(reg_norm > 0);
}

TEST_CASE("Training with the decay regulariser keeps the decays below the penalty's knee", "[temporal][regularizer][learning]") {
  // Two identical runs on MTS-XOR whose decays start at 0.98 (past hSNN's 0.95 knee): with the
  // penalty (weight raised so that a few steps show it) the mean decay falls, without it not as much.
  auto run = [](double weight) {
    Rng rng(11);
    using L = LifType<float, Boxcar, SubtractReset, LifOptions{.beta = Train::per_neuron}>;
    const LifConfig lif{.beta = 0.98, .beta_min = hsnn_decay_min, .beta_max = hsnn_decay_max};
    Sequential<Linear<float>, L, Linear<float>, L, Linear<float>, LeakyIntegrator<float>> net{
        Linear<float>(40, 16, rng), L(16, lif, {.height = 1, .half_width = 0.5}), Linear<float>(16, 16, rng),
        L(16, lif, {.height = 1, .half_width = 0.5}), Linear<float>(16, 2, rng),
        LeakyIntegrator<float>(2, {.beta = 0.82, .normalize = true})};
    Bptt<StepCrossEntropy, DecayRegularizer> rule(StepCrossEntropy{}, DecayRegularizer({.upper_weight = weight}));
    Trainer trainer(net, rule, Optimizer<float, Adam>({.lr = 5e-3}), {.seed = 3});
    MtsXorSource<float> src(256, 64, 5);
    trainer.fit(src, 3);
    double mean = 0;
    for (double v : {net.layer<1>().beta().values().mean(), net.layer<3>().beta().values().mean()}) mean += v / 2;
    return mean;
  };
  const double with = run(10.0), without = run(0.0);
  INFO("mean decay with penalty " << with << ", without " << without);
  CHECK(with < 0.965);
  CHECK(with < without - 0.005);
}

TEST_CASE("WeightDecay: half lambda |W|^2 per layer, its gradient lambda W, biases and other layers untouched",
          "[regularizer][weight_decay]") {
  Rng rng(11);
  using Mlp = Sequential<Linear<double>, Activation<double, Relu>, Linear<double>>;
  Mlp net{Linear<double>(4, 3, rng), Activation<double, Relu>(3), Linear<double>(3, 2, rng)};
  WeightDecay reg(std::vector<double>{0.0, 0.0, 0.25});
  const Matrix<double> w2 = net.layer<2>().weight();
  CHECK(reg.value(net) == Approx(0.5 * 0.25 * w2.squaredNorm()).epsilon(1e-14));
  net.zero_grad();
  CHECK(reg.add_gradient(net) == Approx(0.5 * 0.25 * w2.squaredNorm()).epsilon(1e-14));
  CHECK((net.layer<2>().weight_grad() - 0.25 * w2).norm() <= 1e-15);
  CHECK(net.layer<2>().bias_grad().norm() == 0.0);
  CHECK(net.layer<0>().weight_grad().norm() == 0.0);
  // the gradient against central differences of the value
  const double h = 1e-5;
  for (Index k : {Index(0), Index(4)}) {
    Mlp up = net, down = net;
    up.layer<2>().weight().data()[k] += h;
    down.layer<2>().weight().data()[k] -= h;
    const double fd = (reg.value(up) - reg.value(down)) / (2 * h);
    CHECK(fd == Approx(0.25 * w2.data()[k]).epsilon(1e-8));
  }
  // with Bptt: the loss and the gradient gain exactly the penalty's
  Batch<double> b;
  b.input.resize(4, 5, 1);
  test::fill_uniform(b.input, rng, -1.0, 1.0);
  b.labels = {0, 1, 1, 0, 1};
  Mlp a = net, c = net;
  a.zero_grad();
  c.zero_grad();
  Rng r1(3), r2(3);
  const StepStats plain = Bptt<SumCrossEntropy>{}.accumulate(a, b, r1);
  Bptt<SumCrossEntropy, WeightDecay> decayed(SumCrossEntropy{}, reg);
  const StepStats with = decayed.accumulate(c, b, r2);
  CHECK(with.loss == Approx(plain.loss + reg.value(net)).epsilon(1e-12));
  CHECK((c.layer<2>().weight_grad() - a.layer<2>().weight_grad() - 0.25 * w2).norm() <= 1e-12);
  CHECK((c.layer<0>().weight_grad() - a.layer<0>().weight_grad()).norm() <= 1e-15);
}

TEST_CASE("WeightDecay rejects negative coefficients and coefficients for layers without weights",
          "[regularizer][weight_decay][errors]") {
  CHECK_THROWS_AS(WeightDecay(std::vector<double>{0.1, -0.01}), ConfigError);
  CHECK_THROWS_AS(WeightDecay(std::vector<double>{std::nan("")}), ConfigError);
  Rng rng(1);
  Sequential<Linear<double>, Activation<double, Relu>> net{Linear<double>(2, 2, rng), Activation<double, Relu>(2)};
  WeightDecay on_activation(std::vector<double>{0.0, 0.1});
  CHECK_THROWS_WITH(on_activation.value(net), Catch::Contains("layer 1"));
  WeightDecay past_end(std::vector<double>{0.1, 0.0, 0.1});
  CHECK_THROWS_AS(past_end.add_gradient(net), ConfigError);
  WeightDecay fine(std::vector<double>{0.1, 0.0});
  CHECK(fine.value(net) > 0);
}
