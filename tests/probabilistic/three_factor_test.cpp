// Online three-factor rules: GEM with K = 1 equals the single-sample rule step for step,
// GEM's per-compartment signal is the softmax of the decayed output log-likelihoods, the
// updates of GEM, IW, IW-b, MB and VOWEL equal hand-written replicas of their equations, IW and
// MB with K = 1 are the REINFORCE single-sample rule, explicit output patterns train as labels
// do, the two sparsity conventions agree, every rule learns a synthetic task (through the
// Trainer), and training allocates nothing once its buffers exist.
#include <spikelab/spikelab.hpp>

#include "support/alloc_counter.hpp"
#include "support/probabilistic_support.hpp"
#include "support/test_support.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <utility>

using namespace spikelab;

namespace {

template <class Net>
bool same_parameters(Net& a, Net& b) {
  return a.weight() == b.weight() && a.feedback_weight() == b.feedback_weight() && a.bias() == b.bias();
}
template <class Net>
double parameter_distance(const Net& a, const Net& b) {
  return (a.weight() - b.weight()).norm() + (a.feedback_weight() - b.feedback_weight()).norm() +
         (a.bias() - b.bias()).norm();
}

/// The first `T` steps of a batch.
template <class S>
Batch<S> prefix(const Batch<S>& b, Index T) {
  Batch<S> p;
  p.input.resize(b.input.features(), b.batch(), T);
  p.input.values() = b.input.values().leftCols(b.batch() * T);
  p.labels = b.labels;
  return p;
}

ProbabilisticSnnConfig small_config(Index inputs, Index hidden, Index outputs) {
  ProbabilisticSnnConfig cfg;
  cfg.inputs = inputs;
  cfg.hidden = hidden;
  cfg.outputs = outputs;
  cfg.feedforward = {KernelType::raised_cosine, 4, 6, 0.5};
  cfg.feedback = {KernelType::raised_cosine, 1, 6, 0.5};
  return cfg;
}

}  // namespace

TEST_CASE("Online probabilistic rules pair only with probabilistic networks", "[probabilistic][concepts]") {
  using Lif = Sequential<Linear<float>, spikelab::Lif<float>>;
  STATIC_REQUIRE(ProbabilisticNetwork<GlmSnn<float>>);
  STATIC_REQUIRE(ProbabilisticNetwork<WtaSnn<double, 2>>);
  STATIC_REQUIRE(!ProbabilisticNetwork<Lif>);
  STATIC_REQUIRE(OnlineRule<Gem<4>, GlmSnn<float>>);
  STATIC_REQUIRE(OnlineRule<Gem<>, WtaSnn<float, 2>>);
  STATIC_REQUIRE(OnlineRule<SingleSampleMl, GlmSnn<double>>);
  STATIC_REQUIRE(OnlineRule<Vowel, WtaSnn<float, 2>>);
  STATIC_REQUIRE(!OnlineRule<Gem<4>, Lif>);
  STATIC_REQUIRE(!OnlineRule<Vowel, Lif>);
  STATIC_REQUIRE(!GradientRule<Gem<4>, GlmSnn<float>>);
}

TEST_CASE("GEM with K = 1 gives the same updates as the single-sample rule, step for step",
          "[probabilistic][gem]") {
  Rng init(7);
  GlmSnn<double> base(small_config(6, 4, 3), init);
  test::PatternSource<double> src;
  src.inputs = 6;
  src.steps = 12;
  src.start_epoch(1);
  Batch<double> batch;
  REQUIRE(src.next(batch));
  // every prefix of the example: after each step the parameters of the two rules are identical
  for (Index T = 1; T <= 12; ++T) {
    GlmSnn<double> a = base, b = base, c = base;
    Rng ra(100), rb(100), rc(100);
    Gem<1> gem;
    Gem<> gem_runtime({}, GemSignal<>(1));
    SingleSampleMl ml;
    const Batch<double> p = prefix(batch, T);
    const StepStats sa = gem.train_batch(a, p, ra);
    const StepStats sb = ml.train_batch(b, p, rb);
    gem_runtime.train_batch(c, p, rc);
    INFO("after step " << T);
    REQUIRE(same_parameters(a, b));
    REQUIRE(same_parameters(a, c));
    CHECK(sa.loss == sb.loss);
    CHECK(parameter_distance(a, base) > 0);
  }
  // and over a sequence of examples
  GlmSnn<double> a = base, b = base, r = base;
  Rng ra(5), rb(5), rr(5);
  Gem<1> gem;
  SingleSampleMl ml;
  SingleSampleMl reinforce({}, SingleSampleSignal{SingleSampleSignal::Hidden::reinforce});
  src.start_epoch(2);
  for (int i = 0; i < 10 && src.next(batch); ++i) {
    gem.train_batch(a, batch, ra);
    ml.train_batch(b, batch, rb);
    reinforce.train_batch(r, batch, rr);
    REQUIRE(same_parameters(a, b));
  }
  // the REINFORCE form of the single-sample rule (hrjang mb1) is a different rule
  CHECK(parameter_distance(a, r) > 1e-6);
}

