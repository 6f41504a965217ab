// Core types: TimeSeries layout, Rng, NeuronParameter, errors.
#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/neurons/neuron_parameter.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <set>
#include <vector>

using namespace spikelab;

TEST_CASE("TimeSeries puts step t in the contiguous column block t*B to (t+1)*B - 1", "[core][time_series]") {
  TimeSeries<float> x(3, 2, 4);
  REQUIRE(x.features() == 3);
  REQUIRE(x.batch() == 2);
  REQUIRE(x.steps() == 4);
  REQUIRE(x.values().cols() == 8);
  x(1, 1, 2) = 7.0f;  // feature 1, sample 1, step 2 -> column 2*2+1 = 5
  CHECK(x.values()(1, 5) == 7.0f);
  CHECK(x.slot(2)(1, 1) == 7.0f);
  CHECK(x.data() + 5 * 3 + 1 == &x(1, 1, 2));
  // the whole series is one matrix: a projection of all steps is one product
  Matrix<float> w = Matrix<float>::Ones(2, 3);
  Matrix<float> y = w * x.values();
  CHECK(y.cols() == 8);
  CHECK_THROWS_AS(x.resize(-1, 1, 1), ShapeError);
}

TEST_CASE("TimeSeries finds static steps from the data or from checked factors", "[core][time_series][static]") {
  TimeSeries<float> x(3, 2, 4);
  for (Index t = 0; t < 4; ++t) x.slot(t) = Matrix<float>::Constant(3, 2, 0.5f) + Matrix<float>::Identity(3, 2);
  auto st = x.static_steps();
  REQUIRE(st.has_value());  // every step equal: found from the data, factor 1
  CHECK(st->unit);
  CHECK(st->base == x.data());
  CHECK(st->factor(3) == 1.0f);
  x(2, 1, 3) = 0.25f;  // the last value of the last step differs
  CHECK_FALSE(x.static_steps().has_value());
  // recorded factors, checked against the values
  const Matrix<float> base = Matrix<float>::Random(3, 2);
  const std::vector<float> scale{0.5f, 0.75f, 0.875f, 1.0f};
  x.assign_static(base, scale);
  CHECK(x.slot(1) == Matrix<float>(0.75f * base));
  st = x.static_steps();
  REQUIRE(st.has_value());
  CHECK_FALSE(st->unit);
  CHECK(st->factor(0) == 0.5f);
  CHECK(Eigen::Map<const Matrix<float>>(st->base, 3, 2) == base);
  const TimeSeries<float> copy = x;  // a copy carries the factors
  CHECK(copy.static_steps().has_value());
  x(0, 0, 2) += 1.0f;  // changed after assign_static: no longer taken for static
  CHECK_FALSE(x.static_steps().has_value());
  x.assign_static(base, scale);
  x.resize(3, 2, 4);  // resizing forgets the factors (the values are left as they were)
  CHECK_FALSE(x.static_steps().has_value());
  // one step is never static; wrong shapes are refused
  TimeSeries<float> one(3, 2, 1);
  one.set_zero();
  CHECK_FALSE(one.static_steps().has_value());
  CHECK_THROWS_AS(x.assign_static(base, std::vector<float>{1.0f}), ShapeError);
  CHECK_THROWS_AS(x.assign_static(Matrix<float>::Zero(2, 2), scale), ShapeError);
}

TEST_CASE("Rng is deterministic per seed and its distributions have the right moments", "[core][rng]") {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 10; ++i) REQUIRE(a() == b());
  CHECK(a() != c());
  Rng r(7);
  double s = 0, s2 = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    const double v = r.normal();
    s += v;
    s2 += v * v;
  }
  CHECK(std::abs(s / n) < 0.01);
  CHECK(std::abs(s2 / n - 1.0) < 0.02);
  double u = 0;
  for (int i = 0; i < n; ++i) u += r.uniform();
  CHECK(std::abs(u / n - 0.5) < 0.005);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 1000; ++i) {
    const auto k = r.below(10);
    REQUIRE(k < 10);
    seen.insert(k);
  }
  CHECK(seen.size() == 10);
  // forks are reproducible and differ by stream
  CHECK(Rng(5).fork(1)() == Rng(5).fork(1)());
  CHECK(Rng(5).fork(1)() != Rng(5).fork(2)());
}

TEST_CASE("NeuronParameter broadcasts a per-layer value and sums its gradient", "[core][parameter]") {
  NeuronParameter<double> p(Train::per_layer, 4, 0.5, 0.0, 1.0);
  CHECK(p.raw().size() == 1);
  CHECK(p.values().size() == 4);
  CHECK(p.values()[3] == 0.5);
  Vector<double> g(4);
  g << 1, 2, 3, 4;
  p.add_grad(g);
  CHECK(p.grad()(0, 0) == 10.0);
  NeuronParameter<double> q(Train::per_neuron, 4, 0.5, 0.0, 1.0);
  q.add_grad(g);
  CHECK(q.grad()(2, 0) == 3.0);
  CHECK_THROWS_AS(q.set(1.5), ConfigError);
  CHECK_THROWS_AS(NeuronParameter<double>(Train::fixed, 3, 2.0, 0.0, 1.0), ConfigError);
  Vector<double> het(4);
  het << 0.1, 0.2, 0.3, 0.4;
  NeuronParameter<double> f(Train::fixed, 4, 0.5, 0.0, 1.0);
  f.set(het);  // a fixed parameter may be heterogeneous
  CHECK(f.values()[2] == Approx(0.3));
  CHECK_THROWS_AS(p.set(het), ConfigError);  // but a per-layer one may not
  int visited = 0;
  f.visit([&](auto) { ++visited; }, "x", ParamGroup::other);
  CHECK(visited == 0);
}

TEST_CASE("File errors name the file and the byte offset", "[core][errors]") {
  FormatError e("data/x.bin", 1234, "truncated record");
  const std::string m = e.what();
  CHECK(m.find("data/x.bin") != std::string::npos);
  CHECK(m.find("1234") != std::string::npos);
  CHECK(e.offset() == 1234);
}
