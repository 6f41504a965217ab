/**
 * @file probabilistic/network.hpp
 * @brief ProbabilisticSnn<S, Neuron>: a recurrent network of probabilistic GLM neurons
 *        (Neuron = GlmNeuron, Bernoulli spiking) or WTA circuits (Neuron = WtaNeuron<C>),
 *        with the topology of the GEM / VOWEL papers, basis-kernel synaptic traces, clamp or
 *        sample modes for the visible neurons, K weight-sharing compartments run as extra
 *        columns of one batched pass, and the analytic gradient of log p.
 *
 * Neurons are split into inputs X (always clamped to the data), hidden H (always sampled,
 * unless a whole trajectory is given to log_prob) and outputs Y (clamped to the target
 * during training, sampled at test). Which groups of connections exist is a value, the
 * ProbabilisticTopology of the configuration: output <- input, hidden <- output, hidden <-
 * hidden, output <- output and the outputs' self-feedback can each be switched off or on;
 * hidden circuits always receive from the inputs, outputs always from the hidden circuits,
 * and no circuit receives from itself through W (its own history enters through the
 * feedback kernel only). The default is the topology of the GEM code (hrjang
 * `make_network_parameters`, the same as kclip `make_topology` for WTA networks): outputs
 * receive from everything, hidden circuits from inputs and hidden circuits. With hidden <-
 * output on (the kclip binary baseline), hidden circuits see the outputs' past spikes: the
 * clamped targets during training, the sampled outputs at test; the factorisation
 * p(h, y || x) = prod_t p(h_t | past) p(y_t | past) stays causal, so every rule applies
 * unchanged. A connection that is off has weight zero and gets no update. For learnable
 * circuit i and symbol c (C = 1 for GLM):
 * \f[ u_{i,c,t} = \sum_{j \in P_i}\sum_{c'}\sum_{k=1}^{K_a} w_{i,c,j,c',k}\,(a_k * s_{j,c'})_{t-1}
 *              + \sum_{k=1}^{K_b} w^{fb}_{i,c,k}\,(b_k * s_{i,c})_{t-1} + \gamma_{i,c} \f]
 * and s_{i,t} ~ softmax([0, u_{i,1,t} .. u_{i,C,t}]) (probabilistic/glm.hpp, probabilistic/wta.hpp). The
 * local gradients ("post x pre" factors of the three-factor rules) are
 * \f[ \frac{\partial \log p}{\partial \gamma_{i,c}} = s_{i,c,t} - p_{i,c,t},\quad
 *     \frac{\partial \log p}{\partial w_{i,c,j,c',k}} = (s_{i,c,t} - p_{i,c,t})(a_k * s_{j,c'})_{t-1},\quad
 *     \frac{\partial \log p}{\partial w^{fb}_{i,c,k}} = (s_{i,c,t} - p_{i,c,t})(b_k * s_{i,c})_{t-1}. \f]
 *
 * Layout. Units are (circuit, symbol) pairs, inputs first, then hidden, then outputs (the
 * input features are read in the configured InputLayout, by default the planar layout of
 * event frames: feature c * inputs + n). The
 * pre-synaptic feature vector of a column is phi = [(a_k * s_u)_{t-1}] indexed u*K_a + k, so
 * W is (learnable units x all units * K_a); masked entries (no connection) are kept at zero.
 * A batch of B samples with K compartments runs as M = B*K columns, column m = b*K + k:
 * compartments of one sample see the same clamped inputs and outputs and sample their hidden
 * circuits independently. Histories are a ring buffer of the last L = max(tau_ff, tau_fb)
 * steps; all buffers are allocated by begin() and reused, so step() does not allocate.
 *
 * Differences from the official codes of GEM and VOWEL: kernel traces use exactly the
 * same L-step window in the potential and in its gradient (hrjang's gradient drops the
 * oldest step); logs are exact instead of log(p + 1e-7); the hrjang first-step quirk
 * (init_ml_vars processes step 0 twice) is not reproduced.
 *
 * @code
 * @inproceedings{jang2021gem, title={Multi-Sample Online Learning for Spiking Neural Networks based on
 *   Generalized Expectation Maximization}, author={Jang, Hyeryung and Simeone, Osvaldo},
 *   booktitle={IEEE ICASSP}, pages={4080--4084}, year={2021}, note={arXiv:2102.03280}}
 * @inproceedings{jang2020vowel, title={{VOWEL}: A Local Online Learning Rule for Recurrent Networks of
 *   Probabilistic Spiking Winner-Take-All Circuits}, author={Jang, Hyeryung and Skatchkovsky, Nicolas
 *   and Simeone, Osvaldo}, booktitle={ICPR}, year={2021}, note={arXiv:2004.09416}}
 * @endcode
 */
#ifndef SPIKELAB_PROBABILISTIC_NETWORK_HPP
#define SPIKELAB_PROBABILISTIC_NETWORK_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/serialization.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/probabilistic/concepts.hpp>
#include <spikelab/probabilistic/glm.hpp>
#include <spikelab/probabilistic/kernels.hpp>
#include <spikelab/probabilistic/wta.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstdint>
#include <string>
#include <vector>

