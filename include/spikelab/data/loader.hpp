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
 * recycles the caller's old buffers. The data set is used from one thread at a time; it must
 * outlive the loader.
 *
 * Bad recordings (`on_error`): a data set of thousands of files may hold one that is truncated
 * or corrupt; its reader then throws a FileError naming the file and byte offset. With
 * OnError::fail (the default) `next` hands out the batches before it, then re-throws that
 * error on the caller's thread (also when the worker read it) and the epoch ends there. With
 * OnError::skip the sample is left out: the batch is filled up with the samples that follow
 * it in the epoch's order (so every batch but the last keeps `batch_size` samples and the
 * epoch has one sample less), `skipped()` counts it, and `on_skip` is called with the file,
 * offset and message, on the thread that calls `next`, before the batch that would have held
 * the sample is returned. Only FileError (and its FormatError) is skipped: other exceptions (a
 * transform's ShapeError, out of memory) always reach the caller. Which samples fail depends
 * on the files only, so a run that skips stays reproducible from its seed.
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
#include <functional>
#include <mutex>
#include <numeric>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace spikelab {

/// What EventLoader does when reading a sample throws a FileError (see the file comment).
enum class OnError : std::uint8_t {
  fail,  ///< the error reaches the caller of next(), after the batches before it
  skip   ///< the sample is left out of the epoch, counted and reported to on_skip
};

/// A sample EventLoader left out under OnError::skip.
struct SkippedSample {
  std::uint64_t epoch = 0;  ///< the epoch passed to start_epoch
  Index index = -1;         ///< the sample's index in the data set
  std::string path;         ///< the file the reader's error names
  std::int64_t offset = -1; ///< the byte offset it names (-1: none)
  std::string message;      ///< the error's full message
};

/// Batching of an EventLoader: batch size, shuffling, padding to a number of steps, caching,
/// read-ahead and the subset of samples used.
struct EventLoaderConfig {
  Index batch_size = 32;  ///< samples per batch
  bool shuffle = true;  ///< a new order every epoch
  std::uint64_t seed = 1;  ///< seeds the order and the random transforms
  bool drop_last = false;  ///< skip a last, smaller batch
  Index steps = 0;         ///< 0: T = longest sample of the batch; > 0: pad or cut every sample to this
  bool cache = false;      ///< keep decoded samples (before the transform) in memory after the first read
  Index prefetch = 2;      ///< batches prepared ahead on a worker thread (0: prepared inside next())
  Index limit = 0;         ///< use only the first n samples (0: all)
  OnError on_error = OnError::fail;  ///< a recording that cannot be read: stop with its error, or skip it
  /// Called for each sample skipped under OnError::skip, on the thread that calls next().
  std::function<void(const SkippedSample&)> on_skip = {};
};

/// A BatchSource over an event data set: it reads samples (optionally caching the decoded
/// events), applies a compile-time transform pipeline ending in Frames, packs batches into the
/// TimeSeries layout, and prepares the next batches on a worker thread.
/// @tparam S the scalar type (float or double)
/// @tparam D the data set (an EventDataset)
/// @tparam T the transform pipeline (a FrameTransform, e.g. Compose<..., ToFrame>)
template <Scalar S, EventDataset D, FrameTransform T>
class EventLoader {
 public:
  /// A loader over every sample of `data` (kept by reference: it must outlive the loader).
  /// @param data the event data set
  /// @param transform the transform pipeline, ending in Frames
  /// @param cfg batching, padding, caching and read-ahead
  EventLoader(const D& data, T transform = {}, EventLoaderConfig cfg = {}) : EventLoader(data, std::move(transform), cfg, {}) {}

  /// A loader over the samples `subset` of `data` (e.g. a train/validation split).
  /// @param data the event data set (kept by reference)
  /// @param transform the transform pipeline, ending in Frames
  /// @param cfg batching, padding, caching and read-ahead
  /// @param subset the indices of the samples to use
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
  /// Batches per epoch when no sample is skipped (an upper bound otherwise).
  Index batches_per_epoch() const noexcept {
    const Index n = size(), b = cfg_.batch_size;
    return cfg_.drop_last ? n / b : (n + b - 1) / b;
  }
  /// The data set.
  const D& dataset() const noexcept { return *data_; }
  /// The transform pipeline.
  const T& transform() const noexcept { return transform_; }
  /// The run-time configuration.
  const EventLoaderConfig& config() const noexcept { return cfg_; }
  /// Decoded samples held in the cache.
  Index cached() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return cached_;
  }
  /// Samples left out (OnError::skip) in the current epoch so far, as reported by next().
  Index skipped() const noexcept { return skipped_; }

  /// Starts epoch `epoch`: its order (seeded by the seed and the epoch) and, with prefetch,
  /// the worker that reads ahead.
  void start_epoch(std::uint64_t epoch) {
    stop_worker();
    started_ = true;
    epoch_ = epoch;
    epoch_rng_ = Rng(cfg_.seed).fork(epoch);
    order_ = subset_;
    if (cfg_.shuffle) {
      Rng r = epoch_rng_.fork(~std::uint64_t(0));
      for (std::size_t i = order_.size(); i > 1; --i) std::swap(order_[i - 1], order_[std::size_t(r.below(i))]);
    }
    cursor_ = 0;
    skipped_ = 0;
    for (auto& b : ready_) free_.push_back(std::move(b.batch));
    ready_.clear();
    tail_skips_.clear();
    error_ = nullptr;
    worker_done_ = false;
    stop_ = false;
    if (cfg_.prefetch > 0) worker_ = std::thread([this] { work(); });
  }

  /// Fills the next batch; false at the end of the epoch (BatchSource).
  bool next(Batch<S>& b) {
    if (!started_) start_epoch(0);
    if (cfg_.prefetch == 0) {
      std::vector<SkippedSample> skips;
      bool more = false;
      try {
        more = prepare(b, skips);
      } catch (...) {
        cursor_ = size();  // an error ends the epoch, as it does on the worker
        throw;
      }
      report(skips);
      return more;
    }
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return !ready_.empty() || worker_done_; });
    if (ready_.empty()) {
      std::vector<SkippedSample> skips = std::exchange(tail_skips_, {});
      std::exception_ptr e = std::exchange(error_, nullptr);
      lock.unlock();
      if (e) {
        stop_worker();
        std::rethrow_exception(e);
      }
      report(skips);
      return false;
    }
    Ready r = std::move(ready_.front());
    ready_.pop_front();
    std::swap(b, r.batch);
    free_.push_back(std::move(r.batch));
    lock.unlock();
    cv_.notify_all();
    report(r.skips);
    return true;
  }

 private:
  /// A batch the worker prepared, with the samples it left out while filling it.
  struct Ready {
    Batch<S> batch;
    std::vector<SkippedSample> skips;
  };

  void work() {
    try {
      for (;;) {
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
        std::vector<SkippedSample> skips;
        const bool more = prepare(buf, skips);
        {
          std::lock_guard<std::mutex> lock(mutex_);
          if (more)
            ready_.push_back({std::move(buf), std::move(skips)});
          else
            tail_skips_ = std::move(skips);
        }
        cv_.notify_all();
        if (!more) break;
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

  /// Counts the skipped samples and hands them to on_skip (on the caller's thread).
  void report(const std::vector<SkippedSample>& skips) {
    for (const SkippedSample& s : skips) {
      ++skipped_;
      if (cfg_.on_skip) cfg_.on_skip(s);
    }
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

  /// Decodes, transforms and packs the next batch of the current epoch into `out`: the next
  /// batch_size samples of the epoch's order that can be read. Samples left out under
  /// OnError::skip are appended to `skips`. False when no batch is left (drop_last: no full
  /// one).
  bool prepare(Batch<S>& out, std::vector<SkippedSample>& skips) {
    const Index n = size();
    frames_.resize(std::size_t(cfg_.batch_size));
    labels_.resize(std::size_t(cfg_.batch_size));
    ids_.resize(std::size_t(cfg_.batch_size));
    Index B = 0;
    while (B < cfg_.batch_size && cursor_ < n) {
      const Index idx = order_[std::size_t(cursor_++)];
      EventSample ev;
      try {
        ev = fetch(idx);
      } catch (const FileError& e) {
        if (cfg_.on_error == OnError::fail) throw;
        skips.push_back({epoch_, idx, e.path(), e.offset(), e.what()});
        continue;
      }
      labels_[std::size_t(B)] = ev.label;
      ids_[std::size_t(B)] = idx;
      Rng rng = epoch_rng_.fork(std::uint64_t(idx));
      frames_[std::size_t(B)] = apply_transform(transform_, std::move(ev), rng);
      ++B;
    }
    if (B == 0 || (cfg_.drop_last && B < cfg_.batch_size)) return false;
    const Index F = frames_[0].features();
    Index steps = cfg_.steps;
    for (Index s = 0; s < B; ++s) {
      const Frames& f = frames_[std::size_t(s)];
      if (f.features() != F)
        throw ShapeError("EventLoader: sample " + std::to_string(ids_[std::size_t(s)]) + " gives frames of " +
                         std::to_string(f.features()) + " features (" + f.sensor.to_string() + "), the batch has " +
                         std::to_string(F) + "; add a crop or resize transform");
      if (Index(f.values.size()) != f.steps * F) throw ShapeError("EventLoader: a transform returned inconsistent frames");
      if (cfg_.steps == 0) steps = std::max(steps, f.steps);
    }
    out.input.resize(F, B, steps);
    out.labels.assign(labels_.begin(), labels_.begin() + B);
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
    return true;
  }

  const D* data_;
  T transform_;
  EventLoaderConfig cfg_;
  std::vector<Index> subset_, order_;
  std::vector<std::optional<EventSample>> cache_;
  Index cached_ = 0;
  std::uint64_t epoch_ = 0;
  Rng epoch_rng_{1};
  bool started_ = false;
  Index skipped_ = 0;  // the caller's count of reported skips
  // producer state and scratch (used by one thread at a time: the worker, or next() without one)
  Index cursor_ = 0;  // next position in order_
  std::vector<Frames> frames_;
  std::vector<int> labels_;
  std::vector<Index> ids_;
  // hand-over between the worker and next()
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Ready> ready_;
  std::vector<Batch<S>> free_;
  std::vector<SkippedSample> tail_skips_;  // skipped after the last batch was filled
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
