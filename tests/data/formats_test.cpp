// Event readers on the real recordings in shared/data (skipped when absent) and on small files
// the tests write: N-MNIST .bin/.bs2, AEDAT 2.0 (MNIST-DVS), AEDAT 3.1, label lists, gesture CSVs,
// and every kind of bad input (each must throw an error naming the file and byte offset).
#include <spikelab/data/datasets/cifar10_dvs.hpp>
#include <spikelab/data/datasets/class_folders.hpp>
#include <spikelab/data/datasets/dvs_gesture.hpp>
#include <spikelab/data/datasets/mnist_dvs.hpp>
#include <spikelab/data/datasets/ncaltech101.hpp>
#include <spikelab/data/datasets/nmnist.hpp>
#include <spikelab/data/formats/aedat2.hpp>
#include <spikelab/data/formats/aedat31.hpp>
#include <spikelab/data/formats/label_files.hpp>
#include <spikelab/data/formats/nmnist_bin.hpp>

#include "support/data_support.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <map>

using namespace spikelab;
namespace fs = std::filesystem;
using test::Bytes;

namespace {

struct Stats {
  std::size_t events = 0, on = 0;
  int min_x = 1 << 30, max_x = -1, min_y = 1 << 30, max_y = -1;
  std::int64_t t0 = 0, t1 = 0;
  bool monotonic = true;
};
Stats stats_of(const EventSample& s) {
  Stats st;
  st.events = s.events.size();
  for (std::size_t k = 0; k < s.events.size(); ++k) {
    const Event& e = s.events[k];
    st.on += e.p;
    st.min_x = std::min(st.min_x, int(e.x));
    st.max_x = std::max(st.max_x, int(e.x));
    st.min_y = std::min(st.min_y, int(e.y));
    st.max_y = std::max(st.max_y, int(e.y));
    if (k && e.t < s.events[k - 1].t) st.monotonic = false;
  }
  if (!s.events.empty()) st.t0 = s.events.front().t, st.t1 = s.events.back().t;
  return st;
}

}  // namespace

// ---- N-MNIST ------------------------------------------------------------------------------

TEST_CASE("NmnistBin decodes hand-made 40-bit records and the overflow marker", "[data][nmnist]") {
  Bytes b;
  test::put_nmnist(b, 5, 7, 1, 0x12345);
  test::put_nmnist(b, 33, 0, 0, 0x12346);
  test::put_nmnist(b, 0, 240, 0, 0);  // overflow marker: +8192 us from here on, not an event
  test::put_nmnist(b, 1, 2, 1, 0x12340);
  const EventSample s = NmnistBin{}.parse(ByteSpan(b.data(), b.size()), "mem");
  REQUIRE(s.events.size() == 3);
  CHECK(s.sensor == SensorSize{34, 34, 2});
  CHECK(s.events[0] == Event{0x12345, 5, 7, 1});
  CHECK(s.events[1] == Event{0x12346, 33, 0, 0});
  CHECK(s.events[2] == Event{0x12340 + 8192, 1, 2, 1});
  // all 23 bits of time; records out of time order come back sorted (stable)
  Bytes o;
  test::put_nmnist(o, 1, 1, 1, 0x7FFFFF);
  test::put_nmnist(o, 2, 2, 0, 300);
  test::put_nmnist(o, 3, 3, 0, 300);
  const EventSample so = NmnistBin{}.parse(ByteSpan(o.data(), o.size()), "mem");
  CHECK(so.events == std::vector<Event>{{300, 2, 2, 0}, {300, 3, 3, 0}, {0x7FFFFF, 1, 1, 1}});
  // N-Caltech101 coordinates beyond 34 need the larger sensor
  Bytes c;
  test::put_nmnist(c, 200, 170, 1, 5);
  CHECK(NmnistBin::ncaltech101().parse(ByteSpan(c.data(), c.size()), "c").events.at(0) == Event{5, 200, 170, 1});
}

TEST_CASE("NmnistBin reads all 1100 real N-MNIST samples with the documented statistics", "[data][nmnist][real]") {
  const auto dir = test::real_data("nmnist/NMNISTsmall", "N-MNIST NMNISTsmall");
  if (dir.empty()) return;
  const NmnistBin reader;
  std::size_t files = 0, total = 0, min_n = 1u << 30, max_n = 0, on = 0;
  std::int64_t max_t = 0;
  int max_coord = 0;
  bool monotonic = true;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() != ".bs2") continue;
    const Stats st = stats_of(reader.read(e.path()));
    ++files;
    total += st.events;
    min_n = std::min(min_n, st.events);
    max_n = std::max(max_n, st.events);
    on += st.on;
    max_t = std::max(max_t, st.t1);
    max_coord = std::max({max_coord, st.max_x, st.max_y});
    monotonic &= st.monotonic && st.min_x >= 0 && st.min_y >= 0;
  }
  CHECK(files == 1100);
  CHECK(min_n == 1069);
  CHECK(max_n == 7152);
  CHECK(double(total) / double(files) == Approx(4108).margin(1));
  CHECK(max_coord == 33);
  CHECK(max_t == 336040);
  CHECK(monotonic);
  CHECK(double(on) / double(total) == Approx(0.5).margin(0.05));
}

