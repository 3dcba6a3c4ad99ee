//===- RuntimeChecks.h - Checks of what only run time knows ------*- C++
//-*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The verifiers compare static dims only. Where a dim is dynamic in more
// than one operand (a [?, C] activation and a [?] gamma, a [?, ?] mask),
// a shorter operand would be read out of bounds at run time, and a window
// with a dynamic row count of 0 has no row to write. Before an op is
// lowered, the linalg and the GPU lowerings insert these checks as
// cf.assert (host code on the GPU path): the channel count of every
// operand, the full shape of operands of the first operand's rank (gy and
// z), a mask's dims against the tokens, and windows of at least one row. A
// failed check stops the program with the message, before any memory is
// touched.
//
//===----------------------------------------------------------------------===//

#ifndef UN_CONVERSION_RUNTIMECHECKS_H
#define UN_CONVERSION_RUNTIMECHECKS_H

#include "mlir/IR/Builders.h"

namespace mlir {
namespace un {

/// Inserts, before the primitive `un` op `op`, the shape checks described
/// above for the dims that are dynamic. With `onlyInputs`, operands that
/// other `un` ops compute are left out (their shapes follow from checked
/// ones; the GPU lowering may fuse them away).
void insertShapeChecks(Operation *op, bool onlyInputs = false);

/// Asserts at `b`'s insertion point that the statistics window `window`
/// (a tensor or a memref [M, C]) has at least one row.
void insertWindowRowsCheck(OpBuilder &b, Location loc, Value window);

/// Asserts at `b`'s insertion point that the `input` and `init` vectors
/// (memrefs) of an un.sum_across_ranks have the same length, when either is
/// dynamic (a longer input would be written past the end of `init`).
void insertSumAcrossRanksCheck(OpBuilder &b, Location loc, Value input,
                               Value init);

} // namespace un
} // namespace mlir

#endif // UN_CONVERSION_RUNTIMECHECKS_H
