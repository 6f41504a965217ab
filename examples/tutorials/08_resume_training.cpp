// Tutorial 8: training checkpoints. Stop a run, continue it later, and end exactly where an
// uninterrupted run ends.
//
// Read 01_first_network first. Its checkpoint (save_checkpoint) holds the network: enough to use
// it, not to go on training it as if nothing had happened. For that you also need
//  - the optimizer's state: Adam's moment estimates and step counts, the schedule's position;
//  - the learning rule's state (nothing for Bptt; the eligibility traces of the online rules);
//  - where the run was: epochs and batches done, the trainer's random generator (dropout and
//    sampling draw from it), the best validation figures so far.
// A training checkpoint (io/training_checkpoint.hpp) holds all of it. Continuing from one, with
// the trainer and the batch sources built the same way and the same total number of epochs, ends
// with the same network, bit for bit, as a run that was never interrupted (batch sources replay
// their batches from their seed and the epoch, so they need not be stored).
//
// Run it as   08_resume_training   (no data needed; a few seconds). The trainers in examples/
// offer the same as --resume FILE.
#include <spikelab/spikelab.hpp>

#include <filesystem>
#include <iostream>

namespace sl = spikelab;

namespace {
using Net = sl::Sequential<sl::Linear<float>, sl::RecurrentLif<float>, sl::Linear<float>, sl::LeakyIntegrator<float>>;

// Everything a run is made of, built the same way each time, as a program started again would.
Net make_net() {
  sl::Rng rng(1);
  return Net{sl::Linear<float>(40, 24, rng), sl::RecurrentLif<float>(24, rng, {.beta = 0.95, .threshold = 1.0}),
             sl::Linear<float>(24, 2, rng), sl::LeakyIntegrator<float>(2, {.beta = 0.8})};
}
auto make_trainer(Net& net) {
  // Adam with a cosine schedule over the whole run: its state and position matter for resuming.
  return sl::Trainer(net, sl::Bptt<sl::StepCrossEntropy>{},
                     sl::Optimizer<float, sl::Adam, sl::CosineLr>({.lr = 5e-3}, {}, {.min_factor = 0.1}), {.seed = 3});
}

// A callback that interrupts training after `epoch` epochs, as a crash or a time limit would.
struct InterruptAfter {
  int epoch;
  bool on_epoch_end(const sl::TrainInfo& i) const { return i.epoch == epoch; }
};

std::vector<sl::Matrix<float>> parameters(Net& net) {
  std::vector<sl::Matrix<float>> p;
  net.for_each_parameter([&](sl::ParamRef<float> r) { p.push_back(r.value); });
  return p;
}
}  // namespace

int main() {
  const int epochs = 3;
  sl::MtsXorSource<float> train(/*samples=*/512, /*batch=*/64, /*seed=*/1);
  sl::MtsXorSource<float> valid(/*samples=*/256, /*batch=*/128, /*seed=*/2, /*shuffle=*/false);

  // ---- 1. The reference: three epochs in one go --------------------------------------------------
  Net reference = make_net();
  auto t0 = make_trainer(reference);
  t0.fit(train, valid, epochs);

  // ---- 2. A run that is interrupted ----------------------------------------------------------------
  // TrainingCheckpointEvery(path) writes a training checkpoint after every epoch (epochs = N: every
  // N-th; batches = M: also every M batches within an epoch) and when training stops, each save
  // replacing the previous one through a temporary file, so a crash during a save leaves the last
  // good checkpoint. Here the run stops after its first epoch.
  const std::filesystem::path path = "tutorial08.train";
  std::filesystem::remove(path);
  {
    Net net = make_net();
    auto trainer = make_trainer(net);
    trainer.fit(train, valid, epochs, sl::TrainingCheckpointEvery(path), InterruptAfter{1});
    std::cout << "interrupted after " << trainer.progress().epoch << " epoch(s); checkpoint " << path.string() << " ("
              << std::filesystem::file_size(path) << " bytes)\n";
  }  // the trainer and the network are gone, as after the end of a program

  // ---- 3. Continuing ---------------------------------------------------------------------------------
  // A fresh network and trainer, built as before. load_training_checkpoint restores the network,
  // the optimizer and the rule, and makes the next fit continue from epoch 2: fit is called with
  // the same total number of epochs. Loading checks that the file holds the same network
  // structure, optimizer and rule, and throws an sl::SignatureError showing both sides otherwise;
  // a truncated or corrupt file throws an sl::CheckpointError naming it. On any error nothing is
  // changed.
  Net net = make_net();
  auto trainer = make_trainer(net);
  sl::load_training_checkpoint(path, trainer);
  std::cout << "continuing from epoch " << trainer.progress().epoch + 1 << " of " << epochs << "\n";
  const sl::FitResult r = trainer.fit(train, valid, epochs, sl::TrainingCheckpointEvery(path));
  std::cout << "epochs run (counting those before the interruption): " << r.epochs_run << ", validation accuracy "
            << 100.0 * r.val_accuracy << "%\n";

  // ---- 4. The same network ---------------------------------------------------------------------------
  const bool same = parameters(net) == parameters(reference);
  std::cout << "continued run and uninterrupted run end with " << (same ? "bit-identical" : "DIFFERENT")
            << " parameters\n";

  // A weight-only checkpoint is not a training checkpoint: loading one as such is refused.
  sl::save_checkpoint("tutorial08.ckpt", net);
  try {
    sl::load_training_checkpoint("tutorial08.ckpt", trainer);
  } catch (const sl::CheckpointError& e) {
    std::cout << "as expected: " << e.what() << "\n";
  }
  // That is the end of the tutorials. ARCHITECTURE.md says where each part of the library lives
  // and how to add your own; the example trainers in examples/ run the papers' experiments.
  return same ? 0 : 1;
}
