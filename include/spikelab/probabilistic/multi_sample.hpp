/**
 * @file probabilistic/multi_sample.hpp
 * @brief Multi-sample (K-compartment) inference for probabilistic SNNs: class decisions and
 *        class probabilities from K independent runs of the network on the same input, and
 *        the log-likelihood of the target outputs estimated from K samples of the hidden
 *        neurons (Jang & Simeone, ICASSP 2021: inference with K compartments). Decision is in
 *        probabilistic/concepts.hpp.
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
 *
 * Training and estimation are separate: a network trained with any K is measured with a
 * fixed number N of evaluation samples. From the same N sequence log-likelihoods,
 * k_sample_bound() gives the K-sample bound for every K <= N (the mean over the N/K disjoint
 * groups of K of their log-mean-exp), so the 1-sample log-likelihood (K = 1, unbiased for
 * \f$E_h[\log p(y \| x, h)]\f$) and the bound at the training K sit side by side; part of
 * what a larger K gains in the bound is the estimator's, not the training's.
 *
 * Spike patterns (the GEM paper's memorisation task): evaluate_pattern() measures the same
 * likelihoods for explicit output spike trains and the distance between the target and
 * freely generated outputs, each filtered with the network's first feedback kernel b_0
 * (\f$(b * s)_t = \sum_{\tau} b_0[\tau] s_{t-\tau}\f$, the current step included; hrjang
 * `get_distance`): \f$D = \frac{1}{B T N_Y K}\sum_{b,k,i,t} ((b*y_i)_t - (b*\hat y^k_i)_t)^2\f$, and
 * \f$D_{maj}\f$ against the per-step majority train \f$\hat y_t = 1[\sum_k \hat y^k_t > \lfloor K/2\rfloor]\f$.
 */
#ifndef SPIKELAB_PROBABILISTIC_MULTI_SAMPLE_HPP
#define SPIKELAB_PROBABILISTIC_MULTI_SAMPLE_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/metrics/classification.hpp>
#include <spikelab/probabilistic/concepts.hpp>
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

/// The decision rule's name ("majority" or "average").
constexpr const char* to_string(Decision d) noexcept { return d == Decision::majority ? "majority" : "average"; }

