// RUN: un-opt %s -convert-un-to-linalg -split-input-file | FileCheck %s

// sqrt(var + eps) once per channel, then one parallel pass producing z and y.
// CHECK-DAG: #[[ALL:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @normalize(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x8xf16>, %[[VAR:[^:]*]]: tensor<8xf32>
// CHECK: %[[STD:.*]] = linalg.generic {{.*}} ins(%[[VAR]] : tensor<8xf32>)
// CHECK: arith.constant 2.500000e-01 : f32
// CHECK: math.sqrt
// CHECK: %[[ZY:.*]]:2 = linalg.generic {indexing_maps = [#[[ALL]], #[[CH]], #[[CH]], #[[CH]], #[[ALL]], #[[ALL]]], iterator_types = ["parallel", "parallel"]} ins(%[[X]], %[[STD]], %{{.*}}, %{{.*}} : tensor<?x8xf16>, tensor<8xf32>, tensor<8xf16>, tensor<8xf16>)
// CHECK: %[[XF:.*]] = arith.extf
// CHECK: %[[Z:.*]] = arith.divf %[[XF]]
// CHECK: arith.truncf %[[Z]] : f32 to f16
// CHECK: arith.mulf %{{.*}}, %[[Z]]
// CHECK: %[[Y:.*]] = arith.addf
// CHECK: arith.truncf %[[Y]] : f32 to f16
// CHECK: return %[[ZY]]#0, %[[ZY]]#1
func.func @normalize(%x: tensor<?x8xf16>, %var: tensor<8xf32>, %g: tensor<8xf16>, %b: tensor<8xf16>) -> (tensor<?x8xf16>, tensor<?x8xf16>) {
  %z, %y = un.normalize %x, %var, %g, %b {eps = 0.25 : f32} : (tensor<?x8xf16>, tensor<8xf32>, tensor<8xf16>, tensor<8xf16>) -> (tensor<?x8xf16>, tensor<?x8xf16>)
  return %z, %y : tensor<?x8xf16>, tensor<?x8xf16>
}

// -----

// gx = (gy * gamma * r - coef * z) / sqrt(var + eps), one parallel pass.
// CHECK-LABEL: func.func @input_grad(
// CHECK: math.sqrt
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x?x8xf32>, tensor<2x?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
// CHECK: ^bb0(%[[GY:[^:]*]]: f32, %[[Z:[^:]*]]: f32, %[[G:[^:]*]]: f32, %[[R:[^:]*]]: f32, %[[COEF:[^:]*]]: f32, %[[S:[^:]*]]: f32,
// CHECK: %[[GG:.*]] = arith.mulf %[[GY]], %[[G]]
// CHECK: %[[GGR:.*]] = arith.mulf %[[GG]], %[[R]]
// CHECK: %[[CZ:.*]] = arith.mulf %[[COEF]], %[[Z]]
// CHECK: %[[H:.*]] = arith.subf %[[GGR]], %[[CZ]]
// CHECK: %[[GX:.*]] = arith.divf %[[H]], %[[S]]
// CHECK: linalg.yield %[[GX]]
func.func @input_grad(%gy: tensor<2x?x8xf32>, %z: tensor<2x?x8xf32>, %var: tensor<8xf32>, %r: tensor<8xf32>, %g: tensor<8xf32>, %c: tensor<8xf32>) -> tensor<2x?x8xf32> {
  %gx = un.input_grad %gy, %z, %var, %r, %g, %c : (tensor<2x?x8xf32>, tensor<2x?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x?x8xf32>
  return %gx : tensor<2x?x8xf32>
}

// -----

// CHECK-LABEL: func.func @affine(
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %{{.*}}, %{{.*}} : tensor<4x?xbf16>, tensor<?xf32>, tensor<?xbf16>)
// CHECK: ^bb0(%[[X:[^:]*]]: bf16, %[[A:[^:]*]]: f32, %[[B:[^:]*]]: bf16,
// CHECK: %[[XF:.*]] = arith.extf %[[X]]
// CHECK: %[[AX:.*]] = arith.mulf %[[A]], %[[XF]]
// CHECK: %[[BF:.*]] = arith.extf %[[B]]
// CHECK: %[[Y:.*]] = arith.addf %[[AX]], %[[BF]]
// CHECK: arith.truncf %[[Y]] : f32 to bf16
func.func @affine(%x: tensor<4x?xbf16>, %a: tensor<?xf32>, %b: tensor<?xbf16>) -> tensor<4x?xbf16> {
  %y = un.affine %x, %a, %b : (tensor<4x?xbf16>, tensor<?xf32>, tensor<?xbf16>) -> tensor<4x?xbf16>
  return %y : tensor<4x?xbf16>
}

// -----

// Only the used result is computed (inference needs y alone).
// CHECK-LABEL: func.func @normalize_y_only(
// CHECK: math.sqrt
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<4x8xf32>)
// CHECK: arith.divf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK-NEXT: linalg.yield
// CHECK: return %[[Y]]
func.func @normalize_y_only(%x: tensor<4x8xf32>, %var: tensor<?xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<4x8xf32> {
  %z, %y = un.normalize %x, %var, %g, %b : (tensor<4x8xf32>, tensor<?xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>)
  return %y : tensor<4x8xf32>
}
