// Probabilistic SNNs: basis kernels against reference values, GLM / WTA spiking distributions,
// potentials by hand, topology, the analytic grad log p against central finite differences of
// log p (double, GLM and WTA), K compartments, checkpoints and bad input.
#include <spikelab/spikelab.hpp>

#include "support/test_support.hpp"

#include <cmath>
#include <cstring>
#include <fstream>

using namespace spikelab;

namespace {

/// Random spike trains with at most one symbol per circuit and step (one-hot or silent).
template <class S>
void fill_symbols(TimeSeries<S>& x, Index circuits, Index C, Rng& rng, double p) {
  x.set_zero();
  for (Index t = 0; t < x.steps(); ++t)
    for (Index b = 0; b < x.batch(); ++b)
      for (Index n = 0; n < circuits; ++n)
        if (rng.uniform() < p) x(n * C + Index(rng.below(std::uint64_t(C))), b, t) = S(1);
}

template <class Net>
void randomise(Net& net, Rng& rng, double scale) {
  net.for_each_parameter([&](ParamRef<typename Net::scalar_type> p) {
    for (Index k = 0; k < p.value.size(); ++k) p.value.data()[k] = typename Net::scalar_type(rng.uniform(-scale, scale));
  });
  net.enforce_topology();
}

/// Central finite differences of log p over every parameter entry vs the analytic gradient.
template <class Net>
void check_log_prob_gradient(Net& net, Index in_c, Index hid_c, Index out_c, std::uint64_t seed) {
  constexpr Index C = Net::symbols();
  Rng rng(seed);
  const Index B = 2, T = 17;  // longer than the memory, so the history ring wraps
  TimeSeries<double> x(in_c * C, B, T), h(hid_c * C, B, T), y(out_c * C, B, T);
  fill_symbols(x, in_c, C, rng, 0.4);
  fill_symbols(h, hid_c, C, rng, 0.3);
  fill_symbols(y, out_c, C, rng, 0.3);
  randomise(net, rng, 0.6);
  net.zero_grad();
  const double lp = net.log_prob(x, h, y, true);
  REQUIRE(std::isfinite(lp));
  REQUIRE(lp < 0);
  const double step = 1e-6;
  double max_err = 0;
  Index checked = 0, zero_masked = 0;
  net.for_each_parameter([&](ParamRef<double> p) {
    INFO("block " << p.name);
    REQUIRE(p.grad.norm() > 0);
    for (Index k = 0; k < p.value.size(); ++k) {
      const double g = p.grad.data()[k];
      const double v0 = p.value.data()[k];
      if (p.name == "weight" && v0 == 0.0 && g == 0.0) {
        // an absent connection: the analytic gradient is zero by construction, and the
        // topology keeps the entry at zero (perturbing it would add a connection)
        ++zero_masked;
        continue;
      }
      p.value.data()[k] = v0 + step;
      const double lp_plus = net.log_prob(x, h, y, false);
      p.value.data()[k] = v0 - step;
      const double lp_minus = net.log_prob(x, h, y, false);
      p.value.data()[k] = v0;
      const double fd = (lp_plus - lp_minus) / (2 * step);
      const double err = std::abs(fd - g) / std::max(1.0, std::abs(fd) + std::abs(g));
      max_err = std::max(max_err, err);
      ++checked;
    }
  });
  INFO(net.signature() << ": " << checked << " entries checked, " << zero_masked << " absent connections");
  CHECK(checked > 100);
  CHECK(zero_masked > 0);
  CHECK(max_err < 1e-7);
}

}  // namespace

