//===- VectorizeGenerics.cpp - Elementwise and reduction loops on vectors -===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Runs on buffers, after the matmuls are tiled. Every remaining
// linalg.generic (and fill / copy / transpose / broadcast / map, as
// generics) whose body is elementwise arith / math becomes loops whose
// innermost one runs `lanes` iterations at once on vectors:
//
//   for the other loops, in their order:
//     for j in [0, n - n % lanes) step lanes:  body on vector<lanes>
//     the rest (n % lanes):                    body on masked vectors
//
// The vector dim `v` is a loop that every operand either indexes with its
// last, unit-stride dim (vector loads and stores) or does not index at all
// (a scalar load, broadcast). A parallel `v` goes innermost (always legal)
// and keeps every element's computation exactly as in the scalar loops. A
// reduction `v` (the only reduction loop, the output updated as
// `out = combine(out, f(ins))` with addf / mulf / maximumf / minimumf /
// maxnumf / minnumf) keeps `lanes` partial results in a vector that starts
// at the neutral element and is reduced across lanes at the end: sums are
// then reassociated (lanes interleaved partial sums), as every vectorized
// reduction is.
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/CPU/CPUTarget.h"
#include "un/Codegen/CPU/Passes.h"

#include "KernelBuilder.h"
#include "VectorBody.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"

#include <limits>

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNCPUVECTORIZEGENERICS
#include "un/Codegen/CPU/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

namespace {

/// How one generic is vectorized.
struct Plan {
  linalg::GenericOp op;
  unsigned vectorDim;
  bool reduction;
  /// For a reduction: the combining op and its neutral element.
  Operation *combiner = nullptr;
  vector::CombiningKind kind = vector::CombiningKind::ADD;
  double neutral = 0.0;
};

} // namespace

/// Integer division and remainder trap on the zeros of masked-off lanes.
static bool mayTrapOnZero(Operation &op) {
  return isa<arith::DivSIOp, arith::DivUIOp, arith::RemSIOp, arith::RemUIOp,
             arith::CeilDivSIOp, arith::CeilDivUIOp, arith::FloorDivSIOp>(op);
}

/// The reduction `out = combine(out, x)` of `op`'s body, if it has that
/// form.
static LogicalResult matchReduction(linalg::GenericOp op, Plan &plan) {
  if (op.getNumDpsInits() != 1)
    return failure();
  Block &body = *op.getBlock();
  BlockArgument out = body.getArguments().back();
  if (!out.hasOneUse())
    return failure();
  Operation *combiner = *out.user_begin();
  if (body.getTerminator()->getOperand(0) != combiner->getResult(0) ||
      combiner->getNumOperands() != 2 ||
      combiner->getOperand(0) == combiner->getOperand(1))
    return failure();
  const double inf = std::numeric_limits<double>::infinity();
  const double nan = std::numeric_limits<double>::quiet_NaN();
  if (isa<arith::AddFOp>(combiner))
    plan.kind = vector::CombiningKind::ADD, plan.neutral = -0.0;
  else if (isa<arith::MulFOp>(combiner))
    plan.kind = vector::CombiningKind::MUL, plan.neutral = 1.0;
  else if (isa<arith::MaximumFOp>(combiner))
    plan.kind = vector::CombiningKind::MAXIMUMF, plan.neutral = -inf;
  else if (isa<arith::MinimumFOp>(combiner))
    plan.kind = vector::CombiningKind::MINIMUMF, plan.neutral = inf;
  else if (isa<arith::MaxNumFOp>(combiner))
    plan.kind = vector::CombiningKind::MAXNUMF, plan.neutral = nan;
  else if (isa<arith::MinNumFOp>(combiner))
    plan.kind = vector::CombiningKind::MINNUMF, plan.neutral = nan;
  else
    return failure();
  plan.combiner = combiner;
  return success();
}

/// Whether every operand indexes loop `dim` with its last, unit-stride dim
/// or not at all.
static bool isContiguousIn(linalg::GenericOp op, unsigned dim) {
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (!map.isFunctionOfDim(dim))
      continue;
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type)
      return false;
    if (map.getResults().back() != getAffineDimExpr(dim, op.getContext()) ||
        !type.isLastDimUnitStride())
      return false;
  }
  return true;
}

