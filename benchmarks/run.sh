#!/usr/bin/env bash
# Every figure and table of BENCHMARKS.md in one command: builds the harness (Release,
# -march=native; plain and with SPIKELAB_USE_BLAS when OpenBLAS is installed) and spikelab-train
# (this tree, and BASE_REF for the before/after of the main job), checks that spikelab and the
# PyTorch reference compute the same loss and gradients on the same weights and inputs, measures
# the GEMM peak of Eigen, Eigen+BLAS and both OpenBLAS builds under PyTorch (which then runs with
# the faster one), then measures every configuration and target firing rate with spikelab and
# PyTorch interleaved config by config (ROUNDS times), the streaming forward, and the main job
# (spikelab-train on Fashion-MNIST) before and after, interleaved. Prints the tables (medians and
# minima) and writes them as Markdown to $OUT/tables.md.
#
#   benchmarks/run.sh                                  everything, 2 threads
#   ROUNDS=3 CONFIGS=SHD,NMNIST RATES=0.1 MAIN=0 benchmarks/run.sh
#
# Environment: BUILD_DIR (default build/bench), OUT (default $BUILD_DIR/results), THREADS (2),
# ROUNDS (2), REPS (9), WARMUP (2), CONFIGS (SHD,NMNIST,ON512; ON4096 takes minutes per PyTorch
# step), RATES (target hidden firing rates for SHD and N-MNIST, default 0.02,0.05,0.1,0.2; the
# harness's own weights are always measured too), VARIANTS (PyTorch variants, loop,layer),
# BLAS (1: also the SPIKELAB_USE_BLAS build; default 1 when libopenblas-dev is installed),
# MAIN (1: the main job before/after), MAIN_ROUNDS (3), MAIN_ARGS (extra spikelab-train options),
# BASE_REF (the commit the main job is compared with; default: the parent of the static-input
# path), CMAKE_ARGS (extra configure options).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build/bench}
OUT=${OUT:-$BUILD_DIR/results}
ROUNDS=${ROUNDS:-2}
THREADS=${THREADS:-2}
CONFIGS=${CONFIGS:-SHD,NMNIST,ON512}
RATES=${RATES:-0.02,0.05,0.1,0.2}
REPS=${REPS:-9}
WARMUP=${WARMUP:-2}
VARIANTS=${VARIANTS:-loop,layer}
MAIN=${MAIN:-1}
MAIN_ROUNDS=${MAIN_ROUNDS:-3}
MAIN_ARGS=${MAIN_ARGS:-}
BASE_REF=${BASE_REF:-56deeb5}
PY=/usr/bin/python3

if ! "$PY" -c "import torch" 2>/dev/null; then
  echo "python3-torch is missing: run scripts/install-deps.sh --bench" >&2
  exit 1
fi
if ! ls /usr/lib/*/openblas-openmp/libblas.so.3 /usr/lib/*/openblas-pthread/libblas.so.3 >/dev/null 2>&1; then
  echo "warning: not both OpenBLAS builds are installed (scripts/install-deps.sh --bench installs both)" >&2
fi
if [[ -z "${BLAS:-}" ]]; then
  # the linker's view, not ldconfig's cache (which may not list libopenblas-dev's symlink yet)
  if [[ -e "$(gcc -print-file-name=libopenblas.so)" ]]; then BLAS=1; else BLAS=0; fi
fi

configure() {  # configure <dir> <targets> <extra options...>
  local dir=$1 targets=$2
  shift 2
  cmake -S "${SRC:-.}" -B "$dir" -DCMAKE_BUILD_TYPE=Release -DSPIKELAB_BUILD_TESTS=OFF -DSPIKELAB_BUILD_EXAMPLES=ON \
    -DSPIKELAB_BUILD_BENCHMARKS=ON -DSPIKELAB_WITH_MPI=OFF "$@" ${CMAKE_ARGS:-} >/dev/null
  # shellcheck disable=SC2086
  cmake --build "$dir" --target $targets -j2 >/dev/null
}
echo "== building"
configure "$BUILD_DIR" "spikelab_bench spikelab_train"
BENCHES=("$BUILD_DIR/benchmarks/spikelab-bench")
if [[ "$BLAS" == 1 ]]; then
  configure "$BUILD_DIR-blas" spikelab_bench -DSPIKELAB_USE_BLAS=ON
  BENCHES+=("$BUILD_DIR-blas/benchmarks/spikelab-bench")
fi
TRAIN="$BUILD_DIR/examples/spikelab-train"
if [[ "$MAIN" == 1 ]]; then
  BASE_SRC="$BUILD_DIR-base/src"
  rm -rf "$BASE_SRC" && mkdir -p "$BASE_SRC"
  git archive "$BASE_REF" | tar -x -C "$BASE_SRC"
  SRC="$BASE_SRC" configure "$BUILD_DIR-base/build" spikelab_train
  TRAIN_BASE="$BUILD_DIR-base/build/examples/spikelab-train"
fi
rm -rf "$OUT"
mkdir -p "$OUT"

echo "== machine"
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(grep MemTotal /proc/meminfo | awk '{printf "%.0f GiB", $2/1048576}')"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); threads: $THREADS; torch $("$PY" -c 'import torch; print(torch.__version__)'); $(g++ --version | head -1)"

