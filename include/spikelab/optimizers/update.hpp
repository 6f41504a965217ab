/**
 * @file optimizers/update.hpp
 * @brief Update policies (ensmallen's shape: hyperparameters plus a typed per-parameter
 *        `State<S>`): Sgd (momentum, Nesterov, L2), Adam (with AMSGrad and coupled L2) and
 *        AdamW (decoupled weight decay); each models UpdatePolicy (optimizers/concepts.hpp).
 *
 * Sgd: \f$ d = g + \lambda p;\ m \leftarrow \mu m + d;\ p \leftarrow p - \eta (\text{nesterov} ? d + \mu m : m) \f$,
 *   or with `lr_inside` (cuda-convnet2, Caffe) \f$ v \leftarrow \mu v + \eta d;\ p \leftarrow p - (\text{nesterov} ? \eta d + \mu v : v) \f$:
 *   the two agree at a constant rate; under a schedule the rate scales each gradient once, when it
 *   enters the velocity, instead of the whole velocity at every step.
 * Adam (Kingma & Ba 2015): \f$ m \leftarrow \beta_1 m + (1-\beta_1) g,\ v \leftarrow \beta_2 v + (1-\beta_2) g^2,\
 *   p \leftarrow p - \eta\, \hat m / (\sqrt{\hat v} + \epsilon) \f$ with bias-corrected \f$\hat m, \hat v\f$.
 * AdamW (Loshchilov & Hutter 2019): additionally \f$ p \leftarrow p - \eta \lambda p \f$, not through the moments.
 * The bias corrections \f$\hat m = m/(1-\beta_1^k),\ \hat v = v/(1-\beta_2^k)\f$ use k = the block's
 * step count (AdamBiasCorrection::per_step, the paper's), or k = the 0-based epoch + 1
 * (per_epoch): jax.example_libraries.optimizers.adam indexes them by the `i` its update is
 * called with, and Moro et al. 2024's hSNN code passes the epoch there, which shrinks the
 * steps after the first epochs (about 0.3x the per-step Adam's from epoch 10 on with 20
 * batches per epoch). The Optimizer sets the policy's `epoch` before each step.
 *
 * @code
 * @inproceedings{kingma2015adam, title={Adam: A method for stochastic optimization},
 *   author={Kingma, Diederik P. and Ba, Jimmy}, booktitle={ICLR}, year={2015}}
 * @inproceedings{loshchilov2019decoupled, title={Decoupled weight decay regularization},
 *   author={Loshchilov, Ilya and Hutter, Frank}, booktitle={ICLR}, year={2019}}
 * @endcode
 */
#ifndef SPIKELAB_OPTIMIZERS_UPDATE_HPP
#define SPIKELAB_OPTIMIZERS_UPDATE_HPP

#include <spikelab/core/types.hpp>
#include <spikelab/core/serialization.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/optimizers/concepts.hpp>

#include <cereal/cereal.hpp>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <string>

namespace spikelab {

/// Per-parameter state of Sgd: the momentum buffer.
/// @tparam S the scalar type (float or double)
template <Scalar S>
struct SgdState {
  Matrix<S> velocity;  ///< the momentum buffer (empty without momentum)
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(velocity)); }
};

/// Per-parameter state of Adam / AdamW: first and second moments, running max (AMSGrad), step.
/// @tparam S the scalar type (float or double)
template <Scalar S>
struct AdamState {
  ///@{
  /// First moment m, second moment v, the largest v so far vmax (AMSGrad).
  Matrix<S> m, v, vmax;
  ///@}
  std::int64_t t = 0;  ///< steps taken
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(m), CEREAL_NVP(v), CEREAL_NVP(vmax), CEREAL_NVP(t)); }
};

/// Stochastic gradient descent with momentum, Nesterov momentum and L2 penalty,
/// \f$ d = g + \lambda p,\ m \leftarrow \mu m + d,\ p \leftarrow p - \eta m \f$ (or the
/// cuda-convnet2 form with the rate inside the velocity).
struct Sgd {
  double momentum = 0.0;  ///< mu; 0: plain gradient descent
  bool nesterov = false;  ///< Nesterov momentum
  double weight_decay = 0.0;  ///< L2 penalty added to the gradient
  bool lr_inside = false;     ///< the velocity accumulates eta * d (cuda-convnet2's form), not d

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Sgd"; }
  /// The per-block state: the velocity.
  template <Scalar S>
  using State = SgdState<S>;
  /// The zero state of an r x c parameter block.
  template <Scalar S>
  State<S> make_state(Index r, Index c) const {
    State<S> s;
    if (momentum != 0.0) s.velocity.setZero(r, c);
    return s;
  }
  /// One step on the block p with gradient g and learning rate lr.
  template <Scalar S>
  void update(State<S>& st, Matrix<S>& p, const Matrix<S>& g, double lr) const {
    const S wd = S(weight_decay), mu = S(momentum), eta = S(lr);
    if (momentum == 0.0) {
      if (wd != S(0))
        p.array() -= eta * (g.array() + wd * p.array());
      else
        p.array() -= eta * g.array();
      return;
    }
    auto& m = st.velocity;
    if (lr_inside) {
      if (wd != S(0))
        m.array() = mu * m.array() + eta * (g.array() + wd * p.array());
      else
        m.array() = mu * m.array() + eta * g.array();
      if (nesterov)
        p.array() -= eta * (g.array() + wd * p.array()) + mu * m.array();
      else
        p.array() -= m.array();
      return;
    }
    if (wd != S(0)) {
      m.array() = mu * m.array() + g.array() + wd * p.array();
      if (nesterov)
        p.array() -= eta * (g.array() + wd * p.array() + mu * m.array());
      else
        p.array() -= eta * m.array();
    } else {
      m.array() = mu * m.array() + g.array();
      if (nesterov)
        p.array() -= eta * (g.array() + mu * m.array());
      else
        p.array() -= eta * m.array();
    }
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t version) {
    ar(CEREAL_NVP(momentum), CEREAL_NVP(nesterov), CEREAL_NVP(weight_decay));
    if (version >= 2) ar(CEREAL_NVP(lr_inside));
    else lr_inside = false;
  }
};

