// Event transforms: ToFrame slicing rules (hand-computed, tonic's semantics), the frame layout
// feature = (c*H + y)*W + x, spatial/temporal transforms, seeded augmentation, and Compose.
#include <spikelab/data/datasets/mnist_dvs.hpp>
#include <spikelab/data/datasets/nmnist.hpp>
#include <spikelab/data/transforms/compose.hpp>
#include <spikelab/data/transforms/denoise.hpp>
#include <spikelab/data/transforms/polarity.hpp>
#include <spikelab/data/transforms/spatial.hpp>
#include <spikelab/data/transforms/temporal.hpp>
#include <spikelab/data/transforms/to_frame.hpp>

#include "support/data_support.hpp"

#include <type_traits>

using namespace spikelab;

namespace {

EventSample sample(std::vector<Event> ev, SensorSize s = {4, 3, 2}, int label = 1) {
  EventSample r;
  r.events = std::move(ev);
  r.sensor = s;
  r.label = label;
  return r;
}
std::vector<std::int64_t> times(const EventSample& s) {
  std::vector<std::int64_t> t;
  for (const Event& e : s.events) t.push_back(e.t);
  return t;
}
std::vector<std::size_t> sizes(const SliceIndices& sl) {
  std::vector<std::size_t> n;
  for (auto [a, b] : sl) n.push_back(b - a);
  return n;
}

}  // namespace

TEST_CASE("ToFrame puts each event at feature (c*H + y)*W + x of its slice", "[data][to_frame]") {
  Rng rng(1);
  // sensor W=4, H=3, 2 channels: F = 24
  const EventSample s = sample({{0, 3, 2, 1}, {5, 0, 0, 0}, {5, 0, 0, 0}, {12, 1, 2, 0}, {19, 2, 1, 1}});
  const Frames f = ToFrame({.time_window = 10})(s, rng);
  // duration 19, window 10: floor((19 - 10)/10) + 1 = 1 slice (tonic drops the incomplete rest)
  REQUIRE(f.steps == 1);
  CHECK(f.features() == 24);
  CHECK(f.label == 1);
  CHECK(f.values[std::size_t((1 * 3 + 2) * 4 + 3)] == 1.0f);  // (c=1, y=2, x=3)
  CHECK(f.values[0] == 2.0f);                                  // (c=0, y=0, x=0) twice
  CHECK(f(0, 1, 2, 3) == 1.0f);
  CHECK(f.total() == 3.0);
  const Frames g = ToFrame({.time_window = 10, .include_incomplete = true})(s, rng);
  REQUIRE(g.steps == 2);
  CHECK(g(1, 0, 2, 1) == 1.0f);
  CHECK(g(1, 1, 1, 2) == 1.0f);
  CHECK(g.total() == 5.0);
  const Frames b = ToFrame({.time_window = 10, .include_incomplete = true, .binary = true})(s, rng);
  CHECK(b(0, 0, 0, 0) == 1.0f);
  CHECK(b.total() == 4.0);
}

TEST_CASE("ToFrame slicing modes follow tonic's rules", "[data][to_frame]") {
  std::vector<Event> ev;
  for (std::int64_t t : {100, 110, 120, 150, 199, 200, 260, 300}) ev.push_back({t, 0, 0, 0});
  // time window 50 from the first event: floor((200 - 50)/50) + 1 = 4 slices [100,150) [150,200) [200,250) [250,300)
  CHECK(sizes(slice_by_time(ev, 50)) == std::vector<std::size_t>{3, 2, 1, 1});
  CHECK(sizes(slice_by_time(ev, 50, 0, true)) == std::vector<std::size_t>{3, 2, 1, 1});  // 300 is not < 300
  // overlap 25 us: stride 25, floor((200 - 50)/25) + 1 = 7
  CHECK(sizes(slice_by_time(ev, 50, 25)) == std::vector<std::size_t>{3, 1, 2, 2, 1, 1, 1});
  // fixed range [0, 400): 8 bins whatever the events
  const SliceIndices fixed = slice_by_time(ev, 50, 0, false, 0, 400);
  CHECK(sizes(fixed) == std::vector<std::size_t>{0, 0, 3, 2, 1, 1, 1, 0});
  // event count 3: floor((8 - 3)/3) + 1 = 2 slices; with the incomplete one, 3
  CHECK(sizes(slice_by_count(8, 3)) == std::vector<std::size_t>{3, 3});
  CHECK(sizes(slice_by_count(8, 3, 0, true)) == std::vector<std::size_t>{3, 3, 2});
  CHECK(sizes(slice_by_count(8, 3, 1)) == std::vector<std::size_t>{3, 3, 3});  // stride 2
  CHECK(sizes(slice_by_count(2, 100)) == std::vector<std::size_t>{2});         // clipped to the sample
  // 4 time bins of [100, 300]: 50 us each, the last one includes t = 300
  CHECK(sizes(slice_by_time_bins(ev, 4)) == std::vector<std::size_t>{3, 2, 1, 2});
  CHECK(sizes(slice_by_event_bins(8, 3)) == std::vector<std::size_t>{2, 2, 4});
  CHECK_THROWS_AS(ToFrame(ToFrameConfig{}), ConfigError);
  CHECK_THROWS_AS(ToFrame({.time_window = 5, .event_count = 5}), ConfigError);
  CHECK_THROWS_AS(slice_by_time(ev, 50, 50), ConfigError);
}