TEST_CASE("GEM's learning signal is the softmax over compartments of the decayed output log-likelihood",
          "[probabilistic][gem]") {
  Rng init(3);
  GlmSnn<double> net(small_config(5, 3, 2), init);
  test::PatternSource<double> src;
  src.inputs = 5;
  src.classes = 2;
  src.batch_size = 2;
  src.steps = 8;
  src.start_epoch(1);
  Batch<double> batch;
  REQUIRE(src.next(batch));
  const Index K = 3, M = 6;
  ThreeFactorConfig cfg;
  cfg.kappa = 0.3;
  GemSignal<K> sig;
  sig.begin(cfg, 2, K, true);
  std::vector<double> v(M, 0.0), h(M, -1.0), y(M, -1.0);
  const std::vector<char> active(M, 1);
  net.begin(2, K);
  Rng rng(9);
  bool unequal = false;
  for (Index t = 0; t < 8; ++t) {
    net.step(batch.input, t, Teacher<double>::from(batch), OutputMode::clamp, rng);
    sig.compute(net, t, active, h, y);
    for (Index m = 0; m < M; ++m) v[std::size_t(m)] = 0.3 * v[std::size_t(m)] + net.output_log_likelihood()[std::size_t(m)];
    for (Index b = 0; b < 2; ++b) {
      double z = 0;
      for (Index k = 0; k < K; ++k) z += std::exp(v[std::size_t(b * K + k)]);
      double sum = 0;
      for (Index k = 0; k < K; ++k) {
        const std::size_t m = std::size_t(b * K + k);
        CHECK(sig.decayed_log_likelihood()[m] == Approx(v[m]).epsilon(1e-12));
        CHECK(h[m] == Approx(std::exp(v[m]) / z).epsilon(1e-12));
        CHECK(y[m] == h[m]);
        sum += h[m];
        unequal |= std::abs(h[m] - 1.0 / K) > 1e-3;
      }
      CHECK(sum == Approx(1.0));
    }
  }
  CHECK(unequal);  // the hidden samples differ, so the compartments get different weights
}

TEST_CASE("GEM with identical compartments weights each by 1/K and matches the single-sample rule",
          "[probabilistic][gem]") {
  // without hidden neurons every compartment is the same, so l^k = 1/K and sum_k l^k e^k = e
  Rng init(4);
  GlmSnn<double> base(small_config(6, 0, 3), init);
  test::PatternSource<double> src;
  src.inputs = 6;
  src.start_epoch(1);
  GlmSnn<double> a = base, b = base;
  Gem<4> gem;
  SingleSampleMl ml;
  Rng ra(1), rb(1);
  Batch<double> batch;
  for (int i = 0; i < 5 && src.next(batch); ++i) {
    gem.train_batch(a, batch, ra);
    ml.train_batch(b, batch, rb);
    for (double w : gem.signal().decayed_log_likelihood()) CHECK(w == Approx(gem.signal().decayed_log_likelihood()[0]));
  }
  CHECK(parameter_distance(a, base) > 1e-3);
  CHECK(parameter_distance(a, b) < 1e-12 * (1 + a.weight().norm()));
}

