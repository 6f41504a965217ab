// Tutorial 3: a convolutional spiking network on N-MNIST.
//
// Read 01_first_network and 02_event_data first: this program reuses their pieces (the loader of
// binned N-MNIST frames, a Trainer with Bptt and Adam) and replaces the fully connected hidden
// layer by convolutions. An image-shaped input has structure a dense layer ignores: nearby pixels
// belong together, and a pattern means the same wherever it appears. A convolution shares one
// small kernel over all positions, so it has far fewer weights and learns local features.
//
// The network (12C5-MP2-32C5-MP2-10 at full size, here with fewer channels to stay fast):
//
//   2 x 34 x 34 frames -> Conv2d 5x5 -> MaxPool 2 -> LIF -> Conv2d 5x5 -> MaxPool 2 -> LIF
//                      -> Dropout -> Linear -> leaky-integrator readout
//
// Run it as   03_conv_snn DIR   with DIR an N-MNIST directory (Train/Test or NMNISTsmall). It
// trains for a few seconds on a few hundred recordings and writes tutorial03_*.svg plots.
// examples/spikelab_conv.cpp is the full trainer of this network (its command line, batch norm,
// the MLP baseline); its README entry gives the accuracy reached on the whole subset.
#include <spikelab/spikelab.hpp>

#include <filesystem>
#include <iostream>

