/**
 * @file optimizers/schedule.hpp
 * @brief Learning-rate schedules: a factor on the base learning rate as a function of
 *        training progress e (in epochs, fractional within an epoch) and the epoch count E;
 *        each models Schedule (optimizers/concepts.hpp).
 *
 *  - ConstantLr: 1.
 *  - StepLr: times gamma at epoch `first`, then every `every` epochs (hSNN: x0.5 every 5 from 25).
 *  - ExponentialLr: \f$\gamma^{\lfloor e \rfloor}\f$ (NA's ExponentialLR 0.985 per epoch).
 *  - ExpDecayLr: \f$ F^{-q/E} \f$, from 1 down to 1/F over the E epochs (cuda-convnet2's
 *    `exp[base, tgtFactor]` schedule, as Hunsberger & Eliasmith 2015 train with F = 100); q = e,
 *    or with `updates_per_epoch` k > 0, \f$ q = \lfloor k e \rfloor / k \f$: the rate changes k times
 *    per epoch (cuda-convnet2 steps it once per data batch file of 10,000 images). The last
 *    update of the run uses \f$ F^{-(kE-1)/(kE)} \f$, as cuda-convnet2's progress (batches done - 1)
 *    / total does.
 *  - CosineLr: linear warm-up, then \f$ m + (1-m)\,\tfrac12(1 + \cos(\pi e/E)) \f$
 *    (Loshchilov & Hutter 2017, SGDR without restarts).
 *  - OneCycleLr: the one-cycle policy (Smith & Topin 2019) as PyTorch's OneCycleLR computes it:
 *    a cosine rise from 1/d to 1 over the first fraction of the steps, then a cosine fall to
 *    1/(d f); the factor is relative to the peak rate.
 *  - SplitSchedule<A, B>: the parameters named in a list follow B (times a scale), all others A
 *    (DCLS trains synaptic delays with their own rate and schedule: Hammouamri et al. 2024).
 */
#ifndef SPIKELAB_OPTIMIZERS_SCHEDULE_HPP
#define SPIKELAB_OPTIMIZERS_SCHEDULE_HPP

#include <spikelab/core/versioning.hpp>
#include <spikelab/optimizers/concepts.hpp>

#include <cereal/cereal.hpp>
#include <cereal/types/string.hpp>
#include <cereal/types/vector.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <numbers>
#include <string>
#include <string_view>
#include <vector>

namespace spikelab {

/// The constant schedule: the factor is 1.
struct ConstantLr {
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "ConstantLr"; }
  /// The factor on the base learning rate at progress e (epochs) of E epochs (Schedule).
  double factor(double, int) const noexcept { return 1.0; }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar&, std::uint32_t) {}
};

/// Step decay: the factor is multiplied by gamma at epoch `first`, then every `every` epochs
/// (PyTorch's StepLR).
struct StepLr {
  int every = 10;      ///< epochs between decays
  double gamma = 0.1;  ///< factor per decay
  int first = -1;      ///< epoch of the first decay (-1: = every, PyTorch's StepLR)
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "StepLr"; }
  /// The factor on the base learning rate at progress e (epochs) of E epochs (Schedule).
  double factor(double e, int) const noexcept {
    const int k = int(std::floor(e)), f = first >= 0 ? first : every;
    if (k < f || every <= 0) return 1.0;
    return std::pow(gamma, double((k - f) / every + 1));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(every), CEREAL_NVP(gamma), CEREAL_NVP(first)); }
};

/// Exponential decay per epoch, \f$ \gamma^{\lfloor e \rfloor} \f$.
struct ExponentialLr {
  double gamma = 0.985;  ///< the factor per epoch
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "ExponentialLr"; }
  /// The factor on the base learning rate at progress e (epochs) of E epochs (Schedule).
  double factor(double e, int) const noexcept { return std::pow(gamma, std::floor(e)); }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(gamma)); }
};

/// Exponential decay from 1 to 1/F over the run, \f$ F^{-q/E} \f$, continuously or k times per
/// epoch (cuda-convnet2's `exp` schedule, as used by Hunsberger & Eliasmith, arXiv:1510.08829, 2015).
struct ExpDecayLr {
  double target_factor = 100.0;  ///< F: the rate falls to 1/F of the base at the end of training
  int updates_per_epoch = 0;     ///< k: rate changes per epoch; 0 = continuous
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "ExpDecayLr"; }
  /// The factor on the base learning rate at progress e (epochs) of E epochs (Schedule).
  double factor(double e, int E) const noexcept {
    const double q = updates_per_epoch > 0 ? std::floor(e * updates_per_epoch + 1e-9) / updates_per_epoch : e;
    return std::pow(target_factor, -std::clamp(q / std::max(E, 1), 0.0, 1.0));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(target_factor), CEREAL_NVP(updates_per_epoch)); }
};

/// Linear warm-up, then cosine annealing \f$ m + (1-m)\,\tfrac12 (1 + \cos(\pi e/E)) \f$
/// (SGDR without restarts: Loshchilov & Hutter, ICLR 2017).
struct CosineLr {
  double min_factor = 0.0;  ///< m: the factor at the end of training
  double warmup_epochs = 0.0;  ///< epochs of linear warm-up
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "CosineLr"; }
  /// The factor on the base learning rate at progress e (epochs) of E epochs (Schedule).
  double factor(double e, int E) const noexcept {
    if (warmup_epochs > 0 && e < warmup_epochs) return std::max(e / warmup_epochs, 1e-3);
    const double span = std::max(double(E) - warmup_epochs, 1e-9);
    const double p = std::clamp((e - warmup_epochs) / span, 0.0, 1.0);
    return min_factor + (1.0 - min_factor) * 0.5 * (1.0 + std::cos(std::numbers::pi * p));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(min_factor), CEREAL_NVP(warmup_epochs)); }
};

