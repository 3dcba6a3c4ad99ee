//===- RaiseNorms.cpp - Raise decomposed normalizations to un ops -*- C++ -*-=//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Frontends such as torch-mlir decompose inference normalizations with
// fixed statistics (BatchNorm in eval, UnifiedNorm in eval, any per-channel
// scale and shift) into chains of elementwise linalg.generic ops, each
// combining the activation with one per-channel vector:
//
//   %1 = generic ins(%gamma : [C], %x : [N, C]) { mulf }
//   %2 = generic ins(%1, %std : [C]) { divf }
//   %3 = generic ins(%2, %beta : [C]) { addf }
//
// Such a chain is an affine map of the activation, y = a * x + b, with
// per-channel a and b. This pass recognizes the chains and raises them to
// `un.affine` (a and b computed once per channel), or to `un.infer` when
// the chain is exactly UN's inference formula (either the spec's order or
// UnifiedNorm.infer's, the scale gamma / sqrt(rv + eps) first), so that
// un-fold-into-linear can fold them. Normalizations whose statistics are
// per token (LayerNorm, RMSNorm) cannot be folded: they are reported with a
// remark and left as they are.
//
// Frontends that keep UnifiedNorm intact instead (the "preserved" route of
// python/un_mlir/torch_mlir_import.py) leave a call to an external function
// `@un_mlir.unified_norm_infer*(x, gamma, beta, running_var, eps)`; such
// calls become `un.infer`.
//
//===----------------------------------------------------------------------===//

#include "un/Dialect/UN/IR/UNOps.h"
#include "un/Dialect/UN/Transforms/Passes.h"
#include "un/Utils/FloatCasts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/IR/Verifier.h"

#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "un-raise-norms"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNRAISENORMS
#include "un/Dialect/UN/Transforms/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;
using namespace mlir::un;

namespace {
/// One step of an affine chain: the activation combined with `vector`.
struct AffineStep {
  enum Kind { Add, Sub, ReverseSub, Mul, Div } kind;
  linalg::GenericOp op;
  /// A [C] tensor, a [1, ..., 1, C] tensor, or a scalar captured by the
  /// body.
  Value vector;
  bool vectorIsScalar = false;
};
} // namespace

/// True if `map` reads only the innermost (channel) loop, possibly through
/// leading unit dims: (d0, ..., dn) -> (dn) or (d0, ..., dn) -> (0, ..., dn).
static bool isChannelMap(AffineMap map) {
  unsigned n = map.getNumDims();
  if (map.getNumResults() == 0 || n == 0)
    return false;
  for (AffineExpr e : map.getResults().drop_back()) {
    auto c = dyn_cast<AffineConstantExpr>(e);
    if (!c || c.getValue() != 0)
      return false;
  }
  auto last = dyn_cast<AffineDimExpr>(map.getResults().back());
  return last && last.getPosition() == n - 1;
}

/// True if `map` reads a per-token value broadcast along channels:
/// the channel loop is absent and some token loop is present.
static bool isPerTokenMap(AffineMap map) {
  unsigned n = map.getNumDims();
  if (n < 2 || map.isFunctionOfDim(n - 1))
    return false;
  for (unsigned d = 0; d + 1 < n; ++d)
    if (map.isFunctionOfDim(d))
      return true;
  return false;
}

