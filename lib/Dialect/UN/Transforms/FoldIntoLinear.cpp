//===- FoldIntoLinear.cpp - Fold inference UN into linear layers -*- C++ -*-=//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Inference UN is the per-channel affine map y = a * x + beta with
// a = gamma / sqrt(running_var + eps). These patterns turn `un.infer` into
// `un.affine` and fold the affine map into the weights and bias of a
// neighbouring linear layer (spec, "Folding into linear layers"):
//
//  - UN before a layer u W + b:  x (diag(a) W) + (beta W + b);
//  - UN after a layer u V + c:   u (V diag(a)) + (a c + beta).
//
// Legality lives in FoldIntoLinearAnalysis.cpp, the weight work in
// WeightPrep.cpp and the outlining of that work in HoistWeightPrep.cpp.
//
//===----------------------------------------------------------------------===//

#include "FoldIntoLinearAnalysis.h"
#include "HoistWeightPrep.h"
#include "PackMatmulWeights.h"
#include "WeightPrep.h"

#include "un/Dialect/UN/IR/UNOps.h"
#include "un/Dialect/UN/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "un-fold-into-linear"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNFOLDINTOLINEAR
#include "un/Dialect/UN/Transforms/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::fold;

/// Clones `views` in order, the first one reading `source` instead of its
/// own source; returns the last result (or `source` if there is no view).
static Value cloneViews(RewriterBase &rewriter, ArrayRef<Operation *> views,
                        Value source) {
  for (Operation *view : views) {
    IRMapping mapping;
    mapping.map(getViewSource(view).get(), source);
    source = rewriter.clone(*view, mapping)->getResult(0);
  }
  return source;
}

/// x (diag(a) W) + beta W (+ b): rewrites the contraction to read x and
/// the scaled weight, and adds beta W to its bias or to its init.
static void applyConsumerFold(RewriterBase &rewriter, AffineOp affine,
                              const ConsumerFold &plan) {
  linalg::LinalgOp contraction = plan.contraction;
  Location loc = contraction.getLoc();
  rewriter.setInsertionPoint(contraction);
  Value input = cloneViews(rewriter, plan.views, affine.getX());
  OpOperand *weight = contraction.getDpsInputOperand(plan.weightIndex);
  Value scaled = buildScaleAlongDim(rewriter, loc, weight->get(),
                                    plan.weightDim, affine.getScale());
  Value betaW = buildContractAlongDim(rewriter, loc, weight->get(),
                                      plan.weightDim, affine.getShift());
  OpOperand *init = contraction.getDpsInitOperand(0);
  if (plan.biasAdd) {
    rewriter.setInsertionPoint(plan.biasAdd);
    OpOperand &bias = plan.biasAdd->getOpOperand(plan.biasIndex);
    Value newBias = buildAdd(rewriter, loc, bias.get(), betaW);
    rewriter.modifyOpInPlace(plan.biasAdd, [&] { bias.set(newBias); });
  } else {
    linalg::FillOp fill = plan.initFill;
    Value newInit =
        buildBroadcastInit(rewriter, loc, init->get(), fill.getInputs().front(),
                           betaW, plan.weightDimsInOutput);
    rewriter.modifyOpInPlace(contraction, [&] { init->set(newInit); });
  }
  rewriter.modifyOpInPlace(contraction, [&] {
    contraction.getDpsInputOperand(plan.activationIndex)->set(input);
    weight->set(scaled);
  });
}

/// u (V diag(a)) + (a c + beta): rebuilds the chain from the contraction to
/// the affine map with the scaled weight and the new bias (or init), and
/// replaces the affine map with it.
static void applyProducerFold(RewriterBase &rewriter, AffineOp affine,
                              const ProducerFold &plan) {
  Location loc = affine.getLoc();
  rewriter.setInsertionPoint(affine);
  linalg::LinalgOp contraction = plan.contraction;
  Value weight = contraction.getDpsInputOperand(plan.weightIndex)->get();
  Value scaled = buildScaleAlongDim(rewriter, loc, weight, plan.weightDim,
                                    affine.getScale());
  Value newInit;
  if (!plan.biasAdd) {
    linalg::FillOp fill = plan.initFill;
    Value shift =
        buildChannelAffineOfScalar(rewriter, loc, fill.getInputs().front(),
                                   affine.getScale(), affine.getShift());
    newInit = buildBroadcastInit(rewriter, loc,
                                 contraction.getDpsInitOperand(0)->get(),
                                 Value(), shift, {plan.outputDim});
  }
  Operation *newContraction = rewriter.clone(*contraction);
  newContraction->setOperand(plan.weightIndex, scaled);
  if (newInit)
    cast<linalg::LinalgOp>(newContraction).getDpsInitOperand(0)->set(newInit);
  Value value =
      cloneViews(rewriter, plan.viewsBeforeBias, newContraction->getResult(0));
  if (plan.biasAdd) {
    OpOperand &bias = plan.biasAdd->getOpOperand(plan.biasIndex);
    Value newBias = buildChannelAffine(rewriter, loc, bias.get(),
                                       affine.getScale(), affine.getShift());
    Operation *newAdd = rewriter.clone(*plan.biasAdd);
    newAdd->setOperand(1 - plan.biasIndex, value);
    newAdd->setOperand(plan.biasIndex, newBias);
    value = newAdd->getResult(0);
  }
  value = cloneViews(rewriter, plan.viewsAfterBias, value);
  rewriter.replaceOp(affine, value);

  // The old chain had no other user.
  SmallVector<Operation *> dead(plan.viewsAfterBias.rbegin(),
                                plan.viewsAfterBias.rend());
  if (plan.biasAdd)
    dead.push_back(plan.biasAdd);
  dead.append(plan.viewsBeforeBias.rbegin(), plan.viewsBeforeBias.rend());
  dead.push_back(contraction);
  for (Operation *op : dead)
    if (op->use_empty())
      rewriter.eraseOp(op);
}

