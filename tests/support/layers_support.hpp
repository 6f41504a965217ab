// Helpers shared by the layer tests: smooth-twin neurons, random batches, gradient-check wrapper,
// and direct (nested-loop) reference implementations.
#ifndef SPIKELAB_TESTS_LAYERS_SUPPORT_HPP
#define SPIKELAB_TESTS_LAYERS_SUPPORT_HPP

#include <spikelab/spikelab.hpp>
#include <spikelab/testing/gradient_check.hpp>

#include "support/test_support.hpp"

#include <cereal/archives/json.hpp>

#include <sstream>

namespace spikelab::test {

/// LIF neuron whose spike is the smooth primitive of its surrogate (exact BPTT gradient).
using TwinLif = LifType<double, SmoothTwin<Sigmoid>, SubtractReset, LifOptions{.threshold = Train::per_layer}>;
inline TwinLif twin_lif(Index n) { return TwinLif(n, {.beta = 0.8, .threshold = 0.4}, {{2.0}}); }
using Readout = LeakyIntegratorType<double, Train::per_layer>;
inline Readout readout(Index n) { return Readout(n, {.beta = 0.8}); }

inline constexpr double kGradTolerance = 1e-6;
inline constexpr double kFdNoise = 5e-9;

/// A random batch with labels in [0, classes).
inline Batch<double> random_batch(Rng& rng, Index features, Index batch, Index steps, int classes, double lo = -0.5,
                                  double hi = 1.5) {
  Batch<double> b;
  b.input.resize(features, batch, steps);
  fill_uniform(b.input, rng, lo, hi);
  for (Index i = 0; i < batch; ++i) b.labels.push_back(int(rng.below(std::uint64_t(classes))));
  return b;
}

/// Checks every parameter block and the input gradient of `net` against central differences.
template <class Net, class LossT = SumCrossEntropy>
void require_exact_gradients(Net& net, const Batch<double>& b, double tol = kGradTolerance, LossT loss = {}) {
  auto r = testing::check_gradients(net, loss, b, {.step = 1e-6, .max_per_block = 48});
  INFO(net.signature() << "\n" << r.report());
  REQUIRE(r.blocks.size() >= 2);
  for (const auto& blk : r.blocks) {
    INFO(blk.name);
    CHECK(blk.analytic_norm > 0);  // every block receives gradient
    // relative error, unless the block's gradient is so small that the finite differences' own
    // rounding (about 1e-16 |L| / h per element, ~3e-9 over 48 elements) dominates
    const double abs_error = blk.rel_error * std::max(blk.analytic_norm, blk.numeric_norm);
    CHECK((blk.rel_error < tol || abs_error < kFdNoise));
  }
}

/// b = a through a JSON archive (a layer's checkpoint form).
template <class T>
void json_round_trip(const T& a, T& b) {
  std::stringstream ss;
  {
    cereal::JSONOutputArchive ar(ss);
    ar(a);
  }
  cereal::JSONInputArchive ar(ss);
  ar(b);
}

/// Direct 2-D convolution of one (sample, step) column, straight from the definition.
template <class S>
Matrix<S> direct_conv2d(const Conv2d<S>& conv, const TimeSeries<S>& x) {
  const ImageShape i = conv.input_shape(), o = conv.output_shape();
  const Index k = conv.config().kernel, s = conv.config().stride, p = conv.config().padding;
  Matrix<S> y(o.size(), x.columns());
  for (Index n = 0; n < x.columns(); ++n)
    for (Index co = 0; co < o.channels; ++co)
      for (Index u = 0; u < o.height; ++u)
        for (Index v = 0; v < o.width; ++v) {
          double acc = conv.config().bias ? double(conv.bias()(co, 0)) : 0.0;
          for (Index ci = 0; ci < i.channels; ++ci)
            for (Index a = 0; a < k; ++a)
              for (Index b = 0; b < k; ++b) {
                const Index yy = u * s - p + a, xx = v * s - p + b;
                if (yy < 0 || yy >= i.height || xx < 0 || xx >= i.width) continue;
                acc += double(conv.weight()(co, (ci * k + a) * k + b)) * double(x.values()(i.index(ci, yy, xx), n));
              }
          y(o.index(co, u, v), n) = S(acc);
        }
  return y;
}

}  // namespace spikelab::test

#endif