/// Matches `op` as one affine step applied to `activation`.
static std::optional<AffineStep> matchStep(linalg::GenericOp op,
                                           Value activation) {
  if (op.getNumDpsInits() != 1 || op.getNumDpsInputs() < 1 ||
      op.getNumDpsInputs() > 2 || !op.hasPureTensorSemantics() ||
      op.getNumLoops() != op.getNumParallelLoops())
    return std::nullopt;
  Value result = op->getResult(0);
  auto type = dyn_cast<RankedTensorType>(activation.getType());
  // Activations have token dims ([..., C], rank >= 2): rank-1 chains are
  // computations on parameters. A channel dim of static size 1 holds
  // per-token statistics ([N, 1]), not channels.
  if (!type || type.getRank() < 2 || type.getShape().back() == 1 ||
      !isa<Float32Type, Float16Type, BFloat16Type>(type.getElementType()) ||
      result.getType() != activation.getType() ||
      !op.getIndexingMapsArray().back().isIdentity())
    return std::nullopt;

  OpOperand *activationOperand = nullptr, *vectorOperand = nullptr;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (input->get() == activation && map.isIdentity() && !activationOperand)
      activationOperand = input;
    else if (isChannelMap(map) && !vectorOperand)
      vectorOperand = input;
    else
      return std::nullopt;
  }
  if (!activationOperand)
    return std::nullopt;
  // The vector must be [C] or [1, ..., 1, C] with the activation's C: a
  // leading dim above 1 read at index 0 is a slice, not the vector (the
  // generic reads only its first row), and a static size other than C is
  // no channel vector at all.
  if (vectorOperand) {
    auto vectorType = cast<RankedTensorType>(vectorOperand->get().getType());
    ArrayRef<int64_t> shape = vectorType.getShape();
    if (llvm::any_of(shape.drop_back(), [](int64_t d) { return d != 1; }))
      return std::nullopt;
    int64_t c = type.getShape().back(), vc = shape.back();
    if (!ShapedType::isDynamic(c) && !ShapedType::isDynamic(vc) && c != vc)
      return std::nullopt;
  }

  Block &body = op.getRegion().front();
  if (body.getOperations().size() != 2)
    return std::nullopt;
  Operation *arith = &body.front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (yield.getValues().size() != 1 ||
      yield.getValues()[0] != arith->getResult(0) ||
      arith->getNumOperands() != 2)
    return std::nullopt;

  Value x = body.getArgument(activationOperand->getOperandNumber());
  AffineStep step;
  step.op = op;
  Value lhs = arith->getOperand(0), rhs = arith->getOperand(1);
  bool xOnLeft = lhs == x;
  if (!xOnLeft && rhs != x)
    return std::nullopt;
  Value other = xOnLeft ? rhs : lhs;
  if (vectorOperand &&
      other == body.getArgument(vectorOperand->getOperandNumber())) {
    step.vector = vectorOperand->get();
  } else if (!vectorOperand && other.getParentRegion() != &op.getRegion() &&
             other.getType() == x.getType()) {
    step.vector = other;
    step.vectorIsScalar = true;
  } else {
    return std::nullopt;
  }

  if (isa<arith::AddFOp>(arith))
    step.kind = AffineStep::Add;
  else if (isa<arith::MulFOp>(arith))
    step.kind = AffineStep::Mul;
  else if (isa<arith::SubFOp>(arith))
    step.kind = xOnLeft ? AffineStep::Sub : AffineStep::ReverseSub;
  else if (isa<arith::DivFOp>(arith) && xOnLeft)
    step.kind = AffineStep::Div;
  else
    return std::nullopt;
  return step;
}

/// The single user of `value` that applies an affine step to it.
static std::optional<AffineStep> nextStep(Value value) {
  if (!value.hasOneUse())
    return std::nullopt;
  auto user = dyn_cast<linalg::GenericOp>(*value.getUsers().begin());
  if (!user)
    return std::nullopt;
  return matchStep(user, value);
}

/// True if `value` is computed from a statistic: a one-input reduction
/// (a sum or max over some dim, not a contraction), possibly followed by
/// elementwise generics and reshapes, within a few ops.
static bool isComputedFromStatistic(Value value) {
  SmallVector<Value> worklist = {value};
  llvm::SmallPtrSet<Operation *, 16> visited;
  while (!worklist.empty() && visited.size() < 32) {
    Operation *def = worklist.pop_back_val().getDefiningOp();
    if (!def || !visited.insert(def).second)
      continue;
    if (auto generic = dyn_cast<linalg::GenericOp>(def)) {
      if (generic.getNumReductionLoops() == 0)
        llvm::append_range(worklist, generic.getDpsInputs());
      else if (generic.getNumDpsInputs() == 1)
        return true;
    } else if (isa<linalg::ReduceOp>(def)) {
      return true;
    } else if (isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp,
                   tensor::CastOp, linalg::BroadcastOp>(def)) {
      worklist.push_back(def->getOperand(0));
    }
  }
  return false;
}

