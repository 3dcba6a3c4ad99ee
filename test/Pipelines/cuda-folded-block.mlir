// The UN-folded ViT-S block (examples/vit_encoder_block.mlir after
// un-inference-pipeline) on the GPU: every op is a kernel. Between the
// launches the host only allocates and reshapes buffers: no host loop and
// no host load or store touches device memory (the ops around the matmuls
// take un-gpu-launch-loops: 256-thread blocks, whatever the trip counts;
// 197 tokens divide by no tile). 16 launches: 8 matmuls; bias add and head
// transpose of Q, K and V, one each (transposes are generalized and fused);
// the softmax, one kernel of a warp per row (its max, exp, sum and
// division in turn, the fills of the accumulators folded in); the heads'
// transpose back; bias + residual, bias + GELU, bias + residual.
// REQUIRES: cuda-pipeline
// RUN: un-opt %S/../../examples/vit_encoder_block.mlir --un-inference-pipeline \
// RUN:   | un-opt --un-cuda-kernels-pipeline | FileCheck %s

// CHECK-LABEL: func.func @vit_block_folded(
// CHECK-COUNT-16: gpu.launch
// CHECK-NOT: gpu.launch
// CHECK: return
// CHECK-NEXT: }

// Outside the kernels: allocations, views and launches only.
// RUN: un-opt %S/../../examples/vit_encoder_block.mlir --un-inference-pipeline \
// RUN:   | un-opt --un-cuda-kernels-pipeline \
// RUN:   | %python %S/Inputs/host_ops.py vit_block_folded | FileCheck %s --check-prefix=HOST
// HOST-NOT: scf.
// HOST-NOT: memref.load
// HOST-NOT: memref.store
// HOST-NOT: memref.copy
// HOST-NOT: linalg.
// HOST: return
