//===- HoistWeightPrep.h - Outline folded-weight preparation ----*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// `hoist-weight-prep` of un-fold-into-linear. When folding rewrites weights
// that are function arguments, the O(C*D) work that computes the folded
// weights runs on every call of the function. Hoisting splits function @f
// into three:
//
//  - @f_prepare_weights(<the arguments that weight preparation reads>)
//      -> (<prepared weights>): the weight preparation alone;
//  - @f_folded(<the arguments of @f still used by the rest, in order>,
//              <prepared weights>): the hot path, with no weight work;
//  - @f, same signature and results as before: calls the two above.
//
// A runtime calls @f_prepare_weights once per set of weights and
// @f_folded for every batch; callers that do not care keep calling @f.
//
//===----------------------------------------------------------------------===//

#ifndef UN_LIB_DIALECT_UN_TRANSFORMS_HOISTWEIGHTPREP_H
#define UN_LIB_DIALECT_UN_TRANSFORMS_HOISTWEIGHTPREP_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir {
namespace un {
namespace fold {

/// Suffixes of the functions that hoisting creates.
constexpr StringLiteral kPrepareWeightsSuffix = "_prepare_weights";
constexpr StringLiteral kFoldedSuffix = "_folded";

/// Splits `func` as described above if it has top-level ops marked as
/// weight preparation whose work is not all constant; returns true if it
/// did. New functions are added to `symbols`' module right after `func`.
bool hoistWeightPreparation(func::FuncOp func, SymbolTable &symbols);

} // namespace fold
} // namespace un
} // namespace mlir

#endif // UN_LIB_DIALECT_UN_TRANSFORMS_HOISTWEIGHTPREP_H
