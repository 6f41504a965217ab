/**
 * @file conversion/back_to_back.hpp
 * @brief The spiking evaluation of Hunsberger & Eliasmith (2015): test images shown back to
 *        back to a spiking network that is never reset, its output filtered forward and then
 *        backward in time (zero phase), and each image classified step by step over the last
 *        steps of its presentation. ContinuousRun simulates a network over a long input in
 *        pieces; zero_phase_filter() is the forward-backward filter; evaluate_back_to_back()
 *        is the whole protocol.
 *
 * Protocol (the authors' Nengo evaluation script): a run shows images x_0 .. x_{n-1} for T
 * steps each, with no reset between them, from the zero state. With Nengo's clock (step k is
 * reported at time (k+1) dt and the input and the label at step k are those of image
 * \f$ j(k) = \lfloor (k + o)/T \rfloor \bmod n \f$, o = clock_offset = 1), each image appears
 * one step before its block of T steps and the last step of a run shows x_0 again. The raw
 * output y (classes x nT) is filtered with the readout synapse h forward and then backward in
 * time (Nengo's filtfilt):
 * \f[ \tilde y = \mathrm{rev}\big(h * \mathrm{rev}(h * y)\big), \f]
 * a zero-phase (non-causal) filter whose kernel is the autocorrelation of h; it uses the first
 * steps of the next image too. The forward pass starts from the zero state; the backward pass
 * continues from the state the forward pass ended in (Nengo runs both passes with one filter
 * object), which only matters for the last steps of a run. Step k is wrong when \f$ \arg\max_c \tilde y_{c,k} \ne \mathrm{label}(j(k)) \f$
 * (the first maximum on ties), and image i is an error when more than max_wrong_fraction of
 * the `window` last steps of its block [iT, (i+1)T) are wrong. With o = 1 the last of those
 * steps already shows, and is scored against, image i+1.
 *
 * A test set larger than one run is split into consecutive runs of images_per_run images, each
 * from the zero state (the script ran 100 or 1000 images per run); runs_together of them are
 * simulated side by side as the batch columns of one network, one image block at a time, so
 * memory grows with runs_together x T, not with the run length.
 *
 * ContinuousRun handles any Sequential whose layers are either memoryless from step to step
 * (Linear, Conv2d, pooling, Flatten, Activation, Dropout at inference, BatchNorm at inference)
 * or continue a state across calls with `make_state(batch)` and
 * `forward_continued(in, out, state)` (SynapticFilter, RefractoryLif); another layer is a
 * compile-time error.
 *
 * @code
 * auto snn = to_spiking(ann, {.dt = 0.001, .tau_synapse = 0.005, .synapse_stages = 2});
 * const BackToBackResult r = evaluate_back_to_back(snn, images, labels, BackToBackConfig{});
 * // r.error(): the fraction of images misclassified
 * @endcode
 *
 * @code
 * @article{hunsberger2015spiking, title={Spiking Deep Networks with LIF Neurons},
 *   author={Hunsberger, Eric and Eliasmith, Chris}, journal={arXiv:1510.08829}, year={2015}}
 * @article{bekolay2014nengo, title={Nengo: a Python tool for building large-scale functional brain models},
 *   author={Bekolay, Trevor and others}, journal={Frontiers in Neuroinformatics}, volume={7}, pages={48}, year={2014}}
 * @endcode
 */
#ifndef SPIKELAB_CONVERSION_BACK_TO_BACK_HPP
#define SPIKELAB_CONVERSION_BACK_TO_BACK_HPP

#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/tally.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/layers/activation.hpp>
#include <spikelab/layers/batch_norm.hpp>
#include <spikelab/layers/conv2d.hpp>
#include <spikelab/layers/dropout.hpp>
#include <spikelab/layers/flatten.hpp>
#include <spikelab/layers/linear.hpp>
#include <spikelab/layers/pooling.hpp>
#include <spikelab/layers/synaptic_filter.hpp>
#include <spikelab/networks/sequential.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

