//===- FoldIntoLinearAnalysis.cpp - Where an affine map can fold -*- C++ -*-=//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "FoldIntoLinearAnalysis.h"
#include "WeightPrep.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/SmallBitVector.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::fold;

/// Ops visited at most when proving that a value is a parameter.
static constexpr unsigned kMaxParameterSliceOps = 256;

static std::string opName(Operation *op) {
  return ("'" + op->getName().getStringRef() + "'").str();
}

//===----------------------------------------------------------------------===//
// Views
//===----------------------------------------------------------------------===//

/// A linalg.generic that only copies its input through permutation maps
/// (torch-mlir's transposes).
static bool isCopyGeneric(Operation *op) {
  auto generic = dyn_cast<linalg::GenericOp>(op);
  if (!generic || generic.getNumDpsInputs() != 1 ||
      generic.getNumDpsInits() != 1 || !generic.hasPureTensorSemantics() ||
      generic.getNumParallelLoops() != generic.getNumLoops())
    return false;
  SmallVector<AffineMap> maps = generic.getIndexingMapsArray();
  if (!maps[0].isPermutation() || !maps[1].isPermutation())
    return false;
  Block &body = generic.getRegion().front();
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  return body.getOperations().size() == 1 &&
         yield.getValues().front() == body.getArgument(0);
}

bool fold::isViewOp(Operation *op) {
  return isa<tensor::CollapseShapeOp, tensor::ExpandShapeOp,
             tensor::ExtractSliceOp, tensor::CastOp, linalg::TransposeOp>(op) ||
         isCopyGeneric(op);
}

OpOperand &fold::getViewSource(Operation *op) {
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op))
    return collapse.getSrcMutable();
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op))
    return expand.getSrcMutable();
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op))
    return slice.getSourceMutable();
  if (auto cast = dyn_cast<tensor::CastOp>(op))
    return cast.getSourceMutable();
  return *cast<linalg::LinalgOp>(op).getDpsInputOperand(0);
}

static bool isUnitDim(RankedTensorType type, int64_t dim) {
  return type.getDimSize(dim) == 1;
}

/// The only dim of `group` that is not a static 1 (the last one when all
/// are), if there is exactly one.
static std::optional<int64_t> soleNonUnitDim(RankedTensorType type,
                                             ArrayRef<int64_t> group) {
  std::optional<int64_t> found;
  for (int64_t d : group) {
    if (isUnitDim(type, d))
      continue;
    if (found)
      return std::nullopt;
    found = d;
  }
  if (!found && group.size() == 1)
    return group.front();
  return found;
}

/// True if every dim of `group` but `dim` is a static 1.
static bool othersAreUnit(RankedTensorType type, ArrayRef<int64_t> group,
                          int64_t dim) {
  return llvm::all_of(
      group, [&](int64_t d) { return d == dim || isUnitDim(type, d); });
}

std::optional<int64_t> fold::mapDimForward(Operation *op, int64_t dim) {
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op)) {
    for (auto [g, group] : llvm::enumerate(collapse.getReassociationIndices()))
      if (llvm::is_contained(group, dim))
        return othersAreUnit(collapse.getSrcType(), group, dim)
                   ? std::optional<int64_t>(g)
                   : std::nullopt;
    return std::nullopt;
  }
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op)) {
    auto groups = expand.getReassociationIndices();
    return soleNonUnitDim(expand.getResultType(), groups[dim]);
  }
  if (auto slice = dyn_cast<tensor::ExtractSliceOp>(op)) {
    llvm::SmallBitVector dropped = slice.getDroppedDims();
    RankedTensorType source = slice.getSourceType();
    if (dropped.test(dim) || source.isDynamicDim(dim) ||
        slice.getStaticOffsets()[dim] != 0 ||
        slice.getStaticStrides()[dim] != 1 ||
        slice.getStaticSizes()[dim] != source.getDimSize(dim))
      return std::nullopt;
    int64_t before = 0;
    for (int64_t d = 0; d < dim; ++d)
      before += dropped.test(d);
    return dim - before;
  }
  if (isa<tensor::CastOp>(op))
    return dim;
  if (auto transpose = dyn_cast<linalg::TransposeOp>(op)) {
    ArrayRef<int64_t> perm = transpose.getPermutation();
    auto it = llvm::find(perm, dim);
    return it == perm.end() ? std::nullopt
                            : std::optional<int64_t>(it - perm.begin());
  }
  if (isCopyGeneric(op)) {
    SmallVector<AffineMap> maps =
        cast<linalg::GenericOp>(op).getIndexingMapsArray();
    unsigned loop = maps[0].getDimPosition(dim);
    std::optional<unsigned> pos =
        maps[1].getResultPosition(getAffineDimExpr(loop, op->getContext()));
    return pos ? std::optional<int64_t>(*pos) : std::nullopt;
  }
  return std::nullopt;
}

