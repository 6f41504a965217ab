/**
 * @file plot/confusion.hpp
 * @brief confusion_matrix: a ConfusionMatrix (metrics/confusion.hpp) as a heat map, true
 *        class down, predicted class across.
 *
 * Cell (i, j) is shaded by the fraction of class i's samples predicted as j (its row
 * normalised: the diagonal shows each class's recall) and, for up to 30 classes, labelled
 * with its count. Every cell, empty or not, is one `<rect>` in `<g class="cells">`.
 *
 * @code
 * ConfusionMatrix m(10);
 * m.add_scores(readout_sum, batch.labels);
 * plot::confusion_matrix(m).save("confusion.svg");
 * @endcode
 */
#ifndef SPIKELAB_PLOT_CONFUSION_HPP
#define SPIKELAB_PLOT_CONFUSION_HPP

#include <spikelab/core/error.hpp>
#include <spikelab/metrics/confusion.hpp>
#include <spikelab/plot/svg.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

namespace spikelab::plot {

/// Options of confusion_matrix.
struct ConfusionOptions {
  std::string title = "Confusion matrix";  ///< the title
  std::string subtitle{};                  ///< empty: the number of samples and the accuracy
  std::vector<std::string> class_names{};  ///< empty: 0, 1, ...; else one per class
  int cell = 0;                          ///< pixels per cell; 0: the matrix fits about 440 x 440
};

/// The heat map of `m`. Throws ShapeError when class_names has another length than the classes.
inline Svg confusion_matrix(const ConfusionMatrix& m, const ConfusionOptions& o = {}) {
  const Index C = m.classes();
  if (!o.class_names.empty() && Index(o.class_names.size()) != C)
    throw ShapeError("confusion_matrix: " + std::to_string(o.class_names.size()) + " class names for " +
                     std::to_string(C) + " classes");
  auto name = [&](Index c) { return o.class_names.empty() ? std::to_string(c) : o.class_names[std::size_t(c)]; };
  std::size_t longest = 1;
  for (Index c = 0; c < C; ++c) longest = std::max(longest, name(c).size());
  const int cell = o.cell > 0 ? o.cell : std::max(4, int(440 / C));
  const double left = 60.0 + 6.5 * double(longest), top = 60;
  const int width = int(left) + int(C) * cell + 30, height = int(top) + int(C) * cell + 60 + 5 * int(longest);
  std::string subtitle = o.subtitle;
  if (subtitle.empty()) {
    std::ostringstream s;
    s << m.total() << " samples, accuracy " << number_label(100.0 * m.accuracy()) << " %; shade: fraction of the row";
    subtitle = s.str();
  }
  std::ostringstream os;
  detail::prepare(os);
  detail::begin_svg(os, width, height, o.title, subtitle);
  const bool labels = C <= 30;
  std::ostringstream texts;
  detail::prepare(texts);
  os << "<g class=\"cells\" shape-rendering=\"crispEdges\">\n";
  for (Index i = 0; i < C; ++i) {
    const double row = double(m.counts().row(i).sum());
    for (Index j = 0; j < C; ++j) {
      const double f = row > 0 ? double(m.count(i, j)) / row : 0.0;
      const double x = left + double(j * cell), y = top + double(i * cell);
      os << "<rect x=\"" << x << "\" y=\"" << y << "\" width=\"" << cell << "\" height=\"" << cell << "\" fill=\""
         << detail::rgb(1 - 0.88 * f, 1 - 0.62 * f, 1 - 0.3 * f) << "\" stroke=\"#ddd\"/>\n";
      if (labels && cell >= 14 && m.count(i, j) > 0)
        texts << "<text x=\"" << x + cell / 2.0 << "\" y=\"" << y + cell / 2.0 + 4 << "\" text-anchor=\"middle\" "
              << "font-size=\"" << std::min(12, cell / 3) << "\" fill=\"" << (f > 0.55 ? "white" : "#222") << "\">"
              << m.count(i, j) << "</text>\n";
    }
  }
  os << "</g>\n<g class=\"counts\">\n" << texts.str() << "</g>\n";
  if (labels)
    for (Index c = 0; c < C; ++c) {
      os << "<text x=\"" << left - 6 << "\" y=\"" << top + (double(c) + 0.5) * cell + 4
         << "\" text-anchor=\"end\" font-size=\"11\">" << escape(name(c)) << "</text>\n"
         << "<text transform=\"translate(" << left + (double(c) + 0.5) * cell + 4 << ',' << top + double(C * cell) + 8
         << ") rotate(-90)\" text-anchor=\"end\" font-size=\"11\">" << escape(name(c)) << "</text>\n";
    }
  os << "<rect x=\"" << left << "\" y=\"" << top << "\" width=\"" << C * cell << "\" height=\"" << C * cell
     << "\" fill=\"none\" stroke=\"#333\"/>\n"
     << "<text x=\"" << left + double(C * cell) / 2 << "\" y=\"" << height - 12
     << "\" text-anchor=\"middle\" font-size=\"13\">predicted class</text>\n"
     << "<text transform=\"translate(16," << top + double(C * cell) / 2
     << ") rotate(-90)\" text-anchor=\"middle\" font-size=\"13\">true class</text>\n";
  detail::end_svg(os);
  return Svg(os.str());
}

}  // namespace spikelab::plot

#endif
