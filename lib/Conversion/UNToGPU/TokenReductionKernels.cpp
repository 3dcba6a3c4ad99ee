//===- TokenReductionKernels.cpp - Column sums over tokens ------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The per-channel reductions over tokens of a channels-last [T, C]
// activation (`un.quadratic_mean`, `un.grad_stats`), in two stages:
//
// 1. A 2-D grid: blockIdx.x picks 8 (or fewer) vectors of 16 bytes along C,
//    blockIdx.y a strided set of rows. Each thread loads its channel vector
//    of kRowUnroll rows at a time (one 128-bit load per row and input:
//    `ld.global.v4`), accumulates in f32 registers, then the block combines
//    its rows: the 4 rows held by a warp with xor shuffles, the 8 warps
//    through shared memory. One row of partial sums per block row.
// 2. The few partial rows are summed per channel by the consumer: the
//    statistics kernel when fused (see ConvertUNToGPUPass.cpp), else a
//    small finalize kernel.
//
// Deterministic: no atomics, the summation order depends only on shapes.
//
//===----------------------------------------------------------------------===//

#include "ChannelTiling.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::gpukernels;

Value ScalarRef::get(OpBuilder &b, Location loc, Type type) const {
  Value v = host;
  if (!v) {
    v = memref::LoadOp::create(b, loc, memref, indices);
    for (Operation *cast : casts) {
      IRMapping mapping;
      mapping.map(cast->getOperand(0), v);
      v = b.clone(*cast, mapping)->getResult(0);
    }
  }
  unsigned have = v.getType().getIntOrFloatBitWidth();
  unsigned want = type.getIntOrFloatBitWidth();
  if (have > want)
    return arith::TruncIOp::create(b, loc, type, v);
  if (have < want)
    return arith::ExtUIOp::create(b, loc, type, v);
  return v;
}

/// Computes the contributions of one row: f32 vectors of the activations
/// and of the per-channel parameters in, one f32 vector per sum out.
using Contribution = function_ref<SmallVector<Value>(
    OpBuilder &, Location, ArrayRef<Value>, ArrayRef<Value>)>;

