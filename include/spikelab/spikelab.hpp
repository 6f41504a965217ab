/**
 * @file spikelab.hpp
 * @brief Umbrella header: includes the whole core library.
 *
 * spikelab is a header-only C++20 library for training spiking neural networks on CPUs.
 * Parts compose through policy classes and concepts (no virtual dispatch): neuron models,
 * synapses and readouts form a Sequential network; a learning rule (Bptt, ...) and an
 * Optimizer train it through a Trainer; checkpoints go through cereal; plot/ draws what
 * happened (spike rasters, membrane traces, training curves) as SVG images.
 */
#ifndef SPIKELAB_SPIKELAB_HPP
#define SPIKELAB_SPIKELAB_HPP

#include <spikelab/version.hpp>

// The concepts of every folder, each with its archetype.
#include <spikelab/core/concepts.hpp>
#include <spikelab/data/concepts.hpp>
#include <spikelab/layers/concepts.hpp>
#include <spikelab/learning/concepts.hpp>
#include <spikelab/losses/concepts.hpp>
#include <spikelab/na/concepts.hpp>
#include <spikelab/neurons/concepts.hpp>
#include <spikelab/optimizers/concepts.hpp>
#include <spikelab/probabilistic/concepts.hpp>
#include <spikelab/surrogates/concepts.hpp>
#include <spikelab/training/concepts.hpp>

#include <spikelab/core/batch.hpp>
#include <spikelab/core/context.hpp>
#include <spikelab/core/error.hpp>
#include <spikelab/core/parameter.hpp>
#include <spikelab/core/random.hpp>
#include <spikelab/core/threads.hpp>
#include <spikelab/core/time_series.hpp>
#include <spikelab/core/types.hpp>

#include <spikelab/surrogates/surrogates.hpp>

#include <spikelab/neurons/concepts.hpp>
#include <spikelab/probabilistic/glm.hpp>
#include <spikelab/probabilistic/kernels.hpp>
#include <spikelab/neurons/leaky_integrator.hpp>
#include <spikelab/neurons/lif.hpp>
#include <spikelab/neurons/adaptive_lif.hpp>
#include <spikelab/na/na_lif.hpp>
#include <spikelab/layers/psp_filter.hpp>
#include <spikelab/conversion/refractory_lif.hpp>
#include <spikelab/conversion/soft_lif.hpp>
#include <spikelab/neurons/time_constant.hpp>
#include <spikelab/probabilistic/wta.hpp>

#include <spikelab/neurons/time_constant_init.hpp>

#include <spikelab/layers/activation.hpp>
#include <spikelab/layers/batch_norm.hpp>
#include <spikelab/layers/concepts.hpp>
#include <spikelab/layers/conv2d.hpp>
#include <spikelab/layers/dropout.hpp>
#include <spikelab/layers/flatten.hpp>
#include <spikelab/layers/image_shape.hpp>
#include <spikelab/layers/learnable_delay.hpp>
#include <spikelab/layers/linear.hpp>
#include <spikelab/layers/pooling.hpp>
#include <spikelab/layers/synaptic_filter.hpp>
#include <spikelab/layers/temporal_conv.hpp>

#include <spikelab/probabilistic/network.hpp>
#include <spikelab/networks/sequential.hpp>

#include <spikelab/losses/cross_entropy.hpp>
#include <spikelab/losses/loss_base.hpp>
#include <spikelab/losses/cum_softmax.hpp>
#include <spikelab/losses/psp_mse.hpp>
#include <spikelab/losses/rate_mse.hpp>
#include <spikelab/losses/window_cross_entropy.hpp>

#include <spikelab/learning/bptt.hpp>
#include <spikelab/learning/concepts.hpp>
#include <spikelab/probabilistic/gem.hpp>
#include <spikelab/probabilistic/gem_baselines.hpp>
#include <spikelab/na/membrane_distance.hpp>
#include <spikelab/probabilistic/multi_sample.hpp>
#include <spikelab/na/aggregation.hpp>
#include <spikelab/learning/regularizers.hpp>
#include <spikelab/probabilistic/three_factor.hpp>
#include <spikelab/probabilistic/vowel.hpp>

#include <spikelab/optimizers/optimizer.hpp>

#include <spikelab/training/callbacks.hpp>
#include <spikelab/training/trainer.hpp>

#include <spikelab/io/checkpoint.hpp>
#include <spikelab/io/training_checkpoint.hpp>

#include <spikelab/metrics/spiking_readout.hpp>
#include <spikelab/conversion/transfer.hpp>  // soft-LIF rate network -> spiking LIF network
#include <spikelab/conversion/back_to_back.hpp>  // the paper's spiking evaluation: back to back, no reset

#include <spikelab/data/encoders.hpp>
#include <spikelab/data/image_dataset.hpp>
#include <spikelab/data/image_source.hpp>
#include <spikelab/data/mts_xor.hpp>
#include <spikelab/data/data.hpp>  // event data: readers, transforms, loader (SHD/SSC with spikelab::hdf5)

#include <spikelab/metrics/calibration.hpp>
#include <spikelab/metrics/classification.hpp>
#include <spikelab/metrics/confusion.hpp>
#include <spikelab/training/spike_stats.hpp>
#include <spikelab/core/tally.hpp>

#include <spikelab/plot/plot.hpp>  // spike rasters, membrane traces, event frames, confusion, curves (SVG)

#endif
