//===- MatmulLibraryCalls.cpp - Matmuls as cuBLASLt calls -------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// un-gpu-matmul{library=cublaslt}: a `linalg.matmul` / `linalg.batch_matmul`
// on tensors becomes a call of the CUDA runtime's cuBLASLt entry point
// (lib/Runtime/CUDA/Matmul.cpp), which runs it on tensor cores:
//
//   %a, %b = bufferization.to_buffer of the operands (row-major, offset 0)
//   %c = memref.alloc                   the result
//   [linalg.fill / memref.copy of the init into %c, unless it is zero]
//   func.call @un_cuda_matmul_<in>_<out>[_tf32](ptr(%a), ptr(%b), ptr(%c),
//       batch, M, N, K, accumulate)     C = A B (+ C when accumulate = 1)
//   bufferization.to_tensor %c
//
// The callee carries `un.device_pointers`: its index operands that come from
// memref.extract_aligned_pointer_as_index are device buffers it reads or
// writes during the call and does not keep (un-gpu-device-buffers allocates
// them on the device and frees them after their last use).
//
// Shapes may be dynamic (batch x tokens); dims that must agree and are not
// static are asserted at run time.
//
//===----------------------------------------------------------------------===//

#include "Kernels.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/SymbolTable.h"

using namespace mlir;
using namespace mlir::un::gpukernels;

/// "f32", "bf16", "f16", or "" for another type.
static StringRef typeName(Type t) {
  if (t.isF32())
    return "f32";
  if (t.isBF16())
    return "bf16";
  if (t.isF16())
    return "f16";
  return "";
}

static Type elementType(Value v) {
  return cast<ShapedType>(v.getType()).getElementType();
}

bool un::gpukernels::isPlainMatmul(linalg::LinalgOp op) {
  if (!op.hasPureTensorSemantics() || op->getNumResults() != 1)
    return false;
  if (auto matmul = dyn_cast<linalg::MatmulOp>(op.getOperation()))
    return !matmul.hasUserDefinedMaps();
  if (auto matmul = dyn_cast<linalg::BatchMatmulOp>(op.getOperation()))
    return !matmul.hasUserDefinedMaps();
  return false;
}

bool un::gpukernels::isLibraryMatmul(linalg::LinalgOp op) {
  if (!isPlainMatmul(op))
    return false;
  Type a = elementType(op.getDpsInputs()[0]);
  Type b = elementType(op.getDpsInputs()[1]);
  Type c = elementType(op.getDpsInits()[0]);
  return a == b && !typeName(a).empty() && (c.isF32() || c == a);
}

std::string un::gpukernels::matmulLibraryFunction(Type in, Type out,
                                                  bool tf32) {
  std::string name = "un_cuda_matmul_" + typeName(in).str();
  if (out != in)
    name += "_" + typeName(out).str();
  if (tf32 && in.isF32())
    name += "_tf32";
  return name;
}

/// The runtime's entry point `name` (declared once per module).
static FailureOr<func::FuncOp> declareCallee(ModuleOp module, StringRef name,
                                             Location loc) {
  OpBuilder b(module.getContext());
  auto type = b.getFunctionType(SmallVector<Type>(8, b.getIndexType()), {});
  auto callee = module.lookupSymbol<func::FuncOp>(name);
  if (callee) {
    if (callee.getFunctionType() != type || !callee.isDeclaration()) {
      callee.emitOpError("has the name of the CUDA runtime's matmul but is "
                         "not its declaration ")
          << type;
      return failure();
    }
  } else {
    b.setInsertionPointToStart(module.getBody());
    callee = func::FuncOp::create(b, loc, name, type);
    callee.setPrivate();
  }
  callee->setAttr(kDevicePointersAttr, b.getUnitAttr());
  return callee;
}

/// Asserts that the sizes `x` and `y` agree, unless both are constants
/// (the verifier compared those).
static void assertEqual(OpBuilder &b, Location loc, Value x, Value y,
                        StringRef what) {
  if (matchPattern(x, m_Constant()) && matchPattern(y, m_Constant()))
    return;
  Value same =
      arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, x, y).getResult();
  cf::AssertOp::create(b, loc, same,
                       ("matmul operands disagree on " + what).str());
}

