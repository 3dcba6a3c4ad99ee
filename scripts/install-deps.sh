#!/usr/bin/env bash
# Installs what un-mlir needs on a Debian 12 machine: LLVM/MLIR 22.1 and its
# tools from Debian's packages, CMake, Ninja, a C++17 compiler, and the
# Python packages pinned in requirements.txt. Safe to run again: it only
# installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  libmlir-22-dev mlir-22-tools   # MLIR 22.1: headers, libMLIR.so, mlir-runner
  llvm-22-dev llvm-22-tools      # LLVM 22.1: FileCheck, lit, not, count
  libomp-22-dev                  # OpenMP runtime: un-cpu-pipeline{threads=true}
  mpich libmpich-dev             # MPI: statistics across processes (all_ranks)
  clang-format-22                # C++ style check (scripts/test.sh)
  cmake ninja-build g++
)

# Headers for the native Python module (a pyenv or venv Python has its own).
if ! python3 -c 'import os, sys, sysconfig
sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' 2>/dev/null; then
  APT_PACKAGES+=(python3-dev)
fi

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  echo "== apt-get install ${missing[*]}"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q \
    --no-install-recommends "${missing[@]}"
fi

if ! python3 -m pip install --quiet --disable-pip-version-check \
    -r requirements.txt --dry-run --report - 2>/dev/null |
    python3 -c 'import json,sys; sys.exit(1 if json.load(sys.stdin)["install"] else 0)'; then
  echo "== pip install -r requirements.txt"
  python3 -m pip install --quiet --disable-pip-version-check \
    --root-user-action=ignore -r requirements.txt
fi