TEST_CASE("ToFrame::fixed_bins gives the papers' step counts on real recordings", "[data][to_frame][real]") {
  Rng rng(3);
  const auto nm = test::real_data("nmnist/NMNISTsmall/1.bs2", "N-MNIST sample 1");
  if (!nm.empty()) {
    const EventSample s = NmnistBin{}.read(nm);
    const Frames f = NMnist::standard_transform()(s, rng);
    CHECK(f.steps == 30);
    CHECK(f.features() == 2312);
    const auto in_range = std::count_if(s.events.begin(), s.events.end(), [](const Event& e) { return e.t < 300000; });
    CHECK(f.total() == double(in_range));
    // step t, channel c, pixel (y, x) counts the events with t in [10t ms, 10(t+1) ms)
    const Event& e = s.events[100];
    const Index t = Index(e.t / 10000);
    const auto same = std::count_if(s.events.begin(), s.events.end(), [&](const Event& o) {
      return o.x == e.x && o.y == e.y && o.p == e.p && o.t / 10000 == t;
    });
    CHECK(f(t, e.p, e.y, e.x) == float(same));
  }
  const auto dvs = test::real_data("mnist_dvs/mnist_0_scale04_0003.aedat", "MNIST-DVS recording 0003");
  if (!dvs.empty()) {
    const Frames f = MnistDvs::standard_transform()(Aedat2{}.read(dvs), rng);
    CHECK(f.steps == 80);
    CHECK(f.features() == 26 * 26 * 2);
    CHECK(f.sensor == SensorSize{26, 26, 2});
    CHECK(*std::max_element(f.values.begin(), f.values.end()) == 1.0f);
    CHECK(f.total() > 1000);
  }
}

TEST_CASE("Spatial transforms: Downsample, Crop, CenterCrop, Flip, Transpose, RandomShift", "[data][transforms]") {
  Rng rng(1);
  EventSample s = sample({{0, 33, 33, 1}, {1, 0, 1, 0}, {2, 17, 9, 1}}, {34, 34, 2});
  Downsample{0.5}(s, rng);
  CHECK(s.sensor == SensorSize{17, 17, 2});
  CHECK(s.events[0] == Event{0, 16, 16, 1});
  CHECK(s.events[2] == Event{2, 8, 4, 1});

  EventSample c = sample({{0, 48, 48, 1}, {1, 73, 73, 0}, {2, 47, 60, 0}, {3, 60, 74, 1}, {4, 50, 60, 1}}, {128, 128, 2});
  Crop{48, 48, 26, 26}(c, rng);
  CHECK(c.sensor == SensorSize{26, 26, 2});
  REQUIRE(c.events.size() == 3);
  CHECK(c.events[0] == Event{0, 0, 0, 1});
  CHECK(c.events[1] == Event{1, 25, 25, 0});
  CHECK(c.events[2] == Event{4, 2, 12, 1});

  EventSample cc = sample({{0, 0, 0, 0}, {1, 2, 1, 0}, {2, 5, 3, 1}}, {6, 4, 2});
  CenterCrop{2, 2}(cc, rng);  // offsets (2, 1)
  REQUIRE(cc.events.size() == 1);
  CHECK(cc.events[0] == Event{1, 0, 0, 0});
  EventSample pad = sample({{0, 1, 1, 0}}, {2, 2, 2});
  CenterCrop{4, 4}(pad, rng);  // offsets (-1, -1): padding
  CHECK(pad.events[0] == Event{0, 2, 2, 0});

  EventSample fl = sample({{0, 0, 1, 0}}, {4, 3, 2});
  Flip{true, true}(fl, rng);
  CHECK(fl.events[0] == Event{0, 3, 1, 0});
  Transpose{}(fl, rng);
  CHECK(fl.events[0] == Event{0, 1, 3, 0});
  CHECK(fl.sensor == SensorSize{3, 4, 2});

  std::vector<Event> grid;
  for (std::uint16_t x = 0; x < 10; ++x) grid.push_back({x, x, 5, 0});
  bool moved = false;
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    EventSample a = sample(grid, {10, 10, 2}), b = a;
    Rng r1(seed), r2(seed);
    RandomShift{2, 0}(a, r1);
    RandomShift{2, 0}(b, r2);
    CHECK(a.events == b.events);  // seeded
    check_events_in_sensor(a, "shift");
    const int dx = int(a.events.front().x) - int(a.events.front().t);
    CHECK(std::abs(dx) <= 2);
    CHECK(a.events.size() == std::size_t(10 - std::abs(dx)));
    for (const Event& e : a.events) CHECK((int(e.x) - int(e.t) == dx && e.y == 5));
    moved |= dx != 0;
  }
  CHECK(moved);
}

