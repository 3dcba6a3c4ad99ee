// Epilogue fusion in un-cpu-tile-and-vectorize: the elementwise generic
// after a matmul (bias, GELU, residual) runs on the accumulators of the
// last K block and writes its output; no second pass over the result.
// RUN: un-opt %s --split-input-file --un-cpu-tile-and-vectorize=cpu=znver3 | FileCheck %s

// In place (the generic writes the matmul's buffer), with a bias row and a
// residual tile; K = 1536 is two blocks of 768 (AVX2): the epilogue only
// in the last one.
// CHECK-LABEL: func.func @bias_residual_in_place(
// CHECK-NOT: linalg.
// CHECK: scf.for {{.*}} step %c80
// CHECK: scf.for {{.*}} step %c768
// CHECK-NOT: arith.addf
// CHECK: vector.store {{.*}}, %[[C:.*]][{{.*}}] : memref<197x384xf32>, vector<8xf32>
// CHECK: }
// CHECK: vector.fma
// CHECK: %[[BIAS:.*]] = vector.load %arg2[%{{.*}}] : memref<384xf32>, vector<8xf32>
// CHECK: %[[RES:.*]] = vector.load %arg3[{{.*}}] : memref<197x384xf32>, vector<8xf32>
// CHECK: %[[S:.*]] = arith.addf {{.*}}, %[[BIAS]] : vector<8xf32>
// CHECK: %[[R:.*]] = arith.addf %[[S]], %[[RES]] : vector<8xf32>
// CHECK: vector.store %[[R]], %[[C]]
// CHECK-NOT: linalg.generic
func.func @bias_residual_in_place(%a: memref<197x1536xf32>, %b: memref<1536x384xf32>, %bias: memref<384xf32>,
                                  %res: memref<197x384xf32>) -> memref<197x384xf32> {
  %zero = arith.constant 0.0 : f32
  %c = memref.alloc() : memref<197x384xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<197x384xf32>)
  linalg.matmul ins(%a, %b : memref<197x1536xf32>, memref<1536x384xf32>) outs(%c : memref<197x384xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>,
                                   affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%c, %bias, %res : memref<197x384xf32>, memref<384xf32>, memref<197x384xf32>)
      outs(%c : memref<197x384xf32>) {
  ^bb0(%x: f32, %y: f32, %r: f32, %o: f32):
    %s = arith.addf %x, %y : f32
    %t = arith.addf %s, %r : f32
    linalg.yield %t : f32
  }
  return %c : memref<197x384xf32>
}

// -----

// Into another buffer (allocated between the two ops: moved up), with a
// per-row operand and a constant from outside the body.
// CHECK-LABEL: func.func @other_buffer(
// CHECK: %[[OUT:.*]] = memref.alloc() : memref<64x32xf32>
// CHECK: scf.for
// CHECK: %[[ROW:.*]] = memref.load %arg2[{{.*}}] : memref<64xf32>
// CHECK: vector.broadcast %[[ROW]] : f32 to vector<8xf32>
// CHECK: arith.constant dense<5.000000e-01> : vector<8xf32>
// CHECK: math.tanh {{.*}} : vector<8xf32>
// CHECK: vector.store {{.*}}, %[[OUT]]
// CHECK-NOT: linalg.generic
func.func @other_buffer(%a: memref<64x16xf32>, %b: memref<16x32xf32>, %row: memref<64xf32>) -> memref<64x32xf32> {
  %zero = arith.constant 0.0 : f32
  %half = arith.constant 0.5 : f32
  %c = memref.alloc() : memref<64x32xf32>
  linalg.fill ins(%zero : f32) outs(%c : memref<64x32xf32>)
  linalg.matmul ins(%a, %b : memref<64x16xf32>, memref<16x32xf32>) outs(%c : memref<64x32xf32>)
  %out = memref.alloc() : memref<64x32xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>,
                                   affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%c, %row : memref<64x32xf32>, memref<64xf32>) outs(%out : memref<64x32xf32>) {
  ^bb0(%x: f32, %r: f32, %o: f32):
    %s = arith.mulf %x, %r : f32
    %h = arith.mulf %s, %half : f32
    %t = math.tanh %h : f32
    linalg.yield %t : f32
  }
  memref.dealloc %c : memref<64x32xf32>
  return %out : memref<64x32xf32>
}

// -----

// Not fused: the matmul's result is also read by another op (it must hold
// the full sums), and a generic that is not elementwise in it.
// CHECK-LABEL: func.func @not_fused(
// CHECK: vector.fma
// CHECK: linalg.generic
// CHECK: linalg.copy
// CHECK: vector.fma
// CHECK: linalg.generic
func.func @not_fused(%a: memref<64x16xf32>, %b: memref<16x32xf32>, %other: memref<64x32xf32>,
                     %t: memref<32x64xf32>) {
  %c = memref.alloc() : memref<64x32xf32>
  linalg.matmul ins(%a, %b : memref<64x16xf32>, memref<16x32xf32>) outs(%c : memref<64x32xf32>)
  %out = memref.alloc() : memref<64x32xf32>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%c : memref<64x32xf32>) outs(%out : memref<64x32xf32>) {
  ^bb0(%x: f32, %o: f32):
    %s = arith.addf %x, %x : f32
    linalg.yield %s : f32
  }
  linalg.copy ins(%c : memref<64x32xf32>) outs(%other : memref<64x32xf32>)
  %d = memref.alloc() : memref<64x32xf32>
  linalg.matmul ins(%a, %b : memref<64x16xf32>, memref<16x32xf32>) outs(%d : memref<64x32xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%d : memref<64x32xf32>) outs(%t : memref<32x64xf32>) {
  ^bb0(%x: f32, %o: f32):
    linalg.yield %x : f32
  }
  return
}
