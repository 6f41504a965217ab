/**
 * @file losses/rate_mse.hpp
 * @brief RateMse: mean-squared error between output firing rates and target rates
 *        (spike-count MSE; the spike-rate loss of Mahmoodi Takaghaj & Sampson 2024).
 *
 * \f[ r_{c,b} = \frac{1}{len_b}\sum_{t<len_b} s_{c,b,t}, \qquad
 *     L = \frac{1}{B}\sum_b \sum_c \tfrac12 (r_{c,b} - \hat r_{c,b})^2, \f]
 * with target rate \f$\hat r\f$ = on_rate for the labelled class and off_rate otherwise.
 */
#ifndef SPIKELAB_LOSSES_RATE_MSE_HPP
#define SPIKELAB_LOSSES_RATE_MSE_HPP

#include <spikelab/losses/concepts.hpp>
#include <spikelab/losses/loss_base.hpp>

#include <cereal/cereal.hpp>

#include <string>

namespace spikelab {

/// Mean-squared error between output firing rates and target rates,
/// \f$ L = \frac1B \sum_b \sum_c \tfrac12 (r_{c,b} - \hat r_{c,b})^2 \f$ (the spike-rate loss of
/// Mahmoodi Takaghaj & Sampson, arXiv:2407.19566, 2024).
class RateMse {
 public:
  SPIKELAB_LOSS_FROM_COMPUTE

  double on_rate = 0.8;  ///< the target rate of the labelled class
  double off_rate = 0.2;  ///< the target rate of the other classes

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "RateMse"; }

  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar, std::uint32_t) { ar(CEREAL_NVP(on_rate), CEREAL_NVP(off_rate)); }

 private:
  template <Scalar S>
  S compute(const TimeSeries<S>& out, const Batch<S>& b, TimeSeries<S>* g, Tally* tally) const {
    detail::require_sample_labels(out, b, name());
    const Index C = out.features(), B = out.batch();
    if (g) g->resize_zero(C, B, out.steps());
    double total = 0;
    for (Index s = 0; s < B; ++s) {
      const Index len = b.length(s);
      const int y = detail::sample_label(b, s, C, name());
      Index best = 0;
      S best_rate = S(-1);
      for (Index c = 0; c < C; ++c) {
        S cnt = 0;
        for (Index t = 0; t < len; ++t) cnt += out(c, s, t);
        const S rate = len > 0 ? cnt / S(len) : S(0);
        if (rate > best_rate) best_rate = rate, best = c;
        const S target = S(c == y ? on_rate : off_rate);
        total += 0.5 * double(rate - target) * double(rate - target);
        if (g && len > 0) {
          const S d = (rate - target) / S(len) / S(B);
          for (Index t = 0; t < len; ++t) (*g)(c, s, t) = d;
        }
      }
      detail::count_decision(tally, best == y);
    }
    return S(total / double(B));
  }
};

static_assert(Loss<RateMse, float> && Loss<RateMse, double>);

}  // namespace spikelab

#endif