TEST_CASE("GEM's update equals a replica of its equations and with K = 1 the replica is theta += eta e",
          "[probabilistic][gem]") {
  // hrjang train_ml_multi_nols_online written out by hand, per compartment column m:
  //   e^m = kappa e^m + grad log p_t,  v^m = kappa v^m + r^m_t,  l = softmax(v),
  //   theta += eta sum_m l^m e^m (hidden and output rows alike), after every step.
  for (const Index K : {Index(1), Index(3)}) {
    INFO("K = " << K);
    Rng init(21);
    GlmSnn<double> net(small_config(6, 4, 3), init);
    GlmSnn<double> ref = net, single = net;
    const GlmSnn<double> initial = net;
    test::PatternSource<double> src;
    src.inputs = 6;
    src.steps = 14;
    src.start_epoch(1);
    Batch<double> batch;
    REQUIRE(src.next(batch));
    ThreeFactorConfig c;
    c.kappa = 0.3;  // larger than the default so that the traces carry over several steps
    c.lr = 0.07;
    Gem<> rule(c, GemSignal<>(K));
    Rng r1(55), r2(55), r3(55);
    rule.train_batch(net, batch, r1);

    std::vector<SynapticBlocks<double>> G(static_cast<std::size_t>(K)), E(static_cast<std::size_t>(K));
    for (Index m = 0; m < K; ++m) {
      ref.shape_like_parameters(G[std::size_t(m)]);
      ref.shape_like_parameters(E[std::size_t(m)]);
    }
    std::vector<double> v(static_cast<std::size_t>(K), 0.0), l(static_cast<std::size_t>(K));
    const Index F = ref.feature_size();
    ref.begin(1, K);
    bool unequal = false;
    for (Index t = 0; t < 14; ++t) {
      ref.step(batch.input, t, Teacher<double>::from(batch), OutputMode::clamp, r2);
      double z = 0;
      for (Index m = 0; m < K; ++m) {
        const std::size_t mi = std::size_t(m);
        ref.accumulate_gradient(m, 0.0, 1.0, G[mi], 0, F);  // G = grad log p_t of column m
        E[mi].w = c.kappa * E[mi].w + G[mi].w;
        E[mi].fb = c.kappa * E[mi].fb + G[mi].fb;
        E[mi].bias = c.kappa * E[mi].bias + G[mi].bias;
        v[mi] = c.kappa * v[mi] + ref.output_log_likelihood()[mi];
        z += std::exp(v[mi]);
      }
      for (Index m = 0; m < K; ++m) {
        const std::size_t mi = std::size_t(m);
        l[mi] = std::exp(v[mi]) / z;
        unequal |= std::abs(l[mi] - 1.0 / double(K)) > 1e-3;
        ref.weight() += c.lr * l[mi] * E[mi].w;
        ref.feedback_weight() += c.lr * l[mi] * E[mi].fb;
        ref.bias() += c.lr * l[mi] * E[mi].bias;
      }
      ref.enforce_topology();
    }
    CHECK(parameter_distance(net, initial) > 1e-3);
    CHECK(parameter_distance(net, ref) < 1e-12 * (1 + ref.weight().norm()));
    if (K == 1) {
      // the single-sample rule (em form) takes exactly the same steps as the replica
      SingleSampleMl ml(c);
      ml.train_batch(single, batch, r3);
      CHECK(parameter_distance(single, ref) < 1e-12 * (1 + ref.weight().norm()));
    } else {
      CHECK(unequal);  // the compartments sampled different hidden spikes and got different weights
    }
  }
}

