/**
 * @file data/loader.hpp
 * @brief EventLoader<S, Dataset, Transform>: a BatchSource over an event data set. It reads
 *        samples (optionally caching the decoded events), applies a compile-time transform
 *        pipeline that ends in Frames (ToFrame), and packs batches into the core's TimeSeries
 *        layout, preparing the next batches on a worker thread while the trainer computes.
 *
 * Batch layout: `input` is features x (batch*T) with column (b, t) = frame t of sample b
 * (feature (c*H + y)*W + x, channel 0 = OFF, 1 = ON). Samples with fewer frames than the batch's
 * T are zero-padded and `lengths` gives each sample's valid steps (left empty when every sample
 * has T steps). T is the longest sample of the batch, or `steps` when set (longer samples are
 * cut). Labels come from the samples.
 *
 * Reproducibility: the order of epoch e is a Fisher-Yates shuffle drawn from
 * Rng(seed).fork(e); the transform of sample i in epoch e draws from Rng(seed).fork(e).fork(i).
 * So a run depends on the seed only — not on thread timing, prefetch depth or caching.
 *
 * Threads: with `prefetch` > 0 one worker thread per epoch decodes, transforms and packs up to
 * `prefetch` batches ahead; `next` swaps a ready batch into the caller's Batch (no copy) and
 * recycles the caller's old buffers. Errors on the worker (a corrupt file...) are re-thrown by
 * `next`. The data set is used from one thread at a time; it must outlive the loader.
 */
#ifndef SPIKELAB_DATA_LOADER_HPP
#define SPIKELAB_DATA_LOADER_HPP

#include <spikelab/core/batch.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/data/datasets/event_dataset.hpp>
#include <spikelab/data/frames.hpp>
#include <spikelab/data/transforms/compose.hpp>

#include <algorithm>
#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <vector>

namespace spikelab {

struct EventLoaderConfig {
  Index batch_size = 32;
  bool shuffle = true;
  std::uint64_t seed = 1;
  bool drop_last = false;  ///< skip a last, smaller batch
  Index steps = 0;         ///< 0: T = longest sample of the batch; > 0: pad or cut every sample to this
  bool cache = false;      ///< keep decoded samples (before the transform) in memory after the first read
  Index prefetch = 2;      ///< batches prepared ahead on a worker thread (0: prepared inside next())
  Index limit = 0;         ///< use only the first n samples (0: all)
};

template <Scalar S, EventDataset D, FrameTransform T>
class EventLoader {
 public:
  EventLoader(const D& data, T transform = {}, EventLoaderConfig cfg = {}) : EventLoader(data, std::move(transform), cfg, {}) {}

  /// A loader over the samples `subset` of `data` (e.g. a train/validation split).
  EventLoader(const D& data, T transform, EventLoaderConfig cfg, std::vector<Index> subset)
      : data_(&data), transform_(std::move(transform)), cfg_(cfg), subset_(std::move(subset)) {
    if (cfg.batch_size <= 0) throw ConfigError("EventLoader: the batch size must be positive");
    if (cfg.steps < 0 || cfg.prefetch < 0 || cfg.limit < 0) throw ConfigError("EventLoader: negative steps, prefetch or limit");
    if (subset_.empty()) {
      subset_.resize(std::size_t(data.size()));
      std::iota(subset_.begin(), subset_.end(), Index(0));
    } else {
      for (Index i : subset_)
        if (i < 0 || i >= data.size())
          throw ConfigError("EventLoader: subset index " + std::to_string(i) + " outside the data set (" +
                            std::to_string(data.size()) + " samples)");
    }
    if (cfg.limit > 0 && cfg.limit < Index(subset_.size())) subset_.resize(std::size_t(cfg.limit));
    order_ = subset_;
    if (cfg.cache) cache_.resize(std::size_t(data.size()));
  }
  /// The loader keeps a reference to the data set: a temporary would dangle.
  EventLoader(const D&&, T = {}, EventLoaderConfig = {}) = delete;
  EventLoader(const D&&, T, EventLoaderConfig, std::vector<Index>) = delete;
  EventLoader(const EventLoader&) = delete;
  EventLoader& operator=(const EventLoader&) = delete;
  ~EventLoader() { stop_worker(); }

  /// Samples per epoch.
  Index size() const noexcept { return Index(subset_.size()); }
  Index batches_per_epoch() const noexcept {
    const Index n = size(), b = cfg_.batch_size;
    return cfg_.drop_last ? n / b : (n + b - 1) / b;
  }
  const D& dataset() const noexcept { return *data_; }
  const T& transform() const noexcept { return transform_; }
  const EventLoaderConfig& config() const noexcept { return cfg_; }
  /// Decoded samples held in the cache.
  Index cached() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_;
  }

