// plot/svg.hpp: escaping, axis ticks, writing an Svg to a stream or a file (and the errors when
// that fails); the XML checker the plot tests rely on refuses malformed documents.
#include <spikelab/plot/plot.hpp>

#include "support/test_support.hpp"
#include "support/xml_check.hpp"

#include <sstream>

using namespace spikelab;
namespace xml = spikelab::test::xml;

TEST_CASE("escape replaces the XML special characters", "[plot]") {
  CHECK(plot::escape("a<b & \"c\" > 'd'") == "a&lt;b &amp; &quot;c&quot; &gt; &apos;d&apos;");
  CHECK(plot::escape("plain") == "plain");
}

TEST_CASE("nice_ticks: 1, 2, 2.5 or 5 times a power of ten, covering the range", "[plot]") {
  CHECK(plot::nice_ticks(0, 10) == std::vector<double>{0, 2, 4, 6, 8, 10});
  CHECK(plot::nice_ticks(0, 1, 4) == std::vector<double>{0, 0.25, 0.5, 0.75, 1});
  const auto t = plot::nice_ticks(-3.7, 41.2);
  REQUIRE(t.size() >= 4);
  CHECK(t.front() >= -3.7);
  CHECK(t.back() <= 41.2);
  CHECK(t[1] - t[0] == Approx(10.0));
  CHECK(plot::nice_ticks(2, 2) == std::vector<double>{2});  // empty range: one tick
  CHECK(plot::number_label(0.000125) == "0.000125");
  CHECK(plot::number_label(12345678) == "1.235e+07");
}

TEST_CASE("Svg writes to a stream or a file and names the file when it cannot", "[plot]") {
  plot::LinePlot p("t", "x", "y");
  p.line("a", {1, 2}, {3, 4});
  const plot::Svg svg = p.svg();
  std::ostringstream os;
  svg.write(os);
  CHECK(os.str() == svg.str());
  std::ostringstream bad;
  bad.setstate(std::ios::badbit);
  CHECK_THROWS_AS(svg.write(bad), FileError);

  const auto dir = test::temp_dir("svg");
  svg.save(dir / "p.svg");
  CHECK(test::read_all(dir / "p.svg") == svg.str());
  const auto missing = dir / "no-such-dir" / "p.svg";
  CHECK_THROWS_WITH(svg.save(missing), Catch::Contains(missing.string()));
  std::filesystem::remove_all(dir);
}

TEST_CASE("The XML checker refuses documents that are not well-formed", "[plot]") {
  CHECK_NOTHROW(xml::parse("<?xml version=\"1.0\"?>\n<svg a=\"1\"><g class=\"x\"><rect/></g><!-- c --></svg>\n"));
  CHECK_THROWS(xml::parse("<svg><g></svg>"));               // mismatched end tag
  CHECK_THROWS(xml::parse("<svg><g>"));                     // not closed
  CHECK_THROWS(xml::parse("<svg>a & b</svg>"));             // bare ampersand
  CHECK_THROWS(xml::parse("<svg x=\"a<b\"/>"));             // raw '<' in an attribute
  CHECK_THROWS(xml::parse("<svg x=\"1\" x=\"2\"/>"));       // duplicate attribute
  CHECK_THROWS(xml::parse("<svg x=1/>"));                   // unquoted value
  CHECK_THROWS(xml::parse("<svg/><svg/>"));                 // two roots
  CHECK_THROWS(xml::parse("<svg>&nbsp;</svg>"));            // undefined entity
  const auto root = xml::parse("<svg><g class=\"m\"><rect/><rect/><circle/></g><g class=\"m\"><rect/></g></svg>");
  CHECK(xml::count_marks(root, "m", "rect") == 3);
  CHECK(xml::count_marks(root, "m", "circle") == 1);
}

TEST_CASE("Titles with XML special characters give well-formed files", "[plot]") {
  const std::string nasty = "a < b & \"c\" > 'd'";
  plot::LinePlot p(nasty, nasty, nasty);
  p.subtitle(nasty).line(nasty, {0, 1}, {1, 0});
  const auto root = xml::parse(p.svg().str());
  CHECK(root.name == "svg");
  bool found = false;
  for (const auto& c : root.children)
    if (c.attr("class") == "title") found = c.text == nasty;
  CHECK(found);
}
