// spikelab benchmark harness: training step and inference for the configurations
// SHD, NMNIST, ON512, ON4096 (see BENCHMARKS.md), the same networks as reference_torch.py.
//
//   spikelab-bench [--configs SHD,NMNIST,ON512,ON4096] [--modes train,infer,stream] [--rates 0,0.05]
//                  [--reps 7] [--warmup 2] [--threads 2] [--json FILE] [--gemm-peak] [--export DIR]
//
// Every (config, rate, mode) runs in a fresh child process (this executable with --child) so that
// its peak RSS is its own. Prints a table (median ms, min-max, GFLOP/s of the dense-equivalent
// arithmetic, peak RSS, the measured spike density of every LIF layer) and writes JSON.
// --rates: target firing rates of the hidden LIF layers (fraction of neuron-steps with a spike;
// 0 = the harness's own weights): each hidden layer's incoming weights and bias are scaled, layer
// by layer, until its density on the benchmark batch is the target (reference_torch.py does the
// same). Mode "stream" runs the network one step at a time (Sequential::forward_step, the state
// carried from step to step) over all T steps; compare its time with mode "infer" (the whole
// sequence at once). --export writes weights, inputs, loss and gradients of
// one step of each config (T = 20) for reference_torch.py --verify. With --callgrind the timed
// region is bracketed by callgrind's collection toggles (run under valgrind --collect-atstart=no).
#include <spikelab/core/product.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/layers/learnable_delay.hpp>
#include <spikelab/layers/linear.hpp>
#include <spikelab/learning/bptt.hpp>
#include <spikelab/losses/cross_entropy.hpp>
#include <spikelab/networks/sequential.hpp>
#include <spikelab/neurons/leaky_integrator.hpp>
#include <spikelab/neurons/lif.hpp>
#include <spikelab/optimizers/optimizer.hpp>

#include "common/command_line.hpp"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define SPIKELAB_BENCH_HAVE_CALLGRIND 1
#endif

#include <malloc.h>
#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace spikelab;
using F = float;

namespace {

struct Config {
  std::string name;
  std::vector<Index> sizes;
  Index batch, steps;
  bool spikes;   // binary input of 5% density (else standard normal)
  bool readout;  // leaky-integrator readout + cross-entropy + Adam (else: sum of spikes, no optimizer)
  double rate = 0;  // target firing rate of the hidden LIF layers (0: the weights as initialised)
  Index delay = 0;  // > 0: every synapse a LearnableDelay with this max delay (steps), sigma = delay / 3
};

const std::vector<Config>& configs() {
  static const std::vector<Config> c{
      {"SHD", {700, 256, 256, 20}, 64, 100, true, true},
      {"NMNIST", {2312, 512, 10}, 64, 100, true, true},
      {"ON512", {512, 512}, 16, 500, false, false},
      {"ON4096", {4096, 4096}, 16, 500, false, false},
      // small configurations for the instruction-count check (not in the default list)
      {"TINY", {100, 64, 64, 10}, 8, 25, true, true},
      {"TINYON", {64, 64}, 8, 50, false, false},
      // SHD with learnable delays on every synapse (DCLS; not in the default list): 25 steps is
      // the DCLS SHD setting (250 ms of 10 ms bins)
      {"SHD-D25", {700, 256, 256, 20}, 64, 100, true, true, 0, 25},
  };
  return c;
}
const Config& find_config(const std::string& name) {
  for (const auto& c : configs())
    if (c.name == name) return c;
  throw std::runtime_error("unknown config " + name);
}

constexpr double kDensity = 0.05;
constexpr double kBeta = 0.9, kTheta = 1.0, kBetaOut = 0.9, kLr = 1e-3;

/// FLOPs of the dense matrix products (the arithmetic floor); element-wise work ignored. A
/// delay layer counts D + 1 products over all columns (an upper bound: tap d spans T - d steps).
double dense_flops(const Config& c, const std::string& mode) {
  const double cols = double(c.batch * c.steps) * double(c.delay + 1);
  double fwd = 0, inp = 0;
  for (std::size_t i = 0; i + 1 < c.sizes.size(); ++i) {
    const double f = 2.0 * double(c.sizes[i]) * double(c.sizes[i + 1]) * cols;
    fwd += f;
    if (i > 0) inp += f;  // input gradients, not of the network input
  }
  if (mode == "infer" || mode == "fwd") return fwd;
  if (mode == "bwd") return fwd + inp;
  return 2 * fwd + inp;
}

long rss_kib(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  const std::string key = std::string(field) + ":";
  while (std::getline(f, line))
    if (line.rfind(key, 0) == 0) return std::atol(line.c_str() + key.size());
  return 0;
}
bool reset_peak() {
  std::ofstream f("/proc/self/clear_refs");
  if (!f) return false;
  f << "5";
  return bool(f.flush());
}

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }
/// CPU time of the whole process (all threads) in ms: less sensitive than wall time to other load.
double cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}

