/**
 * @file data/formats/gunzip.hpp
 * @brief GunzippedCopy: the decompressed copy of a gzip file (`.h5.gz`, as the SHD/SSC files
 *        are distributed) in a temporary file that lives as long as the object, for readers of
 *        libraries that can only open a path (libhdf5).
 *
 * A file is taken for gzip when it starts with gzip's magic bytes 0x1f 0x8b (RFC 1952), whatever
 * its name. Decompression goes through zlib's inflate with gzip framing; several concatenated
 * members (what `cat a.gz b.gz` gives) decompress to their concatenation. A corrupt stream (bad
 * header, bad deflate data, CRC or length mismatch) or a truncated one is a FormatError naming
 * the compressed file and the compressed byte offset where decoding failed; the temporary file
 * is removed then and when the copy is destroyed. The copy goes to the system's temporary
 * directory (`std::filesystem::temp_directory_path()`, i.e. TMPDIR).
 *
 * Reference: P. Deutsch, "GZIP file format specification version 4.3", RFC 1952, IETF, 1996.
 */
#ifndef SPIKELAB_DATA_FORMATS_GUNZIP_HPP
#define SPIKELAB_DATA_FORMATS_GUNZIP_HPP

#include <spikelab/core/error.hpp>

#include <zlib.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>
#include <vector>

#if __has_include(<unistd.h>)
#include <unistd.h>
#endif

namespace spikelab {

/// The decompressed copy of a gzip file in a temporary file, removed when the object is
/// destroyed (move-only). See the file comment for what counts as gzip and for the errors.
class GunzippedCopy {
 public:
  /// True when the file at `path` starts with gzip's magic bytes (false when it cannot be read).
  static bool is_gzip(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    unsigned char m[2] = {0, 0};
    return in && in.read(reinterpret_cast<char*>(m), 2) && m[0] == 0x1f && m[1] == 0x8b;
  }

  /// Decompresses `path` into a new temporary file; throws FileError when it cannot be read
  /// or the copy cannot be written, FormatError on a corrupt or truncated gzip stream.
  /// @param path the gzip file
  explicit GunzippedCopy(const std::filesystem::path& path) : source_(path.string()) {
    temp_ = unique_temporary(path.filename().string());
    try {
      decompress();
    } catch (...) {
      remove();
      throw;
    }
  }
  GunzippedCopy(const GunzippedCopy&) = delete;
  GunzippedCopy& operator=(const GunzippedCopy&) = delete;
  /// Takes over `o`'s temporary file.
  GunzippedCopy(GunzippedCopy&& o) noexcept : source_(std::move(o.source_)), temp_(std::move(o.temp_)) {
    o.temp_.clear();
  }
  /// Removes this copy's file and takes over `o`'s.
  GunzippedCopy& operator=(GunzippedCopy&& o) noexcept {
    if (this != &o) {
      remove();
      source_ = std::move(o.source_);
      temp_ = std::move(o.temp_);
      o.temp_.clear();
    }
    return *this;
  }
  /// Removes the temporary file.
  ~GunzippedCopy() { remove(); }

  /// The decompressed copy.
  const std::filesystem::path& path() const noexcept { return temp_; }
  /// The gzip file it was made from.
  const std::string& source() const noexcept { return source_; }

 private:
  static std::filesystem::path unique_temporary(const std::string& stem) {
    static std::atomic<std::uint64_t> counter{0};
    std::error_code ec;
    const auto dir = std::filesystem::temp_directory_path(ec);
    if (ec) throw FileError(stem, -1, "no temporary directory to decompress into");
    long long pid = 0;
#if __has_include(<unistd.h>)
    pid = static_cast<long long>(::getpid());
#endif
    const auto now = std::chrono::steady_clock::now().time_since_epoch().count();
    for (int attempt = 0; attempt < 100; ++attempt) {
      const auto p = dir / ("spikelab-" + std::to_string(pid) + "-" + std::to_string(now) + "-" +
                            std::to_string(counter++) + "-" + stem + ".gunzip");
      if (!std::filesystem::exists(p, ec)) return p;
    }
    throw FileError((dir / stem).string(), -1, "cannot find a free temporary file name");
  }

  void remove() noexcept {
    if (temp_.empty()) return;
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
    temp_.clear();
  }

  void decompress() {
    std::ifstream in(source_, std::ios::binary);
    if (!in) throw FileError(source_, -1, "cannot open (no such file or no permission?)");
    std::ofstream out(temp_, std::ios::binary | std::ios::trunc);
    if (!out)
      throw FileError(temp_.string(), -1, "cannot create the temporary file to decompress '" + source_ + "' into");
    z_stream z{};
    if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) throw FormatError(source_, -1, "zlib cannot start inflating");
    struct End {
      z_stream* z;
      ~End() { inflateEnd(z); }
    } end{&z};
    std::vector<unsigned char> ibuf(1 << 16), obuf(1 << 18);
    std::uint64_t consumed = 0;  // compressed bytes handed to zlib before the current buffer
    bool in_member = false, eof = false, output_pending = false;
    for (;;) {
      if (z.avail_in == 0 && !eof) {
        consumed += std::uint64_t(z.next_in ? z.next_in - ibuf.data() : 0);
        in.read(reinterpret_cast<char*>(ibuf.data()), std::streamsize(ibuf.size()));
        z.next_in = ibuf.data();
        z.avail_in = uInt(in.gcount());
        eof = in.gcount() < std::streamsize(ibuf.size());
        if (in.bad()) throw FileError(source_, std::int64_t(consumed), "read error");
      }
      const auto offset = [&] { return std::int64_t(consumed + std::uint64_t(z.next_in - ibuf.data())); };
      if (z.avail_in == 0 && eof && !output_pending) {
        if (in_member)
          throw FormatError(source_, offset(), "truncated gzip stream: the file ends inside a compressed member");
        if (offset() == 0) throw FormatError(source_, 0, "empty file, not a gzip stream");
        break;
      }
      z.next_out = obuf.data();
      z.avail_out = uInt(obuf.size());
      in_member = true;
      const int rc = inflate(&z, Z_NO_FLUSH);
      output_pending = z.avail_out == 0;  // zlib may hold more output for the input it took
      out.write(reinterpret_cast<const char*>(obuf.data()), std::streamsize(obuf.size() - z.avail_out));
      if (!out)
        throw FileError(temp_.string(), -1, "cannot write the decompressed copy of '" + source_ + "' (disk full?)");
      if (rc == Z_STREAM_END) {
        in_member = false;
        if (inflateReset(&z) != Z_OK) throw FormatError(source_, offset(), "zlib cannot restart inflating");
      } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
        throw FormatError(source_, offset(),
                          std::string("corrupt gzip stream: ") + (z.msg ? z.msg : "zlib error " + std::to_string(rc)));
      }
    }
    out.close();
    if (!out) throw FileError(temp_.string(), -1, "cannot finish the decompressed copy of '" + source_ + "'");
  }

  std::string source_;
  std::filesystem::path temp_;
};

}  // namespace spikelab

#endif
