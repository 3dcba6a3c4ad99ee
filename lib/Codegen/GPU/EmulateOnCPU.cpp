//===- EmulateOnCPU.cpp - The un-gpu-emulate pass ---------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Runs gpu.launch kernels on the host, sequentially, so that the kernels of
// convert-un-to-gpu can be checked for numbers on a machine without a GPU
// (test/Integration/GPUEmulation): the same kernel bodies, lowered for the
// CPU, compared with the spec's reference.
//
// The body of a launch is cut at its top-level `gpu.barrier` and
// `gpu.shuffle` ops into segments. For each block, each segment runs for
// every thread in turn (thread 0 first); a value that a later segment uses
// is kept per thread in a host buffer. A barrier is then exact (every
// thread finishes the segment before any starts the next), and a shuffle
// is computed between segments from every thread's value. Workgroup memory
// is a host buffer per launch, reused block after block. This is the CUDA
// semantics of a race-free kernel, so it validates the index arithmetic,
// the reductions and the data flow of the kernels (not their speed, nor
// races that the barriers would not prevent).
//
// Top-level scf.for loops with constant bounds that contain barriers (the K
// loop of un-gpu-matmul) are unrolled first, so that their barriers are at
// the top level.
//
// Limitations (all met by convert-un-to-gpu's and un-gpu-matmul's kernels):
// barriers and shuffles at the top level of the body (after unrolling); xor
// shuffles with constant offset and width; thread and block ids taken from the
// launch's block arguments.
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/IRMapping.h"

#include "llvm/ADT/MapVector.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNGPUEMULATE
#include "un/Codegen/GPU/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

namespace {
/// Ops between two collective points, and the collective that opens it.
struct Segment {
  Operation *collective = nullptr; ///< gpu.barrier or gpu.shuffle
  SmallVector<Operation *> ops;
};
} // namespace

