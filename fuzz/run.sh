#!/usr/bin/env bash
# Seeds a corpus per fuzz target from the real files in shared/data and runs each target.
# usage: fuzz/run.sh BUILD_DIR [SECONDS_PER_TARGET=180] [DATA_DIR=../shared/data]
# Corpora go to fuzz-corpus/<target>/ and crash reproducers to fuzz-corpus/artifacts/ (git-ignored).
set -euo pipefail
build=${1:?build dir}
secs=${2:-180}
root=$(cd "$(dirname "$0")/.." && pwd)
data=${3:-$root/../shared/data}
corpus=$root/fuzz-corpus
mkdir -p "$corpus/artifacts"
/usr/bin/python3 - "$data" "$corpus" <<'PY'
import os, struct, sys
data, corpus = sys.argv[1], sys.argv[2]
def put(target, name, blob):
    d = os.path.join(corpus, target); os.makedirs(d, exist_ok=True)
    open(os.path.join(d, name), "wb").write(blob)
def read(rel, n=None):
    p = os.path.join(data, rel)
    return open(p, "rb").read()[:n] if os.path.exists(p) else None
for i in (1, 2, 60001):
    b = read("nmnist/NMNISTsmall/%d.bs2" % i, 2000)
    if b: put("fuzz_nmnist_bin", "nmnist%d" % i, b)
for i in (1, 7):
    b = read("mnist_dvs/mnist_0_scale04_%04d.aedat" % i, 600)
    if b: put("fuzz_aedat2", "mnistdvs%d" % i, b)
b = read("aedat_misc/sample_aedat_header.aedat")
if b: put("fuzz_aedat2", "davis_header", b)
b = read("derived/aedat31_from_mnist_dvs/mnist_0_scale04_0001_aedat31.aedat")
if b:
    end = b.index(b"#!END-HEADER\r\n") + 14
    ev = b[end + 28:end + 28 + 8 * 40]   # the first 40 real events, re-packed in small packets
    for k, n in enumerate((40, 7)):
        hdr = struct.pack("<hhiiiiii", 1, 1, 8, 4, 0, n, n, n)
        special = struct.pack("<hhiiiiii", 0, 1, 8, 4, 0, 1, 1, 1) + b"\x00" * 8
        put("fuzz_aedat31", "mnistdvs31_%d" % k, b[:end] + special + hdr + ev[:8 * n])
for rel in ("dvs_gesture/user01_natural_labels.csv", "nmnist/NMNISTsmall/test100.txt"):
    b = read(rel, 400)
    if b: put("fuzz_label_files", os.path.basename(rel), b)
put("fuzz_shd", "empty", b"\x00" * 4)
put("fuzz_shd", "rows", bytes(range(256)))
PY
for t in fuzz_nmnist_bin fuzz_aedat2 fuzz_aedat31 fuzz_label_files fuzz_shd; do
  bin=$build/fuzz/$t
  [ -x "$bin" ] || { echo "== $t: not built, skipped"; continue; }
  mkdir -p "$corpus/$t"
  echo "== $t (${secs}s)"
  "$bin" "$corpus/$t" -max_total_time="$secs" -max_len=4096 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$corpus/artifacts/$t-" 2>&1 | grep -E "stat::number_of_executed_units|stat::peak_rss|Done|ERROR|invariant|SUMMARY|runtime error" || true
done
ls "$corpus/artifacts"