  void start_epoch(std::uint64_t epoch) {
    stop_worker();
    started_ = true;
    epoch_rng_ = Rng(cfg_.seed).fork(epoch);
    order_ = subset_;
    if (cfg_.shuffle) {
      Rng r = epoch_rng_.fork(~std::uint64_t(0));
      for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[std::size_t(r.below(i))]);
    }
    next_batch_ = 0;
    for (auto& b : ready_) free_.push_back(std::move(b));
    ready_.clear();
    error_ = nullptr;
    worker_done_ = false;
    stop_ = false;
    if (cfg_.prefetch > 0) worker_ = std::thread([this] { work(); });
  }

  bool next(Batch<S>& b) {
    if (!started_) start_epoch(0);
    if (cfg_.prefetch == 0) {
      if (next_batch_ >= batches_per_epoch()) return false;
      prepare(next_batch_++, b);
      return true;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return !ready_.empty() || worker_done_; });
    if (ready_.empty()) {
      if (error_) {
        std::exception_ptr e = error_;
        error_ = nullptr;
        lock.unlock();
        stop_worker();
        std::rethrow_exception(e);
      }
      return false;
    }
    std::swap(b, ready_.front());
    free_.push_back(std::move(ready_.front()));
    ready_.pop_front();
    ++next_batch_;
    lock.unlock();
    cv_.notify_all();
    return true;
  }

 private:
  void work() {
    const Index nb = batches_per_epoch();
    try {
      for (Index k = 0; k < nb; ++k) {
        Batch<S> buf;
        {
          std::unique_lock<std::mutex> lock(mutex_);
          cv_.wait(lock, [&] { return stop_ || Index(ready_.size()) < cfg_.prefetch; });
          if (stop_) break;
          if (!free_.empty()) {
            buf = std::move(free_.back());
            free_.pop_back();
          }
        }
        prepare(k, buf);
        {
          std::lock_guard<std::mutex> lock(mutex_);
          ready_.push_back(std::move(buf));
        }
        cv_.notify_all();
      }
    } catch (...) {
      std::lock_guard<std::mutex> lock(mutex_);
      error_ = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mutex_);
      worker_done_ = true;
    }
    cv_.notify_all();
  }

  void stop_worker() {
    if (!worker_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    cv_.notify_all();
    worker_.join();
  }

  EventSample fetch(Index idx) {
    if (!cfg_.cache) return data_->get(idx);
    auto& slot = cache_[std::size_t(idx)];
    if (!slot) {
      slot = data_->get(idx);
      std::lock_guard<std::mutex> lock(mutex_);
      ++cached_;
    }
    return *slot;
  }

  /// Decodes, transforms and packs batch k of the current epoch into `out`.
  void prepare(Index k, Batch<S>& out) {
    const Index n = size(), begin = k * cfg_.batch_size, B = std::min(cfg_.batch_size, n - begin);
    frames_.resize(std::size_t(B));
    labels_.resize(std::size_t(B));
    for (Index s = 0; s < B; ++s) {
      const Index idx = order_[std::size_t(begin + s)];
      EventSample ev = fetch(idx);
      labels_[std::size_t(s)] = ev.label;
      Rng rng = epoch_rng_.fork(std::uint64_t(idx));
      frames_[std::size_t(s)] = apply_transform(transform_, std::move(ev), rng);
    }
    const Index F = frames_[0].features();
    Index steps = cfg_.steps;
    for (Index s = 0; s < B; ++s) {
      const Frames& f = frames_[std::size_t(s)];
      if (f.features() != F)
        throw ShapeError("EventLoader: sample " + std::to_string(order_[std::size_t(begin + s)]) + " gives frames of " +
                         std::to_string(f.features()) + " features (" + f.sensor.to_string() + "), the batch has " +
                         std::to_string(F) + "; add a crop or resize transform");
      if (Index(f.values.size()) != f.steps * F) throw ShapeError("EventLoader: a transform returned inconsistent frames");
      if (cfg_.steps == 0) steps = std::max(steps, f.steps);
    }
    out.input.resize(F, B, steps);
    out.labels.assign(labels_.begin(), labels_.end());
    out.step_labels.clear();
    out.lengths.assign(std::size_t(B), steps);
    bool ragged = false;
    for (Index s = 0; s < B; ++s) {
      const Frames& f = frames_[std::size_t(s)];
      const Index len = std::min(f.steps, steps);
      ragged |= len != steps;
      out.lengths[std::size_t(s)] = len;
      for (Index t = 0; t < steps; ++t) {
        S* col = out.input.data() + out.input.column(s, t) * F;
        if (t < len) {
          const float* src = f.step(t);
          for (Index i = 0; i < F; ++i) col[i] = S(src[i]);
        } else {
          std::fill(col, col + F, S(0));
        }
      }
    }
    if (!ragged) out.lengths.clear();
  }

  const D* data_;
  T transform_;
  EventLoaderConfig cfg_;
  std::vector<Index> subset_, order_;
  std::vector<std::optional<EventSample>> cache_;
  Index cached_ = 0;
  Rng epoch_rng_{1};
  bool started_ = false;
  Index next_batch_ = 0;
  // producer scratch (used by one thread at a time)
  std::vector<Frames> frames_;
  std::vector<int> labels_;
  // hand-over between the worker and next()
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Batch<S>> ready_;
  std::vector<Batch<S>> free_;
  std::exception_ptr error_;
  bool worker_done_ = false, stop_ = false;
  std::thread worker_;
};

/// Builds a loader, deducing the data set and transform types: make_event_loader<float>(data, tf, cfg).
template <Scalar S, EventDataset D, FrameTransform T>
EventLoader<S, D, T> make_event_loader(const D& data, T transform, EventLoaderConfig cfg = {}) {
  return EventLoader<S, D, T>(data, std::move(transform), cfg);
}
template <Scalar S, EventDataset D, FrameTransform T>
EventLoader<S, D, T> make_event_loader(const D&& data, T transform, EventLoaderConfig cfg = {}) = delete;

}  // namespace spikelab

#endif
