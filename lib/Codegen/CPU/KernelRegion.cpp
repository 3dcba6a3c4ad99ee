//===- KernelRegion.cpp - The code of one kernel, before outlining --------===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "KernelRegion.h"

#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;

void un::beginKernelRegion(OpBuilder &b, Location loc, StringRef kind) {
  auto region = scf::ExecuteRegionOp::create(b, loc, TypeRange{});
  region->setAttr(kKernelAttrName, b.getStringAttr(kind));
  Block *body = b.createBlock(&region.getRegion());
  b.setInsertionPointToStart(body);
  auto yield = scf::YieldOp::create(b, loc);
  b.setInsertionPoint(yield);
}
