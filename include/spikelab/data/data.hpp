/**
 * @file data/data.hpp
 * @brief Umbrella header of spikelab's data module: static images (idx, encoders), MTS-XOR,
 *        and event data — the event type, readers (N-MNIST .bin, AEDAT 2.0, AEDAT 3.1, Prophesee
 *        EVT 2.0 / EVT 3.0 .raw, and SHD/SSC HDF5 when SPIKELAB_HAS_HDF5 is defined by linking spikelab::hdf5), transforms
 *        and dense representations (frames, images, voxel grids, time surfaces, Bina-Rep),
 *        data sets and the batching loader.
 */
#ifndef SPIKELAB_DATA_DATA_HPP
#define SPIKELAB_DATA_DATA_HPP

#include <spikelab/data/encoders.hpp>
#include <spikelab/data/image_dataset.hpp>
#include <spikelab/data/image_source.hpp>
#include <spikelab/data/mts_xor.hpp>

#include <spikelab/data/event.hpp>
#include <spikelab/data/frames.hpp>

#include <spikelab/data/formats/aedat2.hpp>
#include <spikelab/data/formats/aedat31.hpp>
#include <spikelab/data/formats/event_format.hpp>
#include <spikelab/data/formats/evt2.hpp>
#include <spikelab/data/formats/evt3.hpp>
#include <spikelab/data/formats/label_files.hpp>
#include <spikelab/data/formats/nmnist_bin.hpp>
#include <spikelab/data/formats/prophesee_raw.hpp>

#include <spikelab/data/transforms/compose.hpp>
#include <spikelab/data/transforms/denoise.hpp>
#include <spikelab/data/transforms/drop.hpp>
#include <spikelab/data/transforms/noise.hpp>
#include <spikelab/data/transforms/polarity.hpp>
#include <spikelab/data/transforms/representations.hpp>
#include <spikelab/data/transforms/spatial.hpp>
#include <spikelab/data/transforms/temporal.hpp>
#include <spikelab/data/transforms/to_frame.hpp>

#include <spikelab/data/datasets/cifar10_dvs.hpp>
#include <spikelab/data/datasets/class_folders.hpp>
#include <spikelab/data/datasets/dvs_gesture.hpp>
#include <spikelab/data/datasets/event_dataset.hpp>
#include <spikelab/data/datasets/mnist_dvs.hpp>
#include <spikelab/data/datasets/ncaltech101.hpp>
#include <spikelab/data/datasets/nmnist.hpp>

#include <spikelab/data/loader.hpp>

#ifdef SPIKELAB_HAS_HDF5
#include <spikelab/data/datasets/shd.hpp>
#include <spikelab/data/formats/shd_hdf5.hpp>
#endif

#endif
