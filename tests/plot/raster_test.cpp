// plot/raster.hpp: one mark per spike of the chosen sample and neurons, the most active
// neurons, and named errors for a sample or neuron out of range.
#include <spikelab/spikelab.hpp>

#include "support/test_support.hpp"
#include "support/xml_check.hpp"

using namespace spikelab;
namespace xml = spikelab::test::xml;

namespace {
// 6 neurons, 2 samples, 5 steps; sample 1 holds 7 spikes, sample 0 holds 3
TimeSeries<float> known_spikes() {
  TimeSeries<float> s(6, 2, 5);
  s.set_zero();
  for (auto [n, t] : {std::pair{0, 0}, {0, 4}, {2, 1}, {2, 2}, {2, 3}, {5, 0}, {3, 4}}) s(n, 1, t) = 1.f;
  for (auto [n, t] : {std::pair{1, 1}, {1, 2}, {4, 3}}) s(n, 0, t) = 1.f;
  return s;
}
}  // namespace

TEST_CASE("spike_raster draws one mark per spike of the sample", "[plot]") {
  const TimeSeries<float> s = known_spikes();
  CHECK(xml::count_marks(xml::parse(plot::spike_raster(s, {.sample = 1}).str()), "spikes", "rect") == 7);
  CHECK(xml::count_marks(xml::parse(plot::spike_raster(s, {.sample = 0}).str()), "spikes", "rect") == 3);
  // chosen rows only: neurons 2 and 5 of sample 1 hold 3 + 1 spikes
  const auto root = xml::parse(plot::spike_raster(s, {.sample = 1, .neurons = {5, 2}}).str());
  CHECK(xml::count_marks(root, "spikes", "rect") == 4);
  // a silent sample is an image without marks
  TimeSeries<float> z(3, 1, 4);
  z.set_zero();
  CHECK(xml::count_marks(xml::parse(plot::spike_raster(z).str()), "spikes", "rect") == 0);
}

TEST_CASE("spike_raster of a LIF layer's output marks each of its spikes", "[plot]") {
  Rng rng(3);
  Sequential<Linear<float>, Lif<float>, Linear<float>, LeakyIntegrator<float>> net{
      Linear<float>(20, 30, rng), Lif<float>(30, {.beta = 0.9, .threshold = 0.5}), Linear<float>(30, 4, rng),
      LeakyIntegrator<float>(4)};
  TimeSeries<float> x(20, 3, 12);
  for (Index i = 0; i < x.values().size(); ++i) x.values().data()[i] = float(rng.uniform(0.0, 1.0));
  net.forward(x);
  const TimeSeries<float>& spikes = net.activation(1);
  for (Index b = 0; b < 3; ++b) {
    Index expected = 0;
    for (Index t = 0; t < 12; ++t) expected += (spikes.slot(t).col(b).array() != 0.f).count();
    REQUIRE(expected > 0);
    CHECK(xml::count_marks(xml::parse(plot::spike_raster(spikes, {.sample = b}).str()), "spikes", "rect") ==
          std::size_t(expected));
  }
}

TEST_CASE("most_active_neurons picks the neurons with most spikes, in index order", "[plot]") {
  const TimeSeries<float> s = known_spikes();
  CHECK(plot::most_active_neurons(s, 2, 1) == std::vector<Index>{0, 2});  // 3 and 2 spikes; 3 and 5 have 1
  CHECK(plot::most_active_neurons(s, 1, 0) == std::vector<Index>{1});
  CHECK(plot::most_active_neurons(s, 3, 1) == std::vector<Index>{0, 2, 3});  // tie between 3 and 5: lower index
  CHECK(plot::most_active_neurons(s, 10, 1).size() == 6);
}

TEST_CASE("spike_raster names a sample or neuron out of range", "[plot]") {
  const TimeSeries<float> s = known_spikes();
  CHECK_THROWS_WITH(plot::spike_raster(s, {.sample = 2}), Catch::Contains("sample 2 outside the batch of 2"));
  CHECK_THROWS_WITH(plot::spike_raster(s, {.neurons = {6}}), Catch::Contains("neuron 6"));
  CHECK_THROWS_AS(plot::spike_raster(TimeSeries<float>(4, 1, 0)), ShapeError);
  CHECK_THROWS_AS(plot::spike_raster(s, {.dt = 0}), ConfigError);
}
