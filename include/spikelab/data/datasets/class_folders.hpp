/**
 * @file data/datasets/class_folders.hpp
 * @brief class_folder_files and split_per_class: the file lists of data sets stored one folder
 *        per class (`<root>/<class>/<recording>`), and a seeded per-class train/test split for
 *        those that ship without an official one (N-Caltech101, CIFAR10-DVS).
 *
 * The class index is the position of the folder name in the data set's fixed class list, so
 * it does not depend on which folders are present. The split draws, for each class c, a
 * Fisher-Yates permutation of that class's files (in file-name order) from
 * `Rng(seed).fork(c)`; the first round(train_fraction * n_c) positions (half up) are the
 * training files, the rest the test files. So train and test never overlap, together they
 * are the whole class, and a seed gives the same split on every platform (Rng's own
 * distributions, not the standard library's).
 */
#ifndef SPIKELAB_DATA_DATASETS_CLASS_FOLDERS_HPP
#define SPIKELAB_DATA_DATASETS_CLASS_FOLDERS_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/data/datasets/event_dataset.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spikelab {

/// The recordings of a one-folder-per-class layout: every file ending in `ext` in
/// `root/<class>/`, labelled with the index of `<class>` in `class_names`, sorted by label
/// then file name. Files with other endings are ignored (archive leftovers such as
/// `.DS_Store`); a file ending in `refused_ext` (when not empty) is an error with
/// `refused_why` as message (a known, unreadable variant of the data set).
/// Throws FileError naming the path when the root is not a folder, a folder below it is not a
/// class of the list, or no recording is found; `what` (the data set's name) starts each message.
inline std::vector<LabelledFile> class_folder_files(const std::filesystem::path& root,
                                                    std::span<const std::string_view> class_names,
                                                    const std::string& ext, const std::string& what,
                                                    const std::string& refused_ext = {},
                                                    const std::string& refused_why = {}) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(root, ec)) throw FileError(root.string(), -1, what + ": not a directory");
  auto ends_with = [](const std::string& s, const std::string& e) {
    return !e.empty() && s.size() >= e.size() && s.compare(s.size() - e.size(), e.size(), e) == 0;
  };
  std::vector<std::pair<int, fs::path>> found;
  std::vector<fs::path> folders;
  for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec))
    if (it->is_directory(ec)) folders.push_back(it->path());
  if (ec) throw FileError(root.string(), -1, what + ": cannot list the folder (" + ec.message() + ")");
  std::sort(folders.begin(), folders.end());
  for (const fs::path& dir : folders) {
    const std::string name = dir.filename().string();
    const auto pos = std::find(class_names.begin(), class_names.end(), std::string_view(name));
    if (pos == class_names.end())
      throw FileError(
          dir.string(), -1,
          what + ": '" + name + "' is not one of the " + std::to_string(class_names.size()) + " class folders");
    const int label = int(pos - class_names.begin());
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
      if (!it->is_regular_file(ec)) continue;
      const std::string file = it->path().filename().string();
      if (ends_with(file, refused_ext)) throw FileError(it->path().string(), -1, what + ": " + refused_why);
      if (ends_with(file, ext)) found.push_back({label, it->path()});
    }
    if (ec) throw FileError(dir.string(), -1, what + ": cannot list the folder (" + ec.message() + ")");
  }
  if (found.empty())
    throw FileError(root.string(), -1, what + ": no <class>/*" + ext + " recordings below this folder");
  std::sort(found.begin(), found.end());
  std::vector<LabelledFile> files;
  files.reserve(found.size());
  for (auto& f : found) files.push_back({std::move(f.second), f.first});
  return files;
}

/// The part `split` ("train", "test" or "all") of a seeded per-class split of `files` (labels
/// in [0, classes)): per class, round(train_fraction * n) files train, the rest test (see the
/// file comment for the draw). The order of `files` is kept. Throws ConfigError for another
/// split name, a train_fraction outside [0, 1], or a label outside [0, classes).
inline std::vector<LabelledFile> split_per_class(const std::vector<LabelledFile>& files, const std::string& split,
                                                 double train_fraction, std::uint64_t seed, int classes,
                                                 const std::string& what) {
  if (split != "train" && split != "test" && split != "all")
    throw ConfigError(what + ": split must be 'train', 'test' or 'all', not '" + split + "'");
  if (!(train_fraction >= 0.0 && train_fraction <= 1.0))
    throw ConfigError(what + ": train_fraction must lie in [0, 1], not " + std::to_string(train_fraction));
  if (split == "all") return files;
  std::vector<std::vector<std::size_t>> members(std::size_t(std::max(classes, 0)));
  for (std::size_t i = 0; i < files.size(); ++i) {
    const int c = files[i].label;
    if (c < 0 || c >= classes)
      throw ConfigError(what + ": label " + std::to_string(c) + " of " + files[i].path.string() + " is outside [0, " +
                        std::to_string(classes) + ")");
    members[std::size_t(c)].push_back(i);
  }
  std::vector<char> train(files.size(), 0);
  const Rng base(seed);
  for (std::size_t c = 0; c < members.size(); ++c) {
    std::vector<std::size_t>& m = members[c];
    Rng r = base.fork(c);
    for (std::size_t i = m.size(); i > 1; --i) std::swap(m[i - 1], m[std::size_t(r.below(i))]);
    const auto n_train = std::size_t(std::floor(train_fraction * double(m.size()) + 0.5));
    for (std::size_t k = 0; k < n_train; ++k) train[m[k]] = 1;
  }
  std::vector<LabelledFile> out;
  const char want = split == "train" ? 1 : 0;
  for (std::size_t i = 0; i < files.size(); ++i)
    if (train[i] == want) out.push_back(files[i]);
  return out;
}

}  // namespace spikelab

#endif
