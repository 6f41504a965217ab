#!/usr/bin/env bash
# Installs what is missing, then configures, builds and runs every test (cmake workflow "ci").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake --workflow --preset ci