TEST_CASE("Raised-cosine kernels match the kclip and hrjang reference values", "[probabilistic][kernels]") {
  // reference values computed with the official formulas (numpy), T = 10, K = 8
  const Matrix<double> a = make_kernel_bank<double>({KernelType::raised_cosine, 8, 10, 0.5});
  REQUIRE(a.rows() == 10);
  REQUIRE(a.cols() == 8);
  CHECK(a(0, 0) == Approx(1.0));
  CHECK(a(1, 0) == Approx(0.0).margin(1e-12));
  CHECK(a(1, 1) == Approx(0.416194923514095).epsilon(1e-12));
  CHECK(a(6, 5) == Approx(0.5660264248258219).epsilon(1e-12));
  CHECK(a(4, 6) == Approx(0.4161949235140954).epsilon(1e-12));
  CHECK(a(9, 7) == Approx(1.0));
  const Matrix<double> h = make_kernel_bank<double>({KernelType::raised_cosine_hrjang, 8, 10, 1.5});
  CHECK(h(0, 0) == Approx(1.0));
  CHECK(h(0, 1) == Approx(0.5));
  CHECK(h(1, 1) == Approx(0.437768560825).epsilon(1e-10));
  CHECK(h(4, 3) == Approx(0.018072452400).epsilon(1e-9));
  CHECK(h(7, 6) == Approx(0.965371024240).epsilon(1e-10));
  CHECK(h(9, 7) == Approx(0.994760343377).epsilon(1e-10));
  CHECK(h(0, 2) == Approx(0.0).margin(1e-12));
  const Matrix<double> e = make_kernel_bank<double>({KernelType::exponential, 2, 5, 2.0}, 7);
  REQUIRE(e.rows() == 7);  // zero-padded to the network memory
  CHECK(e(3, 0) == Approx(std::exp(-1.5)));
  CHECK(e(3, 1) == Approx(std::exp(-0.75)));
  CHECK(e(5, 0) == 0.0);
  CHECK(e(6, 1) == 0.0);
  CHECK_THROWS_AS(make_kernel_bank<double>({KernelType::raised_cosine, 0, 10, 0.5}), ConfigError);
  CHECK_THROWS_AS(make_kernel_bank<double>({KernelType::raised_cosine, 2, 10, -1.0}), ConfigError);
}

TEST_CASE("GLM and WTA spiking distributions are stable and WTA with one symbol is the GLM neuron",
          "[probabilistic][neurons]") {
  for (double u : {-800.0, -30.0, -1.3, 0.0, 0.7, 25.0, 800.0}) {
    double pg, pw, uu[1] = {u};
    GlmNeuron::probabilities(uu, &pg);
    WtaNeuron<1>::probabilities(uu, &pw);
    CHECK(pg == Approx(pw).epsilon(1e-14));
    CHECK(pg == Approx(1.0 / (1.0 + std::exp(-u))).margin(1e-300));
    CHECK(GlmNeuron::log_partition(uu) == Approx(WtaNeuron<1>::log_partition(uu)).epsilon(1e-14).margin(1e-15));
    CHECK(std::isfinite(GlmNeuron::log_partition(uu)));
    CHECK(GlmNeuron::log_partition(uu) == Approx(u > 30 ? u : std::log1p(std::exp(u))).epsilon(1e-12).margin(1e-300));
  }
  // WTA: probabilities of the symbols and of "no spike" sum to one; the log-partition is
  // log(1 + sum exp u) even for huge potentials
  const double u3[3] = {500.0, 499.0, -2.0};
  double p3[3];
  WtaNeuron<3>::probabilities(u3, p3);
  const double p0 = 1.0 - p3[0] - p3[1] - p3[2];
  CHECK(p0 >= -1e-15);
  CHECK(p0 < 1e-200);
  CHECK(p3[0] / p3[1] == Approx(std::exp(1.0)));
  CHECK(WtaNeuron<3>::log_partition(u3) == Approx(500.0 + std::log1p(std::exp(-1.0))));
  const float uf[2] = {0.3f, -0.4f};
  float pf[2];
  WtaNeuron<2>::probabilities(uf, pf);
  const double z = 1 + std::exp(0.3) + std::exp(-0.4);
  CHECK(pf[0] == Approx(std::exp(0.3) / z).epsilon(1e-6));
  CHECK(pf[1] == Approx(std::exp(-0.4) / z).epsilon(1e-6));
}

TEST_CASE("WTA sampling emits at most one symbol with the categorical frequencies", "[probabilistic][neurons]") {
  Rng rng(5);
  const double u[3] = {0.5, -0.2, 1.1};
  double p[3], s[3];
  WtaNeuron<3>::probabilities(u, p);
  const int n = 200000;
  double counts[4] = {0, 0, 0, 0};
  for (int i = 0; i < n; ++i) {
    WtaNeuron<3>::sample(p, s, rng);
    const double total = s[0] + s[1] + s[2];
    REQUIRE((total == 0.0 || total == 1.0));
    for (int c = 0; c < 3; ++c) counts[c] += s[c];
    counts[3] += 1.0 - total;
  }
  const double probs[4] = {p[0], p[1], p[2], 1 - p[0] - p[1] - p[2]};
  for (int c = 0; c < 4; ++c) {
    const double sd = std::sqrt(probs[c] * (1 - probs[c]) / n);
    CHECK(std::abs(counts[c] / n - probs[c]) < 5 * sd);
  }
}

