//===- LoweringUtils.h - Shared helpers of the un lowering ------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Builders shared by the un-to-linalg patterns: f32 casts, channel-shaped
// tensors, indexing maps over channels-last activations, and a one-call
// builder for linalg.generic ops.
//
//===----------------------------------------------------------------------===//

#ifndef UN_LIB_CONVERSION_UNTOLINALG_LOWERINGUTILS_H
#define UN_LIB_CONVERSION_UNTOLINALG_LOWERINGUTILS_H

#include "un/Utils/FloatCasts.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir {
namespace un {
namespace lowering {

using un::fromF32;
using un::toF32;

/// An f32 scalar constant.
Value f32Constant(OpBuilder &b, Location loc, float value);

/// The size of dim `dim` of tensor `v`, as an index value.
Value dimSize(OpBuilder &b, Location loc, Value v, int64_t dim);

/// An uninitialized tensor of `shape` (dims taken from `like` where they
/// are dynamic) with element type `elementType`.
Value emptyTensorLike(OpBuilder &b, Location loc, RankedTensorType shape,
                      Value like, Type elementType);

/// An uninitialized [C] tensor of `type`; a dynamic C is taken from the
/// last dim of `activation`.
Value emptyChannelTensor(OpBuilder &b, Location loc, RankedTensorType type,
                         Value activation);

/// The number of tokens of `activation` (the product of all but its last
/// dim), as an f32 value.
Value tokenCountF32(OpBuilder &b, Location loc, Value activation);

/// `tensor` filled with `value`.
Value fill(OpBuilder &b, Location loc, Value value, Value tensor);

/// Indexing maps over an activation of rank `rank` ([..., C]).
struct ActivationMaps {
  AffineMap all;     ///< (d0, ..., dN-1) -> (d0, ..., dN-1)
  AffineMap channel; ///< (d0, ..., dN-1) -> (dN-1)
  AffineMap tokens;  ///< (d0, ..., dN-1) -> (d0, ..., dN-2)
  AffineMap scalar;  ///< (d0, ..., dN-1) -> ()
};
ActivationMaps getActivationMaps(MLIRContext *ctx, int64_t rank);

/// Iterators of a reduction over every token of a rank-`rank` activation.
SmallVector<utils::IteratorType> tokenReductionIterators(int64_t rank);

/// Builds a linalg.generic; `body` receives the block arguments (inputs
/// then outputs) and returns the values to yield.
using GenericBody =
    function_ref<SmallVector<Value>(OpBuilder &, Location, ValueRange)>;
linalg::GenericOp buildGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                               ValueRange outputs, ArrayRef<AffineMap> maps,
                               ArrayRef<utils::IteratorType> iterators,
                               GenericBody body);

/// Elementwise map over the [C] domain: every input is a [C] tensor and
/// every output a fresh [C] tensor of the given element type.
SmallVector<Value> mapChannels(OpBuilder &b, Location loc, ValueRange inputs,
                               ArrayRef<Type> outputElementTypes,
                               GenericBody body);

/// Replaces `op` with `values`, inserting a tensor.cast wherever a value's
/// type is less (or more) static than the op's result type.
void replaceOpWithCasts(RewriterBase &rewriter, Operation *op,
                        ValueRange values);

} // namespace lowering
} // namespace un
} // namespace mlir

#endif // UN_LIB_CONVERSION_UNTOLINALG_LOWERINGUTILS_H
