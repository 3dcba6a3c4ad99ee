//===- UNOps.td - UN dialect operations --------------------*- tablegen -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_DIALECT_UN_IR_UNOPS_TD
#define UN_DIALECT_UN_IR_UNOPS_TD

include "un/Dialect/UN/IR/UNBase.td"
include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.td"
include "mlir/Interfaces/SideEffectInterfaces.td"

// The traits of an op whose statistics may be taken over the tokens of
// every process (`all_ranks`): pure without it; with it the op is a
// collective, which writes the communicator (un::CommunicatorResource), so
// it is never removed, duplicated, reordered or speculated.
defvar UN_MaybeCollective = [
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<ConditionallySpeculatable>];

//===----------------------------------------------------------------------===//
// Composite ops
//===----------------------------------------------------------------------===//

def UN_TrainForwardOp : UN_Op<"train_forward", !listconcat(UN_MaybeCollective, [
    AllTypesMatch<["x", "y", "z"]>,
    AllElementTypesMatch<["x", "gamma", "beta"]>,
    AllTypesMatch<["running_var", "running_var_new"]>,
    AllTypesMatch<["win_x2", "win_x2_new"]>])> {
  let summary = "one UN training forward step (statistics, smoothing, "
                "filtration, normalization)";
  let description = [{
    Runs step `t` (already incremented, `t >= 1`) of the UN training
    forward on `x : [..., C]`. State comes in as operands and leaves as
    results. With `T'` the number of unpadded tokens and `Mf` the window
    length (`win_x2 : [Mf, C]`):

    1. `psi[c] = (1/T') * sum_{unpadded tok} x[tok, c]^2`
    2. `s2 = unbiased variance of all Mf*C entries of sqrt(win_x2)`
       (before the update; NaN when `Mf*C = 1`)
    3. `win_x2[t mod Mf] = psi`
    4. `skip = (Mf <= 1)`
    5. if `outlier_filtration` and `t >= warmup_iters`: with `am[c]`/`gm[c]`
       the arithmetic/geometric means of column `c` of the window, if any
       `am[c] - gm[c] > s2 * Mf` then `win_x2[t mod Mf] = running_var`,
       `skip = true`, `skips += 1`
    6. `var = psi` if `t <= Mf` or `t < warmup_iters` or `skip`, else the
       column-wise geometric mean `exp(mean(log(win_x2)))`
    7. `r = sqrt(var + eps) / sqrt(running_var + eps)`, pinned to 1 if
       `t <= max(r_warmup, warmup_iters)` or `skip`, else clamped to
       `[1/r_max, r_max]`
    8. `z = x / sqrt(var + eps)` (all tokens)
    9. `running_var_new = momentum * running_var + (1 - momentum) * var`
    10. `y = gamma * z + beta`

    `mask` (optional, shape of `x` without its channel dim) marks padding
    with `true`; padded tokens are left out of `psi` only. Statistics are
    f32 whatever the element type of `x`.

    With `all_ranks`, `x` is one process's share of the batch and `psi` is
    taken over the unpadded tokens of every process (`un.quadratic_mean`'s
    `all_ranks`); all else is per process, on state that every process
    holds identically. The op is then a collective: every process must run
    it.

    Example:

    ```mlir
    %y, %z, %var, %r, %skip, %rv1, %win1, %skips1 =
      un.train_forward %x, %gamma, %beta, %rv, %win, %t, %skips
        {outlier_filtration = true, warmup_iters = 4000 : i64}
        : (tensor<8x197x384xf32>, tensor<384xf32>, tensor<384xf32>,
           tensor<384xf32>, tensor<4x384xf32>, i64, i64)
       -> (tensor<8x197x384xf32>, tensor<8x197x384xf32>, tensor<384xf32>,
           tensor<384xf32>, i1, tensor<384xf32>, tensor<4x384xf32>, i64)
    ```
  }];
  let arguments = (ins UN_ActivationTensor:$x, UN_ChannelTensor:$gamma,
      UN_ChannelTensor:$beta, UN_StatTensor:$running_var,
      UN_WindowTensor:$win_x2, I64:$t, I64:$skips,
      Optional<UN_MaskTensor>:$mask, UN_EpsAttr:$eps,
      UN_MomentumAttr:$momentum, UN_WarmupItersAttr:$warmup_iters,
      UN_OutlierFiltrationAttr:$outlier_filtration, UN_RMaxAttr:$r_max,
      UN_RWarmupAttr:$r_warmup, UnitAttr:$all_ranks);
  let results = (outs UN_ActivationTensor:$y, UN_ActivationTensor:$z,
      UN_StatTensor:$var, UN_StatTensor:$r, I1:$skip,
      UN_StatTensor:$running_var_new, UN_WindowTensor:$win_x2_new,
      I64:$skips_new);
  let assemblyFormat = [{
    $x `,` $gamma `,` $beta `,` $running_var `,` $win_x2 `,` $t `,` $skips
    (`mask` $mask^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def UN_TrainBackwardOp : UN_Op<"train_backward", !listconcat(UN_MaybeCollective, [
    AllTypesMatch<["gy", "z", "gx"]>,
    AllElementTypesMatch<["gy", "gamma", "ggamma", "gbeta"]>,
    AllTypesMatch<["ema_gz", "ema_gz_new"]>,
    AllTypesMatch<["win_gz", "win_gz_new"]>])> {
  let summary = "one UN training backward step (gradient smoothing)";
  let description = [{
    The backward of step `t` given the upstream gradient `gy` and what the
    forward saved (`z`, `var`, `r`, `skip`). With `T` the number of tokens
    (padded ones included) and `Mb` the gradient window length
    (`win_gz : [Mb, C]`):

    1. `g = gy * gamma * r`
    2. `gz[c] = (1/T) * sum_{all tok} g[tok, c] * z[tok, c]`
    3. `win_gz[t mod Mb] = skip ? ema_gz : gz`
    4. `mu = gz` if `t <= Mb` or `t < warmup_iters` or `skip`, else the
       column mean of `win_gz`
    5. `ema_gz_new = momentum * ema_gz + (1 - momentum) * mu`
    6. `h = skip ? g - mu * z : g - ema_gz_new * z`
    7. `gx = h / sqrt(var + eps)`
    8. `ggamma[c] = sum gy * r * z`, `gbeta[c] = sum gy`

    With `all_ranks`, `gz` is taken over the tokens of every process
    (`un.grad_stats`'s `all_ranks`); `ggamma` and `gbeta` stay this
    process's sums (a data-parallel optimizer reduces them with the other
    parameter gradients).

    Example:

    ```mlir
    %gx, %ggamma, %gbeta, %ema1, %wgz1 =
      un.train_backward %gy, %z, %var, %r, %skip, %gamma, %ema, %wgz, %t
        : (tensor<?x384xf32>, tensor<?x384xf32>, tensor<384xf32>,
           tensor<384xf32>, i1, tensor<384xf32>, tensor<384xf32>,
           tensor<4x384xf32>, i64)
       -> (tensor<?x384xf32>, tensor<384xf32>, tensor<384xf32>,
           tensor<384xf32>, tensor<4x384xf32>)
    ```
  }];
  let arguments = (ins UN_ActivationTensor:$gy, UN_ActivationTensor:$z,
      UN_StatTensor:$var, UN_StatTensor:$r, I1:$skip,
      UN_ChannelTensor:$gamma, UN_StatTensor:$ema_gz, UN_WindowTensor:$win_gz,
      I64:$t, UN_EpsAttr:$eps, UN_MomentumAttr:$momentum,
      UN_WarmupItersAttr:$warmup_iters, UnitAttr:$all_ranks);
  let results = (outs UN_ActivationTensor:$gx, UN_ChannelTensor:$ggamma,
      UN_ChannelTensor:$gbeta, UN_StatTensor:$ema_gz_new,
      UN_WindowTensor:$win_gz_new);
  let assemblyFormat = [{
    $gy `,` $z `,` $var `,` $r `,` $skip `,` $gamma `,` $ema_gz `,` $win_gz
    `,` $t attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def UN_InferOp : UN_Op<"infer", [Pure,
    AllTypesMatch<["x", "y"]>,
    AllElementTypesMatch<["x", "gamma", "beta"]>]> {
  let summary = "UN inference: normalization with fixed statistics";
  let description = [{
    `y = gamma * x / sqrt(running_var + eps) + beta`: the per-channel affine
    map `y = a * x + beta` with `a = gamma / sqrt(running_var + eps)`. No
    statistic is computed at run time, so it folds into neighbouring
    linear layers.

    Example:

    ```mlir
    %y = un.infer %x, %gamma, %beta, %running_var {eps = 1.0e-05 : f32}
      : (tensor<?x197x384xf16>, tensor<384xf16>, tensor<384xf16>,
         tensor<384xf32>) -> tensor<?x197x384xf16>
    ```
  }];
  let arguments = (ins UN_ActivationTensor:$x, UN_ChannelTensor:$gamma,
      UN_ChannelTensor:$beta, UN_StatTensor:$running_var, UN_EpsAttr:$eps);
  let results = (outs UN_ActivationTensor:$y);
  let assemblyFormat = [{
    $x `,` $gamma `,` $beta `,` $running_var attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

//===----------------------------------------------------------------------===//
// Primitive ops
//===----------------------------------------------------------------------===//

def UN_QuadraticMeanOp : UN_Op<"quadratic_mean", UN_MaybeCollective> {
  let summary = "per-channel mean of squares over unpadded tokens";
  let description = [{
    `psi[c] = (1/T') * sum_{unpadded tok} x[tok, c]^2`, accumulated in f32.
    Without `mask` every token counts (`T' = T`). With every token padded
    `T' = 0` and the result is NaN, as the formula gives.

    With `all_ranks` the sums and `T'` run over the tokens of every process
    of the communicator (`un.sum_across_ranks`): each process passes its own
    tokens and gets the same `psi`.

    ```mlir
    %psi = un.quadratic_mean %x mask %pad
      : (tensor<8x128x768xbf16>, tensor<8x128xi1>) -> tensor<768xf32>
    ```
  }];
  let arguments = (ins UN_ActivationTensor:$x, Optional<UN_MaskTensor>:$mask,
      UnitAttr:$all_ranks);
  let results = (outs UN_StatTensor:$psi);
  let assemblyFormat = [{
    $x (`mask` $mask^)? attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasCanonicalizer = 1;
}

def UN_SmoothForwardStatsOp : UN_Op<"smooth_forward_stats", [Pure,
    AllTypesMatch<["running_var", "running_var_new"]>,
    AllTypesMatch<["win_x2", "win_x2_new"]>]> {
  let summary = "forward smoothing and outlier filtration on [Mf, C] state";
  let description = [{
    Steps 2 to 7 and 9 of the training forward on the small statistics:
    from this step's quadratic mean `psi`, the state (`running_var`,
    `win_x2`, `skips`) and the step number `t`, computes the variance used
    to normalize (`var`), the gradient-compensation ratio `r`, the `skip`
    flag, and the updated state. See `un.train_forward` for the formulas.

    ```mlir
    %var, %r, %skip, %rv1, %win1, %skips1 =
      un.smooth_forward_stats %psi, %rv, %win, %t, %skips
        {outlier_filtration = true}
        : (tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>, i64, i64)
       -> (tensor<384xf32>, tensor<384xf32>, i1, tensor<384xf32>,
           tensor<4x384xf32>, i64)
    ```
  }];
  let arguments = (ins UN_StatTensor:$psi, UN_StatTensor:$running_var,
      UN_WindowTensor:$win_x2, I64:$t, I64:$skips, UN_EpsAttr:$eps,
      UN_MomentumAttr:$momentum, UN_WarmupItersAttr:$warmup_iters,
      UN_OutlierFiltrationAttr:$outlier_filtration, UN_RMaxAttr:$r_max,
      UN_RWarmupAttr:$r_warmup);
  let results = (outs UN_StatTensor:$var, UN_StatTensor:$r, I1:$skip,
      UN_StatTensor:$running_var_new, UN_WindowTensor:$win_x2_new,
      I64:$skips_new);
  let assemblyFormat = [{
    $psi `,` $running_var `,` $win_x2 `,` $t `,` $skips attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def UN_NormalizeOp : UN_Op<"normalize", [Pure,
    AllTypesMatch<["x", "z", "y"]>,
    AllElementTypesMatch<["x", "gamma", "beta"]>]> {
  let summary = "elementwise normalization and scale/shift";
  let description = [{
    `z = x / sqrt(var + eps)` and `y = gamma * z + beta`, per element, with
    `var` broadcast along the tokens. Computed in f32, stored in the
    element type of `x`.

    ```mlir
    %z, %y = un.normalize %x, %var, %gamma, %beta
      : (tensor<?x384xf32>, tensor<384xf32>, tensor<384xf32>,
         tensor<384xf32>) -> (tensor<?x384xf32>, tensor<?x384xf32>)
    ```
  }];
  let arguments = (ins UN_ActivationTensor:$x, UN_StatTensor:$var,
      UN_ChannelTensor:$gamma, UN_ChannelTensor:$beta, UN_EpsAttr:$eps);
  let results = (outs UN_ActivationTensor:$z, UN_ActivationTensor:$y);
  let assemblyFormat = [{
    $x `,` $var `,` $gamma `,` $beta attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def UN_GradStatsOp : UN_Op<"grad_stats", !listconcat(UN_MaybeCollective, [
    AllTypesMatch<["gy", "z"]>,
    AllElementTypesMatch<["gy", "gamma", "ggamma", "gbeta"]>])> {
  let summary = "per-channel gradient statistics of the UN backward";
  let description = [{
    Reductions over ALL tokens (padded ones included), accumulated in f32:

    * `gz[c] = (1/T) * sum gy * gamma[c] * r[c] * z`
    * `ggamma[c] = sum gy * r[c] * z`
    * `gbeta[c] = sum gy`

    With `all_ranks`, `gz`'s sum and `T` run over the tokens of every
    process (`un.sum_across_ranks`); `ggamma` and `gbeta` stay per process.

    ```mlir
    %gz, %ggamma, %gbeta = un.grad_stats %gy, %z, %r, %gamma
      : (tensor<?x384xf32>, tensor<?x384xf32>, tensor<384xf32>,
         tensor<384xf32>) -> (tensor<384xf32>, tensor<384xf32>,
         tensor<384xf32>)
    ```
  }];
  let arguments = (ins UN_ActivationTensor:$gy, UN_ActivationTensor:$z,
      UN_StatTensor:$r, UN_ChannelTensor:$gamma, UnitAttr:$all_ranks);
  let results = (outs UN_StatTensor:$gz, UN_ChannelTensor:$ggamma,
      UN_ChannelTensor:$gbeta);
  let assemblyFormat = [{
    $gy `,` $z `,` $r `,` $gamma attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def UN_SmoothGradStatsOp : UN_Op<"smooth_grad_stats", [Pure,
    AllTypesMatch<["ema_gz", "ema_gz_new"]>,
    AllTypesMatch<["win_gz", "win_gz_new"]>]> {
  let summary = "backward smoothing on [Mb, C] state";
  let description = [{
    Steps 3 to 6 of the training backward on the small statistics:

    * `win_gz_new = win_gz` with row `t mod Mb` set to `skip ? ema_gz : gz`
    * `mu = gz` if `t <= Mb` or `t < warmup_iters` or `skip`, else the
      column mean of `win_gz_new`
    * `ema_gz_new = momentum * ema_gz + (1 - momentum) * mu`
    * `coef = skip ? mu : ema_gz_new`, the per-channel coefficient of `z`
      in `h = g - coef * z`

    ```mlir
    %coef, %ema1, %wgz1 = un.smooth_grad_stats %gz, %skip, %ema, %wgz, %t
      : (tensor<384xf32>, i1, tensor<384xf32>, tensor<4x384xf32>, i64)
     -> (tensor<384xf32>, tensor<384xf32>, tensor<4x384xf32>)
    ```
  }];
  let arguments = (ins UN_StatTensor:$gz, I1:$skip, UN_StatTensor:$ema_gz,
      UN_WindowTensor:$win_gz, I64:$t, UN_MomentumAttr:$momentum,
      UN_WarmupItersAttr:$warmup_iters);
  let results = (outs UN_StatTensor:$coef, UN_StatTensor:$ema_gz_new,
      UN_WindowTensor:$win_gz_new);
  let assemblyFormat = [{
    $gz `,` $skip `,` $ema_gz `,` $win_gz `,` $t attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def UN_InputGradOp : UN_Op<"input_grad", [Pure,
    AllTypesMatch<["gy", "z", "gx"]>,
    AllElementTypesMatch<["gy", "gamma"]>]> {
  let summary = "elementwise input gradient of the UN backward";
  let description = [{
    `gx = (gy * gamma * r - coef * z) / sqrt(var + eps)` per element, with
    the per-channel vectors broadcast along the tokens. Computed in f32,
    stored in the element type of `gy`.

    ```mlir
    %gx = un.input_grad %gy, %z, %var, %r, %gamma, %coef
      : (tensor<?x384xf32>, tensor<?x384xf32>, tensor<384xf32>,
         tensor<384xf32>, tensor<384xf32>, tensor<384xf32>)
     -> tensor<?x384xf32>
    ```
  }];
  let arguments = (ins UN_ActivationTensor:$gy, UN_ActivationTensor:$z,
      UN_StatTensor:$var, UN_StatTensor:$r, UN_ChannelTensor:$gamma,
      UN_StatTensor:$coef, UN_EpsAttr:$eps);
  let results = (outs UN_ActivationTensor:$gx);
  let assemblyFormat = [{
    $gy `,` $z `,` $var `,` $r `,` $gamma `,` $coef attr-dict `:`
    functional-type(operands, results)
  }];
  let hasVerifier = 1;
}

def UN_AffineOp : UN_Op<"affine", [Pure,
    AllTypesMatch<["x", "y"]>]> {
  let summary = "per-channel affine map y = scale * x + shift";
  let description = [{
    `y[..., c] = scale[c] * x[..., c] + shift[c]`, computed in f32 and
    stored in the element type of `x`. `scale` and `shift` are each f32 or
    of the element type of `x`. Inference UN canonicalizes to this op,
    which in turn folds into neighbouring linear layers.

    ```mlir
    %y = un.affine %x, %scale, %shift
      : (tensor<?x768xf16>, tensor<768xf32>, tensor<768xf16>)
     -> tensor<?x768xf16>
    ```
  }];
  let arguments = (ins UN_ActivationTensor:$x, UN_ChannelTensor:$scale,
      UN_ChannelTensor:$shift);
  let results = (outs UN_ActivationTensor:$y);
  let assemblyFormat = [{
    $x `,` $scale `,` $shift attr-dict `:` functional-type(operands, results)
  }];
  let hasVerifier = 1;
  let hasFolder = 1;
}

//===----------------------------------------------------------------------===//
// Communication
//===----------------------------------------------------------------------===//

def UN_F32Vector : AnyTypeOf<[1DTensorOf<[F32]>, MemRefRankOf<[F32], [1]>],
    "1-D tensor or memref of f32">;

def UN_SumAcrossRanksOp : UN_Op<"sum_across_ranks", [
    DeclareOpInterfaceMethods<MemoryEffectsOpInterface>,
    DeclareOpInterfaceMethods<BufferizableOpInterface,
        ["bufferizesToMemoryRead", "bufferizesToMemoryWrite",
         "getAliasingValues", "bufferize"]>]> {
  let summary = "element-wise sum of a vector over every process";
  let description = [{
    `result[i] = sum over the processes p of input_p[i]`: an all-reduce
    over every process of the communicator (on the CPU MPI_COMM_WORLD,
    through MPICH: `convert-un-to-mpi`). Every process must run it, in the
    same order as its other collectives, with vectors of the same size.

    On tensors it returns the sum in a tensor of `init`'s type (`init` is
    only its destination, as in destination-passing style); on buffers,
    what bufferization makes of it, it writes the sum into `init`. Buffers
    have the identity layout. The `all_ranks` statistics lower to it.

    ```mlir
    %sums = un.sum_across_ranks %local into %init
      : tensor<385xf32>, tensor<385xf32> -> tensor<385xf32>
    un.sum_across_ranks %buf into %out : memref<?xf32>, memref<?xf32>
    ```
  }];
  let arguments = (ins UN_F32Vector:$input, UN_F32Vector:$init);
  let results = (outs Optional<1DTensorOf<[F32]>>:$result);
  let assemblyFormat = [{
    $input `into` $init attr-dict `:` type($input) `,` type($init)
    (`->` type($result)^)?
  }];
  let hasVerifier = 1;
}

#endif // UN_DIALECT_UN_IR_UNOPS_TD
