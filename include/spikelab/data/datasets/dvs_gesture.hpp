/**
 * @file data/datasets/dvs_gesture.hpp
 * @brief DvsGesture: the IBM DVS128 Gesture data set (29 users x 5 lighting conditions, AEDAT
 *        3.1 trials with `_labels.csv` windows; 11 classes) — one sample per labelled gesture.
 *
 * Layout (as distributed): `<root>/user01_natural.aedat` + `<root>/user01_natural_labels.csv`,
 * and the split lists `trials_to_train.txt` / `trials_to_test.txt` naming the .aedat files
 * (test = users 24-29). Each CSV row (class 1..11, start, end µs on the event clock) becomes a
 * sample holding the events with start <= t < end, re-based to t = 0, label = class - 1
 * (0..10). `drop_other` removes class 11 ("other gestures") for the 10-class task. Reading a
 * sample decodes its whole trial in one streamed pass and keeps that trial's samples, so
 * reading a trial's gestures in order costs one pass (the loader's cache keeps them for later
 * epochs). `standard_transform()` is our choice (no paper in the design notes fixes it): the
 * SLAYER/Lava-DL pipeline's 4x spatial downsampling (32 x 32 x 2 = 2048 features) and 5 ms bins
 * over the first 1.45 s (290 steps); count frames.
 *
 * @code
 * @inproceedings{amir2017low, title={A low power, fully event-based gesture recognition system},
 *   author={Amir, Arnon and Taba, Brian and Berg, David and others}, booktitle={CVPR},
 *   pages={7243--7252}, year={2017}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_DATASETS_DVS_GESTURE_HPP
#define SPIKELAB_DATA_DATASETS_DVS_GESTURE_HPP

#include <spikelab/data/datasets/event_dataset.hpp>
#include <spikelab/data/formats/aedat31.hpp>
#include <spikelab/data/formats/label_files.hpp>
#include <spikelab/data/transforms/compose.hpp>
#include <spikelab/data/transforms/spatial.hpp>
#include <spikelab/data/transforms/to_frame.hpp>

#include <memory>
#include <mutex>

namespace spikelab {

/// The IBM DVS128 Gesture data set: AEDAT 3.1 trials of 29 users under 5 lighting conditions,
/// one sample per labelled gesture window, 11 classes (Amir et al., CVPR 2017).
class DvsGesture {
 public:
  static constexpr SensorSize sensor_size{128, 128, 2};  ///< 128 x 128, 2 polarities
  static constexpr int num_classes = 11;  ///< 11 gestures (10 without "other")

  /// 4x downsampling to 32 x 32, 290 frames of 5 ms over [0, 1.45 s).
  static Compose<Downsample, ToFrame> standard_transform() {
    return Compose<Downsample, ToFrame>(Downsample{0.25}, ToFrame::fixed_bins(5000, 290));
  }

  DvsGesture() = default;

  /// The trials of `root/trials_to_<split>.txt` ("train" or "test").
  /// @param root the folder that holds the trials and `trials_to_train.txt` / `trials_to_test.txt`
  /// @param split "train" or "test"
  /// @param drop_other true: leave out class 11 ("other gestures")
  DvsGesture(const std::filesystem::path& root, const std::string& split, bool drop_other = false) {
    if (split != "train" && split != "test") throw ConfigError("DVS Gesture: split must be 'train' or 'test'");
    const std::filesystem::path list = root / ("trials_to_" + split + ".txt");
    const std::string text = detail::read_text(list);
    std::vector<std::filesystem::path> trials;
    detail::for_each_line(text, [&](std::string_view line, std::size_t off) {
      const std::string_view t = detail::trim(line);
      if (t.empty()) return;
      if (t.size() < 6 || t.substr(t.size() - 6) != ".aedat")
        throw FormatError(list.string(), std::int64_t(off), "expected an .aedat file name, got '" + std::string(t) + "'");
      trials.push_back(root / std::string(t));
    });
    *this = from_trials(trials, drop_other);
  }

  /// Explicit trial files; each needs `<stem>_labels.csv` beside it.
  static DvsGesture from_trials(const std::vector<std::filesystem::path>& trials, bool drop_other = false) {
    DvsGesture g;
    g.drop_other_ = drop_other;
    g.cache_ = std::make_shared<Cache>();
    for (const auto& t : trials) {
      const std::filesystem::path csv = t.parent_path() / (t.stem().string() + "_labels.csv");
      std::vector<EventWindow> w = read_gesture_labels(csv);
      for (const EventWindow& e : w)
        if (e.label >= num_classes)
          throw FormatError(csv.string(), -1, "class " + std::to_string(e.label + 1) + " is not a gesture class (1..11)");
      const std::size_t trial = g.trials_.size();
      g.trials_.push_back(t);
      for (std::size_t k = 0; k < w.size(); ++k)
        if (!(drop_other && w[k].label == 10)) g.entries_.push_back({trial, k, w[k].label});
      g.windows_.push_back(std::move(w));
    }
    return g;
  }

  /// The number of samples.
  Index size() const noexcept { return Index(entries_.size()); }
  /// The sensor the samples live on.
  SensorSize sensor() const noexcept { return sensor_size; }
  /// The number of classes.
  int classes() const noexcept { return drop_other_ ? 10 : 11; }
  /// The class of sample i.
  int label(Index i) const { return entries_.at(std::size_t(i)).label; }
  /// The trial files of the split.
  const std::vector<std::filesystem::path>& trials() const noexcept { return trials_; }

  /// Sample i, decoded (throws FormatError naming the file on bad input).
  EventSample get(Index i) const {
    if (i < 0 || i >= size())
      throw ConfigError("DvsGesture::get: index " + std::to_string(i) + " outside [0, " + std::to_string(size()) + ")");
    const Entry& e = entries_[std::size_t(i)];
    std::lock_guard<std::mutex> lock(cache_->mutex);
    if (cache_->trial != e.trial) {
      cache_->samples = Aedat31(sensor_size).read_windows(trials_[e.trial], windows_[e.trial]);
      cache_->trial = e.trial;
    }
    return cache_->samples[e.window];
  }

 private:
  struct Entry {
    std::size_t trial = 0, window = 0;
    int label = 0;
  };
  struct Cache {
    std::mutex mutex;
    std::size_t trial = std::size_t(-1);
    std::vector<EventSample> samples;
  };
  std::vector<std::filesystem::path> trials_;
  std::vector<std::vector<EventWindow>> windows_;
  std::vector<Entry> entries_;
  bool drop_other_ = false;
  std::shared_ptr<Cache> cache_ = std::make_shared<Cache>();
};

}  // namespace spikelab

#endif
