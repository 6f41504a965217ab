/**
 * @file data/formats/nmnist_bin.hpp
 * @brief NmnistBin: reader of the ATIS 40-bit event files of N-MNIST and N-Caltech101
 *        (`.bin`; SLAYER ships the same bytes as `.bs2`).
 *
 * No header; the file is a flat array of 5-byte records b0..b4, one per event:
 * \f[ x = b_0,\quad y = b_1,\quad p = b_2 \gg 7\ (1 = \mathrm{ON}),\quad
 *     t = ((b_2 \,\&\, 0x7F) \ll 16) \,|\, (b_3 \ll 8) \,|\, b_4 \ \ [\mu s]. \f]
 * A record with y = 240 is not an event but a timestamp overflow marker: it adds
 * \f$ 2^{13} \f$ µs to this and all following timestamps (Orchard's reader; it never occurs in
 * N-MNIST but does in N-Caltech101). Coordinates are 0-based (Orchard's MATLAB adds 1).
 *
 * Errors (FormatError with file and byte offset): empty file, size not a multiple of 5
 * (truncated record), an event outside the configured sensor (34 x 34 for N-MNIST).
 *
 * @code
 * @article{orchard2015converting, title={Converting static image datasets to spiking neuromorphic datasets
 *   using saccades}, author={Orchard, Garrick and Jayawant, Ajinkya and Cohen, Gregory K. and Thakor, Nitish},
 *   journal={Frontiers in Neuroscience}, volume={9}, pages={437}, year={2015}}
 * @endcode
 */
#ifndef SPIKELAB_DATA_FORMATS_NMNIST_BIN_HPP
#define SPIKELAB_DATA_FORMATS_NMNIST_BIN_HPP

#include <spikelab/data/formats/event_format.hpp>

namespace spikelab {

/// The EventFormat reader of the ATIS 40-bit event files of N-MNIST and N-Caltech101 (`.bin`,
/// also shipped as `.bs2`); throws FormatError naming the file and byte offset on bad input.
class NmnistBin {
 public:
  /// N-MNIST: 34 x 34, two polarities.
  static constexpr SensorSize nmnist_sensor{34, 34, 2};
  /// N-Caltech101: the ATIS sensor, 304 x 240 (x is 8 bits, so in practice x < 256).
  static constexpr SensorSize ncaltech101_sensor{304, 240, 2};

  /// A reader for a sensor of the given size; throws ConfigError unless it has 2 polarities.
  /// @param sensor the sensor size (N-MNIST's 34 x 34 by default)
  explicit NmnistBin(SensorSize sensor = nmnist_sensor) : sensor_(sensor) {
    if (sensor.width <= 0 || sensor.height <= 0 || sensor.polarities != 2)
      throw ConfigError("NmnistBin: the sensor needs a positive size and 2 polarities");
  }
  /// A reader for N-MNIST (34 x 34).
  static NmnistBin nmnist() { return NmnistBin(nmnist_sensor); }
  /// A reader for N-Caltech101 (304 x 240).
  static NmnistBin ncaltech101() { return NmnistBin(ncaltech101_sensor); }

  /// The type's name, as signatures, reports and checkpoints spell it.
  static std::string name() { return "N-MNIST 40-bit .bin"; }
  /// The sensor the samples live on.
  SensorSize sensor() const noexcept { return sensor_; }

  /// Decodes the bytes of a whole file; `name` is used in error messages.
  EventSample parse(ByteSpan bytes, const std::string& name) const {
    EventSample s;
    s.sensor = sensor_;
    decode(bytes, name, s.events);
    return s;
  }

  /// The events of the file at `path`.
  EventSample read(const std::filesystem::path& path) const {
    std::vector<std::uint8_t> buf;
    detail::read_file_into(path, buf);
    return parse(ByteSpan(buf.data(), buf.size()), path.string());
  }

  /// Decodes into `out` (cleared first; its capacity is reused).
  void decode(ByteSpan bytes, const std::string& name, std::vector<Event>& out) const {
    out.clear();
    const std::size_t n = bytes.size();
    if (n == 0) throw FormatError(name, 0, "empty file: an N-MNIST .bin file holds at least one 5-byte event");
    if (n % 5 != 0)
      throw FormatError(name, std::int64_t(n - n % 5),
                        "truncated record: the file has " + std::to_string(n) + " bytes, not a multiple of 5 (" +
                            std::to_string(n % 5) + " bytes left over)");
    out.reserve(n / 5);
    const std::uint8_t* b = bytes.data();
    const auto W = std::uint32_t(sensor_.width), H = std::uint32_t(sensor_.height);
    std::int64_t overflow = 0;
    bool ordered = true;
    std::int64_t last = 0;
    for (std::size_t k = 0; k < n; k += 5, b += 5) {
      const std::uint32_t x = b[0], y = b[1];
      if (y == 240) {  // overflow marker, not an event
        overflow += 8192;
        continue;
      }
      if (x >= W || y >= H)
        throw FormatError(name, std::int64_t(k),
                          "event x=" + std::to_string(x) + " y=" + std::to_string(y) + " lies outside the " +
                              std::to_string(W) + "x" + std::to_string(H) + " sensor");
      Event e;
      e.x = std::uint16_t(x);
      e.y = std::uint16_t(y);
      e.p = std::uint8_t(b[2] >> 7);
      e.t = overflow + std::int64_t((std::uint32_t(b[2] & 0x7F) << 16) | (std::uint32_t(b[3]) << 8) | b[4]);
      ordered &= e.t >= last;
      last = e.t;
      out.push_back(e);
    }
    if (!ordered) sort_by_time(out);
  }

 private:
  SensorSize sensor_;
};

}  // namespace spikelab

#endif
