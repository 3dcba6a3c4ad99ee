#!/usr/bin/env bash
# The tools built with AddressSanitizer and UndefinedBehaviorSanitizer
# (build-sanitize/, Release + -fsanitize=address,undefined; no Python
# module), then the lit suite and a bounded fuzz run against them. Any
# report fails the run (UBSan does not recover; distinct exit codes, so the
# fuzzer tells a sanitizer report from a diagnostic). The Plugin and Install
# tests are left out: they load our code into Debian's uninstrumented
# mlir-opt-22 or link a downstream tool against it.
set -euo pipefail
cd "$(dirname "$0")/.."

SANITIZE="-fsanitize=address,undefined"
if [ ! -f build-sanitize/build.ninja ]; then
  cmake -G Ninja -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Release \
    -DUN_ENABLE_PYTHON=OFF \
    "-DCMAKE_CXX_FLAGS=$SANITIZE -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
    "-DCMAKE_EXE_LINKER_FLAGS=$SANITIZE" "-DCMAKE_SHARED_LINKER_FLAGS=$SANITIZE"
fi
cmake --build build-sanitize --target un-opt un-translate un-lsp-server
export ASAN_OPTIONS=exitcode=86 UBSAN_OPTIONS=exitcode=87:print_stacktrace=1
/usr/lib/llvm-22/bin/lit -q --filter-out 'Install/|Plugin/' build-sanitize/test
UN_BUILD_DIR=build-sanitize python3 test/fuzz/fuzz_un_opt.py --runs 100 --seed 2 \
  --out build-sanitize/fuzz-failures
