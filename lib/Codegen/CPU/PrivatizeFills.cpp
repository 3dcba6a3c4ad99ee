//===- PrivatizeFills.cpp - One linalg.fill per op that writes into it ----===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/DestinationStyleOpInterface.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNCPUPRIVATIZEFILLS
#include "un/Codegen/CPU/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

namespace {
struct UNCPUPrivatizeFillsPass
    : un::impl::UNCPUPrivatizeFillsBase<UNCPUPrivatizeFillsPass> {
  void runOnOperation() override {
    SmallVector<linalg::FillOp> fills;
    getOperation()->walk([&](linalg::FillOp fill) {
      if (fill.hasPureTensorSemantics() && !fill->hasOneUse())
        fills.push_back(fill);
    });
    OpBuilder b(&getContext());
    for (linalg::FillOp fill : fills) {
      // The ops that write into the fill's result, in block order; the
      // first keeps the fill.
      SmallVector<OpOperand *> inits;
      for (OpOperand &use : fill->getResult(0).getUses()) {
        auto dps = dyn_cast<DestinationStyleOpInterface>(use.getOwner());
        if (dps && dps.isDpsInit(&use) &&
            use.getOwner()->getBlock() == fill->getBlock())
          inits.push_back(&use);
      }
      llvm::sort(inits, [](OpOperand *x, OpOperand *y) {
        return x->getOwner()->isBeforeInBlock(y->getOwner());
      });
      bool keepOriginal = inits.size() == fill->getResult(0).getNumUses();
      // A fill of a tensor.empty gets its own empty too: one-shot
      // bufferization then sees unrelated tensors, not many writers of one.
      auto empty = fill.getDpsInits()[0].getDefiningOp<tensor::EmptyOp>();
      for (OpOperand *init : llvm::drop_begin(inits, keepOriginal ? 1 : 0)) {
        b.setInsertionPoint(init->getOwner());
        IRMapping mapping;
        if (empty)
          mapping.map(empty.getResult(), b.clone(*empty)->getResult(0));
        init->set(b.clone(*fill, mapping)->getResult(0));
      }
    }
  }
};
} // namespace
