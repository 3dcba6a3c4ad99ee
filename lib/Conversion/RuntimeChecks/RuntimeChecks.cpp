//===- RuntimeChecks.cpp - Checks of what only run time knows ------------===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Conversion/RuntimeChecks.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

/// cf.assert(a's dim `da` == b's dim `db`) when either is dynamic.
static void assertSameDim(OpBuilder &b, Location loc, Value a, int64_t da,
                          Value bv, int64_t db, const Twine &message) {
  auto ta = cast<RankedTensorType>(a.getType());
  auto tb = cast<RankedTensorType>(bv.getType());
  if (!ta.isDynamicDim(da) && !tb.isDynamicDim(db))
    return; // the verifier compared them
  Value x = tensor::DimOp::create(b, loc, a, da);
  Value y = tensor::DimOp::create(b, loc, bv, db);
  Value same = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, y);
  cf::AssertOp::create(b, loc, same, message.str());
}

void un::insertShapeChecks(Operation *op, bool onlyInputs) {
  SmallVector<std::pair<unsigned, Value>> shaped;
  for (auto [i, v] : llvm::enumerate(op->getOperands())) {
    Operation *producer = v.getDefiningOp();
    if (onlyInputs && producer && producer->getDialect() == op->getDialect())
      continue;
    if (auto type = dyn_cast<RankedTensorType>(v.getType());
        type && type.getRank() > 0)
      shaped.push_back({static_cast<unsigned>(i), v});
  }
  if (shaped.empty())
    return;
  OpBuilder b(op);
  Location loc = op->getLoc();
  std::string name = op->getName().getStringRef().str();
  auto [firstIndex, first] = shaped.front();
  auto firstType = cast<RankedTensorType>(first.getType());
  int64_t rank = firstType.getRank();
  for (auto [i, v] : llvm::drop_begin(shaped)) {
    auto type = cast<RankedTensorType>(v.getType());
    std::string what = name + ": operand " + std::to_string(i);
    std::string ref = " of operand " + std::to_string(firstIndex);
    if (type.getElementType().isInteger(1)) {
      // A mask: the dims of the activation without its channels.
      for (int64_t d = 0; d < type.getRank() && d < rank - 1; ++d)
        assertSameDim(b, loc, v, d, first, d,
                      what + " (the mask) differs in dim " + std::to_string(d) +
                          " from the tokens" + ref);
      continue;
    }
    if (type.getRank() == rank) {
      // Another activation (or, for the statistics updates, another [C]).
      for (int64_t d = 0; d < rank; ++d)
        assertSameDim(b, loc, v, d, first, d,
                      what + " differs in dim " + std::to_string(d) + ref);
      continue;
    }
    // A channel vector or a window: its last dim is the channel count.
    assertSameDim(b, loc, v, type.getRank() - 1, first, rank - 1,
                  what + " has another channel count than operand " +
                      std::to_string(firstIndex));
  }
}

void un::insertWindowRowsCheck(OpBuilder &b, Location loc, Value window) {
  Value rows = isa<MemRefType>(window.getType())
                   ? b.createOrFold<memref::DimOp>(loc, window, 0)
                   : b.createOrFold<tensor::DimOp>(loc, window, 0);
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  Value hasRows =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, rows, zero);
  cf::AssertOp::create(b, loc, hasRows,
                       "un: a statistics window has no rows (window_fwd and "
                       "window_bwd must be at least 1)");
}

void un::insertSumAcrossRanksCheck(OpBuilder &b, Location loc, Value input,
                                   Value init) {
  if (cast<MemRefType>(input.getType()).hasStaticShape() &&
      cast<MemRefType>(init.getType()).hasStaticShape())
    return; // the verifier compared them
  Value inputLength = b.createOrFold<memref::DimOp>(loc, input, 0);
  Value initLength = b.createOrFold<memref::DimOp>(loc, init, 0);
  Value same = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                     inputLength, initLength);
  cf::AssertOp::create(b, loc, same,
                       "un.sum_across_ranks: 'input' and 'init' differ in "
                       "length");
}
