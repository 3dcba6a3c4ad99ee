//===- FuseElementwise.cpp - Elementwise fusion ---------------*- C++ -*-===//
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

/// An all-parallel generic with one result whose body is at most two arith
/// operations on at most two of its inputs: reading those again costs less
/// than writing its result and reading it back.
static bool isCheapToRecompute(linalg::GenericOp producer) {
  if (producer.getNumResults() != 1 ||
      producer.getNumParallelLoops() != producer.getNumLoops() ||
      producer.payloadUsesValueFromOperand(producer.getDpsInitOperand(0)))
    return false;
  if (llvm::count_if(producer.getDpsInputOperands(), [&](OpOperand *input) {
        return producer.payloadUsesValueFromOperand(input);
      }) > 2)
    return false;
  Block &body = *producer.getBlock();
  int64_t ops = 0;
  for (Operation &op : body.without_terminator()) {
    if (op.getDialect()->getNamespace() != "arith" || ++ops > 2)
      return false;
  }
  return true;
}

/// Whether every use of `producer` is a generic consumer it would fuse
/// into (same loops, read through a permutation).
static bool fusesIntoEveryUser(linalg::GenericOp producer) {
  for (OpOperand &use : producer->getResult(0).getUses()) {
    auto consumer = dyn_cast<linalg::GenericOp>(use.getOwner());
    if (!consumer || !consumer.hasPureTensorSemantics() ||
        consumer.getNumLoops() != producer.getNumLoops() ||
        !consumer.getMatchingIndexingMap(&use).isPermutation())
      return false;
  }
  return true;
}

/// Gives each consumer of a cheap producer with several consumers its own
/// copy, which then fuses into it: the value is computed again in each
/// loop instead of stored and read back (the backward's z = x / std, read
/// by a reduction and by the gradient's map, is never materialized).
static void cloneCheapProducers(Operation *root) {
  SmallVector<linalg::GenericOp> producers;
  root->walk([&](linalg::GenericOp op) {
    if (op.hasPureTensorSemantics() && !op->getResult(0).hasOneUse() &&
        isCheapToRecompute(op) && fusesIntoEveryUser(op))
      producers.push_back(op);
  });
  for (linalg::GenericOp producer : producers) {
    OpBuilder b(producer);
    for (OpOperand &use :
         llvm::make_early_inc_range(producer->getResult(0).getUses())) {
      if (producer->getResult(0).hasOneUse())
        break;
      b.setInsertionPoint(producer);
      use.set(b.clone(*producer)->getResult(0));
    }
  }
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
    cloneCheapProducers(getOperation());
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
