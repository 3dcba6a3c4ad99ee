//===- ConvertUNToMPIPass.cpp - The convert-un-to-mpi pass ------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// un.sum_across_ranks on buffers -> mpi.allreduce over MPI_COMM_WORLD, in a
// module marked for the MPICH ABI.
//
//===----------------------------------------------------------------------===//

#include "un/Conversion/Passes.h"
#include "un/Conversion/RuntimeChecks.h"
#include "un/Dialect/UN/IR/UNOps.h"

#include "mlir/Dialect/DLTI/DLTI.h"
#include "mlir/Dialect/MPI/IR/MPI.h"
#include "mlir/IR/BuiltinOps.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_CONVERTUNTOMPI
#include "un/Conversion/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;
using namespace mlir::un;

static constexpr StringLiteral kImplementationKey = "MPI:Implementation";
static constexpr StringLiteral kMPICH = "MPICH";

/// Marks `module` for the MPICH ABI, keeping its other DLTI entries; fails
/// if it asks for another implementation.
static LogicalResult markForMPICH(ModuleOp module) {
  MLIRContext *ctx = module.getContext();
  auto key = StringAttr::get(ctx, kImplementationKey);
  SmallVector<DataLayoutEntryInterface> entries;
  Attribute existing = module->getAttr(DLTIDialect::kMapAttrName);
  if (existing) {
    auto map = dyn_cast<MapAttr>(existing);
    if (!map)
      return module.emitError("'")
             << DLTIDialect::kMapAttrName << "' must be a #dlti.map";
    for (DataLayoutEntryInterface entry : map.getEntries()) {
      auto entryKey = dyn_cast<StringAttr>(entry.getKey());
      if (entryKey != key) {
        entries.push_back(entry);
        continue;
      }
      auto value = dyn_cast<StringAttr>(entry.getValue());
      if (!value || value.getValue() != kMPICH)
        return module.emitError("statistics across processes need MPICH "
                                "('")
               << kImplementationKey << "' = \"" << kMPICH << "\"), got "
               << entry.getValue();
      return success();
    }
  }
  entries.push_back(
      DataLayoutEntryAttr::get(key, StringAttr::get(ctx, kMPICH)));
  module->setAttr(DLTIDialect::kMapAttrName, MapAttr::get(ctx, entries));
  return success();
}

namespace {
struct ConvertUNToMPIPass : un::impl::ConvertUNToMPIBase<ConvertUNToMPIPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    FailureOr<SmallVector<SumAcrossRanksOp>> sums =
        sumsAcrossRanksOnBuffers(module, getArgument());
    if (failed(sums))
      return signalPassFailure();
    if (sums->empty())
      return;
    if (failed(markForMPICH(module)))
      return signalPassFailure();
    for (SumAcrossRanksOp op : *sums) {
      OpBuilder b(op);
      insertSumAcrossRanksCheck(b, op.getLoc(), op.getInput(), op.getInit());
      Value comm = mpi::CommWorldOp::create(b, op.getLoc(),
                                            mpi::CommType::get(&getContext()));
      mpi::AllReduceOp::create(b, op.getLoc(), TypeRange{}, op.getInput(),
                               op.getInit(), mpi::MPI_ReductionOpEnum::MPI_SUM,
                               comm);
      op.erase();
    }
  }
};
} // namespace
