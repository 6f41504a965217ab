#!/usr/bin/env bash
# Quick start: install what is missing, build in Release, and train a spiking MLP on
# Fashion-MNIST (progress is printed as it trains). Extra arguments go to spikelab-train; the
# checkpoint goes to build/release/spikelab-train.ckpt unless --checkpoint says otherwise.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --preset release
cmake --build --preset release --target spikelab_train
args=("$@")
[[ " $* " == *" --checkpoint"* ]] || args=(--checkpoint build/release/spikelab-train.ckpt "${args[@]}")
exec ./build/release/examples/spikelab-train "${args[@]}"