/// What indexes Adam's bias corrections (see the file comment).
enum class AdamBiasCorrection : std::uint8_t { per_step, per_epoch };

/// Adam, \f$ m \leftarrow \beta_1 m + (1-\beta_1) g,\ v \leftarrow \beta_2 v + (1-\beta_2) g^2,\;
/// p \leftarrow p - \eta\, \hat m/(\sqrt{\hat v} + \epsilon) \f$, optionally with AMSGrad
/// (Kingma & Ba, ICLR 2015); with decoupled weight decay it is AdamW,
/// \f$ p \leftarrow p - \eta \lambda p \f$ outside the moments (Loshchilov & Hutter, ICLR 2019).
/// @tparam Decoupled true: AdamW's decoupled weight decay; false: Adam with an L2 penalty in the gradient
template <bool Decoupled>
struct AdamType {
  double beta1 = 0.9;  ///< decay of the first moment
  double beta2 = 0.999;  ///< decay of the second moment
  double epsilon = 1e-8;  ///< added to the root of the second moment
  double weight_decay = Decoupled ? 1e-2 : 0.0;  ///< lambda: decoupled (AdamW) or added to the gradient (Adam)
  bool amsgrad = false;  ///< AMSGrad: the maximum of the second moments so far
  AdamBiasCorrection bias_correction = AdamBiasCorrection::per_step;  ///< per step (the paper's) or per epoch
  /// 0-based epoch of the coming steps (per_epoch bias correction); the Optimizer sets it before
  /// every step, so it is not stored.
  std::int64_t epoch = 0;

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return Decoupled ? "AdamW" : "Adam"; }
  /// The per-block state: the moments and the step count.
  template <Scalar S>
  using State = AdamState<S>;
  /// The zero state of an r x c parameter block.
  template <Scalar S>
  State<S> make_state(Index r, Index c) const {
    State<S> s;
    s.m.setZero(r, c);
    s.v.setZero(r, c);
    if (amsgrad) s.vmax.setZero(r, c);
    return s;
  }
  /// One step on the block p with gradient g and learning rate lr.
  template <Scalar S>
  void update(State<S>& st, Matrix<S>& p, const Matrix<S>& g, double lr) const {
    ++st.t;
    const S b1 = S(beta1), b2 = S(beta2), wd = S(weight_decay);
    const double k = bias_correction == AdamBiasCorrection::per_epoch ? double(epoch + 1) : double(st.t);
    const double bc1 = 1.0 - std::pow(beta1, k), bc2 = 1.0 - std::pow(beta2, k);
    const S step = S(lr / bc1), inv_sqrt_bc2 = S(1.0 / std::sqrt(bc2)), eps = S(epsilon);
    if constexpr (Decoupled) {
      if (wd != S(0)) p.array() *= S(1) - S(lr) * wd;
      st.m.array() = b1 * st.m.array() + (S(1) - b1) * g.array();
      st.v.array() = b2 * st.v.array() + (S(1) - b2) * g.array().square();
    } else {
      if (wd != S(0)) {
        st.m.array() = b1 * st.m.array() + (S(1) - b1) * (g.array() + wd * p.array());
        st.v.array() = b2 * st.v.array() + (S(1) - b2) * (g.array() + wd * p.array()).square();
      } else {
        st.m.array() = b1 * st.m.array() + (S(1) - b1) * g.array();
        st.v.array() = b2 * st.v.array() + (S(1) - b2) * g.array().square();
      }
    }
    if (amsgrad) {
      st.vmax = st.vmax.cwiseMax(st.v);
      p.array() -= step * st.m.array() / (st.vmax.array().sqrt() * inv_sqrt_bc2 + eps);
    } else {
      p.array() -= step * st.m.array() / (st.v.array().sqrt() * inv_sqrt_bc2 + eps);
    }
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(CEREAL_NVP(beta1), CEREAL_NVP(beta2), CEREAL_NVP(epsilon), CEREAL_NVP(weight_decay), CEREAL_NVP(amsgrad));
    ar(cereal::make_nvp("bias_correction", static_cast<std::uint8_t>(bias_correction)));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    ar(CEREAL_NVP(beta1), CEREAL_NVP(beta2), CEREAL_NVP(epsilon), CEREAL_NVP(weight_decay), CEREAL_NVP(amsgrad));
    std::uint8_t bc = 0;
    if (version >= 2) ar(cereal::make_nvp("bias_correction", bc));
    if (bc > 1) throw cereal::Exception("Adam: invalid stored bias correction");
    bias_correction = AdamBiasCorrection(bc);
  }
};

/// Adam with an optional L2 penalty in the gradient (Kingma & Ba, ICLR 2015).
using Adam = AdamType<false>;
/// Adam with decoupled weight decay (Loshchilov & Hutter, ICLR 2019).
using AdamW = AdamType<true>;

static_assert(UpdatePolicy<Sgd, float> && UpdatePolicy<Adam, double> && UpdatePolicy<AdamW, float>);

}  // namespace spikelab

CEREAL_CLASS_VERSION(spikelab::Sgd, 2)
SPIKELAB_CLASS_VERSION((bool D), (spikelab::AdamType<D>), 2)
SPIKELAB_CLASS_VERSION((class S), (spikelab::SgdState<S>), 1)
SPIKELAB_CLASS_VERSION((class S), (spikelab::AdamState<S>), 1)

#endif