TEST_CASE("The GLM potential equals the hand-computed kernel sum", "[probabilistic][network]") {
  // 2 inputs -> 1 output, exponential kernels (2 bases, memory 3), one feedback basis
  ProbabilisticSnnConfig cfg;
  cfg.inputs = 2;
  cfg.hidden = 0;
  cfg.outputs = 1;
  cfg.feedforward = {KernelType::exponential, 2, 3, 1.0};
  cfg.feedback = {KernelType::exponential, 1, 2, 0.5};
  Rng rng(3);
  GlmSnn<double> net(cfg, rng);
  REQUIRE(net.memory() == 3);
  REQUIRE(net.feature_size() == 3 * 2);
  const Matrix<double>& a = net.feedforward_kernels();
  const Matrix<double>& bk = net.feedback_kernels();
  CHECK(bk(2, 0) == 0.0);  // feedback bank shorter than the memory: zero-padded
  // weights w(j, k) for input j, basis k; the output's own column block is absent
  net.weight().setZero();
  net.weight()(0, 0) = 0.5;   // input 0, basis 0
  net.weight()(0, 1) = -0.3;  // input 0, basis 1
  net.weight()(0, 2) = 1.2;   // input 1, basis 0
  net.weight()(0, 3) = 0.7;   // input 1, basis 1
  net.weight()(0, 4) = 9.0;   // self (absent connection)
  net.enforce_topology();
  CHECK(net.weight()(0, 4) == 0.0);
  net.feedback_weight()(0, 0) = -0.8;
  net.bias()(0, 0) = 0.1;
  // input spikes x0 = 1,0,1,1,0,0 ; x1 = 0,1,1,0,0,1 ; output clamped y = 1,0,0,1,1,0
  const int x0[6] = {1, 0, 1, 1, 0, 0}, x1[6] = {0, 1, 1, 0, 0, 1}, yv[6] = {1, 0, 0, 1, 1, 0};
  Batch<double> batch;
  batch.input.resize(2, 1, 6);
  TimeSeries<double> y(1, 1, 6);
  for (Index t = 0; t < 6; ++t) {
    batch.input(0, 0, t) = x0[t];
    batch.input(1, 0, t) = x1[t];
    y(0, 0, t) = yv[t];
  }
  Teacher<double> tg;
  tg.outputs = &y;
  net.begin(1, 1);
  double lp_total = 0;
  for (Index t = 0; t < 6; ++t) {
    net.step(batch.input, t, tg, OutputMode::clamp, rng);
    double u = 0.1;
    for (Index tau = 0; tau < 3 && t - 1 - tau >= 0; ++tau) {
      const Index s = t - 1 - tau;
      u += x0[s] * (0.5 * a(tau, 0) - 0.3 * a(tau, 1)) + x1[s] * (1.2 * a(tau, 0) + 0.7 * a(tau, 1));
      u += -0.8 * bk(tau, 0) * yv[s];
    }
    INFO("t = " << t);
    CHECK(net.potentials()(0, 0) == Approx(u).epsilon(1e-12));
    const double p = 1 / (1 + std::exp(-u));
    CHECK(net.probabilities()(0, 0) == Approx(p).epsilon(1e-12));
    CHECK(net.scores()(0, 0) == Approx(yv[t] - p).epsilon(1e-12));
    const double lp = yv[t] ? std::log(p) : std::log(1 - p);
    CHECK(net.output_log_likelihood()[0] == Approx(lp).epsilon(1e-12));
    lp_total += lp;
  }
  CHECK(net.log_prob(batch.input, TimeSeries<double>(0, 1, 6), y) == Approx(lp_total).epsilon(1e-12));
}

