/**
 * @file optimizers/optimizer.hpp
 * @brief Optimizer<S, Update, Schedule>: applies an update policy to every parameter block of
 *        a network, with per-group learning rates and gradient scales, global-norm and value
 *        clipping, a learning-rate schedule, and projection onto each parameter's bounds.
 *
 * For each parameter block p with gradient g in group k:
 * \f[ \tilde g = \mathrm{clip}_{value}(c \cdot s_k\, g), \quad
 *     c = \min(1, \text{clip\_norm} / \lVert (s_k g)_k \rVert_2), \quad
 *     p \leftarrow \Pi_{[lo, hi]}\big(\mathrm{Update}(p, \tilde g, \eta \cdot f(e) \cdot r_k)\big) \f]
 * with s_k the group's gradient scale, r_k its learning-rate scale and f the schedule (per
 * block when the schedule has `factor(e, E, name)`: SplitSchedule).
 * One `State<S>` per parameter block is created at the first step (in the network's fixed
 * parameter order) and reused; its shape is checked at every step.
 *
 * Serialisation (training checkpoints, io/training_checkpoint.hpp) stores the configuration,
 * the update policy's hyperparameters, the schedule, every block's State (moments, step
 * counts), the step count and the schedule position, so a loaded optimizer continues exactly
 * where the saved one stopped.
 */
#ifndef SPIKELAB_OPTIMIZERS_OPTIMIZER_HPP
#define SPIKELAB_OPTIMIZERS_OPTIMIZER_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/optimizers/schedule.hpp>
#include <spikelab/optimizers/update.hpp>

#include <cereal/types/array.hpp>
#include <cereal/types/vector.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace spikelab {

/// The Optimizer's hyperparameters: base learning rate, per-group learning-rate and gradient
/// scales, and the gradient clips.
struct OptimizerConfig {
  double lr = 1e-3;  ///< the base learning rate eta
  GroupScales lr_scale{};    ///< learning-rate multiplier per ParamGroup
  GroupScales grad_scale{};  ///< gradient multiplier per ParamGroup (hSNN scales alpha's by 0.1)
  double clip_norm = 0.0;    ///< global gradient-norm clip; 0 = off
  double clip_value = 0.0;   ///< element-wise gradient clip; 0 = off
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(lr), cereal::make_nvp("lr_scale", lr_scale.value), cereal::make_nvp("grad_scale", grad_scale.value),
       CEREAL_NVP(clip_norm), CEREAL_NVP(clip_value));
  }
};

/// Applies an update policy to every parameter block of a network: per-group scales, value and
/// global-norm clipping, a learning-rate schedule and projection onto each parameter's bounds,
/// \f$ p \leftarrow \Pi_{[lo,hi]}(\mathrm{Update}(p, \tilde g, \eta f(e) r_k)) \f$ (the file comment
/// has the clipped gradient \f$ \tilde g \f$).
/// @tparam S the scalar type of the network
/// @tparam Update the update policy (an UpdatePolicy: Sgd, Adam, AdamW)
/// @tparam Sched the learning-rate schedule (a Schedule)
template <Scalar S, class Update = Adam, Schedule Sched = ConstantLr>
  requires UpdatePolicy<Update, S>
class Optimizer {
 public:
  using scalar_type = S;  ///< the scalar type S
  using update_type = Update;  ///< the update policy
  using state_type = typename Update::template State<S>;  ///< the per-block state of the update policy
  using schedule_type = Sched;  ///< the learning-rate schedule
  static constexpr std::uint32_t class_version = 2;  ///< the class version checkpoints store (cereal)

  /// "Optimizer<float, Adam, CosineLr>": what a training checkpoint compares before loading.
  static std::string name() {
    return std::string("Optimizer<") + (std::same_as<S, float> ? "float" : "double") + ", " + Update::name() + ", " +
           Sched::name() + ">";
  }

  Optimizer() = default;
  /// An optimizer with the given settings.
  /// @param cfg learning rate, group scales and clipping
  /// @param update the update policy's hyperparameters
  /// @param schedule the learning-rate schedule
  explicit Optimizer(OptimizerConfig cfg, Update update = {}, Sched schedule = {})
      : cfg_(cfg), update_(update), schedule_(schedule) {}

