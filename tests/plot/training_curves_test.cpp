// plot/training_curves.hpp: CsvLogger's log read back (with validation, without, appended by a
// continued fit), curves with one marker per epoch, and named errors for logs that are not.
#include <spikelab/plot/training_curves.hpp>
#include <spikelab/training/callbacks.hpp>

#include "support/test_support.hpp"
#include "support/xml_check.hpp"

#include <fstream>

using namespace spikelab;
namespace xml = spikelab::test::xml;

namespace {
TrainInfo epoch_info(int epoch, bool validation) {
  TrainInfo i;
  i.epoch = epoch;
  i.epochs = 3;
  i.loss = 2.0 / epoch;
  i.accuracy = 0.3 + 0.1 * epoch;
  i.has_validation = validation;
  i.val_loss = 2.5 / epoch;
  i.val_accuracy = 0.25 + 0.1 * epoch;
  i.lr = 1e-3 / epoch;
  i.epoch_seconds = 1.5;
  return i;
}
void write_file(const std::filesystem::path& p, const std::string& s) { std::ofstream(p, std::ios::binary) << s; }
}  // namespace

TEST_CASE("read_training_log reads what CsvLogger writes", "[plot]") {
  const auto dir = test::temp_dir("curves");
  const auto path = dir / "log.csv";
  CsvLogger logger(path);
  logger.on_train_begin(TrainInfo{});
  for (int e = 1; e <= 3; ++e) logger.on_epoch_end(epoch_info(e, true));
  const plot::TrainingLog log = plot::read_training_log(path);
  REQUIRE(log.size() == 3);
  CHECK(log.has_validation());
  for (std::size_t k = 0; k < 3; ++k) {
    const TrainInfo i = epoch_info(int(k) + 1, true);
    CHECK(log.epoch[k] == double(k + 1));
    CHECK(log.train_loss[k] == Approx(i.loss).epsilon(1e-5));
    CHECK(log.train_accuracy[k] == Approx(i.accuracy).epsilon(1e-5));
    CHECK(log.val_loss[k] == Approx(i.val_loss).epsilon(1e-5));
    CHECK(log.val_accuracy[k] == Approx(i.val_accuracy).epsilon(1e-5));
    CHECK(log.lr[k] == Approx(i.lr).epsilon(1e-5));
  }
  const auto root = xml::parse(plot::training_curves(log).str());
  const auto series = xml::groups(root, "series");
  REQUIRE(series.size() == 4);  // loss: training, validation; accuracy: training, validation
  for (const auto* s : series) CHECK(xml::count_children(*s, "circle") == 3);

  // a continued fit appends and logs again the epoch it was interrupted in: the later row wins
  TrainInfo resumed;
  resumed.resumed = true;
  CsvLogger again(path);
  again.on_train_begin(resumed);
  TrainInfo redo = epoch_info(3, true);
  redo.loss = 0.123;
  again.on_epoch_end(redo);
  TrainInfo fourth = epoch_info(4, true);
  again.on_epoch_end(fourth);
  const plot::TrainingLog log2 = plot::read_training_log(path);
  REQUIRE(log2.size() == 4);
  CHECK(log2.train_loss[2] == Approx(0.123));
  CHECK(log2.epoch[3] == 4.0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("A log without validation has training curves only", "[plot]") {
  const auto dir = test::temp_dir("curves-noval");
  const auto path = dir / "log.csv";
  CsvLogger logger(path);
  logger.on_train_begin(TrainInfo{});
  for (int e = 1; e <= 2; ++e) logger.on_epoch_end(epoch_info(e, false));
  const plot::TrainingLog log = plot::read_training_log(path);
  REQUIRE(log.size() == 2);
  CHECK_FALSE(log.has_validation());
  CHECK(std::isnan(log.val_loss[0]));
  const auto root = xml::parse(plot::training_curves(log, {.title = "run <1>"}).str());
  CHECK(xml::groups(root, "series").size() == 2);
  CHECK(xml::count_marks(root, "series", "circle") == 4);
  std::filesystem::remove_all(dir);
}

TEST_CASE("read_training_log names the file and the line of a bad log", "[plot]") {
  const auto dir = test::temp_dir("curves-bad");
  const std::string header = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,epoch_seconds\n";
  CHECK_THROWS_AS(plot::read_training_log(dir / "missing.csv"), FileError);
  write_file(dir / "a.csv", "epoch,loss\n1,2\n");
  CHECK_THROWS_WITH(plot::read_training_log(dir / "a.csv"), Catch::Contains("a.csv") && Catch::Contains("header"));
  write_file(dir / "b.csv", header + "1,0.5,0.8,,,0.001,2\n2,0.4,x,,,0.001,2\n");
  try {
    plot::read_training_log(dir / "b.csv");
    FAIL("no error");
  } catch (const FormatError& e) {
    CHECK(e.offset() == std::int64_t(header.size() + std::string("1,0.5,0.8,,,0.001,2\n").size()));
    CHECK_THAT(e.what(), Catch::Contains("'x' is not a number"));
  }
  write_file(dir / "c.csv", header + "1,0.5,0.8\n");
  CHECK_THROWS_WITH(plot::read_training_log(dir / "c.csv"), Catch::Contains("3 fields"));
  write_file(dir / "d.csv", header + "0.5,0.5,0.8,,,0.001,2\n");
  CHECK_THROWS_WITH(plot::read_training_log(dir / "d.csv"), Catch::Contains("positive integer"));
  write_file(dir / "e.csv", header);
  CHECK(plot::read_training_log(dir / "e.csv").size() == 0);
  CHECK_THROWS_AS(plot::training_curves(plot::read_training_log(dir / "e.csv")), ConfigError);
  std::filesystem::remove_all(dir);
}
