// RUN: un-opt %s --convert-un-to-gpu -verify-diagnostics

func.func @not_decomposed(%x: tensor<4x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %rv: tensor<8xf32>) -> tensor<4x8xf32> {
  // expected-error @+1 {{is a composite op: run -un-decompose before -convert-un-to-gpu}}
  %y = un.infer %x, %g, %b, %rv : (tensor<4x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}
