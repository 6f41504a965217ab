// EventLoader and a data set with bad recordings in it: OnError::fail hands out the batches
// before the bad sample and then throws its FileError (file and offset) on the caller's thread;
// OnError::skip leaves the sample out, keeps the batches full, counts it and reports it through
// on_skip on the caller's thread. Both on in-memory data sets and on a copy of the real N-MNIST
// test split with one recording truncated, with and without the read-ahead worker.
#include <spikelab/data/datasets/nmnist.hpp>
#include <spikelab/data/loader.hpp>
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
#include <set>
#include <thread>

using namespace spikelab;
namespace fs = std::filesystem;

namespace {

/// An in-memory EventDataset: sample i has one event at (i % 4, 0) and label i % 3; the samples
/// in `corrupt` throw FormatError("rec-<i>.bin", 5 * i), those in `broken` a ConfigError.
struct FlakyDataset {
  Index n = 0;
  std::set<Index> corrupt, broken;

  Index size() const { return n; }
  SensorSize sensor() const { return {4, 1, 2}; }
  int classes() const { return 3; }
  EventSample get(Index i) const {
    if (corrupt.count(i)) throw FormatError("rec-" + std::to_string(i) + ".bin", 5 * i, "truncated record");
    if (broken.count(i)) throw ConfigError("not a file problem");
    EventSample s;
    s.sensor = sensor();
    s.label = int(i % 3);
    s.events.push_back({0, std::uint16_t(i % 4), 0, 0});
    return s;
  }
};
static_assert(EventDataset<FlakyDataset>);

using FlakyLoader = EventLoader<float, FlakyDataset, ToFrame>;

/// One epoch: the batch sizes, and the sample ids (recovered from label and x) in order.
struct Epoch {
  std::vector<Index> sizes;
  std::vector<int> labels;
  Matrix<float> first_input;
};
Epoch run_epoch(FlakyLoader& l, std::uint64_t e) {
  Epoch out;
  l.start_epoch(e);
  Batch<float> b;
  while (l.next(b)) {
    b.validate();
    out.sizes.push_back(b.batch());
    out.labels.insert(out.labels.end(), b.labels.begin(), b.labels.end());
    if (out.sizes.size() == 1) out.first_input = b.input.values();
  }
  return out;
}

}  // namespace

TEST_CASE("OnError::skip leaves bad samples out, keeps batches full and reports each on the caller's thread",
          "[data][loader][errors]") {
  FlakyDataset d{.n = 20, .corrupt = {4, 11, 12}};
  const ToFrame tf({.n_time_bins = 1});
  for (Index prefetch : {0, 1, 4}) {
    CAPTURE(prefetch);
    std::vector<SkippedSample> seen;
    std::vector<std::thread::id> threads;
    std::vector<Index> reported_at;  // batches handed out when each report came
    Index handed = 0;
    EventLoaderConfig cfg{.batch_size = 3, .shuffle = false, .prefetch = prefetch, .on_error = OnError::skip};
    cfg.on_skip = [&](const SkippedSample& s) {
      seen.push_back(s);
      threads.push_back(std::this_thread::get_id());
      reported_at.push_back(handed);
    };
    FlakyLoader l(d, tf, cfg);
    l.start_epoch(7);
    Batch<float> b;
    std::vector<int> labels;
    std::vector<Index> sizes;
    while (l.next(b)) {
      ++handed;
      sizes.push_back(b.batch());
      labels.insert(labels.end(), b.labels.begin(), b.labels.end());
    }
    // 17 good samples in order, in batches of 3: {0,1,2} {3,5,6} {7,8,9} {10,13,14} {15,16,17} {18,19}
    CHECK(sizes == std::vector<Index>{3, 3, 3, 3, 3, 2});
    std::vector<int> expect;
    for (Index i = 0; i < 20; ++i)
      if (!d.corrupt.count(i)) expect.push_back(int(i % 3));
    CHECK(labels == expect);
    CHECK(l.skipped() == 3);
    REQUIRE(seen.size() == 3);
    CHECK(seen[0].index == 4);
    CHECK(seen[1].index == 11);
    CHECK(seen[2].index == 12);
    CHECK(seen[1].path == "rec-11.bin");
    CHECK(seen[1].offset == 55);
    CHECK(seen[1].epoch == 7);
    CHECK(seen[1].message.find("'rec-11.bin' at byte 55: truncated record") != std::string::npos);
    // reported just before the batch that would have held the sample is returned
    CHECK(reported_at == std::vector<Index>{1, 3, 3});
    for (const auto& id : threads) CHECK(id == std::this_thread::get_id());
    // the next epoch reports them again, and the count starts over
    l.start_epoch(8);
    while (l.next(b)) {
    }
    CHECK(l.skipped() == 3);
    CHECK(seen.size() == 6);
  }
}

