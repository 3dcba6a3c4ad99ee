//===- Decompose.cpp - Composite un ops to primitives -----------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Dialect/UN/IR/UNOps.h"
#include "un/Dialect/UN/Transforms/Passes.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNDECOMPOSE
#include "un/Dialect/UN/Transforms/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;
using namespace mlir::un;

namespace {
/// train_forward = quadratic_mean -> smooth_forward_stats -> normalize
/// (`all_ranks` goes to the reduction over tokens).
struct DecomposeTrainForward : OpRewritePattern<TrainForwardOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TrainForwardOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    Value psi =
        QuadraticMeanOp::create(rewriter, loc, op.getRunningVar().getType(),
                                op.getX(), op.getMask(), op.getAllRanks());
    auto stats = SmoothForwardStatsOp::create(
        rewriter, loc, op.getVar().getType(), op.getR().getType(),
        op.getSkip().getType(), op.getRunningVarNew().getType(),
        op.getWinX2New().getType(), op.getSkipsNew().getType(), psi,
        op.getRunningVar(), op.getWinX2(), op.getT(), op.getSkips(),
        op.getEpsAttr(), op.getMomentumAttr(), op.getWarmupItersAttr(),
        op.getOutlierFiltrationAttr(), op.getRMaxAttr(), op.getRWarmupAttr());
    auto normalize = NormalizeOp::create(
        rewriter, loc, op.getZ().getType(), op.getY().getType(), op.getX(),
        stats.getVar(), op.getGamma(), op.getBeta(), op.getEpsAttr());
    rewriter.replaceOp(op,
                       {normalize.getY(), normalize.getZ(), stats.getVar(),
                        stats.getR(), stats.getSkip(), stats.getRunningVarNew(),
                        stats.getWinX2New(), stats.getSkipsNew()});
    return success();
  }
};

/// train_backward = grad_stats -> smooth_grad_stats -> input_grad
/// (`all_ranks` goes to the reduction over tokens).
struct DecomposeTrainBackward : OpRewritePattern<TrainBackwardOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TrainBackwardOp op,
                                PatternRewriter &rewriter) const override {
    Location loc = op.getLoc();
    auto stats = GradStatsOp::create(
        rewriter, loc, op.getEmaGz().getType(), op.getGgamma().getType(),
        op.getGbeta().getType(), op.getGy(), op.getZ(), op.getR(),
        op.getGamma(), op.getAllRanks());
    auto smooth = SmoothGradStatsOp::create(
        rewriter, loc, op.getEmaGz().getType(), op.getEmaGzNew().getType(),
        op.getWinGzNew().getType(), stats.getGz(), op.getSkip(), op.getEmaGz(),
        op.getWinGz(), op.getT(), op.getMomentumAttr(),
        op.getWarmupItersAttr());
    Value gx = InputGradOp::create(
        rewriter, loc, op.getGx().getType(), op.getGy(), op.getZ(), op.getVar(),
        op.getR(), op.getGamma(), smooth.getCoef(), op.getEpsAttr());
    rewriter.replaceOp(op, {gx, stats.getGgamma(), stats.getGbeta(),
                            smooth.getEmaGzNew(), smooth.getWinGzNew()});
    return success();
  }
};

/// infer = normalize with the running statistics (its `y`; `z` is unused).
struct DecomposeInfer : OpRewritePattern<InferOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(InferOp op,
                                PatternRewriter &rewriter) const override {
    auto normalize = NormalizeOp::create(
        rewriter, op.getLoc(), op.getType(), op.getType(), op.getX(),
        op.getRunningVar(), op.getGamma(), op.getBeta(), op.getEpsAttr());
    rewriter.replaceOp(op, normalize.getY());
    return success();
  }
};

struct UNDecomposePass : un::impl::UNDecomposeBase<UNDecomposePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateUNDecomposePatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace

void un::populateUNDecomposePatterns(RewritePatternSet &patterns) {
  patterns.add<DecomposeTrainForward, DecomposeTrainBackward, DecomposeInfer>(
      patterns.getContext());
}
