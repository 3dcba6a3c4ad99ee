// Folding inference UN into linear layers: one case per form of linear
// layer and bias; the cases where folding is not legal are in
// fold-into-linear-no-fold.mlir. test/python/test_fold_numerics.py runs
// every function of these files before and after folding and compares.
// RUN: un-opt %s -un-fold-into-linear -split-input-file | FileCheck %s

// Without a linear neighbour un.infer still becomes un.affine; run-time
// statistics give a [C] generic for a = gamma / sqrt(running_var + eps).
// CHECK-LABEL: func.func @infer_to_affine(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x4xf32>, %[[G:[^:]*]]: tensor<4xf32>, %[[B:[^:]*]]: tensor<4xf32>, %[[RV:[^:]*]]: tensor<4xf32>)
// CHECK: %[[EPS:.*]] = arith.constant 1.000000e-03 : f32
// CHECK: %[[A:.*]] = linalg.generic {{.*}} iterator_types = ["parallel"]} ins(%[[G]], %[[RV]] : tensor<4xf32>, tensor<4xf32>)
// CHECK: arith.addf %{{.*}}, %[[EPS]]
// CHECK: math.sqrt
// CHECK: arith.divf
// CHECK: %[[Y:.*]] = un.affine %[[X]], %[[A]], %[[B]]
// CHECK-NOT: un.infer
// CHECK: return %[[Y]]
func.func @infer_to_affine(%x: tensor<5x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>) -> tensor<5x4xf32> {
  %y = un.infer %x, %g, %b, %rv {eps = 1.0e-3 : f32} : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

// -----

// UN before a linear layer with a bias add, everything constant: the
// folded weight and bias are constants computed at compile time.
// a = [2 / sqrt(3 + 1), 6 / sqrt(8 + 1)] = [1, 2]; beta = [1, -1];
// diag(a) W = [[1, 2, 3], [8, 10, 12]];
// beta W + b = [1 - 4, 2 - 5, 3 - 6] + 0.5 = [-2.5, -2.5, -2.5].
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @before_constants(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x2xf32>)
// CHECK-DAG: %[[W:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00], [8.000000e+00, 1.000000e+01, 1.200000e+01]]> : tensor<2x3xf32>
// CHECK-DAG: %[[B:.*]] = arith.constant dense<-2.500000e+00> : tensor<3xf32>
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[X]], %[[W]] : tensor<5x2xf32>, tensor<2x3xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[M]], %[[B]] : tensor<5x3xf32>, tensor<3xf32>)
// CHECK-NOT: linalg.generic
// CHECK-NOT: un.
func.func @before_constants(%x: tensor<5x2xf32>) -> tensor<5x3xf32> {
  %g = arith.constant dense<[2.0, 6.0]> : tensor<2xf32>
  %rv = arith.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %beta = arith.constant dense<[1.0, -1.0]> : tensor<2xf32>
  %w = arith.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %b = arith.constant dense<0.5> : tensor<3xf32>
  %y = un.infer %x, %g, %beta, %rv {eps = 1.0 : f32} : (tensor<5x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x2xf32>, tensor<2x3xf32>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  %o = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<5x3xf32>, tensor<3xf32>) outs(%e : tensor<5x3xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  } -> tensor<5x3xf32>
  return %o : tensor<5x3xf32>
}

// -----

// UN before a linear layer whose weights are function arguments: the
// signature is kept, the matmul reads x, and only the weights are
// rewritten (generics over [4, 3] and [4], [3], never over [5, x]).
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @before_arguments(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x4xf32>, %[[W:[^:]*]]: tensor<4x3xf32>, %[[B:[^:]*]]: tensor<3xf32>, %[[G:[^:]*]]: tensor<4xf32>, %[[BETA:[^:]*]]: tensor<4xf32>, %[[RV:[^:]*]]: tensor<4xf32>) -> tensor<5x3xf32>
// CHECK: %[[A:.*]] = linalg.generic {{.*}} ins(%[[G]], %[[RV]] : tensor<4xf32>, tensor<4xf32>)
// CHECK: %[[WS:.*]] = linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}], iterator_types = ["parallel", "parallel"]} ins(%[[W]], %[[A]] : tensor<4x3xf32>, tensor<4xf32>) outs(%{{.*}} : tensor<4x3xf32>)
// CHECK: arith.mulf
// CHECK: %[[BW:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%[[W]], %[[BETA]] : tensor<4x3xf32>, tensor<4xf32>) outs(%{{.*}} : tensor<3xf32>)
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[X]], %[[WS]] : tensor<5x4xf32>, tensor<4x3xf32>)
// CHECK: %[[B2:.*]] = linalg.generic {{.*}} ins(%[[B]], %[[BW]] : tensor<3xf32>, tensor<3xf32>)
// CHECK: %[[O:.*]] = linalg.generic {{.*}} ins(%[[M]], %[[B2]] : tensor<5x3xf32>, tensor<3xf32>)
// CHECK-NOT: un.
// CHECK: return %[[O]]
func.func @before_arguments(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>, %g: tensor<4xf32>, %beta: tensor<4xf32>, %rv: tensor<4xf32>) -> tensor<5x3xf32> {
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

// UN before a linear layer without bias: beta W replaces the zero fill of
// the matmul's init (a broadcast, as many linalg ops as before).
// CHECK-LABEL: func.func @before_no_bias(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x4xf32>, %[[W:[^:]*]]: tensor<4x3xf32>, %[[A:[^:]*]]: tensor<4xf32>, %[[BETA:[^:]*]]: tensor<4xf32>)
// CHECK: %[[WS:.*]] = linalg.generic {{.*}} ins(%[[W]], %[[A]] : tensor<4x3xf32>, tensor<4xf32>)
// CHECK: %[[BW:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%[[W]], %[[BETA]] : tensor<4x3xf32>, tensor<4xf32>)
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel"]} ins(%[[BW]] : tensor<3xf32>) outs(%{{.*}} : tensor<5x3xf32>)
// CHECK-NEXT: ^bb0(%[[IN:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[IN]] : f32
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[X]], %[[WS]] : tensor<5x4xf32>, tensor<4x3xf32>) outs(%[[INIT]] : tensor<5x3xf32>)
// CHECK-NOT: un.affine
// CHECK: return %[[M]]
func.func @before_no_bias(%x: tensor<5x4xf32>, %w: tensor<4x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}

