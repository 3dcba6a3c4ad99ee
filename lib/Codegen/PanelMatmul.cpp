//===- PanelMatmul.cpp - Matmuls that read a weight packed in panels ------===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/PanelMatmul.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;

/// The maps of the panel matmul: A, Bp, C over loops (m, n, k).
static SmallVector<AffineMap> panelMatmulMaps(MLIRContext *ctx) {
  AffineExpr m = getAffineDimExpr(0, ctx), n = getAffineDimExpr(1, ctx),
             k = getAffineDimExpr(2, ctx);
  return {AffineMap::get(3, 0, {m, k}, ctx),
          AffineMap::get(
              3, 0, {n.floorDiv(un::kPanelWidth), k, n % un::kPanelWidth}, ctx),
          AffineMap::get(3, 0, {m, n}, ctx)};
}

RankedTensorType un::getPanelType(RankedTensorType b) {
  return RankedTensorType::get(
      {b.getDimSize(1) / kPanelWidth, b.getDimSize(0), kPanelWidth},
      b.getElementType());
}

Value un::buildPanels(OpBuilder &builder, Location loc, Value b) {
  auto type = cast<RankedTensorType>(b.getType());
  int64_t k = type.getDimSize(0), n = type.getDimSize(1);
  auto expandedType = RankedTensorType::get({k, n / kPanelWidth, kPanelWidth},
                                            type.getElementType());
  SmallVector<ReassociationIndices> groups = {{0}, {1, 2}};
  Value expanded =
      tensor::ExpandShapeOp::create(builder, loc, expandedType, b, groups);
  RankedTensorType panelType = getPanelType(type);
  Value init = tensor::EmptyOp::create(builder, loc, panelType.getShape(),
                                       panelType.getElementType());
  return linalg::TransposeOp::create(builder, loc, expanded, init,
                                     ArrayRef<int64_t>{1, 0, 2})
      ->getResult(0);
}

Value un::buildPanelMatmul(OpBuilder &builder, Location loc, Value a,
                           Value panels, Value init) {
  MLIRContext *ctx = builder.getContext();
  SmallVector<utils::IteratorType> iterators = {utils::IteratorType::parallel,
                                                utils::IteratorType::parallel,
                                                utils::IteratorType::reduction};
  auto generic = linalg::GenericOp::create(
      builder, loc, init.getType(), ValueRange{a, panels}, ValueRange{init},
      panelMatmulMaps(ctx), iterators,
      [](OpBuilder &b, Location l, ValueRange args) {
        Value product = arith::MulFOp::create(b, l, args[0], args[1]);
        Value sum = arith::AddFOp::create(b, l, args[2], product);
        linalg::YieldOp::create(b, l, sum);
      });
  return generic.getResult(0);
}

bool un::isPanelMatmul(linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != 3 || op.getNumReductionLoops() != 1 ||
      op.getIteratorTypesArray()[2] != utils::IteratorType::reduction ||
      op.getIndexingMapsArray() != panelMatmulMaps(op.getContext()))
    return false;
  for (Value v : op->getOperands()) {
    auto type = dyn_cast<ShapedType>(v.getType());
    if (!type || !type.getElementType().isF32())
      return false;
  }
  // acc + a * b (either operand order of each).
  Block &body = *op.getBlock();
  if (body.getOperations().size() != 3)
    return false;
  auto mul = dyn_cast<arith::MulFOp>(&body.front());
  auto add = dyn_cast<arith::AddFOp>(mul ? mul->getNextNode() : nullptr);
  if (!mul || !add)
    return false;
  auto yield = cast<linalg::YieldOp>(body.getTerminator());
  Value a = body.getArgument(0), b = body.getArgument(1),
        acc = body.getArgument(2);
  bool mulOk = (mul.getLhs() == a && mul.getRhs() == b) ||
               (mul.getLhs() == b && mul.getRhs() == a);
  bool addOk = (add.getLhs() == acc && add.getRhs() == mul.getResult()) ||
               (add.getLhs() == mul.getResult() && add.getRhs() == acc);
  return mulOk && addOk && yield.getNumOperands() == 1 &&
         yield.getOperand(0) == add.getResult();
}
