// Tutorial 4: your own neuron policies. A surrogate gradient and a reset rule written as small
// structs, plugged into the library's LIF neuron, checked against finite differences, trained;
// and what the compiler says when a policy does not model its concept.
//
// Read 01_first_network first. spikelab's neurons are templates over policies: a LIF layer is
//
//     LifType<Scalar, Surrogate, Reset, Options>     (Lif<float> = LifType<float, FastSigmoid,
//                                                      SubtractReset, LifOptions{}>)
//
// Each policy is a plain struct, and each kind of policy is a C++20 concept that lists what the
// struct must provide: SurrogateGradient (surrogates/concepts.hpp), ResetPolicy
// (neurons/concepts.hpp). The neuron code calls the policy's functions directly, so a policy of
// your own runs as fast as the built-in ones (no virtual calls), and the compiler checks it
// against the concept at the line where you use it.
//
// Run it as   04_custom_policies   (no data needed: it trains on MTS-XOR, a task the library
// generates). It takes a few seconds.
#include <spikelab/spikelab.hpp>
#include <spikelab/testing/gradient_check.hpp>

#include <cmath>
#include <iostream>
#include <numbers>

namespace sl = spikelab;

// ---- 1. A surrogate gradient ---------------------------------------------------------------------
//
// In the forward pass a LIF neuron spikes with H(x), the Heaviside step of x = v - threshold. In
// the backward pass its derivative is replaced by a surrogate. SurrogateGradient asks for:
//   forward(x)     the spike as a function of x (the step H for a spiking neuron),
//   derivative(x)  what BPTT uses for d spike / d x,
//   primitive(x)   a smooth function whose derivative is `derivative`,
//   name()         a short name for the network's signature (and checkpoints),
// the first three as templates over the scalar type (float and double). The primitive is what
// lets the library check your derivative: SmoothTwin<G> builds a neuron that spikes "smoothly"
// with primitive(x), whose exact gradient is then your surrogate, so finite differences of a
// smooth-twin network must agree with BPTT (section 3).
//
// Here: a Gaussian bump of width sigma, the derivative of the normal distribution function.
struct GaussianSurrogate {
  double sigma = 0.3;
  static std::string name() { return "GaussianSurrogate"; }
  template <sl::Scalar S>
  S forward(S x) const {
    return sl::heaviside(x);
  }
  template <sl::Scalar S>
  S derivative(S x) const {
    const S s(sigma);
    return std::exp(-x * x / (S(2) * s * s)) / (s * std::sqrt(S(2) * std::numbers::pi_v<S>));
  }
  template <sl::Scalar S>
  S primitive(S x) const {
    return S(0.5) * (S(1) + std::erf(x / (S(sigma) * std::numbers::sqrt2_v<S>)));
  }
};
// The check the LIF template will make; writing it here gives the error at the policy's definition.
static_assert(sl::SurrogateGradient<GaussianSurrogate>);

// ---- 2. A reset rule -----------------------------------------------------------------------------
//
// A ResetPolicy is the LIF membrane update v[t] = next(beta, v[t-1], s[t-1], theta, I[t]) with its
// partial derivatives, which BPTT needs: with respect to v[t-1], s[t-1], theta and beta, each
// taking (beta, v[t-1], s[t-1], theta). All are static templates (checked with double).
//
// Here: a partial reset that removes only half of the threshold after a spike,
//     v[t] = beta v[t-1] + I[t] - 0.5 theta s[t-1],
// so a strongly driven neuron fires in bursts. Its partials follow by hand.
struct HalfReset {
  static std::string name() { return "HalfReset"; }
  template <sl::Scalar S>
  static S next(S beta, S v, S s, S theta, S i) noexcept {
    return beta * v + i - S(0.5) * theta * s;
  }
  template <sl::Scalar S>
  static S d_vprev(S beta, S, S, S) noexcept {
    return beta;
  }
  template <sl::Scalar S>
  static S d_sprev(S, S, S, S theta) noexcept {
    return -S(0.5) * theta;
  }
  template <sl::Scalar S>
  static S d_theta(S, S, S s, S) noexcept {
    return -S(0.5) * s;
  }
  template <sl::Scalar S>
  static S d_beta(S, S v, S, S) noexcept {
    return v;
  }
};
static_assert(sl::ResetPolicy<HalfReset>);

