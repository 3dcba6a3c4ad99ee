// Statistics across processes: `all_ranks` makes an op a collective, which
// no pass may remove, merge or move; un.sum_across_ranks round-trips on
// tensors and on buffers.
// RUN: un-opt %s | un-opt | FileCheck %s --check-prefix=ROUNDTRIP
// RUN: un-opt %s -canonicalize -cse | FileCheck %s

// ROUNDTRIP-LABEL: func.func @unused_collectives_stay(
// ROUNDTRIP: un.quadratic_mean %{{.*}} {all_ranks}
// CHECK-LABEL: func.func @unused_collectives_stay(
// Two identical collectives, results unused: both stay, in order.
// CHECK: un.quadratic_mean %{{.*}} {all_ranks}
// CHECK: un.quadratic_mean %{{.*}} {all_ranks}
// CHECK: un.grad_stats %{{.*}} {all_ranks}
// The same ops without all_ranks are pure: gone.
// CHECK-NOT: un.quadratic_mean
// CHECK-NOT: un.grad_stats
// CHECK: return
func.func @unused_collectives_stay(%x: tensor<?x8xf32>, %r: tensor<8xf32>, %g: tensor<8xf32>) {
  %0 = un.quadratic_mean %x {all_ranks} : (tensor<?x8xf32>) -> tensor<8xf32>
  %1 = un.quadratic_mean %x {all_ranks} : (tensor<?x8xf32>) -> tensor<8xf32>
  %2:3 = un.grad_stats %x, %x, %r, %g {all_ranks} : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  %3 = un.quadratic_mean %x : (tensor<?x8xf32>) -> tensor<8xf32>
  %4:3 = un.grad_stats %x, %x, %r, %g : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>) -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  return
}

// ROUNDTRIP-LABEL: func.func @composites(
// ROUNDTRIP: un.train_forward {{.*}} {all_ranks}
// ROUNDTRIP: un.train_backward {{.*}} {all_ranks}
// CHECK-LABEL: func.func @composites(
// CHECK: un.train_forward {{.*}} {all_ranks}
// CHECK: un.train_backward {{.*}} {all_ranks}
func.func @composites(%x: tensor<?x8xf32>, %g: tensor<8xf32>, %rv: tensor<8xf32>, %w: tensor<3x8xf32>, %t: i64, %s: i64, %skip: i1) {
  %y, %z, %var, %r, %sk, %rv1, %w1, %s1 = un.train_forward %x, %g, %g, %rv, %w, %t, %s {all_ranks} : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<3x8xf32>, i64, i64) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<3x8xf32>, i64)
  %gx:5 = un.train_backward %x, %x, %rv, %rv, %skip, %g, %rv, %w, %t {all_ranks} : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<8xf32>, tensor<3x8xf32>, i64) -> (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<3x8xf32>)
  return
}

// ROUNDTRIP-LABEL: func.func @sum_across_ranks(
// ROUNDTRIP: un.sum_across_ranks %{{.*}} into %{{.*}} : tensor<9xf32>, tensor<9xf32> -> tensor<9xf32>
// ROUNDTRIP: un.sum_across_ranks %{{.*}} into %{{.*}} : memref<?xf32>, memref<?xf32>
// CHECK-LABEL: func.func @sum_across_ranks(
// CHECK-COUNT-2: un.sum_across_ranks
func.func @sum_across_ranks(%v: tensor<9xf32>, %init: tensor<9xf32>, %a: memref<?xf32>, %b: memref<?xf32>) {
  %unused = un.sum_across_ranks %v into %init : tensor<9xf32>, tensor<9xf32> -> tensor<9xf32>
  un.sum_across_ranks %a into %b : memref<?xf32>, memref<?xf32>
  return
}