TEST_CASE("OnError::skip: a bad last sample, drop_last, shuffling and an all-bad data set", "[data][loader][errors]") {
  const ToFrame tf({.n_time_bins = 1});
  // the last sample alone would have made the last batch: it is reported when next() says the
  // epoch is over
  {
    FlakyDataset d{.n = 7, .corrupt = {6}};
    for (Index prefetch : {0, 2}) {
      int reports = 0;
      EventLoaderConfig cfg{.batch_size = 3, .shuffle = false, .prefetch = prefetch, .on_error = OnError::skip};
      cfg.on_skip = [&](const SkippedSample& s) { reports += s.index == 6; };
      FlakyLoader l(d, tf, cfg);
      const Epoch e = run_epoch(l, 1);
      CHECK(e.sizes == std::vector<Index>{3, 3});
      CHECK(reports == 1);
      CHECK(l.skipped() == 1);
    }
  }
  // drop_last drops the last batch only when it is not full after the skips
  {
    FlakyDataset d{.n = 11, .corrupt = {1, 2}};
    FlakyLoader l(d, tf, {.batch_size = 3, .shuffle = false, .drop_last = true, .on_error = OnError::skip});
    CHECK(run_epoch(l, 1).sizes == std::vector<Index>{3, 3, 3});  // 9 good samples
    FlakyDataset d2{.n = 11, .corrupt = {1, 2, 3}};
    FlakyLoader l2(d2, tf, {.batch_size = 3, .shuffle = false, .drop_last = true, .on_error = OnError::skip});
    CHECK(run_epoch(l2, 1).sizes == std::vector<Index>{3, 3});  // 8 good samples: the last 2 dropped
    CHECK(l2.skipped() == 3);
  }
  // shuffled: the same batches with and without the worker; every good sample once
  {
    FlakyDataset d{.n = 40, .corrupt = {0, 17, 18, 39}};
    FlakyLoader sync(d, tf, {.batch_size = 5, .seed = 3, .prefetch = 0, .on_error = OnError::skip});
    FlakyLoader ahead(d, tf, {.batch_size = 5, .seed = 3, .prefetch = 3, .on_error = OnError::skip});
    for (std::uint64_t e : {1, 2}) {
      const Epoch a = run_epoch(sync, e), b = run_epoch(ahead, e);
      CHECK(a.sizes == std::vector<Index>{5, 5, 5, 5, 5, 5, 5, 1});
      CHECK(a.sizes == b.sizes);
      CHECK(a.labels == b.labels);
      CHECK(a.first_input == b.first_input);
      CHECK(ahead.skipped() == 4);
    }
  }
  // nothing readable: an empty epoch, every sample reported, no hang
  {
    FlakyDataset d{.n = 5, .corrupt = {0, 1, 2, 3, 4}};
    for (Index prefetch : {0, 2}) {
      FlakyLoader l(d, tf, {.batch_size = 2, .prefetch = prefetch, .on_error = OnError::skip});
      CHECK(run_epoch(l, 1).sizes.empty());
      CHECK(l.skipped() == 5);
    }
  }
}

TEST_CASE("Only file errors are skipped: another exception from the data set reaches the caller",
          "[data][loader][errors]") {
  FlakyDataset d{.n = 9, .corrupt = {1}, .broken = {5}};
  const ToFrame tf({.n_time_bins = 1});
  for (Index prefetch : {0, 2}) {
    FlakyLoader l(d, tf, {.batch_size = 2, .shuffle = false, .prefetch = prefetch, .on_error = OnError::skip});
    l.start_epoch(1);
    Batch<float> b;
    Index good = 0;
    CHECK_THROWS_AS([&] {
      while (l.next(b)) ++good;
    }(), ConfigError);
    CHECK(good == 2);  // {0,2} {3,4}; sample 5 throws
    CHECK(l.skipped() == 1);
  }
}

namespace {

/// A copy of the real N-MNIST test split (100 recordings and test100.txt) in a fresh temporary
/// directory, with recording `bad` cut 2 bytes short (mid-record). Empty when the data is absent.
struct TruncatedNmnist {
  fs::path dir, bad_file;
  std::int64_t bad_offset = -1;
  explicit TruncatedNmnist(int bad) {
    const fs::path src = test::real_data("nmnist/NMNISTsmall", "N-MNIST NMNISTsmall");
    if (src.empty()) return;
    dir = test::temp_dir("bad-recording");
    fs::copy_file(src / "test100.txt", dir / "test100.txt", fs::copy_options::overwrite_existing);
    for (int id = 60001; id <= 60100; ++id) {
      const std::string name = std::to_string(id) + ".bs2";
      fs::copy_file(src / name, dir / name, fs::copy_options::overwrite_existing);
    }
    bad_file = dir / (std::to_string(bad) + ".bs2");
    const auto size = fs::file_size(bad_file);
    fs::resize_file(bad_file, size - 2);
    bad_offset = std::int64_t(size - 2) - std::int64_t((size - 2) % 5);  // where the cut record starts
  }
  ~TruncatedNmnist() {
    std::error_code ec;
    if (!dir.empty()) fs::remove_all(dir, ec);
  }
};

using Net = Sequential<Linear<float>, Lif<float>, Linear<float>, LeakyIntegrator<float>>;
Net small_net() {
  Rng rng(2);
  return Net{Linear<float>(2312, 32, rng), Lif<float>(32), Linear<float>(32, 10, rng), LeakyIntegrator<float>(10)};
}

/// Counts the samples of each epoch as the trainer saw them.
struct SampleCount {
  std::vector<Index>* samples;
  template <class N>
  void on_epoch_end(const TrainInfo& i, N&) {
    samples->push_back(i.samples);
  }
};

}  // namespace

