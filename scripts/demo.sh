#!/usr/bin/env bash
# The main job on the bundled example (examples/vit_s_block.mlir): un-opt
# parses, verifies and canonicalizes a ViT-S block that uses the un ops;
# then the block is compiled for the CPU (un-cpu-pipeline) and run, its
# training step and inference checked against the spec's reference.
set -euo pipefail
cd "$(dirname "$0")/.."

UN_OPT=build/bin/un-opt
EXAMPLE=examples/vit_s_block.mlir
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

count_ops() { # file -> "un.infer: N ..." summary of un ops
  grep -o -E '"?un\.[a-z_]+' "$1" | tr -d '"' | sort | uniq -c |
    awk '{printf "%s x%d  ", $2, $1}'
  echo
}

echo "== un-opt: parse and verify $EXAMPLE"
"$UN_OPT" "$EXAMPLE" -o "$out/parsed.mlir"
echo "   un ops: $(count_ops "$out/parsed.mlir")"

echo "== un-opt --canonicalize (inference UN with constant statistics -> un.affine)"
"$UN_OPT" "$EXAMPLE" --canonicalize -o "$out/canonical.mlir"
echo "   un ops: $(count_ops "$out/canonical.mlir")"
grep -m1 -E 'un\.affine' "$out/canonical.mlir" | sed 's/^ */   /' | cut -c1-110

echo "== round trip through the generic form"
"$UN_OPT" "$out/canonical.mlir" --mlir-print-op-generic | "$UN_OPT" -o /dev/null
echo "   ok"

echo "== un-opt --un-cpu-pipeline: compile for this CPU, run, check against the spec"
python3 examples/run_vit_s_block.py
