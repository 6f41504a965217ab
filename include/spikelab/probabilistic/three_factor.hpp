/**
 * @file probabilistic/three_factor.hpp
 * @brief ThreeFactor<Signal>: the family of online three-factor learning rules for
 *        probabilistic SNNs (probabilistic/network.hpp), and its simplest member, the
 *        single-sample maximum-likelihood rule (SingleSampleMl).
 *
 * Every rule of the family runs a batch step by step (no BPTT memory), with the outputs
 * clamped to the targets and the hidden circuits sampled, and updates the network after
 * every step from three factors:
 *  1. eligibility traces per compartment column m and parameter (decay kappa),
 *     \f$e^m_t = \kappa e^m_{t-1} + c\,\nabla_\theta \log p(s^m_t \mid u^m_t)\f$ with c = 1
 *     (hrjang / GEM code) or c = 1 - kappa (`filtered_traces`, kclip / VOWEL code);
 *     each gradient is the local "post x pre" product (s - p) (a * s_pre) of the network;
 *  2. a global learning signal per column, computed by the Signal policy from the output
 *     log-likelihood \f$r^m_t = \sum_{i \in Y} \log p(y_{i,t} \mid u^m_{i,t})\f$ (and, for
 *     VOWEL, the hidden circuits' KL term), either as a weight on the traces
 *     (\f$\Delta\theta = g^m_t e^m_t\f$) or
 *  3. as a reward \f$\ell^m_t\f$ against the per-parameter optimal baseline (decay beta)
 *     \f[ b_t = \frac{\beta\,num_{t-1} + (1-\beta)\,(e_t)^2 \ell_t}{\beta\,den_{t-1} + (1-\beta)\,(e_t)^2 + \epsilon},
 *         \qquad \Delta\theta_H = (\ell_t - b_t)\, e^H_t \f]
 *     (elementwise; optionally accumulated, \f$U_t = \kappa U_{t-1} + (1-\kappa)\Delta\theta_H\f$),
 *     or, for a pooling signal (IW), once per sample on the sum of its compartments' traces,
 *     \f$\Delta\theta_H = (\ell_t - b_t)\sum_k e^{k,H}_t\f$ with the baseline of \f$x = \sum_k e^{k,H}_t\f$.
 * Hidden rows and output rows of the parameters get separate signals. After each step
 * \f$\theta \leftarrow \theta + \frac{\eta}{B}\sum_m \Delta\theta^m\f$ (B = samples of the
 * batch: a batch of one sample, as in the official codes, applies each update as is).
 *
 * A Signal policy provides: `name()`, `default_config()`, `compartments()`,
 * `uses_baseline()`, `accumulates_hidden()`, `pools_hidden()`, `begin(cfg, batch, K, reset)`
 * and `compute(net, t, active, hidden, output)` (fills one hidden and one output value per
 * column). Members: SingleSampleSignal (here), GemSignal (probabilistic/gem.hpp), the GEM
 * paper's baselines IwSignal, IwbSignal and MbSignal (probabilistic/gem_baselines.hpp),
 * VowelSignal (probabilistic/vowel.hpp). The rules are OnlineRules for the Trainer; pairing
 * one with a network that is not a ProbabilisticNetwork does not compile.
 *
 * The targets are labels (`train_batch`: the label's output circuit emits its symbol at
 * every step, the others stay silent) or explicit output spike trains (`train_pattern`:
 * learning to reproduce a given spike pattern, the GEM paper's memorisation task).
 *
 * SingleSampleMl (K = 1): outputs \f$\Delta\theta_Y = e^Y_t\f$; hidden either
 * `em` (default: \f$\Delta\theta_H = e^H_t\f$, the M-step of EM with one sample of the hidden
 * circuits from \f$p(h \| x)\f$; GEM with K = 1 reduces to exactly this rule) or `reinforce`
 * (hrjang `train_ml_online`: reward \f$v_t = \kappa v_{t-1} + r_t\f$ against the optimal baseline,
 * \f$\Delta\theta_H = (v_t - b_t) e^H_t\f$). Defaults follow hrjang's driver: eta = 0.05,
 * kappa = beta = 0.05, traces \f$\kappa e + \nabla\f$, reset at every example.
 *
 * @code
 * @article{jang2019introduction, title={An introduction to probabilistic spiking neural networks:
 *   probabilistic models, learning rules, and applications}, author={Jang, Hyeryung and Simeone, Osvaldo
 *   and Gardner, Brian and Gruning, Andre}, journal={IEEE Signal Processing Magazine}, volume={36},
 *   number={6}, pages={64--77}, year={2019}}
 * @endcode
 */