namespace spikelab {

/// How the data lays out the C symbols of the input circuits (C > 1).
enum class InputLayout : std::uint8_t {
  planar,      ///< feature c * inputs + n: one plane per symbol, as event frames' polarity channels
  interleaved  ///< feature n * C + c: the symbols of a circuit side by side
};

/// Which groups of connections a ProbabilisticSnn has (see the file comment). Hidden <-
/// input and output <- hidden are always on; a circuit never receives from itself through W.
/// Named presets:
///  - gem_code(): the GEM code's topology (hrjang `make_network_parameters`), which is also
///    kclip's `wta` network on a `fully_connected` topology: outputs receive from inputs,
///    hidden circuits and other outputs, with self-feedback; hidden circuits from inputs and
///    hidden circuits. The default.
///  - kclip_binary(): kclip `make_topology` for the binary baseline (`snn`,
///    `fully_connected`): as gem_code() plus hidden <- output.
///  - kclip_feedforward(): kclip's `feedforward` topology type: outputs see hidden circuits
///    and other outputs, not the inputs, so the hidden circuits must carry the decision.
///  - direct_readout(): outputs see inputs and hidden circuits only (no output <- output, no
///    output self-feedback).
///  - hidden_readout(): outputs see the hidden circuits only (no output <- input, no output <-
///    output, no output self-feedback). With targets clamped during training, an output that
///    sees its own past (or the other outputs') can explain a label target (the same circuit
///    active at every step) from the previous step alone; without those paths every step of
///    the target must be explained by the hidden circuits, so they carry the decision.
struct ProbabilisticTopology {
  bool input_to_output = true;     ///< output <- input connections
  bool output_to_hidden = false;   ///< hidden <- output connections
  bool hidden_recurrence = true;   ///< hidden <- hidden connections (other circuits)
  bool output_recurrence = true;   ///< output <- output connections (other circuits)
  bool output_feedback = true;     ///< outputs' own history through the feedback kernel (w_fb rows)

  /// The GEM code's topology (the default; see the list above).
  static ProbabilisticTopology gem_code() { return {}; }
  /// kclip's WTA network: the same as gem_code().
  static ProbabilisticTopology kclip_wta() { return gem_code(); }
  /// kclip's binary baseline: gem_code() plus hidden <- output.
  static ProbabilisticTopology kclip_binary() {
    ProbabilisticTopology t;
    t.output_to_hidden = true;
    return t;
  }
  /// kclip's feedforward type: no output <- input.
  static ProbabilisticTopology kclip_feedforward() {
    ProbabilisticTopology t;
    t.input_to_output = false;
    return t;
  }
  /// Outputs see inputs and hidden circuits only.
  static ProbabilisticTopology direct_readout() {
    ProbabilisticTopology t;
    t.output_recurrence = false;
    t.output_feedback = false;
    return t;
  }
  /// Outputs see the hidden circuits only.
  static ProbabilisticTopology hidden_readout() {
    ProbabilisticTopology t = direct_readout();
    t.input_to_output = false;
    return t;
  }
  /// The names from_name() accepts, in the order name() prefers them.
  static constexpr const char* preset_names = "gem-code, kclip-binary, kclip-feedforward, direct-readout, hidden-readout";
  /// A preset by name ("kclip-wta" is a synonym of "gem-code"); ConfigError for another name.
  static ProbabilisticTopology from_name(const std::string& n) {
    if (n == "gem-code" || n == "kclip-wta") return gem_code();
    if (n == "kclip-binary") return kclip_binary();
    if (n == "kclip-feedforward") return kclip_feedforward();
    if (n == "direct-readout") return direct_readout();
    if (n == "hidden-readout") return hidden_readout();
    throw ConfigError("ProbabilisticTopology: unknown preset '" + n + "' (known: " + preset_names + ")");
  }
  /// The preset this topology equals, or "custom".
  std::string name() const {
    for (const char* n : {"gem-code", "kclip-binary", "kclip-feedforward", "direct-readout", "hidden-readout"})
      if (from_name(n) == *this) return n;
    return "custom";
  }
  /// "hidden <- input, hidden; output <- input, hidden, output; output self-feedback"
  std::string describe() const {
    std::string h = "hidden <- input", y = "output <- ";
    if (hidden_recurrence) h += ", hidden";
    if (output_to_hidden) h += ", output";
    y += input_to_output ? "input, hidden" : "hidden";
    if (output_recurrence) y += ", output";
    return h + "; " + y + (output_feedback ? "; output self-feedback" : "; no output self-feedback");
  }
  /// Equal connection groups.
  bool operator==(const ProbabilisticTopology&) const = default;

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar) {
    ar(CEREAL_NVP(input_to_output), CEREAL_NVP(output_to_hidden), CEREAL_NVP(hidden_recurrence),
       CEREAL_NVP(output_recurrence), CEREAL_NVP(output_feedback));
  }
};

