// un-cpu-reciprocal-division: a division by a value that does not vary
// along the innermost loop (one per row) becomes a product with its
// reciprocal, computed once per row by a generic of its own.
// RUN: un-opt %s --un-cpu-reciprocal-division --split-input-file | FileCheck %s
// The CPU pipeline runs it unless exact-division is set: the softmax's
// division is then a vector division again.
// RUN: un-opt %s --split-input-file --un-cpu-pipeline="cpu=skylake-avx512" | FileCheck %s --check-prefix=PIPE
// RUN: un-opt %s --split-input-file --un-cpu-pipeline="cpu=skylake-avx512 exact-division=true" | FileCheck %s --check-prefix=EXACT

#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>

// CHECK-LABEL: func.func @softmax_division(
// CHECK-SAME: %[[E:.*]]: tensor<128x512xf32>, %[[SUM:.*]]: tensor<128xf32>
// CHECK: %[[EMPTY:.*]] = tensor.empty() : tensor<128xf32>
// CHECK: %[[R:.*]] = linalg.generic {{.*}} ins(%[[SUM]] : tensor<128xf32>) outs(%[[EMPTY]] : tensor<128xf32>)
// CHECK: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-NEXT: arith.divf %[[ONE]], %{{.*}} : f32
// CHECK: linalg.generic {{.*}} ins(%[[E]], %[[R]] : tensor<128x512xf32>, tensor<128xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[RS:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[P:.*]] = arith.mulf %[[X]], %[[RS]] : f32
// CHECK-NEXT: linalg.yield %[[P]]
// PIPE-LABEL: llvm.func @softmax_division(
// PIPE: llvm.fmul {{.*}} : vector<16xf32>
// EXACT-LABEL: llvm.func @softmax_division(
// EXACT-NOT: llvm.fmul
// EXACT: llvm.fdiv {{.*}} : vector<16xf32>
// EXACT-NOT: llvm.fmul
func.func @softmax_division(%e: tensor<128x512xf32>, %sum: tensor<128xf32>) -> tensor<128x512xf32> {
  %o = tensor.empty() : tensor<128x512xf32>
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%e, %sum : tensor<128x512xf32>, tensor<128xf32>) outs(%o : tensor<128x512xf32>) {
  ^bb0(%x: f32, %s: f32, %out: f32):
    %q = arith.divf %x, %s : f32
    linalg.yield %q : f32
  } -> tensor<128x512xf32>
  return %p : tensor<128x512xf32>
}

// -----

// A divisor read elsewhere in the body stays an input beside its
// reciprocal; two divisions by it share the one reciprocal. Dynamic sizes:
// the reciprocal's tensor is as large as the divisor's.
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @shared_divisor(
// CHECK-SAME: %[[A:.*]]: tensor<?x?xf32>, %[[S:.*]]: tensor<?xf32>
// CHECK: %[[DIM:.*]] = tensor.dim %[[S]], %{{.*}} : tensor<?xf32>
// CHECK: tensor.empty(%[[DIM]]) : tensor<?xf32>
// CHECK: %[[R:.*]] = linalg.generic
// CHECK: linalg.generic {{.*}} ins(%[[A]], %[[S]], %[[R]] : tensor<?x?xf32>, tensor<?xf32>, tensor<?xf32>)
// CHECK-NEXT: ^bb0(%[[X:.*]]: f32, %[[SV:.*]]: f32, %[[RS:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.mulf %[[X]], %[[RS]]
// CHECK-NEXT: arith.addf %{{.*}}, %[[SV]]
// CHECK-NEXT: arith.mulf %{{.*}}, %[[RS]]
// CHECK-NOT: arith.divf
func.func @shared_divisor(%a: tensor<?x?xf32>, %s: tensor<?xf32>) -> tensor<?x?xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %m = tensor.dim %a, %c0 : tensor<?x?xf32>
  %n = tensor.dim %a, %c1 : tensor<?x?xf32>
  %o = tensor.empty(%m, %n) : tensor<?x?xf32>
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %s : tensor<?x?xf32>, tensor<?xf32>) outs(%o : tensor<?x?xf32>) {
  ^bb0(%x: f32, %sv: f32, %out: f32):
    %q = arith.divf %x, %sv : f32
    %t = arith.addf %q, %sv : f32
    %u = arith.divf %t, %sv : f32
    linalg.yield %u : f32
  } -> tensor<?x?xf32>
  return %p : tensor<?x?xf32>
}

