// Every op in generic form (the frontend contract) and in custom form:
// parses, verifies, prints, and re-parses both ways.
// RUN: un-opt %s | FileCheck %s
// RUN: un-opt %s | un-opt | FileCheck %s
// RUN: un-opt %s -mlir-print-op-generic | un-opt | FileCheck %s

// CHECK-LABEL: func.func @train_static_f32(
func.func @train_static_f32(%x: tensor<8x197x384xf32>, %gamma: tensor<384xf32>, %beta: tensor<384xf32>, %rv: tensor<384xf32>, %win: tensor<4x384xf32>, %t: i64, %skips: i64, %mask: tensor<8x197xi1>) -> (tensor<8x197x384xf32>, tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, i1, tensor<384xf32>, tensor<4x384xf32>, i64) {
  // CHECK: un.train_forward %{{.*}} mask %{{.*}} {eps = 1.000000e-03 : f32, momentum = 5.000000e-01 : f32, outlier_filtration = true, r_max = 3.000000e+00 : f32, r_warmup = 10 : i64, warmup_iters = 2 : i64}
  // CHECK-SAME: : (tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>, i64, i64, tensor<8x197xi1>) -> (tensor<8x197x384xf32>, tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, i1, tensor<384xf32>, tensor<4x384xf32>, i64)
  %0:8 = "un.train_forward"(%x, %gamma, %beta, %rv, %win, %t, %skips, %mask) {eps = 1.0e-3 : f32, momentum = 0.5 : f32, warmup_iters = 2 : i64, outlier_filtration = true, r_max = 3.0 : f32, r_warmup = 10 : i64} : (tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>, i64, i64, tensor<8x197xi1>) -> (tensor<8x197x384xf32>, tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, i1, tensor<384xf32>, tensor<4x384xf32>, i64)
  // CHECK: un.train_forward
  // CHECK-NOT: eps
  // CHECK-SAME: : (tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>, i64, i64, tensor<8x197xi1>) -> (tensor<8x197x384xf32>, tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, i1, tensor<384xf32>, tensor<4x384xf32>, i64)
  %1:8 = "un.train_forward"(%x, %gamma, %beta, %rv, %win, %t, %skips, %mask) : (tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>, i64, i64, tensor<8x197xi1>) -> (tensor<8x197x384xf32>, tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, i1, tensor<384xf32>, tensor<4x384xf32>, i64)
  return %0#0, %0#1, %0#2, %0#3, %0#4, %0#5, %1#6, %1#7 : tensor<8x197x384xf32>, tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, i1, tensor<384xf32>, tensor<4x384xf32>, i64
}

// CHECK-LABEL: func.func @backward_static_f32(
func.func @backward_static_f32(%gy: tensor<8x197x384xf32>, %z: tensor<8x197x384xf32>, %var: tensor<384xf32>, %r: tensor<384xf32>, %skip: i1, %gamma: tensor<384xf32>, %ema: tensor<384xf32>, %wgz: tensor<4x384xf32>, %t: i64) -> (tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>) {
  // CHECK: un.train_backward %{{.*}} {eps = 1.000000e-03 : f32, momentum = 5.000000e-01 : f32, warmup_iters = 2 : i64}
  // CHECK-SAME: : (tensor<8x197x384xf32>, tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, i1, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>, i64) -> (tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>)
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %gamma, %ema, %wgz, %t) {eps = 1.0e-3 : f32, momentum = 0.5 : f32, warmup_iters = 2 : i64} : (tensor<8x197x384xf32>, tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, i1, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>, i64) -> (tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>)
  return %0#0, %0#1, %0#2, %0#3, %0#4 : tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>
}

