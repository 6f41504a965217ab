// Linear: the dense product and the sparse accumulation give the same numbers.
#include <spikelab/layers/linear.hpp>

#include "support/test_support.hpp"

using namespace spikelab;

namespace {
template <class S>
void compare_paths(const TimeSeries<S>& x, double tol) {
  Rng rng(2);
  Linear<S> dense(x.features(), 37, rng, {.sparse = SparseMode::never});
  Linear<S> sparse = dense;
  sparse.config().sparse = SparseMode::always;
  TimeSeries<S> yd, ys, g, gid, gis;
  Rng r(1);
  dense.forward(x, yd, ForwardContext::train(r));
  sparse.forward(x, ys, ForwardContext::train(r));
  REQUIRE_FALSE(dense.used_sparse());
  REQUIRE(sparse.used_sparse());
  CHECK((yd.values() - ys.values()).cwiseAbs().maxCoeff() <= tol * (1 + yd.values().cwiseAbs().maxCoeff()));
  g.resize(37, x.batch(), x.steps());
  test::fill_uniform(g, r, -1, 1);
  dense.zero_grad();
  sparse.zero_grad();
  dense.backward(x, yd, g, &gid);
  sparse.backward(x, ys, g, &gis);
  CHECK((dense.weight_grad() - sparse.weight_grad()).cwiseAbs().maxCoeff() <=
        tol * (1 + dense.weight_grad().cwiseAbs().maxCoeff()));
  CHECK((dense.bias_grad() - sparse.bias_grad()).cwiseAbs().maxCoeff() <= tol * (1 + dense.bias_grad().norm()));
  CHECK((gid.values() - gis.values()).cwiseAbs().maxCoeff() <= tol);
}
}  // namespace

TEMPLATE_TEST_CASE("Sparse and dense accumulation agree on binary spikes", "[linear][sparse]", float, double) {
  Rng rng(7);
  TimeSeries<TestType> x(53, 5, 21);
  test::fill_spikes(x, rng, 0.05);
  compare_paths(x, std::is_same_v<TestType, float> ? 1e-5 : 1e-12);
}

TEMPLATE_TEST_CASE("Sparse and dense accumulation agree on sparse real values", "[linear][sparse]", float, double) {
  Rng rng(8);
  TimeSeries<TestType> x(40, 3, 17);
  for (Index k = 0; k < x.values().size(); ++k)
    x.values().data()[k] = rng.uniform() < 0.1 ? TestType(rng.normal()) : TestType(0);
  compare_paths(x, std::is_same_v<TestType, float> ? 1e-5 : 1e-12);
}

TEST_CASE("Automatic mode picks the sparse path for sparse spikes and the product for dense input", "[linear][sparse]") {
  Rng rng(1);
  Linear<float> lin(100, 10, rng);
  TimeSeries<float> x(100, 8, 20), y;
  test::fill_spikes(x, rng, 0.03);
  lin.forward(x, y, ForwardContext::eval());
  CHECK(lin.used_sparse());
  test::fill_uniform(x, rng, -1, 1);
  lin.forward(x, y, ForwardContext::eval());
  CHECK_FALSE(lin.used_sparse());
}

TEST_CASE("Linear computes W x + b for every step and column", "[linear]") {
  Rng rng(3);
  Linear<double> lin(3, 2, rng);
  lin.weight() << 1, 2, 3, 4, 5, 6;
  lin.bias() << 0.5, -1;
  TimeSeries<double> x(3, 2, 2), y;
  x.values().col(0) << 1, 0, 0;
  x.values().col(1) << 1, 0, 1;
  x.values().col(2) << 0, 0, 1;
  x.values().col(3) << 1, 1, 1;
  lin.forward(x, y, ForwardContext::eval());
  CHECK(y(0, 0, 0) == 1.5);   // column 0: x = (1,0,0)
  CHECK(y(1, 1, 1) == 14.0);  // column 3: x = (1,1,1): 4+5+6-1
  Linear<double> nob(3, 2, rng, {.bias = false});
  CHECK(nob.signature() == "Linear(3,2)");
  CHECK(lin.signature() == "Linear(3,2,bias)");
  TimeSeries<double> bad(4, 2, 2);
  CHECK_THROWS_AS(lin.forward(bad, y, ForwardContext::eval()), ShapeError);
}

TEST_CASE("Weight initialisers follow their distributions", "[linear][init]") {
  Rng rng(11);
  Linear<double> u(400, 300, rng);
  const double bound = 1.0 / std::sqrt(400.0);
  CHECK(u.weight().maxCoeff() <= bound);
  CHECK(u.weight().minCoeff() >= -bound);
  CHECK(u.weight().array().square().mean() == Approx(bound * bound / 3).epsilon(0.03));
  Linear<double> k(400, 300, rng, {.init = Init::kaiming_normal});
  CHECK(k.weight().array().square().mean() == Approx(2.0 / 400).epsilon(0.03));
  CHECK(k.bias().isZero());
}
