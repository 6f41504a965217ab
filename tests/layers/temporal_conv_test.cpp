// TemporalConv: the causal dilated sum written out, causality, groups, exact gradients for
// kernel/dilation/group variants, hSNN's kernel/dilation hierarchy, errors.
#include "support/layers_support.hpp"

using namespace spikelab;

namespace {

struct Variant {
  Index in, out, kernel, dilation, groups;
};
const Variant kVariants[] = {
    {4, 5, 1, 1, 1},  // a plain per-step projection
    {4, 5, 3, 1, 1},  // K = 3
    {4, 6, 3, 4, 1},  // dilated
    {4, 6, 2, 3, 2},  // two groups
    {5, 5, 4, 2, 5},  // depthwise: one filter per channel
    {3, 2, 6, 5, 1},  // receptive field (26) longer than the sequence
};

Matrix<double> direct(const TemporalConv<double>& tc, const TimeSeries<double>& x) {
  const Index B = x.batch(), T = x.steps();
  Matrix<double> y(tc.output_size(), x.columns());
  for (Index t = 0; t < T; ++t)
    for (Index b = 0; b < B; ++b)
      for (Index o = 0; o < tc.output_size(); ++o) {
        double acc = tc.config().bias ? tc.bias()(o, 0) : 0.0;
        for (Index k = 0; k < tc.kernel(); ++k) {
          const Index ts = t - k * tc.dilation();
          if (ts < 0) continue;
          for (Index i = 0; i < tc.input_size(); ++i) acc += tc.tap(o, i, k) * x(i, b, ts);
        }
        y(o, t * B + b) = acc;
      }
  return y;
}

}  // namespace

TEST_CASE("TemporalConv computes y_t = b + sum_k W_k x_(t - kD)", "[temporal_conv]") {
  Rng rng(1);
  for (const Variant& v : kVariants)
    for (bool bias : {true, false}) {
      TemporalConv<double> tc(v.in, v.out, rng,
                              {.kernel = v.kernel, .dilation = v.dilation, .groups = v.groups, .bias = bias});
      TimeSeries<double> x(v.in, 3, 11), y;
      test::fill_uniform(x, rng, -1, 1);
      tc.forward(x, y, ForwardContext::eval());
      INFO(tc.signature());
      CHECK((y.values() - direct(tc, x)).cwiseAbs().maxCoeff() < 1e-12);
      CHECK(tc.receptive_field() == (v.kernel - 1) * v.dilation + 1);
    }
  // float agrees with double
  TemporalConv<float> tf(4, 6, rng, {.kernel = 3, .dilation = 2, .groups = 2});
  TemporalConv<double> td(4, 6, rng, {.kernel = 3, .dilation = 2, .groups = 2});
  td.weight() = tf.weight().cast<double>();
  td.bias() = tf.bias().cast<double>();
  TimeSeries<float> xf(4, 2, 9), yf;
  test::fill_uniform(xf, rng, -1, 1);
  TimeSeries<double> xd(4, 2, 9), yd;
  xd.values() = xf.values().cast<double>();
  tf.forward(xf, yf, ForwardContext::eval());
  td.forward(xd, yd, ForwardContext::eval());
  CHECK((yf.values().cast<double>() - yd.values()).cwiseAbs().maxCoeff() < 1e-5);
}

TEST_CASE("TemporalConv is causal and delays by exactly k*D steps", "[temporal_conv]") {
  Rng rng(2);
  TemporalConv<double> tc(1, 1, rng, {.kernel = 3, .dilation = 4, .bias = false});
  tc.weight() << 1.0, 10.0, 100.0;  // taps at lags 0, 4, 8
  TimeSeries<double> x(1, 2, 12), y;
  x.set_zero();
  x(0, 1, 2) = 1.0;  // one impulse, sample 1, step 2
  tc.forward(x, y, ForwardContext::eval());
  for (Index t = 0; t < 12; ++t) {
    CHECK(y(0, 0, t) == 0.0);  // the other sample is untouched
    const double expect = t == 2 ? 1.0 : t == 6 ? 10.0 : t == 10 ? 100.0 : 0.0;
    CHECK(y(0, 1, t) == expect);
  }
  // perturbing step t never changes outputs before t
  TemporalConv<double> wide(3, 4, rng, {.kernel = 4, .dilation = 2});
  TimeSeries<double> a(3, 2, 10), ya, yb;
  test::fill_uniform(a, rng, -1, 1);
  wide.forward(a, ya, ForwardContext::eval());
  a(1, 0, 6) += 5.0;
  wide.forward(a, yb, ForwardContext::eval());
  CHECK(ya.values().leftCols(6 * 2) == yb.values().leftCols(6 * 2));
  CHECK(ya.values().col(6 * 2) != yb.values().col(6 * 2));
}

