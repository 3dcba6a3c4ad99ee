// RUN: un-opt %s -un-raise-norms -split-input-file -verify-diagnostics | FileCheck %s

#ch = affine_map<(d0, d1) -> (d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#v = affine_map<(d0) -> (d0)>

// UnifiedNorm in eval as torch-mlir emits it: gamma * x / sqrt(rv + eps)
// + beta, with sqrt(rv + eps) as two [C] generics: raised to un.infer.
// CHECK-LABEL: func.func @un_inference(
// CHECK-SAME: %[[X:.*]]: tensor<3x8xf32>, %[[G:.*]]: tensor<8xf32>, %[[B:.*]]: tensor<8xf32>, %[[RV:.*]]: tensor<8xf32>)
// CHECK: %[[Y:.*]] = un.infer %[[X]], %[[G]], %[[B]], %[[RV]] {eps = 1.000000e-03 : f32}
// CHECK-NOT: arith.divf
// CHECK: return %[[Y]]
func.func @un_inference(%x: tensor<3x8xf32>, %gamma: tensor<8xf32>, %beta: tensor<8xf32>, %rv: tensor<8xf32>) -> tensor<3x8xf32> {
  %eps = arith.constant 1.0e-03 : f64
  %e = tensor.empty() : tensor<3x8xf32>
  %ec = tensor.empty() : tensor<8xf32>
  %1 = linalg.generic {indexing_maps = [#ch, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%gamma, %x : tensor<8xf32>, tensor<3x8xf32>) outs(%e : tensor<3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.mulf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<3x8xf32>
  %2 = linalg.generic {indexing_maps = [#v, #v], iterator_types = ["parallel"]} ins(%rv : tensor<8xf32>) outs(%ec : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = arith.truncf %eps : f64 to f32
    %r = arith.addf %in, %t : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %3 = linalg.generic {indexing_maps = [#v, #v], iterator_types = ["parallel"]} ins(%2 : tensor<8xf32>) outs(%ec : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.sqrt %in : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %4 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%1, %3 : tensor<3x8xf32>, tensor<8xf32>) outs(%e : tensor<3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.divf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<3x8xf32>
  %5 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%4, %beta : tensor<3x8xf32>, tensor<8xf32>) outs(%e : tensor<3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.addf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<3x8xf32>
  return %5 : tensor<3x8xf32>
}

// -----

#ch = affine_map<(d0, d1) -> (d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>

// BatchNorm in eval: (x - mean) * invstd * w + b -> un.affine with
// scale = invstd * w and shift = (0 - mean) * invstd * w + b, per channel.
// CHECK-LABEL: func.func @batch_norm(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x16xf32>, %[[MEAN:[^:]*]]: tensor<16xf32>, %[[INV:[^:]*]]: tensor<16xf32>, %[[W:[^:]*]]: tensor<16xf32>, %[[B:[^:]*]]: tensor<16xf32>)
// CHECK: %[[S0:.*]] = linalg.generic {{.*}} ins(%[[MEAN]] : tensor<16xf32>)
// CHECK: arith.subf
// CHECK: %[[S1:.*]]:2 = linalg.generic {{.*}} ins(%[[INV]], %[[S0]] : tensor<16xf32>, tensor<16xf32>)
// CHECK: arith.mulf
// CHECK: arith.mulf
// CHECK: %[[S2:.*]]:2 = linalg.generic {{.*}} ins(%[[W]], %[[S1]]#0, %[[S1]]#1 : tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
// CHECK: %[[S3:.*]]:2 = linalg.generic {{.*}} ins(%[[B]], %[[S2]]#0, %[[S2]]#1 : tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
// CHECK: arith.addf
// CHECK: %[[Y:.*]] = un.affine %[[X]], %[[S3]]#0, %[[S3]]#1 : (tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<?x16xf32>
// CHECK-NOT: iterator_types = ["parallel", "parallel"]
// CHECK: return %[[Y]]
func.func @batch_norm(%x: tensor<?x16xf32>, %mean: tensor<16xf32>, %invstd: tensor<16xf32>, %w: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<?x16xf32> {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?x16xf32>
  %e = tensor.empty(%d) : tensor<?x16xf32>
  %1 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %mean : tensor<?x16xf32>, tensor<16xf32>) outs(%e : tensor<?x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.subf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<?x16xf32>
  %2 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%1, %invstd : tensor<?x16xf32>, tensor<16xf32>) outs(%e : tensor<?x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.mulf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<?x16xf32>
  %3 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%2, %w : tensor<?x16xf32>, tensor<16xf32>) outs(%e : tensor<?x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.mulf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<?x16xf32>
  %4 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%3, %b : tensor<?x16xf32>, tensor<16xf32>) outs(%e : tensor<?x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.addf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<?x16xf32>
  return %4 : tensor<?x16xf32>
}

// -----

#ch = affine_map<(d0, d1) -> (d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>

// No raise: a bias add alone is not a normalization.
// CHECK-LABEL: func.func @bias_only(
// CHECK-NOT: un.
// CHECK: linalg.generic
// CHECK: arith.addf
func.func @bias_only(%x: tensor<4x16xf32>, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %e = tensor.empty() : tensor<4x16xf32>
  %1 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %b : tensor<4x16xf32>, tensor<16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.addf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  return %1 : tensor<4x16xf32>
}

// -----

#ch = affine_map<(d0, d1) -> (d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#tok = affine_map<(d0, d1) -> (d0, 0)>

// No raise: LayerNorm's (here RMSNorm's) statistics are per token (a
// reduction over the channels, broadcast back along them); its trailing
// scale and shift are reported and left alone.
// CHECK-LABEL: func.func @layer_norm_tail(
// CHECK-NOT: un.
// CHECK: arith.mulf
// CHECK: arith.mulf
// CHECK: arith.addf
func.func @layer_norm_tail(%x: tensor<4x16xf32>, %w: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<4x1xf32>
  %init = linalg.fill ins(%zero : f32) outs(%e1 : tensor<4x1xf32>) -> tensor<4x1xf32>
  %sum = linalg.generic {indexing_maps = [#id, #tok], iterator_types = ["parallel", "reduction"]} ins(%x : tensor<4x16xf32>) outs(%init : tensor<4x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %sq = arith.mulf %in, %in : f32
    %r = arith.addf %sq, %out : f32
    linalg.yield %r : f32
  } -> tensor<4x1xf32>
  %rstd = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%sum : tensor<4x1xf32>) outs(%e1 : tensor<4x1xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.rsqrt %in : f32
    linalg.yield %r : f32
  } -> tensor<4x1xf32>
  %e = tensor.empty() : tensor<4x16xf32>
  %n = linalg.generic {indexing_maps = [#id, #tok, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %rstd : tensor<4x16xf32>, tensor<4x1xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.mulf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  // expected-remark @+1 {{per-token normalization (LayerNorm-style): its statistics change with every token, so it cannot be folded into linear layers; left as it is}}
  %1 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%n, %w : tensor<4x16xf32>, tensor<16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.mulf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  %2 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%1, %b : tensor<4x16xf32>, tensor<16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.addf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  return %2 : tensor<4x16xf32>
}

// -----

#ch = affine_map<(d0, d1) -> (d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>

// No raise: v / x is not affine in x.
// CHECK-LABEL: func.func @reciprocal(
// CHECK-NOT: un.
// CHECK: arith.divf %{{.*}}, %{{.*}} : f32
func.func @reciprocal(%x: tensor<4x16xf32>, %v: tensor<16xf32>) -> tensor<4x16xf32> {
  %e = tensor.empty() : tensor<4x16xf32>
  %1 = linalg.generic {indexing_maps = [#ch, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%v, %x : tensor<16xf32>, tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.divf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  return %1 : tensor<4x16xf32>
}

// -----

#ch = affine_map<(d0, d1, d2) -> (d2)>
#ch3 = affine_map<(d0, d1, d2) -> (0, 0, d2)>
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

// f16 activations, a [1, 1, C] scale and a scalar shift captured by the
// body: raised to un.affine with f32 scale and shift.
// CHECK-LABEL: func.func @f16_expanded_and_scalar(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x3x8xf16>, %[[S:[^:]*]]: tensor<1x1x8xf16>)
// CHECK: %[[C:.*]] = tensor.collapse_shape %[[S]] {{\[}}[0, 1, 2]] : tensor<1x1x8xf16> into tensor<8xf16>
// CHECK: arith.extf
// CHECK: %[[Y:.*]] = un.affine %[[X]], %{{.*}}#0, %{{.*}}#1 : (tensor<2x3x8xf16>, tensor<8xf32>, tensor<8xf32>) -> tensor<2x3x8xf16>
// CHECK: return %[[Y]]
func.func @f16_expanded_and_scalar(%x: tensor<2x3x8xf16>, %scale: tensor<1x1x8xf16>) -> tensor<2x3x8xf16> {
  %two = arith.constant 2.0 : f16
  %e = tensor.empty() : tensor<2x3x8xf16>
  %1 = linalg.generic {indexing_maps = [#id, #ch3, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %scale : tensor<2x3x8xf16>, tensor<1x1x8xf16>) outs(%e : tensor<2x3x8xf16>) {
  ^bb0(%in: f16, %in_1: f16, %out: f16):
    %r = arith.mulf %in, %in_1 : f16
    linalg.yield %r : f16
  } -> tensor<2x3x8xf16>
  %2 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%1 : tensor<2x3x8xf16>) outs(%e : tensor<2x3x8xf16>) {
  ^bb0(%in: f16, %out: f16):
    %r = arith.subf %in, %two : f16
    linalg.yield %r : f16
  } -> tensor<2x3x8xf16>
  return %2 : tensor<2x3x8xf16>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>

// No raise: a scalar scaling (attention's 1/sqrt(d)) is not a
// normalization.
// CHECK-LABEL: func.func @scalar_scale(
// CHECK-NOT: un.
// CHECK: arith.mulf
func.func @scalar_scale(%x: tensor<4x16xf32>) -> tensor<4x16xf32> {
  %k = arith.constant 0.125 : f32
  %e = tensor.empty() : tensor<4x16xf32>
  %1 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%x : tensor<4x16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = arith.mulf %in, %k : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  return %1 : tensor<4x16xf32>
}

// -----

#ch = affine_map<(d0, d1) -> (d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>

// A chain stops where an intermediate value has another user: the scale
// is raised, the shift (whose input is also returned) stays.
// CHECK-LABEL: func.func @shared_intermediate(
// CHECK: %[[A:.*]] = un.affine
// CHECK: %[[B:.*]] = linalg.generic {{.*}} ins(%[[A]], %{{.*}} : tensor<4x16xf32>, tensor<16xf32>)
// CHECK: return %[[A]], %[[B]]
func.func @shared_intermediate(%x: tensor<4x16xf32>, %w: tensor<16xf32>, %b: tensor<16xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>) {
  %e = tensor.empty() : tensor<4x16xf32>
  %1 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %w : tensor<4x16xf32>, tensor<16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.mulf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  %2 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%1, %b : tensor<4x16xf32>, tensor<16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.addf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  return %1, %2 : tensor<4x16xf32>, tensor<4x16xf32>
}

// -----

// The preserved route: a frontend kept UnifiedNorm as a call to an external
// function; it becomes un.infer and the declaration goes.
// CHECK-NOT: func.func private @un_mlir.unified_norm_infer
// CHECK-LABEL: func.func @preserved(
// CHECK-SAME: %[[X:[^:]*]]: tensor<3x8xf32>, %[[G:[^:]*]]: tensor<8xf32>, %[[B:[^:]*]]: tensor<8xf32>, %[[RV:[^:]*]]: tensor<8xf32>)
// CHECK: %[[Y:.*]] = un.infer %[[X]], %[[G]], %[[B]], %[[RV]] {eps = 1.000000e-03 : f32}
// CHECK-NOT: call
// CHECK: return %[[Y]]
func.func private @un_mlir.unified_norm_infer.0(tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, f64) -> tensor<3x8xf32>
func.func @preserved(%x: tensor<3x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %rv: tensor<8xf32>) -> tensor<3x8xf32> {
  %eps = arith.constant 1.0e-03 : f64
  %y = func.call @un_mlir.unified_norm_infer.0(%x, %g, %b, %rv, %eps) : (tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, f64) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

// The same with eps as an attribute (hand-written IR).
// CHECK-LABEL: func.func @preserved_attribute(
// CHECK: un.infer %{{.*}} {eps = 2.000000e-03 : f32}
func.func private @un_mlir.unified_norm_infer(tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
func.func @preserved_attribute(%x: tensor<3x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %rv: tensor<8xf32>) -> tensor<3x8xf32> {
  %y = func.call @un_mlir.unified_norm_infer(%x, %g, %b, %rv) {un.eps = 2.0e-03 : f64} : (tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

func.func private @un_mlir.unified_norm_infer(tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, f64) -> tensor<3x8xf32>
func.func @preserved_runtime_eps(%x: tensor<3x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %rv: tensor<8xf32>, %eps: f64) -> tensor<3x8xf32> {
  // expected-error @+1 {{call to '@un_mlir.unified_norm_infer': eps must be a constant float}}
  %y = func.call @un_mlir.unified_norm_infer(%x, %g, %b, %rv, %eps) : (tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, f64) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

func.func private @un_mlir.unified_norm_infer(tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
func.func @preserved_without_eps(%x: tensor<3x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %rv: tensor<8xf32>) -> tensor<3x8xf32> {
  // expected-error @+1 {{call to '@un_mlir.unified_norm_infer' has neither an eps operand nor a 'un.eps' float attribute}}
  %y = func.call @un_mlir.unified_norm_infer(%x, %g, %b, %rv) : (tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

func.func private @un_mlir.unified_norm_infer(tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
func.func @preserved_wrong_arity(%x: tensor<3x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>) -> tensor<3x8xf32> {
  // expected-error @+1 {{call to '@un_mlir.unified_norm_infer' must take (x, gamma, beta, running_var[, eps]) and return y}}
  %y = func.call @un_mlir.unified_norm_infer(%x, %g, %b) {un.eps = 1.0e-05 : f64} : (tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}

// -----

func.func private @un_mlir.unified_norm_infer(tensor<3x8xf16>, tensor<8xf16>, tensor<8xf16>, tensor<8xf16>) -> tensor<3x8xf16>
func.func @preserved_wrong_types(%x: tensor<3x8xf16>, %g: tensor<8xf16>, %b: tensor<8xf16>, %rv: tensor<8xf16>) -> tensor<3x8xf16> {
  // expected-error @+2 {{'un.infer' op operand #3 must be 1D tensor of 32-bit float values, but got 'tensor<8xf16>'}}
  // expected-error @+1 {{call to '@un_mlir.unified_norm_infer' does not have the types of un.infer}}
  %y = func.call @un_mlir.unified_norm_infer(%x, %g, %b, %rv) {un.eps = 1.0e-05 : f64} : (tensor<3x8xf16>, tensor<8xf16>, tensor<8xf16>, tensor<8xf16>) -> tensor<3x8xf16>
  return %y : tensor<3x8xf16>
}

// -----

#ch3 = affine_map<(d0, d1, d2) -> (0, 0, d2)>
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>

// No raise: a [2, 1, 8] scale read at [0, 0, c] is its first row, not an
// [8] vector that a collapse of all of it would give.
// CHECK-LABEL: func.func @scale_with_rows(
// CHECK-NOT: un.
// CHECK-NOT: collapse_shape
// CHECK: linalg.generic
func.func @scale_with_rows(%x: tensor<2x3x8xf32>, %scale: tensor<2x1x8xf32>) -> tensor<2x3x8xf32> {
  %e = tensor.empty() : tensor<2x3x8xf32>
  %1 = linalg.generic {indexing_maps = [#id, #ch3, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%x, %scale : tensor<2x3x8xf32>, tensor<2x1x8xf32>) outs(%e : tensor<2x3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.mulf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<2x3x8xf32>
  return %1 : tensor<2x3x8xf32>
}

// -----

#ch = affine_map<(d0, d1) -> (d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>

// No raise: a static [3] scale is no channel vector of a [?, 16]
// activation.
// CHECK-LABEL: func.func @scale_of_other_size(
// CHECK-NOT: un.
// CHECK: linalg.generic
func.func @scale_of_other_size(%x: tensor<?x16xf32>, %scale: tensor<3xf32>) -> tensor<?x16xf32> {
  %c0 = arith.constant 0 : index
  %d = tensor.dim %x, %c0 : tensor<?x16xf32>
  %e = tensor.empty(%d) : tensor<?x16xf32>
  %1 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %scale : tensor<?x16xf32>, tensor<3xf32>) outs(%e : tensor<?x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.mulf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<?x16xf32>
  return %1 : tensor<?x16xf32>
}

// -----

#tok = affine_map<(d0, d1, d2) -> (d0, d1)>
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#ch = affine_map<(d0, d1, d2) -> (d2)>
#v = affine_map<(d0) -> (d0)>
#s = affine_map<(d0) -> ()>

// UnifiedNorm (eval) right after an embedding, trimmed from torch-mlir's
// output: the gather reads one token id per token, which is no per-token
// statistic, so the UN is raised (it was reported as a LayerNorm). The
// chain is UnifiedNorm.infer's own order, (gamma / sqrt(rv + eps)) * x +
// beta, with eps in a 0-d tensor: un.infer (eps 1e-5, the default, is not
// printed).
// CHECK-LABEL: func.func @embedding_then_un(
// CHECK-SAME: %[[IDS:[^:]*]]: tensor<2x5xi64>, %[[T:[^:]*]]: tensor<32x16xf32>, %[[G:[^:]*]]: tensor<16xf32>, %[[B:[^:]*]]: tensor<16xf32>, %[[RV:[^:]*]]: tensor<16xf32>)
// CHECK: %[[E:.*]] = linalg.generic {{.*}} ins(%[[IDS]] : tensor<2x5xi64>)
// CHECK: %[[Y:.*]] = un.infer %[[E]], %[[G]], %[[B]], %[[RV]] : (
// CHECK: return %[[Y]]
func.func @embedding_then_un(%ids: tensor<2x5xi64>, %table: tensor<32x16xf32>, %gamma: tensor<16xf32>, %beta: tensor<16xf32>, %rv: tensor<16xf32>) -> tensor<2x5x16xf32> {
  %eps = arith.constant dense<9.99999974E-6> : tensor<f32>
  %0 = tensor.empty() : tensor<2x5x16xf32>
  %1 = linalg.generic {indexing_maps = [#tok, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%ids : tensor<2x5xi64>) outs(%0 : tensor<2x5x16xf32>) {
  ^bb0(%in: i64, %out: f32):
    %i = arith.index_cast %in : i64 to index
    %c = linalg.index 2 : index
    %x = tensor.extract %table[%i, %c] : tensor<32x16xf32>
    linalg.yield %x : f32
  } -> tensor<2x5x16xf32>
  %2 = tensor.empty() : tensor<16xf32>
  %3 = linalg.generic {indexing_maps = [#v, #s, #v], iterator_types = ["parallel"]} ins(%rv, %eps : tensor<16xf32>, tensor<f32>) outs(%2 : tensor<16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.addf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<16xf32>
  %4 = linalg.generic {indexing_maps = [#v, #v], iterator_types = ["parallel"]} ins(%3 : tensor<16xf32>) outs(%2 : tensor<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.sqrt %in : f32
    linalg.yield %r : f32
  } -> tensor<16xf32>
  %5 = linalg.generic {indexing_maps = [#v, #v, #v], iterator_types = ["parallel"]} ins(%gamma, %4 : tensor<16xf32>, tensor<16xf32>) outs(%2 : tensor<16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.divf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<16xf32>
  %6 = linalg.generic {indexing_maps = [#ch, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%5, %1 : tensor<16xf32>, tensor<2x5x16xf32>) outs(%0 : tensor<2x5x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.mulf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<2x5x16xf32>
  %7 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel", "parallel"]} ins(%6, %beta : tensor<2x5x16xf32>, tensor<16xf32>) outs(%0 : tensor<2x5x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.addf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<2x5x16xf32>
  return %7 : tensor<2x5x16xf32>
}

// -----

#id = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
#ch = affine_map<(d0, d1, d2, d3) -> (d3)>
#v = affine_map<(d0) -> (d0)>

// A channels-last [B, H, W, C] activation (Swin) and UnifiedNorm without
// bias (a converted RMSNorm): (gamma / sqrt(rv + eps)) * x is un.infer
// with beta = 0.
// CHECK-LABEL: func.func @channels_last_no_beta(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x3x3x16xf32>, %[[G:[^:]*]]: tensor<16xf32>, %[[RV:[^:]*]]: tensor<16xf32>)
// CHECK: %[[ZERO:.*]] = arith.constant dense<0.000000e+00> : tensor<16xf32>
// CHECK: %[[Y:.*]] = un.infer %[[X]], %[[G]], %[[ZERO]], %[[RV]] {eps = 9.99999997E-7 : f32}
// CHECK: return %[[Y]]
func.func @channels_last_no_beta(%x: tensor<2x3x3x16xf32>, %gamma: tensor<16xf32>, %rv: tensor<16xf32>) -> tensor<2x3x3x16xf32> {
  %2 = tensor.empty() : tensor<16xf32>
  %3 = linalg.generic {indexing_maps = [#v, #v], iterator_types = ["parallel"]} ins(%rv : tensor<16xf32>) outs(%2 : tensor<16xf32>) {
  ^bb0(%in: f32, %out: f32):
    %eps = arith.constant 1.0e-06 : f32
    %a = arith.addf %in, %eps : f32
    %r = math.sqrt %a : f32
    linalg.yield %r : f32
  } -> tensor<16xf32>
  %4 = linalg.generic {indexing_maps = [#v, #v, #v], iterator_types = ["parallel"]} ins(%gamma, %3 : tensor<16xf32>, tensor<16xf32>) outs(%2 : tensor<16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.divf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<16xf32>
  %0 = tensor.empty() : tensor<2x3x3x16xf32>
  %5 = linalg.generic {indexing_maps = [#ch, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%4, %x : tensor<16xf32>, tensor<2x3x3x16xf32>) outs(%0 : tensor<2x3x3x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.mulf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<2x3x3x16xf32>
  return %5 : tensor<2x3x3x16xf32>
}

// -----

#ch = affine_map<(d0, d1) -> (d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#tok = affine_map<(d0, d1) -> (d0, 0)>

// A per-token factor that is no statistic (a padding mask given as an
// argument) does not make the scale and shift after it a LayerNorm: they
// are raised.
// CHECK-LABEL: func.func @masked_then_scaled(
// CHECK: %[[M:.*]] = linalg.generic
// CHECK: un.affine %[[M]]
func.func @masked_then_scaled(%x: tensor<4x16xf32>, %mask: tensor<4x1xf32>, %w: tensor<16xf32>, %b: tensor<16xf32>) -> tensor<4x16xf32> {
  %e = tensor.empty() : tensor<4x16xf32>
  %n = linalg.generic {indexing_maps = [#id, #tok, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %mask : tensor<4x16xf32>, tensor<4x1xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.mulf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  %1 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%n, %w : tensor<4x16xf32>, tensor<16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.mulf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  %2 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%1, %b : tensor<4x16xf32>, tensor<16xf32>) outs(%e : tensor<4x16xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.addf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<4x16xf32>
  return %2 : tensor<4x16xf32>
}
