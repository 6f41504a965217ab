// A small command-line parser shared by the example trainers (not part of the library).
// Options are "--name value" or "--name=value"; flags are "--name". --help lists every
// option with its default.
#ifndef SPIKELAB_EXAMPLES_CLI_HPP
#define SPIKELAB_EXAMPLES_CLI_HPP

#include <cstdint>
#include <functional>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace spikelab_examples {

class Cli {
 public:
  Cli(std::string program, std::string description) : program_(std::move(program)), description_(std::move(description)) {}

  Cli& option(const std::string& name, std::string& v, const std::string& help) {
    return add(name, help, v, [&v](const std::string& s) { v = s; }, false);
  }
  Cli& option(const std::string& name, int& v, const std::string& help) {
    return add(name, help, std::to_string(v), [&v, name](const std::string& s) { v = int(to_long(name, s)); }, false);
  }
  Cli& option(const std::string& name, long& v, const std::string& help) {
    return add(name, help, std::to_string(v), [&v, name](const std::string& s) { v = to_long(name, s); }, false);
  }
  Cli& option(const std::string& name, std::uint64_t& v, const std::string& help) {
    return add(name, help, std::to_string(v), [&v, name](const std::string& s) { v = std::uint64_t(to_long(name, s)); },
               false);
  }
  Cli& option(const std::string& name, double& v, const std::string& help) {
    std::ostringstream d;
    d << v;
    return add(name, help, d.str(), [&v, name](const std::string& s) { v = to_double(name, s); }, false);
  }
  Cli& flag(const std::string& name, bool& v, const std::string& help) {
    return add(name, help, v ? "on" : "off", [&v](const std::string&) { v = true; }, true);
  }

  /// Parses argv; returns false (after printing help) for --help; throws std::invalid_argument on errors.
  bool parse(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "--help" || a == "-h") {
        print_help(std::cout);
        return false;
      }
      if (a.rfind("--", 0) != 0) throw std::invalid_argument("unexpected argument '" + a + "' (try --help)");
      std::string name = a.substr(2), value;
      const auto eq = name.find('=');
      const bool has_eq = eq != std::string::npos;
      if (has_eq) {
        value = name.substr(eq + 1);
        name = name.substr(0, eq);
      }
      Opt* o = find(name);
      if (!o) throw std::invalid_argument("unknown option --" + name + " (try --help)");
      if (!o->is_flag && !has_eq) {
        if (i + 1 >= argc) throw std::invalid_argument("option --" + name + " needs a value");
        value = argv[++i];
      }
      o->set(value);
    }
    return true;
  }

  void print_help(std::ostream& os) const {
    os << "usage: " << program_ << " [options]\n\n" << description_ << "\n\noptions:\n";
    for (const auto& o : opts_) {
      std::string left = "  --" + o.name + (o.is_flag ? "" : " VALUE");
      os << std::left << std::setw(30) << left << o.help;
      if (!o.def.empty()) os << " [default: " << o.def << "]";
      os << "\n";
    }
    os << std::left << std::setw(30) << "  --help" << "print this help and exit\n";
  }

 private:
  struct Opt {
    std::string name, help, def;
    std::function<void(const std::string&)> set;
    bool is_flag;
  };
  Cli& add(const std::string& name, const std::string& help, const std::string& def,
           std::function<void(const std::string&)> set, bool is_flag) {
    opts_.push_back({name, help, def, std::move(set), is_flag});
    return *this;
  }
  Opt* find(const std::string& n) {
    for (auto& o : opts_)
      if (o.name == n) return &o;
    return nullptr;
  }
  static long to_long(const std::string& name, const std::string& s) {
    std::size_t pos = 0;
    long v = 0;
    try {
      v = std::stol(s, &pos);
    } catch (...) {
      pos = 0;
    }
    if (pos != s.size() || s.empty()) throw std::invalid_argument("option --" + name + ": '" + s + "' is not an integer");
    return v;
  }
  static double to_double(const std::string& name, const std::string& s) {
    std::size_t pos = 0;
    double v = 0;
    try {
      v = std::stod(s, &pos);
    } catch (...) {
      pos = 0;
    }
    if (pos != s.size() || s.empty()) throw std::invalid_argument("option --" + name + ": '" + s + "' is not a number");
    return v;
  }
  std::string program_, description_;
  std::vector<Opt> opts_;
};

}  // namespace spikelab_examples

#endif