/// True if `value` comes out of a per-token normalization (LayerNorm,
/// RMSNorm): its producer combines it with a per-token statistic, a float
/// value broadcast along the channels that is computed by a reduction.
/// Other per-token values (an embedding's token ids, a padding mask) do not
/// make the activation per-token normalized.
static bool isPerTokenNormalized(Value value) {
  auto producer = value.getDefiningOp<linalg::GenericOp>();
  if (!producer)
    return false;
  for (OpOperand *input : producer.getDpsInputOperands()) {
    auto type = dyn_cast<RankedTensorType>(input->get().getType());
    if (type && isa<FloatType>(type.getElementType()) &&
        isPerTokenMap(producer.getMatchingIndexingMap(input)) &&
        isComputedFromStatistic(input->get()))
      return true;
  }
  return false;
}

/// Reads a scalar constant (possibly through arith.truncf / extf).
static std::optional<double> scalarConstant(Value v) {
  while (Operation *op = v.getDefiningOp()) {
    if (isa<arith::TruncFOp, arith::ExtFOp>(op)) {
      v = op->getOperand(0);
      continue;
    }
    FloatAttr attr;
    if (matchPattern(v, m_Constant(&attr)))
      return attr.getValueAsDouble();
    return std::nullopt;
  }
  return std::nullopt;
}

/// The op that a [C] elementwise generic with one to `maxInputs` inputs,
/// all read elementwise or as a 0-d scalar, yields from its body.
static Operation *channelBody(Value v, unsigned maxInputs = 1) {
  auto op = v.getDefiningOp<linalg::GenericOp>();
  if (!op || op.getNumDpsInputs() < 1 || op.getNumDpsInputs() > maxInputs ||
      op.getNumDpsInits() != 1 || op.getNumLoops() != 1 ||
      op.getNumParallelLoops() != 1 ||
      llvm::any_of(op.getIndexingMapsArray(), [](AffineMap map) {
        return !map.isIdentity() && map.getNumResults() != 0;
      }))
    return nullptr;
  Block &body = op.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Operation *def = yield.getValues()[0].getDefiningOp();
  if (!def || def->getBlock() != &body)
    return nullptr;
  return def;
}

/// A constant eps in the body of `generic`: a scalar constant, or the
/// block argument of a constant splat input (torch-mlir passes a Python
/// float held in a tensor as a 0-d `tensor<f32>`).
static std::optional<double> epsConstant(linalg::GenericOp generic, Value v) {
  auto arg = dyn_cast<BlockArgument>(v);
  if (!arg || arg.getOwner() != generic.getBody())
    return scalarConstant(v);
  DenseFPElementsAttr attr;
  if (arg.getArgNumber() >= generic.getNumDpsInputs() ||
      !matchPattern(generic.getDpsInputs()[arg.getArgNumber()],
                    m_Constant(&attr)) ||
      !attr.isSplat())
    return std::nullopt;
  APFloat value = attr.getSplatValue<APFloat>();
  bool lost;
  value.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &lost);
  return value.convertToDouble();
}

