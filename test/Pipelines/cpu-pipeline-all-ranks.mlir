// A training step whose statistics are taken over every process: the CPU
// pipeline bufferizes the all-reduces with the rest (the sums and the token
// count in one buffer each) and lowers them to MPICH's MPI_Allreduce, one
// for the forward's x^2 sums, one for the backward's g*z sums.
// RUN: un-opt %s --un-cpu-pipeline | FileCheck %s

// CHECK: module attributes {dlti.map = #dlti.map<"MPI:Implementation" = "MPICH">}
// CHECK-NOT: un.
// CHECK-NOT: mpi.
// CHECK-DAG: llvm.func @MPI_Allreduce(!llvm.ptr, !llvm.ptr, i32, i32, i32, i32) -> i32
// CHECK-LABEL: llvm.func @step(
// CHECK-COUNT-2: llvm.call @MPI_Allreduce
// CHECK-NOT: llvm.call @MPI_Allreduce
// CHECK: llvm.return
func.func @step(%x: tensor<?x5x8xf32>, %mask: tensor<?x5xi1>, %gy: tensor<?x5x8xf32>, %g: tensor<8xf32>, %rv: tensor<8xf32>, %w: tensor<3x8xf32>, %ema: tensor<8xf32>, %wb: tensor<2x8xf32>, %t: i64, %s: i64) -> (tensor<?x5x8xf32>, tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<3x8xf32>, tensor<8xf32>, tensor<2x8xf32>) attributes {llvm.emit_c_interface} {
  %y, %z, %var, %r, %skip, %rv1, %w1, %s1 = un.train_forward %x, %g, %g, %rv, %w, %t, %s mask %mask {all_ranks} : (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<3x8xf32>, i64, i64, tensor<?x5xi1>) -> (tensor<?x5x8xf32>, tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<3x8xf32>, i64)
  %gx, %gg, %gb, %ema1, %wb1 = un.train_backward %gy, %z, %var, %r, %skip, %g, %ema, %wb, %t {all_ranks} : (tensor<?x5x8xf32>, tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<8xf32>, tensor<2x8xf32>, i64) -> (tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<2x8xf32>)
  return %y, %gx, %gg, %rv1, %w1, %ema1, %wb1 : tensor<?x5x8xf32>, tensor<?x5x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<3x8xf32>, tensor<8xf32>, tensor<2x8xf32>
}
