// un-gpu-matmul{library=cublaslt}: matmuls become calls of the CUDA
// runtime's cuBLASLt entry point on the operands' buffers,
// (a, b, c, d, bias, batch, M, N, K): D = A B (+ C when c is not 0) (+ bias
// when bias is not 0), any shape, f32 / bf16 / f16 inputs; a bias add (and
// a residual add) that is a 2-D matmul's only user becomes the call's
// epilogue, in f32 or rounded to bf16, and so does an op that only rounds
// a bf16 matmul's f32 result to bf16.
// RUN: un-opt %s -split-input-file --un-gpu-matmul=library=cublaslt --canonicalize | FileCheck %s
// RUN: un-opt %s -split-input-file "--un-gpu-matmul=library=cublaslt tf32=true" --canonicalize | FileCheck %s --check-prefix=TF32
// RUN: not un-opt %s -split-input-file --un-gpu-matmul=library=blas 2>&1 | FileCheck %s --check-prefix=BAD

// BAD: error: un-gpu-matmul: library must be 'kernels' or 'cublaslt', not 'blas'

// A zero fill is beta = 0: no fill, the call does not accumulate.
// CHECK: func.func private @un_cuda_matmul_f32(index, index, index, index, index, index, index, index, index) attributes {un.device_pointers}
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
// CHECK: call @un_cuda_matmul_f32(%[[PA]], %[[PB]], %[[C0]], %[[PC]], %[[C0]], %[[C1]], %[[M]], %[[N]], %[[K]])
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
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C12:.*]] = arith.constant 12 : index
// CHECK-DAG: %[[C32:.*]] = arith.constant 32 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : index
// CHECK: %[[C:.*]] = memref.alloc() : memref<12x64x64xf32>
// CHECK: %[[PC:.*]] = memref.extract_aligned_pointer_as_index %[[C]]
// CHECK: linalg.fill ins(%[[TWO]] : f32) outs(%[[C]] : memref<12x64x64xf32>)
// CHECK: call @un_cuda_matmul_bf16_f32(%{{.*}}, %{{.*}}, %[[PC]], %[[PC]], %[[C0]], %[[C12]], %[[C64]], %[[C64]], %[[C32]])
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
// CHECK: %[[PC:.*]] = memref.extract_aligned_pointer_as_index %[[C]]
// CHECK: %[[INIT:.*]] = bufferization.to_buffer %arg2 read_only
// CHECK: memref.copy %[[INIT]], %[[C]]
// CHECK: call @un_cuda_matmul_f16(%{{.*}}, %{{.*}}, %[[PC]], %[[PC]], %c0, %c1, %[[M]], %[[N]], %[[K]])
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

// -----

// Epilogues: a bias add along N and a residual add that are a 2-D f32
// matmul's only user become the call's bias and C (any association and
// order of the adds); the generic goes away.
// CHECK-LABEL: func.func @bias_residual
// CHECK-DAG: %[[BIAS:.*]] = bufferization.to_buffer %arg2 read_only
// CHECK-DAG: %[[RES:.*]] = bufferization.to_buffer %arg3 read_only
// CHECK-DAG: %[[D:.*]] = memref.alloc() : memref<197x384xf32>
// CHECK-DAG: %[[PBIAS:.*]] = memref.extract_aligned_pointer_as_index %[[BIAS]]
// CHECK-DAG: %[[PRES:.*]] = memref.extract_aligned_pointer_as_index %[[RES]]
// CHECK-DAG: %[[PD:.*]] = memref.extract_aligned_pointer_as_index %[[D]]
// CHECK: call @un_cuda_matmul_f32(%{{.*}}, %{{.*}}, %[[PRES]], %[[PD]], %[[PBIAS]], %c1, %c197, %c384, %c1536)
// CHECK-NOT: linalg.generic
// CHECK: return
#id = affine_map<(m, n) -> (m, n)>
#col = affine_map<(m, n) -> (n)>
func.func @bias_residual(%a: tensor<197x1536xf32>, %b: tensor<1536x384xf32>, %bias: tensor<384xf32>,
                         %res: tensor<197x384xf32>) -> tensor<197x384xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<197x384xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<197x384xf32>) -> tensor<197x384xf32>
  %p = linalg.matmul ins(%a, %b : tensor<197x1536xf32>, tensor<1536x384xf32>) outs(%f : tensor<197x384xf32>) -> tensor<197x384xf32>
  %r = linalg.generic {indexing_maps = [#id, #col, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%res, %bias, %p : tensor<197x384xf32>, tensor<384xf32>, tensor<197x384xf32>) outs(%e : tensor<197x384xf32>) {
  ^bb0(%w: f32, %y: f32, %x: f32, %o: f32):
    %s = arith.addf %w, %x : f32
    %t = arith.addf %y, %s : f32
    linalg.yield %t : f32
  } -> tensor<197x384xf32>
  return %r : tensor<197x384xf32>
}

