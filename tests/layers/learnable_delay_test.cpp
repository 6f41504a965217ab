// LearnableDelay (DCLS): the interpolated sum written out, the sigma -> 0 limit as a pure shift
// and as round_delays(), exact gradients for input, weights, positions and sigma; IntegerDelay:
// streaming equals forward; checkpoints; errors naming the layer; the sigma schedule.
#include "support/layers_support.hpp"

#include <cereal/archives/json.hpp>

#include <cmath>
#include <sstream>

using namespace spikelab;

namespace {

// n_d of the file comment straight from the definition (no shift, no window trimming)
double interpolation(DelayKernel k, double d, double p, double sigma, Index max_delay) {
  auto g = [&](double e) {
    const double z = (e - p) / sigma;
    return k == DelayKernel::gaussian ? std::exp(-0.5 * z * z) : std::max(0.0, 1.0 - std::abs(z));
  };
  double sum = 0;
  for (Index e = 0; e <= max_delay; ++e) sum += g(double(e));
  return g(d) / sum;
}

Matrix<double> direct(const LearnableDelay<double>& l, const TimeSeries<double>& x) {
  const Index B = x.batch(), T = x.steps(), D = l.max_delay();
  Matrix<double> y(l.output_size(), x.columns());
  for (Index t = 0; t < T; ++t)
    for (Index b = 0; b < B; ++b)
      for (Index o = 0; o < l.output_size(); ++o) {
        double acc = l.config().bias ? l.bias()(o, 0) : 0.0;
        for (Index i = 0; i < l.input_size(); ++i)
          for (Index d = 0; d <= D && d <= t; ++d)
            acc += l.weight()(o, i) * interpolation(l.config().kernel, double(d), l.delay(o, i), l.sigma(), D) *
                   x(i, b, t - d);
        y(o, t * B + b) = acc;
      }
  return y;
}

struct Variant {
  Index in, out, max_delay;
  DelayKernel kernel;
  double sigma;
  bool per_channel, bias, train_sigma;
};
const Variant kVariants[] = {
    {3, 4, 6, DelayKernel::gaussian, 2.5, false, false, false},
    {3, 4, 6, DelayKernel::gaussian, 0.7, false, true, true},  // narrow: few taps carry the kernel
    {4, 3, 5, DelayKernel::gaussian, 1.5, true, false, true},   // one delay per input channel
    {3, 4, 7, DelayKernel::triangle, 1.6, false, false, true},
    {2, 3, 16, DelayKernel::gaussian, 4.0, false, false, false},  // window longer than the sequence
};

LearnableDelay<double> make(const Variant& v, Rng& rng) {
  return LearnableDelay<double>(v.in, v.out, rng,
                                {.max_delay = v.max_delay, .kernel = v.kernel, .sigma = v.sigma,
                                 .per_channel = v.per_channel, .train_sigma = v.train_sigma, .bias = v.bias});
}

}  // namespace

TEST_CASE("LearnableDelay computes y_t = b + sum_d K_d x_(t-d) with the interpolated kernel", "[learnable_delay]") {
  Rng rng(1);
  for (const Variant& v : kVariants) {
    LearnableDelay<double> l = make(v, rng);
    TimeSeries<double> x(v.in, 3, 11), y;
    test::fill_uniform(x, rng, -1, 1);
    l.forward(x, y, ForwardContext::eval());
    INFO(l.signature());
    CHECK((y.values() - direct(l, x)).cwiseAbs().maxCoeff() < 1e-12);
    // each connection's kernel sums to its weight over the window
    for (Index i = 0; i < v.in; ++i)
      for (Index o = 0; o < v.out; ++o) {
        double s = 0;
        for (Index d = 0; d <= v.max_delay; ++d) s += l.kernels()(o, d * v.in + i);
        CHECK(s == Approx(l.weight()(o, i)).margin(1e-12));
      }
  }
}