/// How to vectorize `op`, if it can be.
static std::optional<Plan> planVectorization(linalg::GenericOp op,
                                             int64_t lanes) {
  if (!op.hasPureBufferSemantics() || op.getNumLoops() == 0 ||
      op.hasIndexSemantics() || !un::isVectorizableBody(*op.getBlock()))
    return std::nullopt;
  for (Operation &bodyOp : op.getBlock()->without_terminator())
    if (mayTrapOnZero(bodyOp))
      return std::nullopt;
  // Whole bytes only: a vector of i1 is bit-packed in memory, a memref of
  // i1 is not.
  auto wholeBytes = [](Type t) {
    return t.isIntOrFloat() && t.getIntOrFloatBitWidth() % 8 == 0;
  };
  for (OpOperand &operand : op->getOpOperands()) {
    Type type = operand.get().getType();
    if (wholeBytes(type) && op.isDpsInput(&operand))
      continue; // a scalar input (a fill's value)
    auto memref = dyn_cast<MemRefType>(type);
    if (!memref || !wholeBytes(memref.getElementType()) ||
        !op.getMatchingIndexingMap(&operand).isProjectedPermutation(
            /*allowZeroInResults=*/true))
      return std::nullopt;
  }
  // An input that is a view of an output read through another map would
  // see some of the vector's writes early: keep the scalar order.
  for (OpOperand *in : op.getDpsInputOperands())
    for (OpOperand &out : op.getDpsInitsMutable())
      if (isa<MemRefType>(in->get().getType()) &&
          un::rootBuffer(in->get()) == un::rootBuffer(out.get()) &&
          op.getMatchingIndexingMap(in) != op.getMatchingIndexingMap(&out))
        return std::nullopt;
  SmallVector<int64_t> sizes = op.getStaticLoopRanges();
  auto bigEnough = [&](unsigned d) {
    return ShapedType::isDynamic(sizes[d]) || sizes[d] >= lanes;
  };

  // A parallel dim that every output indexes last; else the only
  // reduction dim, with a combining body.
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  for (unsigned d = op.getNumLoops(); d-- > 0;) {
    if (iterators[d] != utils::IteratorType::parallel || !bigEnough(d) ||
        !isContiguousIn(op, d))
      continue;
    bool allOutputs = llvm::all_of(op.getDpsInitsMutable(), [&](OpOperand &o) {
      return op.getMatchingIndexingMap(&o).isFunctionOfDim(d);
    });
    if (allOutputs)
      return Plan{op, d, /*reduction=*/false};
  }
  if (op.getNumReductionLoops() != 1)
    return std::nullopt;
  unsigned d =
      llvm::find(iterators, utils::IteratorType::reduction) - iterators.begin();
  Plan plan{op, d, /*reduction=*/true};
  if (!bigEnough(d) || !isContiguousIn(op, d) ||
      failed(matchReduction(op, plan)))
    return std::nullopt;
  return plan;
}

namespace {

/// Emits the loops of one planned generic.
class GenericEmitter {
public:
  GenericEmitter(OpBuilder &b, const Plan &plan, int64_t lanes, bool parallel)
      : b(b), loc(plan.op->getLoc()), plan(plan), op(plan.op), lanes(lanes),
        parallel(parallel) {}

  void emit() {
    SmallVector<Range> ranges =
        cast<linalg::LinalgOp>(op.getOperation()).createLoopRanges(b, loc);
    ivs.assign(op.getNumLoops(), Value());
    emitOuterLoops(ranges, 0);
  }

private:
  Value cst(int64_t v) { return arith::ConstantIndexOp::create(b, loc, v); }

  VectorType vectorOf(Type t) { return VectorType::get({lanes}, t); }

  /// Scalar loops over every dim but the vector dim, in order.
  void emitOuterLoops(ArrayRef<Range> ranges, unsigned d) {
    if (d == ranges.size()) {
      emitVectorLoop(ranges[plan.vectorDim]);
      return;
    }
    if (d == plan.vectorDim) {
      emitOuterLoops(ranges, d + 1);
      return;
    }
    OpBuilder::InsertionGuard guard(b);
    Value lb = getValueOrCreateConstantIndexOp(b, loc, ranges[d].offset);
    Value ub = getValueOrCreateConstantIndexOp(b, loc, ranges[d].size);
    // The outermost loop runs on all threads when it is parallel.
    bool outermost = d == (plan.vectorDim == 0 ? 1u : 0u);
    ivs[d] = un::beginLoop(b, loc, lb, ub, cst(1),
                           parallel && outermost &&
                               op.getIteratorTypesArray()[d] ==
                                   utils::IteratorType::parallel);
    emitOuterLoops(ranges, d + 1);
  }