namespace {

/// Runs the GEM paper's multi-sample rules by hand on one example: per step, the gradients G
/// and traces E = kappa E + G of every compartment, v = kappa v + r, then `update(E, v, ref)`.
template <class Update>
void replica(GlmSnn<double>& ref, const Batch<double>& batch, Index K, double kappa, Rng& rng, Update update) {
  std::vector<SynapticBlocks<double>> G(static_cast<std::size_t>(K)), E(static_cast<std::size_t>(K));
  for (Index m = 0; m < K; ++m) {
    ref.shape_like_parameters(G[std::size_t(m)]);
    ref.shape_like_parameters(E[std::size_t(m)]);
  }
  std::vector<double> v(std::size_t(K), 0.0);
  ref.begin(1, K);
  for (Index t = 0; t < batch.steps(); ++t) {
    ref.step(batch.input, t, Teacher<double>::from(batch), OutputMode::clamp, rng);
    for (Index m = 0; m < K; ++m) {
      const std::size_t mi = std::size_t(m);
      ref.accumulate_gradient(m, 0.0, 1.0, G[mi], 0, ref.feature_size());
      E[mi].w = kappa * E[mi].w + G[mi].w;
      E[mi].fb = kappa * E[mi].fb + G[mi].fb;
      E[mi].bias = kappa * E[mi].bias + G[mi].bias;
      v[mi] = kappa * v[mi] + ref.output_log_likelihood()[mi];
    }
    update(E, v, ref);
    ref.enforce_topology();
  }
}

/// Calls f(P, traces of the K compartments for that block, block index) for W, w_fb and b.
template <class F>
void for_each_block(GlmSnn<double>& net, std::vector<SynapticBlocks<double>>& E, F f) {
  for (int slot = 0; slot < 3; ++slot) {
    Matrix<double>& P = slot == 0 ? net.weight() : slot == 1 ? net.feedback_weight() : net.bias();
    std::vector<Matrix<double>*> es;
    for (auto& e : E) es.push_back(slot == 0 ? &e.w : slot == 1 ? &e.fb : &e.bias);
    f(P, es, slot);
  }
}

double lme(const std::vector<double>& x) {
  double mx = *std::max_element(x.begin(), x.end()), z = 0;
  for (double a : x) z += std::exp(a - mx);
  return mx + std::log(z / double(x.size()));
}

/// The optimal baseline by hand: num = beta num + (1 - beta) x^2 g, den likewise, b = num / (den + eps).
Matrix<double> baseline(Matrix<double>& num, Matrix<double>& den, const Matrix<double>& x, double g, double beta, double eps) {
  if (num.size() == 0) {
    num.setZero(x.rows(), x.cols());
    den.setZero(x.rows(), x.cols());
  }
  num = beta * num + (1 - beta) * g * x.cwiseProduct(x);
  den = beta * den + (1 - beta) * x.cwiseProduct(x);
  return num.cwiseQuotient((den.array() + eps).matrix());
}

/// One example through `rule` and through the replica; returns (distance between them, distance moved).
template <class Rule, class Update>
std::pair<double, double> rule_vs_replica(Rule rule, Index K, Update update) {
  Rng init(21);
  GlmSnn<double> net(small_config(6, 4, 3), init);
  GlmSnn<double> ref = net;
  const GlmSnn<double> initial = net;
  test::PatternSource<double> src;
  src.inputs = 6;
  src.steps = 14;
  src.start_epoch(1);
  Batch<double> batch;
  REQUIRE(src.next(batch));
  Rng r1(55), r2(55);
  rule.train_batch(net, batch, r1);
  replica(ref, batch, K, rule.config().kappa, r2, update);
  return {parameter_distance(net, ref) / (1 + ref.weight().norm()), parameter_distance(net, initial)};
}

}  // namespace

