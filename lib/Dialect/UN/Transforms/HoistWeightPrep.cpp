//===- HoistWeightPrep.cpp - Outline folded-weight preparation --*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "HoistWeightPrep.h"
#include "WeightPrep.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/BitVector.h"
#include "llvm/ADT/SetVector.h"
#include "llvm/Support/Debug.h"

#define DEBUG_TYPE "un-fold-into-linear"

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::fold;

/// The attribute that asks for a C interface; copied to the new functions.
static constexpr StringLiteral kEmitCInterface = "llvm.emit_c_interface";

/// Ops that the hot function recomputes rather than receives: constants,
/// shapes and scalar index arithmetic.
static bool isRematerializable(Operation *op) {
  if (op->hasTrait<OpTrait::ConstantLike>())
    return true;
  if (isa<tensor::EmptyOp, tensor::DimOp>(op))
    return true;
  return isa<arith::ArithDialect>(op->getDialect()) &&
         llvm::none_of(op->getResultTypes(), llvm::IsaPred<ShapedType>);
}

bool fold::hoistWeightPreparation(func::FuncOp func, SymbolTable &symbols) {
  if (func.isExternal())
    return false;
  if (!llvm::hasSingleElement(func.getBody())) {
    LLVM_DEBUG(llvm::dbgs() << "hoist-weight-prep: @" << func.getName()
                            << " has several blocks; weight preparation "
                               "stays inline\n");
    return false;
  }
  Block &body = func.front();

  // Everything the marked ops need, inside the function body.
  llvm::SetVector<Operation *> slice;
  SmallVector<Operation *> worklist;
  for (Operation &op : body)
    if (isWeightPrep(&op))
      worklist.push_back(&op);
  if (worklist.empty())
    return false;
  auto visitValue = [&](Value value) {
    if (isa<BlockArgument>(value))
      return;
    if (Operation *def = body.findAncestorOpInBlock(*value.getDefiningOp()))
      worklist.push_back(def);
  };
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val();
    if (!slice.insert(op))
      continue;
    if (!isMemoryEffectFree(op)) {
      LLVM_DEBUG(llvm::dbgs() << "hoist-weight-prep: weight preparation in @"
                              << func.getName() << " needs '" << op->getName()
                              << "', which has side effects; it stays "
                                 "inline\n");
      return false;
    }
    for (Value operand : op->getOperands())
      visitValue(operand);
    visitUsedValuesDefinedAbove(op->getRegions(), [&](OpOperand *operand) {
      visitValue(operand->get());
    });
  }
  SmallVector<Operation *> ordered;
  for (Operation &op : body)
    if (slice.contains(&op))
      ordered.push_back(&op);

  // Values the rest of the function needs from the slice, and the function
  // arguments the slice reads.
  SmallVector<Value> prepared;
  for (Operation *op : ordered) {
    if (isRematerializable(op))
      continue;
    for (Value result : op->getResults())
      if (llvm::any_of(result.getUsers(), [&](Operation *user) {
            return !slice.contains(body.findAncestorOpInBlock(*user));
          }))
        prepared.push_back(result);
  }
  if (prepared.empty())
    return false;
  llvm::SetVector<unsigned> argsRead;
  for (Operation *op : ordered) {
    auto note = [&](Value value) {
      if (auto arg = dyn_cast<BlockArgument>(value))
        if (arg.getOwner() == &body)
          argsRead.insert(arg.getArgNumber());
    };
    for (Value operand : op->getOperands())
      note(operand);
    visitUsedValuesDefinedAbove(
        op->getRegions(), [&](OpOperand *operand) { note(operand->get()); });
  }
  SmallVector<unsigned> prepArgs(argsRead.begin(), argsRead.end());
  llvm::sort(prepArgs);

  MLIRContext *ctx = func.getContext();
  Location loc = func.getLoc();
  OpBuilder b(ctx);
  b.setInsertionPointAfter(func);

  // @f_prepare_weights: the slice alone.
  SmallVector<Type> prepArgTypes, preparedTypes;
  for (unsigned i : prepArgs)
    prepArgTypes.push_back(body.getArgument(i).getType());
  for (Value v : prepared)
    preparedTypes.push_back(v.getType());
  auto prep = func::FuncOp::create(
      b, loc, (func.getName() + kPrepareWeightsSuffix).str(),
      FunctionType::get(ctx, prepArgTypes, preparedTypes));
  symbols.insert(prep);
  prep.setVisibility(func.getVisibility());
  if (func->hasAttr(kEmitCInterface))
    prep->setAttr(kEmitCInterface, UnitAttr::get(ctx));
  // Each argument keeps its attributes (e.g. bufferization.writable).
  for (auto [i, arg] : llvm::enumerate(prepArgs))
    if (DictionaryAttr attrs = func.getArgAttrDict(arg))
      prep.setArgAttrs(i, attrs);
  {
    Block *entry = prep.addEntryBlock();
    IRMapping mapping;
    for (auto [i, arg] : llvm::enumerate(prepArgs))
      mapping.map(body.getArgument(arg), entry->getArgument(i));
    OpBuilder pb = OpBuilder::atBlockEnd(entry);
    for (Operation *op : ordered) {
      Operation *clone = pb.clone(*op, mapping);
      clone->removeAttr(kWeightPrepAttrName);
    }
    SmallVector<Value> results;
    for (Value v : prepared)
      results.push_back(mapping.lookup(v));
    func::ReturnOp::create(pb, loc, results);
  }

  // @f_folded: the function without the slice, taking the prepared
  // weights as extra arguments.
  IRMapping cloneMap;
  func::FuncOp folded = func.clone(cloneMap);
  folded.setSymName((func.getName() + kFoldedSuffix).str());
  b.setInsertionPointAfter(prep);
  b.insert(folded);
  symbols.insert(folded);
  Block &foldedBody = folded.front();
  unsigned numOriginalArgs = foldedBody.getNumArguments();
  // Through the function interface, so that the type and the argument
  // attributes (kept by the clone) stay in step with the block arguments.
  SmallVector<unsigned> newArgIndices(prepared.size(), numOriginalArgs);
  SmallVector<Location> newArgLocs;
  for (Value v : prepared)
    newArgLocs.push_back(v.getLoc());
  SmallVector<DictionaryAttr> newArgAttrs(prepared.size(),
                                          DictionaryAttr::get(ctx));
  if (failed(folded.insertArguments(newArgIndices, TypeRange(preparedTypes),
                                    newArgAttrs, newArgLocs)))
    llvm_unreachable("appending arguments to a func.func cannot fail");
  for (auto [i, v] : llvm::enumerate(prepared))
    cloneMap.lookup(v).replaceAllUsesWith(
        foldedBody.getArgument(numOriginalArgs + i));
  for (Operation *op : llvm::reverse(ordered)) {
    Operation *clone = cloneMap.lookup(op);
    if (clone->use_empty())
      clone->erase();
  }
  llvm::BitVector unused(foldedBody.getNumArguments());
  SmallVector<unsigned> kept;
  for (unsigned i = 0; i < numOriginalArgs; ++i) {
    if (foldedBody.getArgument(i).use_empty())
      unused.set(i);
    else
      kept.push_back(i);
  }
  if (failed(folded.eraseArguments(unused)))
    llvm_unreachable("erasing unused arguments of a func.func cannot fail");

  // @f: prepare, then run the hot path.
  for (Operation &op : body)
    op.dropAllReferences();
  while (!body.empty())
    body.back().erase();
  OpBuilder fb = OpBuilder::atBlockEnd(&body);
  SmallVector<Value> prepOperands, foldedOperands;
  for (unsigned i : prepArgs)
    prepOperands.push_back(body.getArgument(i));
  auto prepCall = func::CallOp::create(fb, loc, prep, prepOperands);
  for (unsigned i : kept)
    foldedOperands.push_back(body.getArgument(i));
  llvm::append_range(foldedOperands, prepCall.getResults());
  auto call = func::CallOp::create(fb, loc, folded, foldedOperands);
  func::ReturnOp::create(fb, loc, call.getResults());
  // @f and the preparation, compiled without optimization when lowered to
  // LLVM: instruction selection at -O3 takes seconds on the aggregate of
  // prepared weights that a deep model's preparation returns, and there is
  // nothing to gain: @f is glue, the preparation runs once per set of
  // weights, and the CPU pipeline outlines its loops into functions of
  // their own (un-cpu-outline-kernels), which are optimized.
  auto noOptimization = ArrayAttr::get(
      ctx, {StringAttr::get(ctx, "noinline"), StringAttr::get(ctx, "optnone")});
  func->setAttr("passthrough", noOptimization);
  prep->setAttr("passthrough", noOptimization);

  LLVM_DEBUG(llvm::dbgs() << "hoist-weight-prep: @" << func.getName() << ": "
                          << ordered.size() << " ops moved to @"
                          << prep.getName() << ", " << prepared.size()
                          << " prepared values\n");
  return true;
}
