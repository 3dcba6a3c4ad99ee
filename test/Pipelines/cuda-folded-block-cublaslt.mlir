// The UN-folded ViT-S block with matmul-library=cublaslt: its 8 matmuls
// (Q, K, V, the heads' scores and values, the output projection, the MLP's
// two) are calls of the runtime's cuBLASLt entry point, with zero inits; 5
// of them also add their bias (and 2 a residual) in cuBLASLt's epilogue;
// the 6 other ops stay kernels (the softmax is one). Outside the kernels and the calls the host
// only allocates and reshapes buffers.
// REQUIRES: cuda-pipeline
// RUN: un-opt %S/../../examples/vit_encoder_block.mlir --un-inference-pipeline \
// RUN:   | un-opt --un-cuda-kernels-pipeline=matmul-library=cublaslt \
// RUN:   | %python %S/Inputs/host_ops.py vit_block_folded | FileCheck %s

// CHECK-NOT: scf.
// CHECK-NOT: memref.load
// CHECK-NOT: memref.store
// CHECK-NOT: memref.copy
// CHECK-NOT: linalg.
// Q, K, V: their bias adds are the calls' epilogues (bias pointer, no C).
// CHECK-COUNT-3: call @un_cuda_matmul_f32(%{{[^,]*}}, %{{[^,]*}}, %c0, %{{[^,]*}}, %intptr{{[_0-9]*}}, %c1, %c197, %c384, %c384)
// CHECK-COUNT-3: gpu.launch
// CHECK: call @un_cuda_matmul_f32(%{{[^,]*}}, %{{[^,]*}}, %c0, %{{[^,]*}}, %c0, %c6, %c197, %c197, %c64)
// CHECK: gpu.launch
// CHECK-NOT: gpu.launch
// CHECK: call @un_cuda_matmul_f32(%{{[^,]*}}, %{{[^,]*}}, %c0, %{{[^,]*}}, %c0, %c6, %c197, %c64, %c197)
// CHECK: gpu.launch
// The output projection: bias and the residual (the block's input).
// CHECK: call @un_cuda_matmul_f32(%{{[^,]*}}, %{{[^,]*}}, %[[X:intptr[_0-9]*]], %[[H:intptr[_0-9]*]], %intptr{{[_0-9]*}}, %c1, %c197, %c384, %c384)
// The MLP: bias + GELU stays a kernel; bias + residual is the epilogue.
// CHECK: call @un_cuda_matmul_f32(%[[H]], %{{[^,]*}}, %c0, %{{[^,]*}}, %c0, %c1, %c197, %c1536, %c384)
// CHECK: gpu.launch
// CHECK: call @un_cuda_matmul_f32(%{{[^,]*}}, %{{[^,]*}}, %[[H]], %{{[^,]*}}, %intptr{{[_0-9]*}}, %c1, %c197, %c384, %c1536)
// CHECK-NOT: gpu.launch
// CHECK-NOT: call
// CHECK: return

// Down to LLVM (device buffers, one stream per call): each call comes
// after a wait for the kernels before it, with device pointers; tf32
// picks the TF32 entry point.
// RUN: un-opt %S/../../examples/vit_encoder_block.mlir --un-inference-pipeline \
// RUN:   | un-opt "--un-cuda-pipeline=matmul-library=cublaslt tf32=true format=isa" \
// RUN:   | FileCheck %s --check-prefix=LLVM
// LLVM: llvm.func @un_cuda_matmul_f32_tf32(i64, i64, i64, i64, i64, i64, i64, i64, i64)
// LLVM-LABEL: llvm.func @vit_block_folded(
// LLVM-NOT: llvm.call @malloc
// LLVM: llvm.call @mgpuStreamSynchronize
// LLVM-NEXT: llvm.call @mgpuStreamDestroy
// LLVM-NEXT: llvm.call @un_cuda_matmul_f32_tf32(
// LLVM-COUNT-7: llvm.call @un_cuda_matmul_f32_tf32(
