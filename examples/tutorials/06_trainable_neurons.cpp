// Tutorial 6: trainable thresholds and time constants.
//
// Read 01_first_network and 04_custom_policies first. So far a LIF layer's threshold theta and
// membrane decay beta were fixed hyperparameters. Both can be trained along with the weights,
// per layer or per neuron:
//  - thresholds: a neuron that never fires gets no gradient through its spikes, but a trainable
//    threshold can come down to reach it (Mahmoodi Takaghaj & Sampson, arXiv 2024);
//  - time constants: beta = exp(-dt / tau) sets how long a neuron remembers its input. Tasks with
//    long time dependencies profit from slow neurons, and a hierarchy of time constants (fast
//    near the input, slow near the output) helps further (Moro et al., arXiv 2024, hSNN).
//
// Run it as   06_trainable_neurons   (no data: it trains on MTS-XOR, which the library generates:
// 40 input channels over 100 steps, where the answer depends on two coding windows far apart).
// It takes about half a minute on one core and writes tutorial06_time_constants.svg.
#include <spikelab/spikelab.hpp>

#include <iostream>

namespace sl = spikelab;

int main() {
  // ---- 1. Choosing what is trained: LifOptions ------------------------------------------------------
  //
  // LifOptions is a compile-time argument of LifType: for each of the threshold, the membrane
  // decay beta and the synaptic decay alpha, Train::fixed (a constant), Train::per_layer (one
  // trainable value) or Train::per_neuron (one per neuron). Being part of the type, it costs
  // nothing when fixed, and it is part of the signature: a checkpoint records what was trained.
  using Hidden = sl::LifType<float, sl::FastSigmoid, sl::SubtractReset,
                             sl::LifOptions{.threshold = sl::Train::per_neuron, .beta = sl::Train::per_neuron,
                                            .recurrent = true}>;
  using Net = sl::Sequential<sl::Linear<float>, Hidden, sl::Linear<float>, Hidden, sl::Linear<float>,
                             sl::LeakyIntegrator<float>>;
  sl::Rng rng(1);
  Net net{sl::Linear<float>(40, 32, rng), Hidden(32, rng, {.beta = 0.9, .threshold = 1.0}),
          sl::Linear<float>(32, 32, rng), Hidden(32, rng, {.beta = 0.9, .threshold = 1.0}),
          sl::Linear<float>(32, 2, rng),  sl::LeakyIntegrator<float>(2, {.beta = 0.8})};

  // The neuron parameters are NeuronParameters: threshold(), beta() and alpha() of the layer.
  // values() gives the per-neuron values the neurons use (a per-layer value repeated); set()
  // changes them; LifConfig's threshold_min/max and beta_min/max bound them during training.
  std::cout << "layer 1: threshold of neuron 0 = " << net.layer<1>().threshold().values()[0]
            << ", decay beta = " << net.layer<1>().beta().values()[0] << "\n";

  // ---- 2. Time constants instead of decays ---------------------------------------------------------
  //
  // By default the trained quantity is beta itself. use_time_constant(dt, tau_min, tau_max)
  // trains tau instead (beta = exp(-dt / tau), the chain rule applied inside), bounded to
  // [tau_min, tau_max]; a step of tau changes slow neurons less than a step of beta would.
  // Here one time step is the unit (dt = 1): tau is in steps.
  const double dt = 1.0;
  net.layer<1>().beta().use_time_constant(dt, /*tau_min=*/1.0, /*tau_max=*/200.0);
  net.layer<3>().beta().use_time_constant(dt, 1.0, 200.0);

  // initialize_time_constants sets the membrane time constants of every spiking layer from a
  // hierarchy: tau_mem at the centre, delta_tau of spread across layers (positive: slower near the
  // output), a linear or tanh profile, and a per-neuron heterogeneity around each layer's value.
  sl::TimeConstantHierarchy hierarchy{.dt = dt, .tau_mem = 10.0, .delta_tau = 8.0, .profile = sl::TauProfile::linear,
                                      .heterogeneity = sl::TauHeterogeneity::uniform, .heterogeneity_sd = 0.2};
  const sl::HierarchyInit init = sl::initialize_time_constants(net, hierarchy, rng);
  const std::vector<double> tau_before = sl::mean_time_constants(net, dt);
  std::cout << "initial mean time constants (steps): layer 1 " << tau_before[0] << ", layer 3 " << tau_before[1]
            << " (hierarchy: " << init.layer_tau[0] << " -> " << init.layer_tau[1] << ")\n";

  // ---- 3. Learning rates per parameter group -------------------------------------------------------
  //
  // Every trainable block belongs to a ParamGroup: weight, bias, threshold, time_constant. The
  // optimizer scales its learning rate (lr_scale) and the gradient (grad_scale) per group, so that
  // thresholds and time constants, which live on another scale than weights, get their own steps.
  sl::OptimizerConfig oc{.lr = 5e-3, .clip_norm = 5.0};
  oc.lr_scale[sl::ParamGroup::threshold] = 2.0;
  oc.lr_scale[sl::ParamGroup::time_constant] = 20.0;  // tau is in steps: larger steps than for weights

  // ---- 4. A regulariser and spike statistics ------------------------------------------------------
  //
  // Bptt<Loss, Regularizer> adds a penalty's gradient to the loss's. DecayRegularizer is hSNN's:
  // it discourages decays above upper_start (neurons that never forget) and a large spread of the
  // decays within a layer. SpikeStatistics is a callback that counts each spiking layer's spikes
  // over an epoch: the firing rate, and the dead neurons that never fired.
  sl::DecayRegularizer regularizer({.upper_weight = 0.01, .upper_start = 0.99, .spread_weight = 0.0});
  sl::Trainer trainer(net, sl::Bptt<sl::StepCrossEntropy, sl::DecayRegularizer>(sl::StepCrossEntropy{}, regularizer),
                      sl::Optimizer<float, sl::Adam>(oc), {.seed = 1});
  sl::MtsXorSource<float> train(/*samples=*/2048, /*batch=*/64, /*seed=*/1);
  sl::MtsXorSource<float> test(512, 256, /*seed=*/7, /*shuffle=*/false);
  sl::SpikeStatistics stats;
  trainer.fit(train, test, /*epochs=*/4, sl::ProgressPrinter(std::cout), stats);
  for (const auto& layer : stats.last().layers)
    std::cout << "layer " << layer.layer << ": " << layer.mean_rate() << " spikes per neuron and step, "
              << 100.0 * layer.dead_fraction() << "% dead\n";

  // ---- 5. What training did to the neurons ----------------------------------------------------------
  const std::vector<double> tau_after = sl::mean_time_constants(net, dt);
  const std::vector<double> theta = sl::mean_thresholds(net);
  std::cout << "mean time constants after training: " << tau_after[0] << ", " << tau_after[1]
            << " steps; mean thresholds: " << theta[0] << ", " << theta[1] << "\n"
            << "test accuracy per scored step: " << 100.0 * trainer.evaluate(test).accuracy << "%\n";
  // The time constant of each neuron of the second hidden layer, before and after training.
  const sl::Vector<double> tau = sl::time_constants(net.layer<3>().beta(), dt);
  std::vector<double> index, start, end;
  for (sl::Index i = 0; i < tau.size(); ++i) {
    index.push_back(double(i));
    start.push_back(init.neuron_tau[1][i]);
    end.push_back(tau[i]);
  }
  sl::plot::LinePlot plot("Time constants of hidden layer 2 (MTS-XOR)", "neuron", "tau (steps)");
  plot.scatter("initial", index, start).scatter("trained", index, end);
  plot.save("tutorial06_time_constants.svg");
  std::cout << "plot: tutorial06_time_constants.svg\n";
  // Next: tutorial 7 exports the trained network to NIR, for other SNN tools and hardware.
  return 0;
}
