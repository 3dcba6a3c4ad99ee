// un-gpu-matmul{library=cublaslt}: matmuls become calls of the CUDA
// runtime's cuBLASLt entry point on the operands' buffers (C = A B, plus C
// when the call accumulates), any shape, f32 / bf16 / f16 inputs.
// RUN: un-opt %s -split-input-file --un-gpu-matmul=library=cublaslt --canonicalize | FileCheck %s
// RUN: un-opt %s -split-input-file "--un-gpu-matmul=library=cublaslt tf32=true" --canonicalize | FileCheck %s --check-prefix=TF32
// RUN: not un-opt %s --un-gpu-matmul=library=blas 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: un-gpu-matmul: library must be 'kernels' or 'cublaslt', not 'blas'

// A zero fill is beta = 0: no fill, the call does not accumulate.
// CHECK: func.func private @un_cuda_matmul_f32(index, index, index, index, index, index, index, index) attributes {un.device_pointers}
// CHECK-LABEL: func.func @zero_init
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[M:.*]] = arith.constant 197 : index
// CHECK-DAG: %[[N:.*]] = arith.constant 1152 : index
// CHECK-DAG: %[[K:.*]] = arith.constant 384 : index
// CHECK-DAG: %[[A:.*]] = bufferization.to_buffer %arg0 read_only
// CHECK-DAG: %[[B:.*]] = bufferization.to_buffer %arg1 read_only
// CHECK-DAG: %[[C:.*]] = memref.alloc() : memref<197x1152xf32>
// CHECK-NOT: linalg.fill
// CHECK-DAG: %[[PA:.*]] = memref.extract_aligned_pointer_as_index %[[A]]
// CHECK-DAG: %[[PB:.*]] = memref.extract_aligned_pointer_as_index %[[B]]
// CHECK-DAG: %[[PC:.*]] = memref.extract_aligned_pointer_as_index %[[C]]
// CHECK: call @un_cuda_matmul_f32(%[[PA]], %[[PB]], %[[PC]], %[[C1]], %[[M]], %[[N]], %[[K]], %[[C0]])
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[C]] restrict writable
// CHECK: return %[[R]]
// TF32-LABEL: func.func @zero_init
// TF32: call @un_cuda_matmul_f32_tf32(
func.func @zero_init(%a: tensor<197x384xf32>, %b: tensor<384x1152xf32>) -> tensor<197x1152xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<197x1152xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<197x1152xf32>) -> tensor<197x1152xf32>
  %r = linalg.matmul ins(%a, %b : tensor<197x384xf32>, tensor<384x1152xf32>) outs(%f : tensor<197x1152xf32>) -> tensor<197x1152xf32>
  return %r : tensor<197x1152xf32>
}

// -----

// Another constant init is filled into the result, which the call
// accumulates into; bf16 inputs with an f32 result; batches.
// CHECK-LABEL: func.func @batch_bf16
// CHECK-DAG: %[[TWO:.*]] = arith.constant 2.000000e+00 : f32
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C12:.*]] = arith.constant 12 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK: %[[C:.*]] = memref.alloc() : memref<12x64x64xf32>
// CHECK: linalg.fill ins(%[[TWO]] : f32) outs(%[[C]] : memref<12x64x64xf32>)
// CHECK: call @un_cuda_matmul_bf16_f32(%{{.*}}, %{{.*}}, %{{.*}}, %[[C12]], %[[C64]], %[[C64]], %[[C32]], %[[C1]])
// TF32-LABEL: func.func @batch_bf16
// TF32: call @un_cuda_matmul_bf16_f32(
func.func @batch_bf16(%a: tensor<12x64x32xbf16>, %b: tensor<12x32x64xbf16>) -> tensor<12x64x64xf32> {
  %two = arith.constant 2.0 : f32
  %e = tensor.empty() : tensor<12x64x64xf32>
  %f = linalg.fill ins(%two : f32) outs(%e : tensor<12x64x64xf32>) -> tensor<12x64x64xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<12x64x32xbf16>, tensor<12x32x64xbf16>) outs(%f : tensor<12x64x64xf32>) -> tensor<12x64x64xf32>
  return %r : tensor<12x64x64xf32>
}

// -----

// Dynamic shapes: sizes from the operands, the dims that must agree
// asserted; a non-constant init is copied into the result. f16 throughout.
// CHECK-LABEL: func.func @dynamic_init
// CHECK-DAG: %[[M:.*]] = tensor.dim %arg0, %c0
// CHECK-DAG: %[[K:.*]] = tensor.dim %arg0, %c1
// CHECK-DAG: %[[KB:.*]] = tensor.dim %arg1, %c0
// CHECK-DAG: %[[N:.*]] = tensor.dim %arg1, %c1
// CHECK: %[[SAMEK:.*]] = arith.cmpi eq, %[[K]], %[[KB]]
// CHECK: cf.assert %[[SAMEK]], "matmul operands disagree on K"
// CHECK: cf.assert %{{.*}}, "matmul operands disagree on M"
// CHECK: cf.assert %{{.*}}, "matmul operands disagree on N"
// CHECK: %[[C:.*]] = memref.alloc(%{{.*}}, %{{.*}}) : memref<?x?xf16>
// CHECK: %[[INIT:.*]] = bufferization.to_buffer %arg2 read_only
// CHECK: memref.copy %[[INIT]], %[[C]]
// CHECK: call @un_cuda_matmul_f16(%{{.*}}, %{{.*}}, %{{.*}}, %c1, %[[M]], %[[N]], %[[K]], %c1)
func.func @dynamic_init(%a: tensor<?x?xf16>, %b: tensor<?x?xf16>, %c: tensor<?x?xf16>) -> tensor<?x?xf16> {
  %r = linalg.matmul ins(%a, %b : tensor<?x?xf16>, tensor<?x?xf16>) outs(%c : tensor<?x?xf16>) -> tensor<?x?xf16>
  return %r : tensor<?x?xf16>
}

// -----

// Left alone: integer matmuls, mixed input types, transposed maps.
// CHECK-LABEL: func.func @not_library
// CHECK-NOT: call
// CHECK: linalg.matmul ins(%arg0, %arg1 : tensor<4x8xi32>, tensor<8x4xi32>)
// CHECK: linalg.matmul ins(%arg3, %arg4 : tensor<4x8xf16>, tensor<8x4xf32>)
// CHECK: linalg.matmul indexing_maps = [#{{.*}}] ins(%arg6, %arg4
func.func @not_library(%a: tensor<4x8xi32>, %b: tensor<8x4xi32>, %c: tensor<4x4xi32>,
                       %d: tensor<4x8xf16>, %e: tensor<8x4xf32>, %f: tensor<4x4xf32>,
                       %g: tensor<8x4xf32>)
    -> (tensor<4x4xi32>, tensor<4x4xf32>, tensor<4x4xf32>) {
  %0 = linalg.matmul ins(%a, %b : tensor<4x8xi32>, tensor<8x4xi32>) outs(%c : tensor<4x4xi32>) -> tensor<4x4xi32>
  %1 = linalg.matmul ins(%d, %e : tensor<4x8xf16>, tensor<8x4xf32>) outs(%f : tensor<4x4xf32>) -> tensor<4x4xf32>
  %2 = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
         ins(%g, %e : tensor<8x4xf32>, tensor<8x4xf32>) outs(%f : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %0, %1, %2 : tensor<4x4xi32>, tensor<4x4xf32>, tensor<4x4xf32>
}
