// RUN: un-opt %s --un-gpu-matmul=library=cublaslt -verify-diagnostics

// A function with the name of the runtime's entry point that is not its
// declaration.
// expected-error@+1 {{has the name of the CUDA runtime's matmul but is not its declaration}}
func.func @un_cuda_matmul_f32(%a: index) {
  return
}

func.func @product(%a: tensor<4x8xf32>, %b: tensor<8x4xf32>, %c: tensor<4x4xf32>) -> tensor<4x4xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<4x8xf32>, tensor<8x4xf32>) outs(%c : tensor<4x4xf32>) -> tensor<4x4xf32>
  return %r : tensor<4x4xf32>
}
