// LIF neurons against hand-computed trajectories.
#include <spikelab/neurons/concepts.hpp>
#include <spikelab/neurons/leaky_integrator.hpp>
#include <spikelab/neurons/lif.hpp>

#include "support/test_support.hpp"

#include <cereal/archives/json.hpp>

#include <cmath>
#include <sstream>
#include <vector>

using namespace spikelab;

namespace {
// Constant current I into one neuron for T steps; returns the spike train.
template <class R>
std::vector<int> drive(double beta, double theta, double current, Index T) {
  LifType<double, FastSigmoid, R> lif(1, {.beta = beta, .threshold = theta});
  TimeSeries<double> x(1, 1, T), s;
  x.values().setConstant(current);
  lif.forward(x, s, ForwardContext::eval());
  std::vector<int> out;
  for (Index t = 0; t < T; ++t) out.push_back(int(s(0, 0, t)));
  return out;
}
}  // namespace

TEST_CASE("A 1-neuron LIF driven by a constant current first spikes at the step the equation gives",
          "[lif][hand]") {
  // v_t = beta v_{t-1} + I (no spike yet) = I (1 - beta^{t+1}) / (1 - beta); the first t with
  // v_t > theta is t* = ceil(log(1 - theta (1 - beta) / I) / log(beta)) - 1.
  const double beta = 0.9, theta = 1.0, I = 0.3;
  const int t_star = int(std::ceil(std::log(1 - theta * (1 - beta) / I) / std::log(beta))) - 1;
  REQUIRE(t_star == 3);  // v = 0.3, 0.57, 0.813, 1.0317
  auto s = drive<SubtractReset>(beta, theta, I, 12);
  for (int t = 0; t < t_star; ++t) CHECK(s[std::size_t(t)] == 0);
  CHECK(s[std::size_t(t_star)] == 1);
  // subtractive reset: v_4 = 0.9 * 1.0317 + 0.3 - 1 = 0.22853, v_5 = 0.505677, v_6 = 0.7551093,
  // v_7 = 0.97959837, v_8 = 1.181638533 -> next spike at t = 8
  CHECK(s[4] == 0);
  CHECK(s[7] == 0);
  CHECK(s[8] == 1);
  // reset to zero: the trajectory restarts from 0 after every spike -> period t* + 1
  auto z = drive<ZeroReset>(beta, theta, I, 12);
  CHECK(z == std::vector<int>{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1});
  // no reset: above threshold forever after t*
  auto n = drive<NoReset>(beta, theta, I, 8);
  CHECK(n == std::vector<int>{0, 0, 0, 1, 1, 1, 1, 1});
  // a current below the rheobase theta (1 - beta) = 0.1 never fires
  auto q = drive<SubtractReset>(beta, theta, 0.0999, 200);
  CHECK(std::count(q.begin(), q.end(), 1) == 0);
}

TEST_CASE("Membrane potentials follow the update equation exactly", "[lif][hand]") {
  LifType<double, FastSigmoid, SubtractReset> lif(1, {.beta = 0.9, .threshold = 1.0});
  TimeSeries<double> x(1, 1, 6), s;
  x.values().setConstant(0.3);
  Rng rng(1);
  lif.forward(x, s, ForwardContext::train(rng));
  const double expect[] = {0.3, 0.57, 0.813, 1.0317, 0.22853, 0.505677};
  for (int t = 0; t < 6; ++t) CHECK(lif.membrane()(0, 0, t) == Approx(expect[t]).epsilon(1e-12));
}

TEST_CASE("A synaptic current filters the input with decay alpha", "[lif][hand]") {
  // impulse at t = 0: I_t = alpha^t, v_t = beta v_{t-1} + I_t (threshold high, no spikes)
  LifType<double, FastSigmoid, SubtractReset> lif(1, {.beta = 0.8, .alpha = 0.5, .threshold = 100.0});
  REQUIRE(lif.synaptic());
  TimeSeries<double> x(1, 1, 5), s;
  x.set_zero();
  x(0, 0, 0) = 1.0;
  Rng rng(1);
  lif.forward(x, s, ForwardContext::train(rng));
  double v = 0, i = 0;
  for (int t = 0; t < 5; ++t) {
    i = 0.5 * i + (t == 0 ? 1.0 : 0.0);
    v = 0.8 * v + i;
    CHECK(lif.membrane()(0, 0, t) == Approx(v).epsilon(1e-12));
  }
}

