// pack-weights: the right operand of every f32 matmul that is a weight is
// stored in panels of 16 columns ([N/16, K, 16]) and the matmul reads the
// panels. Weights from arguments are packed in @<name>_prepare_weights
// (with hoist-weight-prep), constants at compile time; without hoisting
// only constants are packed.
// RUN: un-opt %s -un-fold-into-linear="hoist-weight-prep=true pack-weights=true" -split-input-file | FileCheck %s
// RUN: un-opt %s -un-fold-into-linear="pack-weights=true" -split-input-file | FileCheck %s --check-prefix=INLINE
// RUN: un-opt %s -un-fold-into-linear="hoist-weight-prep=true" -split-input-file | FileCheck %s --check-prefix=OFF

// A weight argument, read by two matmuls, and one of Linear's layout
// ([N, K], transposed by the model): each is packed once, in the
// preparation. N = 20 is no multiple of 16: that matmul is left as it is.
// CHECK-LABEL: func.func @args(
// CHECK: %[[P:.*]]:2 = call @args_prepare_weights(%{{.*}}, %{{.*}}) : (tensor<8x32xf32>, tensor<48x8xf32>) -> (tensor<2x8x16xf32>, tensor<3x8x16xf32>)
// CHECK: call @args_folded({{.*}}%[[P]]#0, %[[P]]#1)
// CHECK-LABEL: func.func @args_prepare_weights(
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1, 2]] output_shape [8, 2, 16] : tensor<8x32xf32> into tensor<8x2x16xf32>
// CHECK: linalg.transpose {{.*}} permutation = [1, 0, 2]
// CHECK: linalg.transpose {{.*}} permutation = [1, 0]
// CHECK: tensor.expand_shape %{{.*}} output_shape [8, 3, 16]
// CHECK: linalg.transpose {{.*}} permutation = [1, 0, 2]
// CHECK-LABEL: func.func @args_folded(
// CHECK-SAME: %[[X:[^:]*]]: tensor<4x8xf32>, %[[V:[^:]*]]: tensor<8x20xf32>, %[[WP:[^:]*]]: tensor<2x8x16xf32>, %[[TP:[^:]*]]: tensor<3x8x16xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: linalg.generic {indexing_maps = [#[[A:.*]], #[[B:.*]], #[[C:.*]]], iterator_types = ["parallel", "parallel", "reduction"]} ins(%[[X]], %[[WP]] : tensor<4x8xf32>, tensor<2x8x16xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[WP]] : tensor<4x8xf32>, tensor<2x8x16xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[X]], %[[TP]] : tensor<4x8xf32>, tensor<3x8x16xf32>)
// CHECK: linalg.matmul ins(%[[X]], %[[V]] : tensor<4x8xf32>, tensor<8x20xf32>)
// INLINE-LABEL: func.func @args(
// INLINE-NOT: linalg.generic
// INLINE-COUNT-4: linalg.matmul
// OFF-LABEL: func.func @args(
// OFF-NOT: linalg.generic
// OFF-COUNT-4: linalg.matmul
func.func @args(%x: tensor<4x8xf32>, %w: tensor<8x32xf32>, %t: tensor<48x8xf32>,
                %v: tensor<8x20xf32>) -> (tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x48xf32>, tensor<4x20xf32>) {
  %zero = arith.constant 0.0 : f32
  %e32 = tensor.empty() : tensor<4x32xf32>
  %f32 = linalg.fill ins(%zero : f32) outs(%e32 : tensor<4x32xf32>) -> tensor<4x32xf32>
  %a = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x32xf32>) outs(%f32 : tensor<4x32xf32>) -> tensor<4x32xf32>
  %a2 = linalg.matmul ins(%x, %w : tensor<4x8xf32>, tensor<8x32xf32>) outs(%a : tensor<4x32xf32>) -> tensor<4x32xf32>
  %et = tensor.empty() : tensor<8x48xf32>
  %tt = linalg.transpose ins(%t : tensor<48x8xf32>) outs(%et : tensor<8x48xf32>) permutation = [1, 0]
  %e48 = tensor.empty() : tensor<4x48xf32>
  %f48 = linalg.fill ins(%zero : f32) outs(%e48 : tensor<4x48xf32>) -> tensor<4x48xf32>
  %b = linalg.matmul ins(%x, %tt : tensor<4x8xf32>, tensor<8x48xf32>) outs(%f48 : tensor<4x48xf32>) -> tensor<4x48xf32>
  %e20 = tensor.empty() : tensor<4x20xf32>
  %f20 = linalg.fill ins(%zero : f32) outs(%e20 : tensor<4x20xf32>) -> tensor<4x20xf32>
  %c = linalg.matmul ins(%x, %v : tensor<4x8xf32>, tensor<8x20xf32>) outs(%f20 : tensor<4x20xf32>) -> tensor<4x20xf32>
  return %a, %a2, %b, %c : tensor<4x32xf32>, tensor<4x32xf32>, tensor<4x48xf32>, tensor<4x20xf32>
}

