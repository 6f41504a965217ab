// The fast paths give the same numbers as plain implementations: the fused,
// recomputing LIF kernels against a straightforward per-neuron BPTT, sparse against dense
// accumulation in Linear (forward and all gradients), in-place gradient buffers in
// Sequential, and 1 against 2 threads; sparse, dense, static-input and streaming paths of a
// whole network against plain products. No timing here (see benchmarks/).
#include <spikelab/core/threads.hpp>
#include <spikelab/layers/linear.hpp>
#include <spikelab/layers/psp_filter.hpp>
#include <spikelab/losses/cross_entropy.hpp>
#include <spikelab/networks/sequential.hpp>
#include <spikelab/neurons/leaky_integrator.hpp>
#include <spikelab/neurons/lif.hpp>
#include <spikelab/optimizers/optimizer.hpp>

#include "support/test_support.hpp"

#include <array>
#include <cmath>
#include <vector>

using namespace spikelab;

namespace {

/// Restores two threads when leaving a scope that changed them.
struct ThreadGuard {
  ~ThreadGuard() { set_num_threads(2); }
};

template <class S>
double max_abs_diff(const Matrix<S>& a, const Matrix<S>& b) {
  REQUIRE(a.rows() == b.rows());
  REQUIRE(a.cols() == b.cols());
  return a.size() == 0 ? 0.0 : double((a - b).cwiseAbs().maxCoeff());
}
template <class S>
double scale_of(const Matrix<S>& a) {
  return 1.0 + (a.size() ? double(a.cwiseAbs().maxCoeff()) : 0.0);
}

// ---- plain reference LIF: one neuron and one sample at a time, every quantity stored ------------
template <class S, class G, class R>
struct PlainLif {
  Index n, B, T;
  std::vector<S> th, be, al;
  bool syn;
  ResetGradient policy;  // written out plainly below, independently of ResetAdjoint
  G g;
  Matrix<S> v, i, s;                 // n x B*T
  Matrix<S> dx;                      // dL/dx
  std::vector<S> dth, dbe, dal;      // per-neuron parameter gradients

