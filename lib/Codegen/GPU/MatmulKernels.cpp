//===- MatmulKernels.cpp - The un-gpu-matmul pass ---------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Static-shaped f32 `linalg.matmul` / `linalg.batch_matmul` on tensors (the
// folded projections of inference blocks) -> one shared-memory tiled
// gpu.launch each, instead of the generic path (16 x 16 threads, one output
// per thread, every operand read from global memory K times).
//
// The kernel (SGEMM, C[M, N] = init + A[M, K] B[K, N]; batches on grid z):
//
//   * a block of 256 threads computes a 64 x 64 tile of C; the grid is
//     ceil(N / 64) x ceil(M / 64) x batch;
//   * per K step of 16, the block loads the 64 x 16 tile of A and the
//     16 x 64 tile of B into workgroup memory (4 + 4 elements per thread,
//     consecutive threads on consecutive addresses: coalesced), A
//     transposed to [16][64 + 1] (the padding avoids bank conflicts on the
//     transposing store), then `gpu.barrier`;
//   * thread (tx, ty) = (t % 16, t / 16) owns the 4 x 4 outputs
//     (ty + 16 i, tx + 16 j): per k it reads 4 values of A (broadcast
//     within a half warp) and 4 of B (16 consecutive words per half warp)
//     from workgroup memory and does 16 FMAs (math.fma: fma.rn.f32) on
//     accumulators in registers, the 16 k of a step unrolled;
//     a second barrier before the next tiles overwrite them;
//   * out-of-range rows / columns / k (shapes not multiples of the tile)
//     load 0 (clamped address, select) and are not stored; the checks are
//     only emitted for the dimensions that need them.
//
// The result is a new buffer seen through `bufferization.to_tensor`; a
// constant `linalg.fill` init becomes the accumulators' start value, any
// other init is read by the kernel.
//
//===----------------------------------------------------------------------===//

#include "MatmulLibraryCalls.h"
#include "un/Codegen/GPU/KernelBuilder.h"
#include "un/Codegen/GPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNGPUMATMUL
#include "un/Codegen/GPU/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::gpukernels;

namespace {
/// Block tile: kTileM x kTileN outputs, K in steps of kTileK.
constexpr int64_t kTileM = 64;
constexpr int64_t kTileN = 64;
constexpr int64_t kTileK = 16;
/// Threads per block, as kThreadsX x kThreadsY; each owns a
/// (kTileM / kThreadsY) x (kTileN / kThreadsX) micro-tile.
constexpr int64_t kThreadsX = 16;
constexpr int64_t kThreadsY = 16;
constexpr int64_t kThreads = kThreadsX * kThreadsY;
constexpr int64_t kMicroM = kTileM / kThreadsY;
constexpr int64_t kMicroN = kTileN / kThreadsX;
/// Row stride of the transposed A tile in workgroup memory.
constexpr int64_t kAStride = kTileM + 1;

/// What the kernel computes on: buffers and static sizes.
struct MatmulArgs {
  Value a, b, c; ///< [batch?, M, K], [batch?, K, N], result [batch?, M, N]
  Value init;    ///< buffer of the init (null: start from initValue)
  float initValue = 0.0f;
  bool batched = false;
  int64_t batch = 1, m = 0, n = 0, k = 0;
};
} // namespace

/// Indices into a (batch?) x rows x cols buffer.
static SmallVector<Value> indices(const MatmulArgs &args, Value batch,
                                  Value row, Value col) {
  if (args.batched)
    return {batch, row, col};
  return {row, col};
}

