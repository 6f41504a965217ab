// Static data: idx reader (files the test writes, and the real MNIST files), encoders,
// the MTS-XOR generator.
#include <spikelab/data/encoders.hpp>
#include <spikelab/data/image_dataset.hpp>
#include <spikelab/data/image_source.hpp>
#include <spikelab/data/mts_xor.hpp>

#include "support/test_support.hpp"

#include <zlib.h>

#include <fstream>
#include <set>

using namespace spikelab;

namespace {
std::vector<std::uint8_t> idx_bytes(std::uint8_t type, std::vector<std::uint32_t> dims, std::vector<std::uint8_t> data) {
  std::vector<std::uint8_t> b{0, 0, type, std::uint8_t(dims.size())};
  for (auto d : dims)
    for (int k = 3; k >= 0; --k) b.push_back(std::uint8_t(d >> (8 * k)));
  b.insert(b.end(), data.begin(), data.end());
  return b;
}
void write_file(const std::filesystem::path& p, const std::vector<std::uint8_t>& b, bool gz) {
  if (gz) {
    gzFile f = gzopen(p.c_str(), "wb");
    gzwrite(f, b.data(), unsigned(b.size()));
    gzclose(f);
  } else {
    std::ofstream os(p, std::ios::binary);
    os.write(reinterpret_cast<const char*>(b.data()), std::streamsize(b.size()));
  }
}
std::string error_of(const std::filesystem::path& p) {
  try {
    read_idx(p);
  } catch (const FileError& e) {
    return e.what();
  }
  return "";
}
}  // namespace