  void forward(const Matrix<S>& x) {
    v.setZero(n, B * T);
    i.setZero(n, B * T);
    s.setZero(n, B * T);
    for (Index b = 0; b < B; ++b)
      for (Index r = 0; r < n; ++r) {
        S vp = 0, sp = 0, ip = 0;
        for (Index t = 0; t < T; ++t) {
          const Index c = t * B + b;
          S cur = x(r, c);
          if (syn) cur = al[r] * ip + cur;
          const S vt = R::next(be[r], vp, sp, th[r], cur);
          v(r, c) = vt;
          i(r, c) = cur;
          s(r, c) = g.forward(vt - th[r]);
          vp = vt;
          sp = s(r, c);
          ip = cur;
        }
      }
  }
  void backward(const Matrix<S>& go) {
    dx.setZero(n, B * T);
    dth.assign(std::size_t(n), S(0));
    dbe.assign(std::size_t(n), S(0));
    dal.assign(std::size_t(n), S(0));
    for (Index b = 0; b < B; ++b)
      for (Index r = 0; r < n; ++r) {
        S gvn = 0, gin = 0;  // dL/dv_{t+1}, dL/dI_{t+1}
        for (Index t = T - 1; t >= 0; --t) {
          const Index c = t * B + b, pc = c - B;
          const bool last = t == T - 1;
          const S vt = v(r, c), st = s(r, c);
          S gs = go(r, c);
          const bool linear = policy == ResetGradient::linear;
          if (!last && policy == ResetGradient::kept) gs += gvn * R::d_sprev(be[r], vt, st, th[r]);
          const S h = g.derivative(vt - th[r]);
          const S dv = linear ? be[r] : R::d_vprev(be[r], vt, st, th[r]);  // linear: as if there were no reset
          const S dt = linear ? S(0) : R::d_theta(be[r], vt, st, th[r]);
          const S gv = gs * h + (last ? S(0) : gvn * dv);
          dth[std::size_t(r)] += -gs * h + (last ? S(0) : gvn * dt);
          if (t > 0) dbe[std::size_t(r)] += gv * (linear ? v(r, pc) : R::d_beta(be[r], v(r, pc), s(r, pc), th[r]));
          S gcur = gv;
          if (syn) {
            gcur = gv + (last ? S(0) : al[r] * gin);
            if (t > 0) dal[std::size_t(r)] += gcur * i(r, pc);
          }
          gin = gcur;
          gvn = gv;
          dx(r, c) = gcur;
        }
      }
  }
};

template <class S, class G, class R, LifOptions O>
void compare_lif(Index n, Index B, Index T, LifConfig cfg, G g, std::uint64_t seed, double tol) {
  using L = LifType<S, G, R, O>;
  Rng rng(seed);
  L lif(n, cfg, g);
  // heterogeneous neuron parameters where trainable per neuron
  Vector<S> th(n), be(n), al(n);
  for (Index r = 0; r < n; ++r) {
    th[r] = S(O.threshold == Train::per_neuron ? rng.uniform(0.6, 1.2) : cfg.threshold);
    be[r] = S(O.beta == Train::per_neuron ? rng.uniform(0.7, 0.95) : cfg.beta);
    al[r] = S(O.alpha == Train::per_neuron ? rng.uniform(0.3, 0.8) : cfg.alpha);
  }
  lif.threshold().set(th);
  lif.beta().set(be);
  lif.alpha().set(al);
  TimeSeries<S> x(n, B, T), y, go(n, B, T), gi;
  test::fill_uniform(x, rng, -0.3, 0.8);
  test::fill_uniform(go, rng, -1, 1);

  PlainLif<S, G, R> ref{n, B, T, {}, {}, {}, lif.synaptic(), O.reset_gradient, g, {}, {}, {}, {}, {}, {}, {}};
  for (Index r = 0; r < n; ++r) {
    ref.th.push_back(lif.threshold().values()[r]);
    ref.be.push_back(lif.beta().values()[r]);
    ref.al.push_back(lif.alpha().values()[r]);
  }
  ref.forward(x.values());
  ref.backward(go.values());

  for (int threads : {1, 2}) {
    ThreadGuard guard;
    set_num_threads(threads);
    INFO("threads " << threads << ", n " << n << ", B " << B << ", T " << T << ", " << lif.signature());
    lif.zero_grad();
    lif.forward(x, y, ForwardContext::train(rng));
    CHECK(max_abs_diff(y.values(), ref.s) <= tol);
    CHECK(max_abs_diff(lif.membrane().values(), ref.v) <= tol * scale_of(ref.v));
    for (bool in_place : {false, true}) {
      INFO("in place " << in_place);
      lif.zero_grad();
      TimeSeries<S>* target = &gi;
      if (in_place) {
        gi = go;
        target = &gi;
        lif.backward(x, y, gi, target);
      } else {
        lif.backward(x, y, go, target);
      }
      CHECK(max_abs_diff(gi.values(), ref.dx) <= tol * scale_of(ref.dx));
      auto check_param = [&](NeuronParameter<S>& p, const std::vector<S>& want, Train mode) {
        if (mode == Train::fixed) return;
        const Vector<S> w = Eigen::Map<const Vector<S>>(want.data(), n);
        const Matrix<S> expect = mode == Train::per_layer ? Matrix<S>::Constant(1, 1, w.sum()) : Matrix<S>(w);
        CHECK(max_abs_diff(p.grad(), expect) <= tol * double(T) * scale_of(expect));
      };
      check_param(lif.threshold(), ref.dth, O.threshold);
      check_param(lif.beta(), ref.dbe, O.beta);
      check_param(lif.alpha(), ref.dal, O.alpha);
    }
  }
}

constexpr LifOptions kAll{.threshold = Train::per_neuron, .beta = Train::per_neuron, .alpha = Train::per_neuron};
constexpr LifOptions kLayer{.threshold = Train::per_layer, .beta = Train::per_layer};
constexpr LifOptions kAllLinear{.threshold = Train::per_neuron, .beta = Train::per_neuron, .alpha = Train::per_neuron,
                                .reset_gradient = ResetGradient::linear};

}  // namespace