static void emitMatmulKernel(OpBuilder &b, Location loc, KernelNames &ctx,
                             const MatmulArgs &args) {
  IndexMath m(b, loc);
  Value gridX = m.c(llvm::divideCeil(args.n, kTileN));
  Value gridY = m.c(llvm::divideCeil(args.m, kTileM));
  Value gridZ = m.c(args.batch);
  Kernel kernel =
      createKernel(b, loc, ctx.moduleName, ctx.name("matmul"), gridX, gridY,
                   kThreads, {kTileK * kAStride, kTileK * kTileN}, gridZ);
  Value aTile = kernel.workgroup[0], bTile = kernel.workgroup[1];
  Value t = kernel.threadId;
  Value tx = m.rem(t, m.c(kThreadsX));
  Value ty = m.div(t, m.c(kThreadsX));
  Value rowBase = m.mul(kernel.blockIdY, m.c(kTileM));
  Value colBase = m.mul(kernel.blockIdX, m.c(kTileN));
  Value batch = args.batched ? kernel.blockIdZ : Value();
  Value zero = f32Const(b, loc, 0.0f);

  // A clamped index and whether it was in range (null: always in range).
  auto clamp = [](IndexMath &im, Value i, int64_t size,
                  bool needed) -> std::pair<Value, Value> {
    if (!needed)
      return {i, Value()};
    Value ok = im.lt(i, im.c(size));
    return {im.min(i, im.c(size - 1)), ok};
  };
  auto both = [](IndexMath &im, Value x, Value y) -> Value {
    if (!x)
      return y;
    if (!y)
      return x;
    return im.b.createOrFold<arith::AndIOp>(im.loc, x, y);
  };
  bool checkM = args.m % kTileM != 0;
  bool checkN = args.n % kTileN != 0;
  bool checkK = args.k % kTileK != 0;

  SmallVector<Value> init(kMicroM * kMicroN,
                          f32Const(b, loc, args.init ? 0.0f : args.initValue));
  int64_t kSteps = llvm::divideCeil(args.k, kTileK);
  SmallVector<Value> acc = forLoop(
      b, loc, m.c(0), m.c(kSteps), m.c(1), init,
      [&](OpBuilder &lb, Location l, Value step,
          ValueRange carried) -> SmallVector<Value> {
        IndexMath lm(lb, l);
        Value k0 = lm.mul(step, lm.c(kTileK));
        // Cooperative, coalesced loads of the A and B tiles.
        for (int64_t e = 0; e < kTileM * kTileK / kThreads; ++e) {
          Value linear = lm.add(t, lm.c(e * kThreads));
          Value r = lm.div(linear, lm.c(kTileK));
          Value c = lm.rem(linear, lm.c(kTileK));
          auto [row, rowOk] = clamp(lm, lm.add(rowBase, r), args.m, checkM);
          auto [col, colOk] = clamp(lm, lm.add(k0, c), args.k, checkK);
          Value v = memref::LoadOp::create(lb, l, args.a,
                                           indices(args, batch, row, col));
          if (Value ok = both(lm, rowOk, colOk))
            v = arith::SelectOp::create(lb, l, ok, v, zero);
          memref::StoreOp::create(lb, l, v, aTile,
                                  lm.add(lm.mul(c, lm.c(kAStride)), r));
        }
        for (int64_t e = 0; e < kTileK * kTileN / kThreads; ++e) {
          Value linear = lm.add(t, lm.c(e * kThreads));
          Value r = lm.div(linear, lm.c(kTileN));
          Value c = lm.rem(linear, lm.c(kTileN));
          auto [row, rowOk] = clamp(lm, lm.add(k0, r), args.k, checkK);
          auto [col, colOk] = clamp(lm, lm.add(colBase, c), args.n, checkN);
          Value v = memref::LoadOp::create(lb, l, args.b,
                                           indices(args, batch, row, col));
          if (Value ok = both(lm, rowOk, colOk))
            v = arith::SelectOp::create(lb, l, ok, v, zero);
          memref::StoreOp::create(lb, l, v, bTile,
                                  lm.add(lm.mul(r, lm.c(kTileN)), c));
        }
        gpu::BarrierOp::create(lb, l);
        // The micro-tile, unrolled over the K step (constant workgroup
        // offsets): per k, 4 + 4 workgroup loads and 16 FMAs.
        SmallVector<Value> next(carried);
        for (int64_t kk = 0; kk < kTileK; ++kk) {
          SmallVector<Value> as, bs;
          for (int64_t i = 0; i < kMicroM; ++i)
            as.push_back(memref::LoadOp::create(
                lb, l, aTile, lm.add(ty, lm.c(kk * kAStride + i * kThreadsY))));
          for (int64_t j = 0; j < kMicroN; ++j)
            bs.push_back(memref::LoadOp::create(
                lb, l, bTile, lm.add(tx, lm.c(kk * kTileN + j * kThreadsX))));
          for (int64_t i = 0; i < kMicroM; ++i)
            for (int64_t j = 0; j < kMicroN; ++j)
              next[i * kMicroN + j] = math::FmaOp::create(
                  lb, l, as[i], bs[j], next[i * kMicroN + j]);
        }
        // The next step overwrites the tiles.
        gpu::BarrierOp::create(lb, l);
        return next;
      });

  // Store the micro-tile (the rows and columns in range).
  for (int64_t i = 0; i < kMicroM; ++i) {
    Value row = m.add(rowBase, m.add(ty, m.c(i * kThreadsY)));
    for (int64_t j = 0; j < kMicroN; ++j) {
      Value col = m.add(colBase, m.add(tx, m.c(j * kThreadsX)));
      Value ok = both(m, checkM ? m.lt(row, m.c(args.m)) : Value(),
                      checkN ? m.lt(col, m.c(args.n)) : Value());
      auto store = [&, i, j](OpBuilder &sb, Location sl) {
        Value v = acc[i * kMicroN + j];
        SmallVector<Value> at = indices(args, batch, row, col);
        if (args.init)
          v = arith::AddFOp::create(
              sb, sl, memref::LoadOp::create(sb, sl, args.init, at), v);
        memref::StoreOp::create(sb, sl, v, args.c, at);
      };
      if (ok)
        ifThen(b, loc, ok, store);
      else
        store(b, loc);
    }
  }
}