/// Matches `std` = sqrt(runningVar + eps) as frontends emit it (two [C]
/// generics or one); returns runningVar and eps.
static std::optional<std::pair<Value, double>>
matchStandardDeviation(Value std) {
  Operation *sqrt = channelBody(std);
  if (!sqrt || !isa<math::SqrtOp>(sqrt))
    return std::nullopt;
  auto sqrtGeneric = std.getDefiningOp<linalg::GenericOp>();
  Value sqrtArg = sqrt->getOperand(0);
  Value sum = sqrtGeneric.getDpsInputs()[0];
  Operation *add = nullptr;
  Block &sqrtBody = sqrtGeneric.getRegion().front();
  if (auto inner = sqrtArg.getDefiningOp();
      inner && inner->getBlock() == &sqrtBody)
    add = inner; // sqrt(in + eps) in one generic
  else if (sqrtArg == sqrtBody.getArgument(0))
    add = channelBody(sum, 2); // a generic for the sum, one for the sqrt
  if (!add || !isa<arith::AddFOp>(add))
    return std::nullopt;
  Block *addBody = add->getBlock();
  auto addGeneric = cast<linalg::GenericOp>(addBody->getParentOp());
  // runningVar is the first input, read elementwise.
  Value in = addBody->getArgument(0);
  if (!addGeneric.getIndexingMapsArray()[0].isIdentity() ||
      (add->getOperand(0) != in && add->getOperand(1) != in))
    return std::nullopt;
  Value epsValue =
      add->getOperand(0) == in ? add->getOperand(1) : add->getOperand(0);
  std::optional<double> eps = epsConstant(addGeneric, epsValue);
  if (!eps)
    return std::nullopt;
  return std::make_pair(addGeneric.getDpsInputs()[0], *eps);
}

/// Matches `scale` = gamma / sqrt(runningVar + eps) computed per channel
/// (UnifiedNorm.infer's order: the scale first, then `scale * x + beta`);
/// returns gamma, runningVar and eps.
static std::optional<std::tuple<Value, Value, double>>
matchScaleOverStandardDeviation(Value scale) {
  Operation *div = channelBody(scale, 2);
  auto generic = scale.getDefiningOp<linalg::GenericOp>();
  if (!div || !isa<arith::DivFOp>(div) || generic.getNumDpsInputs() != 2 ||
      div->getOperand(0) != generic.getBody()->getArgument(0) ||
      div->getOperand(1) != generic.getBody()->getArgument(1) ||
      !generic.getIndexingMapsArray()[0].isIdentity() ||
      !generic.getIndexingMapsArray()[1].isIdentity())
    return std::nullopt;
  auto std = matchStandardDeviation(generic.getDpsInputs()[1]);
  if (!std)
    return std::nullopt;
  return std::make_tuple(generic.getDpsInputs()[0], std->first, std->second);
}

/// A [C] view of a channel vector ([C] or [1, ..., 1, C]).
static Value asChannelVector(OpBuilder &b, Location loc, Value vector) {
  auto type = cast<RankedTensorType>(vector.getType());
  if (type.getRank() == 1)
    return vector;
  SmallVector<ReassociationIndices> reassociation(1);
  for (int64_t i = 0; i < type.getRank(); ++i)
    reassociation[0].push_back(i);
  return tensor::CollapseShapeOp::create(b, loc, vector, reassociation);
}

