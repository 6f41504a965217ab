/**
 * @file plot/line_plot.hpp
 * @brief LinePlot: lines and markers of any number of series, with optional symmetric error
 *        bars, "nice" axis ticks, a title, a subtitle and a legend, as an SVG image.
 *
 * Each series is a group `<g class="series">` holding its line (`<polyline>`), one `<circle>`
 * per finite point when markers are on, and one `<path class="error">` per error bar. Points
 * whose x or y is NaN or infinite are left out (a line continues over them).
 *
 * @code
 * plot::LinePlot p("Accuracy", "epoch", "accuracy (%)");
 * p.line("trainable", epochs, acc).line("fixed", epochs, acc_fixed, sd_fixed).y_range(0, 100);
 * p.save("accuracy.svg");
 * @endcode
 */
#ifndef SPIKELAB_PLOT_LINE_PLOT_HPP
#define SPIKELAB_PLOT_LINE_PLOT_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/plot/svg.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace spikelab::plot {

/// One data series of a LinePlot. x and y have the same length; yerr is empty or of that length.
struct Series {
  std::string label{};  ///< the legend's entry
  ///@{
  /// The points (x, y; NaN: a gap) and half-widths of symmetric error bars (or empty).
  std::vector<double> x{}, y{}, yerr{};
  ///@}
  bool line = true;     ///< join the points
  bool markers = true;  ///< a circle at each point
  std::string color{};    ///< CSS colour; empty: the palette's colour for the series' position
  bool dashed = false;  ///< a dashed line
};

/// Lines and markers of any number of Series, with optional error bars, axis ticks, a title,
/// a subtitle and a legend, returned as an Svg image (nothing is written anywhere).
class LinePlot {
 public:
  /// An empty plot.
  /// @param title the title
  /// @param xlabel the label of the x axis
  /// @param ylabel the label of the y axis
  LinePlot(std::string title, std::string xlabel, std::string ylabel)
      : title_(std::move(title)), xlabel_(std::move(xlabel)), ylabel_(std::move(ylabel)) {}

  /// Adds a series; throws ShapeError naming it when x, y (and yerr) differ in length.
  LinePlot& add(Series s) {
    if (s.x.size() != s.y.size())
      throw ShapeError("LinePlot: series '" + s.label + "' has " + std::to_string(s.x.size()) + " x values and " +
                       std::to_string(s.y.size()) + " y values");
    if (!s.yerr.empty() && s.yerr.size() != s.y.size())
      throw ShapeError("LinePlot: series '" + s.label + "' has " + std::to_string(s.yerr.size()) +
                       " error bars for " + std::to_string(s.y.size()) + " points");
    series_.push_back(std::move(s));
    return *this;
  }
  /// A line with markers (and error bars when yerr is given).
  LinePlot& line(const std::string& label, std::vector<double> x, std::vector<double> y,
                 std::vector<double> yerr = {}) {
    return add({label, std::move(x), std::move(y), std::move(yerr), true, true, "", false});
  }
  /// Markers only.
  LinePlot& scatter(const std::string& label, std::vector<double> x, std::vector<double> y,
                    std::vector<double> yerr = {}) {
    return add({label, std::move(x), std::move(y), std::move(yerr), false, true, "", false});
  }
  /// Fixes the x range (otherwise: the data's).
  LinePlot& x_range(double lo, double hi) {
    check_range("x", lo, hi);
    xlo_ = lo, xhi_ = hi, xfix_ = true;
    return *this;
  }
  /// Fixes the y range (otherwise: the data's, with 5 % padding).
  LinePlot& y_range(double lo, double hi) {
    check_range("y", lo, hi);
    ylo_ = lo, yhi_ = hi, yfix_ = true;
    return *this;
  }
  /// Ticks on the x axis at integers only (epochs, steps, counts).
  LinePlot& integer_x(bool on = true) {
    integer_x_ = on;
    return *this;
  }
  /// A note under the title (e.g. the configuration).
  LinePlot& subtitle(std::string s) {
    subtitle_ = std::move(s);
    return *this;
  }

  /// The series added.
  const std::vector<Series>& series() const noexcept { return series_; }
  /// The title.
  const std::string& title() const noexcept { return title_; }

  /// The plot as an SVG image of `width` x `height` pixels.
  Svg svg(int width = 720, int height = 460) const {
    std::ostringstream o;
    detail::prepare(o);
    detail::begin_svg(o, width, height, title_, subtitle_);
    const double top = subtitle_.empty() ? 36 : 52;
    draw(o, {0, top, double(width), double(height) - top}, "plot");
    detail::end_svg(o);
    return Svg(o.str());
  }
  /// Writes svg(width, height) to `path` (FileError naming it when that fails).
  void save(const std::filesystem::path& path, int width = 720, int height = 460) const {
    svg(width, height).save(path);
  }