std::optional<int64_t> fold::mapDimBackward(Operation *op, int64_t dim) {
  if (auto collapse = dyn_cast<tensor::CollapseShapeOp>(op))
    return soleNonUnitDim(collapse.getSrcType(),
                          collapse.getReassociationIndices()[dim]);
  if (auto expand = dyn_cast<tensor::ExpandShapeOp>(op)) {
    for (auto [g, group] : llvm::enumerate(expand.getReassociationIndices()))
      if (llvm::is_contained(group, dim))
        return othersAreUnit(expand.getResultType(), group, dim)
                   ? std::optional<int64_t>(g)
                   : std::nullopt;
    return std::nullopt;
  }
  if (isa<tensor::CastOp>(op))
    return dim;
  if (auto transpose = dyn_cast<linalg::TransposeOp>(op))
    return transpose.getPermutation()[dim];
  if (isCopyGeneric(op)) {
    SmallVector<AffineMap> maps =
        cast<linalg::GenericOp>(op).getIndexingMapsArray();
    unsigned loop = maps[1].getDimPosition(dim);
    std::optional<unsigned> pos =
        maps[0].getResultPosition(getAffineDimExpr(loop, op->getContext()));
    return pos ? std::optional<int64_t>(*pos) : std::nullopt;
  }
  // tensor.extract_slice: a slice of the output is not foldable backwards.
  return std::nullopt;
}

//===----------------------------------------------------------------------===//
// Parameters
//===----------------------------------------------------------------------===//

static bool isReduction(linalg::LinalgOp op) {
  return op.getNumReductionLoops() != 0;
}

bool fold::isParameter(Value value, Value activation, std::string &why) {
  SmallVector<Value> worklist{value};
  DenseSet<Operation *> visited;
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    if (v == activation) {
      why = "it depends on the normalized activation";
      return false;
    }
    if (auto arg = dyn_cast<BlockArgument>(v)) {
      Operation *parent = arg.getOwner()->getParentOp();
      if (isa_and_nonnull<FunctionOpInterface>(parent) &&
          arg.getOwner()->isEntryBlock())
        continue;
      why = "it depends on a block argument that is not a function argument";
      return false;
    }
    Operation *def = v.getDefiningOp();
    if (!visited.insert(def).second)
      continue;
    if (visited.size() > kMaxParameterSliceOps) {
      why = "it is computed by more than " +
            std::to_string(kMaxParameterSliceOps) + " ops";
      return false;
    }
    if (def->hasTrait<OpTrait::ConstantLike>())
      continue;
    if (isa<UNDialect>(def->getDialect())) {
      why = "it is computed by " + opName(def);
      return false;
    }
    if (!isMemoryEffectFree(def)) {
      why = "it is computed by " + opName(def) + ", which has side effects";
      return false;
    }
    if (auto linalgOp = dyn_cast<linalg::LinalgOp>(def);
        linalgOp && isReduction(linalgOp) && !isWeightPrep(def)) {
      why = "it is computed by a contraction or reduction (" + opName(def) +
            "): an activation";
      return false;
    }
    llvm::append_range(worklist, def->getOperands());
    visitUsedValuesDefinedAbove(def->getRegions(), [&](OpOperand *operand) {
      worklist.push_back(operand->get());
    });
  }
  return true;
}