// -----

// UN after a linear layer with a bias add: V diag(a) and a c + beta; the
// affine map disappears.
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @after_with_bias(
// CHECK-SAME: %[[U:[^:]*]]: tensor<5x6xf32>, %[[V:[^:]*]]: tensor<6x4xf32>, %[[C:[^:]*]]: tensor<4xf32>, %[[A:[^:]*]]: tensor<4xf32>, %[[BETA:[^:]*]]: tensor<4xf32>)
// CHECK: %[[F:.*]] = linalg.fill
// CHECK: %[[VS:.*]] = linalg.generic {indexing_maps = [#[[ID:.*]], #[[COL:.*]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%[[V]], %[[A]] : tensor<6x4xf32>, tensor<4xf32>)
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[U]], %[[VS]] : tensor<5x6xf32>, tensor<6x4xf32>) outs(%[[F]] : tensor<5x4xf32>)
// CHECK: %[[C2:.*]] = linalg.generic {{.*}} ins(%[[C]], %[[A]], %[[BETA]] : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[O:.*]] = linalg.generic {{.*}} ins(%[[C2]], %[[M]] : tensor<4xf32>, tensor<5x4xf32>)
// CHECK-NOT: un.affine
// CHECK: return %[[O]]
func.func @after_with_bias(%u: tensor<5x6xf32>, %v: tensor<6x4xf32>, %c: tensor<4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x4xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%u, %v : tensor<5x6xf32>, tensor<6x4xf32>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  %o = linalg.generic {indexing_maps = [#bias, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%c, %m : tensor<4xf32>, tensor<5x4xf32>) outs(%e : tensor<5x4xf32>) {
  ^bb0(%cc: f32, %vv: f32, %out: f32):
    %s = arith.addf %cc, %vv : f32
    linalg.yield %s : f32
  } -> tensor<5x4xf32>
  %y = un.affine %o, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

// -----

// UN after a linear layer without bias, constants: V diag(a) is a
// constant and the matmul starts from the constant a * 0 + beta.
// a = [1, 2], beta = [0.5, -0.5]: V diag(a) = [[1, 4], [3, 8]].
// CHECK-LABEL: func.func @after_no_bias_constants(
// CHECK-SAME: %[[U:[^:]*]]: tensor<5x2xf32>)
// CHECK-DAG: %[[VS:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 4.000000e+00], [3.000000e+00, 8.000000e+00]]> : tensor<2x2xf32>
// CHECK-DAG: %[[S:.*]] = arith.constant dense<[5.000000e-01, -5.000000e-01]> : tensor<2xf32>
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[S]] : tensor<2xf32>) outs(%{{.*}} : tensor<5x2xf32>)
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[U]], %[[VS]] : tensor<5x2xf32>, tensor<2x2xf32>) outs(%[[INIT]] : tensor<5x2xf32>)
// CHECK-NOT: un.
// CHECK: return %[[M]]
func.func @after_no_bias_constants(%u: tensor<5x2xf32>) -> tensor<5x2xf32> {
  %v = arith.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %a = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %beta = arith.constant dense<[0.5, -0.5]> : tensor<2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x2xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x2xf32>) -> tensor<5x2xf32>
  %m = linalg.matmul ins(%u, %v : tensor<5x2xf32>, tensor<2x2xf32>) outs(%f : tensor<5x2xf32>) -> tensor<5x2xf32>
  %y = un.affine %m, %a, %beta : (tensor<5x2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  return %y : tensor<5x2xf32>
}

// -----

