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
// An iteration that is one sequential reduction into a 32-bit scalar
// (`for k { acc[i] = combine(acc[i], f(k)) }`, what linalg reductions such
// as a softmax's row max and sum become) is given a warp instead of a
// thread: its 32 lanes reduce every 32nd k (consecutive lanes on
// consecutive elements: coalesced), combine their partials with xor
// shuffles, and lane 0 folds the total into acc[i]. Sums are reassociated.
// A fill of acc right before (a parallel loop storing one value) is folded
// into that kernel instead of being a launch of its own.
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNGPULAUNCHLOOPS
#include "un/Codegen/GPU/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

static constexpr int64_t kThreadsPerBlock = 256;
static constexpr int64_t kWarpSize = 32;

namespace {
/// An iteration of a parallel loop that is pure index math, then
/// `for k { ...pure...; acc[idx] = combine(acc[idx], element) }`.
struct RowReduction {
  scf::ForOp loop;
  memref::LoadOp accLoad;
  memref::StoreOp accStore;
  Operation *combine = nullptr;
  Value element;
  TypedAttr neutral;
  /// The loop right before that fills the accumulator with `fillValue`
  /// (then the kernel starts from the value and the fill goes away).
  scf::ParallelOp fill;
  Value fillValue;
};

/// The launch of a parallel loop's iterations: their counts and total.
struct IterationSpace {
  SmallVector<Value> counts;
  Value total;
};
} // namespace

static bool isPureLeaf(Operation &op) {
  return op.getNumRegions() == 0 && isPure(&op);
}

/// True if `indices` are the induction variables of `loop`, in order.
static bool areInductionVars(ValueRange indices, scf::ParallelOp loop) {
  return llvm::equal(indices, loop.getInductionVars());
}

/// Sets `r.fill` when the op before `loop` (pure ops aside) is a parallel
/// loop over the same iterations that only stores one value defined before
/// it into the accumulator, at the same element (a linalg.fill of it), and
/// the reduction writes element [ivs] of each iteration.
static void matchFill(scf::ParallelOp loop, RowReduction &r) {
  if (!areInductionVars(r.accStore.getIndices(), loop))
    return;
  Operation *prev = loop->getPrevNode();
  while (prev && isPureLeaf(*prev))
    prev = prev->getPrevNode();
  auto fill = dyn_cast_or_null<scf::ParallelOp>(prev);
  if (!fill || fill.getNumReductions() != 0 ||
      fill.getLowerBound() != loop.getLowerBound() ||
      fill.getUpperBound() != loop.getUpperBound() ||
      fill.getStep() != loop.getStep())
    return;
  Block *body = fill.getBody();
  auto store = dyn_cast<memref::StoreOp>(body->front());
  if (!store || &body->front() != body->getTerminator()->getPrevNode() ||
      store.getMemRef() != r.accStore.getMemRef() ||
      !areInductionVars(store.getIndices(), fill) ||
      !fill.isDefinedOutsideOfLoop(store.getValue()))
    return;
  r.fill = fill;
  r.fillValue = store.getValue();
}

static std::optional<RowReduction> matchRowReduction(scf::ParallelOp loop) {
  RowReduction r;
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (auto inner = dyn_cast<scf::ForOp>(op); inner && !r.loop) {
      r.loop = inner;
      continue;
    }
    if (r.loop || !isPureLeaf(op)) // nothing after the reduction loop
      return std::nullopt;
  }
  if (!r.loop || r.loop.getNumResults() != 0)
    return std::nullopt;
  for (Operation &op : r.loop.getBody()->without_terminator()) {
    if (auto store = dyn_cast<memref::StoreOp>(op)) {
      if (r.accStore)
        return std::nullopt;
      r.accStore = store;
    } else if (!isa<memref::LoadOp>(op) && !isPureLeaf(op)) {
      return std::nullopt;
    }
  }
  if (!r.accStore || !r.loop.isDefinedOutsideOfLoop(r.accStore.getMemRef()) ||
      !llvm::all_of(r.accStore.getIndices(),
                    [&](Value v) { return r.loop.isDefinedOutsideOfLoop(v); }))
    return std::nullopt;
  r.combine = r.accStore.getValue().getDefiningOp();
  if (!r.combine || r.combine->getBlock() != r.loop.getBody() ||
      r.combine->getNumOperands() != 2 || r.combine->getNumResults() != 1)
    return std::nullopt;
  std::optional<TypedAttr> neutral = arith::getNeutralElement(r.combine);
  if (!neutral)
    return std::nullopt;
  r.neutral = *neutral;
  for (unsigned i = 0; i < 2 && !r.accLoad; ++i) {
    auto load = r.combine->getOperand(i).getDefiningOp<memref::LoadOp>();
    if (load && load.getMemRef() == r.accStore.getMemRef() &&
        load.getIndices() == r.accStore.getIndices()) {
      r.accLoad = load;
      r.element = r.combine->getOperand(1 - i);
    }
  }
  // The accumulator is read only to be combined, and only there.
  if (!r.accLoad || !r.accLoad->hasOneUse() || r.element == r.accLoad)
    return std::nullopt;
  for (Operation &op : r.loop.getBody()->without_terminator())
    if (auto load = dyn_cast<memref::LoadOp>(op))
      if (load != r.accLoad && load.getMemRef() == r.accStore.getMemRef())
        return std::nullopt;
  // Shuffles move 32-bit values.
  Type type = r.element.getType();
  if (!type.isF32() && !type.isInteger(32))
    return std::nullopt;
  matchFill(loop, r);
  return r;
}

