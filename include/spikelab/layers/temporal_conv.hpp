/**
 * @file layers/temporal_conv.hpp
 * @brief TemporalConv: a causal, dilated 1-D convolution over time (synaptic delays), with
 *        kernel size K and dilation D per layer and optional channel groups; plus
 *        temporal_conv_hierarchy(), the kernel-size / dilation hierarchy of hSNN.
 *
 * For output channel o of group g (in/groups inputs, out/groups outputs per group):
 * \f[ y_t = b + \sum_{k=0}^{K-1} W_k\, x_{t - kD}, \qquad x_{t<0} = 0, \f]
 * so step t sees the input at t, t-D, ..., t-(K-1)D (a receptive field of (K-1)D+1 steps)
 * and never the future. W_k is block diagonal over the groups: groups = 1 connects every input
 * to every output (hSNN's temporal-conv layer), groups = in = out filters each channel alone.
 * Weights are an out x (K * in/groups) matrix whose column k*(in/groups) + i holds tap k
 * (lag kD) of group-local input i. hSNN's JAX kernel [K, in, out] (cross-correlation on a
 * left-padded sequence) is this W with the tap order reversed: W_k = kernel[K-1-k]^T.
 *
 * Because a TimeSeries stores step t in columns [tB, (t+1)B), a lag of kD steps is a column
 * offset of kDB: each tap is ONE matrix product over all valid steps of all samples, and the
 * backward pass is the same products transposed. Padding at the end of ragged sequences never
 * reaches earlier steps (causality).
 *
 * @code
 * @article{moro2024role, title={The Role of Temporal Hierarchy in Spiking Neural Networks},
 *   author={Moro, Filippo and Aceituno, Pau Vilimelis and Kriener, Laura and Payvand, Melika},
 *   journal={arXiv:2407.18838}, year={2024}}
 * @article{bai2018empirical, title={An empirical evaluation of generic convolutional and recurrent networks for
 *   sequence modeling}, author={Bai, Shaojie and Kolter, J. Zico and Koltun, Vladlen}, journal={arXiv:1803.01271},
 *   year={2018}}
 * @endcode
 */
#ifndef SPIKELAB_LAYERS_TEMPORAL_CONV_HPP
#define SPIKELAB_LAYERS_TEMPORAL_CONV_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/serialization.hpp>
#include <spikelab/core/versioning.hpp>
#include <spikelab/layers/weighted_layer.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

namespace spikelab {

/// Hyperparameters of a TemporalConv layer: taps, dilation, channel groups, bias and
/// initialisation.
struct TemporalConvConfig {
  Index kernel = 1;    ///< taps K
  Index dilation = 1;  ///< lag D between taps (steps)
  Index groups = 1;    ///< channel groups; in and out must be divisible by it
  bool bias = true;  ///< with a bias per output channel
  Init init = Init::uniform_fan_in;  ///< fan_in = K * in / groups
  double init_scale = 1.0;  ///< a factor on the initial weights
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void save(Ar& ar, std::uint32_t) const {
    ar(cereal::make_nvp("kernel", std::int64_t(kernel)), cereal::make_nvp("dilation", std::int64_t(dilation)),
       cereal::make_nvp("groups", std::int64_t(groups)), CEREAL_NVP(bias), CEREAL_NVP(init), CEREAL_NVP(init_scale));
  }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void load(Ar& ar, std::uint32_t) {
    std::int64_t k = 0, d = 0, g = 0;
    ar(cereal::make_nvp("kernel", k), cereal::make_nvp("dilation", d), cereal::make_nvp("groups", g), CEREAL_NVP(bias),
       CEREAL_NVP(init), CEREAL_NVP(init_scale));
    kernel = k;
    dilation = d;
    groups = g;
  }
};

/// A causal, dilated 1-D convolution over time (synaptic delays) with optional channel groups,
/// \f$ y_t = b + \sum_{k=0}^{K-1} W_k\, x_{t-kD} \f$ (hSNN: Moro et al., arXiv:2407.18838, 2024;
/// temporal convolutional networks: Bai, Kolter & Koltun, arXiv:1803.01271, 2018).
/// @tparam S the scalar type (float or double)
template <Scalar S>
class TemporalConv : public detail::WeightedLayer<TemporalConv<S>, S, TemporalConvConfig> {
 public:
  static constexpr const char* out_key = "out";  ///< the name of the output size in a checkpoint

