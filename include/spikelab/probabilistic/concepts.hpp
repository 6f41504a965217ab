/**
 * @file probabilistic/concepts.hpp
 * @brief The concepts of probabilistic SNNs, with their archetypes, and the types their
 *        requirements are phrased in: StochasticNeuron (a neuron policy), ProbabilisticNetwork
 *        (what the online three-factor rules train; OutputMode, Teacher, SynapticBlocks) and
 *        LearningSignal (the policy of a three-factor rule; ThreeFactorConfig, Decision).
 *
 * StochasticNeuron<N>: a stochastic neuron ("circuit") with C = `N::symbols` >= 1 symbols
 * emits at each step either no spike or exactly one symbol, drawn from the categorical
 * distribution over [0, u_1 .. u_C] of its membrane potentials u:
 * \f[ p(s = c \mid u) = \frac{e^{u_c}}{1 + \sum_{c'} e^{u_{c'}}},\qquad
 *     p(s = 0 \mid u) = \frac{1}{1 + \sum_{c'} e^{u_{c'}}}. \f]
 * All static, on one circuit's C contiguous values, for float and double: `N::name()`,
 * `N::probabilities(u, p)` (writes p_1..p_C), `N::log_partition(u)`
 * (\f$\log(1 + \sum_c e^{u_c})\f$, computed stably), `N::sample(p, s, rng)` (writes a one-hot
 * or all-zero s_1..s_C).
 *
 * ProbabilisticNetwork<Net>: a network of StochasticNeurons (`Net::neuron_type`, scalar
 * `Net::scalar_type`) that runs K compartments per sample as extra columns of one batched
 * pass: `n.begin(batch, K)` starts a run; `n.step(x, t, teacher, mode, rng)` simulates step t
 * with the inputs clamped to x, the outputs clamped to the Teacher (OutputMode::clamp) or
 * sampled (OutputMode::sample); then `cn.output_log_likelihood()` (per column),
 * `cn.hidden_kl(m, log_q0, log_qc)` (the hidden circuits' KL term of column m),
 * `cn.spikes()`, and `cn.accumulate_gradient(m, decay, scale, e, f0, f1)`
 * (e <- decay e + scale grad log p of column m, on W's feature columns [f0, f1)) into
 * SynapticBlocks shaped by `cn.shape_like_parameters(e)`; `n.enforce_topology()` after an
 * update; `cn.signature()`.
 *
 * LearningSignal<Sig>: the global learning signal of a ThreeFactor rule
 * (probabilistic/three_factor.hpp): `Sig::name()`, `Sig::default_config()` (its
 * ThreeFactorConfig), `s.compartments()` (K), `s.uses_baseline()`, `s.accumulates_hidden()`,
 * `s.pools_hidden()` (the hidden update of a sample uses the sum of its K compartments'
 * traces, with one baseline per sample, instead of one update per compartment),
 * `s.begin(cfg, batch, K, reset)` before a batch, and `s.compute(net, t, active, hidden,
 * output)` after each step, filling one hidden and one output value per column (a template
 * over the network, so the concept cannot check it).
 *
 * @code
 * @article{jang2019introduction, title={An introduction to probabilistic spiking neural networks:
 *   probabilistic models, learning rules, and applications}, author={Jang, Hyeryung and Simeone, Osvaldo
 *   and Gardner, Brian and Gruning, Andre}, journal={IEEE Signal Processing Magazine}, volume={36},
 *   number={6}, pages={64--77}, year={2019}}
 * @endcode
 */
#ifndef SPIKELAB_PROBABILISTIC_CONCEPTS_HPP
#define SPIKELAB_PROBABILISTIC_CONCEPTS_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/serialization.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/types.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <string>
#include <vector>

namespace spikelab {

/// A stochastic neuron policy (see the file comment).
/// @tparam N the neuron type
template <class N>
concept StochasticNeuron = requires(const float* uf, float* pf, const double* ud, double* pd, Rng& rng) {
  { N::symbols } -> std::convertible_to<Index>;
  { N::name() } -> std::convertible_to<std::string>;
  N::probabilities(uf, pf);
  N::probabilities(ud, pd);
  { N::log_partition(uf) } -> std::same_as<float>;
  { N::log_partition(ud) } -> std::same_as<double>;
  N::sample(uf, pf, rng);
  N::sample(ud, pd, rng);
} && (N::symbols >= 1);

/// The smallest StochasticNeuron: one symbol, p = sigmoid(u) (without the GLM neuron's
/// overflow guards).
struct StochasticNeuronArchetype {
  static constexpr Index symbols = 1;  ///< symbols per circuit
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "StochasticNeuronArchetype"; }
  /// The spike probabilities of every symbol from the potentials u.
  template <Scalar S>
  static void probabilities(const S* u, S* p) { p[0] = S(1) / (S(1) + std::exp(-u[0])); }
  /// log of the normaliser, log(1 + sum_c e^{u_c}).
  template <Scalar S>
  static S log_partition(const S* u) { return std::log1p(std::exp(u[0])); }
  /// Draws the spikes s from the probabilities p.
  template <Scalar S>
  static void sample(const S* p, S* s, Rng& rng) { s[0] = rng.uniform() < double(p[0]) ? S(1) : S(0); }
};
static_assert(StochasticNeuron<StochasticNeuronArchetype>);

