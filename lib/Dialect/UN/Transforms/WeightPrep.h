//===- WeightPrep.h - Builders of folded weights and biases -----*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The O(C*D) weight work that folding a per-channel affine map into a
// linear layer needs: scaling a weight along one dim, contracting it with a
// [C] vector, and the small [C] / [D] vector maps. Each builder folds to an
// `arith.constant` computed at compile time when its inputs are constants
// and otherwise builds a `linalg.generic` marked as weight preparation
// (`un.weight_prep`), so that `hoist-weight-prep` can move it out of the
// hot function. Arithmetic is f32; results are stored in the element type
// of the tensor they replace.
//
//===----------------------------------------------------------------------===//

#ifndef UN_LIB_DIALECT_UN_TRANSFORMS_WEIGHTPREP_H
#define UN_LIB_DIALECT_UN_TRANSFORMS_WEIGHTPREP_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

#include <optional>

namespace mlir {
namespace un {
namespace fold {

/// Name of the unit attribute that marks weight-preparation ops created by
/// un-fold-into-linear. The pass removes it before it returns.
constexpr StringLiteral kWeightPrepAttrName = "un.weight_prep";

/// Marks `op` as weight preparation.
void markWeightPrep(Operation *op);

/// True if `op` carries the weight-preparation mark.
bool isWeightPrep(Operation *op);

/// True for the element types folded weights may have (f32, f16, bf16).
bool isFoldableFloatType(Type type);

/// The elements of a constant float tensor, row-major, as doubles: a dense
/// or dense_resource `arith.constant`, possibly through tensor.cast,
/// collapse_shape, expand_shape and linalg.transpose; nullopt otherwise.
std::optional<SmallVector<double>> getConstantValues(Value value);

/// `arith.constant` of `type` holding `values` rounded to its element type.
Value createConstant(OpBuilder &b, Location loc, RankedTensorType type,
                     ArrayRef<double> values);

/// a = gamma / sqrt(running_var + eps) as an f32 [C] tensor.
Value buildInferScale(OpBuilder &b, Location loc, Value gamma, Value runningVar,
                      float eps);

/// w'[i0, .., iR-1] = w[i0, .., iR-1] * scale[i_dim], of w's type.
Value buildScaleAlongDim(OpBuilder &b, Location loc, Value w, int64_t dim,
                         Value scale);

/// t[j...] = sum_i vec[i] * w[.., i (at `dim`), ..], f32, whose dims are
/// the dims of `w` other than `dim`, in order.
Value buildContractAlongDim(OpBuilder &b, Location loc, Value w, int64_t dim,
                            Value vec);

/// c + t, of c's type (t is f32 of c's shape).
Value buildAdd(OpBuilder &b, Location loc, Value c, Value t);

/// a * c + beta for [C] vectors, of c's type.
Value buildChannelAffine(OpBuilder &b, Location loc, Value c, Value a,
                         Value beta);

/// a * v + beta for a scalar v, as an f32 [C] tensor.
Value buildChannelAffineOfScalar(OpBuilder &b, Location loc, Value v, Value a,
                                 Value beta);

/// A tensor of `like`'s type whose element at index i is
/// v + vec[i_dims[0], i_dims[1], ...] (v a scalar or null for 0, vec f32).
/// This is activation-sized work and is not marked as weight preparation:
/// it replaces the `linalg.fill` that initialized a contraction.
Value buildBroadcastInit(OpBuilder &b, Location loc, Value like, Value v,
                         Value vec, ArrayRef<int64_t> dims);

} // namespace fold
} // namespace un
} // namespace mlir

#endif // UN_LIB_DIALECT_UN_TRANSFORMS_WEIGHTPREP_H
