// spikelab-conv-bench: training step and inference of a 2-conv spiking network.
//
//   spikelab-conv-bench [--modes train,infer] [--reps 7] [--warmup 2] [--threads 2] [--batch 32]
//                       [--steps 20] [--density 0.05] [--json FILE]
//
// Network "12C5-MP2-32C5-MP2-10" on 2x34x34 spike frames (N-MNIST geometry), T = 20, batch 32:
//   Conv2d(2->12, 5x5) -> MaxPool 2 -> LIF (12x15x15) -> Conv2d(12->32, 5x5) -> MaxPool 2 -> LIF (32x5x5)
//   -> Linear(800->10) -> leaky-integrator readout.
// LIF: v_t = 0.9 v_{t-1} + I_t - s_{t-1}, threshold 1, fast-sigmoid surrogate (slope 25), reset not
// detached; readout v_t = 0.9 v_{t-1} + x_t; loss = cross-entropy (batch mean) of the readout summed
// over time; Adam(lr 1e-3). Input: Bernoulli(density) spikes. A training step is zero_grad + forward
// + loss + BPTT + Adam update; inference is one forward pass in evaluation mode. Each is timed
// over --reps repetitions after --warmup; the table gives the median wall time, its range, and the
// median CPU time of the process (all threads; less sensitive to other load on a shared machine).
// benchmarks/conv/reference_conv_torch.py measures the same network in PyTorch.
#include <spikelab/spikelab.hpp>

#include "common/command_line.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace sl = spikelab;

