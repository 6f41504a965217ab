/**
 * @file data/datasets/event_dataset.hpp
 * @brief FileListDataset<Format>: an EventDataset (data/concepts.hpp, what the loader reads
 *        from) of labelled recordings, one file each, decoded on demand by an EventFormat reader.
 *
 * An EventDataset has `size()`, `get(i)` (the i-th EventSample, label set), `sensor()` and
 * `classes()`. `get` may read from disk; the loader calls it from one worker thread at a time.
 */
#ifndef SPIKELAB_DATA_DATASETS_EVENT_DATASET_HPP
#define SPIKELAB_DATA_DATASETS_EVENT_DATASET_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/data/concepts.hpp>
#include <spikelab/data/event.hpp>
#include <spikelab/data/formats/event_format.hpp>

#include <concepts>
#include <filesystem>
#include <string>
#include <vector>

namespace spikelab {

/// A labelled file.
struct LabelledFile {
  std::filesystem::path path;  ///< the recording
  int label = -1;  ///< its class
};

/// An EventDataset of labelled recordings, one file each, decoded on demand by an EventFormat
/// reader (the files are read when a sample is asked for, so a data set costs no memory).
/// @tparam Format the reader of one file (an EventFormat)
template <EventFormat Format>
class FileListDataset {
 public:
  FileListDataset() = default;
  /// A data set of the given recordings.
  /// @param files the recordings with their labels
  /// @param format the reader that decodes one file
  /// @param classes the number of classes
  FileListDataset(std::vector<LabelledFile> files, Format format, int classes)
      : files_(std::move(files)), format_(std::move(format)), classes_(classes) {}

  /// The number of samples.
  Index size() const noexcept { return Index(files_.size()); }
  /// The sensor the samples live on.
  SensorSize sensor() const noexcept { return format_.sensor(); }
  /// The number of classes.
  int classes() const noexcept { return classes_; }
  /// The reader.
  const Format& format() const noexcept { return format_; }
  /// The recordings with their labels.
  const std::vector<LabelledFile>& files() const noexcept { return files_; }
  /// Recording i.
  const LabelledFile& file(Index i) const { return files_.at(std::size_t(i)); }
  /// The class of sample i.
  int label(Index i) const { return file(i).label; }

  /// Sample i, decoded (throws FormatError naming the file on bad input).
  EventSample get(Index i) const {
    if (i < 0 || i >= size())
      throw ConfigError("FileListDataset::get: index " + std::to_string(i) + " outside [0, " + std::to_string(size()) + ")");
    EventSample s = format_.read(files_[std::size_t(i)].path);
    s.label = files_[std::size_t(i)].label;
    return s;
  }

  /// The first n samples (all when n <= 0 or n >= size()).
  FileListDataset head(Index n) const {
    FileListDataset d = *this;
    if (n > 0 && n < size()) d.files_.resize(std::size_t(n));
    return d;
  }

 private:
  std::vector<LabelledFile> files_;
  Format format_{};
  int classes_ = 0;
};

}  // namespace spikelab

#endif
