// spikelab-vowel: VOWEL (Jang, Skatchkovsky & Simeone 2020) on event data. Trains, for each
// hidden size in --hidden-sizes and each seed, a WTA-SNN whose circuits have a 2-symbol
// alphabet (the two event polarities) and a binary GLM SNN of the same size that sees the
// same data as 2 binary inputs per pixel, both with VOWEL (the binary one with the kclip
// binary-SNN variant of the rule), and prints their test accuracy side by side.
//
// Data: N-MNIST binned as Jang & Simeone (ICASSP 2021) bin MNIST-DVS (25 ms, a spike if >= 1
// event), 17x17 pixels by default; --task synthetic needs no data.
#include "common/probabilistic.hpp"

using namespace spikelab_examples;

int main(int argc, char** argv) {
  ProbOptions o;
  std::string sizes = "16";
  std::string models = "wta,binary";
  double gamma = 1.0, r_wta = 0.8, r_binary = 0.3;
  CommandLine cli("spikelab-vowel",
                  "VOWEL: variational online local learning of probabilistic SNNs. Compares a WTA-SNN (circuits with\n"
                  "a 2-symbol alphabet: the polarity of an event is the symbol) with a binary GLM SNN with the same\n"
                  "number of hidden neurons on the same data (2 binary inputs per pixel), both trained by VOWEL, and\n"
                  "reports test accuracy, calibration and log-likelihood (mean +- sd over seeds).");
  o.add_to(cli);
  cli.option("hidden-sizes", sizes, "comma-separated hidden sizes to compare")
      .option("models", models, "wta, binary or wta,binary")
      .option("gamma", gamma, "weight of the KL regulariser")
      .option("r-wta", r_wta, "WTA code's reference NO-spike probability r")
      .option("r-binary", r_binary, "binary code's reference spiking probability r");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    const std::vector<long> hs = parse_list<long>("hidden-sizes", sizes, 1);
    const bool do_wta = models.find("wta") != std::string::npos, do_bin = models.find("binary") != std::string::npos;
    if (!do_wta && !do_bin) throw std::invalid_argument("--models must name wta and/or binary");
    sl::set_num_threads(o.threads);
    const ExperimentData data(o);
    const sl::ThreeFactorConfig rc = o.rule_config(sl::Vowel::signal_type::default_config());
    std::cout << "spikelab " << sl::version::as_string() << "\n"
              << "data: " << data.description() << "\n"
              << "rule: VOWEL, lr " << rc.lr << ", kappa " << rc.kappa << ", beta " << rc.beta << ", gamma " << gamma
              << " (WTA: r = " << r_wta << " no-spike probability; binary: r = " << r_binary
              << " spiking probability); " << o.seeds << " seed(s); " << o.epochs << " epoch(s)\n";
    std::mutex io;
    std::vector<std::function<RunResult()>> tasks;
    std::shared_ptr<sl::WtaSnn<float, 2>> last;
    for (long h : hs)
      for (int s = 0; s < o.seeds; ++s) {
        const std::uint64_t seed = o.seed + std::uint64_t(s);
        ProbOptions oh = o;
        oh.hidden = h;
        if (do_wta)
          tasks.push_back([&, oh, seed, h, s] {
            sl::Rng rng(seed);
            auto net = std::make_shared<sl::WtaSnn<float, 2>>(oh.network_config(data.pixels(), data.classes()), rng);
            if (s == 0) {
              std::lock_guard<std::mutex> lock(io);
              std::cout << "WTA network: " << net->signature() << " (" << net->parameter_count() << " parameters)\n";
            }
            sl::Vowel rule(rc, sl::VowelSignal::wta_code(gamma, r_wta));
            RunResult r = train_and_measure(*net, std::move(rule), data, oh, "WTA-SNN C=2, " + std::to_string(h) + " hidden",
                                            1, seed, io);
            {
              std::lock_guard<std::mutex> lock(io);
              last = net;
            }
            return r;
          });
        if (do_bin)
          tasks.push_back([&, oh, seed, h, s] {
            sl::Rng rng(seed);
            sl::GlmSnn<float> net(oh.network_config(data.pixels() * 2, data.classes()), rng);
            if (s == 0) {
              std::lock_guard<std::mutex> lock(io);
              std::cout << "binary network: " << net.signature() << " (" << net.parameter_count() << " parameters)\n";
            }
            sl::Vowel rule(rc, sl::VowelSignal::binary_code(gamma, r_binary));
            return train_and_measure(net, std::move(rule), data, oh, "binary GLM, " + std::to_string(h) + " hidden", 1,
                                     seed, io);
          });
      }
    const auto runs = run_all(std::move(tasks), o.jobs, o.threads);
    std::cout << "\nVOWEL summary (mean +- sd over seeds; one sample per input at test time):";
    print_table(runs, "model");
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
