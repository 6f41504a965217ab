// Every concept of the library has an archetype, the smallest type that models it, next to it in
// its folder's concepts.hpp. This file enumerates all of them (cmake/CheckConcepts.cmake fails
// when a concept is missing here), checks that the library's own types model them, and runs the
// archetypes inside the library's templates. The programs that must not compile, one per concept
// at least, are in tests/compile_fail/.
#include <spikelab/spikelab.hpp>

#include <catch2/catch.hpp>

#include <vector>

using namespace spikelab;

namespace {
using ArchetypeNet = Sequential<LayerArchetype>;
using Mlp = Sequential<Linear<float>, Lif<float>, Linear<float>, LeakyIntegrator<float>>;
}  // namespace

// ---- every concept and its archetype, by folder ---------------------------------------------
// core
static_assert(Scalar<ScalarArchetype>);
static_assert(BatchSource<BatchSourceArchetype, float> && BatchSource<BatchSourceArchetype, double>);
// surrogates
static_assert(SurrogateGradient<SurrogateGradientArchetype>);
// data
static_assert(EventFormat<EventFormatArchetype>);
static_assert(EventDataset<EventDatasetArchetype>);
static_assert(InPlaceTransform<InPlaceTransformArchetype<EventSample>, EventSample>);
static_assert(EventTransform<EventTransformArchetype>);
static_assert(FrameTransform<FrameTransformArchetype>);
static_assert(StaticEncoder<StaticEncoderArchetype, float> && StaticEncoder<StaticEncoderArchetype, double>);
// layers
static_assert(Layer<LayerArchetype>);
static_assert(ParametricLayer<ParametricLayerArchetype>);
static_assert(ActivationFunction<ActivationFunctionArchetype>);
static_assert(PoolingMode<PoolingModeArchetype>);
// neurons
static_assert(NeuronModel<NeuronModelArchetype>);
static_assert(ResetPolicy<ResetPolicyArchetype>);
static_assert(HasMembraneDecay<HasMembraneDecayArchetype>);
static_assert(HasSynapticDecay<HasSynapticDecayArchetype>);
static_assert(SpikingNeuronLayer<SpikingNeuronLayerArchetype>);
// losses
static_assert(Loss<LossArchetype, float> && Loss<LossArchetype, double>);
// learning
static_assert(GradientRule<GradientRuleArchetype, ArchetypeNet> && GradientRule<GradientRuleArchetype, Mlp>);
static_assert(OnlineRule<OnlineRuleArchetype, ArchetypeNet>);
static_assert(LearningRule<LearningRuleArchetype, ArchetypeNet>);
static_assert(Regularizer<RegularizerArchetype, ArchetypeNet> && Regularizer<RegularizerArchetype, Mlp>);
// optimizers
static_assert(UpdatePolicy<UpdatePolicyArchetype, float> && UpdatePolicy<UpdatePolicyArchetype, double>);
static_assert(Schedule<ScheduleArchetype>);
// training
static_assert(EmitsSpikes<EmitsSpikesArchetype>);
// na
static_assert(SpikeDerivative<SpikeDerivativeArchetype, float> && SpikeDerivative<SpikeDerivativeArchetype, double>);
// probabilistic
static_assert(StochasticNeuron<StochasticNeuronArchetype>);
static_assert(ProbabilisticNetwork<ProbabilisticNetworkArchetype>);
static_assert(LearningSignal<LearningSignalArchetype>);

// ---- archetypes are minimal: each misses what the stronger concepts add ----------------------
static_assert(!NeuronModel<LayerArchetype> && !ParametricLayer<LayerArchetype>);
static_assert(!OnlineRule<GradientRuleArchetype, ArchetypeNet> && !GradientRule<OnlineRuleArchetype, ArchetypeNet>);
static_assert(!SpikingNeuronLayer<HasMembraneDecayArchetype> && !HasMembraneDecay<HasSynapticDecayArchetype>);
static_assert(!EventTransform<FrameTransformArchetype> && !FrameTransform<EventTransformArchetype>);
static_assert(!EmitsSpikes<LayerArchetype> && !PoolingMode<LayerArchetype>);