// -----

// A constant weight is packed at compile time: element [q, k, r] of the
// panels is W[k, 16 q + r]. An activation (computed from %x) is no weight.
// CHECK-LABEL: func.func @constant(
// CHECK-NOT: call
// CHECK: arith.constant dense<{{\[\[\[}}0.000000e+00, 1.000000e+00, 2.000000e+00, 3.000000e+00, 4.000000e+00, 5.000000e+00, 6.000000e+00, 7.000000e+00, 8.000000e+00, 9.000000e+00, 1.000000e+01, 1.100000e+01, 1.200000e+01, 1.300000e+01, 1.400000e+01, 1.500000e+01], [3.200000e+01, {{.*}}]], {{\[\[}}1.600000e+01, {{.*}}, 3.100000e+01], [4.800000e+01, {{.*}}, 6.300000e+01]]]> : tensor<2x2x16xf32>
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<3x2xf32>, tensor<2x2x16xf32>)
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<2x3xf32>, tensor<3x32xf32>)
// INLINE-LABEL: func.func @constant(
// INLINE: linalg.generic {{.*}} tensor<2x2x16xf32>
// INLINE: linalg.matmul
// OFF-LABEL: func.func @constant(
// OFF-COUNT-2: linalg.matmul
func.func @constant(%x: tensor<3x2xf32>, %y: tensor<2x3xf32>) -> (tensor<3x32xf32>, tensor<2x32xf32>) {
  %w = arith.constant dense<[[0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0,
                              16.0, 17.0, 18.0, 19.0, 20.0, 21.0, 22.0, 23.0, 24.0, 25.0, 26.0, 27.0, 28.0, 29.0, 30.0, 31.0],
                             [32.0, 33.0, 34.0, 35.0, 36.0, 37.0, 38.0, 39.0, 40.0, 41.0, 42.0, 43.0, 44.0, 45.0, 46.0, 47.0,
                              48.0, 49.0, 50.0, 51.0, 52.0, 53.0, 54.0, 55.0, 56.0, 57.0, 58.0, 59.0, 60.0, 61.0, 62.0, 63.0]]> : tensor<2x32xf32>
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x32xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<3x32xf32>) -> tensor<3x32xf32>
  %r = linalg.matmul ins(%x, %w : tensor<3x2xf32>, tensor<2x32xf32>) outs(%f : tensor<3x32xf32>) -> tensor<3x32xf32>
  %e2 = tensor.empty() : tensor<2x32xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x32xf32>) -> tensor<2x32xf32>
  %act = linalg.matmul ins(%x, %w : tensor<3x2xf32>, tensor<2x32xf32>) outs(%f : tensor<3x32xf32>) -> tensor<3x32xf32>
  %s = tensor.extract_slice %act[0, 0] [3, 32] [1, 1] : tensor<3x32xf32> to tensor<3x32xf32>
  %r2 = linalg.matmul ins(%y, %s : tensor<2x3xf32>, tensor<3x32xf32>) outs(%f2 : tensor<2x32xf32>) -> tensor<2x32xf32>
  return %r, %r2 : tensor<3x32xf32>, tensor<2x32xf32>
}