struct Result {
  std::string config, mode;
  double rate = 0;
  std::vector<double> scales;  // the factors the hidden layers' weights were scaled by
  int threads = 1;
  std::vector<double> times, fwd, bwd, cpu;
  double flops = 0, flops_fwd = 0, flops_bwd = 0, peak_mib = 0, base_mib = 0, first_loss = 0;
  bool peak_reset = false;
  std::vector<double> densities;  // spike density of every LIF layer's output (last forward)
  std::vector<int> sparse;        // 1 if the Linear layer used the sparse path
};

std::string json_list(const std::vector<double>& v) {
  std::ostringstream o;
  o.precision(6);
  o << "[";
  for (std::size_t i = 0; i < v.size(); ++i) o << (i ? "," : "") << v[i];
  return o.str() + "]";
}
const char* impl_name() {
#ifdef EIGEN_USE_BLAS
  return "spikelab+blas";
#else
  return "spikelab";
#endif
}

/// What performs the matrix products: Eigen's own kernels or, with EIGEN_USE_BLAS, the BLAS.
const char* gemm_impl_name() {
#ifdef EIGEN_USE_BLAS
  return "Eigen+BLAS";
#else
  return "Eigen";
#endif
}

std::string to_json(const Result& r) {
  std::ostringstream o;
  o.precision(10);
  std::vector<double> sp(r.sparse.begin(), r.sparse.end());
  o << "{\"impl\":\"" << impl_name() << "\",\"config\":\"" << r.config << "\",\"mode\":\"" << r.mode << "\",\"threads\":" << r.threads
    << ",\"rate\":" << r.rate << ",\"scales\":" << json_list(r.scales)
    << ",\"times_ms\":" << json_list(r.times) << ",\"fwd_ms\":" << json_list(r.fwd) << ",\"bwd_ms\":" << json_list(r.bwd) << ",\"cpu_ms\":" << json_list(r.cpu)
    << ",\"flops\":" << r.flops << ",\"flops_fwd\":" << r.flops_fwd << ",\"flops_bwd\":" << r.flops_bwd
    << ",\"peak_rss_mib\":" << r.peak_mib << ",\"base_rss_mib\":" << r.base_mib
    << ",\"peak_reset\":" << (r.peak_reset ? "true" : "false") << ",\"first_loss\":" << r.first_loss
    << ",\"densities\":" << json_list(r.densities) << ",\"sparse\":" << json_list(sp) << "}";
  return o.str();
}

// ---- networks -------------------------------------------------------------------------------
using Hidden = Lif<F>;
using Readout = LeakyIntegrator<F>;
using ShdNet = Sequential<Linear<F>, Hidden, Linear<F>, Hidden, Linear<F>, Readout>;
using NmnistNet = Sequential<Linear<F>, Hidden, Linear<F>, Readout>;
using OnNet = Sequential<Linear<F>, Hidden>;
using Delay = LearnableDelay<F>;
using ShdDelayNet = Sequential<Delay, Hidden, Delay, Hidden, Delay, Readout>;

const LifConfig kLif{.beta = kBeta, .threshold = kTheta};
const LeakyIntegratorConfig kOut{.beta = kBetaOut};