TEST_CASE("LearnableDelay with sigma 0 and integer positions is a pure shift, and equals round_delays()",
          "[learnable_delay]") {
  Rng rng(2);
  LearnableDelay<double> l(1, 2, rng, {.max_delay = 8, .sigma = 0.0});
  l.weight() << 2.0, -1.0;
  l.position() << 3.0 / 8, 8.0 / 8;  // delays 3 and 8 steps
  TimeSeries<double> x(1, 2, 12), y;
  x.set_zero();
  x(0, 1, 2) = 1.0;  // one impulse, sample 1, step 2
  l.forward(x, y, ForwardContext::eval());
  for (Index t = 0; t < 12; ++t) {
    CHECK(y(0, 0, t) == 0.0);
    CHECK(y(1, 0, t) == 0.0);
    CHECK(y(0, 1, t) == (t == 5 ? 2.0 : 0.0));
    CHECK(y(1, 1, t) == (t == 10 ? -1.0 : 0.0));
  }
  const IntegerDelay<double> r = l.round_delays();
  CHECK(r.delay(0, 0) == 3);
  CHECK(r.delay(1, 0) == 8);
  IntegerDelay<double> rr = r;
  TimeSeries<double> yr;
  rr.forward(x, yr, ForwardContext::eval());
  CHECK(yr.values() == y.values());
  // a delay half way rounds up, as floor(P + 1/2)
  l.position() << 2.5 / 8, 2.49 / 8;
  const IntegerDelay<double> h = l.round_delays();
  CHECK(h.delay(0, 0) == 3);
  CHECK(h.delay(1, 0) == 2);
}

TEST_CASE("As sigma -> 0 the interpolated layer's outputs become round_delays()'s", "[learnable_delay]") {
  Rng rng(3);
  for (bool per_channel : {false, true})
    for (DelayKernel k : {DelayKernel::gaussian, DelayKernel::triangle}) {
      LearnableDelay<double> l(5, 4, rng, {.max_delay = 9, .kernel = k, .sigma = 2.0, .per_channel = per_channel, .bias = true});
      TimeSeries<double> x(5, 3, 20), ys, yr;
      test::fill_uniform(x, rng, -1, 1);
      IntegerDelay<double> r = l.round_delays();
      r.forward(x, yr, ForwardContext::eval());
      l.forward(x, ys, ForwardContext::eval());
      INFO(l.signature());
      CHECK((ys.values() - yr.values()).cwiseAbs().maxCoeff() > 1e-3);  // sigma 2 is not a shift yet
      l.set_sigma(0.0);  // the end of the annealing: exactly the rounded network
      l.forward(x, ys, ForwardContext::eval());
      CHECK(ys.values() == yr.values());
      if (k == DelayKernel::gaussian) {
        // a small spread with every delay at most 0.3 from an integer: neighbours weigh < exp(-80)
        for (Index c = 0; c < l.position().cols(); ++c)
          for (Index rw = 0; rw < l.position().rows(); ++rw) {
            const double p = double(l.position()(rw, c)) * 9;
            const double q = std::clamp(std::round(p) + std::clamp(p - std::round(p), -0.3, 0.3), 0.0, 9.0);
            l.position()(rw, c) = q / 9;
          }
        IntegerDelay<double> r2 = l.round_delays();
        r2.forward(x, yr, ForwardContext::eval());
        l.set_sigma(0.05);
        l.forward(x, ys, ForwardContext::eval());
        CHECK((ys.values() - yr.values()).cwiseAbs().maxCoeff() < 1e-12);
      }
    }
}

TEST_CASE("BPTT through LearnableDelay is exact for input, weights, positions and sigma", "[learnable_delay][gradient]") {
  Rng rng(13);
  for (const Variant& v : kVariants) {
    Sequential<LearnableDelay<double>, test::TwinLif, Linear<double>, test::Readout> net{
        make(v, rng), test::twin_lif(v.out), Linear<double>(v.out, 3, rng), test::readout(3)};
    net.layer<0>().weight() *= 2.0;  // enough current for the twin's smooth spikes to vary
    Index blocks = 0;
    net.for_each_parameter([&](ParamRef<double> p) { blocks += p.layer == 0; });
    CHECK(blocks == 2 + Index(v.bias) + Index(v.train_sigma));
    test::require_exact_gradients(net, test::random_batch(rng, v.in, 3, 12, 3));
  }
}

TEST_CASE("BPTT through IntegerDelay is exact for input and weights", "[learnable_delay][gradient]") {
  Rng rng(14);
  DelayMatrix d(4, 3);
  d << 0, 1, 5, 2, 2, 3, 7, 0, 1, 4, 6, 2;
  Matrix<double> w = Matrix<double>::Random(4, 3), b = Matrix<double>::Random(4, 1);
  Sequential<IntegerDelay<double>, test::TwinLif, Linear<double>, test::Readout> net{
      IntegerDelay<double>(w, d, 7, b), test::twin_lif(4), Linear<double>(4, 3, rng), test::readout(3)};
  test::require_exact_gradients(net, test::random_batch(rng, 3, 3, 12, 3));
}

