// Tutorial 5: a probabilistic spiking network, trained online with GEM.
//
// Read 02_event_data first (the N-MNIST pipeline). The networks of tutorials 1-4 are
// deterministic: a LIF neuron spikes exactly when its potential crosses the threshold, and
// training needs a surrogate for the step's derivative. A probabilistic SNN instead spikes at
// random, with probability sigma(u) given its potential u (a generalized linear model, GLM):
//
//     u_i[t] = sum_j sum_k w_ijk (a_k * s_j)[t-1] + sum_k wfb_ik (b_k * s_i)[t-1] + gamma_i,
//     P(s_i[t] = 1) = sigma(u_i[t]),
//
// where a_k and b_k are fixed basis kernels that turn past spikes into synaptic traces. The
// log-probability of a spike train is then differentiable in the weights, with the local
// gradient (s_i[t] - sigma(u_i[t])) x trace: no surrogate, and no backpropagation through time.
//
// Training clamps the inputs to the data and the output neurons to the label (the label's output
// spikes, the others stay silent) and lets the hidden neurons sample. Their samples are latent
// variables: GEM (Jang & Simeone, IEEE ICASSP 2021) runs K "compartments", K copies of the hidden
// layer sharing all weights that sample independently, weights each by how well it explained the
// outputs (a softmax over compartments of the outputs' log-likelihood: the E-step of generalized
// expectation-maximization), and updates every weight after every time step with the weighted
// local gradients (the M-step). Each update is the product of a learning signal, an eligibility
// trace and a local term: a "three-factor" rule, online, which a Trainer runs without optimizer.
//
// Run it as   05_probabilistic_gem DIR   with DIR an N-MNIST directory. It trains on 100
// recordings for one epoch (about 20 s on one core) and writes tutorial05_compartments.svg.
#include <spikelab/spikelab.hpp>

#include <filesystem>
#include <iostream>

namespace sl = spikelab;

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : "";
  if (dir.empty() || !std::filesystem::is_directory(dir)) {
    std::cout << "skipped: no N-MNIST directory given (usage: 05_probabilistic_gem DIR)\n";
    return 77;
  }
  // ---- 1. Data --------------------------------------------------------------------------------------
  // As the GEM paper bins its event data: 12 windows of 25 ms, a spike where a pixel had at least
  // one event (binary frames), downsampled to 17 x 17, the two polarities as two binary inputs
  // per pixel: 578 input neurons.
  using Transform = sl::Compose<sl::Downsample, sl::ToFrame>;
  const Transform transform(sl::Downsample{.spatial_factor = 0.5},
                            sl::ToFrame::fixed_bins(/*window=*/25000, /*steps=*/12, /*start=*/0, /*binary=*/true));
  const sl::NMnistDataset train = sl::NMnist::load(dir, "train").head(100);
  const sl::NMnistDataset test = sl::NMnist::load(dir, "test").head(40);
  // An online rule updates after every time step of every example: batches of one recording.
  sl::EventLoader<float, sl::NMnistDataset, Transform> train_src(train, transform, {.batch_size = 1, .seed = 1, .cache = true});
  sl::EventLoader<float, sl::NMnistDataset, Transform> test_src(test, transform,
                                                                {.batch_size = 10, .shuffle = false, .cache = true});
  const sl::Index inputs = 17 * 17 * 2;

  // ---- 2. The network -----------------------------------------------------------------------------
  // GlmSnn<float> holds the input, hidden and output neurons and their kernels. Hidden neurons
  // receive from the inputs and from each other; outputs from the inputs and the hidden layer.
  // The topology is a value: the preset direct_readout() turns the outputs' recurrence and
  // feedback off (outputs do not see their own past, which for classification keeps them from
  // predicting themselves); hidden_readout() also removes output <- input, so that the hidden
  // layer must carry the decision.
  sl::ProbabilisticSnnConfig cfg;
  cfg.inputs = inputs;
  cfg.hidden = 4;
  cfg.outputs = sl::NMnist::classes;
  cfg.feedforward = {sl::KernelType::raised_cosine, /*bases=*/8, /*length=*/10, /*mu=*/0.5};
  cfg.feedback = {sl::KernelType::raised_cosine, 1, 10, 0.5};
  cfg.topology = sl::ProbabilisticTopology::direct_readout();
  sl::Rng rng(1);
  sl::GlmSnn<float> net(cfg, rng);
  std::cout << "network: " << net.signature() << " (" << net.parameter_count() << " parameters)\n";

  // ---- 3. The rule ------------------------------------------------------------------------------------
  // Gem<> with K = 2 compartments chosen at run time (Gem<2> fixes it at compile time). Its
  // configuration: the learning rate and the decay kappa of the eligibility traces. The
  // Trainer sees that the rule is an OnlineRule (it updates the network itself) and runs its
  // step-by-step loop; NoOptimizer says there is nothing else to apply.
  sl::ThreeFactorConfig rule_cfg = sl::Gem<>::signal_type::default_config();
  rule_cfg.lr = 0.01;
  sl::Gem<> rule(rule_cfg, sl::GemSignal<>(/*compartments=*/2));
  sl::Trainer trainer(net, std::move(rule), sl::NoOptimizer{}, {.seed = 1});
  // The loss the trainer reports for this rule is the negative log-likelihood of the target
  // outputs per example (summed over steps and output neurons); validation runs K-sample
  // inference on the test recordings.
  trainer.fit(train_src, test_src, /*epochs=*/1, sl::ProgressPrinter(std::cout));

  // ---- 4. Many samples at test time -------------------------------------------------------------
  // A probabilistic network's decision is random too. With K compartments at test time each
  // compartment gives a vote (the output neuron that spiked most); the vote fractions are class
  // probabilities, so besides accuracy we can measure calibration: the expected calibration error
  // (ECE) compares the confidence of decisions with how often they are right. evaluate_multi_sample
  // reports both, and the log-likelihood of the targets estimated with K samples.
  sl::plot::LinePlot accuracy("GEM on N-MNIST: inference with K compartments", "K (compartments at test time)",
                              "test accuracy (%)");
  std::vector<double> ks, acc;
  for (sl::Index k : {1, 2, 4, 8}) {
    sl::Rng eval_rng(100 + std::uint64_t(k));
    const sl::MultiSampleReport r =
        sl::evaluate_multi_sample(net, test_src, {.compartments = k, .log_likelihood = true}, eval_rng);
    std::cout << "K = " << k << ": accuracy " << 100.0 * r.majority.accuracy() << "% (majority vote), ECE "
              << r.majority.ece() << ", target log-likelihood " << r.ll_iw << "\n";
    ks.push_back(double(k));
    acc.push_back(100.0 * r.majority.accuracy());
  }
  accuracy.line("majority vote", ks, acc).subtitle("100 training recordings, 1 epoch, 4 hidden neurons, trained with K = 2");
  accuracy.save("tutorial05_compartments.svg");
  std::cout << "plot: tutorial05_compartments.svg (spikelab-gem runs the paper's comparison over seeds)\n";
  // Next: tutorial 6 trains the neurons' thresholds and time constants along with the weights.
  return 0;
}