namespace {

using S = float;
using Net = sl::Sequential<sl::Conv2d<S>, sl::MaxPool2d<S>, sl::Lif<S>, sl::Conv2d<S>, sl::MaxPool2d<S>, sl::Lif<S>,
                           sl::Linear<S>, sl::LeakyIntegrator<S>>;

Net make_net(sl::Rng& rng) {
  sl::Conv2d<S> c1({2, 34, 34}, 12, rng, {.kernel = 5});
  sl::MaxPool2d<S> p1(c1.output_shape(), {.kernel = 2});
  const sl::ImageShape s1 = p1.output_shape();  // 12 x 15 x 15
  sl::Conv2d<S> c2(s1, 32, rng, {.kernel = 5});
  sl::MaxPool2d<S> p2(c2.output_shape(), {.kernel = 2});
  const sl::ImageShape s2 = p2.output_shape();  // 32 x 5 x 5
  const sl::LifConfig lif{.beta = 0.9, .threshold = 1.0};
  return Net{std::move(c1), std::move(p1), sl::Lif<S>(s1.size(), lif), std::move(c2), std::move(p2),
             sl::Lif<S>(s2.size(), lif), sl::Linear<S>(s2.size(), 10, rng), sl::LeakyIntegrator<S>(10, {.beta = 0.9})};
}

// Multiply-add FLOPs of the convolutions and the linear layer (the arithmetic floor).
double flops(const Net& net, sl::Index cols, bool train) {
  auto conv = [&](const sl::Conv2d<S>& c) {
    const sl::ImageShape o = c.output_shape();
    return 2.0 * double(o.size()) * double(c.patch_size()) * double(cols);
  };
  const double f1 = conv(net.layer<0>()), f2 = conv(net.layer<3>()), f3 = 2.0 * 800 * 10 * double(cols);
  const double fwd = f1 + f2 + f3;
  // backward: weight gradients of all three, input gradients of conv2 and the linear layer
  return train ? fwd + (f1 + f2 + f3) + (f2 + f3) : fwd;
}

struct Result {
  std::string mode;
  std::vector<double> ms, cpu_ms;
  double gflop = 0;
  double first_loss = 0;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

}  // namespace

int main(int argc, char** argv) try {
  std::string modes = "train,infer", json;
  int reps = 7, warmup = 2, threads = 2;
  sl::Index batch = 32, steps = 20;
  double density = 0.05;
  spikelab_examples::CommandLine cli("spikelab-conv-bench",
                                     "Times a training step and inference of the 2-conv spiking network 12C5-MP2-32C5-MP2-10\n"
                                     "on 2x34x34 spike frames (see the comment at the top of conv_bench.cpp).");
  cli.option("modes", modes, "train, infer or train,infer")
      .repetitions(reps, warmup)
      .threads(threads)
      .option("batch", batch, "batch size")
      .option("steps", steps, "time steps T")
      .option("density", density, "input spike probability per feature and step")
      .json(json);
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  if (reps < 1 || warmup < 0 || threads < 1 || batch < 1 || steps < 1)
    throw std::invalid_argument("--reps, --threads, --batch, --steps must be >= 1 and --warmup >= 0");
  sl::set_num_threads(threads);

  sl::Rng rng(42);
  Net net = make_net(rng);
  sl::Batch<S> b;
  b.input.resize(2 * 34 * 34, batch, steps);
  sl::Rng data(43);
  for (sl::Index k = 0; k < b.input.values().size(); ++k) b.input.values().data()[k] = data.uniform() < density ? 1.f : 0.f;
  for (sl::Index i = 0; i < batch; ++i) b.labels.push_back(int(data.below(10)));
  sl::Bptt<sl::SumCrossEntropy> rule;
  sl::Optimizer<S, sl::Adam> opt({.lr = 1e-3});
  sl::SumCrossEntropy loss;

  std::vector<Result> results;
  std::stringstream ms(modes);
  for (std::string mode; std::getline(ms, mode, ',');) {
    if (mode != "train" && mode != "infer") throw std::invalid_argument("unknown mode " + mode);
    Result r;
    r.mode = mode;
    r.gflop = flops(net, batch * steps, mode == "train") / 1e9;
    for (int k = 0; k < warmup + reps; ++k) {
      const auto t0 = std::chrono::steady_clock::now();
      const std::clock_t c0 = std::clock();
      double l = 0;
      if (mode == "train") {
        net.zero_grad();
        l = rule.accumulate(net, b, rng).loss;
        opt.step(net);
      } else {
        const auto& out = net.forward(b.input, sl::ForwardContext::eval());
        l = double(loss.value(out, b));
      }
      const double t = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      const double c = 1000.0 * double(std::clock() - c0) / CLOCKS_PER_SEC;
      if (k == 0) r.first_loss = l;
      if (k >= warmup) {
        r.ms.push_back(t);
        r.cpu_ms.push_back(c);
      }
    }
    results.push_back(r);
  }

  std::printf("network %s\n%d threads, batch %ld, T %ld, input density %.3f, %d reps after %d warm-up\n",
              net.signature().c_str(), threads, long(batch), long(steps), density, reps, warmup);
  std::printf("%-6s %-12s %10s %19s %12s %9s %10s\n", "mode", "impl", "median ms", "min-max ms", "median cpu",
              "GFLOP/s", "first loss");
  for (const Result& r : results) {
    const double med = median(r.ms);
    std::printf("%-6s %-12s %10.2f %9.2f-%-9.2f %12.2f %9.1f %10.4f\n", r.mode.c_str(), "spikelab", med,
                *std::min_element(r.ms.begin(), r.ms.end()), *std::max_element(r.ms.begin(), r.ms.end()),
                median(r.cpu_ms), r.gflop / med * 1e3, r.first_loss);
  }
  if (!json.empty()) {
    std::ofstream os(json);
    os << "[";
    for (std::size_t i = 0; i < results.size(); ++i) {
      const Result& r = results[i];
      os << (i ? ",\n " : "") << "{\"impl\": \"spikelab\", \"config\": \"CONV\", \"mode\": \"" << r.mode
         << "\", \"threads\": " << threads << ", \"batch\": " << batch << ", \"steps\": " << steps
         << ", \"gflop\": " << r.gflop << ", \"first_loss\": " << r.first_loss << ", \"times_ms\": [";
      for (std::size_t k = 0; k < r.ms.size(); ++k) os << (k ? ", " : "") << r.ms[k];
      os << "], \"cpu_ms\": [";
      for (std::size_t k = 0; k < r.cpu_ms.size(); ++k) os << (k ? ", " : "") << r.cpu_ms[k];
      os << "]}";
    }
    os << "]\n";
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 2;
}
