// plot/line_plot.hpp: one series group per series, one marker per finite point, error bars,
// and named errors for series of mismatched lengths.
#include <spikelab/plot/line_plot.hpp>

#include "support/test_support.hpp"
#include "support/xml_check.hpp"

#include <limits>

using namespace spikelab;
namespace xml = spikelab::test::xml;

TEST_CASE("LinePlot draws a marker per finite point and an error bar per positive error", "[plot]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  plot::LinePlot p("accuracy", "epoch", "%");
  p.line("a", {1, 2, 3}, {10, 20, 30}, {1, 0, 2})
      .line("b", {1, 2, 3, 4}, {5, nan, 15, 25})
      .scatter("c", {1.5}, {12});
  const auto root = xml::parse(p.svg().str());
  const auto series = xml::groups(root, "series");
  REQUIRE(series.size() == 3);
  CHECK(series[0]->attr("data-label") == "a");
  CHECK(xml::count_children(*series[0], "circle") == 3);
  CHECK(xml::count_children(*series[0], "path") == 2);  // the zero error draws no bar
  CHECK(xml::count_children(*series[0], "polyline") == 1);
  CHECK(xml::count_children(*series[1], "circle") == 3);  // the NaN point is left out
  CHECK(xml::count_children(*series[2], "circle") == 1);
  CHECK(xml::count_children(*series[2], "polyline") == 0);  // markers only
  CHECK(xml::count_marks(root, "legend", "text") == 3);
}

TEST_CASE("LinePlot refuses mismatched series and empty ranges", "[plot]") {
  plot::LinePlot p("t", "x", "y");
  CHECK_THROWS_AS(p.line("short", {1, 2}, {1}), ShapeError);
  CHECK_THROWS_WITH(p.line("bars", {1, 2}, {1, 2}, {1}), Catch::Contains("bars"));
  CHECK_THROWS_AS(p.y_range(1, 1), ConfigError);
  CHECK_THROWS_AS(p.x_range(0, std::numeric_limits<double>::infinity()), ConfigError);
  CHECK(p.series().empty());
  CHECK_NOTHROW(xml::parse(p.svg().str()));  // an empty plot is still a valid image
}