  TemporalConv() = default;
  /// A temporal convolution from `in` to `out` channels.
  /// @param in the number of input channels
  /// @param out the number of output channels
  /// @param rng draws the initial weights
  /// @param cfg kernel size, dilation, groups, bias and initialisation
  TemporalConv(Index in, Index out, Rng& rng, TemporalConvConfig cfg = {}) : TemporalConv::WeightedLayer(in, out, cfg) {
    this->allocate(rng);
  }

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "TemporalConv"; }
  /// Inputs one output sums, the columns of the weight matrix: K * in/groups.
  Index fan_in() const noexcept { return cfg_.kernel * group_in(); }
  /// Taps K.
  Index kernel() const noexcept { return cfg_.kernel; }
  /// The lag D between taps, in steps.
  Index dilation() const noexcept { return cfg_.dilation; }
  /// Steps one output sees: (K-1) D + 1.
  Index receptive_field() const noexcept { return (cfg_.kernel - 1) * cfg_.dilation + 1; }
  /// The name with the sizes and options; checkpoints store it and loading checks it.
  std::string signature() const {
    return "TemporalConv(" + std::to_string(in_) + "," + std::to_string(out_) + ",K" + std::to_string(cfg_.kernel) +
           ",D" + std::to_string(cfg_.dilation) + (cfg_.groups != 1 ? ",g" + std::to_string(cfg_.groups) : "") +
           (cfg_.bias ? ",bias" : "") + ")";
  }

  /// The weight matrix (weight()) is out x (K * in/groups), with tap k of group-local input i in
  /// column k*(in/groups) + i. The weight of tap k from (global) input i to (global) output o; 0 across groups.
  S tap(Index o, Index i, Index k) const {
    const Index gi = group_in(), go = group_out();
    if (o / go != i / gi) return S(0);
    return w_(o, k * gi + i % gi);
  }

  /// All T steps of `in` to `out` (see Layer); with ctx.training the layer keeps what backward() needs.
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    this->require_input(in);
    const Index B = in.batch(), T = in.steps();
    out.resize(out_, B, T);
    Matrix<S>& y = out.values();
    const Matrix<S>& x = in.values();
    if (cfg_.bias)
      y.colwise() = b_.col(0);
    else
      y.setZero();
    const Index gi = group_in(), go = group_out(), G = cfg_.groups;
    for (Index k = 0; k < cfg_.kernel; ++k) {
      const Index lag = k * cfg_.dilation;
      if (lag >= T) break;
      const Index n = (T - lag) * B, off = lag * B;
      if (gi == 1 && go == 1) {  // one filter per channel: element-wise
        y.middleCols(off, n).array() += x.leftCols(n).array().colwise() * w_.col(k).array();
      } else {
        for (Index g = 0; g < G; ++g)
          y.block(g * go, off, go, n).noalias() += w_.block(g * go, k * gi, go, gi) * x.block(g * gi, 0, gi, n);
      }
    }
  }

  /// Writes dL/d(in) to *grad_in (when not null) from dL/d(out) = grad_out and adds the parameter gradients (see Layer).
  void backward(const TimeSeries<S>& in, const TimeSeries<S>& out, const TimeSeries<S>& grad_out,
                TimeSeries<S>* grad_in) {
    this->require_gradient(in, out, grad_out);
    if (gw_.rows() != w_.rows() || gw_.cols() != w_.cols()) this->zero_grad();
    const Index B = in.batch(), T = in.steps();
    const Matrix<S>& g = grad_out.values();
    const Matrix<S>& x = in.values();
    if (grad_in) grad_in->resize_zero(in_, B, T);
    const Index gi = group_in(), go = group_out(), G = cfg_.groups;
    if (cfg_.bias) gb_.col(0) += g.rowwise().sum();
    for (Index k = 0; k < cfg_.kernel; ++k) {
      const Index lag = k * cfg_.dilation;
      if (lag >= T) break;
      const Index n = (T - lag) * B, off = lag * B;
      if (gi == 1 && go == 1) {
        gw_.col(k).array() += (g.middleCols(off, n).array() * x.leftCols(n).array()).rowwise().sum();
        if (grad_in)
          grad_in->values().leftCols(n).array() += g.middleCols(off, n).array().colwise() * w_.col(k).array();
      } else {
        for (Index gr = 0; gr < G; ++gr) {
          gw_.block(gr * go, k * gi, go, gi).noalias() +=
              g.block(gr * go, off, go, n) * x.block(gr * gi, 0, gi, n).transpose();
          if (grad_in)
            grad_in->values().block(gr * gi, 0, gi, n).noalias() +=
                w_.block(gr * go, k * gi, go, gi).transpose() * g.block(gr * go, off, go, n);
        }
      }
    }
  }


 private:
  // The base reaches the members below; doxygen cannot resolve this friend, so it skips it.
  /// @cond
  friend typename TemporalConv::WeightedLayer;
  /// @endcond
  using TemporalConv::WeightedLayer::in_, TemporalConv::WeightedLayer::out_, TemporalConv::WeightedLayer::cfg_;
  using TemporalConv::WeightedLayer::w_, TemporalConv::WeightedLayer::b_, TemporalConv::WeightedLayer::gw_,
      TemporalConv::WeightedLayer::gb_;

  Index group_in() const noexcept { return in_ / cfg_.groups; }
  Index group_out() const noexcept { return out_ / cfg_.groups; }
  void validate() const {
    if (in_ <= 0 || out_ <= 0) throw ConfigError("TemporalConv: sizes must be positive");
    if (cfg_.kernel <= 0 || cfg_.dilation <= 0)
      throw ConfigError("TemporalConv: kernel (" + std::to_string(cfg_.kernel) + ") and dilation (" +
                        std::to_string(cfg_.dilation) + ") must be positive");
    if (cfg_.groups <= 0 || in_ % cfg_.groups != 0 || out_ % cfg_.groups != 0)
      throw ConfigError("TemporalConv: groups " + std::to_string(cfg_.groups) + " must divide in (" +
                        std::to_string(in_) + ") and out (" + std::to_string(out_) + ")");
  }
};

