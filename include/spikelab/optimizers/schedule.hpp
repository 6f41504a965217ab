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
 */
#ifndef SPIKELAB_OPTIMIZERS_SCHEDULE_HPP
#define SPIKELAB_OPTIMIZERS_SCHEDULE_HPP

#include <spikelab/optimizers/concepts.hpp>

#include <cereal/cereal.hpp>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <numbers>
#include <string>

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

static_assert(Schedule<ConstantLr> && Schedule<StepLr> && Schedule<ExponentialLr> && Schedule<ExpDecayLr> &&
              Schedule<CosineLr>);

}  // namespace spikelab

CEREAL_CLASS_VERSION(spikelab::ConstantLr, 1)
CEREAL_CLASS_VERSION(spikelab::StepLr, 1)
CEREAL_CLASS_VERSION(spikelab::ExponentialLr, 1)
CEREAL_CLASS_VERSION(spikelab::ExpDecayLr, 1)
CEREAL_CLASS_VERSION(spikelab::CosineLr, 1)

#endif