TEST_CASE("N-MNIST with one truncated recording: OnError::fail stops with the file and offset on the training thread",
          "[data][loader][errors][real]") {
  const TruncatedNmnist copy(60042);
  if (copy.dir.empty()) return;
  const NMnistDataset data = NMnist::load(copy.dir, "test");
  REQUIRE(data.size() == 100);
  for (Index prefetch : {0, 2}) {
    CAPTURE(prefetch);
    EventLoader<float, NMnistDataset, ToFrame> l(data, NMnist::standard_transform(),
                                                 {.batch_size = 16, .seed = 4, .prefetch = prefetch});
    l.start_epoch(1);
    Batch<float> b;
    Index batches = 0;
    bool thrown = false;
    try {
      while (l.next(b)) {
        CHECK(b.batch() == 16);  // every batch before the error is whole
        ++batches;
      }
    } catch (const FormatError& e) {
      thrown = true;
      CHECK(fs::path(e.path()) == copy.bad_file);
      CHECK(e.offset() == copy.bad_offset);
      CHECK(std::string(e.what()).find("60042.bs2' at byte " + std::to_string(copy.bad_offset)) != std::string::npos);
    }
    CHECK(thrown);
    CHECK(batches < 7);
  }
  // through the trainer: fit ends with the reader's error, naming the file
  Net net = small_net();
  Trainer trainer(net, Bptt<SumCrossEntropy>{}, Optimizer<float, Adam>({.lr = 1e-3}));
  EventLoader<float, NMnistDataset, ToFrame> train(data, NMnist::standard_transform(), {.batch_size = 16, .seed = 4});
  try {
    trainer.fit(train, 1);
    FAIL("fit went through a truncated recording");
  } catch (const FormatError& e) {
    CHECK(fs::path(e.path()) == copy.bad_file);
  }
}

TEST_CASE("N-MNIST with one truncated recording: OnError::skip trains on the other 99 and reports the file",
          "[data][loader][errors][real]") {
  const TruncatedNmnist copy(60042);
  if (copy.dir.empty()) return;
  const NMnistDataset data = NMnist::load(copy.dir, "test");
  for (Index prefetch : {0, 2}) {
    CAPTURE(prefetch);
    std::vector<SkippedSample> seen;
    EventLoaderConfig cfg{.batch_size = 16, .seed = 4, .prefetch = prefetch, .on_error = OnError::skip};
    cfg.on_skip = [&](const SkippedSample& s) { seen.push_back(s); };
    EventLoader<float, NMnistDataset, ToFrame> l(data, NMnist::standard_transform(), cfg);
    l.start_epoch(1);
    Batch<float> b;
    std::vector<Index> sizes;
    Index samples = 0;
    while (l.next(b)) {
      sizes.push_back(b.batch());
      samples += b.batch();
    }
    CHECK(samples == 99);
    CHECK(sizes == std::vector<Index>{16, 16, 16, 16, 16, 16, 3});
    CHECK(l.skipped() == 1);
    REQUIRE(seen.size() == 1);
    CHECK(fs::path(seen[0].path) == copy.bad_file);
    CHECK(seen[0].offset == copy.bad_offset);
    CHECK(data.file(seen[0].index).path == copy.bad_file);
  }
  // through the trainer: two whole epochs of 99 samples, the recording reported once per epoch
  int reports = 0;
  EventLoaderConfig cfg{.batch_size = 16, .seed = 4, .on_error = OnError::skip};
  cfg.on_skip = [&](const SkippedSample&) { ++reports; };
  EventLoader<float, NMnistDataset, ToFrame> train(data, NMnist::standard_transform(), cfg);
  Net net = small_net();
  Trainer trainer(net, Bptt<SumCrossEntropy>{}, Optimizer<float, Adam>({.lr = 1e-3}));
  std::vector<Index> samples;
  const FitResult r = trainer.fit(train, 2, SampleCount{&samples});
  CHECK(r.epochs_run == 2);
  CHECK(samples == std::vector<Index>{99, 99});
  CHECK(reports == 2);
}
