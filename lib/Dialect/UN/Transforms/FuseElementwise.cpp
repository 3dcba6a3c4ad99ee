//===- FuseElementwise.cpp - Fusion without recomputation -------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Dialect/UN/Transforms/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNFUSEELEMENTWISE
#include "un/Dialect/UN/Transforms/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

/// Fuse only when the consumer reads the producer's result through a
/// permutation of its own loops (the producer then runs exactly once per
/// point of the fused loop nest, never once per broadcast copy) and every
/// other use of the producer comes after the consumer (those uses then read
/// the fused op's extra results; a use before it would keep the producer
/// alive and the fused op would compute it a second time), and a consumer
/// with reduction loops is the producer's only user (softmax's exp is
/// computed once, stored, then summed and divided).
static bool fusesWithoutRecomputation(OpOperand *fusedOperand) {
  auto producer = fusedOperand->get().getDefiningOp<linalg::GenericOp>();
  auto consumer = dyn_cast<linalg::GenericOp>(fusedOperand->getOwner());
  if (!producer || !consumer)
    return false;
  if (producer.getNumLoops() != consumer.getNumLoops())
    return false;
  // A consumer with reduction loops cannot yield the producer's result
  // (its outputs do not span the reduced dims): the producer would stay for
  // its other users and its work would be done twice.
  bool reduces = consumer.getNumReductionLoops() > 0;
  for (Operation *user : producer->getUsers())
    if (user != consumer &&
        (reduces || user->getBlock() != consumer->getBlock() ||
         !consumer->isBeforeInBlock(user)))
      return false;
  return consumer.getMatchingIndexingMap(fusedOperand).isPermutation();
}

void un::populateUNFuseElementwisePatterns(RewritePatternSet &patterns) {
  linalg::populateElementwiseOpsFusionPatterns(patterns,
                                               fusesWithoutRecomputation);
}

namespace {
struct UNFuseElementwisePass
    : un::impl::UNFuseElementwiseBase<UNFuseElementwisePass> {
  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    RewritePatternSet patterns(ctx);
    un::populateUNFuseElementwisePatterns(patterns);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, ctx);
    tensor::EmptyOp::getCanonicalizationPatterns(patterns, ctx);
    ctx->getLoadedDialect<linalg::LinalgDialect>()->getCanonicalizationPatterns(
        patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
