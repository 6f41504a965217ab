/**
 * @file io/checkpoint.hpp
 * @brief Checkpoints: a network's parameters and hyperparameters in a cereal archive
 *        (portable binary or JSON) behind a header {magic, format version, library version,
 *        network signature} and followed by an end marker; CheckpointEvery, the training callback
 *        that saves one every N epochs. These hold the network only: to continue an interrupted
 *        fit, use training checkpoints (io/training_checkpoint.hpp).
 *
 * Saving writes a temporary file in the same directory and renames it over the target, so
 * an interrupted save never leaves a half-written checkpoint. Loading
 *  - throws CheckpointError (naming the file and, for binary files, the byte offset) for a
 *    missing, truncated or corrupt file,
 *  - throws VersionError for a format version newer than this build,
 *  - throws SignatureError, showing both signatures, when the stored network has another
 *    structure than the one it is loaded into,
 *  - names the library version that wrote the file when that version differs from this one
 *    and the file cannot be read (SignatureError, or CheckpointError for a part that fails),
 * and leaves the network untouched on any error (it loads into a copy first).
 */
#ifndef SPIKELAB_IO_CHECKPOINT_HPP
#define SPIKELAB_IO_CHECKPOINT_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/core/serialization.hpp>
#include <spikelab/io/temporary_file.hpp>
#include <spikelab/training/hooks.hpp>
#include <spikelab/version.hpp>

#include <cereal/archives/json.hpp>
#include <cereal/archives/portable_binary.hpp>
#include <cereal/types/string.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string>
#include <system_error>

