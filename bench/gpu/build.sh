#!/bin/bash
# Builds, on a machine with LLVM/MLIR 22 and the CUDA toolkit but no GPU, the
# folder that bench/gpu/run.sh runs on a GPU machine (which has the CUDA
# driver and PyTorch but no LLVM/MLIR):
#
#   bash bench/gpu/build.sh [OUT]      (default: build/gpu-artifacts)
#
#   OUT/un_gpu_check, OUT/un_gpu_bench   standalone executables
#   OUT/lib/libun_cuda_runtime.so        the mgpu* runtime (rpath $ORIGIN/lib)
#   OUT/check/                           inputs and expected values
#   OUT/run.sh, summarize.py, torch_layernorm.py, torch_block.py,
#   torch_encoder.py                     what runs there
#
# Ahead of time: make_artifacts.py writes the MLIR (destination-passing
# functions for every CPU integration sequence and for the benchmarks);
# un-opt --un-cuda-pipeline lowers it to host LLVM with the kernels'
# fatbin (cubin for $UN_CUDA_CHIP + PTX) embedded (the blocks-*.mlir files
# with the pipeline options on their first line: cuBLASLt matmuls);
# mlir-translate and llc make object files; the harnesses link them with the
# runtime and the driver API (the toolkit's stub libcuda.so; the real one is
# found there; cuBLASLt is loaded by the runtime when a block calls it).
# With --emulate (self-test, no GPU needed), un_gpu_check is built from the
# same MLIR lowered with un-gpu-emulation-pipeline (kernels run on the host)
# and linked with a host stand-in of the driver API; run
# `OUT/un_gpu_check OUT/check DIR` and check_outputs.py as run.sh does.
# Environment: UN_BUILD (default: build), UN_CUDA_CHIP (sm_90),
# CUDA_HOME (/usr/local/cuda), LLVM_BIN (/usr/lib/llvm-22/bin).
set -euo pipefail
EMULATE=0
if [ "${1:-}" = "--emulate" ]; then
  EMULATE=1
  shift
fi
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${UN_BUILD:-$ROOT/build}
OUT=${1:-$BUILD/gpu-artifacts}
CHIP=${UN_CUDA_CHIP:-sm_90}
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
LLVM_BIN=${LLVM_BIN:-/usr/lib/llvm-22/bin}
CC=${CC:-cc}
export PATH=$CUDA_HOME/bin:$PATH

for tool in "$BUILD/bin/un-opt" "$BUILD/lib/libun_cuda_runtime.so" \
            "$CUDA_HOME/bin/ptxas" "$CUDA_HOME/include/cuda.h" \
            "$LLVM_BIN/mlir-translate" "$LLVM_BIN/llc"; do
  if [ ! -e "$tool" ]; then
    echo "build.sh: missing $tool (build un-mlir with the CUDA toolkit first)" >&2
    exit 1
  fi
done
STUBS=$CUDA_HOME/lib64/stubs
[ -e "$STUBS/libcuda.so" ] || STUBS=$CUDA_HOME/targets/x86_64-linux/lib/stubs

rm -rf "$OUT"
mkdir -p "$OUT/lib" "$OUT/obj"
echo "make_artifacts.py -> $OUT"
if [ "$EMULATE" = 1 ]; then
  python3 "$ROOT/bench/gpu/make_artifacts.py" --out "$OUT" --no-across-ranks
else
  python3 "$ROOT/bench/gpu/make_artifacts.py" --out "$OUT"
fi

if [ "$EMULATE" = 1 ]; then
  echo "un-opt --un-gpu-emulation-pipeline (check parts only)"
  python3 - "$OUT/kernels.mlir" <<'PY'
