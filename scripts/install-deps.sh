#!/usr/bin/env bash
# Installs what spikelab needs from Debian 12's archive, only if it is missing.
#   scripts/install-deps.sh            build + test (sanitizers included) dependencies, doxygen for the API
#                                      reference and the Fashion-MNIST data
#   scripts/install-deps.sh --bench    also the PyTorch reference (python3-torch) and both OpenBLAS builds
#                                      (OpenMP and pthread: benchmarks/run.sh measures both and runs
#                                      PyTorch with the faster one), valgrind for the instruction budget
set -euo pipefail

packages=(cmake make g++ pkg-config libeigen3-dev libcereal-dev catch2 zlib1g-dev libbenchmark-dev
          libcli11-dev libhdf5-dev dataset-fashion-mnist python3 python3-numpy libopenmpi-dev openmpi-bin python3-h5py
          # the API reference (cmake target docs, built and checked by .ci/run); no graphviz: HAVE_DOT = NO
          doxygen
          # the tsan preset (scripts/sanitize.sh): clang with its sanitizer runtimes and LLVM's OpenMP
          # runtime, whose archer tool makes OpenMP's synchronisation visible to ThreadSanitizer;
          # libclang-rt-dev also holds libFuzzer (fuzz/)
          clang libclang-rt-dev libomp-dev)
if [[ "${1:-}" == "--bench" ]]; then
  packages+=(python3-torch libopenblas0-openmp libopenblas0-pthread libopenblas-dev valgrind)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  sudo_cmd=()
  [[ $(id -u) -ne 0 ]] && sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