template <class Net>
Net make_net(const Config& c, Rng& rng) {
  const auto& s = c.sizes;
  if constexpr (std::same_as<Net, ShdNet>)
    return Net{Linear<F>(s[0], s[1], rng), Hidden(s[1], kLif), Linear<F>(s[1], s[2], rng), Hidden(s[2], kLif),
               Linear<F>(s[2], s[3], rng), Readout(s[3], kOut)};
  else if constexpr (std::same_as<Net, ShdDelayNet>) {
    const LearnableDelayConfig d{.max_delay = c.delay, .sigma = double(c.delay) / 3.0, .bias = true};
    return Net{Delay(s[0], s[1], rng, d), Hidden(s[1], kLif), Delay(s[1], s[2], rng, d), Hidden(s[2], kLif),
               Delay(s[2], s[3], rng, d), Readout(s[3], kOut)};
  } else if constexpr (std::same_as<Net, NmnistNet>)
    return Net{Linear<F>(s[0], s[1], rng), Hidden(s[1], kLif), Linear<F>(s[1], s[2], rng), Readout(s[2], kOut)};
  else
    return Net{Linear<F>(s[0], s[1], rng), Hidden(s[1], kLif)};
}

Batch<F> make_batch(const Config& c, Rng& rng, Index steps) {
  Batch<F> b;
  b.input.resize(c.sizes[0], c.batch, steps);
  F* x = b.input.data();
  for (Index k = 0; k < b.input.values().size(); ++k)
    x[k] = c.spikes ? F(rng.uniform() < kDensity ? 1 : 0) : F(rng.normal());
  for (Index i = 0; i < c.batch; ++i) b.labels.push_back(int(rng.below(std::uint64_t(c.sizes.back()))));
  return b;
}

template <class Net>
void describe(Net& net, Result& r) {
  r.densities.clear();
  r.sparse.clear();
  net.for_each_layer([&](auto& l, std::size_t i) {
    using L = std::remove_cvref_t<decltype(l)>;
    if constexpr (std::same_as<L, Hidden>) {
      const auto& a = net.activation(i).values();
      r.densities.push_back(a.size() ? double((a.array() != F(0)).count()) / double(a.size()) : 0.0);
    }
    if constexpr (std::same_as<L, Linear<F>> || std::same_as<L, Delay>) r.sparse.push_back(l.used_sparse() ? 1 : 0);
  });
}

/// Scales the incoming weights (and bias) of each hidden LIF layer, from the first to the last,
/// so that its spike density on `x` is `rate`: a geometric bisection on the factor. Returns the
/// factors. The output layer (the readout, or ON's LIF layer) is left as it is.
template <class Net>
std::vector<double> calibrate(Net& net, const TimeSeries<F>& x, double rate) {
  std::vector<double> factors;
  if (rate <= 0) return factors;
  constexpr std::size_t last = Net::size - 1;
  net.for_each_layer([&](auto& l, std::size_t i) {
    using L = std::remove_cvref_t<decltype(l)>;
    if constexpr (std::same_as<L, Linear<F>>) {
      if (i + 2 > last) return;  // only Linear layers that feed a hidden LIF layer
      const Matrix<F> w0 = l.weight(), b0 = l.bias();
      auto density_at = [&](double s) {
        l.weight() = w0 * F(s);
        l.bias() = b0 * F(s);
        net.forward(x, ForwardContext::eval());
        const auto& a = net.activation(i + 1).values();
        return double((a.array() != F(0)).count()) / double(a.size());
      };
      double lo = 1, hi = 1;
      while (density_at(hi) < rate && hi < 1e4) hi *= 2;
      while (density_at(lo) > rate && lo > 1e-4) lo /= 2;
      for (int k = 0; k < 30 && hi / lo > 1.0001; ++k) {
        const double mid = std::sqrt(lo * hi);
        (density_at(mid) < rate ? lo : hi) = mid;
      }
      const double s = std::abs(density_at(lo) - rate) < std::abs(density_at(hi) - rate) ? lo : hi;
      density_at(s);
      factors.push_back(s);
    }
  });
  return factors;
}

struct Toggle {
  bool on;
  explicit Toggle(bool b) : on(b) {
#ifdef SPIKELAB_BENCH_HAVE_CALLGRIND
    if (on) CALLGRIND_TOGGLE_COLLECT;
#endif
  }
  ~Toggle() {
#ifdef SPIKELAB_BENCH_HAVE_CALLGRIND
    if (on) CALLGRIND_TOGGLE_COLLECT;
#endif
  }
};

