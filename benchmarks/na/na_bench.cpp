// spikelab-na-bench: the cost of a neighbourhood-aggregation (NA) training step against a surrogate-
// gradient BPTT step of the same network.
//
//   spikelab-na-bench [--nets mnist,nmnist,fashion-mlp,fashion-cnn] [--reps 7] [--warmup 2] [--threads 2]
//                     [--mnist DIR] [--nmnist DIR] [--fashion DIR] [--json FILE]
//
// Networks (as in examples/na_train.cpp, the NA paper's configurations):
//   mnist:  PSP -> 15C5 -> NA-LIF -> P2(x1.1) -> 40C5 -> NA-LIF -> P2 -> 300 -> NA-LIF -> 10 -> NA-LIF,
//           T = 5, batch 64, input: MNIST images repeated over T (random 0/1 pixels at 20% without --mnist);
//   nmnist: PSP -> 12C5(p1) -> NA-LIF -> P2 -> 64C5 -> NA-LIF -> P2 -> 10 -> NA-LIF, T = 30, batch 50,
//           input: N-MNIST binary frames of 10 ms (Bernoulli 0.02 spikes without --nmnist);
//   fashion-mlp: PSP -> 784-400-400-10 NA-LIF, T = 5, tau_s 3, batch 100 (FashionMNIST_400_400.yaml);
//   fashion-cnn: PSP -> 32C5(p2) -> P2 -> 64C5(p2) -> P2 -> 1024 -> 10, T = 5, tau_s 2, batch 50
//           (FashionMNIST_CNN.yaml); input: Fashion-MNIST images (x - 0.1307) / 0.3081 repeated over T
//           (random 0/1 pixels at 20% without --fashion).
// Rules: surrogate BPTT (fast sigmoid) through the same NA-LIF neurons, and NA in its poster,
// first-order and official-code forms (the last with the loss summed over the batch, as the code). A step is zero_grad + forward + PSP loss + backward + AdamW update; the
// backward pass (everything the rule changes) is also timed alone. Median wall time and its range
// over --reps, and the median CPU time of the process (all threads).
#include <spikelab/spikelab.hpp>

#include "common/command_line.hpp"
#include "common/report.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace sl = spikelab;