TEMPLATE_TEST_CASE("Fused LIF forward and BPTT equal a plain per-neuron implementation", "[speed][lif]", float,
                   double) {
  using S = TestType;
  const double tol = std::is_same_v<S, float> ? 2e-5 : 1e-12;
  // sizes that are not multiples of the vector width, one or several work units per sample
  compare_lif<S, FastSigmoid, SubtractReset, LifOptions{}>(37, 3, 25, {.beta = 0.9, .threshold = 0.5}, {}, 1, tol);
  compare_lif<S, FastSigmoid, SubtractReset, LifOptions{}>(300, 2, 700, {.beta = 0.9, .threshold = 0.5}, {}, 2, tol);
  compare_lif<S, FastSigmoid, SubtractReset, kLayer>(21, 4, 30, {.beta = 0.85, .threshold = 0.6}, {}, 3, tol);
  compare_lif<S, Arctan, ZeroReset, kAll>(50, 3, 40, {.beta = 0.9, .alpha = 0.5, .threshold = 0.7}, {}, 4, tol);
  compare_lif<S, Triangle, NoReset, LifOptions{.beta = Train::per_neuron}>(19, 2, 30, {.beta = 0.8, .threshold = 0.6},
                                                                            {}, 5, tol);
  // fixed synaptic current; detached and linear reset gradients
  compare_lif<S, FastSigmoid, SubtractReset,
              LifOptions{.threshold = Train::per_neuron, .reset_gradient = ResetGradient::detached}>(
      33, 3, 30, {.beta = 0.9, .alpha = 0.6, .threshold = 0.5}, {}, 6, tol);
  compare_lif<S, Exponential, ZeroReset,
              LifOptions{.threshold = Train::per_neuron, .beta = Train::per_neuron,
                         .reset_gradient = ResetGradient::linear}>(
      45, 2, 60, {.beta = 0.9, .alpha = 0.6, .threshold = 0.5}, {}, 9, tol);
  compare_lif<S, FastSigmoid, SubtractReset, kAllLinear>(29, 2, 30, {.beta = 0.9, .alpha = 0.6, .threshold = 0.5},
                                                          {}, 10, tol);
  compare_lif<S, FastSigmoid, ZeroReset, kAll>(200, 2, 600, {.beta = 0.9, .alpha = 0.4, .threshold = 0.8}, {}, 7, tol);
  // a smooth twin (real-valued spikes feed the reset)
  compare_lif<S, SmoothTwin<Sigmoid>, SubtractReset, kAll>(17, 2, 20, {.beta = 0.9, .alpha = 0.3, .threshold = 0.6},
                                                            {{2.0}}, 8, tol);
}

TEST_CASE("LIF spikes and input gradients do not depend on the number of threads", "[speed][lif][threads]") {
  ThreadGuard guard;
  Rng rng(11);
  Lif<float> lif(256, {.beta = 0.9, .threshold = 0.4});
  TimeSeries<float> x(256, 16, 60), go(256, 16, 60), y1, y2, g1, g2;
  test::fill_uniform(x, rng, -0.2, 0.5);
  test::fill_uniform(go, rng, -1, 1);
  set_num_threads(1);
  lif.forward(x, y1, ForwardContext::train(rng));
  lif.backward(x, y1, go, &g1);
  set_num_threads(2);
  lif.forward(x, y2, ForwardContext::train(rng));
  lif.backward(x, y2, go, &g2);
  CHECK(y1.values() == y2.values());
  CHECK(g1.values() == g2.values());
  CHECK(y1.values().sum() > 0);
}

