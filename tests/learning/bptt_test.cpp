// BPTT gradients against central finite differences on smooth twins (double precision):
// every surrogate, reset, trainable neuron parameter, recurrent and synaptic variant,
// readout and loss; T >= 20 steps, batch > 1.
#include <spikelab/spikelab.hpp>
#include <spikelab/testing/gradient_check.hpp>

#include "support/test_support.hpp"

using namespace spikelab;

namespace {

constexpr Index kIn = 4, kHidden = 6, kOut = 3, kBatch = 3, kSteps = 24;
constexpr double kTolerance = 1e-6;

Batch<double> make_batch(Rng& rng, bool ragged = false, bool step_labels = false) {
  Batch<double> b;
  b.input.resize(kIn, kBatch, kSteps);
  test::fill_uniform(b.input, rng, -0.5, 1.5);
  b.labels = {0, 2, 1};
  if (ragged) b.lengths = {kSteps, kSteps - 5, kSteps - 11};
  if (step_labels) {
    b.step_labels.resize(std::size_t(kBatch * kSteps));
    for (auto& l : b.step_labels) l = int(rng.below(kOut + 1)) - 1;  // -1 = not scored
  }
  return b;
}

template <class Net, class LossT>
void require_exact(Net& net, LossT loss, const Batch<double>& b) {
  auto r = testing::check_gradients(net, loss, b, {.step = 1e-6, .max_per_block = 40});
  INFO(net.signature() << " / " << LossT::name() << "\n" << r.report());
  REQUIRE(r.blocks.size() >= 2);
  for (const auto& blk : r.blocks) REQUIRE(blk.analytic_norm > 0);  // every block gets gradient
  CHECK(r.max_rel_error < kTolerance);
}

template <class Hidden>
void check_hidden(Hidden hidden, std::uint64_t seed = 11) {
  Rng rng(seed);
  Sequential<Linear<double>, Hidden, Linear<double>, LeakyIntegratorType<double, Train::per_neuron>> net{
      Linear<double>(kIn, kHidden, rng), std::move(hidden), Linear<double>(kHidden, kOut, rng),
      LeakyIntegratorType<double, Train::per_neuron>(kOut, {.beta = 0.8})};
  require_exact(net, SumCrossEntropy{}, make_batch(rng));
}

template <class G>
using TwinLif = LifType<double, SmoothTwin<G>, SubtractReset,
                        LifOptions{.threshold = Train::per_neuron, .beta = Train::per_neuron}>;

}  // namespace

TEST_CASE("BPTT is exact for every surrogate's smooth twin", "[gradient][surrogates]") {
  check_hidden(TwinLif<FastSigmoid>(kHidden, {.beta = 0.85, .threshold = 0.6}, {{.slope = 3}}));
  check_hidden(TwinLif<Arctan>(kHidden, {.beta = 0.85, .threshold = 0.6}, {{.alpha = 1.5}}));
  check_hidden(TwinLif<Sigmoid>(kHidden, {.beta = 0.85, .threshold = 0.6}, {{.slope = 3}}));
  check_hidden(TwinLif<Triangle>(kHidden, {.beta = 0.85, .threshold = 0.6}, {{.height = 0.5, .width = 2.0}}));
  check_hidden(TwinLif<Boxcar>(kHidden, {.beta = 0.85, .threshold = 0.6}, {{.height = 0.4, .half_width = 1.5}}));
  check_hidden(TwinLif<Exponential>(kHidden, {.beta = 0.85, .threshold = 0.6}, {{.scale = 1.0, .tau = 0.7}}));
}

TEST_CASE("BPTT is exact for every reset and every parameter granularity", "[gradient][lif]") {
  using G = SmoothTwin<Sigmoid>;
  const G g{{2.5}};
  const LifConfig cfg{.beta = 0.8, .threshold = 0.5};
  check_hidden(LifType<double, G, ZeroReset, LifOptions{.threshold = Train::per_neuron, .beta = Train::per_neuron}>(
      kHidden, cfg, g));
  check_hidden(LifType<double, G, NoReset, LifOptions{.threshold = Train::per_layer, .beta = Train::per_layer}>(
      kHidden, cfg, g));
  check_hidden(LifType<double, G, SubtractReset, LifOptions{.threshold = Train::per_layer, .beta = Train::per_neuron}>(
      kHidden, cfg, g));
  check_hidden(LifType<double, G, ZeroReset, LifOptions{.threshold = Train::per_neuron, .beta = Train::per_layer}>(
      kHidden, cfg, g));
}

TEST_CASE("BPTT is exact with a trainable synaptic current (CUBA LIF)", "[gradient][lif]") {
  using G = SmoothTwin<Sigmoid>;
  const LifConfig cfg{.beta = 0.9, .alpha = 0.6, .threshold = 0.8};
  check_hidden(LifType<double, G, ZeroReset,
                       LifOptions{.threshold = Train::per_neuron, .beta = Train::per_neuron, .alpha = Train::per_neuron}>(
      kHidden, cfg, {{2.0}}));
  check_hidden(LifType<double, G, SubtractReset, LifOptions{.alpha = Train::per_layer}>(kHidden, cfg, {{2.0}}));
  check_hidden(LifType<double, G, SubtractReset>(kHidden, cfg, {{2.0}}));  // fixed alpha: input gradient only
}