echo "== GEMM peak (sgemm 1024^2 and 2048^2, best of 1 s each)"
i=0
for b in "${BENCHES[@]}"; do
  "$b" --configs "" --gemm-peak --threads "$THREADS" --json "$OUT/gemm-spikelab$i.json" | grep "sgemm peak"
  i=$((i + 1))
done
"$PY" benchmarks/reference_torch.py --configs "" --gemm-peak --threads "$THREADS" --json "$OUT/gemm-torch.json"
TORCH_BLAS=$("$PY" -c "import json; print(json.load(open('$OUT/gemm-torch.json'))['blas'])")

echo "== same network, same numbers (one step, T = 20; PyTorch with the $TORCH_BLAS OpenBLAS)"
"${BENCHES[0]}" --export "$OUT/verify" >/dev/null
"$PY" benchmarks/reference_torch.py --verify "$OUT/verify" --threads "$THREADS" --blas "$TORCH_BLAS"

echo "== measuring (${ROUNDS} round(s), interleaved)"
for round in $(seq "$ROUNDS"); do
  for cfg in ${CONFIGS//,/ }; do
    rates=0
    modes=train,infer,stream
    case $cfg in SHD | NMNIST) [[ -n "$RATES" ]] && rates="0,$RATES" ;; esac
    for rate in ${rates//,/ }; do
      [[ "$rate" != 0 ]] && modes=train
      what="target hidden rate $rate"
      [[ "$rate" == 0 ]] && what="the harness's weights"
      echo "   round $round: $cfg, $what (load $(cut -d' ' -f1 /proc/loadavg))"
      tag="$cfg-$rate-$round"
      i=0
      for b in "${BENCHES[@]}"; do
        "$b" --configs "$cfg" --rates "$rate" --modes "$modes" --reps "$REPS" --warmup "$WARMUP" --threads "$THREADS" \
          --json "$OUT/spikelab$i-$tag.json" >"$OUT/spikelab$i-$tag.txt"
        i=$((i + 1))
      done
      "$PY" benchmarks/reference_torch.py --configs "$cfg" --rates "$rate" --modes "${modes/,stream/}" \
        --variants "$VARIANTS" --reps "$REPS" --warmup "$WARMUP" --threads "$THREADS" --blas "$TORCH_BLAS" \
        --json "$OUT/torch-$tag.json" >"$OUT/torch-$tag.txt"
    done
  done
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== spikelab (round 1)"
cat "$OUT"/spikelab*-1.txt | awk 'NR == 1 || !/^config/'
echo "== PyTorch (round 1)"
cat "$OUT"/torch-*-1.txt | awk 'NR == 1 || !/^config/'
echo "== side by side (all rounds pooled)"
"$PY" benchmarks/compare.py "$OUT"/gemm-*.json "$OUT"/spikelab?-*.json "$OUT"/torch-*.json --json "$OUT/summary.json" \
  --markdown "$OUT/tables.md"

if [[ "$MAIN" == 1 ]]; then
  echo "== main job: spikelab-train (Fashion-MNIST 784-256-10, T = 8, direct coding, 3 epochs), $BASE_REF vs this tree, interleaved"
  for round in $(seq "$MAIN_ROUNDS"); do
    for which in before after; do
      exe=$TRAIN
      [[ $which == before ]] && exe=$TRAIN_BASE
      # shellcheck disable=SC2086
      "$exe" --threads "$THREADS" --checkpoint "$OUT/main-$which.ckpt" $MAIN_ARGS >"$OUT/main-$which-$round.txt" 2>&1
      echo "   round $round $which: $(grep -E '^(test accuracy|training time)' "$OUT/main-$which-$round.txt" | tr '\n' ' ')"
    done
  done
  "$PY" - "$OUT" "$MAIN_ROUNDS" <<'EOF' | tee -a "$OUT/tables.md"
import re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rows = {}
for which in ("before", "after"):
    for r in range(1, rounds + 1):
        text = open("%s/main-%s-%d.txt" % (out, which, r)).read()
        secs = float(re.search(r"training time: ([0-9.]+) s", text).group(1))
        acc = float(re.search(r"test accuracy: ([0-9.]+)%", text).group(1))
        n = int(re.search(r"train (\d+) images", text).group(1))
        epochs = len(re.findall(r"val loss", text))
        rows.setdefault(which, []).append((n * epochs / secs, secs, acc))
print("\n| main job | samples/s (median / best) | training s (median) | test accuracy |\n|---|---|---|---|")
for which in ("before", "after"):
    v = rows[which]
    print("| %s | %.0f / %.0f | %.2f | %s |" % (which, statistics.median(x[0] for x in v), max(x[0] for x in v),
                                           statistics.median(x[1] for x in v), ", ".join("%.2f %%" % x[2] for x in v)))
b, a = statistics.median(x[0] for x in rows["before"]), statistics.median(x[0] for x in rows["after"])
print("\nspeed-up (median samples/s, same run): %.2fx" % (a / b))
EOF
fi
echo "tables: $OUT/tables.md"
