// Statistics across processes have no GPU kernels: a clear error, not a
// step that silently uses this process's tokens only.
// RUN: un-opt %s -split-input-file --convert-un-to-gpu -verify-diagnostics

func.func @quadratic_mean(%x: tensor<?x8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'un.quadratic_mean' op takes statistics across processes, which convert-un-to-gpu does not lower: compile it for the CPU (un-cpu-pipeline, MPI)}}
  %psi = un.quadratic_mean %x {all_ranks} : (tensor<?x8xf32>) -> tensor<8xf32>
  return %psi : tensor<8xf32>
}

// -----

func.func @sum(%v: tensor<9xf32>, %i: tensor<9xf32>) -> tensor<9xf32> {
  // expected-error @+1 {{'un.sum_across_ranks' op takes statistics across processes}}
  %0 = un.sum_across_ranks %v into %i : tensor<9xf32>, tensor<9xf32> -> tensor<9xf32>
  return %0 : tensor<9xf32>
}