// ---- Linear: sparse against dense --------------------------------------------------------------
namespace {
template <class S>
void compare_linear(Index in, Index out, Index B, Index T, double density, bool binary, bool bias, double tol) {
  Rng rng(in * 31 + out);
  TimeSeries<S> x(in, B, T);
  for (Index k = 0; k < x.values().size(); ++k)
    x.values().data()[k] = rng.uniform() < density ? (binary ? S(1) : S(rng.normal())) : S(0);
  Linear<S> dense(in, out, rng, {.bias = bias, .sparse = SparseMode::never});
  TimeSeries<S> g(out, B, T);
  test::fill_uniform(g, rng, -1, 1);
  TimeSeries<S> yd, gid;
  dense.forward(x, yd, ForwardContext::train(rng));
  dense.backward(x, yd, g, &gid);
  for (int threads : {1, 2}) {
    ThreadGuard guard;
    set_num_threads(threads);
    INFO("in " << in << " out " << out << " density " << density << " binary " << binary << " threads " << threads);
    Linear<S> sparse = dense;
    sparse.config().sparse = SparseMode::always;
    sparse.zero_grad();
    TimeSeries<S> ys, gis;
    sparse.forward(x, ys, ForwardContext::train(rng));
    // an input equal at every step (density 1, binary) is projected once instead
    if (x.static_steps())
      REQUIRE(sparse.used_static());
    else
      REQUIRE(sparse.used_sparse());
    sparse.backward(x, ys, g, &gis);
    CHECK(max_abs_diff(ys.values(), yd.values()) <= tol * scale_of(yd.values()));
    CHECK(max_abs_diff(sparse.weight_grad(), dense.weight_grad()) <= tol * scale_of(dense.weight_grad()));
    if (bias) CHECK(max_abs_diff(sparse.bias_grad(), dense.bias_grad()) <= tol * scale_of(dense.bias_grad()));
    CHECK(max_abs_diff(gis.values(), gid.values()) <= tol * scale_of(gid.values()));
    // a second pass reuses the buffers and accumulates the weight gradient
    sparse.forward(x, ys, ForwardContext::train(rng));
    sparse.backward(x, ys, g, &gis);
    CHECK(max_abs_diff(sparse.weight_grad(), Matrix<S>(2 * dense.weight_grad())) <=
          2 * tol * scale_of(dense.weight_grad()));
  }
}
}  // namespace

TEMPLATE_TEST_CASE("Sparse accumulation equals the dense product: forward and all gradients", "[speed][linear]",
                   float, double) {
  using S = TestType;
  const double tol = std::is_same_v<S, float> ? 1e-5 : 1e-13;
  compare_linear<S>(53, 37, 5, 21, 0.05, true, true, tol);     // sizes off the vector width
  compare_linear<S>(700, 256, 8, 10, 0.05, true, true, tol);   // SHD's first layer shape
  compare_linear<S>(3000, 200, 4, 6, 0.03, true, false, tol);  // W blocked by rows (in is large)
  compare_linear<S>(64, 10, 3, 9, 0.3, false, true, tol);      // real values: weighted path
  compare_linear<S>(40, 130, 2, 7, 1.0, true, true, tol);      // all ones: the index grows past its estimate
  compare_linear<S>(40, 20, 2, 7, 0.0, true, true, tol);       // all zeros
}

TEST_CASE("The column index lists every nonzero in order, across thread chunks", "[speed][linear]") {
  ThreadGuard guard;
  Rng rng(5);
  Matrix<float> x(101, 333);
  for (Index k = 0; k < x.size(); ++k) x.data()[k] = rng.uniform() < 0.07 ? 1.0f : 0.0f;
  x(3, 5) = 2.5f;  // one non-binary value
  for (int threads : {1, 2}) {
    set_num_threads(threads);
    detail::SparseColumns<float> sp;
    sp.build(x, 0.01);  // low hint: the buffers must grow
    REQUIRE(sp.start.size() == 334);
    REQUIRE_FALSE(sp.binary());
    std::int64_t k = 0;
    for (Index c = 0; c < x.cols(); ++c) {
      REQUIRE(sp.start[std::size_t(c)] == k);
      for (Index r = 0; r < x.rows(); ++r)
        if (x(r, c) != 0) {
          REQUIRE(sp.row[std::size_t(k)] == r);
          REQUIRE(sp.value[std::size_t(k)] == x(r, c));
          ++k;
        }
    }
    CHECK(sp.nnz() == k);
    CHECK(k == (x.array() != 0).count());
  }
}

