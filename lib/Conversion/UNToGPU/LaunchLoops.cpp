//===- LaunchLoops.cpp - Host parallel loops as GPU kernels -----*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// un-gpu-launch-loops: every outermost scf.parallel on the host becomes a
// gpu.launch with one iteration per thread, 256 threads a block, the
// iterations numbered row-major. Unlike tiling the loop and mapping its
// dims to the grid, it maps any trip counts (not multiples of a tile, a
// unit batch dim, three or more dims) to full blocks.
//
//===----------------------------------------------------------------------===//

#include "un/Conversion/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNGPULAUNCHLOOPS
#include "un/Conversion/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

static constexpr int64_t kThreadsPerBlock = 256;

/// Replaces `loop` with a launch of one thread per iteration.
static void launchLoop(scf::ParallelOp loop) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  auto cst = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  Value zero = cst(0), one = cst(1), threads = cst(kThreadsPerBlock);
  SmallVector<Value> counts;
  Value total = one;
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    Value span = b.createOrFold<arith::SubIOp>(loc, ub, lb);
    Value count = b.createOrFold<arith::CeilDivSIOp>(loc, span, step);
    count = b.createOrFold<arith::MaxSIOp>(loc, count, zero);
    counts.push_back(count);
    total = b.createOrFold<arith::MulIOp>(loc, total, count);
  }
  Value blocks = b.createOrFold<arith::CeilDivSIOp>(loc, total, threads);
  std::optional<int64_t> known = getConstantIntValue(total);
  if (known && *known <= 0) { // no iteration: nothing to launch
    loop.erase();
    return;
  }
  if (!known) { // a launch of no block is an error: skip it at run time
    Value any =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt, total, zero);
    auto guard = scf::IfOp::create(b, loc, any, /*withElseRegion=*/false);
    b.setInsertionPointToStart(&guard.getThenRegion().front());
  }
  auto launch =
      gpu::LaunchOp::create(b, loc, blocks, one, one, threads, one, one);

  b.setInsertionPointToStart(&launch.getBody().front());
  Value index = arith::AddIOp::create(
      b, loc,
      b.createOrFold<arith::MulIOp>(loc, launch.getBlockIds().x, threads),
      launch.getThreadIds().x);
  Value inside =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, index, total);
  auto inBounds = scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
  gpu::TerminatorOp::create(b, loc);

  // Row-major: the innermost dim varies fastest.
  b.setInsertionPointToStart(&inBounds.getThenRegion().front());
  IRMapping mapping;
  Value rest = index;
  for (int64_t d = static_cast<int64_t>(counts.size()) - 1; d >= 0; --d) {
    Value idx =
        d == 0 ? rest : b.createOrFold<arith::RemUIOp>(loc, rest, counts[d]);
    if (d > 0)
      rest = b.createOrFold<arith::DivUIOp>(loc, rest, counts[d]);
    Value iv = arith::AddIOp::create(
        b, loc, loop.getLowerBound()[d],
        b.createOrFold<arith::MulIOp>(loc, idx, loop.getStep()[d]));
    mapping.map(loop.getInductionVars()[d], iv);
  }
  for (Operation &op : loop.getBody()->without_terminator())
    b.clone(op, mapping);
  loop.erase();
}

namespace {
struct UNGPULaunchLoopsPass
    : un::impl::UNGPULaunchLoopsBase<UNGPULaunchLoopsPass> {
  void runOnOperation() override {
    SmallVector<scf::ParallelOp> loops;
    getOperation().walk([&](scf::ParallelOp loop) {
      if (loop->getParentOfType<gpu::LaunchOp>() ||
          loop->getParentOfType<scf::ParallelOp>() ||
          loop.getNumReductions() != 0)
        return;
      loops.push_back(loop);
    });
    for (scf::ParallelOp loop : loops)
      launchLoop(loop);
  }
};
} // namespace