/// How the output circuits behave in a step: clamped to the target (teacher forcing,
/// training and log-likelihood evaluation) or sampled (free-running inference).
enum class OutputMode : std::uint8_t { clamp, sample };

/// What clamped visible circuits are set to. With `labels` (one per sample) or `step_labels`
/// (one per (sample, step) at t*B+b; -1 = all outputs silent) the target output circuit
/// emits the configured symbol at every step and the others stay silent (Jang & Simeone,
/// ICASSP 2021). With `outputs` (outputs*C features) the output spikes are given explicitly;
/// with `hidden` (hidden*C features) the hidden circuits are clamped too (log p of a full
/// trajectory). Both use the units' layout: feature n*C + c for symbol c of circuit n.
/// @tparam S the scalar type (float or double)
template <Scalar S>
struct Teacher {
  const std::vector<int>* labels = nullptr;  ///< one class per sample, or null
  const std::vector<int>* step_labels = nullptr;  ///< one class per (sample, step), or null
  const TimeSeries<S>* outputs = nullptr;  ///< the target output spikes, or null
  const TimeSeries<S>* hidden = nullptr;  ///< given hidden spikes (complete trajectories), or null

  /// The targets of a batch.
  static Teacher from(const Batch<S>& b) {
    Teacher t;
    if (!b.step_labels.empty())
      t.step_labels = &b.step_labels;
    else if (!b.labels.empty())
      t.labels = &b.labels;
    return t;
  }
};

/// Matrices shaped like the parameters of a ProbabilisticSnn (eligibility traces, baselines,
/// accumulated updates): w (units_l x features), fb (units_l x K_b), bias (units_l x 1).
/// @tparam S the scalar type (float or double)
template <Scalar S>
struct SynapticBlocks {
  ///@{
  /// The blocks of W, of the feedback weights and of the biases.
  Matrix<S> w, fb, bias;
  ///@}
  /// True if the blocks have the given shapes.
  bool same_shape(Index rows, Index features, Index fb_bases) const noexcept {
    return w.rows() == rows && w.cols() == features && fb.rows() == rows && fb.cols() == fb_bases &&
           bias.rows() == rows && bias.cols() == 1;
  }
  /// Gives the blocks the given shapes, zeroed.
  void resize_zero(Index rows, Index features, Index fb_bases) {
    w.setZero(rows, features);
    fb.setZero(rows, fb_bases);
    bias.setZero(rows, 1);
  }
  /// Zeroes every block.
  void set_zero() {
    w.setZero();
    fb.setZero();
    bias.setZero();
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar) {
    ar(CEREAL_NVP(w), CEREAL_NVP(fb), CEREAL_NVP(bias));
  }
};

/// A network the online three-factor rules (probabilistic/three_factor.hpp) can train: K
/// compartments per sample in one batched pass, clamp/sample modes, per-column log
/// probabilities and the analytic gradient of log p (see the file comment).
/// @tparam Net the network type
template <class Net>
concept ProbabilisticNetwork =
    StochasticNeuron<typename Net::neuron_type> &&
    requires(Net& n, const Net& cn, const TimeSeries<typename Net::scalar_type>& x,
             const Teacher<typename Net::scalar_type>& tg, Rng& rng, SynapticBlocks<typename Net::scalar_type>& e,
             Index i, typename Net::scalar_type s) {
      n.begin(i, i);
      n.step(x, i, tg, OutputMode::clamp, rng);
      cn.accumulate_gradient(i, s, s, e, i, i);
      cn.shape_like_parameters(e);
      { cn.output_log_likelihood() } -> std::convertible_to<const std::vector<double>&>;
      { cn.hidden_kl(i, 0.0, 0.0) } -> std::convertible_to<double>;
      { cn.spikes() } -> std::convertible_to<const Matrix<typename Net::scalar_type>&>;
      n.enforce_topology();
      { cn.signature() } -> std::convertible_to<std::string>;
    };

/// The smallest ProbabilisticNetwork: no circuit and no parameter; every column's
/// log-likelihood is 0.
struct ProbabilisticNetworkArchetype {
  using scalar_type = float;  ///< the scalar type S
  using neuron_type = StochasticNeuronArchetype;  ///< the circuit model

