// spikelab-gem: trains probabilistic GLM SNNs with GEM-SNN (Jang & Simeone 2021) and the
// multi-sample rules its paper compares it with (IW, IW-b, MB), plus the single-sample rule, for
// each number of compartments K in --compartments and each hidden size, over --seeds seeds, and
// prints the table the GEM paper's claims are about: log-likelihood, accuracy and calibration
// versus K and rule. Every network is measured with the same --eval-samples samples, whatever K
// it was trained with: the 1-sample test log-likelihood next to the K-sample bound, accuracy and
// ECE of the averaged spike-count distributions.
//
// Tasks: --task nmnist (N-MNIST binned as the paper bins MNIST-DVS: 25 ms windows, a spike if a
// pixel had >= 1 event, 2 polarities as 2 binary inputs per pixel, 17 x 17 pixels), --task
// prediction (the paper's memorisation task on MNIST-DVS digit 0: from the upper half of a
// recording, reproduce the spikes of its lower half), --task synthetic (no data needed).
// --protocol gem-paper sets what the official code sets; --csv and --resume make long sweeps
// restartable, --summarize CSV prints the tables again from the rows.
#include "common/probabilistic.hpp"

using namespace spikelab_examples;

namespace {

/// The GEM code's settings (hrjang357/multi-sample-SNN, `multi_sample_run.py` and the files named).
std::vector<ProtocolSetting> gem_paper(ProbOptions& o) {
  return {set_option("kernel", o.kernel, "raised_cosine_hrjang", "utils/filters.py raised_cosine_pillow_08"),
          set_option("bases", o.bases, 8L, "--n_basis 8"),
          set_option("memory", o.memory, 10L, "--tau 10"),
          set_option("mu", o.mu, 1.5, "make_network_parameters(mu=1.5)"),
          set_option("fb-mu", o.fb_mu, 1.5, "one feedback basis, the same form and mu"),
          set_option("init", o.init, 0.1, "SNN.py: W, w_fb, bias ~ U[-0.1, 0.1]"),
          set_option("lr", o.lr, 0.05, "--lr 0.05"),
          set_option("kappa", o.kappa, 0.05, "--kappa 0.05"),
          set_option("beta", o.beta, 0.05, "the driver passes kappa as the baselines' decay"),
          set_option("lr-halve-every", o.lr_halve_every, 0, "--lrconst 1: no decay"),
          set_option("topology", o.topology, "gem-code", "make_network_parameters: outputs <- all, hidden <- input, hidden"),
          set_option("hidden", o.hidden, 2L, "N_H of the repository's examples (driver default 1)"),
          set_option("eval-samples", o.eval_samples, 10L, "--nll 10 samples per log-likelihood estimate")};
}

/// The prediction task: present recording `example` --epochs times (an update after every step),
/// measuring after each presentation; the other recordings are measured at the end.
template <class Rule>
RunResult run_pattern(Rule rule, const PatternData& pd, const ProbOptions& o, const RunSpec& spec, sl::Index example,
                      CsvLog& csv, std::mutex& io) {
  if (spec.K > o.eval_samples) throw std::invalid_argument("--eval-samples must be >= every K");
  sl::Rng init(spec.seed);
  sl::GlmSnn<float> net(o.network_config(PatternData::half, PatternData::half), init);
  sl::Rng rng(spec.seed * 31 + 7);
  const sl::Index N = o.eval_samples;
  Metrics m;
  const auto t0 = std::chrono::steady_clock::now();
  for (int p = 1; p <= o.epochs; ++p) {
    rule.train_pattern(net, pd.input(example), pd.output(example), rng);
    m = Metrics{};
    m.epoch = p;
    m.seconds = sl::detail::seconds_since(t0);
    sl::Rng er = sl::Rng(spec.seed * 7919 + 17).fork(std::uint64_t(p));
    const sl::PatternReport tr =
        sl::evaluate_pattern(net, pd.input(example), pd.output(example), {.compartments = N, .bounds = {1, spec.K}}, er);
    m.train_ll = tr.ll_bound[0];
    m.train_ll_K = tr.ll_bound[1];
    m.distance = tr.distance;
    m.distance_majority = tr.distance_majority;
    if (p == o.epochs) {  // held-out recordings: likelihoods only
      double l1 = 0, lk = 0;
      std::vector<double> ll;
      sl::Teacher<float> tg;
      for (sl::Index i = 0; i < pd.recordings(); ++i) {
        if (i == example) continue;
        tg.outputs = &pd.output(i);
        sl::sequence_log_likelihoods(net, pd.input(i), tg, N, er, ll);
        l1 += sl::detail::k_sample_bound(ll, 0, std::size_t(N), 1);
        lk += sl::detail::k_sample_bound(ll, 0, std::size_t(N), std::size_t(spec.K));
      }
      m.test_ll_1 = l1 / double(pd.recordings() - 1);
      m.test_ll_K = lk / double(pd.recordings() - 1);
    }
    csv.write(spec, m, o.eval_samples);
    std::ostringstream s;
    s << "[" << spec.label() << "] presentation " << p << "/" << o.epochs << ": pattern LL 1-sample "
      << fixed(m.train_ll, 1) << ", " << spec.K << "-sample " << fixed(m.train_ll_K, 1) << ", distance "
      << fixed(m.distance, 4) << " (majority " << fixed(m.distance_majority, 4) << ")";
    if (p == o.epochs) s << " | held-out LL 1-sample " << fixed(m.test_ll_1, 1) << ", " << spec.K << "-sample " << fixed(m.test_ll_K, 1);
    std::lock_guard<std::mutex> lock(io);
    std::cout << s.str() << std::endl;
  }
  return RunResult{spec, m};
}

}  // namespace

