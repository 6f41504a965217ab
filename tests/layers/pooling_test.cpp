// Pooling (avg, max, sum), Flatten: hand-computed cases, spike semantics, exact gradients.
#include "support/layers_support.hpp"

using namespace spikelab;

namespace {

// One 1x4x4 map per column:  1  2  3  4 / 5  6  7  8 / 9 10 11 12 / 13 14 15 16 (column 0),
// and its negation (column 1).
TimeSeries<double> ramp() {
  TimeSeries<double> x(16, 2, 1);
  for (Index f = 0; f < 16; ++f) {
    x(f, 0, 0) = double(f + 1);
    x(f, 1, 0) = -double(f + 1);
  }
  return x;
}

template <class Pool>
Matrix<double> run(Pool pool, const TimeSeries<double>& x) {
  TimeSeries<double> y;
  pool.forward(x, y, ForwardContext::eval());
  return y.values();
}

}  // namespace

TEST_CASE("Pooling computes hand-worked 2x2 examples", "[pooling]") {
  const TimeSeries<double> x = ramp();
  const Matrix<double> avg = run(AvgPool2d<double>({1, 4, 4}, {.kernel = 2}), x);
  const Matrix<double> mx = run(MaxPool2d<double>({1, 4, 4}, {.kernel = 2}), x);
  const Matrix<double> sum = run(SumPool2d<double>({1, 4, 4}, {.kernel = 2}), x);
  REQUIRE(avg.rows() == 4);
  CHECK(avg(0, 0) == 3.5);  // (1+2+5+6)/4
  CHECK(avg(1, 0) == 5.5);
  CHECK(avg(2, 0) == 11.5);
  CHECK(avg(3, 0) == 13.5);
  CHECK(sum(3, 0) == 54.0);  // 11+12+15+16
  CHECK(mx(0, 0) == 6.0);
  CHECK(mx(3, 0) == 16.0);
  CHECK(mx(0, 1) == -1.0);  // the largest of the negated window
  CHECK(mx(3, 1) == -11.0);
}

TEST_CASE("Pooling with stride and padding matches the window definition", "[pooling]") {
  const TimeSeries<double> x = ramp();
  // 3x3 windows, stride 2, padding 1 -> 2x2 output; windows centred on (0,0),(0,2),(2,0),(2,2)
  const Matrix<double> avg = run(AvgPool2d<double>({1, 4, 4}, {.kernel = 3, .stride = 2, .padding = 1}), x);
  const Matrix<double> mx = run(MaxPool2d<double>({1, 4, 4}, {.kernel = 3, .stride = 2, .padding = 1}), x);
  REQUIRE(avg.rows() == 4);
  CHECK(avg(0, 0) == Approx((1 + 2 + 5 + 6) / 9.0));  // padding counts as zeros, divide by k^2
  CHECK(avg(1, 0) == Approx((2 + 3 + 4 + 6 + 7 + 8) / 9.0));
  CHECK(avg(3, 0) == Approx((6 + 7 + 8 + 10 + 11 + 12 + 14 + 15 + 16) / 9.0));
  CHECK(mx(0, 1) == -1.0);  // padding never wins a max, even over negative values
  CHECK(mx(3, 0) == 16.0);
  // overlapping windows, stride 1: 3x3 output of 2x2 sums
  const Matrix<double> s1 = run(SumPool2d<double>({1, 4, 4}, {.kernel = 2, .stride = 1}), x);
  REQUIRE(s1.rows() == 9);
  CHECK(s1(4, 0) == 6 + 7 + 10 + 11);
  // fixed pooling weight (neighborhood aggregation's 1.1)
  const Matrix<double> sw = run(SumPool2d<double>({1, 4, 4}, {.kernel = 2, .scale = 1.1}), x);
  CHECK(sw(0, 0) == Approx(1.1 * 14));
}

TEST_CASE("Sum pooling counts spikes and max pooling is a logical OR", "[pooling]") {
  Rng rng(3);
  TimeSeries<float> s(2 * 6 * 6, 4, 7), count, any;
  test::fill_spikes(s, rng, 0.2);
  SumPool2d<float> sum({2, 6, 6}, {.kernel = 3});
  MaxPool2d<float> mx({2, 6, 6}, {.kernel = 3});
  sum.forward(s, count, ForwardContext::eval());
  mx.forward(s, any, ForwardContext::train(rng));
  const ImageShape in{2, 6, 6};
  for (Index n = 0; n < s.columns(); ++n)
    for (Index c = 0; c < 2; ++c)
      for (Index u = 0; u < 2; ++u)
        for (Index v = 0; v < 2; ++v) {
          float k = 0;
          for (Index a = 0; a < 3; ++a)
            for (Index b = 0; b < 3; ++b) k += s.values()(in.index(c, 3 * u + a, 3 * v + b), n);
          const Index o = (c * 2 + u) * 2 + v;
          CHECK(count.values()(o, n) == k);
          CHECK(any.values()(o, n) == (k > 0 ? 1.0f : 0.0f));
        }
}

