// EventLoader: batch layout (feature x (batch*T), padding, lengths), seeded shuffling,
// identical batches with and without the worker thread or the cache, error propagation from the
// worker, and training a spiking network through the Trainer on event data.
#include <spikelab/data/loader.hpp>
#include <spikelab/data/transforms/representations.hpp>
#include <spikelab/data/transforms/spatial.hpp>
#include <spikelab/data/transforms/temporal.hpp>
#include <spikelab/data/transforms/to_frame.hpp>
#include <spikelab/layers/linear.hpp>
#include <spikelab/learning/bptt.hpp>
#include <spikelab/losses/cross_entropy.hpp>
#include <spikelab/networks/sequential.hpp>
#include <spikelab/neurons/leaky_integrator.hpp>
#include <spikelab/neurons/lif.hpp>
#include <spikelab/optimizers/optimizer.hpp>
#include <spikelab/training/trainer.hpp>

#include "support/data_support.hpp"

#include <algorithm>
#include <atomic>
#include <memory>

using namespace spikelab;

namespace {

/// An in-memory EventDataset that counts reads and can fail on one sample.
struct MemoryDataset {
  std::vector<EventSample> samples;
  SensorSize sensor_size{4, 3, 2};
  Index fail_at = -1;
  std::shared_ptr<std::atomic<int>> reads = std::make_shared<std::atomic<int>>(0);

  Index size() const { return Index(samples.size()); }
  SensorSize sensor() const { return sensor_size; }
  int classes() const { return 3; }
  EventSample get(Index i) const {
    ++*reads;
    if (i == fail_at) throw FormatError("sample-" + std::to_string(i) + ".bin", 40, "corrupt record");
    return samples.at(std::size_t(i));
  }
};
static_assert(EventDataset<MemoryDataset>);

/// Sample i: i+1 events at t = 0, 10, 20, ..., all at (x, y) = (i % 4, i % 3),
/// polarity i % 2, label i % 3.
MemoryDataset ragged(int n) {
  MemoryDataset d;
  for (int i = 0; i < n; ++i) {
    EventSample s;
    s.sensor = d.sensor_size;
    s.label = i % 3;
    for (int k = 0; k <= i; ++k)
      s.events.push_back({std::int64_t(10 * k), std::uint16_t(i % 4), std::uint16_t(i % 3), std::uint8_t(i % 2)});
    d.samples.push_back(s);
  }
  return d;
}

/// One frame per event: sample i has i + 1 frames.
ToFrame bins10() { return ToFrame({.event_count = 1}); }

std::vector<Batch<float>> epoch(EventLoader<float, MemoryDataset, Compose<TimeJitter, RandomShift, ToFrame>>& l, std::uint64_t e) {
  std::vector<Batch<float>> out;
  l.start_epoch(e);
  Batch<float> b;
  while (l.next(b)) out.push_back(b);
  return out;
}

}  // namespace

