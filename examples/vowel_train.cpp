// spikelab-vowel: VOWEL (Jang, Skatchkovsky & Simeone 2020) on event data. Trains, for each
// hidden size in --hidden-sizes and each seed, a WTA-SNN whose circuits have a 2-symbol
// alphabet (the two event polarities) and the kclip binary baseline of the same size: a binary
// GLM SNN that sees the same data as 2 binary inputs per pixel, trained with the kclip
// binary-SNN variant of the rule, on the kclip binary topology (hidden neurons also receive from
// the outputs). Both are measured the same way (--eval-samples free runs; the 1-run accuracy is
// what the official code reports).
//
// Data: N-MNIST binned as the VOWEL code bins MNIST-DVS (25 ms, a spike if >= 1 event), 17x17
// pixels by default; --task synthetic needs no data. --protocol vowel-paper sets what the first
// kclip code (the VOWEL era) sets; --csv / --resume / --summarize as in spikelab-gem.
#include "common/probabilistic.hpp"

using namespace spikelab_examples;

namespace {

struct VowelOptions {
  std::string sizes = "16";
  std::string models = "wta,binary";
  double gamma = 1.0, r_wta = 0.8, r_binary = 0.3;
  std::string binary_topology = "kclip-binary";
  double binary_fb_mu = -1;  // < 0: as the WTA network
  int binary_lr_halve_every = -1;  // < 0: as the WTA network
};

/// kclip/snn at its first commit (launch_experiment.py and the files named), the code of the
/// VOWEL paper's time; where that code does not run as committed, kclip's later code.
std::vector<ProtocolSetting> vowel_paper(ProbOptions& o, VowelOptions& v) {
  return {set_option("lr", o.lr, 0.005, "launch_experiment.py --lr 0.005"),
          set_option("lr-halve-every", o.lr_halve_every, 3, "WTA: lr / 2 every 3 passes over the training set"),
          set_option("binary-lr-halve-every", v.binary_lr_halve_every, 1, "binary: lr / 2 every pass"),
          set_option("kappa", o.kappa, 0.2, "--kappa 0.2"),
          set_option("beta", o.beta, 0.05, "--beta 0.05"),
          set_option("gamma", v.gamma, 1.0, "--gamma 1"),
          set_option("r-wta", v.r_wta, 0.8, "--r 0.8 (WTA: reference no-spike probability)"),
          set_option("r-binary", v.r_binary, 0.3,
                     "later kclip binary yml (the first code passes its WTA r = 0.8 and an undefined alpha)"),
          set_option("init", o.init, 0.05, "--weights_magnitude 0.05"),
          set_option("kernel", o.kernel, "raised_cosine_hrjang", "utils/filters.py raised_cosine_pillow_08 of that code"),
          set_option("bases", o.bases, 8L, "--n_basis_ff 8"),
          set_option("memory", o.memory, 10L, "--tau_ff 10 = --tau_fb"),
          set_option("mu", o.mu, 1.5, "--mu 1.5"),
          set_option("fb-mu", o.fb_mu, 1.0, "WTA_SNN.py: feedback kernel mu = 1.0"),
          set_option("binary-fb-mu", v.binary_fb_mu, 1.5, "binary SNN: feedback kernel mu = --mu"),
          set_option("topology", o.topology, "gem-code", "make_topology fully_connected, wta (= gem-code)"),
          set_option("binary-topology", v.binary_topology, "kclip-binary", "make_topology fully_connected, snn"),
          set_option("hidden-sizes", v.sizes, "128", "--n_h 128"),
          set_option("eval-samples", o.eval_samples, 1L, "one free run per test example")};
}

}  // namespace