// CHECK-LABEL: func.func @infer_static_f32(
func.func @infer_static_f32(%x: tensor<8x197x384xf32>, %gamma: tensor<384xf32>, %beta: tensor<384xf32>, %rv: tensor<384xf32>) -> tensor<8x197x384xf32> {
  // CHECK: un.infer %{{.*}} {eps = 1.000000e-03 : f32} : (tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>) -> tensor<8x197x384xf32>
  %0 = "un.infer"(%x, %gamma, %beta, %rv) {eps = 1.0e-3 : f32} : (tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>) -> tensor<8x197x384xf32>
  return %0 : tensor<8x197x384xf32>
}

// CHECK-LABEL: func.func @train_dynamic_f16(
func.func @train_dynamic_f16(%x: tensor<?x?x768xf16>, %gamma: tensor<768xf16>, %beta: tensor<768xf16>, %rv: tensor<768xf32>, %win: tensor<4x768xf32>, %t: i64, %skips: i64, %mask: tensor<?x?xi1>) -> (tensor<?x?x768xf16>, tensor<?x?x768xf16>, tensor<768xf32>, tensor<768xf32>, i1, tensor<768xf32>, tensor<4x768xf32>, i64) {
  // CHECK: un.train_forward %{{.*}} mask %{{.*}} {eps = 1.000000e-03 : f32, momentum = 5.000000e-01 : f32, outlier_filtration = true, r_max = 3.000000e+00 : f32, r_warmup = 10 : i64, warmup_iters = 2 : i64}
  // CHECK-SAME: : (tensor<?x?x768xf16>, tensor<768xf16>, tensor<768xf16>, tensor<768xf32>, tensor<4x768xf32>, i64, i64, tensor<?x?xi1>) -> (tensor<?x?x768xf16>, tensor<?x?x768xf16>, tensor<768xf32>, tensor<768xf32>, i1, tensor<768xf32>, tensor<4x768xf32>, i64)
  %0:8 = "un.train_forward"(%x, %gamma, %beta, %rv, %win, %t, %skips, %mask) {eps = 1.0e-3 : f32, momentum = 0.5 : f32, warmup_iters = 2 : i64, outlier_filtration = true, r_max = 3.0 : f32, r_warmup = 10 : i64} : (tensor<?x?x768xf16>, tensor<768xf16>, tensor<768xf16>, tensor<768xf32>, tensor<4x768xf32>, i64, i64, tensor<?x?xi1>) -> (tensor<?x?x768xf16>, tensor<?x?x768xf16>, tensor<768xf32>, tensor<768xf32>, i1, tensor<768xf32>, tensor<4x768xf32>, i64)
  // CHECK: un.train_forward
  // CHECK-NOT: eps
  // CHECK-SAME: : (tensor<?x?x768xf16>, tensor<768xf16>, tensor<768xf16>, tensor<768xf32>, tensor<4x768xf32>, i64, i64, tensor<?x?xi1>) -> (tensor<?x?x768xf16>, tensor<?x?x768xf16>, tensor<768xf32>, tensor<768xf32>, i1, tensor<768xf32>, tensor<4x768xf32>, i64)
  %1:8 = "un.train_forward"(%x, %gamma, %beta, %rv, %win, %t, %skips, %mask) : (tensor<?x?x768xf16>, tensor<768xf16>, tensor<768xf16>, tensor<768xf32>, tensor<4x768xf32>, i64, i64, tensor<?x?xi1>) -> (tensor<?x?x768xf16>, tensor<?x?x768xf16>, tensor<768xf32>, tensor<768xf32>, i1, tensor<768xf32>, tensor<4x768xf32>, i64)
  return %0#0, %0#1, %0#2, %0#3, %0#4, %0#5, %1#6, %1#7 : tensor<?x?x768xf16>, tensor<?x?x768xf16>, tensor<768xf32>, tensor<768xf32>, i1, tensor<768xf32>, tensor<4x768xf32>, i64
}

