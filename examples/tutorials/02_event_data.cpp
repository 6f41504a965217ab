// Tutorial 2: event data. Read N-MNIST recordings, transform them, bin them into frames and
// batch them for training.
//
// Read 01_first_network first. There the input was an image turned into a sequence; here it is
// a sequence from the start. An event camera (DVS, ATIS) does not take frames: each pixel
// reports, asynchronously, when its brightness changes, as an event
//
//     e = (t, x, y, p):  time in microseconds, column, row, polarity (1 = ON: brighter, 0 = OFF).
//
// N-MNIST (Orchard, Jayawant, Cohen & Thakor, Frontiers in Neuroscience 2015) is MNIST recorded
// with such a camera moving in three saccades over each digit: 34 x 34 pixels, about 300 ms and
// a few thousand events per recording. The pipeline below is the one the trainers use:
//
//     files --reader--> EventSample --transforms--> EventSample --ToFrame--> Frames --loader--> Batch
//
// Run it as   02_event_data DIR   with DIR an N-MNIST directory: the original Train/ and Test/
// folders of .bin files, or SLAYER's NMNISTsmall subset (1000 + 100 recordings with a label list).
// It writes tutorial02_events.svg and tutorial02_frames.svg into the current directory.
#include <spikelab/spikelab.hpp>

#include <filesystem>
#include <iostream>

namespace sl = spikelab;

int main(int argc, char** argv) {
  const std::filesystem::path dir = argc > 1 ? argv[1] : "";
  if (dir.empty() || !std::filesystem::is_directory(dir)) {
    std::cout << "skipped: no N-MNIST directory given (usage: 02_event_data DIR)\n";
    return 77;
  }

  // ---- 1. Reading ------------------------------------------------------------------------------
  //
  // NMnist::load finds the layout under DIR and returns a data set: a list of files with their
  // labels, read lazily. get(i) decodes recording i into an EventSample: its events (sorted by
  // time), the sensor's size and the label. Every reader checks what it reads and throws an
  // sl::FileError naming the file and the byte offset of a truncated or corrupt record, so a
  // damaged download shows up as a message, never as silent garbage.
  const sl::NMnistDataset train = sl::NMnist::load(dir, "train");
  const sl::NMnistDataset test = sl::NMnist::load(dir, "test");
  std::cout << "N-MNIST: " << train.size() << " training and " << test.size() << " test recordings\n";
  const sl::EventSample first = train.get(0);
  std::cout << "recording 0: label " << first.label << ", " << first.size() << " events over "
            << (first.last_time() - first.first_time()) / 1000 << " ms on a " << first.sensor.to_string()
            << " sensor (width x height x polarities)\n";
  const sl::Event& e = first.events[first.size() / 2];
  std::cout << "  one event: t = " << e.t << " us, x = " << e.x << ", y = " << e.y << ", "
            << (e.p ? "ON" : "OFF") << "\n";
  // What does a recording look like? Accumulate its events per pixel: ON red, OFF blue.
  sl::plot::event_frame(first, {.title = "N-MNIST recording 0 (label " + std::to_string(first.label) + ")"})
      .save("tutorial02_events.svg");

  // ---- 2. Transforms -------------------------------------------------------------------------
  //
  // Transforms change a recording; they are named and behave as in the Python library tonic:
  //   Denoise{filter_time}      drops events with no neighbouring event within filter_time us,
  //   Downsample{factor}        scales coordinates (0.5: 34 x 34 -> 17 x 17),
  //   TimeJitter, RandomShift   augmentations drawing from the Rng they are given,
  //   CropTime, CenterCrop, MergePolarities, Flip, ...
  // Each is a small struct with operator()(EventSample&, Rng&). Compose<...> chains them at
  // compile time: no virtual calls, and a chain that cannot work (a transform after the one that
  // produced frames, which expects events) does not compile.
  sl::Rng rng(1);
  sl::EventSample cleaned = first;
  sl::Denoise{.filter_time = 5000}(cleaned, rng);
  std::cout << "Denoise kept " << cleaned.size() << " of " << first.size() << " events\n";

  // ---- 3. Binning: from events to frames ---------------------------------------------------------
  //
  // A network runs in discrete time steps, so the events are binned: ToFrame counts the events
  // of each pixel and polarity in consecutive time windows. fixed_bins(window, T) makes exactly
  // T frames of `window` microseconds from t = 0, so that every recording gives the same number
  // of steps; ToFrame also slices by event count or into a number of equal bins. A frame is a
  // vector of polarity x rows x columns counts, flattened as feature (p * H + y) * W + x, the
  // layout a convolution reads as a 2-channel image (tutorial 3).
  using Transform = sl::Compose<sl::Denoise, sl::Downsample, sl::ToFrame>;
  const Transform transform(sl::Denoise{.filter_time = 5000}, sl::Downsample{.spatial_factor = 0.5},
                            sl::ToFrame::fixed_bins(/*window=*/20000, /*steps=*/15));
  const sl::Frames frames = transform(first, rng);
  std::cout << "frames: " << frames.steps << " steps of " << frames.features() << " features ("
            << frames.sensor.to_string() << " after downsampling)\n";

  // ---- 4. Batching -------------------------------------------------------------------------------
  //
  // EventLoader turns a data set and a transform into batches: it shuffles with its seed (the
  // order of epoch e depends on the seed and e only, so runs repeat exactly), can keep decoded
  // recordings in memory after the first epoch (cache), and prepares the next batches on a
  // worker thread while the network trains on the current one. A batch's input is a TimeSeries
  // (features x batch*T, as in tutorial 1) with one label per recording. When recordings give
  // different numbers of frames, shorter ones are padded with zeros and `lengths` says how
  // many steps of each are real; with fixed_bins they all have T.
  // The loader keeps a pointer to the data set, which must outlive it: here the first 256
  // training recordings, to keep the tutorial fast.
  const sl::NMnistDataset subset = train.head(256);
  sl::EventLoader<float, sl::NMnistDataset, Transform> loader(subset, transform,
                                                                {.batch_size = 32, .seed = 1, .cache = true});
  std::cout << "loader: " << loader.batches_per_epoch() << " batches per epoch\n";
  sl::Batch<float> batch;
  loader.start_epoch(1);
  sl::Index batches = 0, recordings = 0;
  double spikes = 0;
  while (loader.next(batch)) {
    ++batches;
    recordings += batch.batch();
    spikes += batch.input.values().sum();
    if (batches == 1)
      std::cout << "first batch: input " << batch.input.shape_string() << ", labels of its first samples: "
                << batch.labels[0] << ' ' << batch.labels[1] << ' ' << batch.labels[2] << "\n";
  }
  std::cout << "one epoch: " << batches << " batches, " << recordings << " recordings, "
            << spikes / double(recordings) << " input events per recording after denoising\n";

  // The frames of one batch, summed over time, should look like the events they came from,
  // smaller: frame_image draws a sample of a batch with the geometry of the frames.
  loader.start_epoch(1);
  loader.next(batch);
  sl::plot::frame_image(batch.input, frames.sensor, 0,
                        {.title = "Frames of a training sample (label " + std::to_string(batch.labels[0]) + ")"})
      .save("tutorial02_frames.svg");
  std::cout << "plots: tutorial02_events.svg, tutorial02_frames.svg\n";
  // Next: tutorial 3 trains a convolutional SNN on such batches.
  return 0;
}
