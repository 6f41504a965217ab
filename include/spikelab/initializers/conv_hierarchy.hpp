/**
 * @file initializers/conv_hierarchy.hpp
 * @brief Kernel-size and dilation hierarchies of a temporal-convolutional SNN (Moro et al.
 *        2024): per hidden layer l the kernel size K_l and dilation D_l of its causal dilated
 *        temporal convolution.
 *
 * With L_h hidden layers and L = L_h + 1 (hSNN's n_layers, which counts the readout):
 * \f[ K_l = \mathrm{int}\big(\mathrm{linspace}(\mathrm{int}(K - \Delta K/2),\ \mathrm{int}(K + \Delta K/2),\ L_h)_l\big),\qquad
 *     D_l = \mathrm{int}\Big(\max\big(0,\ D + (l - \tfrac{L-2}{2})\,\tfrac{\Delta D}{L-2}\big)\Big) \f]
 * (int truncates toward zero, as Python's int()). Example from the paper's best SHD config:
 * K = 5, dK = 3, D = 5, dD = 2 with 3 layers (2 hidden) gives kernels [3, 6], dilations [4, 6].
 * With a single hidden layer D_0 = D (the formula divides by L - 2 = 0). A kernel size or
 * dilation below 1 is a ConfigError (a convolution cannot have it).
 *
 * @code
 * @article{moro2024temporal, title={The Role of Temporal Hierarchy in Spiking Neural Networks},
 *   author={Moro, Filippo and Aceituno, Pau Vilimelis and Kriener, Laura and Payvand, Melika},
 *   journal={arXiv preprint arXiv:2407.18838}, year={2024}}
 * @endcode
 */
#ifndef SPIKELAB_INITIALIZERS_CONV_HIERARCHY_HPP
#define SPIKELAB_INITIALIZERS_CONV_HIERARCHY_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/types.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace spikelab {

/// Per-hidden-layer kernel sizes and dilations.
struct TemporalConvHierarchy {
  std::vector<Index> kernel_sizes;
  std::vector<Index> dilations;
};

/// K_l and D_l for `hidden_layers` hidden layers from the centre kernel size K (spread dK)
/// and centre dilation D (spread dD); see the file comment.
inline TemporalConvHierarchy temporal_conv_hierarchy(Index hidden_layers, double K, double dK, double D, double dD) {
  if (hidden_layers <= 0) throw ConfigError("temporal_conv_hierarchy: need at least one hidden layer");
  const Index Lh = hidden_layers, L = Lh + 1;
  TemporalConvHierarchy h;
  const double k0 = std::trunc(K - dK / 2), k1 = std::trunc(K + dK / 2);
  for (Index l = 0; l < Lh; ++l) {
    const double k = Lh == 1 ? k0 : k0 + (k1 - k0) * double(l) / double(Lh - 1);
    const double d = L == 2 ? D : std::max(0.0, D + (double(l) - double(L - 2) / 2.0) * dD / double(L - 2));
    const Index ki = Index(std::trunc(k)), di = Index(std::trunc(d));
    if (ki < 1 || di < 1)
      throw ConfigError("temporal_conv_hierarchy: layer " + std::to_string(l) + " gets kernel size " + std::to_string(ki) +
                        " and dilation " + std::to_string(di) + " (both must be >= 1; K " + std::to_string(K) +
                        ", dK " + std::to_string(dK) + ", D " + std::to_string(D) + ", dD " + std::to_string(dD) + ")");
    h.kernel_sizes.push_back(ki);
    h.dilations.push_back(di);
  }
  return h;
}

}  // namespace spikelab

#endif