//===----------------------------------------------------------------------===//
// Consumer folds
//===----------------------------------------------------------------------===//

SmallVector<TerminalUse> fold::getTerminalUses(AffineOp affine) {
  SmallVector<TerminalUse> terminals;
  std::function<void(Value, SmallVector<Operation *> &, int64_t)> visit =
      [&](Value value, SmallVector<Operation *> &views, int64_t dim) {
        for (OpOperand &use : value.getUses()) {
          Operation *owner = use.getOwner();
          if (isViewOp(owner) && &getViewSource(owner) == &use) {
            if (std::optional<int64_t> next = mapDimForward(owner, dim)) {
              views.push_back(owner);
              visit(owner->getResult(0), views, *next);
              views.pop_back();
              continue;
            }
          }
          terminals.push_back({&use, views, dim});
        }
      };
  SmallVector<Operation *> views;
  visit(affine.getY(), views, affine.getY().getType().getRank() - 1);
  return terminals;
}

/// Whether `generic` can absorb beta * W into one of its inputs: the
/// contraction's output `use` enters its body only through
/// `addf(out, c)` with a bias `c` used nowhere else, indexed like beta * W
/// (whose dims are the output dims `dimsInUse` of the used value). The bias
/// may be stored in a narrower type and widened first (`addf(out,
/// extf(c))`: a bf16 bias added to an f32 accumulator); the new bias is
/// then rounded to that type.
static bool matchBiasAbsorption(linalg::GenericOp generic, OpOperand &use,
                                ArrayRef<int64_t> dimsInUse, Value activation,
                                unsigned &biasIndex, std::string &why) {
  if (!generic.hasPureTensorSemantics() || !generic.isDpsInput(&use) ||
      generic.getNumParallelLoops() != generic.getNumLoops()) {
    why = "its user is not an elementwise linalg.generic";
    return false;
  }
  BlockArgument outArg = generic.getMatchingBlockArgument(&use);
  if (!outArg.hasOneUse()) {
    why = "the bias add uses the contraction's output more than once";
    return false;
  }
  auto add = dyn_cast<arith::AddFOp>(*outArg.getUsers().begin());
  if (!add) {
    why = "the contraction's output is not added to a bias first";
    return false;
  }
  Value other = add.getLhs() == outArg ? add.getRhs() : add.getLhs();
  if (auto widen = other.getDefiningOp<arith::ExtFOp>();
      widen && widen->hasOneUse())
    other = widen.getIn();
  auto biasArg = dyn_cast<BlockArgument>(other);
  if (!biasArg || biasArg.getOwner() != generic.getBody() ||
      biasArg.getArgNumber() >= generic.getNumDpsInputs() ||
      biasArg == outArg || !biasArg.hasOneUse()) {
    why = "the contraction's output is added to something that is not an "
          "input used once";
    return false;
  }
  OpOperand *bias = generic.getDpsInputOperand(biasArg.getArgNumber());
  AffineMap useMap = generic.getMatchingIndexingMap(&use);
  SmallVector<AffineExpr> exprs;
  for (int64_t d : dimsInUse)
    exprs.push_back(useMap.getResult(d));
  AffineMap wanted =
      AffineMap::get(useMap.getNumDims(), 0, exprs, generic.getContext());
  if (generic.getMatchingIndexingMap(bias) != wanted) {
    why = "the bias is not indexed like beta * W";
    return false;
  }
  // The bias has the element type of the contraction's output (checked by
  // the caller) or is widened to it: they are added.
  std::string paramWhy;
  if (!isParameter(bias->get(), activation, paramWhy)) {
    why = "the bias is not a parameter: " + paramWhy;
    return false;
  }
  biasIndex = bias->getOperandNumber();
  return true;
}