TEST_CASE("The topology has no output-to-hidden, no self and no disabled recurrent connections",
          "[probabilistic][network]") {
  ProbabilisticSnnConfig cfg;
  cfg.inputs = 4;
  cfg.hidden = 3;
  cfg.outputs = 2;
  cfg.feedforward = {KernelType::raised_cosine, 3, 5, 0.5};
  Rng rng(9);
  WtaSnn<double, 2> net(cfg, rng);
  constexpr Index C = 2, Ka = 3;
  const Matrix<double>& w = net.weight();
  REQUIRE(w.rows() == (3 + 2) * C);
  REQUIRE(w.cols() == (4 + 3 + 2) * C * Ka);
  auto block = [&](Index row_circuit, Index pre_unit_circuit) {  // pre circuit among all circuits
    return w.block(row_circuit * C, pre_unit_circuit * C * Ka, C, C * Ka);
  };
  for (Index i = 0; i < 5; ++i)
    for (Index j = 0; j < 9; ++j) {
      const bool self = j == 4 + i;
      const bool out_to_hidden = i < 3 && j >= 7;
      INFO("learnable circuit " << i << " from circuit " << j);
      if (self || out_to_hidden)
        CHECK(block(i, j).isZero());
      else
        CHECK(block(i, j).cwiseAbs().minCoeff() > 0);  // uniform init: no exact zeros
    }
  CHECK(net.parameter_count() == (3 * (4 + 2) + 2 * (4 + 3 + 1)) * C * C * Ka + 5 * C * 1 + 5 * C);
  cfg.topology.hidden_recurrence = false;
  cfg.topology.output_recurrence = false;
  WtaSnn<double, 2> ff(cfg, rng);
  CHECK(ff.weight().block(0, 4 * C * Ka, 3 * C, 3 * C * Ka).isZero());
  CHECK(ff.weight().block(3 * C, 7 * C * Ka, 2 * C, 2 * C * Ka).isZero());
  CHECK(ff.parameter_count() == (3 * 4 + 2 * 7) * C * C * Ka + 5 * C + 5 * C);
  cfg.topology.output_feedback = false;
  WtaSnn<double, 2> nofb(cfg, rng);
  CHECK(nofb.feedback_weight().bottomRows(2 * C).isZero());
  CHECK(nofb.feedback_weight().topRows(3 * C).cwiseAbs().minCoeff() > 0);
  CHECK(nofb.parameter_count() == ff.parameter_count() - 2 * C);
}

