//===- WindowSlot.h - The window row a step writes --------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Step t writes row t mod M of a statistics window of M rows (docs/spec.md),
// the mathematical modulo: in [0, M) for every t, negative ones included
// (arith.remsi would give -M < r < 0 and address a row before the window).
// Shared by the linalg and the GPU lowerings.
//
//===----------------------------------------------------------------------===//

#ifndef UN_CONVERSION_WINDOWSLOT_H
#define UN_CONVERSION_WINDOWSLOT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

namespace mlir {
namespace un {

/// t mod rows in [0, rows), as an index; `t` and `rows` are i64, rows > 0.
inline Value buildWindowSlot(OpBuilder &b, Location loc, Value t, Value rows) {
  Value r = arith::RemSIOp::create(b, loc, t, rows);
  Value shifted = arith::RemSIOp::create(
      b, loc, arith::AddIOp::create(b, loc, r, rows), rows);
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), shifted);
}

} // namespace un
} // namespace mlir

#endif // UN_CONVERSION_WINDOWSLOT_H