TEST_CASE("BPTT through every pooling mode is exact", "[pooling][gradient]") {
  const PoolConfig configs[] = {{.kernel = 2}, {.kernel = 3, .stride = 2, .padding = 1}, {.kernel = 2, .stride = 1}};
  Rng rng(17);
  for (const PoolConfig& pc : configs) {
    Conv2d<double> conv({2, 6, 6}, 3, rng, {.kernel = 3, .padding = 1});
    const ImageShape cs = conv.output_shape();
    auto check = [&](auto pool) {
      using P = decltype(pool);
      const Index h = pool.output_size();
      Conv2d<double> c = conv;
      Sequential<Conv2d<double>, test::TwinLif, P, Linear<double>, test::Readout> net{
          std::move(c), test::twin_lif(cs.size()), std::move(pool), Linear<double>(h, 3, rng), test::readout(3)};
      test::require_exact_gradients(net, test::random_batch(rng, 72, 2, 5, 3));
    };
    check(AvgPool2d<double>(cs, pc));
    check(SumPool2d<double>(cs, pc));
    check(MaxPool2d<double>(cs, pc));
  }
}

TEST_CASE("Image layers compose with every neuron model (exact BPTT)", "[pooling][gradient]") {
  // conv -> recurrent LIF with a trained synaptic current -> avg pool -> conv -> leaky integrator
  // (a non-spiking conv readout) -> flatten -> linear -> readout
  using Rec = LifType<double, SmoothTwin<Sigmoid>, ZeroReset,
                      LifOptions{.threshold = Train::per_neuron, .alpha = Train::per_layer, .recurrent = true}>;
  Rng rng(23);
  Conv2d<double> c1({2, 6, 6}, 2, rng, {.kernel = 3, .padding = 1});
  AvgPool2d<double> p1(c1.output_shape(), {.kernel = 2});
  Conv2d<double> c2(p1.output_shape(), 2, rng, {.kernel = 2});
  const ImageShape s2 = c2.output_shape();
  const Index n1 = c1.output_size();
  Sequential<Conv2d<double>, Rec, AvgPool2d<double>, Conv2d<double>, test::Readout, Flatten<double>, Linear<double>,
             test::Readout>
      net{std::move(c1), Rec(n1, rng, {.beta = 0.85, .alpha = 0.5, .threshold = 0.4}, {{2.0}}), std::move(p1),
          std::move(c2), test::readout(s2.size()), Flatten<double>(s2), Linear<double>(s2.size(), 3, rng),
          test::readout(3)};
  test::require_exact_gradients(net, test::random_batch(rng, 72, 2, 6, 3));

  // conv (stride 2, padding 1) -> batch norm -> non-resetting LIF with a trained per-neuron decay -> max pool
  // -> dropout (fixed mask over time) -> flatten -> linear -> readout with a trained per-neuron decay
  using Leaky = LifType<double, SmoothTwin<Sigmoid>, NoReset, LifOptions{.beta = Train::per_neuron}>;
  using LeakyReadout = LeakyIntegratorType<double, Train::per_neuron>;
  Conv2d<double> c3({2, 7, 7}, 3, rng, {.kernel = 3, .stride = 2, .padding = 1, .bias = false});
  const ImageShape s3 = c3.output_shape();
  MaxPool2d<double> p3(s3, {.kernel = 2});
  const ImageShape s4 = p3.output_shape();
  Sequential<Conv2d<double>, BatchNorm<double>, Leaky, MaxPool2d<double>, Dropout<double>, Flatten<double>,
             Linear<double>, LeakyReadout>
      net2{std::move(c3),
           BatchNorm<double>(s3),
           Leaky(s3.size(), {.beta = 0.7, .threshold = 0.5}, {{2.0}}),
           std::move(p3),
           Dropout<double>(s4.size(), {.p = 0.3}),
           Flatten<double>(s4),
           Linear<double>(s4.size(), 3, rng),
           LeakyReadout(3, {.beta = 0.8})};
  test::require_exact_gradients(net2, test::random_batch(rng, 98, 3, 6, 3));
  static_assert(Layer<Conv2d<float>> && ParametricLayer<Conv2d<float>>);
  static_assert(Layer<MaxPool2d<float>> && Layer<AvgPool2d<double>> && Layer<SumPool2d<float>>);
  static_assert(Layer<Flatten<float>> && Layer<Dropout<float>>);
  static_assert(ParametricLayer<BatchNorm<float>> && ParametricLayer<TemporalConv<double>>);
}

