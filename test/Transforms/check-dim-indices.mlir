// un-check-dim-indices: a dim queried at a constant index outside the rank
// is an error (upstream folding crashes on it), whichever pipeline runs.
// RUN: un-opt %s -un-check-dim-indices -split-input-file -verify-diagnostics
// RUN: not un-opt %s --un-cpu-pipeline -split-input-file 2>&1 | FileCheck %s
// RUN: %if cuda-pipeline %{ not un-opt %s --un-cuda-pipeline="format=isa" -split-input-file 2>&1 | FileCheck %s %}
// CHECK: error: 'tensor.dim' op queries dim -1 of a rank-2 value
// CHECK: error: 'memref.dim' op queries dim 3 of a rank-3 value

func.func @negative(%x: tensor<?x4xf32>) -> index {
  %c = arith.constant -1 : index
  // expected-error @+1 {{'tensor.dim' op queries dim -1 of a rank-2 value}}
  %d = tensor.dim %x, %c : tensor<?x4xf32>
  return %d : index
}

// -----

func.func @past_the_rank(%x: memref<2x?x4xf32>) -> index {
  %c = arith.constant 3 : index
  // expected-error @+1 {{'memref.dim' op queries dim 3 of a rank-3 value}}
  %d = memref.dim %x, %c : memref<2x?x4xf32>
  return %d : index
}

// -----

// In range, or not a constant: left to run time.
func.func @fine(%x: tensor<?x4xf32>, %i: index) -> (index, index) {
  %c = arith.constant 0 : index
  %d = tensor.dim %x, %c : tensor<?x4xf32>
  %e = tensor.dim %x, %i : tensor<?x4xf32>
  return %d, %e : index, index
}
