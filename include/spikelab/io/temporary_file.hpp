/**
 * @file io/temporary_file.hpp
 * @brief How spikelab's savers (checkpoints, NIR files) replace a file: they write a temporary
 *        file next to the target and rename it over the target, so that an interrupted save
 *        leaves the old file or the new one, never half a file (a rename within one directory
 *        is atomic on POSIX file systems).
 */
#ifndef SPIKELAB_IO_TEMPORARY_FILE_HPP
#define SPIKELAB_IO_TEMPORARY_FILE_HPP

#include <filesystem>
#include <string>
#include <system_error>

#if __has_include(<unistd.h>)
#include <fcntl.h>
#include <unistd.h>
#define SPIKELAB_HAVE_FSYNC 1
#endif

namespace spikelab::detail {

/// The temporary file a save of `path` writes first: in the same directory, so that the final
/// rename does not cross file systems.
inline std::filesystem::path temporary_path(const std::filesystem::path& path) { return path.string() + ".tmp"; }

/// Asks the operating system to put `p`'s data on disk (fsync) before it is renamed into place;
/// a no-op where there is no fsync.
inline void sync_file(const std::filesystem::path& p) {
#ifdef SPIKELAB_HAVE_FSYNC
  const int fd = ::open(p.c_str(), O_RDONLY);
  if (fd >= 0) {
    (void)::fsync(fd);
    ::close(fd);
  }
#else
  (void)p;
#endif
}

/// Renames the finished temporary file `tmp` over `path`. On failure removes `tmp` and throws
/// E(path, -1, what), E being a FileError type.
template <class E>
void replace_with_temporary(const std::filesystem::path& tmp, const std::filesystem::path& path) {
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw E(path.string(), -1, "cannot rename the temporary file into place");
  }
}

}  // namespace spikelab::detail

#endif
