/**
 * @file core/error.hpp
 * @brief Exception types. Every error names what failed: the file and byte offset,
 *        the layer, or the two shapes that disagree.
 */
#ifndef SPIKELAB_CORE_ERROR_HPP
#define SPIKELAB_CORE_ERROR_HPP

#include <cstdint>
#include <stdexcept>
#include <string>

namespace spikelab {

/// Base class of every exception spikelab throws.
class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Two tensors (or a tensor and a layer) disagree in shape.
class ShapeError : public Error {
 public:
  using Error::Error;
};

/// An invalid argument or hyperparameter.
class ConfigError : public Error {
 public:
  using Error::Error;
};

/// A non-finite value (NaN or Inf) appeared during training; the message names the layer.
class NumericError : public Error {
 public:
  using Error::Error;
};

/// A file could not be read or has the wrong content. Carries the path and the byte
/// offset where the problem was found (-1 when the offset does not apply).
class FileError : public Error {
 public:
  /// @param path the file
  /// @param offset the byte offset where the problem was found, -1 when none applies
  /// @param what what is wrong
  FileError(std::string path, std::int64_t offset, const std::string& what)
      : Error(compose(path, offset, what)), path_(std::move(path)), offset_(offset) {}
  /// The file.
  const std::string& path() const noexcept { return path_; }
  /// The byte offset of the problem, -1 when none applies.
  std::int64_t offset() const noexcept { return offset_; }

 private:
  static std::string compose(const std::string& path, std::int64_t offset, const std::string& what) {
    std::string m = "'" + path + "'";
    if (offset >= 0) m += " at byte " + std::to_string(offset);
    return m + ": " + what;
  }
  std::string path_;
  std::int64_t offset_;
};

/// A file whose format is wrong (bad magic, truncated record, value out of range...).
class FormatError : public FileError {
 public:
  using FileError::FileError;
};

/// A checkpoint that cannot be loaded: truncated, wrong version or wrong network structure.
class CheckpointError : public FileError {
 public:
  using FileError::FileError;
};

/// The checkpoint was written by a newer, incompatible format version.
class VersionError : public CheckpointError {
 public:
  using CheckpointError::CheckpointError;
};

/// The checkpoint holds a network of another structure than the one it is loaded into (or, for
/// a training checkpoint, the state of another optimizer or learning rule).
class SignatureError : public CheckpointError {
 public:
  using CheckpointError::CheckpointError;
};

}  // namespace spikelab

#endif