TEST_CASE("idx files written by the test parse, plain and gzip", "[data][idx]") {
  const auto dir = test::temp_dir("idx");
  std::vector<std::uint8_t> px(2 * 3 * 4);
  for (std::size_t i = 0; i < px.size(); ++i) px[i] = std::uint8_t(i * 10);
  for (bool gz : {false, true}) {
    const auto p = dir / (gz ? "a.gz" : "a.idx");
    write_file(p, idx_bytes(0x08, {2, 3, 4}, px), gz);
    const IdxArray a = read_idx(p);
    CHECK(a.dims == std::vector<std::int64_t>{2, 3, 4});
    CHECK(a.count() == 24);
    CHECK(a.at(23) == 230.0);
  }
  // a big-endian int32 array
  write_file(dir / "i.idx", idx_bytes(0x0C, {2}, {0, 0, 1, 0, 0xFF, 0xFF, 0xFF, 0xFE}), false);
  const IdxArray b = read_idx(dir / "i.idx");
  CHECK(b.at(0) == 256.0);
  CHECK(b.at(1) == -2.0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Bad idx files throw FormatError naming the file and offset", "[data][idx][errors]") {
  const auto dir = test::temp_dir("idx-bad");
  write_file(dir / "magic.idx", {1, 2, 8, 1, 0, 0, 0, 1, 5}, false);
  CHECK(error_of(dir / "magic.idx").find("at byte 0") != std::string::npos);
  write_file(dir / "trunc.idx", idx_bytes(0x08, {10}, {1, 2, 3}), false);
  const std::string t = error_of(dir / "trunc.idx");
  CHECK(t.find("trunc.idx") != std::string::npos);
  CHECK(t.find("truncated") != std::string::npos);
  write_file(dir / "trail.idx", idx_bytes(0x08, {2}, {1, 2, 3}), false);
  CHECK(error_of(dir / "trail.idx").find("trailing") != std::string::npos);
  write_file(dir / "type.idx", idx_bytes(0x07, {1}, {1}), false);
  CHECK(error_of(dir / "type.idx").find("at byte 2") != std::string::npos);
  write_file(dir / "empty.idx", {}, false);
  CHECK(error_of(dir / "empty.idx").find("empty") != std::string::npos);
  CHECK(error_of(dir / "missing.idx").find("cannot open") != std::string::npos);
  // a truncated gzip stream
  write_file(dir / "full.gz", idx_bytes(0x08, {4000}, std::vector<std::uint8_t>(4000, 7)), true);
  std::ifstream is(dir / "full.gz", std::ios::binary);
  std::vector<char> z((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
  std::ofstream(dir / "cut.gz", std::ios::binary).write(z.data(), std::streamsize(z.size() / 2));
  CHECK_THROWS_AS(read_idx(dir / "cut.gz"), FormatError);
  // images and labels that disagree
  write_file(dir / "im.idx", idx_bytes(0x08, {3, 2, 2}, std::vector<std::uint8_t>(12, 1)), false);
  write_file(dir / "lb.idx", idx_bytes(0x08, {2}, {0, 1}), false);
  CHECK_THROWS_AS(load_idx_images(dir / "im.idx", dir / "lb.idx"), FormatError);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Real MNIST idx files parse with the documented shapes and label counts", "[data][idx][real]") {
  const auto dir = test::real_data("mnist", "real MNIST idx files");
  if (dir.empty()) return;
  const ImageDataset test = load_idx_split(dir, "test");
  CHECK(test.count == 10000);
  CHECK(test.height == 28);
  CHECK(test.width == 28);
  std::vector<int> counts(10, 0);
  for (int l : test.labels) ++counts[std::size_t(l)];
  CHECK(counts == std::vector<int>{980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009});
  CHECK(test.labels[0] == 7);
  const ImageDataset train = load_idx_split(dir, "train");  // the 10k derived subset
  CHECK(train.count == 10000);
  CHECK(std::vector<int>(train.labels.begin(), train.labels.begin() + 5) == std::vector<int>{5, 0, 4, 1, 9});
  // pixels are 8-bit with ink in the middle of the image
  double centre = 0, border = 0;
  for (std::int64_t i = 0; i < 100; ++i) {
    centre += test.image(i)[14 * 28 + 14];
    border += test.image(i)[0];
  }
  CHECK(centre > 50 * 100 * 0.5);
  CHECK(border == 0);
}

TEST_CASE("Encoders: direct repeats, rate matches the intensity, latency orders by intensity", "[data][encoders]") {
  const float x[4] = {0.0f, 0.25f, 0.5f, 1.0f};
  Rng rng(1);
  TimeSeries<float> out(4, 2, 2000);
  DirectEncoder{2.0}.encode(x, 1, out, rng);
  CHECK(out(2, 1, 1999) == 1.0f);
  RateEncoder{}.encode(x, 0, out, rng);
  for (int f = 0; f < 4; ++f) {
    double rate = 0;
    for (Index t = 0; t < 2000; ++t) rate += out(f, 0, t);
    CHECK(rate / 2000 == Approx(x[f]).margin(0.03));
  }
  TimeSeries<float> lat(4, 1, 11);
  LatencyEncoder{0.1}.encode(x, 0, lat, rng);
  CHECK(lat.values().row(0).sum() == 0.0f);  // below threshold: silent
  CHECK(lat(3, 0, 0) == 1.0f);                // brightest first
  CHECK(lat(2, 0, 5) == 1.0f);
  CHECK(lat(1, 0, 8) == 1.0f);  // round(0.75 * 10) = 8
  CHECK(lat.values().sum() == 3.0f);
}

TEST_CASE("OffsetEncoder adds a per-feature offset; mean_image is the per-pixel mean on [0, 1]", "[data][encoders]") {
  const float x[3] = {0.0f, 0.5f, 1.0f};
  Rng rng(1);
  TimeSeries<float> out(3, 2, 4);
  out.values().setConstant(-7.0f);
  const OffsetEncoder enc{{0.5f, -0.25f, 1.0f}, 2.0};
  enc.encode(x, 1, out, rng);
  for (Index t = 0; t < 4; ++t) {
    CHECK(out(0, 1, t) == 0.5f);
    CHECK(out(1, 1, t) == 0.75f);
    CHECK(out(2, 1, t) == 3.0f);
    CHECK(out(0, 0, t) == -7.0f);  // the other column untouched
  }
  OffsetEncoder{}.encode(x, 0, out, rng);  // no offset: the direct encoding
  CHECK(out(1, 0, 3) == 0.5f);
  const OffsetEncoder two_offsets{{0.1f, 0.2f}};
  CHECK_THROWS_AS(two_offsets.encode(x, 0, out, rng), ShapeError);

  ImageDataset a, b;
  a.count = 2, a.height = 1, a.width = 2, a.pixels = {0, 255, 51, 255}, a.labels = {0, 1};
  b.count = 1, b.height = 1, b.width = 2, b.pixels = {255, 0}, b.labels = {1};
  const std::vector<float> ma = mean_image({&a});
  CHECK(ma[0] == Approx(0.1f));
  CHECK(ma[1] == Approx(1.0f));
  const std::vector<float> mab = mean_image({&a, &b});  // over all three images
  CHECK(mab[0] == Approx((0.0 + 0.2 + 1.0) / 3));
  CHECK(mab[1] == Approx(2.0 / 3));
  ImageDataset c = a;
  c.width = 1, c.height = 4;
  c.count = 1;
  CHECK_THROWS_AS((mean_image({&a, &c})), ConfigError);
  ImageDataset empty;
  CHECK_THROWS_AS(mean_image({&empty}), ConfigError);
}

TEST_CASE("ImageSource batches every sample once per epoch, shuffled by seed", "[data][source]") {
  ImageDataset d;
  d.count = 10;
  d.height = 1;
  d.width = 2;
  for (int i = 0; i < 10; ++i) {
    d.pixels.push_back(std::uint8_t(i));
    d.pixels.push_back(255);
    d.labels.push_back(i);
  }
  ImageSource<float> src(d, DirectEncoder{}, {.batch_size = 4, .steps = 3, .seed = 9});
  CHECK(src.batches_per_epoch() == 3);
  auto epoch = [&](std::uint64_t e) {
    std::vector<int> seen;
    Batch<float> b;
    src.start_epoch(e);
    while (src.next(b)) {
      REQUIRE(b.input.features() == 2);
      for (Index s = 0; s < b.batch(); ++s) {
        seen.push_back(b.labels[std::size_t(s)]);
        CHECK(b.input(0, s, 2) == Approx(float(b.labels[std::size_t(s)]) / 255.0f));
      }
    }
    return seen;
  };
  auto e1 = epoch(1), e1b = epoch(1), e2 = epoch(2);
  CHECK(e1 == e1b);
  CHECK(e1 != e2);
  std::sort(e1.begin(), e1.end());
  CHECK(e1 == std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9});
}

TEST_CASE("MTS-XOR samples follow the task definition", "[data][mts_xor]") {
  MtsXorSource<float> src(400, 100, 5);
  const MtsXor& task = src.task();
  REQUIRE(task.channels() == 40);
  REQUIRE(task.segments() == 6);
  CHECK(task.coding_step(15));
  CHECK_FALSE(task.coding_step(14));
  CHECK(task.coding_step(99));
  CHECK_FALSE(task.coding_step(25));
  Batch<float> b;
  src.start_epoch(0);
  double noise = 0, noise_n = 0;
  Index checked = 0;
  while (src.next(b)) {
    for (Index s = 0; s < b.batch(); ++s) {
      double a_rate = 0;
      for (Index t = 0; t < 10; ++t)
        for (Index c = 0; c < 20; ++c) a_rate += b.input(c, s, t);
      a_rate /= 200;
      const bool a_high = a_rate > 0.4;
      for (Index k = 0; k < 6; ++k) {
        const Index t0 = 10 + 15 * k + 5;
        double b_rate = 0;
        for (Index t = t0; t < t0 + 10; ++t)
          for (Index c = 20; c < 40; ++c) b_rate += b.input(c, s, t);
        b_rate /= 200;
        const int label = b.step_labels[std::size_t(t0 * b.batch() + s)];
        CHECK(label == int(a_high != (b_rate > 0.4)));
        CHECK(b.step_labels[std::size_t((t0 - 1) * b.batch() + s)] == -1);  // silent steps are not scored
        ++checked;
      }
      for (Index t = 10; t < 15; ++t)  // first silent gap: noise only
        for (Index c = 0; c < 40; ++c) noise += b.input(c, s, t), ++noise_n;
    }
  }
  CHECK(checked == 400 * 6);
  CHECK(noise / noise_n == Approx(0.01).margin(0.004));
}

TEST_CASE("MTS-XOR labels hSNN's way: 0 during signal A, the segment's label on its silent and coding steps",
          "[data][mts_xor]") {
  // a small task whose rates are 0 or 1 and without noise, so that each label follows from the
  // input by hand: 3 steps of A, then 3 segments of 2 silent + 3 coding steps, 2 steps left over
  const MtsXorConfig small{.channels_per_group = 2, .steps = 20, .start_time = 3, .remain_time = 2, .coding_time = 3,
                           .low_rate = 0.0, .high_rate = 1.0, .noise_rate = 0.0};
  MtsXorConfig all_cfg = small;
  all_cfg.labels = MtsXorLabels::all_steps;
  MtsXorSource<float> coding(4, 4, 9, false, small), all(4, 4, 9, false, all_cfg);
  REQUIRE(coding.task().segments() == 3);
  CHECK(all.task().decision_steps() ==
        std::vector<std::uint8_t>{0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0});
  Batch<float> bc, ba;
  coding.start_epoch(0);
  all.start_epoch(0);
  REQUIRE(coding.next(bc));
  REQUIRE(all.next(ba));
  CHECK(ba.input.values() == bc.input.values());  // the labelling draws nothing: same samples
  const Index B = ba.batch();
  std::set<int> seen;
  for (Index s = 0; s < B; ++s) {
    const bool a = ba.input(0, s, 0) == 1.0f;  // A high: channels 0-1 fire at steps 0-2
    int y[3];
    for (int k = 0; k < 3; ++k) {
      const bool bk = ba.input(2, s, 3 + 5 * k + 2) == 1.0f;  // B_k high: channels 2-3 fire in its coding steps
      y[k] = a != bk ? 1 : 0;
      seen.insert(y[k]);
    }
    const std::vector<int> want_all{0,    0,    0,    y[0], y[0], y[0], y[0], y[0], y[1], y[1],
                                    y[1], y[1], y[1], y[2], y[2], y[2], y[2], y[2], 0,    0};
    const std::vector<int> want_coding{-1,   -1, -1, -1,   -1,   y[0], y[0], y[0], -1, -1,
                                       y[1], y[1], y[1], -1, -1, y[2], y[2], y[2], -1, -1};
    std::vector<int> got_all, got_coding;
    for (Index t = 0; t < 20; ++t) {
      got_all.push_back(ba.step_labels[std::size_t(t * B + s)]);
      got_coding.push_back(bc.step_labels[std::size_t(t * B + s)]);
    }
    INFO("sample " << s);
    CHECK(got_all == want_all);
    CHECK(got_coding == want_coding);
  }
  CHECK(seen.size() == 2);  // both labels occur in the sample
}