FailureOr<ConsumerFold> fold::analyzeConsumerFold(AffineOp affine,
                                                  OpOperand &use,
                                                  ArrayRef<Operation *> views,
                                                  int64_t channelDim,
                                                  std::string &why) {
  Operation *owner = use.getOwner();
  if (isViewOp(owner)) {
    why = opName(owner) + " does not keep the channel dim whole";
    return failure();
  }
  auto linalgOp = dyn_cast<linalg::LinalgOp>(owner);
  if (!linalgOp || !linalg::isaContractionOpInterface(linalgOp) ||
      !linalgOp.hasPureTensorSemantics()) {
    why = opName(owner) + " is not a linear layer (a contraction on tensors)";
    return failure();
  }
  if (owner->getBlock() != affine->getBlock()) {
    why = "the contraction is in another block";
    return failure();
  }
  if (!linalgOp.isDpsInput(&use)) {
    why = "the value is the init of the contraction, not an input";
    return failure();
  }
  MLIRContext *ctx = owner->getContext();
  ConsumerFold plan;
  plan.views.assign(views.begin(), views.end());
  plan.contraction = linalgOp;
  plan.activationIndex = use.getOperandNumber();
  plan.weightIndex = 1 - plan.activationIndex;

  // Contractions index their operands by projected permutations: every
  // result of their maps is a loop.
  AffineMap actMap = linalgOp.getMatchingIndexingMap(&use);
  unsigned k = cast<AffineDimExpr>(actMap.getResult(channelDim)).getPosition();
  if (linalgOp.getIteratorTypesArray()[k] != utils::IteratorType::reduction) {
    why = "the channel dim is not contracted (it is a parallel dim of " +
          opName(owner) + ")";
    return failure();
  }
  OpOperand *weight = linalgOp.getDpsInputOperand(plan.weightIndex);
  AffineMap weightMap = linalgOp.getMatchingIndexingMap(weight);
  std::optional<unsigned> weightDim =
      weightMap.getResultPosition(getAffineDimExpr(k, ctx));
  if (!weightDim) {
    why = "the weight does not carry the contracted channel dim";
    return failure();
  }
  plan.weightDim = *weightDim;
  AffineMap outMap =
      linalgOp.getMatchingIndexingMap(linalgOp.getDpsInitOperand(0));
  for (unsigned r = 0; r < weightMap.getNumResults(); ++r) {
    if (r == *weightDim)
      continue;
    std::optional<unsigned> q =
        outMap.getResultPosition(weightMap.getResult(r));
    if (!q) {
      why = "the weight has another contracted dim";
      return failure();
    }
    plan.weightDimsInOutput.push_back(*q);
  }
  Type weightType = getElementTypeOrSelf(weight->get().getType());
  Type outType = getElementTypeOrSelf(linalgOp->getResult(0).getType());
  if (!isFoldableFloatType(weightType) || !isFoldableFloatType(outType)) {
    why = "the weight or output element type is not f32, f16 or bf16";
    return failure();
  }
  std::string paramWhy;
  if (!isParameter(weight->get(), affine.getX(), paramWhy)) {
    why = "the other operand of " + opName(owner) +
          " is not a weight: " + paramWhy;
    return failure();
  }
  if (!isParameter(affine.getScale(), affine.getX(), paramWhy) ||
      !isParameter(affine.getShift(), affine.getX(), paramWhy)) {
    why = "the scale or shift is not a parameter: " + paramWhy;
    return failure();
  }

  // beta * W goes into the bias add that is the contraction's only user...
  std::string biasWhy = "the contraction's result has several users";
  Value value = linalgOp->getResult(0);
  SmallVector<int64_t> dims = plan.weightDimsInOutput;
  SmallVector<Operation *> biasViews;
  while (value.hasOneUse()) {
    OpOperand &next = *value.getUses().begin();
    Operation *user = next.getOwner();
    if (isViewOp(user) && &getViewSource(user) == &next) {
      SmallVector<int64_t> mapped;
      for (int64_t d : dims)
        if (std::optional<int64_t> m = mapDimForward(user, d))
          mapped.push_back(*m);
      if (mapped.size() != dims.size()) {
        biasWhy = opName(user) + " merges or splits the output dims";
        break;
      }
      dims = std::move(mapped);
      biasViews.push_back(user);
      value = user->getResult(0);
      continue;
    }
    auto generic = dyn_cast<linalg::GenericOp>(user);
    if (!generic) {
      biasWhy = "the contraction's user " + opName(user) + " is no bias add";
      break;
    }
    unsigned biasIndex = 0;
    if (matchBiasAbsorption(generic, next, dims, affine.getX(), biasIndex,
                            biasWhy)) {
      plan.biasAdd = generic;
      plan.biasIndex = biasIndex;
      plan.biasViews = std::move(biasViews);
      return plan;
    }
    break;
  }
  // ...or else into its init.
  if (auto fill = linalgOp.getDpsInitOperand(0)
                      ->get()
                      .getDefiningOp<linalg::FillOp>()) {
    plan.initFill = fill;
    return plan;
  }
  why = "beta * W has nowhere to go: " + biasWhy +
        ", and the init of the contraction is not a linalg.fill";
  return failure();
}

