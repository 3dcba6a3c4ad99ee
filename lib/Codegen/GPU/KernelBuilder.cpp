//===- KernelBuilder.cpp - Building blocks of GPU kernels -------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/GPU/KernelBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::gpukernels;

/// libdevice: square root, round to nearest even.
static constexpr StringLiteral kSqrtFunction = "__nv_fsqrt_rn";

std::string KernelNames::name(StringRef what) {
  std::string base = (prefix + "_" + what).str();
  std::string candidate = base;
  for (int n = 1; names.contains(candidate); ++n)
    candidate = base + "_" + std::to_string(n);
  names.insert(candidate);
  return candidate;
}

//===----------------------------------------------------------------------===//
// Index arithmetic
//===----------------------------------------------------------------------===//

Value IndexMath::c(int64_t value) {
  return arith::ConstantIndexOp::create(b, loc, value);
}
Value IndexMath::add(Value x, Value y) {
  return b.createOrFold<arith::AddIOp>(loc, x, y);
}
Value IndexMath::sub(Value x, Value y) {
  return b.createOrFold<arith::SubIOp>(loc, x, y);
}
Value IndexMath::mul(Value x, Value y) {
  return b.createOrFold<arith::MulIOp>(loc, x, y);
}
Value IndexMath::div(Value x, Value y) {
  return b.createOrFold<arith::DivUIOp>(loc, x, y);
}
Value IndexMath::rem(Value x, Value y) {
  return b.createOrFold<arith::RemUIOp>(loc, x, y);
}
Value IndexMath::ceilDiv(Value x, Value y) {
  return b.createOrFold<arith::CeilDivUIOp>(loc, x, y);
}
Value IndexMath::min(Value x, Value y) {
  return b.createOrFold<arith::MinUIOp>(loc, x, y);
}
Value IndexMath::max(Value x, Value y) {
  return b.createOrFold<arith::MaxUIOp>(loc, x, y);
}
Value IndexMath::lt(Value x, Value y) {
  return b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::ult, x, y);
}
Value IndexMath::eq(Value x, Value y) {
  return b.createOrFold<arith::CmpIOp>(loc, arith::CmpIPredicate::eq, x, y);
}
Value IndexMath::select(Value cond, Value x, Value y) {
  return b.createOrFold<arith::SelectOp>(loc, cond, x, y);
}
Value IndexMath::toF32(Value x) {
  Value i64 = b.createOrFold<arith::IndexCastUIOp>(loc, b.getI64Type(), x);
  return b.createOrFold<arith::UIToFPOp>(loc, b.getF32Type(), i64);
}

//===----------------------------------------------------------------------===//
// Floating point
//===----------------------------------------------------------------------===//

Value gpukernels::f32Const(OpBuilder &b, Location loc, float value) {
  return arith::ConstantOp::create(b, loc, b.getF32FloatAttr(value));
}

Value gpukernels::f32Splat(OpBuilder &b, Location loc, int64_t n, float value) {
  auto type = VectorType::get({n}, b.getF32Type());
  return arith::ConstantOp::create(
      b, loc, DenseElementsAttr::get(type, b.getF32FloatAttr(value)));
}

Value gpukernels::preciseSqrt(OpBuilder &b, Location loc, Value v) {
  // libdevice's correctly rounded square root, declared by createKernel.
  StringRef name = kSqrtFunction;
  auto scalarSqrt = [&](Value x) {
    return LLVM::CallOp::create(b, loc, TypeRange{b.getF32Type()},
                                FlatSymbolRefAttr::get(b.getContext(), name),
                                ValueRange{x})
        .getResult();
  };
  auto vectorType = dyn_cast<VectorType>(v.getType());
  if (!vectorType)
    return scalarSqrt(v);
  Value result = v;
  for (int64_t i = 0; i < vectorType.getNumElements(); ++i)
    result = vector::InsertOp::create(
        b, loc, scalarSqrt(vector::ExtractOp::create(b, loc, v, i)), result, i);
  return result;
}

//===----------------------------------------------------------------------===//
// Launches and reductions
//===----------------------------------------------------------------------===//

Kernel gpukernels::createKernel(OpBuilder &b, Location loc,
                                StringRef moduleName, StringRef name,
                                Value gridX, Value gridY, int64_t threads,
                                ArrayRef<int64_t> workgroupSizes, Value gridZ) {
  // Declare the libdevice functions the kernels call; kernel outlining
  // copies the declarations that a kernel uses into its gpu.module.
  Operation *parent = b.getInsertionBlock()->getParentOp();
  auto module = isa<ModuleOp>(parent) ? cast<ModuleOp>(parent)
                                      : parent->getParentOfType<ModuleOp>();
  if (!module.lookupSymbol(kSqrtFunction)) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    LLVM::LLVMFuncOp::create(
        b, loc, kSqrtFunction,
        LLVM::LLVMFunctionType::get(b.getF32Type(), {b.getF32Type()}));
  }
  IndexMath m(b, loc);
  Value one = m.c(1);
  auto launch = gpu::LaunchOp::create(b, loc, gridX, gridY, gridZ ? gridZ : one,
                                      m.c(threads), one, one);
  launch.setModuleAttr(FlatSymbolRefAttr::get(b.getContext(), moduleName));
  launch.setFunctionAttr(FlatSymbolRefAttr::get(b.getContext(), name));
  Block &body = launch.getBody().front();
  b.setInsertionPointToEnd(&body);
  if (body.empty() || !body.back().hasTrait<OpTrait::IsTerminator>())
    gpu::TerminatorOp::create(b, loc);

  Kernel kernel;
  kernel.op = launch;
  kernel.threads = threads;
  auto workgroupSpace = gpu::AddressSpaceAttr::get(
      b.getContext(), gpu::GPUDialect::getWorkgroupAddressSpace());
  for (int64_t size : workgroupSizes)
    kernel.workgroup.push_back(launch.addWorkgroupAttribution(
        MemRefType::get({size}, b.getF32Type(), MemRefLayoutAttrInterface{},
                        workgroupSpace),
        loc));
  kernel.threadId = launch.getThreadIds().x;
  kernel.blockIdX = launch.getBlockIds().x;
  kernel.blockIdY = launch.getBlockIds().y;
  kernel.blockIdZ = launch.getBlockIds().z;
  kernel.gridDimY = launch.getGridSize().y;
  b.setInsertionPoint(body.getTerminator());
  return kernel;
}