/// Sizes (in circuits) and hyperparameters of a ProbabilisticSnn.
struct ProbabilisticSnnConfig {
  Index inputs = 0;   ///< input circuits (the data has inputs * C features)
  Index hidden = 0;   ///< hidden circuits
  Index outputs = 0;  ///< output circuits (one per class for classification)
  KernelConfig feedforward{KernelType::raised_cosine, 8, 10, 0.5};  ///< a_k (K_a bases, tau_ff)
  KernelConfig feedback{KernelType::raised_cosine, 1, 10, 0.5};     ///< b_k (K_b bases, tau_fb)
  double init_magnitude = 0.1;   ///< W, w_fb and biases start uniform in [-m, m] (hrjang: 0.1)
  ProbabilisticTopology topology{};  ///< which groups of connections exist
  Index target_symbol = 0;        ///< symbol a target output circuit emits when clamped to a label
  InputLayout input_layout = InputLayout::planar;  ///< symbol layout of the input features

  /// Version 1 stores the whole topology; version 0 (before output <- input and hidden <-
  /// output could be switched) stored three switches and had output <- input on and hidden
  /// <- output off.
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t version) {
    ar(CEREAL_NVP(inputs), CEREAL_NVP(hidden), CEREAL_NVP(outputs), CEREAL_NVP(feedforward), CEREAL_NVP(feedback),
       CEREAL_NVP(init_magnitude));
    if (version >= 1) {
      ar(CEREAL_NVP(topology));
    } else {
      topology = ProbabilisticTopology{};
      ar(cereal::make_nvp("hidden_recurrence", topology.hidden_recurrence),
         cereal::make_nvp("output_recurrence", topology.output_recurrence),
         cereal::make_nvp("output_feedback", topology.output_feedback));
    }
    ar(CEREAL_NVP(target_symbol), CEREAL_NVP(input_layout));
  }
};

/// A recurrent network of probabilistic GLM neurons or WTA circuits with basis-kernel synaptic
/// traces, \f$ u_{i,c,t} = \sum w\,(a_k * s_j)_{t-1} + \sum w^{fb} (b_k * s_i)_{t-1} + \gamma_{i,c} \f$,
/// the GEM / VOWEL papers' topology, K weight-sharing compartments and the analytic gradient
/// of log p (Jang & Simeone, ICASSP 2021; Jang, Skatchkovsky & Simeone, ICPR 2021).
/// @tparam S the scalar type (float or double)
/// @tparam Neuron the circuit model (a StochasticNeuron: GlmNeuron or WtaNeuron<C>)
template <Scalar S, StochasticNeuron Neuron = GlmNeuron>
class ProbabilisticSnn {
 public:
  using scalar_type = S;  ///< the scalar type S
  using neuron_type = Neuron;  ///< the circuit model
  static constexpr Index C = Neuron::symbols;  ///< symbols per circuit
  static constexpr std::uint32_t class_version = 1;  ///< the class version checkpoints store (cereal)

  ProbabilisticSnn() = default;
  /// A network of the given topology with parameters drawn from `rng`.
  /// @param cfg sizes, topology, kernels and modes
  /// @param rng draws the initial parameters
  ProbabilisticSnn(const ProbabilisticSnnConfig& cfg, Rng& rng) : cfg_(cfg) {
    configure();
    reset_parameters(rng);
  }

