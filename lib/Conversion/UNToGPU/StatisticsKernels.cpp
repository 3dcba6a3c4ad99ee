//===- StatisticsKernels.cpp - [window, C] statistics kernels ---*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// `un.smooth_forward_stats` and `un.smooth_grad_stats` on the GPU, with the
// same run-time decisions as the CPU lowering (ConvertStatisticsUpdates.cpp):
//
// - the forward kernel is ONE block of kStatsThreads threads, because the
//   outlier test compares every channel with the spread s2 of the whole
//   window (block reductions: warp shuffles, then shared memory). It sums
//   the partial column sums of x^2 when fused with the reduction kernel,
//   and writes skip and skips_new to a small device buffer that later
//   kernels read, so a training step never waits for the host;
// - the gradient kernel is per channel (one thread each), reading skip
//   from that buffer.
//
//===----------------------------------------------------------------------===//

#include "ChannelTiling.h"
#include "Kernels.h"

#include "un/Conversion/WindowSlot.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::gpukernels;

/// Inside a kernel: copies column `channel` of `window` [rows, C] to
/// `windowNew` with row `slot` replaced by `value`, and returns the column
/// sum of the new window (and, with `withLogs`, the sum of its logs).
static SmallVector<Value> updateWindowColumn(OpBuilder &b, Location loc,
                                             Value window, Value windowNew,
                                             Value rows, Value slot,
                                             Value value, Value channel,
                                             bool withLogs) {
  IndexMath m(b, loc);
  SmallVector<Value> init(withLogs ? 2 : 1, f32Const(b, loc, 0.0f));
  return forLoop(
      b, loc, m.c(0), rows, m.c(1), init,
      [&](OpBuilder &ib, Location il, Value i,
          ValueRange s) -> SmallVector<Value> {
        IndexMath im(ib, il);
        Value old =
            memref::LoadOp::create(ib, il, window, ValueRange{i, channel});
        Value w = arith::SelectOp::create(ib, il, im.eq(i, slot), value, old);
        memref::StoreOp::create(ib, il, w, windowNew, ValueRange{i, channel});
        SmallVector<Value> sums = {arith::AddFOp::create(ib, il, s[0], w)};
        if (withLogs)
          sums.push_back(arith::AddFOp::create(ib, il, s[1],
                                               math::LogOp::create(ib, il, w)));
        return sums;
      });
}

static Value i64Const(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
}

static Value cmpI(OpBuilder &b, Location loc, arith::CmpIPredicate p, Value x,
                  Value y) {
  return arith::CmpIOp::create(b, loc, p, x, y);
}

/// Stores `value` (i64) into each target, extended/truncated as needed.
static void storeScalar(OpBuilder &b, Location loc, Value value,
                        ArrayRef<ScalarStore> targets) {
  for (const ScalarStore &target : targets) {
    Type type = cast<MemRefType>(target.memref.getType()).getElementType();
    Value v = value;
    unsigned have = v.getType().getIntOrFloatBitWidth();
    unsigned want = type.getIntOrFloatBitWidth();
    if (have > want)
      v = arith::TruncIOp::create(b, loc, type, v);
    else if (have < want)
      v = target.extension == ScalarStore::Extension::Signed
              ? arith::ExtSIOp::create(b, loc, type, v).getResult()
              : arith::ExtUIOp::create(b, loc, type, v).getResult();
    memref::StoreOp::create(b, loc, v, target.memref, target.indices);
  }
}

