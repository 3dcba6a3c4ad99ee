// un-gpu-collectives rejects collectives still on tensors and a function
// that takes the runtime entry's name with another type.
// RUN: un-opt %s -split-input-file -un-gpu-collectives -verify-diagnostics

func.func @tensors(%v: tensor<4xf32>, %i: tensor<4xf32>) -> tensor<4xf32> {
  // expected-error @+1 {{is still on tensors: bufferize before -un-gpu-collectives}}
  %0 = un.sum_across_ranks %v into %i : tensor<4xf32>, tensor<4xf32> -> tensor<4xf32>
  return %0 : tensor<4xf32>
}

// -----

// expected-error @+1 {{has the name of the CUDA runtime's all-reduce but the type '(i64) -> ()', not '(index, index, index) -> ()'}}
func.func private @un_cuda_sum_across_ranks_f32(i64)
func.func @clash(%in: memref<4xf32>, %out: memref<4xf32>) {
  un.sum_across_ranks %in into %out : memref<4xf32>, memref<4xf32>
  return
}
