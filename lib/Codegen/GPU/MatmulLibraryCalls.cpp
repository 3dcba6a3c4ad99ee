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
//   %d = memref.alloc                   the result
//   [linalg.fill / memref.copy of the init into %d, unless it is zero]
//   func.call @un_cuda_matmul_<in>[_<out>][_tf32](ptr(%a), ptr(%b), c,
//       ptr(%d), bias, batch, M, N, K)  D = A B (+ C if c) (+ bias if bias)
//   bufferization.to_tensor %d
//
// c is ptr(%d) when the init was put there, else 0. When the only user of
// a 2-D matmul with an f32 result (zero init, static K > 0) is an
// elementwise op that adds a bias along N, or a bias and a residual, and
// nothing else, that op is done by the call: bias = ptr(bias), c =
// ptr(residual) (cuBLASLt's BIAS epilogue and beta = 1; the sum is rounded
// as (A B + residual) + bias). The op may also widen a bias and residual of
// the inputs' type (bf16, f16) and round the sum to it: then D, C and the
// bias have that type (the mixed precision of a bf16 model's Linear). An
// op that only rounds the f32 result of a 2-D or batched matmul to the
// inputs' type is done by the call too (D of that type, no bias).
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

#include "MatmulLibraryCalls.h"
#include "un/Codegen/GPU/Passes.h"

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

/// The runtime's entry point for inputs of type `in` and a result of type
/// `out`: un_cuda_matmul_<in>[_<out>][_tf32].
static std::string matmulLibraryFunction(Type in, Type out, bool tf32) {
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
  auto type = b.getFunctionType(SmallVector<Type>(9, b.getIndexType()), {});
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

namespace {
/// A bias add (and a residual add) on a matmul's result that cuBLASLt can
/// apply in its epilogue: `D = A B + bias[n]` (+ `residual[m, n]`, as C).
/// D has the op's element type: f32, or the inputs' narrower type.
struct BiasEpilogue {
  linalg::GenericOp op;
  Value bias, residual;
};
} // namespace

/// True if `init` is a zero `linalg.fill`.
static bool isZeroFill(Value init) {
  auto fill = init.getDefiningOp<linalg::FillOp>();
  return fill && matchPattern(fill.getDpsInputs()[0], m_AnyZeroFloat());
}

/// The elementwise op that only adds a bias along N (and a residual) to
/// the f32 result of the 2-D matmul `op`, its only user: in f32, or with
/// bias and residual of the inputs' type widened and the sum rounded to it;
/// or, after a 2-D or batched matmul, one that only rounds it to the
/// inputs' type.
static std::optional<BiasEpilogue> matchBiasEpilogue(linalg::LinalgOp op) {
  Value result = op->getResult(0);
  auto type = cast<RankedTensorType>(result.getType());
  auto aType = cast<RankedTensorType>(op.getDpsInputs()[0].getType());
  int64_t rank = type.getRank();
  if (!type.getElementType().isF32() ||
      ShapedType::isDynamic(aType.getDimSize(rank - 1)) ||
      aType.getDimSize(rank - 1) == 0 || !isZeroFill(op.getDpsInits()[0]) ||
      !result.hasOneUse())
    return std::nullopt;
  auto generic = dyn_cast<linalg::GenericOp>(*result.getUsers().begin());
  if (!generic || !generic.hasPureTensorSemantics() ||
      generic.getNumDpsInits() != 1 || generic.getNumLoops() != rank ||
      generic.getNumParallelLoops() != rank ||
      !generic.getMatchingIndexingMap(generic.getDpsInitOperand(0))
           .isIdentity())
    return std::nullopt;
  // D's type: f32, or the inputs' type when the op rounds to it.
  auto outType = cast<RankedTensorType>(generic->getResult(0).getType());
  Type dType = outType.getElementType();
  bool narrow = !dType.isF32();
  if (outType.getShape() != type.getShape() ||
      (narrow && dType != aType.getElementType()))
    return std::nullopt;
  BiasEpilogue e{generic, Value(), Value()};
  Block *body = generic.getBody();
  SmallVector<Value> leaves;
  for (OpOperand *input : generic.getDpsInputOperands()) {
    AffineMap map = generic.getMatchingIndexingMap(input);
    auto inputType = dyn_cast<RankedTensorType>(input->get().getType());
    if (!inputType)
      return std::nullopt;
    Value arg = body->getArgument(input->getOperandNumber());
    leaves.push_back(arg);
    if (input->get() == result && map.isIdentity())
      continue;
    if (inputType.getElementType() != dType)
      return std::nullopt;
    if (rank != 2)
      return std::nullopt; // bias and residual: 2-D only (cuBLASLt)
    if (!e.bias && inputType.getRank() == 1 &&
        map == AffineMap::get(2, 0, getAffineDimExpr(1, op.getContext()))) {
      e.bias = input->get();
      continue;
    }
    if (!e.residual && inputType == outType && map.isIdentity()) {
      e.residual = input->get();
      continue;
    }
    return std::nullopt;
  }
  if ((!e.bias && !(narrow && !e.residual)) ||
      llvm::count(generic.getDpsInputs(), result) != 1)
    return std::nullopt;
  // The body: a tree of addf of exactly those block arguments (bias and
  // residual widened when narrow, the sum rounded last).
  Value sum = body->getTerminator()->getOperand(0);
  unsigned ops = 1; // the yield
  if (narrow) {
    auto round = sum.getDefiningOp<arith::TruncFOp>();
    if (!round || !round.getIn().getType().isF32())
      return std::nullopt;
    sum = round.getIn();
    ++ops;
  }
  SmallVector<Value> found;
  SmallVector<Value> worklist = {sum};
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    if (auto add = v.getDefiningOp<arith::AddFOp>()) {
      if (!add->hasOneUse())
        return std::nullopt;
      ++ops;
      worklist.append({add.getLhs(), add.getRhs()});
    } else if (auto widen = v.getDefiningOp<arith::ExtFOp>();
               narrow && widen && widen->hasOneUse() &&
               isa<BlockArgument>(widen.getIn())) {
      ++ops;
      found.push_back(widen.getIn());
    } else {
      found.push_back(v);
    }
  }
  if (ops != body->getOperations().size() ||
      !std::is_permutation(found.begin(), found.end(), leaves.begin(),
                           leaves.end()))
    return std::nullopt;
  return e;
}

