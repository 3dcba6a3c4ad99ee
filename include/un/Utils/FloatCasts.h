//===- FloatCasts.h - Scalar casts to and from f32 ---------------*- C++
//-*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// UN computes its statistics in f32 whatever the element type of the
// activations: the lowering, the fold and the raising passes widen scalars
// to f32 and narrow results back with these two helpers.
//
//===----------------------------------------------------------------------===//

#ifndef UN_UTILS_FLOATCASTS_H
#define UN_UTILS_FLOATCASTS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"

namespace mlir {
namespace un {

/// `type` (a scalar or a vector type) with element type `elementType`.
inline Type withElementType(Type type, Type elementType) {
  if (auto vector = dyn_cast<VectorType>(type))
    return vector.clone(elementType);
  return elementType;
}

/// Extends a float scalar or vector to f32 (no-op for f32).
inline Value toF32(OpBuilder &b, Location loc, Value v) {
  if (getElementTypeOrSelf(v.getType()).isF32())
    return v;
  return arith::ExtFOp::create(b, loc,
                               withElementType(v.getType(), b.getF32Type()), v);
}

/// Truncates an f32 scalar or vector to element type `elementType` (no-op
/// for f32).
inline Value fromF32(OpBuilder &b, Location loc, Value v, Type elementType) {
  if (elementType.isF32())
    return v;
  return arith::TruncFOp::create(b, loc,
                                 withElementType(v.getType(), elementType), v);
}

} // namespace un
} // namespace mlir

#endif // UN_UTILS_FLOATCASTS_H
