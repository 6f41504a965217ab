/**
 * @file version.hpp
 * @brief Library version: the single source of truth (CMake parses these macros).
 */
#ifndef SPIKELAB_VERSION_HPP
#define SPIKELAB_VERSION_HPP

#include <string>

#define SPIKELAB_VERSION_MAJOR 0
#define SPIKELAB_VERSION_MINOR 1
#define SPIKELAB_VERSION_PATCH 0

namespace spikelab {

/// Version of the headers in use.
struct version {
  static constexpr int major = SPIKELAB_VERSION_MAJOR;
  static constexpr int minor = SPIKELAB_VERSION_MINOR;
  static constexpr int patch = SPIKELAB_VERSION_PATCH;
  /// "major.minor.patch"
  static std::string as_string() {
    return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
  }
};

}  // namespace spikelab

#endif