LogicalResult un::gpukernels::lowerMatmulToLibraryCall(linalg::LinalgOp op,
                                                       bool tf32) {
  std::optional<BiasEpilogue> epilogue = matchBiasEpilogue(op);
  // Built where the epilogue's operands are all defined.
  OpBuilder b(epilogue ? epilogue->op.getOperation() : op.getOperation());
  Location loc = op.getLoc();
  bool batched = isa<linalg::BatchMatmulOp>(op.getOperation());
  Value aTensor = op.getDpsInputs()[0], bTensor = op.getDpsInputs()[1];
  Value initTensor = op.getDpsInits()[0];
  // D: the matmul's result, or the epilogue's (f32 or rounded).
  auto resultType = cast<RankedTensorType>(
      (epilogue ? epilogue->op->getResult(0) : op->getResult(0)).getType());
  int64_t d = batched ? 1 : 0;
  auto dim = [&](Value t, int64_t i) -> Value {
    int64_t size = cast<RankedTensorType>(t.getType()).getDimSize(i);
    if (!ShapedType::isDynamic(size))
      return arith::ConstantIndexOp::create(b, loc, size);
    return tensor::DimOp::create(b, loc, t, i);
  };
  Value zero = arith::ConstantIndexOp::create(b, loc, 0);
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
  if (epilogue && epilogue->bias) {
    assertEqual(b, loc, n, dim(epilogue->bias, 0), "N (the bias)");
    if (epilogue->residual) {
      assertEqual(b, loc, m, dim(epilogue->residual, 0), "M (the residual)");
      assertEqual(b, loc, n, dim(epilogue->residual, 1), "N (the residual)");
    }
  }

  auto toBuffer = [&](Value tensor) -> Value {
    auto type = cast<RankedTensorType>(tensor.getType());
    return bufferization::ToBufferOp::create(
        b, loc, MemRefType::get(type.getShape(), type.getElementType()), tensor,
        /*read_only=*/b.getUnitAttr());
  };
  auto pointer = [&](Value buffer) -> Value {
    return memref::ExtractAlignedPointerAsIndexOp::create(b, loc, buffer);
  };
  Value aBuffer = toBuffer(aTensor), bBuffer = toBuffer(bTensor);
  SmallVector<Value> dynamicSizes;
  for (int64_t i = 0; i < resultType.getRank(); ++i)
    if (resultType.isDynamicDim(i))
      dynamicSizes.push_back(dim(initTensor, i));
  Value result = memref::AllocOp::create(
      b, loc,
      MemRefType::get(resultType.getShape(), resultType.getElementType()),
      dynamicSizes);

  // C: none after a zero fill (beta = 0); the residual of a fused epilogue;
  // else the init, filled or copied into the result first.
  Value c = zero, bias = zero, out = pointer(result);
  if (epilogue) {
    if (epilogue->bias)
      bias = pointer(toBuffer(epilogue->bias));
    if (epilogue->residual)
      c = pointer(toBuffer(epilogue->residual));
  } else if (!isZeroFill(initTensor)) {
    Attribute fillValue;
    auto fill = initTensor.getDefiningOp<linalg::FillOp>();
    if (fill && matchPattern(fill.getDpsInputs()[0], m_Constant(&fillValue)))
      linalg::FillOp::create(b, loc, fill.getDpsInputs(), ValueRange{result});
    else
      memref::CopyOp::create(b, loc, toBuffer(initTensor), result);
    c = out;
  }

  auto module = op->getParentOfType<ModuleOp>();
  FailureOr<func::FuncOp> callee =
      declareCallee(module,
                    matmulLibraryFunction(elementType(aTensor),
                                          resultType.getElementType(), tf32),
                    loc);
  if (failed(callee))
    return failure();
  func::CallOp::create(b, loc, *callee,
                       ValueRange{pointer(aBuffer), pointer(bBuffer), c, out,
                                  bias, batch, m, n, k});

  Value replaced = epilogue ? epilogue->op->getResult(0) : op->getResult(0);
  // Writable unless something reads the buffer through to_buffer (a
  // kernel, another call): an in-place consumer must not overwrite it.
  bool readAsBuffer = llvm::any_of(replaced.getUsers(), [](Operation *user) {
    return isa<bufferization::ToBufferOp>(user);
  });
  auto toTensor = bufferization::ToTensorOp::create(b, loc, resultType, result,
                                                    /*restrict=*/true,
                                                    /*writable=*/!readAsBuffer);
  replaced.replaceAllUsesWith(toTensor.getResult());
  if (epilogue)
    epilogue->op->erase();
  op->erase();
  return success();
}