  /// The run-time configuration (learning rate, scales, clips), changeable between steps.
  OptimizerConfig& config() noexcept { return cfg_; }
  /// The run-time configuration.
  const OptimizerConfig& config() const noexcept { return cfg_; }
  /// The update policy's hyperparameters.
  Update& update_policy() noexcept { return update_; }
  /// The update policy's hyperparameters.
  const Update& update_policy() const noexcept { return update_; }
  /// The learning-rate schedule.
  Sched& schedule() noexcept { return schedule_; }
  /// The learning-rate schedule.
  const Sched& schedule() const noexcept { return schedule_; }

  /// Tells the schedule where training is (epochs, fractional) and how long it runs.
  void set_progress(double epoch_progress, int total_epochs) noexcept {
    progress_ = epoch_progress;
    total_epochs_ = total_epochs;
  }
  /// The number of epochs the schedule spans (set by set_progress; restored by a checkpoint).
  int total_epochs() const noexcept { return total_epochs_; }
  /// Base learning rate times the schedule's factor now.
  double current_lr() const { return cfg_.lr * schedule_.factor(progress_, total_epochs_); }
  /// The learning rate a parameter block called `param` in group `group` gets now: the base
  /// rate times the schedule's factor for it (a schedule with `factor(e, E, name)`, such as
  /// SplitSchedule, decides per block) times the group's learning-rate scale.
  double lr_of(ParamGroup group, std::string_view param) const {
    double f = 0.0;
    if constexpr (requires { schedule_.factor(progress_, total_epochs_, param); })
      f = schedule_.factor(progress_, total_epochs_, param);
    else
      f = schedule_.factor(progress_, total_epochs_);
    return cfg_.lr * f * cfg_.lr_scale[group];
  }
  /// Steps taken so far.
  std::int64_t steps() const noexcept { return steps_; }
  /// Global gradient norm (after group scales, before clipping) of the last step.
  double last_grad_norm() const noexcept { return last_norm_; }

  /// Applies one update to every trainable parameter of `net` from its accumulated gradients.
  template <class Net>
  void step(Net& net) {
    // 1. global norm and finiteness
    double sq = 0.0;
    net.for_each_parameter([&](ParamRef<S> p) {
      const double s = cfg_.grad_scale[p.group];
      const double n2 = double(p.grad.squaredNorm()) * s * s;
      if (!std::isfinite(n2))
        throw NumericError("non-finite gradient in parameter '" + std::string(p.name) + "' of layer " +
                           std::to_string(p.layer) + " at optimizer step " + std::to_string(steps_ + 1));
      sq += n2;
    });
    last_norm_ = std::sqrt(sq);
    const double clip = (cfg_.clip_norm > 0 && last_norm_ > cfg_.clip_norm) ? cfg_.clip_norm / last_norm_ : 1.0;
    if constexpr (requires(Update& u) { u.epoch = std::int64_t{}; })
      update_.epoch = std::int64_t(std::floor(progress_));  // Adam's per-epoch bias correction
    // 2. update each block
    std::size_t k = 0;
    const bool first = states_.empty();
    net.for_each_parameter([&](ParamRef<S> p) {
      if (first) {
        states_.push_back(update_.template make_state<S>(p.value.rows(), p.value.cols()));
        scratch_.emplace_back();
      }
      if (k >= states_.size())
        throw ShapeError("Optimizer: the network has more parameter blocks than when the optimizer was bound");
      if (p.grad.rows() != p.value.rows() || p.grad.cols() != p.value.cols())
        throw ShapeError("Optimizer: gradient of '" + std::string(p.name) + "' in layer " + std::to_string(p.layer) +
                         " has another shape than the parameter");
      check_state_shape(states_[k], p, k);
      // the gradient as given, or a scaled / clipped copy when that changes it
      const Matrix<S>* g = &p.grad;
      const S factor = S(cfg_.grad_scale[p.group] * clip);
      if (cfg_.clip_value > 0) {
        const S cv = S(cfg_.clip_value);
        scratch_[k] = (factor * p.grad.array()).cwiseMax(-cv).cwiseMin(cv).matrix();
        g = &scratch_[k];
      } else if (factor != S(1)) {
        scratch_[k] = factor * p.grad;
        g = &scratch_[k];
      }
      update_.update(states_[k], p.value, *g, lr_of(p.group, p.name));
      if (std::isfinite(double(p.lower)) || std::isfinite(double(p.upper)))
        p.value = p.value.cwiseMax(p.lower).cwiseMin(p.upper);
      ++k;
    });
    if (k != states_.size())
      throw ShapeError("Optimizer: the network has fewer parameter blocks than when the optimizer was bound");
    ++steps_;
  }

