// Small helpers shared by the example trainers (not part of the library): mean / standard
// deviation over seeds, comma-separated lists on the command line.
#ifndef SPIKELAB_EXAMPLES_STATS_HPP
#define SPIKELAB_EXAMPLES_STATS_HPP

#include <cmath>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace spikelab_examples {

inline double mean_of(const std::vector<double>& v) {
  if (v.empty()) return 0.0;
  double s = 0;
  for (double x : v) s += x;
  return s / double(v.size());
}
/// Sample standard deviation (0 for fewer than two values).
inline double sd_of(const std::vector<double>& v) {
  if (v.size() < 2) return 0.0;
  const double m = mean_of(v);
  double s = 0;
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / double(v.size() - 1));
}
/// "a,b,c" -> numbers; throws std::invalid_argument naming the option on a bad entry.
inline std::vector<double> parse_list(const std::string& option, const std::string& text) {
  std::vector<double> r;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (item.empty()) continue;
    std::size_t pos = 0;
    double v = 0;
    try {
      v = std::stod(item, &pos);
    } catch (...) {
      pos = 0;
    }
    if (pos != item.size()) throw std::invalid_argument("option --" + option + ": '" + item + "' is not a number");
    r.push_back(v);
  }
  if (r.empty()) throw std::invalid_argument("option --" + option + " needs at least one value");
  return r;
}

}  // namespace spikelab_examples

#endif
