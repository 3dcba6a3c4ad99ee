#!/bin/bash
# On the GPU machine (CUDA driver, Python 3 with PyTorch; no LLVM/MLIR), from
# the folder that bench/gpu/build.sh made:
#
#   bash run.sh [RESULTS_FILE]        (default: results.json here)
#
# 1. un_gpu_check: the CPU integration sequences (warm-up, smoothing, outlier
#    filtration, masks, window 1, r clamp, f16, bf16, dynamic shapes,
#    inference) through the compiled GPU kernels; check_outputs.py compares
#    every printed value with the spec's reference (check/*.mlir EXPECTED);
# 2. un_gpu_bench: UN forward/backward/step/inference at ViT-S and BERT-base,
#    f32 and bf16, and a plain device copy (the bandwidth ceiling);
# 3. torch_layernorm.py: PyTorch's LayerNorm forward/backward at the same
#    shapes, and its copy.
# Writes one results file (JSON: device, checks, every timing, and a text
# summary) and prints the summary. Each stage has a time limit; the whole
# run takes about a minute (at most 7 minutes).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
RESULTS=${1:-$HERE/results.json}
WORK=$(mktemp -d)
export LD_LIBRARY_PATH=$HERE/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
cd "$HERE"

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm,clocks.max.mem \
  --format=csv > "$WORK/nvidia-smi.txt" 2>&1 || true

# The executables were linked on Debian 12 (glibc 2.34 or later needed).
if ! ./un_gpu_check --help > /dev/null 2>&1 && ldd ./un_gpu_check 2>&1 | grep -q "not found\|GLIBC"; then
  echo "run.sh: the executables cannot load here:" >&2
  ldd ./un_gpu_check >&2
fi

echo "== correctness: CPU integration sequences on the GPU"
mkdir -p "$WORK/check"
timeout 180 ./un_gpu_check check "$WORK/check" > "$WORK/check.log" 2>&1
echo "un_gpu_check exit $?" >> "$WORK/check.log"
for f in check/*.mlir; do
  name=$(basename "$f" .mlir)
  if [ -f "$WORK/check/$name.out" ]; then
    if timeout 60 python3 check/check_outputs.py "$f" "$WORK/check/$name.out" \
        > "$WORK/check/$name.result" 2>&1; then
      echo "PASS $name" >> "$WORK/checks.txt"
    else
      echo "FAIL $name" >> "$WORK/checks.txt"
    fi
  else
    echo "FAIL $name (no output)" >> "$WORK/checks.txt"
  fi
done
cat "$WORK/checks.txt"

echo "== benchmarks: UN kernels"
timeout 180 ./un_gpu_bench 200 > "$WORK/bench.jsonl" 2> "$WORK/bench.err"
echo "== benchmarks: PyTorch LayerNorm"
timeout 120 python3 torch_layernorm.py 200 > "$WORK/torch.jsonl" 2> "$WORK/torch.err"

python3 - "$WORK" "$RESULTS" <<'PY'
import json, pathlib, sys
work, results = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
def lines(name):
    p = work / name
    out = []
    if p.exists():
        for line in p.read_text().splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                pass
    return out
def text(name):
    p = work / name
    return p.read_text() if p.exists() else ""
bench, torch_rows = lines("bench.jsonl"), lines("torch.jsonl")
checks = text("checks.txt").split("\n")
details = {p.stem: p.read_text() for p in sorted((work / "check").glob("*.result"))}
summary = []
passed = sum(c.startswith("PASS") for c in checks)
failed = sum(c.startswith("FAIL") for c in checks)
summary.append(f"checks: {passed} passed, {failed} failed")
dev = [r for r in bench if r.get("kind") == "device"]
if dev:
    summary.append(f"device: {dev[0]['name']} ({dev[0]['sms']} SMs)")
un = {(r["shape"], r["dtype"], r["op"]): r for r in bench if r.get("kind") == "un"}
tl = {(r["shape"], r["dtype"], r["op"]): r for r in torch_rows
      if r.get("kind") == "torch_layernorm"}
summary.append(f"{'shape':5} {'dtype':5} {'op':9} {'UN us':>8} {'UN GB/s':>8} "
               f"{'of copy':>7} {'LN us':>8} {'LN GB/s':>8} {'UN/LN time':>10}")
for key, r in sorted(un.items()):
    t = tl.get(key)
    summary.append(
        f"{key[0]:5} {key[1]:5} {key[2]:9} {r['us']:8.2f} {r['gbps']:8.0f} "
        f"{r['of_copy']:7.2f} "
        + (f"{t['us']:8.2f} {t['gbps']:8.0f} {r['us'] / t['us']:10.2f}" if t else ""))
for r in bench:
    if r.get("kind") == "copy":
        summary.append(f"copy {r['bytes']} bytes: {r['us']:.2f} us, {r['gbps']:.0f} GB/s")
doc = {"summary": summary, "checks": checks, "check_details": details,
       "un_gpu_check_log": text("check.log")[-20000:], "un_gpu_bench": bench,
       "torch_layernorm": torch_rows, "nvidia_smi": text("nvidia-smi.txt"),
       "errors": {"bench": text("bench.err")[-5000:], "torch": text("torch.err")[-5000:]}}
results.write_text(json.dumps(doc, indent=1) + "\n")
print("\n".join(summary))
print(f"results: {results}")
PY
rm -rf "$WORK"