template <class Net>
Result run(const Config& c, const std::string& mode, int reps, int warmup, int threads, bool callgrind) {
  Result r;
  r.config = c.name;
  r.mode = mode;
  r.threads = threads;
  Rng rng(42);
  Net net = make_net<Net>(c, rng);
  Batch<F> batch = make_batch(c, rng, c.steps);
  r.rate = c.rate;
  if (c.rate > 0) {
    // calibrate a copy: its forward passes allocate the activation buffers, which must count in
    // the step memory below; only the scaled weights are taken over
    Net probe = net;
    r.scales = calibrate(probe, batch.input, c.rate);
    std::vector<const Linear<F>*> scaled;
    probe.for_each_layer([&](auto& l, std::size_t) {
      if constexpr (std::same_as<std::remove_cvref_t<decltype(l)>, Linear<F>>) scaled.push_back(&l);
    });
    std::size_t k = 0;
    net.for_each_layer([&](auto& l, std::size_t) {
      if constexpr (std::same_as<std::remove_cvref_t<decltype(l)>, Linear<F>>) {
        l.weight() = scaled[k]->weight();
        l.bias() = scaled[k]->bias();
        ++k;
      }
    });
  }
  Bptt<SumCrossEntropy> bptt;
  Optimizer<F, Adam> opt({.lr = kLr});
  // ON's loss is the sum of the output spikes: its gradient is a constant of ones (PyTorch's
  // autograd expands a scalar instead), made here with the data.
  TimeSeries<F> ones(c.sizes.back(), c.batch, c.steps);
  ones.values().setOnes();
  // the step's memory: peak RSS during the steps over the RSS once network, data and optimizer exist
  malloc_trim(0);
  r.base_mib = double(rss_kib("VmRSS")) / 1024.0;
  r.peak_reset = reset_peak();
  for (int k = 0; k < warmup + reps; ++k) {
    const bool timed = k >= warmup;
    Toggle tog(callgrind && timed);
    const double c0 = cpu_ms();
    struct CpuRecord {
      std::vector<double>& v;
      double c0;
      bool on;
      ~CpuRecord() {
        if (on) v.push_back(cpu_ms() - c0);
      }
    } rec{r.cpu, c0, timed};
    if (mode == "stream") {  // one step at a time through the whole network, the state carried
      if constexpr (!std::same_as<Net, ShdDelayNet>) {  // (a LearnableDelay streams as its round_delays())
        auto st = net.make_stream_state(c.batch);
        const auto t0 = Clock::now();
        double sum = 0;
        for (Index t = 0; t < c.steps; ++t) sum += double(net.forward_step(st, batch.input.slot(t)).sum());
        const double t = ms_since(t0);
        if (k == 0) r.first_loss = sum;
        if (timed) r.times.push_back(t);
      }
      continue;
    }
    if (mode == "infer") {
      const auto t0 = Clock::now();
      const TimeSeries<F>& out = net.forward(batch.input, ForwardContext::eval());
      const double t = ms_since(t0);
      if (k == 0) r.first_loss = c.readout ? double(bptt.loss().value(out, batch)) : double(out.values().sum());
      if (timed) r.times.push_back(t);
      continue;
    }
    if (c.readout) {
      const auto t0 = Clock::now();
      net.zero_grad();
      const StepStats st = bptt.accumulate(net, batch, rng);
      opt.step(net);
      const double t = ms_since(t0);
      if (k == 0) r.first_loss = st.loss;
      if (timed) r.times.push_back(t);
    } else {  // ON: loss = sum of output spikes; forward and backward timed separately, no optimizer
      const auto t0 = Clock::now();
      net.zero_grad();
      const TimeSeries<F>& out = net.forward(batch.input, ForwardContext::train(rng));
      const double loss = double(out.values().sum());
      const double tf = ms_since(t0);
      const auto t1 = Clock::now();
      net.backward(ones);
      const double tb = ms_since(t1);
      if (k == 0) r.first_loss = loss;
      if (timed) {
        r.fwd.push_back(tf);
        r.bwd.push_back(tb);
        r.times.push_back(tf + tb);
      }
    }
  }
  if (mode == "stream") net.forward(batch.input, ForwardContext::eval());  // for the densities below
  describe(net, r);
  r.flops = dense_flops(c, mode == "infer" || mode == "stream" ? "infer" : "train");
  r.flops_fwd = dense_flops(c, "fwd");
  r.flops_bwd = dense_flops(c, "bwd");
  r.peak_mib = double(rss_kib("VmHWM")) / 1024.0;
  return r;
}

