// Where the example trainers find data files that are not distributed with spikelab (not part of
// the library): the SHD / SSC HDF5 files as downloaded (.h5.gz) or gunzipped (.h5).
#ifndef SPIKELAB_EXAMPLES_COMMON_DATA_FILES_HPP
#define SPIKELAB_EXAMPLES_COMMON_DATA_FILES_HPP

#include <filesystem>
#include <stdexcept>
#include <string>

namespace spikelab_examples {

/// DIR/name, or DIR/name.gz when only the downloaded file is there; otherwise an
/// std::invalid_argument that names the missing file and says where to get it.
inline std::filesystem::path shd_file(const std::filesystem::path& dir, const std::string& name) {
  if (std::filesystem::is_regular_file(dir / name)) return dir / name;
  if (std::filesystem::is_regular_file(dir / (name + ".gz"))) return dir / (name + ".gz");
  throw std::invalid_argument("SHD file '" + (dir / name).string() + "' is missing (nor " + name +
                              ".gz): download shd_train.h5.gz and shd_test.h5.gz (Cramer et al. 2020, "
                              "https://zenkelab.org/datasets/) into " + dir.string());
}

}  // namespace spikelab_examples

#endif
