// Event transforms: ToFrame slicing rules (hand-computed, tonic's semantics), the frame layout
// feature = (c*H + y)*W + x, spatial/temporal transforms, tonic's augmentations (exact outputs
// where deterministic, seeded statistics where random), the representations ToImage, ToVoxelGrid,
// ToTimesurface and ToBinaRep (hand-computed), and Compose.
#include <spikelab/data/datasets/mnist_dvs.hpp>
#include <spikelab/data/datasets/nmnist.hpp>
#include <spikelab/data/transforms/compose.hpp>
#include <spikelab/data/transforms/denoise.hpp>
#include <spikelab/data/transforms/drop.hpp>
#include <spikelab/data/transforms/noise.hpp>
#include <spikelab/data/transforms/polarity.hpp>
#include <spikelab/data/transforms/representations.hpp>
#include <spikelab/data/transforms/spatial.hpp>
#include <spikelab/data/transforms/temporal.hpp>
#include <spikelab/data/transforms/to_frame.hpp>

#include "support/data_support.hpp"

#include <cmath>
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
// In how many of 2000 fresh copies of `ev` a one-draw-per-sample transform fired, judged by
// `fired(first event after the transform)`.
template <class T, class Fired>
int times_fired(const T& transform, const std::vector<Event>& ev, Rng& rng, Fired fired) {
  int n = 0;
  for (int k = 0; k < 2000; ++k) {
    EventSample s = sample(ev);
    transform(s, rng);
    n += fired(s.events.front()) ? 1 : 0;
  }
  return n;
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

TEST_CASE("DropEvent drops round(p N) events, a uniform subset, in order", "[data][transforms][drop]") {
  std::vector<Event> ev;
  for (std::int64_t t = 0; t < 1000; ++t) ev.push_back({t, 1, 1, 1});
  EventSample a = sample(ev), b = sample(ev);
  Rng r1(3), r2(3);
  DropEvent{0.3}(a, r1);
  DropEvent{0.3}(b, r2);
  CHECK(a.events.size() == 700);  // exactly floor(0.3 * 1000 + 0.5) dropped
  CHECK(a.events == b.events);    // seeded
  CHECK(is_time_ordered(a.events));
  // each of 10 events is kept with frequency 1 - p = 0.7 (sd 20 in 2000 draws), first and last alike
  std::vector<int> kept(10, 0);
  Rng rng(11);
  for (int k = 0; k < 2000; ++k) {
    EventSample s = sample({ev.begin(), ev.begin() + 10});
    DropEvent{0.3}(s, rng);
    REQUIRE(s.events.size() == 7);
    for (const Event& e : s.events) ++kept[std::size_t(e.t)];
  }
  for (int c : kept) CHECK(std::abs(c - 1400) < 100);
  EventSample two = sample({ev.begin(), ev.begin() + 2});
  DropEvent{0.25}(two, rng);  // floor(0.25 * 2 + 0.5) = 1
  CHECK(two.events.size() == 1);
  EventSample none = sample(ev), all = sample(ev);
  DropEvent{0.0}(none, rng);
  DropEvent{1.0}(all, rng);
  CHECK(none.events == ev);
  CHECK(all.events.empty());
  for (double p : {-0.1, 1.5, std::nan("")}) CHECK_THROWS_AS(DropEvent{p}(none, rng), ConfigError);
  CHECK_THROWS_WITH(DropEvent{2.0}(none, rng), Catch::Contains("DropEvent") && Catch::Contains("p"));
}

TEST_CASE("DropEventByTime drops a closed interval of r max(t) starting in [0, (1 - r) max(t))",
          "[data][transforms][drop]") {
  std::vector<Event> ev;
  for (std::int64_t t = 0; t < 1000; ++t) ev.push_back({t, 1, 1, 1});
  double first_dropped = 0;
  Rng rng(5);
  for (int k = 0; k < 400; ++k) {
    EventSample s = sample(ev);
    DropEventByTime{0.2}(s, rng);
    // d = 0.2 * 999 = 199.8: a closed interval of that length holds 199 or 200 whole times
    const std::size_t dropped = ev.size() - s.events.size();
    REQUIRE((dropped == 199 || dropped == 200));
    std::int64_t gap = 0;  // the dropped times form one run
    for (std::size_t i = 1; i < s.events.size(); ++i)
      if (s.events[i].t != s.events[i - 1].t + 1) {
        ++gap;
        first_dropped += double(s.events[i - 1].t + 1);
      }
    if (gap == 0) first_dropped += s.events.front().t == 0 ? double(s.events.back().t + 1) : 0.0;
    CHECK(gap <= 1);
  }
  // the interval starts uniformly in [0, 799.2): mean 399.6, sd of the mean 231 / 20 = 11.5
  CHECK(first_dropped / 400 == Approx(399.6).margin(50));
  EventSample e = sample({});
  DropEventByTime{}(e, rng);
  CHECK(e.events.empty());
  for (double r : {-0.1, 1.0})
    CHECK_THROWS_WITH(DropEventByTime{r}(e, rng), Catch::Contains("DropEventByTime: duration_ratio"));
}

TEST_CASE("DropEventByArea drops a floor(r W) x floor(r H) box that lies on the sensor", "[data][transforms][drop]") {
  std::vector<Event> grid;
  for (std::uint16_t y = 0; y < 10; ++y)
    for (std::uint16_t x = 0; x < 10; ++x) grid.push_back({std::int64_t(y * 10 + x), x, y, 0});
  std::vector<int> corner_x(10, 0);
  Rng rng(2);
  for (int k = 0; k < 700; ++k) {
    EventSample s = sample(grid, {10, 10, 2});
    DropEventByArea{0.35}(s, rng);  // 3 x 3 pixels
    REQUIRE(s.events.size() == 91);
    int x0 = 10, x1 = -1, y0 = 10, y1 = -1;
    std::size_t j = 0;
    for (const Event& g : grid) {
      if (j < s.events.size() && s.events[j] == g) {
        ++j;
        continue;
      }
      x0 = std::min<int>(x0, g.x), x1 = std::max<int>(x1, g.x), y0 = std::min<int>(y0, g.y),
      y1 = std::max<int>(y1, g.y);
    }
    CHECK((x1 - x0 == 2 && y1 - y0 == 2));
    ++corner_x[std::size_t(x0)];
  }
  // the corner is uniform in [0, 10 - 3) = {0, ..., 6}: 100 each (sd 9)
  for (std::size_t x = 0; x < 10; ++x) CHECK((x < 7 ? std::abs(corner_x[x] - 100) < 45 : corner_x[x] == 0));
  EventSample s = sample(grid, {10, 10, 2});
  DropEventByArea{0.05}(s, rng);  // floor(0.5) = 0: an empty box
  CHECK(s.events == grid);
  CHECK_THROWS_WITH(DropEventByArea{1.0}(s, rng), Catch::Contains("DropEventByArea: area_ratio"));
  CHECK_THROWS_AS(DropEventByArea{-0.5}(s, rng), ConfigError);
  EventSample nosensor = sample(grid, {0, 0, 2});
  CHECK_THROWS_AS(DropEventByArea{}(nosensor, rng), ShapeError);
}

TEST_CASE("DropPixel drops listed pixels or hot pixels; RefractoryPeriod and Decimation per pixel",
          "[data][transforms]") {
  Rng rng(1);
  const std::vector<Event> ev{{0, 1, 1, 0}, {1, 3, 0, 1}, {2, 0, 0, 1}, {3, 1, 1, 1}, {4, 2, 1, 0}};
  EventSample s = sample(ev);
  DropPixel{{{1, 1}, {3, 0}, {9, 9}}}(s, rng);
  CHECK(s.events == std::vector<Event>{{2, 0, 0, 1}, {4, 2, 1, 0}});
  // over 1 s, pixel (0,0) fires 5 times and (1,0) twice: at 3 Hz only (0,0) is hot (5 > 3)
  std::vector<Event> hot;
  for (std::int64_t k = 0; k < 5; ++k) hot.push_back({k * 250000, 0, 0, 1});
  hot.insert(hot.begin() + 1, Event{300000, 1, 0, 0});
  hot.insert(hot.begin() + 3, Event{600000, 1, 0, 1});
  EventSample h = sample(hot);
  DropPixel{.coordinates = {{1, 0}}, .hot_pixel_frequency = 3}(h, rng);  // the list is ignored
  CHECK(h.events == std::vector<Event>{{300000, 1, 0, 0}, {600000, 1, 0, 1}});
  EventSample h2 = sample(hot);
  DropPixel{.coordinates = {}, .hot_pixel_frequency = 5}(h2, rng);  // 5 > 5 is false: nothing is hot
  CHECK(h2.events == hot);
  CHECK_THROWS_WITH((DropPixel{{{-1, 2}}}(h2, rng)), Catch::Contains("DropPixel: coordinate (-1, 2)"));
  CHECK_THROWS_WITH((DropPixel{.coordinates = {}, .hot_pixel_frequency = -1}(h2, rng)),
                    Catch::Contains("DropPixel: hot_pixel_frequency"));

  // RefractoryPeriod{10}: pixel (0,0) at 0 (0 - (-10) = 10, not > 10), 5 (5 - 0), 16 (16 - 5 = 11, kept),
  // 20 (4); pixel (1,0) at 3 (3 + 10 > 10, kept)
  EventSample r = sample({{0, 0, 0, 1}, {3, 1, 0, 0}, {5, 0, 0, 0}, {16, 0, 0, 1}, {20, 0, 0, 1}});
  RefractoryPeriod{10}(r, rng);
  CHECK(r.events == std::vector<Event>{{3, 1, 0, 0}, {16, 0, 0, 1}});
  EventSample r0 = sample({{0, 0, 0, 1}, {4, 0, 0, 1}, {4, 0, 0, 0}, {4, 1, 0, 0}});
  RefractoryPeriod{0}(r0, rng);  // a pixel's first event at t = 0 and repeats at one time are dropped
  CHECK(r0.events == std::vector<Event>{{4, 0, 0, 1}, {4, 1, 0, 0}});
  CHECK_THROWS_WITH(RefractoryPeriod{-1}(r0, rng), Catch::Contains("RefractoryPeriod: delta"));

  // Decimation{2}: the 2nd and 4th events of (0,0); (2,1) fires once
  EventSample d = sample({{0, 0, 0, 1}, {1, 0, 0, 0}, {2, 2, 1, 1}, {3, 0, 0, 1}, {4, 0, 0, 0}, {5, 0, 0, 1}});
  EventSample d1 = d;
  Decimation{2}(d, rng);
  CHECK(d.events == std::vector<Event>{{1, 0, 0, 0}, {4, 0, 0, 0}});
  Decimation{1}(d1, rng);
  CHECK(d1.events.size() == 6);
  CHECK_THROWS_WITH(Decimation{0}(d1, rng), Catch::Contains("Decimation: n"));
}

TEST_CASE("RandomFlipLR / RandomFlipUD flip with probability p; SpatialJitter's shifts have the covariance",
          "[data][transforms]") {
  Rng rng(4);
  const std::vector<Event> ev{{0, 0, 1, 0}, {1, 3, 2, 1}};
  EventSample lr = sample(ev), ud = sample(ev), keep = sample(ev);
  RandomFlipLR{1.0}(lr, rng);
  RandomFlipUD{1.0}(ud, rng);
  CHECK(lr.events == std::vector<Event>{{0, 3, 1, 0}, {1, 0, 2, 1}});
  CHECK(ud.events == std::vector<Event>{{0, 0, 1, 0}, {1, 3, 0, 1}});
  RandomFlipLR{0.0}(keep, rng);
  RandomFlipUD{0.0}(keep, rng);
  CHECK(keep.events == ev);
  const int flipped = times_fired(RandomFlipLR{0.3}, ev, rng, [](const Event& e) { return e.x == 3; });
  CHECK(std::abs(flipped - 600) < 100);  // sd 20
  CHECK_THROWS_WITH(RandomFlipLR{1.1}(keep, rng), Catch::Contains("RandomFlipLR: p"));
  CHECK_THROWS_WITH(RandomFlipUD{-0.1}(keep, rng), Catch::Contains("RandomFlipUD: p"));

  EventSample still = sample(ev);
  SpatialJitter{.var_x = 0, .var_y = 0}(still, rng);
  CHECK(still.events == ev);
  // x' - 500 = floor(dx): mean about -1/2, variance about var_x + 1/12, covariance about sigma_xy
  const std::size_t n = 20000;
  EventSample big = sample(std::vector<Event>(n, Event{0, 500, 500, 0}), {1000, 1000, 2});
  SpatialJitter{.var_x = 4, .var_y = 9, .sigma_xy = 3}(big, rng);
  REQUIRE(big.events.size() == n);
  double mx = 0, my = 0, vx = 0, vy = 0, cxy = 0;
  for (const Event& e : big.events) mx += (e.x - 500.0) / n, my += (e.y - 500.0) / n;
  for (const Event& e : big.events) {
    const double dx = e.x - 500.0 - mx, dy = e.y - 500.0 - my;
    vx += dx * dx / n, vy += dy * dy / n, cxy += dx * dy / n;
  }
  CHECK(mx == Approx(-0.5).margin(0.08));
  CHECK(my == Approx(-0.5).margin(0.1));
  CHECK(vx == Approx(4.083).margin(0.3));
  CHECK(vy == Approx(9.083).margin(0.6));
  CHECK(cxy == Approx(3.0).margin(0.3));
  // outliers: dropped with clip_outliers, else on the edge pixels
  EventSample corner = sample(std::vector<Event>(500, Event{0, 0, 0, 0}), {3, 3, 2}), clamped = corner;
  SpatialJitter{.var_x = 100, .var_y = 100, .clip_outliers = true}(corner, rng);
  SpatialJitter{.var_x = 100, .var_y = 100}(clamped, rng);
  CHECK(corner.events.size() < 200);  // about 1/4 * 3/40 * 3/40 ... stay; most leave the 3 x 3 sensor
  CHECK(clamped.events.size() == 500);
  check_events_in_sensor(corner, "SpatialJitter");
  check_events_in_sensor(clamped, "SpatialJitter");
  CHECK_THROWS_WITH((SpatialJitter{.var_x = -1}(still, rng)), Catch::Contains("SpatialJitter: var_x"));
  CHECK_THROWS_WITH((SpatialJitter{.var_x = 1, .var_y = 1, .sigma_xy = 2}(still, rng)),
                    Catch::Contains("SpatialJitter: sigma_xy"));
  EventSample nosensor = sample(ev, {0, 0, 2});
  CHECK_THROWS_AS(SpatialJitter{}(nosensor, rng), ShapeError);
}

TEST_CASE("RandomTimeReversal mirrors times and order and swaps polarities; TimeSkew truncates c t + b",
          "[data][transforms]") {
  Rng rng(6);
  const std::vector<Event> ev{{2, 0, 1, 1}, {5, 1, 1, 0}, {9, 2, 0, 1}};
  EventSample r = sample(ev), rk = sample(ev), same = sample(ev);
  RandomTimeReversal{1.0}(r, rng);
  CHECK(r.events == std::vector<Event>{{0, 2, 0, 0}, {4, 1, 1, 1}, {7, 0, 1, 0}});
  RandomTimeReversal{.p = 1.0, .flip_polarities = false}(rk, rng);
  CHECK(rk.events == std::vector<Event>{{0, 2, 0, 1}, {4, 1, 1, 0}, {7, 0, 1, 1}});
  RandomTimeReversal{0.0}(same, rng);
  CHECK(same.events == ev);
  const int reversed = times_fired(RandomTimeReversal{0.3}, ev, rng, [](const Event& e) { return e.t == 0; });
  CHECK(std::abs(reversed - 600) < 100);
  EventSample merged = sample(ev, {4, 3, 1});
  CHECK_THROWS_WITH(RandomTimeReversal{}(merged, rng), Catch::Contains("RandomTimeReversal: flip_polarities"));
  RandomTimeReversal{.p = 1.0, .flip_polarities = false}(merged, rng);
  CHECK(times(merged) == std::vector<std::int64_t>{0, 4, 7});
  CHECK_THROWS_WITH(RandomTimeReversal{1.5}(same, rng), Catch::Contains("RandomTimeReversal: p"));

  EventSample k = sample({{0, 0, 0, 0}, {3, 0, 0, 0}, {10, 0, 0, 0}});
  TimeSkew{1.5, 100}(k, rng);
  CHECK(times(k) == std::vector<std::int64_t>{100, 104, 115});  // 104.5 -> 104
  EventSample neg = sample({{1, 0, 0, 0}, {3, 0, 0, 0}});
  TimeSkew{1.0, -2.5}(neg, rng);
  CHECK(times(neg) == std::vector<std::int64_t>{-1, 0});  // trunc(-1.5) = -1, trunc(0.5) = 0
  CHECK_THROWS_WITH(TimeSkew{0.0}(neg, rng), Catch::Contains("TimeSkew: coefficient"));
  CHECK_THROWS_WITH((TimeSkew{1.0, std::nan("")}(neg, rng)), Catch::Contains("TimeSkew: offset"));
  EventSample far = sample({{std::int64_t(1) << 61, 0, 0, 0}});
  CHECK_THROWS_WITH(TimeSkew{4.0}(far, rng), Catch::Contains("TimeSkew: the time"));
}

TEST_CASE("UniformNoise adds n events uniform over the sensor and the time span, sorted", "[data][transforms]") {
  Rng rng(9);
  EventSample s = sample({{100, 0, 0, 0}, {200, 3, 2, 1}}, {4, 3, 2});
  UniformNoise{6000}(s, rng);
  REQUIRE(s.events.size() == 6002);
  CHECK(is_time_ordered(s.events));
  CHECK(s.events.front() == Event{100, 0, 0, 0});  // stable: the sample's event first at t = 100
  CHECK(s.events.back() == Event{200, 3, 2, 1});   // noise times lie in [100, 200)
  check_events_in_sensor(s, "UniformNoise");
  std::vector<int> xs(4, 0), ys(3, 0), ps(2, 0);
  double mt = 0;
  for (const Event& e : s.events) ++xs[e.x], ++ys[e.y], ++ps[e.p], mt += double(e.t) / 6002;
  for (int c : xs) CHECK(std::abs(c - 1500) < 150);  // sd 34
  for (int c : ys) CHECK(std::abs(c - 2000) < 160);  // sd 37
  for (int c : ps) CHECK(std::abs(c - 3000) < 200);  // sd 39
  CHECK(mt == Approx(149.5).margin(2.5));            // sd 0.4
  EventSample e = sample({});
  UniformNoise{10}(e, rng);
  CHECK(e.events.empty());  // as tonic: no noise without events
  EventSample one = sample({{7, 0, 0, 0}});
  UniformNoise{3}(one, rng);
  CHECK(times(one) == std::vector<std::int64_t>{7, 7, 7, 7});
  CHECK_THROWS_WITH(UniformNoise{-1}(one, rng), Catch::Contains("UniformNoise: n"));
  EventSample nosensor = sample({{7, 0, 0, 0}}, {0, 0, 2});
  CHECK_THROWS_AS(UniformNoise{1}(nosensor, rng), ShapeError);
}

TEST_CASE("The tonic augmentations compose in one seeded pipeline", "[data][transforms][compose]") {
  std::vector<Event> ev;
  for (std::int64_t t = 0; t < 2000; ++t)
    ev.push_back({t, std::uint16_t(t % 16), std::uint16_t(t / 16 % 16), std::uint8_t(t % 2)});
  const auto pipeline = Compose{DropEvent{0.1},   DropEventByTime{0.1}, DropEventByArea{0.2}, RandomFlipLR{},
                                RandomFlipUD{},   SpatialJitter{},      RandomTimeReversal{}, TimeSkew{1.1, 5},
                                UniformNoise{50}, RefractoryPeriod{2},  Decimation{1},        DropPixel{{{0, 0}}}};
  static_assert(EventTransform<decltype(pipeline)>);
  EventSample a = sample(ev, {16, 16, 2}), b = a, c = a;
  Rng r1(21), r2(21), r3(22);
  pipeline(a, r1);
  pipeline(b, r2);
  pipeline(c, r3);
  CHECK(a.events == b.events);
  CHECK(a.events != c.events);
  CHECK(is_time_ordered(a.events));
  check_events_in_sensor(a, "pipeline");
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

TEST_CASE("ToImage counts every event of a sample into one frame", "[data][representations]") {
  static_assert(FrameTransform<ToImage>);
  Rng rng(1);
  const EventSample s = sample({{0, 3, 2, 1}, {5, 0, 0, 0}, {5, 0, 0, 0}, {12, 1, 2, 0}, {19, 2, 1, 1}});
  const Frames f = ToImage{}(s, rng);
  REQUIRE(f.steps == 1);
  CHECK(f.sensor == SensorSize{4, 3, 2});
  CHECK(f.label == 1);
  CHECK(f(0, 0, 0, 0) == 2.0f);
  CHECK(f(0, 1, 2, 3) == 1.0f);
  CHECK(f(0, 0, 2, 1) == 1.0f);
  CHECK(f(0, 1, 1, 2) == 1.0f);
  CHECK(f.total() == 5.0);
  CHECK(f.values == ToFrame({.event_count = 5})(s, rng).values);  // tonic: ToFrame(event_count=len)
  const Frames empty = ToImage{}(sample({}), rng);
  CHECK(empty.steps == 1);
  CHECK(empty.values == std::vector<float>(24, 0.0f));
  CHECK_THROWS_AS(ToImage{}(sample({{0, 4, 0, 0}}), rng), ShapeError);  // x = W
}

TEST_CASE("ToVoxelGrid shares signed events between the two nearest of B normalised time bins",
          "[data][representations]") {
  static_assert(FrameTransform<ToVoxelGrid>);
  Rng rng(1);
  const SensorSize two{2, 1, 2};  // F = 2 per bin, feature = x
  // t0 = 100, span 64, B = 4: t* = (t - 100)/16
  const EventSample s = sample({{100, 0, 0, 1},    // t* = 0:    +1 to bin 0 at x0
                                {108, 0, 0, 0},    // t* = 0.5:  -0.5 to bins 0 and 1 at x0
                                {124, 1, 0, 0},    // t* = 1.5:  -0.5 to bins 1 and 2 at x1
                                {140, 0, 0, 1},    // t* = 2.5:  +0.5 to bins 2 and 3 at x0
                                {160, 1, 0, 1},    // t* = 3.75: +0.25 to bin 3 at x1, +0.75 to bin 4: dropped
                                {164, 1, 0, 1}},   // t* = 4:    both shares fall at bin 4: dropped (as tonic)
                               two, 2);
  const Frames f = ToVoxelGrid{4}(s, rng);
  REQUIRE(f.steps == 4);
  CHECK(f.sensor == SensorSize{2, 1, 1});
  CHECK(f.label == 2);
  CHECK(f.values == std::vector<float>{0.5f, 0.0f, -0.5f, -0.5f, 0.5f, -0.5f, 0.5f, 0.25f});
  // one event, or all at one time: the span counts as 1, so every event goes whole to bin 0
  CHECK(ToVoxelGrid{3}(sample({{7, 1, 0, 0}}, two), rng).values == std::vector<float>{0, -1, 0, 0, 0, 0});
  CHECK(ToVoxelGrid{2}(sample({{5, 0, 0, 1}, {5, 1, 0, 1}}, two), rng).values == std::vector<float>{1, 1, 0, 0});
  const Frames empty = ToVoxelGrid{3}(sample({}, two), rng);
  CHECK(empty.steps == 3);
  CHECK(empty.values == std::vector<float>(6, 0.0f));
  CHECK_THROWS_WITH(ToVoxelGrid{0}(s, rng), Catch::Contains("ToVoxelGrid: n_time_bins"));
  CHECK_THROWS_AS(ToVoxelGrid{}(s, rng), ConfigError);
  CHECK_THROWS_AS(ToVoxelGrid{2}(sample({{0, 0, 0, 0}}, {2, 1, 1}), rng), ShapeError);  // tonic needs 2 polarities
  CHECK_THROWS_AS(ToVoxelGrid{2}(sample({{0, 2, 0, 0}}, two), rng), ShapeError);
}

TEST_CASE("ToTimesurface decays each pixel's latest event time to the end of every dt slice",
          "[data][representations]") {
  static_assert(FrameTransform<ToTimesurface>);
  Rng rng(1);
  const SensorSize two{2, 1, 2};  // feature = 2c + x
  // t0 = 100, dt = 10: floor((131 - 100 - 10)/10) + 1 = 3 slices [100,110) [110,120) [120,130),
  // sampled at 110, 120, 130; the event at 131 lies in no whole slice
  const EventSample s = sample({{100, 0, 0, 0},
                                {105, 1, 0, 1},
                                {110, 0, 0, 0},  // on the boundary: slice 1, not 0
                                {114, 0, 0, 0},  // the latest event of a pixel wins
                                {125, 1, 0, 0},
                                {131, 0, 0, 1}},
                               two, 0);
  const Frames f = ToTimesurface{10, 5.0}(s, rng);
  const auto e = [](double age) { return float(std::exp(-age / 5.0)); };
  REQUIRE(f.steps == 3);
  CHECK(f.sensor == two);
  CHECK(f.label == 0);
  // (c0 x0, c0 x1, c1 x0, c1 x1) per slice
  CHECK(f.values == std::vector<float>{e(10), 0, 0, e(5),           // 110 - 100, 110 - 105
                                       e(6), 0, 0, e(15),           // 120 - 114, 120 - 105
                                       e(16), e(5), 0, e(25)});     // 130 - 114, 130 - 125, 130 - 105
  const Frames one = ToTimesurface{10, 5.0}(sample({{50, 1, 0, 1}}, two), rng);
  CHECK(one.values == std::vector<float>{0, 0, 0, e(10)});
  const Frames empty = ToTimesurface{10, 5.0}(sample({}, two), rng);
  CHECK(empty.steps == 1);
  CHECK(empty.values == std::vector<float>(4, 0.0f));
  CHECK_THROWS_WITH((ToTimesurface{0, 5.0}(s, rng)), Catch::Contains("ToTimesurface: dt"));
  CHECK_THROWS_WITH((ToTimesurface{10, 0.0}(s, rng)), Catch::Contains("ToTimesurface: tau"));
  CHECK_THROWS_WITH((ToTimesurface{10, std::nan("")}(s, rng)), Catch::Contains("ToTimesurface: tau"));
  const EventSample long_sample = sample({{0, 0, 0, 0}, {std::int64_t(1) << 40, 0, 0, 0}}, two);
  CHECK_THROWS_AS((ToTimesurface{1, 1.0}(long_sample, rng)), ConfigError);  // 2^40 surfaces
  CHECK_THROWS_AS((ToTimesurface{10, 5.0}(sample({{0, 0, 0, 2}}, two), rng)), ShapeError);
}

TEST_CASE("ToBinaRep reads each group of n_bits binarised frames as one number, first frame highest",
          "[data][representations]") {
  static_assert(InPlaceTransform<ToBinaRep, Frames>);
  static_assert(!EventTransform<ToBinaRep>);
  static_assert(FrameTransform<Compose<ToFrame, ToBinaRep>>);
  Rng rng(1);
  Frames f;
  f.reset(4, {2, 1, 1});
  f.label = 3;
  f.values = {0, 3, 1, 0, 2, 2, 0, -1};  // steps (x0, x1); a value <= 0 is bit 0
  ToBinaRep{2, 2}(f, rng);
  REQUIRE(f.steps == 2);
  CHECK(f.label == 3);
  // frame 0: x0 = 01b, x1 = 10b; frame 1: x0 = 10b, x1 = 10b; over 2^2 - 1
  CHECK(f.values == std::vector<float>{float(1.0 / 3), float(2.0 / 3), float(2.0 / 3), float(2.0 / 3)});
  Frames g;
  g.reset(3, {2, 1, 1});
  g.values = {1, 0, 0, 4, 7, 1};
  ToBinaRep{1, 3}(g, rng);
  CHECK(g.values == std::vector<float>{float(5.0 / 7), float(3.0 / 7)});  // 101b, 011b
  // tonic's pipeline: ToFrame(n_time_bins = n_frames * n_bits), then ToBinaRep; bins of 10 us,
  // the last one closed so that t = 40 is in it (tonic's ToFrame drops it: docs/transforms.md)
  const EventSample s = sample({{0, 0, 0, 0}, {10, 1, 0, 0}, {25, 0, 0, 0}, {40, 1, 0, 0}}, {2, 1, 1});
  const Frames b = Compose{ToFrame({.n_time_bins = 4}), ToBinaRep{2, 2}}(s, rng);
  CHECK(b.steps == 2);
  CHECK(b.values == std::vector<float>{float(2.0 / 3), float(1.0 / 3), float(2.0 / 3), float(1.0 / 3)});
  Frames h;
  h.reset(3, {2, 1, 1});
  CHECK_THROWS_AS((ToBinaRep{2, 2}(h, rng)), ShapeError);
  CHECK_THROWS_WITH((ToBinaRep{1, 1}(h, rng)), Catch::Contains("ToBinaRep: n_bits"));
  CHECK_THROWS_WITH((ToBinaRep{0, 3}(h, rng)), Catch::Contains("ToBinaRep: n_frames"));
  Frames eight;
  eight.reset(8, {1, 1, 1});
  eight.values = {1, 0, 0, 0, 0, 0, 0, 1};
  ToBinaRep{}(eight, rng);  // tonic's defaults: 1 frame of 8 bits
  CHECK(eight.values == std::vector<float>{float(129.0 / 255)});
}
