/**
 * @file version.hpp
 * @brief Library version: the single source of truth (CMake parses these macros).
 */
#ifndef SPIKELAB_VERSION_HPP
#define SPIKELAB_VERSION_HPP

#include <string>

#define SPIKELAB_VERSION_MAJOR 0  ///< the major version (API changes after 1.0)
#define SPIKELAB_VERSION_MINOR 1  ///< the minor version
#define SPIKELAB_VERSION_PATCH 0  ///< the patch version

namespace spikelab {

/// Version of the headers in use.
struct version {
  static constexpr int major = SPIKELAB_VERSION_MAJOR;  ///< SPIKELAB_VERSION_MAJOR
  static constexpr int minor = SPIKELAB_VERSION_MINOR;  ///< SPIKELAB_VERSION_MINOR
  static constexpr int patch = SPIKELAB_VERSION_PATCH;  ///< SPIKELAB_VERSION_PATCH
  /// "major.minor.patch"
  static std::string as_string() {
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  }
};

}  // namespace spikelab

#endif
