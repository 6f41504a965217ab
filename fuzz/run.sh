#!/usr/bin/env bash
# Fuzz campaigns over the readers, and the upkeep of the kept corpus.
#
#   fuzz/run.sh BUILD_DIR [BUDGET=1000000] [OUT_DIR=fuzz-out] [TARGET...]
#       Runs each libFuzzer target (clang build, see fuzz/CMakeLists.txt) for BUDGET executions
#       (or, written as 3600s, for that many seconds), starting from the kept corpus
#       fuzz/corpus/<target>/ with the dictionary fuzz/dict/<target>.dict. The inputs it adds
#       go to OUT_DIR/corpus/<target>/, crash reproducers to OUT_DIR/artifacts/, logs to
#       OUT_DIR/logs/ (keep OUT_DIR out of git). Prints one summary line per target:
#         <target>: <n> executions (<rate>/s), coverage <a> -> <b> edges, <k> new inputs, crashes <c>
#       and exits non-zero if any target crashed. Long campaigns: run it under `nice -n 19`.
#   fuzz/run.sh --update-corpus BUILD_DIR [DATA_DIR=../shared/data]
#       Rebuilds the kept corpus: the seeds of fuzz/make_seeds.py (cuts of the real recordings
#       and files built from the format specifications), minimised with libFuzzer's -merge=1
#       (a seed is kept only if it adds coverage), under their descriptive names. Files named
#       regression-* (inputs that once crashed a reader) are always kept.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
targets_all=(fuzz_nmnist_bin fuzz_aedat2 fuzz_aedat31 fuzz_evt2 fuzz_evt3 fuzz_label_files fuzz_shd)

if [[ "${1:-}" == "--update-corpus" ]]; then
  build=${2:?build dir}
  data=${3:-$root/../shared/data}
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  /usr/bin/python3 "$root/fuzz/make_seeds.py" "$data" "$tmp/seeds"
  for t in "${targets_all[@]}"; do
    bin=$build/fuzz/$t
    [[ -x "$bin" && -d "$tmp/seeds/$t" ]] || { echo "$t: not built or no seeds, skipped"; continue; }
    mkdir -p "$tmp/min/$t"
    "$bin" -merge=1 -max_len=4096 "$tmp/min/$t" "$tmp/seeds/$t" >"$tmp/$t.merge.log" 2>&1
    dest=$root/fuzz/corpus/$t
    mkdir -p "$dest"
    find "$dest" -type f ! -name 'regression-*' -delete
    kept=$(cd "$tmp/min/$t" && sha1sum -- * 2>/dev/null | cut -d' ' -f1 | sort)
    for f in "$tmp/seeds/$t"/*; do
      h=$(sha1sum "$f" | cut -d' ' -f1)
      grep -qx "$h" <<<"$kept" && cp "$f" "$dest/"
    done
    echo "$t: $(ls "$tmp/seeds/$t" | wc -l) seeds -> $(ls "$dest" | wc -l) kept, $(cat "$dest"/* | wc -c) bytes"
  done
  exit 0
fi

build=${1:?usage: fuzz/run.sh BUILD_DIR [BUDGET] [OUT_DIR] [TARGET...]}
budget=${2:-1000000}
out=${3:-$root/fuzz-out}
shift $(($# < 3 ? $# : 3))
targets=("$@")
((${#targets[@]})) || targets=("${targets_all[@]}")
if [[ "$budget" == *s ]]; then limit=(-max_total_time="${budget%s}"); else limit=(-runs="$budget"); fi
mkdir -p "$out/artifacts" "$out/logs"
failed=0
for t in "${targets[@]}"; do
  bin=$build/fuzz/$t
  [[ -x "$bin" ]] || { echo "$t: not built, skipped"; continue; }
  mkdir -p "$out/corpus/$t"
  log=$out/logs/$t.log
  before=$(find "$out/artifacts" -name "$t-*" ! -name "$t-slow-unit-*" | wc -l)
  rc=0
  "$bin" "$out/corpus/$t" "$root/fuzz/corpus/$t" -dict="$root/fuzz/dict/$t.dict" "${limit[@]}" -max_len=4096 \
    -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$out/artifacts/$t-" >"$log" 2>&1 || rc=$?
  crashes=$(($(find "$out/artifacts" -name "$t-*" ! -name "$t-slow-unit-*" | wc -l) - before))
  # a failure that left no reproducer still counts, a run stopped by a signal does not
  note=
  if grep -q "run interrupted" "$log"; then note=" (interrupted)"; elif ((rc != 0 && crashes == 0)); then crashes=1; fi
  final_stat() { sed -n "s/^stat::$1: *//p" "$log" | tail -1; }
  cov() { grep -E "^#[0-9]+[[:space:]]+$1 " "$log" | tail -1 | sed -n 's/.* cov: \([0-9]*\).*/\1/p' || true; }
  end=$(cov DONE)
  [[ -n "$end" ]] || end=$(grep -oE ' cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  echo "$t: $(final_stat number_of_executed_units) executions ($(final_stat average_exec_per_sec)/s)," \
       "coverage $(cov INITED) -> ${end:-?} edges, $(final_stat new_units_added) new inputs, crashes $crashes$note"
  ((crashes == 0)) || failed=1
done
exit $failed
