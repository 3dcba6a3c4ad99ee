#!/usr/bin/env bash
# Runs the whole un-mlir test suite: installs what is missing, builds, then
# runs the lit/FileCheck suite (check-un) and the Python tests (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh
cmake --build build --target check-un
python3 -m pytest -q test/python
