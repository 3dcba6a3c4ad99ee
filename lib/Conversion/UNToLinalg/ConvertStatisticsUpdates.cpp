//===- ConvertStatisticsUpdates.cpp - [window, C] statistics ----*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// `un.smooth_forward_stats` and `un.smooth_grad_stats`: the small
// per-channel work on the statistics windows. The spec's run-time decisions
// (warm-up, t <= window, the outlier test, skip) are evaluated as i1 values
// and applied with selects, so the lowered code has no data-dependent
// control flow. Window rows are replaced with tensor.insert_slice at row
// `t mod window`.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "un/Conversion/RuntimeChecks.h"
#include "un/Conversion/UNToLinalg/UNToLinalg.h"
#include "un/Conversion/WindowSlot.h"
#include "un/Dialect/UN/IR/UNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::lowering;

namespace {
/// Scalar facts about a statistics window [M, C] at step t.
struct WindowInfo {
  Value rows;     ///< M, index
  Value rowsI64;  ///< M, i64
  Value rowsF32;  ///< M, f32
  Value slot;     ///< t mod M, index
  Value tAtMostM; ///< t <= M
  Value tBeforeW; ///< t < warmup_iters
};
} // namespace

static Value i64Constant(OpBuilder &b, Location loc, int64_t value) {
  return arith::ConstantIntOp::create(b, loc, b.getI64Type(), value);
}

static WindowInfo getWindowInfo(OpBuilder &b, Location loc, Value window,
                                Value t, int64_t warmupIters) {
  WindowInfo info;
  info.rows = dimSize(b, loc, window, 0);
  info.rowsI64 =
      b.createOrFold<arith::IndexCastUIOp>(loc, b.getI64Type(), info.rows);
  info.rowsF32 =
      b.createOrFold<arith::UIToFPOp>(loc, b.getF32Type(), info.rowsI64);
  // A window of no rows (a dynamic dim of 0) has no row to write: stop
  // with a message rather than divide by zero and write outside it.
  insertWindowRowsCheck(b, loc, window);
  info.slot = buildWindowSlot(b, loc, t, info.rowsI64);
  info.tAtMostM =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sle, t, info.rowsI64);
  info.tBeforeW = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::slt, t,
                                        i64Constant(b, loc, warmupIters));
  return info;
}

/// `window` with row `slot` replaced by the [C] tensor `row`.
static Value replaceRow(OpBuilder &b, Location loc, Value window, Value row,
                        Value slot) {
  SmallVector<OpFoldResult> offsets = {slot, b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1),
                                     tensor::getMixedSize(b, loc, row, 0)};
  SmallVector<OpFoldResult> strides = {b.getIndexAttr(1), b.getIndexAttr(1)};
  return tensor::InsertSliceOp::create(b, loc, row, window, offsets, sizes,
                                       strides);
}

/// Column sums over the rows of `window` [M, C]; with `withLogs`, also the
/// column sums of log(window).
static SmallVector<Value> columnSums(OpBuilder &b, Location loc, Value window,
                                     Value channelLike, bool withLogs) {
  MLIRContext *ctx = b.getContext();
  auto channelType = RankedTensorType::get(
      {cast<RankedTensorType>(channelLike.getType()).getDimSize(0)},
      b.getF32Type());
  Value init =
      fill(b, loc, f32Constant(b, loc, 0.0f),
           emptyTensorLike(b, loc, channelType, channelLike, b.getF32Type()));
  SmallVector<Value> outputs(withLogs ? 2 : 1, init);
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(2, ctx)};
  maps.append(outputs.size(), AffineMap::get(2, 0, getAffineDimExpr(1, ctx)));
  auto generic = buildGeneric(
      b, loc, window, outputs, maps,
      {utils::IteratorType::reduction, utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        SmallVector<Value> sums = {
            arith::AddFOp::create(nb, l, args[1], args[0])};
        if (withLogs)
          sums.push_back(arith::AddFOp::create(
              nb, l, args[2], math::LogOp::create(nb, l, args[0])));
        return sums;
      });
  return SmallVector<Value>(generic.getResults());
}

/// Reduces every element of `input` into a 0-d f32 tensor with `combine`
/// and returns the scalar.
static Value
reduceAll(OpBuilder &b, Location loc, Value input,
          function_ref<Value(OpBuilder &, Location, Value, Value)> combine) {
  MLIRContext *ctx = b.getContext();
  int64_t rank = cast<RankedTensorType>(input.getType()).getRank();
  Value init = fill(
      b, loc, f32Constant(b, loc, 0.0f),
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{}, b.getF32Type()));
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx),
                                 AffineMap::get(rank, 0, ctx)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  auto generic = buildGeneric(
      b, loc, input, init, maps, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        return {combine(nb, l, args[0], args[1])};
      });
  return tensor::ExtractOp::create(b, loc, generic.getResult(0));
}