//===----------------------------------------------------------------------===//
// Producer folds
//===----------------------------------------------------------------------===//

/// Whether `generic` is out + bias with bias a [C] vector along the loop
/// that dim `resultDim` of its result is; sets the operand indices and the
/// dim of `out` that holds the channel.
static bool matchBiasAdd(linalg::GenericOp generic, int64_t resultDim,
                         Value activation, unsigned &outIndex,
                         unsigned &biasIndex, int64_t &outDim,
                         std::string &why) {
  why = "x is computed by " + opName(generic) +
        ", which is not a linear layer or a bias add";
  if (!generic.hasPureTensorSemantics() || generic.getNumDpsInputs() != 2 ||
      generic.getNumDpsInits() != 1 ||
      generic.getNumParallelLoops() != generic.getNumLoops())
    return false;
  Block &body = generic.getRegion().front();
  if (body.getOperations().size() != 2)
    return false;
  auto add = dyn_cast<arith::AddFOp>(body.front());
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  if (!add || yield.getValues().front() != add.getResult())
    return false;
  if (!((add.getLhs() == body.getArgument(0) &&
         add.getRhs() == body.getArgument(1)) ||
        (add.getLhs() == body.getArgument(1) &&
         add.getRhs() == body.getArgument(0))))
    return false;
  MLIRContext *ctx = generic.getContext();
  AffineMap resultMap =
      generic.getMatchingIndexingMap(generic.getDpsInitOperand(0));
  auto loopExpr = dyn_cast<AffineDimExpr>(resultMap.getResult(resultDim));
  if (!loopExpr)
    return false;
  unsigned numLoops = generic.getNumLoops();
  AffineMap channelMap = AffineMap::get(numLoops, 0, loopExpr, ctx);
  for (unsigned candidate = 0; candidate < 2; ++candidate) {
    OpOperand *bias = generic.getDpsInputOperand(candidate);
    OpOperand *out = generic.getDpsInputOperand(1 - candidate);
    AffineMap outMap = generic.getMatchingIndexingMap(out);
    if (generic.getMatchingIndexingMap(bias) != channelMap ||
        !outMap.isPermutation())
      continue;
    std::string paramWhy;
    if (!isParameter(bias->get(), activation, paramWhy))
      continue;
    outIndex = out->getOperandNumber();
    biasIndex = bias->getOperandNumber();
    outDim = *outMap.getResultPosition(loopExpr);
    return true;
  }
  why = "x is computed by an add that is not a bias add (a [C] parameter "
        "along the channel)";
  return false;
}