TEST_CASE("Step-by-step simulation with explicit state equals the whole-sequence forward", "[lif]") {
  Rng rng(3);
  using L = LifType<double, Arctan, ZeroReset, LifOptions{.recurrent = true}>;
  L lif(5, rng, {.beta = 0.85, .alpha = 0.3, .threshold = 0.7});
  TimeSeries<double> x(5, 3, 30), s;
  test::fill_uniform(x, rng, -0.2, 0.8);
  lif.forward(x, s, ForwardContext::eval());
  auto st = lif.make_state(3);
  for (Index t = 0; t < 30; ++t) {
    lif.step(st, x.slot(t));
    REQUIRE(st.s == Matrix<double>(s.slot(t)));
  }
  CHECK(s.values().sum() > 0);  // it did spike
  CHECK(run_stepwise(lif, x).values() == s.values());
  LeakyIntegratorType<double, Train::per_neuron> li(5, {.beta = 0.7, .normalize = true});
  TimeSeries<double> v;
  li.forward(x, v, ForwardContext::eval());
  CHECK((run_stepwise(li, x).values() - v.values()).cwiseAbs().maxCoeff() < 1e-14);
}

TEST_CASE("The recurrent projection adds V s_{t-1} to the input", "[lif]") {
  Rng rng(4);
  RecurrentLif<double> lif(2, rng, {.beta = 0.5, .threshold = 0.5});
  lif.recurrent_weight() << 0.0, 0.7, 0.0, 0.0;  // neuron 1 excites neuron 0
  TimeSeries<double> x(2, 1, 3), s;
  x.set_zero();
  x(1, 0, 0) = 1.0;  // neuron 1 spikes at t=0
  lif.forward(x, s, ForwardContext::eval());
  CHECK(s(1, 0, 0) == 1.0);
  CHECK(s(0, 0, 0) == 0.0);
  CHECK(s(0, 0, 1) == 1.0);  // 0.7 > 0.5 at t = 1 through the recurrent weight
}

TEST_CASE("A leaky integrator readout integrates its input", "[lif][readout]") {
  LeakyIntegrator<double> li(1, {.beta = 0.5});
  TimeSeries<double> x(1, 1, 4), v;
  x.values() << 1, 0, 2, 0;
  li.forward(x, v, ForwardContext::eval());
  CHECK(v.values()(0, 0) == 1.0);
  CHECK(v.values()(0, 1) == 0.5);
  CHECK(v.values()(0, 2) == 2.25);
  CHECK(v.values()(0, 3) == 1.125);
  LeakyIntegrator<double> norm(1, {.beta = 0.5, .normalize = true});
  norm.forward(x, v, ForwardContext::eval());
  CHECK(v.values()(0, 0) == 0.5);
}

TEST_CASE("LIF layers reject inputs of the wrong size and backward without a training pass", "[lif][errors]") {
  Lif<float> lif(4);
  TimeSeries<float> x(3, 2, 5), s;
  CHECK_THROWS_AS(lif.forward(x, s, ForwardContext::eval()), ShapeError);
  TimeSeries<float> y(4, 2, 5);
  y.set_zero();
  lif.forward(y, s, ForwardContext::eval());
  CHECK_THROWS_AS(lif.backward(y, s, s, nullptr), ShapeError);
  CHECK_THROWS_AS(Lif<float>(0), ConfigError);
  CHECK_THROWS_AS(Lif<float>(3, {.beta = 1.5}), ConfigError);
}

// ---- the reset's gradient: kept, detached, linear ---------------------------------------------