TEST_CASE("Each topology switch removes its connections: zero weight, zero gradient, no update",
          "[probabilistic][network][topology]") {
  constexpr Index C = 2, Ka = 3, in = 4, hid = 3, out = 2;
  ProbabilisticSnnConfig cfg;
  cfg.inputs = in;
  cfg.hidden = hid;
  cfg.outputs = out;
  cfg.feedforward = {KernelType::raised_cosine, Ka, 5, 0.5};
  cfg.feedback = {KernelType::raised_cosine, 1, 5, 0.5};
  // the W block of learnable circuits [r0, r0 + rn) from circuits [c0, c0 + cn) of all circuits
  auto block = [&](const Matrix<double>& w, Index r0, Index rn, Index c0, Index cn) {
    return w.block(r0 * C, c0 * C * Ka, rn * C, cn * C * Ka);
  };
  struct Group {
    const char* name;
    bool ProbabilisticTopology::*flag;
    Index r0, rn, c0, cn;  // learnable rows, pre-synaptic circuits
  };
  const Group groups[] = {{"output <- input", &ProbabilisticTopology::input_to_output, hid, out, 0, in},
                          {"hidden <- output", &ProbabilisticTopology::output_to_hidden, 0, hid, in + hid, out}};
  Rng rng(17);
  TimeSeries<double> x(in * C, 2, 17), h(hid * C, 2, 17), y(out * C, 2, 17);
  fill_symbols(x, in, C, rng, 0.4);
  fill_symbols(h, hid, C, rng, 0.4);
  fill_symbols(y, out, C, rng, 0.4);
  for (const Group& g : groups)
    for (const bool on : {false, true}) {
      INFO(g.name << (on ? " on" : " off"));
      ProbabilisticSnnConfig c = cfg;
      c.topology.*(g.flag) = on;
      WtaSnn<double, C> net(c, rng);
      const Index base = (hid * (in + hid - 1) + out * (hid + out - 1)) * C * C * Ka;
      const Index extra = (c.topology.input_to_output ? out * in : 0) + (c.topology.output_to_hidden ? hid * out : 0);
      CHECK(net.parameter_count() == base + extra * C * C * Ka + (hid + out) * C * 2);
      randomise(net, rng, 0.5);
      net.zero_grad();
      net.log_prob(x, h, y, true);
      if (on) {
        CHECK(block(net.weight(), g.r0, g.rn, g.c0, g.cn).cwiseAbs().minCoeff() > 0);
        CHECK(block(net.weight_grad(), g.r0, g.rn, g.c0, g.cn).norm() > 1e-3);
      } else {
        CHECK(block(net.weight(), g.r0, g.rn, g.c0, g.cn).isZero());
        CHECK(block(net.weight_grad(), g.r0, g.rn, g.c0, g.cn).isZero());
      }
      // an online rule leaves an absent block at zero and changes a present one
      const Matrix<double> before = net.weight();
      Batch<double> batch;
      batch.input = x;
      batch.labels = {0, 1};
      Rng r2(4);
      Gem<2> rule;
      rule.train_batch(net, batch, r2);
      const double moved = (block(net.weight(), g.r0, g.rn, g.c0, g.cn) - block(before, g.r0, g.rn, g.c0, g.cn)).norm();
      if (on)
        CHECK(moved > 0);
      else
        CHECK(block(net.weight(), g.r0, g.rn, g.c0, g.cn).isZero());
    }
  // without output <- input, the outputs' potentials do not depend on the inputs
  ProbabilisticSnnConfig ff = cfg;
  ff.topology = ProbabilisticTopology::kclip_feedforward();
  ff.hidden = 0;
  WtaSnn<double, C> net(ff, rng);
  TimeSeries<double> x2(in * C, 2, 17);
  fill_symbols(x2, in, C, rng, 0.6);
  Teacher<double> tg;
  tg.outputs = &y;
  Rng ra(1), rb(1);
  net.begin(2, 1);
  Matrix<double> u1(net.learnable_units(), 17), u2(net.learnable_units(), 17);
  for (Index t = 0; t < 17; ++t) {
    net.step(x, t, tg, OutputMode::clamp, ra);
    u1.col(t) = net.potentials().col(0);
  }
  net.begin(2, 1);
  for (Index t = 0; t < 17; ++t) {
    net.step(x2, t, tg, OutputMode::clamp, rb);
    u2.col(t) = net.potentials().col(0);
  }
  CHECK(u1 == u2);
}

TEST_CASE("Topology presets are the official codes' connectivities and are named in describe()",
          "[probabilistic][network][topology]") {
  using T = ProbabilisticTopology;
  CHECK(T{} == T::gem_code());
  CHECK(T::kclip_wta() == T::gem_code());
  CHECK(T::gem_code().input_to_output);
  CHECK(!T::gem_code().output_to_hidden);
  CHECK(T::kclip_binary().output_to_hidden);
  CHECK(T::kclip_binary().input_to_output);
  CHECK(!T::kclip_feedforward().input_to_output);
  CHECK(T::kclip_feedforward().output_recurrence);
  CHECK(T::kclip_feedforward().output_feedback);
  CHECK(!T::direct_readout().output_recurrence);
  CHECK(!T::direct_readout().output_feedback);
  CHECK(!T::hidden_readout().input_to_output);
  CHECK(!T::hidden_readout().output_recurrence);
  CHECK(!T::hidden_readout().output_feedback);
  CHECK(T::hidden_readout().describe() == "hidden <- input, hidden; output <- hidden; no output self-feedback");
  for (const char* n : {"gem-code", "kclip-binary", "kclip-feedforward", "direct-readout", "hidden-readout"})
    CHECK(T::from_name(n).name() == n);
  CHECK(T::from_name("kclip-wta").name() == "gem-code");
  CHECK_THROWS_AS(T::from_name("fully-connected"), ConfigError);
  T custom = T::kclip_feedforward();
  custom.hidden_recurrence = false;
  CHECK(custom.name() == "custom");
  CHECK(T::kclip_binary().describe() == "hidden <- input, hidden, output; output <- input, hidden, output; output self-feedback");
  CHECK(T::kclip_feedforward().describe() == "hidden <- input, hidden; output <- hidden, output; output self-feedback");

  ProbabilisticSnnConfig cfg;
  cfg.inputs = 3;
  cfg.hidden = 2;
  cfg.outputs = 2;
  Rng rng(1);
  cfg.topology = T::kclip_feedforward();
  GlmSnn<float> a(cfg, rng);
  cfg.topology = T::kclip_binary();
  GlmSnn<float> b(cfg, rng);
  GlmSnn<float> c(ProbabilisticSnnConfig{.inputs = 3, .hidden = 2, .outputs = 2}, rng);
  CHECK(a.describe().find("topology kclip-feedforward (hidden <- input, hidden; output <- hidden") != std::string::npos);
  CHECK(b.describe().find("topology kclip-binary") != std::string::npos);
  CHECK(a.signature().find(",no-xy,") != std::string::npos);
  CHECK(b.signature().find(",yh,") != std::string::npos);
  // the default topology keeps the signature it had before the switches existed
  CHECK(c.signature().find("no-xy") == std::string::npos);
  CHECK(c.signature().find(",yh") == std::string::npos);
  CHECK(c.signature().substr(c.signature().size() - 11) == ",hh,yy,yfb)");
}

