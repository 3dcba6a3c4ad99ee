#!/usr/bin/env bash
# The tools and the Python module built with AddressSanitizer and
# UndefinedBehaviorSanitizer (build-sanitize/, Release +
# -fsanitize=address,undefined), then the lit suite, a bounded fuzz run and
# the Python tests that drive the native module (the JIT, bad inputs,
# run-time guards, UnifiedNorm's custom ops) against them. Any report fails
# the run (UBSan does not recover; distinct exit codes, so the fuzzer tells
# a sanitizer report from a diagnostic). Python itself is not instrumented:
# the sanitizer runtimes are preloaded into it, leak checking off (the
# interpreter and torch keep memory to the end). The Plugin and Install
# tests are left out: they load our code into Debian's uninstrumented
# mlir-opt-22 or link a downstream tool against it.
set -euo pipefail
cd "$(dirname "$0")/.."

SANITIZE="-fsanitize=address,undefined"
if [ ! -f build-sanitize/build.ninja ]; then
  cmake -G Ninja -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Release \
    -DUN_ENABLE_PYTHON=ON \
    "-DCMAKE_CXX_FLAGS=$SANITIZE -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
    "-DCMAKE_EXE_LINKER_FLAGS=$SANITIZE" "-DCMAKE_SHARED_LINKER_FLAGS=$SANITIZE" \
    "-DCMAKE_MODULE_LINKER_FLAGS=$SANITIZE"
fi
cmake --build build-sanitize --target un-opt un-translate un-lsp-server _native
export ASAN_OPTIONS=exitcode=86 UBSAN_OPTIONS=exitcode=87:print_stacktrace=1
/usr/lib/llvm-22/bin/lit -q --filter-out 'Install/|Plugin/' build-sanitize/test
UN_BUILD_DIR=build-sanitize python3 test/fuzz/fuzz_un_opt.py --runs 100 --seed 2 \
  --out build-sanitize/fuzz-failures
UN_BUILD_DIR=build-sanitize ASAN_OPTIONS=exitcode=86:detect_leaks=0 \
  LD_PRELOAD="$(gcc -print-file-name=libasan.so) $(gcc -print-file-name=libubsan.so)" \
  python3 -m pytest -q -p no:cacheprovider test/python/test_native.py \
  test/python/test_malformed_input.py test/python/test_runtime_guards.py \
  test/python/test_torch_module.py test/python/test_torch_kernels.py