namespace {

// One LIF neuron (no synaptic current), 3 steps, real spikes, Triangle{1, 1} surrogate, theta = 1,
// beta = 0.5, inputs (1.5, 0.4, 1.2), loss L = s_0 + s_1 + s_2. Returns dL/dx_t, dL/dtheta, dL/dbeta.
template <class R, ResetGradient P>
std::vector<double> hand_case() {
  using L = LifType<double, Triangle, R, LifOptions{.threshold = Train::per_neuron, .beta = Train::per_neuron, .reset_gradient = P}>;
  L lif(1, {.beta = 0.5, .threshold = 1.0}, Triangle{1.0, 1.0});
  TimeSeries<double> x(1, 1, 3), s, go(1, 1, 3), gi;
  x.values() << 1.5, 0.4, 1.2;
  go.values().setOnes();
  Rng rng(1);
  lif.forward(x, s, ForwardContext::train(rng));
  lif.backward(x, s, go, &gi);
  return {gi(0, 0, 0), gi(0, 0, 1), gi(0, 0, 2), lif.threshold().grad()(0, 0), lif.beta().grad()(0, 0)};
}

void check_values(const std::vector<double>& got, const std::vector<double>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    INFO("entry " << k);
    CHECK(got[k] == Approx(want[k]).margin(1e-12));
  }
}

}  // namespace

