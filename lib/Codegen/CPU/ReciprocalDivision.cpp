//===- ReciprocalDivision.cpp - A division by a row value as a product ----===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// In an all-parallel linalg.generic on tensors, `x / s` where `s` is read
// through an input that does not vary along the innermost loop (one value
// per row: a softmax's sum, a layer norm's deviation) becomes `x * r`, with
// `r = 1 / s` computed by a generic of its own over the input's shape: one
// division per row instead of one per element.
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

#include "llvm/ADT/MapVector.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNCPURECIPROCALDIVISION
#include "un/Codegen/CPU/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

/// The inputs of `op` (by operand number) that a division in its body
/// divides by and that do not vary along its innermost loop, with those
/// divisions.
static llvm::MapVector<unsigned, SmallVector<arith::DivFOp>>
rowDivisors(linalg::GenericOp op) {
  llvm::MapVector<unsigned, SmallVector<arith::DivFOp>> divisors;
  unsigned innermost = op.getNumLoops() - 1;
  std::optional<SmallVector<int64_t>> ranges = op.getStaticLoopRanges();
  if (ranges && (*ranges)[innermost] == 1)
    return divisors; // nothing to share along a loop of one iteration
  for (auto div : op.getBlock()->getOps<arith::DivFOp>()) {
    auto arg = dyn_cast<BlockArgument>(div.getRhs());
    if (!arg || arg.getOwner() != op.getBlock() || !div.getType().isF32())
      continue;
    OpOperand *operand = op.getMatchingOpOperand(arg);
    AffineMap map = op.getMatchingIndexingMap(operand);
    if (!op.isDpsInput(operand) ||
        !isa<RankedTensorType>(operand->get().getType()) ||
        !map.isProjectedPermutation() || map.isFunctionOfDim(innermost))
      continue;
    divisors[operand->getOperandNumber()].push_back(div);
  }
  return divisors;
}

/// `1 / source`, elementwise, as a generic on a new tensor.
static Value reciprocal(OpBuilder &b, Location loc, Value source) {
  auto type = cast<RankedTensorType>(source.getType());
  Value init = tensor::EmptyOp::create(
      b, loc, tensor::getMixedSizes(b, loc, source), type.getElementType());
  AffineMap identity = b.getMultiDimIdentityMap(type.getRank());
  SmallVector<utils::IteratorType> iterators(type.getRank(),
                                             utils::IteratorType::parallel);
  auto op = linalg::GenericOp::create(
      b, loc, type, source, init, ArrayRef<AffineMap>{identity, identity},
      iterators, [&](OpBuilder &nb, Location l, ValueRange args) {
        Value one = arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(1.0f));
        linalg::YieldOp::create(
            nb, l, arith::DivFOp::create(nb, l, one, args[0]).getResult());
      });
  return op.getResult(0);
}

namespace {
struct UNCPUReciprocalDivisionPass
    : un::impl::UNCPUReciprocalDivisionBase<UNCPUReciprocalDivisionPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> generics;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (op.hasPureTensorSemantics() && op.getNumLoops() > 0 &&
          op.getNumParallelLoops() == op.getNumLoops())
        generics.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : generics) {
      auto divisors = rowDivisors(op);
      if (divisors.empty())
        continue;
      // Each divisor's reciprocal becomes one more input, read through the
      // divisor's map; the divisions by it become products. (Inputs come
      // first among the operands: an input's operand number is its index.)
      Block *body = op.getBlock();
      SmallVector<AffineMap> maps = op.getIndexingMapsArray();
      for (auto &[index, divisions] : divisors) {
        rewriter.setInsertionPoint(op);
        Value r = reciprocal(rewriter, op.getLoc(), op.getDpsInputs()[index]);
        unsigned position = op.getNumDpsInputs();
        maps.insert(maps.begin() + position, maps[index]);
        op.getInputsMutable().append(r);
        BlockArgument arg =
            body->insertArgument(position, rewriter.getF32Type(), op.getLoc());
        for (arith::DivFOp div : divisions) {
          rewriter.setInsertionPoint(div);
          rewriter.replaceOpWithNewOp<arith::MulFOp>(div, div.getLhs(), arg);
        }
      }
      // Divisors read by nothing else any more are dropped.
      for (unsigned i = op.getNumDpsInputs(); i-- > 0;) {
        if (!divisors.count(i) || !body->getArgument(i).use_empty())
          continue;
        op.getInputsMutable().erase(i);
        body->eraseArgument(i);
        maps.erase(maps.begin() + i);
      }
      op.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
    }
  }
};
} // namespace