// CHECK-LABEL: func.func @backward_dynamic_f16(
func.func @backward_dynamic_f16(%gy: tensor<?x?x768xf16>, %z: tensor<?x?x768xf16>, %var: tensor<768xf32>, %r: tensor<768xf32>, %skip: i1, %gamma: tensor<768xf16>, %ema: tensor<768xf32>, %wgz: tensor<4x768xf32>, %t: i64) -> (tensor<?x?x768xf16>, tensor<768xf16>, tensor<768xf16>, tensor<768xf32>, tensor<4x768xf32>) {
  // CHECK: un.train_backward %{{.*}} {eps = 1.000000e-03 : f32, momentum = 5.000000e-01 : f32, warmup_iters = 2 : i64}
  // CHECK-SAME: : (tensor<?x?x768xf16>, tensor<?x?x768xf16>, tensor<768xf32>, tensor<768xf32>, i1, tensor<768xf16>, tensor<768xf32>, tensor<4x768xf32>, i64) -> (tensor<?x?x768xf16>, tensor<768xf16>, tensor<768xf16>, tensor<768xf32>, tensor<4x768xf32>)
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %gamma, %ema, %wgz, %t) {eps = 1.0e-3 : f32, momentum = 0.5 : f32, warmup_iters = 2 : i64} : (tensor<?x?x768xf16>, tensor<?x?x768xf16>, tensor<768xf32>, tensor<768xf32>, i1, tensor<768xf16>, tensor<768xf32>, tensor<4x768xf32>, i64) -> (tensor<?x?x768xf16>, tensor<768xf16>, tensor<768xf16>, tensor<768xf32>, tensor<4x768xf32>)
  return %0#0, %0#1, %0#2, %0#3, %0#4 : tensor<?x?x768xf16>, tensor<768xf16>, tensor<768xf16>, tensor<768xf32>, tensor<4x768xf32>
}

// CHECK-LABEL: func.func @infer_dynamic_f16(
func.func @infer_dynamic_f16(%x: tensor<?x?x768xf16>, %gamma: tensor<768xf16>, %beta: tensor<768xf16>, %rv: tensor<768xf32>) -> tensor<?x?x768xf16> {
  // CHECK: un.infer %{{.*}} {eps = 1.000000e-03 : f32} : (tensor<?x?x768xf16>, tensor<768xf16>, tensor<768xf16>, tensor<768xf32>) -> tensor<?x?x768xf16>
  %0 = "un.infer"(%x, %gamma, %beta, %rv) {eps = 1.0e-3 : f32} : (tensor<?x?x768xf16>, tensor<768xf16>, tensor<768xf16>, tensor<768xf32>) -> tensor<?x?x768xf16>
  return %0 : tensor<?x?x768xf16>
}

// CHECK-LABEL: func.func @train_dynamic_channels_bf16(
func.func @train_dynamic_channels_bf16(%x: tensor<?x128xbf16>, %gamma: tensor<?xbf16>, %beta: tensor<?xbf16>, %rv: tensor<?xf32>, %win: tensor<?x?xf32>, %t: i64, %skips: i64) -> (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?xf32>, tensor<?xf32>, i1, tensor<?xf32>, tensor<?x?xf32>, i64) {
  // CHECK: un.train_forward %{{.*}} {eps = 1.000000e-03 : f32, momentum = 5.000000e-01 : f32, outlier_filtration = true, r_max = 3.000000e+00 : f32, r_warmup = 10 : i64, warmup_iters = 2 : i64}
  // CHECK-SAME: : (tensor<?x128xbf16>, tensor<?xbf16>, tensor<?xbf16>, tensor<?xf32>, tensor<?x?xf32>, i64, i64) -> (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?xf32>, tensor<?xf32>, i1, tensor<?xf32>, tensor<?x?xf32>, i64)
  %0:8 = "un.train_forward"(%x, %gamma, %beta, %rv, %win, %t, %skips) {eps = 1.0e-3 : f32, momentum = 0.5 : f32, warmup_iters = 2 : i64, outlier_filtration = true, r_max = 3.0 : f32, r_warmup = 10 : i64} : (tensor<?x128xbf16>, tensor<?xbf16>, tensor<?xbf16>, tensor<?xf32>, tensor<?x?xf32>, i64, i64) -> (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?xf32>, tensor<?xf32>, i1, tensor<?xf32>, tensor<?x?xf32>, i64)
  // CHECK: un.train_forward
  // CHECK-NOT: eps
  // CHECK-SAME: : (tensor<?x128xbf16>, tensor<?xbf16>, tensor<?xbf16>, tensor<?xf32>, tensor<?x?xf32>, i64, i64) -> (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?xf32>, tensor<?xf32>, i1, tensor<?xf32>, tensor<?x?xf32>, i64)
  %1:8 = "un.train_forward"(%x, %gamma, %beta, %rv, %win, %t, %skips) : (tensor<?x128xbf16>, tensor<?xbf16>, tensor<?xbf16>, tensor<?xf32>, tensor<?x?xf32>, i64, i64) -> (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?xf32>, tensor<?xf32>, i1, tensor<?xf32>, tensor<?x?xf32>, i64)
  return %0#0, %0#1, %0#2, %0#3, %0#4, %0#5, %1#6, %1#7 : tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?xf32>, tensor<?xf32>, i1, tensor<?xf32>, tensor<?x?xf32>, i64
}

