//===- CPUTileAndVectorize.cpp - Register-tiled matmuls ---------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Runs on buffers (after bufferization). Every linalg.matmul and
// linalg.batch_matmul with static f32 shapes and the default indexing maps
// (and every linalg.generic that specializes to one) becomes:
//
//   for b (batch_matmul only; rank-reduced subviews)
//     for each of up to four rectangles of the [M, N] result: the part
//     divisible by the register tile [tm, tn], and the M and N remainders,
//     tiled by the remainder itself, so every tile has a static shape:
//       for i, for j:              C[i:i+tm, j:j+tn] stays in registers
//         for k (step 1):          acc += A[i:i+tm, k] (x) B[k, j:j+tn]
//
// The tile is emitted directly in the vector dialect: the accumulator is
// read once before the k loop (a loop-carried vector<tm x tn>) and written
// once after it; each step of k is one vector.contract of a [tm, 1] column
// of A and a [1, tn] row of B. The contraction is lowered later, by
// convert-vector-to-llvm{vector-contract-lowering=outerproduct}, to one
// vector FMA per row of the tile. The summation over k is still in order,
// k = 0, 1, ..., K-1, for every element (with fused multiply-adds).
//
//===----------------------------------------------------------------------===//

#include "un/Dialect/UN/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNCPUTILEANDVECTORIZE
#include "un/Dialect/UN/Transforms/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

/// A static, f32 memref with any strides.
static bool isStaticF32Buffer(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && type.hasStaticShape() && type.getElementType().isF32();
}

static LogicalResult checkOperands(PatternRewriter &rewriter,
                                   linalg::LinalgOp op) {
  if (!op.hasPureBufferSemantics())
    return rewriter.notifyMatchFailure(op, "not on buffers");
  if (op.hasUserDefinedMaps())
    return rewriter.notifyMatchFailure(op, "transposed or broadcast operands");
  for (Value v : op->getOperands())
    if (!isStaticF32Buffer(v))
      return rewriter.notifyMatchFailure(op, "not a static f32 memref");
  return success();
}

static Value subview(OpBuilder &b, Location loc, Value source,
                     ArrayRef<OpFoldResult> offsets, ArrayRef<int64_t> sizes) {
  SmallVector<OpFoldResult> sizeAttrs, strides;
  for (int64_t s : sizes) {
    sizeAttrs.push_back(b.getIndexAttr(s));
    strides.push_back(b.getIndexAttr(1));
  }
  return memref::SubViewOp::create(b, loc, source, offsets, sizeAttrs, strides);
}

/// C[m0:m0+ms, n0:n0+ns] += A[m0:m0+ms, :] B[:, n0:n0+ns], in register tiles
/// of [tm, tn] (which divide [ms, ns]).
static void emitTiledRectangle(OpBuilder &b, Location loc, Value a, Value bm,
                               Value c, int64_t m0, int64_t ms, int64_t n0,
                               int64_t ns, int64_t tm, int64_t tn) {
  int64_t k = cast<MemRefType>(a.getType()).getShape()[1];
  auto cst = [&](int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  };
  auto iLoop = scf::ForOp::create(b, loc, cst(m0), cst(m0 + ms), cst(tm));
  b.setInsertionPointToStart(iLoop.getBody());
  Value i = iLoop.getInductionVar();
  auto jLoop = scf::ForOp::create(b, loc, cst(n0), cst(n0 + ns), cst(tn));
  b.setInsertionPointToStart(jLoop.getBody());
  Value j = jLoop.getInductionVar();
  Value cTile = subview(b, loc, c, {i, j}, {tm, tn});
  Value zero = cst(0);
  Value pad = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  auto readTile = [&](Value view, int64_t rows, int64_t cols) -> Value {
    auto type = VectorType::get({rows, cols}, b.getF32Type());
    return vector::TransferReadOp::create(b, loc, type, view,
                                          ValueRange{zero, zero}, pad,
                                          ArrayRef<bool>{true, true});
  };
  Value acc0 = readTile(cTile, tm, tn);
  auto kLoop =
      scf::ForOp::create(b, loc, cst(0), cst(k), cst(1), ValueRange{acc0});
  b.setInsertionPointToStart(kLoop.getBody());
  Value kk = kLoop.getInductionVar();
  Value aCol = readTile(subview(b, loc, a, {i, kk}, {tm, 1}), tm, 1);
  Value bRow = readTile(subview(b, loc, bm, {kk, j}, {1, tn}), 1, tn);
  MLIRContext *ctx = b.getContext();
  AffineExpr dm, dn, dk;
  bindDims(ctx, dm, dn, dk);
  SmallVector<AffineMap> maps = {AffineMap::get(3, 0, {dm, dk}, ctx),
                                 AffineMap::get(3, 0, {dk, dn}, ctx),
                                 AffineMap::get(3, 0, {dm, dn}, ctx)};
  auto par = vector::IteratorTypeAttr::get(ctx, vector::IteratorType::parallel);
  auto red =
      vector::IteratorTypeAttr::get(ctx, vector::IteratorType::reduction);
  Value acc = vector::ContractionOp::create(
      b, loc, aCol, bRow, kLoop.getRegionIterArgs()[0],
      b.getAffineMapArrayAttr(maps), b.getArrayAttr({par, par, red}));
  scf::YieldOp::create(b, loc, acc);
  b.setInsertionPointAfter(kLoop);
  vector::TransferWriteOp::create(b, loc, kLoop.getResult(0), cTile,
                                  ValueRange{zero, zero},
                                  ArrayRef<bool>{true, true});
}

