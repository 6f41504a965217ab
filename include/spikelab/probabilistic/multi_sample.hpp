/**
 * @file probabilistic/multi_sample.hpp
 * @brief Multi-sample (K-compartment) inference for probabilistic SNNs: class decisions and
 *        class probabilities from K independent runs of the network on the same input, and
 *        the log-likelihood of the target outputs estimated from K samples of the hidden
 *        neurons (the K-compartment inference of Jang & Simeone, ICASSP 2021).
 *
 * Decisions (outputs sampled freely, inputs clamped; n^k_c = output spikes of class circuit c
 * in compartment k, summed over symbols and steps):
 *  - Decision::majority (hrjang `majority`): each compartment votes for
 *    \f$\arg\max_c n^k_c\f$ (a tie splits the vote equally among the tied classes, so a silent
 *    compartment votes uniformly); class probabilities are the vote fractions
 *    \f$p_c = \frac1K\sum_k v^k_c\f$.
 *  - Decision::average: each compartment gives the distribution \f$q^k_c = n^k_c / \sum_{c'} n^k_{c'}\f$
 *    (uniform when silent); class probabilities are their average \f$p_c = \frac1K\sum_k q^k_c\f$
 *    (its argmax is hrjang's `maxnum` rule up to the per-compartment normalisation).
 * The decision is argmax_c p_c (lowest index on ties). These p are the class probabilities
 * whose calibration (ECE) improves with K in the GEM paper's claim.
 *
 * Log-likelihood of the targets (outputs clamped to the labels): with
 * \f$LL^k = \sum_t\sum_{i\in Y}\log p(y_{i,t}\mid u^k_{i,t})\f$ from K hidden samples,
 * `mean` = \f$\frac1K\sum_k LL^k\f$ (the single-sample estimate, a lower bound on average) and
 * `iw` = \f$\log\frac1K\sum_k e^{LL^k}\f$ (the importance-weighted bound GEM optimises,
 * tighter as K grows).
 */
#ifndef SPIKELAB_PROBABILISTIC_MULTI_SAMPLE_HPP
#define SPIKELAB_PROBABILISTIC_MULTI_SAMPLE_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/metrics/classification.hpp>
#include <spikelab/probabilistic/network.hpp>
#include <spikelab/training/hooks.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace spikelab {

enum class Decision : std::uint8_t { majority, average };

constexpr const char* to_string(Decision d) noexcept { return d == Decision::majority ? "majority" : "average"; }

/// What predict() produces for a batch.
struct MultiSamplePrediction {
  Matrix<double> counts;         ///< classes x (batch * K): output spikes per class and compartment
  Matrix<double> majority;       ///< classes x batch: vote fractions
  Matrix<double> average;        ///< classes x batch: averaged spike-count distributions
  const Matrix<double>& probabilities(Decision d) const noexcept { return d == Decision::majority ? majority : average; }
  /// Predicted class of sample b under decision d.
  int predicted(Decision d, Index b) const { return int(argmax_first(probabilities(d).col(b))); }
};

namespace detail {
/// log((1/K) sum_k exp(x_k)) of x[first .. first+K).
inline double log_mean_exp(const std::vector<double>& x, std::size_t first, std::size_t K) {
  double mx = -std::numeric_limits<double>::infinity();
  for (std::size_t k = 0; k < K; ++k) mx = std::max(mx, x[first + k]);
  if (!std::isfinite(mx)) return mx;
  double s = 0;
  for (std::size_t k = 0; k < K; ++k) s += std::exp(x[first + k] - mx);
  return mx + std::log(s / double(K));
}

template <class Net>
void check_classification_batch(const Net& net, const Batch<typename Net::scalar_type>& batch, Index K,
                                const char* what) {
  batch.validate();
  if (K < 1) throw ConfigError(std::string(what) + ": need at least one compartment");
  if (batch.input.features() != net.input_size())
    throw ShapeError(std::string(what) + ": input has " + std::to_string(batch.input.features()) + " features, " +
                     net.signature() + " expects " + std::to_string(net.input_size()));
}
}  // namespace detail

/// Runs K compartments per sample with sampled outputs and fills `out` (counts, vote
/// fractions, averaged distributions). Buffers in `out` are reused.
template <ProbabilisticNetwork Net>
void predict(Net& net, const Batch<typename Net::scalar_type>& batch, Index K, Rng& rng, MultiSamplePrediction& out) {
  using S = typename Net::scalar_type;
  detail::check_classification_batch(net, batch, K, "predict");
  const Index B = batch.batch(), T = batch.steps(), classes = net.outputs(), C = Net::symbols();
  const Index y0 = net.input_size() + net.hidden_units();
  out.counts.setZero(classes, B * K);
  net.begin(B, K);
  const Teacher<S> none{};
  for (Index t = 0; t < T; ++t) {
    net.step(batch.input, t, none, OutputMode::sample, rng);
    const Matrix<S>& s = net.spikes();
    for (Index b = 0; b < B; ++b) {
      if (t >= batch.length(b)) continue;
      for (Index k = 0; k < K; ++k) {
        const Index m = b * K + k;
        for (Index c = 0; c < classes; ++c)
          for (Index q = 0; q < C; ++q) out.counts(c, m) += double(s(y0 + c * C + q, m));
      }
    }
  }
  out.majority.setZero(classes, B);
  out.average.setZero(classes, B);
  for (Index b = 0; b < B; ++b) {
    for (Index k = 0; k < K; ++k) {
      const auto n = out.counts.col(b * K + k);
      const double mx = n.maxCoeff(), total = n.sum();
      const double ties = double((n.array() == mx).count());
      for (Index c = 0; c < classes; ++c) {
        if (n(c) == mx) out.majority(c, b) += 1.0 / ties;
        out.average(c, b) += total > 0 ? n(c) / total : 1.0 / double(classes);
      }
    }
  }
  out.majority /= double(K);
  out.average /= double(K);
}