// CHECK-LABEL: func.func @backward_dynamic_channels_bf16(
func.func @backward_dynamic_channels_bf16(%gy: tensor<?x128xbf16>, %z: tensor<?x128xbf16>, %var: tensor<?xf32>, %r: tensor<?xf32>, %skip: i1, %gamma: tensor<?xbf16>, %ema: tensor<?xf32>, %wgz: tensor<?x?xf32>, %t: i64) -> (tensor<?x128xbf16>, tensor<?xbf16>, tensor<?xbf16>, tensor<?xf32>, tensor<?x?xf32>) {
  // CHECK: un.train_backward %{{.*}} {eps = 1.000000e-03 : f32, momentum = 5.000000e-01 : f32, warmup_iters = 2 : i64}
  // CHECK-SAME: : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?xf32>, tensor<?xf32>, i1, tensor<?xbf16>, tensor<?xf32>, tensor<?x?xf32>, i64) -> (tensor<?x128xbf16>, tensor<?xbf16>, tensor<?xbf16>, tensor<?xf32>, tensor<?x?xf32>)
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %gamma, %ema, %wgz, %t) {eps = 1.0e-3 : f32, momentum = 0.5 : f32, warmup_iters = 2 : i64} : (tensor<?x128xbf16>, tensor<?x128xbf16>, tensor<?xf32>, tensor<?xf32>, i1, tensor<?xbf16>, tensor<?xf32>, tensor<?x?xf32>, i64) -> (tensor<?x128xbf16>, tensor<?xbf16>, tensor<?xbf16>, tensor<?xf32>, tensor<?x?xf32>)
  return %0#0, %0#1, %0#2, %0#3, %0#4 : tensor<?x128xbf16>, tensor<?xbf16>, tensor<?xbf16>, tensor<?xf32>, tensor<?x?xf32>
}

// CHECK-LABEL: func.func @infer_dynamic_channels_bf16(
func.func @infer_dynamic_channels_bf16(%x: tensor<?x128xbf16>, %gamma: tensor<?xbf16>, %beta: tensor<?xbf16>, %rv: tensor<?xf32>) -> tensor<?x128xbf16> {
  // CHECK: un.infer %{{.*}} {eps = 1.000000e-03 : f32} : (tensor<?x128xbf16>, tensor<?xbf16>, tensor<?xbf16>, tensor<?xf32>) -> tensor<?x128xbf16>
  %0 = "un.infer"(%x, %gamma, %beta, %rv) {eps = 1.0e-3 : f32} : (tensor<?x128xbf16>, tensor<?xbf16>, tensor<?xbf16>, tensor<?xf32>) -> tensor<?x128xbf16>
  return %0 : tensor<?x128xbf16>
}