  /// The vector dim: full vectors, then a masked rest.
  void emitVectorLoop(const Range &range) {
    Value size = getValueOrCreateConstantIndexOp(b, loc, range.size);
    std::optional<int64_t> staticSize = getConstantIntValue(range.size);
    Value main = staticSize
                     ? cst(*staticSize - *staticSize % lanes)
                     : arith::SubIOp::create(
                           b, loc, size,
                           arith::RemUIOp::create(b, loc, size, cst(lanes)))
                           .getResult();
    Value acc;
    if (plan.reduction)
      acc = neutralVector();
    {
      OpBuilder::InsertionGuard guard(b);
      SmallVector<Value> init;
      if (acc)
        init.push_back(acc);
      auto loop = scf::ForOp::create(b, loc, cst(0), main, cst(lanes), init);
      b.setInsertionPointToStart(loop.getBody());
      ivs[plan.vectorDim] = loop.getInductionVar();
      Value next = emitBody(nullptr, acc ? loop.getRegionIterArgs()[0] : acc);
      // (A loop without results already has its terminator.)
      if (acc) {
        scf::YieldOp::create(b, loc, next);
        acc = loop.getResult(0);
      }
    }
    // The rest: one masked step.
    ivs[plan.vectorDim] = main;
    auto maskType = VectorType::get({lanes}, b.getI1Type());
    if (staticSize) {
      int64_t rest = *staticSize % lanes;
      if (rest) {
        Value mask = vector::ConstantMaskOp::create(b, loc, maskType,
                                                    ArrayRef<int64_t>{rest});
        acc = emitBody(mask, acc);
      }
    } else {
      Value rest = arith::SubIOp::create(b, loc, size, main);
      Value any = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ugt, rest,
                                        cst(0));
      SmallVector<Type> types;
      if (acc)
        types.push_back(acc.getType());
      auto ifOp =
          scf::IfOp::create(b, loc, types, any, /*withElseRegion=*/true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      Value mask = vector::CreateMaskOp::create(b, loc, maskType, rest);
      Value next = emitBody(mask, acc);
      // (Without results, both blocks already have their terminators.)
      if (acc) {
        scf::YieldOp::create(b, loc, next);
        b.setInsertionPointToStart(ifOp.elseBlock());
        scf::YieldOp::create(b, loc, acc);
        acc = ifOp.getResult(0);
      }
    }
    if (plan.reduction)
      emitFinalReduction(acc);
  }

  /// Indices of `operand` at the current loop ivs.
  SmallVector<Value> indices(OpOperand &operand) {
    SmallVector<Value> idx;
    for (AffineExpr e : op.getMatchingIndexingMap(&operand).getResults()) {
      if (auto dim = dyn_cast<AffineDimExpr>(e))
        idx.push_back(ivs[dim.getPosition()]);
      else // a unit dim read at 0 (torch-mlir's keepdim reductions)
        idx.push_back(cst(0));
    }
    return idx;
  }

  bool usesVectorDim(OpOperand &operand) {
    return op.getMatchingIndexingMap(&operand).isFunctionOfDim(plan.vectorDim);
  }

  Value zerosOf(VectorType type) {
    return arith::ConstantOp::create(b, loc, type, b.getZeroAttr(type));
  }

  /// The vector of `operand` at the current ivs.
  Value load(OpOperand &operand, Value mask) {
    auto type = dyn_cast<MemRefType>(operand.get().getType());
    if (!type) // a scalar
      return vector::BroadcastOp::create(
          b, loc, vectorOf(operand.get().getType()), operand.get());
    VectorType vtype = vectorOf(type.getElementType());
    if (!usesVectorDim(operand)) {
      Value s = memref::LoadOp::create(b, loc, operand.get(), indices(operand));
      return vector::BroadcastOp::create(b, loc, vtype, s);
    }
    if (!mask)
      return vector::LoadOp::create(b, loc, vtype, operand.get(),
                                    indices(operand));
    return vector::MaskedLoadOp::create(b, loc, vtype, operand.get(),
                                        indices(operand), mask, zerosOf(vtype));
  }

