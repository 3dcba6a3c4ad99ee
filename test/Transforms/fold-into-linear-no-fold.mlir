// Cases where folding UN into a neighbouring linear layer is not legal:
// the IR is left correct (the affine map stays, the contraction is
// untouched) and, with report-unfolded, a remark says why.
// RUN: un-opt %s -un-fold-into-linear -split-input-file | FileCheck %s
// RUN: un-opt %s -un-fold-into-linear=report-unfolded=true -split-input-file -verify-diagnostics -o /dev/null

// The channel is not the contracted dim: y [T, C] is the right operand of
// W [D, T] y, so a scales the output's columns, not the weight.
// CHECK-LABEL: func.func @channel_not_contracted(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x4xf32>, %[[W:[^:]*]]: tensor<3x5xf32>
// CHECK: %[[Y:.*]] = un.affine %[[X]]
// CHECK: linalg.matmul ins(%[[W]], %[[Y]] : tensor<3x5xf32>, tensor<5x4xf32>)
func.func @channel_not_contracted(%x: tensor<5x4xf32>, %w: tensor<3x5xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<3x4xf32> {
  // expected-remark @+1 {{nor into its user 'linalg.matmul' (the channel dim is not contracted (it is a parallel dim of 'linalg.matmul'))}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x4xf32>) -> tensor<3x4xf32>
  %m = linalg.matmul ins(%w, %y : tensor<3x5xf32>, tensor<5x4xf32>) outs(%f : tensor<3x4xf32>) -> tensor<3x4xf32>
  return %m : tensor<3x4xf32>
}

// -----

// The channel is split into heads by tensor.expand_shape before the
// contraction over the head dim: no single dim carries it whole.
#q = affine_map<(t, h, d, c) -> (t, h, c)>
#w = affine_map<(t, h, d, c) -> (h, c, d)>
#o = affine_map<(t, h, d, c) -> (t, h, d)>
// CHECK-LABEL: func.func @channel_split_by_expand(
// CHECK: %[[Y:.*]] = un.affine
// CHECK: %[[YE:.*]] = tensor.expand_shape %[[Y]]
// CHECK: linalg.generic {{.*}} ins(%[[YE]], %{{.*}} : tensor<5x2x2xf32>, tensor<2x2x3xf32>)
func.func @channel_split_by_expand(%x: tensor<5x4xf32>, %w: tensor<2x2x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x2x3xf32> {
  // expected-remark @+1 {{nor into its user 'tensor.expand_shape' ('tensor.expand_shape' does not keep the channel dim whole)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %ye = tensor.expand_shape %y [[0], [1, 2]] output_shape [5, 2, 2] : tensor<5x4xf32> into tensor<5x2x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x2x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x2x3xf32>) -> tensor<5x2x3xf32>
  %m = linalg.generic {indexing_maps = [#q, #w, #o], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%ye, %w : tensor<5x2x2xf32>, tensor<2x2x3xf32>) outs(%f : tensor<5x2x3xf32>) {
  ^bb0(%in: f32, %ww: f32, %acc: f32):
    %p = arith.mulf %in, %ww : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<5x2x3xf32>
  return %m : tensor<5x2x3xf32>
}

// -----

// The other operand depends on the normalized activation (a Gram matrix
// y x^T): "folding" would rewrite an activation, O(T*C) work per call.
// CHECK-LABEL: func.func @weight_is_the_activation(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x4xf32>
// CHECK: %[[Y:.*]] = un.affine %[[X]]
// CHECK: %[[XT:.*]] = linalg.transpose ins(%[[X]]
// CHECK: linalg.matmul ins(%[[Y]], %[[XT]] :
func.func @weight_is_the_activation(%x: tensor<5x4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x5xf32> {
  // expected-remark @+1 {{nor into its user 'linalg.matmul' (the other operand of 'linalg.matmul' is not a weight: it depends on the normalized activation)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %et = tensor.empty() : tensor<4x5xf32>
  %xt = linalg.transpose ins(%x : tensor<5x4xf32>) outs(%et : tensor<4x5xf32>) permutation = [1, 0]
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x5xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x5xf32>) -> tensor<5x5xf32>
  %m = linalg.matmul ins(%y, %xt : tensor<5x4xf32>, tensor<4x5xf32>) outs(%f : tensor<5x5xf32>) -> tensor<5x5xf32>
  return %m : tensor<5x5xf32>
}

// -----

// The other operand is computed by a contraction (attention's K^T from a
// projection): an activation, not a weight.
// CHECK-LABEL: func.func @weight_computed_by_contraction(
// CHECK: %[[Y:.*]] = un.affine
// CHECK: linalg.matmul ins(%[[Y]], %{{.*}} : tensor<5x4xf32>, tensor<4x6xf32>)
func.func @weight_computed_by_contraction(%x: tensor<5x4xf32>, %u: tensor<4x3xf32>, %v: tensor<3x6xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x6xf32> {
  // expected-remark @+1 {{nor into its user 'linalg.matmul' (the other operand of 'linalg.matmul' is not a weight: it is computed by a contraction or reduction ('linalg.matmul'): an activation)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<4x6xf32>
  %f0 = linalg.fill ins(%z : f32) outs(%e0 : tensor<4x6xf32>) -> tensor<4x6xf32>
  %k = linalg.matmul ins(%u, %v : tensor<4x3xf32>, tensor<3x6xf32>) outs(%f0 : tensor<4x6xf32>) -> tensor<4x6xf32>
  %e = tensor.empty() : tensor<5x6xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x6xf32>) -> tensor<5x6xf32>
  %m = linalg.matmul ins(%y, %k : tensor<5x4xf32>, tensor<4x6xf32>) outs(%f : tensor<5x6xf32>) -> tensor<5x6xf32>
  return %m : tensor<5x6xf32>
}

// -----

// No linear neighbour: the normalized value only feeds a residual add.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @residual_only(
// CHECK: %[[Y:.*]] = un.affine
// CHECK: linalg.generic {{.*}} ins(%[[Y]], %{{.*}} :
func.func @residual_only(%x: tensor<5x4xf32>, %r: tensor<5x4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x4xf32> {
  // expected-remark @+1 {{not folded into its producer (x is a block argument, not the output of a linear layer), nor into its user 'linalg.generic' ('linalg.generic' is not a linear layer (a contraction on tensors))}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %e = tensor.empty() : tensor<5x4xf32>
  %o = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%y, %r : tensor<5x4xf32>, tensor<5x4xf32>) outs(%e : tensor<5x4xf32>) {
  ^bb0(%p: f32, %q: f32, %out: f32):
    %s = arith.addf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<5x4xf32>
  return %o : tensor<5x4xf32>
}

// -----

// UN after a linear layer whose output is also used unnormalized.
// CHECK-LABEL: func.func @producer_has_other_users(
// CHECK: %[[M:.*]] = linalg.matmul
// CHECK: %[[Y:.*]] = un.affine %[[M]]
// CHECK: return %[[Y]], %[[M]]
func.func @producer_has_other_users(%u: tensor<5x6xf32>, %v: tensor<6x4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> (tensor<5x4xf32>, tensor<5x4xf32>) {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%u, %v : tensor<5x6xf32>, tensor<6x4xf32>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  // expected-remark @+1 {{not folded into its producer (the output of 'linalg.matmul' has other users, which need it unnormalized), nor into its user 'func.return'}}
  %y = un.affine %m, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y, %m : tensor<5x4xf32>, tensor<5x4xf32>
}

// -----

// UN after a residual add (post-norm) cannot fold into the linear layer
// before the add: the residual would be scaled too.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @after_residual_add(
// CHECK: linalg.matmul
// CHECK: %[[H:.*]] = linalg.generic
// CHECK: un.affine %[[H]]
func.func @after_residual_add(%u: tensor<5x6xf32>, %v: tensor<6x4xf32>, %r: tensor<5x4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x4xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%u, %v : tensor<5x6xf32>, tensor<6x4xf32>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  %h = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %r : tensor<5x4xf32>, tensor<5x4xf32>) outs(%e : tensor<5x4xf32>) {
  ^bb0(%p: f32, %q: f32, %out: f32):
    %s = arith.addf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<5x4xf32>
  // expected-remark @+1 {{not folded into its producer (x is computed by an add that is not a bias add (a [C] parameter along the channel))}}
  %y = un.affine %h, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

// -----

// UN after a contraction whose output channel is a batch dim (a
// per-channel dot product carried by both inputs).
#in = affine_map<(t, c) -> (t, c)>
#out = affine_map<(t, c) -> (c)>
// CHECK-LABEL: func.func @channel_is_batch_dim(
// CHECK: %[[D:.*]] = linalg.generic
// CHECK: un.affine %[[D]]
func.func @channel_is_batch_dim(%p: tensor<5x4xf32>, %q: tensor<5x4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<4xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<4xf32>) -> tensor<4xf32>
  %d = linalg.generic {indexing_maps = [#in, #in, #out], iterator_types = ["reduction", "parallel"]} ins(%p, %q : tensor<5x4xf32>, tensor<5x4xf32>) outs(%f : tensor<4xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  // expected-remark @+1 {{not folded into its producer (the channel dim is a batch dim of the contraction (both inputs carry it))}}
  %y = un.affine %d, %a, %beta : (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %y : tensor<4xf32>
}

// -----

// UN before a linear layer that accumulates into an argument, without a
// bias add: beta W has nowhere to go.
// CHECK-LABEL: func.func @no_place_for_beta_w(
// CHECK: %[[Y:.*]] = un.affine
// CHECK: linalg.matmul ins(%[[Y]],
func.func @no_place_for_beta_w(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %acc: tensor<5x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  // expected-remark @+1 {{nor into its user 'linalg.matmul' (beta * W has nowhere to go: the contraction's user 'func.return' is no bias add, and the init of the contraction is not a linalg.fill)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%acc : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}

// -----

// UN after a linear layer with a bias add whose init is not zero: the
// init would be scaled as well.
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @bias_and_nonzero_init(
// CHECK: %[[O:.*]] = linalg.generic
// CHECK: un.affine %[[O]]
func.func @bias_and_nonzero_init(%u: tensor<5x6xf32>, %v: tensor<6x4xf32>, %c: tensor<4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x4xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%one : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%u, %v : tensor<5x6xf32>, tensor<6x4xf32>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  %o = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %c : tensor<5x4xf32>, tensor<4xf32>) outs(%e : tensor<5x4xf32>) {
  ^bb0(%vv: f32, %cc: f32, %out: f32):
    %s = arith.addf %vv, %cc : f32
    linalg.yield %s : f32
  } -> tensor<5x4xf32>
  // expected-remark @+1 {{not folded into its producer (the contraction has a bias add but its init is not zero)}}
  %y = un.affine %o, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

// -----

// A bias that is not a per-output-channel vector ([T, D] here) cannot
// absorb beta W; the zero-filled init does instead, and the fold happens.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @full_bias_uses_init(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x4xf32>
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<5x3xf32>)
// CHECK: linalg.matmul ins(%[[X]], %{{.*}} : tensor<5x4xf32>, tensor<4x3xf32>) outs(%[[INIT]] :
// CHECK-NOT: un.affine
func.func @full_bias_uses_init(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %b: tensor<5x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  %o = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<5x3xf32>, tensor<5x3xf32>) outs(%e : tensor<5x3xf32>) {
  ^bb0(%p: f32, %q: f32, %out: f32):
    %s = arith.addf %p, %q : f32
    linalg.yield %s : f32
  } -> tensor<5x3xf32>
  return %o : tensor<5x3xf32>
}

// -----

// The contraction is inside a loop body, the affine map outside it.
// CHECK-LABEL: func.func @contraction_in_another_block(
// CHECK: %[[Y:.*]] = un.affine
// CHECK: scf.for
// CHECK: linalg.matmul ins(%[[Y]],
func.func @contraction_in_another_block(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  // expected-remark @+1 {{nor into its user 'linalg.matmul' (the contraction is in another block)}}
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %r = scf.for %i = %c0 to %c2 step %c1 iter_args(%acc = %f) -> (tensor<5x3xf32>) {
    %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%acc : tensor<5x3xf32>) -> tensor<5x3xf32>
    scf.yield %m : tensor<5x3xf32>
  }
  return %r : tensor<5x3xf32>
}