// CHECK-LABEL: func.func @train_window1_f32(
func.func @train_window1_f32(%x: tensor<2x4xf32>, %gamma: tensor<4xf32>, %beta: tensor<4xf32>, %rv: tensor<4xf32>, %win: tensor<1x4xf32>, %t: i64, %skips: i64) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<1x4xf32>, i64) {
  // CHECK: un.train_forward %{{.*}} {eps = 1.000000e-03 : f32, momentum = 5.000000e-01 : f32, outlier_filtration = true, r_max = 3.000000e+00 : f32, r_warmup = 10 : i64, warmup_iters = 2 : i64}
  // CHECK-SAME: : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x4xf32>, i64, i64) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<1x4xf32>, i64)
  %0:8 = "un.train_forward"(%x, %gamma, %beta, %rv, %win, %t, %skips) {eps = 1.0e-3 : f32, momentum = 0.5 : f32, warmup_iters = 2 : i64, outlier_filtration = true, r_max = 3.0 : f32, r_warmup = 10 : i64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x4xf32>, i64, i64) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<1x4xf32>, i64)
  // CHECK: un.train_forward
  // CHECK-NOT: eps
  // CHECK-SAME: : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x4xf32>, i64, i64) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<1x4xf32>, i64)
  %1:8 = "un.train_forward"(%x, %gamma, %beta, %rv, %win, %t, %skips) : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x4xf32>, i64, i64) -> (tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<1x4xf32>, i64)
  return %0#0, %0#1, %0#2, %0#3, %0#4, %0#5, %1#6, %1#7 : tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<1x4xf32>, i64
}

// CHECK-LABEL: func.func @backward_window1_f32(
func.func @backward_window1_f32(%gy: tensor<2x4xf32>, %z: tensor<2x4xf32>, %var: tensor<4xf32>, %r: tensor<4xf32>, %skip: i1, %gamma: tensor<4xf32>, %ema: tensor<4xf32>, %wgz: tensor<1x4xf32>, %t: i64) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x4xf32>) {
  // CHECK: un.train_backward %{{.*}} {eps = 1.000000e-03 : f32, momentum = 5.000000e-01 : f32, warmup_iters = 2 : i64}
  // CHECK-SAME: : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4xf32>, tensor<1x4xf32>, i64) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x4xf32>)
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %gamma, %ema, %wgz, %t) {eps = 1.0e-3 : f32, momentum = 0.5 : f32, warmup_iters = 2 : i64} : (tensor<2x4xf32>, tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4xf32>, tensor<1x4xf32>, i64) -> (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x4xf32>)
  return %0#0, %0#1, %0#2, %0#3, %0#4 : tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<1x4xf32>
}

// CHECK-LABEL: func.func @infer_window1_f32(
func.func @infer_window1_f32(%x: tensor<2x4xf32>, %gamma: tensor<4xf32>, %beta: tensor<4xf32>, %rv: tensor<4xf32>) -> tensor<2x4xf32> {
  // CHECK: un.infer %{{.*}} {eps = 1.000000e-03 : f32} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  %0 = "un.infer"(%x, %gamma, %beta, %rv) {eps = 1.0e-3 : f32} : (tensor<2x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x4xf32>
  return %0 : tensor<2x4xf32>
}