TEST_CASE("A checkpoint records the topology, and one written before the topology switches still loads",
          "[probabilistic][checkpoint][topology]") {
  const auto dir = test::temp_dir("prob-topology");
  ProbabilisticSnnConfig cfg;
  cfg.inputs = 3;
  cfg.hidden = 2;
  cfg.outputs = 2;
  cfg.topology = ProbabilisticTopology::kclip_binary();
  cfg.topology.output_recurrence = false;
  Rng rng(3);
  GlmSnn<double> a(cfg, rng);
  for (auto fmt : {CheckpointFormat::binary, CheckpointFormat::json}) {
    const auto path = dir / (fmt == CheckpointFormat::binary ? "t.ckpt" : "t.json");
    save_checkpoint(path, a, fmt);
    GlmSnn<double> b(cfg, rng);
    load_checkpoint(path, b);
    CHECK(b.topology() == a.topology());
    CHECK(b.weight() == a.weight());
    ProbabilisticSnnConfig other = cfg;
    other.topology = ProbabilisticTopology::kclip_feedforward();
    GlmSnn<double> c(other, rng);
    CHECK_THROWS_AS(load_checkpoint(path, c), SignatureError);
  }
  // written by the version whose configuration had three topology switches (class version 0)
  const auto old = dir / "old.json";
  {
    std::ofstream f(old);
    f << R"json({"header": {"magic": "spikelab-checkpoint", "format_version": 1, "library_version": "0.1.0",
  "signature": "ProbabilisticSnn<Glm,f64>(in=2,hidden=1,out=1,ff=raised_cosine_hrjang(1x2,mu=1.5),fb=raised_cosine_hrjang(1x2,mu=1.5),hh,yy,yfb)"},
 "network": {"cereal_class_version": 1, "neuron": "Glm",
  "config": {"cereal_class_version": 0, "inputs": 2, "hidden": 1, "outputs": 1,
   "feedforward": {"cereal_class_version": 0, "type": 1, "bases": 1, "length": 2, "mu": 1.5},
   "feedback": {"type": 1, "bases": 1, "length": 2, "mu": 1.5},
   "init_magnitude": 0.1, "hidden_recurrence": true, "output_recurrence": true, "output_feedback": true,
   "target_symbol": 0, "input_layout": 0},
  "weight": {"rows": 2, "cols": 4, "data": [-0.08970971621000004, 0.029583509239853646, 0.07340281318918463,
   0.06896447207930526, 0.0, -0.07776101743473894, 0.0, 0.0]},
  "feedback": {"rows": 2, "cols": 1, "data": [0.010954796585149529, -0.09491625828537871]},
  "bias": {"rows": 2, "cols": 1, "data": [0.015339265417818715, -0.06014208011156326]}},
 "end": "spikelab-end"})json";
  }
  ProbabilisticSnnConfig oc;
  oc.inputs = 2;
  oc.hidden = 1;
  oc.outputs = 1;
  oc.feedforward = oc.feedback = {KernelType::raised_cosine_hrjang, 1, 2, 1.5};
  GlmSnn<double> o(oc, rng);
  load_checkpoint(old, o);
  CHECK(o.topology() == ProbabilisticTopology::gem_code());
  CHECK(o.weight()(1, 0) == 0.029583509239853646);
  CHECK(o.weight()(1, 2) == -0.07776101743473894);
  CHECK(o.weight()(0, 3) == 0.0);  // hidden <- output stays absent
  CHECK(o.bias()(1, 0) == -0.06014208011156326);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Analytic grad log p of a GLM network matches finite differences", "[probabilistic][gradient]") {
  ProbabilisticSnnConfig cfg;
  cfg.inputs = 4;
  cfg.hidden = 3;
  cfg.outputs = 2;
  cfg.feedforward = {KernelType::raised_cosine, 3, 5, 0.7};
  cfg.feedback = {KernelType::exponential, 2, 4, 1.5};
  Rng rng(1);
  GlmSnn<double> net(cfg, rng);
  check_log_prob_gradient(net, 4, 3, 2, 21);
  SECTION("hrjang raised cosines") {
    cfg.feedforward = {KernelType::raised_cosine_hrjang, 4, 6, 1.5};
    GlmSnn<double> n2(cfg, rng);
    check_log_prob_gradient(n2, 4, 3, 2, 22);
  }
}