  /// Prepares a batch: its configuration, size and compartments (and whether state is reset).
  void begin(Index batch, Index compartments) { log_likelihood.assign(std::size_t(batch * compartments), 0.0); }
  /// One step of the network (see ProbabilisticNetwork).
  void step(const TimeSeries<float>&, Index, const Teacher<float>&, OutputMode, Rng&) {}
  /// Adds the local gradient of one step to `e` (see ProbabilisticNetwork).
  void accumulate_gradient(Index, float, float, SynapticBlocks<float>&, Index, Index) const {}
  /// Shapes `e` like the parameters.
  void shape_like_parameters(SynapticBlocks<float>& e) const { e.resize_zero(0, 0, 0); }
  /// The outputs' log-likelihood of the last step, per column.
  const std::vector<double>& output_log_likelihood() const { return log_likelihood; }
  /// The hidden circuits' KL term of the last step.
  double hidden_kl(Index, double, double) const { return 0.0; }
  /// The spikes of the last step.
  const Matrix<float>& spikes() const { return spike_matrix; }
  /// Zeroes the switched-off connections.
  void enforce_topology() {}
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const { return "ProbabilisticNetworkArchetype"; }

  std::vector<double> log_likelihood;  ///< what output_log_likelihood() returns
  Matrix<float> spike_matrix;  ///< what spikes() returns
};
static_assert(ProbabilisticNetwork<ProbabilisticNetworkArchetype>);

/// How multi-sample inference turns K compartments into a class decision
/// (probabilistic/multi_sample.hpp): a majority vote, or the average of the spike-count
/// distributions.
enum class Decision : std::uint8_t { majority, average };

/// Hyperparameters shared by the three-factor family.
struct ThreeFactorConfig {
  double lr = 0.05;                ///< eta
  double kappa = 0.05;             ///< eligibility-trace (and learning-signal) decay
  double beta = 0.05;              ///< baseline decay
  bool filtered_traces = false;    ///< e = kappa e + (1 - kappa) grad (kclip) instead of kappa e + grad (hrjang)
  bool reset_per_example = true;   ///< traces, signals and baselines restart with every batch
  double baseline_epsilon = 1e-7;  ///< added to the baseline denominator
  Index eval_compartments = 0;     ///< K used by evaluate(); 0 = the rule's training K
  Decision decision = Decision::majority;  ///< decision rule of evaluate()

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar) {
    ar(CEREAL_NVP(lr), CEREAL_NVP(kappa), CEREAL_NVP(beta), CEREAL_NVP(filtered_traces), CEREAL_NVP(reset_per_example),
       CEREAL_NVP(baseline_epsilon), CEREAL_NVP(eval_compartments), CEREAL_NVP(decision));
  }

  /// Throws ConfigError naming `who` unless every value is in range.
  void validate(const std::string& who) const {
    if (!(lr >= 0) || !std::isfinite(lr)) throw ConfigError(who + ": lr must be finite and >= 0");
    if (!(kappa >= 0 && kappa < 1)) throw ConfigError(who + ": kappa must be in [0, 1)");
    if (!(beta >= 0 && beta < 1)) throw ConfigError(who + ": beta must be in [0, 1)");
    if (!(baseline_epsilon > 0)) throw ConfigError(who + ": baseline_epsilon must be > 0");
    if (eval_compartments < 0) throw ConfigError(who + ": eval_compartments must be >= 0");
  }
};

/// The learning-signal policy of a ThreeFactor rule (see the file comment).
/// @tparam Sig the signal type
template <class Sig>
concept LearningSignal = requires(Sig& s, const Sig& cs, const ThreeFactorConfig& cfg, Index i, bool f) {
  { Sig::name() } -> std::convertible_to<std::string>;
  { Sig::default_config() } -> std::same_as<ThreeFactorConfig>;
  { cs.compartments() } -> std::convertible_to<Index>;
  { cs.uses_baseline() } -> std::same_as<bool>;
  { cs.accumulates_hidden() } -> std::same_as<bool>;
  { cs.pools_hidden() } -> std::same_as<bool>;
  s.begin(cfg, i, i, f);
};

/// The smallest LearningSignal: one compartment and a zero signal, so the rule learns nothing.
struct LearningSignalArchetype {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "LearningSignalArchetype"; }
  /// The rule's default hyperparameters.
  static ThreeFactorConfig default_config() { return {}; }
  /// The number of compartments K.
  Index compartments() const { return 1; }
  /// True if the rule subtracts the per-parameter baseline from the learning signal.
  bool uses_baseline() const { return false; }
  /// True if the hidden updates are accumulated, U_t = kappa U_{t-1} + (1 - kappa) dtheta.
  bool accumulates_hidden() const { return false; }
  /// True if the hidden rows learn once per sample from the sum of its compartments' traces.
  bool pools_hidden() const { return false; }
  /// Prepares a batch: its configuration, size and compartments (and whether state is reset).
  void begin(const ThreeFactorConfig&, Index, Index, bool) {}
  /// The learning signals of step t: one hidden and one output value per column.
  template <ProbabilisticNetwork Net>
  void compute(const Net&, Index, const std::vector<char>& active, std::vector<double>& hidden,
               std::vector<double>& output) const {
    hidden.assign(active.size(), 0.0);
    output.assign(active.size(), 0.0);
  }
};
static_assert(LearningSignal<LearningSignalArchetype>);

}  // namespace spikelab

#endif