TEST_CASE("IW, IW-b and MB updates equal replicas of their equations", "[probabilistic][gem][baselines]") {
  ThreeFactorConfig c;
  c.kappa = 0.3;
  c.beta = 0.2;
  c.lr = 0.07;
  const double eta = c.lr, beta = c.beta, eps = c.baseline_epsilon;
  const Index K = 3;
  const Index nh = 4;  // hidden units of small_config(6, 4, 3)
  SECTION("IW: (L - b) sum_k e^k on hidden rows with one baseline, sum_k w^k e^k on output rows") {
    std::array<Matrix<double>, 3> num, den;
    const auto [gap, moved] = rule_vs_replica(Iw<>(c, IwSignal<>(K)), K, [&](auto& E, const std::vector<double>& v, auto& ref) {
      const double L = lme(v);
      std::vector<double> w(v.size());
      double z = 0;
      for (double a : v) z += std::exp(a);
      for (std::size_t k = 0; k < v.size(); ++k) w[k] = std::exp(v[k]) / z;
      for_each_block(ref, E, [&](Matrix<double>& P, std::vector<Matrix<double>*>& es, int slot) {
        Matrix<double> x = Matrix<double>::Zero(nh, P.cols());
        for (auto* e : es) x += e->topRows(nh);
        const Matrix<double> b = baseline(num[std::size_t(slot)], den[std::size_t(slot)], x, L, beta, eps);
        P.topRows(nh) += eta * ((L - b.array()) * x.array()).matrix();
        for (std::size_t k = 0; k < es.size(); ++k) P.bottomRows(P.rows() - nh) += eta * w[k] * es[k]->bottomRows(P.rows() - nh);
      });
    });
    CHECK(moved > 1e-3);
    CHECK(gap < 1e-12);
  }
  SECTION("IW-b: VIMCO's leave-one-out L^k on hidden rows, w^k on output rows") {
    const auto [gap, moved] = rule_vs_replica(Iwb<>(c, IwbSignal<>(K)), K, [&](auto& E, const std::vector<double>& v, auto& ref) {
      const double L = lme(v);
      std::vector<double> Lk(v.size()), w(v.size());
      double z = 0;
      for (double a : v) z += std::exp(a);
      for (std::size_t k = 0; k < v.size(); ++k) {
        w[k] = std::exp(v[k]) / z;
        std::vector<double> tilde = v;
        double others = 0;
        for (std::size_t j = 0; j < v.size(); ++j)
          if (j != k) others += v[j];
        tilde[k] = others / double(v.size() - 1);
        Lk[k] = L - lme(tilde);
      }
      for_each_block(ref, E, [&](Matrix<double>& P, std::vector<Matrix<double>*>& es, int) {
        for (std::size_t k = 0; k < es.size(); ++k) {
          P.topRows(nh) += eta * Lk[k] * es[k]->topRows(nh);
          P.bottomRows(P.rows() - nh) += eta * w[k] * es[k]->bottomRows(P.rows() - nh);
        }
      });
    });
    CHECK(moved > 1e-3);
    CHECK(gap < 1e-12);
  }
  SECTION("MB: (1/K) sum_k (v^k - b^k) e^k with a baseline per compartment, (1/K) sum_k e^k on outputs") {
    std::vector<std::array<Matrix<double>, 3>> num(static_cast<std::size_t>(K)), den(static_cast<std::size_t>(K));
    const auto [gap, moved] = rule_vs_replica(Mb<>(c, MbSignal<>(K)), K, [&](auto& E, const std::vector<double>& v, auto& ref) {
      for_each_block(ref, E, [&](Matrix<double>& P, std::vector<Matrix<double>*>& es, int slot) {
        for (std::size_t k = 0; k < es.size(); ++k) {
          const Matrix<double> x = es[k]->topRows(nh);
          const Matrix<double> b = baseline(num[k][std::size_t(slot)], den[k][std::size_t(slot)], x, v[k], beta, eps);
          P.topRows(nh) += (eta / double(K)) * ((v[k] - b.array()) * x.array()).matrix();
          P.bottomRows(P.rows() - nh) += (eta / double(K)) * es[k]->bottomRows(P.rows() - nh);
        }
      });
    });
    CHECK(moved > 1e-3);
    CHECK(gap < 1e-12);
  }
}

namespace {
template <Index K>
concept ValidIwb = requires { typename IwbSignal<K>; };
}  // namespace

