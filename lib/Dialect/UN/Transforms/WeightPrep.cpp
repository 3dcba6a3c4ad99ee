//===- WeightPrep.cpp - Builders of folded weights and biases ---*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "WeightPrep.h"
#include "un/Dialect/UN/IR/ConstantFolding.h"
#include "un/Utils/FloatCasts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/AsmState.h"
#include "mlir/IR/Matchers.h"

#include <cmath>

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::fold;

void fold::markWeightPrep(Operation *op) {
  op->setAttr(kWeightPrepAttrName, UnitAttr::get(op->getContext()));
}

bool fold::isWeightPrep(Operation *op) {
  return op->hasAttr(kWeightPrepAttrName);
}

bool fold::isFoldableFloatType(Type type) {
  return type.isF32() || type.isF16() || type.isBF16();
}

std::optional<SmallVector<double>> fold::getConstantValues(Value value) {
  // Reshapes and casts keep the row-major order of the elements.
  if (auto cast = value.getDefiningOp<tensor::CastOp>())
    return getConstantValues(cast.getSource());
  if (auto collapse = value.getDefiningOp<tensor::CollapseShapeOp>())
    return getConstantValues(collapse.getSrc());
  if (auto expand = value.getDefiningOp<tensor::ExpandShapeOp>())
    return getConstantValues(expand.getSrc());
  // A transposed constant (torch-mlir transposes Linear weights).
  if (auto transpose = value.getDefiningOp<linalg::TransposeOp>()) {
    auto sourceType = cast<RankedTensorType>(transpose.getInput().getType());
    if (!sourceType.hasStaticShape())
      return std::nullopt;
    std::optional<SmallVector<double>> source =
        getConstantValues(transpose.getInput());
    if (!source)
      return std::nullopt;
    ArrayRef<int64_t> perm = transpose.getPermutation();
    ArrayRef<int64_t> shape = sourceType.getShape();
    SmallVector<int64_t> resultShape, sourceStrides(shape.size(), 1);
    for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
      sourceStrides[d] = sourceStrides[d + 1] * shape[d + 1];
    for (int64_t p : perm)
      resultShape.push_back(shape[p]);
    SmallVector<double> result(source->size());
    SmallVector<int64_t> index(shape.size(), 0);
    for (size_t i = 0; i < result.size(); ++i) {
      // `index` is the multi-index of result element i.
      int64_t offset = 0;
      for (size_t j = 0; j < perm.size(); ++j)
        offset += index[j] * sourceStrides[perm[j]];
      result[i] = (*source)[offset];
      for (int64_t j = static_cast<int64_t>(index.size()) - 1; j >= 0; --j) {
        if (++index[j] < resultShape[j])
          break;
        index[j] = 0;
      }
    }
    return result;
  }
  ElementsAttr attr;
  if (!matchPattern(value, m_Constant(&attr)))
    return std::nullopt;
  return readFloatElements(attr);
}

Value fold::createConstant(OpBuilder &b, Location loc, RankedTensorType type,
                           ArrayRef<double> values) {
  DenseElementsAttr attr;
  if (type.getElementType().isF32()) {
    SmallVector<float> asFloat(values.begin(), values.end());
    attr = DenseElementsAttr::get(type, ArrayRef<float>(asFloat));
  } else {
    const llvm::fltSemantics &sem =
        cast<FloatType>(type.getElementType()).getFloatSemantics();
    SmallVector<APFloat> asAPFloat;
    asAPFloat.reserve(values.size());
    for (double v : values) {
      APFloat f(v);
      bool losesInfo = false;
      f.convert(sem, APFloat::rmNearestTiesToEven, &losesInfo);
      asAPFloat.push_back(f);
    }
    attr = DenseElementsAttr::get(type, asAPFloat);
  }
  return arith::ConstantOp::create(b, loc, attr);
}

//===----------------------------------------------------------------------===//
// Small helpers
//===----------------------------------------------------------------------===//

/// Rounds a double to f32, the precision the run-time generics compute in.
static double roundToF32(double v) { return static_cast<float>(v); }

