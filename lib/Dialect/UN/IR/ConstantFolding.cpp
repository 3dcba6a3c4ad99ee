//===- ConstantFolding.cpp - Constant arithmetic of UN folds -----*- C++
//-*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Dialect/UN/IR/ConstantFolding.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectResourceBlobManager.h"

#include <cmath>
#include <cstring>

using namespace mlir;

std::optional<SmallVector<double>> un::readFloatElements(ElementsAttr attr) {
  auto type = cast<ShapedType>(attr.getType());
  Type elementType = type.getElementType();
  // (A dense_resource constant may claim a dynamic shape: no element count.)
  if (!isa<FloatType>(elementType) || !type.hasStaticShape())
    return std::nullopt;
  SmallVector<double> values;
  values.reserve(type.getNumElements());
  if (auto dense = dyn_cast<DenseFPElementsAttr>(attr)) {
    for (APFloat v : dense.getValues<APFloat>()) {
      bool losesInfo = false;
      v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven,
                &losesInfo);
      values.push_back(v.convertToDouble());
    }
    return values;
  }
  auto resource = dyn_cast<DenseResourceElementsAttr>(attr);
  if (!resource ||
      !(elementType.isF32() || elementType.isF16() || elementType.isBF16()))
    return std::nullopt;
  const AsmResourceBlob *blob = resource.getRawHandle().getBlob();
  if (!blob)
    return std::nullopt;
  ArrayRef<char> data = blob->getData();
  unsigned bytes = elementType.getIntOrFloatBitWidth() / 8;
  if (data.size() != static_cast<size_t>(type.getNumElements()) * bytes)
    return std::nullopt;
  const llvm::fltSemantics &sem =
      cast<FloatType>(elementType).getFloatSemantics();
  for (int64_t i = 0, e = type.getNumElements(); i < e; ++i) {
    uint64_t bits = 0;
    std::memcpy(&bits, data.data() + i * bytes, bytes);
    APFloat v(sem, APInt(bytes * 8, bits));
    bool losesInfo = false;
    v.convert(APFloat::IEEEdouble(), APFloat::rmNearestTiesToEven, &losesInfo);
    values.push_back(v.convertToDouble());
  }
  return values;
}

SmallVector<double> un::computeInferScale(ArrayRef<double> gamma,
                                          ArrayRef<double> runningVar,
                                          float eps) {
  SmallVector<double> scale(gamma.size());
  for (size_t c = 0; c < gamma.size(); ++c)
    scale[c] = static_cast<float>(gamma[c]) /
               std::sqrt(static_cast<float>(runningVar[c]) + eps);
  return scale;
}