TEST_CASE("NmnistBin reads tonic's sample recording", "[data][nmnist][real]") {
  const auto p = test::real_data("nmnist/tonic_sample/sample_nmnist.bin", "tonic's N-MNIST sample");
  if (p.empty()) return;
  const Stats st = stats_of(NmnistBin{}.read(p));
  CHECK(st.events == 4325);
  CHECK(st.t0 == 654);
  CHECK(st.t1 == 311175);
  CHECK(st.max_x <= 33);
  CHECK(st.max_y <= 33);
}

TEST_CASE("N-MNIST label lists and both folder layouts give the same samples", "[data][nmnist][real]") {
  const auto dir = test::real_data("nmnist/NMNISTsmall", "N-MNIST NMNISTsmall");
  if (dir.empty()) return;
  const NMnistDataset train = NMnist::load(dir, "train"), test_set = NMnist::load(dir, "test");
  REQUIRE(train.size() == 1000);
  REQUIRE(test_set.size() == 100);
  CHECK(train.classes() == 10);
  const std::array<int, 5> first{5, 0, 4, 1, 9};
  for (int i = 0; i < 5; ++i) CHECK(train.label(i) == first[std::size_t(i)]);
  CHECK(test_set.label(0) == 7);
  CHECK(test_set.file(0).path.filename() == "60001.bs2");
  std::map<int, int> train_counts, test_counts;
  for (Index i = 0; i < train.size(); ++i) ++train_counts[train.label(i)];
  for (Index i = 0; i < test_set.size(); ++i) ++test_counts[test_set.label(i)];
  CHECK(train_counts == std::map<int, int>{{0, 97}, {1, 116}, {2, 99}, {3, 93}, {4, 105}, {5, 92}, {6, 94}, {7, 117}, {8, 87}, {9, 100}});
  CHECK(test_counts == std::map<int, int>{{0, 8}, {1, 14}, {2, 8}, {3, 11}, {4, 14}, {5, 7}, {6, 10}, {7, 15}, {8, 2}, {9, 11}});
  CHECK(train.get(0).label == 5);

  // the original layout Train/<digit>/<id>.bin, built from copies of the first 12 samples of each split
  const auto root = test::temp_dir("nmnist-folders");
  for (const auto& [ds, split] : {std::pair{&train, "Train"}, std::pair{&test_set, "Test"}})
    for (Index i = 0; i < 12; ++i) {
      const fs::path sub = root / split / std::to_string(ds->label(i));
      fs::create_directories(sub);
      char name[16];
      std::snprintf(name, sizeof name, "%05d.bin", int(i) + 1);
      fs::copy_file(ds->file(i).path, sub / name, fs::copy_options::overwrite_existing);
    }
  const NMnistDataset folders = NMnist::load(root, "train");
  REQUIRE(folders.size() == 12);
  // folder order is (label, name): match each by file name back to its source
  for (Index k = 0; k < folders.size(); ++k) {
    const int id = std::stoi(folders.file(k).path.stem().string());
    const EventSample a = folders.get(k), b = train.get(id - 1);
    CHECK(a.label == b.label);
    CHECK(a.events == b.events);
  }
  CHECK(NMnist::load(root, "test").size() == 12);
  fs::remove_all(root);
}

// ---- AEDAT 2.0 (MNIST-DVS) ------------------------------------------------------------------

TEST_CASE("Aedat2 reads the 20 real MNIST-DVS recordings", "[data][aedat2][real]") {
  const auto dir = test::real_data("mnist_dvs", "MNIST-DVS recordings");
  if (dir.empty()) return;
  const MnistDvsDataset ds = MnistDvs::load(dir, "train");
  REQUIRE(ds.size() == 20);
  CHECK(MnistDvs::load(dir, "test").size() == 0);
  CHECK(MnistDvs::load(dir, "train", 8).size() == 0);
  std::size_t min_n = 1u << 30, max_n = 0, total = 0, on = 0, in_crop = 0;
  std::int64_t min_d = 1LL << 40, max_d = 0;
  for (Index i = 0; i < ds.size(); ++i) {
    const EventSample s = ds.get(i);
    const Stats st = stats_of(s);
    CHECK(s.label == 0);
    CHECK(st.monotonic);
    CHECK(st.t0 == 0);
    CHECK(st.max_x <= 127);
    CHECK(st.max_y <= 127);
    min_n = std::min(min_n, st.events);
    max_n = std::max(max_n, st.events);
    min_d = std::min(min_d, st.t1);
    max_d = std::max(max_d, st.t1);
    total += st.events;
    on += st.on;
    for (const Event& e : s.events) in_crop += e.x >= 48 && e.x <= 73 && e.y >= 48 && e.y <= 73;
  }
  CHECK(min_n == 12596);
  CHECK(max_n == 20501);
  CHECK(min_d >= 2050000);
  CHECK(max_d <= 2390000);
  CHECK(double(on) / double(total) == Approx(0.5).margin(0.05));
  // the papers' 26x26 crop holds the digit: most events fall inside it in this orientation
  CHECK(double(in_crop) / double(total) > 0.75);

  const Bytes raw = test::read_bytes(ds.file(0).path);
  const Aedat2Header h = parse_aedat2_header(ByteSpan(raw.data(), raw.size()), "f");
  CHECK(h.version == 2);
  CHECK(h.lines.size() == 5);
  CHECK(h.lines.back() == "# created Tue Apr 29 11:36:59 CEST 2008");
  CHECK(raw[h.size - 2] == '\r');
  // the same file with LF line ends decodes to the same events
  Bytes lf;
  for (std::size_t k = 0; k < h.size; ++k)
    if (raw[k] != '\r') lf.push_back(raw[k]);
  lf.insert(lf.end(), raw.begin() + std::ptrdiff_t(h.size), raw.end());
  CHECK(Aedat2{}.parse(ByteSpan(lf.data(), lf.size()), "lf").events == ds.get(0).events);
}