TEST_CASE("Analytic grad log p of a WTA network matches finite differences", "[probabilistic][gradient]") {
  ProbabilisticSnnConfig cfg;
  cfg.inputs = 3;
  cfg.hidden = 2;
  cfg.outputs = 2;
  cfg.feedforward = {KernelType::raised_cosine, 2, 4, 0.5};
  cfg.feedback = {KernelType::raised_cosine, 2, 3, 0.5};
  Rng rng(2);
  WtaSnn<double, 3> net(cfg, rng);
  check_log_prob_gradient(net, 3, 2, 2, 31);
}

TEST_CASE("Planar and interleaved input layouts give the same network on permuted data", "[probabilistic][network]") {
  ProbabilisticSnnConfig cfg;
  cfg.inputs = 4;
  cfg.hidden = 2;
  cfg.outputs = 2;
  Rng rng(6);
  WtaSnn<double, 3> planar(cfg, rng);
  cfg.input_layout = InputLayout::interleaved;
  WtaSnn<double, 3> inter(cfg, rng);
  inter.weight() = planar.weight();
  inter.feedback_weight() = planar.feedback_weight();
  inter.bias() = planar.bias();
  CHECK(planar.signature() != inter.signature());
  TimeSeries<double> xi(12, 2, 9), xp(12, 2, 9), h(6, 2, 9), y(6, 2, 9);
  fill_symbols(xi, 4, 3, rng, 0.5);
  fill_symbols(h, 2, 3, rng, 0.4);
  fill_symbols(y, 2, 3, rng, 0.4);
  for (Index t = 0; t < 9; ++t)
    for (Index b = 0; b < 2; ++b)
      for (Index n = 0; n < 4; ++n)
        for (Index c = 0; c < 3; ++c) xp(c * 4 + n, b, t) = xi(n * 3 + c, b, t);
  const double a = planar.log_prob(xp, h, y), b = inter.log_prob(xi, h, y);
  CHECK(a == Approx(b).epsilon(1e-13));
  CHECK(a != Approx(planar.log_prob(xi, h, y)).epsilon(1e-6));  // the layout matters
}

TEST_CASE("Compartments share clamped inputs and outputs and sample hidden spikes independently",
          "[probabilistic][network]") {
  ProbabilisticSnnConfig cfg;
  cfg.inputs = 5;
  cfg.hidden = 20;
  cfg.outputs = 3;
  cfg.init_magnitude = 0.05;
  Rng rng(4);
  GlmSnn<float> net(cfg, rng);
  Batch<float> batch;
  batch.input.resize(5, 2, 12);
  test::fill_spikes(batch.input, rng, 0.5);
  batch.labels = {2, 0};
  const Index K = 4;
  net.begin(2, K);
  REQUIRE(net.columns() == 8);
  Index differing = 0;
  for (Index t = 0; t < 12; ++t) {
    net.step(batch.input, t, Teacher<float>::from(batch), OutputMode::clamp, rng);
    const Matrix<float>& s = net.spikes();
    for (Index b = 0; b < 2; ++b)
      for (Index k = 0; k < K; ++k) {
        const Index m = b * K + k;
        CHECK(s.col(m).head(5) == batch.input.slot(t).col(b));
        for (Index c = 0; c < 3; ++c) CHECK(s(5 + 20 + c, m) == (c == batch.labels[std::size_t(b)] ? 1.f : 0.f));
        if (k > 0) differing += (s.col(m).segment(5, 20) != s.col(b * K).segment(5, 20)) ? 1 : 0;
      }
  }
  CHECK(differing > 60);  // 72 comparisons of 20 hidden neurons firing with p ~ 0.5
}

