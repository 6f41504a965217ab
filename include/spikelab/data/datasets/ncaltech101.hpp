/**
 * @file data/datasets/ncaltech101.hpp
 * @brief NCaltech101: the N-Caltech101 data set (ATIS recordings of the Caltech101 images under
 *        3 saccades, 40-bit `.bin` files, 100 object classes + BACKGROUND_Google) as a
 *        FileListDataset<NmnistBin>.
 *
 * Layout of the original release (the `Caltech101.zip` inside `N-Caltech101-archive.zip`):
 * `Caltech101/<class>/image_NNNN.bin`; `load` takes either the `Caltech101` folder or the
 * folder holding it (the annotation folder `Caltech101_annotations/` beside it is not read).
 * There are 101 class folders: the Caltech101 categories without `Faces` (the authors left it
 * out as a near copy of `Faces_easy`) plus `BACKGROUND_Google`, 8,709 recordings. Like tonic
 * (which labels each recording with its folder name and keeps the background folder), we keep
 * `BACKGROUND_Google` as a class: 101 classes, the class index is the position of the folder
 * name in the byte-wise sorted list (`class_names()`: upper case first, so BACKGROUND_Google = 0,
 * Faces_easy = 1, Leopards = 2, Motorbikes = 3, accordion = 4, ...), the order of Python's
 * `sorted()` and of torchvision's ImageFolder. There is no official split: `load` offers a
 * seeded per-class split (split_per_class, data/datasets/class_folders.hpp), 80 % train by
 * default (our choice).
 *
 * Differences from tonic (neuromorphs/tonic, `tonic/datasets/ncaltech101.py`, commit d0cb6df):
 * tonic's sensor size is None (the recordings differ in size) and it shifts each recording so
 * that its smallest x and y are 0; here the sensor is the ATIS's 304 x 240
 * (NmnistBin::ncaltech101_sensor) and coordinates are kept as recorded. tonic's targets are the
 * folder names; here they are indices. Neither the paper nor tonic defines a standard transform,
 * so there is none.
 *
 * @code
 * @article{orchard2015converting, title={Converting static image datasets to spiking neuromorphic datasets
 *   using saccades}, author={Orchard, Garrick and Jayawant, Ajinkya and Cohen, Gregory K. and Thakor, Nitish},
 *   journal={Frontiers in Neuroscience}, volume={9}, pages={437}, year={2015}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_DATASETS_NCALTECH101_HPP
#define SPIKELAB_DATA_DATASETS_NCALTECH101_HPP

#include <spikelab/data/datasets/class_folders.hpp>
#include <spikelab/data/datasets/event_dataset.hpp>
#include <spikelab/data/formats/nmnist_bin.hpp>

#include <array>
#include <cstdint>
#include <string_view>

namespace spikelab {

/// The N-Caltech101 recordings as an EventDataset (NCaltech101 lists the files).
using NCaltech101Dataset = FileListDataset<NmnistBin>;

/// The N-Caltech101 data set's description: ATIS recordings of the Caltech101 images (40-bit
/// `.bin`), 101 classes (100 objects + BACKGROUND_Google), its class list and file lists with a
/// seeded per-class split (Orchard et al., Frontiers in Neuroscience 2015).
struct NCaltech101 {
  static constexpr SensorSize sensor = NmnistBin::ncaltech101_sensor;  ///< the ATIS, 304 x 240, 2 polarities
  static constexpr int classes = 101;  ///< 100 object classes + BACKGROUND_Google

  /// The class folder names, byte-wise sorted; a label is an index into this list.
  static constexpr std::array<std::string_view, 101> class_names() {
    return {"BACKGROUND_Google", "Faces_easy", "Leopards", "Motorbikes", "accordion", "airplanes", "anchor", "ant",
            "barrel", "bass", "beaver", "binocular", "bonsai", "brain", "brontosaurus", "buddha", "butterfly", "camera",
            "cannon", "car_side", "ceiling_fan", "cellphone", "chair", "chandelier", "cougar_body", "cougar_face",
            "crab", "crayfish", "crocodile", "crocodile_head", "cup", "dalmatian", "dollar_bill", "dolphin",
            "dragonfly", "electric_guitar", "elephant", "emu", "euphonium", "ewer", "ferry", "flamingo",
            "flamingo_head", "garfield", "gerenuk", "gramophone", "grand_piano", "hawksbill", "headphone", "hedgehog",
            "helicopter", "ibis", "inline_skate", "joshua_tree", "kangaroo", "ketch", "lamp", "laptop", "llama",
            "lobster", "lotus", "mandolin", "mayfly", "menorah", "metronome", "minaret", "nautilus", "octopus",
            "okapi", "pagoda", "panda", "pigeon", "pizza", "platypus", "pyramid", "revolver", "rhino", "rooster",
            "saxophone", "schooner", "scissors", "scorpion", "sea_horse", "snoopy", "soccer_ball", "stapler",
            "starfish", "stegosaurus", "stop_sign", "strawberry", "sunflower", "tick", "trilobite", "umbrella",
            "watch", "water_lilly", "wheelchair", "wild_cat", "windsor_chair", "wrench", "yin_yang"};
  }

  /// The recordings of `split` ("train", "test" or "all") below `root` (the `Caltech101`
  /// folder or the folder holding it), sorted by label then file name.
  /// @param root the `Caltech101` folder or its parent
  /// @param split "train", "test" or "all"
  /// @param train_fraction the share of each class that trains (rounded half up per class)
  /// @param seed the seed of the per-class draw
  static NCaltech101Dataset load(const std::filesystem::path& root, const std::string& split,
                                 double train_fraction = 0.8, std::uint64_t seed = 0) {
    std::error_code ec;
    const std::filesystem::path sub = root / "Caltech101";
    const std::filesystem::path dir = std::filesystem::is_directory(sub, ec) ? sub : root;
    static constexpr auto names = class_names();
    std::vector<LabelledFile> all = class_folder_files(dir, names, ".bin", "N-Caltech101");
    return NCaltech101Dataset(split_per_class(all, split, train_fraction, seed, classes, "N-Caltech101"),
                              NmnistBin::ncaltech101(), classes);
  }
};

}  // namespace spikelab

#endif