TEST_CASE("Aedat2 decodes DVS128 addresses, skips special events and un-wraps times", "[data][aedat2]") {
  Bytes b;
  test::put_text(b, "#!AER-DAT2.0\n# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128\n");
  auto ev = [&](unsigned xr, unsigned y, unsigned bit, std::uint32_t t, bool special = false) {
    test::put_be32(b, (special ? 0x8000u : 0u) | (y << 8) | (xr << 1) | bit);
    test::put_be32(b, t);
  };
  ev(0, 5, 0, 0xFFFFFF00u);       // first event: time becomes 0, x = 127, ON
  ev(127, 0, 1, 0xFFFFFFF0u);     // x = 0, OFF
  ev(3, 3, 0, 0x10u, true);       // special event: skipped (but its time wraps the clock)
  ev(10, 20, 1, 0x20u);           // after the 32-bit wrap
  const EventSample s = Aedat2{}.parse(ByteSpan(b.data(), b.size()), "mem");
  REQUIRE(s.events.size() == 3);
  CHECK(s.events[0] == Event{0, 127, 5, 1});
  CHECK(s.events[1] == Event{0xF0, 0, 0, 0});
  CHECK(s.events[2] == Event{(std::int64_t(1) << 32) + 0x20 - 0xFFFFFF00LL, 117, 20, 0});
  // a clock reset (small drop) restarts from the previous time, as dat2mat.m does
  Bytes r;
  test::put_text(r, "#!AER-DAT2.0\r\n");
  test::put_be32(r, 2);
  test::put_be32(r, 100);
  test::put_be32(r, 2);
  test::put_be32(r, 500);
  test::put_be32(r, 2);
  test::put_be32(r, 7);
  const EventSample rs = Aedat2{}.parse(ByteSpan(r.data(), r.size()), "reset");
  REQUIRE(rs.events.size() == 3);
  CHECK(rs.events[1].t == 400);
  CHECK(rs.events[2].t == 400 + 7);
  // AEDAT 1.0: 16-bit addresses, no version line also means 1.0
  Bytes v1;
  test::put_text(v1, "# no version line\n");
  test::put_be16(v1, std::uint16_t((9u << 8) | (100u << 1)));
  test::put_be32(v1, 1000);
  const EventSample s1 = Aedat2{}.parse(ByteSpan(v1.data(), v1.size()), "v1");
  REQUIRE(s1.events.size() == 1);
  CHECK(s1.events[0] == Event{0, 27, 9, 1});
}

TEST_CASE("Aedat2 parses the DAVIS346 header-only file and refuses its addresses", "[data][aedat2][real]") {
  const auto p = test::real_data("aedat_misc/sample_aedat_header.aedat", "AEDAT 2.0 DAVIS346 header");
  if (p.empty()) return;
  const Bytes raw = test::read_bytes(p);
  const Aedat2Header h = parse_aedat2_header(ByteSpan(raw.data(), raw.size()), p.string());
  CHECK(h.version == 2);
  CHECK(h.chip == "eu.seebetter.ini.chips.davis.Davis346red");
  CHECK(h.size == raw.size());  // header only: no events
  CHECK(h.lines.size() >= 10);
  const std::string m = test::file_error_of([&] { Aedat2{}.read(p); }, p.string(), 0);
  CHECK(m.find("Davis346red") != std::string::npos);
}

// ---- AEDAT 3.1 --------------------------------------------------------------------------------

TEST_CASE("AEDAT 3.1 and AEDAT 2.0 forms of the same MNIST-DVS recording give identical events", "[data][aedat31][real]") {
  const auto p31 = test::real_data("derived/aedat31_from_mnist_dvs/mnist_0_scale04_0001_aedat31.aedat", "AEDAT 3.1 file");
  const auto p2 = test::real_data("mnist_dvs/mnist_0_scale04_0001.aedat", "MNIST-DVS recording 0001");
  if (p31.empty() || p2.empty()) return;
  const Aedat31 reader;
  const Aedat31Header h = reader.read_header(p31);
  CHECK(h.version == "3.1");
  CHECK(h.lines.size() == 5);
  CHECK(h.lines[2] == "#Source 1: DVS128");
  const EventSample a = reader.read(p31), b = Aedat2{}.read(p2);
  const Stats st = stats_of(a);
  CHECK(st.events == 15744);
  CHECK(st.t0 == 0);
  CHECK(st.t1 == 2210588);
  CHECK(st.monotonic);
  REQUIRE(a.events.size() == b.events.size());
  CHECK(a.events == b.events);
  // from memory too
  const Bytes raw = test::read_bytes(p31);
  CHECK(reader.parse(ByteSpan(raw.data(), raw.size()), "mem").events == a.events);
}

