//===- Passes.h - UN dialect transformations --------------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_DIALECT_UN_TRANSFORMS_PASSES_H
#define UN_DIALECT_UN_TRANSFORMS_PASSES_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
class RewritePatternSet;
namespace un {

/// Adds the patterns that rewrite composite un ops into primitives.
void populateUNDecomposePatterns(RewritePatternSet &patterns);

/// Adds the patterns of `un-fold-into-linear`: `un.infer` to `un.affine`,
/// and `un.affine` folded into the weights and biases of the linear layers
/// that compute its input or read its result.
void populateUNFoldIntoLinearPatterns(RewritePatternSet &patterns);

/// Adds elementwise fusion of linalg.generic ops over identical iteration
/// spaces (see `un-fuse-elementwise`).
void populateUNFuseElementwisePatterns(RewritePatternSet &patterns);

#define GEN_PASS_DECL
#include "un/Dialect/UN/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "un/Dialect/UN/Transforms/Passes.h.inc"

} // namespace un
} // namespace mlir

#endif // UN_DIALECT_UN_TRANSFORMS_PASSES_H