/// An uninitialized tensor whose dims are dims `likeDims` of `like`
/// (dynamic ones read with tensor.dim), of element type `elementType`.
static Value emptyOfDims(OpBuilder &b, Location loc, Value like,
                         ArrayRef<int64_t> likeDims, Type elementType) {
  auto type = cast<RankedTensorType>(like.getType());
  SmallVector<OpFoldResult> sizes;
  for (int64_t d : likeDims) {
    if (type.isDynamicDim(d))
      sizes.push_back(tensor::DimOp::create(b, loc, like, d).getResult());
    else
      sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
  }
  return tensor::EmptyOp::create(b, loc, sizes, elementType);
}

static SmallVector<int64_t> allDims(int64_t rank) {
  return llvm::to_vector(llvm::seq<int64_t>(0, rank));
}

static SmallVector<int64_t> allDimsBut(int64_t rank, int64_t dim) {
  SmallVector<int64_t> dims;
  for (int64_t d = 0; d < rank; ++d)
    if (d != dim)
      dims.push_back(d);
  return dims;
}

/// A marked weight-preparation generic with one result.
static Value
buildPrepGeneric(OpBuilder &b, Location loc, ValueRange inputs, Value init,
                 ArrayRef<AffineMap> maps,
                 ArrayRef<utils::IteratorType> iterators,
                 function_ref<Value(OpBuilder &, Location, ValueRange)> body,
                 bool mark = true) {
  auto generic = linalg::GenericOp::create(
      b, loc, TypeRange{init.getType()}, inputs, ValueRange{init}, maps,
      iterators, [&](OpBuilder &nb, Location nloc, ValueRange args) {
        linalg::YieldOp::create(nb, nloc, body(nb, nloc, args));
      });
  if (mark)
    markWeightPrep(generic);
  return generic.getResult(0);
}

/// Row-major strides of a static shape.
static SmallVector<int64_t> stridesOf(ArrayRef<int64_t> shape) {
  SmallVector<int64_t> strides(shape.size(), 1);
  for (int64_t d = static_cast<int64_t>(shape.size()) - 2; d >= 0; --d)
    strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

//===----------------------------------------------------------------------===//
// Builders
//===----------------------------------------------------------------------===//

Value fold::buildInferScale(OpBuilder &b, Location loc, Value gamma,
                            Value runningVar, float eps) {
  auto gammaType = cast<RankedTensorType>(gamma.getType());
  auto scaleType = gammaType.clone(b.getF32Type());
  std::optional<SmallVector<double>> g = getConstantValues(gamma);
  std::optional<SmallVector<double>> rv = getConstantValues(runningVar);
  if (g && rv && scaleType.hasStaticShape())
    return createConstant(b, loc, scaleType, computeInferScale(*g, *rv, eps));
  AffineMap id = b.getMultiDimIdentityMap(1);
  Value init = emptyOfDims(b, loc, gamma, {0}, b.getF32Type());
  return buildPrepGeneric(
      b, loc, {gamma, runningVar}, init, {id, id, id},
      {utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value epsValue =
            arith::ConstantOp::create(nb, l, nb.getF32FloatAttr(eps));
        Value sum =
            arith::AddFOp::create(nb, l, toF32(nb, l, args[1]), epsValue);
        Value std = math::SqrtOp::create(nb, l, sum);
        return arith::DivFOp::create(nb, l, toF32(nb, l, args[0]), std);
      });
}

Value fold::buildScaleAlongDim(OpBuilder &b, Location loc, Value w, int64_t dim,
                               Value scale) {
  auto type = cast<RankedTensorType>(w.getType());
  int64_t rank = type.getRank();
  std::optional<SmallVector<double>> wv = getConstantValues(w);
  std::optional<SmallVector<double>> sv = getConstantValues(scale);
  if (wv && sv && type.hasStaticShape()) {
    SmallVector<int64_t> strides = stridesOf(type.getShape());
    int64_t size = type.getDimSize(dim);
    SmallVector<double> out(wv->size());
    for (size_t i = 0; i < wv->size(); ++i) {
      int64_t c = (static_cast<int64_t>(i) / strides[dim]) % size;
      out[i] = roundToF32(roundToF32((*wv)[i]) * roundToF32((*sv)[c]));
    }
    return createConstant(b, loc, type, out);
  }
  MLIRContext *ctx = b.getContext();
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap along = AffineMap::get(rank, 0, getAffineDimExpr(dim, ctx));
  Value init = emptyOfDims(b, loc, w, allDims(rank), type.getElementType());
  Type elementType = type.getElementType();
  return buildPrepGeneric(
      b, loc, {w, scale}, init, {id, along, id},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value product = arith::MulFOp::create(nb, l, toF32(nb, l, args[0]),
                                              toF32(nb, l, args[1]));
        return fromF32(nb, l, product, elementType);
      });
}

