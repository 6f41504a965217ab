// spikelab-ml: the single-sample maximum-likelihood online rule (K = 1) for a probabilistic
// GLM SNN, in its EM form (hidden neurons learn from their own sample, as GEM with K = 1) and/or
// its REINFORCE form (hidden neurons learn from the decayed output log-likelihood against the
// optimal baseline, hrjang's train_ml_online).
//
// Data: N-MNIST binned as Jang & Simeone (ICASSP 2021) bin MNIST-DVS (25 ms, a spike if >= 1
// event), 17x17 pixels by default; --task synthetic needs no data.
#include "common/probabilistic.hpp"

using namespace spikelab_examples;

int main(int argc, char** argv) {
  ProbOptions o;
  std::string forms = "em,reinforce";
  CommandLine cli("spikelab-ml",
                  "Single-sample online maximum-likelihood learning of a probabilistic GLM SNN (inputs -> hidden\n"
                  "(recurrent) -> 10 outputs): an update after every time step from eligibility traces and, for the\n"
                  "hidden neurons, a learning signal. Reports training log-likelihood, test accuracy and calibration.");
  o.add_to(cli);
  cli.option("forms", forms, "em, reinforce or em,reinforce (the hidden neurons' learning signal)");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    if (!o.summarize.empty()) {
      print_tables(read_runs(o.summarize));
      return 0;
    }
    o.check();
    std::vector<std::string> names;
    if (forms.find("em") != std::string::npos) names.push_back("single");
    if (forms.find("reinforce") != std::string::npos) names.push_back("single-reinforce");
    if (names.empty()) throw std::invalid_argument("--forms must name em and/or reinforce");
    sl::set_num_threads(o.threads);
    const ExperimentData data(o);
    const sl::ThreeFactorConfig rc = o.rule_config(sl::SingleSampleMl::signal_type::default_config());
    std::cout << "spikelab " << sl::version::as_string() << "\n"
              << "data: " << data.description() << "\n"
              << "rule: single-sample ML, lr " << rc.lr << ", kappa " << rc.kappa << ", beta " << rc.beta << "; "
              << o.seeds << " seed(s); " << o.epochs << " epoch(s)\n";
    CsvLog csv(o.csv);
    std::mutex io;
    std::vector<std::function<RunResult()>> tasks;
    std::shared_ptr<sl::GlmSnn<float>> last;
    for (const std::string& name : names)
      for (int s = 0; s < o.seeds; ++s) {
        const RunSpec spec{task_name(o), name, 1, o.hidden, o.topology, o.seed + std::uint64_t(s)};
        tasks.push_back([&, spec, name, s] {
          sl::Rng rng(spec.seed);
          auto net = std::make_shared<sl::GlmSnn<float>>(o.network_config(data.pixels() * 2, data.classes()), rng);
          if (s == 0 && name == names.front()) {
            std::lock_guard<std::mutex> lock(io);
            std::cout << "network: " << net->describe() << "\n";
          }
          RunResult r = with_gem_family_rule(name, 1, rc, [&](auto rule) {
            return train_run(*net, std::move(rule), data, o, spec, csv, io, o.lr_halve_every);
          });
          std::lock_guard<std::mutex> lock(io);
          last = net;
          return r;
        });
      }
    const auto runs = run_all(std::move(tasks), o.jobs, o.threads);
    std::cout << "\nSingle-sample rule summary (mean +- sd over seeds; rule single = the EM form, single-reinforce = "
                 "the REINFORCE form):";
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
