// Every concept has an archetype: a minimal type that models it (checked by static_assert),
// plus the library's own types. Negative cases live in tests/compile_fail/.
#include <spikelab/spikelab.hpp>

#include <catch2/catch.hpp>

using namespace spikelab;

namespace archetype {

struct Surrogate {
  static std::string name() { return "Archetype"; }
  template <Scalar S> S forward(S x) const { return heaviside(x); }
  template <Scalar S> S derivative(S) const { return S(1); }
  template <Scalar S> S primitive(S x) const { return x; }
};

struct Reset {
  static std::string name() { return "ArchetypeReset"; }
  template <Scalar S> static S next(S b, S v, S, S, S i) { return b * v + i; }
  template <Scalar S> static S d_vprev(S b, S, S, S) { return b; }
  template <Scalar S> static S d_sprev(S, S, S, S) { return S(0); }
  template <Scalar S> static S d_theta(S, S, S, S) { return S(0); }
  template <Scalar S> static S d_beta(S, S v, S, S) { return v; }
};

struct Layer {
  using scalar_type = float;
  static std::string name() { return "Identity"; }
  std::string signature() const { return "Identity"; }
  Index input_size() const { return 1; }
  Index output_size() const { return 1; }
  void forward(const TimeSeries<float>& in, TimeSeries<float>& out, const ForwardContext&) { out = in; }
  void backward(const TimeSeries<float>&, const TimeSeries<float>&, const TimeSeries<float>& g, TimeSeries<float>* gi) {
    if (gi) *gi = g;
  }
  template <class Ar> void serialize(Ar&, std::uint32_t) {}
};

struct Neuron : Layer {
  struct State { Matrix<float> v; };
  State make_state(Index b) const { return {Matrix<float>::Zero(1, b)}; }
  void step(State& st, const ConstMatrixRef<float>& x) { st.v = x; }
  const Matrix<float>& output(const State& st) const { return st.v; }
};

struct LossFn {
  static std::string name() { return "ArchetypeLoss"; }
  template <Scalar S> S value_and_gradient(const TimeSeries<S>& o, const Batch<S>&, TimeSeries<S>& g) {
    g.resize_zero(o.features(), o.batch(), o.steps());
    return S(0);
  }
  template <Scalar S> S value(const TimeSeries<S>&, const Batch<S>&) { return S(0); }
  template <Scalar S> Tally tally(const TimeSeries<S>&, const Batch<S>&) { return {}; }
};

struct Update {
  static std::string name() { return "ArchetypeUpdate"; }
  template <Scalar S> struct State {};
  template <Scalar S> State<S> make_state(Index, Index) const { return {}; }
  template <Scalar S> void update(State<S>&, Matrix<S>& p, const Matrix<S>& g, double lr) const { p -= S(lr) * g; }
};

struct Sched {
  static std::string name() { return "ArchetypeSchedule"; }
  double factor(double, int) const { return 1.0; }
};

using Net = Sequential<Layer>;

struct GradRule {
  StepStats accumulate(Net&, const Batch<float>&, Rng&) { return {}; }
  StepStats evaluate(Net&, const Batch<float>&) { return {}; }
};
struct OnRule {
  StepStats train_batch(Net&, const Batch<float>&, Rng&) { return {}; }
  StepStats evaluate(Net&, const Batch<float>&, Rng&) { return {}; }
};

struct Source {
  void start_epoch(std::uint64_t) {}
  bool next(Batch<float>&) { return false; }
  Index batches_per_epoch() const { return 0; }
};

struct Encoder {
  static std::string name() { return "ArchetypeEncoder"; }
  template <Scalar S> void encode(const float*, Index, TimeSeries<S>&, Rng&) const {}
};

}  // namespace archetype

static_assert(SurrogateGradient<archetype::Surrogate>);
static_assert(ResetPolicy<archetype::Reset>);
static_assert(Layer<archetype::Layer>);
static_assert(NeuronModel<archetype::Neuron>);
static_assert(!NeuronModel<archetype::Layer>);
static_assert(Loss<archetype::LossFn, float> && Loss<archetype::LossFn, double>);
static_assert(UpdatePolicy<archetype::Update, float>);
static_assert(Schedule<archetype::Sched>);
static_assert(GradientRule<archetype::GradRule, archetype::Net> && !OnlineRule<archetype::GradRule, archetype::Net>);
static_assert(OnlineRule<archetype::OnRule, archetype::Net> && !GradientRule<archetype::OnRule, archetype::Net>);
static_assert(BatchSource<archetype::Source, float>);
static_assert(StaticEncoder<archetype::Encoder, float>);

// the library's own types model the concepts
static_assert(Layer<Linear<float>> && ParametricLayer<Linear<double>>);
static_assert(NeuronModel<Lif<float>> && NeuronModel<RecurrentLif<double>> && NeuronModel<LeakyIntegrator<float>>);
static_assert(!NeuronModel<Linear<float>>);
static_assert(Layer<LifType<double, SmoothTwin<Arctan>, ZeroReset, LifOptions{.threshold = Train::per_neuron}>>);
using Mlp = Sequential<Linear<float>, Lif<float>, Linear<float>, LeakyIntegrator<float>>;
static_assert(GradientRule<Bptt<SumCrossEntropy>, Mlp>);
static_assert(!GradientRule<Bptt<archetype::Surrogate>, Mlp>);  // not a loss
static_assert(BatchSource<ImageSource<float>, float> && BatchSource<MtsXorSource<double>, double>);
static_assert(UpdatePolicy<Adam, float> && UpdatePolicy<Sgd, double>);

TEST_CASE("Archetypes model their concepts and an archetype network runs", "[concepts]") {
  archetype::Net net{archetype::Layer{}};
  TimeSeries<float> x(1, 2, 3);
  x.values().setConstant(2.0f);
  CHECK(net.forward(x).values().sum() == 12.0f);
  archetype::Source src;
  Trainer trainer(net, archetype::OnRule{});
  CHECK(trainer.fit(src, 2).epochs_run == 2);
  Trainer trainer2(net, archetype::GradRule{}, Optimizer<float, archetype::Update, archetype::Sched>());
  CHECK(trainer2.fit(src, 1).epochs_run == 1);
}