// One UN feeding the Q, K and V projections folds into all three.
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @qkv(
// CHECK-SAME: %[[X:[^:]*]]: tensor<6x4xf32>, %[[WQ:[^:]*]]: tensor<4x4xf32>, %[[WK:[^:]*]]: tensor<4x4xf32>, %[[WV:[^:]*]]: tensor<4x4xf32>, %[[BQ:[^:]*]]: tensor<4xf32>, %[[BK:[^:]*]]: tensor<4xf32>, %[[BV:[^:]*]]: tensor<4xf32>
// CHECK-DAG: %[[WQS:.*]] = linalg.generic {{.*}} ins(%[[WQ]], %{{.*}} : tensor<4x4xf32>, tensor<4xf32>)
// CHECK-DAG: %[[WKS:.*]] = linalg.generic {{.*}} ins(%[[WK]], %{{.*}} : tensor<4x4xf32>, tensor<4xf32>)
// CHECK-DAG: %[[WVS:.*]] = linalg.generic {{.*}} ins(%[[WV]], %{{.*}} : tensor<4x4xf32>, tensor<4xf32>)
// CHECK-DAG: linalg.matmul ins(%[[X]], %[[WQS]] :
// CHECK-DAG: linalg.matmul ins(%[[X]], %[[WKS]] :
// CHECK-DAG: linalg.matmul ins(%[[X]], %[[WVS]] :
// CHECK-DAG: linalg.generic {{.*}} ins(%[[BQ]], %{{.*}} : tensor<4xf32>, tensor<4xf32>)
// CHECK-DAG: linalg.generic {{.*}} ins(%[[BK]], %{{.*}} : tensor<4xf32>, tensor<4xf32>)
// CHECK-DAG: linalg.generic {{.*}} ins(%[[BV]], %{{.*}} : tensor<4xf32>, tensor<4xf32>)
// CHECK-NOT: un.
// CHECK: return
func.func @qkv(%x: tensor<6x4xf32>, %wq: tensor<4x4xf32>, %wk: tensor<4x4xf32>, %wv: tensor<4x4xf32>, %bq: tensor<4xf32>, %bk: tensor<4xf32>, %bv: tensor<4xf32>, %g: tensor<4xf32>, %beta: tensor<4xf32>, %rv: tensor<4xf32>) -> (tensor<6x4xf32>, tensor<6x4xf32>, tensor<6x4xf32>) {
  %y = un.infer %x, %g, %beta, %rv : (tensor<6x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<6x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<6x4xf32>) -> tensor<6x4xf32>
  %mq = linalg.matmul ins(%y, %wq : tensor<6x4xf32>, tensor<4x4xf32>) outs(%f : tensor<6x4xf32>) -> tensor<6x4xf32>
  %q = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%mq, %bq : tensor<6x4xf32>, tensor<4xf32>) outs(%e : tensor<6x4xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  } -> tensor<6x4xf32>
  %mk = linalg.matmul ins(%y, %wk : tensor<6x4xf32>, tensor<4x4xf32>) outs(%f : tensor<6x4xf32>) -> tensor<6x4xf32>
  %k = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%mk, %bk : tensor<6x4xf32>, tensor<4xf32>) outs(%e : tensor<6x4xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  } -> tensor<6x4xf32>
  %mv = linalg.matmul ins(%y, %wv : tensor<6x4xf32>, tensor<4x4xf32>) outs(%f : tensor<6x4xf32>) -> tensor<6x4xf32>
  %vv = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%mv, %bv : tensor<6x4xf32>, tensor<4xf32>) outs(%e : tensor<6x4xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  } -> tensor<6x4xf32>
  return %q, %k, %vv : tensor<6x4xf32>, tensor<6x4xf32>, tensor<6x4xf32>
}

// -----

// Transposed weight through the matmul's indexing maps (W is [D, C], as
// in torch's Linear): the scale goes along W's dim 1.
// CHECK: #[[WMAP:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK: #[[ROW:.*]] = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @before_transposed_weight(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x4xf32>, %[[W:[^:]*]]: tensor<3x4xf32>, %[[A:[^:]*]]: tensor<4xf32>, %[[BETA:[^:]*]]: tensor<4xf32>)
// CHECK: %[[WS:.*]] = linalg.generic {indexing_maps = [#[[WMAP]], #[[ROW]], #[[WMAP]]], {{.*}}} ins(%[[W]], %[[A]] : tensor<3x4xf32>, tensor<4xf32>)
// CHECK: linalg.generic {{.*}} iterator_types = ["parallel", "reduction"]} ins(%[[W]], %[[BETA]] : tensor<3x4xf32>, tensor<4xf32>) outs(%{{.*}} : tensor<3xf32>)
// CHECK: linalg.matmul indexing_maps = [{{.*}}] ins(%[[X]], %[[WS]] : tensor<5x4xf32>, tensor<3x4xf32>)
// CHECK-NOT: un.affine
func.func @before_transposed_weight(%x: tensor<5x4xf32>, %w: tensor<3x4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%y, %w : tensor<5x4xf32>, tensor<3x4xf32>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}

// -----