TEST_CASE("Aedat31 skips invalid events and non-polarity packets and uses the overflow", "[data][aedat31]") {
  Bytes b;
  test::put_text(b, "#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n");
  test::put_packet_header(b, 0, 8, 4, 0, 2, 2, 2);  // special events: skipped
  for (int k = 0; k < 2; ++k) {
    test::put_le32(b, 0xFFFFFFFFu);
    test::put_le32(b, 123);
  }
  test::put_packet_header(b, 1, 8, 4, 3, 4, 3, 2);  // capacity 4, 3 used, 2 valid, overflow 3
  test::put_le32(b, test::polarity_word(10, 20, 1));
  test::put_le32(b, 5);
  test::put_le32(b, test::polarity_word(11, 21, 0, false));  // invalid
  test::put_le32(b, 6);
  test::put_le32(b, test::polarity_word(127, 0, 0));
  test::put_le32(b, 7);
  test::put_le32(b, test::polarity_word(1, 1, 1));  // unused slot beyond eventNumber
  test::put_le32(b, 8);
  test::put_packet_header(b, 2, 16, 12, 0, 1, 1, 1);  // a frame-like packet of 16-byte events
  for (int k = 0; k < 4; ++k) test::put_le32(b, 0x23232323u);
  const EventSample s = Aedat31{}.parse(ByteSpan(b.data(), b.size()), "mem");
  REQUIRE(s.events.size() == 2);
  const std::int64_t base = std::int64_t(3) << 31;
  CHECK(s.events[0] == Event{base + 5, 10, 20, 1});
  CHECK(s.events[1] == Event{base + 7, 127, 0, 0});
}

TEST_CASE("DVS Gesture label CSVs parse (real file, CRLF) and segment a recording", "[data][aedat31][gesture][real]") {
  const auto csv = test::real_data("dvs_gesture/user01_natural_labels.csv", "DVS Gesture labels");
  if (csv.empty()) return;
  const std::vector<EventWindow> w = read_gesture_labels(csv);
  REQUIRE(w.size() == 12);
  CHECK(w[0].label == 0);
  CHECK(w[0].start == 53036986);
  CHECK(w[0].end == 59508469);
  CHECK(w.back().label == 10);
  CHECK(w.back().end == 177991967);
  CHECK(std::count_if(w.begin(), w.end(), [](const EventWindow& e) { return e.label == 7; }) == 2);
  std::string text = detail::read_text(csv), crlf;
  for (char c : text) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
  const auto w2 = parse_gesture_labels(crlf, "crlf");
  REQUIRE(w2.size() == w.size());
  for (std::size_t k = 0; k < w.size(); ++k) CHECK((w2[k].start == w[k].start && w2[k].end == w[k].end && w2[k].label == w[k].label));

  // segmentation: a trial = the AEDAT 3.1 recording with a labels file written here
  const auto p31 = test::real_data("derived/aedat31_from_mnist_dvs/mnist_0_scale04_0001_aedat31.aedat", "AEDAT 3.1 file");
  if (p31.empty()) return;
  const auto dir = test::temp_dir("gesture");
  fs::copy_file(p31, dir / "user01_test.aedat", fs::copy_options::overwrite_existing);
  test::write_text(dir / "user01_test_labels.csv",
                   "class,startTime_usec,endTime_usec\r\n3,100000,600000\r\n11,600000,1500000\r\n1,2000000,2300000\r\n");
  test::write_text(dir / "trials_to_train.txt", "user01_test.aedat\n\n");
  const EventSample whole = Aedat31{}.read(p31);
  auto count_in = [&](std::int64_t a, std::int64_t b) {
    return std::count_if(whole.events.begin(), whole.events.end(), [&](const Event& e) { return e.t >= a && e.t < b; });
  };
  const DvsGesture g(dir, "train");
  REQUIRE(g.size() == 3);
  CHECK(g.classes() == 11);
  const EventSample s0 = g.get(0), s1 = g.get(1), s2 = g.get(2);
  CHECK(s0.label == 2);
  CHECK(s1.label == 10);
  CHECK(s2.label == 0);
  CHECK(std::int64_t(s0.events.size()) == count_in(100000, 600000));
  CHECK(std::int64_t(s1.events.size()) == count_in(600000, 1500000));
  CHECK(std::int64_t(s2.events.size()) == count_in(2000000, 2300000));
  CHECK(s0.events.front().t >= 0);
  CHECK(s0.events.back().t < 500000);
  CHECK(s2.events.back().t < 300000);
  const DvsGesture ten = DvsGesture::from_trials({dir / "user01_test.aedat"}, true);
  CHECK(ten.size() == 2);
  CHECK(ten.classes() == 10);
  CHECK(ten.get(1).events == s2.events);
  fs::remove_all(dir);
}

