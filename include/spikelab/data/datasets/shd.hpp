/**
 * @file data/datasets/shd.hpp
 * @brief ShdDataset (an EventDataset over one ShdFile) and the SHD / SSC descriptions with
 *        the hSNN paper's preprocessing. Needs SPIKELAB_HAS_HDF5 (link spikelab::hdf5).
 *
 * SHD: 20 classes (spoken digits 0-9 in English and German), 700 channels; SSC: 35 classes.
 * `standard_transform()` digitises the spike times into 100 bins over 1.4 s (14 ms each,
 * starting at t = 0; spikes after 1.4 s are dropped) with a binary spike per (bin, channel),
 * as the hSNN code does; `standard_transform(200)` gives its conv-net setting (7 ms bins).
 *
 * @code
 * @article{cramer2020heidelberg, title={The Heidelberg spiking data sets for the systematic evaluation of
 *   spiking neural networks}, author={Cramer, Benjamin and Stradmann, Yannik and Schemmel, Johannes and
 *   Zenke, Friedemann}, journal={IEEE TNNLS}, volume={33}, number={7}, pages={2744--2757}, year={2022}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_DATASETS_SHD_HPP
#define SPIKELAB_DATA_DATASETS_SHD_HPP

#include <spikelab/data/datasets/event_dataset.hpp>
#include <spikelab/data/formats/shd_hdf5.hpp>
#include <spikelab/data/transforms/to_frame.hpp>

namespace spikelab {

/// An EventDataset over one ShdFile (Spiking Heidelberg Digits or Spiking Speech Commands):
/// sample i is recording i of the file (Cramer et al., IEEE TNNLS 2022).
class ShdDataset {
 public:
  /// Opens an SHD or SSC file; throws FormatError when its labels exceed `classes`.
  /// @param path the HDF5 file
  /// @param classes the number of classes of the data set (20 for SHD, 35 for SSC)
  ShdDataset(const std::filesystem::path& path, int classes) : file_(path), classes_(classes) {
    if (file_.classes() > classes)
      throw FormatError(path.string(), -1, "labels go up to " + std::to_string(file_.classes() - 1) + " but the data set has " +
                                               std::to_string(classes) + " classes");
  }
  /// The number of samples.
  Index size() const noexcept { return file_.size(); }
  /// The sensor the samples live on.
  SensorSize sensor() const noexcept { return file_.sensor(); }
  /// The number of classes.
  int classes() const noexcept { return classes_; }
  /// Sample i, decoded (throws FormatError naming the file on bad input).
  EventSample get(Index i) const { return file_.read(i); }
  /// The open file.
  const ShdFile& file() const noexcept { return file_; }

 private:
  ShdFile file_;
  int classes_;
};

/// Spiking Heidelberg Digits.
struct Shd {
  static constexpr SensorSize sensor{700, 1, 1};  ///< 700 cochlea channels
  static constexpr int classes = 20;  ///< spoken digits 0-9 in English and German
  /// Opens the SHD file `h5` (train or test).
  static ShdDataset load(const std::filesystem::path& h5) { return ShdDataset(h5, classes); }
  /// `steps` binary bins over [0, 1.4 s).
  static ToFrame standard_transform(std::int64_t steps = 100, std::int64_t duration_us = 1400000) {
    if (steps <= 0 || duration_us % steps != 0) throw ConfigError("Shd: the duration must be a whole number of bins");
    return ToFrame::fixed_bins(duration_us / steps, steps, 0, true);
  }
};

/// Spiking Speech Commands.
struct Ssc {
  static constexpr SensorSize sensor{700, 1, 1};  ///< 700 cochlea channels
  static constexpr int classes = 35;  ///< spoken command words
  /// Opens the SSC file `h5` (train, valid or test).
  static ShdDataset load(const std::filesystem::path& h5) { return ShdDataset(h5, classes); }
  /// `steps` binary bins over [0, 1.4 s), as for SHD.
  static ToFrame standard_transform(std::int64_t steps = 100, std::int64_t duration_us = 1400000) {
    return Shd::standard_transform(steps, duration_us);
  }
};

}  // namespace spikelab

#endif
