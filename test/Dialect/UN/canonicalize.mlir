// Folds and canonicalizations that are identities of the spec, each with a
// case where it must not apply.
// RUN: un-opt %s -canonicalize -split-input-file | FileCheck %s

// a = gamma / sqrt(running_var + eps) = [2 / sqrt(4), 6 / sqrt(9)] = [1, 2].
// CHECK-LABEL: func.func @infer_constant_stats_to_affine(
// CHECK-SAME: %[[X:.*]]: tensor<?x2xf32>, %[[BETA:.*]]: tensor<2xf32>)
// CHECK: %[[A:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: %[[Y:.*]] = un.affine %[[X]], %[[A]], %[[BETA]] : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
// CHECK-NOT: un.infer
// CHECK: return %[[Y]]
func.func @infer_constant_stats_to_affine(%x: tensor<?x2xf32>, %beta: tensor<2xf32>) -> tensor<?x2xf32> {
  %gamma = arith.constant dense<[2.0, 6.0]> : tensor<2xf32>
  %rv = arith.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %y = un.infer %x, %gamma, %beta, %rv {eps = 1.0 : f32} : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// The same with gamma and running_var as dense_resource blobs (how
// torch-mlir stores weights): [2, 6] and [3, 8] again.
// CHECK-LABEL: func.func @infer_resource_stats_to_affine(
// CHECK: arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-NOT: un.infer
func.func @infer_resource_stats_to_affine(%x: tensor<?x2xf32>, %beta: tensor<2xf32>) -> tensor<?x2xf32> {
  %gamma = arith.constant dense_resource<un_gamma> : tensor<2xf32>
  %rv = arith.constant dense_resource<un_rv> : tensor<2xf32>
  %y = un.infer %x, %gamma, %beta, %rv {eps = 1.0 : f32} : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// No fold: a dense_resource constant whose type claims a dynamic size has
// no element count to read (found by the fuzzer: it crashed
// canonicalization and the fold into linear layers).
// CHECK-LABEL: func.func @infer_resource_dynamic_type(
// CHECK: un.infer
func.func @infer_resource_dynamic_type(%x: tensor<?x2xf32>, %beta: tensor<?xf32>) -> tensor<?x2xf32> {
  %gamma = arith.constant dense_resource<un_gamma_dyn> : tensor<?xf32>
  %rv = arith.constant dense_resource<un_rv_dyn> : tensor<?xf32>
  %y = un.infer %x, %gamma, %beta, %rv {eps = 1.0 : f32} : (tensor<?x2xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
{-#
  dialect_resources: {
    builtin: {
      un_gamma: "0x04000000000000400000C040",
      un_rv: "0x040000000000404000000041",
      un_gamma_dyn: "0x04000000000000400000C040",
      un_rv_dyn: "0x040000000000404000000041"
    }
  }
#-}

// -----

// f16 activations: the scale is kept in f32, the shift in f16.
// CHECK-LABEL: func.func @infer_constant_stats_f16(
// CHECK-DAG: %[[A:.*]] = arith.constant dense<5.000000e-01> : tensor<3xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf16>
// CHECK: un.affine %{{.*}}, %[[A]], %[[B]] : (tensor<4x3xf16>, tensor<3xf32>, tensor<3xf16>) -> tensor<4x3xf16>
func.func @infer_constant_stats_f16(%x: tensor<4x3xf16>) -> tensor<4x3xf16> {
  %gamma = arith.constant dense<1.0> : tensor<3xf16>
  %beta = arith.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf16>
  %rv = arith.constant dense<3.5> : tensor<3xf32>
  %y = un.infer %x, %gamma, %beta, %rv {eps = 0.5 : f32} : (tensor<4x3xf16>, tensor<3xf16>, tensor<3xf16>, tensor<3xf32>) -> tensor<4x3xf16>
  return %y : tensor<4x3xf16>
}

// -----

// No fold: gamma is only known at run time.
// CHECK-LABEL: func.func @infer_runtime_gamma(
// CHECK: un.infer
// CHECK-NOT: un.affine
func.func @infer_runtime_gamma(%x: tensor<?x2xf32>, %gamma: tensor<2xf32>, %beta: tensor<2xf32>) -> tensor<?x2xf32> {
  %rv = arith.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %y = un.infer %x, %gamma, %beta, %rv : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// No fold: running_var is only known at run time.
// CHECK-LABEL: func.func @infer_runtime_running_var(
// CHECK: un.infer
// CHECK-NOT: un.affine
func.func @infer_runtime_running_var(%x: tensor<?x2xf32>, %beta: tensor<2xf32>, %rv: tensor<2xf32>) -> tensor<?x2xf32> {
  %gamma = arith.constant dense<[2.0, 6.0]> : tensor<2xf32>
  %y = un.infer %x, %gamma, %beta, %rv : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// Identity statistics: un.infer becomes an affine with scale 1 and shift 0,
// which folds away entirely.
// CHECK-LABEL: func.func @infer_identity(
// CHECK-SAME: %[[X:.*]]: tensor<8x4xf32>)
// CHECK-NOT: un.
// CHECK: return %[[X]]
func.func @infer_identity(%x: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %gamma = arith.constant dense<3.0> : tensor<4xf32>
  %beta = arith.constant dense<0.0> : tensor<4xf32>
  %rv = arith.constant dense<8.0> : tensor<4xf32>
  %y = un.infer %x, %gamma, %beta, %rv {eps = 1.0 : f32} : (tensor<8x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<8x4xf32>
  return %y : tensor<8x4xf32>
}

// -----

// CHECK-LABEL: func.func @affine_identity(
// CHECK-SAME: %[[X:.*]]: tensor<?x4xbf16>)
// CHECK-NOT: un.affine
// CHECK: return %[[X]]
func.func @affine_identity(%x: tensor<?x4xbf16>) -> tensor<?x4xbf16> {
  %one = arith.constant dense<1.0> : tensor<4xf32>
  %zero = arith.constant dense<0.0> : tensor<4xbf16>
  %y = un.affine %x, %one, %zero : (tensor<?x4xbf16>, tensor<4xf32>, tensor<4xbf16>) -> tensor<?x4xbf16>
  return %y : tensor<?x4xbf16>
}

// -----

// No fold: one channel is scaled.
// CHECK-LABEL: func.func @affine_not_identity_scale(
// CHECK: un.affine
func.func @affine_not_identity_scale(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %scale = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %zero = arith.constant dense<0.0> : tensor<2xf32>
  %y = un.affine %x, %scale, %zero : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// No fold: a shift.
// CHECK-LABEL: func.func @affine_not_identity_shift(
// CHECK: un.affine
func.func @affine_not_identity_shift(%x: tensor<?x2xf32>) -> tensor<?x2xf32> {
  %one = arith.constant dense<1.0> : tensor<2xf32>
  %shift = arith.constant dense<0.5> : tensor<2xf32>
  %y = un.affine %x, %one, %shift : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// No fold: scale and shift are only known at run time.
// CHECK-LABEL: func.func @affine_runtime(
// CHECK: un.affine
func.func @affine_runtime(%x: tensor<?x2xf32>, %s: tensor<2xf32>, %b: tensor<2xf32>) -> tensor<?x2xf32> {
  %y = un.affine %x, %s, %b : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}

// -----

// A constant mask with no padded token is dropped.
// CHECK-LABEL: func.func @quadratic_mean_no_padding(
// CHECK: un.quadratic_mean %{{.*}} : (tensor<2x3x4xf32>) -> tensor<4xf32>
func.func @quadratic_mean_no_padding(%x: tensor<2x3x4xf32>) -> tensor<4xf32> {
  %mask = arith.constant dense<false> : tensor<2x3xi1>
  %psi = un.quadratic_mean %x mask %mask : (tensor<2x3x4xf32>, tensor<2x3xi1>) -> tensor<4xf32>
  return %psi : tensor<4xf32>
}

// -----

// No fold: one token is padded.
// CHECK-LABEL: func.func @quadratic_mean_padding(
// CHECK: un.quadratic_mean %{{.*}} mask %{{.*}} : (tensor<2x3x4xf32>, tensor<2x3xi1>) -> tensor<4xf32>
func.func @quadratic_mean_padding(%x: tensor<2x3x4xf32>) -> tensor<4xf32> {
  %mask = arith.constant dense<[[false, false, true], [false, false, false]]> : tensor<2x3xi1>
  %psi = un.quadratic_mean %x mask %mask : (tensor<2x3x4xf32>, tensor<2x3xi1>) -> tensor<4xf32>
  return %psi : tensor<4xf32>
}

// -----

// CHECK-LABEL: func.func @train_forward_no_padding(
// CHECK: un.train_forward
// CHECK-NOT: mask
// CHECK-SAME: {outlier_filtration = true} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) ->
func.func @train_forward_no_padding(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) -> (tensor<2x3x4xf32>, tensor<4x4xf32>) {
  %mask = arith.constant dense<false> : tensor<2x3xi1>
  %0:8 = un.train_forward %x, %g, %b, %rv, %w, %t, %s mask %mask {outlier_filtration = true} : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64, tensor<2x3xi1>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return %0#0, %0#6 : tensor<2x3x4xf32>, tensor<4x4xf32>
}

// -----

// No fold: padding mask known only at run time.
// CHECK-LABEL: func.func @train_forward_runtime_mask(
// CHECK: un.train_forward %{{.*}} mask %{{.*}}
func.func @train_forward_runtime_mask(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64, %mask: tensor<2x3xi1>) -> tensor<2x3x4xf32> {
  %0:8 = un.train_forward %x, %g, %b, %rv, %w, %t, %s mask %mask : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64, tensor<2x3xi1>) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return %0#0 : tensor<2x3x4xf32>
}

// -----

// Unused composite results: the op is pure and disappears.
// CHECK-LABEL: func.func @dead_train_forward(
// CHECK-NOT: un.train_forward
func.func @dead_train_forward(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) {
  %0:8 = un.train_forward %x, %g, %b, %rv, %w, %t, %s : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  return
}
