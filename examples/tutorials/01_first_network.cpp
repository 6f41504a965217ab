// Tutorial 1: a first spiking network, trained on Fashion-MNIST.
//
// This is the first of a series of literate programs: read it from top to bottom, the comments
// explain what each line does and why. It trains a small spiking neural network (SNN) to classify
// the 28 x 28 clothing images of Fashion-MNIST, measures it, saves it, loads it back, and draws
// what its neurons did. The following tutorials build on it:
//
//   01_first_network      this one: data, network, training, checkpoints, plots
//   02_event_data         event-camera recordings (N-MNIST): read, transform, bin, batch
//   03_conv_snn           a convolutional SNN on those recordings
//   04_custom_policies    your own surrogate gradient and reset rule, and the compiler's checks
//   05_probabilistic_gem  a probabilistic SNN trained online with GEM
//   06_trainable_neurons  trainable thresholds and time constants
//   07_export_nir         exchanging a trained network with other SNN tools through NIR
//   08_resume_training    training checkpoints: stop a run and continue it exactly
//
// Run it as   01_first_network [DIR]   with DIR holding Fashion-MNIST's idx files (default: the
// path of Debian's dataset-fashion-mnist package). It takes a few seconds; it writes its plots
// into the current directory.
//
// A spiking neuron does not output a number per input but a train of spikes over time. The
// leaky integrate-and-fire (LIF) neuron keeps a membrane potential v that leaks by a factor
// beta per time step, adds its input current x, and emits a spike (s = 1) when v crosses a
// threshold theta, which then subtracts theta from v:
//
//     v[t] = beta * v[t-1] + x[t] - theta * s[t-1],      s[t] = 1 if v[t] > theta else 0.
//
// The spike is a step function, whose derivative is zero almost everywhere; training therefore
// replaces it, in the backward pass only, by a smooth "surrogate gradient" (Neftci, Mostafa &
// Zenke, IEEE Signal Processing Magazine 2019), and backpropagates through time (BPTT).
#include <spikelab/spikelab.hpp>

#include <filesystem>
#include <iostream>

// Everything lives in namespace spikelab; a short alias keeps the code readable.
namespace sl = spikelab;

