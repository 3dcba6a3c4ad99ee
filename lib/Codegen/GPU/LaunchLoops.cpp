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
// Such a reduction and the loops right after it over the same rows (more
// row reductions over the same k, elementwise loops over [rows, k]: a
// softmax's max, exp, sum and division; a LayerNorm's mean, variance and
// normalization) are one kernel: the row's warp runs them in turn, lanes
// strided over k, a block barrier between them. Fused only when every
// buffer that one of them writes is read and written in the others at the
// same row only (each row is one warp's), through the same view.
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
#include "mlir/Interfaces/ViewLikeInterface.h"

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

/// Loops run by one warp per row, in order: the first a row reduction,
/// each other one a row reduction over the same rows and k, or an
/// elementwise loop over [rows, k] (`reduction` empty).
struct RowStage {
  scf::ParallelOp loop;
  std::optional<RowReduction> reduction;
};
using RowKernel = SmallVector<RowStage>;
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
/// the innermost dim varies fastest) of `space`, whose dims are the first
/// dims of the loop (all of them, or the rows of a row kernel).
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

/// True if the two lists of sizes are the same values or equal constants.
static bool sameValues(ValueRange a, ValueRange b) {
  if (a.size() != b.size())
    return false;
  for (auto [x, y] : llvm::zip(a, b)) {
    std::optional<int64_t> cx = getConstantIntValue(x);
    std::optional<int64_t> cy = getConstantIntValue(y);
    if (x != y && !(cx && cy && *cx == *cy))
      return false;
  }
  return true;
}

/// The reduced dim's loop (lower bound, upper bound, step) of a row kernel.
static SmallVector<Value> reducedBounds(scf::ForOp loop) {
  return {loop.getLowerBound(), loop.getUpperBound(), loop.getStep()};
}

/// True if `loop` can join the row kernel `k`: a row reduction over the
/// same rows and k, or an elementwise loop (loads, stores, pure ops) over
/// the same rows and then k.
static bool joinsRowKernel(RowKernel &k, scf::ParallelOp loop,
                           std::optional<RowReduction> reduction) {
  scf::ParallelOp rows = k.front().loop;
  scf::ForOp reduced = k.front().reduction->loop;
  size_t rank = rows.getNumLoops();
  if (reduction)
    return sameValues(loop.getLowerBound(), rows.getLowerBound()) &&
           sameValues(loop.getUpperBound(), rows.getUpperBound()) &&
           sameValues(loop.getStep(), rows.getStep()) &&
           sameValues(reducedBounds(reduction->loop), reducedBounds(reduced));
  if (loop.getNumReductions() != 0 || loop.getNumLoops() != rank + 1)
    return false;
  auto prefix = [&](OperandRange v) { return ValueRange(v).take_front(rank); };
  if (!sameValues(prefix(loop.getLowerBound()), rows.getLowerBound()) ||
      !sameValues(prefix(loop.getUpperBound()), rows.getUpperBound()) ||
      !sameValues(prefix(loop.getStep()), rows.getStep()) ||
      !sameValues({loop.getLowerBound()[rank], loop.getUpperBound()[rank],
                   loop.getStep()[rank]},
                  reducedBounds(reduced)))
    return false;
  return llvm::all_of(loop.getBody()->without_terminator(), [](Operation &op) {
    return isa<memref::LoadOp, memref::StoreOp>(op) || isPureLeaf(op);
  });
}

/// The buffer a view is of.
static Value bufferRoot(Value v) {
  while (auto view = v.getDefiningOp<ViewLikeOpInterface>())
    v = view.getViewSource();
  return v;
}