// UN after a matmul with transposed weight (V is [C, K]): V diag(a) scales
// V's rows.
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK: #[[VMAP:.*]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK: #[[COL:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @after_transposed_weight(
// CHECK-SAME: %[[U:[^:]*]]: tensor<5x6xf32>, %[[V:[^:]*]]: tensor<4x6xf32>
// CHECK: %[[VS:.*]] = linalg.generic {indexing_maps = [#[[VMAP]], #[[COL]], #[[VMAP]]], {{.*}}} ins(%[[V]], %{{.*}} : tensor<4x6xf32>, tensor<4xf32>)
// CHECK: linalg.matmul indexing_maps = [{{.*}}] ins(%[[U]], %[[VS]] : tensor<5x6xf32>, tensor<4x6xf32>)
// CHECK-NOT: un.affine
func.func @after_transposed_weight(%u: tensor<5x6xf32>, %v: tensor<4x6xf32>, %c: tensor<4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x4xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%u, %v : tensor<5x6xf32>, tensor<4x6xf32>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  %o = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %c : tensor<5x4xf32>, tensor<4xf32>) outs(%e : tensor<5x4xf32>) {
  ^bb0(%vv: f32, %cc: f32, %out: f32):
    %s = arith.addf %vv, %cc : f32
    linalg.yield %s : f32
  } -> tensor<5x4xf32>
  %y = un.affine %o, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  return %y : tensor<5x4xf32>
}

// -----

