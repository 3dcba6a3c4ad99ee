// un-cpu-privatize-fills: a fill that several ops write into is cloned for
// each of them, so bufferization fills each buffer in place instead of
// copying one filled buffer per op.
// RUN: un-opt %s --un-cpu-privatize-fills | FileCheck %s
// RUN: un-opt %s --un-cpu-privatize-fills --one-shot-bufferize="bufferize-function-boundaries" | FileCheck %s --check-prefix=BUF

// Each clone fills a tensor.empty of its own.
// CHECK-LABEL: func.func @shared(
// CHECK: %[[F0:.*]] = linalg.fill
// CHECK-NEXT: %[[M0:.*]] = linalg.matmul {{.*}} outs(%[[F0]] :
// CHECK-NEXT: %[[E1:.*]] = tensor.empty()
// CHECK-NEXT: %[[F1:.*]] = linalg.fill {{.*}} outs(%[[E1]] :
// CHECK-NEXT: %[[M1:.*]] = linalg.matmul {{.*}} outs(%[[F1]] :
// CHECK-NEXT: %[[E2:.*]] = tensor.empty()
// CHECK-NEXT: %[[F2:.*]] = linalg.fill {{.*}} outs(%[[E2]] :
// CHECK-NEXT: linalg.matmul {{.*}} outs(%[[F2]] :
// BUF-LABEL: func.func @shared(
// BUF-NOT: memref.copy
// BUF: return
func.func @shared(%a: tensor<8x16xf32>, %b: tensor<16x32xf32>, %c: tensor<16x32xf32>, %d: tensor<16x32xf32>)
    -> (tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<8x32xf32>) -> tensor<8x32xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<8x16xf32>, tensor<16x32xf32>) outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  %1 = linalg.matmul ins(%a, %c : tensor<8x16xf32>, tensor<16x32xf32>) outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  %2 = linalg.matmul ins(%a, %d : tensor<8x16xf32>, tensor<16x32xf32>) outs(%f : tensor<8x32xf32>) -> tensor<8x32xf32>
  return %0, %1, %2 : tensor<8x32xf32>, tensor<8x32xf32>, tensor<8x32xf32>
}

// A fill also read as an input keeps that use; the ops that write into it
// get clones.
// CHECK-LABEL: func.func @read_too(
// CHECK: %[[F:.*]] = linalg.fill
// CHECK: %[[G:.*]] = linalg.fill
// CHECK-NEXT: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<32x32xf32>, tensor<32x32xf32>) outs(%[[G]] :
// CHECK: return %{{.*}}, %[[F]]
func.func @read_too(%a: tensor<32x32xf32>, %b: tensor<32x32xf32>) -> (tensor<32x32xf32>, tensor<32x32xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<32x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<32x32xf32>) -> tensor<32x32xf32>
  %0 = linalg.matmul ins(%a, %b : tensor<32x32xf32>, tensor<32x32xf32>) outs(%f : tensor<32x32xf32>) -> tensor<32x32xf32>
  return %0, %f : tensor<32x32xf32>, tensor<32x32xf32>
}
