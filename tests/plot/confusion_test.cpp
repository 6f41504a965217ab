// plot/confusion.hpp: one cell per (true, predicted) pair, a count label per nonzero cell, and
// a named error for class names of the wrong number.
#include <spikelab/plot/confusion.hpp>

#include "support/test_support.hpp"
#include "support/xml_check.hpp"

using namespace spikelab;
namespace xml = spikelab::test::xml;

TEST_CASE("confusion_matrix draws every cell and labels the nonzero ones", "[plot]") {
  ConfusionMatrix m(4);
  for (auto [y, p] : {std::pair{0, 0}, {0, 0}, {0, 1}, {1, 1}, {2, 3}, {3, 3}, {3, 3}}) m.add(y, p);
  const auto root = xml::parse(plot::confusion_matrix(m).str());
  CHECK(xml::count_marks(root, "cells", "rect") == 16);
  CHECK(xml::count_marks(root, "counts", "text") == 5);  // (0,0) (0,1) (1,1) (2,3) (3,3)
  std::vector<std::string> labels;
  for (const auto* g : xml::groups(root, "counts"))
    for (const auto& t : g->children) labels.push_back(t.text);
  CHECK(labels == std::vector<std::string>{"2", "1", "1", "1", "2"});

  const auto named = xml::parse(plot::confusion_matrix(m, {.class_names = {"a&b", "c", "d", "e"}}).str());
  CHECK(xml::count_marks(named, "cells", "rect") == 16);
  CHECK_THROWS_WITH(plot::confusion_matrix(m, {.class_names = {"a", "b"}}), Catch::Contains("2 class names for 4"));
}