TEST_CASE("Label lists parse with CRLF, comments and tabs", "[data][labels]") {
  const auto l = parse_label_list("#sample #class\r\n1\t5\r\n2\t0\r\n\r\n  60001 7\r\n", "mem");
  REQUIRE(l.size() == 3);
  CHECK((l[0].id == 1 && l[0].label == 5));
  CHECK((l[2].id == 60001 && l[2].label == 7));
  test::file_error_of([] { parse_label_list("#c\n1\t5\n2\tx\n", "list.txt"); }, "list.txt", 7);
  test::file_error_of([] { parse_label_list("#only a comment\n", "empty.txt"); }, "empty.txt", 0);
  test::file_error_of([] { parse_gesture_labels("class,a,b\n1,10,20\n2,30\n", "g.csv"); }, "g.csv", 18);
  test::file_error_of([] { parse_gesture_labels("1,10,20,4\n", "g.csv"); }, "g.csv", 0);
  test::file_error_of([] { parse_gesture_labels("1,30,20\n", "g.csv"); }, "g.csv", 0);
}

// ---- bad input --------------------------------------------------------------------------------

// ---- N-Caltech101 and CIFAR10-DVS: class-folder layouts with a seeded per-class split -------

namespace {

std::vector<std::string> file_names(const std::vector<LabelledFile>& files) {
  std::vector<std::string> n;
  for (const LabelledFile& f : files) n.push_back(f.path.filename().string());
  return n;
}
std::vector<int> labels_of(const std::vector<LabelledFile>& files) {
  std::vector<int> l;
  for (const LabelledFile& f : files) l.push_back(f.label);
  return l;
}
// One DVS128 AEDAT 2.0 event per file: raw x `xr`, y, ON, t = 5 µs after a first event at 0.
Bytes cifar_file(unsigned xr, unsigned y) {
  Bytes b;
  test::put_text(b, "#!AER-DAT2.0\r\n# AEChip: ch.unizh.ini.jaer.chip.retina.DVS128\r\n");
  test::put_be32(b, (y << 8) | (xr << 1));
  test::put_be32(b, 1000);
  test::put_be32(b, (y << 8) | (xr << 1) | 1u);
  test::put_be32(b, 1005);
  return b;
}

}  // namespace

TEST_CASE("Class lists of N-Caltech101 and CIFAR10-DVS", "[data][ncaltech101][cifar10dvs]") {
  constexpr auto n = NCaltech101::class_names();
  STATIC_REQUIRE(n.size() == std::size_t(NCaltech101::classes));
  CHECK(std::adjacent_find(n.begin(), n.end(), [](auto a, auto b) { return !(a < b); }) == n.end());  // sorted, unique
  CHECK(n[0] == "BACKGROUND_Google");
  CHECK(n[1] == "Faces_easy");
  CHECK(n[4] == "accordion");
  CHECK(n[100] == "yin_yang");
  CHECK(std::find(n.begin(), n.end(), "Faces") == n.end());
  CHECK(NCaltech101::sensor == SensorSize{304, 240, 2});
  constexpr auto c = Cifar10Dvs::class_names();
  STATIC_REQUIRE(c.size() == 10);
  CHECK(c[0] == "airplane");
  CHECK(c[3] == "cat");
  CHECK(c[9] == "truck");
  CHECK(std::is_sorted(c.begin(), c.end()));
  CHECK(Cifar10Dvs::sensor == SensorSize{128, 128, 2});
}

TEST_CASE("NCaltech101 lists Caltech101/<class>/*.bin with sorted-folder labels", "[data][ncaltech101]") {
  const auto root = test::temp_dir("ncaltech101");
  fs::remove_all(root);
  const fs::path top = root / "Caltech101";
  const std::vector<std::pair<std::string, int>> layout = {{"yin_yang", 1}, {"BACKGROUND_Google", 2}, {"accordion", 3}};
  int serial = 0;
  for (const auto& [cls, count] : layout) {
    fs::create_directories(top / cls);
    for (int k = count; k >= 1; --k) {  // written in reverse: the listing must sort
      Bytes b;
      test::put_nmnist(b, 200 + unsigned(serial), 150, 1, 10);  // x >= 128: unsigned bytes
      test::put_nmnist(b, 0, 240, 0, 0);                        // overflow marker
      test::put_nmnist(b, 3, 4, 0, 20);
      char name[32];
      std::snprintf(name, sizeof name, "image_%04d.bin", k);
      test::write_bytes(top / cls / name, b);
      ++serial;
    }
  }
  test::write_text(top / "accordion" / "notes.txt", "not a recording");
  fs::create_directories(root / "Caltech101_annotations" / "unknown_folder");  // beside, not read

  const NCaltech101Dataset ds = NCaltech101::load(root, "all");
  REQUIRE(ds.size() == 6);
  CHECK(labels_of(ds.files()) == std::vector<int>{0, 0, 4, 4, 4, 100});
  CHECK(file_names(ds.files()) == std::vector<std::string>{"image_0001.bin", "image_0002.bin", "image_0001.bin",
                                                           "image_0002.bin", "image_0003.bin", "image_0001.bin"});
  CHECK(ds.classes() == 101);
  CHECK(ds.sensor() == SensorSize{304, 240, 2});
  const EventSample s = ds.get(0);  // BACKGROUND_Google/image_0001.bin, the 2nd file written
  REQUIRE(s.events.size() == 2);
  CHECK(s.events[0] == Event{10, 202, 150, 1});
  CHECK(s.events[1] == Event{8192 + 20, 3, 4, 0});
  CHECK(ds.get(0).label == 0);
  CHECK(ds.get(5).label == 100);
  // the Caltech101 folder itself is accepted too
  CHECK(file_names(NCaltech101::load(top, "all").files()) == file_names(ds.files()));
  // split: per class round(0.5 * n) train -> 1 of 2, 2 of 3 (half up), 1 of 1
  const NCaltech101Dataset tr = NCaltech101::load(root, "train", 0.5, 7), te = NCaltech101::load(root, "test", 0.5, 7);
  CHECK(labels_of(tr.files()) == std::vector<int>{0, 4, 4, 100});
  CHECK(labels_of(te.files()) == std::vector<int>{0, 4});
  fs::remove_all(root);
}