/**
 * The one-cycle policy (Smith & Topin, "Super-convergence", 2019) as PyTorch 1.13's
 * `OneCycleLR(anneal_strategy='cos', three_phase=False)` computes it, relative to the peak rate
 * (set the optimizer's base rate to PyTorch's `max_lr`). Over N = kE steps (k = updates_per_epoch,
 * s = the step, p = pct_start N - 1):
 * \f[ f(s) = \begin{cases} c(1/d,\ 1,\ s/p) & s \le p \\ c(1,\ 1/(d\,f_d),\ (s-p)/(N-1-p)) & s > p
 *     \end{cases},\qquad c(a, b, q) = b + \tfrac{a-b}{2}(1 + \cos \pi q) \f]
 * with d = div_factor (the start is the peak / d) and f_d = final_div_factor. PyTorch steps it
 * whenever `scheduler.step()` is called: once per epoch in the DCLS code (k = 1,
 * `total_steps = epochs`), once per batch elsewhere (k = batches per epoch).
 */
struct OneCycleLr {
  double pct_start = 0.3;          ///< fraction of the steps spent rising to the peak
  double div_factor = 25.0;        ///< d: the first rate is the peak / d
  double final_div_factor = 1e4;   ///< f_d: the last rate is the first / f_d
  int updates_per_epoch = 1;       ///< k: rate changes per epoch (k E steps over the run)
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "OneCycleLr"; }
  /// The factor on the base (peak) learning rate at progress e (epochs) of E epochs (Schedule).
  double factor(double e, int E) const noexcept {
    const int k = std::max(updates_per_epoch, 1);
    const double n = double(k) * double(std::max(E, 1));
    const double s = std::clamp(std::floor(e * k + 1e-9), 0.0, n - 1.0);
    const double first = 1.0 / div_factor, last = first / final_div_factor, p = pct_start * n - 1.0;
    auto anneal = [](double a, double b, double q) { return b + (a - b) / 2.0 * (1.0 + std::cos(std::numbers::pi * q)); };
    if (s <= p) return anneal(first, 1.0, p > 0 ? s / p : 1.0);
    return anneal(1.0, last, (s - p) / std::max(n - 1.0 - p, 1e-12));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(pct_start), CEREAL_NVP(div_factor), CEREAL_NVP(final_div_factor), CEREAL_NVP(updates_per_epoch));
  }
};

/**
 * Two schedules in one optimizer: the parameter blocks whose name (ParamRef::name, e.g.
 * "position" for LearnableDelay's delays) is in `names` follow `second`, scaled by `scale`; all
 * other blocks follow `first`:
 * \f[ \eta_p = \eta\, r_{k(p)} \cdot \begin{cases} \text{scale}\cdot f_B(e, E) & \text{name}(p) \in \text{names} \\
 *     f_A(e, E) & \text{otherwise} \end{cases} \f]
 * (r_k: the group's OptimizerConfig::lr_scale). This is what two PyTorch optimizers with their
 * own rates and schedulers do; the DCLS code (Hammouamri, Khalfaoui-Hassani & Masquelier,
 * ICLR 2024) trains weights with one-cycle and delay positions with cosine annealing at 100x
 * the weights' base rate. `factor(e, E)` alone (what reports print) is `first`'s.
 */
template <Schedule A, Schedule B>
struct SplitSchedule {
  A first{};                         ///< the schedule of every block not named in `names`
  B second{};                        ///< the schedule of the named blocks
  std::vector<std::string> names{};  ///< the parameter names that follow `second`
  double scale = 1.0;                ///< the named blocks' learning rate relative to the base rate
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "SplitSchedule<" + A::name() + ", " + B::name() + ">"; }
  /// `first`'s factor at progress e (epochs) of E epochs (Schedule).
  double factor(double e, int E) const { return first.factor(e, E); }
  /// The factor of the parameter block called `param`.
  double factor(double e, int E, std::string_view param) const {
    for (const std::string& n : names)
      if (n == param) return scale * second.factor(e, E);
    return first.factor(e, E);
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) {
    ar(CEREAL_NVP(first), CEREAL_NVP(second), CEREAL_NVP(names), CEREAL_NVP(scale));
  }
};

static_assert(Schedule<ConstantLr> && Schedule<StepLr> && Schedule<ExponentialLr> && Schedule<ExpDecayLr> &&
              Schedule<CosineLr> && Schedule<OneCycleLr> && Schedule<SplitSchedule<OneCycleLr, CosineLr>>);

}  // namespace spikelab

CEREAL_CLASS_VERSION(spikelab::ConstantLr, 1)
CEREAL_CLASS_VERSION(spikelab::StepLr, 1)
CEREAL_CLASS_VERSION(spikelab::ExponentialLr, 1)
CEREAL_CLASS_VERSION(spikelab::ExpDecayLr, 1)
CEREAL_CLASS_VERSION(spikelab::CosineLr, 1)
CEREAL_CLASS_VERSION(spikelab::OneCycleLr, 1)
SPIKELAB_CLASS_VERSION((class A, class B), (spikelab::SplitSchedule<A, B>), 1)

#endif
