/**
 * @file layers/dropout.hpp
 * @brief Dropout with one mask per sample, held fixed over all time steps, or one per step
 *        (inverted dropout; inactive in evaluation).
 *
 * For sample b and feature f, during training:
 * \f[ y_{f,b,t} = \frac{m_{g(f),b}}{1-p}\, x_{f,b,t}, \qquad m_{g,b} \sim \text{Bernoulli}(1-p), \f]
 * the same m for every step t, as in SNN training (a dropped neuron stays silent for the whole
 * sample; redrawing per step would only add noise the membrane averages away). The mask group
 * g(f) = floor(f / block): block = 1 drops single features, block = H*W drops whole channels of
 * a C x H x W map (spatial dropout). The mask is drawn from ForwardContext::rng once per
 * training forward pass; in evaluation (or with p = 0) the layer passes its input through.
 * With `per_step`, a new mask is drawn for every step, m_{g,b,t}: what Moro et al. 2024's hSNN
 * code does (a Bernoulli mask of the shape of the spike tensor, batch x time x neurons).
 *
 * @code
 * @article{srivastava2014dropout, title={Dropout: a simple way to prevent neural networks from overfitting},
 *   author={Srivastava, Nitish and Hinton, Geoffrey and Krizhevsky, Alex and Sutskever, Ilya and
 *   Salakhutdinov, Ruslan}, journal={JMLR}, volume={15}, number={1}, pages={1929--1958}, year={2014}}
 * @article{lee2020enabling, title={Enabling spike-based backpropagation for training deep neural network
 *   architectures}, author={Lee, Chankyu and Sarwar, Syed Shakib and Panda, Priyadarshini and Srinivasan, Gopalakrishnan
 *   and Roy, Kaushik}, journal={Frontiers in Neuroscience}, volume={14}, pages={119}, year={2020}}
 * @endcode
 */
#ifndef SPIKELAB_LAYERS_DROPOUT_HPP
#define SPIKELAB_LAYERS_DROPOUT_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/layers/image_shape.hpp>
#include <spikelab/layers/layer_base.hpp>

#include <cstdint>
#include <string>

namespace spikelab {

/// Hyperparameters of a Dropout layer: the drop probability, the features that share a mask
/// entry, and one mask per sample or per step.
struct DropoutConfig {
  double p = 0.5;    ///< drop probability, in [0, 1)
  Index block = 1;   ///< consecutive features sharing one mask entry (H*W: drop whole channels)
  bool per_step = false;  ///< a new mask at every step instead of one per sample
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(CEREAL_NVP(p), cereal::make_nvp("block", std::int64_t(block)), CEREAL_NVP(per_step));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t version) {
    std::int64_t b = 0;
    ar(CEREAL_NVP(p), cereal::make_nvp("block", b));
    block = b;
    per_step = false;
    if (version >= 2) ar(CEREAL_NVP(per_step));
  }
};

/// Inverted dropout with one mask per sample held over all steps (or one per step),
/// \f$ y_{f,b,t} = m_{g(f),b}\, x_{f,b,t} / (1-p) \f$, \f$ m \sim \mathrm{Bernoulli}(1-p) \f$;
/// inactive in evaluation (Srivastava et al., JMLR 2014; per sample for SNNs: Lee et al.,
/// Frontiers in Neuroscience 2020).
/// @tparam S the scalar type (float or double)
template <Scalar S>
class Dropout : public detail::FeatureLayer<Dropout<S>, S, DropoutConfig> {
 public:
  static constexpr const char* config_key = "config";  ///< the name of the configuration in a checkpoint

  Dropout() = default;
  /// Dropout of single features.
  /// @param features the number of features
  /// @param cfg the drop probability, mask block and per-step masks
  explicit Dropout(Index features, DropoutConfig cfg = {}) : Dropout::FeatureLayer(features, cfg) {}
  /// Spatial dropout of a feature map: one mask entry per (channel, sample).
  /// @param shape the feature map's shape
  /// @param p the probability of dropping a channel
  Dropout(ImageShape shape, double p)
      : Dropout((shape.validate("Dropout"), shape.size()), DropoutConfig{p, shape.plane()}) {}