namespace {
struct OneBlock {
  Matrix<float>*w, *g;
  template <class F>
  void for_each_parameter(F&& f) {
    f(ParamRef<float>{"w", ParamGroup::weight, *w, *g});
  }
};
}  // namespace

// ---- Sequential: shared in-place gradient buffers ------------------------------------------------
TEST_CASE("Sequential with in-place LIF gradients equals a layer-by-layer backward with separate buffers",
          "[speed][sequential]") {
  Rng rng(9);
  using L = LifType<double, FastSigmoid, SubtractReset, LifOptions{.threshold = Train::per_neuron}>;
  using Net = Sequential<Linear<double>, L, Linear<double>, L, Linear<double>, LeakyIntegrator<double>>;
  Net net{Linear<double>(30, 40, rng), L(40, {.beta = 0.9, .threshold = 0.3}), Linear<double>(40, 20, rng),
          L(20, {.beta = 0.9, .threshold = 0.3}), Linear<double>(20, 5, rng), LeakyIntegrator<double>(5)};
  TimeSeries<double> x(30, 4, 25), go(5, 4, 25);
  test::fill_spikes(x, rng, 0.2);
  test::fill_uniform(go, rng, -1, 1);
  net.zero_grad();
  net.forward(x, ForwardContext::train(rng));
  net.backward(go);
  CHECK(net.activation(1).values().sum() > 0);  // the hidden layers spike
  CHECK(net.activation(3).values().sum() > 0);
  // by hand, with a fresh buffer for every gradient
  Net copy = net;
  copy.zero_grad();
  std::array<TimeSeries<double>, 6> acts, grads;
  copy.layer<0>().forward(x, acts[0], ForwardContext::train(rng));
  copy.layer<1>().forward(acts[0], acts[1], ForwardContext::train(rng));
  copy.layer<2>().forward(acts[1], acts[2], ForwardContext::train(rng));
  copy.layer<3>().forward(acts[2], acts[3], ForwardContext::train(rng));
  copy.layer<4>().forward(acts[3], acts[4], ForwardContext::train(rng));
  copy.layer<5>().forward(acts[4], acts[5], ForwardContext::train(rng));
  copy.layer<5>().backward(acts[4], acts[5], go, &grads[4]);
  copy.layer<4>().backward(acts[3], acts[4], grads[4], &grads[3]);
  copy.layer<3>().backward(acts[2], acts[3], grads[3], &grads[2]);
  copy.layer<2>().backward(acts[1], acts[2], grads[2], &grads[1]);
  copy.layer<1>().backward(acts[0], acts[1], grads[1], &grads[0]);
  copy.layer<0>().backward(x, acts[0], grads[0], nullptr);
  std::vector<Matrix<double>> a, b;
  net.for_each_parameter([&](ParamRef<double> p) { a.push_back(p.grad); });
  copy.for_each_parameter([&](ParamRef<double> p) { b.push_back(p.grad); });
  REQUIRE(a.size() == b.size());
  for (std::size_t k = 0; k < a.size(); ++k) CHECK(max_abs_diff(a[k], b[k]) <= 1e-12 * scale_of(b[k]));
}

TEST_CASE("The optimizer gives the same step with and without gradient scaling copies", "[speed][optimizer]") {
  Rng rng(3);
  Matrix<float> w = Matrix<float>::Random(7, 5), g = Matrix<float>::Random(7, 5);
  Matrix<float> w1 = w, w2 = w, g1 = g, g2 = g;
  OneBlock n1{&w1, &g1}, n2{&w2, &g2};
  Optimizer<float, Adam> plain({.lr = 0.01});
  OptimizerConfig scaled_cfg{.lr = 0.01};
  scaled_cfg.grad_scale[ParamGroup::weight] = 1.0;
  scaled_cfg.clip_value = 1e9;  // forces the clipped copy, which changes nothing here
  Optimizer<float, Adam> copied(scaled_cfg);
  for (int k = 0; k < 3; ++k) {
    plain.step(n1);
    copied.step(n2);
  }
  CHECK(max_abs_diff(w1, w2) == 0.0);
  CHECK(max_abs_diff(w1, w) > 0.0);
  CHECK(g1 == g);  // the gradient itself is not modified
}