TEST_CASE("Probabilistic networks round-trip through checkpoints and reject other structures",
          "[probabilistic][checkpoint]") {
  const auto dir = test::temp_dir("prob-ckpt");
  ProbabilisticSnnConfig cfg;
  cfg.inputs = 6;
  cfg.hidden = 2;
  cfg.outputs = 3;
  cfg.feedforward = {KernelType::raised_cosine_hrjang, 4, 7, 1.5};
  Rng rng(8);
  for (auto fmt : {CheckpointFormat::binary, CheckpointFormat::json}) {
    WtaSnn<float, 2> a(cfg, rng);
    ProbabilisticSnnConfig other = cfg;
    other.feedforward = {};
    WtaSnn<float, 2> b(other, rng);
    const auto path = dir / (fmt == CheckpointFormat::binary ? "w.ckpt" : "w.json");
    save_checkpoint(path, a, fmt);
    // b has another kernel bank: its signature differs, so the load is refused untouched
    const Matrix<float> before = b.weight();
    CHECK_THROWS_AS(load_checkpoint(path, b), SignatureError);
    CHECK(b.weight() == before);
    WtaSnn<float, 2> c(cfg, rng);
    load_checkpoint(path, c);
    CHECK(std::memcmp(c.weight().data(), a.weight().data(), sizeof(float) * std::size_t(a.weight().size())) == 0);
    CHECK(c.feedback_weight() == a.feedback_weight());
    CHECK(c.bias() == a.bias());
    CHECK(c.signature() == a.signature());
  }
  // a GLM network cannot load a WTA checkpoint
  GlmSnn<float> g(cfg, rng);
  CHECK_THROWS_AS(load_checkpoint(dir / "w.ckpt", g), SignatureError);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Probabilistic networks reject bad shapes, labels and configurations with clear errors",
          "[probabilistic][errors]") {
  ProbabilisticSnnConfig cfg;
  cfg.inputs = 3;
  cfg.hidden = 1;
  cfg.outputs = 2;
  Rng rng(1);
  WtaSnn<float, 2> net(cfg, rng);
  Batch<float> batch;
  batch.input.resize(3, 1, 4);  // a WTA network with C = 2 needs 6 features
  batch.input.set_zero();
  batch.labels = {1};
  net.begin(1, 1);
  try {
    net.step(batch.input, 0, Teacher<float>::from(batch), OutputMode::clamp, rng);
    FAIL("no exception");
  } catch (const ShapeError& e) {
    CHECK(std::string(e.what()).find("expected 6") != std::string::npos);
  }
  batch.input.resize(6, 1, 4);
  batch.input.set_zero();
  batch.labels = {2};
  net.begin(1, 1);
  CHECK_THROWS_AS(net.step(batch.input, 0, Teacher<float>::from(batch), OutputMode::clamp, rng), ShapeError);
  net.begin(1, 1);
  CHECK_THROWS_AS(net.step(batch.input, 1, Teacher<float>::from(batch), OutputMode::clamp, rng), ConfigError);
  CHECK_THROWS_AS(net.step(batch.input, 0, Teacher<float>{}, OutputMode::clamp, rng), ConfigError);
  CHECK_THROWS_AS(net.begin(1, 0), ConfigError);
  ProbabilisticSnnConfig bad = cfg;
  bad.outputs = 0;
  CHECK_THROWS_AS(GlmSnn<float>(bad, rng), ConfigError);
  bad = cfg;
  bad.target_symbol = 2;
  CHECK_THROWS_AS((WtaSnn<float, 2>(bad, rng)), ConfigError);
  bad = cfg;
  bad.feedforward.bases = 0;
  CHECK_THROWS_AS(GlmSnn<float>(bad, rng), ConfigError);
}