TEST_CASE("EventLoader packs ragged samples into feature x (batch*T) with padding and lengths", "[data][loader]") {
  const MemoryDataset d = ragged(5);
  static_assert(BatchSource<EventLoader<float, MemoryDataset, ToFrame>, float>);
  for (Index prefetch : {0, 2}) {
    EventLoader<double, MemoryDataset, ToFrame> l(d, bins10(), {.batch_size = 2, .shuffle = false, .prefetch = prefetch});
    CHECK(l.batches_per_epoch() == 3);
    l.start_epoch(1);
    Batch<double> b;
    REQUIRE(l.next(b));
    // sample 0: 1 frame, sample 1: 2 frames
    CHECK(b.input.features() == 24);
    CHECK(b.batch() == 2);
    CHECK(b.steps() == 2);
    CHECK(b.labels == std::vector<int>{0, 1});
    CHECK(b.lengths == std::vector<Index>{1, 2});
    b.validate();
    // sample 1 is at x=1, y=1, p=1: feature (1*3 + 1)*4 + 1 = 17, one event in each frame
    CHECK(b.input(17, 1, 0) == 1.0);
    CHECK(b.input(17, 1, 1) == 1.0);
    CHECK(b.input.values().col(b.input.column(1, 0)).sum() == 1.0);
    CHECK(b.input(0, 0, 0) == 1.0);  // sample 0 at (0, 0, p=0)
    CHECK(b.input.values().col(b.input.column(0, 1)).isZero());  // padding
    REQUIRE(l.next(b));
    CHECK(b.steps() == 4);
    CHECK(b.lengths == std::vector<Index>{3, 4});
    REQUIRE(l.next(b));
    CHECK(b.batch() == 1);
    CHECK(b.lengths.empty());  // one sample: nothing is padded
    CHECK(b.input.values().sum() == 5.0);
    CHECK_FALSE(l.next(b));
    CHECK_FALSE(l.next(b));
  }
  // fixed steps: pad or cut to 3; drop_last; limit; subset
  EventLoader<float, MemoryDataset, ToFrame> f(d, bins10(), {.batch_size = 2, .shuffle = false, .drop_last = true, .steps = 3});
  CHECK(f.batches_per_epoch() == 2);
  f.start_epoch(1);
  Batch<float> b;
  REQUIRE(f.next(b));
  CHECK(b.steps() == 3);
  CHECK(b.lengths == std::vector<Index>{1, 2});
  REQUIRE(f.next(b));
  CHECK(b.steps() == 3);
  CHECK(b.lengths.empty());  // samples of 3 and 4 frames, both cut to 3
  CHECK(b.input.values().sum() == 6.0f);
  CHECK_FALSE(f.next(b));
  EventLoader<float, MemoryDataset, ToFrame> lim(d, bins10(), {.batch_size = 8, .limit = 3});
  CHECK(lim.size() == 3);
  EventLoader<float, MemoryDataset, ToFrame> sub(d, bins10(), {.batch_size = 8, .shuffle = false}, {4, 2});
  REQUIRE(sub.next(b));
  CHECK(b.labels == std::vector<int>{1, 2});
  CHECK_THROWS_AS((EventLoader<float, MemoryDataset, ToFrame>(d, bins10(), {.batch_size = 0})), ConfigError);
}

TEST_CASE("EventLoader batches the real-valued representations (ToVoxelGrid) like frames", "[data][loader]") {
  const MemoryDataset d = ragged(3);
  EventLoader<float, MemoryDataset, ToVoxelGrid> l(d, ToVoxelGrid{2}, {.batch_size = 3, .shuffle = false});
  l.start_epoch(0);
  Batch<float> b;
  REQUIRE(l.next(b));
  CHECK(b.input.features() == 12);  // one channel of 4 x 3
  CHECK(b.steps() == 2);
  // sample 0: one OFF event at (0, 0), all to bin 0; sample 1: ON at (1, 1), t* = 0 and 2 (the
  // last dropped); sample 2: OFF at (2, 2), t* = 0, 1, 2
  CHECK(b.input(0, 0, 0) == -1.0f);
  CHECK(b.input(5, 1, 0) == 1.0f);
  CHECK(b.input(5, 1, 1) == 0.0f);
  CHECK(b.input(10, 2, 0) == -1.0f);
  CHECK(b.input(10, 2, 1) == -1.0f);
  CHECK(b.input.values().cwiseAbs().sum() == 4.0f);
}

TEST_CASE("EventLoader batches depend on the seed only: not on the worker thread or the cache", "[data][loader]") {
  MemoryDataset d = ragged(23);
  using Tf = Compose<TimeJitter, RandomShift, ToFrame>;
  const Tf tf(TimeJitter{3.0}, RandomShift{1, 1}, bins10());
  EventLoader<float, MemoryDataset, Tf> sync(d, tf, {.batch_size = 4, .seed = 5, .prefetch = 0});
  EventLoader<float, MemoryDataset, Tf> ahead(d, tf, {.batch_size = 4, .seed = 5, .prefetch = 3});
  EventLoader<float, MemoryDataset, Tf> cached(d, tf, {.batch_size = 4, .seed = 5, .cache = true, .prefetch = 1});
  EventLoader<float, MemoryDataset, Tf> other(d, tf, {.batch_size = 4, .seed = 6, .prefetch = 2});
  *d.reads = 0;
  for (std::uint64_t e : {1, 2}) {
    const auto a = epoch(sync, e), b = epoch(ahead, e), c = epoch(cached, e), o = epoch(other, e);
    REQUIRE(a.size() == 6);
    REQUIRE(b.size() == 6);
    REQUIRE(c.size() == 6);
    std::vector<int> labels, other_labels;
    for (std::size_t k = 0; k < a.size(); ++k) {
      CHECK(a[k].labels == b[k].labels);
      CHECK(a[k].labels == c[k].labels);
      CHECK(a[k].lengths == b[k].lengths);
      CHECK(a[k].input.values() == b[k].input.values());
      CHECK(a[k].input.values() == c[k].input.values());
      labels.insert(labels.end(), a[k].labels.begin(), a[k].labels.end());
      other_labels.insert(other_labels.end(), o[k].labels.begin(), o[k].labels.end());
    }
    CHECK(labels.size() == 23);
    CHECK(labels != other_labels);  // another seed shuffles differently
    std::vector<int> sorted = labels, expect;
    for (int i = 0; i < 23; ++i) expect.push_back(i % 3);
    std::sort(sorted.begin(), sorted.end());
    std::sort(expect.begin(), expect.end());
    CHECK(sorted == expect);  // every sample once per epoch
  }
  // epochs differ from each other
  const Matrix<float> e1 = epoch(sync, 1)[0].input.values(), e2 = epoch(sync, 2)[0].input.values();
  CHECK_FALSE((e1.rows() == e2.rows() && e1.cols() == e2.cols() && e1 == e2));
  // 3 uncached loaders x 2 epochs x 23 + the cached one once + 2 extra epochs of `sync`
  CHECK(*d.reads == 3 * 2 * 23 + 23 + 2 * 23);
  CHECK(cached.cached() == 23);
}