// ---- Sparse, dense, static and streaming paths of a whole network ------------------------------
namespace {

using StackNet = Sequential<Linear<float>, Lif<float>, Linear<float>, Lif<float>, Linear<float>, LeakyIntegrator<float>>;

/// Loss and every parameter gradient of one training step.
struct StepResult {
  double loss = 0;
  std::vector<Matrix<float>> grads;
};

/// The plain reference: the same layers, but every Linear as the products Y = W X + b,
/// dW = G X^T, db = G 1, dX = W^T G written out here (in double, rounded to float).
StepResult plain_step(const StackNet& net, const TimeSeries<float>& x, const Batch<float>& batch) {
  StackNet n = net;  // the LIF layers and the readout of a copy
  Rng rng(1);
  auto linear = [](const Linear<float>& l, const TimeSeries<float>& in, TimeSeries<float>& out) {
    out.resize(l.output_size(), in.batch(), in.steps());
    const Matrix<double> y = (l.weight().cast<double>() * in.values().cast<double>()).colwise() +
                             l.bias().col(0).cast<double>();
    out.values() = y.cast<float>();
  };
  std::array<TimeSeries<float>, 6> a;
  linear(n.layer<0>(), x, a[0]);
  n.layer<1>().forward(a[0], a[1], ForwardContext::train(rng));
  linear(n.layer<2>(), a[1], a[2]);
  n.layer<3>().forward(a[2], a[3], ForwardContext::train(rng));
  linear(n.layer<4>(), a[3], a[4]);
  n.layer<5>().forward(a[4], a[5], ForwardContext::train(rng));
  SumCrossEntropy loss;
  TimeSeries<float> g5;
  StepResult r;
  r.loss = double(loss.value_and_gradient(a[5], batch, g5));
  auto linear_back = [&](const Linear<float>& l, const TimeSeries<float>& in, const TimeSeries<float>& g,
                         TimeSeries<float>* gin) {
    const Matrix<double> gd = g.values().cast<double>();
    r.grads.push_back((gd * in.values().cast<double>().transpose()).cast<float>());
    r.grads.push_back(gd.rowwise().sum().cast<float>());
    if (gin) {
      gin->resize(l.input_size(), in.batch(), in.steps());
      gin->values() = (l.weight().cast<double>().transpose() * gd).cast<float>();
    }
  };
  TimeSeries<float> g4, g3, g2, g1, g0;
  n.layer<5>().backward(a[4], a[5], g5, &g4);
  linear_back(n.layer<4>(), a[3], g4, &g3);
  n.layer<3>().backward(a[2], a[3], g3, &g2);
  linear_back(n.layer<2>(), a[1], g2, &g1);
  n.layer<1>().backward(a[0], a[1], g1, &g0);
  linear_back(n.layer<0>(), x, g0, nullptr);
  // in the network's parameter order: layer 0 first
  std::swap(r.grads[0], r.grads[4]);
  std::swap(r.grads[1], r.grads[5]);
  return r;
}

StepResult network_step(StackNet& net, const TimeSeries<float>& x, const Batch<float>& batch) {
  Rng rng(1);
  net.zero_grad();
  const TimeSeries<float>& out = net.forward(x, ForwardContext::train(rng));
  SumCrossEntropy loss;
  TimeSeries<float> g;
  StepResult r;
  r.loss = double(loss.value_and_gradient(out, batch, g));
  net.backward(g);
  net.for_each_parameter([&](ParamRef<float> p) { r.grads.push_back(p.grad); });
  return r;
}

void check_same(const StepResult& a, const StepResult& b) {
  CHECK(std::abs(a.loss - b.loss) <= 1e-5 * (1.0 + std::abs(b.loss)));
  REQUIRE(a.grads.size() == b.grads.size());
  for (std::size_t k = 0; k < a.grads.size(); ++k) {
    INFO("gradient " << k);
    CHECK(max_abs_diff(a.grads[k], b.grads[k]) <= 1e-4 * scale_of(b.grads[k]));
  }
}

}  // namespace

