/**
 * @file data/datasets/mnist_dvs.hpp
 * @brief MnistDvs: the MNIST-DVS data set (DVS128 recordings of moving MNIST digits at 3
 *        scales, AEDAT 2.0) as a FileListDataset<Aedat2>.
 *
 * Files `mnist_<digit>_scale<NN>_<NNNN>.aedat` anywhere below the root (the original
 * `grabbed_data<d>/scale<N>/` folders or flat); the label is `<digit>`. There is no official
 * split; the default is the one of the GEM-SNN / VOWEL code (kclip): recordings 1-900 of each
 * digit train, 901-1000 test. `standard_transform()` is their preprocessing: crop x, y in
 * [48, 73] (26 x 26, in the orientation of the Aedat2 reader, x = 127 - raw x), 25 ms bins over
 * [0, 2 s) = 80 steps, a pixel is 1 in a bin if it had an event, polarity as 2 channels
 * (26*26*2 = 1352 inputs).
 *
 * @code
 * @inproceedings{jang2021multisample, title={Multi-Sample Online Learning for Probabilistic Spiking Neural
 *   Networks}, author={Jang, Hyeryung and Simeone, Osvaldo}, booktitle={ICASSP}, year={2021}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_DATASETS_MNIST_DVS_HPP
#define SPIKELAB_DATA_DATASETS_MNIST_DVS_HPP

#include <spikelab/data/datasets/event_dataset.hpp>
#include <spikelab/data/formats/aedat2.hpp>
#include <spikelab/data/transforms/compose.hpp>
#include <spikelab/data/transforms/spatial.hpp>
#include <spikelab/data/transforms/to_frame.hpp>

#include <algorithm>
#include <tuple>

namespace spikelab {

/// The MNIST-DVS recordings as an EventDataset (MnistDvs lists the files).
using MnistDvsDataset = FileListDataset<Aedat2>;

/// The MNIST-DVS data set's description: DVS128 recordings of moving MNIST digits at 3 scales
/// (AEDAT 2.0), its sensor, classes, file lists and standard transform.
struct MnistDvs {
  static constexpr SensorSize sensor{128, 128, 2};  ///< 128 x 128, 2 polarities
  static constexpr int classes = 10;  ///< 10 digits

  /// Crop to x, y in [48, 73], 80 binary frames of 25 ms.
  static Compose<Crop, ToFrame> standard_transform() {
    return Compose<Crop, ToFrame>(Crop{48, 48, 26, 26}, ToFrame::fixed_bins(25000, 80, 0, true));
  }

  /// The parts of a file name `mnist_<digit>_scale<NN>_<NNNN>.aedat`, or false.
  static bool parse_name(const std::string& n, int& digit, int& scale, int& number) {
    if (n.rfind("mnist_", 0) != 0 || n.size() < 6 + 1 + 7 + 1 + 6) return false;
    if (n.substr(n.size() - 6) != ".aedat") return false;
    const std::string core = n.substr(6, n.size() - 12);  // <d>_scale<NN>_<NNNN>
    const auto a = core.find("_scale"), b = core.rfind('_');
    if (a == std::string::npos || b == std::string::npos || b <= a + 6) return false;
    auto num = [](const std::string& s, int& v) {
      if (s.empty() || s.size() > 6 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return false;
      v = std::stoi(s);
      return true;
    };
    return num(core.substr(0, a), digit) && num(core.substr(a + 6, b - a - 6), scale) && num(core.substr(b + 1), number) &&
           digit >= 0 && digit <= 9;
  }

  /// Recordings of one scale (4, 8 or 16) and split; train = numbers 1..train_last, test = the rest.
  static MnistDvsDataset load(const std::filesystem::path& root, const std::string& split, int scale = 4,
                              int train_last = 900) {
    namespace fs = std::filesystem;
    if (split != "train" && split != "test" && split != "all")
      throw ConfigError("MNIST-DVS: split must be 'train', 'test' or 'all', not '" + split + "'");
    std::error_code ec;
    if (!fs::is_directory(root, ec)) throw FileError(root.string(), -1, "MNIST-DVS: not a directory");
    std::vector<std::pair<std::tuple<int, int>, LabelledFile>> found;
    for (auto it = fs::recursive_directory_iterator(root, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      if (it.depth() > 3) {
        it.disable_recursion_pending();
        continue;
      }
      int d = 0, s = 0, k = 0;
      if (!it->is_regular_file(ec) || !parse_name(it->path().filename().string(), d, s, k) || s != scale) continue;
      const bool train = k <= train_last;
      if (split == "all" || (split == "train") == train) found.push_back({{d, k}, {it->path(), d}});
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<LabelledFile> files;
    for (auto& f : found) files.push_back(std::move(f.second));
    return MnistDvsDataset(std::move(files), Aedat2{}, classes);
  }
};

}  // namespace spikelab

#endif
