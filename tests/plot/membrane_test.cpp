// plot/membrane.hpp: the recorded membrane equals the LIF equations by hand and the layer's
// own forward pass; traces have one line per neuron with its threshold and one tick per spike.
#include <spikelab/spikelab.hpp>

#include "support/test_support.hpp"
#include "support/xml_check.hpp"

using namespace spikelab;
namespace xml = spikelab::test::xml;

TEST_CASE("record_membrane follows the LIF equations and reproduces forward()", "[plot]") {
  // one neuron, constant input 0.6, beta 0.9, threshold 1, reset by subtraction:
  // v0 = 0.6, v1 = 0.9*0.6 + 0.6 = 1.14 (spike), v2 = 0.9*1.14 + 0.6 - 1 = 0.626,
  // v3 = 0.9*0.626 + 0.6 = 1.1634 (spike)
  Lif<double> lif(1, {.beta = 0.9, .threshold = 1.0});
  TimeSeries<double> x(1, 1, 4);
  x.values().setConstant(0.6);
  const auto rec = plot::record_membrane(lif, x);
  const double v[] = {0.6, 1.14, 0.626, 1.1634}, s[] = {0, 1, 0, 1};
  for (Index t = 0; t < 4; ++t) {
    CHECK(rec.membrane(0, 0, t) == Approx(v[t]).epsilon(1e-12));
    CHECK(rec.output(0, 0, t) == s[t]);
  }
  // a larger random layer: the recorded output is the sequence forward's
  Rng rng(5);
  Lif<float> big(16, {.beta = 0.8, .threshold = 0.7});
  TimeSeries<float> in(16, 3, 20);
  for (Index i = 0; i < in.values().size(); ++i) in.values().data()[i] = float(rng.uniform(-0.2, 0.9));
  TimeSeries<float> out;
  big.forward(in, out, ForwardContext::eval());
  const auto r = plot::record_membrane(big, in);
  CHECK(r.output.values() == out.values());
  CHECK_THROWS_AS(plot::record_membrane(big, TimeSeries<float>(15, 1, 2)), ShapeError);
}

TEST_CASE("membrane_traces: a line per neuron, its threshold, a tick per spike", "[plot]") {
  Rng rng(7);
  Lif<float> lif(10, {.beta = 0.85, .threshold = 0.8});
  TimeSeries<float> in(10, 2, 25);
  for (Index i = 0; i < in.values().size(); ++i) in.values().data()[i] = float(rng.uniform(0.0, 0.5));
  const auto rec = plot::record_membrane(lif, in);
  const std::vector<Index> chosen = plot::most_active_neurons(rec.output, 3, 1);
  std::size_t spikes = 0;
  for (Index n : chosen)
    for (Index t = 0; t < 25; ++t) spikes += rec.output(n, 1, t) != 0.f;
  REQUIRE(spikes > 0);
  const auto root = xml::parse(plot::neuron_traces(lif, in, chosen, {.sample = 1}).str());
  CHECK(xml::count_marks(root, "traces", "polyline") == 3);
  CHECK(xml::count_marks(root, "thresholds", "line") == 3);
  CHECK(xml::count_marks(root, "spikes", "line") == spikes);
  // each trace has one point per step
  for (const auto* g : xml::groups(root, "traces"))
    for (const auto& line : g->children) {
      const std::string pts = line.attr("points");
      CHECK(std::count(pts.begin(), pts.end(), ',') == 25);
    }

  // a readout has no threshold and emits no spikes: traces only, here in one panel
  LeakyIntegrator<float> readout(10);
  const auto r2 = xml::parse(plot::neuron_traces(readout, in, {0, 9}).str());
  CHECK(xml::count_marks(r2, "traces", "polyline") == 2);
  CHECK(xml::count_marks(r2, "thresholds", "line") == 0);
  CHECK(xml::count_marks(r2, "spikes", "line") == 0);
  const auto r3 = xml::parse(plot::neuron_traces(readout, in, {0, 4, 9}, {.overlay = true}).str());
  CHECK(xml::count_marks(r3, "traces", "polyline") == 3);
  CHECK(xml::count_marks(r3, "axes", "rect") == 1);  // one panel
}

TEST_CASE("membrane_traces names what does not fit", "[plot]") {
  TimeSeries<float> v(4, 1, 3);
  v.set_zero();
  CHECK_THROWS_WITH(plot::membrane_traces(v, {0}, {.thresholds = {1, 1}}), Catch::Contains("2 thresholds"));
  CHECK_THROWS_AS(plot::membrane_traces(v, {}), ShapeError);
  CHECK_THROWS_AS(plot::membrane_traces(v, {4}), ShapeError);
  TimeSeries<float> other(4, 2, 3);
  CHECK_THROWS_AS(plot::membrane_traces(v, {0}, {}, &other), ShapeError);
  CHECK_NOTHROW(xml::parse(plot::membrane_traces(v, {0, 3}, {.thresholds = {1}}).str()));
}
