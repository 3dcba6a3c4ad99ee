//===- UNBase.td - UN dialect definition -------------------*- tablegen -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_DIALECT_UN_IR_UNBASE_TD
#define UN_DIALECT_UN_IR_UNBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def UN_Dialect : Dialect {
  let name = "un";
  let cppNamespace = "::mlir::un";
  let summary = "Unified Normalization (UN) for Transformers";
  let description = [{
    The `un` dialect captures Unified Normalization (Yang et al., ACM MM
    2022): a replacement for LayerNorm whose statistics are fixed at
    inference, so that inference normalization is a per-channel affine map
    that folds into neighbouring linear layers.

    Training state is functional: every op takes the state it reads as
    operands and returns the updated state as results; nothing is hidden
    in the op.

    Two levels of ops:

    * Composite ops that frontends emit: `un.train_forward`,
      `un.train_backward` and `un.infer`.
    * Primitive ops that the composites decompose into, one kernel-sized
      concern each: `un.quadratic_mean`, `un.smooth_forward_stats`,
      `un.normalize`, `un.grad_stats`, `un.smooth_grad_stats`,
      `un.input_grad` and `un.affine`.

    Activations are ranked tensors `[..., C]` (channels last) of f32, f16
    or bf16; every statistic is f32.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

class UN_Op<string mnemonic, list<Trait> traits = []>
    : Op<UN_Dialect, mnemonic, traits>;

// Activations: ranked tensors [..., C] (channels last, rank >= 1) of f32,
// f16 or bf16.
def UN_ActivationTensor : RankedTensorOf<[F32, F16, BF16],
    [HasRankGreaterOrEqualPred<1>], "ranked tensor [..., C] of rank >= 1">;
// Per-channel vectors [C] of activation element type (gamma, beta, ...).
def UN_ChannelTensor : 1DTensorOf<[F32, F16, BF16]>;
// Per-channel f32 statistics [C].
def UN_StatTensor : 1DTensorOf<[F32]>;
// Windows of per-channel f32 statistics [M, C].
def UN_WindowTensor : 2DTensorOf<[F32]>;
// Padding masks: one i1 per token, true = padding.
def UN_MaskTensor : RankedTensorOf<[I1]>;

// Hyper-parameters, with the spec's defaults.
def UN_EpsAttr : DefaultValuedAttr<F32Attr, "1.0e-5">;
def UN_MomentumAttr : DefaultValuedAttr<F32Attr, "0.9">;
def UN_WarmupItersAttr : DefaultValuedAttr<I64Attr, "4000">;
def UN_OutlierFiltrationAttr : DefaultValuedAttr<BoolAttr, "false">;
def UN_RMaxAttr : DefaultValuedAttr<F32Attr, "5.0">;
def UN_RWarmupAttr : DefaultValuedAttr<I64Attr, "1000">;

#endif // UN_DIALECT_UN_IR_UNBASE_TD