/// The spread s2: the unbiased variance of the Mf*C entries of
/// sqrt(window). NaN when Mf*C = 1 (0 / 0).
static Value windowSpread(OpBuilder &b, Location loc, Value window) {
  Value entries = arith::MulIOp::create(b, loc, dimSize(b, loc, window, 0),
                                        dimSize(b, loc, window, 1));
  Value n = arith::UIToFPOp::create(
      b, loc, b.getF32Type(),
      arith::IndexCastUIOp::create(b, loc, b.getI64Type(), entries));
  Value sum = reduceAll(b, loc, window,
                        [](OpBuilder &nb, Location l, Value w, Value acc) {
                          return arith::AddFOp::create(
                              nb, l, acc, math::SqrtOp::create(nb, l, w));
                        });
  Value mean = arith::DivFOp::create(b, loc, sum, n);
  Value squares = reduceAll(
      b, loc, window, [&](OpBuilder &nb, Location l, Value w, Value acc) {
        Value d =
            arith::SubFOp::create(nb, l, math::SqrtOp::create(nb, l, w), mean);
        return arith::AddFOp::create(nb, l, acc,
                                     arith::MulFOp::create(nb, l, d, d));
      });
  Value nMinusOne = arith::SubFOp::create(b, loc, n, f32Constant(b, loc, 1.0f));
  return arith::DivFOp::create(b, loc, squares, nMinusOne);
}

/// True if any channel has mean - exp(mean of logs) > threshold.
static Value anyOutlierChannel(OpBuilder &b, Location loc, Value sums,
                               Value logSums, Value rowsF32, Value threshold) {
  MLIRContext *ctx = b.getContext();
  Value init =
      fill(b, loc, arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0),
           tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{}, b.getI1Type()));
  AffineMap id = AffineMap::getMultiDimIdentityMap(1, ctx);
  auto generic = buildGeneric(
      b, loc, {sums, logSums}, init, {id, id, AffineMap::get(1, 0, ctx)},
      {utils::IteratorType::reduction},
      [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
        Value am = arith::DivFOp::create(nb, l, args[0], rowsF32);
        Value gm = math::ExpOp::create(
            nb, l, arith::DivFOp::create(nb, l, args[1], rowsF32));
        Value gap = arith::SubFOp::create(nb, l, am, gm);
        Value exceeds = arith::CmpFOp::create(nb, l, arith::CmpFPredicate::OGT,
                                              gap, threshold);
        return {arith::OrIOp::create(nb, l, args[2], exceeds)};
      });
  return tensor::ExtractOp::create(b, loc, generic.getResult(0));
}

namespace {
/// Steps 2-7 and 9 of the training forward (see un.train_forward).
struct ConvertSmoothForwardStatsOp : OpConversionPattern<SmoothForwardStatsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SmoothForwardStatsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    Value psi = adaptor.getPsi(), runningVar = adaptor.getRunningVar();
    Value window = adaptor.getWinX2(), t = adaptor.getT();
    float eps = op.getEps().convertToFloat();
    float momentum = op.getMomentum().convertToFloat();
    float rMax = op.getRMax().convertToFloat();
    int64_t warmup = op.getWarmupIters();
    WindowInfo info = getWindowInfo(b, loc, window, t, warmup);