TEST_CASE("Max pooling routes the gradient to the first maximum only", "[pooling]") {
  TimeSeries<double> x(4, 1, 1), y, g(1, 1, 1), gx;
  x.values() << 0.5, 2.0, 2.0, -1.0;  // a tie: the first 2.0 (feature 1) wins
  MaxPool2d<double> mx({1, 2, 2}, {.kernel = 2});
  Rng rng(1);
  mx.forward(x, y, ForwardContext::train(rng));
  g.values()(0, 0) = 3.0;
  mx.backward(x, y, g, &gx);
  CHECK(gx.values()(0, 0) == 0.0);
  CHECK(gx.values()(1, 0) == 3.0);
  CHECK(gx.values()(2, 0) == 0.0);
  CHECK(gx.values()(3, 0) == 0.0);
  // the layer keeps no state: backward after an evaluation pass routes the same way
  MaxPool2d<double> fresh({1, 2, 2}, {.kernel = 2});
  TimeSeries<double> gx2;
  fresh.forward(x, y, ForwardContext::eval());
  fresh.backward(x, y, g, &gx2);
  CHECK(gx2.values() == gx.values());
  // with padding, the padded border never receives gradient
  MaxPool2d<double> padded({1, 2, 2}, {.kernel = 2, .stride = 1, .padding = 1});  // 3x3 outputs
  TimeSeries<double> yp, gp(9, 1, 1), gxp;
  padded.forward(x, yp, ForwardContext::eval());
  gp.values().setOnes();
  padded.backward(x, yp, gp, &gxp);
  CHECK(gxp.values().sum() == 9.0);  // every output's gradient lands on one input
  // windows (clipped to the map): 0.5 wins only its corner; the first 2.0 (0,1) wins the four
  // windows holding it, including the tie in the centre; the second 2.0 (1,0) its other three;
  // -1.0 only the corner window holding nothing else
  CHECK(gxp.values()(0, 0) == 1.0);
  CHECK(gxp.values()(1, 0) == 4.0);
  CHECK(gxp.values()(2, 0) == 3.0);
  CHECK(gxp.values()(3, 0) == 1.0);
}

TEST_CASE("Pooling rejects bad windows", "[pooling][errors]") {
  CHECK_THROWS_AS(AvgPool2d<float>({1, 4, 4}, {.kernel = 0}), ConfigError);
  CHECK_THROWS_AS(AvgPool2d<float>({1, 4, 4}, {.kernel = 2, .padding = 2}), ConfigError);
  CHECK_THROWS_AS(MaxPool2d<float>({1, 4, 4}, {.kernel = 5}), ConfigError);
  CHECK_THROWS_AS(SumPool2d<float>({1, 4, 4}, {.kernel = 2, .stride = -1}), ConfigError);
  AvgPool2d<float> p({2, 4, 4});
  TimeSeries<float> x(16, 1, 1), y;
  CHECK_THROWS_WITH(p.forward(x, y, ForwardContext::eval()), Catch::Contains("AvgPool2d") && Catch::Contains("2x4x4"));
}

TEST_CASE("Flatten is the identity on the feature layout", "[flatten]") {
  Rng rng(2);
  Flatten<double> fl({3, 2, 5});
  CHECK(fl.input_size() == 30);
  CHECK(fl.output_size() == 30);
  TimeSeries<double> x(30, 2, 3), y, g(30, 2, 3), gx;
  test::fill_uniform(x, rng, -1, 1);
  test::fill_uniform(g, rng, -1, 1);
  fl.forward(x, y, ForwardContext::eval());
  CHECK(y.values() == x.values());
  CHECK(y.same_shape(x));
  fl.backward(x, y, g, &gx);
  CHECK(gx.values() == g.values());
  // the layout convention: feature (c*H + y)*W + x
  CHECK(ImageShape{3, 2, 5}.index(2, 1, 4) == 29);
  CHECK(ImageShape{3, 2, 5}.index(1, 0, 2) == 12);
  TimeSeries<double> bad(29, 1, 1);
  CHECK_THROWS_AS(fl.forward(bad, y, ForwardContext::eval()), ShapeError);
}
