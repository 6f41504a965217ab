// Prophesee .raw readers (EVT 2.0, EVT 3.0) on files the test encodes from the format
// specification: known events (vectorised EVT 3.0 events, time-high wraps, triggers and vendor
// words) decoded back exactly, the header's geometry variants, and every kind of bad input
// (each must throw a FormatError naming the file and the byte offset).
#include <spikelab/data/formats/evt2.hpp>
#include <spikelab/data/formats/evt3.hpp>

#include "support/data_support.hpp"

#include <algorithm>
#include <random>
#include <tuple>

using namespace spikelab;
using test::Bytes;

namespace {

std::vector<Event> by_time_then_address(std::vector<Event> ev) {
  std::sort(ev.begin(), ev.end(),
            [](const Event& a, const Event& b) { return std::tie(a.t, a.y, a.p, a.x) < std::tie(b.t, b.y, b.p, b.x); });
  return ev;
}

/// EVT 2.0 encoder written from the specification: 32-bit little-endian words, a TIME_HIGH word
/// whenever the high 28 bits of the time change (taken modulo 2^28: the counter wraps).
struct Evt2Writer {
  Bytes b;
  std::int64_t high = -1;  // unwrapped high part last written
  void word(std::uint32_t w) { test::put_le32(b, w); }
  void time_high(std::int64_t h) {
    while (high != h) {  // a jump of half the range or more would read as a wrap: step through it
      high = (high < 0 || h - high < (std::int64_t(1) << 27)) ? h : high + (std::int64_t(1) << 27) - 1;
      word((0x8u << 28) | std::uint32_t(high & 0x0FFFFFFF));
    }
  }
  void event(const Event& e) {
    time_high(e.t >> 6);
    word((std::uint32_t(e.p) << 28) | (std::uint32_t(e.t & 63) << 22) | (std::uint32_t(e.x) << 11) | e.y);
  }
};

/// EVT 3.0 encoder written from the specification: 16-bit little-endian words; for each time,
/// TIME_HIGH / TIME_LOW when they change, then per (row, polarity) an ADDR_Y and either one
/// ADDR_X or a VECT_BASE_X followed by VECT_12 / VECT_8 masks over the run of columns.
struct Evt3Writer {
  Bytes b;
  std::int64_t high = -1;  // unwrapped 12-bit high part last written
  std::int64_t low = -1;
  std::int64_t y = -1;
  void word(std::uint32_t w) { test::put_le16(b, std::uint16_t(w)); }
  void time(std::int64_t t) {
    const std::int64_t h = t >> 12;
    while (high != h) {
      high = (high < 0 || h - high < 2048) ? h : high + 2047;
      word((0x8u << 12) | std::uint32_t(high & 0xFFF));
      low = 0;  // a new high part clears the low part
    }
    if (low != (t & 0xFFF)) {
      low = t & 0xFFF;
      word((0x6u << 12) | std::uint32_t(low));
    }
  }
  /// Events of one time, one row, one polarity, columns ascending and distinct.
  void group(std::int64_t t, unsigned row, unsigned p, const std::vector<unsigned>& xs) {
    time(t);
    if (y != row) {
      y = row;
      word(row);  // EVT_ADDR_Y
    }
    if (xs.size() == 1) {
      word((0x2u << 12) | (p << 11) | xs[0]);  // EVT_ADDR_X
      return;
    }
    unsigned base = xs.front();
    word((0x3u << 12) | (p << 11) | base);  // VECT_BASE_X
    std::size_t k = 0;
    while (k < xs.size()) {
      const unsigned len = xs.back() - base < 8 ? 8 : 12;
      unsigned mask = 0;
      for (; k < xs.size() && xs[k] < base + len; ++k) mask |= 1u << (xs[k] - base);
      word(((len == 12 ? 0x4u : 0x5u) << 12) | mask);
      base += len;
    }
  }
  /// All events (time-ordered): grouped by time, row and polarity.
  void events(const std::vector<Event>& ev) {
    std::size_t k = 0;
    while (k < ev.size()) {
      std::size_t j = k;
      std::vector<unsigned> xs;
      while (j < ev.size() && ev[j].t == ev[k].t && ev[j].y == ev[k].y && ev[j].p == ev[k].p) xs.push_back(ev[j++].x);
      std::sort(xs.begin(), xs.end());
      group(ev[k].t, ev[k].y, ev[k].p, xs);
      k = j;
    }
  }
};

Bytes header(const std::string& text) {
  Bytes b;
  test::put_text(b, text);
  return b;
}
Bytes cat(Bytes a, const Bytes& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

/// Random events on a W x H sensor: times ascending with gaps from 0 to `max_gap` µs, several
/// events per time stamp on shared rows (so that EVT 3.0 vectorises them), distinct addresses.
std::vector<Event> random_events(std::mt19937& g, int W, int H, std::int64_t t0, std::int64_t max_gap, int n) {
  std::vector<Event> ev;
  std::int64_t t = t0;
  std::uniform_int_distribution<int> ux(0, W - 1), uy(0, H - 1), up(0, 1), run(1, 30), gap_kind(0, 9);
  while (int(ev.size()) < n) {
    const int kind = gap_kind(g);
    t += kind == 0 ? std::uniform_int_distribution<std::int64_t>(0, max_gap)(g)
                   : std::uniform_int_distribution<std::int64_t>(0, 300)(g);
    const auto y = std::uint16_t(uy(g));
    const auto p = std::uint8_t(up(g));
    const int x0 = ux(g), len = run(g);
    for (int x = x0; x < std::min(W, x0 + len); x += 1 + int(g() % 3)) ev.push_back({t, std::uint16_t(x), y, p});
  }
  ev = by_time_then_address(ev);
  ev.erase(std::unique(ev.begin(), ev.end()), ev.end());  // two runs may share an address and time
  return ev;
}

}  // namespace

TEST_CASE("Evt2 decodes events encoded from the specification, with triggers and vendor words", "[data][evt2]") {
  const Bytes head = header(
      "% camera_integrator_name Prophesee\r\n% evt 2.0\r\n% format EVT2;height=480;width=640\r\n"
      "% geometry 640x480\r\n% end\r\n");
  Evt2Writer w;
  w.word(0x00000000u | (5u << 11) | 6u);  // a CD event before any TIME_HIGH: its time is unknown
  const std::vector<Event> ev{
      {100, 1, 2, 1}, {101, 639, 479, 0}, {164, 0, 0, 1}, {5000, 320, 240, 0}, {5000, 321, 240, 1}};
  for (const Event& e : ev) {
    w.event(e);
    w.word((0xAu << 28) | (3u << 8) | 1u);  // EXT_TRIGGER: id 3, rising edge
  }
  w.word(0xE0000123u);  // OTHERS
  w.word(0xF0000456u);  // CONTINUED
  const Bytes file = cat(head, w.b);

  PropheseeCounts counts;
  const EventSample s = Evt2().parse(file, "mem.raw", counts);
  CHECK(s.sensor == SensorSize{640, 480, 2});
  CHECK(s.events == ev);
  CHECK(s.label == -1);
  CHECK(counts.events == ev.size());
  CHECK(counts.triggers == ev.size());
  CHECK(counts.other_words == 2);
  CHECK(counts.before_first_time == 1);
  CHECK(counts.time_wraps == 0);

  // read() from disk gives the same; the explicit sensor agrees with the header
  const auto dir = test::temp_dir("evt2");
  test::write_bytes(dir / "a.raw", file);
  CHECK(Evt2(SensorSize{640, 480, 2}).read(dir / "a.raw").events == ev);
}

TEST_CASE("Evt2 round-trips random recordings and unwraps the 34-bit time counter", "[data][evt2]") {
  std::mt19937 g(7);
  for (const std::int64_t t0 : {std::int64_t(0), (std::int64_t(1) << 34) - 20000}) {
    const std::vector<Event> ev = random_events(g, 1280, 720, t0, 100000, 3000);
    Evt2Writer w;
    for (const Event& e : ev) w.event(e);
    PropheseeCounts counts;
    const EventSample s = Evt2().parse(cat(header("% format EVT2;height=720;width=1280\n"), w.b), "r.raw", counts);
    REQUIRE(s.events.size() == ev.size());
    CHECK(s.events == ev);
    CHECK(counts.time_wraps == (t0 > 0 ? 1u : 0u));  // the second recording crosses 2^34 us
    if (t0 > 0) CHECK(s.events.back().t > (std::int64_t(1) << 34));
  }
}

TEST_CASE("Evt3 decodes single and vectorised events encoded from the specification", "[data][evt3]") {
  // one single event, a run of 3 (VECT_8), a run spanning 20 columns (VECT_12 + VECT_8), both
  // polarities on one row at one time, then a later time
  std::vector<Event> ev{{4100, 7, 3, 1}};
  for (unsigned x : {10u, 12u, 13u}) ev.push_back({4100, std::uint16_t(x), 5, 0});
  for (unsigned x : {100u, 101u, 111u, 112u, 119u}) ev.push_back({4100, std::uint16_t(x), 5, 1});
  ev.push_back({4200, 1279, 719, 0});
  ev = by_time_then_address(ev);
  Evt3Writer w;
  w.events(ev);
  const Bytes body = w.b;
  // the encoding really is vectorised: one ADDR_X for 1 event, VECT words for the runs
  int vect12 = 0, vect8 = 0, addr_x = 0;
  for (std::size_t k = 0; k < body.size(); k += 2) {
    const unsigned type = body[k + 1] >> 4;
    vect12 += type == 0x4;
    vect8 += type == 0x5;
    addr_x += type == 0x2;
  }
  CHECK(vect12 == 1);
  CHECK(vect8 == 2);
  CHECK(addr_x == 2);

  Bytes with_extras = body;
  test::put_le16(with_extras, 0xA000 | (2u << 8) | 1u);  // EXT_TRIGGER
  test::put_le16(with_extras, 0xE00F);                   // OTHERS
  test::put_le16(with_extras, 0x7003);                   // CONTINUED_4
  test::put_le16(with_extras, 0xF123);                   // CONTINUED_12
  const Bytes head = header("% evt 3.0\n% format EVT3;height=720;width=1280\n% end\n");
  PropheseeCounts counts;
  const EventSample s = Evt3().parse(cat(head, with_extras), "v.raw", counts);
  CHECK(s.sensor == SensorSize{1280, 720, 2});
  CHECK(by_time_then_address(s.events) == ev);
  CHECK(counts.events == ev.size());
  CHECK(counts.triggers == 1);
  CHECK(counts.other_words == 3);
  CHECK(counts.time_wraps == 0);

  // VECT_8 moves the base column by 8, VECT_12 by 12: consecutive vectors continue along the row
  Bytes chain = header("% geometry 64x8\n");
  for (const unsigned word :
       {0x8000u, 0x0002u, 0x3000u | (1u << 11) | 5u, 0x5000u | 0x81u, 0x4000u | 0x801u, 0x5000u | 0x1u})
    test::put_le16(chain, std::uint16_t(word));
  std::vector<Event> chained;
  for (const unsigned x : {5u, 12u, 13u, 24u, 25u}) chained.push_back({0, std::uint16_t(x), 2, 1});
  CHECK(Evt3().parse(chain, "chain").events == chained);
}

TEST_CASE("Evt3 round-trips random recordings across several 24-bit time wraps", "[data][evt3]") {
  std::mt19937 g(11);
  // gaps up to 6 s: 3000 events span about a minute, several 16.8 s periods of the counter
  const std::vector<Event> ev = random_events(g, 640, 480, 16000000, 6000000, 3000);
  REQUIRE(ev.back().t > 3 * (std::int64_t(1) << 24));
  Evt3Writer w;
  w.events(ev);
  PropheseeCounts counts;
  const EventSample s = Evt3().parse(cat(header("% geometry 640x480\n"), w.b), "r.raw", counts);
  REQUIRE(s.events.size() == ev.size());
  CHECK(by_time_then_address(s.events) == ev);
  CHECK(is_time_ordered(s.events));
  CHECK(counts.time_wraps == std::uint64_t(ev.back().t >> 24));
}

TEST_CASE("Prophesee readers take the sensor from the header or from the constructor", "[data][evt2][evt3]") {
  Evt3Writer w3;
  w3.events({{50, 3, 4, 1}});
  Evt2Writer w2;
  w2.event({50, 3, 4, 1});
  // no '% end': the header ends at the first line that does not start with '%'
  CHECK(Evt3().parse(cat(header("% geometry 320x320\n"), w3.b), "g").sensor == SensorSize{320, 320, 2});
  CHECK(Evt2().parse(cat(header("% geometry 320x320\r\n% end\r\n"), w2.b), "g").sensor == SensorSize{320, 320, 2});
  // no header at all: the constructor's sensor
  CHECK(Evt3(SensorSize{8, 8, 2}).parse(w3.b, "n").events.size() == 1);
  CHECK(Evt2(SensorSize{8, 8, 2}).parse(w2.b, "n").sensor == SensorSize{8, 8, 2});
  // a header without geometry: the constructor's sensor
  CHECK(Evt2(SensorSize{8, 8, 2}).parse(cat(header("% evt 2.0\n% end\n"), w2.b), "n").sensor == SensorSize{8, 8, 2});
  // binary data that starts with '%' (an EVT_ADDR_Y word for row 0x25) after '% end'
  Bytes row37;
  test::put_le16(row37, 0x8000);  // TIME_HIGH 0
  CHECK(Evt3().parse(cat(cat(header("% geometry 64x64\n% end\n"), row37), Bytes{0x25, 0x00, 0x01, 0x20}), "p").events ==
        std::vector<Event>{{0, 1, 37, 0}});
  CHECK_THROWS_AS(Evt2(SensorSize{0, 5, 2}), ConfigError);
  CHECK_THROWS_AS(Evt3(SensorSize{4096, 5, 2}), ConfigError);
  CHECK_THROWS_AS(Evt3(SensorSize{64, 64, 1}), ConfigError);
}

TEST_CASE("Prophesee readers reject bad input with the file and byte offset", "[data][evt2][evt3][errors]") {
  const auto dir = test::temp_dir("prophesee-bad");
  auto file = [&](const std::string& name, const Bytes& b) {
    test::write_bytes(dir / name, b);
    return dir / name;
  };
  auto path = [&](const std::string& name) { return (dir / name).string(); };
  const Bytes head = header("% format EVT3;height=16;width=32\n% end\n");
  const auto h = std::int64_t(head.size());

  SECTION("EVT 2.0") {
    const Bytes head2 = header("% format EVT2;height=16;width=32\n% end\n");
    const auto h2 = std::int64_t(head2.size());
    Evt2Writer ok;
    ok.event({70, 31, 15, 1});
    const Evt2 r;
    CHECK(r.read(file("ok.raw", cat(head2, ok.b))).events.size() == 1);
    Bytes trunc = cat(head2, ok.b);
    trunc.resize(trunc.size() - 1);
    auto m = test::file_error_of([&] { r.read(file("t.raw", trunc)); }, path("t.raw"), h2 + 4);
    CHECK(m.find("truncated") != std::string::npos);
    Evt2Writer out = ok;
    out.event({80, 32, 0, 0});
    m = test::file_error_of([&] { r.read(file("o.raw", cat(head2, out.b))); }, path("o.raw"), h2 + 8);
    CHECK(m.find("outside") != std::string::npos);
    Bytes reserved = cat(head2, ok.b);
    test::put_le32(reserved, 0x30000000u);
    m = test::file_error_of([&] { r.read(file("r.raw", reserved)); }, path("r.raw"), h2 + 8);
    CHECK(m.find("reserved") != std::string::npos);
    Bytes back = cat(head2, ok.b);
    test::put_le32(back, 0x80000000u);  // TIME_HIGH 1 -> 0: backwards by 1, not a wrap
    m = test::file_error_of([&] { r.read(file("b.raw", back)); }, path("b.raw"), h2 + 8);
    CHECK(m.find("back") != std::string::npos);
    test::file_error_of([&] { r.read(file("n.raw", ok.b)); }, path("n.raw"), 0);             // no header, no sensor
    test::file_error_of([&] { r.read(file("3.raw", cat(head, ok.b))); }, path("3.raw"), 0);  // an EVT 3.0 file
    test::file_error_of([&] { Evt2(SensorSize{64, 64, 2}).read(file("ok.raw", cat(head2, ok.b))); }, path("ok.raw"), 0);
    test::file_error_of([&] { r.read(file("g.raw", header("% geometry 32x0\n"))); }, path("g.raw"), 0);
    test::file_error_of([&] { r.read(file("c.raw", header("% format EVT2;height=16;width=32\n% geometry 16x16\n"))); },
                        path("c.raw"), 0);
    test::file_error_of([&] { r.read(dir / "missing.raw"); }, path("missing.raw"), -1);
  }
  SECTION("EVT 3.0") {
    Evt3Writer ok;
    ok.events({{70, 31, 15, 1}});
    const Evt3 r;
    CHECK(r.read(file("ok.raw", cat(head, ok.b))).events.size() == 1);
    const auto n = std::int64_t(ok.b.size());
    Bytes trunc = cat(head, ok.b);
    trunc.push_back(0x20);
    auto m = test::file_error_of([&] { r.read(file("t.raw", trunc)); }, path("t.raw"), h + n);
    CHECK(m.find("truncated") != std::string::npos);
    Bytes out = cat(head, ok.b);
    test::put_le16(out, 0x3000 | 28);         // VECT_BASE_X 28
    test::put_le16(out, 0x4000 | (1u << 5));  // column 33: outside a 32-wide sensor
    m = test::file_error_of([&] { r.read(file("o.raw", out)); }, path("o.raw"), h + n + 2);
    CHECK(m.find("outside") != std::string::npos);
    Bytes reserved = cat(head, ok.b);
    test::put_le16(reserved, 0x9000);
    m = test::file_error_of([&] { r.read(file("r.raw", reserved)); }, path("r.raw"), h + n);
    CHECK(m.find("reserved") != std::string::npos);
    Bytes no_y = head;
    test::put_le16(no_y, 0x8000);
    test::put_le16(no_y, 0x2001);  // ADDR_X before any ADDR_Y
    test::file_error_of([&] { r.read(file("y.raw", no_y)); }, path("y.raw"), h + 2);
    Bytes no_base = head;
    test::put_le16(no_base, 0x0001);
    test::put_le16(no_base, 0x5001);  // VECT_8 before any VECT_BASE_X
    test::file_error_of([&] { r.read(file("v.raw", no_base)); }, path("v.raw"), h + 2);
    Bytes back = head;
    test::put_le16(back, 0x8000 | 100);
    test::put_le16(back, 0x8000 | 99);  // backwards by 1: not a wrap
    m = test::file_error_of([&] { r.read(file("b.raw", back)); }, path("b.raw"), h + 2);
    CHECK(m.find("back") != std::string::npos);
    test::file_error_of([&] { r.read(file("n.raw", ok.b)); }, path("n.raw"), 0);
    test::file_error_of([&] { r.read(file("2.raw", cat(header("% evt 2.0\n"), ok.b))); }, path("2.raw"), 0);
    test::file_error_of([&] { r.read(file("21.raw", cat(header("% format EVT21;height=4;width=4\n"), ok.b))); },
                        path("21.raw"), 0);
    test::file_error_of([&] { r.read(file("w.raw", header("% format EVT3;width=9\n"))); }, path("w.raw"), 0);
  }
}