static PartialSums emitColumnSums(OpBuilder &b, Location loc,
                                  KernelContext &ctx, StringRef what,
                                  ArrayRef<Value> activations,
                                  ArrayRef<Value> params, Value mask,
                                  int64_t numSums, Contribution contribution) {
  IndexMath m(b, loc);
  ChannelTiling tiling = computeTiling(m, activations.front(), 4 * ctx.smCount);
  Value channels = tiling.channels;
  const int64_t width = tiling.vectorWidth;
  const int64_t columns = tiling.blockColumns;
  const int64_t numWarps = kBlockThreads / kWarpSize;
  const int64_t perColumn = numSums * width;
  assert(columns * perColumn <= kBlockThreads && "too many sums per block");

  PartialSums partials;
  partials.rows = tiling.gridY;
  partials.channels = channels;
  partials.numSums = numSums;
  Value size = m.mul(m.mul(tiling.gridY, m.c(numSums)), channels);
  partials.buffer = memref::AllocOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, b.getF32Type()), size);

  OpBuilder::InsertionGuard guard(b);
  Kernel kernel = createKernel(b, loc, ctx.moduleName, ctx.name(what),
                               tiling.gridX, tiling.gridY, kBlockThreads,
                               {numWarps * columns * perColumn});
  IndexMath km(b, loc);
  TileCoords coords = getTileCoords(km, kernel, tiling);

  SmallVector<Value> paramVectors;
  for (Value param : params)
    paramVectors.push_back(
        toF32(b, loc, loadVector(b, loc, param, {coords.column}, width)));
  Value zero = f32Splat(b, loc, width, 0.0f);
  SmallVector<Value> init(numSums, zero);
  SmallVector<Value> sums = forEachRowChunk(
      km, coords, tiling, init,
      [&](OpBuilder &nb, Location l, ArrayRef<Value> rows,
          ArrayRef<Value> inRange, ValueRange carried) -> SmallVector<Value> {
        // All loads of the chunk first: kRowUnroll x inputs in flight.
        SmallVector<SmallVector<Value>> loaded(rows.size());
        SmallVector<Value> keep(inRange);
        for (auto [u, row] : llvm::enumerate(rows)) {
          for (Value act : activations)
            loaded[u].push_back(
                loadVector(nb, l, act, {row, coords.column}, width));
          if (mask) {
            Value padded = memref::LoadOp::create(nb, l, mask, row);
            Value kept = arith::XOrIOp::create(
                nb, l, padded, arith::ConstantIntOp::create(nb, l, 1, 1));
            keep[u] = arith::AndIOp::create(nb, l, keep[u], kept);
          }
        }
        SmallVector<Value> acc(carried);
        Value zeroVector = f32Splat(nb, l, width, 0.0f);
        for (auto [u, values] : llvm::enumerate(loaded)) {
          SmallVector<Value> f32Values;
          for (Value v : values)
            f32Values.push_back(toF32(nb, l, v));
          SmallVector<Value> terms =
              contribution(nb, l, f32Values, paramVectors);
          for (int64_t k = 0; k < numSums; ++k) {
            Value term =
                arith::SelectOp::create(nb, l, keep[u], terms[k], zeroVector);
            acc[k] = arith::AddFOp::create(nb, l, acc[k], term);
          }
        }
        return acc;
      });

  // Combine the rows of the block: within a warp (lanes that differ by
  // multiples of `columns` hold the same channels) with shuffles, across
  // warps through shared memory.
  Value scratch = kernel.workgroup.front();
  Value lane = km.rem(kernel.threadId, km.c(kWarpSize));
  Value warp = km.div(kernel.threadId, km.c(kWarpSize));
  SmallVector<Value> scalars;
  for (int64_t k = 0; k < numSums; ++k)
    for (int64_t j = 0; j < width; ++j) {
      Value v = vector::ExtractOp::create(b, loc, sums[k], j);
      scalars.push_back(columns < kWarpSize ? warpSum(b, loc, v, columns) : v);
    }
  ifThen(b, loc, km.lt(lane, km.c(columns)), [&](OpBuilder &nb, Location l) {
    IndexMath nm(nb, l);
    Value base =
        nm.mul(nm.add(nm.mul(warp, nm.c(columns)), lane), nm.c(perColumn));
    for (auto [i, v] : llvm::enumerate(scalars))
      memref::StoreOp::create(nb, l, v, scratch, nm.add(base, nm.c(i)));
  });
  gpu::BarrierOp::create(b, loc);
  // Thread e < columns * perColumn writes one partial: e = (k, column, j),
  // so consecutive threads write consecutive channels.
  Value e = kernel.threadId;
  Value slab = km.c(columns * width);
  Value k = km.div(e, slab);
  Value inSlab = km.rem(e, slab);
  Value column = km.div(inSlab, km.c(width));
  Value j = km.rem(inSlab, km.c(width));
  Value vectorIndex = km.add(km.mul(kernel.blockIdX, km.c(columns)), column);
  Value writes =
      arith::AndIOp::create(b, loc, km.lt(e, km.c(columns * perColumn)),
                            km.lt(vectorIndex, tiling.channelVectors));
  ifThen(b, loc, writes, [&](OpBuilder &nb, Location l) {
    IndexMath nm(nb, l);
    Value offset = nm.add(nm.mul(column, nm.c(perColumn)),
                          nm.add(nm.mul(k, nm.c(width)), j));
    Value total = memref::LoadOp::create(nb, l, scratch, offset);
    for (int64_t w = 1; w < numWarps; ++w)
      total = arith::AddFOp::create(
          nb, l, total,
          memref::LoadOp::create(
              nb, l, scratch, nm.add(offset, nm.c(w * columns * perColumn))));
    Value channel = nm.add(nm.mul(vectorIndex, nm.c(width)), j);
    Value row = nm.add(nm.mul(kernel.blockIdY, nm.c(numSums)), k);
    memref::StoreOp::create(nb, l, total, partials.buffer,
                            nm.add(nm.mul(row, tiling.channels), channel));
  });
  return partials;
}

