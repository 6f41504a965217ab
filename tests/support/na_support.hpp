// Helpers shared by the NA tests: a Tap layer (identity that can inject an extra input current and
// records the gradient it receives), hand-made neuron traces, random batches.
#ifndef SPIKELAB_TESTS_NA_SUPPORT_HPP
#define SPIKELAB_TESTS_NA_SUPPORT_HPP

#include <spikelab/spikelab.hpp>
#include <spikelab/testing/gradient_check.hpp>

#include "support/test_support.hpp"

#include <string>
#include <vector>

namespace spikelab::test {

/// Identity layer: forward adds `delta` (when it has the input's shape; an extra input current
/// for the layer above), backward passes the gradient through and keeps a copy in `grad`.
template <Scalar S>
struct Tap {
  using scalar_type = S;
  Index n = 0;
  TimeSeries<S> delta;
  TimeSeries<S> grad;

  Tap() = default;
  explicit Tap(Index features) : n(features) {}
  static std::string name() { return "Tap"; }
  std::string signature() const { return "Tap(" + std::to_string(n) + ")"; }
  Index input_size() const noexcept { return n; }
  Index output_size() const noexcept { return n; }
  void forward(const TimeSeries<S>& in, TimeSeries<S>& out, const ForwardContext&) {
    out.resize(in.features(), in.batch(), in.steps());
    out.values() = in.values();
    if (delta.same_shape(in)) out.values() += delta.values();
  }
  void backward(const TimeSeries<S>&, const TimeSeries<S>&, const TimeSeries<S>& g, TimeSeries<S>* gin) {
    grad = g;
    if (gin) *gin = g;
  }
};

/// Runs the enclosing scope single-threaded: the learning tests measure learning, and on a loaded
/// shared machine two-thread OpenMP regions around short neuron loops cost far more than they save.
struct SingleThread {
  int previous = num_threads();
  SingleThread() { set_num_threads(1); }
  ~SingleThread() { set_num_threads(previous); }
  SingleThread(const SingleThread&) = delete;
  SingleThread& operator=(const SingleThread&) = delete;
};

/// A trace of one neuron (stride 1) over vectors c, u, gs.
template <Scalar S>
NeuronTrace<S> trace_of(const std::vector<S>& c, const std::vector<S>& u, const std::vector<S>& gs) {
  return {c.data(), u.data(), gs.data(), Index(c.size()), 1};
}

/// Membrane potentials of one neuron driven by currents c (forward of the NA-LIF dynamics).
template <Scalar S>
std::vector<S> simulate(const NaLifDynamics<S>& dyn, const std::vector<S>& c) {
  std::vector<S> u(c.size());
  S v = 0;
  for (std::size_t t = 0; t < c.size(); ++t) {
    u[t] = dyn.integrate(v, c[t]);
    v = dyn.fires(u[t]) ? S(0) : u[t];
  }
  return u;
}

/// A batch with uniform inputs in [lo, hi) and labels in [0, classes).
template <Scalar S>
Batch<S> uniform_batch(Rng& rng, Index features, Index batch, Index steps, int classes, double lo, double hi) {
  Batch<S> b;
  b.input.resize(features, batch, steps);
  fill_uniform(b.input, rng, lo, hi);
  for (Index i = 0; i < batch; ++i) b.labels.push_back(int(rng.below(std::uint64_t(classes))));
  return b;
}

}  // namespace spikelab::test

#endif
