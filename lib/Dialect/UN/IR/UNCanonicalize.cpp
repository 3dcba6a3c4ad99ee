//===- UNCanonicalize.cpp - UN folds and canonicalizations ------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Only rewrites that are identities of the spec live here:
//  - `un.infer` with constant gamma and running_var (dense or
//    dense_resource) becomes `un.affine` with a constant scale
//    gamma / sqrt(running_var + eps) (computeInferScale, as the fold into
//    linear layers computes it);
//  - `un.affine` with scale 1 and shift 0 folds to its input;
//  - a constant all-false padding mask is dropped (no token is padded).
//
//===----------------------------------------------------------------------===//

#include "un/Dialect/UN/IR/ConstantFolding.h"
#include "un/Dialect/UN/IR/UNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace mlir::un;

/// True if `value` is a constant whose every element equals `expected`.
static bool isSplatConstant(Value value, double expected) {
  DenseFPElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)) || !attr.isSplat())
    return false;
  APFloat splat = attr.getSplatValue<APFloat>();
  if (expected == 0.0)
    return splat.isZero();
  return splat.isExactlyValue(expected);
}

/// True if `mask` is a constant with no padded token.
static bool isAllFalseMask(Value mask) {
  DenseIntElementsAttr attr;
  return mask && matchPattern(mask, m_Constant(&attr)) && attr.isSplat() &&
         !attr.getSplatValue<bool>();
}

namespace {
/// `un.infer` with constant gamma and running_var is the per-channel affine
/// map with scale a = gamma / sqrt(running_var + eps) and shift beta.
struct InferWithConstantStatsToAffine : OpRewritePattern<InferOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(InferOp op,
                                PatternRewriter &rewriter) const override {
    ElementsAttr gammaAttr, runningVarAttr;
    std::optional<SmallVector<double>> gamma, runningVar;
    if (matchPattern(op.getGamma(), m_Constant(&gammaAttr)))
      gamma = readFloatElements(gammaAttr);
    if (!gamma)
      return rewriter.notifyMatchFailure(op, "gamma is not a constant");
    if (matchPattern(op.getRunningVar(), m_Constant(&runningVarAttr)))
      runningVar = readFloatElements(runningVarAttr);
    if (!runningVar)
      return rewriter.notifyMatchFailure(op, "running_var is not a constant");

    SmallVector<double> scale =
        computeInferScale(*gamma, *runningVar, op.getEps().convertToFloat());
    SmallVector<float> asF32(scale.begin(), scale.end());
    auto scaleType = RankedTensorType::get({static_cast<int64_t>(scale.size())},
                                           rewriter.getF32Type());
    Value scaleValue = arith::ConstantOp::create(
        rewriter, op.getLoc(),
        DenseElementsAttr::get(scaleType, ArrayRef<float>(asF32)));
    rewriter.replaceOpWithNewOp<AffineOp>(op, op.getType(), op.getX(),
                                          scaleValue, op.getBeta());
    return success();
  }
};

/// Drops a constant all-false padding mask from `OpTy`.
template <typename OpTy> struct DropAllFalseMask : OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (!isAllFalseMask(op.getMask()))
      return rewriter.notifyMatchFailure(op, "no constant all-false mask");
    rewriter.modifyOpInPlace(op, [&] { op.getMaskMutable().clear(); });
    return success();
  }
};
} // namespace

void InferOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                          MLIRContext *context) {
  results.add<InferWithConstantStatsToAffine>(context);
}

void TrainForwardOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                                 MLIRContext *context) {
  results.add<DropAllFalseMask<TrainForwardOp>>(context);
}

void QuadraticMeanOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                                  MLIRContext *context) {
  results.add<DropAllFalseMask<QuadraticMeanOp>>(context);
}

OpFoldResult AffineOp::fold(FoldAdaptor) {
  if (isSplatConstant(getScale(), 1.0) && isSplatConstant(getShift(), 0.0))
    return getX();
  return {};
}