  /// Each output column depends on the same input column only in evaluation (Sequential::forward_step
  /// runs the layer one step at a time).
  static constexpr bool per_column = true;
  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "Dropout"; }
  /// Throws ConfigError unless p is in [0, 1) and the block divides the `features` features.
  static void validate(Index features, const DropoutConfig& cfg) {
    if (!(cfg.p >= 0.0 && cfg.p < 1.0)) throw ConfigError("Dropout: p = " + std::to_string(cfg.p) + " is not in [0, 1)");
    if (cfg.block <= 0 || features % cfg.block != 0)
      throw ConfigError("Dropout: block " + std::to_string(cfg.block) + " does not divide the " +
                        std::to_string(features) + " features");
  }
  /// The run-time configuration.
  const DropoutConfig& config() const noexcept { return cfg_; }
  /// Changes the drop probability (e.g. a schedule); p in [0, 1).
  void set_p(double p) {
    cfg_.p = p;
    validate(n_, cfg_);
  }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const {
    return "Dropout(" + std::to_string(n_) + ",p" + std::to_string(cfg_.p) +
           (cfg_.block != 1 ? ",block" + std::to_string(cfg_.block) : "") + (cfg_.per_step ? ",per_step" : "") + ")";
  }
  /// The mask of the last training pass: (features/block) x batch, or (features/block) x
  /// (batch*steps) step-major with per_step; entries 0 or 1/(1-p).
  const Matrix<S>& mask() const noexcept { return mask_; }

  /// All T steps of `in` to `out` (see Layer); with ctx.training the layer keeps what backward() needs.
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext& ctx) {
    this->require_input(in);
    out.resize(n_, in.batch(), in.steps());
    active_ = ctx.training && cfg_.p > 0.0;
    if (!active_) {
      out.values() = in.values();
      return;
    }
    if (ctx.rng == nullptr)
      throw ConfigError(signature() + ": a training forward pass needs ForwardContext::rng (dropout draws its mask)");
    const Index B = in.batch(), T = in.steps(), G = groups(), M = cfg_.per_step ? B * T : B;
    mask_.resize(G, M);
    const S keep = S(1.0 / (1.0 - cfg_.p));
    Rng& rng = *ctx.rng;
    for (Index b = 0; b < M; ++b)
      for (Index g = 0; g < G; ++g) mask_(g, b) = rng.uniform() < cfg_.p ? S(0) : keep;
    apply(in, out, B, T);
  }

  /// Writes dL/d(in) to *grad_in (when not null) from dL/d(out) = grad_out and adds the parameter gradients (see Layer).
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    this->require_gradient(in, out, grad_out);
    if (!grad_in) return;
    grad_in->resize(n_, out.batch(), out.steps());
    if (!active_) {
      grad_in->values() = grad_out.values();
      return;
    }
    if (mask_.cols() != (cfg_.per_step ? out.columns() : out.batch()))
      throw ShapeError(signature() + "::backward: the mask was drawn for another batch size");
    apply(grad_out, *grad_in, out.batch(), out.steps());
  }

 private:
  Index groups() const noexcept { return n_ / cfg_.block; }
  // dst = src * mask: the mask of sample b at every step, or of column (b, t) with per_step
  void apply(const TimeSeries<S>& src, TimeSeries<S>& dst, Index B, Index T) const {
    const Index n = n_, blk = cfg_.block, G = groups();
    const bool per_step = cfg_.per_step;
    const S* x = src.data();
    S* y = dst.data();
    const S* m = mask_.data();
    detail::parallel_ranges(B * T, double(n), [&](Index c0, Index c1) {
      for (Index c = c0; c < c1; ++c) {
        const S* mb = m + (per_step ? c : c % B) * G;
        const S* xc = x + c * n;
        S* yc = y + c * n;
        if (blk == 1) {
          for (Index f = 0; f < n; ++f) yc[f] = xc[f] * mb[f];
        } else {
          for (Index g = 0; g < G; ++g)
            for (Index f = g * blk; f < (g + 1) * blk; ++f) yc[f] = xc[f] * mb[g];
        }
      }
    });
  }

  using Dropout::FeatureLayer::n_, Dropout::FeatureLayer::cfg_;
  Matrix<S> mask_;
  bool active_ = false;
};

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::Dropout<S>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::DropoutConfig), 2)

#endif