/// The buffer of a tensor operand (the buffer of a `to_tensor` directly).
static Value bufferOf(OpBuilder &b, Value v) {
  if (auto toTensor = v.getDefiningOp<bufferization::ToTensorOp>()) {
    auto type = cast<MemRefType>(toTensor.getBuffer().getType());
    if (type.getLayout().isIdentity() && !type.getMemorySpace())
      return toTensor.getBuffer();
  }
  auto type = cast<RankedTensorType>(v.getType());
  return bufferization::ToBufferOp::create(
      b, v.getLoc(), MemRefType::get(type.getShape(), type.getElementType()), v,
      b.getUnitAttr());
}

/// Static shapes, f32 everywhere, the default indexing maps.
static bool isSupported(linalg::LinalgOp op) {
  if (!isPlainMatmul(op))
    return false;
  for (Value v : op->getOperands()) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    if (!type || !type.hasStaticShape() || !type.getElementType().isF32() ||
        type.getNumElements() == 0)
      return false;
  }
  return true;
}

static void lowerMatmul(linalg::LinalgOp op, KernelNames &ctx) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  MatmulArgs args;
  args.batched = isa<linalg::BatchMatmulOp>(op.getOperation());
  auto aType = cast<RankedTensorType>(op.getDpsInputs()[0].getType());
  auto bType = cast<RankedTensorType>(op.getDpsInputs()[1].getType());
  int64_t d = args.batched ? 1 : 0;
  args.batch = args.batched ? aType.getDimSize(0) : 1;
  args.m = aType.getDimSize(d);
  args.k = aType.getDimSize(d + 1);
  args.n = bType.getDimSize(d + 1);

  args.a = bufferOf(b, op.getDpsInputs()[0]);
  args.b = bufferOf(b, op.getDpsInputs()[1]);
  Value initTensor = op.getDpsInits()[0];
  std::optional<float> constant;
  if (auto fill = initTensor.getDefiningOp<linalg::FillOp>())
    if (auto value = fill.getDpsInputs()[0].getDefiningOp<arith::ConstantOp>())
      if (auto attr = dyn_cast<FloatAttr>(value.getValue()))
        constant = attr.getValueAsDouble();
  if (constant)
    args.initValue = *constant;
  else
    args.init = bufferOf(b, initTensor);
  auto resultType = cast<RankedTensorType>(op->getResult(0).getType());
  args.c = memref::AllocOp::create(
      b, loc,
      MemRefType::get(resultType.getShape(), resultType.getElementType()));

  {
    OpBuilder::InsertionGuard guard(b);
    emitMatmulKernel(b, loc, ctx, args);
  }
  Value result = op->getResult(0);
  // Writable unless a kernel reads the buffer (through to_buffer): an
  // in-place epilogue must not overwrite what a later kernel reads.
  bool readByKernel = llvm::any_of(result.getUsers(), [](Operation *user) {
    return isa<bufferization::ToBufferOp>(user);
  });
  auto toTensor = bufferization::ToTensorOp::create(b, loc, resultType, args.c,
                                                    /*restrict=*/true,
                                                    /*writable=*/!readByKernel);
  result.replaceAllUsesWith(toTensor.getResult());
  op->erase();
}

namespace {
struct UNGPUMatmulPass : un::impl::UNGPUMatmulBase<UNGPUMatmulPass> {
  using UNGPUMatmulBase::UNGPUMatmulBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (library != "kernels" && library != "cublaslt") {
      mlir::emitError(module.getLoc(),
                      "un-gpu-matmul: library must be 'kernels' or "
                      "'cublaslt', not '")
          << library << "'";
      return signalPassFailure();
    }
    bool useLibrary = library == "cublaslt";
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    for (func::FuncOp func : funcs) {
      if (func.isDeclaration())
        continue;
      KernelNames ctx;
      ctx.prefix = func.getSymName().str();
      // Names that convert-un-to-gpu has given.
      func.walk([&](gpu::LaunchOp launch) {
        if (auto name = launch.getFunctionAttr())
          ctx.names.insert(name.getValue());
      });
      SmallVector<linalg::LinalgOp> matmuls;
      func.walk([&](linalg::LinalgOp op) {
        if (!isa<linalg::MatmulOp, linalg::BatchMatmulOp>(op.getOperation()))
          return;
        if (useLibrary ? isLibraryMatmul(op) : isSupported(op))
          matmuls.push_back(op);
      });
      for (linalg::LinalgOp op : matmuls) {
        if (!useLibrary) {
          lowerMatmul(op, ctx);
          continue;
        }
        if (failed(lowerMatmulToLibraryCall(op, tf32)))
          return signalPassFailure();
      }
    }
  }
};
} // namespace