TEST_CASE("IW and MB with K = 1 are the REINFORCE single-sample rule; IW-b needs two compartments",
          "[probabilistic][gem][baselines]") {
  Rng init(5);
  GlmSnn<double> base(small_config(6, 4, 3), init);
  GlmSnn<double> a = base, b = base, c = base, d = base;
  Rng ra(8), rb(8), rc(8), rd(8);
  SingleSampleMl reinforce({}, SingleSampleSignal{SingleSampleSignal::Hidden::reinforce});
  Iw<1> iw;
  Mb<> mb({}, MbSignal<>(1));
  Gem<1> gem;
  test::PatternSource<double> src;
  src.inputs = 6;
  src.start_epoch(3);
  Batch<double> batch;
  for (int i = 0; i < 6 && src.next(batch); ++i) {
    reinforce.train_batch(a, batch, ra);
    iw.train_batch(b, batch, rb);
    mb.train_batch(c, batch, rc);
    gem.train_batch(d, batch, rd);
  }
  CHECK(parameter_distance(a, base) > 1e-3);
  CHECK(parameter_distance(a, b) < 1e-12 * (1 + a.weight().norm()));
  CHECK(parameter_distance(a, c) < 1e-12 * (1 + a.weight().norm()));
  CHECK(parameter_distance(a, d) > 1e-6);  // GEM's K = 1 is the EM form, another rule
  CHECK_THROWS_AS(IwbSignal<>(1), ConfigError);
  CHECK_THROWS_AS(IwSignal<>(0), ConfigError);
  STATIC_REQUIRE(!ValidIwb<1>);
  STATIC_REQUIRE(ValidIwb<2>);
  STATIC_REQUIRE(OnlineRule<Iw<4>, GlmSnn<float>>);
  STATIC_REQUIRE(OnlineRule<Iwb<>, WtaSnn<float, 2>>);
  STATIC_REQUIRE(OnlineRule<Mb<2>, GlmSnn<double>>);
  CHECK(Iw<>::name() == "Iw");
  CHECK(Iwb<4>::name() == "Iwb<4>");
  CHECK(Mb<>::name() == "Mb");
}

TEST_CASE("Training on explicit output spike trains equals training on the labels they encode",
          "[probabilistic][pattern]") {
  Rng init(6);
  GlmSnn<double> base(small_config(6, 3, 3), init);
  test::PatternSource<double> src;
  src.inputs = 6;
  src.batch_size = 2;
  src.start_epoch(1);
  Batch<double> batch;
  REQUIRE(src.next(batch));
  TimeSeries<double> y(3, 2, batch.steps());
  y.set_zero();
  for (Index t = 0; t < batch.steps(); ++t)
    for (Index b = 0; b < 2; ++b) y(batch.labels[std::size_t(b)], b, t) = 1.0;
  GlmSnn<double> a = base, b = base;
  Rng ra(2), rb(2);
  Gem<3> g1, g2;
  const StepStats sa = g1.train_batch(a, batch, ra);
  const StepStats sb = g2.train_pattern(b, batch, y, rb);
  CHECK(parameter_distance(a, base) > 1e-4);
  CHECK(parameter_distance(a, b) == 0.0);
  CHECK(sa.loss == sb.loss);
  // a pattern that is not the label's changes the trajectory
  y(0, 0, 3) = 1.0 - y(0, 0, 3);
  GlmSnn<double> c = base;
  Rng rc(2);
  Gem<3> g3;
  g3.train_pattern(c, batch, y, rc);
  CHECK(parameter_distance(a, c) > 0);
  TimeSeries<double> wrong(2, 2, batch.steps());
  CHECK_THROWS_AS(g3.train_pattern(c, batch, wrong, rc), ShapeError);
}

