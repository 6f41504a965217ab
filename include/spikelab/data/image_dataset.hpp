/**
 * @file data/image_dataset.hpp
 * @brief ImageDataset: labelled 8-bit images (MNIST, Fashion-MNIST) loaded from idx files,
 *        and the lookup of the standard file names in a directory.
 */
#ifndef SPIKELAB_DATA_IMAGE_DATASET_HPP
#define SPIKELAB_DATA_IMAGE_DATASET_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/data/formats/idx.hpp>

#include <algorithm>
#include <filesystem>
#include <initializer_list>
#include <optional>
#include <string>
#include <vector>

namespace spikelab {

/// Labelled 8-bit images (MNIST, Fashion-MNIST) loaded from idx files: count x height x width
/// pixels, row-major, and one label each.
struct ImageDataset {
  ///@{
  /// Images, rows and columns.
  std::int64_t count = 0, height = 0, width = 0;
  ///@}
  std::vector<std::uint8_t> pixels;  ///< count x height x width, row-major
  std::vector<int> labels;           ///< count labels
  int classes = 0;  ///< the number of classes

  /// Pixels per image.
  std::int64_t features() const noexcept { return height * width; }
  /// The pixels of image i.
  const std::uint8_t* image(std::int64_t i) const noexcept { return pixels.data() + i * features(); }

  /// The first n samples (or all if n <= 0 or n >= count).
  ImageDataset head(std::int64_t n) const {
    if (n <= 0 || n >= count) return *this;
    ImageDataset d = *this;
    d.count = n;
    d.pixels.resize(std::size_t(n * features()));
    d.labels.resize(std::size_t(n));
    return d;
  }
};

/// The mean image of one or more data sets of the same image size, per pixel, on the [0, 1]
/// scale (pixel / 255) that ImageSource feeds the encoders: the offset of mean subtraction.
/// Throws ConfigError for no images or data sets of different sizes.
inline std::vector<float> mean_image(std::initializer_list<const ImageDataset*> sets) {
  std::int64_t F = -1, n = 0;
  for (const ImageDataset* d : sets) {
    if (F >= 0 && d->features() != F) throw ConfigError("mean_image: the data sets have images of different sizes");
    F = d->features();
    n += d->count;
  }
  if (F <= 0 || n == 0) throw ConfigError("mean_image: no images");
  std::vector<double> sum(static_cast<std::size_t>(F), 0.0);
  for (const ImageDataset* d : sets)
    for (std::int64_t i = 0; i < d->count; ++i) {
      const std::uint8_t* px = d->image(i);
      for (std::int64_t f = 0; f < F; ++f) sum[std::size_t(f)] += px[f];
    }
  std::vector<float> mean(static_cast<std::size_t>(F));
  for (std::int64_t f = 0; f < F; ++f) mean[std::size_t(f)] = float(sum[std::size_t(f)] / (255.0 * double(n)));
  return mean;
}

/// Loads images (idx3, uint8) and labels (idx1) and checks that they agree.
inline ImageDataset load_idx_images(const std::filesystem::path& images, const std::filesystem::path& labels) {
  const IdxArray im = read_idx(images);
  const IdxArray lb = read_idx(labels);
  if (im.type != 0x08 || im.dims.size() != 3)
    throw FormatError(images.string(), 2, "expected a uint8 idx3 image file (N x rows x cols)");
  if (lb.type != 0x08 || lb.dims.size() != 1) throw FormatError(labels.string(), 2, "expected a uint8 idx1 label file");
  if (im.dims[0] != lb.dims[0])
    throw FormatError(labels.string(), 4, "has " + std::to_string(lb.dims[0]) + " labels but '" + images.string() +
                                               "' has " + std::to_string(im.dims[0]) + " images");
  ImageDataset d;
  d.count = im.dims[0];
  d.height = im.dims[1];
  d.width = im.dims[2];
  d.pixels = im.data;
  d.labels.assign(lb.data.begin(), lb.data.end());
  d.classes = d.labels.empty() ? 0 : *std::max_element(d.labels.begin(), d.labels.end()) + 1;
  return d;
}

/// Finds the images/labels pair of a split ("train" or "test") in `dir` or its
/// subdirectories: names like train-images-idx3-ubyte[.gz], train-images.idx3-ubyte,
/// train10k-images-idx3-ubyte.gz, t10k-images-idx3-ubyte.gz (test). The labels file is taken
/// from the same directory as the images.
inline std::optional<std::pair<std::filesystem::path, std::filesystem::path>> find_idx_pair(
    const std::filesystem::path& dir, const std::string& split) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return std::nullopt;
  const bool test = split == "test";
  auto matches = [&](const std::string& n, const char* kind) {
    const bool is_test = n.rfind("t10k", 0) == 0 || n.rfind("test", 0) == 0;
    const bool is_train = n.rfind("train", 0) == 0;
    return (test ? is_test : is_train) && n.find(kind) != std::string::npos && n.find("idx") != std::string::npos;
  };
  std::vector<fs::path> images;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (it.depth() > 2) {
      it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && matches(it->path().filename().string(), "images")) images.push_back(it->path());
  }
  std::sort(images.begin(), images.end());
  for (const auto& img : images) {
    std::string n = img.filename().string();
    const auto pos = n.find("images");
    std::string stem = n.substr(0, pos);  // e.g. "train-", "train10k-", "t10k-"
    for (const auto& e : fs::directory_iterator(img.parent_path(), ec)) {
      const std::string ln = e.path().filename().string();
      if (ln.rfind(stem, 0) == 0 && ln.find("labels") == stem.size() && ln.find("idx") != std::string::npos)
        return std::make_pair(img, e.path());
    }
  }
  return std::nullopt;
}

/// Loads split "train" or "test" from a directory of idx files; FileError if absent.
inline ImageDataset load_idx_split(const std::filesystem::path& dir, const std::string& split) {
  auto p = find_idx_pair(dir, split);
  if (!p) throw FileError(dir.string(), -1, "no idx " + split + " images/labels pair found in this directory");
  return load_idx_images(p->first, p->second);
}

/// Where Debian's dataset-fashion-mnist package puts the files.
inline const char* debian_fashion_mnist_dir() { return "/usr/share/datasets/fashion-mnist"; }

}  // namespace spikelab

#endif