TEST_CASE("The reset's gradient by hand: detached is kept minus the reset path, linear drops the reset entirely",
          "[lif][hand][reset_gradient]") {
  // Notation: h_t = max(0, 1 - |v_t - 1|), d_t = dL/dv_t, g_t = dL/ds_t (direct 1 + reset path).
  SECTION("ZeroReset: v_{t+1} = beta v_t (1 - s_t) + x_{t+1}") {
    // v = (1.5, 0.5*1.5*0 + 0.4 = 0.4, 0.5*0.4*1 + 1.2 = 1.4), s = (1, 0, 1), h = (0.5, 0.4, 0.6).
    // d_2 = 0.6 (g_2 = 1).
    // kept: the reset path adds d_{t+1} (-beta v_t) to g_t:
    //   g_1 = 1 - 0.6*0.5*0.4 = 0.88,  d_1 = 0.88*0.4 + 0.6*0.5*(1-0) = 0.652,
    //   g_0 = 1 - 0.652*0.5*1.5 = 0.511, d_0 = 0.511*0.5 + 0.652*0.5*(1-1) = 0.2555,
    //   dtheta = -(g_0 h_0 + g_1 h_1 + g_2 h_2) = -(0.2555 + 0.352 + 0.6) = -1.2075,
    //   dbeta = d_1 v_0 (1 - s_0) + d_2 v_1 (1 - s_1) = 0 + 0.6*0.4 = 0.24.
    // detached: g_t = 1: d_1 = 0.4 + 0.3 = 0.7, d_0 = 0.5 + 0.7*0.5*0 = 0.5,
    //   dtheta = -(0.5 + 0.4 + 0.6) = -1.5, dbeta = 0.7*0 + 0.6*0.4 = 0.24.
    // linear: g_t = 1 and d v_{t+1}/d v_t = beta: d_1 = 0.4 + 0.6*0.5 = 0.7, d_0 = 0.5 + 0.7*0.5 = 0.85,
    //   dtheta = -1.5, dbeta = d_1 v_0 + d_2 v_1 = 0.7*1.5 + 0.6*0.4 = 1.29.
    const auto kept = hand_case<ZeroReset, ResetGradient::kept>();
    const auto detached = hand_case<ZeroReset, ResetGradient::detached>();
    const auto linear = hand_case<ZeroReset, ResetGradient::linear>();
    check_values(kept, {0.2555, 0.652, 0.6, -1.2075, 0.24});
    check_values(detached, {0.5, 0.7, 0.6, -1.5, 0.24});
    check_values(linear, {0.85, 0.7, 0.6, -1.5, 1.29});
    // The reset path alone (kept - detached), worked out as the chains through dR/ds = -beta v_t:
    //   x_1: h_1 * d_2 (-beta v_1) = 0.4 * 0.6 * (-0.2) = -0.048;
    //   x_0: h_0 * d_1^kept (-beta v_0) + [beta (1 - s_0) = 0] * (...) = 0.5 * 0.652 * (-0.75) = -0.2445;
    //   theta: -(h_0 (-0.489) + h_1 (-0.12)) = 0.2445 + 0.048 = 0.2925.
    const std::vector<double> reset_path{-0.2445, -0.048, 0.0, 0.2925, 0.0};
    for (std::size_t k = 0; k < kept.size(); ++k) CHECK(kept[k] - reset_path[k] == Approx(detached[k]).margin(1e-12));
  }
  SECTION("SubtractReset: v_{t+1} = beta v_t + x_{t+1} - theta s_t") {
    // v = (1.5, 0.75 + 0.4 - 1 = 0.15, 0.075 + 1.2 = 1.275), s = (1, 0, 1), h = (0.5, 0.15, 0.725).
    // d_2 = 0.725. kept: g_1 = 1 - 0.725 = 0.275, d_1 = 0.275*0.15 + 0.725*0.5 = 0.40375,
    //   g_0 = 1 - 0.40375 = 0.59625, d_0 = 0.59625*0.5 + 0.40375*0.5 = 0.5,
    //   dtheta = -(0.298125 + 0.04125 + 0.725) + (d_1 (-s_0) + d_2 (-s_1)) = -1.064375 - 0.40375 = -1.468125,
    //   dbeta = d_1 v_0 + d_2 v_1 = 0.40375*1.5 + 0.725*0.15 = 0.714375.
    // detached: d_1 = 0.15 + 0.3625 = 0.5125, d_0 = 0.5 + 0.25625 = 0.75625,
    //   dtheta = -(0.5 + 0.15 + 0.725) - 0.5125 = -1.8875 (theta's -s_0 term stays),
    //   dbeta = 0.5125*1.5 + 0.725*0.15 = 0.8775.
    // linear: the same d as detached (dR/dv = beta either way), but no theta term through the reset:
    //   dtheta = -1.375.
    const auto kept = hand_case<SubtractReset, ResetGradient::kept>();
    const auto detached = hand_case<SubtractReset, ResetGradient::detached>();
    const auto linear = hand_case<SubtractReset, ResetGradient::linear>();
    check_values(kept, {0.5, 0.40375, 0.725, -1.468125, 0.714375});
    check_values(detached, {0.75625, 0.5125, 0.725, -1.8875, 0.8775});
    check_values(linear, {0.75625, 0.5125, 0.725, -1.375, 0.8775});
    // reset path (chains through dR/ds = -theta): x_1: h_1 d_2 (-1) = -0.10875; x_0: kept - detached
    // = 0.5 - 0.75625 = -0.25625 = h_0 (-d_1^kept) + beta (d_1^kept - d_1^det) = -0.201875 + 0.5*(-0.10875);
    // theta: the direct terms change by -(h_0 (-0.40375) + h_1 (-0.725)) and theta's own -s_0 term by
    // d_1^kept - d_1^det: 0.2018750 + 0.10875 + 0.10875 = 0.419375; beta: (d_1^kept - d_1^det) v_0 = -0.163125.
    const std::vector<double> reset_path{-0.25625, -0.10875, 0.0, 0.419375, -0.163125};
    for (std::size_t k = 0; k < kept.size(); ++k) CHECK(kept[k] - reset_path[k] == Approx(detached[k]).margin(1e-12));
  }
}

