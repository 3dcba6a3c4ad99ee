#!/usr/bin/env bash
# The main job on the bundled example (examples/vit_s_block.mlir): un-opt
# parses, verifies and canonicalizes a ViT-S block that uses the un ops;
# the inference pipeline folds the block's UN into its linear layers (op
# counts before and after); then the block is compiled for the CPU
# (un-cpu-pipeline) and run, its training step and inference checked
# against the spec's reference.
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

echo "== un-opt --un-inference-pipeline (UN folded into the linear layers around it)"
"$UN_OPT" "$EXAMPLE" --un-inference-pipeline -o "$out/folded.mlir"
echo "   before:"
python3 scripts/count_ops.py "$EXAMPLE" mlp_inference | sed 's/^/     /'
echo "   after (weights are arguments: their preparation is hoisted out of the hot path):"
python3 scripts/count_ops.py "$out/folded.mlir" mlp_inference_folded \
  mlp_inference_prepare_weights | sed 's/^/     /'
"$UN_OPT" "$EXAMPLE" --un-to-linalg-pipeline -o "$out/unfolded.mlir"
echo "   lowered without folding, for comparison (un-to-linalg-pipeline):"
python3 scripts/count_ops.py "$out/unfolded.mlir" mlp_inference | sed 's/^/     /'
echo "   un ops left in the folded module: $(grep -c -E '"?un\.[a-z_]+' "$out/folded.mlir" || true)"

echo "== un-opt --un-cpu-pipeline: compile for this CPU, run, check against the spec"
python3 examples/run_vit_s_block.py
