// The command line of the example trainers and benchmark programs (not part of the library),
// on CLI11. Options are "--name value" or "--name=value", flags "--name"; --help lists every
// option with its default, --version prints spikelab's version; an unknown option or a value
// that does not convert is an error (exit status 2).
//
//   spikelab_examples::CommandLine cli("spikelab-train", "Trains ...");
//   cli.option("epochs", o.epochs, "training epochs").flag("verbose", o.verbose, "print every epoch");
//   cli.seed(o.seed).threads(o.threads).csv(o.csv);   // the options several programs share
//   if (const auto rc = cli.parse(argc, argv)) return *rc;   // after --help, --version or an error
//
// The shared options (seed, seeds, threads, csv, json, protocol, reps and warmup) have one spelling
// everywhere; a program may word their help for what they mean there. An option that several
// programs gain later belongs here as one more such function.
#ifndef SPIKELAB_EXAMPLES_COMMON_COMMAND_LINE_HPP
#define SPIKELAB_EXAMPLES_COMMON_COMMAND_LINE_HPP

#include <spikelab/version.hpp>

#include <CLI/CLI.hpp>

#include <cstdint>
#include <initializer_list>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>

namespace spikelab_examples {

/// What --version prints: "spikelab-train (spikelab 0.1.0)".
inline std::string version_line(const std::string& program) {
  return program + " (spikelab " + spikelab::version::as_string() + ")";
}

class CommandLine {
 public:
  CommandLine(std::string program, std::string description)
      : program_(std::move(program)), app_(std::move(description), program_) {
    app_.option_defaults()->always_capture_default();  // --help shows every option's default
    app_.set_help_flag("-h,--help", "print this help and exit");
    app_.set_version_flag("--version", version_line(program_), "print spikelab's version and exit");
    app_.get_formatter()->column_width(34);
  }
  CommandLine(const CommandLine&) = delete;
  CommandLine& operator=(const CommandLine&) = delete;

  /// --name VALUE into `value`, whose current value is the default.
  template <class T>
  CommandLine& option(const std::string& name, T& value, const std::string& help) {
    app_.add_option("--" + name, value, help);
    return *this;
  }
  /// --name sets `value` to true.
  CommandLine& flag(const std::string& name, bool& value, const std::string& help) {
    app_.add_flag("--" + name, value, help);
    return *this;
  }

  // ---- options shared by several programs ----
  /// --seed: the random seed (or the first of several).
  CommandLine& seed(std::uint64_t& value, const std::string& help = "random seed") {
    return option("seed", value, help);
  }
  /// --seeds: how many runs per configuration, each with its own seed.
  CommandLine& seeds(int& value, const std::string& help = "runs per configuration, each with its own seed") {
    return option("seeds", value, help);
  }
  /// --threads: spikelab's threads (spikelab::set_num_threads).
  CommandLine& threads(int& value, const std::string& help = "threads for matrix products and neuron loops") {
    return option("threads", value, help);
  }
  /// --csv: a CSV file of the results.
  CommandLine& csv(std::string& path, const std::string& help = "also log per-epoch metrics to this CSV file") {
    return option("csv", path, help);
  }
  /// --json: a JSON file of the results.
  CommandLine& json(std::string& path, const std::string& help = "also write the results as JSON here") {
    return option("json", path, help);
  }
  /// --protocol: a paper's setting, the values its official code uses (the program prints them);
  /// any option given on the command line overrides them (read it early, with early_value()).
  CommandLine& protocol(std::string& value, const std::string& help) { return option("protocol", value, help); }
  /// --reps and --warmup: timed repetitions and the untimed ones before them.
  CommandLine& repetitions(int& reps, int& warmup) {
    return option("reps", reps, "timed repetitions").option("warmup", warmup, "untimed repetitions first");
  }

  /// The CLI11 application, for what the functions above do not cover (checks, groups).
  CLI::App& app() noexcept { return app_; }

  /// Parses argv into the registered variables. Returns the exit status when the program should
  /// stop now: 0 after --help or --version (printed to stdout), 2 after a usage error (printed
  /// to stderr); std::nullopt when it should go on.
  std::optional<int> parse(int argc, const char* const* argv) {
    try {
      app_.parse(argc, argv);
    } catch (const CLI::Success& s) {  // --help, --version
      return app_.exit(s);
    } catch (const CLI::ParseError& e) {
      std::cerr << "error: " << e.what() << " (try --help)\n";
      return 2;
    }
    return std::nullopt;
  }

 private:
  std::string program_;
  CLI::App app_;
};

/// The value of the first of `names` (e.g. {"task", "dataset"}) in argv, or `fallback`: for an
/// option read before the others because it decides their defaults. Either spelling counts:
/// "--name value" and "--name=value".
inline std::string early_value(int argc, const char* const* argv, std::initializer_list<std::string_view> names,
                               std::string fallback) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    for (std::string_view n : names) {
      if (a.size() < n.size() + 2 || a.substr(0, 2) != "--" || a.substr(2, n.size()) != n) continue;
      const std::string_view rest = a.substr(2 + n.size());
      if (rest.empty() && i + 1 < argc) return argv[i + 1];
      if (!rest.empty() && rest.front() == '=') return std::string(rest.substr(1));
    }
  }
  return fallback;
}

}  // namespace spikelab_examples

#endif
