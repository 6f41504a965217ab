/**
 * @file data/datasets/nmnist.hpp
 * @brief NMnist: the N-MNIST data set (34 x 34 ATIS recordings of MNIST digits, 3 saccades,
 *        ~300 ms, 10 classes) as a FileListDataset<NmnistBin>, from either layout:
 *  - the original folders `Train/<digit>/<id>.bin`, `Test/<digit>/<id>.bin` (ids = 1-based MNIST
 *    indices, 5 digits);
 *  - a flat folder with a label list (SLAYER's NMNISTsmall: `<id>.bs2` files plus `train1K.txt`
 *    / `test100.txt`, lines `<id>\t<label>` after a `#` comment line, CRLF).
 * `standard_transform()` bins into 30 frames of 10 ms over [0, 300 ms) with polarity as 2
 * channels (34*34*2 = 2312 features); N_t = 30 is the NA paper's N-MNIST setting (Rouser uses
 * 300 bins of 1 ms: `ToFrame::fixed_bins(1000, 300)`).
 *
 * @code
 * @article{orchard2015converting, title={Converting static image datasets to spiking neuromorphic datasets
 *   using saccades}, author={Orchard, Garrick and Jayawant, Ajinkya and Cohen, Gregory K. and Thakor, Nitish},
 *   journal={Frontiers in Neuroscience}, volume={9}, pages={437}, year={2015}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_DATASETS_NMNIST_HPP
#define SPIKELAB_DATA_DATASETS_NMNIST_HPP

#include <spikelab/data/datasets/event_dataset.hpp>
#include <spikelab/data/formats/label_files.hpp>
#include <spikelab/data/formats/nmnist_bin.hpp>
#include <spikelab/data/transforms/to_frame.hpp>

#include <algorithm>
#include <cctype>

namespace spikelab {

/// The N-MNIST recordings as an EventDataset (NMnist lists the files).
using NMnistDataset = FileListDataset<NmnistBin>;

/// The N-MNIST data set's description: 34 x 34 ATIS recordings of MNIST digits (3 saccades,
/// about 300 ms, 10 classes), its file lists in either layout and its standard transform
/// (Orchard et al., Frontiers in Neuroscience 2015).
struct NMnist {
  static constexpr SensorSize sensor{34, 34, 2};  ///< 34 x 34, 2 polarities
  static constexpr int classes = 10;  ///< 10 digits

  /// 30 frames of 10 ms over [0, 300 ms), polarity as channels.
  static ToFrame standard_transform(std::int64_t bin_us = 10000, std::int64_t steps = 30) {
    return ToFrame::fixed_bins(bin_us, steps);
  }

  /// Finds the layout under `root` and loads a split ("train" or "test").
  static NMnistDataset load(const std::filesystem::path& root, const std::string& split) {
    namespace fs = std::filesystem;
    check_split(split);
    std::error_code ec;
    if (!fs::is_directory(root, ec)) throw FileError(root.string(), -1, "N-MNIST: not a directory");
    if (fs::is_directory(root / "Train", ec) || fs::is_directory(root / "Test", ec) || fs::is_directory(root / "train", ec) ||
        fs::is_directory(root / "test", ec))
      return from_folders(root, split);
    std::vector<fs::path> lists;
    for (const auto& e : fs::directory_iterator(root, ec)) {
      const std::string n = e.path().filename().string();
      if (e.is_regular_file() && n.size() > 4 && n.substr(n.size() - 4) == ".txt" && n.rfind(split, 0) == 0)
        lists.push_back(e.path());
    }
    if (lists.size() != 1)
      throw FileError(root.string(), -1,
                      "N-MNIST: expected Train/ and Test/ folders or exactly one '" + split + "*.txt' label list, found " +
                          std::to_string(lists.size()) + " lists");
    return from_label_list(root, lists.front());
  }

  /// `root/Train/<digit>/*.bin` (or Test; .bs2 accepted too), sorted by label then file name.
  static NMnistDataset from_folders(const std::filesystem::path& root, const std::string& split) {
    namespace fs = std::filesystem;
    check_split(split);
    std::error_code ec;
    fs::path dir = root / (split == "train" ? "Train" : "Test");
    if (!fs::is_directory(dir, ec)) dir = root / split;
    if (!fs::is_directory(dir, ec)) throw FileError(dir.string(), -1, "N-MNIST: missing split folder");
    std::vector<LabelledFile> files;
    for (int d = 0; d < 10; ++d) {
      const fs::path sub = dir / std::to_string(d);
      if (!fs::is_directory(sub, ec)) continue;
      std::vector<fs::path> paths;
      for (const auto& e : fs::directory_iterator(sub, ec)) {
        const std::string ext = e.path().extension().string();
        if (e.is_regular_file() && (ext == ".bin" || ext == ".bs2")) paths.push_back(e.path());
      }
      std::sort(paths.begin(), paths.end());
      for (auto& p : paths) files.push_back({std::move(p), d});
    }
    if (files.empty()) throw FileError(dir.string(), -1, "N-MNIST: no <digit>/*.bin files");
    return NMnistDataset(std::move(files), NmnistBin::nmnist(), classes);
  }

  /// Files `<id>.bs2` (or `<id>.bin`) in `dir`, labelled by a label list.
  static NMnistDataset from_label_list(const std::filesystem::path& dir, const std::filesystem::path& list) {
    namespace fs = std::filesystem;
    std::vector<LabelledFile> files;
    std::error_code ec;
    for (const LabelEntry& e : read_label_list(list)) {
      if (e.label >= classes)
        throw FormatError(list.string(), -1, "label " + std::to_string(e.label) + " of sample " + std::to_string(e.id) +
                                                 " is not a digit");
      fs::path p = dir / (std::to_string(e.id) + ".bs2");
      if (!fs::exists(p, ec)) p = dir / (std::to_string(e.id) + ".bin");
      if (!fs::exists(p, ec))
        throw FileError(list.string(), -1, "sample " + std::to_string(e.id) + " is listed but neither " +
                                               std::to_string(e.id) + ".bs2 nor .bin exists in " + dir.string());
      files.push_back({p, e.label});
    }
    return NMnistDataset(std::move(files), NmnistBin::nmnist(), classes);
  }

 private:
  static void check_split(const std::string& split) {
    if (split != "train" && split != "test") throw ConfigError("N-MNIST: split must be 'train' or 'test', not '" + split + "'");
  }
};

}  // namespace spikelab

#endif