// CHECK-LABEL: func.func @train_rank4_bf16(
func.func @train_rank4_bf16(%x: tensor<3x5x7x16xbf16>, %gamma: tensor<16xbf16>, %beta: tensor<16xbf16>, %rv: tensor<16xf32>, %win: tensor<8x16xf32>, %t: i64, %skips: i64, %mask: tensor<3x5x7xi1>) -> (tensor<3x5x7x16xbf16>, tensor<3x5x7x16xbf16>, tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<8x16xf32>, i64) {
  // CHECK: un.train_forward %{{.*}} mask %{{.*}} {eps = 1.000000e-03 : f32, momentum = 5.000000e-01 : f32, outlier_filtration = true, r_max = 3.000000e+00 : f32, r_warmup = 10 : i64, warmup_iters = 2 : i64}
  // CHECK-SAME: : (tensor<3x5x7x16xbf16>, tensor<16xbf16>, tensor<16xbf16>, tensor<16xf32>, tensor<8x16xf32>, i64, i64, tensor<3x5x7xi1>) -> (tensor<3x5x7x16xbf16>, tensor<3x5x7x16xbf16>, tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<8x16xf32>, i64)
  %0:8 = "un.train_forward"(%x, %gamma, %beta, %rv, %win, %t, %skips, %mask) {eps = 1.0e-3 : f32, momentum = 0.5 : f32, warmup_iters = 2 : i64, outlier_filtration = true, r_max = 3.0 : f32, r_warmup = 10 : i64} : (tensor<3x5x7x16xbf16>, tensor<16xbf16>, tensor<16xbf16>, tensor<16xf32>, tensor<8x16xf32>, i64, i64, tensor<3x5x7xi1>) -> (tensor<3x5x7x16xbf16>, tensor<3x5x7x16xbf16>, tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<8x16xf32>, i64)
  // CHECK: un.train_forward
  // CHECK-NOT: eps
  // CHECK-SAME: : (tensor<3x5x7x16xbf16>, tensor<16xbf16>, tensor<16xbf16>, tensor<16xf32>, tensor<8x16xf32>, i64, i64, tensor<3x5x7xi1>) -> (tensor<3x5x7x16xbf16>, tensor<3x5x7x16xbf16>, tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<8x16xf32>, i64)
  %1:8 = "un.train_forward"(%x, %gamma, %beta, %rv, %win, %t, %skips, %mask) : (tensor<3x5x7x16xbf16>, tensor<16xbf16>, tensor<16xbf16>, tensor<16xf32>, tensor<8x16xf32>, i64, i64, tensor<3x5x7xi1>) -> (tensor<3x5x7x16xbf16>, tensor<3x5x7x16xbf16>, tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<8x16xf32>, i64)
  return %0#0, %0#1, %0#2, %0#3, %0#4, %0#5, %1#6, %1#7 : tensor<3x5x7x16xbf16>, tensor<3x5x7x16xbf16>, tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<8x16xf32>, i64
}

// CHECK-LABEL: func.func @backward_rank4_bf16(
func.func @backward_rank4_bf16(%gy: tensor<3x5x7x16xbf16>, %z: tensor<3x5x7x16xbf16>, %var: tensor<16xf32>, %r: tensor<16xf32>, %skip: i1, %gamma: tensor<16xbf16>, %ema: tensor<16xf32>, %wgz: tensor<8x16xf32>, %t: i64) -> (tensor<3x5x7x16xbf16>, tensor<16xbf16>, tensor<16xbf16>, tensor<16xf32>, tensor<8x16xf32>) {
  // CHECK: un.train_backward %{{.*}} {eps = 1.000000e-03 : f32, momentum = 5.000000e-01 : f32, warmup_iters = 2 : i64}
  // CHECK-SAME: : (tensor<3x5x7x16xbf16>, tensor<3x5x7x16xbf16>, tensor<16xf32>, tensor<16xf32>, i1, tensor<16xbf16>, tensor<16xf32>, tensor<8x16xf32>, i64) -> (tensor<3x5x7x16xbf16>, tensor<16xbf16>, tensor<16xbf16>, tensor<16xf32>, tensor<8x16xf32>)
  %0:5 = "un.train_backward"(%gy, %z, %var, %r, %skip, %gamma, %ema, %wgz, %t) {eps = 1.0e-3 : f32, momentum = 0.5 : f32, warmup_iters = 2 : i64} : (tensor<3x5x7x16xbf16>, tensor<3x5x7x16xbf16>, tensor<16xf32>, tensor<16xf32>, i1, tensor<16xbf16>, tensor<16xf32>, tensor<8x16xf32>, i64) -> (tensor<3x5x7x16xbf16>, tensor<16xbf16>, tensor<16xbf16>, tensor<16xf32>, tensor<8x16xf32>)
  return %0#0, %0#1, %0#2, %0#3, %0#4 : tensor<3x5x7x16xbf16>, tensor<16xbf16>, tensor<16xbf16>, tensor<16xf32>, tensor<8x16xf32>
}