Value fold::buildContractAlongDim(OpBuilder &b, Location loc, Value w,
                                  int64_t dim, Value vec) {
  auto type = cast<RankedTensorType>(w.getType());
  int64_t rank = type.getRank();
  SmallVector<int64_t> otherDims = allDimsBut(rank, dim);
  SmallVector<int64_t> outShape;
  for (int64_t d : otherDims)
    outShape.push_back(type.getDimSize(d));
  auto outType = RankedTensorType::get(outShape, b.getF32Type());

  std::optional<SmallVector<double>> wv = getConstantValues(w);
  std::optional<SmallVector<double>> vv = getConstantValues(vec);
  if (wv && vv && type.hasStaticShape()) {
    SmallVector<int64_t> strides = stridesOf(type.getShape());
    int64_t size = type.getDimSize(dim), inner = strides[dim];
    SmallVector<double> out(outType.getNumElements(), 0.0);
    for (size_t i = 0; i < wv->size(); ++i) {
      int64_t idx = static_cast<int64_t>(i);
      int64_t c = (idx / inner) % size;
      int64_t o = (idx / (inner * size)) * inner + idx % inner;
      out[o] += roundToF32((*vv)[c]) * roundToF32((*wv)[i]);
    }
    return createConstant(b, loc, outType, out);
  }
  MLIRContext *ctx = b.getContext();
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  AffineMap along = AffineMap::get(rank, 0, getAffineDimExpr(dim, ctx));
  SmallVector<AffineExpr> outExprs;
  for (int64_t d : otherDims)
    outExprs.push_back(getAffineDimExpr(d, ctx));
  AffineMap outMap = AffineMap::get(rank, 0, outExprs, ctx);
  SmallVector<utils::IteratorType> iterators(rank,
                                             utils::IteratorType::parallel);
  iterators[dim] = utils::IteratorType::reduction;

  Value empty = emptyOfDims(b, loc, w, otherDims, b.getF32Type());
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  Value init = linalg::FillOp::create(b, loc, zero, empty).getResult(0);
  return buildPrepGeneric(
      b, loc, {w, vec}, init, {id, along, outMap}, iterators,
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value product = arith::MulFOp::create(nb, l, toF32(nb, l, args[1]),
                                              toF32(nb, l, args[0]));
        return arith::AddFOp::create(nb, l, args[2], product);
      });
}

Value fold::buildAdd(OpBuilder &b, Location loc, Value c, Value t) {
  auto type = cast<RankedTensorType>(c.getType());
  std::optional<SmallVector<double>> cv = getConstantValues(c);
  std::optional<SmallVector<double>> tv = getConstantValues(t);
  if (cv && tv && type.hasStaticShape()) {
    SmallVector<double> out(cv->size());
    for (size_t i = 0; i < cv->size(); ++i)
      out[i] = roundToF32((*cv)[i]) + roundToF32((*tv)[i]);
    return createConstant(b, loc, type, out);
  }
  int64_t rank = type.getRank();
  AffineMap id = b.getMultiDimIdentityMap(rank);
  Value init = emptyOfDims(b, loc, c, allDims(rank), type.getElementType());
  Type elementType = type.getElementType();
  return buildPrepGeneric(
      b, loc, {c, t}, init, {id, id, id},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value sum = arith::AddFOp::create(nb, l, toF32(nb, l, args[0]),
                                          toF32(nb, l, args[1]));
        return fromF32(nb, l, sum, elementType);
      });
}