FailureOr<ProducerFold> fold::analyzeProducerFold(AffineOp affine,
                                                  std::string &why) {
  ProducerFold plan;
  Value value = affine.getX();
  int64_t dim = affine.getX().getType().getRank() - 1;
  linalg::LinalgOp contraction;
  while (true) {
    Operation *def = value.getDefiningOp();
    if (!def) {
      why = "x is a block argument, not the output of a linear layer";
      return failure();
    }
    if (!value.hasOneUse()) {
      why = "the output of " + opName(def) +
            " has other users, which need it unnormalized";
      return failure();
    }
    if (def->getBlock() != affine->getBlock()) {
      why = "x is computed in another block";
      return failure();
    }
    if (isViewOp(def)) {
      std::optional<int64_t> source = mapDimBackward(def, dim);
      if (!source) {
        why = opName(def) + " does not keep the channel dim whole";
        return failure();
      }
      (plan.biasAdd ? plan.viewsBeforeBias : plan.viewsAfterBias)
          .push_back(def);
      dim = *source;
      value = getViewSource(def).get();
      continue;
    }
    auto linalgOp = dyn_cast<linalg::LinalgOp>(def);
    if (linalgOp && linalg::isaContractionOpInterface(linalgOp) &&
        linalgOp.hasPureTensorSemantics()) {
      contraction = linalgOp;
      break;
    }
    auto generic = dyn_cast<linalg::GenericOp>(def);
    if (!generic || plan.biasAdd) {
      why = "x is computed by " + opName(def) + ", not by a linear layer" +
            (plan.biasAdd ? " before its bias add" : "");
      return failure();
    }
    unsigned outIndex = 0, biasIndex = 0;
    int64_t outDim = 0;
    if (!matchBiasAdd(generic, dim, affine.getX(), outIndex, biasIndex, outDim,
                      why))
      return failure();
    plan.biasAdd = generic;
    plan.biasIndex = biasIndex;
    dim = outDim;
    value = generic->getOperand(outIndex);
  }
  std::reverse(plan.viewsBeforeBias.begin(), plan.viewsBeforeBias.end());
  std::reverse(plan.viewsAfterBias.begin(), plan.viewsAfterBias.end());

  plan.contraction = contraction;
  plan.outputDim = dim;
  AffineMap outMap =
      contraction.getMatchingIndexingMap(contraction.getDpsInitOperand(0));
  auto channelExpr = cast<AffineDimExpr>(outMap.getResult(dim));
  SmallVector<unsigned> carriers;
  SmallVector<unsigned> positions;
  for (unsigned i = 0; i < 2; ++i) {
    AffineMap map =
        contraction.getMatchingIndexingMap(contraction.getDpsInputOperand(i));
    if (std::optional<unsigned> p = map.getResultPosition(channelExpr)) {
      carriers.push_back(i);
      positions.push_back(*p);
    }
  }
  if (carriers.size() != 1) {
    why = carriers.empty()
              ? "no input of the contraction carries the channel dim"
              : "the channel dim is a batch dim of the contraction (both "
                "inputs carry it)";
    return failure();
  }
  plan.weightIndex = carriers.front();
  plan.weightDim = positions.front();
  Value weight = contraction.getDpsInputOperand(plan.weightIndex)->get();
  Value input = contraction.getDpsInputOperand(1 - plan.weightIndex)->get();
  Type outType = getElementTypeOrSelf(contraction->getResult(0).getType());
  if (!isFoldableFloatType(getElementTypeOrSelf(weight.getType())) ||
      !isFoldableFloatType(outType)) {
    why = "the weight or output element type is not f32, f16 or bf16";
    return failure();
  }
  std::string paramWhy;
  if (!isParameter(weight, input, paramWhy)) {
    why = "the operand of " + opName(contraction) +
          " that carries the channel is not a weight: " + paramWhy;
    return failure();
  }
  if (!isParameter(affine.getScale(), input, paramWhy) ||
      !isParameter(affine.getShift(), input, paramWhy)) {
    why = "the scale or shift is not a parameter: " + paramWhy;
    return failure();
  }
  auto fill =
      contraction.getDpsInitOperand(0)->get().getDefiningOp<linalg::FillOp>();
  if (!fill) {
    why = "the init of the contraction is not a linalg.fill";
    return failure();
  }
  if (plan.biasAdd &&
      !matchPattern(fill.getInputs().front(), m_AnyZeroFloat())) {
    why = "the contraction has a bias add but its init is not zero";
    return failure();
  }
  plan.initFill = fill;
  return plan;
}
