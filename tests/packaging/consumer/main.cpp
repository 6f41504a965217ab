// Builds and trains a tiny spiking network through the installed headers.
#include <spikelab/spikelab.hpp>

#include <iostream>

int main() {
  namespace sl = spikelab;
  sl::Rng rng(1);
  sl::Sequential<sl::Linear<float>, sl::Lif<float>, sl::Linear<float>, sl::LeakyIntegrator<float>> net{
      sl::Linear<float>(40, 16, rng), sl::Lif<float>(16), sl::Linear<float>(16, 2, rng), sl::LeakyIntegrator<float>(2)};
  sl::MtsXorSource<float> data(64, 32, 1);
  sl::Trainer trainer(net, sl::Bptt<sl::StepCrossEntropy>{}, sl::Optimizer<float, sl::Adam>());
  const auto r = trainer.fit(data, 1);
  std::cout << "spikelab " << sl::version::as_string() << ": " << net.signature() << " trained, loss " << r.train_loss
            << "\n";
  return r.epochs_run == 1 ? 0 : 1;
}
