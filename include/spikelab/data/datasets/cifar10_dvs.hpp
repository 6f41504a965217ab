/**
 * @file data/datasets/cifar10_dvs.hpp
 * @brief Cifar10Dvs: the CIFAR10-DVS data set (DVS128 recordings of moving CIFAR-10 images,
 *        10 classes x 1,000, AEDAT 2.0 in the original release) as a FileListDataset<Aedat2>.
 *
 * Layout of the original figshare release (one zip per class): `<root>/<class>/
 * cifar10_<class>_<n>.aedat`, AEDAT 2.0 from a DVS128 (the Aedat2 reader and its address
 * conventions). The classes are CIFAR-10's, in CIFAR-10's order (airplane = 0 ... truck = 9),
 * which is also the order of tonic's `classes` table and the sorted folder names. There is no
 * official split: `load` offers a seeded per-class split (split_per_class,
 * data/datasets/class_folders.hpp), 90 % train by default (our choice; 9,000 / 1,000 is the
 * split most papers on CIFAR10-DVS report).
 *
 * Differences from tonic (neuromorphs/tonic, `tonic/datasets/cifar10dvs.py`, commit d0cb6df):
 * tonic downloads a later AEDAT 4.0 re-export (`<class>/<name>.aedat4` files: compressed flatbuffer
 * packets), which spikelab cannot read yet; `load` refuses such files with an error naming
 * one. Its sensor (128 x 128, 2 polarities) and classes are the same. Neither the paper nor
 * tonic defines a standard transform, so there is none.
 *
 * @code
 * @article{li2017cifar10, title={CIFAR10-DVS: an event-stream dataset for object classification},
 *   author={Li, Hongmin and Liu, Hanchao and Ji, Xiangyang and Li, Guoqi and Shi, Luping},
 *   journal={Frontiers in Neuroscience}, volume={11}, pages={309}, year={2017}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_DATASETS_CIFAR10_DVS_HPP
#define SPIKELAB_DATA_DATASETS_CIFAR10_DVS_HPP

#include <spikelab/data/datasets/class_folders.hpp>
#include <spikelab/data/datasets/event_dataset.hpp>
#include <spikelab/data/formats/aedat2.hpp>

#include <array>
#include <cstdint>
#include <string_view>

namespace spikelab {

/// The CIFAR10-DVS recordings as an EventDataset (Cifar10Dvs lists the files).
using Cifar10DvsDataset = FileListDataset<Aedat2>;

/// The CIFAR10-DVS data set's description: DVS128 recordings of CIFAR-10 images (AEDAT 2.0,
/// original release), 10 classes, its class list and file lists with a seeded per-class split
/// (Li et al., Frontiers in Neuroscience 2017).
struct Cifar10Dvs {
  static constexpr SensorSize sensor = Aedat2::dvs128_sensor;  ///< 128 x 128, 2 polarities
  static constexpr int classes = 10;  ///< the CIFAR-10 classes

  /// The class folder names in CIFAR-10's order; a label is an index into this list.
  static constexpr std::array<std::string_view, 10> class_names() {
    return {"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"};
  }

  /// The recordings of `split` ("train", "test" or "all") in `root/<class>/<name>.aedat`, sorted
  /// by label then file name.
  /// @param root the folder holding the 10 class folders
  /// @param split "train", "test" or "all"
  /// @param train_fraction the share of each class that trains (rounded half up per class)
  /// @param seed the seed of the per-class draw
  static Cifar10DvsDataset load(const std::filesystem::path& root, const std::string& split,
                                double train_fraction = 0.9, std::uint64_t seed = 0) {
    static constexpr auto names = class_names();
    std::vector<LabelledFile> all =
        class_folder_files(root, names, ".aedat", "CIFAR10-DVS", ".aedat4",
                           "an AEDAT 4 file (tonic's re-export of CIFAR10-DVS); spikelab reads the original AEDAT 2.0 "
                           "release (<class>/cifar10_<class>_<n>.aedat)");
    return Cifar10DvsDataset(split_per_class(all, split, train_fraction, seed, classes, "CIFAR10-DVS"), Aedat2{},
                             classes);
  }
};

}  // namespace spikelab

#endif