LogicalResult un::gpukernels::lowerMatmulToLibraryCall(linalg::LinalgOp op,
                                                       bool tf32) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  bool batched = isa<linalg::BatchMatmulOp>(op.getOperation());
  Value aTensor = op.getDpsInputs()[0], bTensor = op.getDpsInputs()[1];
  Value initTensor = op.getDpsInits()[0];
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  int64_t d = batched ? 1 : 0;
  auto dim = [&](Value t, int64_t i) -> Value {
    int64_t size = cast<RankedTensorType>(t.getType()).getDimSize(i);
    if (!ShapedType::isDynamic(size))
      return arith::ConstantIndexOp::create(b, loc, size);
    return tensor::DimOp::create(b, loc, t, i);
  };
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  Value batch = batched ? dim(aTensor, 0) : one;
  Value m = dim(aTensor, d), k = dim(aTensor, d + 1), n = dim(bTensor, d + 1);
  assertEqual(b, loc, k, dim(bTensor, d), "K");
  assertEqual(b, loc, m, dim(initTensor, d), "M");
  assertEqual(b, loc, n, dim(initTensor, d + 1), "N");
  if (batched) {
    assertEqual(b, loc, batch, dim(bTensor, 0), "the batch");
    assertEqual(b, loc, batch, dim(initTensor, 0), "the batch");
  }

  auto toBuffer = [&](Value tensor) -> Value {
    auto type = cast<RankedTensorType>(tensor.getType());
    return bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
        /*read_only=*/b.getUnitAttr());
  };
  Value aBuffer = toBuffer(aTensor), bBuffer = toBuffer(bTensor);
  SmallVector<Value> dynamicSizes;
  for (int64_t i = 0; i < resultType.getRank(); ++i)
    if (resultType.isDynamicDim(i))
      dynamicSizes.push_back(dim(initTensor, i));
  Value c = memref::AllocOp::create(
      b, loc,
      MemRefType::get(resultType.getShape(), resultType.getElementType()),
      dynamicSizes);

  // The init: a zero fill is the library's beta = 0; anything else is
  // put into the result, which the call accumulates into.
  bool accumulate = true;
  Attribute fillValue;
  if (auto fill = initTensor.getDefiningOp<linalg::FillOp>())
    matchPattern(fill.getDpsInputs()[0], m_Constant(&fillValue));
  if (fillValue && matchPattern(fillValue, m_AnyZeroFloat())) {
    accumulate = false;
  } else if (fillValue) {
    Value value = initTensor.getDefiningOp<linalg::FillOp>().getDpsInputs()[0];
    linalg::FillOp::create(b, loc, ValueRange{value}, ValueRange{c});
  } else {
    memref::CopyOp::create(b, loc, toBuffer(initTensor), c);
  }

  auto module = op->getParentOfType<ModuleOp>();
  FailureOr<func::FuncOp> callee =
      declareCallee(module,
                    matmulLibraryFunction(elementType(aTensor),
                                          resultType.getElementType(), tf32),
                    loc);
  if (failed(callee))
    return failure();
  auto pointer = [&](Value buffer) -> Value {
    return memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  };
  Value flag = arith::ConstantIndexOp::create(b, loc, accumulate ? 1 : 0);
  func::CallOp::create(b, loc, *callee,
                       ValueRange{pointer(aBuffer), pointer(bBuffer),
                                  pointer(c), batch, m, n, k, flag});

  Value result = op->getResult(0);
  // Writable unless something reads the buffer through to_buffer (a
  // kernel, another call): an in-place consumer must not overwrite it.
  bool readAsBuffer = llvm::any_of(result.getUsers(), [](Operation *user) {
    return isa<bufferization::ToBufferOp>(user);
  });
  auto toTensor = bufferization::ToTensorOp::create(
      b, loc, resultType, c, /*restrict=*/true, /*writable=*/!readAsBuffer);
  result.replaceAllUsesWith(toTensor.getResult());
  op->erase();
  return success();
}