/// Kernel sizes and dilations of the hidden temporal-conv layers of an hSNN-style network.
struct TemporalHierarchy {
  std::vector<Index> kernels;  ///< kernel size K per layer
  std::vector<Index> dilations;  ///< dilation D per layer
};

/**
 * hSNN's hierarchy of kernel size and dilation over L_h hidden layers (Moro et al., arXiv 2024,
 * with L = L_h + 1 layers counting the readout):
 * \f[ K_l = \lfloor \mathrm{linspace}(\lfloor K - \Delta K/2 \rfloor, \lfloor K + \Delta K/2 \rfloor, L_h)_l \rfloor, \qquad
 *     D_l = \lfloor \max(0,\; D + (l - \tfrac{L_h - 1}{2})\, \Delta D / (L_h - 1)) \rfloor, \f]
 * (floors truncate toward zero, as Python's int()). Delta > 0: short kernels / dilations near
 * the input, long ones near the output; Delta < 0 inverts; 0 is homogeneous. With one hidden
 * layer, D_0 = D. Values below 1 are raised to 1 (a kernel or dilation of 0 is no layer).
 * Example: K = 5, dK = 3, D = 5, dD = 2, 2 hidden layers -> kernels {3, 6}, dilations {4, 6}.
 */
inline TemporalHierarchy temporal_conv_hierarchy(Index hidden_layers, double K, double delta_k, double D,
                                                 double delta_d) {
  if (hidden_layers <= 0) throw ConfigError("temporal_conv_hierarchy: need at least one hidden layer");
  TemporalHierarchy h;
  const double k0 = std::trunc(K - delta_k / 2), k1 = std::trunc(K + delta_k / 2);
  const Index L = hidden_layers;
  for (Index l = 0; l < L; ++l) {
    const double lin = L == 1 ? k0 : k0 + (k1 - k0) * double(l) / double(L - 1);
    h.kernels.push_back(std::max<Index>(1, Index(std::trunc(lin))));
    const double d = L == 1 ? D : D + (double(l) - double(L - 1) / 2.0) * delta_d / double(L - 1);
    h.dilations.push_back(std::max<Index>(1, Index(std::trunc(std::max(0.0, d)))));
  }
  return h;
}

}  // namespace spikelab

SPIKELAB_CLASS_VERSION((class S), (spikelab::TemporalConv<S>), 1)
SPIKELAB_CLASS_VERSION((), (spikelab::TemporalConvConfig), 1)

#endif
