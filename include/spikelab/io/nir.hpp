/**
 * @file io/nir.hpp
 * @brief write_nir / read_nir: spikelab Sequential networks as Neuromorphic Intermediate
 *        Representation (NIR) files, the HDF5 graph format shared by snnTorch, Norse,
 *        SpikingJelly, Lava and neuromorphic hardware tool chains. The header to include; it
 *        gathers three parts:
 *         - io/nir/file.hpp: the HDF5 graph file (nodes, edges, parameters, metadata);
 *         - io/nir/layers.hpp: one spikelab layer <-> one NIR node (Linear <-> Affine / Linear,
 *           Lif <-> LIF / CubaLIF / IF (no leak), RecurrentLif <-> a NIRGraph subgraph,
 *           LeakyIntegrator <-> LI, Conv2d, Flatten, AvgPool2d, SumPool2d, IntegerDelay <-> a
 *           NIRGraph subgraph around a Delay node), with the units: tau = dt / (1 - beta)
 *           seconds, R = tau / dt (IF: R = 1 / dt), delays in steps x dt seconds; NirNote, one
 *           lossy mapping;
 *         - io/nir/graph.hpp: write_nir / read_nir of a whole network, NirOptions /
 *           NirReadOptions (the dialect, dt, the caller's list of NirNotes); NirDialect
 *           (io/nir/layers.hpp) picks spikelab's conventions or those of snnTorch's or Norse's
 *           importer (docs/nir.md).
 *        Optional: needs the `spikelab::hdf5` CMake target (option SPIKELAB_WITH_HDF5), which
 *        defines SPIKELAB_HAS_HDF5.
 *
 * @code
 * @article{pedersen2024neuromorphic, title={Neuromorphic intermediate representation: A unified
 *   instruction set for interoperable brain-inspired computing}, author={Pedersen, Jens E. and
 *   Abreu, Steven and Jobst, Matthias and Lenz, Gregor and Fra, Vittorio and Bauer, Felix C. and
 *   others}, journal={Nature Communications}, volume={15}, pages={8122}, year={2024}}
 * @endcode
 */
#ifndef SPIKELAB_IO_NIR_HPP
#define SPIKELAB_IO_NIR_HPP

#ifndef SPIKELAB_HAS_HDF5
#error "spikelab/io/nir.hpp needs HDF5: link the spikelab::hdf5 CMake target (SPIKELAB_WITH_HDF5)"
#endif

#include <spikelab/io/nir/file.hpp>
#include <spikelab/io/nir/graph.hpp>
#include <spikelab/io/nir/layers.hpp>

#endif