namespace spikelab {

namespace detail {

/// Layers whose output at a step depends on the input at that step only.
template <class L>
inline constexpr bool memoryless_layer = false;
template <Scalar S>
inline constexpr bool memoryless_layer<Linear<S>> = true;
template <Scalar S>
inline constexpr bool memoryless_layer<Conv2d<S>> = true;
template <Scalar S, class P>
inline constexpr bool memoryless_layer<Pool2d<S, P>> = true;
template <Scalar S>
inline constexpr bool memoryless_layer<Flatten<S>> = true;
template <Scalar S, class F>
inline constexpr bool memoryless_layer<Activation<S, F>> = true;
template <Scalar S>
inline constexpr bool memoryless_layer<Dropout<S>> = true;
template <Scalar S>
inline constexpr bool memoryless_layer<BatchNorm<S>> = true;

/// Layers that continue a state from one call to the next.
template <class L>
inline constexpr bool continues_state =
    requires(const L& l, const TimeSeries<typename L::scalar_type>& in, TimeSeries<typename L::scalar_type>& out,
             typename L::State& st, Index batch) {
      { l.make_state(batch) } -> std::same_as<typename L::State>;
      l.forward_continued(in, out, st);
    };

template <class L>
struct ContinuedState {
  using type = std::monostate;
};
template <class L>
  requires continues_state<L>
struct ContinuedState<L> {
  using type = typename L::State;
};

/// Every stage of cfg over the columns (steps) of y (features x steps), in place, from the
/// zero state.
template <Scalar S>
void causal_filter(Matrix<S>& y, const SynapticFilterConfig& cfg) {
  const Index n = y.rows(), T = y.cols();
  const S a = S(cfg.tau > 0 ? std::exp(-cfg.dt / cfg.tau) : 0.0);
  Matrix<S> ys(n, 1), z(n, 1);
  for (int k = 0; k < cfg.stages; ++k) {
    ys.setZero();
    z.setZero();
    low_pass(y.data(), y.data(), ys.data(), z.data(), n, Index(1), T, a, S(1) - a, cfg.kind == SynapseKind::alpha);
  }
}

}  // namespace detail

/// Filters every row of y (features x steps) with the synapse cfg forward in time from the zero
/// state and then backward in time, each stage's backward pass continuing from the state its
/// forward pass ended in (Nengo's filtfilt, which runs both passes with one filter object): a
/// zero-phase filter whose impulse response, away from the ends, is the autocorrelation of
/// cfg's kernel. In place.
template <Scalar S>
void zero_phase_filter(Matrix<S>& y, const SynapticFilterConfig& cfg) {
  cfg.validate();
  const Index n = y.rows(), T = y.cols();
  const S a = S(cfg.tau > 0 ? std::exp(-cfg.dt / cfg.tau) : 0.0);
  const bool two = cfg.kind == SynapseKind::alpha;
  std::vector<Matrix<S>> ys(std::size_t(cfg.stages), Matrix<S>::Zero(n, 1)), z = ys;
  for (int pass = 0; pass < 2; ++pass) {
    for (std::size_t k = 0; k < ys.size(); ++k)
      detail::low_pass(y.data(), y.data(), ys[k].data(), z[k].data(), n, Index(1), T, a, S(1) - a, two);
    y.rowwise().reverseInPlace();
  }
}

template <class Net>
class ContinuousRun;

/**
 * ContinuousRun: simulates a Sequential over a long input given in consecutive pieces, each
 * call continuing from the state the previous one left (the spiking network never reset):
 * run() on the pieces of a sequence returns, piece by piece, what net.forward() returns on the
 * whole sequence. The network is held by reference and must outlive the run; its layers'
 * own forward() buffers are not used for the stateful layers.
 */
/// @tparam Ls the layers of the Sequential that runs
template <Layer... Ls>
class ContinuousRun<Sequential<Ls...>> {
  static_assert(((detail::memoryless_layer<Ls> || detail::continues_state<Ls>) && ...),
                "ContinuousRun: every layer must be memoryless from step to step (Linear, Conv2d, pooling, Flatten, "
                "Activation, Dropout, BatchNorm) or continue a state (make_state, forward_continued)");

 public:
  using Net = Sequential<Ls...>;  ///< the network type
  using S = typename Net::scalar_type;  ///< the scalar type

  /// A run of `batch` independent columns from the zero state.
  /// @param net the network to run (kept by reference: it must outlive the run)
  /// @param batch the number of independent columns
  ContinuousRun(Net& net, Index batch) : net_(&net) { reset(batch); }

  /// Back to the zero state, with `batch` columns.
  void reset(Index batch) {
    if (batch <= 0) throw ConfigError("ContinuousRun: batch must be positive");
    batch_ = batch;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      ((std::get<I>(states_) = make_state<I>()), ...);
    }(std::make_index_sequence<sizeof...(Ls)>{});
  }
  /// Columns of the run.
  Index batch() const noexcept { return batch_; }