/// The iteration counts of `loop` and their product, or nothing when the
/// loop has no iteration (then it is erased). With a dynamic total, `b` is
/// moved into an `scf.if total > 0` (a launch of no block is an error).
static std::optional<IterationSpace> iterationSpace(OpBuilder &b,
                                                    scf::ParallelOp loop) {
  Location loc = loop.getLoc();
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
  IterationSpace space;
  space.total = arith::ConstantIndexOp::create(b, loc, 1);
  for (auto [lb, ub, step] :
       llvm::zip(loop.getLowerBound(), loop.getUpperBound(), loop.getStep())) {
    Value span = b.createOrFold<arith::SubIOp>(loc, ub, lb);
    Value count = b.createOrFold<arith::CeilDivSIOp>(loc, span, step);
    count = b.createOrFold<arith::MaxSIOp>(loc, count, zero);
    space.counts.push_back(count);
    space.total = b.createOrFold<arith::MulIOp>(loc, space.total, count);
  }
  std::optional<int64_t> known = getConstantIntValue(space.total);
  if (known && *known <= 0) {
    loop.erase();
    return std::nullopt;
  }
  if (!known) {
    Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                      space.total, zero);
    auto guard = scf::IfOp::create(b, loc, any, /*withElseRegion=*/false);
    b.setInsertionPointToStart(&guard.getThenRegion().front());
  }
  return space;
}

/// Maps the induction variables of `loop` to iteration `index` (row-major:
/// the innermost dim varies fastest).
static void mapIteration(OpBuilder &b, scf::ParallelOp loop,
                         const IterationSpace &space, Value index,
                         IRMapping &mapping) {
  Location loc = loop.getLoc();
  Value rest = index;
  for (int64_t d = static_cast<int64_t>(space.counts.size()) - 1; d >= 0; --d) {
    Value idx =
        d == 0 ? rest
               : b.createOrFold<arith::RemUIOp>(loc, rest, space.counts[d]);
    if (d > 0)
      rest = b.createOrFold<arith::DivUIOp>(loc, rest, space.counts[d]);
    Value iv = arith::AddIOp::create(
        b, loc, loop.getLowerBound()[d],
        b.createOrFold<arith::MulIOp>(loc, idx, loop.getStep()[d]));
    mapping.map(loop.getInductionVars()[d], iv);
  }
}

/// Replaces `loop` with a launch of one thread per iteration.
static void launchLoop(scf::ParallelOp loop) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  std::optional<IterationSpace> space = iterationSpace(b, loop);
  if (!space)
    return;
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value threads = arith::ConstantIndexOp::create(b, loc, kThreadsPerBlock);
  Value blocks = b.createOrFold<arith::CeilDivSIOp>(loc, space->total, threads);
  auto launch =
      gpu::LaunchOp::create(b, loc, blocks, one, one, threads, one, one);

  b.setInsertionPointToStart(&launch.getBody().front());
  Value index = arith::AddIOp::create(
      b, loc,
      b.createOrFold<arith::MulIOp>(loc, launch.getBlockIds().x, threads),
      launch.getThreadIds().x);
  Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, index,
                                       space->total);
  auto inBounds = scf::IfOp::create(b, loc, inside, /*withElseRegion=*/false);
  gpu::TerminatorOp::create(b, loc);

  b.setInsertionPointToStart(&inBounds.getThenRegion().front());
  IRMapping mapping;
  mapIteration(b, loop, *space, index, mapping);
  for (Operation &op : loop.getBody()->without_terminator())
    b.clone(op, mapping);
  loop.erase();
}

