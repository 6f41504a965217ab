/**
 * @file plot/svg.hpp
 * @brief Svg: a finished SVG image that the caller writes to a stream or a file of its
 *        choosing; and the drawing pieces every plot of plot/ shares (XML escaping, axis ticks
 *        at 1, 2, 2.5 or 5 times a power of ten, number labels, the colour palette, the frame
 *        of a panel with its grid, ticks and axis labels).
 *
 * The plots of plot/ are functions of data that return an Svg; none of them prints. SVG is
 * plain XML, so a file opens in any browser and converts to PNG or PDF with common tools
 * (rsvg-convert, inkscape, a browser's print). Each plot draws its data marks inside a group
 * `<g class="NAME">` named in its documentation (`spikes`, `traces`, `thresholds`, `pixels`,
 * `cells`, `series`), so that a program can find, count or restyle them.
 *
 * @code
 * plot::spike_raster(net.activation(1)).save("raster.svg");
 * plot::spike_raster(net.activation(1)).write(std::cout);
 * @endcode
 */
#ifndef SPIKELAB_PLOT_SVG_HPP
#define SPIKELAB_PLOT_SVG_HPP

#include <spikelab/core/error.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <locale>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace spikelab::plot {

/// A finished SVG image (the text of one file).
class Svg {
 public:
  Svg() = default;
  /// An image of the given SVG document.
  /// @param text the document
  explicit Svg(std::string text) : text_(std::move(text)) {}

  /// The SVG document.
  const std::string& str() const noexcept { return text_; }

  /// Writes the image to `os`; throws FileError when the stream fails.
  void write(std::ostream& os) const {
    os << text_;
    if (!os) throw FileError("<stream>", -1, "could not write the SVG image to the stream");
  }

  /// Writes the image to `path`, replacing the file; throws FileError naming the path when it
  /// cannot be written (missing directory, no permission, full disk).
  void save(const std::filesystem::path& path) const {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    if (!f) throw FileError(path.string(), -1, "cannot open the SVG file for writing");
    f << text_;
    f.flush();
    if (!f) throw FileError(path.string(), -1, "error while writing the SVG file");
  }

 private:
  std::string text_;
};

/// `s` with the five XML special characters escaped, for text and attribute values.
inline std::string escape(std::string_view s) {
  std::string r;
  r.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': r += "&amp;"; break;
      case '<': r += "&lt;"; break;
      case '>': r += "&gt;"; break;
      case '"': r += "&quot;"; break;
      case '\'': r += "&apos;"; break;
      default: r += c;
    }
  }
  return r;
}

/// Tick positions at 1, 2, 2.5 or 5 times a power of ten, about `target` of them, covering
/// [lo, hi] (just `lo` when the range is empty or not finite), at least `min_step` apart (1:
/// integers only, for epochs or steps).
inline std::vector<double> nice_ticks(double lo, double hi, int target = 6, double min_step = 0) {
  if (!(hi > lo) || !std::isfinite(lo) || !std::isfinite(hi)) return {lo};
  const double raw = (hi - lo) / std::max(target, 1);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10.0 * mag;
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0})
    if (m * mag >= raw) {
      step = m * mag;
      break;
    }
  step = std::max(step, min_step);
  std::vector<double> t;
  for (double k = std::ceil(lo / step - 1e-9); k * step <= hi + 1e-9 * step; k += 1.0) {
    const double v = k * step;
    t.push_back(std::abs(v) < 1e-12 * step ? 0.0 : v);
  }
  return t;
}

/// A number as a short label (up to 4 significant digits: 0.001, 12.5, 1e+05).
inline std::string number_label(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4g", v);
  return buf;
}