// ---- 3. When a policy does not model its concept ------------------------------------------------
//
// A surrogate without a primitive cannot give a smooth twin, so SurrogateGradient refuses it.
// Build this file with -DSPIKELAB_SHOULD_FAIL (the test suite does, and expects the build to fail)
// and g++ 12 stops at the LifType below with:
//
//   04_custom_policies.cpp: error: template constraint failure for 'template<class S, class G,
//       class R, spikelab::LifOptions O>  requires (Scalar<S>) && (SurrogateGradient<G>) &&
//       (ResetPolicy<R>) class spikelab::LifType'
//   04_custom_policies.cpp: note: constraints not satisfied
//   spikelab/surrogates/concepts.hpp:25:9:   required for the satisfaction of 'SurrogateGradient<G>'
//       [with G = NoPrimitive]
//   spikelab/surrogates/concepts.hpp:30:16: note: the required expression 'g.primitive(d)' is invalid
//      30 |   { g.primitive(d) } -> std::same_as<double>;
//
// The note names the requirement that is missing. Nothing of the kind reaches run time: a
// network whose parts do not fit together is not a program.
struct NoPrimitive {
  static std::string name() { return "NoPrimitive"; }
  template <sl::Scalar S>
  S forward(S x) const {
    return sl::heaviside(x);
  }
  template <sl::Scalar S>
  S derivative(S) const {
    return S(1);
  }
};
#ifdef SPIKELAB_SHOULD_FAIL
[[maybe_unused]] const sl::LifType<float, NoPrimitive> broken(4);
#endif

int main() {
  // ---- 4. Checking the gradient ------------------------------------------------------------------
  //
  // The same network in double precision, with SmoothTwin<GaussianSurrogate> as surrogate: its
  // neurons spike smoothly, so BPTT's gradient is exact and check_gradients compares it with
  // central finite differences, parameter block by block. A wrong sign or factor in a partial
  // derivative of HalfReset shows up here as a large relative error. Threshold and decay are
  // trained per neuron in the twin, so that d_theta and d_beta are checked too.
  using Twin = sl::LifType<double, sl::SmoothTwin<GaussianSurrogate>, HalfReset,
                           sl::LifOptions{.threshold = sl::Train::per_neuron, .beta = sl::Train::per_neuron}>;
  sl::Rng rng(3);
  sl::Sequential<sl::Linear<double>, Twin, sl::Linear<double>, sl::LeakyIntegrator<double>> twin{
      sl::Linear<double>(5, 8, rng), Twin(8, {.beta = 0.9, .threshold = 0.5}), sl::Linear<double>(8, 3, rng),
      sl::LeakyIntegrator<double>(3)};
  sl::Batch<double> batch;
  batch.input.resize(5, /*batch=*/4, /*steps=*/20);
  for (sl::Index k = 0; k < batch.input.values().size(); ++k) batch.input.values().data()[k] = rng.uniform(0.0, 1.0);
  batch.labels = {0, 1, 2, 1};
  sl::SumCrossEntropy loss;
  const auto check = sl::testing::check_gradients(twin, loss, batch);
  std::cout << "gradient check on the smooth twin:\n" << check.report() << "largest relative error "
            << check.max_rel_error << " (" << (check.max_rel_error < 1e-5 ? "ok" : "TOO LARGE") << ")\n";
  if (check.max_rel_error >= 1e-5) return 1;

  // ---- 5. Training with the new policies ---------------------------------------------------------
  //
  // The spiking layer with both policies is an ordinary layer: it composes, trains, saves and
  // loads like the built-in ones, and its name is part of the network's signature, so a
  // checkpoint of this network cannot be loaded into one with another surrogate or reset.
  // MTS-XOR (40 input channels, 100 steps) is a task with long time dependencies that the
  // library generates; recurrent LIF layers (RecurrentLif) also add their previous spikes to
  // their input, here through LifOptions{.recurrent = true}.
  using Hidden = sl::LifType<float, GaussianSurrogate, HalfReset, sl::LifOptions{.recurrent = true}>;
  using Net = sl::Sequential<sl::Linear<float>, Hidden, sl::Linear<float>, sl::LeakyIntegrator<float>>;
  Net net{sl::Linear<float>(40, 32, rng), Hidden(32, rng, {.beta = 0.95, .threshold = 1.0}), sl::Linear<float>(32, 2, rng),
          sl::LeakyIntegrator<float>(2, {.beta = 0.8})};
  std::cout << "network: " << net.signature() << "\n";
  sl::MtsXorSource<float> train(/*samples=*/1024, /*batch=*/64, /*seed=*/1);
  sl::MtsXorSource<float> test(/*samples=*/256, /*batch=*/128, /*seed=*/99, /*shuffle=*/false);
  sl::Trainer trainer(net, sl::Bptt<sl::StepCrossEntropy>{}, sl::Optimizer<float, sl::Adam>({.lr = 5e-3}), {.seed = 1});
  const double before = trainer.evaluate(test).accuracy;
  trainer.fit(train, /*epochs=*/3, sl::ProgressPrinter(std::cout));
  const double after = trainer.evaluate(test).accuracy;
  std::cout << "accuracy per scored step: " << 100.0 * before << "% before training, " << 100.0 * after << "% after\n";
  // Next: tutorial 5 trains a probabilistic SNN, whose neurons spike at random.
  return 0;
}