/// The 2-D matmul C += A B on static buffers, split into static-shaped
/// register tiles.
static void emitTiledMatmul(OpBuilder &b, Location loc, Value a, Value bm,
                            Value c, int64_t tileM, int64_t tileN) {
  ArrayRef<int64_t> shape = cast<MemRefType>(c.getType()).getShape();
  int64_t m = shape[0], n = shape[1];
  int64_t mMain = m - m % tileM, nMain = n - n % tileN;
  struct Part {
    int64_t m0, ms, n0, ns;
  };
  Part parts[] = {{0, mMain, 0, nMain},
                  {0, mMain, nMain, n - nMain},
                  {mMain, m - mMain, 0, nMain},
                  {mMain, m - mMain, nMain, n - nMain}};
  for (const Part &p : parts) {
    if (p.ms == 0 || p.ns == 0)
      continue;
    OpBuilder::InsertionGuard guard(b);
    emitTiledRectangle(b, loc, a, bm, c, p.m0, p.ms, p.n0, p.ns,
                       std::min(tileM, p.ms), std::min(tileN, p.ns));
  }
}

namespace {

/// A static matmul on buffers -> register tiles. (The tiles are not linalg
/// ops, so nothing created here matches again.)
struct TileMatmul : OpRewritePattern<linalg::MatmulOp> {
  TileMatmul(MLIRContext *ctx, int64_t tileM, int64_t tileN)
      : OpRewritePattern(ctx), tileM(tileM), tileN(tileN) {}

  LogicalResult matchAndRewrite(linalg::MatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkOperands(rewriter, op)))
      return failure();
    if (op.getCast() != linalg::TypeFn::cast_signed)
      return rewriter.notifyMatchFailure(op, "non-default cast");
    emitTiledMatmul(rewriter, op.getLoc(), op.getInputs()[0], op.getInputs()[1],
                    op.getOutputs()[0], tileM, tileN);
    rewriter.eraseOp(op);
    return success();
  }

  int64_t tileM, tileN;
};

/// A static batch_matmul on buffers -> a loop over the batch of register
/// tiled matmuls on rank-reduced views.
struct TileBatchMatmul : OpRewritePattern<linalg::BatchMatmulOp> {
  TileBatchMatmul(MLIRContext *ctx, int64_t tileM, int64_t tileN)
      : OpRewritePattern(ctx), tileM(tileM), tileN(tileN) {}

  LogicalResult matchAndRewrite(linalg::BatchMatmulOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(checkOperands(rewriter, op)))
      return failure();
    Location loc = op.getLoc();
    Value a = op.getInputs()[0], bm = op.getInputs()[1], c = op.getOutputs()[0];
    int64_t batch = cast<MemRefType>(c.getType()).getShape()[0];
    auto cst = [&](int64_t v) {
      return arith::ConstantIndexOp::create(rewriter, loc, v).getResult();
    };
    auto loop = scf::ForOp::create(rewriter, loc, cst(0), cst(batch), cst(1));
    rewriter.setInsertionPointToStart(loop.getBody());
    Value bIv = loop.getInductionVar();
    auto slice = [&](Value source) -> Value {
      auto type = cast<MemRefType>(source.getType());
      ArrayRef<int64_t> shape = type.getShape();
      SmallVector<OpFoldResult> offsets = {bIv, rewriter.getIndexAttr(0),
                                           rewriter.getIndexAttr(0)};
      SmallVector<OpFoldResult> sizes = {rewriter.getIndexAttr(1),
                                         rewriter.getIndexAttr(shape[1]),
                                         rewriter.getIndexAttr(shape[2])};
      SmallVector<OpFoldResult> strides(3, rewriter.getIndexAttr(1));
      MemRefType reduced = memref::SubViewOp::inferRankReducedResultType(
          {shape[1], shape[2]}, type, offsets, sizes, strides);
      return memref::SubViewOp::create(rewriter, loc, reduced, source, offsets,
                                       sizes, strides);
    };
    emitTiledMatmul(rewriter, loc, slice(a), slice(bm), slice(c), tileM, tileN);
    rewriter.eraseOp(op);
    return success();
  }

  int64_t tileM, tileN;
};

/// A contraction generic on buffers that is a plain matmul or batch_matmul
/// -> the named op (which the patterns above then tile).
struct SpecializeMatmulGeneric : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureBufferSemantics())
      return rewriter.notifyMatchFailure(op, "not on buffers");
    if (!linalg::isaContractionOpInterface(op))
      return rewriter.notifyMatchFailure(op, "not a contraction");
    for (Value v : op->getOperands())
      if (!isStaticF32Buffer(v))
        return rewriter.notifyMatchFailure(op, "not a static f32 memref");
    // Other contractions become other named ops (or stay generics); the
    // ones that are not plain matmuls go to convert-linalg-to-loops.
    FailureOr<linalg::LinalgOp> named =
        linalg::specializeGenericOp(rewriter, op);
    if (failed(named))
      return rewriter.notifyMatchFailure(op, "no named form");
    return success();
  }
};

struct UNCPUTileAndVectorizePass
    : un::impl::UNCPUTileAndVectorizeBase<UNCPUTileAndVectorizePass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    if (tileM <= 0 || tileN <= 0) {
      getOperation()->emitError("tile-m and tile-n must be positive");
      return signalPassFailure();
    }

    RewritePatternSet patterns(ctx);
    patterns.add<TileMatmul, TileBatchMatmul>(ctx, tileM, tileN);
    if (specializeGenerics)
      patterns.add<SpecializeMatmulGeneric>(ctx);
    GreedyRewriteConfig config;
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    if (failed(
            applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
  }
};

} // namespace