PartialSums gpukernels::emitSquareSums(OpBuilder &b, Location loc,
                                       KernelContext &ctx, Value x,
                                       Value mask) {
  return emitColumnSums(b, loc, ctx, "square_sums", {x}, {}, mask, 1,
                        [](OpBuilder &nb, Location l, ArrayRef<Value> acts,
                           ArrayRef<Value>) -> SmallVector<Value> {
                          return {
                              arith::MulFOp::create(nb, l, acts[0], acts[0])};
                        });
}

PartialSums gpukernels::emitGradSums(OpBuilder &b, Location loc,
                                     KernelContext &ctx, Value gy, Value z,
                                     Value r, Value gamma) {
  return emitColumnSums(
      b, loc, ctx, "grad_sums", {gy, z}, {r, gamma}, Value(), 3,
      [](OpBuilder &nb, Location l, ArrayRef<Value> acts,
         ArrayRef<Value> params) -> SmallVector<Value> {
        Value g = acts[0], zv = acts[1], r = params[0], gamma = params[1];
        Value grad = arith::MulFOp::create(
            nb, l, arith::MulFOp::create(nb, l, g, gamma), r);
        Value gr = arith::MulFOp::create(nb, l, g, r);
        return {arith::MulFOp::create(nb, l, grad, zv),
                arith::MulFOp::create(nb, l, gr, zv), g};
      });
}

Value gpukernels::sumPartials(OpBuilder &b, Location loc,
                              const PartialSums &partials, int64_t k,
                              Value channel) {
  IndexMath m(b, loc);
  return forLoop(
             b, loc, m.c(0), partials.rows, m.c(1),
             ValueRange{f32Const(b, loc, 0.0f)},
             [&](OpBuilder &nb, Location l, Value g,
                 ValueRange acc) -> SmallVector<Value> {
               IndexMath nm(nb, l);
               Value row = nm.add(nm.mul(g, nm.c(partials.numSums)), nm.c(k));
               Value index = nm.add(nm.mul(row, partials.channels), channel);
               Value v = memref::LoadOp::create(nb, l, partials.buffer, index);
               return {arith::AddFOp::create(nb, l, acc[0], v)};
             })
      .front();
}

/// The number of unpadded tokens of `mask` [T] as f32, summed over the
/// block (in a kernel; all threads must call it).
static Value countUnpadded(OpBuilder &b, Location loc, Kernel &kernel,
                           Value mask, Value tokens, Value scratch) {
  IndexMath m(b, loc);
  Value count = forLoop(b, loc, kernel.threadId, tokens, m.c(kernel.threads),
                        ValueRange{f32Const(b, loc, 0.0f)},
                        [&](OpBuilder &nb, Location l, Value i,
                            ValueRange acc) -> SmallVector<Value> {
                          Value padded = memref::LoadOp::create(nb, l, mask, i);
                          Value one = arith::SelectOp::create(
                              nb, l, padded, f32Const(nb, l, 0.0f),
                              f32Const(nb, l, 1.0f));
                          return {arith::AddFOp::create(nb, l, acc[0], one)};
                        })
                    .front();
  return blockSum(b, loc, kernel, count, scratch).front();
}

/// A kernel with one thread per channel: `body(channel)` runs for every
/// channel < C. Returns the kernel for its block-wide prologue.
static void forEachChannelKernel(
    OpBuilder &b, Location loc, KernelContext &ctx, StringRef what,
    Value channels, ArrayRef<int64_t> workgroup,
    function_ref<void(OpBuilder &, Location, Kernel &)> prologue,
    function_ref<void(OpBuilder &, Location, Value)> body) {
  IndexMath m(b, loc);
  Value grid = m.max(m.c(1), m.ceilDiv(channels, m.c(kBlockThreads)));
  OpBuilder::InsertionGuard guard(b);
  Kernel kernel = createKernel(b, loc, ctx.moduleName, ctx.name(what), grid,
                               m.c(1), kBlockThreads, workgroup);
  if (prologue)
    prologue(b, loc, kernel);
  IndexMath km(b, loc);
  Value channel =
      km.add(km.mul(kernel.blockIdX, km.c(kBlockThreads)), kernel.threadId);
  ifThen(b, loc, km.lt(channel, channels),
         [&](OpBuilder &nb, Location l) { body(nb, l, channel); });
}

