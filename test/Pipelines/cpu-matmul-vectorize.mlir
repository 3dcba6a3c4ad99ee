// Static f32 matmuls and batch_matmuls become register tiles of vector
// FMAs in the CPU pipeline (un-cpu-tile-and-vectorize, then the vector
// lowering); dynamic ones stay scalar loops.
// RUN: un-opt %s --un-cpu-pipeline | FileCheck %s
// RUN: un-opt %s --un-to-linalg-pipeline --eliminate-empty-tensors \
// RUN:   --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" \
// RUN:   --un-cpu-tile-and-vectorize | FileCheck %s --check-prefix=TILE

// CHECK-LABEL: llvm.func @matmul(
// CHECK: llvm.intr.fmuladd{{.*}} : (vector<32xf32>, vector<32xf32>, vector<32xf32>) -> vector<32xf32>
// The row remainder (197 = 24 * 8 + 5) is a [5, 32] tile.
// CHECK: llvm.intr.fmuladd{{.*}} : (vector<32xf32>, vector<32xf32>, vector<32xf32>) -> vector<32xf32>
// CHECK-LABEL: llvm.func @batch_matmul(
// CHECK: llvm.intr.fmuladd{{.*}} : (vector<32xf32>, vector<32xf32>, vector<32xf32>) -> vector<32xf32>
// The column remainder (197 = 6 * 32 + 5) is an [8, 5] tile.
// CHECK: llvm.intr.fmuladd{{.*}} : (vector<5xf32>, vector<5xf32>, vector<5xf32>) -> vector<5xf32>
// CHECK-LABEL: llvm.func @dynamic(
// CHECK-NOT: vector<
// CHECK: llvm.fmul {{.*}} : f32
// CHECK: llvm.return

// TILE-LABEL: func.func @matmul(
// TILE: scf.for %{{.*}} = %c0 to %c192 step %c8
// TILE: scf.for %{{.*}} = %c0 to %c1152 step %c32
// TILE: memref.subview {{.*}} [8, 32] [1, 1]
// TILE: vector.transfer_read {{.*}} vector<8x32xf32>
// TILE: scf.for {{.*}} iter_args({{.*}}) -> (vector<8x32xf32>)
// TILE: vector.contract
// TILE: scf.yield {{.*}} : vector<8x32xf32>
// TILE: vector.transfer_write {{.*}} : vector<8x32xf32>
// TILE: scf.for %{{.*}} = %c192 to %c197 step %c5
// TILE: vector.contract {{.*}} vector<5x1xf32>, vector<1x32xf32> into vector<5x32xf32>
// TILE-NOT: linalg.matmul
// TILE-LABEL: func.func @batch_matmul(
// TILE: scf.for
// TILE: memref.subview {{.*}} [1, 197, 64] [1, 1, 1] : memref<6x197x64xf32> to memref<197x64xf32, strided<[64, 1], offset: ?>>
// TILE: vector.contract {{.*}} into vector<8x32xf32>
// TILE: vector.contract {{.*}} into vector<8x5xf32>
// TILE-NOT: linalg.batch_matmul
// TILE-LABEL: func.func @dynamic(
// TILE: linalg.matmul
// TILE-NOT: vector.

func.func @matmul(%a: tensor<197x384xf32>, %b: tensor<384x1152xf32>) -> tensor<197x1152xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<197x1152xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<197x1152xf32>) -> tensor<197x1152xf32>
  %r = linalg.matmul ins(%a, %b : tensor<197x384xf32>, tensor<384x1152xf32>) outs(%f : tensor<197x1152xf32>) -> tensor<197x1152xf32>
  return %r : tensor<197x1152xf32>
}

func.func @batch_matmul(%a: tensor<6x197x64xf32>, %b: tensor<6x64x197xf32>) -> tensor<6x197x197xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6x197x197xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<6x197x197xf32>) -> tensor<6x197x197xf32>
  %r = linalg.batch_matmul ins(%a, %b : tensor<6x197x64xf32>, tensor<6x64x197xf32>) outs(%f : tensor<6x197x197xf32>) -> tensor<6x197x197xf32>
  return %r : tensor<6x197x197xf32>
}

func.func @dynamic(%a: tensor<?x?xf32>, %b: tensor<?x?xf32>, %c: tensor<?x?xf32>) -> tensor<?x?xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<?x?xf32>, tensor<?x?xf32>) outs(%c : tensor<?x?xf32>) -> tensor<?x?xf32>
  return %r : tensor<?x?xf32>
}