/// Replaces `loop` (each iteration the reduction `r`) with a launch of one
/// warp per iteration, 8 warps a block. Warps past the last iteration
/// compute the last one again (every lane takes part in the shuffles) and
/// store nothing.
static void launchRowReductions(scf::ParallelOp loop, RowReduction r) {
  OpBuilder b(loop);
  Location loc = loop.getLoc();
  std::optional<IterationSpace> space = iterationSpace(b, loop);
  if (!space) { // no iteration (then the fill has none either)
    if (r.fill)
      r.fill.erase();
    return;
  }
  auto cst = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  const int64_t warps = kThreadsPerBlock / kWarpSize;
  Value one = cst(1), threads = cst(kThreadsPerBlock), warp = cst(kWarpSize);
  Value blocks =
      b.createOrFold<arith::CeilDivSIOp>(loc, space->total, cst(warps));
  auto launch =
      gpu::LaunchOp::create(b, loc, blocks, one, one, threads, one, one);

  b.setInsertionPointToStart(&launch.getBody().front());
  Value tid = launch.getThreadIds().x;
  Value lane = arith::RemUIOp::create(b, loc, tid, warp);
  Value row = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, cst(warps)),
      arith::DivUIOp::create(b, loc, tid, warp));
  Value inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, row,
                                       space->total);
  Value last = arith::SubIOp::create(b, loc, space->total, one);
  Value index = arith::SelectOp::create(b, loc, inside, row, last);
  IRMapping mapping;
  mapIteration(b, loop, *space, index, mapping);
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (&op == r.loop.getOperation())
      break;
    b.clone(op, mapping);
  }

  // This lane's partial: every 32nd k from its own.
  Value step = mapping.lookupOrDefault(r.loop.getStep());
  Value first = arith::AddIOp::create(
      b, loc, mapping.lookupOrDefault(r.loop.getLowerBound()),
      arith::MulIOp::create(b, loc, lane, step));
  Value stride = arith::MulIOp::create(b, loc, step, warp);
  Value neutral = arith::ConstantOp::create(b, loc, r.neutral);
  auto combine = [&](Value acc, Value x) {
    IRMapping operands;
    operands.map(r.accLoad.getResult(), acc);
    operands.map(r.element, x);
    return b.clone(*r.combine, operands)->getResult(0);
  };
  auto partialLoop = scf::ForOp::create(
      b, loc, first, mapping.lookupOrDefault(r.loop.getUpperBound()), stride,
      ValueRange{neutral});
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(partialLoop.getBody());
    mapping.map(r.loop.getInductionVar(), partialLoop.getInductionVar());
    for (Operation &op : r.loop.getBody()->without_terminator())
      if (&op != r.accLoad.getOperation() && &op != r.combine &&
          &op != r.accStore.getOperation())
        b.clone(op, mapping);
    Value element = mapping.lookupOrDefault(r.element);
    scf::YieldOp::create(b, loc,
                         combine(partialLoop.getRegionIterArg(0), element));
  }

  // The warp's total in every lane: xor butterfly.
  Value total = partialLoop.getResult(0);
  Value width = arith::ConstantIntOp::create(b, loc, b.getI32Type(), kWarpSize);
  for (int64_t offset = kWarpSize / 2; offset >= 1; offset /= 2) {
    Value delta = arith::ConstantIntOp::create(b, loc, b.getI32Type(), offset);
    Value other = gpu::ShuffleOp::create(b, loc, total, delta, width,
                                         gpu::ShuffleMode::XOR)
                      .getShuffleResult();
    total = combine(total, other);
  }

  // Lane 0 folds it into the accumulator.
  Value leader =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, lane, cst(0));
  Value store = arith::AndIOp::create(b, loc, leader, inside);
  auto ifStore = scf::IfOp::create(b, loc, store, /*withElseRegion=*/false);
  gpu::TerminatorOp::create(b, loc);
  b.setInsertionPointToStart(&ifStore.getThenRegion().front());
  Value acc = r.fill ? r.fillValue : b.clone(*r.accLoad, mapping)->getResult(0);
  Value result = combine(total, acc);
  memref::StoreOp::create(
      b, loc, result, mapping.lookupOrDefault(r.accStore.getMemRef()),
      llvm::map_to_vector(r.accStore.getIndices(),
                          [&](Value v) { return mapping.lookupOrDefault(v); }));
  loop.erase();
  if (r.fill)
    r.fill.erase();
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
    // Matched before any rewrite: a reduction folds in the fill before it,
    // which is then not launched on its own.
    SmallVector<std::optional<RowReduction>> reductions;
    llvm::SmallPtrSet<Operation *, 8> fills;
    for (scf::ParallelOp loop : loops) {
      reductions.push_back(matchRowReduction(loop));
      if (reductions.back() && reductions.back()->fill)
        fills.insert(reductions.back()->fill);
    }
    for (auto [loop, reduction] : llvm::zip(loops, reductions)) {
      if (fills.contains(loop))
        continue;
      if (reduction)
        launchRowReductions(loop, *reduction);
      else
        launchLoop(loop);
    }
  }
};
} // namespace
