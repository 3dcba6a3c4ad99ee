// Every reason un-fold-into-linear gives for leaving an affine map, one
// case each (fold-into-linear-no-fold.mlir has the common ones): with
// report-unfolded the remark says why, and the IR is left as it was.
// RUN: un-opt %s -un-fold-into-linear=report-unfolded=true -split-input-file -verify-diagnostics -o /dev/null
// RUN: un-opt %s -un-fold-into-linear -split-input-file | FileCheck %s

//===----------------------------------------------------------------------===//
// Into a linear layer that reads the normalized value
//===----------------------------------------------------------------------===//

// The channel (last dim j of x) is summed over by the contraction but the
// weight does not depend on it.
#a = affine_map<(t, d, c, j) -> (t, c, j)>
#w = affine_map<(t, d, c, j) -> (c, d)>
#o = affine_map<(t, d, c, j) -> (t, d)>
// CHECK-LABEL: func.func @weight_lacks_channel(
// CHECK: un.affine
func.func @weight_lacks_channel(%x: tensor<5x4x2xf32>, %w: tensor<4x3xf32>, %a: tensor<2xf32>, %beta: tensor<2xf32>) -> tensor<5x3xf32> {
  // expected-remark @+1 {{nor into its user 'linalg.generic' (the weight does not carry the contracted channel dim)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4x2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<5x4x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%y, %w : tensor<5x4x2xf32>, tensor<4x3xf32>) outs(%f : tensor<5x3xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %r = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %r : f32
    linalg.yield %s : f32
  } -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}

// -----

