// RUN: un-opt %s --un-cpu-patch-conv-to-matmul | FileCheck %s

// A ViT patch embedding: 16x16 patches, stride 16, dynamic batch, 2 pixels
// past the last whole patch.
// CHECK-LABEL: func.func @patches
// CHECK-NOT: linalg.conv_2d
// CHECK: tensor.extract_slice %{{.*}}[0, 0, 0, 0] [%{{.*}}, 3, 32, 48] [1, 1, 1, 1]
// CHECK: tensor.expand_shape %{{.*}} {{\[\[}}0], [1], [2, 3], [4, 5]] {{.*}} into tensor<?x3x2x16x3x16xf32>
// CHECK: linalg.transpose {{.*}} permutation = [0, 2, 4, 1, 3, 5]
// CHECK: %[[A:.*]] = tensor.collapse_shape %{{.*}} {{\[\[}}0, 1, 2], [3, 4, 5]] : tensor<?x2x3x3x16x16xf32> into tensor<?x768xf32>
// CHECK: tensor.collapse_shape %{{.*}} : tensor<8x3x16x16xf32> into tensor<8x768xf32>
// CHECK: %[[B:.*]] = linalg.transpose ins(%{{.*}} : tensor<8x768xf32>) outs(%{{.*}} : tensor<768x8xf32>) permutation = [1, 0]
// CHECK: linalg.transpose ins(%{{.*}} : tensor<?x8x2x3xf32>) {{.*}} permutation = [0, 2, 3, 1]
// CHECK: %[[C:.*]] = tensor.collapse_shape %{{.*}} into tensor<?x8xf32>
// CHECK: %[[P:.*]] = linalg.matmul ins(%[[A]], %[[B]] : tensor<?x768xf32>, tensor<768x8xf32>) outs(%[[C]] : tensor<?x8xf32>)
// CHECK: tensor.expand_shape %[[P]]
// CHECK: linalg.transpose {{.*}} permutation = [0, 3, 1, 2]
func.func @patches(%x: tensor<?x3x34x50xf32>, %w: tensor<8x3x16x16xf32>, %init: tensor<?x8x2x3xf32>) -> tensor<?x8x2x3xf32> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<16> : vector<2xi64>}
         ins(%x, %w : tensor<?x3x34x50xf32>, tensor<8x3x16x16xf32>) outs(%init : tensor<?x8x2x3xf32>) -> tensor<?x8x2x3xf32>
  return %0 : tensor<?x8x2x3xf32>
}

// Overlapping windows (stride < kernel) stay convolutions.
// CHECK-LABEL: func.func @overlapping
// CHECK: linalg.conv_2d_nchw_fchw
func.func @overlapping(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %init: tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32> {
  %0 = linalg.conv_2d_nchw_fchw {dilations = dense<1> : vector<2xi64>, strides = dense<1> : vector<2xi64>}
         ins(%x, %w : tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) outs(%init : tensor<1x4x6x6xf32>) -> tensor<1x4x6x6xf32>
  return %0 : tensor<1x4x6x6xf32>
}