  /// Forgets all per-parameter state (moments, step count).
  void reset() {
    states_.clear();
    scratch_.clear();
    steps_ = 0;
  }

  /// Per-block states held (0 before the first step, then one per parameter block).
  std::size_t state_blocks() const noexcept { return states_.size(); }

  /// Why this optimizer's per-block state cannot update `net` (another number of parameter
  /// blocks, or a block of another shape), or an empty string when it can.
  template <class Net>
  std::string mismatch(Net& net) const {
    if (states_.empty()) return {};
    std::size_t k = 0;
    std::string why;
    net.for_each_parameter([&](ParamRef<S> p) {
      if (why.empty() && k < states_.size()) {
        const Index r = p.value.rows(), c = p.value.cols();
        const state_type& st = states_[k];
        bool ok = true;
        if constexpr (requires { st.m; }) ok = st.m.rows() == r && st.m.cols() == c;
        if constexpr (requires { st.velocity; })
          ok = st.velocity.size() == 0 || (st.velocity.rows() == r && st.velocity.cols() == c);
        if (!ok)
          why = "the state of parameter block " + std::to_string(k) + " ('" + std::string(p.name) + "' of layer " +
                std::to_string(p.layer) + ") has another shape than the parameter";
      }
      ++k;
    });
    if (why.empty() && k != states_.size())
      why = "the optimizer holds state for " + std::to_string(states_.size()) + " parameter blocks, the network has " +
            std::to_string(k);
    return why;
  }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("config", cfg_), cereal::make_nvp("update", update_), cereal::make_nvp("schedule", schedule_),
       cereal::make_nvp("states", states_), cereal::make_nvp("steps", steps_), cereal::make_nvp("progress", progress_),
       cereal::make_nvp("total_epochs", total_epochs_));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    detail::check_version(version, class_version, "Optimizer");
    ar(cereal::make_nvp("config", cfg_), cereal::make_nvp("update", update_), cereal::make_nvp("schedule", schedule_),
       cereal::make_nvp("states", states_), cereal::make_nvp("steps", steps_));
    if (version >= 2) ar(cereal::make_nvp("progress", progress_), cereal::make_nvp("total_epochs", total_epochs_));
    scratch_.assign(states_.size(), Matrix<S>{});
  }

 private:
  void check_state_shape(const state_type& st, const ParamRef<S>& p, std::size_t k) const {
    if constexpr (requires { st.m; }) {
      if (st.m.rows() != p.value.rows() || st.m.cols() != p.value.cols())
        throw ShapeError("Optimizer: parameter block " + std::to_string(k) + " ('" + std::string(p.name) +
                         "') changed shape since the optimizer was bound");
    }
  }

  OptimizerConfig cfg_{};
  Update update_{};
  Sched schedule_{};
  std::vector<state_type> states_;
  std::vector<Matrix<S>> scratch_;
  std::int64_t steps_ = 0;
  double progress_ = 0.0;
  int total_epochs_ = 1;
  double last_norm_ = 0.0;
};

}  // namespace spikelab

CEREAL_CLASS_VERSION(spikelab::OptimizerConfig, 1)
SPIKELAB_CLASS_VERSION((class S, class U, class Sch), (spikelab::Optimizer<S, U, Sch>), 2)

#endif