TEST_CASE("VOWEL's update equals a replica of its equations (KL signal, baseline, accumulator)",
          "[probabilistic][vowel]") {
  Rng init(12);
  ProbabilisticSnnConfig cfg = small_config(3, 2, 2);
  WtaSnn<double, 2> net(cfg, init);
  WtaSnn<double, 2> ref = net;
  const WtaSnn<double, 2> initial = net;
  test::PatternSource<double> src;
  src.inputs = 3;
  src.classes = 2;
  src.symbols = 2;
  src.steps = 5;
  src.hi = 0.8;
  src.start_epoch(1);
  Batch<double> batch;
  REQUIRE(src.next(batch));
  const double gamma = 0.7, r = 0.8;
  Vowel rule(Vowel::signal_type::default_config(), VowelSignal::wta_code(gamma, r));
  const ThreeFactorConfig c = rule.config();
  REQUIRE(c.filtered_traces);
  Rng r1(77), r2(77);
  rule.train_batch(net, batch, r1);

  // the replica
  const double kappa = c.kappa, beta = c.beta, eta = c.lr, eps = c.baseline_epsilon;
  const double lq0 = std::log(r), lqc = std::log((1 - r) / 2);
  SynapticBlocks<double> G, E, N, D, U;
  for (auto* x : {&G, &E, &N, &D, &U}) ref.shape_like_parameters(*x);
  const Index nh = ref.hidden_units(), F = ref.feature_size();
  ref.begin(1, 1);
  for (Index t = 0; t < 5; ++t) {
    ref.step(batch.input, t, Teacher<double>::from(batch), OutputMode::clamp, r2);
    ref.accumulate_gradient(0, 0.0, 1.0, G, 0, F);  // G = grad log p_t
    // KL term by hand from the probabilities and the sampled hidden symbols
    double kl = 0;
    for (Index n = 0; n < 2; ++n) {
      const double p1 = ref.probabilities()(n * 2, 0), p2 = ref.probabilities()(n * 2 + 1, 0);
      const double s1 = ref.spikes()(6 + n * 2, 0), s2 = ref.spikes()(6 + n * 2 + 1, 0);
      kl += s1 * (std::log(p1) - lqc) + s2 * (std::log(p2) - lqc) + (1 - s1 - s2) * (std::log(1 - p1 - p2) - lq0);
    }
    CHECK(ref.hidden_kl(0, lq0, lqc) == Approx(kl).epsilon(1e-12));
    const double l = ref.output_log_likelihood()[0] - gamma * kl;
    auto upd = [&](Matrix<double>& P, Matrix<double>& g, Matrix<double>& e, Matrix<double>& n, Matrix<double>& d,
                   Matrix<double>& u) {
      e = kappa * e + (1 - kappa) * g;
      for (Index j = 0; j < P.cols(); ++j)
        for (Index i = 0; i < P.rows(); ++i) {
          if (i < nh) {
            n(i, j) = beta * n(i, j) + (1 - beta) * e(i, j) * e(i, j) * l;
            d(i, j) = beta * d(i, j) + (1 - beta) * e(i, j) * e(i, j);
            u(i, j) = kappa * u(i, j) + (1 - kappa) * (l - n(i, j) / (d(i, j) + eps)) * e(i, j);
            P(i, j) += eta * u(i, j);
          } else {
            P(i, j) += eta * e(i, j);
          }
        }
    };
    upd(ref.weight(), G.w, E.w, N.w, D.w, U.w);
    upd(ref.feedback_weight(), G.fb, E.fb, N.fb, D.fb, U.fb);
    upd(ref.bias(), G.bias, E.bias, N.bias, D.bias, U.bias);
    ref.enforce_topology();
  }
  CHECK(parameter_distance(net, initial) > 1e-4);
  CHECK(parameter_distance(net, ref) < 1e-12);
}

TEST_CASE("VOWEL's two sparsity-reference conventions describe the same reference", "[probabilistic][vowel]") {
  VowelSignal binary = VowelSignal::binary_code(1.0, 0.3);  // r = spiking probability
  VowelSignal wta = binary;
  wta.reference = SparsityReference::no_spike;
  wta.r = 0.7;  // r = no-spike probability
  CHECK(binary.log_reference(1).first == Approx(wta.log_reference(1).first));
  CHECK(binary.log_reference(1).second == Approx(wta.log_reference(1).second));
  CHECK(binary.log_reference(1).second == Approx(std::log(0.3)));
  CHECK(VowelSignal::wta_code(1.0, 0.8).log_reference(2).second == Approx(std::log(0.1)));
  // trained with either, a binary network follows the same trajectory
  Rng init(2);
  GlmSnn<double> a(small_config(6, 3, 3), init);
  GlmSnn<double> b = a;
  Vowel ra(Vowel::signal_type::default_config(), binary), rb(Vowel::signal_type::default_config(), wta);
  test::PatternSource<double> src;
  src.inputs = 6;
  src.start_epoch(1);
  Batch<double> batch;
  Rng g1(3), g2(3);
  for (int i = 0; i < 5 && src.next(batch); ++i) {
    ra.train_batch(a, batch, g1);
    rb.train_batch(b, batch, g2);
  }
  CHECK(parameter_distance(a, b) < 1e-9);
  CHECK(VowelSignal{}.reference == SparsityReference::no_spike);
}