TEST_CASE("IntegerDelay streams step by step with the outputs of forward()", "[learnable_delay][streaming]") {
  Rng rng(4);
  for (bool per_channel : {false, true}) {
    LearnableDelay<double> l(6, 5, rng, {.max_delay = 7, .sigma = 3.0, .per_channel = per_channel, .bias = true});
    Sequential<IntegerDelay<double>, test::TwinLif, Linear<double>, test::Readout> net{
        l.round_delays(), test::twin_lif(5), Linear<double>(5, 3, rng), test::readout(3)};
    TimeSeries<double> x(6, 2, 15);
    test::fill_uniform(x, rng, -0.5, 1.5);
    const Matrix<double> y = net.forward(x).values();
    auto st = net.make_stream_state(2);
    double worst = 0;
    for (Index t = 0; t < 15; ++t) {
      const Matrix<double> s = net.forward_step(st, x.slot(t));
      worst = std::max(worst, (s - y.middleCols(t * 2, 2)).cwiseAbs().maxCoeff());
    }
    INFO(net.signature());
    CHECK(worst < 1e-12);
    // the delay layer alone: its step output is the forward output's column block
    IntegerDelay<double> r = l.round_delays();
    TimeSeries<double> yr;
    r.forward(x, yr, ForwardContext::eval());
    auto s1 = r.make_state(2);
    for (Index t = 0; t < 15; ++t) {
      r.step(s1, x.slot(t));
      CHECK((r.output(s1) - yr.slot(t)).cwiseAbs().maxCoeff() < 1e-12);
    }
  }
}

TEST_CASE("LearnableDelay and IntegerDelay survive a checkpoint round trip", "[learnable_delay][serialization]") {
  Rng rng(5);
  LearnableDelay<double> l(4, 3, rng, {.max_delay = 6, .kernel = DelayKernel::triangle, .sigma = 2.0, .per_channel = true,
                                       .train_sigma = true, .bias = true});
  l.set_sigma(1.25);
  LearnableDelay<double> back;
  test::json_round_trip(l, back);
  CHECK(back.signature() == l.signature());
  CHECK(back.sigma() == 1.25);
  CHECK(back.position() == l.position());
  CHECK(back.weight() == l.weight());
  TimeSeries<double> x(4, 2, 9), ya, yb;
  test::fill_uniform(x, rng, -1, 1);
  l.forward(x, ya, ForwardContext::eval());
  back.forward(x, yb, ForwardContext::eval());
  CHECK(ya.values() == yb.values());

  const IntegerDelay<double> r = l.round_delays();
  IntegerDelay<double> rb;
  test::json_round_trip(r, rb);
  CHECK(rb.signature() == r.signature());
  CHECK(rb.delays() == r.delays());
  rb.forward(x, yb, ForwardContext::eval());
  IntegerDelay<double> r2 = r;
  r2.forward(x, ya, ForwardContext::eval());
  CHECK(ya.values() == yb.values());
}

TEST_CASE("Delay layers reject bad shapes and configurations, naming the layer", "[learnable_delay][errors]") {
  Rng rng(6);
  CHECK_THROWS_WITH(LearnableDelay<float>(4, 6, rng, {.max_delay = -1}), Catch::Contains("LearnableDelay(4,6"));
  CHECK_THROWS_AS(LearnableDelay<float>(0, 6, rng), ConfigError);
  CHECK_THROWS_WITH(LearnableDelay<float>(4, 6, rng, {.sigma = -1.0}), Catch::Contains("sigma"));
  CHECK_THROWS_WITH(LearnableDelay<float>(4, 6, rng, {.kernel = DelayKernel::triangle, .sigma = 0.5}),
                    Catch::Contains("triangle"));
  LearnableDelay<float> l(4, 6, rng, {.max_delay = 5});
  CHECK_THROWS_AS(l.set_sigma(std::nan("")), ConfigError);
  TimeSeries<float> x(5, 1, 3), y;
  CHECK_THROWS_WITH(l.forward(x, y, ForwardContext::eval()), Catch::Contains("LearnableDelay(4,6,D5"));

  DelayMatrix d = DelayMatrix::Constant(6, 4, 2);
  const Matrix<float> w = Matrix<float>::Ones(6, 4);
  CHECK_THROWS_WITH(IntegerDelay<float>(w, d, 1), Catch::Contains("IntegerDelay(4,6)"));  // delay 2 > max 1
  CHECK_THROWS_AS(IntegerDelay<float>(w, DelayMatrix::Zero(3, 4), 2), ConfigError);       // 3 rows: neither out nor 1
  CHECK_THROWS_AS(IntegerDelay<float>(w, d, -2), ConfigError);
  IntegerDelay<float> r(w, d, 3);
  CHECK_THROWS_WITH(r.forward(x, y, ForwardContext::eval()), Catch::Contains("IntegerDelay(4,6,D3"));
  auto st = r.make_state(2);
  const Matrix<float> bad = Matrix<float>::Zero(4, 3);
  CHECK_THROWS_WITH(r.step(st, bad), Catch::Contains("IntegerDelay(4,6,D3"));
  // a corrupt stored delay is refused on load
  IntegerDelay<float> ok(w, DelayMatrix::Constant(6, 4, 1), 3), loaded;
  std::stringstream ss;
  {
    cereal::JSONOutputArchive ar(ss);
    ar(ok);
  }
  std::string text = ss.str();
  const auto at = text.find("\"max_delay\": 3");
  REQUIRE(at != std::string::npos);
  text.replace(at, 14, "\"max_delay\": 0");
  std::stringstream in(text);
  cereal::JSONInputArchive ar(in);
  CHECK_THROWS_WITH(ar(loaded), Catch::Contains("IntegerDelay"));
}