/// What predict() produces for a batch.
struct MultiSamplePrediction {
  Matrix<double> counts;         ///< classes x (batch * K): output spikes per class and compartment
  Matrix<double> majority;       ///< classes x batch: vote fractions
  Matrix<double> average;        ///< classes x batch: averaged spike-count distributions
  /// The class probabilities under decision rule d (majority: vote fractions; average: mean distributions).
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

/// log((1/K) sum exp) over each of the floor(N/K) disjoint groups of K consecutive entries of
/// x[first .. first+N), averaged (K <= N).
inline double k_sample_bound(const std::vector<double>& x, std::size_t first, std::size_t N, std::size_t K) {
  if (K < 1 || K > N) throw ConfigError("k_sample_bound: need 1 <= K <= N (K = " + std::to_string(K) + ", N = " + std::to_string(N) + ")");
  const std::size_t groups = N / K;
  double s = 0;
  for (std::size_t g = 0; g < groups; ++g) s += log_mean_exp(x, first + g * K, K);
  return s / double(groups);
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

/// The sequence log-likelihoods \f$LL^k = \sum_t\sum_{i\in Y}\log p(y_{i,t}\mid u^k_{i,t})\f$ of the
/// outputs the teacher clamps (labels or explicit spike trains), from K hidden samples per
/// sample: ll[b*K + k].
template <ProbabilisticNetwork Net>
void sequence_log_likelihoods(Net& net, const Batch<typename Net::scalar_type>& batch,
                              const Teacher<typename Net::scalar_type>& tg, Index K, Rng& rng, std::vector<double>& ll) {
  detail::check_classification_batch(net, batch, K, "sequence_log_likelihoods");
  if (!tg.labels && !tg.step_labels && !tg.outputs)
    throw ConfigError("sequence_log_likelihoods: the teacher gives no output target");
  const Index B = batch.batch(), T = batch.steps();
  ll.assign(std::size_t(B * K), 0.0);
  net.begin(B, K);
  for (Index t = 0; t < T; ++t) {
    net.step(batch.input, t, tg, OutputMode::clamp, rng);
    const auto& r = net.output_log_likelihood();
    for (Index m = 0; m < B * K; ++m)
      if (t < batch.length(m / K)) ll[std::size_t(m)] += r[std::size_t(m)];
  }
}

/// Per-sample log-likelihood of the targets (outputs clamped to the batch's labels) from K
/// hidden samples: `mean[b]` (average of the K sequence log-likelihoods) and `iw[b]`
/// (log-mean-exp of them).
template <ProbabilisticNetwork Net>
void target_log_likelihood(Net& net, const Batch<typename Net::scalar_type>& batch, Index K, Rng& rng,
                           std::vector<double>& mean, std::vector<double>& iw) {
  using S = typename Net::scalar_type;
  const Index B = batch.batch();
  const Teacher<S> tg = Teacher<S>::from(batch);
  if (!tg.labels && !tg.step_labels) throw ConfigError("target_log_likelihood: the batch has no labels");
  std::vector<double> ll;
  sequence_log_likelihoods(net, batch, tg, K, rng, ll);
  mean.assign(std::size_t(B), 0.0);
  iw.assign(std::size_t(B), 0.0);
  for (Index b = 0; b < B; ++b) {
    double s = 0;
    for (Index k = 0; k < K; ++k) s += ll[std::size_t(b * K + k)];
    mean[std::size_t(b)] = s / double(K);
    iw[std::size_t(b)] = detail::log_mean_exp(ll, std::size_t(b * K), std::size_t(K));
  }
}

/// Options of evaluate_multi_sample and evaluate_pattern.
struct MultiSampleOptions {
  Index compartments = 1;       ///< N samples per input for decisions and the likelihood
  Index bins = 10;              ///< reliability-diagram bins for the ECE
  bool log_likelihood = true;   ///< also run the clamped pass for the target log-likelihood
  std::vector<Index> bounds{};  ///< K values (each <= compartments) whose K-sample bound to report
  bool decisions = true;        ///< run the free pass for decisions (off: likelihoods only)
};

/// What evaluate_multi_sample measures over a whole source.
struct MultiSampleReport {
  ClassificationMeter majority{10};  ///< accuracy / ECE / log p(class) with vote fractions
  ClassificationMeter average{10};   ///< the same with averaged spike-count distributions
  double ll_mean = 0.0;              ///< mean over samples of the K-sample mean target log-likelihood
  double ll_iw = 0.0;                ///< mean over samples of the K-sample IW estimate
  std::vector<double> ll_bound{};    ///< per entry of options.bounds: mean over samples of its bound
  double single_accuracy = 0.0;      ///< accuracy of one compartment's decision (ties split), averaged
  Index samples = 0;  ///< samples evaluated
  double seconds = 0.0;  ///< wall time
  /// The meter of decision rule d.
  const ClassificationMeter& meter(Decision d) const noexcept { return d == Decision::majority ? majority : average; }
};

/// Runs a whole batch source through K-compartment inference (and, with log_likelihood, a
/// clamped pass) and returns accuracy, class-probability calibration and log-likelihoods.
template <ProbabilisticNetwork Net, BatchSource<typename Net::scalar_type> Src>
MultiSampleReport evaluate_multi_sample(Net& net, Src& src, const MultiSampleOptions& opt, Rng& rng) {
  const auto t0 = std::chrono::steady_clock::now();
  using S = typename Net::scalar_type;
  for (Index k : opt.bounds)
    if (k < 1 || k > opt.compartments)
      throw ConfigError("evaluate_multi_sample: a bound needs 1 <= K <= compartments (" +
                        std::to_string(opt.compartments) + "), not " + std::to_string(k));
  MultiSampleReport r{ClassificationMeter(opt.bins), ClassificationMeter(opt.bins)};
  Batch<S> batch;
  MultiSamplePrediction pred;
  std::vector<double> ll;
  const std::size_t N = std::size_t(opt.compartments);
  double ll_mean = 0, ll_iw = 0, single = 0;
  std::vector<double> bound(opt.bounds.size(), 0.0);
  src.start_epoch(0);
  while (src.next(batch)) {
    if (batch.labels.empty()) throw ConfigError("evaluate_multi_sample: a batch has no per-sample labels");
    if (opt.decisions) {
      predict(net, batch, opt.compartments, rng, pred);
      r.majority.add_batch(pred.majority, batch.labels);
      r.average.add_batch(pred.average, batch.labels);
      for (Index b = 0; b < batch.batch(); ++b) {
        const int y = batch.labels[std::size_t(b)];
        if (y >= 0 && y < pred.majority.rows()) single += pred.majority(y, b);
      }
    }
    if (opt.log_likelihood) {
      sequence_log_likelihoods(net, batch, Teacher<S>::from(batch), opt.compartments, rng, ll);
      for (std::size_t b = 0; b < std::size_t(batch.batch()); ++b) {
        double m = 0;
        for (std::size_t k = 0; k < N; ++k) m += ll[b * N + k];
        const double iw = detail::log_mean_exp(ll, b * N, N);
        ll_mean += m / double(N);
        ll_iw += iw;
        for (std::size_t i = 0; i < bound.size(); ++i) bound[i] += detail::k_sample_bound(ll, b * N, N, std::size_t(opt.bounds[i]));
        r.majority.add_log_likelihood(iw);
        r.average.add_log_likelihood(iw);
      }
    }
    r.samples += batch.batch();
  }
  r.ll_bound.assign(bound.size(), 0.0);
  if (r.samples) {
    r.ll_mean = ll_mean / double(r.samples);
    r.ll_iw = ll_iw / double(r.samples);
    r.single_accuracy = single / double(r.samples);
    for (std::size_t i = 0; i < bound.size(); ++i) r.ll_bound[i] = bound[i] / double(r.samples);
  }
  r.seconds = detail::seconds_since(t0);
  return r;
}

/// What evaluate_pattern measures (see the file comment).
struct PatternReport {
  double ll_mean = 0.0;          ///< mean over samples of the N-sample mean (1-sample estimate)
  double ll_iw = 0.0;            ///< mean over samples of the N-sample log-mean-exp
  std::vector<double> ll_bound{};  ///< per entry of options.bounds: mean over samples of its bound
  double distance = 0.0;         ///< D: filtered squared distance, averaged over the N generated trains
  double distance_majority = 0.0;  ///< D_maj: the same for the per-step majority train
  Index samples = 0;  ///< samples evaluated
};

/// Measures how well the network reproduces the output spike trains `outputs` (output units x
/// the batch's samples and steps) given the batch's inputs: log-likelihoods from
/// options.compartments hidden samples (outputs clamped) and the distances of as many freely
/// generated output trains (outputs sampled).
template <ProbabilisticNetwork Net>
PatternReport evaluate_pattern(Net& net, const Batch<typename Net::scalar_type>& batch,
                               const TimeSeries<typename Net::scalar_type>& outputs, const MultiSampleOptions& opt,
                               Rng& rng) {
  using S = typename Net::scalar_type;
  const Index K = opt.compartments, B = batch.batch(), T = batch.steps(), ny = net.output_units();
  if (outputs.features() != ny || outputs.batch() != B || outputs.steps() != T)
    throw ShapeError("evaluate_pattern: output spikes " + outputs.shape_string() + " do not match " +
                     std::to_string(ny) + " output units x the batch " + batch.input.shape_string());
  for (Index k : opt.bounds)
    if (k < 1 || k > K) throw ConfigError("evaluate_pattern: a bound needs 1 <= K <= compartments, not " + std::to_string(k));
  PatternReport r;
  r.samples = B;
  Teacher<S> tg;
  tg.outputs = &outputs;
  std::vector<double> ll;
  sequence_log_likelihoods(net, batch, tg, K, rng, ll);
  r.ll_bound.assign(opt.bounds.size(), 0.0);
  for (Index b = 0; b < B; ++b) {
    const std::size_t f = std::size_t(b * K);
    r.ll_mean += detail::k_sample_bound(ll, f, std::size_t(K), 1) / double(B);
    r.ll_iw += detail::log_mean_exp(ll, f, std::size_t(K)) / double(B);
    for (std::size_t i = 0; i < opt.bounds.size(); ++i)
      r.ll_bound[i] += detail::k_sample_bound(ll, f, std::size_t(K), std::size_t(opt.bounds[i])) / double(B);
  }
  // generated trains: the output units' spikes of every column and step
  const Index y0 = net.input_size() + net.hidden_units();
  Matrix<double> gen(ny, B * K * T);  // column (b*K + k)*T + t
  net.begin(B, K);
  const Teacher<S> none{};
  for (Index t = 0; t < T; ++t) {
    net.step(batch.input, t, none, OutputMode::sample, rng);
    for (Index m = 0; m < B * K; ++m) gen.col(m * T + t) = net.spikes().col(m).segment(y0, ny).template cast<double>();
  }
  const Matrix<S>& bk = net.feedback_kernels();
  const Index L = bk.rows();
  auto filtered = [&](auto&& spike, Index t) {  // (b_0 * s)_t over the last L steps, t included
    Matrix<double> f = Matrix<double>::Zero(ny, 1);
    for (Index tau = 0; tau < L && tau <= t; ++tau)
      if (bk(tau, 0) != S(0)) f += double(bk(tau, 0)) * spike(t - tau);
    return f;
  };
  double d = 0, dm = 0;
  Matrix<double> maj(ny, T);
  for (Index b = 0; b < B; ++b) {
    for (Index t = 0; t < T; ++t) {
      Matrix<double> votes = Matrix<double>::Zero(ny, 1);
      for (Index k = 0; k < K; ++k) votes += gen.col((b * K + k) * T + t);
      maj.col(t) = (votes.array() > double(K / 2)).template cast<double>().matrix();
    }
    for (Index t = 0; t < T; ++t) {
      const Matrix<double> fy = filtered([&](Index s) -> Matrix<double> { return outputs.slot(s).col(b).template cast<double>(); }, t);
      for (Index k = 0; k < K; ++k)
        d += (fy - filtered([&](Index s) -> Matrix<double> { return gen.col((b * K + k) * T + s); }, t)).squaredNorm();
      dm += (fy - filtered([&](Index s) -> Matrix<double> { return maj.col(s); }, t)).squaredNorm();
    }
  }
  r.distance = d / double(std::max<Index>(B * T * ny * K, 1));
  r.distance_majority = dm / double(std::max<Index>(B * T * ny, 1));
  return r;
}

}  // namespace spikelab

#endif
