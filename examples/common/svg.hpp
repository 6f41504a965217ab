// The example trainers' line plots, now drawn by the library's plot module (spikelab::plot,
// include/spikelab/plot/line_plot.hpp); these names remain so that trainers written against them
// build unchanged. New code uses spikelab::plot::LinePlot directly.
//
//   spikelab_examples::svg::Plot p("Accuracy", "epoch", "accuracy (%)");
//   p.line("trainable", xs, ys).line("fixed", xs, ys2, errs).y_range(0, 100);
//   p.save("accuracy.svg");
#ifndef SPIKELAB_EXAMPLES_SVG_HPP
#define SPIKELAB_EXAMPLES_SVG_HPP

#include <spikelab/plot/line_plot.hpp>
#include <spikelab/plot/svg.hpp>

namespace spikelab_examples::svg {

using Plot = spikelab::plot::LinePlot;
using Series = spikelab::plot::Series;
using spikelab::plot::escape;
using spikelab::plot::nice_ticks;

/// Formats a tick label compactly (up to 4 significant digits).
inline std::string tick_label(double v) { return spikelab::plot::number_label(v); }

}  // namespace spikelab_examples::svg

#endif