// ---- the library's own types model the concepts ----------------------------------------------
static_assert(Scalar<float> && Scalar<double> && !Scalar<int>);
static_assert(BatchSource<ImageSource<float>, float> && BatchSource<MtsXorSource<double>, double>);
static_assert(SurrogateGradient<FastSigmoid> && SurrogateGradient<SmoothTwin<Arctan>>);
static_assert(EventFormat<NmnistBin> && EventDataset<FileListDataset<NmnistBin>>);
static_assert(EventTransform<NoTransform> && EventTransform<Downsample> && FrameTransform<ToFrame>);
static_assert(StaticEncoder<RateEncoder, float> && StaticEncoder<LatencyEncoder, double>);
static_assert(Layer<Linear<float>> && ParametricLayer<Linear<double>> && !ParametricLayer<Flatten<float>>);
static_assert(ActivationFunction<Relu> && ActivationFunction<SoftLif>);
static_assert(PoolingMode<AvgPooling> && PoolingMode<MaxPooling> && PoolingMode<SumPooling>);
static_assert(NeuronModel<Lif<float>> && NeuronModel<RecurrentLif<double>> && NeuronModel<LeakyIntegrator<float>>);
static_assert(!NeuronModel<Linear<float>>);
static_assert(Layer<LifType<double, SmoothTwin<Arctan>, ZeroReset, LifOptions{.threshold = Train::per_neuron}>>);
static_assert(ResetPolicy<SubtractReset> && ResetPolicy<ZeroReset> && ResetPolicy<NoReset>);
static_assert(HasMembraneDecay<Lif<float>> && HasMembraneDecay<LeakyIntegrator<float>> && HasSynapticDecay<Lif<double>>);
static_assert(SpikingNeuronLayer<Lif<float>> && !SpikingNeuronLayer<LeakyIntegrator<float>>);
static_assert(Loss<SumCrossEntropy, float> && Loss<PspKernelMse, double> && Loss<WindowCrossEntropy, float>);
static_assert(GradientRule<Bptt<SumCrossEntropy>, Mlp> && OnlineRule<Gem<4>, GlmSnn<float>>);
static_assert(!GradientRule<Bptt<SurrogateGradientArchetype>, Mlp>);  // not a loss
static_assert(LearningRule<Bptt<RateMse>, Mlp> && !LearningRule<Gem<4>, Mlp>);
static_assert(Regularizer<NoRegularizer, Mlp> && Regularizer<DecayRegularizer, Mlp>);
static_assert(UpdatePolicy<Adam, float> && UpdatePolicy<Sgd, double> && UpdatePolicy<AdamW, float>);
static_assert(Schedule<ConstantLr> && Schedule<CosineLr>);
static_assert(EmitsSpikes<Lif<float>> && !EmitsSpikes<LeakyIntegrator<float>>);
static_assert(SpikeDerivative<NeighborhoodAggregation, float> && SpikeDerivative<SurrogateSpikeDerivative<>, double>);
static_assert(StochasticNeuron<GlmNeuron> && StochasticNeuron<WtaNeuron<2>>);
static_assert(ProbabilisticNetwork<GlmSnn<float>> && ProbabilisticNetwork<WtaSnn<double>>);
static_assert(LearningSignal<SingleSampleSignal> && LearningSignal<GemSignal<4>> && LearningSignal<VowelSignal>);

TEST_CASE("Archetype rules train an archetype network in a Trainer", "[concepts]") {
  ArchetypeNet net{LayerArchetype{}};
  TimeSeries<float> x(1, 2, 3);
  x.values().setConstant(2.0f);
  CHECK(net.forward(x).values().sum() == 12.0f);
  BatchSourceArchetype src;
  Trainer trainer(net, OnlineRuleArchetype{});
  CHECK(trainer.fit(src, 2).epochs_run == 2);
  Trainer trainer2(net, GradientRuleArchetype{}, Optimizer<float, UpdatePolicyArchetype, ScheduleArchetype>());
  CHECK(trainer2.fit(src, 1).epochs_run == 1);
}

TEST_CASE("Layer, neuron and activation archetypes run inside the library's templates", "[concepts]") {
  TimeSeries<float> x(1, 2, 3);
  x.values() << 1, -2, 3, -4, 5, -6;
  // the neuron archetype: its step-by-step run equals its sequence forward pass
  NeuronModelArchetype neuron;
  TimeSeries<float> y;
  neuron.forward(x, y, ForwardContext::eval());
  CHECK(run_stepwise(neuron, x).values() == y.values());
  // the activation archetype is the identity
  Activation<float, ActivationFunctionArchetype> identity(1);
  identity.forward(x, y, ForwardContext::eval());
  CHECK(y.values() == x.values());
  // the parametric layer: y = w x, and backward adds sum(x * dL/dy) to dL/dw
  ParametricLayerArchetype gain;
  gain.gain(0, 0) = 3.0f;
  gain.forward(x, y, ForwardContext::eval());
  CHECK(y.values() == (3.0f * x.values()).eval());
  TimeSeries<float> gy(1, 2, 3), gx;
  gy.values().setOnes();
  gain.backward(x, y, gy, &gx);
  CHECK(gain.gain_grad(0, 0) == Approx(x.values().sum()));
  CHECK(gx.values() == (3.0f * gy.values()).eval());
  int visited = 0;
  gain.for_each_parameter([&](ParamRef<float> p) { visited += int(p.value.size()); });
  CHECK(visited == 1);
}

TEST_CASE("A LIF layer runs with the surrogate and reset archetypes", "[concepts]") {
  LifType<float, SurrogateGradientArchetype, ResetPolicyArchetype> lif(1, LifConfig{.beta = 0.5, .threshold = 1.0});
  TimeSeries<float> x(1, 1, 3), y;
  x.values().setConstant(0.75f);
  lif.forward(x, y, ForwardContext::eval());
  // no reset: v = 0.75, 1.125, 1.3125; spikes where v > 1
  CHECK(y.values()(0, 0) == 0.0f);
  CHECK(y.values()(0, 1) == 1.0f);
  CHECK(y.values()(0, 2) == 1.0f);
}

TEST_CASE("The loss archetype gives a zero loss and a zero gradient of the output's shape", "[concepts]") {
  LossArchetype loss;
  TimeSeries<double> out(3, 2, 4), g;
  out.set_zero();
  Batch<double> b;
  b.input.resize(1, 2, 4);
  CHECK(loss.value_and_gradient(out, b, g) == 0.0);
  CHECK(g.features() == 3);
  CHECK(g.batch() == 2);
  CHECK(g.steps() == 4);
  CHECK(loss.tally(out, b).total == 0);
}