/// The k-th colour of the plots' palette (ten colours, repeating).
inline const char* palette(std::size_t k) noexcept {
  static const char* colours[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
                                  "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
  return colours[k % 10];
}

namespace detail {

/// "#rrggbb" of red, green, blue in [0, 1].
inline std::string rgb(double r, double g, double b) {
  auto c = [](double v) { return int(std::lround(255.0 * std::clamp(v, 0.0, 1.0))); };
  char buf[8];
  std::snprintf(buf, sizeof buf, "#%02x%02x%02x", c(r), c(g), c(b));
  return buf;
}

/// A stream for SVG text: classic locale (a decimal point whatever the user's locale), two
/// decimals for coordinates.
inline void prepare(std::ostringstream& o) {
  o.imbue(std::locale::classic());
  o << std::fixed << std::setprecision(2);
}

/// The document's opening tag, a white background, the title and an optional subtitle.
inline void begin_svg(std::ostream& o, int width, int height, const std::string& title,
                      const std::string& subtitle = {}) {
  o << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << width << "\" height=\"" << height
    << "\" viewBox=\"0 0 " << width << ' ' << height << "\" font-family=\"Helvetica, Arial, sans-serif\">\n"
    << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (!title.empty())
    o << "<text class=\"title\" x=\"" << width / 2 << "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\" "
      << "font-weight=\"bold\">" << escape(title) << "</text>\n";
  if (!subtitle.empty())
    o << "<text class=\"subtitle\" x=\"" << width / 2 << "\" y=\"39\" text-anchor=\"middle\" font-size=\"11\" "
      << "fill=\"#555\">" << escape(subtitle) << "</text>\n";
}
inline void end_svg(std::ostream& o) { o << "</svg>\n"; }

/// A rectangle in pixels.
struct Box {
  double left = 0, top = 0, width = 0, height = 0;
};

/// A panel: its plot area in pixels and the data ranges it shows.
struct Axes {
  Box area;
  double xlo = 0, xhi = 1, ylo = 0, yhi = 1;
  double x(double v) const { return area.left + (v - xlo) / (xhi - xlo) * area.width; }
  double y(double v) const { return area.top + area.height - (v - ylo) / (yhi - ylo) * area.height; }
};

/// Options of draw_axes.
struct AxesStyle {
  bool x_ticks = true, y_ticks = true;  ///< tick labels (and grid lines)
  bool x_grid = true, y_grid = true;
  int x_tick_target = 6, y_tick_target = 6;
  double x_min_step = 0;  ///< 1: integer ticks only
};

/// Grid lines, tick labels, the frame and the axis labels of a panel.
inline void draw_axes(std::ostream& o, const Axes& a, const std::string& xlabel, const std::string& ylabel,
                      const AxesStyle& st = {}) {
  const Box& b = a.area;
  o << "<g class=\"axes\">\n";
  if (st.x_ticks)
    for (double t : nice_ticks(a.xlo, a.xhi, st.x_tick_target, st.x_min_step)) {
      if (t < a.xlo - 1e-9 * (a.xhi - a.xlo) || t > a.xhi + 1e-9 * (a.xhi - a.xlo)) continue;
      if (st.x_grid)
        o << "<line x1=\"" << a.x(t) << "\" y1=\"" << b.top << "\" x2=\"" << a.x(t) << "\" y2=\"" << b.top + b.height
          << "\" stroke=\"#e5e5e5\"/>\n";
      o << "<text x=\"" << a.x(t) << "\" y=\"" << b.top + b.height + 15 << "\" text-anchor=\"middle\" font-size=\"11\">"
        << number_label(t) << "</text>\n";
    }
  if (st.y_ticks)
    for (double t : nice_ticks(a.ylo, a.yhi, st.y_tick_target)) {
      if (t < a.ylo - 1e-9 * (a.yhi - a.ylo) || t > a.yhi + 1e-9 * (a.yhi - a.ylo)) continue;
      if (st.y_grid)
        o << "<line x1=\"" << b.left << "\" y1=\"" << a.y(t) << "\" x2=\"" << b.left + b.width << "\" y2=\"" << a.y(t)
          << "\" stroke=\"#e5e5e5\"/>\n";
      o << "<text x=\"" << b.left - 6 << "\" y=\"" << a.y(t) + 4 << "\" text-anchor=\"end\" font-size=\"11\">"
        << number_label(t) << "</text>\n";
    }
  o << "<rect x=\"" << b.left << "\" y=\"" << b.top << "\" width=\"" << b.width << "\" height=\"" << b.height
    << "\" fill=\"none\" stroke=\"#333\"/>\n";
  if (!xlabel.empty())
    o << "<text x=\"" << b.left + b.width / 2 << "\" y=\"" << b.top + b.height + 36
      << "\" text-anchor=\"middle\" font-size=\"13\">" << escape(xlabel) << "</text>\n";
  if (!ylabel.empty())
    o << "<text transform=\"translate(" << b.left - 48 << ',' << b.top + b.height / 2
      << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">" << escape(ylabel) << "</text>\n";
  o << "</g>\n";
}

/// A clip path named `id` over the plot area of `a`; marks drawn in `<g clip-path="url(#id)">`
/// stay inside the frame.
inline void clip_path(std::ostream& o, const std::string& id, const Box& b) {
  o << "<clipPath id=\"" << id << "\"><rect x=\"" << b.left << "\" y=\"" << b.top << "\" width=\"" << b.width
    << "\" height=\"" << b.height << "\"/></clipPath>\n";
}

}  // namespace detail

}  // namespace spikelab::plot

#endif