void gpukernels::emitForwardStats(OpBuilder &b, Location loc,
                                  KernelContext &ctx,
                                  const ForwardStatsArgs &args) {
  IndexMath m(b, loc);
  Value rows = b.createOrFold<memref::DimOp>(loc, args.window, 0);
  Value channels = b.createOrFold<memref::DimOp>(loc, args.window, 1);
  Value entries = m.mul(rows, channels);
  Value count = (args.partials && !args.mask) ? m.toF32(args.tokens) : Value();

  const int64_t numWarps = kStatsThreads / kWarpSize;
  OpBuilder::InsertionGuard guard(b);
  Kernel kernel =
      createKernel(b, loc, ctx.moduleName, ctx.name("forward_stats"), m.c(1),
                   m.c(1), kStatsThreads, {2 * numWarps});
  Value scratch = kernel.workgroup.front();
  IndexMath km(b, loc);
  Value tid = kernel.threadId;
  Value step = km.c(kStatsThreads);
  Type i64 = b.getI64Type();
  Value t = args.t.get(b, loc, i64);
  Value skips = args.skips.get(b, loc, i64);
  Value rowsI64 = arith::IndexCastUIOp::create(b, loc, i64, rows);
  Value rowsF32 = km.toF32(rows);
  Value slot = buildWindowSlot(b, loc, t, rowsI64);
  if (args.partials && args.mask)
    count =
        blockSum(b, loc, kernel,
                 forLoop(b, loc, tid, args.tokens, step,
                         ValueRange{f32Const(b, loc, 0.0f)},
                         [&](OpBuilder &nb, Location l, Value i,
                             ValueRange acc) -> SmallVector<Value> {
                           Value padded =
                               memref::LoadOp::create(nb, l, args.mask, i);
                           Value one = arith::SelectOp::create(
                               nb, l, padded, f32Const(nb, l, 0.0f),
                               f32Const(nb, l, 1.0f));
                           return {arith::AddFOp::create(nb, l, acc[0], one)};
                         }),
                 scratch)
            .front();

  // 2. The spread s2 of sqrt(window) before the update: mean, then the sum
  // of squared deviations (two passes, as the CPU lowering does).
  auto windowAt = [&](OpBuilder &nb, Location l, Value e) -> Value {
    IndexMath nm(nb, l);
    return memref::LoadOp::create(
        nb, l, args.window,
        ValueRange{nm.div(e, channels), nm.rem(e, channels)});
  };
  Value n = km.toF32(entries);
  Value rootSum =
      forLoop(b, loc, tid, entries, step, ValueRange{f32Const(b, loc, 0.0f)},
              [&](OpBuilder &nb, Location l, Value e,
                  ValueRange acc) -> SmallVector<Value> {
                Value root = preciseSqrt(nb, l, windowAt(nb, l, e));
                return {arith::AddFOp::create(nb, l, acc[0], root)};
              })
          .front();
  Value mean = arith::DivFOp::create(
      b, loc, blockSum(b, loc, kernel, rootSum, scratch).front(), n);
  Value squares =
      forLoop(b, loc, tid, entries, step, ValueRange{f32Const(b, loc, 0.0f)},
              [&](OpBuilder &nb, Location l, Value e,
                  ValueRange acc) -> SmallVector<Value> {
                Value d = arith::SubFOp::create(
                    nb, l, preciseSqrt(nb, l, windowAt(nb, l, e)), mean);
                return {arith::AddFOp::create(
                    nb, l, acc[0], arith::MulFOp::create(nb, l, d, d))};
              })
          .front();
  Value spread = arith::DivFOp::create(
      b, loc, blockSum(b, loc, kernel, squares, scratch).front(),
      arith::SubFOp::create(b, loc, n, f32Const(b, loc, 1.0f)));
  Value threshold = arith::MulFOp::create(b, loc, spread, rowsF32);

  // 1, 3, 5 (test): per channel, psi; the window with psi in its slot; its
  // column mean and geometric mean; whether the gap exceeds s2 * Mf. psi is
  // parked in `var` and the geometric mean in `r` until the block agrees
  // on the outlier decision.
  Value anyOutlier =
      forLoop(b, loc, tid, channels, step, ValueRange{f32Const(b, loc, 0.0f)},
              [&](OpBuilder &nb, Location l, Value c,
                  ValueRange acc) -> SmallVector<Value> {
                IndexMath nm(nb, l);
                Value psi;
                if (args.partials)
                  psi = arith::DivFOp::create(
                      nb, l, sumPartials(nb, l, *args.partials, 0, c), count);
                else
                  psi = memref::LoadOp::create(nb, l, args.psi, c);
                memref::StoreOp::create(nb, l, psi, args.var, c);
                SmallVector<Value> sums = updateWindowColumn(
                    nb, l, args.window, args.windowNew, rows, slot, psi, c,
                    /*withLogs=*/true);
                Value gm = math::ExpOp::create(
                    nb, l, arith::DivFOp::create(nb, l, sums[1], rowsF32));
                memref::StoreOp::create(nb, l, gm, args.r, c);
                if (!args.outlierFiltration)
                  return {acc[0]};
                Value am = arith::DivFOp::create(nb, l, sums[0], rowsF32);
                Value gap = arith::SubFOp::create(nb, l, am, gm);
                Value exceeds = arith::CmpFOp::create(
                    nb, l, arith::CmpFPredicate::OGT, gap, threshold);
                Value flag = arith::SelectOp::create(
                    nb, l, exceeds, f32Const(nb, l, 1.0f), acc[0]);
                return {flag};
              })
          .front();
  Value falseValue = arith::ConstantIntOp::create(b, loc, 0, 1);
  Value outlier = falseValue;
  if (args.outlierFiltration) {
    Value votes = blockSum(b, loc, kernel, anyOutlier, scratch).front();
    Value any = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, votes,
                                      f32Const(b, loc, 0.0f));
    Value pastWarmup = cmpI(b, loc, arith::CmpIPredicate::sge, t,
                            i64Const(b, loc, args.warmupIters));
    outlier = arith::AndIOp::create(b, loc, any, pastWarmup);
  }
  // 4-7.
  Value singleRow =
      cmpI(b, loc, arith::CmpIPredicate::ule, rowsI64, i64Const(b, loc, 1));
  Value skip = arith::OrIOp::create(b, loc, singleRow, outlier);
  Value tAtMostM = cmpI(b, loc, arith::CmpIPredicate::sle, t, rowsI64);
  Value tBeforeW = cmpI(b, loc, arith::CmpIPredicate::slt, t,
                        i64Const(b, loc, args.warmupIters));
  Value usePsi = arith::OrIOp::create(
      b, loc, arith::OrIOp::create(b, loc, tAtMostM, tBeforeW), skip);
  Value rPinned = arith::OrIOp::create(
      b, loc,
      cmpI(b, loc, arith::CmpIPredicate::sle, t,
           i64Const(b, loc, std::max(args.rWarmup, args.warmupIters))),
      skip);

  // Each thread revisits its own channels: no barrier needed.
  forLoop(b, loc, tid, channels, step, [&](OpBuilder &nb, Location l, Value c) {
    Value psi = memref::LoadOp::create(nb, l, args.var, c);
    Value gm = memref::LoadOp::create(nb, l, args.r, c);
    Value rv = memref::LoadOp::create(nb, l, args.runningVar, c);
    if (args.outlierFiltration) {
      // An outlier's row holds running_var instead of psi.
      ifThen(nb, l, outlier, [&](OpBuilder &ib, Location il) {
        memref::StoreOp::create(ib, il, rv, args.windowNew,
                                ValueRange{slot, c});
      });
    }
    Value var = arith::SelectOp::create(nb, l, usePsi, psi, gm);
    Value epsC = f32Const(nb, l, args.eps);
    Value ratio = arith::DivFOp::create(
        nb, l, preciseSqrt(nb, l, arith::AddFOp::create(nb, l, var, epsC)),
        preciseSqrt(nb, l, arith::AddFOp::create(nb, l, rv, epsC)));
    Value clamped = arith::MinimumFOp::create(
        nb, l,
        arith::MaximumFOp::create(nb, l, ratio,
                                  f32Const(nb, l, 1.0f / args.rMax)),
        f32Const(nb, l, args.rMax));
    Value r =
        arith::SelectOp::create(nb, l, rPinned, f32Const(nb, l, 1.0f), clamped);
    Value rvNew = arith::AddFOp::create(
        nb, l, arith::MulFOp::create(nb, l, f32Const(nb, l, args.momentum), rv),
        arith::MulFOp::create(nb, l, f32Const(nb, l, 1.0f - args.momentum),
                              var));
    memref::StoreOp::create(nb, l, var, args.var, c);
    memref::StoreOp::create(nb, l, r, args.r, c);
    memref::StoreOp::create(nb, l, rvNew, args.runningVarNew, c);
  });

  // Thread 0 publishes skip and skips_new.
  Value skipI64 = arith::ExtUIOp::create(b, loc, i64, skip);
  Value skipsNew = arith::AddIOp::create(
      b, loc, skips, arith::ExtUIOp::create(b, loc, i64, outlier));
  ifThen(b, loc, km.eq(tid, km.c(0)), [&](OpBuilder &nb, Location l) {
    IndexMath nm(nb, l);
    memref::StoreOp::create(nb, l, skipI64, args.scalars, nm.c(0));
    memref::StoreOp::create(nb, l, skipsNew, args.scalars, nm.c(1));
    storeScalar(nb, l, skipI64, args.skipStores);
    storeScalar(nb, l, skipsNew, args.skipsStores);
  });
}