TEST_CASE("EventLoader re-throws a reader error from its worker and stays usable", "[data][loader]") {
  MemoryDataset d = ragged(10);
  d.fail_at = 6;
  for (Index prefetch : {0, 1, 4}) {
    EventLoader<float, MemoryDataset, ToFrame> l(d, bins10(), {.batch_size = 3, .shuffle = false, .prefetch = prefetch});
    for (int round = 0; round < 2; ++round) {
      l.start_epoch(std::uint64_t(round));
      Batch<float> b;
      int good = 0;
      try {
        while (l.next(b)) ++good;
        FAIL("no error");
      } catch (const FormatError& e) {
        CHECK(std::string(e.what()).find("sample-6.bin' at byte 40") != std::string::npos);
      }
      CHECK(good == 2);  // batches {0,1,2} and {3,4,5}
    }
  }
  // destroying a loader while its worker is mid-epoch does not hang
  MemoryDataset big = ragged(64);
  {
    EventLoader<float, MemoryDataset, ToFrame> l(big, bins10(), {.batch_size = 2, .prefetch = 2});
    Batch<float> b;
    l.start_epoch(1);
    CHECK(l.next(b));
  }
}

TEST_CASE("A spiking network learns event data through EventLoader and the Trainer", "[data][loader][learning]") {
  // class 0: events in the left half of a 4 x 4 sensor, class 1: the right half; random times and rows
  auto make = [](int n, std::uint64_t seed) {
    MemoryDataset d;
    d.sensor_size = {4, 4, 2};
    Rng rng(seed);
    for (int i = 0; i < n; ++i) {
      EventSample s;
      s.sensor = d.sensor_size;
      s.label = i % 2;
      for (int k = 0; k < 30; ++k)
        s.events.push_back({std::int64_t(rng.below(100)), std::uint16_t(2 * s.label + rng.below(2)),
                            std::uint16_t(rng.below(4)), std::uint8_t(rng.below(2))});
      sort_by_time(s.events);
      d.samples.push_back(s);
    }
    return d;
  };
  const MemoryDataset train_set = make(96, 1), test_set = make(64, 2);
  const ToFrame tf = ToFrame::fixed_bins(10, 10);
  EventLoader<float, MemoryDataset, ToFrame> train(train_set, tf, {.batch_size = 16, .seed = 3});
  EventLoader<float, MemoryDataset, ToFrame> test(test_set, tf, {.batch_size = 64, .shuffle = false});
  Rng rng(4);
  using Net = Sequential<Linear<float>, Lif<float>, Linear<float>, LeakyIntegrator<float>>;
  Net net{Linear<float>(32, 16, rng), Lif<float>(16), Linear<float>(16, 2, rng), LeakyIntegrator<float>(2)};
  Trainer trainer(net, Bptt<SumCrossEntropy>{}, Optimizer<float, Adam>({.lr = 1e-2}));
  const double before = trainer.evaluate(test).accuracy;
  const FitResult r = trainer.fit(train, test, 8);
  CHECK(r.epochs_run == 8);
  CHECK(r.val_accuracy > 0.95);
  CHECK(r.val_accuracy > before);
}