  /// The network's output over the steps of `in` (features x batch x steps), continuing the run.
  const TimeSeries<S>& run(const TimeSeries<S>& in) {
    if (in.batch() != batch_)
      throw ShapeError("ContinuousRun: the input has batch " + std::to_string(in.batch()) + ", the run " +
                       std::to_string(batch_));
    if (in.features() != net_->input_size())
      throw ShapeError("ContinuousRun: the input has " + std::to_string(in.features()) + " features, the network " +
                       std::to_string(net_->input_size()));
    return run_layer<0>(in);
  }

 private:
  template <std::size_t I>
  auto make_state() const {
    using L = std::tuple_element_t<I, std::tuple<Ls...>>;
    if constexpr (detail::continues_state<L>)
      return net_->template layer<I>().make_state(batch_);
    else
      return std::monostate{};
  }

  template <std::size_t I>
  const TimeSeries<S>& run_layer(const TimeSeries<S>& in) {
    using L = std::tuple_element_t<I, std::tuple<Ls...>>;
    auto& layer = net_->template layer<I>();
    TimeSeries<S>& out = out_[I];
    if constexpr (detail::continues_state<L>)
      layer.forward_continued(in, out, std::get<I>(states_));
    else
      layer.forward(in, out, ForwardContext::eval());
    if constexpr (I + 1 < sizeof...(Ls))
      return run_layer<I + 1>(out);
    else
      return out;
  }

  Net* net_;
  Index batch_ = 0;
  std::tuple<typename detail::ContinuedState<Ls>::type...> states_;
  std::array<TimeSeries<S>, sizeof...(Ls)> out_;
};

/// ContinuousRun(net, batch) deduces the network type.
template <Layer... Ls>
ContinuousRun(Sequential<Ls...>&, Index) -> ContinuousRun<Sequential<Ls...>>;

/// The protocol's settings (see the file comment); the defaults are those of the authors'
/// Nengo evaluation script at dt = 1 ms.
struct BackToBackConfig {
  Index steps_per_image = 150;      ///< T: presentation time / dt (0.15 s)
  Index window = 10;                ///< the last steps of each block that decide the image
  double max_wrong_fraction = 0.4;  ///< an image is an error when more than this fraction of its window is wrong
  SynapticFilterConfig readout{SynapseKind::alpha, 0.01, 0.001};  ///< the output filter (alpha, 10 ms)
  bool zero_phase = true;           ///< forward and backward (filtfilt); false: forward only (causal)
  Index clock_offset = 1;           ///< o: image i is shown from step iT - o (Nengo's clock: 1)
  Index images_per_run = 100;       ///< consecutive images per run from the zero state
  Index runs_together = 10;         ///< runs simulated side by side (batch columns)

  /// Throws ConfigError unless every value is in range.
  void validate() const {
    readout.validate();
    if (steps_per_image < 1 || window < 1 || window > steps_per_image || !(max_wrong_fraction >= 0) ||
        !(max_wrong_fraction < 1) || clock_offset < 0 || clock_offset >= steps_per_image || images_per_run < 1 ||
        runs_together < 1)
      throw ConfigError("evaluate_back_to_back: need steps_per_image >= 1, 1 <= window <= steps_per_image, "
                        "0 <= max_wrong_fraction < 1, 0 <= clock_offset < steps_per_image, images_per_run >= 1 and "
                        "runs_together >= 1 (got T=" + std::to_string(steps_per_image) + ", window=" +
                        std::to_string(window) + ", fraction=" + std::to_string(max_wrong_fraction) + ", offset=" +
                        std::to_string(clock_offset) + ")");
  }
};

/// What evaluate_back_to_back() found.
struct BackToBackResult {
  Index images = 0;                ///< images decided
  Index errors = 0;                ///< images misclassified
  std::vector<Index> wrong_steps;  ///< per image, in the order given: wrong steps in its window
  /// errors / images (0 when none was decided).
  double error() const noexcept { return images ? double(errors) / double(images) : 0.0; }
  /// The decisions as a Tally.
  Tally tally() const noexcept { return {images - errors, images}; }
};

/**
 * Runs the protocol of the file comment on the spiking network `snn` for the images (columns
 * of `images`, features x N, already preprocessed as the network's input) with their labels.
 * `progress(done, total)` is called after each block of runs. Throws ShapeError when the
 * images do not fit the network or the labels the images, ConfigError for a bad configuration
 * or a label outside [0, classes).
 */
