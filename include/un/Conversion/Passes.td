//===- Passes.td - un-mlir conversions ---------------------*- tablegen -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_CONVERSION_PASSES_TD
#define UN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertUNToLinalg : Pass<"convert-un-to-linalg"> {
  let summary = "Lower primitive un ops to linalg on tensors";
  let description = [{
    Lowers every primitive `un` op to `linalg.generic` ops on tensors plus
    `tensor`, `arith` and `math` ops, with f32 arithmetic for every
    statistic. The big `[tokens, C]` work becomes one reduction or one
    elementwise `linalg.generic` per op (channels innermost); the small
    `[window, C]` statistics work becomes small generics and scalar logic
    that evaluates the spec's run-time decisions (warm-up, `t <= window`,
    the outlier test, skip) as data. Composite ops must be decomposed
    first (`un-decompose`); any `un` op left is an error.

    Before:

    ```mlir
    %psi = un.quadratic_mean %x : (tensor<?x384xf32>) -> tensor<384xf32>
    ```

    After (abridged):

    ```mlir
    %sum = linalg.generic {iterator_types = ["reduction", "parallel"], ...}
        ins(%x : tensor<?x384xf32>) outs(%zero : tensor<384xf32>) {
      ^bb0(%v: f32, %acc: f32):
        %sq = arith.mulf %v, %v : f32
        %s = arith.addf %acc, %sq : f32
        linalg.yield %s : f32
    } -> tensor<384xf32>
    %psi = linalg.generic ... // %sum / T
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::math::MathDialect", "::mlir::tensor::TensorDialect"
  ];
}

#endif // UN_CONVERSION_PASSES_TD