int main(int argc, char** argv) {
  ProbOptions o;
  VowelOptions v;
  std::string protocol = early_value(argc, argv, {"protocol"}, "");
  std::vector<ProtocolSetting> proto;
  if (protocol == "vowel-paper")
    proto = vowel_paper(o, v);
  else if (!protocol.empty()) {
    std::cerr << "error: --protocol must be vowel-paper\n";
    return 2;
  }
  apply_protocol(proto);
  CommandLine cli("spikelab-vowel",
                  "VOWEL: variational online local learning of probabilistic SNNs. Compares a WTA-SNN (circuits with\n"
                  "a 2-symbol alphabet: the polarity of an event is the symbol) with the kclip binary baseline with the\n"
                  "same number of hidden neurons on the same data (2 binary inputs per pixel), both trained by VOWEL,\n"
                  "and reports test accuracy, calibration and log-likelihood (mean +- sd over seeds).");
  o.add_to(cli);
  cli.option("protocol", protocol, "vowel-paper: the first kclip code's settings (printed); options given here win")
      .option("hidden-sizes", v.sizes, "comma-separated hidden sizes to compare")
      .option("models", v.models, "wta, binary or wta,binary")
      .option("gamma", v.gamma, "weight of the KL regulariser")
      .option("r-wta", v.r_wta, "WTA code's reference NO-spike probability r")
      .option("r-binary", v.r_binary, "binary code's reference spiking probability r")
      .option("binary-topology", v.binary_topology, "the binary network's topology (kclip-binary: hidden <- output)")
      .option("binary-fb-mu", v.binary_fb_mu, "the binary network's feedback-kernel mu (< 0: --fb-mu)")
      .option("binary-lr-halve-every", v.binary_lr_halve_every, "the binary network's schedule (< 0: --lr-halve-every)");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    if (!o.summarize.empty()) {
      print_tables(read_runs(o.summarize));
      return 0;
    }
    o.check();
    (void)o.topology_value(v.binary_topology);
    const std::vector<long> hs = parse_list<long>("hidden-sizes", v.sizes, 1);
    const bool do_wta = v.models.find("wta") != std::string::npos, do_bin = v.models.find("binary") != std::string::npos;
    if (!do_wta && !do_bin) throw std::invalid_argument("--models must name wta and/or binary");
    sl::set_num_threads(o.threads);
    const ExperimentData data(o);
    const sl::ThreeFactorConfig rc = o.rule_config(sl::Vowel::signal_type::default_config());
    const int bin_halve = v.binary_lr_halve_every >= 0 ? v.binary_lr_halve_every : o.lr_halve_every;
    std::cout << "spikelab " << sl::version::as_string() << "\n";
    print_protocol(protocol, proto, cli);
    std::cout << "data: " << data.description() << "\n"
              << "rule: VOWEL, lr " << rc.lr << " (halved every " << o.lr_halve_every << " / " << bin_halve
              << " epochs, WTA / binary; 0 = never), kappa " << rc.kappa << ", beta " << rc.beta << ", gamma "
              << v.gamma << " (WTA: r = " << v.r_wta << " no-spike probability; binary: r = " << v.r_binary
              << " spiking probability); " << o.seeds << " seed(s); " << o.epochs << " epoch(s)\n";
    CsvLog csv(o.csv);
    std::mutex io;
    std::vector<std::function<RunResult()>> tasks;
    std::shared_ptr<sl::WtaSnn<float, 2>> last;
    for (long h : hs)
      for (int s = 0; s < o.seeds; ++s) {
        const std::uint64_t seed = o.seed + std::uint64_t(s);
        ProbOptions oh = o;
        oh.hidden = h;
        if (do_wta)
          tasks.push_back([&, oh, seed, h] {
            sl::Rng rng(seed);
            auto net = std::make_shared<sl::WtaSnn<float, 2>>(oh.network_config(data.pixels(), data.classes()), rng);
            const RunSpec spec{task_name(o), "vowel-wta", 1, h, oh.topology, seed};
            {
              std::lock_guard<std::mutex> lock(io);
              std::cout << "[" << spec.label() << "] WTA network: " << net->describe() << std::endl;
            }
            RunResult r = train_run(*net, sl::Vowel(rc, sl::VowelSignal::wta_code(v.gamma, v.r_wta)), data, oh, spec, csv,
                                    io, oh.lr_halve_every);
            std::lock_guard<std::mutex> lock(io);
            last = net;
            return r;
          });
        if (do_bin)
          tasks.push_back([&, oh, seed, h] {
            sl::Rng rng(seed);
            sl::GlmSnn<float> net(oh.network_config(data.pixels() * 2, data.classes(), v.binary_topology, v.binary_fb_mu),
                                  rng);
            const RunSpec spec{task_name(o), "vowel-binary", 1, h, v.binary_topology, seed};
            {
              std::lock_guard<std::mutex> lock(io);
              std::cout << "[" << spec.label() << "] binary network: " << net.describe() << std::endl;
            }
            return train_run(net, sl::Vowel(rc, sl::VowelSignal::binary_code(v.gamma, v.r_binary)), data, oh, spec, csv,
                             io, bin_halve);
          });
      }
    const auto runs = run_all(std::move(tasks), o.jobs, o.threads);
    std::cout << "\nVOWEL summary (mean +- sd over seeds of the last epoch; every measurement with " << o.eval_samples
              << " free runs per test input):";
    print_tables(runs);
    if (last) save_if_asked(*last, o);
    return 0;
  } catch (const std::invalid_argument& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
