//===- ConvertUNToLinalgPass.cpp - The convert-un-to-linalg pass -*- C++ -*-=//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Conversion/RuntimeChecks.h"

#include "un/Conversion/Passes.h"
#include "un/Conversion/UNToLinalg/UNToLinalg.h"
#include "un/Dialect/UN/IR/UNOps.h"

#include "mlir/Transforms/DialectConversion.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_CONVERTUNTOLINALG
#include "un/Conversion/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;
using namespace mlir::un;

void un::populateUNToLinalgConversionPatterns(RewritePatternSet &patterns) {
  populateUNTokenReductionPatterns(patterns);
  populateUNElementwisePatterns(patterns);
  populateUNStatisticsUpdatePatterns(patterns);
}

namespace {
struct ConvertUNToLinalgPass
    : un::impl::ConvertUNToLinalgBase<ConvertUNToLinalgPass> {
  void runOnOperation() override {
    // Composite ops have no direct lowering: say so rather than failing to
    // legalize them.
    WalkResult composites = getOperation()->walk([](Operation *op) {
      if (!isa<TrainForwardOp, TrainBackwardOp, InferOp>(op))
        return WalkResult::advance();
      op->emitOpError("is a composite op: run -un-decompose before "
                      "-convert-un-to-linalg");
      return WalkResult::interrupt();
    });
    if (composites.wasInterrupted())
      return signalPassFailure();

    // Dims that only run time knows, checked before they are used.
    getOperation()->walk([](Operation *op) {
      if (isa<UNDialect>(op->getDialect()))
        insertShapeChecks(op);
    });

    MLIRContext *ctx = &getContext();
    ConversionTarget target(*ctx);
    target.addIllegalDialect<UNDialect>();
    // The all-reduce of `all_ranks` statistics: lowered on buffers, for the
    // target's communication library (convert-un-to-mpi).
    target.addLegalOp<SumAcrossRanksOp>();
    target.markUnknownOpDynamicallyLegal([](Operation *) { return true; });
    RewritePatternSet patterns(ctx);
    populateUNToLinalgConversionPatterns(patterns);
    if (failed(applyPartialConversion(getOperation(), target,
                                      std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
