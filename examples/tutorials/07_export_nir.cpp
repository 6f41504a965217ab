// Tutorial 7: exporting a trained network to NIR, and reading it back.
//
// Read 01_first_network first. NIR, the Neuromorphic Intermediate Representation (Pedersen et
// al., Nature Communications 2024), is a file format for SNNs shared by snnTorch, Norse,
// SpikingJelly, Lava, Rockpool and several neuromorphic chips' tool chains: a graph of nodes
// (Affine, LIF, CubaLIF, LI, Conv2d, Flatten, ...) with their parameters in continuous time,
// stored in HDF5. A network trained with spikelab can be written as NIR, simulated or deployed
// elsewhere, and a NIR graph of the same structure can be read into a spikelab network.
//
// spikelab's neurons run in discrete steps of length dt; NIR's are differential equations with
// time constants. write_nir converts with tau = dt / (1 - beta) (and r = tau / dt, v_threshold =
// theta), read_nir back with beta = 1 - dt / tau.
//
// NIR needs HDF5: this tutorial is built with the spikelab::hdf5 CMake target (which defines
// SPIKELAB_HAS_HDF5; CMake turns it on when Debian's libhdf5-dev is installed). Without it the
// program only says so. Run it as   07_export_nir   (no data needed; a few seconds).
#include <spikelab/spikelab.hpp>
#ifdef SPIKELAB_HAS_HDF5
#include <spikelab/io/nir.hpp>  // not in spikelab.hpp: it needs HDF5
#endif

#include <iostream>
#include <vector>

namespace sl = spikelab;

int main() {
#ifndef SPIKELAB_HAS_HDF5
  std::cout << "skipped: this build has no HDF5 (configure with libhdf5-dev installed or -DSPIKELAB_WITH_HDF5=ON)\n";
  return 77;
#else
  // ---- 1. A network to export ---------------------------------------------------------------------
  // A recurrent LIF layer between two projections, trained briefly on MTS-XOR (tutorial 4). In
  // NIR it becomes Affine -> a subgraph (CubaLIF with a recurrent Linear feeding back) -> Affine
  // -> LI: every layer of the Sequential is one node of a chain.
  using Net = sl::Sequential<sl::Linear<float>, sl::RecurrentLif<float>, sl::Linear<float>, sl::LeakyIntegrator<float>>;
  sl::Rng rng(1);
  Net net{sl::Linear<float>(40, 24, rng), sl::RecurrentLif<float>(24, rng, {.beta = 0.95, .threshold = 1.0}),
          sl::Linear<float>(24, 2, rng), sl::LeakyIntegrator<float>(2, {.beta = 0.8})};
  sl::MtsXorSource<float> train(/*samples=*/512, /*batch=*/64, /*seed=*/1);
  sl::Trainer trainer(net, sl::Bptt<sl::StepCrossEntropy>{}, sl::Optimizer<float, sl::Adam>({.lr = 5e-3}));
  trainer.fit(train, /*epochs=*/1, sl::ProgressPrinter(std::cout));

  // ---- 2. Writing -------------------------------------------------------------------------------
  // dt says how long one step is in seconds: with dt = 1 ms, beta = 0.95 is tau = 20 ms. The file
  // also records dt and the network's signature in its metadata. Like checkpoints, it is written
  // to a temporary file and renamed into place.
  // Where a layer has no exact NIR equivalent, write_nir / read_nir do not print: they append a
  // NirNote (node, field, what was done) to a list the caller passes. Here the subtractive reset
  // of RecurrentLif, which NIR lacks, is kept in metadata that only spikelab reads.
  const double dt = 1e-3;
  std::vector<sl::NirNote> notes;
  sl::write_nir("tutorial07.nir", net, {.dt = dt, .notes = &notes});
  std::cout << "wrote tutorial07.nir (open it in Python with  import nir; g = nir.read('tutorial07.nir'))\n";
  for (const sl::NirNote& n : notes)
    std::cout << "  note: node '" << n.node << "', " << n.field << ": " << n.what << "\n";

  // ---- 3. Reading -------------------------------------------------------------------------------
  // read_nir<Net> rebuilds a network of the given type: the graph must be a chain of as many
  // nodes as Net has layers, each mapping onto its layer (an LIF node onto a Lif, ...). Anything
  // else -- another node type, another size, a branch -- throws an sl::FormatError naming the
  // file and the node. With the dt of the file, the parameters come back exactly.
  Net back = sl::read_nir<Net>("tutorial07.nir");
  std::cout << "read back: " << back.signature() << "\n";

  // The two networks compute the same outputs, bit for bit.
  sl::MtsXorSource<float> probe(/*samples=*/64, /*batch=*/64, /*seed=*/5, /*shuffle=*/false);
  sl::Batch<float> batch;
  probe.start_epoch(0);
  probe.next(batch);
  const sl::Matrix<float> a = net.forward(batch.input).values();
  const sl::Matrix<float> b = back.forward(batch.input).values();
  const bool same = a == b;
  std::cout << "outputs of the original and the re-read network over " << batch.batch() << " samples x "
            << batch.steps() << " steps: " << (same ? "identical" : "DIFFERENT") << "\n";

  // ---- 4. Files for snnTorch and Norse ------------------------------------------------------------
  // Each simulator reads NIR's equations its own way, so a file is written for one reader: the
  // dialect (docs/nir.md). snnTorch's importer assumes dt = 0.1 ms and has no subtractive reset and
  // no leaky readout: writing this network for it is refused, naming the layer, before any file
  // exists.
  try {
    sl::write_nir("tutorial07_snntorch.nir", net, {.dialect = sl::NirDialect::snntorch});
  } catch (const sl::ConfigError& e) {
    std::cout << "for snnTorch: refused: " << e.what() << "\n";
  }
  // A network with reset-to-zero neurons and a normalised readout has a Norse form: r = 1, with the
  // input gain folded into the threshold, as Norse's importer expects. Read back in the same
  // dialect, it is the same network.
  using Ff = sl::Sequential<sl::Linear<float>, sl::Lif<float, sl::FastSigmoid, sl::ZeroReset>, sl::Linear<float>,
                            sl::LeakyIntegrator<float>>;
  Ff ff{sl::Linear<float>(40, 24, rng), sl::Lif<float, sl::FastSigmoid, sl::ZeroReset>(24, {.beta = 0.9}),
        sl::Linear<float>(24, 2, rng), sl::LeakyIntegrator<float>(2, {.beta = 0.8, .normalize = true})};
  sl::write_nir("tutorial07_norse.nir", ff, {.dialect = sl::NirDialect::norse});
  Ff ff_back = sl::read_nir<Ff>("tutorial07_norse.nir", {.dialect = sl::NirDialect::norse});
  const bool same_norse = ff.forward(batch.input).values() == ff_back.forward(batch.input).values();
  std::cout << "wrote tutorial07_norse.nir (in Python: norse.torch.from_nir(nir.read(...), dt=1e-3)); read back: "
            << (same_norse ? "identical" : "DIFFERENT") << " outputs\n";
  // Next: tutorial 8 stops a training run and continues it exactly.
  return same && same_norse ? 0 : 1;
#endif
}