int main(int argc, char** argv) {
  ProbOptions o;
  std::string ks = "1,2,4,8", rules = "gem", hidden_sizes;
  long example = 0;
  std::string protocol = early_value(argc, argv, {"protocol"}, "");
  std::vector<ProtocolSetting> proto;
  if (protocol == "gem-paper")
    proto = gem_paper(o);
  else if (!protocol.empty()) {
    std::cerr << "error: --protocol must be gem-paper\n";
    return 2;
  }
  apply_protocol(proto);
  CommandLine cli("spikelab-gem",
                  "GEM-SNN and its multi-sample baselines: online learning of a probabilistic GLM SNN (inputs -> hidden\n"
                  "(recurrent) -> outputs). For each rule in --rules, each K in --compartments, each hidden size and each\n"
                  "seed, trains for --epochs epochs (an update after every time step) and measures after every epoch,\n"
                  "with --eval-samples samples whatever K: training and test log-likelihood of the target outputs\n"
                  "(1-sample, and the K-sample bound at the training K), test accuracy and ECE of the averaged\n"
                  "distributions. --task prediction: the memorisation task (MNIST-DVS, --epochs presentations).");
  o.add_to(cli);
  cli.option("protocol", protocol, "gem-paper: the official GEM code's settings (printed); options given here win")
      .option("rules", rules, std::string("comma-separated rules: ") + gem_family_names)
      .option("compartments", ks, "comma-separated numbers of compartments K (training) to compare")
      .option("hidden-sizes", hidden_sizes, "comma-separated hidden sizes to compare (default: --hidden)")
      .option("pattern-example", example, "prediction: the recording to memorise (0-based)");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  try {
    if (!o.summarize.empty()) {
      print_tables(read_runs(o.summarize));
      return 0;
    }
    o.check();
    const std::vector<long> Ks = parse_list<long>("compartments", ks, 1);
    const std::vector<long> hs =
        hidden_sizes.empty() ? std::vector<long>{o.hidden} : parse_list<long>("hidden-sizes", hidden_sizes, 0);
    std::vector<std::string> rule_names;
    {
      std::stringstream ss(rules);
      std::string r;
      while (std::getline(ss, r, ','))
        if (!r.empty()) rule_names.push_back(r);
      if (rule_names.empty()) throw std::invalid_argument("--rules needs at least one rule");
    }
    sl::set_num_threads(o.threads);
    std::cout << "spikelab " << sl::version::as_string() << "\n";
    print_protocol(protocol, proto, cli);
    const bool pattern = o.task == "prediction";
    std::unique_ptr<PatternData> pd;
    std::unique_ptr<ExperimentData> data;
    if (pattern) {
      pd = std::make_unique<PatternData>(o);
      if (example < 0 || example >= pd->recordings()) throw std::invalid_argument("--pattern-example is out of range");
      std::cout << "data: " << pd->description() << "; memorising recording " << example << "\n";
    } else {
      data = std::make_unique<ExperimentData>(o);
      std::cout << "data: " << data->description() << "\n";
    }
    CsvLog csv(o.csv);
    std::mutex io;
    std::vector<std::function<RunResult()>> tasks;
    std::shared_ptr<sl::GlmSnn<float>> last;
    for (const std::string& rn : rule_names)
      for (long K : Ks) {
        if ((rn == "single" || rn == "single-reinforce") && K != 1) continue;  // single-sample rules: K = 1 only
        if (rn == "iwb" && K < 2) continue;                                   // VIMCO baselines need K >= 2
        const sl::ThreeFactorConfig rc = o.rule_config(sl::Gem<>::signal_type::default_config());
        for (long h : hs)
          for (int s = 0; s < o.seeds; ++s) {
            ProbOptions oh = o;
            oh.hidden = h;
            RunSpec spec{pattern ? "prediction" : task_name(o), rn, K, h, o.topology, o.seed + std::uint64_t(s)};
            tasks.push_back([&, oh, spec, rc, rn, K] {
              return with_gem_family_rule(rn, K, rc, [&](auto rule) {
                if (pattern) return run_pattern(std::move(rule), *pd, oh, spec, example, csv, io);
                sl::Rng rng(spec.seed);
                auto net = std::make_shared<sl::GlmSnn<float>>(oh.network_config(data->pixels() * 2, data->classes()), rng);
                {
                  std::lock_guard<std::mutex> lock(io);
                  std::cout << "[" << spec.label() << "] " << rule.name() << ", lr " << rule.config().lr << ", kappa "
                            << rule.config().kappa << ", beta " << rule.config().beta << "; network: " << net->describe()
                            << std::endl;
                }
                RunResult r = train_run(*net, std::move(rule), *data, oh, spec, csv, io, oh.lr_halve_every);
                std::lock_guard<std::mutex> lock(io);
                last = net;
                return r;
              });
            });
          }
      }
    if (tasks.empty()) throw std::invalid_argument("no valid (rule, K) combination (single*: K = 1; iwb: K >= 2)");
    const auto runs = run_all(std::move(tasks), o.jobs, o.threads);
    std::cout << "\nSummary (mean +- sd over seeds of each run's last measurement; LL = log-likelihood of the target "
                 "outputs per sample, summed over steps and output neurons; every measurement with "
              << o.eval_samples << " samples; acc / ECE: averaged spike-count distributions):";
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