// linalg.batch_matmul with a per-batch weight [2, C, D]: beta W is [2, D]
// and goes into the init (a per-batch bias).
// CHECK-LABEL: func.func @before_batch_matmul(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x5x4xf32>, %[[W:[^:]*]]: tensor<2x4x3xf32>
// CHECK: %[[WS:.*]] = linalg.generic {{.*}} ins(%[[W]], %{{.*}} : tensor<2x4x3xf32>, tensor<4xf32>)
// CHECK: %[[BW:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[W]], %{{.*}} : tensor<2x4x3xf32>, tensor<4xf32>) outs(%{{.*}} : tensor<2x3xf32>)
// CHECK: %[[INIT:.*]] = linalg.generic {{.*}} ins(%[[BW]] : tensor<2x3xf32>) outs(%{{.*}} : tensor<2x5x3xf32>)
// CHECK: linalg.batch_matmul ins(%[[X]], %[[WS]] : tensor<2x5x4xf32>, tensor<2x4x3xf32>) outs(%[[INIT]] : tensor<2x5x3xf32>)
// CHECK-NOT: un.affine
func.func @before_batch_matmul(%x: tensor<2x5x4xf32>, %w: tensor<2x4x3xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<2x5x3xf32> {
  %y = un.affine %x, %a, %beta : (tensor<2x5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x5x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2x5x3xf32>) -> tensor<2x5x3xf32>
  %m = linalg.batch_matmul ins(%y, %w : tensor<2x5x4xf32>, tensor<2x4x3xf32>) outs(%f : tensor<2x5x3xf32>) -> tensor<2x5x3xf32>
  return %m : tensor<2x5x3xf32>
}

// -----

// UN after a linalg.batch_matmul (per-batch weight).
// CHECK-LABEL: func.func @after_batch_matmul(
// CHECK-SAME: %[[U:[^:]*]]: tensor<2x5x6xf32>, %[[V:[^:]*]]: tensor<2x6x4xf32>
// CHECK: %[[VS:.*]] = linalg.generic {{.*}} ins(%[[V]], %{{.*}} : tensor<2x6x4xf32>, tensor<4xf32>)
// CHECK: linalg.batch_matmul ins(%[[U]], %[[VS]] :
// CHECK-NOT: un.affine
func.func @after_batch_matmul(%u: tensor<2x5x6xf32>, %v: tensor<2x6x4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<2x5x4xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x5x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2x5x4xf32>) -> tensor<2x5x4xf32>
  %m = linalg.batch_matmul ins(%u, %v : tensor<2x5x6xf32>, tensor<2x6x4xf32>) outs(%f : tensor<2x5x4xf32>) -> tensor<2x5x4xf32>
  %y = un.affine %m, %a, %beta : (tensor<2x5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x5x4xf32>
  return %y : tensor<2x5x4xf32>
}

// -----

// A contraction linalg.generic on [B, T, C] activations (torch-mlir's
// form of a 3-D Linear), with a bias add in the same generic as a GELU:
// the bias is adjusted, the GELU untouched.
#x3 = affine_map<(b, t, d, c) -> (b, t, c)>
#w2 = affine_map<(b, t, d, c) -> (c, d)>
#o3 = affine_map<(b, t, d, c) -> (b, t, d)>
#id3 = affine_map<(b, t, d) -> (b, t, d)>
#bias3 = affine_map<(b, t, d) -> (d)>
// CHECK-LABEL: func.func @before_contraction_generic(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x3x4xf32>, %[[W:[^:]*]]: tensor<4x5xf32>, %[[B:[^:]*]]: tensor<5xf32>
// CHECK: %[[WS:.*]] = linalg.generic {{.*}} ins(%[[W]], %{{.*}} : tensor<4x5xf32>, tensor<4xf32>)
// CHECK: %[[BW:.*]] = linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%[[W]], %{{.*}} : tensor<4x5xf32>, tensor<4xf32>)
// CHECK: %[[M:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[X]], %[[WS]] : tensor<2x3x4xf32>, tensor<4x5xf32>)
// CHECK: %[[B2:.*]] = linalg.generic {{.*}} ins(%[[B]], %[[BW]] : tensor<5xf32>, tensor<5xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[M]], %[[B2]] : tensor<2x3x5xf32>, tensor<5xf32>)
// CHECK: math.tanh
// CHECK-NOT: un.affine
func.func @before_contraction_generic(%x: tensor<2x3x4xf32>, %w: tensor<4x5xf32>, %b: tensor<5xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<2x3x5xf32> {
  %y = un.affine %x, %a, %beta : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3x5xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2x3x5xf32>) -> tensor<2x3x5xf32>
  %m = linalg.generic {indexing_maps = [#x3, #w2, #o3], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%y, %w : tensor<2x3x4xf32>, tensor<4x5xf32>) outs(%f : tensor<2x3x5xf32>) {
  ^bb0(%xx: f32, %ww: f32, %acc: f32):
    %p = arith.mulf %xx, %ww : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x3x5xf32>
  %o = linalg.generic {indexing_maps = [#id3, #bias3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%m, %b : tensor<2x3x5xf32>, tensor<5xf32>) outs(%e : tensor<2x3x5xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %u = arith.addf %v, %c : f32
    %half = arith.constant 0.5 : f32
    %t = math.tanh %u : f32
    %one = arith.constant 1.0 : f32
    %t1 = arith.addf %t, %one : f32
    %h = arith.mulf %half, %u : f32
    %g = arith.mulf %h, %t1 : f32
    linalg.yield %g : f32
  } -> tensor<2x3x5xf32>
  return %o : tensor<2x3x5xf32>
}

// -----

// torch-mlir's 3-D Linear: [B, T, C] collapsed to [B*T, C], matmul, bias
// add, expanded back. UN before it folds through the collapse...
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @before_through_collapse(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x3x4xf32>
// CHECK: %[[XC:.*]] = tensor.collapse_shape %[[X]] {{\[\[}}0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
// CHECK: linalg.matmul ins(%[[XC]], %{{.*}} : tensor<6x4xf32>, tensor<4x5xf32>)
// CHECK-NOT: un.affine
func.func @before_through_collapse(%x: tensor<2x3x4xf32>, %w: tensor<4x5xf32>, %b: tensor<5xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<2x3x5xf32> {
  %y = un.affine %x, %a, %beta : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %yc = tensor.collapse_shape %y [[0, 1], [2]] : tensor<2x3x4xf32> into tensor<6x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6x5xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<6x5xf32>) -> tensor<6x5xf32>
  %m = linalg.matmul ins(%yc, %w : tensor<6x4xf32>, tensor<4x5xf32>) outs(%f : tensor<6x5xf32>) -> tensor<6x5xf32>
  %o = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<6x5xf32>, tensor<5xf32>) outs(%e : tensor<6x5xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  } -> tensor<6x5xf32>
  %oe = tensor.expand_shape %o [[0, 1], [2]] output_shape [2, 3, 5] : tensor<6x5xf32> into tensor<2x3x5xf32>
  return %oe : tensor<2x3x5xf32>
}

// -----

// ...and UN after it folds back through the expand, then the bias add
// (on [B, T, D], after the expand), then the matmul.
#id3 = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
#bias3 = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @after_through_expand(
// CHECK-SAME: %[[U:[^:]*]]: tensor<6x4xf32>, %[[V:[^:]*]]: tensor<4x5xf32>, %[[C:[^:]*]]: tensor<5xf32>
// CHECK: %[[VS:.*]] = linalg.generic {{.*}} ins(%[[V]], %{{.*}} : tensor<4x5xf32>, tensor<5xf32>)
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[U]], %[[VS]] :
// CHECK: %[[ME:.*]] = tensor.expand_shape %[[M]]
// CHECK: %[[C2:.*]] = linalg.generic {{.*}} ins(%[[C]], %{{.*}}, %{{.*}} : tensor<5xf32>, tensor<5xf32>, tensor<5xf32>)
// CHECK: %[[O:.*]] = linalg.generic {{.*}} ins(%[[ME]], %[[C2]] : tensor<2x3x5xf32>, tensor<5xf32>)
// CHECK-NOT: un.affine
// CHECK: return %[[O]]
func.func @after_through_expand(%u: tensor<6x4xf32>, %v: tensor<4x5xf32>, %c: tensor<5xf32>, %a: tensor<5xf32>, %beta: tensor<5xf32>) -> tensor<2x3x5xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6x5xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<6x5xf32>) -> tensor<6x5xf32>
  %m = linalg.matmul ins(%u, %v : tensor<6x4xf32>, tensor<4x5xf32>) outs(%f : tensor<6x5xf32>) -> tensor<6x5xf32>
  %me = tensor.expand_shape %m [[0, 1], [2]] output_shape [2, 3, 5] : tensor<6x5xf32> into tensor<2x3x5xf32>
  %e3 = tensor.empty() : tensor<2x3x5xf32>
  %o = linalg.generic {indexing_maps = [#id3, #bias3, #id3], iterator_types = ["parallel", "parallel", "parallel"]} ins(%me, %c : tensor<2x3x5xf32>, tensor<5xf32>) outs(%e3 : tensor<2x3x5xf32>) {
  ^bb0(%vv: f32, %cc: f32, %out: f32):
    %s = arith.addf %vv, %cc : f32
    linalg.yield %s : f32
  } -> tensor<2x3x5xf32>
  %y = un.affine %o, %a, %beta : (tensor<2x3x5xf32>, tensor<5xf32>, tensor<5xf32>) -> tensor<2x3x5xf32>
  return %y : tensor<2x3x5xf32>
}

// -----

// The channel moves with a linalg.transpose: x^T [C, T] is the second
// operand of W2 [D, C] x^T, the weight is the first one, scaled along its
// dim 1; beta W2 goes into the init along the output's dim 0.
// CHECK-LABEL: func.func @before_through_transpose(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x4xf32>, %[[W:[^:]*]]: tensor<3x4xf32>
// CHECK: %[[XT:.*]] = linalg.transpose ins(%[[X]] : tensor<5x4xf32>) outs(%{{.*}} : tensor<4x5xf32>) permutation = [1, 0]
// CHECK: %[[WS:.*]] = linalg.generic {{.*}} ins(%[[W]], %{{.*}} : tensor<3x4xf32>, tensor<4xf32>)
// CHECK: %[[BW:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<3xf32>)
// CHECK: %[[INIT:.*]] = linalg.generic {indexing_maps = [#[[ROWS:.*]], #{{.*}}]{{.*}} ins(%[[BW]] : tensor<3xf32>) outs(%{{.*}} : tensor<3x5xf32>)
// CHECK: linalg.matmul ins(%[[WS]], %[[XT]] : tensor<3x4xf32>, tensor<4x5xf32>) outs(%[[INIT]] : tensor<3x5xf32>)
// CHECK-NOT: un.affine
func.func @before_through_transpose(%x: tensor<5x4xf32>, %w: tensor<3x4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<3x5xf32> {
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %et = tensor.empty() : tensor<4x5xf32>
  %yt = linalg.transpose ins(%y : tensor<5x4xf32>) outs(%et : tensor<4x5xf32>) permutation = [1, 0]
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<3x5xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<3x5xf32>) -> tensor<3x5xf32>
  %m = linalg.matmul ins(%w, %yt : tensor<3x4xf32>, tensor<4x5xf32>) outs(%f : tensor<3x5xf32>) -> tensor<3x5xf32>
  return %m : tensor<3x5xf32>
}

// -----

// A classifier head on the class token: the channel survives the
// rank-reducing tensor.extract_slice of token 0.
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @before_through_slice(
// CHECK-SAME: %[[X:[^:]*]]: tensor<2x5x4xf32>
// CHECK: %[[CLS:.*]] = tensor.extract_slice %[[X]][0, 0, 0] [2, 1, 4] [1, 1, 1] : tensor<2x5x4xf32> to tensor<2x4xf32>
// CHECK: linalg.matmul ins(%[[CLS]], %{{.*}} : tensor<2x4xf32>, tensor<4x3xf32>)
// CHECK-NOT: un.affine
func.func @before_through_slice(%x: tensor<2x5x4xf32>, %w: tensor<4x3xf32>, %b: tensor<3xf32>, %g: tensor<4xf32>, %beta: tensor<4xf32>, %rv: tensor<4xf32>) -> tensor<2x3xf32> {
  %y = un.infer %x, %g, %beta, %rv : (tensor<2x5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<2x5x4xf32>
  %cls = tensor.extract_slice %y[0, 0, 0] [2, 1, 4] [1, 1, 1] : tensor<2x5x4xf32> to tensor<2x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<2x3xf32>) -> tensor<2x3xf32>
  %m = linalg.matmul ins(%cls, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%f : tensor<2x3xf32>) -> tensor<2x3xf32>
  %o = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %b : tensor<2x3xf32>, tensor<3xf32>) outs(%e : tensor<2x3xf32>) {
  ^bb0(%v: f32, %c: f32, %out: f32):
    %s = arith.addf %v, %c : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  return %o : tensor<2x3xf32>
}

// -----

// torch-mlir transposes a Linear's weight with a copy linalg.generic; the
// transposed weight is still a parameter, so UN folds into it.
#id = affine_map<(d0, d1) -> (d0, d1)>
#t = affine_map<(d0, d1) -> (d1, d0)>
// CHECK-LABEL: func.func @before_generic_transposed_weight(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x4xf32>, %[[W:[^:]*]]: tensor<3x4xf32>
// CHECK: %[[WT:.*]] = linalg.generic {{.*}} ins(%[[W]] : tensor<3x4xf32>) outs(%{{.*}} : tensor<4x3xf32>)
// CHECK: %[[WS:.*]] = linalg.generic {{.*}} ins(%[[WT]], %{{.*}} : tensor<4x3xf32>, tensor<4xf32>)
// CHECK: linalg.matmul ins(%[[X]], %[[WS]] :
// CHECK-NOT: un.affine
func.func @before_generic_transposed_weight(%x: tensor<5x4xf32>, %w: tensor<3x4xf32>, %a: tensor<4xf32>, %beta: tensor<4xf32>) -> tensor<5x3xf32> {
  %y = un.affine %x, %a, %beta : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %et = tensor.empty() : tensor<4x3xf32>
  %wt = linalg.generic {indexing_maps = [#t, #id], iterator_types = ["parallel", "parallel"]} ins(%w : tensor<3x4xf32>) outs(%et : tensor<4x3xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<4x3xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%y, %wt : tensor<5x4xf32>, tensor<4x3xf32>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}

// -----

// Post-norm: the normalized value feeds a linear layer and a residual
// add. The linear layer gets the folded weights and reads x; the affine
// map stays for the residual add only (the pipeline fuses it there).
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @before_and_residual(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x4xf32>
// CHECK: %[[Y:.*]] = un.affine %[[X]]
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[X]], %{{.*}} : tensor<5x4xf32>, tensor<4x4xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[M]], %{{.*}}, %[[Y]] : tensor<5x4xf32>, tensor<4xf32>, tensor<5x4xf32>)
func.func @before_and_residual(%x: tensor<5x4xf32>, %w: tensor<4x4xf32>, %b: tensor<4xf32>, %g: tensor<4xf32>, %beta: tensor<4xf32>, %rv: tensor<4xf32>) -> tensor<5x4xf32> {
  %y = un.infer %x, %g, %beta, %rv : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
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

// UN between two linear layers folds into the one before it (the affine
// map disappears), not into the one after.
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @between_two_layers(
// CHECK-SAME: %[[U:[^:]*]]: tensor<5x6xf32>, %[[V:[^:]*]]: tensor<6x4xf32>, %[[C:[^:]*]]: tensor<4xf32>, %[[W:[^:]*]]: tensor<4x3xf32>
// CHECK: %[[VS:.*]] = linalg.generic {{.*}} ins(%[[V]], %{{.*}} : tensor<6x4xf32>, tensor<4xf32>)
// CHECK: %[[M1:.*]] = linalg.matmul ins(%[[U]], %[[VS]] :
// CHECK: %[[O1:.*]] = linalg.generic {{.*}} ins(%[[M1]], %{{.*}} : tensor<5x4xf32>, tensor<4xf32>)
// CHECK: linalg.matmul ins(%[[O1]], %[[W]] :
// CHECK-NOT: un.affine
func.func @between_two_layers(%u: tensor<5x6xf32>, %v: tensor<6x4xf32>, %c: tensor<4xf32>, %w: tensor<4x3xf32>, %g: tensor<4xf32>, %beta: tensor<4xf32>, %rv: tensor<4xf32>) -> tensor<5x3xf32> {
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x4xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x4xf32>) -> tensor<5x4xf32>
  %m = linalg.matmul ins(%u, %v : tensor<5x6xf32>, tensor<6x4xf32>) outs(%f : tensor<5x4xf32>) -> tensor<5x4xf32>
  %o = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]} ins(%m, %c : tensor<5x4xf32>, tensor<4xf32>) outs(%e : tensor<5x4xf32>) {
  ^bb0(%vv: f32, %cc: f32, %out: f32):
    %s = arith.addf %vv, %cc : f32
    linalg.yield %s : f32
  } -> tensor<5x4xf32>
  %y = un.infer %o, %g, %beta, %rv : (tensor<5x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<5x4xf32>
  %e2 = tensor.empty() : tensor<5x3xf32>
  %f2 = linalg.fill ins(%z : f32) outs(%e2 : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m2 = linalg.matmul ins(%y, %w : tensor<5x4xf32>, tensor<4x3xf32>) outs(%f2 : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %m2 : tensor<5x3xf32>
}

// -----

// Dynamic token count and f16 activations: the weight work stays on the
// weights, whose sizes are static; the f16 weight is scaled in f32.
// CHECK-LABEL: func.func @before_dynamic_f16(
// CHECK-SAME: %[[X:[^:]*]]: tensor<?x4xf16>, %[[W:[^:]*]]: tensor<4x3xf16>
// CHECK: %[[WS:.*]] = linalg.generic {{.*}} ins(%[[W]], %{{.*}} : tensor<4x3xf16>, tensor<4xf32>) outs(%{{.*}} : tensor<4x3xf16>)
// CHECK: arith.extf
// CHECK: arith.mulf
// CHECK: arith.truncf
// CHECK: linalg.matmul ins(%[[X]], %[[WS]] : tensor<?x4xf16>, tensor<4x3xf16>)
// CHECK-NOT: un.affine
func.func @before_dynamic_f16(%x: tensor<?x4xf16>, %w: tensor<4x3xf16>, %a: tensor<4xf32>, %beta: tensor<4xf16>) -> tensor<?x3xf16> {
  %y = un.affine %x, %a, %beta : (tensor<?x4xf16>, tensor<4xf32>, tensor<4xf16>) -> tensor<?x4xf16>
  %c0 = arith.constant 0 : index
  %n = tensor.dim %x, %c0 : tensor<?x4xf16>
  %z = arith.constant 0.0 : f16
  %e = tensor.empty(%n) : tensor<?x3xf16>
  %f = linalg.fill ins(%z : f16) outs(%e : tensor<?x3xf16>) -> tensor<?x3xf16>
  %m = linalg.matmul ins(%y, %w : tensor<?x4xf16>, tensor<4x3xf16>) outs(%f : tensor<?x3xf16>) -> tensor<?x3xf16>
  return %m : tensor<?x3xf16>
}

// -----

// torch-mlir's form of constant weights: a dense_resource blob holding W^T,
// transposed by linalg.transpose. The fold reads through both: the folded
// weight is a dense constant and no transpose is left.
// a = [1, 2] (as in @before_constants); W = [[1, 2, 3], [4, 5, 6]].
// CHECK-LABEL: func.func @before_resource_transposed(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x2xf32>)
// CHECK: %[[W:.*]] = arith.constant dense<{{\[\[}}1.000000e+00, 2.000000e+00, 3.000000e+00], [8.000000e+00, 1.000000e+01, 1.200000e+01]]> : tensor<2x3xf32>
// CHECK-NOT: linalg.transpose
// CHECK: linalg.matmul ins(%[[X]], %[[W]] : tensor<5x2xf32>, tensor<2x3xf32>)
// CHECK-NOT: un.
func.func @before_resource_transposed(%x: tensor<5x2xf32>) -> tensor<5x3xf32> {
  %g = arith.constant dense<[2.0, 6.0]> : tensor<2xf32>
  %rv = arith.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %beta = arith.constant dense<0.0> : tensor<2xf32>
  %wt = arith.constant dense_resource<fold_test_wt> : tensor<3x2xf32>
  %et = tensor.empty() : tensor<2x3xf32>
  %w = linalg.transpose ins(%wt : tensor<3x2xf32>) outs(%et : tensor<2x3xf32>) permutation = [1, 0]
  %y = un.infer %x, %g, %beta, %rv {eps = 1.0 : f32} : (tensor<5x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<5x2xf32>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%y, %w : tensor<5x2xf32>, tensor<2x3xf32>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  return %m : tensor<5x3xf32>
}

{-#
  dialect_resources: {
    builtin: {
      fold_test_wt: "0x040000000000803F00008040000000400000A040000040400000C040"
    }
  }
#-}

// -----

// A bf16 Linear layer as mixed precision runs it: bf16 weight and bias,
// f32 accumulator, the bias widened before the add and the sum rounded.
// beta W joins the bias in weight preparation, rounded to bf16 like it; the
// matmul's init stays a zero fill.
#id = affine_map<(d0, d1) -> (d0, d1)>
#bias = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @widened_bias(
// CHECK-SAME: %[[X:[^:]*]]: tensor<5x2xbf16>, %[[A:[^:]*]]: tensor<2xf32>, %[[BETA:[^:]*]]: tensor<2xf32>, %[[W:[^:]*]]: tensor<2x3xbf16>, %[[B:[^:]*]]: tensor<3xbf16>)
// CHECK: %[[Z:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<5x3xf32>)
// CHECK: %[[SW:.*]] = linalg.generic {{.*}} ins(%[[W]], %[[A]] : tensor<2x3xbf16>, tensor<2xf32>) outs(%{{.*}} : tensor<2x3xbf16>)
// CHECK: %[[BW:.*]] = linalg.generic {{.*}} ins(%[[W]], %[[BETA]] : tensor<2x3xbf16>, tensor<2xf32>)
// CHECK: %[[M:.*]] = linalg.matmul ins(%[[X]], %[[SW]] : tensor<5x2xbf16>, tensor<2x3xbf16>) outs(%[[Z]] : tensor<5x3xf32>)
// CHECK: %[[NB:.*]] = linalg.generic {{.*}} ins(%[[B]], %[[BW]] : tensor<3xbf16>, tensor<3xf32>) outs(%{{.*}} : tensor<3xbf16>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: linalg.generic {{.*}} ins(%[[M]], %[[NB]] : tensor<5x3xf32>, tensor<3xbf16>)
// CHECK-NOT: un.
func.func @widened_bias(%x: tensor<5x2xbf16>, %a: tensor<2xf32>, %beta: tensor<2xf32>,
                        %w: tensor<2x3xbf16>, %b: tensor<3xbf16>) -> tensor<5x3xbf16> {
  %n = un.affine %x, %a, %beta : (tensor<5x2xbf16>, tensor<2xf32>, tensor<2xf32>) -> tensor<5x2xbf16>
  %z = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<5x3xf32>
  %f = linalg.fill ins(%z : f32) outs(%e : tensor<5x3xf32>) -> tensor<5x3xf32>
  %m = linalg.matmul ins(%n, %w : tensor<5x2xbf16>, tensor<2x3xbf16>) outs(%f : tensor<5x3xf32>) -> tensor<5x3xf32>
  %eh = tensor.empty() : tensor<5x3xbf16>
  %y = linalg.generic {indexing_maps = [#id, #bias, #id], iterator_types = ["parallel", "parallel"]}
      ins(%m, %b : tensor<5x3xf32>, tensor<3xbf16>) outs(%eh : tensor<5x3xbf16>) {
  ^bb0(%in: f32, %c: bf16, %out: bf16):
    %cw = arith.extf %c : bf16 to f32
    %s = arith.addf %in, %cw : f32
    %r = arith.truncf %s : f32 to bf16
    linalg.yield %r : bf16
  } -> tensor<5x3xbf16>
  return %y : tensor<5x3xbf16>
}
