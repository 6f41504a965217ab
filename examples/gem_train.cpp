// spikelab-gem: trains probabilistic GLM SNNs with GEM-SNN (Jang & Simeone 2021) for each
// number of compartments K in --compartments (training and inference both use K), over
// --seeds seeds, and prints the table the GEM paper's claim is about: training
// log-likelihood, test accuracy and expected calibration error versus K.
//
// Data: N-MNIST (the NMNISTsmall subset) binned as the paper bins MNIST-DVS: 25 ms windows,
// a spike if a pixel had >= 1 event, 2 polarities as 2 binary inputs per pixel; downsampled
// to 17 x 17 by default (see --help). --task synthetic needs no data.
#include "common/probabilistic.hpp"

using namespace spikelab_examples;

int main(int argc, char** argv) {
  ProbOptions o;
  std::string ks = "1,2,4,8";
  long eval_k = 0;
  CommandLine cli("spikelab-gem",
                  "GEM-SNN: multi-compartment online learning of a probabilistic GLM SNN (inputs -> hidden (recurrent)\n"
                  "-> 10 outputs). For each K in --compartments and each seed, trains for --epochs epochs (an update after\n"
                  "every time step) and measures, with K compartments: the training log-likelihood of the target outputs\n"
                  "(K-sample importance-weighted and single-sample mean), test accuracy (majority vote and averaged\n"
                  "spike-count distributions) and the expected calibration error of the class probabilities.");
  o.add_to(cli);
  cli.option("compartments", ks, "comma-separated numbers of compartments K to compare")
      .option("eval-compartments", eval_k,
              "compartments used to measure every trained network (0: the K it was trained with)");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    const std::vector<long> Ks = parse_list<long>("compartments", ks, 1);
    sl::set_num_threads(o.threads);
    const ExperimentData data(o);
    const sl::ThreeFactorConfig rc = o.rule_config(sl::Gem<>::signal_type::default_config());
    std::cout << "spikelab " << sl::version::as_string() << "\n"
              << "data: " << data.description() << "\n"
              << "rule: GEM, lr " << rc.lr << ", kappa " << rc.kappa << "; K = " << ks << "; " << o.seeds
              << " seed(s) from " << o.seed << "; " << o.epochs << " epoch(s); " << o.jobs << " job(s)\n";
    if (eval_k < 0) throw std::invalid_argument("--eval-compartments must be >= 0");
    std::mutex io;
    std::vector<std::function<RunResult()>> tasks;
    std::shared_ptr<sl::GlmSnn<float>> last;
    for (long K : Ks)
      for (int s = 0; s < o.seeds; ++s) {
        const std::uint64_t seed = o.seed + std::uint64_t(s);
        const bool is_last = K == Ks.back() && s == o.seeds - 1;
        tasks.push_back([&, K, seed, is_last] {
          sl::Rng rng(seed);
          auto net = std::make_shared<sl::GlmSnn<float>>(o.network_config(data.pixels() * 2, data.classes()), rng);
          if (is_last) {
            std::lock_guard<std::mutex> lock(io);
            std::cout << "network: " << net->signature() << " (" << net->parameter_count() << " parameters)\n";
          }
          sl::ThreeFactorConfig c = rc;
          c.eval_compartments = eval_k;  // per-epoch validation with the same K as the final measurement
          sl::Gem<> rule(c, sl::GemSignal<>(K));
          RunResult r = train_and_measure(*net, std::move(rule), data, o, "K=" + std::to_string(K),
                                          eval_k > 0 ? eval_k : K, seed, io);
          if (is_last) last = net;
          return r;
        });
      }
    const auto runs = run_all(std::move(tasks), o.jobs, o.threads);
    std::cout << "\nGEM-SNN summary (mean +- sd over seeds; LL = log-likelihood of the target outputs per sample,\n"
                 "summed over steps and output neurons; K compartments for training, "
              << (eval_k > 0 ? std::to_string(eval_k) + " for every measurement" : "the same K for inference")
              << "; '1 sample' = the same network measured with one compartment):";
    print_table(runs, "K");
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