/// Folds the chain into per-channel (scale, shift), one small [C] generic
/// per step; a null scale means 1 and a null shift 0.
static std::pair<Value, Value> buildScaleAndShift(OpBuilder &b, Location loc,
                                                  ArrayRef<AffineStep> chain,
                                                  Value activation) {
  auto xType = cast<RankedTensorType>(activation.getType());
  int64_t rank = xType.getRank();
  SmallVector<Value> dynamicC;
  if (xType.isDynamicDim(rank - 1))
    dynamicC.push_back(tensor::DimOp::create(b, loc, activation, rank - 1));
  auto cType =
      RankedTensorType::get({xType.getDimSize(rank - 1)}, b.getF32Type());
  AffineMap id = AffineMap::getMultiDimIdentityMap(1, b.getContext());

  Value scale, shift;
  for (const AffineStep &step : chain) {
    SmallVector<Value> inputs;
    Value vector = step.vectorIsScalar ? step.vector
                                       : asChannelVector(b, loc, step.vector);
    if (!step.vectorIsScalar)
      inputs.push_back(vector);
    if (scale)
      inputs.push_back(scale);
    if (shift)
      inputs.push_back(shift);
    bool scaleChanges = step.kind == AffineStep::Mul ||
                        step.kind == AffineStep::Div ||
                        step.kind == AffineStep::ReverseSub;
    SmallVector<Value> outputs;
    if (scaleChanges || scale)
      outputs.push_back(tensor::EmptyOp::create(b, loc, cType, dynamicC));
    outputs.push_back(tensor::EmptyOp::create(b, loc, cType, dynamicC));
    SmallVector<AffineMap> maps(inputs.size() + outputs.size(), id);
    bool hadScale = bool(scale), hadShift = bool(shift);
    auto generic = linalg::GenericOp::create(
        b, loc, TypeRange(ValueRange(outputs)), inputs, outputs, maps,
        {utils::IteratorType::parallel},
        [&](OpBuilder &nb, Location l, ValueRange args) {
          unsigned i = 0;
          Value v = step.vectorIsScalar ? step.vector : args[i++];
          v = toF32(nb, l, v);
          Value a =
              hadScale
                  ? args[i++]
                  : arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(1.0f));
          Value c =
              hadShift
                  ? args[i++]
                  : arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(0.0f));
          Value newA = a, newC = c;
          switch (step.kind) {
          case AffineStep::Add:
            newC = arith::AddFOp::create(nb, l, c, v);
            break;
          case AffineStep::Sub:
            newC = arith::SubFOp::create(nb, l, c, v);
            break;
          case AffineStep::ReverseSub:
            newA = arith::NegFOp::create(nb, l, a);
            newC = arith::SubFOp::create(nb, l, v, c);
            break;
          case AffineStep::Mul:
            newA = arith::MulFOp::create(nb, l, a, v);
            newC = arith::MulFOp::create(nb, l, c, v);
            break;
          case AffineStep::Div:
            newA = arith::DivFOp::create(nb, l, a, v);
            newC = arith::DivFOp::create(nb, l, c, v);
            break;
          }
          SmallVector<Value> yields;
          if (scaleChanges || hadScale)
            yields.push_back(newA);
          yields.push_back(newC);
          linalg::YieldOp::create(nb, l, yields);
        });
    if (scaleChanges || hadScale)
      scale = generic.getResult(0);
    shift = generic->getResults().back();
  }
  return {scale, shift};
}

/// If `chain` is exactly UN inference, returns (gamma, beta, rv, eps), beta
/// null when the chain has no shift (beta = 0). The forms:
///  - gamma * x / sqrt(rv + eps) + beta (the spec's formula, in any order of
///    the product and the quotient);
///  - (gamma / sqrt(rv + eps)) * x [+ beta], the scale computed per channel
///    first (UnifiedNorm.infer; without beta: a converted RMSNorm).
static std::optional<std::tuple<Value, Value, Value, double>>
matchUNInference(ArrayRef<AffineStep> chain, RankedTensorType xType) {
  for (const AffineStep &s : chain)
    if (s.vectorIsScalar ||
        cast<RankedTensorType>(s.vector.getType()).getRank() != 1)
      return std::nullopt;
  Value gamma, beta, rv;
  double eps;
  if (chain.size() == 3 && chain[2].kind == AffineStep::Add) {
    const AffineStep *mul = nullptr, *div = nullptr;
    for (const AffineStep &s : chain.take_front(2)) {
      if (s.kind == AffineStep::Mul)
        mul = &s;
      else if (s.kind == AffineStep::Div)
        div = &s;
    }
    if (!mul || !div)
      return std::nullopt;
    auto stdMatch = matchStandardDeviation(div->vector);
    if (!stdMatch)
      return std::nullopt;
    std::tie(rv, eps) = *stdMatch;
    gamma = mul->vector;
    beta = chain[2].vector;
  } else if ((chain.size() == 1 ||
              (chain.size() == 2 && chain[1].kind == AffineStep::Add)) &&
             chain[0].kind == AffineStep::Mul) {
    auto scale = matchScaleOverStandardDeviation(chain[0].vector);
    if (!scale)
      return std::nullopt;
    std::tie(gamma, rv, eps) = *scale;
    if (chain.size() == 2)
      beta = chain[1].vector;
    else if (xType.isDynamicDim(xType.getRank() - 1))
      return std::nullopt; // no static shape for a zero beta
  } else {
    return std::nullopt;
  }
  Type elementType = xType.getElementType();
  auto rvType = cast<RankedTensorType>(rv.getType());
  if (!(eps > 0.0) || rvType.getRank() != 1 ||
      !rvType.getElementType().isF32() ||
      cast<RankedTensorType>(gamma.getType()).getElementType() != elementType ||
      (beta &&
       cast<RankedTensorType>(beta.getType()).getElementType() != elementType))
    return std::nullopt;
  return std::make_tuple(gamma, beta, rv, eps);
}