#ifndef SPIKELAB_PROBABILISTIC_THREE_FACTOR_HPP
#define SPIKELAB_PROBABILISTIC_THREE_FACTOR_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/learning/concepts.hpp>
#include <spikelab/probabilistic/concepts.hpp>
#include <spikelab/probabilistic/multi_sample.hpp>
#include <spikelab/probabilistic/network.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <string>
#include <vector>

namespace spikelab {

/// Learning signal of the single-sample maximum-likelihood rule (K = 1).
struct SingleSampleSignal {
  /// How the hidden circuits learn.
  enum class Hidden : std::uint8_t {
    em,        ///< hidden updates e^H (signal 1): EM with one sample; equal to GEM with K = 1
    reinforce  ///< hidden updates (v_t - b_t) e^H: hrjang train_ml_online (mb1)
  };
  Hidden hidden = Hidden::em;  ///< how the hidden circuits learn

  SingleSampleSignal() = default;
  /// The signal with the given treatment of the hidden circuits.
  /// @param h how the hidden circuits learn
  explicit SingleSampleSignal(Hidden h) : hidden(h) {}

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "SingleSampleMl"; }
  /// The rule's default hyperparameters.
  static ThreeFactorConfig default_config() { return {}; }
  /// The number of compartments K.
  Index compartments() const noexcept { return 1; }
  /// True if the rule subtracts the per-parameter baseline from the learning signal.
  bool uses_baseline() const noexcept { return hidden == Hidden::reinforce; }
  /// True if the hidden updates are accumulated, U_t = kappa U_{t-1} + (1 - kappa) dtheta.
  bool accumulates_hidden() const noexcept { return false; }
  /// True if the hidden rows learn once per sample from the sum of its compartments' traces.
  bool pools_hidden() const noexcept { return false; }

  /// Prepares a batch: its configuration, size and compartments (and whether state is reset).
  void begin(const ThreeFactorConfig& cfg, Index batch, Index K, bool reset) {
    kappa_ = cfg.kappa;
    if (reset || v_.size() != std::size_t(batch * K)) v_.assign(std::size_t(batch * K), 0.0);
  }
  /// The learning signals of step t: one hidden and one output value per column.
  template <ProbabilisticNetwork Net>
  void compute(const Net& net, Index, const std::vector<char>& active, std::vector<double>& h,
               std::vector<double>& y) {
    const auto& r = net.output_log_likelihood();
    for (std::size_t m = 0; m < v_.size(); ++m) {
      if (!active[m]) continue;
      v_[m] = kappa_ * v_[m] + r[m];
      h[m] = hidden == Hidden::em ? 1.0 : v_[m];
      y[m] = 1.0;
    }
  }
  /// The decayed output log-likelihood v of each column (after compute()).
  const std::vector<double>& decayed_log_likelihood() const noexcept { return v_; }

  /// The variant and the carried v (it carries over batches when traces do).
  template <class Ar>
  void serialize(Ar& ar) {
    ar(CEREAL_NVP(hidden), cereal::make_nvp("kappa", kappa_), cereal::make_nvp("v", v_));
  }

 private:
  double kappa_ = 0.05;
  std::vector<double> v_;
};