    // 2. The spread of the window before the update.
    Value spread = windowSpread(b, loc, window);
    // 3. This step's statistic enters the window.
    Value updated = replaceRow(b, loc, window, psi, info.slot);
    SmallVector<Value> sums = columnSums(b, loc, updated, psi, true);
    // 4-5. skip, and the outlier test against s2 * Mf.
    Value falseValue = arith::ConstantIntOp::create(b, loc, b.getI1Type(), 0);
    Value outlier = falseValue;
    if (op.getOutlierFiltration()) {
      Value threshold = arith::MulFOp::create(b, loc, spread, info.rowsF32);
      Value any =
          anyOutlierChannel(b, loc, sums[0], sums[1], info.rowsF32, threshold);
      Value pastWarmup = arith::XOrIOp::create(
          b, loc, info.tBeforeW,
          arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1));
      outlier = arith::AndIOp::create(b, loc, any, pastWarmup);
    }
    Value singleRow =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ule, info.rowsI64,
                              i64Constant(b, loc, 1));
    Value skip = arith::OrIOp::create(b, loc, singleRow, outlier);
    Value skipsNew = arith::AddIOp::create(
        b, loc, adaptor.getSkips(),
        arith::ExtUIOp::create(b, loc, b.getI64Type(), outlier));
    // An outlier's row holds running_var instead of psi.
    Value row = arith::SelectOp::create(b, loc, outlier, runningVar, psi);
    Value windowNew = replaceRow(b, loc, window, row, info.slot);

    // 6. var: psi, or the geometric mean of the window; 7. r; 9. running_var.
    Value usePsi = arith::OrIOp::create(
        b, loc, arith::OrIOp::create(b, loc, info.tAtMostM, info.tBeforeW),
        skip);
    Value rPinned = arith::OrIOp::create(
        b, loc,
        arith::CmpIOp::create(
            b, loc, arith::CmpIPredicate::sle, t,
            i64Constant(b, loc, std::max<int64_t>(op.getRWarmup(), warmup))),
        skip);
    SmallVector<Value> results = mapChannels(
        b, loc, {psi, runningVar, sums[1]},
        {b.getF32Type(), b.getF32Type(), b.getF32Type()},
        [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
          Value psiC = args[0], rv = args[1];
          Value gm = math::ExpOp::create(
              nb, l, arith::DivFOp::create(nb, l, args[2], info.rowsF32));
          Value var = arith::SelectOp::create(nb, l, usePsi, psiC, gm);
          Value epsC = f32Constant(nb, l, eps);
          Value ratio = arith::DivFOp::create(
              nb, l,
              math::SqrtOp::create(nb, l,
                                   arith::AddFOp::create(nb, l, var, epsC)),
              math::SqrtOp::create(nb, l,
                                   arith::AddFOp::create(nb, l, rv, epsC)));
          Value clamped = arith::MinimumFOp::create(
              nb, l,
              arith::MaximumFOp::create(nb, l, ratio,
                                        f32Constant(nb, l, 1.0f / rMax)),
              f32Constant(nb, l, rMax));
          Value r = arith::SelectOp::create(nb, l, rPinned,
                                            f32Constant(nb, l, 1.0f), clamped);
          Value rvNew = arith::AddFOp::create(
              nb, l,
              arith::MulFOp::create(nb, l, f32Constant(nb, l, momentum), rv),
              arith::MulFOp::create(nb, l, f32Constant(nb, l, 1.0f - momentum),
                                    var));
          return {var, r, rvNew};
        });
    replaceOpWithCasts(
        rewriter, op,
        {results[0], results[1], skip, results[2], windowNew, skipsNew});
    return success();
  }
};

/// Steps 3-6 of the training backward (see un.train_backward).
struct ConvertSmoothGradStatsOp : OpConversionPattern<SmoothGradStatsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(SmoothGradStatsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    OpBuilder &b = rewriter;
    Value gz = adaptor.getGz(), ema = adaptor.getEmaGz();
    Value skip = adaptor.getSkip();
    float momentum = op.getMomentum().convertToFloat();
    WindowInfo info = getWindowInfo(b, loc, adaptor.getWinGz(), adaptor.getT(),
                                    op.getWarmupIters());

    Value row = arith::SelectOp::create(b, loc, skip, ema, gz);
    Value windowNew = replaceRow(b, loc, adaptor.getWinGz(), row, info.slot);
    Value sums = columnSums(b, loc, windowNew, gz, false).front();
    Value useGz = arith::OrIOp::create(
        b, loc, arith::OrIOp::create(b, loc, info.tAtMostM, info.tBeforeW),
        skip);
    SmallVector<Value> results = mapChannels(
        b, loc, {gz, ema, sums}, {b.getF32Type(), b.getF32Type()},
        [&](OpBuilder &nb, Location l, ValueRange args) -> SmallVector<Value> {
          Value mean = arith::DivFOp::create(nb, l, args[2], info.rowsF32);
          Value mu = arith::SelectOp::create(nb, l, useGz, args[0], mean);
          Value emaNew = arith::AddFOp::create(
              nb, l,
              arith::MulFOp::create(nb, l, f32Constant(nb, l, momentum),
                                    args[1]),
              arith::MulFOp::create(nb, l, f32Constant(nb, l, 1.0f - momentum),
                                    mu));
          Value coef = arith::SelectOp::create(nb, l, skip, mu, emaNew);
          return {coef, emaNew};
        });
    replaceOpWithCasts(rewriter, op, {results[0], results[1], windowNew});
    return success();
  }
};
} // namespace

void un::populateUNStatisticsUpdatePatterns(RewritePatternSet &patterns) {
  patterns.add<ConvertSmoothForwardStatsOp, ConvertSmoothGradStatsOp>(
      patterns.getContext());
}
