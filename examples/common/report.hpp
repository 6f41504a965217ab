// Statistics and formatting shared by the example trainers and benchmark programs (not part of
// the library): mean and sample standard deviation over seeds, "mean +- sd" and fixed-precision
// text, and comma-separated lists given on the command line.
#ifndef SPIKELAB_EXAMPLES_COMMON_REPORT_HPP
#define SPIKELAB_EXAMPLES_COMMON_REPORT_HPP

#include <cmath>
#include <iomanip>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace spikelab_examples {

/// Mean of `v` (0 for no values).
inline double mean_of(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  double s = 0;
  for (double x : v) s += x;
  return s / double(v.size());
}

/// Sample standard deviation, sqrt(sum (x - mean)^2 / (n - 1)) (0 for fewer than two values).
inline double sd_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));
}

/// `v` with `digits` digits after the decimal point: fixed(3.14159, 2) == "3.14".
inline std::string fixed(double v, int digits) {
  std::ostringstream os;
  os << std::fixed << std::setprecision(digits) << v;
  return os.str();
}

/// "mean +- sd" of the values times `scale`, `digits` digits each; the mean alone for one value.
inline std::string mean_sd(const std::vector<double>& v, int digits, double scale = 1.0) {
  std::vector<double> s(v);
  for (double& x : s) x *= scale;
  std::string r = fixed(mean_of(s), digits);
  if (s.size() > 1) r += " +- " + fixed(sd_of(s), digits);
  return r;
}

/// "a,b,c" given to option --`option` -> values of type T (double or an integer type); empty
/// entries are skipped. Throws std::invalid_argument naming the option for an entry that is not
/// a T, one below `at_least`, or no value at all.
template <class T = double>
std::vector<T> parse_list(const std::string& option, const std::string& text, std::optional<T> at_least = {}) {
  static_assert(std::is_arithmetic_v<T>);
  std::vector<T> r;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    std::size_t pos = 0;
    T v{};
    try {
      if constexpr (std::is_integral_v<T>)
        v = T(std::stoll(item, &pos));
      else
        v = T(std::stod(item, &pos));
    } catch (...) {
      pos = 0;
    }
    if (pos != item.size())
      throw std::invalid_argument("option --" + option + ": '" + item + "' is not " +
                                  (std::is_integral_v<T> ? "an integer" : "a number"));
    if (at_least && v < *at_least)
      throw std::invalid_argument("option --" + option + ": '" + item + "' is below " + std::to_string(*at_least));
    r.push_back(v);
  }
  if (r.empty()) throw std::invalid_argument("option --" + option + " needs at least one value");
  return r;
}

}  // namespace spikelab_examples

#endif
