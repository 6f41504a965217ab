// Surrogate gradients: forward is the Heaviside step, derivative matches hand values and the
// derivative of the primitive (the smooth twin's spike function).
#include <spikelab/surrogates/surrogates.hpp>

#include <catch2/catch.hpp>

#include <cmath>
#include <numbers>

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
}

TEST_CASE("SmoothTwin spikes smoothly with the surrogate as exact derivative", "[surrogates]") {
  SmoothTwin<Sigmoid> t{{2.0}};
  CHECK(t.forward(0.0) == Approx(0.5));
  CHECK(t.forward(10.0) == Approx(1.0).margin(1e-6));
  CHECK(t.derivative(0.3) == Sigmoid{2.0}.derivative(0.3));
  CHECK(SmoothTwin<FastSigmoid>::name() == "SmoothTwin<FastSigmoid>");
}
