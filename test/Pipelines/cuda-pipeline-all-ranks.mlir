// A training step whose statistics are taken over every process, for CUDA:
// two all-reduces (the forward's x^2 sums and token count, the backward's
// g*z sums and token count) become calls of the runtime's NCCL all-reduce
// on device buffers, each after the host waited for the kernels before it
// (so NCCL reads finished sums) and before the kernels that read the
// totals.
// REQUIRES: cuda-pipeline
// RUN: un-opt %s --un-cuda-pipeline="format=isa" | FileCheck %s

// CHECK-NOT: un.sum_across_ranks
// CHECK-DAG: llvm.func @un_cuda_sum_across_ranks_f32(i64, i64, i64)
// CHECK-LABEL: llvm.func @step(
// CHECK: gpu.launch_func <%[[S1:.*]] : !llvm.ptr> @un_kernels::@step_quadratic_mean_sums
// CHECK: llvm.call @mgpuStreamSynchronize(%[[S1]])
// CHECK: llvm.call @un_cuda_sum_across_ranks_f32(
// CHECK: %[[S2:.*]] = llvm.call @mgpuStreamCreate()
// CHECK: gpu.launch_func <%[[S2]] : !llvm.ptr> @un_kernels::@step_divide_by_count
// CHECK: gpu.launch_func <%[[S3:.*]] : !llvm.ptr> @un_kernels::@step_grad_stats_sums
// CHECK: llvm.call @mgpuStreamSynchronize(%[[S3]])
// CHECK: llvm.call @un_cuda_sum_across_ranks_f32(
// CHECK: %[[S4:.*]] = llvm.call @mgpuStreamCreate()
// CHECK: gpu.launch_func <%[[S4]] : !llvm.ptr> @un_kernels::@step_divide_by_count_1
// CHECK-NOT: llvm.call @un_cuda_sum_across_ranks_f32
// CHECK: llvm.return
func.func @step(%x: tensor<?x5x8xf32>, %mask: tensor<?x5xi1>, %gy: tensor<?x5x8xf32>, %g: tensor<8xf32>, %rv: tensor<8xf32>, %w: tensor<3x8xf32>, %ema: tensor<8xf32>, %wb: tensor<2x8xf32>, %t: i64, %s: i64) -> (tensor<?x5x8xf32>, tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<3x8xf32>, tensor<8xf32>, tensor<2x8xf32>) attributes {llvm.emit_c_interface} {
  %y, %z, %var, %r, %skip, %rv1, %w1, %s1 = un.train_forward %x, %g, %g, %rv, %w, %t, %s mask %mask {all_ranks} : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<3x8xf32>, i64, i64, tensor<?x5xi1>) -> (tensor<?x5x8xf32>, tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<3x8xf32>, i64)
  %gx, %gg, %gb, %ema1, %wb1 = un.train_backward %gy, %z, %var, %r, %skip, %g, %ema, %wb, %t {all_ranks} : (tensor<?x5x8xf32>, tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<8xf32>, tensor<2x8xf32>, i64) -> (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<2x8xf32>)
  return %y, %gx, %gg, %rv1, %w1, %ema1, %wb1 : tensor<?x5x8xf32>, tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<3x8xf32>, tensor<8xf32>, tensor<2x8xf32>
}