namespace {
/// un.infer -> un.affine with a = gamma / sqrt(running_var + eps): a
/// constant when gamma and running_var are, else a [C] linalg.generic.
struct InferToAffine : OpRewritePattern<InferOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(InferOp op,
                                PatternRewriter &rewriter) const override {
    Value scale =
        buildInferScale(rewriter, op.getLoc(), op.getGamma(),
                        op.getRunningVar(), op.getEps().convertToFloat());
    rewriter.replaceOpWithNewOp<AffineOp>(op, op.getType(), op.getX(), scale,
                                          op.getBeta());
    return success();
  }
};

/// Folds the affine map into the weights of the linear layers that its
/// result feeds (a Q/K/V triple: all three), leaving it for its other
/// users, if any.
struct FoldAffineIntoConsumers : OpRewritePattern<AffineOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AffineOp op,
                                PatternRewriter &rewriter) const override {
    std::string reasons;
    bool changed = false;
    // Each fold makes one terminal use read x instead of y, so this ends.
    while (true) {
      bool folded = false;
      for (TerminalUse &terminal : getTerminalUses(op)) {
        std::string why;
        FailureOr<ConsumerFold> plan = analyzeConsumerFold(
            op, *terminal.use, terminal.views, terminal.channelDim, why);
        if (failed(plan)) {
          LLVM_DEBUG(llvm::dbgs()
                     << "un-fold-into-linear: not folding " << op
                     << " into its user " << terminal.use->getOwner()->getName()
                     << ": " << why << "\n");
          if (!changed)
            reasons += (reasons.empty() ? "" : "; ") + why;
          continue;
        }
        applyConsumerFold(rewriter, op, *plan);
        folded = changed = true;
        break;
      }
      if (!folded)
        break;
    }
    if (!changed)
      return rewriter.notifyMatchFailure(
          op, reasons.empty() ? "the result has no user" : reasons);
    if (op->use_empty())
      rewriter.eraseOp(op);
    return success();
  }
};

/// Folds the affine map into the weights and bias of the linear layer that
/// computes its input; the affine map disappears.
struct FoldAffineIntoProducer : OpRewritePattern<AffineOp> {
  FoldAffineIntoProducer(MLIRContext *ctx)
      : OpRewritePattern(ctx, /*benefit=*/2) {}

  LogicalResult matchAndRewrite(AffineOp op,
                                PatternRewriter &rewriter) const override {
    std::string why;
    FailureOr<ProducerFold> plan = analyzeProducerFold(op, why);
    if (failed(plan)) {
      LLVM_DEBUG(llvm::dbgs() << "un-fold-into-linear: not folding " << op
                              << " into its producer: " << why << "\n");
      return rewriter.notifyMatchFailure(op, why);
    }
    applyProducerFold(rewriter, op, *plan);
    return success();
  }
};

/// Why `op` was left: the reasons of both folds.
static std::string explainNotFolded(AffineOp op) {
  std::string why;
  (void)analyzeProducerFold(op, why);
  std::string text = "not folded into its producer (" + why + ")";
  for (TerminalUse &terminal : getTerminalUses(op)) {
    std::string useWhy;
    if (succeeded(analyzeConsumerFold(op, *terminal.use, terminal.views,
                                      terminal.channelDim, useWhy)))
      continue;
    text += ", nor into its user '" +
            terminal.use->getOwner()->getName().getStringRef().str() + "' (" +
            useWhy + ")";
  }
  return text;
}

struct UNFoldIntoLinearPass
    : un::impl::UNFoldIntoLinearBase<UNFoldIntoLinearPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    RewritePatternSet patterns(&getContext());
    populateUNFoldIntoLinearPatterns(patterns);
    GreedyRewriteConfig config;
    config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
    // Every fold removes an affine map or one of its uses, so the driver
    // converges; failing to is a bug.
    if (failed(applyPatternsGreedily(module, std::move(patterns), config)))
      return signalPassFailure();
    if (reportUnfolded)
      module.walk([](AffineOp op) { op.emitRemark(explainNotFolded(op)); });
    if (packWeights)
      for (func::FuncOp func : module.getOps<func::FuncOp>())
        packMatmulWeights(func, /*packArguments=*/hoistWeightPrep);
    if (hoistWeightPrep) {
      SymbolTable symbols(module);
      for (func::FuncOp func : llvm::to_vector(module.getOps<func::FuncOp>()))
        hoistWeightPreparation(func, symbols);
    }
    module.walk([](Operation *op) { op->removeAttr(kWeightPrepAttrName); });
  }
};
} // namespace

void un::populateUNFoldIntoLinearPatterns(RewritePatternSet &patterns) {
  patterns.add<InferToAffine, FoldAffineIntoConsumers, FoldAffineIntoProducer>(
      patterns.getContext());
}
