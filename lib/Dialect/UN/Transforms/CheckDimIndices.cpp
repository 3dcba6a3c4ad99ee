//===- CheckDimIndices.cpp - Reject dims queried out of range -------------===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Dialect/UN/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNCHECKDIMINDICES
#include "un/Dialect/UN/Transforms/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

/// An error on `op` if `index` is a constant outside [0, rank of `source`).
static LogicalResult checkIndex(Operation *op, Value source, Value index) {
  auto type = dyn_cast<ShapedType>(source.getType());
  APInt value;
  if (!type || !type.hasRank() || !matchPattern(index, m_ConstantInt(&value)))
    return success();
  int64_t i = value.getSExtValue();
  if (i >= 0 && i < type.getRank())
    return success();
  return op->emitOpError() << "queries dim " << i << " of a rank-"
                           << type.getRank() << " value";
}

namespace {
struct UNCheckDimIndicesPass
    : un::impl::UNCheckDimIndicesBase<UNCheckDimIndicesPass> {
  void runOnOperation() override {
    WalkResult result = getOperation()->walk([](Operation *op) {
      LogicalResult ok = success();
      if (auto dim = dyn_cast<tensor::DimOp>(op))
        ok = checkIndex(op, dim.getSource(), dim.getIndex());
      else if (auto dim = dyn_cast<memref::DimOp>(op))
        ok = checkIndex(op, dim.getSource(), dim.getIndex());
      return failed(ok) ? WalkResult::interrupt() : WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
