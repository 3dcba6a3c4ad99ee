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

def UNFuseElementwise : Pass<"un-fuse-elementwise"> {
  let summary = "Fuse elementwise linalg ops without recomputation";
  let description = [{
    Fuses producer `linalg.generic` ops that are all-parallel into their
    consumers when both iterate over the same space (the consumer reads
    the producer's result through a permutation). So the normalization and
    the elementwise epilogue around it become one pass over memory, while
    per-channel work (`sqrt(var + eps)`, `[C]` maps) stays outside the loop
    over tokens instead of being recomputed for every token, as upstream
    `linalg-fuse-elementwise-ops` would do. Results of a fused producer
    that have other users remain results of the fused op, so no work is
    duplicated.

    Before:

    ```mlir
    %y = linalg.generic {... ["parallel", "parallel"]}
        ins(%x, %std, %gamma, %beta : ...) ... // normalize
    %o = linalg.generic {... ["parallel", "parallel"]}
        ins(%y, %residual : ...) ...           // y + residual
    ```

    After: one `linalg.generic` computing `normalize(x) + residual`; the
    `[C]` generic computing `%std` is left as it is.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def UNRaiseNorms : Pass<"un-raise-norms"> {
  let summary = "Raise decomposed inference normalizations to un ops";
  let description = [{
    Frontends such as torch-mlir decompose inference normalizations with
    fixed statistics (BatchNorm in eval, UnifiedNorm in eval, any
    per-channel scale and shift) into chains of elementwise `linalg.generic`
    ops, each combining the activation with one per-channel vector
    (`+`, `-`, `*`, `/`). Such a chain is the affine map `a * x + b` with
    per-channel `a` and `b`: it is raised to `un.affine` (with `a` and `b`
    computed by small `[C]` generics, once per channel), or to `un.infer`
    when it is exactly `gamma * x / sqrt(running_var + eps) + beta`, so
    that `un-fold-into-linear` can fold it. Chains without a scale (a bias
    add) are left alone. Normalizations with per-token statistics
    (LayerNorm) cannot fold: they are reported with a remark and left
    unchanged. Calls to `@un_mlir.unified_norm_infer*(x, gamma, beta,
    running_var) {un.eps = ...}`, which frontends that keep UnifiedNorm
    intact emit, become `un.infer`.

    Before (torch-mlir's output for UnifiedNorm in eval):

    ```mlir
    %1 = linalg.generic ins(%gamma, %x : tensor<8xf32>, tensor<3x8xf32>) {mulf}
    %std = ... sqrt(%running_var + 1.0e-5) ...       // [C] generics
    %2 = linalg.generic ins(%1, %std : tensor<3x8xf32>, tensor<8xf32>) {divf}
    %3 = linalg.generic ins(%2, %beta : tensor<3x8xf32>, tensor<8xf32>) {addf}
    ```

    After:

    ```mlir
    %3 = un.infer %x, %gamma, %beta, %running_var {eps = 1.0e-05 : f32}
      : (...) -> tensor<3x8xf32>
    ```
  }];
  let dependentDialects = ["::mlir::un::UNDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

#endif // UN_DIALECT_UN_TRANSFORMS_PASSES_TD