// -----

// Not an epilogue: a bias add whose matmul result has another user, a
// GELU after the bias add, a non-zero init, a batch_matmul.
// CHECK-LABEL: func.func @not_epilogues
// CHECK: call @un_cuda_matmul_f32({{.*}}, %c0, %c1, %c8, %c4, %c16)
// CHECK: linalg.generic
// CHECK: call @un_cuda_matmul_f32({{.*}}, %c0, %c1, %c8, %c4, %c16)
// CHECK: linalg.generic
// CHECK: call @un_cuda_matmul_f32({{.*}}, %c0, %c1, %c8, %c4, %c16)
// CHECK: linalg.generic
// CHECK: call @un_cuda_matmul_f32({{.*}}, %c0, %c2, %c8, %c4, %c16)
// CHECK: linalg.generic
#id = affine_map<(m, n) -> (m, n)>
#col = affine_map<(m, n) -> (n)>
#id3 = affine_map<(b, m, n) -> (b, m, n)>
#col3 = affine_map<(b, m, n) -> (n)>
func.func @not_epilogues(%a: tensor<8x16xf32>, %b: tensor<16x4xf32>, %bias: tensor<4xf32>,
                         %c: tensor<8x4xf32>, %ba: tensor<2x8x16xf32>, %bb: tensor<2x16x4xf32>)
    -> (tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<2x8x4xf32>) {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<8x4xf32>) -> tensor<8x4xf32>
  %p0 = linalg.matmul ins(%a, %b : tensor<8x16xf32>, tensor<16x4xf32>) outs(%f : tensor<8x4xf32>) -> tensor<8x4xf32>
  %r0 = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p0, %bias : tensor<8x4xf32>, tensor<4xf32>) outs(%e : tensor<8x4xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<8x4xf32>
  %p1 = linalg.matmul ins(%a, %b : tensor<8x16xf32>, tensor<16x4xf32>) outs(%f : tensor<8x4xf32>) -> tensor<8x4xf32>
  %r1 = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p1, %bias : tensor<8x4xf32>, tensor<4xf32>) outs(%e : tensor<8x4xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %g = math.tanh %s : f32
    linalg.yield %g : f32
  } -> tensor<8x4xf32>
  %p2 = linalg.matmul ins(%a, %b : tensor<8x16xf32>, tensor<16x4xf32>) outs(%c : tensor<8x4xf32>) -> tensor<8x4xf32>
  %r2 = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%p2, %bias : tensor<8x4xf32>, tensor<4xf32>) outs(%e : tensor<8x4xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<8x4xf32>
  %eb = tensor.empty() : tensor<2x8x4xf32>
  %fb = linalg.fill ins(%z : f32) outs(%eb : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %p3 = linalg.batch_matmul ins(%ba, %bb : tensor<2x8x16xf32>, tensor<2x16x4xf32>) outs(%fb : tensor<2x8x4xf32>) -> tensor<2x8x4xf32>
  %r3 = linalg.generic {indexing_maps = [#id3, #col3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%p3, %bias : tensor<2x8x4xf32>, tensor<4xf32>) outs(%eb : tensor<2x8x4xf32>) {
  ^bb0(%x: f32, %y: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    linalg.yield %s : f32
  } -> tensor<2x8x4xf32>
  return %r0, %p0, %r1, %r2, %r3 : tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<8x4xf32>, tensor<2x8x4xf32>
}

// -----

// bf16 Linear layers as a mixed-precision model computes them: bf16
// inputs, f32 accumulation, the bias (and residual) widened, added and the
// sum rounded to bf16: one call with D, C and the bias in bf16. A batched
// matmul whose f32 result is only rounded to bf16 writes bf16 itself.
// CHECK-LABEL: func.func @bf16_epilogues
// CHECK: memref.alloc() : memref<197x384xbf16>
// CHECK: %[[BIAS:.*]] = bufferization.to_buffer %arg2 read_only : tensor<384xbf16>
// CHECK: %[[PBIAS:.*]] = memref.extract_aligned_pointer_as_index %[[BIAS]]
// CHECK: call @un_cuda_matmul_bf16(%{{.*}}, %{{.*}}, %c0, %{{.*}}, %[[PBIAS]], %c1, %c197, %c384, %c1536)
// CHECK: memref.alloc() : memref<197x384xbf16>
// CHECK: %[[RES:.*]] = bufferization.to_buffer %arg3 read_only : tensor<197x384xbf16>
// CHECK: %[[PRES:.*]] = memref.extract_aligned_pointer_as_index %[[RES]]
// CHECK: call @un_cuda_matmul_bf16(%{{.*}}, %{{.*}}, %[[PRES]], %{{.*}}, %{{.*}}, %c1, %c197, %c384, %c1536)
// CHECK: memref.alloc() : memref<6x197x64xbf16>
// CHECK: call @un_cuda_matmul_bf16(%{{.*}}, %{{.*}}, %c0, %{{.*}}, %c0, %c6, %c197, %c64, %c197)
// CHECK-NOT: linalg.generic
// CHECK: return
#id = affine_map<(m, n) -> (m, n)>
#col = affine_map<(m, n) -> (n)>
#id3 = affine_map<(b, m, n) -> (b, m, n)>
func.func @bf16_epilogues(%a: tensor<197x1536xbf16>, %b: tensor<1536x384xbf16>,
                          %bias: tensor<384xbf16>, %res: tensor<197x384xbf16>,
                          %p: tensor<6x197x197xbf16>, %v: tensor<6x197x64xbf16>)
    -> (tensor<197x384xbf16>, tensor<197x384xbf16>, tensor<6x197x64xbf16>) {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<197x384xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<197x384xf32>) -> tensor<197x384xf32>
  %eh = tensor.empty() : tensor<197x384xbf16>
  %m0 = linalg.matmul ins(%a, %b : tensor<197x1536xbf16>, tensor<1536x384xbf16>) outs(%f : tensor<197x384xf32>) -> tensor<197x384xf32>
  %r0 = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m0, %bias : tensor<197x384xf32>, tensor<384xbf16>) outs(%eh : tensor<197x384xbf16>) {
  ^bb0(%x: f32, %y: bf16, %o: bf16):
    %yw = arith.extf %y : bf16 to f32
    %s = arith.addf %x, %yw : f32
    %h = arith.truncf %s : f32 to bf16
    linalg.yield %h : bf16
  } -> tensor<197x384xbf16>
  %m1 = linalg.matmul ins(%a, %b : tensor<197x1536xbf16>, tensor<1536x384xbf16>) outs(%f : tensor<197x384xf32>) -> tensor<197x384xf32>
  %r1 = linalg.generic {indexing_maps = [#id, #col, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m1, %bias, %res : tensor<197x384xf32>, tensor<384xbf16>, tensor<197x384xbf16>) outs(%eh : tensor<197x384xbf16>) {
  ^bb0(%x: f32, %y: bf16, %w: bf16, %o: bf16):
    %yw = arith.extf %y : bf16 to f32
    %ww = arith.extf %w : bf16 to f32
    %s = arith.addf %x, %yw : f32
    %t = arith.addf %s, %ww : f32
    %h = arith.truncf %t : f32 to bf16
    linalg.yield %h : bf16
  } -> tensor<197x384xbf16>
  %e3 = tensor.empty() : tensor<6x197x64xf32>
  %f3 = linalg.fill ins(%z : f32) outs(%e3 : tensor<6x197x64xf32>) -> tensor<6x197x64xf32>
  %m2 = linalg.batch_matmul ins(%p, %v : tensor<6x197x197xbf16>, tensor<6x197x64xbf16>) outs(%f3 : tensor<6x197x64xf32>) -> tensor<6x197x64xf32>
  %eh3 = tensor.empty() : tensor<6x197x64xbf16>
  %r2 = linalg.generic {indexing_maps = [#id3, #id3], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%m2 : tensor<6x197x64xf32>) outs(%eh3 : tensor<6x197x64xbf16>) {
  ^bb0(%x: f32, %o: bf16):
    %h = arith.truncf %x : f32 to bf16
    linalg.yield %h : bf16
  } -> tensor<6x197x64xbf16>
  return %r0, %r1, %r2 : tensor<197x384xbf16>, tensor<197x384xbf16>, tensor<6x197x64xbf16>
}

// -----

// Not bf16 epilogues: the sum rounded to f16 (not the inputs' type), a
// widened bias used twice, a residual without a bias, an f32 bias added to
// a sum rounded to bf16.
// CHECK-LABEL: func.func @not_bf16_epilogues
// CHECK-COUNT-4: call @un_cuda_matmul_bf16_f32({{.*}}, %c0, %c1, %c8, %c4, %c16)
// CHECK-NOT: call
#id = affine_map<(m, n) -> (m, n)>
#col = affine_map<(m, n) -> (n)>
func.func @not_bf16_epilogues(%a: tensor<8x16xbf16>, %b: tensor<16x4xbf16>, %bias: tensor<4xbf16>,
                              %res: tensor<8x4xbf16>, %bias32: tensor<4xf32>)
    -> (tensor<8x4xf16>, tensor<8x4xbf16>, tensor<8x4xbf16>, tensor<8x4xbf16>) {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<8x4xf32>) -> tensor<8x4xf32>
  %eh = tensor.empty() : tensor<8x4xbf16>
  %e16 = tensor.empty() : tensor<8x4xf16>
  %m0 = linalg.matmul ins(%a, %b : tensor<8x16xbf16>, tensor<16x4xbf16>) outs(%f : tensor<8x4xf32>) -> tensor<8x4xf32>
  %r0 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m0 : tensor<8x4xf32>) outs(%e16 : tensor<8x4xf16>) {
  ^bb0(%x: f32, %o: f16):
    %h = arith.truncf %x : f32 to f16
    linalg.yield %h : f16
  } -> tensor<8x4xf16>
  %m1 = linalg.matmul ins(%a, %b : tensor<8x16xbf16>, tensor<16x4xbf16>) outs(%f : tensor<8x4xf32>) -> tensor<8x4xf32>
  %r1 = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m1, %bias : tensor<8x4xf32>, tensor<4xbf16>) outs(%eh : tensor<8x4xbf16>) {
  ^bb0(%x: f32, %y: bf16, %o: bf16):
    %yw = arith.extf %y : bf16 to f32
    %s = arith.addf %x, %yw : f32
    %t = arith.addf %s, %yw : f32
    %h = arith.truncf %t : f32 to bf16
    linalg.yield %h : bf16
  } -> tensor<8x4xbf16>
  %m2 = linalg.matmul ins(%a, %b : tensor<8x16xbf16>, tensor<16x4xbf16>) outs(%f : tensor<8x4xf32>) -> tensor<8x4xf32>
  %r2 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m2, %res : tensor<8x4xf32>, tensor<8x4xbf16>) outs(%eh : tensor<8x4xbf16>) {
  ^bb0(%x: f32, %w: bf16, %o: bf16):
    %ww = arith.extf %w : bf16 to f32
    %s = arith.addf %x, %ww : f32
    %h = arith.truncf %s : f32 to bf16
    linalg.yield %h : bf16
  } -> tensor<8x4xbf16>
  %m3 = linalg.matmul ins(%a, %b : tensor<8x16xbf16>, tensor<16x4xbf16>) outs(%f : tensor<8x4xf32>) -> tensor<8x4xf32>
  %r3 = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m3, %bias32 : tensor<8x4xf32>, tensor<4xf32>) outs(%eh : tensor<8x4xbf16>) {
  ^bb0(%x: f32, %y: f32, %o: bf16):
    %s = arith.addf %x, %y : f32
    %h = arith.truncf %s : f32 to bf16
    linalg.yield %h : bf16
  } -> tensor<8x4xbf16>
  return %r0, %r1, %r2, %r3 : tensor<8x4xf16>, tensor<8x4xbf16>, tensor<8x4xbf16>, tensor<8x4xbf16>
}