Result run_named(const std::string& name, double rate, const std::string& mode, int reps, int warmup, int threads,
                 bool cg) {
  Config c = find_config(name);
  c.rate = rate;
  if (c.delay > 0) {
    if (rate > 0 || mode == "stream")
      throw std::runtime_error(name + ": the delay network runs at the harness's weights, in modes train and infer");
    return run<ShdDelayNet>(c, mode, reps, warmup, threads, cg);
  }
  if (c.sizes.size() == 4) return run<ShdNet>(c, mode, reps, warmup, threads, cg);
  if (c.sizes.size() == 3) return run<NmnistNet>(c, mode, reps, warmup, threads, cg);
  return run<OnNet>(c, mode, reps, warmup, threads, cg);
}

// ---- GEMM peak -------------------------------------------------------------------------------
// Through the library's own product (columns split over spikelab's threads), so that the BLAS
// build, whose OpenBLAS runs single-threaded inside each part, reports what its products reach.
double gemm_peak(double seconds = 1.0) {
  double best = 0;
  for (Index n : {Index(1024), Index(2048)}) {
    Matrix<F> a = Matrix<F>::Random(n, n), b = Matrix<F>::Random(n, n), c(n, n);
    parallel_product(c, a, b);
    const auto end = Clock::now() + std::chrono::duration<double>(seconds);
    while (Clock::now() < end) {
      const auto t0 = Clock::now();
      parallel_product(c, a, b);
      best = std::max(best, 2.0 * double(n) * double(n) * double(n) / (ms_since(t0) * 1e6));
    }
  }
  return best;
}

// ---- export for reference_torch.py --verify ---------------------------------------------------
void write_raw(const std::filesystem::path& p, const F* d, Index n) {
  std::ofstream f(p, std::ios::binary);
  f.write(reinterpret_cast<const char*>(d), std::streamsize(n * Index(sizeof(F))));
  if (!f) throw std::runtime_error("cannot write " + p.string());
}

template <class Net>
void export_one(const Config& c0, const std::filesystem::path& dir) {
  Config c = c0;
  c.steps = 20;
  Rng rng(7);
  Net net = make_net<Net>(c, rng);
  Batch<F> batch = make_batch(c, rng, c.steps);
  std::filesystem::create_directories(dir / c.name);
  const auto d = dir / c.name;
  write_raw(d / "input.f32", batch.input.data(), batch.input.values().size());
  {
    std::ofstream f(d / "labels.txt");
    for (int l : batch.labels) f << l << "\n";
  }
  int li = 0;
  net.for_each_layer([&](auto& l, std::size_t) {
    if constexpr (std::same_as<std::remove_cvref_t<decltype(l)>, Linear<F>>) {
      write_raw(d / ("w" + std::to_string(li) + ".f32"), l.weight().data(), l.weight().size());
      write_raw(d / ("b" + std::to_string(li) + ".f32"), l.bias().data(), l.bias().size());
      ++li;
    }
  });
  net.zero_grad();
  double loss = 0;
  if (c.readout) {
    Bptt<SumCrossEntropy> bptt;
    loss = bptt.accumulate(net, batch, rng).loss;
  } else {
    const auto& out = net.forward(batch.input, ForwardContext::train(rng));
    loss = double(out.values().sum());
    TimeSeries<F> ones(out.features(), out.batch(), out.steps());
    ones.values().setOnes();
    net.backward(ones);
  }
  li = 0;
  net.for_each_layer([&](auto& l, std::size_t) {
    if constexpr (std::same_as<std::remove_cvref_t<decltype(l)>, Linear<F>>) {
      write_raw(d / ("gw" + std::to_string(li) + ".f32"), l.weight_grad().data(), l.weight_grad().size());
      write_raw(d / ("gb" + std::to_string(li) + ".f32"), l.bias_grad().data(), l.bias_grad().size());
      ++li;
    }
  });
  std::ofstream m(d / "meta.json");
  m.precision(10);
  m << "{\"config\":\"" << c.name << "\",\"steps\":" << c.steps << ",\"batch\":" << c.batch << ",\"loss\":" << loss
    << ",\"sizes\":[";
  for (std::size_t i = 0; i < c.sizes.size(); ++i) m << (i ? "," : "") << c.sizes[i];
  m << "]}\n";
}