TEST_CASE("Temporal transforms: TimeJitter is seeded, CropTime, TimeShift, slice_sample", "[data][transforms]") {
  std::vector<Event> ev;
  for (std::int64_t t = 0; t < 1000; t += 10) ev.push_back({t, 1, 1, 1});
  EventSample a = sample(ev), b = sample(ev), c = sample(ev);
  Rng r1(7), r2(7), r3(8);
  TimeJitter{50.0}(a, r1);
  TimeJitter{50.0}(b, r2);
  TimeJitter{50.0}(c, r3);
  CHECK(times(a) == times(b));
  CHECK(times(a) != times(c));
  CHECK(is_time_ordered(a.events));
  CHECK(a.events.size() < ev.size());  // early events pushed below 0 are dropped
  double sq = 0;
  for (const Event& e : b.events) sq += double(e.t);
  CHECK(sq / double(b.events.size()) == Approx(500).margin(60));

  EventSample d = sample(ev);
  Rng rng(1);
  CropTime{100, 200}(d, rng);
  CHECK(times(d).front() == 100);
  CHECK(times(d).back() == 190);
  TimeShift{}(d, rng);
  CHECK(times(d).front() == 0);

  const auto parts = slice_sample(sample(ev), 250);
  REQUIRE(parts.size() == 3);  // floor((990 - 250)/250) + 1
  CHECK(parts[1].events.size() == 25);
  CHECK(parts[1].events.front().t == 0);
  CHECK(parts[1].label == 1);
}

TEST_CASE("Denoise keeps events with a recent 4-neighbour and MergePolarities merges channels", "[data][transforms]") {
  Rng rng(1);
  EventSample s = sample({{0, 5, 5, 1}, {100, 6, 5, 0}, {20000, 6, 5, 0}, {20050, 0, 0, 1}, {30000, 6, 6, 1}}, {10, 10, 2});
  Denoise{1000}(s, rng);
  // (6,5)@100 has (5,5)@0 within 1 ms; (6,6)@30000 has no recent neighbour ((6,5) was 10 ms ago)
  REQUIRE(s.events.size() == 1);
  CHECK(s.events[0] == Event{100, 6, 5, 0});
  EventSample m = sample({{0, 1, 1, 1}, {1, 1, 1, 0}}, {4, 3, 2});
  MergePolarities{}(m, rng);
  CHECK(m.sensor.polarities == 1);
  const Frames f = ToFrame({.event_count = 2})(m, rng);
  CHECK(f.features() == 12);
  CHECK(f(0, 0, 1, 1) == 2.0f);
}

TEST_CASE("Compose applies its stages in order and its result type is decided at compile time", "[data][compose]") {
  using InPlace = Compose<Crop, MergePolarities>;
  using ToFrames = Compose<Downsample, TimeJitter, ToFrame>;
  static_assert(EventTransform<InPlace>);
  static_assert(!EventTransform<ToFrames>);
  static_assert(FrameTransform<ToFrames>);
  static_assert(FrameTransform<ToFrame>);
  static_assert(FrameTransform<Compose<InPlace, ToFrame>>);  // nested
  static_assert(std::is_same_v<transform_result_t<InPlace, EventSample>, EventSample>);
  static_assert(std::is_same_v<transform_result_t<ToFrames, EventSample>, Frames>);
  static_assert(!FrameTransform<InPlace>);

  Rng rng(1);
  // the stages run in order: Crop then Downsample differs from Downsample then Crop
  const EventSample s = sample({{0, 6, 6, 1}, {1, 2, 2, 0}}, {8, 8, 2});
  const Frames a = Compose{Crop{0, 0, 4, 4}, Downsample{0.5}, ToFrame({.event_count = 10})}(s, rng);
  CHECK(a.sensor == SensorSize{2, 2, 2});
  CHECK(a.total() == 1.0);
  CHECK(a(0, 0, 1, 1) == 1.0f);
  const Frames b = Compose{Downsample{0.5}, Crop{0, 0, 4, 4}, ToFrame({.event_count = 10})}(s, rng);
  CHECK(b.sensor == SensorSize{4, 4, 2});
  CHECK(b.total() == 2.0);
  CHECK(b(0, 1, 3, 3) == 1.0f);
  CHECK(b(0, 0, 1, 1) == 1.0f);
  EventSample t = s;
  InPlace(Crop{0, 0, 4, 4}, MergePolarities{})(t, rng);
  REQUIRE(t.events.size() == 1);
  CHECK(t.events[0] == Event{1, 2, 2, 0});
  CHECK(t.sensor == SensorSize{4, 4, 1});
}
