// Hierarchical initialisers of Moro et al. 2024: layer profiles (values computed with the hSNN
// formulas in numpy), heterogeneity, decays set on a network, and the temporal-conv K/D hierarchy.
#include <spikelab/spikelab.hpp>

#include "support/test_support.hpp"

using namespace spikelab;

TEST_CASE("Layer time constants follow the homogeneous, linear and tanh profiles", "[temporal][hierarchy]") {
  TimeConstantHierarchy h{.tau_mem = 0.3, .delta_tau = 0.4, .profile = TauProfile::tanh};
  // numpy: tau_mem + dtau * rescale(tanh((linspace(0,1,4) - 0.5) / 0.5))
  auto t = layer_time_constants(h, 4);
  REQUIRE(t.size() == 4);
  CHECK(t[0] == Approx(0.1));
  CHECK(t[1] == Approx(0.215568486177));
  CHECK(t[2] == Approx(0.384431513823));
  CHECK(t[3] == Approx(0.5));
  // an off-centre, steeper, inverted tanh hierarchy
  h = {.tau_mem = 0.2, .delta_tau = -0.2, .profile = TauProfile::tanh, .tanh_center = 0.25, .tanh_coef = 0.25};
  t = layer_time_constants(h, 3);
  CHECK(t[0] == Approx(0.3));
  CHECK(t[1] == Approx(0.126580222883));
  CHECK(t[2] == Approx(0.1));
  h = {.tau_mem = 0.1, .delta_tau = 0.15, .profile = TauProfile::tanh, .tanh_coef = 1.0};
  t = layer_time_constants(h, 5);
  CHECK(t[1] == Approx(0.06025055683));
  CHECK(t[3] == Approx(0.13974944317));
  // linear: linspace(max(0, tau - d/2), max(0, tau + d/2), L)
  h = {.tau_mem = 0.3, .delta_tau = 0.5, .profile = TauProfile::linear};
  t = layer_time_constants(h, 3);
  CHECK(t[0] == Approx(0.05));
  CHECK(t[1] == Approx(0.3));
  CHECK(t[2] == Approx(0.55));
  h = {.tau_mem = 0.1, .delta_tau = 0.5, .profile = TauProfile::linear};
  t = layer_time_constants(h, 3);
  CHECK(t[0] == 0.0);  // clipped at zero
  CHECK(t[1] == Approx(0.175));
  CHECK(t[2] == Approx(0.35));
  // homogeneous, delta_tau = 0, or a single layer: tau_mem everywhere
  h = {.tau_mem = 0.2, .delta_tau = 0.3, .profile = TauProfile::homogeneous};
  for (double v : layer_time_constants(h, 4)) CHECK(v == 0.2);
  h.profile = TauProfile::tanh;
  h.delta_tau = 0.0;
  for (double v : layer_time_constants(h, 4)) CHECK(v == Approx(0.2));
  h.delta_tau = 0.3;
  CHECK(layer_time_constants(h, 1) == std::vector<double>{0.2});
  CHECK_THROWS_AS(layer_time_constants(h, 0), ConfigError);
  h.tau_mem = -1;
  CHECK_THROWS_AS(layer_time_constants(h, 3), ConfigError);
}

TEST_CASE("Neuron time constants are spread uniformly or normally around the layer's, then clipped",
          "[temporal][hierarchy]") {
  Rng rng(7);
  const Index n = 20000;
  TimeConstantHierarchy u{.heterogeneity = TauHeterogeneity::uniform, .heterogeneity_sd = 0.2};
  const Vector<double> a = sample_time_constants(0.3, n, u, rng);
  CHECK(a.minCoeff() >= 0.24);
  CHECK(a.maxCoeff() <= 0.36);
  CHECK(a.mean() == Approx(0.3).epsilon(0.005));
  const double var_u = (a.array() - a.mean()).square().mean();
  CHECK(var_u == Approx(0.12 * 0.12 / 12).epsilon(0.05));
  TimeConstantHierarchy g{.heterogeneity = TauHeterogeneity::normal, .heterogeneity_sd = 0.1};
  const Vector<double> b = sample_time_constants(0.3, n, g, rng);
  CHECK(b.mean() == Approx(0.3).epsilon(0.005));
  CHECK(std::sqrt((b.array() - b.mean()).square().mean()) == Approx(0.03).epsilon(0.05));
  // a huge spread is clipped into [tau_min, tau_max]
  TimeConstantHierarchy wide{.heterogeneity = TauHeterogeneity::normal, .heterogeneity_sd = 50.0};
  const Vector<double> c = sample_time_constants(0.3, 2000, wide, rng);
  CHECK(c.minCoeff() == 1e-10);
  CHECK(c.maxCoeff() == 10.0);
  TimeConstantHierarchy none{.heterogeneity = TauHeterogeneity::none};
  CHECK((sample_time_constants(0.3, 5, none, rng).array() == 0.3).all());
}