// CHECK-LABEL: func.func @infer_rank4_bf16(
func.func @infer_rank4_bf16(%x: tensor<3x5x7x16xbf16>, %gamma: tensor<16xbf16>, %beta: tensor<16xbf16>, %rv: tensor<16xf32>) -> tensor<3x5x7x16xbf16> {
  // CHECK: un.infer %{{.*}} {eps = 1.000000e-03 : f32} : (tensor<3x5x7x16xbf16>, tensor<16xbf16>, tensor<16xbf16>, tensor<16xf32>) -> tensor<3x5x7x16xbf16>
  %0 = "un.infer"(%x, %gamma, %beta, %rv) {eps = 1.0e-3 : f32} : (tensor<3x5x7x16xbf16>, tensor<16xbf16>, tensor<16xbf16>, tensor<16xf32>) -> tensor<3x5x7x16xbf16>
  return %0 : tensor<3x5x7x16xbf16>
}

// The primitive ops, in custom form.

// CHECK-LABEL: func.func @primitives_forward(
func.func @primitives_forward(%x: tensor<?x197x384xf16>, %mask: tensor<?x197xi1>, %gamma: tensor<384xf16>, %beta: tensor<384xf16>, %rv: tensor<384xf32>, %win: tensor<4x384xf32>, %t: i64, %skips: i64) -> (tensor<?x197x384xf16>, tensor<?x197x384xf16>, i1, tensor<384xf32>, tensor<4x384xf32>, i64, tensor<384xf32>) {
  // CHECK: %[[PSI:.*]] = un.quadratic_mean %{{.*}} mask %{{.*}} : (tensor<?x197x384xf16>, tensor<?x197xi1>) -> tensor<384xf32>
  %psi = un.quadratic_mean %x mask %mask : (tensor<?x197x384xf16>, tensor<?x197xi1>) -> tensor<384xf32>
  // CHECK: un.quadratic_mean %{{.*}} : (tensor<?x197x384xf16>) -> tensor<384xf32>
  %psi2 = un.quadratic_mean %x : (tensor<?x197x384xf16>) -> tensor<384xf32>
  // CHECK: %[[VAR:.*]], %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} = un.smooth_forward_stats %[[PSI]], %{{.*}} {outlier_filtration = true}
  %var, %r, %skip, %rv1, %win1, %skips1 = un.smooth_forward_stats %psi, %rv, %win, %t, %skips {outlier_filtration = true} : (tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>, i64, i64) -> (tensor<384xf32>, tensor<384xf32>, i1, tensor<384xf32>, tensor<4x384xf32>, i64)
  // CHECK: un.normalize %{{.*}}, %[[VAR]], %{{.*}}, %{{.*}} : (tensor<?x197x384xf16>, tensor<384xf32>, tensor<384xf16>, tensor<384xf16>) -> (tensor<?x197x384xf16>, tensor<?x197x384xf16>)
  %z, %y = un.normalize %x, %var, %gamma, %beta : (tensor<?x197x384xf16>, tensor<384xf32>, tensor<384xf16>, tensor<384xf16>) -> (tensor<?x197x384xf16>, tensor<?x197x384xf16>)
  return %z, %y, %skip, %rv1, %win1, %skips1, %psi2 : tensor<?x197x384xf16>, tensor<?x197x384xf16>, i1, tensor<384xf32>, tensor<4x384xf32>, i64, tensor<384xf32>
}