/// True if, in the stages of `k`, every buffer that one writes is a fresh
/// allocation, accessed through one view only, and only at the row of the
/// stage accessing it (the row ivs first): each row is one warp's, so no
/// warp reads what another writes.
static bool rowsAreIndependent(RowKernel &k) {
  size_t rank = k.front().loop.getNumLoops();
  struct Access {
    Operation *op;
    Value memref;
    ValueRange indices;
    scf::ParallelOp loop;
  };
  SmallVector<Access> accesses;
  bool other = false;
  for (RowStage &stage : k)
    stage.loop.getBody()->walk([&](Operation *op) {
      if (auto load = dyn_cast<memref::LoadOp>(op))
        accesses.push_back(
            {op, load.getMemRef(), load.getIndices(), stage.loop});
      else if (auto store = dyn_cast<memref::StoreOp>(op))
        accesses.push_back(
            {op, store.getMemRef(), store.getIndices(), stage.loop});
      else if (!isPureLeaf(*op) &&
               !isa<scf::ForOp, scf::YieldOp, scf::ReduceOp>(op))
        other = true;
    });
  if (other)
    return false;
  llvm::DenseMap<Value, Value> written; // root -> the view written
  for (Access &a : accesses) {
    if (!isa<memref::StoreOp>(a.op))
      continue;
    Value root = bufferRoot(a.memref);
    if (!root.getDefiningOp<memref::AllocOp>() ||
        (written.count(root) && written[root] != a.memref))
      return false;
    written[root] = a.memref;
  }
  for (Access &a : accesses) {
    auto it = written.find(bufferRoot(a.memref));
    if (it == written.end())
      continue;
    SmallVector<Value> ivs = a.loop.getInductionVars();
    if (a.memref != it->second || a.indices.size() < rank ||
        !llvm::equal(a.indices.take_front(rank),
                     ArrayRef<Value>(ivs).take_front(rank)))
      return false;
  }
  return true;
}

/// Where a warp of a row kernel is: its lane, whether its row exists, and
/// the row it computes (the last one for warps past the end, which take
/// part in the shuffles and store nothing).
struct WarpPlace {
  Value lane, inside, index;
};

/// Emits the row reduction `r` of `loop` for the warp at `w`: lane
/// partials over every 32nd k, an xor butterfly, lane 0 folds the total
/// into the accumulator.
static void emitReductionStage(OpBuilder &b, scf::ParallelOp loop,
                               RowReduction r, const IterationSpace &space,
                               const WarpPlace &w) {
  Location loc = loop.getLoc();
  auto cst = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  IRMapping mapping;
  mapIteration(b, loop, space, w.index, mapping);
  for (Operation &op : loop.getBody()->without_terminator()) {
    if (&op == r.loop.getOperation())
      break;
    b.clone(op, mapping);
  }

  // This lane's partial: every 32nd k from its own.
  Value step = mapping.lookupOrDefault(r.loop.getStep());
  Value first = arith::AddIOp::create(
      b, loc, mapping.lookupOrDefault(r.loop.getLowerBound()),
      arith::MulIOp::create(b, loc, w.lane, step));
  Value stride = arith::MulIOp::create(b, loc, step, cst(kWarpSize));
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
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, w.lane, cst(0));
  Value store = arith::AndIOp::create(b, loc, leader, w.inside);
  auto ifStore = scf::IfOp::create(b, loc, store, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifStore.getThenRegion().front());
  Value acc = r.fill ? r.fillValue : b.clone(*r.accLoad, mapping)->getResult(0);
  Value result = combine(total, acc);
  memref::StoreOp::create(
      b, loc, result, mapping.lookupOrDefault(r.accStore.getMemRef()),
      llvm::map_to_vector(r.accStore.getIndices(),
                          [&](Value v) { return mapping.lookupOrDefault(v); }));
}