/// Name prefix of the external functions that stand for UnifiedNorm in
/// eval mode in frontend output.
static constexpr llvm::StringLiteral kUnifiedNormCallee =
    "un_mlir.unified_norm_infer";

/// Rewrites a call standing for UnifiedNorm in eval into `un.infer`. The
/// call is `(x, gamma, beta, running_var, eps) -> y` with eps a constant
/// float, or `(x, gamma, beta, running_var) -> y` with a `un.eps` float
/// attribute.
static FailureOr<InferOp> raiseUnifiedNormCall(IRRewriter &rewriter,
                                               func::CallOp call) {
  if (call.getNumResults() != 1 ||
      (call.getNumOperands() != 4 && call.getNumOperands() != 5))
    return call.emitError("call to '@")
           << call.getCallee()
           << "' must take (x, gamma, beta, running_var[, eps]) and return y";
  FloatAttr eps = call->getAttrOfType<FloatAttr>("un.eps");
  if (call.getNumOperands() == 5 &&
      !matchPattern(call.getOperand(4), m_Constant(&eps)))
    return call.emitError("call to '@")
           << call.getCallee() << "': eps must be a constant float";
  if (!eps)
    return call.emitError("call to '@")
           << call.getCallee()
           << "' has neither an eps operand nor a 'un.eps' float attribute";
  rewriter.setInsertionPoint(call);
  auto infer = InferOp::create(
      rewriter, call.getLoc(), call.getResult(0).getType(), call.getOperand(0),
      call.getOperand(1), call.getOperand(2), call.getOperand(3),
      rewriter.getF32FloatAttr(eps.getValueAsDouble()));
  if (failed(mlir::verify(infer))) {
    rewriter.eraseOp(infer);
    return call.emitError("call to '@")
           << call.getCallee() << "' does not have the types of un.infer";
  }
  rewriter.replaceOp(call, infer.getResult());
  return infer;
}

namespace {
struct UNRaiseNormsPass : un::impl::UNRaiseNormsBase<UNRaiseNormsPass> {
  using Base::Base;

  void runOnOperation() override {
    if (failed(raisePreservedCalls()))
      return signalPassFailure();

    // Chain heads: steps whose activation is not itself the single-use
    // result of a step. Chains are disjoint; raising one may replace the
    // activation of a later head, so activations are found again when the
    // head is raised.
    SmallVector<linalg::GenericOp> heads;
    getOperation()->walk([&](linalg::GenericOp op) {
      Value activation = findActivation(op);
      if (!activation)
        return;
      auto producer = activation.getDefiningOp<linalg::GenericOp>();
      if (!producer || !activation.hasOneUse() || !findActivation(producer))
        heads.push_back(op);
    });

    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp head : heads)
      if (Value activation = findActivation(head))
        raiseChain(rewriter, head, activation);
  }

