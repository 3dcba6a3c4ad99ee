// Composite ops must be decomposed first; the conversion says which op is
// left instead of producing partial IR.
// RUN: un-opt %s -convert-un-to-linalg -verify-diagnostics

func.func @infer(%x: tensor<?x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>) -> tensor<?x4xf32> {
  // expected-error @+1 {{'un.infer' op is a composite op: run -un-decompose before -convert-un-to-linalg}}
  %y = un.infer %x, %g, %b, %rv : (tensor<?x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<?x4xf32>
  return %y : tensor<?x4xf32>
}