// The weight is contracted over a second dim as well.
#a = affine_map<(t, d, j, c) -> (t, j, c)>
#w = affine_map<(t, d, j, c) -> (j, c, d)>
#o = affine_map<(t, d, j, c) -> (t, d)>
// CHECK-LABEL: func.func @two_contracted_dims(
// CHECK: un.affine
func.func @two_contracted_dims(%x: tensor<5x2x4xf32>, %w: tensor<2x4x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  // expected-remark @+1 {{nor into its user 'linalg.generic' (the weight has another contracted dim)}}
  %y = un.affine %x, %a, %beta : (tensor<5x2x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x2x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.generic {indexing_maps = [#a, #w, #o], iterator_types = ["parallel", "parallel", "reduction", "reduction"]} ins(%y, %w : tensor<5x2x4xf32>, tensor<2x4x3xf32>) outs(%f : tensor<5x3xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %r = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %r : f32
    linalg.yield %s : f32
  } -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}

// -----

// f64 weights are not folded.
// CHECK-LABEL: func.func @f64_weight(
// CHECK: un.affine
func.func @f64_weight(%x: tensor<5x4xf32>, %w: tensor<4x3xf64>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf64> {
  // expected-remark @+1 {{nor into its user 'linalg.matmul' (the weight or output element type is not f32, f16 or bf16)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f64
  %e = tensor.empty() : tensor<5x3xf64>
  %f = linalg.fill ins(%z : f64) outs(%e : tensor<5x3xf64>) -> tensor<5x3xf64>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf64>) outs(%f : tensor<5x3xf64>) -> tensor<5x3xf64>
  return %m : tensor<5x3xf64>
}

// -----

// The normalized value is the accumulator of the contraction.
// CHECK-LABEL: func.func @normalized_value_is_init(
// CHECK: un.affine
func.func @normalized_value_is_init(%x: tensor<5x3xf32>, %u: tensor<5x4xf32>, %w: tensor<4x3xf32>, %a: tensor<3xf32>, %beta: tensor<3xf32>) -> tensor<5x3xf32> {
  // expected-remark @+1 {{nor into its user 'linalg.matmul' (the value is the init of the contraction, not an input)}}
  %y = un.affine %x, %a, %beta : (tensor<5x3xf32>, tensor<3xf32>, tensor<3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%u, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%y : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}

// -----

// A scale computed at run time from activations (here by a un op) is not a
// parameter.
// CHECK-LABEL: func.func @scale_from_statistics(
// CHECK: un.affine
func.func @scale_from_statistics(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  %a = un.quadratic_mean %x : (tensor<5x4xf32>) -> tensor<4xf32>
  // expected-remark @+1 {{nor into its user 'linalg.matmul' (the scale or shift is not a parameter: it is computed by 'un.quadratic_mean')}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}

// -----

// A weight returned by a call (which may have side effects).
// CHECK-LABEL: func.func @weight_from_call(
// CHECK: un.affine
func.func private @make_weight(%w: tensor<4x3xf32>) -> tensor<4x3xf32> {
  return %w : tensor<4x3xf32>
}
func.func @weight_from_call(%x: tensor<5x4xf32>, %w0: tensor<4x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  %w = func.call @make_weight(%w0) : (tensor<4x3xf32>) -> tensor<4x3xf32>
  // expected-remark @+1 {{nor into its user 'linalg.matmul' (the other operand of 'linalg.matmul' is not a weight: it is computed by 'func.call', which has side effects)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}

// -----

// A weight carried by a loop.
// CHECK-LABEL: func.func @weight_is_loop_carried(
// CHECK: un.affine
func.func @weight_is_loop_carried(%x: tensor<4x4xf32>, %w0: tensor<4x4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<4x4xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %r = scf.for %i = %c0 to %c2 step %c1 iter_args(%w = %w0) -> (tensor<4x4xf32>) {
    // expected-remark @+1 {{nor into its user 'linalg.matmul' (the other operand of 'linalg.matmul' is not a weight: it depends on a block argument that is not a function argument)}}
    %y = un.affine %x, %a, %beta : (tensor<4x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4x4xf32>
    %z = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<4x4xf32>
    %f = linalg.fill ins(%z : f32) outs(%e : tensor<4x4xf32>) -> tensor<4x4xf32>
    %m = linalg.matmul ins(%y, %w : tensor<4x4xf32>, tensor<4x4xf32>) outs(%f : tensor<4x4xf32>) -> tensor<4x4xf32>
    %n = linalg.copy ins(%m : tensor<4x4xf32>) outs(%w : tensor<4x4xf32>) -> tensor<4x4xf32>
    scf.yield %n : tensor<4x4xf32>
  }
  return %r : tensor<4x4xf32>
}

// -----

// Proving that a weight is a parameter looks at 256 ops at most (here 130
// transposes and their 130 inits).
// CHECK-LABEL: func.func @weight_behind_too_many_ops(
// CHECK: un.affine
func.func @weight_behind_too_many_ops(%x: tensor<5x4xf32>, %w0: tensor<4x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  %e1 = tensor.empty() : tensor<3x4xf32>
  %w1 = linalg.transpose ins(%w0 : tensor<4x3xf32>) outs(%e1 : tensor<3x4xf32>) permutation = [1, 0]
  %e2 = tensor.empty() : tensor<4x3xf32>
  %w2 = linalg.transpose ins(%w1 : tensor<3x4xf32>) outs(%e2 : tensor<4x3xf32>) permutation = [1, 0]
  %e3 = tensor.empty() : tensor<3x4xf32>
  %w3 = linalg.transpose ins(%w2 : tensor<4x3xf32>) outs(%e3 : tensor<3x4xf32>) permutation = [1, 0]
  %e4 = tensor.empty() : tensor<4x3xf32>
  %w4 = linalg.transpose ins(%w3 : tensor<3x4xf32>) outs(%e4 : tensor<4x3xf32>) permutation = [1, 0]
  %e5 = tensor.empty() : tensor<3x4xf32>
  %w5 = linalg.transpose ins(%w4 : tensor<4x3xf32>) outs(%e5 : tensor<3x4xf32>) permutation = [1, 0]
  %e6 = tensor.empty() : tensor<4x3xf32>
  %w6 = linalg.transpose ins(%w5 : tensor<3x4xf32>) outs(%e6 : tensor<4x3xf32>) permutation = [1, 0]
  %e7 = tensor.empty() : tensor<3x4xf32>
  %w7 = linalg.transpose ins(%w6 : tensor<4x3xf32>) outs(%e7 : tensor<3x4xf32>) permutation = [1, 0]
  %e8 = tensor.empty() : tensor<4x3xf32>
  %w8 = linalg.transpose ins(%w7 : tensor<3x4xf32>) outs(%e8 : tensor<4x3xf32>) permutation = [1, 0]
  %e9 = tensor.empty() : tensor<3x4xf32>
  %w9 = linalg.transpose ins(%w8 : tensor<4x3xf32>) outs(%e9 : tensor<3x4xf32>) permutation = [1, 0]
  %e10 = tensor.empty() : tensor<4x3xf32>
  %w10 = linalg.transpose ins(%w9 : tensor<3x4xf32>) outs(%e10 : tensor<4x3xf32>) permutation = [1, 0]
  %e11 = tensor.empty() : tensor<3x4xf32>
  %w11 = linalg.transpose ins(%w10 : tensor<4x3xf32>) outs(%e11 : tensor<3x4xf32>) permutation = [1, 0]
  %e12 = tensor.empty() : tensor<4x3xf32>
  %w12 = linalg.transpose ins(%w11 : tensor<3x4xf32>) outs(%e12 : tensor<4x3xf32>) permutation = [1, 0]
  %e13 = tensor.empty() : tensor<3x4xf32>
  %w13 = linalg.transpose ins(%w12 : tensor<4x3xf32>) outs(%e13 : tensor<3x4xf32>) permutation = [1, 0]
  %e14 = tensor.empty() : tensor<4x3xf32>
  %w14 = linalg.transpose ins(%w13 : tensor<3x4xf32>) outs(%e14 : tensor<4x3xf32>) permutation = [1, 0]
  %e15 = tensor.empty() : tensor<3x4xf32>
  %w15 = linalg.transpose ins(%w14 : tensor<4x3xf32>) outs(%e15 : tensor<3x4xf32>) permutation = [1, 0]
  %e16 = tensor.empty() : tensor<4x3xf32>
  %w16 = linalg.transpose ins(%w15 : tensor<3x4xf32>) outs(%e16 : tensor<4x3xf32>) permutation = [1, 0]
  %e17 = tensor.empty() : tensor<3x4xf32>
  %w17 = linalg.transpose ins(%w16 : tensor<4x3xf32>) outs(%e17 : tensor<3x4xf32>) permutation = [1, 0]
  %e18 = tensor.empty() : tensor<4x3xf32>
  %w18 = linalg.transpose ins(%w17 : tensor<3x4xf32>) outs(%e18 : tensor<4x3xf32>) permutation = [1, 0]
  %e19 = tensor.empty() : tensor<3x4xf32>
  %w19 = linalg.transpose ins(%w18 : tensor<4x3xf32>) outs(%e19 : tensor<3x4xf32>) permutation = [1, 0]
  %e20 = tensor.empty() : tensor<4x3xf32>
  %w20 = linalg.transpose ins(%w19 : tensor<3x4xf32>) outs(%e20 : tensor<4x3xf32>) permutation = [1, 0]
  %e21 = tensor.empty() : tensor<3x4xf32>
  %w21 = linalg.transpose ins(%w20 : tensor<4x3xf32>) outs(%e21 : tensor<3x4xf32>) permutation = [1, 0]
  %e22 = tensor.empty() : tensor<4x3xf32>
  %w22 = linalg.transpose ins(%w21 : tensor<3x4xf32>) outs(%e22 : tensor<4x3xf32>) permutation = [1, 0]
  %e23 = tensor.empty() : tensor<3x4xf32>
  %w23 = linalg.transpose ins(%w22 : tensor<4x3xf32>) outs(%e23 : tensor<3x4xf32>) permutation = [1, 0]
  %e24 = tensor.empty() : tensor<4x3xf32>
  %w24 = linalg.transpose ins(%w23 : tensor<3x4xf32>) outs(%e24 : tensor<4x3xf32>) permutation = [1, 0]
  %e25 = tensor.empty() : tensor<3x4xf32>
  %w25 = linalg.transpose ins(%w24 : tensor<4x3xf32>) outs(%e25 : tensor<3x4xf32>) permutation = [1, 0]
  %e26 = tensor.empty() : tensor<4x3xf32>
  %w26 = linalg.transpose ins(%w25 : tensor<3x4xf32>) outs(%e26 : tensor<4x3xf32>) permutation = [1, 0]
  %e27 = tensor.empty() : tensor<3x4xf32>
  %w27 = linalg.transpose ins(%w26 : tensor<4x3xf32>) outs(%e27 : tensor<3x4xf32>) permutation = [1, 0]
  %e28 = tensor.empty() : tensor<4x3xf32>
  %w28 = linalg.transpose ins(%w27 : tensor<3x4xf32>) outs(%e28 : tensor<4x3xf32>) permutation = [1, 0]
  %e29 = tensor.empty() : tensor<3x4xf32>
  %w29 = linalg.transpose ins(%w28 : tensor<4x3xf32>) outs(%e29 : tensor<3x4xf32>) permutation = [1, 0]
  %e30 = tensor.empty() : tensor<4x3xf32>
  %w30 = linalg.transpose ins(%w29 : tensor<3x4xf32>) outs(%e30 : tensor<4x3xf32>) permutation = [1, 0]
  %e31 = tensor.empty() : tensor<3x4xf32>
  %w31 = linalg.transpose ins(%w30 : tensor<4x3xf32>) outs(%e31 : tensor<3x4xf32>) permutation = [1, 0]
  %e32 = tensor.empty() : tensor<4x3xf32>
  %w32 = linalg.transpose ins(%w31 : tensor<3x4xf32>) outs(%e32 : tensor<4x3xf32>) permutation = [1, 0]
  %e33 = tensor.empty() : tensor<3x4xf32>
  %w33 = linalg.transpose ins(%w32 : tensor<4x3xf32>) outs(%e33 : tensor<3x4xf32>) permutation = [1, 0]
  %e34 = tensor.empty() : tensor<4x3xf32>
  %w34 = linalg.transpose ins(%w33 : tensor<3x4xf32>) outs(%e34 : tensor<4x3xf32>) permutation = [1, 0]
  %e35 = tensor.empty() : tensor<3x4xf32>
  %w35 = linalg.transpose ins(%w34 : tensor<4x3xf32>) outs(%e35 : tensor<3x4xf32>) permutation = [1, 0]
  %e36 = tensor.empty() : tensor<4x3xf32>
  %w36 = linalg.transpose ins(%w35 : tensor<3x4xf32>) outs(%e36 : tensor<4x3xf32>) permutation = [1, 0]
  %e37 = tensor.empty() : tensor<3x4xf32>
  %w37 = linalg.transpose ins(%w36 : tensor<4x3xf32>) outs(%e37 : tensor<3x4xf32>) permutation = [1, 0]
  %e38 = tensor.empty() : tensor<4x3xf32>
  %w38 = linalg.transpose ins(%w37 : tensor<3x4xf32>) outs(%e38 : tensor<4x3xf32>) permutation = [1, 0]
  %e39 = tensor.empty() : tensor<3x4xf32>
  %w39 = linalg.transpose ins(%w38 : tensor<4x3xf32>) outs(%e39 : tensor<3x4xf32>) permutation = [1, 0]
  %e40 = tensor.empty() : tensor<4x3xf32>
  %w40 = linalg.transpose ins(%w39 : tensor<3x4xf32>) outs(%e40 : tensor<4x3xf32>) permutation = [1, 0]
  %e41 = tensor.empty() : tensor<3x4xf32>
  %w41 = linalg.transpose ins(%w40 : tensor<4x3xf32>) outs(%e41 : tensor<3x4xf32>) permutation = [1, 0]
  %e42 = tensor.empty() : tensor<4x3xf32>
  %w42 = linalg.transpose ins(%w41 : tensor<3x4xf32>) outs(%e42 : tensor<4x3xf32>) permutation = [1, 0]
  %e43 = tensor.empty() : tensor<3x4xf32>
  %w43 = linalg.transpose ins(%w42 : tensor<4x3xf32>) outs(%e43 : tensor<3x4xf32>) permutation = [1, 0]
  %e44 = tensor.empty() : tensor<4x3xf32>
  %w44 = linalg.transpose ins(%w43 : tensor<3x4xf32>) outs(%e44 : tensor<4x3xf32>) permutation = [1, 0]
  %e45 = tensor.empty() : tensor<3x4xf32>
  %w45 = linalg.transpose ins(%w44 : tensor<4x3xf32>) outs(%e45 : tensor<3x4xf32>) permutation = [1, 0]
  %e46 = tensor.empty() : tensor<4x3xf32>
  %w46 = linalg.transpose ins(%w45 : tensor<3x4xf32>) outs(%e46 : tensor<4x3xf32>) permutation = [1, 0]
  %e47 = tensor.empty() : tensor<3x4xf32>
  %w47 = linalg.transpose ins(%w46 : tensor<4x3xf32>) outs(%e47 : tensor<3x4xf32>) permutation = [1, 0]
  %e48 = tensor.empty() : tensor<4x3xf32>
  %w48 = linalg.transpose ins(%w47 : tensor<3x4xf32>) outs(%e48 : tensor<4x3xf32>) permutation = [1, 0]
  %e49 = tensor.empty() : tensor<3x4xf32>
  %w49 = linalg.transpose ins(%w48 : tensor<4x3xf32>) outs(%e49 : tensor<3x4xf32>) permutation = [1, 0]
  %e50 = tensor.empty() : tensor<4x3xf32>
  %w50 = linalg.transpose ins(%w49 : tensor<3x4xf32>) outs(%e50 : tensor<4x3xf32>) permutation = [1, 0]
  %e51 = tensor.empty() : tensor<3x4xf32>
  %w51 = linalg.transpose ins(%w50 : tensor<4x3xf32>) outs(%e51 : tensor<3x4xf32>) permutation = [1, 0]
  %e52 = tensor.empty() : tensor<4x3xf32>
  %w52 = linalg.transpose ins(%w51 : tensor<3x4xf32>) outs(%e52 : tensor<4x3xf32>) permutation = [1, 0]
  %e53 = tensor.empty() : tensor<3x4xf32>
  %w53 = linalg.transpose ins(%w52 : tensor<4x3xf32>) outs(%e53 : tensor<3x4xf32>) permutation = [1, 0]
  %e54 = tensor.empty() : tensor<4x3xf32>
  %w54 = linalg.transpose ins(%w53 : tensor<3x4xf32>) outs(%e54 : tensor<4x3xf32>) permutation = [1, 0]
  %e55 = tensor.empty() : tensor<3x4xf32>
  %w55 = linalg.transpose ins(%w54 : tensor<4x3xf32>) outs(%e55 : tensor<3x4xf32>) permutation = [1, 0]
  %e56 = tensor.empty() : tensor<4x3xf32>
  %w56 = linalg.transpose ins(%w55 : tensor<3x4xf32>) outs(%e56 : tensor<4x3xf32>) permutation = [1, 0]
  %e57 = tensor.empty() : tensor<3x4xf32>
  %w57 = linalg.transpose ins(%w56 : tensor<4x3xf32>) outs(%e57 : tensor<3x4xf32>) permutation = [1, 0]
  %e58 = tensor.empty() : tensor<4x3xf32>
  %w58 = linalg.transpose ins(%w57 : tensor<3x4xf32>) outs(%e58 : tensor<4x3xf32>) permutation = [1, 0]
  %e59 = tensor.empty() : tensor<3x4xf32>
  %w59 = linalg.transpose ins(%w58 : tensor<4x3xf32>) outs(%e59 : tensor<3x4xf32>) permutation = [1, 0]
  %e60 = tensor.empty() : tensor<4x3xf32>
  %w60 = linalg.transpose ins(%w59 : tensor<3x4xf32>) outs(%e60 : tensor<4x3xf32>) permutation = [1, 0]
  %e61 = tensor.empty() : tensor<3x4xf32>
  %w61 = linalg.transpose ins(%w60 : tensor<4x3xf32>) outs(%e61 : tensor<3x4xf32>) permutation = [1, 0]
  %e62 = tensor.empty() : tensor<4x3xf32>
  %w62 = linalg.transpose ins(%w61 : tensor<3x4xf32>) outs(%e62 : tensor<4x3xf32>) permutation = [1, 0]
  %e63 = tensor.empty() : tensor<3x4xf32>
  %w63 = linalg.transpose ins(%w62 : tensor<4x3xf32>) outs(%e63 : tensor<3x4xf32>) permutation = [1, 0]
  %e64 = tensor.empty() : tensor<4x3xf32>
  %w64 = linalg.transpose ins(%w63 : tensor<3x4xf32>) outs(%e64 : tensor<4x3xf32>) permutation = [1, 0]
  %e65 = tensor.empty() : tensor<3x4xf32>
  %w65 = linalg.transpose ins(%w64 : tensor<4x3xf32>) outs(%e65 : tensor<3x4xf32>) permutation = [1, 0]
  %e66 = tensor.empty() : tensor<4x3xf32>
  %w66 = linalg.transpose ins(%w65 : tensor<3x4xf32>) outs(%e66 : tensor<4x3xf32>) permutation = [1, 0]
  %e67 = tensor.empty() : tensor<3x4xf32>
  %w67 = linalg.transpose ins(%w66 : tensor<4x3xf32>) outs(%e67 : tensor<3x4xf32>) permutation = [1, 0]
  %e68 = tensor.empty() : tensor<4x3xf32>
  %w68 = linalg.transpose ins(%w67 : tensor<3x4xf32>) outs(%e68 : tensor<4x3xf32>) permutation = [1, 0]
  %e69 = tensor.empty() : tensor<3x4xf32>
  %w69 = linalg.transpose ins(%w68 : tensor<4x3xf32>) outs(%e69 : tensor<3x4xf32>) permutation = [1, 0]
  %e70 = tensor.empty() : tensor<4x3xf32>
  %w70 = linalg.transpose ins(%w69 : tensor<3x4xf32>) outs(%e70 : tensor<4x3xf32>) permutation = [1, 0]
  %e71 = tensor.empty() : tensor<3x4xf32>
  %w71 = linalg.transpose ins(%w70 : tensor<4x3xf32>) outs(%e71 : tensor<3x4xf32>) permutation = [1, 0]
  %e72 = tensor.empty() : tensor<4x3xf32>
  %w72 = linalg.transpose ins(%w71 : tensor<3x4xf32>) outs(%e72 : tensor<4x3xf32>) permutation = [1, 0]
  %e73 = tensor.empty() : tensor<3x4xf32>
  %w73 = linalg.transpose ins(%w72 : tensor<4x3xf32>) outs(%e73 : tensor<3x4xf32>) permutation = [1, 0]
  %e74 = tensor.empty() : tensor<4x3xf32>
  %w74 = linalg.transpose ins(%w73 : tensor<3x4xf32>) outs(%e74 : tensor<4x3xf32>) permutation = [1, 0]
  %e75 = tensor.empty() : tensor<3x4xf32>
  %w75 = linalg.transpose ins(%w74 : tensor<4x3xf32>) outs(%e75 : tensor<3x4xf32>) permutation = [1, 0]
  %e76 = tensor.empty() : tensor<4x3xf32>
  %w76 = linalg.transpose ins(%w75 : tensor<3x4xf32>) outs(%e76 : tensor<4x3xf32>) permutation = [1, 0]
  %e77 = tensor.empty() : tensor<3x4xf32>
  %w77 = linalg.transpose ins(%w76 : tensor<4x3xf32>) outs(%e77 : tensor<3x4xf32>) permutation = [1, 0]
  %e78 = tensor.empty() : tensor<4x3xf32>
  %w78 = linalg.transpose ins(%w77 : tensor<3x4xf32>) outs(%e78 : tensor<4x3xf32>) permutation = [1, 0]
  %e79 = tensor.empty() : tensor<3x4xf32>
  %w79 = linalg.transpose ins(%w78 : tensor<4x3xf32>) outs(%e79 : tensor<3x4xf32>) permutation = [1, 0]
  %e80 = tensor.empty() : tensor<4x3xf32>
  %w80 = linalg.transpose ins(%w79 : tensor<3x4xf32>) outs(%e80 : tensor<4x3xf32>) permutation = [1, 0]
  %e81 = tensor.empty() : tensor<3x4xf32>
  %w81 = linalg.transpose ins(%w80 : tensor<4x3xf32>) outs(%e81 : tensor<3x4xf32>) permutation = [1, 0]
  %e82 = tensor.empty() : tensor<4x3xf32>
  %w82 = linalg.transpose ins(%w81 : tensor<3x4xf32>) outs(%e82 : tensor<4x3xf32>) permutation = [1, 0]
  %e83 = tensor.empty() : tensor<3x4xf32>
  %w83 = linalg.transpose ins(%w82 : tensor<4x3xf32>) outs(%e83 : tensor<3x4xf32>) permutation = [1, 0]
  %e84 = tensor.empty() : tensor<4x3xf32>
  %w84 = linalg.transpose ins(%w83 : tensor<3x4xf32>) outs(%e84 : tensor<4x3xf32>) permutation = [1, 0]
  %e85 = tensor.empty() : tensor<3x4xf32>
  %w85 = linalg.transpose ins(%w84 : tensor<4x3xf32>) outs(%e85 : tensor<3x4xf32>) permutation = [1, 0]
  %e86 = tensor.empty() : tensor<4x3xf32>
  %w86 = linalg.transpose ins(%w85 : tensor<3x4xf32>) outs(%e86 : tensor<4x3xf32>) permutation = [1, 0]
  %e87 = tensor.empty() : tensor<3x4xf32>
  %w87 = linalg.transpose ins(%w86 : tensor<4x3xf32>) outs(%e87 : tensor<3x4xf32>) permutation = [1, 0]
  %e88 = tensor.empty() : tensor<4x3xf32>
  %w88 = linalg.transpose ins(%w87 : tensor<3x4xf32>) outs(%e88 : tensor<4x3xf32>) permutation = [1, 0]
  %e89 = tensor.empty() : tensor<3x4xf32>
  %w89 = linalg.transpose ins(%w88 : tensor<4x3xf32>) outs(%e89 : tensor<3x4xf32>) permutation = [1, 0]
  %e90 = tensor.empty() : tensor<4x3xf32>
  %w90 = linalg.transpose ins(%w89 : tensor<3x4xf32>) outs(%e90 : tensor<4x3xf32>) permutation = [1, 0]
  %e91 = tensor.empty() : tensor<3x4xf32>
  %w91 = linalg.transpose ins(%w90 : tensor<4x3xf32>) outs(%e91 : tensor<3x4xf32>) permutation = [1, 0]
  %e92 = tensor.empty() : tensor<4x3xf32>
  %w92 = linalg.transpose ins(%w91 : tensor<3x4xf32>) outs(%e92 : tensor<4x3xf32>) permutation = [1, 0]
  %e93 = tensor.empty() : tensor<3x4xf32>
  %w93 = linalg.transpose ins(%w92 : tensor<4x3xf32>) outs(%e93 : tensor<3x4xf32>) permutation = [1, 0]
  %e94 = tensor.empty() : tensor<4x3xf32>
  %w94 = linalg.transpose ins(%w93 : tensor<3x4xf32>) outs(%e94 : tensor<4x3xf32>) permutation = [1, 0]
  %e95 = tensor.empty() : tensor<3x4xf32>
  %w95 = linalg.transpose ins(%w94 : tensor<4x3xf32>) outs(%e95 : tensor<3x4xf32>) permutation = [1, 0]
  %e96 = tensor.empty() : tensor<4x3xf32>
  %w96 = linalg.transpose ins(%w95 : tensor<3x4xf32>) outs(%e96 : tensor<4x3xf32>) permutation = [1, 0]
  %e97 = tensor.empty() : tensor<3x4xf32>
  %w97 = linalg.transpose ins(%w96 : tensor<4x3xf32>) outs(%e97 : tensor<3x4xf32>) permutation = [1, 0]
  %e98 = tensor.empty() : tensor<4x3xf32>
  %w98 = linalg.transpose ins(%w97 : tensor<3x4xf32>) outs(%e98 : tensor<4x3xf32>) permutation = [1, 0]
  %e99 = tensor.empty() : tensor<3x4xf32>
  %w99 = linalg.transpose ins(%w98 : tensor<4x3xf32>) outs(%e99 : tensor<3x4xf32>) permutation = [1, 0]
  %e100 = tensor.empty() : tensor<4x3xf32>
  %w100 = linalg.transpose ins(%w99 : tensor<3x4xf32>) outs(%e100 : tensor<4x3xf32>) permutation = [1, 0]
  %e101 = tensor.empty() : tensor<3x4xf32>
  %w101 = linalg.transpose ins(%w100 : tensor<4x3xf32>) outs(%e101 : tensor<3x4xf32>) permutation = [1, 0]
  %e102 = tensor.empty() : tensor<4x3xf32>
  %w102 = linalg.transpose ins(%w101 : tensor<3x4xf32>) outs(%e102 : tensor<4x3xf32>) permutation = [1, 0]
  %e103 = tensor.empty() : tensor<3x4xf32>
  %w103 = linalg.transpose ins(%w102 : tensor<4x3xf32>) outs(%e103 : tensor<3x4xf32>) permutation = [1, 0]
  %e104 = tensor.empty() : tensor<4x3xf32>
  %w104 = linalg.transpose ins(%w103 : tensor<3x4xf32>) outs(%e104 : tensor<4x3xf32>) permutation = [1, 0]
  %e105 = tensor.empty() : tensor<3x4xf32>
  %w105 = linalg.transpose ins(%w104 : tensor<4x3xf32>) outs(%e105 : tensor<3x4xf32>) permutation = [1, 0]
  %e106 = tensor.empty() : tensor<4x3xf32>
  %w106 = linalg.transpose ins(%w105 : tensor<3x4xf32>) outs(%e106 : tensor<4x3xf32>) permutation = [1, 0]
  %e107 = tensor.empty() : tensor<3x4xf32>
  %w107 = linalg.transpose ins(%w106 : tensor<4x3xf32>) outs(%e107 : tensor<3x4xf32>) permutation = [1, 0]
  %e108 = tensor.empty() : tensor<4x3xf32>
  %w108 = linalg.transpose ins(%w107 : tensor<3x4xf32>) outs(%e108 : tensor<4x3xf32>) permutation = [1, 0]
  %e109 = tensor.empty() : tensor<3x4xf32>
  %w109 = linalg.transpose ins(%w108 : tensor<4x3xf32>) outs(%e109 : tensor<3x4xf32>) permutation = [1, 0]
  %e110 = tensor.empty() : tensor<4x3xf32>
  %w110 = linalg.transpose ins(%w109 : tensor<3x4xf32>) outs(%e110 : tensor<4x3xf32>) permutation = [1, 0]
  %e111 = tensor.empty() : tensor<3x4xf32>
  %w111 = linalg.transpose ins(%w110 : tensor<4x3xf32>) outs(%e111 : tensor<3x4xf32>) permutation = [1, 0]
  %e112 = tensor.empty() : tensor<4x3xf32>
  %w112 = linalg.transpose ins(%w111 : tensor<3x4xf32>) outs(%e112 : tensor<4x3xf32>) permutation = [1, 0]
  %e113 = tensor.empty() : tensor<3x4xf32>
  %w113 = linalg.transpose ins(%w112 : tensor<4x3xf32>) outs(%e113 : tensor<3x4xf32>) permutation = [1, 0]
  %e114 = tensor.empty() : tensor<4x3xf32>
  %w114 = linalg.transpose ins(%w113 : tensor<3x4xf32>) outs(%e114 : tensor<4x3xf32>) permutation = [1, 0]
  %e115 = tensor.empty() : tensor<3x4xf32>
  %w115 = linalg.transpose ins(%w114 : tensor<4x3xf32>) outs(%e115 : tensor<3x4xf32>) permutation = [1, 0]
  %e116 = tensor.empty() : tensor<4x3xf32>
  %w116 = linalg.transpose ins(%w115 : tensor<3x4xf32>) outs(%e116 : tensor<4x3xf32>) permutation = [1, 0]
  %e117 = tensor.empty() : tensor<3x4xf32>
  %w117 = linalg.transpose ins(%w116 : tensor<4x3xf32>) outs(%e117 : tensor<3x4xf32>) permutation = [1, 0]
  %e118 = tensor.empty() : tensor<4x3xf32>
  %w118 = linalg.transpose ins(%w117 : tensor<3x4xf32>) outs(%e118 : tensor<4x3xf32>) permutation = [1, 0]
  %e119 = tensor.empty() : tensor<3x4xf32>
  %w119 = linalg.transpose ins(%w118 : tensor<4x3xf32>) outs(%e119 : tensor<3x4xf32>) permutation = [1, 0]
  %e120 = tensor.empty() : tensor<4x3xf32>
  %w120 = linalg.transpose ins(%w119 : tensor<3x4xf32>) outs(%e120 : tensor<4x3xf32>) permutation = [1, 0]
  %e121 = tensor.empty() : tensor<3x4xf32>
  %w121 = linalg.transpose ins(%w120 : tensor<4x3xf32>) outs(%e121 : tensor<3x4xf32>) permutation = [1, 0]
  %e122 = tensor.empty() : tensor<4x3xf32>
  %w122 = linalg.transpose ins(%w121 : tensor<3x4xf32>) outs(%e122 : tensor<4x3xf32>) permutation = [1, 0]
  %e123 = tensor.empty() : tensor<3x4xf32>
  %w123 = linalg.transpose ins(%w122 : tensor<4x3xf32>) outs(%e123 : tensor<3x4xf32>) permutation = [1, 0]
  %e124 = tensor.empty() : tensor<4x3xf32>
  %w124 = linalg.transpose ins(%w123 : tensor<3x4xf32>) outs(%e124 : tensor<4x3xf32>) permutation = [1, 0]
  %e125 = tensor.empty() : tensor<3x4xf32>
  %w125 = linalg.transpose ins(%w124 : tensor<4x3xf32>) outs(%e125 : tensor<3x4xf32>) permutation = [1, 0]
  %e126 = tensor.empty() : tensor<4x3xf32>
  %w126 = linalg.transpose ins(%w125 : tensor<3x4xf32>) outs(%e126 : tensor<4x3xf32>) permutation = [1, 0]
  %e127 = tensor.empty() : tensor<3x4xf32>
  %w127 = linalg.transpose ins(%w126 : tensor<4x3xf32>) outs(%e127 : tensor<3x4xf32>) permutation = [1, 0]
  %e128 = tensor.empty() : tensor<4x3xf32>
  %w128 = linalg.transpose ins(%w127 : tensor<3x4xf32>) outs(%e128 : tensor<4x3xf32>) permutation = [1, 0]
  %e129 = tensor.empty() : tensor<3x4xf32>
  %w129 = linalg.transpose ins(%w128 : tensor<4x3xf32>) outs(%e129 : tensor<3x4xf32>) permutation = [1, 0]
  %e130 = tensor.empty() : tensor<4x3xf32>
  %w130 = linalg.transpose ins(%w129 : tensor<3x4xf32>) outs(%e130 : tensor<4x3xf32>) permutation = [1, 0]
  // expected-remark @+1 {{nor into its user 'linalg.matmul' (the other operand of 'linalg.matmul' is not a weight: it is computed by more than 256 ops)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%y, %w130 : tensor<5x4xf32>, tensor<4x3xf32>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}

//===----------------------------------------------------------------------===//
// Where beta * W would go (the init is an argument, so only a bias add can
// take it)
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @result_has_several_users(
// CHECK: un.affine
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
func.func @result_has_several_users(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>, %acc: tensor<5x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> (tensor<5x3xf32>, tensor<5x3xf32>) {
  // expected-remark @+1 {{(beta * W has nowhere to go: the contraction's result has several users, and the init of the contraction is not a linalg.fill)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%acc : tensor<5x3xf32>) -> tensor<5x3xf32>
  %e = tensor.empty() : tensor<5x3xf32>
  %o = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<5x3xf32>, tensor<3xf32>) outs(%e : tensor<5x3xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  } -> tensor<5x3xf32>
  return %o, %m : tensor<5x3xf32>, tensor<5x3xf32>
}

// -----

// CHECK-LABEL: func.func @output_dims_merged(
// CHECK: un.affine
func.func @output_dims_merged(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %acc: tensor<5x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<15xf32> {
  // expected-remark @+1 {{(beta * W has nowhere to go: 'tensor.collapse_shape' merges or splits the output dims, and the init of the contraction is not a linalg.fill)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%acc : tensor<5x3xf32>) -> tensor<5x3xf32>
  %c = tensor.collapse_shape %m [[0, 1]] : tensor<5x3xf32> into tensor<15xf32>
  return %c : tensor<15xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#col = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @user_is_a_reduction(
// CHECK: un.affine
func.func @user_is_a_reduction(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %acc: tensor<5x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5xf32> {
  // expected-remark @+1 {{(beta * W has nowhere to go: its user is not an elementwise linalg.generic, and the init of the contraction is not a linalg.fill)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%acc : tensor<5x3xf32>) -> tensor<5x3xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5xf32>) -> tensor<5xf32>
  %r = linalg.generic {indexing_maps = [#id, #col], iterator_types = ["parallel", "reduction"]} ins(%m : tensor<5x3xf32>) outs(%f : tensor<5xf32>) {
  ^bb0(%v: f32, %out: f32):
    %s = arith.addf %v, %out : f32
    linalg.yield %s : f32
  } -> tensor<5xf32>
  return %r : tensor<5xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @output_used_twice(
// CHECK: un.affine
func.func @output_used_twice(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>, %acc: tensor<5x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  // expected-remark @+1 {{(beta * W has nowhere to go: the bias add uses the contraction's output more than once, and the init of the contraction is not a linalg.fill)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%acc : tensor<5x3xf32>) -> tensor<5x3xf32>
  %e = tensor.empty() : tensor<5x3xf32>
  %o = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<5x3xf32>, tensor<3xf32>) outs(%e : tensor<5x3xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %s = arith.addf %v, %c : f32
    %t = arith.mulf %s, %v : f32
    linalg.yield %t : f32
  } -> tensor<5x3xf32>
  return %o : tensor<5x3xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @output_scaled_first(
// CHECK: un.affine
func.func @output_scaled_first(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>, %acc: tensor<5x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  // expected-remark @+1 {{(beta * W has nowhere to go: the contraction's output is not added to a bias first, and the init of the contraction is not a linalg.fill)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%acc : tensor<5x3xf32>) -> tensor<5x3xf32>
  %e = tensor.empty() : tensor<5x3xf32>
  %o = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<5x3xf32>, tensor<3xf32>) outs(%e : tensor<5x3xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %s = arith.mulf %v, %c : f32
    linalg.yield %s : f32
  } -> tensor<5x3xf32>
  return %o : tensor<5x3xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @output_plus_constant(
// CHECK: un.affine
func.func @output_plus_constant(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %acc: tensor<5x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  // expected-remark @+1 {{(beta * W has nowhere to go: the contraction's output is added to something that is not an input used once, and the init of the contraction is not a linalg.fill)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%acc : tensor<5x3xf32>) -> tensor<5x3xf32>
  %e = tensor.empty() : tensor<5x3xf32>
  %o = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%m : tensor<5x3xf32>) outs(%e : tensor<5x3xf32>) {
  ^bb0(%v: f32, %out: f32):
    %one = arith.constant 1.0 : f32
    %s = arith.addf %v, %one : f32
    linalg.yield %s : f32
  } -> tensor<5x3xf32>
  return %o : tensor<5x3xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @bias_per_token(
// CHECK: un.affine
func.func @bias_per_token(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %b: tensor<5xf32>, %acc: tensor<5x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  // expected-remark @+1 {{(beta * W has nowhere to go: the bias is not indexed like beta * W, and the init of the contraction is not a linalg.fill)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%acc : tensor<5x3xf32>) -> tensor<5x3xf32>
  %e = tensor.empty() : tensor<5x3xf32>
  %o = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<5x3xf32>, tensor<5xf32>) outs(%e : tensor<5x3xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  } -> tensor<5x3xf32>
  return %o : tensor<5x3xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
#col = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @bias_from_activations(
// CHECK: un.affine
func.func @bias_from_activations(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %u: tensor<5x3xf32>, %acc: tensor<5x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  %z = arith.constant 0.0 : f32
  %e3 = tensor.empty() : tensor<3xf32>
  %f3 = linalg.fill ins(%z : f32) outs(%e3 : tensor<3xf32>) -> tensor<3xf32>
  %b = linalg.generic {indexing_maps = [#id, #col], iterator_types = ["reduction", "parallel"]} ins(%u : tensor<5x3xf32>) outs(%f3 : tensor<3xf32>) {
  ^bb0(%v: f32, %out: f32):
    %s = arith.addf %v, %out : f32
    linalg.yield %s : f32
  } -> tensor<3xf32>
  // expected-remark @+1 {{(beta * W has nowhere to go: the bias is not a parameter: it is computed by a contraction or reduction ('linalg.generic'): an activation, and the init of the contraction is not a linalg.fill)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%acc : tensor<5x3xf32>) -> tensor<5x3xf32>
  %e = tensor.empty() : tensor<5x3xf32>
  %o = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<5x3xf32>, tensor<3xf32>) outs(%e : tensor<5x3xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  } -> tensor<5x3xf32>
  return %o : tensor<5x3xf32>
}

//===----------------------------------------------------------------------===//
// Into the linear layer that computes the normalized value
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @producer_in_another_block(
// CHECK: un.affine
func.func @producer_in_another_block(%u: tensor<5x6xf32>, %v: tensor<6x4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>, %cond: i1) -> tensor<5x4xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%u, %v : tensor<5x6xf32>, tensor<6x4xf32>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  %r = scf.if %cond -> (tensor<5x4xf32>) {
    // expected-remark @+1 {{not folded into its producer (x is computed in another block)}}
    %y = un.affine %m, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
    scf.yield %y : tensor<5x4xf32>
  } else {
    scf.yield %f : tensor<5x4xf32>
  }
  return %r : tensor<5x4xf32>
}

// -----

// CHECK-LABEL: func.func @producer_channel_split(
// CHECK: un.affine
func.func @producer_channel_split(%u: tensor<5x6xf32>, %v: tensor<6x4xf32>, %a: tensor<2xf32>, %beta: tensor<2xf32>) -> tensor<5x2x2xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%u, %v : tensor<5x6xf32>, tensor<6x4xf32>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  %me = tensor.expand_shape %m [[0], [1, 2]] output_shape [5, 2, 2] : tensor<5x4xf32> into tensor<5x2x2xf32>
  // expected-remark @+1 {{not folded into its producer ('tensor.expand_shape' does not keep the channel dim whole)}}
  %y = un.affine %me, %a, %beta : (tensor<5x2x2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<5x2x2xf32>
  return %y : tensor<5x2x2xf32>
}

// -----

// UN after a GELU: the nonlinearity is in the way.
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @after_activation(
// CHECK: un.affine
func.func @after_activation(%u: tensor<5x6xf32>, %v: tensor<6x4xf32>, %c: tensor<4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x4xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%u, %v : tensor<5x6xf32>, tensor<6x4xf32>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  %o = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %c : tensor<5x4xf32>, tensor<4xf32>) outs(%e : tensor<5x4xf32>) {
  ^bb0(%vv: f32, %cc: f32, %out: f32):
    %s = arith.addf %vv, %cc : f32
    %t = math.tanh %s : f32
    linalg.yield %t : f32
  } -> tensor<5x4xf32>
  // expected-remark @+1 {{not folded into its producer (x is computed by 'linalg.generic', which is not a linear layer or a bias add)}}
  %y = un.affine %o, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

// -----

// A bias add whose input is not a linear layer.
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @bias_add_after_activation(
// CHECK: un.affine
func.func @bias_add_after_activation(%u: tensor<5x4xf32>, %c: tensor<4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x4xf32> {
  %e = tensor.empty() : tensor<5x4xf32>
  %t = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]} ins(%u : tensor<5x4xf32>) outs(%e : tensor<5x4xf32>) {
  ^bb0(%vv: f32, %out: f32):
    %th = math.tanh %vv : f32
    linalg.yield %th : f32
  } -> tensor<5x4xf32>
  %o = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%t, %c : tensor<5x4xf32>, tensor<4xf32>) outs(%e : tensor<5x4xf32>) {
  ^bb0(%vv: f32, %cc: f32, %out: f32):
    %s = arith.addf %vv, %cc : f32
    linalg.yield %s : f32
  } -> tensor<5x4xf32>
  // expected-remark @+1 {{not folded into its producer (x is computed by 'linalg.generic', not by a linear layer before its bias add)}}
  %y = un.affine %o, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

// -----

// CHECK-LABEL: func.func @producer_is_a_fill(
// CHECK: un.affine
func.func @producer_is_a_fill(%a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x4xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%one : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  // expected-remark @+1 {{not folded into its producer (x is computed by 'linalg.fill', not by a linear layer)}}
  %y = un.affine %f, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

// -----

// UN after attention's P V: V is an activation.
// CHECK-LABEL: func.func @producer_weight_is_activation(
// CHECK: un.affine
func.func @producer_weight_is_activation(%p: tensor<5x5xf32>, %x: tensor<5x6xf32>, %wv: tensor<6x4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x4xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %v = linalg.matmul ins(%x, %wv : tensor<5x6xf32>, tensor<6x4xf32>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  %o = linalg.matmul ins(%p, %v : tensor<5x5xf32>, tensor<5x4xf32>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  // expected-remark @+1 {{not folded into its producer (the operand of 'linalg.matmul' that carries the channel is not a weight: it is computed by a contraction or reduction ('linalg.matmul'): an activation)}}
  %y = un.affine %o, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

// -----

// CHECK-LABEL: func.func @producer_accumulates(
// CHECK: un.affine
func.func @producer_accumulates(%u: tensor<5x6xf32>, %v: tensor<6x4xf32>, %acc: tensor<5x4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x4xf32> {
  %m = linalg.matmul ins(%u, %v : tensor<5x6xf32>, tensor<6x4xf32>) outs(%acc : tensor<5x4xf32>) -> tensor<5x4xf32>
  // expected-remark @+1 {{not folded into its producer (the init of the contraction is not a linalg.fill)}}
  %y = un.affine %m, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

// -----

// CHECK-LABEL: func.func @producer_f64_weight(
// CHECK: un.affine
func.func @producer_f64_weight(%u: tensor<5x6xf32>, %v: tensor<6x4xf64>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x4xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%u, %v : tensor<5x6xf32>, tensor<6x4xf64>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  // expected-remark @+1 {{not folded into its producer (the weight or output element type is not f32, f16 or bf16)}}
  %y = un.affine %m, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

// -----

// CHECK-LABEL: func.func @producer_scale_from_statistics(
// CHECK: un.affine
func.func @producer_scale_from_statistics(%u: tensor<5x6xf32>, %v: tensor<6x4xf32>, %s: tensor<3x4xf32>, %beta: tensor<4xf32>) -> tensor<5x4xf32> {
  %a = un.quadratic_mean %s : (tensor<3x4xf32>) -> tensor<4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%u, %v : tensor<5x6xf32>, tensor<6x4xf32>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  // expected-remark @+1 {{not folded into its producer (the scale or shift is not a parameter: it is computed by 'un.quadratic_mean')}}
  %y = un.affine %m, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

// -----

// The channel is broadcast by the contraction: no input carries it.
#a = affine_map<(t, c, k) -> (t, k)>
#b = affine_map<(t, c, k) -> (k)>
#o = affine_map<(t, c, k) -> (t, c)>
// CHECK-LABEL: func.func @channel_broadcast_by_contraction(
// CHECK: un.affine
func.func @channel_broadcast_by_contraction(%u: tensor<5x6xf32>, %v: tensor<6xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x4xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %m = linalg.generic {indexing_maps = [#a, #b, #o], iterator_types = ["parallel", "parallel", "reduction"]} ins(%u, %v : tensor<5x6xf32>, tensor<6xf32>) outs(%f : tensor<5x4xf32>) {
  ^bb0(%p: f32, %q: f32, %acc: f32):
    %r = arith.mulf %p, %q : f32
    %s = arith.addf %acc, %r : f32
    linalg.yield %s : f32
  } -> tensor<5x4xf32>
  // expected-remark @+1 {{not folded into its producer (no input of the contraction carries the channel dim)}}
  %y = un.affine %m, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}