TEST_CASE("Sparse, dense, static and streaming paths give the same loss and gradients at densities 0 to 100 %",
          "[speed][linear][static][stream]") {
  const Index in = 70, h = 48, B = 4, T = 12;
  Rng rng(21);
  StackNet base{Linear<float>(in, h, rng, {.init_scale = 3.0}), Lif<float>(h, {.beta = 0.9, .threshold = 0.5}),
                Linear<float>(h, 32, rng, {.init_scale = 3.0}), Lif<float>(32, {.beta = 0.9, .threshold = 0.5}),
                Linear<float>(32, 5, rng), LeakyIntegrator<float>(5)};
  Batch<float> batch;
  batch.labels = {0, 3, 4, 1};
  for (double density : {0.0, 0.05, 0.25, 1.0}) {
    // three inputs: spikes varying over time; one spike frame at every step (direct coding of a
    // binary image); analog values scaled per step (a static image through a filter)
    TimeSeries<float> varying(in, B, T), frame(in, B, T), scaled(in, B, T);
    test::fill_spikes(varying, rng, density);
    TimeSeries<float> one(in, B, 1);
    test::fill_spikes(one, rng, density);
    for (Index t = 0; t < T; ++t) frame.slot(t) = one.values();
    const Matrix<float> analog = one.values().cwiseProduct(Matrix<float>::Random(in, B).cwiseAbs());
    std::vector<float> factors;
    for (Index t = 0; t < T; ++t) factors.push_back(1.0f - std::pow(0.5f, float(t + 1)));
    scaled.assign_static(analog, factors);
    for (const auto* x : {&varying, &frame, &scaled}) {
      const bool is_static = x != &varying || density == 0.0 || density == 1.0;  // all 0 or all 1: static too
      batch.input = *x;
      const StepResult ref = plain_step(base, *x, batch);
      for (SparseMode mode : {SparseMode::never, SparseMode::always, SparseMode::automatic}) {
        INFO("density " << density << ", input " << (x == &varying ? "varying" : x == &frame ? "frame" : "scaled")
                        << ", sparse mode " << int(mode));
        StackNet net = base;
        net.for_each_layer([&](auto& l, std::size_t) {
          if constexpr (std::same_as<std::remove_cvref_t<decltype(l)>, Linear<float>>) l.config().sparse = mode;
        });
        const StepResult r = network_step(net, *x, batch);
        CHECK(net.layer<0>().used_static() == is_static);
        if (!is_static && mode != SparseMode::automatic) CHECK(net.layer<0>().used_sparse() == (mode == SparseMode::always));
        check_same(r, ref);
        // streaming: one step at a time from the zero state gives the same outputs and loss
        const TimeSeries<float> whole = net.forward(*x, ForwardContext::eval());
        auto st = net.make_stream_state(B);
        TimeSeries<float> streamed(5, B, T);
        for (Index t = 0; t < T; ++t) streamed.slot(t) = net.forward_step(st, x->slot(t));
        CHECK(max_abs_diff(streamed.values(), whole.values()) <= 1e-5 * scale_of(whole.values()));
        SumCrossEntropy loss;
        CHECK(std::abs(double(loss.value(streamed, batch)) - ref.loss) <= 1e-5 * (1.0 + ref.loss));
      }
    }
  }
  // the hidden layers spike (at the densest input), so the check covers the spiking paths
  StackNet net = base;
  TimeSeries<float> dense(in, B, T);
  test::fill_spikes(dense, rng, 0.25);
  net.forward(dense, ForwardContext::eval());
  CHECK(net.activation(1).values().sum() > 0);
  CHECK(net.activation(3).values().sum() > 0);
}

