// RUN: un-opt %s -un-decompose -split-input-file | FileCheck %s

// CHECK-LABEL: func.func @train_forward(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x4xf16>, %[[G:[^:]*]]: tensor<4xf16>, %[[B:[^:]*]]: tensor<4xf16>, %[[RV:[^:]*]]: tensor<4xf32>, %[[W:[^:]*]]: tensor<3x4xf32>, %[[T:[^:]*]]: i64, %[[S:[^:]*]]: i64, %[[M:[^:]*]]: tensor<?xi1>)
// CHECK: %[[PSI:.*]] = un.quadratic_mean %[[X]] mask %[[M]] : (tensor<?x4xf16>, tensor<?xi1>) -> tensor<4xf32>
// CHECK: %[[VAR:[^,]*]], %[[R:[^,]*]], %[[SKIP:[^,]*]], %[[RV1:[^,]*]], %[[W1:[^,]*]], %[[S1:[^ ]*]] = un.smooth_forward_stats %[[PSI]], %[[RV]], %[[W]], %[[T]], %[[S]] {eps = 1.000000e-03 : f32, momentum = 5.000000e-01 : f32, outlier_filtration = true, r_max = 2.000000e+00 : f32, r_warmup = 7 : i64, warmup_iters = 5 : i64}
// CHECK: %[[Z:[^,]*]], %[[Y:[^ ]*]] = un.normalize %[[X]], %[[VAR]], %[[G]], %[[B]] {eps = 1.000000e-03 : f32}
// CHECK-NOT: un.train_forward
// CHECK: return %[[Y]], %[[Z]], %[[VAR]], %[[R]], %[[SKIP]], %[[RV1]], %[[W1]], %[[S1]]
func.func @train_forward(%x: tensor<?x4xf16>, %g: tensor<4xf16>, %b: tensor<4xf16>, %rv: tensor<4xf32>, %w: tensor<3x4xf32>, %t: i64, %s: i64, %m: tensor<?xi1>) -> (tensor<?x4xf16>, tensor<?x4xf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<3x4xf32>, i64) {
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s, %m) {eps = 1.0e-3 : f32, momentum = 0.5 : f32, warmup_iters = 5 : i64, outlier_filtration = true, r_max = 2.0 : f32, r_warmup = 7 : i64} : (tensor<?x4xf16>, tensor<4xf16>, tensor<4xf16>, tensor<4xf32>, tensor<3x4xf32>, i64, i64, tensor<?xi1>) -> (tensor<?x4xf16>, tensor<?x4xf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<3x4xf32>, i64)
  return %0#0, %0#1, %0#2, %0#3, %0#4, %0#5, %0#6, %0#7 : tensor<?x4xf16>, tensor<?x4xf16>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<3x4xf32>, i64
}

// -----

// Without a mask, quadratic_mean has none either.
// CHECK-LABEL: func.func @train_forward_no_mask(
// CHECK: un.quadratic_mean %{{.*}} : (tensor<8x16xf32>) -> tensor<16xf32>
// CHECK: un.smooth_forward_stats
// CHECK-NOT: outlier_filtration
// CHECK: un.normalize
func.func @train_forward_no_mask(%x: tensor<8x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>, %rv: tensor<16xf32>, %w: tensor<4x16xf32>, %t: i64, %s: i64) -> tensor<8x16xf32> {
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s) : (tensor<8x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<4x16xf32>, i64, i64) -> (tensor<8x16xf32>, tensor<8x16xf32>, tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<4x16xf32>, i64)
  return %0#0 : tensor<8x16xf32>
}

// -----

// CHECK-LABEL: func.func @train_backward(
// CHECK-SAME: %[[GY:[^:]*]]: tensor<?x?x8xbf16>, %[[Z:[^:]*]]: tensor<?x?x8xbf16>, %[[VAR:[^:]*]]: tensor<8xf32>, %[[R:[^:]*]]: tensor<8xf32>, %[[SKIP:[^:]*]]: i1, %[[G:[^:]*]]: tensor<8xbf16>, %[[EMA:[^:]*]]: tensor<8xf32>, %[[W:[^:]*]]: tensor<2x8xf32>, %[[T:[^:]*]]: i64)
// CHECK: %[[GZ:[^,]*]], %[[GG:[^,]*]], %[[GB:[^ ]*]] = un.grad_stats %[[GY]], %[[Z]], %[[R]], %[[G]] :
// CHECK: %[[COEF:[^,]*]], %[[EMA1:[^,]*]], %[[W1:[^ ]*]] = un.smooth_grad_stats %[[GZ]], %[[SKIP]], %[[EMA]], %[[W]], %[[T]] {momentum = 2.500000e-01 : f32, warmup_iters = 3 : i64}
// CHECK: %[[GX:.*]] = un.input_grad %[[GY]], %[[Z]], %[[VAR]], %[[R]], %[[G]], %[[COEF]] {eps = 0.00999999977 : f32}
// CHECK: return %[[GX]], %[[GG]], %[[GB]], %[[EMA1]], %[[W1]]
func.func @train_backward(%gy: tensor<?x?x8xbf16>, %z: tensor<?x?x8xbf16>, %var: tensor<8xf32>, %r: tensor<8xf32>, %skip: i1, %g: tensor<8xbf16>, %ema: tensor<8xf32>, %w: tensor<2x8xf32>, %t: i64) -> (tensor<?x?x8xbf16>, tensor<8xbf16>, tensor<8xbf16>, tensor<8xf32>, tensor<2x8xf32>) {
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %g, %ema, %w, %t) {eps = 1.0e-2 : f32, momentum = 0.25 : f32, warmup_iters = 3 : i64} : (tensor<?x?x8xbf16>, tensor<?x?x8xbf16>, tensor<8xf32>, tensor<8xf32>, i1, tensor<8xbf16>, tensor<8xf32>, tensor<2x8xf32>, i64) -> (tensor<?x?x8xbf16>, tensor<8xbf16>, tensor<8xbf16>, tensor<8xf32>, tensor<2x8xf32>)
  return %0#0, %0#1, %0#2, %0#3, %0#4 : tensor<?x?x8xbf16>, tensor<8xbf16>, tensor<8xbf16>, tensor<8xf32>, tensor<2x8xf32>
}

// -----

// CHECK-LABEL: func.func @infer(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x384xf32>, %[[G:[^:]*]]: tensor<384xf32>, %[[B:[^:]*]]: tensor<384xf32>, %[[RV:[^:]*]]: tensor<384xf32>)
// CHECK: %{{.*}}, %[[Y:.*]] = un.normalize %[[X]], %[[RV]], %[[G]], %[[B]] {eps = 2.000000e-05 : f32}
// CHECK: return %[[Y]]
func.func @infer(%x: tensor<?x384xf32>, %g: tensor<384xf32>, %b: tensor<384xf32>, %rv: tensor<384xf32>) -> tensor<?x384xf32> {
  %y = un.infer %x, %g, %b, %rv {eps = 2.0e-5 : f32} : (tensor<?x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>) -> tensor<?x384xf32>
  return %y : tensor<?x384xf32>
}