TEST_CASE("DelaySigmaSchedule anneals exponentially, then rounds", "[learnable_delay]") {
  const DelaySigmaSchedule s{.initial = 8.0, .target = 0.5, .anneal_epochs = 5, .after = 0.0};
  CHECK(s.value(1) == Approx(8.0));
  CHECK(s.value(3) == Approx(2.0));  // 8 (1/16)^(1/2)
  CHECK(s.value(5) == Approx(0.5));
  CHECK(s.value(6) == 0.0);
  CHECK(s.value(4) / s.value(3) == Approx(s.value(3) / s.value(2)));
  CHECK_THROWS_AS((DelaySigmaSchedule{.initial = 0.0}.value(1)), ConfigError);
  // the DCLS code's annealing (snn_delays.py decrease_sig): sigma *= (0.23 / 12)^(1/37) at the end of
  // each of the first 37 epochs (0-based epoch < 37), then held; spikelab-delays' schedule for it
  const DelaySigmaSchedule dcls{.initial = 12.0, .target = 0.23, .anneal_epochs = 38, .after = 0.23};
  double sig = 12.0;
  const double alpha = std::pow(0.23 / 12.0, 1.0 / 37.0);
  for (int epoch = 0; epoch < 150; ++epoch) {  // the code's 0-based epochs; spikelab's are 1-based
    CHECK(dcls.value(epoch + 1) == Approx(sig).epsilon(1e-12));
    if (epoch < 37 && sig > 0.23) sig *= alpha;
  }
}

TEST_CASE("The sparse path of the delay layers gives the dense path's outputs and gradients", "[learnable_delay]") {
  Rng rng(7);
  for (double sigma : {2.0, 0.0}) {
    LearnableDelay<double> a(6, 5, rng, {.max_delay = 8, .sigma = sigma});
    LearnableDelay<double> b = a;
    a.set_sparse_density(0.0);
    b.set_sparse_density(0.5);
    TimeSeries<double> x(6, 3, 14), ya, yb, g(5, 3, 14), gia, gib;
    test::fill_spikes(x, rng, 0.2);
    test::fill_uniform(g, rng, -1, 1);
    a.forward(x, ya, ForwardContext::train(rng));
    b.forward(x, yb, ForwardContext::train(rng));
    CHECK_FALSE(a.used_sparse());
    CHECK(b.used_sparse());
    CHECK((ya.values() - yb.values()).cwiseAbs().maxCoeff() < 1e-12);
    a.zero_grad();
    b.zero_grad();
    a.backward(x, ya, g, &gia);
    b.backward(x, yb, g, &gib);
    CHECK((a.weight_grad() - b.weight_grad()).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((a.position_grad() - b.position_grad()).cwiseAbs().maxCoeff() < 1e-12);
    CHECK((gia.values() - gib.values()).cwiseAbs().maxCoeff() < 1e-12);
    if (sigma > 0) CHECK(a.position_grad().cwiseAbs().maxCoeff() > 0);
    // dense input stays on the dense path
    test::fill_uniform(x, rng, -1, 1);
    b.forward(x, yb, ForwardContext::eval());
    CHECK_FALSE(b.used_sparse());
  }
}
