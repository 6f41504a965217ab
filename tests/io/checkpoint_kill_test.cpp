// Crash safety of saving: a child process saves checkpoints in a loop and is killed with SIGKILL
// at random moments. Afterwards the checkpoint file is always byte for byte one complete save,
// the last one the child finished or the one it was writing, and it loads; a temporary file the
// kill left behind does not disturb the next save. Weight-only checkpoints in both formats and
// training checkpoints.
#include <spikelab/io/checkpoint.hpp>
#include <spikelab/io/training_checkpoint.hpp>
#include <spikelab/layers/linear.hpp>
#include <spikelab/learning/bptt.hpp>
#include <spikelab/losses/cross_entropy.hpp>
#include <spikelab/networks/sequential.hpp>
#include <spikelab/neurons/leaky_integrator.hpp>
#include <spikelab/optimizers/optimizer.hpp>
#include <spikelab/training/trainer.hpp>

#include "support/test_support.hpp"

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <thread>
#include <sys/wait.h>
#include <unistd.h>

using namespace spikelab;
namespace fs = std::filesystem;

namespace {

using Net = Sequential<Linear<float>, LeakyIntegrator<float>>;
using KillTrainer = Trainer<Net, Bptt<SumCrossEntropy>, Optimizer<float, Adam>>;

enum class Kind { weights_binary, weights_json, training_binary };

/// Version k of the saved state: every weight equals k (the rest is fixed).
void set_version(KillTrainer& t, std::int64_t k) { t.net().layer<0>().weight().setConstant(float(k)); }

void save_version(KillTrainer& t, std::int64_t k, Kind kind, const fs::path& path) {
  set_version(t, k);
  if (kind == Kind::weights_binary) save_checkpoint(path, t.net(), CheckpointFormat::binary);
  if (kind == Kind::weights_json) save_checkpoint(path, t.net(), CheckpointFormat::json);
  if (kind == Kind::training_binary) save_training_checkpoint(path, t, CheckpointFormat::binary);
}

/// Reads a pipe to its end: the versions the child reported as saved.
std::int64_t last_reported(int fd, std::int64_t none) {
  std::int64_t last = none, v = 0;
  std::size_t have = 0;
  char buf[sizeof(v)];
  for (;;) {
    const ssize_t r = ::read(fd, buf + have, sizeof(buf) - have);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    have += std::size_t(r);
    if (have == sizeof(buf)) {
      std::memcpy(&v, buf, sizeof(v));
      last = v;
      have = 0;
    }
  }
  return last;
}

}  // namespace

TEST_CASE("A process killed while saving checkpoints leaves the old or the new complete file", "[checkpoint][kill]") {
  const fs::path dir = test::temp_dir("kill");
  Rng rng(11);
  // about 160 kB per weight checkpoint (1 MB in JSON), so that kills land inside writes too
  Net net{Linear<float>(200, 200, rng), LeakyIntegrator<float>(200)};
  KillTrainer t(net, {}, Optimizer<float, Adam>({.lr = 1e-3}));
  int rounds_mid_write = 0, rounds = 0;
  for (Kind kind : {Kind::weights_binary, Kind::weights_json, Kind::training_binary}) {
    const fs::path path = dir / "run.ckpt", expect = dir / "expect.ckpt";
    std::int64_t done = 0;  // the version in `path`
    save_version(t, done, kind, path);
    for (int round = 0; round < 12; ++round, ++rounds) {
      int fds[2];
      REQUIRE(::pipe(fds) == 0);
      const pid_t pid = ::fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        // child: save versions done+1, done+2, ... and report each finished one
        ::close(fds[0]);
        for (std::int64_t k = done + 1;; ++k) {
          save_version(t, k, kind, path);
          if (::write(fds[1], &k, sizeof(k)) != ssize_t(sizeof(k))) ::_exit(3);
        }
      }
      ::close(fds[1]);
      // a random moment: often before the first save ends, often after several
      std::this_thread::sleep_for(std::chrono::microseconds(rng.below(40000)));
      REQUIRE(::kill(pid, SIGKILL) == 0);
      int status = 0;
      REQUIRE(::waitpid(pid, &status, 0) == pid);
      CHECK(WIFSIGNALED(status));
      const std::int64_t reported = last_reported(fds[0], done);
      ::close(fds[0]);
      rounds_mid_write += fs::exists(fs::path(path.string() + ".tmp"));
      // the file is one complete save: the last reported version, or the next one if the child
      // was killed between its rename and its report
      const std::string bytes = test::read_all(path);
      std::int64_t found = -1;
      for (std::int64_t v : {reported, reported + 1}) {
        save_version(t, v, kind, expect);
        if (test::read_all(expect) == bytes) found = v;
      }
      INFO("kind " << int(kind) << ", round " << round << ", child reported version " << reported);
      REQUIRE(found >= 0);
      // and it loads, with the weights of that version
      Net other{Linear<float>(200, 200, rng), LeakyIntegrator<float>(200)};
      KillTrainer fresh(other, {}, Optimizer<float, Adam>({.lr = 1e-3}));
      if (kind == Kind::training_binary)
        load_training_checkpoint(path, fresh);
      else
        load_checkpoint(path, fresh.net());
      CHECK((fresh.net().layer<0>().weight().array() == float(found)).all());
      done = found;
    }
    // a save after a kill replaces the leftover temporary file
    save_version(t, done + 1, kind, path);
    CHECK_FALSE(fs::exists(fs::path(path.string() + ".tmp")));
    fs::remove(path);
  }
  // how many kills hit a save before its rename depends on timing: logged (-s), not asserted
  SUCCEED(rounds_mid_write << " of " << rounds << " kills left a half-written temporary file");
  if (rounds_mid_write == 0) WARN("no kill landed inside a save on this run: only the between-saves case was exercised");
  fs::remove_all(dir);
}