/// Per-sample log-likelihood of the targets (outputs clamped to the batch's labels) from K
/// hidden samples: `mean[b]` (average of the K sequence log-likelihoods) and `iw[b]`
/// (log-mean-exp of them).
template <ProbabilisticNetwork Net>
void target_log_likelihood(Net& net, const Batch<typename Net::scalar_type>& batch, Index K, Rng& rng,
                           std::vector<double>& mean, std::vector<double>& iw) {
  using S = typename Net::scalar_type;
  detail::check_classification_batch(net, batch, K, "target_log_likelihood");
  const Index B = batch.batch(), T = batch.steps();
  const Teacher<S> tg = Teacher<S>::from(batch);
  if (!tg.labels && !tg.step_labels) throw ConfigError("target_log_likelihood: the batch has no labels");
  std::vector<double> ll(std::size_t(B * K), 0.0);
  net.begin(B, K);
  for (Index t = 0; t < T; ++t) {
    net.step(batch.input, t, tg, OutputMode::clamp, rng);
    const auto& r = net.output_log_likelihood();
    for (Index m = 0; m < B * K; ++m)
      if (t < batch.length(m / K)) ll[std::size_t(m)] += r[std::size_t(m)];
  }
  mean.assign(std::size_t(B), 0.0);
  iw.assign(std::size_t(B), 0.0);
  for (Index b = 0; b < B; ++b) {
    double s = 0;
    for (Index k = 0; k < K; ++k) s += ll[std::size_t(b * K + k)];
    mean[std::size_t(b)] = s / double(K);
    iw[std::size_t(b)] = detail::log_mean_exp(ll, std::size_t(b * K), std::size_t(K));
  }
}

/// Options of evaluate_multi_sample.
struct MultiSampleOptions {
  Index compartments = 1;       ///< K samples per input for decisions and the likelihood
  Index bins = 10;              ///< reliability-diagram bins for the ECE
  bool log_likelihood = true;   ///< also run the clamped pass for the target log-likelihood
};

/// What evaluate_multi_sample measures over a whole source.
struct MultiSampleReport {
  ClassificationMeter majority{10};  ///< accuracy / ECE / log p(class) with vote fractions
  ClassificationMeter average{10};   ///< the same with averaged spike-count distributions
  double ll_mean = 0.0;              ///< mean over samples of the K-sample mean target log-likelihood
  double ll_iw = 0.0;                ///< mean over samples of the K-sample IW estimate
  Index samples = 0;
  double seconds = 0.0;
  const ClassificationMeter& meter(Decision d) const noexcept { return d == Decision::majority ? majority : average; }
};

/// Runs a whole batch source through K-compartment inference (and, with log_likelihood, a
/// clamped pass) and returns accuracy, class-probability calibration and log-likelihoods.
template <ProbabilisticNetwork Net, BatchSource<typename Net::scalar_type> Src>
MultiSampleReport evaluate_multi_sample(Net& net, Src& src, const MultiSampleOptions& opt, Rng& rng) {
  const auto t0 = std::chrono::steady_clock::now();
  MultiSampleReport r{ClassificationMeter(opt.bins), ClassificationMeter(opt.bins)};
  Batch<typename Net::scalar_type> batch;
  MultiSamplePrediction pred;
  std::vector<double> mean, iw;
  double ll_mean = 0, ll_iw = 0;
  src.start_epoch(0);
  while (src.next(batch)) {
    if (batch.labels.empty()) throw ConfigError("evaluate_multi_sample: a batch has no per-sample labels");
    predict(net, batch, opt.compartments, rng, pred);
    r.majority.add_batch(pred.majority, batch.labels);
    r.average.add_batch(pred.average, batch.labels);
    if (opt.log_likelihood) {
      target_log_likelihood(net, batch, opt.compartments, rng, mean, iw);
      for (std::size_t b = 0; b < mean.size(); ++b) {
        ll_mean += mean[b];
        ll_iw += iw[b];
        r.majority.add_log_likelihood(iw[b]);
        r.average.add_log_likelihood(iw[b]);
      }
    }
    r.samples += batch.batch();
  }
  if (r.samples) {
    r.ll_mean = ll_mean / double(r.samples);
    r.ll_iw = ll_iw / double(r.samples);
  }
  r.seconds = detail::seconds_since(t0);
  return r;
}

}  // namespace spikelab

#endif
