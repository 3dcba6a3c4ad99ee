#!/bin/bash
# On the GPU machine (CUDA driver, Python 3 with PyTorch; no LLVM/MLIR), from
# the folder that bench/gpu/build.sh made:
#
#   bash run.sh [RESULTS_FILE]     (default: $OUT/results.json where $OUT is
#                                   set, else results.json here)
#
# ITERS (default 200): calls per timing.
#
# 1. un_gpu_check: the CPU integration sequences (warm-up, smoothing, outlier
#    filtration, masks, window 1, r clamp, f16, bf16, dynamic shapes,
#    inference) through the compiled GPU kernels; check_outputs.py compares
#    every printed value with the spec's reference (check/*.mlir EXPECTED);
# 2. un_gpu_bench: UN forward/backward/step/inference at ViT-S and BERT-base,
#    f32 and bf16, and a plain device copy (the bandwidth ceiling); then the
#    UN-folded ViT-S and BERT-base blocks, batch 1 and 8 (batch 1 checked
#    against the block compiled for the CPU), with the project's matmul
#    kernels, with cuBLASLt (f32) and with cuBLASLt on TF32 tensor cores;
# 3. torch_layernorm.py: PyTorch's LayerNorm forward/backward at the same
#    shapes, and its copy;
# 4. torch_block.py: the same blocks with LayerNorm in PyTorch eager, f32
#    (TF32 off), TF32 and bf16.
# Every case and every benchmark configuration runs in a process of its own
# with a time limit, so a CUDA error (which aborts the process) or a hang
# loses that one only. The results file (summarize.py) is rewritten after
# every stage; the summary is printed at the end. The whole run takes about
# a minute (at most 10 minutes).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
RESULTS=${1:-${OUT:-$HERE}/results.json}
ITERS=${ITERS:-200}
WORK=$(mktemp -d)
export LD_LIBRARY_PATH=$HERE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# The blocks with cuBLASLt matmuls load the library PyTorch's wheels carry
# (UN_CUBLASLT_LIBRARY, when not set already).
if [ -z "${UN_CUBLASLT_LIBRARY:-}" ]; then
  UN_CUBLASLT_LIBRARY=$(python3 - <<'PY' 2>/dev/null
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
for pattern in ("nvidia/**/libcublasLt.so.*", "torch/lib/libcublasLt.so.*"):
    for root in roots:
        found = sorted(glob.glob(os.path.join(root, pattern), recursive=True))
        if found:
            print(found[-1])
            raise SystemExit
PY
)
  export UN_CUBLASLT_LIBRARY
fi
cd "$HERE"
summarize() { python3 summarize.py "$WORK" "$RESULTS" > "$WORK/summary.txt"; }

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem \
  --format=csv > "$WORK/nvidia-smi.txt" 2>&1 || true

# The executables were linked on Debian 12: they need glibc 2.34 or later
# (the runtime library, lib/, needs no more than glibc 2.2.5).
if ! ldd ./un_gpu_check > /dev/null 2>&1 || ldd ./un_gpu_check 2>&1 | grep -q "not found\|GLIBC"; then
  echo "run.sh: the executables cannot load here:" >&2
  ldd ./un_gpu_check >&2
fi

echo "== correctness: CPU integration sequences on the GPU"
mkdir -p "$WORK/check"
for f in check/*.mlir; do
  name=$(basename "$f" .mlir)
  timeout 10 ./un_gpu_check check "$WORK/check" "$name" > "$WORK/check/$name.log" 2>&1
  status=$?
  if [ $status -ne 0 ]; then
    echo "FAIL $name (un_gpu_check exit $status)" >> "$WORK/checks.txt"
  elif timeout 10 python3 check/check_outputs.py "$f" "$WORK/check/$name.out" \
      > "$WORK/check/$name.result" 2>&1; then
    echo "PASS $name" >> "$WORK/checks.txt"
  else
    echo "FAIL $name (values)" >> "$WORK/checks.txt"
  fi
done
cat "$WORK/checks.txt"
summarize

echo "== benchmarks: UN kernels"
for config in $(./un_gpu_bench list); do
  timeout 30 ./un_gpu_bench "$ITERS" "$config" >> "$WORK/bench.jsonl" 2>> "$WORK/bench.err"
  status=$?
  [ $status -ne 0 ] &&
    echo "{\"kind\": \"error\", \"config\": \"$config\", \"exit\": $status}" >> "$WORK/bench.jsonl"
done
summarize

echo "== benchmarks: PyTorch LayerNorm"
timeout 60 python3 torch_layernorm.py "$ITERS" > "$WORK/torch.jsonl" 2> "$WORK/torch.err"
summarize
echo "== benchmarks: PyTorch LayerNorm blocks"
timeout 60 python3 torch_block.py "$ITERS" > "$WORK/torch_block.jsonl" 2> "$WORK/torch_block.err"
summarize

cat "$WORK/summary.txt"
rm -rf "$WORK"
