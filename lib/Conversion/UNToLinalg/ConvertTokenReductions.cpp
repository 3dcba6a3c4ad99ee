//===- ConvertTokenReductions.cpp - Reductions over tokens ------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// `un.quadratic_mean` and `un.grad_stats`: per-channel sums over every token
// of a channels-last activation, accumulated in f32 by one linalg.generic
// whose only parallel dim is the innermost (channel) one, then a tiny [C]
// map that divides by the token count and casts. With `all_ranks` the sums
// and the count are first summed over every process (un.sum_across_ranks).
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "un/Conversion/UNToLinalg/UNToLinalg.h"
#include "un/Dialect/UN/IR/UNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::lowering;

/// The number of unpadded tokens (`mask` false), as an f32 value.
static Value unpaddedTokenCountF32(OpBuilder &b, Location loc, Value mask) {
  auto maskType = cast<RankedTensorType>(mask.getType());
  int64_t rank = maskType.getRank();
  Value zero = arith::ConstantIntOp::create(b, loc, b.getI64Type(), 0);
  Value init = fill(
      b, loc, zero,
      tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{}, b.getI64Type()));
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineMap> maps = {AffineMap::getMultiDimIdentityMap(rank, ctx),
                                 AffineMap::get(rank, 0, ctx)};
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::reduction);
  auto count = buildGeneric(
      b, loc, mask, init, maps, iterators,
      [](OpBuilder &nb, Location nloc, ValueRange args) -> SmallVector<Value> {
        Value one = arith::ConstantIntOp::create(nb, nloc, nb.getI1Type(), 1);
        Value kept = arith::XOrIOp::create(nb, nloc, args[0], one);
        Value inc = arith::ExtUIOp::create(nb, nloc, nb.getI64Type(), kept);
        return {arith::AddIOp::create(nb, nloc, args[1], inc)};
      });
  Value total = tensor::ExtractOp::create(b, loc, count.getResult(0));
  return arith::UIToFPOp::create(b, loc, b.getF32Type(), total);
}

/// `sums` ([C] f32) and `count` (f32) summed over every process: one
/// un.sum_across_ranks of the vector [sums..., count].
static std::pair<Value, Value> sumAcrossRanks(OpBuilder &b, Location loc,
                                              Value sums, Value count) {
  auto type = cast<RankedTensorType>(sums.getType());
  int64_t channels = type.getDimSize(0);
  Value c = tensor::DimOp::create(b, loc, sums, 0);
  auto packedType = RankedTensorType::get(
      {ShapedType::isDynamic(channels) ? ShapedType::kDynamic : channels + 1},
      b.getF32Type());
  SmallVector<Value> dynamicSize;
  if (ShapedType::isDynamic(channels))
    dynamicSize.push_back(arith::AddIOp::create(
        b, loc, c, arith::ConstantIndexOp::create(b, loc, 1)));
  auto empty = [&] {
    return tensor::EmptyOp::create(b, loc, packedType, dynamicSize);
  };
  OpFoldResult zero = b.getIndexAttr(0), one = b.getIndexAttr(1);
  OpFoldResult size = ShapedType::isDynamic(channels)
                          ? OpFoldResult(c)
                          : OpFoldResult(b.getIndexAttr(channels));
  Value packed = tensor::InsertSliceOp::create(b, loc, sums, empty(), {zero},
                                               {size}, {one});
  packed = tensor::InsertOp::create(b, loc, count, packed, ValueRange{c});
  Value total =
      SumAcrossRanksOp::create(b, loc, packedType, packed, empty()).getResult();
  Value totalSums = tensor::ExtractSliceOp::create(b, loc, type, total, {zero},
                                                   {size}, {one});
  Value totalCount = tensor::ExtractOp::create(b, loc, total, ValueRange{c});
  return {totalSums, totalCount};
}