TEST_CASE("BPTT is exact through recurrent LIF layers", "[gradient][lif][recurrent]") {
  Rng rng(21);
  using G = SmoothTwin<FastSigmoid>;
  using R1 = LifType<double, G, SubtractReset, LifOptions{.threshold = Train::per_neuron, .recurrent = true}>;
  check_hidden(R1(kHidden, rng, {.beta = 0.9, .threshold = 0.5}, {{.slope = 2}}));
  using R2 = LifType<double, G, ZeroReset, LifOptions{.beta = Train::per_neuron, .alpha = Train::per_neuron, .recurrent = true}>;
  check_hidden(R2(kHidden, rng, {.beta = 0.9, .alpha = 0.5, .threshold = 0.5}, {{.slope = 2}}));
}

TEST_CASE("BPTT is exact for every loss, with ragged lengths", "[gradient][losses]") {
  Rng rng(5);
  using L = LifType<double, SmoothTwin<Sigmoid>, SubtractReset, LifOptions{.threshold = Train::per_neuron}>;
  auto make_net = [&] {
    return Sequential<Linear<double>, L, Linear<double>, LeakyIntegratorType<double, Train::per_layer>>{
        Linear<double>(kIn, kHidden, rng), L(kHidden, {.beta = 0.8, .threshold = 0.6}, {{2.0}}),
        Linear<double>(kHidden, kOut, rng),
        LeakyIntegratorType<double, Train::per_layer>(kOut, {.beta = 0.7, .normalize = true})};
  };
  auto net = make_net();
  require_exact(net, SumCrossEntropy{}, make_batch(rng, true));
  require_exact(net, MeanCrossEntropy{}, make_batch(rng, true));
  require_exact(net, MaxCrossEntropy{}, make_batch(rng, true));
  SumCrossEntropy scaled;
  scaled.scale = 0.2;
  require_exact(net, scaled, make_batch(rng));
  require_exact(net, StepCrossEntropy{}, make_batch(rng, true, true));
  require_exact(net, RateMse{}, make_batch(rng, true));
  // a spiking output layer with a count loss (smooth twin spikes as "counts")
  Sequential<Linear<double>, L, Linear<double>, L> spiking_out{
      Linear<double>(kIn, kHidden, rng), L(kHidden, {.beta = 0.8, .threshold = 0.6}, {{2.0}}),
      Linear<double>(kHidden, kOut, rng), L(kOut, {.beta = 0.8, .threshold = 0.6}, {{2.0}})};
  require_exact(spiking_out, SumCrossEntropy{}, make_batch(rng));
  require_exact(spiking_out, RateMse{.on_rate = 0.9, .off_rate = 0.1}, make_batch(rng, true));
}

TEST_CASE("Float BPTT gradients agree with double BPTT gradients", "[gradient][float]") {
  Rng rng_d(9), rng_f(9);
  using Ld = LifType<double, FastSigmoid, SubtractReset, LifOptions{.threshold = Train::per_neuron}>;
  using Lf = LifType<float, FastSigmoid, SubtractReset, LifOptions{.threshold = Train::per_neuron}>;
  Sequential<Linear<double>, Ld, Linear<double>, LeakyIntegrator<double>> nd{
      Linear<double>(20, 32, rng_d), Ld(32, {.beta = 0.9, .threshold = 0.3}), Linear<double>(32, 5, rng_d),
      LeakyIntegrator<double>(5)};
  Sequential<Linear<float>, Lf, Linear<float>, LeakyIntegrator<float>> nf{
      Linear<float>(20, 32, rng_f), Lf(32, {.beta = 0.9, .threshold = 0.3}), Linear<float>(32, 5, rng_f),
      LeakyIntegrator<float>(5)};
  // same weights (the float net was drawn from the same stream, rounded)
  nd.layer<0>().weight() = nf.layer<0>().weight().cast<double>();
  nd.layer<0>().bias() = nf.layer<0>().bias().cast<double>();
  nd.layer<2>().weight() = nf.layer<2>().weight().cast<double>();
  nd.layer<2>().bias() = nf.layer<2>().bias().cast<double>();
  Rng data(3);
  Batch<float> bf;
  bf.input.resize(20, 4, 30);
  test::fill_spikes(bf.input, data, 0.3);
  bf.labels = {1, 4, 0, 2};
  Batch<double> bd;
  bd.input.resize(20, 4, 30);
  bd.input.values() = bf.input.values().cast<double>();
  bd.labels = bf.labels;
  Bptt<SumCrossEntropy> rule;
  Rng r1(1), r2(1);
  nf.zero_grad();
  nd.zero_grad();
  const auto sf = rule.accumulate(nf, bf, r1);
  const auto sd = rule.accumulate(nd, bd, r2);
  CHECK(sf.loss == Approx(sd.loss).epsilon(1e-5));
  std::vector<Matrix<double>> gd;
  nd.for_each_parameter([&](ParamRef<double> p) { gd.push_back(p.grad); });
  std::size_t k = 0;
  nf.for_each_parameter([&](ParamRef<float> p) {
    const Matrix<double> g = p.grad.cast<double>();
    INFO("block " << k << " " << p.name);
    CHECK((g - gd[k]).norm() <= 1e-4 * gd[k].norm() + 1e-6);
    ++k;
  });
  CHECK(k == gd.size());
}