// ---- table -----------------------------------------------------------------------------------
double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n == 0 ? 0 : (n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]));
}
void print_table(const std::vector<Result>& rs) {
  std::printf("%-8s %5s %-6s %-13s %10s %19s %9s %10s %10s %8s  %s\n", "config", "rate", "mode", "impl", "median ms",
              "min-max ms", "GFLOP/s", "peak MiB", "step MiB", "cpu ms", "LIF spike density");
  for (const auto& r : rs) {
    struct Row {
      std::string mode;
      const std::vector<double>* t;
      double flops;
    };
    std::vector<Row> rows{{r.mode, &r.times, r.flops}};
    if (!r.fwd.empty()) rows.push_back({"fwd", &r.fwd, r.flops_fwd}), rows.push_back({"bwd", &r.bwd, r.flops_bwd});
    for (const auto& row : rows) {
      const double med = median(*row.t);
      const auto [lo, hi] = std::minmax_element(row.t->begin(), row.t->end());
      std::string dens;
      for (double d : r.densities) {
        if (!dens.empty()) dens += ' ';
        dens += std::to_string(d).substr(0, 6);
      }
      const double cpu = row.t == &r.times ? median(r.cpu) : 0.0;
      const std::string rate = r.rate > 0 ? std::to_string(r.rate).substr(0, 5) : "-";
      std::printf("%-8s %5s %-6s %-13s %10.2f %9.2f-%-9.2f %9.1f %10.1f %10.1f %8.2f  %s\n", r.config.c_str(), rate.c_str(),
                  row.mode.c_str(), impl_name(), med, *lo, *hi, row.flops / med / 1e6, r.peak_mib, r.peak_mib - r.base_mib,
                  cpu, dens.c_str());
    }
  }
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

int usage(const std::string& msg) {
  std::fprintf(stderr, "error: %s (try --help)\n", msg.c_str());
  return 2;
}

}  // namespace

