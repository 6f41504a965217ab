// A small, dependency-free SVG line / scatter plot writer for the example trainers (not part of
// the library). One plot per file: any number of series, each drawn as a line, as markers or
// both, with optional symmetric error bars; axes with "nice" ticks, a title and a legend.
//
//   spikelab_examples::svg::Plot p("Accuracy", "epoch", "accuracy (%)");
//   p.line("trainable", xs, ys).line("fixed", xs, ys2, errs).y_range(0, 100);
//   p.save("accuracy.svg");
#ifndef SPIKELAB_EXAMPLES_SVG_HPP
#define SPIKELAB_EXAMPLES_SVG_HPP

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace spikelab_examples::svg {

/// One data series. x and y have the same length; yerr is empty or of that length.
struct Series {
  std::string label;
  std::vector<double> x, y, yerr;
  bool line = true;
  bool markers = true;
  std::string color;  ///< CSS colour; empty = from the palette
  bool dashed = false;
};

/// Escapes text for SVG/XML.
inline std::string escape(const std::string& s) {
  std::string r;
  for (char c : s) {
    switch (c) {
      case '&': r += "&amp;"; break;
      case '<': r += "&lt;"; break;
      case '>': r += "&gt;"; break;
      case '"': r += "&quot;"; break;
      default: r += c;
    }
  }
  return r;
}

/// Ticks at 1, 2 or 5 times a power of ten, about `target` of them, covering [lo, hi].
inline std::vector<double> nice_ticks(double lo, double hi, int target = 6) {
  if (!(hi > lo)) return {lo};
  const double raw = (hi - lo) / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  std::vector<double> t;
  for (double v = std::ceil(lo / step - 1e-9) * step; v <= hi + 1e-9 * step; v += step) t.push_back(std::abs(v) < 1e-12 * step ? 0.0 : v);
  return t;
}

/// Formats a tick label compactly (%g with up to 4 significant digits).
inline std::string tick_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

class Plot {
 public:
  Plot(std::string title, std::string xlabel, std::string ylabel)
      : title_(std::move(title)), xlabel_(std::move(xlabel)), ylabel_(std::move(ylabel)) {}

  Plot& add(Series s) {
    if (s.x.size() != s.y.size()) throw std::invalid_argument("svg::Plot: series '" + s.label + "' has x and y of different lengths");
    if (!s.yerr.empty() && s.yerr.size() != s.y.size())
      throw std::invalid_argument("svg::Plot: series '" + s.label + "' has error bars of the wrong length");
    series_.push_back(std::move(s));
    return *this;
  }
  /// A line with markers (and error bars when yerr is given).
  Plot& line(const std::string& label, std::vector<double> x, std::vector<double> y, std::vector<double> yerr = {}) {
    return add({label, std::move(x), std::move(y), std::move(yerr), true, true, "", false});
  }
  /// Markers only.
  Plot& scatter(const std::string& label, std::vector<double> x, std::vector<double> y, std::vector<double> yerr = {}) {
    return add({label, std::move(x), std::move(y), std::move(yerr), false, true, "", false});
  }
  Plot& x_range(double lo, double hi) {
    xlo_ = lo, xhi_ = hi, xfix_ = true;
    return *this;
  }
  Plot& y_range(double lo, double hi) {
    ylo_ = lo, yhi_ = hi, yfix_ = true;
    return *this;
  }
  /// A note printed under the title (e.g. the configuration).
  Plot& subtitle(std::string s) {
    subtitle_ = std::move(s);
    return *this;
  }

  std::string render(int width = 720, int height = 460) const {
    const double ml = 70, mr = 20 + legend_width(), mt = subtitle_.empty() ? 40 : 58, mb = 55;
    const double pw = width - ml - mr, ph = height - mt - mb;
    double xlo = xlo_, xhi = xhi_, ylo = ylo_, yhi = yhi_;
    if (!xfix_ || !yfix_) {
      double ax = std::numeric_limits<double>::infinity(), bx = -ax, ay = ax, by = -ax;
      for (const auto& s : series_)
        for (std::size_t i = 0; i < s.x.size(); ++i) {
          if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
          const double e = s.yerr.empty() ? 0.0 : std::abs(s.yerr[i]);
          ax = std::min(ax, s.x[i]), bx = std::max(bx, s.x[i]);
          ay = std::min(ay, s.y[i] - e), by = std::max(by, s.y[i] + e);
        }
      if (!std::isfinite(ax)) ax = 0, bx = 1, ay = 0, by = 1;
      if (bx - ax < 1e-12) ax -= 0.5, bx += 0.5;
      if (by - ay < 1e-12) ay -= 0.5, by += 0.5;
      if (!xfix_) xlo = ax, xhi = bx;
      if (!yfix_) {
        const double pad = 0.05 * (by - ay);
        ylo = ay - pad, yhi = by + pad;
      }
    }
    auto X = [&](double v) { return ml + (v - xlo) / (xhi - xlo) * pw; };
    auto Y = [&](double v) { return mt + ph - (v - ylo) / (yhi - ylo) * ph; };
    std::ostringstream o;
    o.precision(6);
    o << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << width << "\" height=\"" << height
      << "\" viewBox=\"0 0 " << width << ' ' << height << "\" font-family=\"Helvetica, Arial, sans-serif\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << width / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\">"
      << escape(title_) << "</text>\n";
    if (!subtitle_.empty())
      o << "<text x=\"" << width / 2 << "\" y=\"42\" text-anchor=\"middle\" font-size=\"11\" fill=\"#555\">"
        << escape(subtitle_) << "</text>\n";
    // grid and ticks
    for (double t : nice_ticks(xlo, xhi)) {
      if (t < xlo - 1e-12 || t > xhi + 1e-12) continue;
      o << "<line x1=\"" << X(t) << "\" y1=\"" << mt << "\" x2=\"" << X(t) << "\" y2=\"" << mt + ph
        << "\" stroke=\"#e5e5e5\"/>\n<text x=\"" << X(t) << "\" y=\"" << mt + ph + 16
        << "\" text-anchor=\"middle\" font-size=\"11\">" << tick_label(t) << "</text>\n";
    }
    for (double t : nice_ticks(ylo, yhi)) {
      if (t < ylo - 1e-12 || t > yhi + 1e-12) continue;
      o << "<line x1=\"" << ml << "\" y1=\"" << Y(t) << "\" x2=\"" << ml + pw << "\" y2=\"" << Y(t)
        << "\" stroke=\"#e5e5e5\"/>\n<text x=\"" << ml - 6 << "\" y=\"" << Y(t) + 4
        << "\" text-anchor=\"end\" font-size=\"11\">" << tick_label(t) << "</text>\n";
    }
    o << "<rect x=\"" << ml << "\" y=\"" << mt << "\" width=\"" << pw << "\" height=\"" << ph
      << "\" fill=\"none\" stroke=\"#333\"/>\n"
      << "<text x=\"" << ml + pw / 2 << "\" y=\"" << height - 14 << "\" text-anchor=\"middle\" font-size=\"13\">"
      << escape(xlabel_) << "</text>\n"
      << "<text transform=\"translate(18," << mt + ph / 2 << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">"
      << escape(ylabel_) << "</text>\n";
    // series, clipped to the plot area
    o << "<clipPath id=\"area\"><rect x=\"" << ml << "\" y=\"" << mt << "\" width=\"" << pw << "\" height=\"" << ph
      << "\"/></clipPath>\n<g clip-path=\"url(#area)\">\n";
    for (std::size_t k = 0; k < series_.size(); ++k) {
      const Series& s = series_[k];
      const std::string c = color(k);
      if (s.line && s.x.size() > 1) {
        o << "<polyline fill=\"none\" stroke=\"" << c << "\" stroke-width=\"2\"" << (s.dashed ? " stroke-dasharray=\"6,4\"" : "")
          << " points=\"";
        for (std::size_t i = 0; i < s.x.size(); ++i)
          if (std::isfinite(s.x[i]) && std::isfinite(s.y[i])) o << X(s.x[i]) << ',' << Y(s.y[i]) << ' ';
        o << "\"/>\n";
      }
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
        if (!s.yerr.empty() && s.yerr[i] > 0) {
          const double x = X(s.x[i]), a = Y(s.y[i] - s.yerr[i]), b = Y(s.y[i] + s.yerr[i]);
          o << "<path d=\"M" << x << ',' << a << "V" << b << "M" << x - 4 << ',' << a << "h8M" << x - 4 << ',' << b
            << "h8\" stroke=\"" << c << "\" fill=\"none\"/>\n";
        }
        if (s.markers) o << "<circle cx=\"" << X(s.x[i]) << "\" cy=\"" << Y(s.y[i]) << "\" r=\"3.5\" fill=\"" << c << "\"/>\n";
      }
    }
    o << "</g>\n";
    // legend
    double ly = mt + 8;
    for (std::size_t k = 0; k < series_.size(); ++k) {
      if (series_[k].label.empty()) continue;
      const double lx = ml + pw + 14;
      o << "<line x1=\"" << lx << "\" y1=\"" << ly << "\" x2=\"" << lx + 20 << "\" y2=\"" << ly << "\" stroke=\"" << color(k)
        << "\" stroke-width=\"2\"" << (series_[k].dashed ? " stroke-dasharray=\"6,4\"" : "") << "/>\n"
        << "<circle cx=\"" << lx + 10 << "\" cy=\"" << ly << "\" r=\"3.5\" fill=\"" << color(k) << "\"/>\n"
        << "<text x=\"" << lx + 26 << "\" y=\"" << ly + 4 << "\" font-size=\"12\">" << escape(series_[k].label) << "</text>\n";
      ly += 18;
    }
    o << "</svg>\n";
    return o.str();
  }

  /// Writes the plot; throws std::runtime_error if the file cannot be written.
  void save(const std::string& path, int width = 720, int height = 460) const {
    std::ofstream f(path, std::ios::trunc);
    if (!f) throw std::runtime_error("cannot write the plot " + path);
    f << render(width, height);
    if (!f) throw std::runtime_error("error while writing the plot " + path);
  }

 private:
  std::string color(std::size_t k) const {
    static const char* palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
                                    "#bcbd22", "#17becf"};
    return series_[k].color.empty() ? palette[k % 10] : series_[k].color;
  }
  double legend_width() const {
    std::size_t w = 0;
    for (const auto& s : series_) w = std::max(w, s.label.size());
    return w ? 40.0 + 6.5 * double(w) : 0.0;
  }

  std::string title_, xlabel_, ylabel_, subtitle_;
  std::vector<Series> series_;
  double xlo_ = 0, xhi_ = 1, ylo_ = 0, yhi_ = 1;
  bool xfix_ = false, yfix_ = false;
};

}  // namespace spikelab_examples::svg

#endif
