// bench_events: event-data throughput on the N-MNIST recordings of a folder (NMNISTsmall: 1,100).
//  1. decode: read each file and decode its 40-bit records (NmnistBin);
//  2. decode + frames: also bin each recording into 35 frames of 10 ms x 2 x 34 x 34 (ToFrame);
// each timed over all files (file reads included), best of --repeat passes after one untimed
// pass (files in the page cache), single thread. Then runs a plain numpy decode (nmnist_numpy.py,
// the tonic-style reader plus np.bincount binning into a fresh frame array) on the same files in
// the same run and prints the ratios. Both sides compute the same frame checksum in their untimed
// pass, which must agree.
#include <spikelab/data/formats/nmnist_bin.hpp>
#include <spikelab/data/transforms/to_frame.hpp>

#include "common/command_line.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

namespace sl = spikelab;
namespace fs = std::filesystem;

namespace {

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Reads the whole file into buf (its storage reused from file to file), as a reader's read() does.
void read_bytes(const fs::path& path, std::vector<std::uint8_t>& buf) {
  std::ifstream in(path, std::ios::binary);
  std::error_code ec;
  const auto size = fs::file_size(path, ec);
  if (!in || ec) throw sl::FileError(path.string(), -1, "cannot open");
  buf.resize(std::size_t(size));
  if (size && !in.read(reinterpret_cast<char*>(buf.data()), std::streamsize(size)))
    throw sl::FileError(path.string(), std::int64_t(in.gcount()), "read error");
}

std::map<std::string, std::string> run_python(const std::string& python, const std::string& dir, int repeat, long window,
                                              long steps) {
  const std::string cmd = python + " '" + SPIKELAB_BENCH_NUMPY_SCRIPT + "' '" + dir + "' " + std::to_string(repeat) + " " +
                          std::to_string(window) + " " + std::to_string(steps);
  std::map<std::string, std::string> out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return out;
  char line[512];
  while (std::fgets(line, sizeof line, p)) {
    std::istringstream is(line);
    std::string k, v;
    if (is >> k >> v) out[k] = v;
  }
  if (::pclose(p) != 0) out.clear();
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = SPIKELAB_BENCH_DATA_DIR, python = "/usr/bin/python3";
  int repeat = 5;
  bool no_python = false;
  spikelab_examples::CommandLine cli("bench_events", "Decodes all N-MNIST recordings of a folder and bins them into frames;\n"
                                                     "compares with a plain numpy decode measured in the same run.");
  cli.option("data", dir, "folder with N-MNIST .bs2/.bin files")
      .option("repeat", repeat, "timed passes (the best is reported)")
      .option("python", python, "python with numpy for the reference")
      .flag("no-python", no_python, "skip the numpy reference");
  if (const auto rc = cli.parse(argc, argv)) return *rc;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (e.path().extension() == ".bs2" || e.path().extension() == ".bin") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.empty()) {
    std::cerr << "error: no .bs2/.bin files in " << dir << "\n";
    return 2;
  }
  constexpr long window = 10000, steps = 35;
  const sl::NmnistBin reader;
  const sl::ToFrame to_frame = sl::ToFrame::fixed_bins(window, steps);
  std::vector<std::uint8_t> buf;
  sl::EventSample sample;
  sample.sensor = reader.sensor();
  sl::Frames frames;
  try {
    // untimed pass: warms the page cache and computes the frame checksum the numpy side must match
    std::size_t events = 0;
    std::int64_t checksum = 0;
    for (const auto& f : files) {
      read_bytes(f, buf);
      reader.decode(sl::ByteSpan(buf.data(), buf.size()), f.string(), sample.events);
      events += sample.events.size();
      to_frame.apply(sample, frames);
      for (std::size_t i = 0; i < frames.values.size(); ++i)
        if (frames.values[i] != 0.0f) checksum += std::int64_t(frames.values[i]) * std::int64_t(i % 9973);
    }
    double best_decode = 1e300, best_frames = 1e300, sink = 0;
    for (int r = 0; r < repeat; ++r) {
      double t0 = now();
      for (const auto& f : files) {
        read_bytes(f, buf);
        reader.decode(sl::ByteSpan(buf.data(), buf.size()), f.string(), sample.events);
        sink += double(sample.events.size());
      }
      best_decode = std::min(best_decode, now() - t0);
      t0 = now();
      for (const auto& f : files) {
        read_bytes(f, buf);
        reader.decode(sl::ByteSpan(buf.data(), buf.size()), f.string(), sample.events);
        to_frame.apply(sample, frames);
        sink += double(frames.values[std::size_t(sample.events.size()) % frames.values.size()]);
      }
      best_frames = std::min(best_frames, now() - t0);
    }
    if (sink < 0) std::printf("%f\n", sink);  // keeps the timed work observable
    std::printf("files: %zu, events: %zu (mean %.0f per recording), frames: %ld x %ld features, best of %d passes\n",
                files.size(), events, double(events) / double(files.size()), steps, long(sample.sensor.features()), repeat);
    std::printf("%-28s %12s %16s\n", "", "seconds", "events/s");
    std::printf("%-28s %12.4f %16.3e\n", "spikelab decode", best_decode, double(events) / best_decode);
    std::printf("%-28s %12.4f %16.3e\n", "spikelab decode + frames", best_frames, double(events) / best_frames);
    if (no_python) return 0;
    const auto py = run_python(python, dir, repeat, window, steps);
    if (py.empty()) {
      std::printf("numpy reference: not run (%s with numpy failed)\n", python.c_str());
      return 0;
    }
    const double pd = std::stod(py.at("decode_seconds")), pf = std::stod(py.at("frames_seconds"));
    const std::size_t pe = std::stoull(py.at("events"));
    const std::int64_t pc = std::stoll(py.at("checksum"));
    std::printf("%-28s %12.4f %16.3e\n", ("numpy " + py.at("numpy") + " decode").c_str(), pd, double(pe) / pd);
    std::printf("%-28s %12.4f %16.3e\n", "numpy decode + frames", pf, double(pe) / pf);
    std::printf("speed-up over numpy: decode %.1fx, decode + frames %.1fx\n", pd / best_decode, pf / best_frames);
    std::printf("events %s, frame checksum %s (%lld)\n", pe == events ? "agree" : "DIFFER", pc == checksum ? "agrees" : "DIFFERS",
                static_cast<long long>(checksum));
    return pe == events && pc == checksum ? 0 : 1;
  } catch (const sl::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
