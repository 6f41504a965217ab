// Checkpoints: bit-exact round trips in both formats; truncated, foreign, newer-version and
// wrong-structure files each throw a named error and leave the network untouched.
#include <spikelab/spikelab.hpp>

#include "support/checkpoint_support.hpp"
#include "support/test_support.hpp"

#include <cstring>
#include <fstream>

using namespace spikelab;
using test::bit_equal;
using test::params;

namespace {
using Hidden = LifType<float, FastSigmoid, SubtractReset,
                       LifOptions{.threshold = Train::per_neuron, .beta = Train::per_layer, .recurrent = true}>;
using Net = Sequential<Linear<float>, Hidden, Linear<float>, LeakyIntegratorType<float, Train::per_neuron>>;

Net make_net(std::uint64_t seed, Index hidden = 16) {
  Rng rng(seed);
  Net net{Linear<float>(10, hidden, rng), Hidden(hidden, rng, {.beta = 0.9, .threshold = 0.7}),
          Linear<float>(hidden, 4, rng), LeakyIntegratorType<float, Train::per_neuron>(4, {.beta = 0.8})};
  // make the trainable neuron parameters heterogeneous so the round trip is meaningful
  Vector<float> th(hidden);
  for (Index i = 0; i < hidden; ++i) th[i] = float(rng.uniform(0.5, 1.5));
  net.layer<1>().threshold().set(th);
  return net;
}

}  // namespace

TEST_CASE("Checkpoint round trip is bit-exact in binary and JSON", "[checkpoint]") {
  const auto dir = test::temp_dir("ckpt");
  for (auto fmt : {CheckpointFormat::binary, CheckpointFormat::json}) {
    Net a = make_net(1), b = make_net(2);
    // give the parameters awkward values (denormal-ish, negative zero, many digits)
    a.layer<0>().weight()(0, 0) = 1.17549435e-38f;
    a.layer<0>().weight()(1, 0) = -0.0f;
    a.layer<0>().weight()(2, 0) = 0.1f;
    const auto path = dir / (fmt == CheckpointFormat::binary ? "net.bin" : "net.json");
    save_checkpoint(path, a, fmt);
    REQUIRE_FALSE(bit_equal(params(a), params(b)));
    load_checkpoint(path, b);
    CHECK(bit_equal(params(a), params(b)));
    CHECK(std::signbit(b.layer<0>().weight()(1, 0)));
    CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));
    // hyperparameters come back too, and the loaded network computes the same outputs
    CHECK(b.layer<1>().config().beta == a.layer<1>().config().beta);
    Rng rng(5);
    TimeSeries<float> x(10, 3, 25);
    test::fill_spikes(x, rng, 0.3);
    const Matrix<float> ya = a.forward(x).values();
    const Matrix<float> yb = b.forward(x).values();
    CHECK(ya == yb);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("Loading a truncated checkpoint throws CheckpointError and changes nothing", "[checkpoint][errors]") {
  const auto dir = test::temp_dir("ckpt-trunc");
  for (auto fmt : {CheckpointFormat::binary, CheckpointFormat::json}) {
    Net a = make_net(1), b = make_net(2);
    const auto path = dir / "net.ckpt";
    save_checkpoint(path, a, fmt);
    const std::string full = test::read_all(path);
    const auto before = params(b);
    for (double frac : {0.99, 0.7, 0.3, 0.05}) {
      test::write_all(path, full.substr(0, std::size_t(double(full.size()) * frac)));
      try {
        load_checkpoint(path, b);
        FAIL("a truncated checkpoint loaded");
      } catch (const CheckpointError& e) {
        const std::string m = e.what();
        CHECK(m.find(path.string()) != std::string::npos);
      }
      CHECK(bit_equal(params(b), before));
    }
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("A checkpoint of a newer format version throws VersionError", "[checkpoint][errors]") {
  const auto dir = test::temp_dir("ckpt-ver");
  Net a = make_net(1), b = make_net(2);
  // binary: 1 byte endianness, u64 length, 19-byte magic, then the u32 format version
  save_checkpoint(dir / "v.bin", a);
  std::string bin = test::read_all(dir / "v.bin");
  REQUIRE(bin.compare(9, 19, "spikelab-checkpoint") == 0);
  bin[28] = 99;
  test::write_all(dir / "v.bin", bin);
  CHECK_THROWS_AS(load_checkpoint(dir / "v.bin", b), VersionError);
  save_checkpoint(dir / "v.json", a, CheckpointFormat::json);
  std::string js = test::read_all(dir / "v.json");
  const auto pos = js.find("\"format_version\": 1");
  REQUIRE(pos != std::string::npos);
  js.replace(pos, 19, "\"format_version\": 7");
  test::write_all(dir / "v.json", js);
  try {
    load_checkpoint(dir / "v.json", b);
    FAIL("newer version loaded");
  } catch (const VersionError& e) {
    CHECK(std::string(e.what()).find("version 7") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("Loading into another network structure throws SignatureError naming both", "[checkpoint][errors]") {
  const auto dir = test::temp_dir("ckpt-sig");
  Net a = make_net(1, 16), b = make_net(2, 17);
  save_checkpoint(dir / "a.bin", a);
  const auto before = params(b);
  try {
    load_checkpoint(dir / "a.bin", b);
    FAIL("loaded into another structure");
  } catch (const SignatureError& e) {
    const std::string m = e.what();
    CHECK(m.find("(16)") != std::string::npos);
    CHECK(m.find("(17)") != std::string::npos);
  }
  CHECK(bit_equal(params(b), before));
  // another layer type altogether
  Rng rng(1);
  Sequential<Linear<float>, Lif<float>> other{Linear<float>(10, 16, rng), Lif<float>(16)};
  CHECK_THROWS_AS(load_checkpoint(dir / "a.bin", other), SignatureError);
  std::filesystem::remove_all(dir);
}

TEST_CASE("Foreign, empty and missing files are refused with CheckpointError", "[checkpoint][errors]") {
  const auto dir = test::temp_dir("ckpt-foreign");
  Net b = make_net(2);
  test::write_all(dir / "junk.bin", std::string(4096, '\x7f'));
  try {
    load_checkpoint(dir / "junk.bin", b);
    FAIL("junk loaded");
  } catch (const CheckpointError& e) {
    CHECK(e.offset() == 0);
  }
  test::write_all(dir / "empty.bin", "");
  CHECK_THROWS_AS(load_checkpoint(dir / "empty.bin", b), CheckpointError);
  CHECK_THROWS_AS(load_checkpoint(dir / "missing.bin", b), CheckpointError);
  test::write_all(dir / "junk.json", "{\"hello\": 1}");
  CHECK_THROWS_AS(load_checkpoint(dir / "junk.json", b), CheckpointError);
  CHECK_THROWS_AS(save_checkpoint(dir / "no-such-dir" / "x.bin", b), CheckpointError);
  std::filesystem::remove_all(dir);
}