TEST_CASE("initialize_time_constants sets the decays of the spiking layers only, clipped", "[temporal][hierarchy]") {
  Rng rng(3);
  using L = LifType<float, FastSigmoid, SubtractReset, LifOptions{.beta = Train::per_neuron}>;
  Sequential<Linear<float>, L, Linear<float>, L, Linear<float>, L, Linear<float>, LeakyIntegrator<float>> net{
      Linear<float>(4, 50, rng), L(50), Linear<float>(50, 50, rng), L(50), Linear<float>(50, 50, rng), L(50),
      Linear<float>(50, 2, rng), LeakyIntegrator<float>(2, {.beta = 0.8})};
  const TimeConstantHierarchy h{.dt = 0.01, .tau_mem = 0.3, .delta_tau = 0.5, .profile = TauProfile::linear,
                                .heterogeneity = TauHeterogeneity::normal, .heterogeneity_sd = 0.1};
  const HierarchyInit init = initialize_time_constants(net, h, rng);
  REQUIRE(init.layer_tau.size() == 3);
  CHECK(init.layers == std::vector<std::size_t>{1, 3, 5});
  CHECK(init.layer_tau[1] == Approx(0.3));
  // decays are exp(-dt/tau) of the sampled tau, clipped to [0.1, 0.99]
  for (std::size_t k = 0; k < 3; ++k) {
    const Vector<double>& tau = init.neuron_tau[k];
    REQUIRE(tau.size() == 50);
    for (Index i = 0; i < 50; ++i) {
      const double expect = std::clamp(std::exp(-0.01 / tau[i]), 0.1, 0.99);
      const float got = k == 0 ? net.layer<1>().beta().values()[i]
                               : (k == 1 ? net.layer<3>().beta().values()[i] : net.layer<5>().beta().values()[i]);
      CHECK(got == Approx(expect).epsilon(1e-6));
    }
  }
  CHECK(net.layer<7>().beta().values()[0] == 0.8f);  // the readout keeps its decay
  // the mean time constants grow with depth (a hierarchy, delta_tau > 0)
  const auto mean = mean_time_constants(net, 0.01);
  REQUIRE(mean.size() == 3);
  CHECK(mean[0] < mean[1]);
  CHECK(mean[1] < mean[2]);
  CHECK(mean[1] == Approx(0.3).epsilon(0.05));

  // trained tau: the stored quantity is tau, the decays are the same
  L tl(10);
  tl.beta().use_time_constant(0.01, 1e-3, 10.0);
  Vector<double> tau = Vector<double>::Constant(10, 0.25);
  set_time_constants(tl.beta(), tau, 0.01);
  CHECK(tl.beta().raw()(3, 0) == Approx(0.25));
  CHECK(tl.beta().values()[3] == Approx(std::exp(-0.04)));
  // the parameter's own bounds clip further: hSNN initialises up to 0.99 but uses at most 0.98
  L clipped(3, {.beta = 0.9, .beta_min = hsnn_decay_min, .beta_max = hsnn_decay_max});
  set_time_constants(clipped.beta(), Vector<double>::Constant(3, 5.0), 0.01, 0.1, 0.99);
  CHECK(clipped.beta().values()[1] == Approx(0.98));
  L tau_bounded(3);
  tau_bounded.beta().use_time_constant(0.01, 1e-3, 0.5);
  set_time_constants(tau_bounded.beta(), Vector<double>::Constant(3, 5.0), 0.01, 0.1, 0.99);
  CHECK(tau_bounded.beta().raw()(0, 0) == Approx(0.5));
  // a per-layer decay cannot be heterogeneous
  LifType<float, FastSigmoid, SubtractReset, LifOptions{.beta = Train::per_layer}> pl(3);
  Vector<double> het(3);
  het << 0.1, 0.2, 0.3;
  CHECK_THROWS_AS(set_time_constants(pl.beta(), het, 0.01), ConfigError);
  CHECK_THROWS_AS(set_time_constants(pl.beta(), Vector<double>::Constant(4, 0.1), 0.01), ShapeError);
}

TEST_CASE("Kernel-size and dilation hierarchies of the temporal-conv SNN", "[temporal][hierarchy][conv]") {
  // temporal_conv_hierarchy lives with TemporalConv (layers/temporal_conv.hpp); the brief's
  // example and a 4-layer inverted kernel hierarchy: linspace(7, 3, 4) = 7, 5.67, 4.33, 3
  auto h = temporal_conv_hierarchy(2, 5, 3, 5, 2);  // K = 5, dK = 3, D = 5, dD = 2, 3 layers
  CHECK(h.kernels == std::vector<Index>{3, 6});
  CHECK(h.dilations == std::vector<Index>{4, 6});
  h = temporal_conv_hierarchy(4, 5, -4, 5, 3);
  CHECK(h.kernels == std::vector<Index>{7, 5, 4, 3});
  CHECK(h.dilations == std::vector<Index>{3, 4, 5, 6});  // 5 + (l - 1.5) * 1, truncated
}
