#!/usr/bin/env bash
# README command 1: install the dependencies, build, run the main job on the
# bundled example.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
scripts/build.sh
scripts/demo.sh