/// The family of online three-factor learning rules of probabilistic SNNs: eligibility traces
/// \f$ e_t = \kappa e_{t-1} + c \nabla_\theta \log p(s_t \mid u_t) \f$, a global learning signal
/// and, optionally, a reward baseline, applied after every step (Jang et al., IEEE Signal
/// Processing Magazine 2019).
/// @tparam Signal the learning signal of the rule (a LearningSignal: SingleSampleSignal, GemSignal, ...)
template <LearningSignal Signal>
class ThreeFactor {
 public:
  using signal_type = Signal;  ///< the learning signal

  /// The rule with the signal's default configuration.
  ThreeFactor() : ThreeFactor(Signal::default_config()) {}
  /// The rule with the given configuration; throws ConfigError when it is out of range.
  /// @param cfg learning rate, trace and baseline decays
  /// @param signal the learning signal
  explicit ThreeFactor(ThreeFactorConfig cfg, Signal signal = {}) : cfg_(cfg), signal_(std::move(signal)) {
    cfg_.validate(name());
  }

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return Signal::name(); }
  /// The hyperparameters.
  ThreeFactorConfig& config() noexcept { return cfg_; }
  /// The run-time configuration.
  const ThreeFactorConfig& config() const noexcept { return cfg_; }
  /// The learning signal.
  Signal& signal() noexcept { return signal_; }
  /// The learning signal.
  const Signal& signal() const noexcept { return signal_; }
  /// Compartments per sample during training.
  Index compartments() const { return signal_.compartments(); }
  /// Compartments per sample in evaluate().
  Index eval_compartments() const { return cfg_.eval_compartments > 0 ? cfg_.eval_compartments : compartments(); }

  /// Trains on one batch online (an update after every step) with the outputs clamped to the
  /// labels. Returns loss = - mean over samples of the K-sample importance-weighted output
  /// log-likelihood seen during the pass (tally empty: outputs are clamped while training).
  template <ProbabilisticNetwork Net>
  StepStats train_batch(Net& net, const Batch<typename Net::scalar_type>& batch, Rng& rng) {
    using S = typename Net::scalar_type;
    const Teacher<S> tg = Teacher<S>::from(batch);
    if (!tg.labels && !tg.step_labels) throw ConfigError(name() + ": the batch has no labels to clamp the outputs to");
    return train_clamped(net, batch, tg, rng);
  }

  /// Trains on one batch online with the outputs clamped to the spike trains `outputs`
  /// (net.output_units() features, unit n*C + c = symbol c of output circuit n; the batch's
  /// samples and steps): the network learns to reproduce the pattern given the inputs. The
  /// batch's labels, if any, are ignored. Returns what train_batch returns.
  template <ProbabilisticNetwork Net>
  StepStats train_pattern(Net& net, const Batch<typename Net::scalar_type>& batch,
                          const TimeSeries<typename Net::scalar_type>& outputs, Rng& rng) {
    using S = typename Net::scalar_type;
    if (outputs.features() != net.output_units() || outputs.batch() != batch.batch() || outputs.steps() != batch.steps())
      throw ShapeError(name() + "::train_pattern: output spikes " + outputs.shape_string() + " do not match " +
                       std::to_string(net.output_units()) + " output units x the batch " + batch.input.shape_string());
    Teacher<S> tg;
    tg.outputs = &outputs;
    return train_clamped(net, batch, tg, rng);
  }

 private:
  template <ProbabilisticNetwork Net>
  StepStats train_clamped(Net& net, const Batch<typename Net::scalar_type>& batch,
                          const Teacher<typename Net::scalar_type>& tg, Rng& rng) {
    using S = typename Net::scalar_type;
    cfg_.validate(name());
    const Index K = compartments();
    detail::check_classification_batch(net, batch, K, name().c_str());
    State<S>& st = state_.template get<S>();
    const Index B = batch.batch(), T = batch.steps(), M = B * K;
    net.begin(B, K);
    const bool fresh = prepare(net, st, B, K);
    const bool reset = cfg_.reset_per_example || fresh;
    if (reset) {
      for (auto& e : st.e) e.set_zero();
      for (auto& e : st.num) e.set_zero();
      for (auto& e : st.den) e.set_zero();
      for (auto& e : st.acc) e.set_zero();
    }
    signal_.begin(cfg_, B, K, reset);
    std::fill(st.ll.begin(), st.ll.end(), 0.0);
    const S kappa = S(cfg_.kappa);
    const S grad_scale = cfg_.filtered_traces ? S(1) - kappa : S(1);
    const Index F = net.feature_size();
    const double cost = double(M) * double(net.learnable_units()) * (signal_.uses_baseline() ? 6.0 : 3.0);
    for (Index t = 0; t < T; ++t) {
      net.step(batch.input, t, tg, OutputMode::clamp, rng);
      Index active_samples = 0;
      for (Index b = 0; b < B; ++b) {
        const char a = t < batch.length(b) ? 1 : 0;
        active_samples += a;
        for (Index k = 0; k < K; ++k) st.active[std::size_t(b * K + k)] = a;
      }
      if (active_samples == 0) continue;
      signal_.compute(net, t, st.active, st.hidden, st.output);
      const S eta = S(cfg_.lr / double(active_samples));
      const bool pooled = signal_.pools_hidden();
      detail::parallel_ranges(F, cost, [&](Index f0, Index f1) {
        for (Index m = 0; m < M; ++m)
          if (st.active[std::size_t(m)]) net.accumulate_gradient(m, kappa, grad_scale, st.e[std::size_t(m)], f0, f1);
        if (pooled)
          for (Index b = 0; b < B; ++b)
            if (st.active[std::size_t(b * K)]) pool_traces(net, st, b, K, f0, f1);
        for (Index m = 0; m < M; ++m)
          if (st.active[std::size_t(m)]) apply(net, st, m, K, eta, f0, f1);
      });
      net.enforce_topology();
      const auto& r = net.output_log_likelihood();
      for (Index m = 0; m < M; ++m)
        if (st.active[std::size_t(m)]) st.ll[std::size_t(m)] += r[std::size_t(m)];
    }
    net.check_finite(name().c_str());
    StepStats out;
    double loss = 0;
    for (Index b = 0; b < B; ++b) loss -= detail::log_mean_exp(st.ll, std::size_t(b * K), std::size_t(K));
    out.loss = B ? loss / double(B) : 0.0;
    if (!std::isfinite(out.loss)) throw NumericError(name() + ": the output log-likelihood is not finite");
    return out;
  }

 public:
  /// Inference: loss = - mean IW target log-likelihood from eval_compartments() samples
  /// (outputs clamped), tally = decisions (config().decision) with outputs sampled.
  template <ProbabilisticNetwork Net>
  StepStats evaluate(Net& net, const Batch<typename Net::scalar_type>& batch, Rng& rng) {
    const Index K = eval_compartments();
    StepStats st;
    const Teacher<typename Net::scalar_type> tg = Teacher<typename Net::scalar_type>::from(batch);
    if (tg.labels || tg.step_labels) {
      target_log_likelihood(net, batch, K, rng, mean_, iw_);
      double s = 0;
      for (double v : iw_) s -= v;
      st.loss = iw_.empty() ? 0.0 : s / double(iw_.size());
    }
    if (!batch.labels.empty()) {
      predict(net, batch, K, rng, pred_);
      for (Index b = 0; b < batch.batch(); ++b) {
        ++st.tally.total;
        st.tally.correct += pred_.predicted(cfg_.decision, b) == batch.labels[std::size_t(b)] ? 1 : 0;
      }
    }
    return st;
  }

 private:
  template <Scalar S>
  struct State {
    std::vector<SynapticBlocks<S>> e, num, den, acc;
    std::vector<SynapticBlocks<S>> pool;  // per sample: sum of its compartments' traces (pooling signals)
    std::vector<double> hidden, output, ll;
    std::vector<char> active;

    // the buffers prepare() does not rebuild at every batch
    /// cereal serialisation: what checkpoints store (not called directly).
    template <class Ar>
    void serialize(Ar& ar) {
      ar(CEREAL_NVP(e), CEREAL_NVP(num), CEREAL_NVP(den), CEREAL_NVP(acc));
    }
    /// A loaded state must be usable by prepare(), which checks the shape of e[0] only.
    void check_loaded() const {
      auto same = [&](const std::vector<SynapticBlocks<S>>& v) {
        if (!v.empty() && v.size() != e.size())
          throw cereal::Exception("ThreeFactor: stored traces for " + std::to_string(e.size()) +
                                  " columns but another buffer for " + std::to_string(v.size()));
        for (const auto& b : v)
          if (!b.same_shape(e[0].w.rows(), e[0].w.cols(), e[0].fb.cols()))
            throw cereal::Exception("ThreeFactor: stored trace buffers of different shapes");
      };
      for (const auto* v : {&e, &num, &den, &acc}) same(*v);
    }
  };

  /// Sizes the per-column buffers; true when they had to be (re)allocated.
  template <class Net, class S>
  bool prepare(const Net& net, State<S>& st, Index B, Index K) {
    const Index M = B * K;
    if (signal_.pools_hidden() && st.pool.size() != std::size_t(B)) {
      st.pool.resize(std::size_t(B));
      for (auto& x : st.pool) net.shape_like_parameters(x);
    } else if (signal_.pools_hidden() && B > 0 && !net.shaped_like_parameters(st.pool[0])) {
      for (auto& x : st.pool) net.shape_like_parameters(x);
    }
    bool fresh = st.e.size() != std::size_t(M) || (M > 0 && !net.shaped_like_parameters(st.e[0]));
    const bool base = signal_.uses_baseline(), acc = base && signal_.accumulates_hidden();
    if (base && st.num.size() != std::size_t(M)) fresh = true;
    if (acc && st.acc.size() != std::size_t(M)) fresh = true;
    if (fresh) {
      auto shape = [&](std::vector<SynapticBlocks<S>>& v, bool need) {
        v.resize(need ? std::size_t(M) : 0);
        for (auto& x : v) net.shape_like_parameters(x);
      };
      shape(st.e, true);
      shape(st.num, base);
      shape(st.den, base);
      shape(st.acc, acc);
    }
    st.hidden.assign(std::size_t(M), 0.0);
    st.output.assign(std::size_t(M), 0.0);
    st.ll.assign(std::size_t(M), 0.0);
    st.active.assign(std::size_t(M), 1);
    return fresh;
  }

  /// The hidden rows of sample b's pooled traces: sum over its K compartments, on W feature
  /// columns [f0, f1) (and w_fb, bias when f0 == 0).
  template <class Net, class S>
  void pool_traces(const Net& net, State<S>& st, Index b, Index K, Index f0, Index f1) {
    const Index nh = net.hidden_units(), n = f1 - f0;
    if (nh == 0) return;
    SynapticBlocks<S>& P = st.pool[std::size_t(b)];
    auto sum = [&](auto&& dst, auto get) {
      dst = get(st.e[std::size_t(b * K)]);
      for (Index k = 1; k < K; ++k) dst += get(st.e[std::size_t(b * K + k)]);
    };
    sum(P.w.middleCols(f0, n).topRows(nh), [&](SynapticBlocks<S>& e) { return e.w.middleCols(f0, n).topRows(nh); });
    if (f0 == 0) {
      sum(P.fb.topRows(nh), [&](SynapticBlocks<S>& e) { return e.fb.topRows(nh); });
      sum(P.bias.topRows(nh), [&](SynapticBlocks<S>& e) { return e.bias.topRows(nh); });
    }
  }

  /// theta += eta * (update of column m) on W feature columns [f0, f1) (and w_fb, bias when
  /// f0 == 0). A pooling signal updates the hidden rows once per sample (at its first
  /// compartment) from the pooled traces, with that column's baseline buffers.
  template <class Net, class S>
  void apply(Net& net, State<S>& st, Index m, Index K, S eta, Index f0, Index f1) {
    const std::size_t mi = std::size_t(m);
    const bool pooled = signal_.pools_hidden();
    const Index ny = net.output_units(), n = f1 - f0;
    const Index nh = pooled && m % K != 0 ? 0 : net.hidden_units();
    const S gy = eta * S(st.output[mi]);
    const bool base = signal_.uses_baseline(), accumulate = base && signal_.accumulates_hidden();
    const S beta = S(cfg_.beta), kappa = S(cfg_.kappa), eps = S(cfg_.baseline_epsilon);
    const S l = S(st.hidden[mi]);
    auto update = [&](auto&& P, const auto& E, const auto& EH, auto&& N, auto&& D, auto&& U) {
      if (ny > 0) P.bottomRows(ny).array() += gy * E.bottomRows(ny).array();
      if (nh == 0) return;
      if (!base) {
        P.topRows(nh).array() += (eta * l) * EH.topRows(nh).array();
        return;
      }
      auto e = EH.topRows(nh).array();
      auto num = N.topRows(nh).array();
      auto den = D.topRows(nh).array();
      num = beta * num + ((S(1) - beta) * l) * e.square();
      den = beta * den + (S(1) - beta) * e.square();
      if (accumulate) {
        auto u = U.topRows(nh).array();
        u = kappa * u + (S(1) - kappa) * (l - num / (den + eps)) * e;
        P.topRows(nh).array() += eta * u;
      } else {
        P.topRows(nh).array() += eta * (l - num / (den + eps)) * e;
      }
    };
    SynapticBlocks<S>& E = st.e[mi];
    SynapticBlocks<S>& EH = pooled ? st.pool[std::size_t(m / K)] : E;
    SynapticBlocks<S>* N = base ? &st.num[mi] : &E;
    SynapticBlocks<S>* D = base ? &st.den[mi] : &E;
    SynapticBlocks<S>* U = accumulate ? &st.acc[mi] : &E;
    update(net.weight().middleCols(f0, n), E.w.middleCols(f0, n), EH.w.middleCols(f0, n), N->w.middleCols(f0, n),
           D->w.middleCols(f0, n), U->w.middleCols(f0, n));
    if (f0 == 0) {
      update(net.feedback_weight(), E.fb, EH.fb, N->fb, D->fb, U->fb);
      update(net.bias(), E.bias, EH.bias, N->bias, D->bias, U->bias);
    }
  }

  ThreeFactorConfig cfg_;
  Signal signal_;
  detail::PerScalar<State<float>, State<double>> state_;

 public:
  static constexpr std::uint32_t class_version = 1;  ///< the class version checkpoints store (cereal)

  /// What a training checkpoint stores of the rule: its configuration, its signal (with the
  /// learning signal it carries) and the per-column traces, baselines and accumulators, which
  /// carry over from one batch to the next when `reset_per_example` is off (VOWEL).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    static_assert(requires(Signal& s, Ar& a) { s.serialize(a); },
                  "a training checkpoint of a ThreeFactor rule needs its Signal to have serialize(archive)");
    ar(cereal::make_nvp("config", cfg_), cereal::make_nvp("signal", signal_), cereal::make_nvp("state_float", state_.f),
       cereal::make_nvp("state_double", state_.d));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, class_version, "ThreeFactor");
    ThreeFactorConfig cfg;
    Signal signal = signal_;
    detail::PerScalar<State<float>, State<double>> state;
    ar(cereal::make_nvp("config", cfg), cereal::make_nvp("signal", signal), cereal::make_nvp("state_float", state.f),
       cereal::make_nvp("state_double", state.d));
    cfg.validate(name());
    state.f.check_loaded();
    state.d.check_loaded();
    cfg_ = cfg;
    signal_ = std::move(signal);
    state_ = std::move(state);
  }

 private:
  MultiSamplePrediction pred_;
  std::vector<double> mean_, iw_;
};

/// The single-sample maximum-likelihood rule (K = 1); see SingleSampleSignal.
using SingleSampleMl = ThreeFactor<SingleSampleSignal>;

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class Sig), (spikelab::ThreeFactor<Sig>), 1)

#endif
