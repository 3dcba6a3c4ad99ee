// hoist-weight-prep keeps argument attributes with their arguments: each
// argument of @f_prepare_weights and @f_folded has the attributes of the
// argument of @f it stands for; the prepared weights have none. (The
// arguments appended to @f_folded once left its argument attributes one
// entry per original argument: the verifier failed and printing the
// error crashed.)
// RUN: un-opt %s -un-fold-into-linear=hoist-weight-prep=true | FileCheck %s
// RUN: un-opt %s -un-inference-pipeline -un-cpu-pipeline | FileCheck %s --check-prefix=CPU

#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @residual(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x4xf32> {bufferization.writable = false, my.arg = 0 : i32}, %[[W:[^:]*]]: tensor<4x4xf32> {my.arg = 1 : i32}, %[[G:[^:]*]]: tensor<4xf32> {my.arg = 2 : i32}, %[[BETA:[^:]*]]: tensor<4xf32> {bufferization.writable = false, my.arg = 3 : i32}, %[[RV:[^:]*]]: tensor<4xf32> {my.arg = 4 : i32})
// CHECK-NEXT: %[[P:.*]]:3 = call @residual_prepare_weights(%[[W]], %[[G]], %[[BETA]], %[[RV]])
// CHECK-NEXT: call @residual_folded(%[[X]], %[[BETA]], %[[P]]#0, %[[P]]#1, %[[P]]#2)
// CHECK-LABEL: func.func @residual_prepare_weights(
// CHECK-SAME: %{{[^:]*}}: tensor<4x4xf32> {my.arg = 1 : i32}, %{{[^:]*}}: tensor<4xf32> {my.arg = 2 : i32}, %{{[^:]*}}: tensor<4xf32> {bufferization.writable = false, my.arg = 3 : i32}, %{{[^:]*}}: tensor<4xf32> {my.arg = 4 : i32}) -> (tensor<4xf32>, tensor<4x4xf32>, tensor<4xf32>)
// CHECK-LABEL: func.func @residual_folded(
// CHECK-SAME: %{{[^:]*}}: tensor<5x4xf32> {bufferization.writable = false, my.arg = 0 : i32}, %{{[^:]*}}: tensor<4xf32> {bufferization.writable = false, my.arg = 3 : i32}, %{{[^:]*}}: tensor<4xf32>, %{{[^:]*}}: tensor<4x4xf32>, %{{[^:]*}}: tensor<4xf32>) -> tensor<5x4xf32>
// CPU: llvm.func @residual(
// CPU: llvm.func @residual_prepare_weights(
// CPU: llvm.func @residual_folded(
func.func @residual(%x: tensor<5x4xf32> {bufferization.writable = false, my.arg = 0 : i32}, %w: tensor<4x4xf32> {my.arg = 1 : i32}, %g: tensor<4xf32> {my.arg = 2 : i32}, %beta: tensor<4xf32> {bufferization.writable = false, my.arg = 3 : i32}, %rv: tensor<4xf32> {my.arg = 4 : i32}) -> tensor<5x4xf32> {
  %y = un.infer %x, %g, %beta, %rv : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x4xf32>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  %o = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %y : tensor<5x4xf32>, tensor<5x4xf32>) outs(%e : tensor<5x4xf32>) {
  ^bb0(%v: f32, %r: f32, %out: f32):
    %s = arith.addf %v, %r : f32
    linalg.yield %s : f32
  } -> tensor<5x4xf32>
  return %o : tensor<5x4xf32>
}