/// Stores `count` at `packed[channels]` from the thread of channel 0 (the
/// [sums..., count] vector of statistics across processes).
static void storeCount(OpBuilder &b, Location loc, Value channel,
                       Value channels, Value count, Value packed) {
  IndexMath m(b, loc);
  ifThen(b, loc, m.eq(channel, m.c(0)), [&](OpBuilder &nb, Location l) {
    memref::StoreOp::create(nb, l, count, packed, channels);
  });
}

void gpukernels::emitQuadraticMeanFinalize(OpBuilder &b, Location loc,
                                           KernelContext &ctx,
                                           const PartialSums &partials,
                                           Value mask, Value tokens, Value psi,
                                           bool sumsAndCount) {
  IndexMath m(b, loc);
  Value count = mask ? Value() : m.toF32(tokens);
  SmallVector<int64_t> workgroup;
  if (mask)
    workgroup.push_back(kBlockThreads / kWarpSize);
  forEachChannelKernel(
      b, loc, ctx, sumsAndCount ? "quadratic_mean_sums" : "quadratic_mean",
      partials.channels, workgroup,
      [&](OpBuilder &nb, Location l, Kernel &kernel) {
        if (mask)
          count = countUnpadded(nb, l, kernel, mask, tokens,
                                kernel.workgroup.front());
      },
      [&](OpBuilder &nb, Location l, Value c) {
        Value sum = sumPartials(nb, l, partials, 0, c);
        if (!sumsAndCount) {
          sum = arith::DivFOp::create(nb, l, sum, count);
        } else {
          storeCount(nb, l, c, partials.channels, count, psi);
        }
        memref::StoreOp::create(nb, l, sum, psi, c);
      });
}

void gpukernels::emitGradStatsFinalize(OpBuilder &b, Location loc,
                                       KernelContext &ctx,
                                       const PartialSums &partials,
                                       Value tokens, Value gz, Value ggamma,
                                       Value gbeta, bool sumsAndCount) {
  IndexMath m(b, loc);
  Value count = m.toF32(tokens);
  forEachChannelKernel(
      b, loc, ctx, sumsAndCount ? "grad_stats_sums" : "grad_stats",
      partials.channels, {}, nullptr, [&](OpBuilder &nb, Location l, Value c) {
        Value s0 = sumPartials(nb, l, partials, 0, c);
        if (!sumsAndCount)
          s0 = arith::DivFOp::create(nb, l, s0, count);
        else
          storeCount(nb, l, c, partials.channels, count, gz);
        memref::StoreOp::create(nb, l, s0, gz, c);
        Value outs[] = {ggamma, gbeta};
        for (auto [k, out] : llvm::enumerate(outs)) {
          if (!out)
            continue;
          Value s = sumPartials(nb, l, partials, k + 1, c);
          Type type = cast<MemRefType>(out.getType()).getElementType();
          memref::StoreOp::create(nb, l, fromF32(nb, l, s, type), out, c);
        }
      });
}

void gpukernels::emitDivideByCount(OpBuilder &b, Location loc,
                                   KernelContext &ctx, Value totals,
                                   Value out) {
  Value channels = b.createOrFold<memref::DimOp>(loc, out, 0);
  forEachChannelKernel(
      b, loc, ctx, "divide_by_count", channels, {}, nullptr,
      [&](OpBuilder &nb, Location l, Value c) {
        Value sum = memref::LoadOp::create(nb, l, totals, c);
        Value count = memref::LoadOp::create(nb, l, totals, channels);
        memref::StoreOp::create(nb, l, arith::DivFOp::create(nb, l, sum, count),
                                out, c);
      });
}
