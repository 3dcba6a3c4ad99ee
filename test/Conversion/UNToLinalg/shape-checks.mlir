// convert-un-to-linalg checks, before lowering an op, the dims that must
// agree and that only run time knows (cf.assert); static ones were
// compared by the verifier and get no check.
// RUN: un-opt %s -convert-un-to-linalg -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @dynamic_channels(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x?xf32>, %[[A:[^:]*]]: tensor<?xf32>, %[[B:[^:]*]]: tensor<?xf32>)
// CHECK-DAG: %[[AC:.*]] = tensor.dim %[[A]], %{{.*}}
// CHECK-DAG: %[[XC:.*]] = tensor.dim %[[X]], %{{.*}}
// CHECK: %[[SAME:.*]] = arith.cmpi eq, %[[AC]], %[[XC]]
// CHECK: cf.assert %[[SAME]], "un.affine: operand 1 has another channel count than operand 0"
// CHECK: cf.assert %{{.*}}, "un.affine: operand 2 has another channel count than operand 0"
// CHECK: linalg.generic
func.func @dynamic_channels(%x: tensor<?x?xf32>, %a: tensor<?xf32>, %b: tensor<?xf32>) -> tensor<?x?xf32> {
  %y = un.affine %x, %a, %b : (tensor<?x?xf32>, tensor<?xf32>, tensor<?xf32>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}

// -----

// The mask against the tokens, dim by dim; gy against z in full.
// CHECK-LABEL: func.func @mask_and_activations(
// CHECK: cf.assert %{{.*}}, "un.quadratic_mean: operand 1 (the mask) differs in dim 0 from the tokens of operand 0"
// CHECK-NOT: differs in dim 1 from the tokens
// CHECK: cf.assert %{{.*}}, "un.grad_stats: operand 1 differs in dim 0 of operand 0"
// CHECK-NOT: cf.assert
// CHECK: return
func.func @mask_and_activations(%x: tensor<?x8x4xf32>, %mask: tensor<?x8xi1>, %gy: tensor<?x4xf32>,
                                %z: tensor<?x4xf32>, %r: tensor<4xf32>, %gamma: tensor<4xf32>)
    -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %psi = un.quadratic_mean %x mask %mask : (tensor<?x8x4xf32>, tensor<?x8xi1>) -> tensor<4xf32>
  %gz, %gg, %gb = un.grad_stats %gy, %z, %r, %gamma : (tensor<?x4xf32>, tensor<?x4xf32>, tensor<4xf32>, tensor<4xf32>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
  return %psi, %gz, %gg, %gb : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// All static: nothing to check at run time.
// CHECK-LABEL: func.func @static(
// CHECK-NOT: cf.assert
func.func @static(%x: tensor<3x4xf32>, %a: tensor<4xf32>, %b: tensor<4xf32>) -> tensor<3x4xf32> {
  %y = un.affine %x, %a, %b : (tensor<3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<3x4xf32>
  return %y : tensor<3x4xf32>
}
