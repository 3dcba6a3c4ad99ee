// hoist-weight-prep: the weight work of folding moves out of the hot path.
// RUN: un-opt %s -un-fold-into-linear=hoist-weight-prep=true -split-input-file | FileCheck %s
// RUN: un-opt %s -un-fold-into-linear -split-input-file | FileCheck %s --check-prefix=INLINE

// Weights as arguments: @linear keeps its signature and calls
// @linear_prepare_weights (weight work only) and @linear_folded (the hot
// path: exactly the matmul and the bias add, reading x and the prepared
// weight and bias). The C interface attribute follows; @linear and the
// preparation are compiled without optimization (glue, and work done once).
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @linear(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x4xf32>, %[[W:[^:]*]]: tensor<4x3xf32>, %[[B:[^:]*]]: tensor<3xf32>, %[[G:[^:]*]]: tensor<4xf32>, %[[BETA:[^:]*]]: tensor<4xf32>, %[[RV:[^:]*]]: tensor<4xf32>) -> tensor<5x3xf32> attributes {llvm.emit_c_interface, passthrough = ["noinline", "optnone"]}
// CHECK-NEXT: %[[P:.*]]:2 = call @linear_prepare_weights(%[[W]], %[[B]], %[[G]], %[[BETA]], %[[RV]]) : (tensor<4x3xf32>, tensor<3xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4x3xf32>, tensor<3xf32>)
// CHECK-NEXT: %[[R:.*]] = call @linear_folded(%[[X]], %[[P]]#0, %[[P]]#1) : (tensor<5x4xf32>, tensor<4x3xf32>, tensor<3xf32>) -> tensor<5x3xf32>
// CHECK-NEXT: return %[[R]]
// CHECK-LABEL: func.func @linear_prepare_weights(
// CHECK-SAME: %{{[^:]*}}: tensor<4x3xf32>, %{{[^:]*}}: tensor<3xf32>, %{{[^:]*}}: tensor<4xf32>, %{{[^:]*}}: tensor<4xf32>, %{{[^:]*}}: tensor<4xf32>) -> (tensor<4x3xf32>, tensor<3xf32>) attributes {llvm.emit_c_interface, passthrough = ["noinline", "optnone"]}
// CHECK: math.sqrt
// CHECK: %[[WS:.*]] = linalg.generic
// CHECK: %[[BW:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]
// CHECK: %[[B2:.*]] = linalg.generic
// CHECK-NOT: linalg.matmul
// CHECK: return %[[WS]], %[[B2]]
// CHECK-LABEL: func.func @linear_folded(
// CHECK-SAME: %[[FX:[^:]*]]: tensor<5x4xf32>, %[[FW:[^:]*]]: tensor<4x3xf32>, %[[FB:[^:]*]]: tensor<3xf32>) -> tensor<5x3xf32> attributes {llvm.emit_c_interface}
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[FX]], %[[FW]] :
// CHECK-NEXT: %[[O:.*]] = linalg.generic {{.*}} ins(%[[M]], %[[FB]] :
// CHECK-NOT: linalg.generic
// CHECK: return %[[O]]
// CHECK-NOT: un.weight_prep
// INLINE-LABEL: func.func @linear(
// INLINE: linalg.matmul
// INLINE-NOT: func.func @linear_prepare_weights
// INLINE-NOT: un.weight_prep
func.func @linear(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>, %g: tensor<4xf32>, %beta: tensor<4xf32>, %rv: tensor<4xf32>) -> tensor<5x3xf32> attributes {llvm.emit_c_interface} {
  %y = un.infer %x, %g, %beta, %rv : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  %o = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<5x3xf32>, tensor<3xf32>) outs(%e : tensor<5x3xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  } -> tensor<5x3xf32>
  return %o : tensor<5x3xf32>
}

// -----

// Constant weights and statistics: everything is folded at compile time,
// there is nothing to hoist.
// CHECK-LABEL: func.func @constants(
// CHECK: linalg.matmul
// CHECK-NOT: call
// CHECK-NOT: func.func @constants_prepare_weights
func.func @constants(%x: tensor<5x2xf32>) -> tensor<5x3xf32> {
  %g = arith.constant dense<[2.0, 6.0]> : tensor<2xf32>
  %rv = arith.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %beta = arith.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %y = un.infer %x, %g, %beta, %rv {eps = 1.0 : f32} : (tensor<5x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x2xf32>, tensor<2x3xf32>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}

// -----

// The affine map also feeds a residual add: the prepared scale is a result
// of @residual_prepare_weights too, used by the affine map left in
// @residual_folded; beta W (no bias add here) is prepared and broadcast
// into the matmul's init in the hot path. Arguments the hot path no longer
// reads (the weight, gamma, running_var) are not passed to it.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @residual(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x4xf32>, %[[W:[^:]*]]: tensor<4x4xf32>, %[[G:[^:]*]]: tensor<4xf32>, %[[BETA:[^:]*]]: tensor<4xf32>, %[[RV:[^:]*]]: tensor<4xf32>)
// CHECK-NEXT: %[[P:.*]]:3 = call @residual_prepare_weights(%[[W]], %[[G]], %[[BETA]], %[[RV]])
// CHECK-NEXT: call @residual_folded(%[[X]], %[[BETA]], %[[P]]#0, %[[P]]#1, %[[P]]#2)
// CHECK-LABEL: func.func @residual_prepare_weights(
// CHECK-SAME: -> (tensor<4xf32>, tensor<4x4xf32>, tensor<4xf32>)
// CHECK-LABEL: func.func @residual_folded(
// CHECK-SAME: %[[FX:[^:]*]]: tensor<5x4xf32>, %[[FBETA:[^:]*]]: tensor<4xf32>, %[[FA:[^:]*]]: tensor<4xf32>, %[[FW:[^:]*]]: tensor<4x4xf32>, %[[FBW:[^:]*]]: tensor<4xf32>)
// CHECK: %[[Y:.*]] = un.affine %[[FX]], %[[FA]], %[[FBETA]]
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[FBW]] : tensor<4xf32>) outs(%{{.*}} : tensor<5x4xf32>)
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[FX]], %[[FW]] : tensor<5x4xf32>, tensor<4x4xf32>) outs(%[[INIT]] : tensor<5x4xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[M]], %[[Y]] :
func.func @residual(%x: tensor<5x4xf32>, %w: tensor<4x4xf32>, %g: tensor<4xf32>, %beta: tensor<4xf32>, %rv: tensor<4xf32>) -> tensor<5x4xf32> {
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

// -----

// A private function gets private helpers; a function with nothing to
// prepare is left alone.
// CHECK-LABEL: func.func private @private_linear(
// CHECK: call @private_linear_prepare_weights
// CHECK-LABEL: func.func private @private_linear_prepare_weights(
// CHECK-LABEL: func.func private @private_linear_folded(
// CHECK-LABEL: func.func @nothing_to_prepare(
// CHECK-NOT: call
// CHECK: return
func.func private @private_linear(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}
func.func @nothing_to_prepare(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>) -> tensor<5x3xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%x, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}
