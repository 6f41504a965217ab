#!/usr/bin/env bash
# One command for the whole comparison: builds the harness (Release, -march=native),
# checks that spikelab and the PyTorch reference compute the same loss and gradients on the same
# weights and inputs, measures the GEMM peak of both, then measures every configuration with
# spikelab and PyTorch interleaved config by config (ROUNDS times), and prints the ratios.
#
#   benchmarks/run.sh                      all configs, 2 threads, 1 round
#   ROUNDS=3 CONFIGS=SHD,NMNIST,ON512 THREADS=2 benchmarks/run.sh
#
# Environment: BUILD_DIR (default build/bench), OUT (default $BUILD_DIR/results), REPS, WARMUP,
# VARIANTS (PyTorch variants, default loop,layer), BLAS (1: also measure the SPIKELAB_USE_BLAS
# build, default 1 when OpenBLAS is installed), CMAKE_ARGS (extra configure options).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build/bench}
OUT=${OUT:-$BUILD_DIR/results}
ROUNDS=${ROUNDS:-1}
THREADS=${THREADS:-2}
CONFIGS=${CONFIGS:-SHD,NMNIST,ON512,ON4096}
REPS=${REPS:-7}
WARMUP=${WARMUP:-2}
VARIANTS=${VARIANTS:-loop,layer}
PY=/usr/bin/python3

if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "python3-torch is missing: run scripts/install-deps.sh --bench" >&2
  exit 1
fi
# Debian's torch uses the reference BLAS (~4 GFLOP/s) unless OpenBLAS is installed.
if ! ldconfig -p | grep -q "libopenblas"; then
  echo "warning: OpenBLAS is not installed; PyTorch will use the reference BLAS (scripts/install-deps.sh --bench)" >&2
fi

if [[ -z "${BLAS:-}" ]]; then
  # the linker's view, not ldconfig's cache (which may not list libopenblas-dev's symlink yet)
  if [[ -e "$(gcc -print-file-name=libopenblas.so)" ]]; then BLAS=1; else BLAS=0; fi
fi
configure() {  # configure <dir> <extra options...>
  local dir=$1
  shift
  cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=Release -DSPIKELAB_BUILD_TESTS=OFF -DSPIKELAB_BUILD_EXAMPLES=OFF \
    -DSPIKELAB_BUILD_BENCHMARKS=ON "$@" ${CMAKE_ARGS:-} >/dev/null
  cmake --build "$dir" --target spikelab_bench -j2 >/dev/null
}
configure "$BUILD_DIR"
BENCH="$BUILD_DIR/benchmarks/spikelab-bench"
BENCHES=("$BENCH")
if [[ "$BLAS" == 1 ]]; then
  configure "$BUILD_DIR-blas" -DSPIKELAB_USE_BLAS=ON
  BENCHES+=("$BUILD_DIR-blas/benchmarks/spikelab-bench")
fi
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== machine"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{printf "%.0f GiB", $2/1048576}')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); threads: $THREADS; torch $("$PY" -c 'import torch; print(torch.__version__)')"

echo "== same network, same numbers (one step, T = 20)"
"$BENCH" --export "$OUT/verify" >/dev/null
"$PY" benchmarks/reference_torch.py --verify "$OUT/verify" --threads "$THREADS"

echo "== GEMM peak (2048^2 and 1024^2 sgemm, best of 1 s each)"
i=0
for b in "${BENCHES[@]}"; do
  "$b" --configs "" --gemm-peak --threads "$THREADS" --json "$OUT/gemm-spikelab$i.json" | grep "sgemm peak"
  i=$((i + 1))
done
"$PY" benchmarks/reference_torch.py --configs "" --gemm-peak --threads "$THREADS" --json "$OUT/gemm-torch.json" | grep "sgemm peak"

echo "== measuring (${ROUNDS} round(s), interleaved)"
for round in $(seq "$ROUNDS"); do
  for cfg in ${CONFIGS//,/ }; do
    echo "   round $round: $cfg (load $(cut -d' ' -f1 /proc/loadavg))"
    i=0
    for b in "${BENCHES[@]}"; do
      "$b" --configs "$cfg" --reps "$REPS" --warmup "$WARMUP" --threads "$THREADS" \
        --json "$OUT/spikelab$i-$cfg-$round.json" >"$OUT/spikelab$i-$cfg-$round.txt"
      i=$((i + 1))
    done
    "$PY" benchmarks/reference_torch.py --configs "$cfg" --variants "$VARIANTS" --reps "$REPS" --warmup "$WARMUP" \
      --threads "$THREADS" --json "$OUT/torch-$cfg-$round.json" >"$OUT/torch-$cfg-$round.txt"
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== spikelab"
cat "$OUT"/spikelab*-1.txt | awk 'NR == 1 || !/^config/'
echo "== PyTorch"
cat "$OUT"/torch-*-1.txt | awk 'NR == 1 || !/^config/'
echo "== side by side (all rounds pooled)"
"$PY" benchmarks/compare.py "$OUT"/gemm-*.json "$OUT"/spikelab?-*.json "$OUT"/torch-*.json --json "$OUT/summary.json"
echo "results: $OUT"
