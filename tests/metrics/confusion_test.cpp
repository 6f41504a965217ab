// metrics/confusion.hpp: counts, arg-max predictions (lowest index on ties), accuracy, recall
// and precision by hand, merging, and named errors for classes out of range.
#include <spikelab/metrics/confusion.hpp>

#include "support/test_support.hpp"

using namespace spikelab;

TEST_CASE("ConfusionMatrix counts pairs and gives accuracy, recall and precision", "[metrics]") {
  ConfusionMatrix m(3);
  // true 0: predicted 0, 0, 1; true 1: predicted 1; true 2: predicted 0, 2
  for (auto [y, p] : {std::pair{0, 0}, {0, 0}, {0, 1}, {1, 1}, {2, 0}, {2, 2}}) m.add(y, p);
  CHECK(m.total() == 6);
  CHECK(m.correct() == 4);
  CHECK(m.accuracy() == Approx(4.0 / 6.0));
  CHECK(m.count(0, 1) == 1);
  CHECK(m.recall(0) == Approx(2.0 / 3.0));
  CHECK(m.recall(2) == Approx(0.5));
  CHECK(m.precision(0) == Approx(2.0 / 3.0));  // predicted 0 three times, right twice
  CHECK(m.precision(1) == Approx(0.5));
  ConfusionMatrix n(3);
  n.add(1, 2);
  m.merge(n);
  CHECK(m.total() == 7);
  CHECK(m.recall(1) == Approx(0.5));
  CHECK(ConfusionMatrix(2).accuracy() == 0.0);
}

TEST_CASE("ConfusionMatrix::add_scores predicts each column's arg max, the lowest index on ties", "[metrics]") {
  ConfusionMatrix m(3);
  Matrix<float> scores(3, 4);
  scores << 0.1f, 2.f, 1.f, 0.f,  //
      0.5f, 2.f, 3.f, 0.f,        //
      0.2f, 1.f, 3.f, 0.f;
  m.add_scores(scores, {1, 0, 2, 2});
  CHECK(m.count(1, 1) == 1);  // column 0: class 1
  CHECK(m.count(0, 0) == 1);  // column 1: tie of 0 and 1 -> 0
  CHECK(m.count(2, 1) == 1);  // column 2: tie of 1 and 2 -> 1
  CHECK(m.count(2, 0) == 1);  // column 3: all equal -> 0
  CHECK_THROWS_WITH(m.add_scores(scores, {1, 0}), Catch::Contains("2 labels for 4"));
  CHECK_THROWS_AS(m.add_scores(Matrix<float>::Zero(2, 4), {0, 0, 0, 0}), ShapeError);
}

TEST_CASE("ConfusionMatrix names classes out of range", "[metrics]") {
  ConfusionMatrix m(2);
  CHECK_THROWS_WITH(m.add(2, 0), Catch::Contains("label 2 outside [0, 2)"));
  CHECK_THROWS_WITH(m.add(0, -1), Catch::Contains("prediction -1"));
  CHECK_THROWS_AS(m.merge(ConfusionMatrix(3)), ShapeError);
  CHECK_THROWS_AS(ConfusionMatrix(0), ConfigError);
  CHECK(m.total() == 0);
}
