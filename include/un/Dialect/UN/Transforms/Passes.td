//===- Passes.td - UN dialect transformations --------------*- tablegen -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_DIALECT_UN_TRANSFORMS_PASSES_TD
#define UN_DIALECT_UN_TRANSFORMS_PASSES_TD

include "mlir/Pass/PassBase.td"

def UNCheckDimIndices : Pass<"un-check-dim-indices"> {
  let summary = "Reject tensor.dim / memref.dim with a constant index "
                "outside the rank";
  let description = [{
    A `tensor.dim` or `memref.dim` whose index is a constant outside
    `[0, rank)` passes the upstream verifiers, is undefined behaviour at run
    time, and crashes upstream MLIR 22's folding (reached through the CUDA
    pipeline's canonicalizations). The un-mlir pipelines run this check
    first and fail with an error on the op instead.
  }];
}

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
  let summary = "Fuse elementwise linalg ops, recomputing only cheap ones";
  let description = [{
    Fuses producer `linalg.generic` ops that are all-parallel into their
    consumers when both iterate over the same space (the consumer reads
    the producer's result through a permutation). So the normalization and
    the elementwise epilogue around it become one pass over memory, while
    per-channel work (`sqrt(var + eps)`, `[C]` maps) stays outside the loop
    over tokens instead of being recomputed for every token, as upstream
    `linalg-fuse-elementwise-ops` would do. Results of a fused producer
    that have other users remain results of the fused op, so no work is
    duplicated; the one exception is a producer cheap enough to compute
    again (all-parallel, at most two arith operations on at most two
    inputs) whose every user is a generic it fuses into: it is cloned for
    each user, so its value is computed in each loop and never stored.

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
    when it is exactly `gamma * x / sqrt(running_var + eps) + beta` or
    `(gamma / sqrt(running_var + eps)) * x [+ beta]` (no beta: beta = 0),
    so that `un-fold-into-linear` can fold it. Chains without a scale (a
    bias add) are left alone. Normalizations with per-token statistics
    (LayerNorm, RMSNorm: the activation scaled by a reduction over its
    channels) cannot fold: they are reported with a remark and left
    unchanged. Calls to `@un_mlir.unified_norm_infer*(x, gamma, beta,
    running_var) {un.eps = ...}`, which frontends that keep UnifiedNorm
    intact emit, become `un.infer`.

    Before (UnifiedNorm's formula in eval, as torch-mlir emits it):

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
  let options = [
    Option<"reportRaised", "report-raised", "bool", "false",
           "Emit a remark on every normalization raised (\"raised to un.infer\" "
           "or \"raised to un.affine\"), so a caller can count them from the "
           "diagnostics without printing the module">,
  ];
  let dependentDialects = ["::mlir::un::UNDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::arith::ArithDialect"];
}

def UNFoldIntoLinear : Pass<"un-fold-into-linear", "::mlir::ModuleOp"> {
  let summary = "Fold inference UN into the weights and biases of the "
                "linear layers around it";
  let description = [{
    Inference UN is the per-channel affine map `y = a * x + beta` with
    `a = gamma / sqrt(running_var + eps)` (spec, "Inference"). This pass

    1. rewrites every `un.infer` into `un.affine` (the scale is a constant
       computed at compile time when `gamma` and `running_var` are
       constants, else a `[C]` `linalg.generic`);
    2. folds each `un.affine` into the linear layer that computes its input
       (`a (u V + c) + beta = u (V diag(a)) + (a c + beta)`; the affine map
       disappears), or else into every linear layer its result feeds
       (`y W + b = x (diag(a) W) + (beta W + b)`; one UN feeding the Q, K
       and V projections folds into all three, and the affine map stays
       only for users that are not linear layers, such as a residual add).

    Linear layers are contractions on tensors: `linalg.matmul` with any
    indexing maps (transposed operands included), `linalg.batch_matmul`,
    contraction `linalg.generic`s. Biases are broadcast adds in a
    `linalg.generic` (torch-mlir's form); without a bias, `beta W` (or
    `a * v + beta`) replaces the `linalg.fill` that initializes the
    contraction. The channel may reach the layer through
    `tensor.collapse_shape` / `expand_shape` / `extract_slice` /
    `tensor.cast`, `linalg.transpose` and copy generics, as long as it stays
    one whole dim. The weight must be a parameter: a function argument or a
    constant, possibly reshaped or transposed, never an activation (the
    output of a contraction or anything that depends on the normalized
    value), so the rewrite only does O(C*D) weight work.

    Constant weights and statistics give new constants computed at compile
    time: no run-time work is left. Weights that are function arguments
    keep the function's signature; the weight work is `linalg.generic`s on
    the weights only, and `hoist-weight-prep` moves it into
    `@<name>_prepare_weights`, with the hot path in `@<name>_folded` and
    `@<name>` calling both (see docs/folding.md).

    Where folding is not legal the IR is left correct, with the affine map
    in place (lowered later to one elementwise loop that
    `un-fuse-elementwise` fuses into its neighbours); the reason is in the
    debug output and, with `report-unfolded`, in a remark.

    Before:

    ```mlir
    %y = un.infer %x, %gamma, %beta, %rv : (tensor<197x384xf32>,
           tensor<384xf32>, tensor<384xf32>, tensor<384xf32>) -> tensor<197x384xf32>
    %m = linalg.matmul ins(%y, %w : tensor<197x384xf32>, tensor<384x1536xf32>)
                       outs(%zero : tensor<197x1536xf32>) -> tensor<197x1536xf32>
    %o = linalg.generic {indexing_maps = [#id, #bias, #id], ...}
           ins(%m, %b : tensor<197x1536xf32>, tensor<1536xf32>) ... // m + b
    ```

    After (constant `%gamma`, `%rv`, `%beta`, `%w`, `%b`):

    ```mlir
    %w2 = arith.constant dense<...> : tensor<384x1536xf32>  // diag(a) W
    %b2 = arith.constant dense<...> : tensor<1536xf32>      // beta W + b
    %m = linalg.matmul ins(%x, %w2 : ...) outs(%zero : ...)
    %o = linalg.generic {...} ins(%m, %b2 : ...) ...
    ```
  }];
  let options = [
    Option<"hoistWeightPrep", "hoist-weight-prep", "bool", "false",
           "Move the weight preparation of each function @f into "
           "@f_prepare_weights; the rest becomes @f_folded, called by @f">,
    Option<"packWeights", "pack-weights", "bool", "false",
           "Store the right operand of every f32 linalg.matmul that is a "
           "weight (a constant, or with hoist-weight-prep computed from "
           "function arguments) packed in panels of 16 columns, prepared "
           "once; the matmul reads the panels (for the CPU micro-kernel)">,
    Option<"reportUnfolded", "report-unfolded", "bool", "false",
           "Emit a remark on every un.affine left, saying why it was not "
           "folded">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::tensor::TensorDialect",
                           "::mlir::un::UNDialect"];
}

#endif // UN_DIALECT_UN_TRANSFORMS_PASSES_TD