  /// Calls standing for UnifiedNorm become un.infer; their declarations go
  /// when no call is left.
  LogicalResult raisePreservedCalls() {
    SmallVector<func::CallOp> calls;
    getOperation()->walk([&](func::CallOp call) {
      if (call.getCallee().starts_with(kUnifiedNormCallee))
        calls.push_back(call);
    });
    IRRewriter rewriter(&getContext());
    SmallVector<Operation *> declarations;
    for (func::CallOp call : calls) {
      Operation *callee =
          SymbolTable::lookupNearestSymbolFrom(call, call.getCalleeAttr());
      FailureOr<InferOp> infer = raiseUnifiedNormCall(rewriter, call);
      if (failed(infer))
        return failure();
      if (reportRaised)
        infer->emitRemark() << "raised to " << infer->getOperation()->getName();
      if (callee && !llvm::is_contained(declarations, callee))
        declarations.push_back(callee);
    }
    for (Operation *declaration : declarations) {
      auto func = dyn_cast<func::FuncOp>(declaration);
      if (func && func.isDeclaration() &&
          SymbolTable::symbolKnownUseEmpty(func, func->getParentOp()))
        rewriter.eraseOp(func);
    }
    return success();
  }

  /// The input of `op` it applies an affine step to, if any.
  static Value findActivation(linalg::GenericOp op) {
    for (Value input : op.getDpsInputs())
      if (matchStep(op, input))
        return input;
    return {};
  }

  void raiseChain(IRRewriter &rewriter, linalg::GenericOp head,
                  Value activation) {
    SmallVector<AffineStep> chain = {*matchStep(head, activation)};
    while (std::optional<AffineStep> next =
               nextStep(chain.back().op->getResult(0)))
      chain.push_back(*next);

    // A normalization scales each channel by its own factor: a chain
    // without a per-channel scale is a bias add or a scalar scaling (such
    // as attention's 1/sqrt(d)), not a normalization.
    bool scalesChannels = llvm::any_of(chain, [](const AffineStep &s) {
      return (s.kind == AffineStep::Mul || s.kind == AffineStep::Div) &&
             !s.vectorIsScalar;
    });
    if (!scalesChannels) {
      LLVM_DEBUG(llvm::dbgs() << "un-raise-norms: chain at " << head.getLoc()
                              << " has no per-channel scale; left alone\n");
      return;
    }
    if (isPerTokenNormalized(activation)) {
      head.emitRemark("per-token normalization (LayerNorm-style): its "
                      "statistics change with every token, so it cannot be "
                      "folded into linear layers; left as it is");
      return;
    }

    linalg::GenericOp last = chain.back().op;
    rewriter.setInsertionPoint(last);
    Location loc = last.getLoc();
    auto type = cast<RankedTensorType>(activation.getType());
    Value replacement;
    if (auto un = matchUNInference(chain, type)) {
      auto [gamma, beta, rv, eps] = *un;
      if (!beta) {
        auto betaType = RankedTensorType::get({type.getShape().back()},
                                              type.getElementType());
        beta = arith::ConstantOp::create(
            rewriter, loc, betaType,
            DenseElementsAttr::get(
                betaType, rewriter.getFloatAttr(type.getElementType(), 0.0)));
      }
      replacement =
          InferOp::create(rewriter, loc, type, activation, gamma, beta, rv,
                          rewriter.getF32FloatAttr(float(eps)));
    } else {
      auto [scale, shift] =
          buildScaleAndShift(rewriter, loc, chain, activation);
      if (!scale) // unreachable: the chain scales
        return;
      replacement =
          AffineOp::create(rewriter, loc, type, activation, scale, shift);
    }
    rewriter.replaceOp(last, replacement);
    for (const AffineStep &step : llvm::reverse(ArrayRef(chain).drop_back()))
      rewriter.eraseOp(step.op);
    if (reportRaised)
      replacement.getDefiningOp()->emitRemark()
          << "raised to " << replacement.getDefiningOp()->getName();
  }
};
} // namespace