  /// Draws axes, series and legend into `box` of a document being written (for figures of
  /// several panels); `id` names the panel's clip path and must be unique in the document.
  void draw(std::ostream& o, const detail::Box& box, const std::string& id) const {
    const double ml = 66, mr = 16 + legend_width(), mt = 8, mb = 46;
    detail::Axes a;
    a.area = {box.left + ml, box.top + mt, std::max(box.width - ml - mr, 10.0), std::max(box.height - mt - mb, 10.0)};
    data_ranges(a);
    detail::AxesStyle st;
    if (integer_x_) st.x_min_step = 1;
    detail::draw_axes(o, a, xlabel_, ylabel_, st);
    detail::clip_path(o, id, a.area);
    o << "<g clip-path=\"url(#" << id << ")\">\n";
    for (std::size_t k = 0; k < series_.size(); ++k) {
      const Series& s = series_[k];
      const std::string c = color(k);
      o << "<g class=\"series\" data-label=\"" << escape(s.label) << "\">\n";
      if (s.line && s.x.size() > 1) {
        o << "<polyline fill=\"none\" stroke=\"" << c << "\" stroke-width=\"2\""
          << (s.dashed ? " stroke-dasharray=\"6,4\"" : "") << " points=\"";
        for (std::size_t i = 0; i < s.x.size(); ++i)
          if (finite(s, i)) o << a.x(s.x[i]) << ',' << a.y(s.y[i]) << ' ';
        o << "\"/>\n";
      }
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!finite(s, i)) continue;
        if (!s.yerr.empty() && std::isfinite(s.yerr[i]) && s.yerr[i] > 0) {
          const double x = a.x(s.x[i]), lo = a.y(s.y[i] - s.yerr[i]), hi = a.y(s.y[i] + s.yerr[i]);
          o << "<path class=\"error\" d=\"M" << x << ',' << lo << "V" << hi << "M" << x - 4 << ',' << lo << "h8M"
            << x - 4 << ',' << hi << "h8\" stroke=\"" << c << "\" fill=\"none\"/>\n";
        }
        if (s.markers)
          o << "<circle cx=\"" << a.x(s.x[i]) << "\" cy=\"" << a.y(s.y[i]) << "\" r=\"3.5\" fill=\"" << c << "\"/>\n";
      }
      o << "</g>\n";
    }
    o << "</g>\n";
    double ly = a.area.top + 8;
    o << "<g class=\"legend\">\n";
    for (std::size_t k = 0; k < series_.size(); ++k) {
      if (series_[k].label.empty()) continue;
      const double lx = a.area.left + a.area.width + 12;
      o << "<line x1=\"" << lx << "\" y1=\"" << ly << "\" x2=\"" << lx + 20 << "\" y2=\"" << ly << "\" stroke=\""
        << color(k) << "\" stroke-width=\"2\"" << (series_[k].dashed ? " stroke-dasharray=\"6,4\"" : "") << "/>\n"
        << "<text x=\"" << lx + 26 << "\" y=\"" << ly + 4 << "\" font-size=\"12\">" << escape(series_[k].label)
        << "</text>\n";
      ly += 18;
    }
    o << "</g>\n";
  }

 private:
  static void check_range(const char* axis, double lo, double hi) {
    if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi))
      throw ConfigError(std::string("LinePlot: the ") + axis + " range [" + number_label(lo) + ", " +
                        number_label(hi) + "] is empty or not finite");
  }
  static bool finite(const Series& s, std::size_t i) { return std::isfinite(s.x[i]) && std::isfinite(s.y[i]); }

  void data_ranges(detail::Axes& a) const {
    double ax = std::numeric_limits<double>::infinity(), bx = -ax, ay = ax, by = -ax;
    for (const auto& s : series_)
      for (std::size_t i = 0; i < s.x.size(); ++i) {
        if (!finite(s, i)) continue;
        const double e = s.yerr.empty() || !std::isfinite(s.yerr[i]) ? 0.0 : std::abs(s.yerr[i]);
        ax = std::min(ax, s.x[i]), bx = std::max(bx, s.x[i]);
        ay = std::min(ay, s.y[i] - e), by = std::max(by, s.y[i] + e);
      }
    if (!std::isfinite(ax)) ax = 0, bx = 1, ay = 0, by = 1;
    if (bx - ax < 1e-12 * std::max(1.0, std::abs(ax))) ax -= 0.5, bx += 0.5;
    if (by - ay < 1e-12 * std::max(1.0, std::abs(ay))) ay -= 0.5, by += 0.5;
    const double pad = 0.05 * (by - ay);
    a.xlo = xfix_ ? xlo_ : ax;
    a.xhi = xfix_ ? xhi_ : bx;
    a.ylo = yfix_ ? ylo_ : ay - pad;
    a.yhi = yfix_ ? yhi_ : by + pad;
  }
  std::string color(std::size_t k) const { return series_[k].color.empty() ? palette(k) : series_[k].color; }
  double legend_width() const {
    std::size_t w = 0;
    for (const auto& s : series_) w = std::max(w, s.label.size());
    return w ? 40.0 + 6.5 * double(w) : 0.0;
  }

  std::string title_, xlabel_, ylabel_, subtitle_;
  std::vector<Series> series_;
  double xlo_ = 0, xhi_ = 1, ylo_ = 0, yhi_ = 1;
  bool xfix_ = false, yfix_ = false, integer_x_ = false;
};

}  // namespace spikelab::plot

#endif