namespace {
template <class Net, class Rule>
void check_learns(Net& net, Rule rule, Index data_symbols, double min_accuracy, Index K_eval) {
  using S = typename Net::scalar_type;
  test::PatternSource<S> train, test;
  train.symbols = test.symbols = data_symbols;
  train.n = 450;
  test.n = 150;
  test.batch_size = 10;  // small per-step products: no OpenMP team for Eigen per step
  test.seed = 99;
  test.fixed = true;
  Rng rng(11);
  const MultiSampleReport before = evaluate_multi_sample(net, test, {.compartments = K_eval}, rng);
  Trainer trainer(net, std::move(rule), NoOptimizer{}, {.seed = 4});
  const FitResult fit = trainer.fit(train, test, 3);
  const MultiSampleReport after = evaluate_multi_sample(net, test, {.compartments = K_eval}, rng);
  INFO(Rule::name() << ": accuracy " << before.majority.accuracy() << " -> " << after.majority.accuracy()
                    << ", target log-likelihood " << before.ll_iw << " -> " << after.ll_iw << ", trainer val acc "
                    << fit.val_accuracy << ", train loss " << fit.train_loss);
  CHECK(after.ll_iw > before.ll_iw + 5.0);
  CHECK(after.ll_mean > before.ll_mean + 5.0);
  CHECK(after.majority.accuracy() >= min_accuracy);
  CHECK(after.average.accuracy() >= min_accuracy);
  CHECK(fit.val_accuracy >= min_accuracy - 0.1);
  CHECK(std::isfinite(fit.train_loss));
}
}  // namespace

TEST_CASE("GEM learns a synthetic classification task through the Trainer", "[probabilistic][gem][learning]") {
  Rng init(1);
  GlmSnn<float> net(small_config(12, 4, 3), init);
  check_learns(net, Gem<4>{}, 1, 0.8, 4);
}

TEST_CASE("The single-sample rule learns a synthetic classification task", "[probabilistic][learning]") {
  Rng init(1);
  GlmSnn<float> net(small_config(12, 4, 3), init);
  check_learns(net, SingleSampleMl{}, 1, 0.8, 1);
  GlmSnn<float> net2(small_config(12, 4, 3), init);
  check_learns(net2, SingleSampleMl({}, SingleSampleSignal{SingleSampleSignal::Hidden::reinforce}), 1, 0.8, 1);
}

TEST_CASE("VOWEL learns a synthetic task with WTA circuits and with binary neurons", "[probabilistic][vowel][learning]") {
  ThreeFactorConfig cfg = Vowel::signal_type::default_config();
  cfg.lr = 0.05;
  Rng init(1);
  WtaSnn<float, 2> wta(small_config(12, 4, 3), init);
  check_learns(wta, Vowel(cfg), 2, 0.8, 1);
  GlmSnn<float> bin(small_config(24, 4, 3), init);  // the same data as 2 binary inputs per circuit
  check_learns(bin, Vowel(cfg, VowelSignal::binary_code()), 2, 0.8, 1);
}

TEST_CASE("Online training allocates nothing once its buffers exist", "[probabilistic][alloc]") {
  if (!test::allocation_counting_available()) {
    WARN("SKIPPED: allocation counting needs glibc");
    return;
  }
  test::PatternSource<float> src;
  src.batch_size = 3;
  src.symbols = 2;
  src.start_epoch(1);
  Batch<float> b1, b2;
  REQUIRE(src.next(b1));
  REQUIRE(src.next(b2));
  Rng init(3), rng(4);
  WtaSnn<float, 2> net(small_config(12, 5, 3), init);
  WtaSnn<float, 2> net2 = net;  // one network per rule: K differs, and so do the buffer shapes
  Gem<3> gem;
  Vowel vowel;
  gem.train_batch(net, b1, rng);
  vowel.train_batch(net2, b1, rng);
  test::start_counting_allocations();
  gem.train_batch(net, b2, rng);
  const long gem_allocs = test::stop_counting_allocations();
  test::start_counting_allocations();
  vowel.train_batch(net2, b2, rng);
  const long vowel_allocs = test::stop_counting_allocations();
  CHECK(gem_allocs == 0);
  CHECK(vowel_allocs == 0);
  // the counter itself works
  test::start_counting_allocations();
  std::vector<double> v(1000);
  CHECK(test::stop_counting_allocations() >= 1);
  CHECK(v.size() == 1000);
}