void gpukernels::emitGradStats(OpBuilder &b, Location loc, KernelContext &ctx,
                               const GradStatsArgs &args) {
  IndexMath m(b, loc);
  Value rows = b.createOrFold<memref::DimOp>(loc, args.window, 0);
  Value channels = b.createOrFold<memref::DimOp>(loc, args.window, 1);
  Value count = args.partials ? m.toF32(args.tokens) : Value();
  Value grid = m.max(m.c(1), m.ceilDiv(channels, m.c(kBlockThreads)));

  OpBuilder::InsertionGuard guard(b);
  Kernel kernel = createKernel(b, loc, ctx.moduleName, ctx.name("grad_stats"),
                               grid, m.c(1), kBlockThreads);
  IndexMath km(b, loc);
  Type i64 = b.getI64Type();
  Value channel =
      km.add(km.mul(kernel.blockIdX, km.c(kBlockThreads)), kernel.threadId);
  ifThen(b, loc, km.lt(channel, channels), [&](OpBuilder &nb, Location l) {
    IndexMath nm(nb, l);
    Value c = channel;
    Value gz;
    if (args.partials) {
      gz = arith::DivFOp::create(
          nb, l, sumPartials(nb, l, *args.partials, 0, c), count);
      Value outs[] = {args.ggamma, args.gbeta};
      for (auto [k, out] : llvm::enumerate(outs)) {
        if (!out)
          continue;
        Value s = sumPartials(nb, l, *args.partials, k + 1, c);
        Type type = cast<MemRefType>(out.getType()).getElementType();
        memref::StoreOp::create(nb, l, fromF32(nb, l, s, type), out, c);
      }
    } else {
      gz = memref::LoadOp::create(nb, l, args.gz, c);
    }
    Value skip = args.skip.get(nb, l, nb.getI1Type());
    Value t = args.t.get(nb, l, i64);
    Value rowsI64 = arith::IndexCastUIOp::create(nb, l, i64, rows);
    Value slot = buildWindowSlot(nb, l, t, rowsI64);
    Value ema = memref::LoadOp::create(nb, l, args.ema, c);
    Value row = arith::SelectOp::create(nb, l, skip, ema, gz);
    Value sum = updateWindowColumn(nb, l, args.window, args.windowNew, rows,
                                   slot, row, c, /*withLogs=*/false)
                    .front();
    Value tAtMostM = cmpI(nb, l, arith::CmpIPredicate::sle, t, rowsI64);
    Value tBeforeW = cmpI(nb, l, arith::CmpIPredicate::slt, t,
                          i64Const(nb, l, args.warmupIters));
    Value useGz = arith::OrIOp::create(
        nb, l, arith::OrIOp::create(nb, l, tAtMostM, tBeforeW), skip);
    Value mean = arith::DivFOp::create(nb, l, sum, nm.toF32(rows));
    Value mu = arith::SelectOp::create(nb, l, useGz, gz, mean);
    Value emaNew = arith::AddFOp::create(
        nb, l,
        arith::MulFOp::create(nb, l, f32Const(nb, l, args.momentum), ema),
        arith::MulFOp::create(nb, l, f32Const(nb, l, 1.0f - args.momentum),
                              mu));
    Value coef = arith::SelectOp::create(nb, l, skip, mu, emaNew);
    memref::StoreOp::create(nb, l, coef, args.coef, c);
    memref::StoreOp::create(nb, l, emaNew, args.emaNew, c);
  });
}
