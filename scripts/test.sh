#!/usr/bin/env bash
# Runs the whole un-mlir test suite: installs what is missing, checks the
# Python style (ruff, ruff.toml), builds, then runs the lit/FileCheck suite
# (check-un) and the Python tests (pytest).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
python3 -m ruff check .
scripts/build.sh
cmake --build build --target check-un
python3 -m pytest -q test/python