int main(int argc, char** argv) try {
  std::string cfgs = "SHD,NMNIST,ON512,ON4096", modes = "train,infer", rates = "0", json, export_dir, child_cfg,
              child_mode;
  double child_rate = 0;
  std::vector<std::string> child;
  int reps = 7, warmup = 2, threads = 2;
  bool peak = false, callgrind = false;
  spikelab_examples::CommandLine cli("spikelab-bench",
                                     "spikelab benchmark harness: training step and inference of the configurations SHD, NMNIST,\n"
                                     "ON512 and ON4096 (BENCHMARKS.md), each (config, rate, mode) in a child process of its own.");
  cli.option("configs", cfgs, "comma-separated configurations")
      .option("modes", modes, "comma-separated modes: train, infer, stream (one step at a time)")
      .option("rates", rates, "comma-separated target firing rates of the hidden LIF layers (0: the weights as initialised)")
      .repetitions(reps, warmup)
      .threads(threads)
      .json(json)
      .flag("gemm-peak", peak, "also measure the sgemm peak of the library's product")
      .option("export", export_dir, "write one step of SHD, NMNIST, ON512 for reference_torch.py --verify here and exit")
      .flag("callgrind", callgrind, "bracket the timed region by callgrind's collection toggles");
  cli.app()
      .add_option("--child", child, "CONFIG MODE: run one configuration in one mode in this process (the parent starts these)")
      ->expected(2)
      ->default_str("");
  cli.app().add_option("--rate", child_rate, "the target firing rate of the --child run");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  if (child.size() == 2) child_cfg = child[0], child_mode = child[1];
  if (reps < 1 || warmup < 0 || threads < 1) return usage("--reps >= 1, --warmup >= 0, --threads >= 1");
  set_num_threads(threads);
  if (!child_cfg.empty()) {
    const Result r = run_named(child_cfg, child_rate, child_mode, reps, warmup, threads, callgrind);
    std::printf("RESULT %s\n", to_json(r).c_str());
    return 0;
  }
  if (!export_dir.empty()) {
    for (const auto& name : {"SHD", "NMNIST", "ON512"}) {
      const Config& c = find_config(name);
      if (c.sizes.size() == 4) export_one<ShdNet>(c, export_dir);
      else if (c.sizes.size() == 3) export_one<NmnistNet>(c, export_dir);
      else export_one<OnNet>(c, export_dir);
    }
    std::printf("exported SHD, NMNIST, ON512 (T = 20) to %s\n", export_dir.c_str());
    return 0;
  }
  // parent: one child process per (config, rate, mode)
  std::vector<Result> results;
  std::vector<std::string> lines;
  const std::string self = std::filesystem::canonical("/proc/self/exe").string();
  for (const auto& name : split(cfgs)) {
    find_config(name);
    int r = reps, w = warmup;
    if (name == "ON4096") r = std::max(2, std::min(reps, 3)), w = 1;
    for (const auto& rate_s : split(rates)) {
      const double rate = std::stod(rate_s);
      if (rate < 0 || rate >= 1) return usage("--rates: each rate must be in [0, 1)");
      if (rate > 0 && name.rfind("ON", 0) == 0) continue;  // ON has no hidden layer
      if ((rate > 0) && find_config(name).delay > 0) continue;  // delay networks: the harness's weights only
      for (const auto& mode : split(modes)) {
        if (mode != "train" && mode != "infer" && mode != "stream") return usage("unknown mode " + mode);
        const std::string cmd = "'" + self + "' --child " + name + " " + mode + " --rate " + rate_s + " --reps " +
                                std::to_string(r) + " --warmup " + std::to_string(w) + " --threads " + std::to_string(threads);
        std::unique_ptr<FILE, int (*)(FILE*)> p(popen(cmd.c_str(), "r"), pclose);
        if (!p) throw std::runtime_error("cannot run " + cmd);
        std::string out;
        char buf[4096];
        while (std::fgets(buf, sizeof buf, p.get())) out += buf;
        const auto pos = out.find("RESULT ");
        if (pos == std::string::npos) throw std::runtime_error("child failed: " + cmd + "\n" + out);
        std::string line = out.substr(pos + 7);
        line = line.substr(0, line.find('\n'));
        lines.push_back(line);
        // the numbers of the child's JSON line, for the table
        Result res;
        res.config = name;
        res.mode = mode;
        res.rate = rate;
        auto grab = [&](const std::string& key) {
          const auto k = line.find("\"" + key + "\":");
          return k == std::string::npos ? std::string() : line.substr(k + key.size() + 3);
        };
        auto nums = [&](const std::string& key) {
          std::vector<double> v;
          std::string s = grab(key);
          if (s.empty() || s[0] != '[') return v;
          s = s.substr(1, s.find(']') - 1);
          for (const auto& x : split(s)) v.push_back(std::stod(x));
          return v;
        };
        auto num = [&](const std::string& key) { return std::stod(grab(key)); };
        res.times = nums("times_ms");
        res.fwd = nums("fwd_ms");
        res.bwd = nums("bwd_ms");
        res.cpu = nums("cpu_ms");
        res.densities = nums("densities");
        res.flops = num("flops");
        res.flops_fwd = num("flops_fwd");
        res.flops_bwd = num("flops_bwd");
        res.peak_mib = num("peak_rss_mib");
        res.base_mib = num("base_rss_mib");
        results.push_back(res);
      }
    }
  }
  double gp = 0;
  if (peak) {
    gp = gemm_peak();
    std::printf("%s sgemm peak, %d threads: %.1f GFLOP/s\n", gemm_impl_name(), threads, gp);
  }
  if (!results.empty()) print_table(results);
  if (!json.empty()) {
    std::ofstream f(json);
    f << "{\"gemm_impl\":\"" << gemm_impl_name() << "\",\"gemm_peak_gflops\":" << gp << ",\"results\":[\n";
    for (std::size_t i = 0; i < lines.size(); ++i) f << (i ? ",\n" : "") << lines[i];
    f << "]}\n";
    if (!f) throw std::runtime_error("cannot write " + json);
  }
  return 0;
} catch (const std::exception& e) {
  std::fprintf(stderr, "spikelab-bench: %s\n", e.what());
  return 1;
}