  // ---- structure -------------------------------------------------------------------------
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "ProbabilisticSnn<" + Neuron::name() + ">"; }
  /// "ProbabilisticSnn<Glm,f32>(in=578,hidden=16,out=10,ff=raised_cosine(8x10,mu=0.5),...)"; the
  /// topology as tokens: ",no-xy" (no output <- input), ",yh" (hidden <- output), ",hh", ",yy",
  /// ",yfb" (the recurrences and the outputs' self-feedback, when on).
  std::string signature() const {
    return "ProbabilisticSnn<" + Neuron::name() + "," + (std::same_as<S, float> ? "f32" : "f64") +
           ">(in=" + std::to_string(cfg_.inputs) + ",hidden=" + std::to_string(cfg_.hidden) +
           ",out=" + std::to_string(cfg_.outputs) + ",ff=" + cfg_.feedforward.signature() +
           ",fb=" + cfg_.feedback.signature() + (cfg_.topology.input_to_output ? "" : ",no-xy") +
           (cfg_.topology.output_to_hidden ? ",yh" : "") + (cfg_.topology.hidden_recurrence ? ",hh" : "") +
           (cfg_.topology.output_recurrence ? ",yy" : "") + (cfg_.topology.output_feedback ? ",yfb" : "") +
           (C > 1 ? (cfg_.input_layout == InputLayout::planar ? ",planar" : ",interleaved") : "") + ")";
  }
  /// The run-time configuration.
  const ProbabilisticSnnConfig& config() const noexcept { return cfg_; }
  /// The connection groups.
  const ProbabilisticTopology& topology() const noexcept { return cfg_.topology; }
  /// A readable account of the network: sizes, kernels, topology (its preset name and its
  /// connections) and the number of trainable parameters.
  std::string describe() const {
    const std::string unit = C > 1 ? " WTA circuits (" + std::to_string(C) + " symbols)" : " GLM neurons";
    return std::to_string(cfg_.inputs) + " inputs, " + std::to_string(cfg_.hidden) + " hidden and " +
           std::to_string(cfg_.outputs) + " output" + unit + "; kernels ff " + cfg_.feedforward.signature() + ", fb " +
           cfg_.feedback.signature() + "; topology " + cfg_.topology.name() + " (" + cfg_.topology.describe() +
           "); " + std::to_string(parameter_count()) + " parameters";
  }
  /// Input circuits.
  Index inputs() const noexcept { return cfg_.inputs; }
  /// Hidden circuits.
  Index hidden() const noexcept { return cfg_.hidden; }
  /// Output circuits.
  Index outputs() const noexcept { return cfg_.outputs; }
  /// Symbols per circuit C.
  static constexpr Index symbols() noexcept { return C; }
  /// Features the data must have: inputs * C, laid out as config().input_layout says. Input
  /// circuits are clamped, so a circuit may show several symbols in one step (e.g. ON and OFF
  /// events in the same bin).
  Index input_size() const noexcept { return nu_in_; }
  /// Learnable units (hidden then output, (circuit, symbol) pairs): rows of W.
  Index learnable_units() const noexcept { return nu_l_; }
  /// Hidden units (circuits x symbols).
  Index hidden_units() const noexcept { return nu_h_; }
  /// Output units (circuits x symbols).
  Index output_units() const noexcept { return nu_y_; }
  /// Pre-synaptic features per column: all units * K_a (columns of W).
  Index feature_size() const noexcept { return nu_ * ka_; }
  /// Feedback basis kernels K_b.
  Index feedback_bases() const noexcept { return kb_; }
  /// Steps of history the kernels see, L.
  Index memory() const noexcept { return L_; }
  /// Unit index of (circuit n, symbol c) among learnable units (hidden circuits first).
  static Index unit(Index circuit, Index symbol) noexcept { return circuit * C + symbol; }

  /// The feed-forward basis kernels a_k (one per column).
  const Matrix<S>& feedforward_kernels() const noexcept { return a_; }
  /// The feedback basis kernels b_k (one per column).
  const Matrix<S>& feedback_kernels() const noexcept { return b_; }

  // ---- parameters ------------------------------------------------------------------------
  /// The synaptic weights w (layout: the file comment).
  Matrix<S>& weight() noexcept { return w_; }
  /// The synaptic weights w (layout: the file comment).
  const Matrix<S>& weight() const noexcept { return w_; }
  /// The feedback weights w^fb (learnable units x K_b).
  Matrix<S>& feedback_weight() noexcept { return wfb_; }
  /// The feedback weights w^fb (learnable units x K_b).
  const Matrix<S>& feedback_weight() const noexcept { return wfb_; }
  /// The biases gamma.
  Matrix<S>& bias() noexcept { return bias_; }
  /// The biases gamma.
  const Matrix<S>& bias() const noexcept { return bias_; }
  /// The accumulated gradient of the weights.
  Matrix<S>& weight_grad() noexcept { return gw_; }
  /// The accumulated gradient of the feedback weights.
  Matrix<S>& feedback_grad() noexcept { return gfb_; }
  /// The accumulated gradient of the biases.
  Matrix<S>& bias_grad() noexcept { return gb_; }

  /// Calls f(`ParamRef<S>`) for every trainable parameter block, in a fixed order.
  template <class F>
  void for_each_parameter(F&& f) {
    f(ParamRef<S>{"weight", ParamGroup::weight, w_, gw_});
    f(ParamRef<S>{"feedback", ParamGroup::weight, wfb_, gfb_});
    f(ParamRef<S>{"bias", ParamGroup::bias, bias_, gb_});
  }
  /// Trainable scalars (W entries of absent connections are not counted).
  Index parameter_count() const noexcept {
    return connections_ * ka_ + (cfg_.topology.output_feedback ? nu_l_ : nu_h_) * kb_ + bias_.size();
  }
  /// Sets every parameter gradient to zero.
  void zero_grad() {
    gw_.setZero(w_.rows(), w_.cols());
    gfb_.setZero(wfb_.rows(), wfb_.cols());
    gb_.setZero(bias_.rows(), 1);
  }
  /// Draws the parameters anew from their initialisation.
  void reset_parameters(Rng& rng) {
    const double m = cfg_.init_magnitude;
    auto fill = [&](Matrix<S>& x) {
      for (Index k = 0; k < x.size(); ++k) x.data()[k] = S(rng.uniform(-m, m));
    };
    fill(w_);
    fill(wfb_);
    fill(bias_);
    enforce_topology();
    zero_grad();
  }

  /// Sets the entries of a W-shaped matrix that belong to absent connections to zero
  /// (self-connections and the groups the topology switches off);
  /// apply_feedback_topology zeroes the output rows of a w_fb-shaped matrix when
  /// output_feedback is off.
  template <class Derived>
  void apply_topology(Eigen::MatrixBase<Derived>& m) const {
    const Index f_h0 = nu_in_ * ka_, f_y0 = (nu_in_ + nu_h_) * ka_;
    const ProbabilisticTopology& tp = cfg_.topology;
    if (!tp.output_to_hidden) m.block(0, f_y0, nu_h_, nu_y_ * ka_).setZero();
    if (!tp.hidden_recurrence) m.block(0, f_h0, nu_h_, nu_h_ * ka_).setZero();
    if (!tp.input_to_output) m.block(nu_h_, 0, nu_y_, f_h0).setZero();
    if (!tp.output_recurrence) m.block(nu_h_, f_y0, nu_y_, nu_y_ * ka_).setZero();
    // no self-connections: learnable circuit n (rows n*C..) from its own units
    const Index circuits = cfg_.hidden + cfg_.outputs;
    for (Index n = 0; n < circuits; ++n) m.block(n * C, (nu_in_ + n * C) * ka_, C, C * ka_).setZero();
  }
  /// Zeroes the feedback rows the topology switches off.
  void apply_feedback_topology(Matrix<S>& fb) const {
    if (!cfg_.topology.output_feedback) fb.bottomRows(nu_y_).setZero();
  }
  /// Zeroes every weight the topology switches off.
  void enforce_topology() {
    apply_topology(w_);
    apply_feedback_topology(wfb_);
  }
  /// Applies the topology to W and checks that every parameter is finite.
  void check_finite(const char* where) const {
    if (!w_.allFinite() || !wfb_.allFinite() || !bias_.allFinite())
      throw NumericError(std::string(where) + ": a parameter of " + signature() + " is not finite");
  }

  // ---- simulation ------------------------------------------------------------------------
  /// Prepares a run of `batch` samples with `compartments` compartments each (M = batch *
  /// compartments columns) from the empty history. Allocates only when the shape changes.
  void begin(Index batch, Index compartments) {
    if (batch < 0 || compartments < 1)
      throw ConfigError(signature() + "::begin: need batch >= 0 and compartments >= 1");
    B_ = batch;
    K_ = compartments;
    M_ = batch * compartments;
    resize_zero(hist_, L_, nu_ * M_);
    resize_zero(phi_, nu_ * ka_, M_);
    resize_zero(psi_, kb_, nu_ * M_);
    resize_zero(u_, nu_l_, M_);
    resize_zero(p_, nu_l_, M_);
    resize_zero(s_, nu_, M_);
    resize_zero(d_, nu_l_, M_);
    ll_out_.assign(std::size_t(M_), 0.0);
    lp_hid_.assign(std::size_t(M_), 0.0);
    t_ = 0;
  }
  /// Samples of the current run.
  Index batch() const noexcept { return B_; }
  /// The number of compartments K.
  Index compartments() const noexcept { return K_; }
  /// Columns of the current run, batch x compartments.
  Index columns() const noexcept { return M_; }
  /// Steps simulated since begin().
  Index time() const noexcept { return t_; }

  /// Simulates step t (= time()) for every column: potentials from the history, inputs
  /// clamped to x(:, b, t), hidden circuits sampled (or clamped to teacher.hidden), outputs
  /// clamped to the teacher or sampled; then log-probabilities and scores s - p.
  void step(const TimeSeries<S>& x, Index t, const Teacher<S>& teacher, OutputMode mode, Rng& rng) {
    if (t != t_) throw ConfigError(signature() + "::step: expected step " + std::to_string(t_) + ", got " + std::to_string(t));
    if (x.features() != nu_in_)
      throw ShapeError(signature() + ": input has " + std::to_string(x.features()) + " features, expected " +
                       std::to_string(nu_in_) + " (" + std::to_string(cfg_.inputs) + " circuits x " +
                       std::to_string(C) + " symbols) " + x.shape_string());
    if (x.batch() != B_) throw ShapeError(signature() + ": input batch " + std::to_string(x.batch()) + " but begin() was given " + std::to_string(B_));
    if (t >= x.steps()) throw ShapeError(signature() + ": step " + std::to_string(t) + " beyond the input's " + std::to_string(x.steps()) + " steps");
    const Index phase = t_ % L_;
    // synaptic and feedback traces of the last L steps (one product each for all columns)
    {
      Eigen::Map<Matrix<S>> phi_map(phi_.data(), ka_, nu_ * M_);
      phi_map.noalias() = a_perm_[std::size_t(phase)] * hist_;
      psi_.noalias() = b_perm_[std::size_t(phase)] * hist_;
    }
    // potentials
    u_.noalias() = w_ * phi_;
    for (Index m = 0; m < M_; ++m) {
      S* um = u_.col(m).data();
      const S* psim = psi_.data() + (m * nu_ + nu_in_) * kb_;
      for (Index i = 0; i < nu_l_; ++i) {
        S v = bias_(i, 0);
        for (Index k = 0; k < kb_; ++k) v += wfb_(i, k) * psim[i * kb_ + k];
        um[i] += v;
      }
    }
    // spikes: inputs clamped, hidden sampled or clamped, outputs clamped or sampled
    const Index circuits = cfg_.hidden + cfg_.outputs;
    for (Index b = 0; b < B_; ++b) {
      for (Index k = 0; k < K_; ++k) {
        const Index m = b * K_ + k;
        if (C == 1 || cfg_.input_layout == InputLayout::interleaved) {
          s_.col(m).head(nu_in_) = x.slot(t).col(b);
        } else {
          const S* xb = x.data() + x.column(b, t) * nu_in_;
          S* sm = s_.col(m).data();
          for (Index c = 0; c < C; ++c)
            for (Index n = 0; n < cfg_.inputs; ++n) sm[n * C + c] = xb[c * cfg_.inputs + n];
        }
        S* sl = s_.col(m).data() + nu_in_;
        for (Index n = 0; n < circuits; ++n) Neuron::probabilities(&u_(n * C, m), &p_(n * C, m));
        if (teacher.hidden) {
          check_clamp(*teacher.hidden, nu_h_, t, "hidden");
          for (Index i = 0; i < nu_h_; ++i) sl[i] = (*teacher.hidden)(i, b, t);
        } else {
          for (Index n = 0; n < cfg_.hidden; ++n) Neuron::sample(&p_(n * C, m), sl + n * C, rng);
        }
        S* sy = sl + nu_h_;
        if (mode == OutputMode::sample) {
          for (Index n = cfg_.hidden; n < circuits; ++n) Neuron::sample(&p_(n * C, m), sl + n * C, rng);
        } else if (teacher.outputs) {
          check_clamp(*teacher.outputs, nu_y_, t, "output");
          for (Index i = 0; i < nu_y_; ++i) sy[i] = (*teacher.outputs)(i, b, t);
        } else {
          int y = -1;
          if (teacher.step_labels) {
            if (teacher.step_labels->size() != std::size_t(B_ * x.steps()))
              throw ShapeError(signature() + ": step_labels has " + std::to_string(teacher.step_labels->size()) +
                               " entries for " + std::to_string(B_) + " samples x " + std::to_string(x.steps()) + " steps");
            y = (*teacher.step_labels)[std::size_t(t * B_ + b)];
          } else if (teacher.labels) {
            if (teacher.labels->size() != std::size_t(B_))
              throw ShapeError(signature() + ": " + std::to_string(teacher.labels->size()) + " labels for " +
                               std::to_string(B_) + " samples");
            y = (*teacher.labels)[std::size_t(b)];
          } else {
            throw ConfigError(signature() + "::step: outputs are clamped but the teacher gives no target");
          }
          if (y < -1 || y >= cfg_.outputs)
            throw ShapeError(signature() + ": label " + std::to_string(y) + " of sample " + std::to_string(b) +
                             " is outside the " + std::to_string(cfg_.outputs) + " output circuits");
          for (Index i = 0; i < nu_y_; ++i) sy[i] = S(0);
          if (y >= 0) sy[y * C + cfg_.target_symbol] = S(1);
        }
        // log-probabilities of what the learnable circuits emitted, and the scores s - p
        double lh = 0, ly = 0;
        for (Index n = 0; n < circuits; ++n) {
          const S* un = &u_(n * C, m);
          const S* sn = sl + n * C;
          S lp = -Neuron::log_partition(un);
          for (Index c = 0; c < C; ++c) lp += sn[c] * un[c];
          (n < cfg_.hidden ? lh : ly) += double(lp);
        }
        lp_hid_[std::size_t(m)] = lh;
        ll_out_[std::size_t(m)] = ly;
      }
    }
    d_ = s_.bottomRows(nu_l_) - p_;
    // history: s_t goes to slot t mod L
    for (Index m = 0; m < M_; ++m) {
      const S* sm = s_.col(m).data();
      S* h = hist_.data() + (m * nu_) * L_ + phase;
      for (Index i = 0; i < nu_; ++i) h[i * L_] = sm[i];
    }
    ++t_;
  }

  /// After step(): pre-synaptic features phi (features x M).
  const Matrix<S>& features() const noexcept { return phi_; }
  /// After step(): potentials u (learnable units x M).
  const Matrix<S>& potentials() const noexcept { return u_; }
  /// After step(): symbol probabilities p (learnable units x M).
  const Matrix<S>& probabilities() const noexcept { return p_; }
  /// After step(): spikes of all units (inputs, hidden, outputs) x M.
  const Matrix<S>& spikes() const noexcept { return s_; }
  /// After step(): scores s - p = d log p / d u (learnable units x M).
  const Matrix<S>& scores() const noexcept { return d_; }
  /// After step(): sum over output circuits of log p(y_t | u_t), per column.
  const std::vector<double>& output_log_likelihood() const noexcept { return ll_out_; }
  /// After step(): sum over hidden circuits of log p(h_t | u_t), per column.
  const std::vector<double>& hidden_log_prob() const noexcept { return lp_hid_; }

  /// After step(): the sampled hidden circuits' term of the KL divergence towards a
  /// reference distribution q (no-spike probability q0, each symbol qc), per column m:
  /// \f$\sum_{i\in H} [\sum_c s_{i,c}\log(p_{i,c}/q_c) + (1-\sum_c s_{i,c})\log(p_{i,0}/q_0)]\f$.
  double hidden_kl(Index m, double log_q0, double log_qc) const {
    double kl = 0;
    const S* sl = s_.col(m).data() + nu_in_;
    for (Index n = 0; n < cfg_.hidden; ++n) {
      const S* un = &u_(n * C, m);
      const double lse = double(Neuron::log_partition(un));
      double fired = 0, term = 0;
      for (Index c = 0; c < C; ++c)
        if (sl[n * C + c] != S(0)) {
          fired += double(sl[n * C + c]);
          term += double(sl[n * C + c]) * (double(un[c]) - lse - log_qc);
        }
      term += (1.0 - fired) * (-lse - log_q0);
      kl += term;
    }
    return kl;
  }

  /// e <- decay * e + scale * grad_theta log p_t for column m (after step()). W is updated on
  /// feature columns [f0, f1) only (so callers can split the work); feedback weights and
  /// biases are updated when f0 == 0. Features that are zero cost only the decay.
  void accumulate_gradient(Index m, S decay, S scale, SynapticBlocks<S>& e, Index f0, Index f1) const {
    const S* phim = phi_.col(m).data();
    auto dm = d_.col(m);
    for (Index f = f0; f < f1; ++f) {
      auto ec = e.w.col(f);
      const S c = scale * phim[f];
      if (c == S(0)) {
        if (decay != S(1)) ec *= decay;
      } else {
        ec = decay * ec + c * dm;
      }
    }
    if (f0 == 0) {
      const S* psim = psi_.data() + (m * nu_ + nu_in_) * kb_;
      for (Index k = 0; k < kb_; ++k)
        for (Index i = 0; i < nu_l_; ++i) e.fb(i, k) = decay * e.fb(i, k) + scale * d_(i, m) * psim[i * kb_ + k];
      e.bias.col(0) = decay * e.bias.col(0) + scale * dm;
    }
  }

  /// Shapes a SynapticBlocks like this network's parameters (zeroed).
  void shape_like_parameters(SynapticBlocks<S>& e) const { e.resize_zero(nu_l_, nu_ * ka_, kb_); }
  /// True if `e` has this network's parameter shapes.
  bool shaped_like_parameters(const SynapticBlocks<S>& e) const { return e.same_shape(nu_l_, nu_ * ka_, kb_); }

  /// log p(h, y || x) of complete trajectories (inputs x, hidden h, outputs y; one per sample),
  /// summed over samples, steps and learnable circuits. With `gradient`, ADDS its gradient
  /// to weight_grad(), feedback_grad() and bias_grad() (absent connections stay zero).
  double log_prob(const TimeSeries<S>& x, const TimeSeries<S>& h, const TimeSeries<S>& y, bool gradient = false) {
    if (h.batch() != x.batch() || y.batch() != x.batch() || h.steps() != x.steps() || y.steps() != x.steps())
      throw ShapeError(signature() + "::log_prob: inputs " + x.shape_string() + ", hidden " + h.shape_string() +
                       " and outputs " + y.shape_string() + " disagree");
    if (gradient && (gw_.rows() != w_.rows() || gw_.cols() != w_.cols())) zero_grad();
    Rng unused(0);
    Teacher<S> tg;
    tg.hidden = &h;
    tg.outputs = &y;
    begin(x.batch(), 1);
    double lp = 0;
    for (Index t = 0; t < x.steps(); ++t) {
      step(x, t, tg, OutputMode::clamp, unused);
      for (Index m = 0; m < M_; ++m) {
        lp += ll_out_[std::size_t(m)] + lp_hid_[std::size_t(m)];
        if (gradient) {
          gw_.noalias() += d_.col(m) * phi_.col(m).transpose();
          const S* psim = psi_.data() + (m * nu_ + nu_in_) * kb_;
          for (Index k = 0; k < kb_; ++k)
            for (Index i = 0; i < nu_l_; ++i) gfb_(i, k) += d_(i, m) * psim[i * kb_ + k];
          gb_.col(0) += d_.col(m);
        }
      }
    }
    if (gradient) {
      apply_topology(gw_);
      apply_feedback_topology(gfb_);
    }
    return lp;
  }

  // ---- checkpoints -----------------------------------------------------------------------
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    const std::string neuron = Neuron::name();
    ar(cereal::make_nvp("neuron", neuron), cereal::make_nvp("config", cfg_), cereal::make_nvp("weight", w_),
       cereal::make_nvp("feedback", wfb_), cereal::make_nvp("bias", bias_));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, class_version, "ProbabilisticSnn");
    std::string neuron;
    ProbabilisticSnnConfig cfg;
    Matrix<S> w, fb, b;
    ar(cereal::make_nvp("neuron", neuron), cereal::make_nvp("config", cfg), cereal::make_nvp("weight", w),
       cereal::make_nvp("feedback", fb), cereal::make_nvp("bias", b));
    if (neuron != Neuron::name())
      throw cereal::Exception("ProbabilisticSnn: stored neuron model " + neuron + ", expected " + Neuron::name());
    cfg_ = cfg;
    configure();
    if (w.rows() != w_.rows() || w.cols() != w_.cols() || fb.rows() != wfb_.rows() || fb.cols() != wfb_.cols() ||
        b.rows() != bias_.rows() || b.cols() != 1)
      throw cereal::Exception("ProbabilisticSnn: stored parameter shapes do not match the stored configuration");
    w_ = std::move(w);
    wfb_ = std::move(fb);
    bias_ = std::move(b);
    enforce_topology();
    zero_grad();
  }

 private:
  static void resize_zero(Matrix<S>& m, Index r, Index c) {
    if (m.rows() != r || m.cols() != c) m.resize(r, c);
    m.setZero();
  }
  void check_clamp(const TimeSeries<S>& v, Index units, Index t, const char* what) const {
    if (v.features() != units || v.batch() != B_ || v.steps() <= t)
      throw ShapeError(signature() + ": clamped " + what + " spikes " + v.shape_string() + " do not match " +
                       std::to_string(units) + " units x " + std::to_string(B_) + " samples");
  }

  void configure() {
    const auto& c = cfg_;
    if (c.inputs < 0 || c.hidden < 0 || c.outputs < 1)
      throw ConfigError("ProbabilisticSnn: need inputs >= 0, hidden >= 0 and outputs >= 1 circuits");
    if (c.target_symbol < 0 || c.target_symbol >= C)
      throw ConfigError("ProbabilisticSnn: target_symbol must be in [0, " + std::to_string(C) + ")");
    if (!(c.init_magnitude >= 0) || !std::isfinite(c.init_magnitude))
      throw ConfigError("ProbabilisticSnn: init_magnitude must be finite and >= 0");
    c.feedforward.validate("ProbabilisticSnn feed-forward kernels");
    c.feedback.validate("ProbabilisticSnn feedback kernels");
    nu_in_ = c.inputs * C;
    nu_h_ = c.hidden * C;
    nu_y_ = c.outputs * C;
    nu_l_ = nu_h_ + nu_y_;
    nu_ = nu_in_ + nu_l_;
    ka_ = c.feedforward.bases;
    kb_ = c.feedback.bases;
    L_ = std::max(c.feedforward.length, c.feedback.length);
    a_ = make_kernel_bank<S>(c.feedforward, L_);
    b_ = make_kernel_bank<S>(c.feedback, L_);
    // per ring phase, the kernels reordered so that row r of the history (the slot holding
    // s_{t'} with t' = r mod L) meets a[(t - 1 - r) mod L]
    a_perm_.assign(std::size_t(L_), Matrix<S>());
    b_perm_.assign(std::size_t(L_), Matrix<S>());
    for (Index ph = 0; ph < L_; ++ph) {
      Matrix<S>& ap = a_perm_[std::size_t(ph)];
      Matrix<S>& bp = b_perm_[std::size_t(ph)];
      ap.resize(ka_, L_);
      bp.resize(kb_, L_);
      for (Index r = 0; r < L_; ++r) {
        const Index tau = ((ph - 1 - r) % L_ + L_) % L_;
        ap.col(r) = a_.row(tau).transpose();
        bp.col(r) = b_.row(tau).transpose();
      }
    }
    // connections per learnable circuit pair, for parameter_count()
    const Index hid = c.hidden, out = c.outputs, in = c.inputs;
    const ProbabilisticTopology& tp = c.topology;
    const Index into_hidden = hid * (in + (tp.hidden_recurrence ? hid - 1 : 0) + (tp.output_to_hidden ? out : 0));
    const Index into_output = out * ((tp.input_to_output ? in : 0) + hid + (tp.output_recurrence ? out - 1 : 0));
    connections_ = (into_hidden + into_output) * C * C;
    w_.setZero(nu_l_, nu_ * ka_);
    wfb_.setZero(nu_l_, kb_);
    bias_.setZero(nu_l_, 1);
    zero_grad();
    B_ = K_ = M_ = t_ = 0;
  }

  ProbabilisticSnnConfig cfg_{};
  Index nu_in_ = 0, nu_h_ = 0, nu_y_ = 0, nu_l_ = 0, nu_ = 0, ka_ = 1, kb_ = 1, L_ = 1, connections_ = 0;
  Matrix<S> a_, b_;
  std::vector<Matrix<S>> a_perm_, b_perm_;
  Matrix<S> w_, wfb_, bias_, gw_, gfb_, gb_;
  // simulation state (reused between runs)
  Index B_ = 0, K_ = 0, M_ = 0, t_ = 0;
  Matrix<S> hist_, phi_, psi_, u_, p_, s_, d_;
  std::vector<double> ll_out_, lp_hid_;
};

/// A network of binary GLM neurons (Bernoulli(sigmoid(u)) spiking).
template <Scalar S>
using GlmSnn = ProbabilisticSnn<S, GlmNeuron>;
/// A network of C-symbol winner-take-all circuits (e.g. C = 2 for event polarity).
template <Scalar S, int C = 2>
using WtaSnn = ProbabilisticSnn<S, WtaNeuron<C>>;

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((spikelab::Scalar S, spikelab::StochasticNeuron N), (spikelab::ProbabilisticSnn<S, N>), 1)
CEREAL_CLASS_VERSION(spikelab::ProbabilisticSnnConfig, 1)

#endif