// -----

// Left alone: a divisor that varies along the innermost loop (one per
// column), an innermost loop of one iteration, f64, a division by a value
// computed in the body, a reduction, a scalar (not a tensor) divisor.
#id = affine_map<(d0, d1) -> (d0, d1)>
#row = affine_map<(d0, d1) -> (d0)>
#col = affine_map<(d0, d1) -> (d1)>
// CHECK-LABEL: func.func @left_alone(
// CHECK-NOT: arith.mulf
// CHECK-COUNT-6: arith.divf
// CHECK-NOT: arith.mulf
// CHECK: return
func.func @left_alone(%a: tensor<8x16xf32>, %c: tensor<16xf32>, %one: tensor<8x1xf32>, %r1: tensor<8xf32>,
                      %d: tensor<8x16xf64>, %r64: tensor<8xf64>, %f: f32) -> (tensor<8x16xf32>, tensor<8x1xf32>, tensor<8x16xf64>, tensor<8x16xf32>, tensor<8xf32>, tensor<8x16xf32>) {
  %o = tensor.empty() : tensor<8x16xf32>
  %per_column = linalg.generic {indexing_maps = [#id, #col, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %c : tensor<8x16xf32>, tensor<16xf32>) outs(%o : tensor<8x16xf32>) {
  ^bb0(%x: f32, %s: f32, %out: f32):
    %q = arith.divf %x, %s : f32
    linalg.yield %q : f32
  } -> tensor<8x16xf32>
  %o1 = tensor.empty() : tensor<8x1xf32>
  %single = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%one, %r1 : tensor<8x1xf32>, tensor<8xf32>) outs(%o1 : tensor<8x1xf32>) {
  ^bb0(%x: f32, %s: f32, %out: f32):
    %q = arith.divf %x, %s : f32
    linalg.yield %q : f32
  } -> tensor<8x1xf32>
  %o64 = tensor.empty() : tensor<8x16xf64>
  %wide = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%d, %r64 : tensor<8x16xf64>, tensor<8xf64>) outs(%o64 : tensor<8x16xf64>) {
  ^bb0(%x: f64, %s: f64, %out: f64):
    %q = arith.divf %x, %s : f64
    linalg.yield %q : f64
  } -> tensor<8x16xf64>
  %computed = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %r1 : tensor<8x16xf32>, tensor<8xf32>) outs(%o : tensor<8x16xf32>) {
  ^bb0(%x: f32, %s: f32, %out: f32):
    %t = arith.addf %s, %s : f32
    %q = arith.divf %x, %t : f32
    linalg.yield %q : f32
  } -> tensor<8x16xf32>
  %e8 = tensor.empty() : tensor<8xf32>
  %reduced = linalg.generic {indexing_maps = [#id, #row, #row], iterator_types = ["parallel", "reduction"]}
      ins(%a, %r1 : tensor<8x16xf32>, tensor<8xf32>) outs(%e8 : tensor<8xf32>) {
  ^bb0(%x: f32, %s: f32, %acc: f32):
    %q = arith.divf %x, %s : f32
    %t = arith.addf %acc, %q : f32
    linalg.yield %t : f32
  } -> tensor<8xf32>
  %scalar = linalg.generic {indexing_maps = [#id, affine_map<(d0, d1) -> ()>, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a, %f : tensor<8x16xf32>, f32) outs(%o : tensor<8x16xf32>) {
  ^bb0(%x: f32, %s: f32, %out: f32):
    %q = arith.divf %x, %s : f32
    linalg.yield %q : f32
  } -> tensor<8x16xf32>
  return %per_column, %single, %wide, %computed, %reduced, %scalar : tensor<8x16xf32>, tensor<8x1xf32>, tensor<8x16xf64>, tensor<8x16xf32>, tensor<8xf32>, tensor<8x16xf32>
}
