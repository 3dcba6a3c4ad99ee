//===- Passes.td - UN dialect transformations --------------*- tablegen -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_DIALECT_UN_TRANSFORMS_PASSES_TD
#define UN_DIALECT_UN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def UNDecompose : Pass<"un-decompose"> {
  let summary = "Decompose composite un ops into primitive un ops";
  let description = [{
    Rewrites the composite ops that frontends emit into the kernel-sized
    primitives, keeping every formula of the spec:

    * `un.train_forward` -> `un.quadratic_mean`, `un.smooth_forward_stats`,
      `un.normalize`;
    * `un.train_backward` -> `un.grad_stats`, `un.smooth_grad_stats`,
      `un.input_grad`;
    * `un.infer` -> `un.normalize` (its `y`).

    Before:

    ```mlir
    %y = un.infer %x, %gamma, %beta, %rv
      : (tensor<?x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>)
     -> tensor<?x384xf32>
    ```

    After:

    ```mlir
    %z, %y = un.normalize %x, %rv, %gamma, %beta
      : (tensor<?x384xf32>, tensor<384xf32>, tensor<384xf32>, tensor<384xf32>)
     -> (tensor<?x384xf32>, tensor<?x384xf32>)
    ```
  }];
  let dependentDialects = ["::mlir::un::UNDialect"];
}

#endif // UN_DIALECT_UN_TRANSFORMS_PASSES_TD
