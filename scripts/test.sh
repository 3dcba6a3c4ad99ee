#!/usr/bin/env bash
# Runs the whole un-mlir test suite: installs what is missing, checks the
# style (ruff with ruff.toml for Python, clang-format-22 with .clang-format
# for C++; TableGen is left as written, as upstream MLIR does: clang-format
# splits its strings), builds, then runs the lit/FileCheck suite (check-un),
# the Python tests (pytest) and a bounded run of the un-opt fuzzer (a fixed
# seed: the same mutants on every machine; docs/pipelines.md), and last the
# lit suite and the fuzzer again on an ASan + UBSan build (scripts/sanitize.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
python3 -m ruff check .
git ls-files '*.cpp' '*.h' | xargs clang-format-22 --dry-run -Werror
scripts/build.sh
cmake --build build --target check-un
python3 -m pytest -q test/python
python3 test/fuzz/fuzz_un_opt.py --runs 200 --seed 1 --out build/fuzz-failures
scripts/sanitize.sh