static LogicalResult emulate(gpu::LaunchOp launch) {
  Block &body = launch.getBody().front();
  Location loc = launch.getLoc();

  // libdevice's square root -> math.sqrt (IEEE on the host too).
  SmallVector<LLVM::CallOp> calls;
  launch.walk([&](LLVM::CallOp call) {
    if (call.getCallee() == "__nv_fsqrt_rn")
      calls.push_back(call);
  });
  for (LLVM::CallOp call : calls) {
    OpBuilder b(call);
    Value root = math::SqrtOp::create(b, call.getLoc(), call.getOperand(0));
    call.getResult().replaceAllUsesWith(root);
    call->erase();
  }

  // Loops whose bodies contain barriers or shuffles: unrolled.
  SmallVector<scf::ForOp> loops;
  for (Operation &op : body.without_terminator())
    if (auto loop = dyn_cast<scf::ForOp>(op))
      if (loop->walk([](Operation *inner) {
                return isa<gpu::BarrierOp, gpu::ShuffleOp>(inner)
                           ? WalkResult::interrupt()
                           : WalkResult::advance();
              })
              .wasInterrupted())
        loops.push_back(loop);
  for (scf::ForOp loop : loops)
    if (failed(loopUnrollFull(loop)))
      return loop.emitError("un-gpu-emulate: cannot unroll a loop that "
                            "contains barriers (constant bounds needed)");

  SmallVector<Segment> segments(1);
  DenseMap<Operation *, unsigned> segmentOf;
  for (Operation &op : body.without_terminator()) {
    if (isa<gpu::BarrierOp>(op) || isa<gpu::ShuffleOp>(op)) {
      if (auto shuffle = dyn_cast<gpu::ShuffleOp>(op)) {
        if (shuffle.getMode() != gpu::ShuffleMode::XOR ||
            !getConstantIntValue(shuffle.getOffset()) ||
            !getConstantIntValue(shuffle.getWidth()))
          return op.emitError("un-gpu-emulate: only xor shuffles with "
                              "constant offset and width are supported");
      }
      segments.emplace_back();
      segments.back().collective = &op;
    } else {
      segments.back().ops.push_back(&op);
    }
    segmentOf[&op] = segments.size() - 1;
  }
  WalkResult nested = body.walk([&](Operation *op) {
    if (op->getBlock() != &body && isa<gpu::BarrierOp, gpu::ShuffleOp>(op)) {
      op->emitError("un-gpu-emulate: barriers and shuffles must be at the "
                    "top level of the kernel");
      return WalkResult::interrupt();
    }
    return WalkResult::advance();
  });
  if (nested.wasInterrupted())
    return failure();

  // Values used by a later segment than the one that defines them.
  llvm::MapVector<Value, unsigned> crossing; // value -> defining segment
  for (auto [index, segment] : llvm::enumerate(segments)) {
    SmallVector<Operation *> defs(segment.ops);
    if (segment.collective)
      defs.push_back(segment.collective);
    for (Operation *op : defs)
      for (Value result : op->getResults()) {
        if (isa<gpu::ShuffleOp>(op)) {
          crossing.insert({result, index}); // computed between segments
          continue;
        }
        for (Operation *user : result.getUsers()) {
          Operation *top = body.findAncestorOpInBlock(*user);
          if (top && !isa<gpu::TerminatorOp>(top) &&
              segmentOf.lookup(top) != index) {
            crossing.insert({result, index});
            break;
          }
        }
      }
  }

  OpBuilder b(launch);
  auto c = [&](int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); };
  gpu::KernelDim3 grid = launch.getGridSizeOperandValues();
  gpu::KernelDim3 block = launch.getBlockSizeOperandValues();
  Value threads = arith::MulIOp::create(
      b, loc, arith::MulIOp::create(b, loc, block.x, block.y), block.z);

  DenseMap<Value, Value> storage;
  SmallVector<Value> buffers;
  for (auto &[value, index] : crossing) {
    auto type = MemRefType::get({ShapedType::kDynamic}, value.getType());
    Value buffer = memref::AllocOp::create(b, loc, type, ValueRange{threads});
    storage[value] = buffer;
    buffers.push_back(buffer);
  }
  SmallVector<Value> workgroup;
  for (BlockArgument arg : launch.getWorkgroupAttributions()) {
    auto type = cast<MemRefType>(arg.getType());
    Value buffer = memref::AllocOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()));
    workgroup.push_back(buffer);
    buffers.push_back(buffer);
  }

  Value zero = c(0), one = c(1);
  auto blockLoops = [&](OpBuilder &ob, Location l, Value bz, Value by,
                        Value bx) {
    for (auto [index, segment] : llvm::enumerate(segments)) {
      // A shuffle: every thread's result from its partner's value.
      if (auto shuffle = dyn_cast_or_null<gpu::ShuffleOp>(segment.collective)) {
        int64_t offset = *getConstantIntValue(shuffle.getOffset());
        int64_t width = *getConstantIntValue(shuffle.getWidth());
        scf::ForOp::create(
            ob, l, zero, threads, one, ValueRange{},
            [&](OpBuilder &tb, Location tl, Value t, ValueRange) {
              Value source = arith::XOrIOp::create(
                  tb, tl, t, arith::ConstantIndexOp::create(tb, tl, offset));
              Value inRange = arith::CmpIOp::create(
                  tb, tl, arith::CmpIPredicate::ult, source, threads);
              Value sameGroup = arith::CmpIOp::create(
                  tb, tl, arith::CmpIPredicate::eq,
                  arith::DivUIOp::create(
                      tb, tl, source,
                      arith::ConstantIndexOp::create(tb, tl, width)),
                  arith::DivUIOp::create(
                      tb, tl, t,
                      arith::ConstantIndexOp::create(tb, tl, width)));
              Value valid = arith::AndIOp::create(tb, tl, inRange, sameGroup);
              Value from = arith::SelectOp::create(tb, tl, valid, source, t);
              Value v = memref::LoadOp::create(
                  tb, tl, storage.lookup(shuffle.getValue()), from);
              memref::StoreOp::create(
                  tb, tl, v, storage.lookup(shuffle.getShuffleResult()), t);
              memref::StoreOp::create(tb, tl, valid,
                                      storage.lookup(shuffle.getValid()), t);
              scf::YieldOp::create(tb, tl);
            });
      }
      if (segment.ops.empty())
        continue;
      scf::ForOp::create(
          ob, l, zero, threads, one, ValueRange{},
          [&](OpBuilder &tb, Location tl, Value t, ValueRange) {
            IRMapping mapping;
            gpu::KernelDim3 ids = launch.getThreadIds();
            Value tx = arith::RemUIOp::create(tb, tl, t, block.x);
            Value rest = arith::DivUIOp::create(tb, tl, t, block.x);
            mapping.map(ids.x, tx);
            mapping.map(ids.y, arith::RemUIOp::create(tb, tl, rest, block.y));
            mapping.map(ids.z, arith::DivUIOp::create(tb, tl, rest, block.y));
            gpu::KernelDim3 blockIds = launch.getBlockIds();
            mapping.map(blockIds.x, bx);
            mapping.map(blockIds.y, by);
            mapping.map(blockIds.z, bz);
            gpu::KernelDim3 gridSize = launch.getGridSize();
            mapping.map(gridSize.x, grid.x);
            mapping.map(gridSize.y, grid.y);
            mapping.map(gridSize.z, grid.z);
            gpu::KernelDim3 blockSize = launch.getBlockSize();
            mapping.map(blockSize.x, block.x);
            mapping.map(blockSize.y, block.y);
            mapping.map(blockSize.z, block.z);
            for (auto [arg, buffer] :
                 llvm::zip_equal(launch.getWorkgroupAttributions(), workgroup))
              mapping.map(arg, buffer);
            // Values of earlier segments (and of this segment's shuffle).
            for (auto &[value, defined] : crossing)
              if (defined < index ||
                  (defined == index && segment.collective &&
                   value.getDefiningOp() == segment.collective))
                mapping.map(value, memref::LoadOp::create(
                                       tb, tl, storage.lookup(value), t));
            for (Operation *op : segment.ops)
              tb.clone(*op, mapping);
            for (auto &[value, defined] : crossing)
              if (defined == index &&
                  value.getDefiningOp() != segment.collective)
                memref::StoreOp::create(tb, tl, mapping.lookup(value),
                                        storage.lookup(value), t);
            scf::YieldOp::create(tb, tl);
          });
    }
  };
  scf::ForOp::create(
      b, loc, zero, grid.z, one, ValueRange{},
      [&](OpBuilder &zb, Location zl, Value bz, ValueRange) {
        scf::ForOp::create(
            zb, zl, zero, grid.y, one, ValueRange{},
            [&](OpBuilder &yb, Location yl, Value by, ValueRange) {
              scf::ForOp::create(
                  yb, yl, zero, grid.x, one, ValueRange{},
                  [&](OpBuilder &xb, Location xl, Value bx, ValueRange) {
                    blockLoops(xb, xl, bz, by, bx);
                    scf::YieldOp::create(xb, xl);
                  });
              scf::YieldOp::create(yb, yl);
            });
        scf::YieldOp::create(zb, zl);
      });
  // The buffers are freed by the deallocation of the pipeline that follows.
  launch->erase();
  return success();
}

namespace {
struct UNGPUEmulatePass : un::impl::UNGPUEmulateBase<UNGPUEmulatePass> {
  void runOnOperation() override {
    SmallVector<gpu::LaunchOp> launches;
    getOperation()->walk([&](gpu::LaunchOp op) { launches.push_back(op); });
    for (gpu::LaunchOp launch : launches)
      if (failed(emulate(launch)))
        return signalPassFailure();
    // The libdevice declaration is unused now.
    if (auto decl =
            getOperation().lookupSymbol<LLVM::LLVMFuncOp>("__nv_fsqrt_rn"))
      if (SymbolTable::symbolKnownUseEmpty(decl, getOperation()))
        decl->erase();
  }
};
} // namespace
