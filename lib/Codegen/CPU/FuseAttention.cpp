//===- FuseAttention.cpp - Attention tiled over heads and row blocks ------===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/TilingInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/SetVector.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNCPUFUSEATTENTION
#include "un/Codegen/CPU/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

/// Largest tile of scores, in bytes: half of a typical L2.
static constexpr int64_t kScoreTileBytes = 256 * 1024;

/// The ops between the scores S = Q K^T and O = P V (`consumer`): the
/// backward slice of P through linalg.generic, linalg.fill and one
/// linalg.batch_matmul (S itself), or an empty set when P does not come
/// from a batch_matmul that way or when something outside the slice reads
/// one of its values (it would be computed twice).
static llvm::SetVector<Operation *>
attentionChain(linalg::BatchMatmulOp consumer) {
  llvm::SetVector<Operation *> chain;
  bool sawScores = false;
  SmallVector<Value> worklist = {consumer.getDpsInputs()[0]};
  while (!worklist.empty()) {
    Operation *def = worklist.pop_back_val().getDefiningOp();
    if (!def || chain.contains(def))
      continue;
    if (auto scores = dyn_cast<linalg::BatchMatmulOp>(def)) {
      sawScores = true;
      chain.insert(def);
      worklist.push_back(scores.getDpsInits()[0]);
      continue;
    }
    if (!isa<linalg::GenericOp, linalg::FillOp>(def))
      continue;
    chain.insert(def);
    for (Value v : def->getOperands())
      worklist.push_back(v);
  }
  if (!sawScores)
    return {};
  for (Operation *op : chain)
    for (Operation *user : op->getUsers())
      if (user != consumer.getOperation() && !chain.contains(user))
        return {};
  return chain;
}

/// Whether `op` is a [B, T, T] x [B, T, D] product whose operands have
/// static shapes, on tensors.
static bool isAttentionProduct(linalg::BatchMatmulOp op) {
  if (!op.hasPureTensorSemantics() || op.hasUserDefinedMaps())
    return false;
  for (Value v : op->getOperands())
    if (!cast<RankedTensorType>(v.getType()).hasStaticShape())
      return false;
  return true;
}

namespace {
struct UNCPUFuseAttentionPass
    : un::impl::UNCPUFuseAttentionBase<UNCPUFuseAttentionPass> {
  using Base::Base;

  void runOnOperation() override {
    // Each attention with its chain, found once before any rewrite.
    SmallVector<std::pair<linalg::BatchMatmulOp, llvm::SetVector<Operation *>>>
        products;
    getOperation()->walk([&](linalg::BatchMatmulOp op) {
      if (!isAttentionProduct(op))
        return;
      llvm::SetVector<Operation *> chain = attentionChain(op);
      if (!chain.empty())
        products.push_back({op, std::move(chain)});
    });
    IRRewriter rewriter(&getContext());
    for (auto &product : products) {
      linalg::BatchMatmulOp op = product.first;
      const llvm::SetVector<Operation *> &chain = product.second;
      auto pType = cast<RankedTensorType>(op.getDpsInputs()[0].getType());
      int64_t rows = pType.getDimSize(1), cols = pType.getDimSize(2);
      int64_t elementBytes = pType.getElementTypeBitWidth() / 8;
      int64_t blockRows =
          std::clamp<int64_t>(kScoreTileBytes / (cols * elementBytes), 1, rows);
      // Blocks of one static size where a divisor of the rows is not much
      // smaller than the largest block; else ceil(rows / blocks) rows each
      // (the last block shorter, of dynamic size).
      int64_t divisor = blockRows;
      while (rows % divisor)
        --divisor;
      if (2 * divisor >= blockRows) {
        blockRows = divisor;
      } else {
        int64_t blocks = (rows + blockRows - 1) / blockRows;
        blockRows = (rows + blocks - 1) / blocks;
      }

      scf::SCFTilingOptions tiling;
      tiling.setTileSizes({rewriter.getIndexAttr(1),
                           rewriter.getIndexAttr(blockRows),
                           rewriter.getIndexAttr(0), rewriter.getIndexAttr(0)});
      tiling.setLoopType(parallel ? scf::SCFTilingOptions::LoopType::ForallOp
                                  : scf::SCFTilingOptions::LoopType::ForOp);
      scf::SCFTileAndFuseOptions options;
      options.setTilingOptions(tiling);
      options.setFusionControlFn(
          [&](tensor::ExtractSliceOp, OpResult producer, bool)
              -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
            if (!chain.contains(producer.getOwner()))
              return std::nullopt;
            return scf::SCFTileAndFuseOptions::ControlFnResult{};
          });
      rewriter.setInsertionPoint(op);
      FailureOr<scf::SCFTileAndFuseResult> result =
          scf::tileConsumerAndFuseProducersUsingSCF(
              rewriter, cast<TilingInterface>(op.getOperation()), options);
      if (failed(result)) {
        op.emitError("un-cpu-fuse-attention: tiling failed");
        return signalPassFailure();
      }
      rewriter.replaceOp(op, result->replacements.lookup(op.getResult(0)));
      for (Operation *dead : llvm::reverse(chain))
        if (dead->use_empty())
          rewriter.eraseOp(dead);
    }
    if (products.empty())
      return;
    // A tile of an empty tensor is an empty tile: each iteration gets
    // buffers of its tile's size, not slices of [heads, T, T] ones.
    RewritePatternSet patterns(&getContext());
    tensor::populateFoldTensorEmptyPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};
} // namespace