namespace {

// A plain smooth-twin LIF in double whose reset term can be held at recorded values: the
// function whose exact gradient each ResetGradient policy is (neurons/reset.hpp). With
// `freeze` unset it records, per (neuron, column), the spike s_t and the reset term
// c_t = NoReset::next - R::next; with `freeze` set it replays them: `detached` uses the recorded
// s_t inside R, `linear` computes v_{t+1} = beta v_t + I_{t+1} - c_t. With recurrent weights V
// (non-empty) step t > 0 receives x_t + V s_{t-1}; those spikes are never held: only the reset's
// use of the spike differs between the policies. Returns sum(go * s).
template <class R, class G>
struct FrozenResetLif {
  Index n, B, T;
  G g;
  ResetGradient policy;
  Matrix<double> rec_s, rec_c;
  double loss(const Matrix<double>& x, const Matrix<double>& go, const std::vector<double>& th,
              const std::vector<double>& be, const std::vector<double>& al, bool freeze,
              const Matrix<double>& V = {}) {
    if (!freeze) {
      rec_s.setZero(n, B * T);
      rec_c.setZero(n, B * T);
    }
    double L = 0;
    const auto un = static_cast<std::size_t>(n);
    std::vector<double> vp(un, 0.0), sp(un, 0.0), ip(un, 0.0), s(un, 0.0);
    for (Index b = 0; b < B; ++b) {
      std::fill(vp.begin(), vp.end(), 0.0);
      std::fill(sp.begin(), sp.end(), 0.0);
      std::fill(ip.begin(), ip.end(), 0.0);
      for (Index t = 0; t < T; ++t) {
        const Index c = t * B + b, pc = c - B;
        for (Index r = 0; r < n; ++r) {
          const auto k = std::size_t(r);
          double in = x(r, c);
          if (V.size() != 0 && t > 0)
            for (Index j = 0; j < n; ++j) in += V(r, j) * sp[std::size_t(j)];
          const double cur = al[k] * ip[k] + in;
          double v = 0;
          if (!freeze || policy == ResetGradient::kept)
            v = R::next(be[k], vp[k], sp[k], th[k], cur);
          else if (policy == ResetGradient::detached)
            v = R::next(be[k], vp[k], t ? rec_s(r, pc) : 0.0, th[k], cur);
          else
            v = NoReset::next(be[k], vp[k], sp[k], th[k], cur) - (t ? rec_c(r, pc) : 0.0);
          s[k] = g.forward(v - th[k]);
          if (!freeze) {
            rec_s(r, c) = s[k];
            // the reset term that the step from t to t+1 will subtract (recorded at t; uses v_t, s_t)
            rec_c(r, c) = NoReset::next(be[k], v, s[k], th[k], 0.0) - R::next(be[k], v, s[k], th[k], 0.0);
          }
          L += go(r, c) * s[k];
          vp[k] = v;
          ip[k] = cur;
        }
        sp = s;
      }
    }
    return L;
  }
};

constexpr LifOptions all_trained(ResetGradient p, bool recurrent = false) {
  return {.threshold = Train::per_neuron, .beta = Train::per_neuron, .alpha = Train::per_neuron,
          .recurrent = recurrent, .reset_gradient = p};
}

// BPTT of LifType<double, G, R, P> against central differences of FrozenResetLif: feed-forward,
// recurrent with zero recurrent weights (the recurrent code path on the feed-forward function),
// and recurrent with non-zero weights V (the spikes then also reach the other neurons, whose
// path no policy holds; dV is checked too). Returns the analytic gradient
// [dx..., dtheta..., dbeta..., dalpha...] of the feed-forward layer.
template <class R, ResetGradient P, class G>
std::vector<double> check_policy(const G& g, std::uint64_t seed) {
  const Index n = 3, B = 2, T = 14;
  Rng rng(seed);
  const LifConfig cfg{.beta = 0.85, .alpha = 0.5, .threshold = 0.6};
  TimeSeries<double> x(n, B, T), go(n, B, T);
  test::fill_uniform(x, rng, -0.3, 1.2);
  test::fill_uniform(go, rng, -1, 1);
  Vector<double> th(n), be(n), al(n);
  for (Index r = 0; r < n; ++r) {
    th[r] = rng.uniform(0.4, 0.9);
    be[r] = rng.uniform(0.7, 0.95);
    al[r] = rng.uniform(0.2, 0.7);
  }
  Matrix<double> V(n, n);
  for (Index k = 0; k < V.size(); ++k) V.data()[k] = rng.uniform(-0.6, 0.6);
  std::vector<double> tv(th.data(), th.data() + n), bv(be.data(), be.data() + n), av(al.data(), al.data() + n);
  FrozenResetLif<R, G> ref{n, B, T, g, P, {}, {}};
  const double h = 1e-6;
  // central differences of the held-reset function at the base point, with recurrent weights W
  auto numeric_at = [&](Matrix<double>& W) {
    ref.loss(x.values(), go.values(), tv, bv, av, false, W);  // records the reset terms at the base point
    REQUIRE(ref.rec_s.maxCoeff() > 0.5);                         // the neurons do (softly) spike
    auto fd = [&](auto&& perturb) {
      perturb(+h);
      const double up = ref.loss(x.values(), go.values(), tv, bv, av, true, W);
      perturb(-2 * h);
      const double down = ref.loss(x.values(), go.values(), tv, bv, av, true, W);
      perturb(+h);
      return (up - down) / (2 * h);
    };
    std::vector<double> numeric;
    for (Index k = 0; k < x.values().size(); ++k) numeric.push_back(fd([&](double d) { x.values().data()[k] += d; }));
    for (auto* p : {&tv, &bv, &av})
      for (Index r = 0; r < n; ++r) numeric.push_back(fd([&](double d) { (*p)[std::size_t(r)] += d; }));
    for (Index k = 0; k < W.size(); ++k) numeric.push_back(fd([&](double d) { W.data()[k] += d; }));
    return numeric;
  };
  Matrix<double> none;
  const auto numeric = numeric_at(none);
  const auto numeric_v = numeric_at(V);

  auto analytic_of = [&](auto& lif) {
    lif.threshold().set(th);
    lif.beta().set(be);
    lif.alpha().set(al);
    TimeSeries<double> y, gi;
    Rng r2(1);
    lif.zero_grad();
    lif.forward(x, y, ForwardContext::train(r2));
    lif.backward(x, y, go, &gi);
    std::vector<double> a(gi.values().data(), gi.values().data() + gi.values().size());
    for (auto* p : {&lif.threshold(), &lif.beta(), &lif.alpha()})
      for (Index r = 0; r < n; ++r) a.push_back(p->grad()(r, 0));
    return a;
  };
  LifType<double, G, R, all_trained(P)> ff(n, cfg, g);
  Rng wr(2);
  LifType<double, G, R, all_trained(P, true)> rec(n, wr, cfg, g);
  rec.recurrent_weight().setZero();
  const auto a_ff = analytic_of(ff), a_rec = analytic_of(rec);
  rec.recurrent_weight() = V;
  auto a_v = analytic_of(rec);
  rec.for_each_parameter([&](const auto& p) {
    if (p.name == "recurrent_weight")
      for (Index k = 0; k < p.grad.size(); ++k) a_v.push_back(p.grad.data()[k]);
  });
  REQUIRE(a_ff.size() == numeric.size());
  REQUIRE(a_v.size() == numeric_v.size());
  double err = 0, err_rec = 0, err_v = 0, norm = 0, norm_v = 0;
  for (std::size_t k = 0; k < numeric.size(); ++k) {
    err = std::max(err, std::abs(a_ff[k] - numeric[k]));
    err_rec = std::max(err_rec, std::abs(a_rec[k] - numeric[k]));
    norm = std::max(norm, std::abs(numeric[k]));
  }
  for (std::size_t k = 0; k < numeric_v.size(); ++k) {
    err_v = std::max(err_v, std::abs(a_v[k] - numeric_v[k]));
    norm_v = std::max(norm_v, std::abs(numeric_v[k]));
  }
  INFO(R::name() << ", " << G::name() << ", reset gradient " << reset_gradient_name(P) << ": max |analytic - numeric| "
                 << err << " (recurrent path, V = 0: " << err_rec << "; V != 0: " << err_v << " of max |numeric| "
                 << norm_v << "), max |numeric| " << norm);
  CHECK(norm > 0.1);
  CHECK(norm_v > 0.1);
  CHECK(err < 1e-7 * std::max(1.0, norm));
  CHECK(err_rec < 1e-7 * std::max(1.0, norm));
  CHECK(err_v < 1e-7 * std::max(1.0, norm_v));
  // the recurrent weights change the gradient: the V != 0 check is not the feed-forward one again
  double moved = 0;
  for (std::size_t k = 0; k < numeric.size(); ++k) moved = std::max(moved, std::abs(numeric_v[k] - numeric[k]));
  CHECK(moved > 1e-3);
  return a_ff;
}

double max_abs_difference(const std::vector<double>& a, const std::vector<double>& b) {
  double d = 0;
  for (std::size_t k = 0; k < a.size(); ++k) d = std::max(d, std::abs(a[k] - b[k]));
  return d;
}

template <class R, class G>
void check_all_policies(const G& g, std::uint64_t seed) {
  const auto kept = check_policy<R, ResetGradient::kept>(g, seed);
  const auto detached = check_policy<R, ResetGradient::detached>(g, seed);
  const auto linear = check_policy<R, ResetGradient::linear>(g, seed);
  // the three policies are different functions' gradients here: the checks above could tell them apart
  CHECK(max_abs_difference(kept, detached) > 1e-3);
  CHECK(max_abs_difference(detached, linear) > 1e-3);
}

}  // namespace