namespace sl = spikelab;

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : "";
  if (dir.empty() || !std::filesystem::is_directory(dir)) {
    std::cout << "skipped: no N-MNIST directory given (usage: 03_conv_snn DIR)\n";
    return 77;
  }
  // ---- 1. Data, as in tutorial 2 ------------------------------------------------------------------
  // 10 frames of 30 ms with polarity as 2 channels, not downsampled: a 2 x 34 x 34 image per step.
  const sl::NMnistDataset train = sl::NMnist::load(dir, "train").head(300);
  const sl::NMnistDataset test = sl::NMnist::load(dir, "test");
  const sl::ToFrame frames = sl::ToFrame::fixed_bins(/*window=*/30000, /*steps=*/10);
  sl::EventLoader<float, sl::NMnistDataset, sl::ToFrame> train_src(train, frames, {.batch_size = 32, .seed = 1, .cache = true});
  sl::EventLoader<float, sl::NMnistDataset, sl::ToFrame> test_src(test, frames, {.batch_size = 100, .shuffle = false, .cache = true});

  // ---- 2. The layers -----------------------------------------------------------------------------
  //
  // An ImageShape says how a layer reads its flat feature vector: channels x height x width,
  // feature (c * H + y) * W + x, which is the layout of the frames. Every image layer computes
  // its output shape, so the next layer is built from it and a mismatch cannot slip in.
  //
  // Conv2d(in_shape, out_channels, rng, {.kernel, .stride, .padding, ...}) convolves all T steps
  // of a batch at once (an im2col product). Its input here is spikes, mostly zeros; the
  // convolution then only visits the kernel taps that active inputs reach (the sparse path,
  // chosen automatically from the input's density).
  // MaxPool2d keeps the largest value of each 2 x 2 window; pooling the input currents before
  // the LIF neurons, rather than pooling spikes, gives the neurons graded inputs.
  sl::Rng rng(1);
  const sl::ImageShape input{sl::NMnist::sensor.polarities, sl::NMnist::sensor.height, sl::NMnist::sensor.width};
  sl::Conv2d<float> conv1(input, /*out_channels=*/6, rng, {.kernel = 5});  // 6 x 30 x 30
  sl::MaxPool2d<float> pool1(conv1.output_shape(), {.kernel = 2});           // 6 x 15 x 15
  const sl::ImageShape s1 = pool1.output_shape();
  sl::Conv2d<float> conv2(s1, 12, rng, {.kernel = 5});                       // 12 x 11 x 11
  sl::MaxPool2d<float> pool2(conv2.output_shape(), {.kernel = 2});           // 12 x 5 x 5
  const sl::ImageShape s2 = pool2.output_shape();
  std::cout << "shapes: input " << input.to_string() << " -> " << s1.to_string() << " -> " << s2.to_string() << "\n";

  // Dropout zeroes a random fraction p of its inputs while training (never when measuring). The
  // mask is drawn once per sample and kept over all T steps: a neuron dropped at one step but
  // not the next would just see a noisier input, not learn to do without it.
  // The readout normalises its input by (1 - beta), which keeps the sum over T steps (the logits
  // of the loss) of a moderate size whatever T is.
  using Net = sl::Sequential<sl::Conv2d<float>, sl::MaxPool2d<float>, sl::Lif<float>, sl::Conv2d<float>,
                             sl::MaxPool2d<float>, sl::Lif<float>, sl::Dropout<float>, sl::Linear<float>,
                             sl::LeakyIntegrator<float>>;
  Net net{std::move(conv1),
          std::move(pool1),
          sl::Lif<float>(s1.size(), {.beta = 0.9, .threshold = 1.0}),
          std::move(conv2),
          std::move(pool2),
          sl::Lif<float>(s2.size(), {.beta = 0.9, .threshold = 1.0}),
          sl::Dropout<float>(s2.size(), {.p = 0.2}),
          sl::Linear<float>(s2.size(), sl::NMnist::classes, rng),
          sl::LeakyIntegrator<float>(sl::NMnist::classes, {.beta = 0.9, .normalize = true})};
  std::cout << "network: " << net.signature() << "\n" << net.parameter_count() << " parameters\n";

  // ---- 3. Training, as in tutorial 1 -------------------------------------------------------------
  // The same rule and optimizer train any stack of layers: Bptt runs the backward pass of each
  // layer in reverse order (the convolution's is another pair of products).
  sl::Trainer trainer(net, sl::Bptt<sl::SumCrossEntropy>{}, sl::Optimizer<float, sl::Adam>({.lr = 5e-3}), {.seed = 1});
  trainer.fit(train_src, test_src, /*epochs=*/2, sl::ProgressPrinter(std::cout));
  const sl::EvalResult r = trainer.evaluate(test_src);
  std::cout << "test accuracy: " << 100.0 * r.accuracy << "% on " << r.tally.total
            << " recordings (chance: 10%; more recordings and epochs do much better)\n";

  // ---- 4. What the layers did ----------------------------------------------------------------------
  // Each LIF layer's output is a spike raster; the first layer has 6 x 15 x 15 = 1350 neurons,
  // so we show its 100 most active ones. The confusion matrix shows which digits get mixed up.
  sl::Batch<float> batch;
  test_src.start_epoch(0);
  test_src.next(batch);
  net.forward(batch.input);
  sl::plot::spike_raster(net.activation(2), {.neurons = sl::plot::most_active_neurons(net.activation(2), 100),
                                             .title = "First LIF layer, test recording 0"})
      .save("tutorial03_raster1.svg");
  sl::plot::spike_raster(net.activation(5), {.title = "Second LIF layer (12 x 5 x 5), test recording 0"})
      .save("tutorial03_raster2.svg");
  sl::ConfusionMatrix confusion(sl::NMnist::classes);
  test_src.start_epoch(0);
  while (test_src.next(batch)) {
    const sl::TimeSeries<float>& out = net.forward(batch.input);
    sl::Matrix<float> scores = sl::Matrix<float>::Zero(out.features(), out.batch());
    for (sl::Index t = 0; t < out.steps(); ++t) scores += out.slot(t);  // the readout summed over time
    confusion.add_scores(scores, batch.labels);
  }
  sl::plot::confusion_matrix(confusion).save("tutorial03_confusion.svg");
  std::cout << "confusion matrix accuracy " << 100.0 * confusion.accuracy()
            << "%; plots: tutorial03_raster1.svg, tutorial03_raster2.svg, tutorial03_confusion.svg\n";
  // Next: tutorial 4 writes a neuron policy of its own.
  return 0;
}
