// The membrane-potential arithmetic of NA (poster Algorithms 1-2): f^-1, ⊞, ⊟, d_MP and the
// least-squares aggregation, against cases computed by hand (tau_m = 5: beta = 0.8; threshold 1).
#include "support/na_support.hpp"

using namespace spikelab;

namespace {
const NaLifDynamics<double> kDyn = NaLifDynamics<double>::from({.tau_m = 5.0, .tau_s = 2.0, .threshold = 1.0});
Vector<double> vec(std::initializer_list<double> v) {
  Vector<double> x(Index(v.size()));
  Index i = 0;
  for (double e : v) x[i++] = e;
  return x;
}
void require_near(const Vector<double>& a, const Vector<double>& b, double tol = 1e-12) {
  INFO("got " << a.transpose() << "\nexpected " << b.transpose());
  REQUIRE(a.size() == b.size());
  for (Index i = 0; i < a.size(); ++i) CHECK(a[i] == Approx(b[i]).margin(tol));
}
}  // namespace

TEST_CASE("NA distance: input currents are recovered from a waveform with its resets", "[na][distance]") {
  // u = [0.5, 1.4, 0.3]: no spike at 0 (v = 0.5), spike at 1 (reset to 0)
  // c0 = 0.5, c1 = 1.4 - 0.8 * 0.5 = 1.0, c2 = 0.3 - 0 = 0.3
  require_near(input_currents(kDyn, vec({0.5, 1.4, 0.3})), vec({0.5, 1.0, 0.3}));
  // a potential exactly at the threshold does not spike (strict u > threshold): no reset
  // u = [1.0, 1.1]: c1 = 1.1 - 0.8 * 1.0 = 0.3
  require_near(input_currents(kDyn, vec({1.0, 1.1})), vec({1.0, 0.3}));
}

TEST_CASE("NA distance: removing a spike through ⊞ leaves the potential at threshold and chains", "[na][distance]") {
  // u = [0.5, 1.4, 0.3], c = [0.5, 1.0, 0.3]; eps = (1 - 1.4) e_1 = -0.4 e_1
  // u'0 = 0.5; u'1 = 0.8*0.5 + 1.0 - 0.4 = 1.0 (no spike, v = 1.0); u'2 = 0.8*1.0 + 0.3 = 1.1 (a new spike)
  const Vector<double> u = vec({0.5, 1.4, 0.3});
  const Vector<double> up = membrane_plus(kDyn, u, vec({0.0, -0.4, 0.0}));
  require_near(up, vec({0.5, 1.0, 1.1}));
  // ⊟ returns the extra current, so d_MP = |threshold - u[1]| = 0.4 although the waveforms differ at 2 steps
  require_near(membrane_minus(kDyn, up, u), vec({0.0, -0.4, 0.0}));
  CHECK(membrane_distance(kDyn, u, up) == Approx(0.4).margin(1e-12));
  CHECK((up - u).norm() == Approx(std::sqrt(0.16 + 0.64)));  // the pointwise distance is not d_MP
}

TEST_CASE("NA distance: adding a spike through ⊞ resets to zero", "[na][distance]") {
  // u = [0.5, 0.9, 0.3]: c = [0.5, 0.5, 0.3 - 0.72 = -0.42]; eps = 0.6 e_0
  // u'0 = 1.1 (spike, v = 0); u'1 = 0.5 (v = 0.5); u'2 = 0.4 - 0.42 = -0.02
  const Vector<double> u = vec({0.5, 0.9, 0.3});
  const Vector<double> up = membrane_plus(kDyn, u, vec({0.6, 0.0, 0.0}));
  require_near(up, vec({1.1, 0.5, -0.02}));
  require_near(membrane_minus(kDyn, up, u), vec({0.6, 0.0, 0.0}));
  CHECK(membrane_distance(kDyn, u, up) == Approx(0.6).margin(1e-12));
}

