/**
 * @file testing/gradient_check.hpp
 * @brief check_gradients: compares a network's BPTT gradients with central finite
 *        differences of the loss, parameter block by parameter block (and for the input).
 *
 * Public, like dlib's test_layer(): users writing their own layer or neuron policy can
 * check it the same way spikelab's tests do. Use it in double precision on the smooth
 * twin of a spiking network (SmoothTwin<G> surrogate), where BPTT is exact:
 * \f[ \text{rel. error} = \frac{\lVert g_{bptt} - g_{fd} \rVert_2}{\max(\lVert g_{bptt}\rVert_2, \lVert g_{fd}\rVert_2)},
 *     \qquad g_{fd,k} = \frac{L(p + h e_k) - L(p - h e_k)}{2h}. \f]
 * Stochastic layers draw from an Rng re-seeded identically for every evaluation.
 */
#ifndef SPIKELAB_TESTING_GRADIENT_CHECK_HPP
#define SPIKELAB_TESTING_GRADIENT_CHECK_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/context.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/random.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <string>
#include <vector>

namespace spikelab::testing {

/// How check_gradients compares: the finite-difference step, the elements checked per block,
/// whether the input gradient is checked, and the seed.
struct GradientCheckOptions {
  double step = 1e-6;               ///< finite-difference step h
  Index max_per_block = 64;         ///< elements checked per block (chosen at random if larger)
  bool check_input = true;          ///< also check dL/d(input)
  std::uint64_t seed = 12345;       ///< for element choice and stochastic layers
};

/// The comparison of one parameter block (or the input): its size, the elements compared and
/// the norm-relative error between the analytic and the finite-difference gradient.
struct GradientCheckBlock {
  std::string name;      ///< "layer 2 weight", "input"
  Index size = 0;        ///< elements in the block
  Index checked = 0;     ///< elements compared
  double rel_error = 0;  ///< norm-relative error over the checked elements
  ///@{
  /// Norms of the analytic and of the finite-difference gradient over the checked elements.
  double analytic_norm = 0, numeric_norm = 0;
  ///@}
};

/// What check_gradients found: one GradientCheckBlock per block, the largest relative error and
/// the block that has it.
struct GradientCheckResult {
  std::vector<GradientCheckBlock> blocks;  ///< one per parameter block (and the input)
  double max_rel_error = 0;                ///< the largest rel_error
  std::string worst;                       ///< the block that has it
  /// One line per block: its name, the elements checked of its size, the relative error and |g|.
  std::string report() const {
    std::string r;
    for (const auto& b : blocks)
      r += b.name + ": checked " + std::to_string(b.checked) + "/" + std::to_string(b.size) + ", rel. error " +
           std::to_string(b.rel_error) + " (|g| " + std::to_string(b.analytic_norm) + ")\n";
    return r;
  }
};

/// Checks every trainable parameter block of `net` (and the input) under `loss` on `batch`.
template <class Net, class LossT>
GradientCheckResult check_gradients(Net& net, LossT& loss, Batch<typename Net::scalar_type> batch,
                                    GradientCheckOptions opt = {}) {
  using S = typename Net::scalar_type;
  const double h = opt.step;
  auto eval = [&]() -> double {
    Rng r(opt.seed);
    const auto& out = net.forward(batch.input, ForwardContext::train(r));
    return double(loss.value(out, batch));
  };
  // analytic gradients
  net.zero_grad();
  TimeSeries<S> gout, gin;
  {
    Rng r(opt.seed);
    const auto& out = net.forward(batch.input, ForwardContext::train(r));
    loss.value_and_gradient(out, batch, gout);
    net.backward(gout, opt.check_input ? &gin : nullptr);
  }
  struct Ref {
    Matrix<S>* value;
    Matrix<S> grad;
    std::string name;
  };
  std::vector<Ref> refs;
  net.for_each_parameter([&](ParamRef<S> p) {
    refs.push_back({&p.value, p.grad, "layer " + std::to_string(p.layer) + " " + std::string(p.name)});
  });

  GradientCheckResult res;
  Rng pick(opt.seed ^ 0x9E3779B97F4A7C15ULL);
  auto choose = [&](Index n) {
    std::vector<Index> idx(static_cast<std::size_t>(n));
    std::iota(idx.begin(), idx.end(), Index(0));
    if (n > opt.max_per_block) {
      for (Index i = 0; i < opt.max_per_block; ++i) std::swap(idx[std::size_t(i)], idx[std::size_t(i + Index(pick.below(std::uint64_t(n - i))))]);
      idx.resize(std::size_t(opt.max_per_block));
    }
    return idx;
  };
  // compares the gradient `grad` of the `size` values at `values` with central differences
  auto check_block = [&](std::string name, S* values, const S* grad, Index size) {
    GradientCheckBlock b;
    b.name = std::move(name);
    b.size = size;
    double diff = 0, na = 0, nn = 0;
    for (Index k : choose(size)) {
      S& p = values[k];
      const S keep = p;
      p = S(double(keep) + h);
      const double lp = eval();
      p = S(double(keep) - h);
      const double lm = eval();
      p = keep;
      const double an = double(grad[k]), nu = (lp - lm) / (2 * h);
      diff += (an - nu) * (an - nu);
      na += an * an;
      nn += nu * nu;
      ++b.checked;
    }
    b.analytic_norm = std::sqrt(na);
    b.numeric_norm = std::sqrt(nn);
    const double den = std::max({b.analytic_norm, b.numeric_norm, 1e-300});
    b.rel_error = (na == 0 && nn == 0) ? 0.0 : std::sqrt(diff) / den;
    if (b.rel_error > res.max_rel_error || res.worst.empty()) {
      if (b.rel_error >= res.max_rel_error) {
        res.max_rel_error = b.rel_error;
        res.worst = b.name;
      }
    }
    res.blocks.push_back(std::move(b));
  };
  for (auto& ref : refs) check_block(ref.name, ref.value->data(), ref.grad.data(), ref.value->size());
  if (opt.check_input) check_block("input", batch.input.values().data(), gin.values().data(), batch.input.values().size());
  return res;
}

}  // namespace spikelab::testing

#endif