/// Emits the elementwise loop `loop` over [rows, k] for the warp at `w`:
/// its lanes on every 32nd k of the row (nothing past the last row).
static void emitElementwiseStage(OpBuilder &b, scf::ParallelOp loop,
                                 const IterationSpace &space,
                                 const WarpPlace &w) {
  Location loc = loop.getLoc();
  auto ifInside = scf::IfOp::create(b, loc, w.inside, /*withElseRegion=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&ifInside.getThenRegion().front());
  IRMapping mapping;
  mapIteration(b, loop, space, w.index, mapping);
  size_t last = loop.getNumLoops() - 1;
  Value step = loop.getStep()[last];
  Value first =
      arith::AddIOp::create(b, loc, loop.getLowerBound()[last],
                            arith::MulIOp::create(b, loc, w.lane, step));
  Value stride = arith::MulIOp::create(
      b, loc, step, arith::ConstantIndexOp::create(b, loc, kWarpSize));
  auto lanes =
      scf::ForOp::create(b, loc, first, loop.getUpperBound()[last], stride);
  b.setInsertionPointToStart(lanes.getBody());
  mapping.map(loop.getInductionVars()[last], lanes.getInductionVar());
  for (Operation &op : loop.getBody()->without_terminator())
    b.clone(op, mapping);
}

/// Replaces the stages of `k` with one launch of a warp per row, 8 warps
/// a block, a barrier between stages; at the place of the last stage.
static void launchRowKernel(RowKernel &k) {
  scf::ParallelOp rows = k.front().loop;
  OpBuilder b(k.back().loop);
  Location loc = rows.getLoc();
  std::optional<IterationSpace> space = iterationSpace(b, rows);
  if (!space) { // no row (iterationSpace erased the first loop)
    for (RowStage &stage : llvm::drop_begin(k))
      stage.loop.erase();
    for (RowStage &stage : k)
      if (stage.reduction && stage.reduction->fill)
        stage.reduction->fill.erase();
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
  WarpPlace w;
  w.lane = arith::RemUIOp::create(b, loc, tid, warp);
  Value row = arith::AddIOp::create(
      b, loc, arith::MulIOp::create(b, loc, launch.getBlockIds().x, cst(warps)),
      arith::DivUIOp::create(b, loc, tid, warp));
  w.inside = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, row,
                                   space->total);
  Value last = arith::SubIOp::create(b, loc, space->total, one);
  w.index = arith::SelectOp::create(b, loc, w.inside, row, last);
  for (auto [i, stage] : llvm::enumerate(k)) {
    // What the stages before wrote is visible to this one.
    if (i > 0)
      gpu::BarrierOp::create(b, loc);
    if (stage.reduction)
      emitReductionStage(b, stage.loop, *stage.reduction, *space, w);
    else
      emitElementwiseStage(b, stage.loop, *space, w);
  }
  gpu::TerminatorOp::create(b, loc);
  for (RowStage &stage : k) {
    if (stage.reduction && stage.reduction->fill)
      stage.reduction->fill.erase();
    stage.loop.erase();
  }
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
    // Row kernels: a row reduction and the loops right after it that join
    // it (only fills of joining reductions, pure ops and allocations in
    // between).
    SmallVector<RowKernel> kernels;
    llvm::SmallPtrSet<Operation *, 8> inKernel;
    for (size_t i = 0; i < loops.size(); ++i) {
      if (!reductions[i] || inKernel.contains(loops[i]))
        continue;
      RowKernel k = {{loops[i], reductions[i]}};
      for (size_t n = i + 1; n < loops.size(); ++n) {
        if (fills.contains(loops[n]))
          continue;
        bool between = true;
        for (Operation *op = k.back().loop->getNextNode();
             op && op != loops[n].getOperation(); op = op->getNextNode())
          between &=
              isPureLeaf(*op) || isa<memref::AllocOp>(op) ||
              (reductions[n] && op == reductions[n]->fill.getOperation());
        if (!between || loops[n]->getBlock() != k.back().loop->getBlock() ||
            !joinsRowKernel(k, loops[n], reductions[n]))
          break;
        k.push_back({loops[n], reductions[n]});
      }
      while (k.size() > 1 && !rowsAreIndependent(k))
        k.pop_back();
      for (RowStage &stage : k)
        inKernel.insert(stage.loop);
      kernels.push_back(std::move(k));
    }
    for (RowKernel &k : kernels)
      launchRowKernel(k);
    for (scf::ParallelOp loop : loops)
      if (!fills.contains(loop) && !inKernel.contains(loop))
        launchLoop(loop);
  }
};
} // namespace