template <Layer... Ls>
BackToBackResult evaluate_back_to_back(Sequential<Ls...>& snn, const Matrix<typename Sequential<Ls...>::scalar_type>& images,
                                       const std::vector<int>& labels, const BackToBackConfig& cfg,
                                       const std::function<void(Index, Index)>& progress = {}) {
  using S = typename Sequential<Ls...>::scalar_type;
  cfg.validate();
  const Index N = images.cols(), F = images.rows(), C = snn.output_size(), T = cfg.steps_per_image;
  if (F != snn.input_size())
    throw ShapeError("evaluate_back_to_back: images have " + std::to_string(F) + " features, the network takes " +
                     std::to_string(snn.input_size()));
  if (Index(labels.size()) != N)
    throw ShapeError("evaluate_back_to_back: " + std::to_string(labels.size()) + " labels for " + std::to_string(N) +
                     " images");
  for (Index i = 0; i < N; ++i)
    if (labels[std::size_t(i)] < 0 || labels[std::size_t(i)] >= C)
      throw ConfigError("evaluate_back_to_back: label " + std::to_string(labels[std::size_t(i)]) + " of image " +
                        std::to_string(i) + " is outside [0, " + std::to_string(C) + ")");

  BackToBackResult res;
  res.wrong_steps.assign(std::size_t(N), 0);
  const Index n = cfg.images_per_run, runs = (N + n - 1) / n;
  TimeSeries<S> in;
  std::vector<Matrix<double>> rec;
  for (Index r0 = 0; r0 < runs; r0 += cfg.runs_together) {
    const Index R = std::min(cfg.runs_together, runs - r0);
    // run r (column b) shows images [first[b], first[b] + len[b])
    std::vector<Index> first(static_cast<std::size_t>(R), 0), len(static_cast<std::size_t>(R), 0);
    Index blocks = 0;
    for (Index b = 0; b < R; ++b) {
      first[std::size_t(b)] = (r0 + b) * n;
      len[std::size_t(b)] = std::min(n, N - first[std::size_t(b)]);
      blocks = std::max(blocks, len[std::size_t(b)]);
    }
    rec.assign(std::size_t(R), Matrix<double>());
    for (Index b = 0; b < R; ++b) rec[std::size_t(b)].resize(C, len[std::size_t(b)] * T);
    ContinuousRun<Sequential<Ls...>> sim(snn, R);
    in.resize(F, R, T);
    // the image shown at step k of run b (Nengo's clock, wrapping to the run's first image)
    auto shown = [&](Index b, Index k) { return first[std::size_t(b)] + ((k + cfg.clock_offset) / T) % len[std::size_t(b)]; };
    for (Index blk = 0; blk < blocks; ++blk) {
      for (Index t = 0; t < T; ++t)
        for (Index b = 0; b < R; ++b) {
          if (blk < len[std::size_t(b)])
            in.slot(t).col(b) = images.col(shown(b, blk * T + t));
          else
            in.slot(t).col(b).setZero();  // this run has ended; its columns are ignored
        }
      const TimeSeries<S>& y = sim.run(in);
      for (Index b = 0; b < R; ++b)
        if (blk < len[std::size_t(b)])
          for (Index t = 0; t < T; ++t) rec[std::size_t(b)].col(blk * T + t) = y.slot(t).col(b).template cast<double>();
    }
    for (Index b = 0; b < R; ++b) {
      Matrix<double>& y = rec[std::size_t(b)];
      if (cfg.zero_phase)
        zero_phase_filter(y, cfg.readout);
      else
        detail::causal_filter(y, cfg.readout);
      for (Index i = 0; i < len[std::size_t(b)]; ++i) {
        Index wrong = 0;
        for (Index k = (i + 1) * T - cfg.window; k < (i + 1) * T; ++k) {
          Index best = 0;
          y.col(k).maxCoeff(&best);  // the first maximum, as numpy's argmax
          wrong += best != labels[std::size_t(shown(b, k))];
        }
        const Index img = first[std::size_t(b)] + i;
        res.wrong_steps[std::size_t(img)] = wrong;
        res.errors += double(wrong) / double(cfg.window) > cfg.max_wrong_fraction;
        ++res.images;
      }
    }
    if (progress) progress(std::min(N, (r0 + R) * n), N);
  }
  return res;
}

}  // namespace spikelab

#endif
