// plot/frames.hpp: one pixel per sensor pixel with events, coloured by its ON and OFF counts;
// the image of ToFrame's frames summed over time is the image of the events.
#include <spikelab/spikelab.hpp>

#include "support/test_support.hpp"
#include "support/xml_check.hpp"

#include <set>

using namespace spikelab;
namespace xml = spikelab::test::xml;

namespace {
EventSample known_sample() {
  EventSample s;
  s.sensor = {5, 4, 2};
  // pixel (1, 0): 2 ON and 1 OFF; pixel (2, 3): 1 OFF
  s.events = {{10, 1, 0, 1}, {20, 2, 3, 0}, {30, 1, 0, 0}, {40, 1, 0, 1}};
  return s;
}
std::vector<std::string> fills(const xml::Element& root) {
  std::vector<std::string> r;
  for (const auto* g : xml::groups(root, "pixels"))
    for (const auto& c : g->children) r.push_back(c.attr("x") + "," + c.attr("y") + "," + c.attr("fill"));
  return r;
}
}  // namespace

TEST_CASE("event_frame: a pixel per active sensor pixel, red for ON, blue for OFF", "[plot]") {
  const auto root = xml::parse(plot::event_frame(known_sample(), {.pixel = 10}).str());
  const auto f = fills(root);
  REQUIRE(f.size() == 2);
  // the largest count is 2: pixel (1, 0) has f_on = 1, f_off = 0.5 -> (0.5, 0, 0); pixel (2, 3)
  // has f_off = 0.5 -> (0.5, 0.5, 1)
  CHECK(f[0].substr(f[0].rfind(',') + 1) == "#800000");
  CHECK(f[1].substr(f[1].rfind(',') + 1) == "#8080ff");

  EventSample bad = known_sample();
  bad.events.push_back({50, 5, 0, 0});
  CHECK_THROWS_WITH(plot::event_frame(bad), Catch::Contains("outside the 5x4x2 sensor"));
}

TEST_CASE("frame_image of ToFrame's frames draws the same pixels as event_frame", "[plot]") {
  const EventSample s = known_sample();
  Rng rng(1);
  const Frames fr = ToFrame::fixed_bins(15, 3)(s, rng);  // bins [0,15), [15,30), [30,45): every event
  TimeSeries<float> ts(fr.features(), 1, fr.steps);
  for (Index t = 0; t < fr.steps; ++t)
    for (Index k = 0; k < fr.features(); ++k) ts(k, 0, t) = fr.step(t)[k];
  const auto a = fills(xml::parse(plot::event_frame(s, {.pixel = 8}).str()));
  const auto b = fills(xml::parse(plot::frame_image(ts, s.sensor, 0, {.pixel = 8}).str()));
  CHECK(a == b);
  CHECK_THROWS_AS(plot::frame_image(ts, SensorSize{4, 4, 2}), ShapeError);
  CHECK_THROWS_AS(plot::frame_image(ts, s.sensor, 1), ShapeError);
}

TEST_CASE("event_frame of a real N-MNIST recording is a well-formed image", "[plot][real-data]") {
  const auto file = test::real_data("nmnist/tonic_sample/sample_nmnist.bin", "N-MNIST sample");
  if (file.empty()) return;
  const EventSample s = NmnistBin{}.read(file);
  REQUIRE(s.sensor == NMnist::sensor);
  std::set<std::pair<int, int>> pixels;
  for (const Event& e : s.events) pixels.insert({e.x, e.y});
  const auto root = xml::parse(plot::event_frame(s).str());
  CHECK(xml::count_marks(root, "pixels", "rect") == pixels.size());
}
