// The inference pipeline: fold, simplify, lower what is left, fuse. No un
// op survives, an affine map without a linear neighbour becomes part of
// the elementwise loop next to it (one loop nest), and the result feeds
// the CPU pipeline; the CPU pipeline also takes the unfolded IR.
// RUN: un-opt %s --un-inference-pipeline -split-input-file | FileCheck %s
// RUN: un-opt %s --un-inference-pipeline --un-cpu-pipeline -split-input-file | FileCheck %s --check-prefix=LLVM
// RUN: un-opt %s --un-cpu-pipeline -split-input-file | FileCheck %s --check-prefix=LLVM

// UN of a residual sum that nothing linear reads: the affine map is fused
// into the add that produces its input (its epilogue), one loop nest.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @epilogue_of_producer(
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: linalg.yield
// CHECK-NOT: linalg.generic
// CHECK-NOT: un.
// CHECK: return
// LLVM-LABEL: llvm.func @epilogue_of_producer(
// LLVM-NOT: un.
func.func @epilogue_of_producer(%x: tensor<5x4xf32>, %r: tensor<5x4xf32>) -> tensor<5x4xf32> {
  %g = arith.constant dense<[1.0, 2.0, 0.5, 1.5]> : tensor<4xf32>
  %beta = arith.constant dense<[0.1, -0.2, 0.3, 0.0]> : tensor<4xf32>
  %rv = arith.constant dense<[1.0, 4.0, 0.25, 2.0]> : tensor<4xf32>
  %e = tensor.empty() : tensor<5x4xf32>
  %h = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %r : tensor<5x4xf32>, tensor<5x4xf32>) outs(%e : tensor<5x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<5x4xf32>
  %y = un.infer %h, %g, %beta, %rv : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

// -----

// Pre-norm UN whose output also feeds the residual add: the residual add
// and the affine map become one loop nest.
#id = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @prologue_of_consumer(
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK-NOT: un.
// CHECK: return
func.func @prologue_of_consumer(%x: tensor<5x4xf32>, %r: tensor<5x4xf32>) -> tensor<5x4xf32> {
  %g = arith.constant dense<[1.0, 2.0, 0.5, 1.5]> : tensor<4xf32>
  %beta = arith.constant dense<[0.1, -0.2, 0.3, 0.0]> : tensor<4xf32>
  %rv = arith.constant dense<[1.0, 4.0, 0.25, 2.0]> : tensor<4xf32>
  %y = un.infer %x, %g, %beta, %rv : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %e = tensor.empty() : tensor<5x4xf32>
  %o = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%y, %r : tensor<5x4xf32>, tensor<5x4xf32>) outs(%e : tensor<5x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.addf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<5x4xf32>
  return %o : tensor<5x4xf32>
}

// -----

// Post-norm: h = x + attention, y = UN(h) feeds a linear layer (folded:
// it reads h) and the next residual add, into whose loop the affine map
// is fused (with the add that computes h, which elementwise fusion
// recomputes there rather than reading h back): two loop nests over the
// activations, as without normalization.
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @post_norm(
// CHECK-LABEL: func.func @post_norm_prepare_weights(
// CHECK-LABEL: func.func @post_norm_folded(
// CHECK: %[[H:.*]] = linalg.generic
// CHECK: linalg.matmul ins(%[[H]], %{{.*}} :
// CHECK: linalg.generic
// CHECK: arith.mulf
// CHECK: linalg.yield
// CHECK-NOT: linalg.generic
// CHECK-NOT: un.
// CHECK: return
func.func @post_norm(%x: tensor<5x4xf32>, %att: tensor<5x4xf32>, %w: tensor<4x4xf32>, %b: tensor<4xf32>, %g: tensor<4xf32>, %beta: tensor<4xf32>, %rv: tensor<4xf32>) -> tensor<5x4xf32> {
  %e = tensor.empty() : tensor<5x4xf32>
  %h = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%x, %att : tensor<5x4xf32>, tensor<5x4xf32>) outs(%e : tensor<5x4xf32>) {
  ^bb0(%a: f32, %c: f32, %out: f32):
    %s = arith.addf %a, %c : f32
    linalg.yield %s : f32
  } -> tensor<5x4xf32>
  %y = un.infer %h, %g, %beta, %rv : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x4xf32>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  %o = linalg.generic {indexing_maps = [#id, #bias, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b, %y : tensor<5x4xf32>, tensor<4xf32>, tensor<5x4xf32>) outs(%e : tensor<5x4xf32>) {
  ^bb0(%v: f32, %c: f32, %r: f32, %out: f32):
    %s = arith.addf %v, %c : f32
    %t = arith.addf %s, %r : f32
    linalg.yield %t : f32
  } -> tensor<5x4xf32>
  return %o : tensor<5x4xf32>
}

// -----

// A pre-norm MLP with its weights as arguments: by default the pipeline
// hoists the weight preparation, and the hot function has exactly the
// linalg ops of the same MLP without normalization (@mlp_no_norm).
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @mlp(
// CHECK-NEXT: call @mlp_prepare_weights(
// CHECK-NEXT: call @mlp_folded(
// CHECK-NEXT: return
// CHECK-LABEL: func.func @mlp_prepare_weights(
// CHECK-LABEL: func.func @mlp_folded(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x4xf32>
// CHECK: linalg.fill
// CHECK: linalg.matmul ins(%[[X]],
// CHECK: linalg.generic
// CHECK: math.tanh
// CHECK: linalg.matmul
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
// CHECK-LABEL: func.func @mlp_no_norm(
// CHECK: linalg.fill
// CHECK: linalg.matmul
// CHECK: linalg.generic
// CHECK: math.tanh
// CHECK: linalg.matmul
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @mlp(%x: tensor<5x4xf32>, %w1: tensor<4x8xf32>, %b1: tensor<8xf32>, %w2: tensor<8x4xf32>, %b2: tensor<4xf32>, %g: tensor<4xf32>, %beta: tensor<4xf32>, %rv: tensor<4xf32>) -> tensor<5x4xf32> {
  %n = un.infer %x, %g, %beta, %rv : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<5x8xf32>
  %f1 = linalg.fill ins(%z : f32) outs(%e1 : tensor<5x8xf32>) -> tensor<5x8xf32>
  %h = linalg.matmul ins(%n, %w1 : tensor<5x4xf32>, tensor<4x8xf32>) outs(%f1 : tensor<5x8xf32>) -> tensor<5x8xf32>
  %a = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%h, %b1 : tensor<5x8xf32>, tensor<8xf32>) outs(%e1 : tensor<5x8xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %u = arith.addf %v, %c : f32
    %t = math.tanh %u : f32
    linalg.yield %t : f32
  } -> tensor<5x8xf32>
  %e2 = tensor.empty() : tensor<5x4xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<5x4xf32>) -> tensor<5x4xf32>
  %o = linalg.matmul ins(%a, %w2 : tensor<5x8xf32>, tensor<8x4xf32>) outs(%f2 : tensor<5x4xf32>) -> tensor<5x4xf32>
  %y = linalg.generic {indexing_maps = [#id, #bias, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%o, %b2, %x : tensor<5x4xf32>, tensor<4xf32>, tensor<5x4xf32>) outs(%e2 : tensor<5x4xf32>) {
  ^bb0(%v: f32, %c: f32, %r: f32, %out: f32):
    %u = arith.addf %v, %c : f32
    %w = arith.addf %u, %r : f32
    linalg.yield %w : f32
  } -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}
func.func @mlp_no_norm(%x: tensor<5x4xf32>, %w1: tensor<4x8xf32>, %b1: tensor<8xf32>, %w2: tensor<8x4xf32>, %b2: tensor<4xf32>) -> tensor<5x4xf32> {
  %n = tensor.cast %x : tensor<5x4xf32> to tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e1 = tensor.empty() : tensor<5x8xf32>
  %f1 = linalg.fill ins(%z : f32) outs(%e1 : tensor<5x8xf32>) -> tensor<5x8xf32>
  %h = linalg.matmul ins(%n, %w1 : tensor<5x4xf32>, tensor<4x8xf32>) outs(%f1 : tensor<5x8xf32>) -> tensor<5x8xf32>
  %a = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%h, %b1 : tensor<5x8xf32>, tensor<8xf32>) outs(%e1 : tensor<5x8xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %u = arith.addf %v, %c : f32
    %t = math.tanh %u : f32
    linalg.yield %t : f32
  } -> tensor<5x8xf32>
  %e2 = tensor.empty() : tensor<5x4xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<5x4xf32>) -> tensor<5x4xf32>
  %o = linalg.matmul ins(%a, %w2 : tensor<5x8xf32>, tensor<8x4xf32>) outs(%f2 : tensor<5x4xf32>) -> tensor<5x4xf32>
  %y = linalg.generic {indexing_maps = [#id, #bias, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%o, %b2, %x : tensor<5x4xf32>, tensor<4xf32>, tensor<5x4xf32>) outs(%e2 : tensor<5x4xf32>) {
  ^bb0(%v: f32, %c: f32, %r: f32, %out: f32):
    %u = arith.addf %v, %c : f32
    %w = arith.addf %u, %r : f32
    linalg.yield %w : f32
  } -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}
