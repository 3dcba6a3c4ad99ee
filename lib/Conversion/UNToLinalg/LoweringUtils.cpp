//===- LoweringUtils.cpp - Shared helpers of the un lowering ----*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "LoweringUtils.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::lowering;

Value lowering::f32Constant(OpBuilder &b, Location loc, float value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

Value lowering::dimSize(OpBuilder &b, Location loc, Value v, int64_t dim) {
  return b.createOrFold<tensor::DimOp>(loc, v, dim);
}

Value lowering::emptyTensorLike(OpBuilder &b, Location loc,
                                RankedTensorType shape, Value like,
                                Type elementType) {
  SmallVector<Value> dynamicSizes;
  for (int64_t i = 0, e = shape.getRank(); i < e; ++i)
    if (shape.isDynamicDim(i))
      dynamicSizes.push_back(dimSize(b, loc, like, i));
  return tensor::EmptyOp::create(b, loc, shape.getShape(), elementType,
                                 dynamicSizes);
}

Value lowering::emptyChannelTensor(OpBuilder &b, Location loc,
                                   RankedTensorType type, Value activation) {
  SmallVector<Value> dynamicSizes;
  if (type.isDynamicDim(0)) {
    int64_t rank = cast<RankedTensorType>(activation.getType()).getRank();
    dynamicSizes.push_back(dimSize(b, loc, activation, rank - 1));
  }
  return tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType(),
                                 dynamicSizes);
}

Value lowering::tokenCountF32(OpBuilder &b, Location loc, Value activation) {
  int64_t rank = cast<RankedTensorType>(activation.getType()).getRank();
  Value count = arith::ConstantIndexOp::create(b, loc, 1);
  for (int64_t i = 0; i + 1 < rank; ++i)
    count = b.createOrFold<arith::MulIOp>(loc, count,
                                          dimSize(b, loc, activation, i));
  Value asI64 =
      b.createOrFold<arith::IndexCastUIOp>(loc, b.getI64Type(), count);
  return b.createOrFold<arith::UIToFPOp>(loc, b.getF32Type(), asI64);
}

Value lowering::fill(OpBuilder &b, Location loc, Value value, Value tensor) {
  return linalg::FillOp::create(b, loc, value, tensor).getResult(0);
}

ActivationMaps lowering::getActivationMaps(MLIRContext *ctx, int64_t rank) {
  ActivationMaps maps;
  maps.all = AffineMap::getMultiDimIdentityMap(rank, ctx);
  maps.channel = AffineMap::get(rank, 0, getAffineDimExpr(rank - 1, ctx));
  SmallVector<AffineExpr> tokenDims;
  for (int64_t i = 0; i + 1 < rank; ++i)
    tokenDims.push_back(getAffineDimExpr(i, ctx));
  maps.tokens = AffineMap::get(rank, 0, tokenDims, ctx);
  maps.scalar = AffineMap::get(rank, 0, ctx);
  return maps;
}

SmallVector<utils::IteratorType>
lowering::tokenReductionIterators(int64_t rank) {
  SmallVector<utils::IteratorType> iterators(rank - 1,
                                             utils::IteratorType::reduction);
  iterators.push_back(utils::IteratorType::parallel);
  return iterators;
}

linalg::GenericOp
lowering::buildGeneric(OpBuilder &b, Location loc, ValueRange inputs,
                       ValueRange outputs, ArrayRef<AffineMap> maps,
                       ArrayRef<utils::IteratorType> iterators,
                       GenericBody body) {
  return linalg::GenericOp::create(
      b, loc, outputs.getTypes(), inputs, outputs, maps, iterators,
      [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, body(nb, nloc, args));
      });
}

SmallVector<Value> lowering::mapChannels(OpBuilder &b, Location loc,
                                         ValueRange inputs,
                                         ArrayRef<Type> outputElementTypes,
                                         GenericBody body) {
  Value like = inputs.front();
  auto shape = cast<RankedTensorType>(like.getType());
  SmallVector<Value> outputs;
  for (Type elementType : outputElementTypes)
    outputs.push_back(emptyTensorLike(b, loc, shape, like, elementType));
  AffineMap id = AffineMap::getMultiDimIdentityMap(1, b.getContext());
  SmallVector<AffineMap> maps(inputs.size() + outputs.size(), id);
  auto generic = buildGeneric(b, loc, inputs, outputs, maps,
                              {utils::IteratorType::parallel}, body);
  return SmallVector<Value>(generic.getResults());
}

void lowering::replaceOpWithCasts(RewriterBase &rewriter, Operation *op,
                                  ValueRange values) {
  SmallVector<Value> replacements;
  for (auto [result, value] : llvm::zip_equal(op->getResults(), values)) {
    if (result.getType() == value.getType())
      replacements.push_back(value);
    else
      replacements.push_back(tensor::CastOp::create(rewriter, op->getLoc(),
                                                    result.getType(), value));
  }
  rewriter.replaceOp(op, replacements);
}
