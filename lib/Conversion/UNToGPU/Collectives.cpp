//===- Collectives.cpp - The un-gpu-collectives pass ------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// un.sum_across_ranks on device buffers -> a call of the CUDA runtime's
// NCCL all-reduce (un_cuda_sum_across_ranks_f32 in lib/Runtime/CUDA).
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/GPU/Passes.h"
#include "un/Conversion/Passes.h"
#include "un/Conversion/RuntimeChecks.h"
#include "un/Dialect/UN/IR/UNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/SymbolTable.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNGPUCOLLECTIVES
#include "un/Conversion/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;
using namespace mlir::un;

static constexpr StringLiteral kSumAcrossRanks = "un_cuda_sum_across_ranks_f32";

namespace {
struct UNGPUCollectivesPass
    : un::impl::UNGPUCollectivesBase<UNGPUCollectivesPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<SmallVector<SumAcrossRanksOp>> sums =
        sumsAcrossRanksOnBuffers(module, getArgument());
    if (failed(sums))
      return signalPassFailure();
    if (sums->empty())
      return;

    OpBuilder b(&getContext());
    Type index = b.getIndexType();
    auto type = b.getFunctionType({index, index, index}, {});
    auto callee = module.lookupSymbol<func::FuncOp>(kSumAcrossRanks);
    if (callee && callee.getFunctionType() != type) {
      callee.emitOpError("has the name of the CUDA runtime's all-reduce "
                         "but the type ")
          << callee.getFunctionType() << ", not " << type;
      return signalPassFailure();
    }
    if (!callee) {
      b.setInsertionPointToStart(module.getBody());
      callee = func::FuncOp::create(b, module.getLoc(), kSumAcrossRanks, type);
      callee.setPrivate();
    }
    // NCCL reads and writes the buffers on the device, during the call.
    callee->setAttr(gpukernels::kDevicePointersAttr, b.getUnitAttr());
    for (SumAcrossRanksOp op : *sums) {
      b.setInsertionPoint(op);
      Location loc = op.getLoc();
      Value input =
          memref::ExtractAlignedPointerAsIndexOp::create(b, loc, op.getInput());
      Value output =
          memref::ExtractAlignedPointerAsIndexOp::create(b, loc, op.getInit());
      insertSumAcrossRanksCheck(b, loc, op.getInput(), op.getInit());
      Value count = b.createOrFold<memref::DimOp>(loc, op.getInput(), 0);
      func::CallOp::create(b, loc, callee, ValueRange{input, output, count});
      op.erase();
    }
  }
};
} // namespace