TEST_CASE("Cifar10Dvs lists <class>/*.aedat (AEDAT 2.0) with CIFAR-10's labels", "[data][cifar10dvs]") {
  const auto root = test::temp_dir("cifar10dvs");
  fs::remove_all(root);
  fs::create_directories(root / "truck");
  fs::create_directories(root / "airplane");
  fs::create_directories(root / "cat");  // an empty class folder is allowed
  for (int k = 0; k < 3; ++k)
    test::write_bytes(root / "truck" / ("cifar10_truck_" + std::to_string(k) + ".aedat"), cifar_file(unsigned(k), 7));
  for (int k = 0; k < 2; ++k)
    test::write_bytes(root / "airplane" / ("cifar10_airplane_" + std::to_string(k) + ".aedat"),
                      cifar_file(100 + unsigned(k), 9));
  test::write_text(root / "README.txt", "top-level files are ignored");
  const Cifar10DvsDataset ds = Cifar10Dvs::load(root, "all");
  REQUIRE(ds.size() == 5);
  CHECK(labels_of(ds.files()) == std::vector<int>{0, 0, 9, 9, 9});
  CHECK(file_names(ds.files()) == std::vector<std::string>{"cifar10_airplane_0.aedat", "cifar10_airplane_1.aedat",
                                                           "cifar10_truck_0.aedat", "cifar10_truck_1.aedat",
                                                           "cifar10_truck_2.aedat"});
  CHECK(ds.classes() == 10);
  const EventSample s = ds.get(1);  // airplane 1: raw x 101 -> x = 26
  REQUIRE(s.events.size() == 2);
  CHECK(s.events[0] == Event{0, 26, 9, 1});
  CHECK(s.events[1] == Event{5, 26, 9, 0});
  CHECK(s.label == 0);
  // default 0.9: round(1.8) = 2 of 2, round(2.7) = 3 of 3 -> everything trains
  CHECK(Cifar10Dvs::load(root, "train").size() == 5);
  CHECK(Cifar10Dvs::load(root, "test").size() == 0);
  const Cifar10DvsDataset tr = Cifar10Dvs::load(root, "train", 0.34, 3), te = Cifar10Dvs::load(root, "test", 0.34, 3);
  CHECK(labels_of(tr.files()) == std::vector<int>{0, 9});  // round(0.68) = 1, round(1.02) = 1
  CHECK(labels_of(te.files()) == std::vector<int>{0, 9, 9});
  // tonic's AEDAT 4 re-export is refused with the file's name
  test::write_bytes(root / "cat" / "cat_0.aedat4", Bytes{1, 2, 3});
  const std::string m =
      test::file_error_of([&] { Cifar10Dvs::load(root, "all"); }, (root / "cat" / "cat_0.aedat4").string(), -1);
  CHECK(m.find("AEDAT 4") != std::string::npos);
  fs::remove_all(root);
}