Value gpukernels::warpSum(OpBuilder &b, Location loc, Value v,
                          int64_t firstOffset) {
  for (int64_t offset = firstOffset; offset < kWarpSize; offset *= 2) {
    auto shuffle = gpu::ShuffleOp::create(b, loc, v, offset, kWarpSize,
                                          gpu::ShuffleMode::XOR);
    v = arith::AddFOp::create(b, loc, v, shuffle.getShuffleResult());
  }
  return v;
}

SmallVector<Value> gpukernels::blockSum(OpBuilder &b, Location loc,
                                        Kernel &kernel, ValueRange values,
                                        Value scratch) {
  IndexMath m(b, loc);
  int64_t numWarps = kernel.threads / kWarpSize;
  int64_t n = values.size();
  SmallVector<Value> warpTotals;
  for (Value v : values)
    warpTotals.push_back(warpSum(b, loc, v));
  Value warpSize = m.c(kWarpSize);
  Value lane = m.rem(kernel.threadId, warpSize);
  Value warp = m.div(kernel.threadId, warpSize);
  ifThen(b, loc, m.eq(lane, m.c(0)), [&](OpBuilder &nb, Location l) {
    IndexMath nm(nb, l);
    for (int64_t i = 0; i < n; ++i)
      memref::StoreOp::create(nb, l, warpTotals[i], scratch,
                              nm.add(nm.mul(warp, nm.c(n)), nm.c(i)));
  });
  gpu::BarrierOp::create(b, loc);
  SmallVector<Value> totals;
  for (int64_t i = 0; i < n; ++i) {
    Value total = memref::LoadOp::create(b, loc, scratch, m.c(i));
    for (int64_t w = 1; w < numWarps; ++w)
      total = arith::AddFOp::create(
          b, loc, total,
          memref::LoadOp::create(b, loc, scratch, m.c(w * n + i)));
    totals.push_back(total);
  }
  // The scratch buffer may be reused by the next reduction.
  gpu::BarrierOp::create(b, loc);
  return totals;
}

/// The alignment a vector access may claim: its size, at most 16 bytes (a
/// vector of 8 f32 parameters next to 8 f16 activations is two 128-bit
/// accesses; buffers are only assumed 16-byte aligned).
static uint64_t vectorAlignment(VectorType type) {
  int64_t bytes =
      type.getNumElements() * type.getElementType().getIntOrFloatBitWidth() / 8;
  return std::min<int64_t>(16, llvm::PowerOf2Ceil(bytes));
}

Value gpukernels::loadVector(OpBuilder &b, Location loc, Value memref,
                             ArrayRef<Value> indices, int64_t width) {
  Type elementType = cast<MemRefType>(memref.getType()).getElementType();
  auto type = VectorType::get({width}, elementType);
  return vector::LoadOp::create(b, loc, type, memref, indices,
                                /*nontemporal=*/false,
                                llvm::Align(vectorAlignment(type)));
}

void gpukernels::storeVector(OpBuilder &b, Location loc, Value vector,
                             Value memref, ArrayRef<Value> indices) {
  auto type = cast<VectorType>(vector.getType());
  vector::StoreOp::create(b, loc, vector, memref, indices,
                          /*nontemporal=*/false,
                          llvm::Align(vectorAlignment(type)));
}

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

void gpukernels::forLoop(
    OpBuilder &b, Location loc, Value start, Value end, Value step,
    function_ref<void(OpBuilder &, Location, Value)> body) {
  scf::ForOp::create(b, loc, start, end, step, ValueRange{},
                     [&](OpBuilder &nb, Location l, Value iv, ValueRange) {
                       body(nb, l, iv);
                       scf::YieldOp::create(nb, l);
                     });
}

SmallVector<Value> gpukernels::forLoop(
    OpBuilder &b, Location loc, Value start, Value end, Value step,
    ValueRange init,
    function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)>
        body) {
  auto loop = scf::ForOp::create(
      b, loc, start, end, step, init,
      [&](OpBuilder &nb, Location l, Value iv, ValueRange carried) {
        scf::YieldOp::create(nb, l, body(nb, l, iv, carried));
      });
  return SmallVector<Value>(loop.getResults());
}

void gpukernels::ifThen(OpBuilder &b, Location loc, Value cond,
                        function_ref<void(OpBuilder &, Location)> body) {
  scf::IfOp::create(b, loc, cond, [&](OpBuilder &nb, Location l) {
    body(nb, l);
    scf::YieldOp::create(nb, l);
  });
}