TEST_CASE("Sequential skips the gradients no parameter needs, and a static input passes through PspFilter",
          "[speed][static][psp]") {
  using Net = Sequential<PspFilter<float>, Linear<float>, Lif<float>, Linear<float>, LeakyIntegrator<float>>;
  const Index in = 30, B = 3, T = 10;
  Rng rng(4);
  Net net{PspFilter<float>(in, 3.0), Linear<float>(in, 20, rng, {.init_scale = 4.0}),
          Lif<float>(20, {.threshold = 0.3}), Linear<float>(20, 4, rng), LeakyIntegrator<float>(4)};
  TimeSeries<float> one(in, B, 1), x(in, B, T);
  test::fill_uniform(one, rng, 0.0, 1.0);
  for (Index t = 0; t < T; ++t) x.slot(t) = one.values();  // an image at every step
  Batch<float> batch;
  batch.labels = {1, 0, 3};
  batch.input = x;  // the loss takes each sample's length from the input
  SumCrossEntropy loss;
  net.zero_grad();
  const TimeSeries<float>& out = net.forward(x, ForwardContext::train(rng));
  CHECK(net.layer<1>().used_static());  // the filtered image is a multiple of the image at every step
  CHECK(net.activation(2).values().sum() > 0);
  TimeSeries<float> g;
  const double l1 = double(loss.value_and_gradient(out, batch, g));
  net.backward(g);  // no input gradient asked: PspFilter's backward is skipped
  std::vector<Matrix<float>> g1, g2;
  net.for_each_parameter([&](ParamRef<float> p) { g1.push_back(p.grad); });
  CHECK(g1.front().cwiseAbs().sum() > 0);  // the first weighted layer gets a gradient
  // the same network on the filter's output as a plain (non-static) series, layer by layer
  PspFilter<float> psp(in, 3.0);
  auto st = psp.make_state(B);
  TimeSeries<float> filtered(in, B, T);
  for (Index t = 0; t < T; ++t) {
    psp.step(st, x.slot(t));
    filtered.slot(t) = psp.output(st);
  }
  CHECK(max_abs_diff(filtered.values(), net.activation(0).values()) <= 1e-6);
  CHECK_FALSE(filtered.static_steps().has_value());
  using Rest = Sequential<Linear<float>, Lif<float>, Linear<float>, LeakyIntegrator<float>>;
  Rest rest{net.layer<1>(), net.layer<2>(), net.layer<3>(), net.layer<4>()};
  rest.zero_grad();
  const TimeSeries<float>& out2 = rest.forward(filtered, ForwardContext::train(rng));
  CHECK_FALSE(rest.layer<0>().used_static());
  TimeSeries<float> g2o;
  const double l2 = double(loss.value_and_gradient(out2, batch, g2o));
  TimeSeries<float> gx;
  rest.backward(g2o, &gx);
  rest.for_each_parameter([&](ParamRef<float> p) { g2.push_back(p.grad); });
  CHECK(std::abs(l1 - l2) <= 1e-5 * (1 + l2));
  REQUIRE(g1.size() == g2.size());
  for (std::size_t k = 0; k < g1.size(); ++k) CHECK(max_abs_diff(g1[k], g2[k]) <= 1e-4 * scale_of(g2[k]));
  // asking for the input gradient runs every layer again, with the same parameter gradients
  net.zero_grad();
  net.forward(x, ForwardContext::train(rng));
  TimeSeries<float> gin;
  net.backward(g, &gin);
  CHECK(gin.features() == in);
  CHECK(gin.values().cwiseAbs().sum() > 0);
  std::size_t k = 0;
  net.for_each_parameter([&](ParamRef<float> p) { CHECK(max_abs_diff(Matrix<float>(p.grad), g1[k++]) == 0.0); });
  // and the network streams step by step through the filter's state
  auto ss = net.make_stream_state(B);
  const TimeSeries<float> whole = net.forward(x, ForwardContext::eval());
  for (Index t = 0; t < T; ++t) {
    const Matrix<float>& y = net.forward_step(ss, x.slot(t));
    CHECK(max_abs_diff(y, Matrix<float>(whole.slot(t))) <= 1e-5 * scale_of(Matrix<float>(whole.values())));
  }
}