namespace {
/// psi[c] = (1/T') * sum over unpadded tokens of x[tok, c]^2.
struct ConvertQuadraticMeanOp : OpConversionPattern<QuadraticMeanOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(QuadraticMeanOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value x = adaptor.getX(), mask = adaptor.getMask();
    int64_t rank = cast<RankedTensorType>(x.getType()).getRank();
    ActivationMaps maps = getActivationMaps(getContext(), rank);
    RankedTensorType psiType = op.getType();

    Value zero = f32Constant(rewriter, loc, 0.0f);
    Value init = fill(rewriter, loc, zero,
                      emptyChannelTensor(rewriter, loc, psiType, x));
    SmallVector<Value> inputs = {x};
    SmallVector<AffineMap> indexing = {maps.all};
    if (mask) {
      inputs.push_back(mask);
      indexing.push_back(maps.tokens);
    }
    indexing.push_back(maps.channel);
    auto sum = buildGeneric(
        rewriter, loc, inputs, init, indexing, tokenReductionIterators(rank),
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value v = toF32(b, l, args[0]);
          Value square = arith::MulFOp::create(b, l, v, v);
          if (mask) {
            Value zeroF = f32Constant(b, l, 0.0f);
            square = arith::SelectOp::create(b, l, args[1], zeroF, square);
          }
          return {arith::AddFOp::create(b, l, args.back(), square)};
        });

    Value count = mask ? unpaddedTokenCountF32(rewriter, loc, mask)
                       : tokenCountF32(rewriter, loc, x);
    Value squares = sum.getResult(0);
    if (op.getAllRanks())
      std::tie(squares, count) = sumAcrossRanks(rewriter, loc, squares, count);
    SmallVector<Value> psi = mapChannels(
        rewriter, loc, squares, {rewriter.getF32Type()},
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          return {arith::DivFOp::create(b, l, args[0], count)};
        });
    replaceOpWithCasts(rewriter, op, psi);
    return success();
  }
};

/// gz = (1/T) sum (gy * gamma * r) * z; ggamma = sum (gy * r) * z;
/// gbeta = sum gy; all tokens, padded ones included.
struct ConvertGradStatsOp : OpConversionPattern<GradStatsOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(GradStatsOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value gy = adaptor.getGy();
    int64_t rank = cast<RankedTensorType>(gy.getType()).getRank();
    ActivationMaps maps = getActivationMaps(getContext(), rank);
    auto gzType = cast<RankedTensorType>(op.getGz().getType());

    Value zero = f32Constant(rewriter, loc, 0.0f);
    Value init = fill(rewriter, loc, zero,
                      emptyChannelTensor(rewriter, loc, gzType, gy));
    auto sums = buildGeneric(
        rewriter, loc, {gy, adaptor.getZ(), adaptor.getR(), adaptor.getGamma()},
        {init, init, init},
        {maps.all, maps.all, maps.channel, maps.channel, maps.channel,
         maps.channel, maps.channel},
        tokenReductionIterators(rank),
        [](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value g = toF32(b, l, args[0]), z = toF32(b, l, args[1]);
          Value r = args[2], gamma = toF32(b, l, args[3]);
          Value grad = arith::MulFOp::create(
              b, l, arith::MulFOp::create(b, l, g, gamma), r);
          Value gr = arith::MulFOp::create(b, l, g, r);
          return {arith::AddFOp::create(b, l, args[4],
                                        arith::MulFOp::create(b, l, grad, z)),
                  arith::AddFOp::create(b, l, args[5],
                                        arith::MulFOp::create(b, l, gr, z)),
                  arith::AddFOp::create(b, l, args[6], g)};
        });

    Value count = tokenCountF32(rewriter, loc, gy);
    SmallVector<Value> totals = sums.getResults();
    if (op.getAllRanks())
      std::tie(totals[0], count) =
          sumAcrossRanks(rewriter, loc, totals[0], count);
    Type elementType =
        cast<RankedTensorType>(op.getGgamma().getType()).getElementType();
    SmallVector<Value> results = mapChannels(
        rewriter, loc, totals,
        {rewriter.getF32Type(), elementType, elementType},
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          return {arith::DivFOp::create(b, l, args[0], count),
                  fromF32(b, l, args[1], elementType),
                  fromF32(b, l, args[2], elementType)};
        });
    replaceOpWithCasts(rewriter, op, results);
    return success();
  }
};
} // namespace

void un::populateUNTokenReductionPatterns(RewritePatternSet &patterns) {
  patterns.add<ConvertQuadraticMeanOp, ConvertGradStatsOp>(
      patterns.getContext());
}
