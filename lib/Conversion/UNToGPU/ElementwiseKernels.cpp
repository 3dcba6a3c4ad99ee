//===- ElementwiseKernels.cpp - Elementwise un kernels ----------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// `un.normalize`, `un.input_grad` and `un.affine` on the GPU: the channel
// tiling of the reductions (each thread owns one 16-byte vector of channels
// and a strided set of rows), so a thread loads its per-channel parameters
// once, then streams kRowUnroll rows at a time with 128-bit loads and
// stores. Arithmetic is f32, in the order of the CPU lowering.
//
//===----------------------------------------------------------------------===//

#include "ChannelTiling.h"
#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::gpukernels;

namespace {
/// What an elementwise kernel computes for one row: activation vectors (f32)
/// and parameter vectors (f32) in, output vectors (f32) out.
using RowMap = function_ref<SmallVector<Value>(
    OpBuilder &, Location, ArrayRef<Value>, ArrayRef<Value>)>;
/// Turns the loaded parameter vectors into what RowMap receives (e.g.
/// sqrt(var + eps)), once per thread.
using ParamPrologue =
    function_ref<SmallVector<Value>(OpBuilder &, Location, ArrayRef<Value>)>;
} // namespace

static void emitElementwise(OpBuilder &b, Location loc, KernelContext &ctx,
                            StringRef what, ArrayRef<Value> activations,
                            ArrayRef<Value> params, ArrayRef<Value> outputs,
                            ParamPrologue prologue, RowMap map) {
  IndexMath m(b, loc);
  ChannelTiling tiling = computeTiling(m, activations.front(), 8 * ctx.smCount);
  const int64_t width = tiling.vectorWidth;

  OpBuilder::InsertionGuard guard(b);
  Kernel kernel = createKernel(b, loc, ctx.moduleName, ctx.name(what),
                               tiling.gridX, tiling.gridY, kBlockThreads);
  IndexMath km(b, loc);
  TileCoords coords = getTileCoords(km, kernel, tiling);
  SmallVector<Value> paramVectors;
  for (Value param : params)
    paramVectors.push_back(
        toF32(b, loc, loadVector(b, loc, param, {coords.column}, width)));
  if (prologue)
    paramVectors = prologue(b, loc, paramVectors);
  forEachRowChunk(
      km, coords, tiling, {},
      [&](OpBuilder &nb, Location l, ArrayRef<Value> rows,
          ArrayRef<Value> inRange, ValueRange) -> SmallVector<Value> {
        SmallVector<SmallVector<Value>> loaded(rows.size());
        for (auto [u, row] : llvm::enumerate(rows))
          for (Value act : activations)
            loaded[u].push_back(toF32(
                nb, l, loadVector(nb, l, act, {row, coords.column}, width)));
        for (auto [u, row] : llvm::enumerate(rows)) {
          SmallVector<Value> results = map(nb, l, loaded[u], paramVectors);
          ifThen(nb, l, inRange[u], [&](OpBuilder &sb, Location sl) {
            for (auto [value, out] : llvm::zip_equal(results, outputs)) {
              Type type = cast<MemRefType>(out.getType()).getElementType();
              storeVector(sb, sl, fromF32(sb, sl, value, type), out,
                          {row, coords.column});
            }
          });
        }
        return {};
      });
}

/// The per-channel form of `std` that `divide` takes: `std` itself for
/// exact division, else its reciprocal (one division per channel).
static Value divisor(OpBuilder &b, Location loc, const KernelContext &ctx,
                     Value std) {
  if (ctx.exactDivision)
    return std;
  int64_t width = cast<VectorType>(std.getType()).getNumElements();
  return arith::DivFOp::create(b, loc, f32Splat(b, loc, width, 1.0f), std);
}

/// `value / std` with the divisor `divisor` made.
static Value divide(OpBuilder &b, Location loc, const KernelContext &ctx,
                    Value value, Value divisor) {
  if (ctx.exactDivision)
    return arith::DivFOp::create(b, loc, value, divisor);
  return arith::MulFOp::create(b, loc, value, divisor);
}

void gpukernels::emitNormalize(OpBuilder &b, Location loc, KernelContext &ctx,
                               Value x, Value var, Value gamma, Value beta,
                               float eps, Value z, Value y) {
  SmallVector<Value> outputs;
  if (z)
    outputs.push_back(z);
  if (y)
    outputs.push_back(y);
  emitElementwise(
      b, loc, ctx, "normalize", {x}, {var, gamma, beta}, outputs,
      [&](OpBuilder &nb, Location l, ArrayRef<Value> p) -> SmallVector<Value> {
        int64_t width = cast<VectorType>(p[0].getType()).getNumElements();
        Value std = preciseSqrt(
            nb, l,
            arith::AddFOp::create(nb, l, p[0], f32Splat(nb, l, width, eps)));
        return {divisor(nb, l, ctx, std), p[1], p[2]};
      },
      [&](OpBuilder &nb, Location l, ArrayRef<Value> acts,
          ArrayRef<Value> p) -> SmallVector<Value> {
        Value zv = divide(nb, l, ctx, acts[0], p[0]);
        SmallVector<Value> results;
        if (z)
          results.push_back(zv);
        if (y)
          results.push_back(arith::AddFOp::create(
              nb, l, arith::MulFOp::create(nb, l, p[1], zv), p[2]));
        return results;
      });
}

void gpukernels::emitInputGrad(OpBuilder &b, Location loc, KernelContext &ctx,
                               Value gy, Value z, Value var, Value r,
                               Value gamma, Value coef, float eps, Value gx) {
  emitElementwise(
      b, loc, ctx, "input_grad", {gy, z}, {gamma, r, coef, var}, {gx},
      [&](OpBuilder &nb, Location l, ArrayRef<Value> p) -> SmallVector<Value> {
        int64_t width = cast<VectorType>(p[3].getType()).getNumElements();
        Value std = preciseSqrt(
            nb, l,
            arith::AddFOp::create(nb, l, p[3], f32Splat(nb, l, width, eps)));
        return {p[0], p[1], p[2], divisor(nb, l, ctx, std)};
      },
      [&](OpBuilder &nb, Location l, ArrayRef<Value> acts,
          ArrayRef<Value> p) -> SmallVector<Value> {
        Value g = arith::MulFOp::create(
            nb, l, arith::MulFOp::create(nb, l, acts[0], p[0]), p[1]);
        Value coefZ = arith::MulFOp::create(nb, l, p[2], acts[1]);
        Value h = arith::SubFOp::create(nb, l, g, coefZ);
        return {divide(nb, l, ctx, h, p[3])};
      });
}

void gpukernels::emitAffine(OpBuilder &b, Location loc, KernelContext &ctx,
                            Value x, Value scale, Value shift, Value y) {
  emitElementwise(b, loc, ctx, "affine", {x}, {scale, shift}, {y}, nullptr,
                  [&](OpBuilder &nb, Location l, ArrayRef<Value> acts,
                      ArrayRef<Value> p) -> SmallVector<Value> {
                    Value scaled = arith::MulFOp::create(nb, l, p[0], acts[0]);
                    return {arith::AddFOp::create(nb, l, scaled, p[1])};
                  });
}