TEST_CASE("Each reset-gradient policy is the exact gradient of its smooth twin with the reset term held",
          "[lif][gradient][reset_gradient]") {
  // kept: nothing held (plain finite differences of the smooth twin); detached: the spike inside
  // the reset held at its value; linear: the whole reset term held.
  check_all_policies<ZeroReset>(SmoothTwin<Exponential>{{.scale = 1.0, .tau = 0.7}}, 21);
  check_all_policies<SubtractReset>(SmoothTwin<Exponential>{{.scale = 1.0, .tau = 0.7}}, 22);
  check_all_policies<ZeroReset>(SmoothTwin<Sigmoid>{{2.5}}, 23);
  check_all_policies<SubtractReset>(SmoothTwin<Sigmoid>{{2.5}}, 24);
}

TEST_CASE("A LIF configuration stored with the old detach_reset flag still loads", "[lif][serialization][reset_gradient]") {
  using Detached = LifType<double, FastSigmoid, ZeroReset, LifOptions{.reset_gradient = ResetGradient::detached}>;
  using Kept = LifType<double, FastSigmoid, ZeroReset, LifOptions{.reset_gradient = ResetGradient::kept}>;
  using Linear = LifType<double, FastSigmoid, ZeroReset, LifOptions{.reset_gradient = ResetGradient::linear}>;
  // Write a current (version 2) layer, then turn its configuration into version 1 by hand: the
  // flag followed `threshold` there.
  std::ostringstream os;
  {
    cereal::JSONOutputArchive ar(os);
    ar(cereal::make_nvp("lif", Detached(4, {.beta = 0.7, .threshold = 0.8})));
  }
  const std::string v2 = os.str();
  const auto version_at = v2.find("\"cereal_class_version\": 2", v2.find("\"config\""));
  REQUIRE(version_at != std::string::npos);
  auto as_v1 = [&](bool detach) {
    std::string v1 = v2;
    v1.replace(version_at, 25, "\"cereal_class_version\": 1");
    const auto th = v1.find("\"threshold\": 0.8", v1.find("\"config\""));
    REQUIRE(th != std::string::npos);
    v1.insert(th + 16, std::string(",\n\"detach_reset\": ") + (detach ? "true" : "false"));
    return v1;
  };
  auto load = [](const std::string& text, auto& lif) {
    std::istringstream is(text);
    cereal::JSONInputArchive ar(is);
    ar(cereal::make_nvp("lif", lif));
  };
  Detached d;
  load(as_v1(true), d);
  CHECK(d.config().beta == 0.7);
  CHECK(d.config().threshold == 0.8);
  CHECK(d.config().threshold_max == 1e6);  // the fields after the flag are read in order
  CHECK(d.config().stored_detach_reset == std::optional<bool>(true));
  Kept k;
  CHECK_THROWS_WITH(load(as_v1(true), k), Catch::Contains("detach_reset = true"));
  Linear l;
  CHECK_THROWS_AS(load(as_v1(true), l), cereal::Exception);
  load(as_v1(false), k);  // false was the old default, which every policy accepts
  load(as_v1(false), l);
  CHECK(l.config().stored_detach_reset == std::optional<bool>(false));
  load(v2, k);  // version 2 does not record the policy
  CHECK_FALSE(k.config().stored_detach_reset.has_value());
}
