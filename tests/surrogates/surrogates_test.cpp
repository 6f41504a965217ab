// Surrogate gradients: forward is the Heaviside step, derivative matches hand values and the
// derivative of the primitive (the smooth twin's spike function).
#include <spikelab/surrogates/surrogates.hpp>

#include <catch2/catch.hpp>
#include <cereal/archives/json.hpp>

#include <cmath>
#include <numbers>
#include <sstream>

using namespace spikelab;

namespace {
template <class G>
void check_primitive(const G& g, double lo = -3, double hi = 3) {
  for (double x = lo; x <= hi; x += 0.0137) {
    const double h = 1e-6;
    const double fd = (g.primitive(x + h) - g.primitive(x - h)) / (2 * h);
    INFO(G::name() << " at x = " << x);
    CHECK(g.derivative(x) == Approx(fd).margin(1e-6).epsilon(1e-6));
    CHECK(g.forward(x) == (x > 0 ? 1.0 : 0.0));
    CHECK(g.derivative(x) >= 0.0);
    CHECK(g.derivative(float(x)) == Approx(g.derivative(x)).epsilon(1e-5).margin(1e-6));
  }
  CHECK(g.forward(0.0) == 0.0);  // H(0) = 0: spike only strictly above threshold
}
}  // namespace

TEST_CASE("Surrogate derivatives equal hand-computed values", "[surrogates]") {
  CHECK(FastSigmoid{25}.derivative(0.0) == 1.0);
  CHECK(FastSigmoid{25}.derivative(0.2) == Approx(1.0 / 36.0));
  CHECK(FastSigmoid{10}.derivative(-0.1) == Approx(0.25));
  CHECK(Arctan{2}.derivative(0.0) == Approx(1.0));
  CHECK(Arctan{2}.derivative(1.0) == Approx(1.0 / (1.0 + std::numbers::pi * std::numbers::pi)));
  CHECK(Sigmoid{4}.derivative(0.0) == Approx(1.0));
  CHECK(Triangle{1, 1}.derivative(0.5) == Approx(0.5));
  CHECK(Triangle{1, 1}.derivative(1.5) == 0.0);
  CHECK(Boxcar{1, 0.5}.derivative(0.49) == 1.0);
  CHECK(Boxcar{1, 0.5}.derivative(-0.51) == 0.0);
  // Mahmoodi Takaghaj & Sampson (2024) eq. (2): (s/tau) exp(-|V - Th| / tau)
  CHECK(Exponential{1.5, 3.75}.derivative(0.0) == Approx(0.4));
  CHECK(Exponential{1.5, 3.75}.derivative(-3.75) == Approx(0.4 * std::exp(-1.0)));
  // Lava-DL's amplitude for the same s and tau: 0.1 s / tau; in Lava-DL's own units (N-MNIST
  // tutorial: threshold 1.25, tau_grad 0.03, scale_grad 3) tau_rho = 100 * 0.03 * 1.25 = 3.75 and
  // 0.1 * 3 / (2 * 3.75) = 0.04 at the threshold, exp(-2) of that at |V - Th| = 7.5.
  const Exponential lava{1.5, 3.75, ExponentialConvention::lava_dl};
  CHECK(lava.peak() == Approx(0.04));
  CHECK(lava.derivative(0.0) == Approx(0.1 * 3.0 / (2 * 3.75)));
  CHECK(lava.derivative(7.5) == Approx(0.04 * std::exp(-2.0)));
  CHECK(lava.derivative(-1.0f) == Approx(0.04 * std::exp(-1.0 / 3.75)).epsilon(1e-6));
  CHECK(Exponential{1.5, 3.75}.derivative(0.3) == Approx(10 * lava.derivative(0.3)));
  // the primitive spans 0 .. 2 c s
  CHECK(lava.primitive(-1e3) == Approx(0.0).margin(1e-12));
  CHECK(lava.primitive(1e3) == Approx(0.3));
  CHECK(lava.primitive(0.0) == Approx(0.15));
}

TEST_CASE("Each surrogate is the derivative of its primitive", "[surrogates]") {
  check_primitive(FastSigmoid{});
  check_primitive(FastSigmoid{3});
  check_primitive(Arctan{});
  check_primitive(Sigmoid{});
  check_primitive(Triangle{0.3, 1.0});
  check_primitive(Boxcar{});
  check_primitive(Exponential{});
  check_primitive(Exponential{1.0, 0.5});
  check_primitive(Exponential{1.5, 3.75, ExponentialConvention::lava_dl});
  check_primitive(Exponential{3.0, 0.5, ExponentialConvention::lava_dl});
}

TEST_CASE("SmoothTwin spikes smoothly with the surrogate as exact derivative", "[surrogates]") {
  SmoothTwin<Sigmoid> t{{2.0}};
  CHECK(t.forward(0.0) == Approx(0.5));
  CHECK(t.forward(10.0) == Approx(1.0).margin(1e-6));
  CHECK(t.derivative(0.3) == Sigmoid{2.0}.derivative(0.3));
  CHECK(SmoothTwin<FastSigmoid>::name() == "SmoothTwin<FastSigmoid>");
  // the smooth twin of the Lava-DL convention spikes with 0.1 of the printed one's amplitude
  const SmoothTwin<Exponential> paper{{1.5, 3.75}}, lava{{1.5, 3.75, ExponentialConvention::lava_dl}};
  CHECK(lava.forward(0.0) == Approx(0.15));
  CHECK(lava.forward(0.7) == Approx(0.1 * paper.forward(0.7)));
  CHECK(lava.derivative(0.7) == Approx(lava.inner.derivative(0.7)));
}

TEST_CASE("The exponential surrogate stores its amplitude convention; version 1 meant the printed one",
          "[surrogates][serialization]") {
  std::ostringstream os;
  {
    cereal::JSONOutputArchive ar(os);
    ar(cereal::make_nvp("g", Exponential{2.0, 0.5, ExponentialConvention::lava_dl}));
  }
  Exponential back;
  {
    std::istringstream is(os.str());
    cereal::JSONInputArchive ar(is);
    ar(cereal::make_nvp("g", back));
  }
  CHECK(back.scale == 2.0);
  CHECK(back.tau == 0.5);
  CHECK(back.convention == ExponentialConvention::lava_dl);
  const std::string v1 = R"({"g": {"cereal_class_version": 1, "scale": 1.5, "tau": 3.75}})";
  back = Exponential{1, 1, ExponentialConvention::lava_dl};
  {
    std::istringstream is(v1);
    cereal::JSONInputArchive ar(is);
    ar(cereal::make_nvp("g", back));
  }
  CHECK(back.convention == ExponentialConvention::paper);
  CHECK(back.peak() == Approx(0.4));
  const std::string bad = R"({"g": {"cereal_class_version": 2, "scale": 1.5, "tau": 3.75, "convention": "slayer"}})";
  std::istringstream is(bad);
  cereal::JSONInputArchive ar(is);
  CHECK_THROWS_AS(ar(cereal::make_nvp("g", back)), cereal::Exception);
}
