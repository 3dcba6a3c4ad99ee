//===- KernelBuilder.cpp - What the CPU code generators share -------------===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "KernelBuilder.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include <string>

using namespace mlir;

void un::beginKernelRegion(OpBuilder &b, Location loc, StringRef kind) {
  auto region = scf::ExecuteRegionOp::create(b, loc, TypeRange{});
  region->setAttr(kKernelAttrName, b.getStringAttr(kind));
  Block *body = b.createBlock(&region.getRegion());
  b.setInsertionPointToStart(body);
  auto yield = scf::YieldOp::create(b, loc);
  b.setInsertionPoint(yield);
}

Value un::beginLoop(OpBuilder &b, Location loc, Value lb, Value ub, Value step,
                    bool parallel) {
  if (parallel) {
    auto loop = scf::ParallelOp::create(b, loc, ValueRange{lb}, ValueRange{ub},
                                        ValueRange{step});
    b.setInsertionPointToStart(loop.getBody());
    return loop.getInductionVars()[0];
  }
  auto loop = scf::ForOp::create(b, loc, lb, ub, step);
  b.setInsertionPointToStart(loop.getBody());
  return loop.getInductionVar();
}

void un::requireVectorWidth(Operation *op, int64_t bits) {
  if (bits <= 256)
    return;
  auto fn = op->getParentOfType<FunctionOpInterface>();
  if (!fn)
    return;
  MLIRContext *ctx = fn->getContext();
  auto entry =
      ArrayAttr::get(ctx, {StringAttr::get(ctx, "min-legal-vector-width"),
                           StringAttr::get(ctx, std::to_string(bits))});
  SmallVector<Attribute> entries;
  if (auto existing = fn->getAttrOfType<ArrayAttr>("passthrough"))
    entries.append(existing.begin(), existing.end());
  if (llvm::is_contained(entries, entry))
    return;
  entries.push_back(entry);
  fn->setAttr("passthrough", ArrayAttr::get(ctx, entries));
}

Value un::rootBuffer(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}