namespace spikelab {

/// How a checkpoint is written: cereal's portable binary archive or JSON (readable, larger).
enum class CheckpointFormat : std::uint8_t { binary, json };

/// What a checkpoint starts with.
struct CheckpointHeader {
  static constexpr const char* magic_value = "spikelab-checkpoint";  ///< what `magic` must hold
  static constexpr std::uint32_t current_format = 1;  ///< the format version this build writes
  std::string magic = magic_value;  ///< identifies a spikelab checkpoint
  std::uint32_t format_version = current_format;  ///< the version of the file format
  std::string library_version = version::as_string();  ///< the spikelab version that wrote it
  std::string signature;  ///< the network's signature, checked on load
  /// cereal serialisation: what checkpoints store (not called directly).
  template <class Ar>
  void serialize(Ar& ar) {
    ar(CEREAL_NVP(magic), CEREAL_NVP(format_version), CEREAL_NVP(library_version), CEREAL_NVP(signature));
  }
};

namespace detail {
inline constexpr const char* checkpoint_end = "spikelab-end";

/// Reads the parts after a checkpoint's header with `read()`; a failure there, in a file written
/// by another library version, names that version: a class whose stored form changed without a
/// class version is then the likely cause, rather than a damaged file.
template <class Read>
void read_written_by(const std::string& writer, Read&& read) {
  try {
    read();
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception& e) {
    if (writer == version::as_string()) throw;
    throw cereal::Exception(std::string(e.what()) + " (the file was written by spikelab " + writer + ", this is spikelab " +
                            version::as_string() + ")");
  }
}

template <class Archive, class Net>
void write_checkpoint(Archive& ar, const Net& net) {
  CheckpointHeader h;
  h.signature = net.signature();
  std::string end = checkpoint_end;
  ar(cereal::make_nvp("header", h), cereal::make_nvp("network", net), cereal::make_nvp("end", end));
}

template <class Archive, class Net>
void read_checkpoint(Archive& ar, Net& net, const std::string& path) {
  CheckpointHeader h;
  h.magic.clear();
  ar(cereal::make_nvp("header", h));
  if (h.magic != CheckpointHeader::magic_value) throw CheckpointError(path, 0, "not a spikelab checkpoint");
  if (h.format_version > CheckpointHeader::current_format)
    throw VersionError(path, -1, "checkpoint format version " + std::to_string(h.format_version) +
                                     " (written by spikelab " + h.library_version + ") is newer than this build's " +
                                     std::to_string(CheckpointHeader::current_format));
  const std::string mine = net.signature();
  if (h.signature != mine)
    throw SignatureError(path, -1, "the checkpoint (written by spikelab " + h.library_version +
                                       ") holds another network structure.\n  stored:   " + h.signature +
                                       "\n  expected: " + mine);
  std::string end;
  read_written_by(h.library_version, [&] {
    ar(cereal::make_nvp("network", net));
    ar(cereal::make_nvp("end", end));
  });
  if (end != checkpoint_end) throw CheckpointError(path, -1, "missing end marker (truncated or corrupt file)");
}
}  // namespace detail

namespace detail {
/// Writes a cereal archive of the chosen format to `path` through a temporary file in the same
/// directory, renamed over `path` once complete; `write(archive)` fills it. Errors throw
/// CheckpointError naming the file and leave no temporary file behind.
template <class Write>
void save_archive(const std::filesystem::path& path, CheckpointFormat format, Write&& write) {
  namespace fs = std::filesystem;
  const fs::path tmp = temporary_path(path);
  {
    std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
    if (!os) throw CheckpointError(tmp.string(), -1, "cannot open for writing");
    try {
      if (format == CheckpointFormat::binary) {
        cereal::PortableBinaryOutputArchive ar(os);
        write(ar);
      } else {
        cereal::JSONOutputArchive ar(os, cereal::JSONOutputArchive::Options::Default());
        write(ar);
      }
    } catch (const std::exception& e) {
      os.close();
      std::error_code ec;
      fs::remove(tmp, ec);
      throw CheckpointError(path.string(), -1, std::string("writing failed: ") + e.what());
    }
    os.flush();
    if (!os) {
      os.close();
      std::error_code ec;
      fs::remove(tmp, ec);
      throw CheckpointError(path.string(), -1, "writing failed (disk full?)");
    }
  }
  sync_file(tmp);
  replace_with_temporary<CheckpointError>(tmp, path);
}

/// True if `bytes` (a whole file) starts like an archive whose header's first string is `magic`.
inline bool archive_has_magic(const std::string& bytes, bool json, const std::string& magic) {
  // portable binary: 1 byte endianness, 8 bytes string length, then the magic string
  if (!json) return bytes.size() >= 9 + magic.size() && bytes.compare(9, magic.size(), magic) == 0;
  const auto at = bytes.find("\"" + magic + "\"");
  return at != std::string::npos && at < 256;
}

/// Reads the archive in `path` (binary or JSON, told apart by the content) and calls
/// `read(archive)`. The file must start with `magic` (else CheckpointError at offset 0, with
/// `wrong_magic` as the message); any other failure while reading becomes a CheckpointError
/// naming the file and, for binary files, the byte offset. A matrix in the file may not claim
/// more bytes than the file has.
template <class Read>
void load_archive(const std::filesystem::path& path, const std::string& magic, const std::string& wrong_magic,
                  Read&& read) {
  const std::string p = path.string();
  std::ifstream is(path, std::ios::binary);
  if (!is) throw CheckpointError(p, -1, "cannot open (missing file or no permission)");
  std::string bytes((std::istreambuf_iterator<char>(is)), std::istreambuf_iterator<char>());
  if (bytes.empty()) throw CheckpointError(p, 0, "empty file");
  std::size_t first = bytes.find_first_not_of(" \t\r\n");
  const bool json = first != std::string::npos && bytes[first] == '{';
  if (!archive_has_magic(bytes, json, magic)) throw CheckpointError(p, 0, wrong_magic);
  struct Budget {
    std::int64_t old;
    explicit Budget(std::int64_t b) : old(archive_byte_budget()) { archive_byte_budget() = b; }
    ~Budget() { archive_byte_budget() = old; }
  } budget(static_cast<std::int64_t>(bytes.size()));
  std::istringstream in(bytes);
  try {
    if (json) {
      cereal::JSONInputArchive ar(in);
      read(ar);
    } else {
      cereal::PortableBinaryInputArchive ar(in);
      read(ar);
    }
  } catch (const CheckpointError&) {
    throw;
  } catch (const std::exception& e) {
    std::int64_t off = -1;
    if (!json) off = static_cast<std::int64_t>(in.rdbuf()->pubseekoff(0, std::ios::cur, std::ios::in));
    throw CheckpointError(p, off, std::string("truncated or corrupt checkpoint: ") + e.what());
  }
}
}  // namespace detail

/// Writes `net` to `path` (temporary file + rename).
template <class Net>
void save_checkpoint(const std::filesystem::path& path, const Net& net, CheckpointFormat format = CheckpointFormat::binary) {
  detail::save_archive(path, format, [&](auto& ar) { detail::write_checkpoint(ar, net); });
}

/// Loads `path` into `net` (format detected from the content). On error `net` is unchanged.
template <class Net>
void load_checkpoint(const std::filesystem::path& path, Net& net) {
  Net copy = net;
  detail::load_archive(path, CheckpointHeader::magic_value, "not a spikelab checkpoint (wrong magic; a training checkpoint is read with "
                       "load_training_checkpoint)",
                       [&](auto& ar) { detail::read_checkpoint(ar, copy, path.string()); });
  net = std::move(copy);
}

/// Saves a checkpoint every `every` epochs (and at the end of training) to `path`.
class CheckpointEvery {
 public:
  /// @param path the checkpoint file
  /// @param every epochs between checkpoints
  /// @param format binary or JSON
  CheckpointEvery(std::filesystem::path path, int every = 1, CheckpointFormat format = CheckpointFormat::binary)
      : path_(std::move(path)), every_(every), format_(format) {}
  /// Trainer hook (see Trainer).
  template <class Net>
  void on_epoch_end(const TrainInfo& i, Net& net) {
    if (every_ > 0 && i.epoch % every_ == 0) {
      save_checkpoint(path_, net, format_);
      saved_epoch_ = i.epoch;
    }
  }
  /// Trainer hook (see Trainer).
  template <class Net>
  void on_train_end(const TrainInfo& i, Net& net) {
    if (saved_epoch_ != i.epoch) save_checkpoint(path_, net, format_);
  }
  /// The file.
  const std::filesystem::path& path() const noexcept { return path_; }

 private:
  std::filesystem::path path_;
  int every_;
  CheckpointFormat format_;
  int saved_epoch_ = -1;
};

}  // namespace spikelab

CEREAL_CLASS_VERSION(spikelab::CheckpointHeader, 1)

#endif