import re, sys
path = sys.argv[1]
text = open(path).read()
# Keep the check functions: emulating the benchmarks would be slow.
funcs = re.split(r"\n(?=func\.func @)", text)
open(path, "w").write("\n".join(f for f in funcs if not re.search(r"@(bench|block)_", f)))
PY
  "$BUILD/bin/un-opt" "$OUT/kernels.mlir" --un-gpu-emulation-pipeline \
    -o "$OUT/obj/kernels.llvm.mlir"
  "$LLVM_BIN/mlir-translate" --mlir-to-llvmir "$OUT/obj/kernels.llvm.mlir" -o "$OUT/obj/kernels.ll"
  "$LLVM_BIN/llc" -O2 -filetype=obj -relocation-model=pic "$OUT/obj/kernels.ll" -o "$OUT/obj/kernels.o"
  LLVM_LIB=$("$LLVM_BIN/llvm-config" --libdir)
  "$CC" -O2 -std=c11 -D_GNU_SOURCE -I"$CUDA_HOME/include" \
    "$ROOT/bench/gpu/harness/un_gpu_check.c" "$ROOT/bench/gpu/harness/emulated_cuda.c" \
    "$OUT/obj/kernels.o" -L"$LLVM_LIB" -lmlir_c_runner_utils -ldl -lm -rdynamic \
    -Wl,-rpath,"$LLVM_LIB" -o "$OUT/un_gpu_check"
  rm -rf "$OUT/obj" "$OUT/kernels.mlir" "$OUT/blocks.c" "$OUT"/blocks-*.mlir
  echo "built $OUT/un_gpu_check (emulated kernels)"
  exit 0
fi

echo "un-opt --un-cuda-pipeline (chip=$CHIP, fatbin)"
"$BUILD/bin/un-opt" "$OUT/kernels.mlir" \
  --un-cuda-pipeline="chip=$CHIP features=+ptx80 format=fatbin" -o "$OUT/obj/kernels.llvm.mlir"
"$LLVM_BIN/mlir-translate" --mlir-to-llvmir "$OUT/obj/kernels.llvm.mlir" -o "$OUT/obj/kernels.ll"
"$LLVM_BIN/llc" -O3 -filetype=obj -relocation-model=pic "$OUT/obj/kernels.ll" -o "$OUT/obj/kernels.o"
OBJECTS=("$OUT/obj/kernels.o")
# The blocks whose matmuls run another way (cuBLASLt): their own options.
for file in "$OUT"/blocks-*.mlir; do
  variant=$(basename "$file" .mlir)
  options=$(sed -n '1s|^// options: ||p' "$file")
  echo "un-opt --un-cuda-pipeline ($options) for $variant"
  "$BUILD/bin/un-opt" "$file" \
    --un-cuda-pipeline="chip=$CHIP features=+ptx80 format=fatbin $options" \
    -o "$OUT/obj/$variant.llvm.mlir"
  "$LLVM_BIN/mlir-translate" --mlir-to-llvmir "$OUT/obj/$variant.llvm.mlir" -o "$OUT/obj/$variant.ll"
  "$LLVM_BIN/llc" -O3 -filetype=obj -relocation-model=pic "$OUT/obj/$variant.ll" \
    -o "$OUT/obj/$variant.o"
  OBJECTS+=("$OUT/obj/$variant.o")
done

cp "$BUILD/lib/libun_cuda_runtime.so" "$OUT/lib/"
for exe in un_gpu_check un_gpu_bench; do
  echo "link $exe"
  extra=()
  [ "$exe" = un_gpu_bench ] && extra=("$OUT/blocks.c")
  "$CC" -O2 -std=c11 -D_GNU_SOURCE -I"$CUDA_HOME/include" -I"$ROOT/bench/gpu/harness" \
    "$ROOT/bench/gpu/harness/$exe.c" "${extra[@]}" "${OBJECTS[@]}" \
    -L"$OUT/lib" -lun_cuda_runtime -L"$STUBS" -lcuda -ldl -lm \
    -rdynamic -Wl,-rpath,'$ORIGIN/lib' -o "$OUT/$exe"
done
cp "$ROOT/bench/gpu/run.sh" "$ROOT/bench/gpu/summarize.py" "$ROOT/bench/gpu/torch_layernorm.py" \
  "$ROOT/bench/gpu/torch_block.py" "$ROOT/bench/torch_encoder.py" "$OUT/"
rm -rf "$OUT/obj" "$OUT/kernels.mlir" "$OUT/blocks.c" "$OUT"/blocks-*.mlir

size=$(du -sk "$OUT" | cut -f1)
echo "built $OUT ($((size / 1024)) MiB):"
ls -la "$OUT"
if [ "$size" -ge $((64 * 1024)) ]; then
  echo "build.sh: $OUT is over 64 MiB" >&2
  exit 1
fi
# The executables resolve everything but the driver here.
for exe in un_gpu_check un_gpu_bench; do
  if ldd "$OUT/$exe" | grep "not found" | grep -v libcuda; then
    echo "build.sh: $exe has unresolved libraries" >&2
    exit 1
  fi
done