Value fold::buildChannelAffine(OpBuilder &b, Location loc, Value c, Value a,
                               Value beta) {
  auto type = cast<RankedTensorType>(c.getType());
  std::optional<SmallVector<double>> cv = getConstantValues(c);
  std::optional<SmallVector<double>> av = getConstantValues(a);
  std::optional<SmallVector<double>> bv = getConstantValues(beta);
  if (cv && av && bv && type.hasStaticShape()) {
    SmallVector<double> out(cv->size());
    for (size_t i = 0; i < cv->size(); ++i)
      out[i] = roundToF32(roundToF32((*av)[i]) * roundToF32((*cv)[i])) +
               roundToF32((*bv)[i]);
    return createConstant(b, loc, type, out);
  }
  AffineMap id = b.getMultiDimIdentityMap(1);
  Value init = emptyOfDims(b, loc, c, {0}, type.getElementType());
  Type elementType = type.getElementType();
  return buildPrepGeneric(
      b, loc, {c, a, beta}, init, {id, id, id, id},
      {utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value scaled = arith::MulFOp::create(nb, l, toF32(nb, l, args[1]),
                                             toF32(nb, l, args[0]));
        Value sum = arith::AddFOp::create(nb, l, scaled, toF32(nb, l, args[2]));
        return fromF32(nb, l, sum, elementType);
      });
}

Value fold::buildChannelAffineOfScalar(OpBuilder &b, Location loc, Value v,
                                       Value a, Value beta) {
  auto type = cast<RankedTensorType>(a.getType()).clone(b.getF32Type());
  std::optional<SmallVector<double>> av = getConstantValues(a);
  std::optional<SmallVector<double>> bv = getConstantValues(beta);
  FloatAttr scalar;
  if (av && bv && matchPattern(v, m_Constant(&scalar)) &&
      type.hasStaticShape()) {
    double s = roundToF32(scalar.getValueAsDouble());
    SmallVector<double> out(av->size());
    for (size_t i = 0; i < av->size(); ++i)
      out[i] = roundToF32(roundToF32((*av)[i]) * s) + roundToF32((*bv)[i]);
    return createConstant(b, loc, type, out);
  }
  AffineMap id = b.getMultiDimIdentityMap(1);
  Value init = emptyOfDims(b, loc, a, {0}, b.getF32Type());
  return buildPrepGeneric(
      b, loc, {a, beta}, init, {id, id, id}, {utils::IteratorType::parallel},
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value scaled = arith::MulFOp::create(nb, l, toF32(nb, l, args[0]),
                                             toF32(nb, l, v));
        return arith::AddFOp::create(nb, l, scaled, toF32(nb, l, args[1]));
      });
}

Value fold::buildBroadcastInit(OpBuilder &b, Location loc, Value like, Value v,
                               Value vec, ArrayRef<int64_t> dims) {
  auto type = cast<RankedTensorType>(like.getType());
  int64_t rank = type.getRank();
  MLIRContext *ctx = b.getContext();
  SmallVector<AffineExpr> vecExprs;
  for (int64_t d : dims)
    vecExprs.push_back(getAffineDimExpr(d, ctx));
  AffineMap vecMap = AffineMap::get(rank, 0, vecExprs, ctx);
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, ctx);
  Value init = emptyOfDims(b, loc, like, allDims(rank), type.getElementType());
  Type elementType = type.getElementType();
  FloatAttr scalar;
  bool addScalar = v && !(matchPattern(v, m_Constant(&scalar)) &&
                          scalar.getValue().isZero());
  return buildPrepGeneric(
      b, loc, {vec}, init, {vecMap, id},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &nb, Location l, ValueRange args) -> Value {
        Value value = toF32(nb, l, args[0]);
        if (addScalar)
          value = arith::AddFOp::create(nb, l, toF32(nb, l, v), value);
        return fromF32(nb, l, value, elementType);
      },
      /*mark=*/false);
}
