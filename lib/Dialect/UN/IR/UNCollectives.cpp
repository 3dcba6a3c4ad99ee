//===- UNCollectives.cpp - Statistics across processes ----------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// What makes an op a collective: the side effects of the ops whose
// statistics may be taken over every process (`all_ranks`), and
// un.sum_across_ranks, the all-reduce they lower to (its verifier, effects
// and bufferization).
//
//===----------------------------------------------------------------------===//

#include "un/Dialect/UN/IR/UNOps.h"

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::un;
using namespace mlir::bufferization;

using EffectList =
    SmallVectorImpl<SideEffects::EffectInstance<MemoryEffects::Effect>>;

/// A collective writes the communicator; a local op has no effect.
static void addCollectiveEffects(bool allRanks, EffectList &effects) {
  if (allRanks)
    effects.emplace_back(MemoryEffects::Write::get(),
                         CommunicatorResource::get());
}

static Speculation::Speculatability speculatability(bool allRanks) {
  return allRanks ? Speculation::NotSpeculatable : Speculation::Speculatable;
}

#define UN_MAYBE_COLLECTIVE(OP)                                                \
  void OP::getEffects(EffectList &effects) {                                   \
    addCollectiveEffects(getAllRanks(), effects);                              \
  }                                                                            \
  Speculation::Speculatability OP::getSpeculatability() {                      \
    return speculatability(getAllRanks());                                     \
  }
UN_MAYBE_COLLECTIVE(TrainForwardOp)
UN_MAYBE_COLLECTIVE(TrainBackwardOp)
UN_MAYBE_COLLECTIVE(QuadraticMeanOp)
UN_MAYBE_COLLECTIVE(GradStatsOp)
#undef UN_MAYBE_COLLECTIVE

//===----------------------------------------------------------------------===//
// un.sum_across_ranks
//===----------------------------------------------------------------------===//

LogicalResult SumAcrossRanksOp::verify() {
  auto input = cast<ShapedType>(getInput().getType());
  auto init = cast<ShapedType>(getInit().getType());
  bool tensors = isa<RankedTensorType>(input);
  if (tensors != isa<RankedTensorType>(init))
    return emitOpError("'input' and 'init' must both be tensors or both be "
                       "memrefs");
  if (tensors != static_cast<bool>(getResult()))
    return emitOpError(tensors ? "on tensors must return the sum"
                               : "on memrefs has no result");
  if (getResult() && getResult().getType() != init)
    return emitOpError("result type ")
           << getResult().getType() << " must be that of 'init' (" << init
           << ")";
  if (!tensors)
    for (auto [name, type] :
         {std::pair<StringRef, ShapedType>{"input", input}, {"init", init}})
      if (!cast<MemRefType>(type).getLayout().isIdentity())
        return emitOpError("'")
               << name << "' must have the identity layout, got " << type;
  int64_t n = input.getDimSize(0), m = init.getDimSize(0);
  if (!ShapedType::isDynamic(n) && !ShapedType::isDynamic(m) && n != m)
    return emitOpError("'input' has ") << n << " elements but 'init' has " << m;
  return success();
}

void SumAcrossRanksOp::getEffects(EffectList &effects) {
  addCollectiveEffects(true, effects);
  if (getResult())
    return;
  effects.emplace_back(MemoryEffects::Read::get(), &getInputMutable(),
                       SideEffects::DefaultResource::get());
  effects.emplace_back(MemoryEffects::Write::get(), &getInitMutable(),
                       SideEffects::DefaultResource::get());
}

bool SumAcrossRanksOp::bufferizesToMemoryRead(OpOperand &operand,
                                              const AnalysisState &) {
  return &operand == &getInputMutable();
}

bool SumAcrossRanksOp::bufferizesToMemoryWrite(OpOperand &operand,
                                               const AnalysisState &) {
  return &operand == &getInitMutable();
}

AliasingValueList SumAcrossRanksOp::getAliasingValues(OpOperand &operand,
                                                      const AnalysisState &) {
  if (&operand != &getInitMutable())
    return {};
  return {{getResult(), BufferRelation::Equivalent}};
}

/// A buffer of `buffer`'s size with the identity layout (a new one,
/// holding a copy of `buffer` when `copy`, if `buffer`'s layout is not).
static FailureOr<Value> withIdentityLayout(RewriterBase &rewriter, Location loc,
                                           Value buffer,
                                           const BufferizationOptions &options,
                                           bool copy) {
  auto type = cast<MemRefType>(buffer.getType());
  if (type.getLayout().isIdentity())
    return buffer;
  auto identity =
      MemRefType::get(type.getShape(), type.getElementType(),
                      MemRefLayoutAttrInterface{}, type.getMemorySpace());
  SmallVector<Value> sizes;
  if (type.isDynamicDim(0))
    sizes.push_back(memref::DimOp::create(rewriter, loc, buffer, 0));
  FailureOr<Value> alloc = options.createAlloc(rewriter, loc, identity, sizes);
  if (failed(alloc) ||
      (copy && failed(options.createMemCpy(rewriter, loc, buffer, *alloc))))
    return failure();
  return alloc;
}

LogicalResult SumAcrossRanksOp::bufferize(RewriterBase &rewriter,
                                          const BufferizationOptions &options,
                                          BufferizationState &state) {
  Location loc = getLoc();
  FailureOr<Value> input = getBuffer(rewriter, getInput(), options, state);
  FailureOr<Value> init = getBuffer(rewriter, getInit(), options, state);
  if (failed(input) || failed(init))
    return failure();
  FailureOr<Value> send =
      withIdentityLayout(rewriter, loc, *input, options, /*copy=*/true);
  FailureOr<Value> receive =
      withIdentityLayout(rewriter, loc, *init, options, /*copy=*/false);
  if (failed(send) || failed(receive))
    return failure();
  SumAcrossRanksOp::create(rewriter, loc, Type(), *send, *receive);
  if (*receive != *init &&
      failed(options.createMemCpy(rewriter, loc, *receive, *init)))
    return failure();
  replaceOpWithBufferizedValues(rewriter, *this, *init);
  return success();
}

FailureOr<SmallVector<SumAcrossRanksOp>>
un::sumsAcrossRanksOnBuffers(Operation *root, StringRef pass) {
  SmallVector<SumAcrossRanksOp> sums;
  WalkResult walk = root->walk([&](SumAcrossRanksOp op) {
    if (op.getResult()) {
      op.emitOpError("is still on tensors: bufferize before -") << pass;
      return WalkResult::interrupt();
    }
    sums.push_back(op);
    return WalkResult::advance();
  });
  if (walk.wasInterrupted())
    return failure();
  return sums;
}
