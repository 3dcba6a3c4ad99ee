//===- VectorBody.h - linalg bodies evaluated on vectors --------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The scalar body of an elementwise linalg.generic computed for `lanes`
// iterations at once: each arith / math op re-created on vectors. Used by
// the matmul epilogue and by the vectorization of the remaining generics.
//
//===----------------------------------------------------------------------===//

#ifndef UN_LIB_CODEGEN_CPU_VECTORBODY_H
#define UN_LIB_CODEGEN_CPU_VECTORBODY_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"

namespace mlir {
namespace un {

/// Whether every op of `body` (a linalg region) can run lane by lane on
/// vectors: elementwise arith and math ops on scalars, constants.
bool isVectorizableBody(Block &body);

/// Emits the ops of `body` but its terminator on vectors of `lanes`. `map`
/// gives the vector value of each block argument that is used; values from
/// outside the body become splats. Returns the vector values of the
/// terminator's operands.
SmallVector<Value> emitVectorBody(OpBuilder &b, Location loc, Block &body,
                                  int64_t lanes, IRMapping &map);

} // namespace un
} // namespace mlir

#endif // UN_LIB_CODEGEN_CPU_VECTORBODY_H
