/**
 * @file training/spike_stats.hpp
 * @brief Firing-rate and dead-neuron statistics per spiking layer: SpikeStatistics (a trainer
 *        callback that accumulates them over every training batch of an epoch) and
 *        measure_spike_stats (one inference pass over a batch source).
 *
 * For layer l with output spikes s_{i,b,t}, over the N samples and N*T sample-steps seen:
 * \f[ c_i = \sum_{b,t} s_{i,b,t},\qquad \text{rate} = \frac{1}{n_l}\sum_i \frac{c_i}{N T},\qquad
 *     \text{dead} = \#\{i : c_i = 0\}/n_l . \f]
 * A dead neuron never fired in the whole epoch (Mahmoodi Takaghaj & Sampson 2024 count them
 * per layer). Spiking layers are found automatically (layers with a threshold and a membrane
 * decay, or declaring `static constexpr bool emits_spikes = true`: EmitsSpikes in
 * training/concepts.hpp) or given by index. Padded
 * steps of ragged batches are counted as steps (the callback does not see the lengths).
 *
 * @code
 * @article{mahmoodi2024tospike, title={To Spike or Not to Spike, that is the Question},
 *   author={Mahmoodi Takaghaj, Sanaz and Sampson, Jack}, journal={arXiv preprint arXiv:2407.19566}, year={2024}}
 * @endcode
 */
#ifndef SPIKELAB_TRAINING_SPIKE_STATS_HPP
#define SPIKELAB_TRAINING_SPIKE_STATS_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/neurons/time_constant.hpp>
#include <spikelab/training/concepts.hpp>
#include <spikelab/training/hooks.hpp>

#include <string>
#include <type_traits>
#include <vector>

namespace spikelab {

/// Statistics of one spiking layer over one epoch (or one measurement).
struct LayerSpikeStats {
  std::size_t layer = 0;  ///< index of the layer in the network
  std::string name;       ///< the layer's signature
  Index neurons = 0;        ///< neurons of the layer
  double samples = 0;       ///< samples seen
  double sample_steps = 0;  ///< sample-steps seen (samples x steps)
  Vector<double> counts;    ///< spikes per neuron
  Index dead = 0;           ///< neurons that never fired

  /// dead / neurons.
  double dead_fraction() const noexcept { return neurons ? double(dead) / double(neurons) : 0.0; }
  /// Mean spikes per neuron per step.
  double mean_rate() const noexcept {
    return (neurons && sample_steps > 0) ? counts.sum() / (double(neurons) * sample_steps) : 0.0;
  }
  /// Mean spikes per neuron per sample.
  double mean_count() const noexcept { return (neurons && samples > 0) ? counts.sum() / (double(neurons) * samples) : 0.0; }
  /// Highest per-neuron rate (spikes per step).
  double max_rate() const noexcept { return (neurons && sample_steps > 0) ? counts.maxCoeff() / sample_steps : 0.0; }
};

/// The statistics of all spiking layers for one epoch.
struct SpikeStatsEpoch {
  int epoch = 0;                        ///< the epoch, 1-based
  std::vector<LayerSpikeStats> layers;  ///< one per watched layer
  /// Dead neurons over all listed layers / their neurons.
  double dead_fraction() const noexcept {
    Index d = 0, n = 0;
    for (const auto& l : layers) d += l.dead, n += l.neurons;
    return n ? double(d) / double(n) : 0.0;
  }
};

/// Trainer callback: per-epoch spike statistics of the spiking layers, accumulated from the
/// training forward pass of every batch (net.activation(i) in on_batch_end).
class SpikeStatistics {
 public:
  /// `layers`: indices of the layers to watch; empty = every spiking layer (EmitsSpikes).
  /// @param layers the indices of the layers to watch
  explicit SpikeStatistics(std::vector<std::size_t> layers = {}) : wanted_(std::move(layers)) {}

  /// Trainer hook (see Trainer).
  template <class Net>
  void on_epoch_begin(const TrainInfo&, Net& net) {
    reset(net);
  }
  /// Trainer hook (see Trainer).
  template <class Net>
  void on_batch_end(const TrainInfo&, Net& net) {
    accumulate(net);
  }
  /// Trainer hook (see Trainer).
  template <class Net>
  void on_epoch_end(const TrainInfo& info, Net&) {
    history_.push_back(finish(info.epoch));
  }

  /// Per-epoch statistics so far (one entry per finished epoch).
  const std::vector<SpikeStatsEpoch>& history() const noexcept { return history_; }
  /// The last finished epoch's statistics.
  const SpikeStatsEpoch& last() const {
    if (history_.empty()) throw ConfigError("SpikeStatistics: no epoch has finished yet");
    return history_.back();
  }

  /// Starts a new accumulation for `net` (finds the spiking layers on first use).
  template <class Net>
  void reset(Net& net) {
    current_.clear();
    net.for_each_layer([&](auto& l, std::size_t i) {
      using L = std::remove_cvref_t<decltype(l)>;
      bool take = false;
      if (wanted_.empty()) {
        if constexpr (EmitsSpikes<L>) take = true;
      } else {
        for (std::size_t w : wanted_) take |= (w == i);
      }
      if (!take) return;
      LayerSpikeStats s;
      s.layer = i;
      s.name = l.signature();
      s.neurons = l.output_size();
      s.counts.setZero(s.neurons);
      current_.push_back(std::move(s));
    });
    if (!wanted_.empty() && current_.size() != wanted_.size())
      throw ConfigError("SpikeStatistics: a requested layer index is not in the network");
  }
  /// Adds the spikes of the network's last forward pass.
  template <class Net>
  void accumulate(const Net& net) {
    for (auto& s : current_) {
      const auto& a = net.activation(s.layer);
      if (a.features() != s.neurons)
        throw ShapeError("SpikeStatistics: layer " + std::to_string(s.layer) + " output has " +
                         std::to_string(a.features()) + " features, expected " + std::to_string(s.neurons));
      s.counts += a.values().rowwise().sum().template cast<double>();
      s.samples += double(a.batch());
      s.sample_steps += double(a.batch()) * double(a.steps());
    }
  }
  /// Closes the accumulation: counts dead neurons and returns the statistics.
  SpikeStatsEpoch finish(int epoch) {
    SpikeStatsEpoch e;
    e.epoch = epoch;
    for (auto& s : current_) {
      s.dead = Index((s.counts.array() == 0.0).count());
      e.layers.push_back(s);
    }
    return e;
  }

 private:
  std::vector<std::size_t> wanted_;
  std::vector<LayerSpikeStats> current_;
  std::vector<SpikeStatsEpoch> history_;
};

/// Spike statistics of `net` over one inference pass of `src` (a BatchSource), e.g. before
/// training (epoch 0) or on the test set.
template <class Net, class Src>
SpikeStatsEpoch measure_spike_stats(Net& net, Src& src, std::vector<std::size_t> layers = {}, int epoch = 0) {
  using S = typename Net::scalar_type;
  SpikeStatistics stats(std::move(layers));
  stats.reset(net);
  Batch<S> b;
  src.start_epoch(0);
  while (src.next(b)) {
    net.forward(b.input, ForwardContext::eval());
    stats.accumulate(net);
  }
  return stats.finish(epoch);
}

}  // namespace spikelab

#endif