// CHECK-LABEL: func.func @primitives_backward(
func.func @primitives_backward(%gy: tensor<?x768xbf16>, %z: tensor<?x768xbf16>, %var: tensor<768xf32>, %r: tensor<768xf32>, %skip: i1, %gamma: tensor<768xbf16>, %ema: tensor<768xf32>, %wgz: tensor<?x768xf32>, %t: i64) -> (tensor<?x768xbf16>, tensor<768xbf16>, tensor<768xbf16>, tensor<768xf32>, tensor<?x768xf32>) {
  // CHECK: %[[GZ:.*]], %{{.*}}, %{{.*}} = un.grad_stats %{{.*}} : (tensor<?x768xbf16>, tensor<?x768xbf16>, tensor<768xf32>, tensor<768xbf16>) -> (tensor<768xf32>, tensor<768xbf16>, tensor<768xbf16>)
  %gz, %ggamma, %gbeta = un.grad_stats %gy, %z, %r, %gamma : (tensor<?x768xbf16>, tensor<?x768xbf16>, tensor<768xf32>, tensor<768xbf16>) -> (tensor<768xf32>, tensor<768xbf16>, tensor<768xbf16>)
  // CHECK: %[[COEF:.*]], %{{.*}}, %{{.*}} = un.smooth_grad_stats %[[GZ]], %{{.*}} {momentum = 8.000000e-01 : f32} : (tensor<768xf32>, i1, tensor<768xf32>, tensor<?x768xf32>, i64) -> (tensor<768xf32>, tensor<768xf32>, tensor<?x768xf32>)
  %coef, %ema1, %wgz1 = un.smooth_grad_stats %gz, %skip, %ema, %wgz, %t {momentum = 0.8 : f32} : (tensor<768xf32>, i1, tensor<768xf32>, tensor<?x768xf32>, i64) -> (tensor<768xf32>, tensor<768xf32>, tensor<?x768xf32>)
  // CHECK: un.input_grad %{{.*}}, %[[COEF]] : (tensor<?x768xbf16>, tensor<?x768xbf16>, tensor<768xf32>, tensor<768xf32>, tensor<768xbf16>, tensor<768xf32>) -> tensor<?x768xbf16>
  %gx = un.input_grad %gy, %z, %var, %r, %gamma, %coef : (tensor<?x768xbf16>, tensor<?x768xbf16>, tensor<768xf32>, tensor<768xf32>, tensor<768xbf16>, tensor<768xf32>) -> tensor<?x768xbf16>
  return %gx, %ggamma, %gbeta, %ema1, %wgz1 : tensor<?x768xbf16>, tensor<768xbf16>, tensor<768xbf16>, tensor<768xf32>, tensor<?x768xf32>
}

// CHECK-LABEL: func.func @affine(
func.func @affine(%x: tensor<4x?xf16>, %sf32: tensor<?xf32>, %sf16: tensor<?xf16>) -> (tensor<4x?xf16>, tensor<4x?xf16>) {
  // CHECK: un.affine %{{.*}} : (tensor<4x?xf16>, tensor<?xf32>, tensor<?xf16>) -> tensor<4x?xf16>
  %0 = un.affine %x, %sf32, %sf16 : (tensor<4x?xf16>, tensor<?xf32>, tensor<?xf16>) -> tensor<4x?xf16>
  // CHECK: un.affine %{{.*}} : (tensor<4x?xf16>, tensor<?xf16>, tensor<?xf32>) -> tensor<4x?xf16>
  %1 = "un.affine"(%x, %sf16, %sf32) : (tensor<4x?xf16>, tensor<?xf16>, tensor<?xf32>) -> tensor<4x?xf16>
  return %0, %1 : tensor<4x?xf16>, tensor<4x?xf16>
}
