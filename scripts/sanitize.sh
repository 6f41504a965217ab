#!/usr/bin/env bash
# Builds and runs the sanitizer test sets (cmake workflows "asan" and "tsan", CMakePresets.json):
#   asan: spikelab_tests_core, _models and _data (readers, loader, layers, neurons, losses, BPTT,
#         optimizers, trainer, checkpoints, plots) and each fuzz target over its kept corpus,
#         under AddressSanitizer + UndefinedBehaviorSanitizer (g++ -O1, every report is fatal);
#   tsan: spikelab_tests_threads (the read-ahead loader and its bad-recording policies, the
#         parallel loops and products, training with both at once) under ThreadSanitizer: clang
#         with LLVM's OpenMP runtime, whose archer tool tells ThreadSanitizer about OpenMP's
#         barriers (GCC's libgomp is not instrumented: every parallel region would be reported as
#         a race). The MPI checks are not in it: clang 14 crashes compiling them, and the MPI
#         polling starts no thread of its own (MPI_THREAD_FUNNELED: MPI_Test on the training
#         thread), so what TSan could check there is Open MPI's own, uninstrumented threads.
# usage: scripts/sanitize.sh [asan|tsan|all]   (default all); prints the time of each step.
set -euo pipefail
cd "$(dirname "$0")/.."
which=${1:-all}

step() {  # step NAME COMMAND...: runs it and prints how long it took
  local name=$1 t0=$SECONDS
  shift
  "$@"
  echo "== ${name}: $((SECONDS - t0)) s"
}

quiet() { "$@" >/dev/null; }

run() {
  local p=$1
  step "$p configure" quiet cmake --preset "$p"
  step "$p build" cmake --build --preset "$p"
  step "$p test" ctest --preset "$p"
}

case "$which" in
  asan) run asan ;;
  tsan) run tsan ;;
  all) run asan; run tsan ;;
  *) echo "usage: $0 [asan|tsan|all]" >&2; exit 2 ;;
esac