  /// One vector step: the body on the operands' vectors; stores the
  /// outputs, or returns the next partial results of a reduction.
  Value emitBody(Value mask, Value acc) {
    Block &body = *op.getBlock();
    IRMapping map;
    for (OpOperand &operand : op->getOpOperands()) {
      BlockArgument arg = body.getArgument(operand.getOperandNumber());
      if (arg.use_empty())
        continue;
      if (plan.reduction && op.isDpsInit(&operand))
        map.map(arg, acc);
      else
        map.map(arg, load(operand, mask));
    }
    SmallVector<Value> results = un::emitVectorBody(b, loc, body, lanes, map);
    if (plan.reduction) {
      if (!mask)
        return results.front();
      return arith::SelectOp::create(b, loc, mask, results.front(), acc);
    }
    for (auto [operand, value] : llvm::zip(op.getDpsInitsMutable(), results)) {
      if (!mask)
        vector::StoreOp::create(b, loc, value, operand.get(), indices(operand));
      else
        vector::MaskedStoreOp::create(b, loc, operand.get(), indices(operand),
                                      mask, value);
    }
    return nullptr;
  }

  Value neutralVector() {
    OpOperand *out = op.getDpsInitOperand(0);
    Type element = cast<MemRefType>(out->get().getType()).getElementType();
    VectorType type = vectorOf(element);
    auto value = b.getFloatAttr(element, plan.neutral);
    return arith::ConstantOp::create(b, loc, type,
                                     DenseElementsAttr::get(type, value));
  }

  /// out = combine(out, reduce(partials)).
  void emitFinalReduction(Value partials) {
    OpOperand *out = op.getDpsInitOperand(0);
    Value reduced = vector::ReductionOp::create(b, loc, plan.kind, partials);
    SmallVector<Value> idx = indices(*out);
    Value old = memref::LoadOp::create(b, loc, out->get(), idx);
    OperationState state(loc, plan.combiner->getName());
    BlockArgument outArg = op.getBlock()->getArguments().back();
    for (Value operand : plan.combiner->getOperands())
      state.operands.push_back(operand == outArg ? old : reduced);
    state.types.push_back(old.getType());
    state.attributes = plan.combiner->getAttrs();
    Value combined = b.create(state)->getResult(0);
    memref::StoreOp::create(b, loc, combined, out->get(), idx);
  }

  OpBuilder &b;
  Location loc;
  const Plan &plan;
  linalg::GenericOp op;
  int64_t lanes;
  bool parallel;
  SmallVector<Value> ivs;
};

struct UNCPUVectorizeGenericsPass
    : un::impl::UNCPUVectorizeGenericsBase<UNCPUVectorizeGenericsPass> {
  using Base::Base;

  void runOnOperation() override {
    std::string error;
    FailureOr<un::CPUTarget> target = un::lookupCPUTarget(cpu, features, error);
    if (failed(target)) {
      emitError(getOperation()->getLoc(), "un-cpu-vectorize-generics: ")
          << error;
      return signalPassFailure();
    }
    int64_t lanes = target->f32Lanes();

    // Named elementwise ops first become generics.
    IRRewriter rewriter(&getContext());
    SmallVector<linalg::LinalgOp> named;
    getOperation()->walk([&](linalg::LinalgOp op) {
      if (isa<linalg::FillOp, linalg::CopyOp, linalg::TransposeOp,
              linalg::BroadcastOp, linalg::MapOp>(op.getOperation()) &&
          op.hasPureBufferSemantics())
        named.push_back(op);
    });
    for (linalg::LinalgOp op : named) {
      rewriter.setInsertionPoint(op);
      (void)linalg::generalizeNamedOp(rewriter, op);
    }

    SmallVector<Plan> plans;
    SmallVector<linalg::GenericOp> scalar;
    getOperation()->walk([&](linalg::GenericOp op) {
      if (std::optional<Plan> plan = planVectorization(op, lanes))
        plans.push_back(*plan);
      else if (op.hasPureBufferSemantics())
        scalar.push_back(op);
    });
    // The rest stay linalg ops for convert-linalg-to-loops, each in a
    // kernel region of its own, so a repeated one is compiled once too.
    for (linalg::GenericOp op : scalar) {
      OpBuilder b(op);
      un::beginKernelRegion(b, op.getLoc(), "loops");
      op->moveBefore(b.getInsertionBlock(), b.getInsertionPoint());
    }
    for (const Plan &plan : plans) {
      OpBuilder b(plan.op);
      un::requireVectorWidth(plan.op, lanes * 32);
      un::beginKernelRegion(b, plan.op->getLoc(), "elementwise");
      GenericEmitter(b, plan, lanes, parallel).emit();
      plan.op->erase();
    }
  }
};

} // namespace