int main(int argc, char** argv) {
  // ---- 1. The data ---------------------------------------------------------------------------
  //
  // load_idx_split reads the idx files of a split ("train" or "test"), gzipped or not, into an
  // ImageDataset: pixels as bytes, one label per image. A missing or corrupt file throws an
  // sl::FileError that names the file and the byte offset, so a typo in the path cannot go by
  // unnoticed. To keep this tutorial fast we use the first 4000 training and 1000 test images;
  // remove the .head(...) calls to train on all 60000.
  const std::filesystem::path dir = argc > 1 ? argv[1] : sl::debian_fashion_mnist_dir();
  if (!sl::find_idx_pair(dir, "train")) {
    std::cout << "skipped: no Fashion-MNIST idx files in " << dir.string()
              << " (apt-get install dataset-fashion-mnist, or pass a directory)\n";
    return 77;  // the tests treat 77 as "skipped"
  }
  const sl::ImageDataset train = sl::load_idx_split(dir, "train").head(4000);
  const sl::ImageDataset test = sl::load_idx_split(dir, "test").head(1000);
  std::cout << "train: " << train.count << " images, test: " << test.count << " images, " << train.height << "x"
            << train.width << " pixels, " << train.classes << " classes\n";

  // An SNN runs over time, so a static image has to become a sequence. An encoder does this:
  // DirectEncoder presents the pixel intensities (scaled to [0, 1]) as the same input current
  // at every one of T steps, RateEncoder turns them into random spikes with that probability,
  // LatencyEncoder into one spike whose timing codes the intensity. An ImageSource cuts a data
  // set into shuffled batches of T steps; it is a BatchSource, the one thing a Trainer needs.
  //
  // A batch's input is a TimeSeries: one matrix of (features) x (batch * T) columns, where
  // column t * batch + b holds sample b at step t. Keeping all T steps in one matrix lets each
  // layer process a whole sequence with single matrix products.
  const sl::Index steps = 8;
  sl::ImageSource<float> train_src(train, sl::DirectEncoder{}, {.batch_size = 64, .steps = steps, .seed = 1});
  sl::ImageSource<float> test_src(test, sl::DirectEncoder{}, {.batch_size = 250, .steps = steps, .shuffle = false});

  // ---- 2. The network ------------------------------------------------------------------------
  //
  // A network is a type. Sequential<...> lists its layers in order; here
  //   Linear(784 -> 128)   weights from every pixel to every hidden neuron (the input current),
  //   Lif(128)             128 LIF neurons that turn that current into spikes,
  //   Linear(128 -> 10)    weights from the spikes to the 10 outputs,
  //   LeakyIntegrator(10)  a readout: LIF-like neurons that never spike; their potentials,
  //                        summed over time, are the class scores.
  // Because the structure is in the type, the compiler checks it: mixing float and double
  // layers, or putting something that is not a layer into the list, does not compile.
  // The sizes are checked when the network is built: a Linear(784, 128) followed by a Lif(100)
  // throws an sl::ShapeError naming both layers.
  using Net = sl::Sequential<sl::Linear<float>, sl::Lif<float>, sl::Linear<float>, sl::LeakyIntegrator<float>>;

  // Randomness is explicit: every random choice (initial weights, shuffling) draws from an Rng
  // that you seed, so a run can be repeated bit for bit.
  sl::Rng rng(42);
  Net net{sl::Linear<float>(train.features(), 128, rng),
          sl::Lif<float>(128, {.beta = 0.9, .threshold = 1.0}),  // LifConfig: decay beta, threshold theta
          sl::Linear<float>(128, 10, rng),
          sl::LeakyIntegrator<float>(10, {.beta = 0.9})};
  std::cout << "network: " << net.signature() << "\n"
            << "trainable parameters: " << net.parameter_count() << "\n";

  // ---- 3. Training -----------------------------------------------------------------------------
  //
  // A Trainer puts three policies together:
  //  - the network;
  //  - a learning rule: Bptt<Loss> is surrogate-gradient backpropagation through time with a
  //    loss on the readout; SumCrossEntropy sums the readout over the T steps and applies
  //    softmax cross-entropy to the sums (the predicted class is the largest sum);
  //  - an optimizer: Optimizer<float, Adam> applies Adam to every trainable parameter.
  // Pair the network with something that is not a loss, or a rule with an optimizer it cannot
  // use, and the program does not compile.
  sl::Trainer trainer(net, sl::Bptt<sl::SumCrossEntropy>{}, sl::Optimizer<float, sl::Adam>({.lr = 2e-3}),
                      {.seed = 1});

  // fit() trains for a number of epochs. Anything else you want to happen during training is a
  // callback, passed after the number of epochs: ProgressPrinter prints a line per epoch (on a
  // terminal it redraws one line as the epoch goes on), CsvLogger appends each epoch's figures
  // to a CSV file, EarlyStopping, TimeLimit and CheckpointEvery do what their names say. The
  // library itself never prints: it only reports through such callbacks and return values. The
  // second source is evaluated after every epoch (the "validation" figures).
  const sl::FitResult fit = trainer.fit(train_src, test_src, /*epochs=*/2, sl::ProgressPrinter(std::cout),
                                        sl::CsvLogger("tutorial01_log.csv"));
  std::cout << "trained " << fit.epochs_run << " epochs in " << fit.seconds << " s\n";

  // evaluate() measures a source without training: the mean loss and the accuracy.
  const sl::EvalResult result = trainer.evaluate(test_src);
  std::cout << "test accuracy: " << 100.0 * result.accuracy << "% on " << result.tally.total << " images\n";

  // ---- 4. Saving and loading -------------------------------------------------------------------
  //
  // A checkpoint stores the network's parameters and hyperparameters with its signature (the
  // structure and sizes). Loading into a network of another structure throws an
  // sl::SignatureError that shows both signatures; a truncated file throws a CheckpointError.
  // Files are written to a temporary name and renamed, so a crash never leaves half a file.
  // (To continue training later, including the optimizer's state, see tutorial 8.)
  sl::save_checkpoint("tutorial01.ckpt", net);
  sl::Rng other(7);
  Net copy{sl::Linear<float>(train.features(), 128, other), sl::Lif<float>(128), sl::Linear<float>(128, 10, other),
           sl::LeakyIntegrator<float>(10)};
  sl::load_checkpoint("tutorial01.ckpt", copy);
  sl::Trainer check(copy, sl::Bptt<sl::SumCrossEntropy>{}, sl::Optimizer<float, sl::Adam>{});
  std::cout << "the loaded copy scores " << 100.0 * check.evaluate(test_src).accuracy << "% as well\n";

  // ---- 5. Looking inside ---------------------------------------------------------------------
  //
  // net.forward(x) runs the network on a batch; afterwards net.activation(i) is the output of
  // layer i over all steps: activation(1) holds the hidden layer's spikes. The plot module
  // draws them as SVG images (any browser opens them): a spike raster (neurons against time)
  // and the membrane potential of a few neurons with their threshold. record_membrane steps the
  // LIF layer through its input again and keeps the potential, which the sequence forward pass
  // does not store. Plots return an sl::plot::Svg; you choose where it goes (a file, a stream).
  sl::Batch<float> batch;
  test_src.start_epoch(0);
  test_src.next(batch);
  net.forward(batch.input);
  const sl::TimeSeries<float>& spikes = net.activation(1);
  sl::plot::spike_raster(spikes, {.sample = 0, .title = "Hidden spikes, test image 0 (label " +
                                                           std::to_string(batch.labels[0]) + ")"})
      .save("tutorial01_raster.svg");
  const std::vector<sl::Index> busiest = sl::plot::most_active_neurons(spikes, 4, 0);
  sl::plot::neuron_traces(net.layer<1>(), net.activation(0), busiest, {.sample = 0}).save("tutorial01_membrane.svg");
  sl::plot::training_curves(sl::plot::read_training_log("tutorial01_log.csv")).save("tutorial01_curves.svg");
  std::cout << "hidden neurons fired " << (spikes.slot(0).array() != 0.f).count() << " spikes at step 0 of the batch;"
            << " plots: tutorial01_raster.svg, tutorial01_membrane.svg, tutorial01_curves.svg\n";
  // Next: tutorial 2 reads event-camera data, whose input is spikes from the start.
  return 0;
}
