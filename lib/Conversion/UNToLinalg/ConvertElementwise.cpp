//===- ConvertElementwise.cpp - Elementwise un ops --------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// `un.normalize`, `un.input_grad` and `un.affine`: one parallel
// linalg.generic over the activation each, with per-channel vectors
// broadcast along the tokens. Per-channel square roots are computed once
// in a [C] map, not per element. Arithmetic is f32; results are stored in
// the activation element type.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "un/Conversion/UNToLinalg/UNToLinalg.h"
#include "un/Dialect/UN/IR/UNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/DialectConversion.h"

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::lowering;

/// sqrt(var + eps) per channel.
static Value standardDeviation(OpBuilder &b, Location loc, Value var,
                               float eps) {
  return mapChannels(b, loc, var, {b.getF32Type()},
                     [&](OpBuilder &nb, Location l,
                         ValueRange args) -> SmallVector<Value> {
                       Value sum = arith::AddFOp::create(
                           nb, l, args[0], f32Constant(nb, l, eps));
                       return {math::SqrtOp::create(nb, l, sum)};
                     })
      .front();
}

/// A parallel generic over `activation` with `channelInputs` broadcast
/// along the tokens and `numResults` outputs shaped like `activation`.
static linalg::GenericOp mapActivation(OpBuilder &b, Location loc,
                                       ValueRange activations,
                                       ValueRange channelInputs,
                                       unsigned numResults, GenericBody body) {
  Value like = activations.front();
  auto type = cast<RankedTensorType>(like.getType());
  ActivationMaps maps = getActivationMaps(b.getContext(), type.getRank());
  SmallVector<Value> inputs(activations);
  llvm::append_range(inputs, channelInputs);
  SmallVector<AffineMap> indexing(activations.size(), maps.all);
  indexing.append(channelInputs.size(), maps.channel);
  indexing.append(numResults, maps.all);
  SmallVector<Value> outputs;
  for (unsigned i = 0; i < numResults; ++i)
    outputs.push_back(
        emptyTensorLike(b, loc, type, like, type.getElementType()));
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  return buildGeneric(b, loc, inputs, outputs, indexing, iterators, body);
}

namespace {
/// z = x / sqrt(var + eps); y = gamma * z + beta. Only the results that
/// are used are computed (inference uses y alone).
struct ConvertNormalizeOp : OpConversionPattern<NormalizeOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(NormalizeOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type elementType = op.getX().getType().getElementType();
    bool needZ = !op.getZ().use_empty(), needY = !op.getY().use_empty();
    if (!needZ && !needY) {
      rewriter.eraseOp(op);
      return success();
    }
    Value std = standardDeviation(rewriter, loc, adaptor.getVar(),
                                  op.getEps().convertToFloat());
    auto generic = mapActivation(
        rewriter, loc, adaptor.getX(),
        {std, adaptor.getGamma(), adaptor.getBeta()}, needZ + needY,
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value z = arith::DivFOp::create(b, l, toF32(b, l, args[0]), args[1]);
          SmallVector<Value> results;
          if (needZ)
            results.push_back(fromF32(b, l, z, elementType));
          if (needY) {
            Value scaled = arith::MulFOp::create(b, l, toF32(b, l, args[2]), z);
            Value shift = toF32(b, l, args[3]);
            Value y = arith::AddFOp::create(b, l, scaled, shift);
            results.push_back(fromF32(b, l, y, elementType));
          }
          return results;
        });
    ResultRange results = generic.getResults();
    Value z = needZ ? results.front() : Value();
    Value y = needY ? results.back() : Value();
    if (z && z.getType() != op.getZ().getType())
      z = tensor::CastOp::create(rewriter, loc, op.getZ().getType(), z);
    if (y && y.getType() != op.getY().getType())
      y = tensor::CastOp::create(rewriter, loc, op.getY().getType(), y);
    // An unused result is replaced by the used one only to satisfy the
    // rewriter; it has no uses.
    rewriter.replaceOp(op, {z ? z : y, y ? y : z});
    return success();
  }
};

/// gx = (gy * gamma * r - coef * z) / sqrt(var + eps).
struct ConvertInputGradOp : OpConversionPattern<InputGradOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(InputGradOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Type elementType = op.getGy().getType().getElementType();
    Value std = standardDeviation(rewriter, loc, adaptor.getVar(),
                                  op.getEps().convertToFloat());
    auto generic = mapActivation(
        rewriter, loc, {adaptor.getGy(), adaptor.getZ()},
        {adaptor.getGamma(), adaptor.getR(), adaptor.getCoef(), std}, 1,
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value gy = toF32(b, l, args[0]), z = toF32(b, l, args[1]);
          Value gGamma = arith::MulFOp::create(b, l, gy, toF32(b, l, args[2]));
          Value g = arith::MulFOp::create(b, l, gGamma, args[3]);
          Value coefZ = arith::MulFOp::create(b, l, args[4], z);
          Value h = arith::SubFOp::create(b, l, g, coefZ);
          Value gx = arith::DivFOp::create(b, l, h, args[5]);
          return {fromF32(b, l, gx, elementType)};
        });
    replaceOpWithCasts(rewriter, op, generic.getResults());
    return success();
  }
};

/// y = scale * x + shift.
struct ConvertAffineOp : OpConversionPattern<AffineOp> {
  using OpConversionPattern::OpConversionPattern;

  LogicalResult
  matchAndRewrite(AffineOp op, OpAdaptor adaptor,
                  ConversionPatternRewriter &rewriter) const override {
    Type elementType = op.getX().getType().getElementType();
    auto generic = mapActivation(
        rewriter, op.getLoc(), adaptor.getX(),
        {adaptor.getScale(), adaptor.getShift()}, 1,
        [&](OpBuilder &b, Location l, ValueRange args) -> SmallVector<Value> {
          Value x = toF32(b, l, args[0]);
          Value scaled = arith::MulFOp::create(b, l, toF32(b, l, args[1]), x);
          Value shift = toF32(b, l, args[2]);
          Value y = arith::AddFOp::create(b, l, scaled, shift);
          return {fromF32(b, l, y, elementType)};
        });
    replaceOpWithCasts(rewriter, op, generic.getResults());
    return success();
  }
};
} // namespace

void un::populateUNElementwisePatterns(RewritePatternSet &patterns) {
  patterns.add<ConvertNormalizeOp, ConvertInputGradOp, ConvertAffineOp>(
      patterns.getContext());
}
