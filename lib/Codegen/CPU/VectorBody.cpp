//===- VectorBody.cpp - linalg bodies evaluated on vectors ----------------===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "VectorBody.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Matchers.h"

using namespace mlir;

bool un::isVectorizableBody(Block &body) {
  for (Operation &op : body.without_terminator()) {
    if (isa<arith::ConstantOp>(op))
      continue;
    if (op.getNumRegions() || !op.hasTrait<OpTrait::Elementwise>() ||
        !isa<arith::ArithDialect, math::MathDialect>(op.getDialect()))
      return false;
    for (Type t : op.getResultTypes())
      if (!t.isIntOrFloat())
        return false;
    // LLVM's powi takes a scalar exponent: only constant ones, which
    // un-cpu-approximate-math expands into multiplications.
    if (isa<math::FPowIOp, math::IPowIOp>(op) &&
        !matchPattern(op.getOperand(1), m_Constant()))
      return false;
  }
  return true;
}

SmallVector<Value> un::emitVectorBody(OpBuilder &b, Location loc, Block &body,
                                      int64_t lanes, IRMapping &map) {
  auto vectorOf = [&](Type t) { return VectorType::get({lanes}, t); };
  auto lookup = [&](Value v) -> Value {
    if (Value mapped = map.lookupOrNull(v))
      return mapped;
    // A scalar from outside the body: the same value in every lane.
    Value splat;
    Attribute constant;
    if (matchPattern(v, m_Constant(&constant)) && isa<TypedAttr>(constant))
      splat = arith::ConstantOp::create(
          b, loc, vectorOf(v.getType()),
          DenseElementsAttr::get(vectorOf(v.getType()), constant));
    else
      splat = vector::BroadcastOp::create(b, loc, vectorOf(v.getType()), v);
    map.map(v, splat);
    return splat;
  };
  for (Operation &op : body.without_terminator()) {
    if (auto constant = dyn_cast<arith::ConstantOp>(op)) {
      auto type = vectorOf(constant.getType());
      map.map(
          constant.getResult(),
          arith::ConstantOp::create(
              b, loc, type, DenseElementsAttr::get(type, constant.getValue())));
      continue;
    }
    OperationState state(loc, op.getName());
    for (Value operand : op.getOperands())
      state.operands.push_back(lookup(operand));
    for (Type t : op.getResultTypes())
      state.types.push_back(vectorOf(t));
    state.attributes = op.getAttrs();
    Operation *vectorOp = b.create(state);
    map.map(op.getResults(), vectorOp->getResults());
  }
  SmallVector<Value> results;
  for (Value v : body.getTerminator()->getOperands())
    results.push_back(lookup(v));
  return results;
}
