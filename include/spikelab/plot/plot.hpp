/**
 * @file plot/plot.hpp
 * @brief The plots of spikelab as SVG images, all in namespace spikelab::plot: spike rasters
 *        (raster.hpp), membrane traces with thresholds (membrane.hpp), event-frame images
 *        (frames.hpp), confusion matrices (confusion.hpp), training curves from CsvLogger's log
 *        (training_curves.hpp) and general line plots (line_plot.hpp).
 *
 * Every plot returns an Svg, which the caller writes where it chooses (Svg::save(path) or
 * Svg::write(stream)); nothing here prints, and nothing needs a library beyond the standard one.
 */
#ifndef SPIKELAB_PLOT_PLOT_HPP
#define SPIKELAB_PLOT_PLOT_HPP

#include <spikelab/plot/confusion.hpp>
#include <spikelab/plot/frames.hpp>
#include <spikelab/plot/line_plot.hpp>
#include <spikelab/plot/membrane.hpp>
#include <spikelab/plot/raster.hpp>
#include <spikelab/plot/svg.hpp>
#include <spikelab/plot/training_curves.hpp>

#endif
