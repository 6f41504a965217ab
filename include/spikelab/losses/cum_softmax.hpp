/**
 * @file losses/cum_softmax.hpp
 * @brief CumSoftmaxCrossEntropy: hSNN's 'cum' decoder (Moro et al. 2024, models.py::decoder_cum)
 *        with cross-entropy: the per-step softmax of the readout, summed over time, then a
 *        softmax over classes.
 *
 * For sample b with valid steps t < len_b and readout V[:, b, t]:
 * \f[ q_t = \mathrm{softmax}(V_t),\quad z = \sum_{t<len_b} q_t,\quad p = \mathrm{softmax}(z),\quad
 *     L = -\frac{1}{B}\sum_b \log p_{y_b}, \f]
 * \f[ \frac{\partial L}{\partial V_{c,t}} = q_{c,t}\Big(g_c - \sum_k q_{k,t}\, g_k\Big),\qquad
 *     g = \frac{1}{B}(p - e_{y}). \f]
 * Every step votes with a probability vector, so one confident step cannot dominate the
 * decision (unlike the sum of membranes). The prediction is argmax p. (The hSNN code takes
 * log(p + 1e-12); here the log-softmax is exact.)
 *
 * @code
 * @article{moro2024temporal, title={The Role of Temporal Hierarchy in Spiking Neural Networks},
 *   author={Moro, Filippo and Aceituno, Pau Vilimelis and Kriener, Laura and Payvand, Melika},
 *   journal={arXiv preprint arXiv:2407.18838}, year={2024}}
 * @endcode
 */
#ifndef SPIKELAB_LOSSES_CUM_SOFTMAX_HPP
#define SPIKELAB_LOSSES_CUM_SOFTMAX_HPP

#include <spikelab/losses/concepts.hpp>
#include <spikelab/losses/loss_base.hpp>

#include <cmath>
#include <string>

namespace spikelab {

/// hSNN's cumulative-softmax decoder with cross-entropy: \f$ q_t = \mathrm{softmax}(V_t) \f$,
/// \f$ z = \sum_t q_t \f$, \f$ L = -\frac1B \sum_b \log \mathrm{softmax}(z)_{y_b} \f$ (Moro et al.,
/// arXiv:2407.18838, 2024).
class CumSoftmaxCrossEntropy {
 public:
  SPIKELAB_LOSS_FROM_COMPUTE

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "CumSoftmaxCrossEntropy"; }
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar&, std::uint32_t) {}

 private:

  template <Scalar S>
  static void softmax_into(const S* v, Index C, S* q) {
    S m = v[0];
    for (Index c = 1; c < C; ++c) m = v[c] > m ? v[c] : m;
    S sum = 0;
    for (Index c = 0; c < C; ++c) sum += (q[c] = std::exp(v[c] - m));
    for (Index c = 0; c < C; ++c) q[c] /= sum;
  }

  template <Scalar S>
  S compute(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>* g, Tally* tally) {
    detail::require_sample_labels(out, b, name());
    const Index C = out.features(), B = out.batch();
    if (g) g->resize_zero(C, B, out.steps());
    Vector<S>& z = z_.template get<S>();
    Vector<S>& q = q_.template get<S>();
    Vector<S>& gz = gz_.template get<S>();
    z.resize(C);
    q.resize(C);
    gz.resize(C);
    double total = 0;
    for (Index s = 0; s < B; ++s) {
      const int y = detail::sample_label(b, s, C, name());
      const Index len = b.length(s);
      z.setZero();
      for (Index t = 0; t < len; ++t) {
        softmax_into(out.data() + out.column(s, t) * C, C, q.data());
        z += q;
      }
      const detail::SoftmaxCrossEntropy<S> ce(z, y);
      total += ce.loss;
      detail::count_decision(tally, ce.correct());
      if (!g) continue;
      for (Index c = 0; c < C; ++c) gz[c] = ce.residual(z[c], c) / S(B);
      for (Index t = 0; t < len; ++t) {
        softmax_into(out.data() + out.column(s, t) * C, C, q.data());
        const S dot = q.dot(gz);
        S* gc = g->data() + g->column(s, t) * C;
        for (Index c = 0; c < C; ++c) gc[c] = q[c] * (gz[c] - dot);
      }
    }
    return S(total / double(B));
  }

  detail::PerScalar<Vector<float>, Vector<double>> z_, q_, gz_;
};

static_assert(Loss<CumSoftmaxCrossEntropy, float> && Loss<CumSoftmaxCrossEntropy, double>);

}  // namespace spikelab

#endif