TEST_CASE("split_per_class: disjoint, exact per-class counts, seeded, uniform over files", "[data][split]") {
  std::vector<LabelledFile> files;
  for (int k = 0; k < 10; ++k) files.push_back({"a" + std::to_string(k), 0});
  for (int k = 0; k < 7; ++k) files.push_back({"b" + std::to_string(k), 2});
  std::map<std::string, int> train_count;
  for (std::uint64_t seed = 0; seed < 400; ++seed) {
    const auto tr = split_per_class(files, "train", 0.7, seed, 3, "t");
    const auto te = split_per_class(files, "test", 0.7, seed, 3, "t");
    const std::vector<int> l = labels_of(tr);
    REQUIRE(std::count(l.begin(), l.end(), 0) == 7);  // round(7.0)
    REQUIRE(std::count(l.begin(), l.end(), 2) == 5);  // round(4.9)
    REQUIRE(tr.size() + te.size() == files.size());
    std::vector<std::string> both = file_names(tr);
    for (const auto& n : file_names(te)) both.push_back(n);
    std::sort(both.begin(), both.end());
    REQUIRE(std::adjacent_find(both.begin(), both.end()) == both.end());  // disjoint
    for (const auto& f : tr) ++train_count[f.path.string()];
    // the order of `files` is kept
    REQUIRE(std::is_sorted(tr.begin(), tr.end(), [](const auto& a, const auto& b) { return a.path < b.path; }));
  }
  // each file trains with probability 7/10 or 5/7 (400 draws: sd ~ 0.023)
  for (int k = 0; k < 10; ++k) CHECK(train_count["a" + std::to_string(k)] / 400.0 == Approx(0.7).margin(0.09));
  for (int k = 0; k < 7; ++k) CHECK(train_count["b" + std::to_string(k)] / 400.0 == Approx(5.0 / 7).margin(0.09));
  // the same seed gives the same split, another seed another one
  CHECK(file_names(split_per_class(files, "train", 0.7, 11, 3, "t")) ==
        file_names(split_per_class(files, "train", 0.7, 11, 3, "t")));
  CHECK(file_names(split_per_class(files, "train", 0.7, 11, 3, "t")) !=
        file_names(split_per_class(files, "train", 0.7, 12, 3, "t")));
  CHECK(split_per_class(files, "train", 0.0, 1, 3, "t").empty());
  CHECK(split_per_class(files, "test", 1.0, 1, 3, "t").empty());
  CHECK(split_per_class(files, "all", 0.3, 1, 3, "t").size() == files.size());
  CHECK_THROWS_AS(split_per_class(files, "validation", 0.5, 1, 3, "t"), ConfigError);
  CHECK_THROWS_AS(split_per_class(files, "train", 1.5, 1, 3, "t"), ConfigError);
  CHECK_THROWS_AS(split_per_class(files, "train", std::nan(""), 1, 3, "t"), ConfigError);
  CHECK_THROWS_AS(split_per_class(files, "train", 0.5, 1, 2, "t"), ConfigError);  // label 2 >= 2 classes
}