TEST_CASE("NA distance: d_MP of an arbitrary change is the norm of the current that causes it", "[na][distance]") {
  const Vector<double> u = vec({0.5, 1.4, 0.3});
  // raising u[2] by 0.2 needs 0.2 more current at step 2 only
  CHECK(membrane_distance(kDyn, u, vec({0.5, 1.4, 0.5})) == Approx(0.2).margin(1e-12));
  // raising u[0] by 0.2 carries 0.8 * 0.2 = 0.16 into step 1, so keeping u[1] needs -0.16 there:
  // eps = [0.2, -0.16, 0] (step 1 still spikes and resets, step 2 is unchanged), d = sqrt(0.0656)
  require_near(membrane_minus(kDyn, vec({0.7, 1.4, 0.3}), u), vec({0.2, -0.16, 0.0}));
  CHECK(membrane_distance(kDyn, u, vec({0.7, 1.4, 0.3})) == Approx(std::sqrt(0.0656)).margin(1e-12));
  // identical waveforms are at distance 0; (u ⊞ eps) ⊟ u = eps for random eps
  CHECK(membrane_distance(kDyn, u, u) == 0.0);
  Rng rng(3);
  for (int rep = 0; rep < 50; ++rep) {
    Vector<double> w(8), e(8);
    for (Index t = 0; t < 8; ++t) w[t] = rng.uniform(-0.5, 1.0), e[t] = rng.uniform(-1.0, 1.0);
    const Vector<double> uu = membrane_plus(kDyn, w, Vector<double>(Vector<double>::Zero(8)));  // a valid waveform
    require_near(membrane_minus(kDyn, membrane_plus(kDyn, uu, e), uu), e, 1e-12);
  }
}

TEST_CASE("NA distance: shape errors are reported", "[na][distance]") {
  CHECK_THROWS_AS(membrane_minus(kDyn, vec({1.0, 2.0}), vec({1.0})), ShapeError);
  CHECK_THROWS_AS(membrane_plus(kDyn, vec({1.0, 2.0}), vec({1.0})), ShapeError);
  CHECK_THROWS_AS(aggregate_least_squares(kDyn, vec({0.5, 0.5}), Matrix<double>(Matrix<double>::Zero(3, 2)), vec({1.0, 1.0})),
                  ShapeError);
  // a neighbour equal to u has no direction
  Matrix<double> same(2, 1);
  same << 0.5, 0.5;
  CHECK_THROWS_AS(aggregate_least_squares(kDyn, vec({0.5, 0.5}), same, vec({1.0})), NumericError);
}

TEST_CASE("NA aggregation: least squares over axis-aligned neighbours is the per-step quotient", "[na][distance]") {
  // u = [0.5, 1.4, 0.3]; neighbour k flips the spike at k: eps_k = (1 - u[k]) e_k (+ a hair to cross)
  const Vector<double> u = vec({0.5, 1.4, 0.3});
  Matrix<double> nb(3, 3);
  const Vector<double> dl = vec({0.2, -0.3, 0.05});
  for (Index k = 0; k < 3; ++k) {
    Vector<double> e = Vector<double>::Zero(3);
    e[k] = 1.0 - u[k] + (u[k] > 1.0 ? 0.0 : 1e-12);
    nb.col(k) = membrane_plus(kDyn, u, e);
  }
  require_near(aggregate_least_squares(kDyn, u, nb, dl), vec({0.2 / 0.5, -0.3 / -0.4, 0.05 / 0.7}), 1e-9);
  // two neighbours along the same direction with inconsistent finite differences: the least-squares
  // compromise is their mean along that axis, and nothing along the others (minimum norm)
  Matrix<double> two(3, 2);
  two.col(0) = membrane_plus(kDyn, u, vec({0.0, 0.0, 0.1}));
  two.col(1) = membrane_plus(kDyn, u, vec({0.0, 0.0, 0.2}));
  require_near(aggregate_least_squares(kDyn, u, two, vec({0.1, 0.4})), vec({0.0, 0.0, (1.0 + 2.0) / 2.0}), 1e-9);
}
