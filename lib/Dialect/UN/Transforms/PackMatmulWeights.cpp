//===- PackMatmulWeights.cpp - Weights of matmuls packed in panels --------===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "PackMatmulWeights.h"
#include "WeightPrep.h"

#include "un/Codegen/PanelMatmul.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"

#include "llvm/ADT/DenseMap.h"

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::fold;

/// Whether `v` is computed from function arguments and constants alone,
/// by reshapes, transposes and weight preparation.
static bool isWeight(Value v) {
  if (auto arg = dyn_cast<BlockArgument>(v))
    return isa<func::FuncOp>(arg.getOwner()->getParentOp());
  Operation *def = v.getDefiningOp();
  if (matchPattern(v, m_Constant()) || isa<tensor::EmptyOp>(def))
    return true;
  if (!isa<tensor::CastOp, tensor::ExpandShapeOp, tensor::CollapseShapeOp,
           linalg::TransposeOp>(def) &&
      !isWeightPrep(def))
    return false;
  return llvm::all_of(def->getOperands(), isWeight);
}

/// Whether `matmul` is a plain f32 matmul whose B can be packed: a
/// constant, or with `packArguments` any weight.
static bool isPackable(linalg::MatmulOp matmul, bool packArguments) {
  if (!matmul.hasPureTensorSemantics() || matmul.hasUserDefinedMaps() ||
      matmul.getCast() != linalg::TypeFn::cast_signed)
    return false;
  for (Value v : matmul->getOperands())
    if (!cast<ShapedType>(v.getType()).getElementType().isF32())
      return false;
  Value b = matmul.getInputs()[1];
  auto type = cast<RankedTensorType>(b.getType());
  if (!type.hasStaticShape() || type.getDimSize(0) == 0 ||
      type.getDimSize(1) == 0 || type.getDimSize(1) % kPanelWidth != 0)
    return false;
  return packArguments ? isWeight(b) : getConstantValues(b).has_value();
}

/// The panels of the weight `b`, built right after it.
static Value packWeight(OpBuilder &builder, Value b) {
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointAfterValue(b);
  Location loc = b.getLoc();
  auto type = cast<RankedTensorType>(b.getType());
  if (std::optional<SmallVector<double>> values = getConstantValues(b)) {
    int64_t k = type.getDimSize(0), n = type.getDimSize(1);
    SmallVector<double> panels;
    panels.reserve(values->size());
    for (int64_t q = 0; q < n / kPanelWidth; ++q)
      for (int64_t row = 0; row < k; ++row)
        for (int64_t r = 0; r < kPanelWidth; ++r)
          panels.push_back((*values)[row * n + q * kPanelWidth + r]);
    return createConstant(builder, loc, getPanelType(type), panels);
  }
  Value panels = buildPanels(builder, loc, b);
  markWeightPrep(panels.getDefiningOp());
  return panels;
}

unsigned fold::packMatmulWeights(func::FuncOp func, bool packArguments) {
  SmallVector<linalg::MatmulOp> matmuls;
  func.walk([&](linalg::MatmulOp op) {
    if (isPackable(op, packArguments))
      matmuls.push_back(op);
  });
  // One packed copy per weight.
  llvm::DenseMap<Value, Value> panelsOf;
  OpBuilder builder(func.getContext());
  for (linalg::MatmulOp matmul : matmuls) {
    Value b = matmul.getInputs()[1];
    Value &panels = panelsOf[b];
    if (!panels)
      panels = packWeight(builder, b);
    builder.setInsertionPoint(matmul);
    Value result =
        buildPanelMatmul(builder, matmul.getLoc(), matmul.getInputs()[0],
                         panels, matmul.getOutputs()[0]);
    matmul.getResult(0).replaceAllUsesWith(result);
    matmul.erase();
  }
  return matmuls.size();
}