TEST_CASE("BPTT through TemporalConv is exact for kernel, dilation and group variants", "[temporal_conv][gradient]") {
  Rng rng(13);
  for (const Variant& v : kVariants) {
    TemporalConv<double> tc(v.in, v.out, rng, {.kernel = v.kernel, .dilation = v.dilation, .groups = v.groups});
    Sequential<TemporalConv<double>, test::TwinLif, Linear<double>, test::Readout> net{
        std::move(tc), test::twin_lif(v.out), Linear<double>(v.out, 3, rng), test::readout(3)};
    test::require_exact_gradients(net, test::random_batch(rng, v.in, 3, 12, 3));
  }
}

TEST_CASE("A temporal-conv SNN with a kernel/dilation hierarchy has exact gradients", "[temporal_conv][gradient]") {
  // hSNN's temporal-conv SNN: input -> [TemporalConv -> LIF] x 2 -> Linear -> leaky readout
  const TemporalHierarchy h = temporal_conv_hierarchy(2, 5, 3, 5, 2);
  Rng rng(14);
  using TC = TemporalConv<double>;
  Sequential<TC, test::TwinLif, TC, test::TwinLif, Linear<double>, test::Readout> net{
      TC(6, 5, rng, {.kernel = h.kernels[0], .dilation = h.dilations[0]}), test::twin_lif(5),
      TC(5, 4, rng, {.kernel = h.kernels[1], .dilation = h.dilations[1]}), test::twin_lif(4), Linear<double>(4, 3, rng),
      test::readout(3)};
  CHECK(net.layer<0>().receptive_field() == 9);
  CHECK(net.layer<2>().receptive_field() == 31);
  test::require_exact_gradients(net, test::random_batch(rng, 6, 2, 40, 3));
}

TEST_CASE("temporal_conv_hierarchy reproduces hSNN's kernel and dilation schedules", "[temporal_conv]") {
  const TemporalHierarchy h = temporal_conv_hierarchy(2, 5, 3, 5, 2);  // K 5, dK 3, D 5, dD 2, 2 hidden layers
  CHECK(h.kernels == std::vector<Index>{3, 6});
  CHECK(h.dilations == std::vector<Index>{4, 6});
  const TemporalHierarchy flat = temporal_conv_hierarchy(3, 5, 0, 5, 0);
  CHECK(flat.kernels == std::vector<Index>{5, 5, 5});
  CHECK(flat.dilations == std::vector<Index>{5, 5, 5});
  const TemporalHierarchy inv = temporal_conv_hierarchy(3, 5, -4, 5, -3);  // inverted: long near the input
  CHECK(inv.kernels == std::vector<Index>{7, 5, 3});
  CHECK(inv.dilations == std::vector<Index>{6, 5, 3});
  const TemporalHierarchy one = temporal_conv_hierarchy(1, 5, 2, 3, 2);
  CHECK(one.kernels == std::vector<Index>{4});
  CHECK(one.dilations == std::vector<Index>{3});
  const TemporalHierarchy clip = temporal_conv_hierarchy(2, 1, 4, 1, 6);  // K - dK/2 < 1, D - dD/2 < 0
  CHECK(clip.kernels == std::vector<Index>{1, 3});
  CHECK(clip.dilations == std::vector<Index>{1, 4});
  CHECK_THROWS_AS(temporal_conv_hierarchy(0, 5, 0, 5, 0), ConfigError);
}

TEST_CASE("TemporalConv rejects bad configurations", "[temporal_conv][errors]") {
  Rng rng(1);
  CHECK_THROWS_AS(TemporalConv<float>(4, 6, rng, {.kernel = 0}), ConfigError);
  CHECK_THROWS_AS(TemporalConv<float>(4, 6, rng, {.dilation = 0}), ConfigError);
  CHECK_THROWS_AS(TemporalConv<float>(4, 6, rng, {.groups = 3}), ConfigError);
  CHECK_THROWS_AS(TemporalConv<float>(0, 6, rng), ConfigError);
  TemporalConv<float> tc(4, 6, rng, {.kernel = 2});
  TimeSeries<float> x(5, 1, 3), y;
  CHECK_THROWS_WITH(tc.forward(x, y, ForwardContext::eval()), Catch::Contains("TemporalConv(4,6,K2"));
}