TEST_CASE("Readers reject bad input with the file and byte offset", "[data][errors]") {
  const auto dir = test::temp_dir("bad-input");
  auto file = [&](const std::string& name, const Bytes& b) {
    test::write_bytes(dir / name, b);
    return dir / name;
  };
  const std::string missing = (dir / "missing.bin").string();

  SECTION("N-MNIST .bin") {
    Bytes ok;
    test::put_nmnist(ok, 1, 1, 0, 100);
    test::put_nmnist(ok, 2, 2, 1, 200);
    const NmnistBin r;
    Bytes trunc(ok.begin(), ok.end() - 2);
    auto m = test::file_error_of([&] { r.read(file("t.bin", trunc)); }, (dir / "t.bin").string(), 5);
    CHECK(m.find("truncated") != std::string::npos);
    Bytes out = ok;
    test::put_nmnist(out, 34, 0, 0, 300);
    m = test::file_error_of([&] { r.read(file("o.bin", out)); }, (dir / "o.bin").string(), 10);
    CHECK(m.find("outside") != std::string::npos);
    test::file_error_of([&] { r.read(file("e.bin", {})); }, (dir / "e.bin").string(), 0);
    test::file_error_of([&] { r.read(missing); }, missing, -1);
    test::file_error_of([&] { r.read(dir); }, dir.string(), -1);
    CHECK_THROWS_AS(r.read(missing), FileError);
    CHECK_THROWS_AS(r.read(dir / "e.bin"), FormatError);
  }
  SECTION("AEDAT 2.0") {
    Bytes ok;
    test::put_text(ok, "#!AER-DAT2.0\r\n# comment\r\n");
    test::put_be32(ok, 2);
    test::put_be32(ok, 10);
    const Aedat2 r;
    Bytes trunc = ok;
    trunc.push_back(0);
    trunc.push_back(0);
    trunc.push_back(0);
    auto m = test::file_error_of([&] { r.read(file("t.aedat", trunc)); }, (dir / "t.aedat").string(), 33);
    CHECK(m.find("truncated") != std::string::npos);
    Bytes v3;
    test::put_text(v3, "#!AER-DAT3.1\r\n");
    test::file_error_of([&] { r.read(file("v3.aedat", v3)); }, (dir / "v3.aedat").string(), 0);
    Bytes junk;
    test::put_text(junk, "#!AER-DATX\n");
    test::file_error_of([&] { r.read(file("j.aedat", junk)); }, (dir / "j.aedat").string(), 0);
    Bytes wide = ok;
    test::put_be32(wide, 0x00010002u);  // bit 16 set: not a DVS128 address
    test::put_be32(wide, 20);
    m = test::file_error_of([&] { r.read(file("w.aedat", wide)); }, (dir / "w.aedat").string(), 33);
    CHECK(m.find("DVS128") != std::string::npos);
    test::file_error_of([&] { r.read(file("e.aedat", {})); }, (dir / "e.aedat").string(), 0);
    test::file_error_of([&] { r.read(missing); }, missing, -1);
  }
  SECTION("AEDAT 3.1") {
    Bytes head;
    test::put_text(head, "#!AER-DAT3.1\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n");
    const std::int64_t h = std::int64_t(head.size());
    const Aedat31 r;
    Bytes ok = head;
    test::put_packet_header(ok, 1, 8, 4, 0, 1, 1, 1);
    test::put_le32(ok, test::polarity_word(1, 2, 1));
    test::put_le32(ok, 9);
    CHECK(r.read(file("ok.aedat", ok)).events.size() == 1);
    Bytes trunc(ok.begin(), ok.end() - 3);  // payload cut
    auto m = test::file_error_of([&] { r.read(file("t.aedat", trunc)); }, (dir / "t.aedat").string(), h);
    CHECK(m.find("truncated packet") != std::string::npos);
    Bytes trunc_head(ok.begin(), ok.begin() + h + 10);  // packet header cut
    test::file_error_of([&] { r.read(file("th.aedat", trunc_head)); }, (dir / "th.aedat").string(), h);
    Bytes out = head;
    test::put_packet_header(out, 1, 8, 4, 0, 1, 1, 1);
    test::put_le32(out, test::polarity_word(128, 2, 1));
    test::put_le32(out, 9);
    m = test::file_error_of([&] { r.read(file("o.aedat", out)); }, (dir / "o.aedat").string(), h + 28);
    CHECK(m.find("outside") != std::string::npos);
    Bytes bad_fields = head;
    test::put_packet_header(bad_fields, 1, 8, 4, 0, 1, 2, 1);  // number > capacity
    test::file_error_of([&] { r.read(file("f.aedat", bad_fields)); }, (dir / "f.aedat").string(), h + 20);
    Bytes no_end;
    test::put_text(no_end, "#!AER-DAT3.1\r\n#Format: RAW\r\n");
    test::file_error_of([&] { r.read(file("n.aedat", no_end)); }, (dir / "n.aedat").string(), std::int64_t(no_end.size()));
    Bytes magic;
    test::put_text(magic, "#!AER-DAT2.0\r\n#!END-HEADER\r\n");
    test::file_error_of([&] { r.read(file("m.aedat", magic)); }, (dir / "m.aedat").string(), 0);
    Bytes binary = {0x01, 0x00, 0x01, 0x00, 0x08};
    test::file_error_of([&] { r.read(file("b.aedat", binary)); }, (dir / "b.aedat").string(), 0);
    test::file_error_of([&] { r.read(file("e.aedat", {})); }, (dir / "e.aedat").string(), 0);
    test::file_error_of([&] { r.read(missing); }, missing, -1);
  }
  SECTION("data sets") {
    test::file_error_of([&] { NMnist::load(dir / "nothing", "train"); }, (dir / "nothing").string(), -1);
    test::write_text(dir / "train1K.txt", "#sample #class\r\n1\t5\r\n");
    const std::string m = test::file_error_of([&] { NMnist::load(dir, "train"); }, (dir / "train1K.txt").string(), -1);
    CHECK(m.find("1.bs2") != std::string::npos);
    CHECK_THROWS_AS(NMnist::load(dir, "validation"), ConfigError);
    test::file_error_of([&] { DvsGesture(dir, "test"); }, (dir / "trials_to_test.txt").string(), -1);
    test::file_error_of([&] { NCaltech101::load(dir / "nothing", "all"); }, (dir / "nothing").string(), -1);
    test::file_error_of([&] { Cifar10Dvs::load(dir / "nothing", "all"); }, (dir / "nothing").string(), -1);
    fs::create_directories(dir / "cal" / "Caltech101" / "accordion");
    std::string m2 =
        test::file_error_of([&] { NCaltech101::load(dir / "cal", "all"); }, (dir / "cal" / "Caltech101").string(), -1);
    CHECK(m2.find("no <class>/*.bin") != std::string::npos);
    fs::create_directories(dir / "cal" / "Caltech101" / "Faces");
    test::write_bytes(dir / "cal" / "Caltech101" / "accordion" / "image_0001.bin", Bytes{1, 2, 0, 0, 5});
    m2 = test::file_error_of([&] { NCaltech101::load(dir / "cal", "all"); },
                             (dir / "cal" / "Caltech101" / "Faces").string(), -1);
    CHECK(m2.find("'Faces' is not one of the 101 class folders") != std::string::npos);
    fs::remove(dir / "cal" / "Caltech101" / "Faces");
    CHECK(NCaltech101::load(dir / "cal", "all").size() == 1);
    CHECK_THROWS_AS(NCaltech101::load(dir / "cal", "validation"), ConfigError);
    CHECK_THROWS_AS(NCaltech101::load(dir / "cal", "train", -0.1), ConfigError);
    fs::create_directories(dir / "cif" / "airplanes");
    test::file_error_of([&] { Cifar10Dvs::load(dir / "cif", "all"); }, (dir / "cif" / "airplanes").string(), -1);
    fs::remove(dir / "cif" / "airplanes");
    fs::create_directories(dir / "cif" / "dog");
    test::file_error_of([&] { Cifar10Dvs::load(dir / "cif", "all"); }, (dir / "cif").string(), -1);
    // a bad recording is the reader's FormatError with its file and offset, when read
    test::write_bytes(dir / "cif" / "dog" / "cifar10_dog_0.aedat", Bytes{});
    const Cifar10DvsDataset cif = Cifar10Dvs::load(dir / "cif", "all");
    REQUIRE(cif.size() == 1);
    test::file_error_of([&] { cif.get(0); }, (dir / "cif" / "dog" / "cifar10_dog_0.aedat").string(), 0);
  }
  fs::remove_all(dir);
}
