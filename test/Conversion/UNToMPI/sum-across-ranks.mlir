// un.sum_across_ranks on buffers becomes an MPI all-reduce over
// MPI_COMM_WORLD in a module marked for MPICH; convert-to-llvm then calls
// MPI_Allreduce.
// RUN: un-opt %s -split-input-file -convert-un-to-mpi -verify-diagnostics | FileCheck %s
// RUN: un-opt %s -split-input-file -convert-un-to-mpi -convert-to-llvm -verify-diagnostics | FileCheck %s --check-prefix=LLVM

// Dynamic lengths are checked at run time (a longer input would be written
// past the end of the output).
// CHECK: module attributes {dlti.map = #dlti.map<"MPI:Implementation" = "MPICH">}
// CHECK-LABEL: func.func @sum(
// CHECK-SAME: %[[IN:.*]]: memref<?xf32>, %[[OUT:.*]]: memref<?xf32>)
// CHECK: %[[N:.*]] = memref.dim %[[IN]]
// CHECK: %[[M:.*]] = memref.dim %[[OUT]]
// CHECK: %[[SAME:.*]] = arith.cmpi eq, %[[N]], %[[M]]
// CHECK: cf.assert %[[SAME]], "un.sum_across_ranks: 'input' and 'init' differ in length"
// CHECK: %[[COMM:.*]] = mpi.comm_world : !mpi.comm
// CHECK: mpi.allreduce(%[[IN]], %[[OUT]], MPI_SUM, %[[COMM]]) : memref<?xf32>, memref<?xf32>
// CHECK-NOT: un.sum_across_ranks
// LLVM: llvm.func @MPI_Allreduce
// LLVM-LABEL: llvm.func @sum(
// LLVM: llvm.call @MPI_Allreduce
func.func @sum(%in: memref<?xf32>, %out: memref<?xf32>) {
  un.sum_across_ranks %in into %out : memref<?xf32>, memref<?xf32>
  return
}

// -----

// Other DLTI entries are kept; an explicit MPICH is accepted. Static
// lengths need no check (the verifier compared them).
// CHECK: module attributes {dlti.map = #dlti.map<"other" = 1 : i32, "MPI:Implementation" = "MPICH">}
// CHECK-NOT: cf.assert
// CHECK: mpi.allreduce
// CHECK: module attributes {dlti.map = #dlti.map<"MPI:Implementation" = "MPICH">}
module attributes {dlti.map = #dlti.map<"other" = 1 : i32>} {
  func.func @kept(%in: memref<4xf32>, %out: memref<4xf32>) {
    un.sum_across_ranks %in into %out : memref<4xf32>, memref<4xf32>
    return
  }
}

// -----

module attributes {dlti.map = #dlti.map<"MPI:Implementation" = "MPICH">} {
  func.func @explicit(%in: memref<4xf32>, %out: memref<4xf32>) {
    un.sum_across_ranks %in into %out : memref<4xf32>, memref<4xf32>
    return
  }
}

// -----

// No collective: the module is left as it is.
// CHECK-LABEL: func.func @none(
// CHECK-NOT: dlti
func.func @none() {
  return
}

// -----

// expected-error @+1 {{statistics across processes need MPICH ('MPI:Implementation' = "MPICH"), got "OpenMPI"}}
module attributes {dlti.map = #dlti.map<"MPI:Implementation" = "OpenMPI">} {
  func.func @openmpi(%in: memref<4xf32>, %out: memref<4xf32>) {
    un.sum_across_ranks %in into %out : memref<4xf32>, memref<4xf32>
    return
  }
}

// -----

func.func @tensors(%v: tensor<4xf32>, %i: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{is still on tensors: bufferize before -convert-un-to-mpi}}
  %0 = un.sum_across_ranks %v into %i : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}
