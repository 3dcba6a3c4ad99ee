// Statistics across processes on the GPU: the reduction's finalize kernel
// writes [sums..., count] into a [C + 1] buffer, un.sum_across_ranks sums
// it over the processes, a kernel divides. The reduction is not fused into
// the smoothing kernel (the all-reduce sits between them), and ggamma and
// gbeta stay this process' own.
// RUN: un-opt %s -split-input-file --un-decompose --convert-un-to-gpu | FileCheck %s

// CHECK-LABEL: func.func @quadratic_mean(
// CHECK: %[[PSI:.*]] = memref.alloc() : memref<8xf32>
// CHECK: %[[LOCAL:.*]] = memref.alloc() : memref<9xf32>
// CHECK: gpu.launch {{.*}} function(@quadratic_mean_quadratic_mean_sums)
// The count T', from the thread of channel 0, at [C]:
// CHECK:   arith.cmpi eq
// CHECK:   scf.if
// CHECK:     memref.store %{{.*}}, %[[LOCAL]][%c8{{.*}}] : memref<9xf32>
// The sums are not divided:
// CHECK-NOT: arith.divf
// CHECK:   memref.store %{{.*}}, %[[LOCAL]][%{{.*}}] : memref<9xf32>
// CHECK: %[[TOTAL:.*]] = memref.alloc() : memref<9xf32>
// CHECK: un.sum_across_ranks %[[LOCAL]] into %[[TOTAL]] : memref<9xf32>, memref<9xf32>
// CHECK: gpu.launch {{.*}} function(@quadratic_mean_divide_by_count)
// CHECK:   %[[S:.*]] = memref.load %[[TOTAL]][%{{.*}}] : memref<9xf32>
// CHECK:   %[[N:.*]] = memref.load %[[TOTAL]][%c8{{.*}}] : memref<9xf32>
// CHECK:   %[[Q:.*]] = arith.divf %[[S]], %[[N]] : f32
// CHECK:   memref.store %[[Q]], %[[PSI]]
// CHECK: bufferization.to_tensor %[[PSI]]
func.func @quadratic_mean(%x: tensor<?x8xf32>, %mask: tensor<?xi1>) -> tensor<8xf32> {
  %psi = un.quadratic_mean %x mask %mask {all_ranks} : (tensor<?x8xf32>, tensor<?xi1>) -> tensor<8xf32>
  return %psi : tensor<8xf32>
}

// -----

// Dynamic channels: [C + 1] buffers of dynamic size.
// CHECK-LABEL: func.func @dynamic_channels(
// CHECK: function(@dynamic_channels_square_sums)
// CHECK: %[[C:.*]] = memref.dim %{{.*}}, %c1
// CHECK: memref.alloc(%[[C]]) : memref<?xf32>
// CHECK: %[[C1:.*]] = arith.addi %[[C]], %c1
// CHECK: memref.alloc(%[[C1]]) : memref<?xf32>
// CHECK: un.sum_across_ranks %{{.*}} into %{{.*}} : memref<?xf32>, memref<?xf32>
func.func @dynamic_channels(%x: tensor<?x?xf32>) -> tensor<?xf32> {
  %psi = un.quadratic_mean %x {all_ranks} : (tensor<?x?xf32>) -> tensor<?xf32>
  return %psi : tensor<?xf32>
}

// -----

// The training forward step: square sums, [sums, count], the all-reduce,
// the division, then the smoothing kernel reads psi (not the partial sums).
// CHECK-LABEL: func.func @forward(
// CHECK: function(@forward_square_sums)
// CHECK: function(@forward_quadratic_mean_sums)
// CHECK: un.sum_across_ranks
// CHECK: function(@forward_divide_by_count)
// CHECK: function(@forward_forward_stats)
// CHECK: function(@forward_normalize)
// CHECK-NOT: un.sum_across_ranks
func.func @forward(%x: tensor<?x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>,
                   %rv: tensor<8xf32>, %w: tensor<4x8xf32>, %t: i64, %skips: i64)
    -> (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4x8xf32>, i64) {
  %y, %z, %var, %r, %skip, %rv1, %w1, %skips1 = un.train_forward %x, %g, %b, %rv, %w, %t, %skips
      {eps = 1.0e-5 : f32, momentum = 0.9 : f32, warmup_iters = 4 : i64,
       outlier_filtration = true, r_max = 5.0 : f32, r_warmup = 4 : i64, all_ranks}
      : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4x8xf32>, i64, i64)
      -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>,
          tensor<4x8xf32>, i64)
  return %y, %var, %rv1, %w1, %skips1 : tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4x8xf32>, i64
}

// -----

// grad_stats: gz = (sum over every process' tokens of g * z) / T_all;
// ggamma and gbeta are written by the same finalize kernel, local.
// CHECK-LABEL: func.func @grad_stats(
// CHECK: function(@grad_stats_grad_sums)
// CHECK: %[[LOCAL:.*]] = memref.alloc() : memref<9xf32>
// CHECK: gpu.launch {{.*}} function(@grad_stats_grad_stats_sums)
// CHECK:   memref.store %{{.*}}, %[[LOCAL]]
// CHECK:   memref.store %{{.*}}, %[[GGAMMA:.*]][%{{.*}}] : memref<8xf32>
// CHECK:   memref.store %{{.*}}, %[[GBETA:.*]][%{{.*}}] : memref<8xf32>
// CHECK: un.sum_across_ranks %[[LOCAL]] into %[[TOTAL:.*]] : memref<9xf32>, memref<9xf32>
// CHECK: function(@grad_stats_divide_by_count)
func.func @grad_stats(%gy: tensor<?x8xf32>, %z: tensor<?x8xf32>, %r: tensor<8xf32>, %g: tensor<8xf32>)
    -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) {
  %gz, %gg, %gb = un.grad_stats %gy, %z, %r, %g {all_ranks}
      : (tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>)
      -> (tensor<8xf32>, tensor<8xf32>, tensor<8xf32>)
  return %gz, %gg, %gb : tensor<8xf32>, tensor<8xf32>, tensor<8xf32>
}