namespace {

using S = float;

template <class N>
using MnistNet = sl::Sequential<sl::PspFilter<S>, sl::Conv2d<S>, N, sl::SumPool2d<S>, sl::Conv2d<S>, N,
                                sl::SumPool2d<S>, sl::Linear<S>, N, sl::Linear<S>, N>;
template <class N>
using NmnistNet = sl::Sequential<sl::PspFilter<S>, sl::Conv2d<S>, N, sl::SumPool2d<S>, sl::Conv2d<S>, N,
                                 sl::SumPool2d<S>, sl::Linear<S>, N>;

template <class N>
using FashionMlp = sl::Sequential<sl::PspFilter<S>, sl::Linear<S>, N, sl::Linear<S>, N, sl::Linear<S>, N>;

template <class D>
FashionMlp<sl::NaLifType<S, D>> fashion_mlp(D d) {
  using N = sl::NaLifType<S, D>;
  sl::Rng rng(1);
  const sl::NaLifConfig cfg{.tau_m = 5, .tau_s = 3, .threshold = 1};
  const sl::LinearConfig lc{.bias = false, .init = sl::Init::kaiming_normal};
  return FashionMlp<N>{sl::PspFilter<S>(784, 3.0), sl::Linear<S>(784, 400, rng, lc), N(400, cfg, d),
                       sl::Linear<S>(400, 400, rng, lc), N(400, cfg, d), sl::Linear<S>(400, 10, rng, lc), N(10, cfg, d)};
}

template <class D>
MnistNet<sl::NaLifType<S, D>> fashion_cnn(D d) {
  using N = sl::NaLifType<S, D>;
  sl::Rng rng(1);
  const sl::NaLifConfig cfg{.tau_m = 5, .tau_s = 2, .threshold = 1};
  sl::Conv2d<S> c1({1, 28, 28}, 32, rng, {.kernel = 5, .padding = 2, .bias = false});
  sl::SumPool2d<S> p1(c1.output_shape(), {.kernel = 2, .scale = 1.1});
  sl::Conv2d<S> c2(p1.output_shape(), 64, rng, {.kernel = 5, .padding = 2, .bias = false});
  sl::SumPool2d<S> p2(c2.output_shape(), {.kernel = 2, .scale = 1.1});
  const sl::LinearConfig lc{.bias = false, .init = sl::Init::kaiming_normal};
  const sl::Index n1 = c1.output_size(), n2 = c2.output_size(), flat = p2.output_size();
  return MnistNet<N>{sl::PspFilter<S>(784, 2.0), std::move(c1), N(n1, cfg, d),   std::move(p1), std::move(c2),
          N(n2, cfg, d),              std::move(p2), sl::Linear<S>(flat, 1024, rng, lc), N(1024, cfg, d),
          sl::Linear<S>(1024, 10, rng, lc), N(10, cfg, d)};
}

template <class D>
MnistNet<sl::NaLifType<S, D>> mnist_net(D d) {
  using N = sl::NaLifType<S, D>;
  sl::Rng rng(1);
  const sl::NaLifConfig cfg{.tau_m = 5, .tau_s = 2, .threshold = 1};
  sl::Conv2d<S> c1({1, 28, 28}, 15, rng, {.kernel = 5, .bias = false});
  sl::SumPool2d<S> p1(c1.output_shape(), {.kernel = 2, .scale = 1.1});
  sl::Conv2d<S> c2(p1.output_shape(), 40, rng, {.kernel = 5, .bias = false});
  sl::SumPool2d<S> p2(c2.output_shape(), {.kernel = 2, .scale = 1.1});
  const sl::LinearConfig lc{.bias = false, .init = sl::Init::kaiming_normal};
  const sl::Index n1 = c1.output_size(), n2 = c2.output_size();
  return MnistNet<N>{sl::PspFilter<S>(784, 2.0), std::move(c1), N(n1, cfg, d),   std::move(p1), std::move(c2),
          N(n2, cfg, d),              std::move(p2), sl::Linear<S>(640, 300, rng, lc), N(300, cfg, d),
          sl::Linear<S>(300, 10, rng, lc), N(10, cfg, d)};
}

template <class D>
NmnistNet<sl::NaLifType<S, D>> nmnist_net(D d) {
  using N = sl::NaLifType<S, D>;
  sl::Rng rng(1);
  const sl::NaLifConfig cfg{.tau_m = 8, .tau_s = 4, .threshold = 1};
  sl::Conv2d<S> c1({2, 34, 34}, 12, rng, {.kernel = 5, .padding = 1, .bias = false});
  sl::SumPool2d<S> p1(c1.output_shape(), {.kernel = 2, .scale = 1.1});
  sl::Conv2d<S> c2(p1.output_shape(), 64, rng, {.kernel = 5, .bias = false});
  sl::SumPool2d<S> p2(c2.output_shape(), {.kernel = 2, .scale = 1.1});
  const sl::Index n1 = c1.output_size(), n2 = c2.output_size(), flat = p2.output_size();
  return NmnistNet<N>{sl::PspFilter<S>(2 * 34 * 34, 4.0),
          std::move(c1),
          N(n1, cfg, d),
          std::move(p1),
          std::move(c2),
          N(n2, cfg, d),
          std::move(p2),
          sl::Linear<S>(flat, 10, rng, {.bias = false, .init = sl::Init::kaiming_normal}),
          N(10, cfg, d)};
}

double cpu_seconds() { return double(std::clock()) / CLOCKS_PER_SEC; }

struct Timing {
  double wall_med = 0, wall_min = 0, wall_max = 0, cpu_med = 0;
};
Timing summarize(std::vector<double> wall, std::vector<double> cpu) {
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  return {wall[wall.size() / 2], wall.front(), wall.back(), cpu[cpu.size() / 2]};
}

struct Row {
  std::string net, rule;
  Timing step, backward;
  double spike_rate = 0;
};

template <class Net, class Loss>
Row measure(const std::string& net_name, const std::string& rule, Net net, Loss loss, const sl::Batch<S>& batch,
            int reps, int warmup) {
  sl::NaGradientNorms norms;
  sl::connect_gradient_norms(net, norms);
  sl::Optimizer<S, sl::AdamW, sl::ConstantLr> opt({.lr = 1e-4, .clip_norm = 1.0}, {.beta1 = 0.0});
  sl::Rng rng(3);
  sl::TimeSeries<S> g;
  std::vector<double> sw, sc, bw, bc;
  for (int r = 0; r < warmup + reps; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds();
    net.zero_grad();
    const auto& out = net.forward(batch.input, sl::ForwardContext::train(rng));
    loss.value_and_gradient(out, batch, g);
    const auto t1 = std::chrono::steady_clock::now();
    const double c1 = cpu_seconds();
    net.backward(g);
    const auto t2 = std::chrono::steady_clock::now();
    const double c2 = cpu_seconds();
    opt.step(net);
    const auto t3 = std::chrono::steady_clock::now();
    const double c3 = cpu_seconds();
    if (r >= warmup) {
      sw.push_back(std::chrono::duration<double>(t3 - t0).count());
      sc.push_back(c3 - c0);
      bw.push_back(std::chrono::duration<double>(t2 - t1).count());
      bc.push_back(c2 - c1);
    }
  }
  Row row{net_name, rule, summarize(sw, sc), summarize(bw, bc), 0};
  // spike rate of the first NA-LIF layer (membrane above threshold), which sets NA's re-simulation work
  const auto& u = net.template layer<2>().membrane();
  row.spike_rate = (u.values().array() > S(1)).template cast<double>().mean();
  return row;
}

sl::Batch<S> mnist_batch(const std::string& dir, sl::Index B, sl::Index T) {
  sl::Batch<S> b;
  if (!dir.empty()) {
    const sl::ImageDataset d = sl::load_idx_split(dir, "train").head(B);
    sl::ImageSource<S> src(d, sl::DirectEncoder{}, {.batch_size = B, .steps = T, .shuffle = false});
    src.start_epoch(0);
    src.next(b);
    return b;
  }
  sl::Rng rng(5);
  b.input.resize(784, B, T);
  for (sl::Index s = 0; s < B; ++s) {
    for (sl::Index f = 0; f < 784; ++f) {
      const S v = rng.uniform() < 0.2 ? S(1) : S(0);
      for (sl::Index t = 0; t < T; ++t) b.input(f, s, t) = v;
    }
    b.labels.push_back(int(rng.below(10)));
  }
  return b;
}

// Fashion-MNIST images normalised as the official code, (x - 0.1307) / 0.3081, repeated over T.
sl::Batch<S> fashion_batch(const std::string& dir, sl::Index B, sl::Index T) {
  sl::Batch<S> b = mnist_batch(dir, B, T);
  if (!dir.empty()) b.input.values() = (b.input.values().array() - S(0.1307)) / S(0.3081);
  return b;
}

sl::Batch<S> nmnist_batch(const std::string& dir, sl::Index B, sl::Index T) {
  sl::Batch<S> b;
  if (!dir.empty()) {
    const sl::NMnistDataset d = sl::NMnist::load(dir, "train").head(B);
    const sl::ToFrame tf = sl::ToFrame::fixed_bins(10000, T, 0, true);
    sl::EventLoader<S, sl::NMnistDataset, sl::ToFrame> src(d, tf, {.batch_size = B, .shuffle = false, .steps = T});
    src.start_epoch(0);
    src.next(b);
    return b;
  }
  sl::Rng rng(6);
  b.input.resize(2 * 34 * 34, B, T);
  for (sl::Index k = 0; k < b.input.values().size(); ++k) b.input.values().data()[k] = rng.uniform() < 0.02 ? S(1) : S(0);
  for (sl::Index s = 0; s < B; ++s) b.labels.push_back(int(rng.below(10)));
  return b;
}

bool listed(const std::string& list, const std::string& name) {
  std::stringstream ss(list);
  std::string item;
  while (std::getline(ss, item, ','))
    if (item == name) return true;
  return false;
}

std::string ms(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", 1000.0 * s);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::string nets = "mnist,nmnist", json, mnist_dir, nmnist_dir, fashion_dir;
  int reps = 7, warmup = 2, threads = 2;
  spikelab_examples::CommandLine cli("spikelab-na-bench",
                                     "Times a neighbourhood-aggregation (NA) training step against a surrogate-gradient BPTT\n"
                                     "step of the same network (the NA paper's MNIST and N-MNIST CNNs).");
  cli.option("nets", nets, "comma-separated: mnist, nmnist, fashion-mlp, fashion-cnn")
      .repetitions(reps, warmup)
      .threads(threads)
      .option("mnist", mnist_dir, "MNIST idx files for the mnist input (empty: random 0/1 pixels)")
      .option("nmnist", nmnist_dir, "N-MNIST recordings for the nmnist input (empty: Bernoulli spikes)")
      .option("fashion", fashion_dir, "Fashion-MNIST idx files for the fashion inputs (empty: random 0/1 pixels)")
      .json(json);
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  reps = std::max(reps, 1);
  sl::set_num_threads(threads);
  std::vector<Row> rows;
  const sl::NeighborhoodAggregation poster(sl::NaConfig::poster()), first(sl::NaConfig::first_order()),
      official(sl::NaConfig::official_code());
  const sl::SurrogateSpikeDerivative<sl::FastSigmoid> sur{{5.0}};
  // all four rules on one network; the official form with the loss summed over the batch
  auto rules = [&](const std::string& name, auto make, auto loss, const sl::Batch<S>& b) {
    auto summed = loss;
    summed.sum_over_batch = true;
    rows.push_back(measure(name, "surrogate", make(sur), loss, b, reps, warmup));
    rows.push_back(measure(name, "na-poster", make(poster), loss, b, reps, warmup));
    rows.push_back(measure(name, "na-first-order", make(first), loss, b, reps, warmup));
    rows.push_back(measure(name, "na-official", make(official), summed, b, reps, warmup));
  };
  if (listed(nets, "mnist"))
    rules("mnist T5 B64", [](auto d) { return mnist_net(d); }, sl::PspKernelMse{.tau_s = 2.0}, mnist_batch(mnist_dir, 64, 5));
  if (listed(nets, "nmnist"))
    rules("nmnist T30 B50", [](auto d) { return nmnist_net(d); }, sl::PspCountMse{.desired = 15, .undesired = 3},
          nmnist_batch(nmnist_dir, 50, 30));
  if (listed(nets, "fashion-mlp"))
    rules("fashion 400-400 T5 B100", [](auto d) { return fashion_mlp(d); }, sl::PspKernelMse{.tau_s = 3.0},
          fashion_batch(fashion_dir, 100, 5));
  if (listed(nets, "fashion-cnn"))
    rules("fashion CNN T5 B50", [](auto d) { return fashion_cnn(d); }, sl::PspKernelMse{.tau_s = 2.0},
          fashion_batch(fashion_dir, 50, 5));
  std::cout << "spikelab " << sl::version::as_string() << ", " << sl::num_threads() << " threads, " << reps
            << " reps (median wall [min, max], median CPU), ms\n";
  std::cout << "| network | rule | step wall | step CPU | backward wall | backward CPU | step / surrogate (wall) | step / "
               "surrogate (CPU) | layer-1 spike rate |\n"
               "|---|---|---|---|---|---|---|---|---|\n";
  std::ostringstream js;
  js << "[";
  for (std::size_t k = 0; k < rows.size(); ++k) {
    const Row& r = rows[k];
    double base = r.step.wall_med, base_cpu = r.step.cpu_med;
    for (const Row& o : rows)
      if (o.net == r.net && o.rule == "surrogate") base = o.step.wall_med, base_cpu = o.step.cpu_med;
    std::cout << "| " << r.net << " | " << r.rule << " | " << ms(r.step.wall_med) << " [" << ms(r.step.wall_min) << ", "
              << ms(r.step.wall_max) << "] | " << ms(r.step.cpu_med) << " | " << ms(r.backward.wall_med) << " | "
              << ms(r.backward.cpu_med) << " | " << spikelab_examples::fixed(r.step.wall_med / base, 2) << "x | "
              << spikelab_examples::fixed(r.step.cpu_med / base_cpu, 2) << "x | "
              << spikelab_examples::fixed(r.spike_rate, 3) << " |\n";
    js << (k ? "," : "") << "{\"net\":\"" << r.net << "\",\"rule\":\"" << r.rule << "\",\"step_wall_ms\":"
       << 1000 * r.step.wall_med << ",\"step_cpu_ms\":" << 1000 * r.step.cpu_med
       << ",\"backward_wall_ms\":" << 1000 * r.backward.wall_med << ",\"spike_rate\":" << r.spike_rate << "}";
  }
  js << "]\n";
  if (!json.empty()) std::ofstream(json) << js.str();
  return 0;
}
