//===- ConvertUNToGPUPass.cpp - The convert-un-to-gpu pass ------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Replaces every primitive un op with gpu.launch kernels on buffers (see
// Kernels.h), leaving the rest of the tensor program as it is:
//
// - operands: a tensor produced by `bufferization.to_tensor %m` is read
//   from %m directly, any other through `bufferization.to_buffer`;
// - results: written into a fresh `memref.alloc` (device memory once
//   un-gpu-device-buffers has run) seen by other ops through
//   `bufferization.to_tensor`, or straight into the caller's buffer when
//   the result is only stored there (`bufferization.materialize_in_destination`
//   into a `restrict writable` memref argument used nowhere else), so a
//   destination-passing training step writes every activation once;
// - scalars: `t`, `skips` and `skip` that come from a `memref.load` of an
//   argument (possibly through integer casts) are loaded by the kernels;
//   `skip` and `skips_new` live in a small device buffer that the following
//   kernels read, and `memref.store`s of them into an argument are done by
//   the statistics kernel, so a step never waits for the host. Only other
//   users get a host copy (one device-to-host copy and a wait);
// - fusion: a reduction whose statistics feed only the smoothing op is
//   emitted next to it, and the smoothing kernel sums the reduction's
//   partial sums itself (no separate finalize kernel): a training step is
//   six launches.
//
//===----------------------------------------------------------------------===//

#include "ChannelTiling.h"
#include "Kernels.h"

#include "un/Conversion/Passes.h"
#include "un/Conversion/RuntimeChecks.h"
#include "un/Dialect/UN/IR/UNOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Transforms/RegionUtils.h"

#include "llvm/ADT/SetVector.h"
#include "llvm/ADT/TypeSwitch.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_CONVERTUNTOGPU
#include "un/Conversion/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::gpukernels;

static bool isPrimitive(Operation *op) {
  return isa<QuadraticMeanOp, SmoothForwardStatsOp, NormalizeOp, GradStatsOp,
             SmoothGradStatsOp, InputGradOp, AffineOp>(op);
}

static bool isIdentityMemRef(Type type) {
  auto memref = dyn_cast<MemRefType>(type);
  return memref && memref.getLayout().isIdentity() && !memref.getMemorySpace();
}

static Value dim(OpBuilder &b, Location loc, Value memref, int64_t d) {
  return b.createOrFold<memref::DimOp>(loc, memref, d);
}

namespace {
/// Lowers the un primitive ops of one function.
class FunctionLowering {
public:
  FunctionLowering(func::FuncOp func, KernelContext &ctx)
      : func(func), ctx(ctx) {}

  LogicalResult run();

private:
  LogicalResult lower(Operation *op);
  LogicalResult lowerQuadraticMean(QuadraticMeanOp op);
  LogicalResult lowerSmoothForwardStats(SmoothForwardStatsOp op);
  LogicalResult lowerNormalize(NormalizeOp op);
  LogicalResult lowerGradStats(GradStatsOp op);
  LogicalResult lowerSmoothGradStats(SmoothGradStatsOp op);
  LogicalResult lowerInputGrad(InputGradOp op);
  LogicalResult lowerAffine(AffineOp op);

  bool isArgument(Value v) {
    auto arg = dyn_cast<BlockArgument>(v);
    return arg && arg.getOwner() == &func.getBody().front();
  }
  /// The buffer holding tensor `v`, for reading.
  Value bufferOf(OpBuilder &b, Value v);
  /// A [T, C] view of an activation buffer; a [T] view of a mask buffer.
  Value view2D(OpBuilder &b, Value memref);
  Value viewTokens(OpBuilder &b, Value memref);
  /// The buffer `result` is written into: the caller's (destination
  /// passing) or a new one with dims `dims`. Null when `result` is unused
  /// and `required` is false.
  Value outputBuffer(OpBuilder &b, Value result, ArrayRef<Value> dims,
                     bool required = true);
  /// Replaces the uses of `result` by `buffer`'s contents.
  void finishResult(OpBuilder &b, Value result, Value buffer);
  ScalarRef scalarRef(Value v);

  func::FuncOp func;
  KernelContext &ctx;
  /// Producers whose kernels are emitted with their consumer.
  DenseMap<Operation *, Operation *> fusedInto;
  /// Results written straight into an argument: result -> argument.
  DenseMap<Value, Value> destinations;
  /// Placeholders of scalars that live in device memory.
  DenseMap<Value, ScalarRef> deviceScalars;
  SmallVector<Operation *> placeholders;
  /// Ops to erase once every un op is lowered, if dead.
  llvm::SetVector<Operation *> maybeDead;
};
} // namespace

Value FunctionLowering::bufferOf(OpBuilder &b, Value v) {
  if (auto toTensor = v.getDefiningOp<bufferization::ToTensorOp>())
    if (isIdentityMemRef(toTensor.getBuffer().getType())) {
      maybeDead.insert(toTensor);
      return toTensor.getBuffer();
    }
  auto type = cast<RankedTensorType>(v.getType());
  auto memrefType = MemRefType::get(type.getShape(), type.getElementType());
  return bufferization::ToBufferOp::create(b, v.getLoc(), memrefType, v,
                                           b.getUnitAttr());
}

/// A memref.collapse_shape of `memref` into `groups`. For an identity
/// layout, a group with a dynamic dim collapses to a dynamic size even when
/// another dim of it is 0 (the verifier requires it; upstream's type
/// inference gives 0 * ? a static 0).
static Value collapse(OpBuilder &b, Location loc, Value memref,
                      ArrayRef<ReassociationIndices> groups) {
  auto type = cast<MemRefType>(memref.getType());
  if (!type.getLayout().isIdentity())
    return memref::CollapseShapeOp::create(b, loc, memref, groups);
  SmallVector<int64_t> shape;
  for (const ReassociationIndices &group : groups) {
    int64_t size = 1;
    for (int64_t d : group) {
      if (type.isDynamicDim(d)) {
        size = ShapedType::kDynamic;
        break;
      }
      size *= type.getDimSize(d);
    }
    shape.push_back(size);
  }
  return memref::CollapseShapeOp::create(
      b, loc, MemRefType::get(shape, type.getElementType()), memref, groups);
}

Value FunctionLowering::view2D(OpBuilder &b, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  int64_t rank = type.getRank();
  Location loc = memref.getLoc();
  if (rank == 2)
    return memref;
  if (rank == 1) {
    auto viewType =
        MemRefType::get({1, type.getDimSize(0)}, type.getElementType());
    SmallVector<OpFoldResult> shape = {
        b.getIndexAttr(1), getAsOpFoldResult(dim(b, loc, memref, 0))};
    return memref::ExpandShapeOp::create(b, loc, viewType, memref,
                                         {ReassociationIndices{0, 1}}, shape);
  }
  ReassociationIndices tokens;
  for (int64_t i = 0; i + 1 < rank; ++i)
    tokens.push_back(i);
  return collapse(b, loc, memref, {tokens, ReassociationIndices{rank - 1}});
}

Value FunctionLowering::viewTokens(OpBuilder &b, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  Location loc = memref.getLoc();
  if (type.getRank() == 1)
    return memref;
  if (type.getRank() == 0)
    return memref::ExpandShapeOp::create(
        b, loc, MemRefType::get({1}, type.getElementType()), memref,
        ArrayRef<ReassociationIndices>{},
        ArrayRef<OpFoldResult>{b.getIndexAttr(1)});
  ReassociationIndices all;
  for (int64_t i = 0; i < type.getRank(); ++i)
    all.push_back(i);
  return collapse(b, loc, memref, {all});
}

Value FunctionLowering::outputBuffer(OpBuilder &b, Value result,
                                     ArrayRef<Value> dims, bool required) {
  if (result.use_empty() && !required)
    return Value();
  auto type = cast<RankedTensorType>(result.getType());
  // Destination passing: the only non-un use stores the whole result into
  // an argument that nothing else touches.
  bufferization::MaterializeInDestinationOp store;
  bool onlyStore = true;
  for (Operation *user : result.getUsers()) {
    if (isPrimitive(user))
      continue;
    auto materialize =
        dyn_cast<bufferization::MaterializeInDestinationOp>(user);
    if (!materialize || store || materialize.getSource() != result) {
      onlyStore = false;
      continue;
    }
    store = materialize;
  }
  if (store && onlyStore) {
    Value dest = store.getDest();
    auto destType = dyn_cast<MemRefType>(dest.getType());
    if (isArgument(dest) && dest.hasOneUse() && store.getRestrict() &&
        store.getWritable() && isIdentityMemRef(destType) &&
        destType.getShape() == type.getShape() &&
        destType.getElementType() == type.getElementType()) {
      store->erase();
      destinations[result] = dest;
      return dest;
    }
  }
  SmallVector<Value> dynamicSizes;
  for (int64_t i = 0, e = type.getRank(); i < e; ++i)
    if (type.isDynamicDim(i))
      dynamicSizes.push_back(dims[i]);
  return memref::AllocOp::create(
      b, result.getLoc(),
      MemRefType::get(type.getShape(), type.getElementType()), dynamicSizes);
}

void FunctionLowering::finishResult(OpBuilder &b, Value result, Value buffer) {
  if (!buffer || result.use_empty())
    return;
  bool unUsers = llvm::any_of(result.getUsers(), isPrimitive);
  bool otherUsers = !llvm::all_of(result.getUsers(), isPrimitive);
  // Without other users the tensor only carries the buffer to later un ops.
  // With un users too, it is not `writable`: bufferization must not write
  // into a buffer that a later kernel reads.
  bool isDestination = destinations.count(result);
  auto toTensor = bufferization::ToTensorOp::create(
      b, result.getLoc(), result.getType(), buffer,
      /*restrict=*/!isDestination, /*writable=*/otherUsers && !unUsers);
  maybeDead.insert(toTensor);
  result.replaceAllUsesWith(toTensor.getResult());
}

ScalarRef FunctionLowering::scalarRef(Value v) {
  SmallVector<Operation *> casts;
  Value current = v;
  while (true) {
    auto found = deviceScalars.find(current);
    if (found != deviceScalars.end()) {
      ScalarRef ref = found->second;
      ref.casts.append(casts.rbegin(), casts.rend());
      return ref;
    }
    Operation *def = current.getDefiningOp();
    if (def && isa<arith::TruncIOp, arith::ExtUIOp, arith::ExtSIOp>(def)) {
      casts.push_back(def);
      maybeDead.insert(def);
      current = def->getOperand(0);
      continue;
    }
    if (auto load = dyn_cast_or_null<memref::LoadOp>(def))
      if (isArgument(load.getMemRef())) {
        maybeDead.insert(load);
        ScalarRef ref;
        ref.memref = load.getMemRef();
        ref.indices = SmallVector<Value>(load.getIndices());
        ref.casts.append(casts.rbegin(), casts.rend());
        return ref;
      }
    break;
  }
  ScalarRef ref;
  ref.host = v;
  return ref;
}

//===----------------------------------------------------------------------===//
// Per-op lowerings
//===----------------------------------------------------------------------===//

/// A [C + 1] f32 device buffer for the sums and count of a statistic.
static Value allocSumsAndCount(OpBuilder &b, Location loc, Value channels) {
  IndexMath m(b, loc);
  Value size = m.add(channels, m.c(1));
  std::optional<int64_t> known = getConstantIntValue(size);
  if (known)
    return memref::AllocOp::create(b, loc,
                                   MemRefType::get({*known}, b.getF32Type()));
  return memref::AllocOp::create(
      b, loc, MemRefType::get({ShapedType::kDynamic}, b.getF32Type()),
      ValueRange{size});
}

/// Statistics across processes: `local` ([sums..., count] of this process)
/// summed over every process (un.sum_across_ranks on buffers), then
/// out[c] = sum[c] / count.
static void divideAcrossRanks(OpBuilder &b, Location loc, KernelContext &ctx,
                              Value local, Value out) {
  Value channels = dim(b, loc, out, 0);
  Value totals = allocSumsAndCount(b, loc, channels);
  SumAcrossRanksOp::create(b, loc, TypeRange{}, local, totals);
  emitDivideByCount(b, loc, ctx, totals, out);
}

LogicalResult FunctionLowering::lowerQuadraticMean(QuadraticMeanOp op) {
  if (fusedInto.count(op))
    return success(); // emitted with its smooth_forward_stats
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value x = view2D(b, bufferOf(b, op.getX()));
  Value mask =
      op.getMask() ? viewTokens(b, bufferOf(b, op.getMask())) : Value();
  PartialSums partials = emitSquareSums(b, loc, ctx, x, mask);
  Value channels = dim(b, loc, x, 1);
  Value psi = outputBuffer(b, op.getPsi(), {channels});
  // Across processes: this process's [sums, count] first.
  bool allRanks = op.getAllRanks();
  Value local = allRanks ? allocSumsAndCount(b, loc, channels) : psi;
  emitQuadraticMeanFinalize(b, loc, ctx, partials, mask, dim(b, loc, x, 0),
                            local, allRanks);
  if (allRanks)
    divideAcrossRanks(b, loc, ctx, local, psi);
  finishResult(b, op.getPsi(), psi);
  op->erase();
  return success();
}

LogicalResult
FunctionLowering::lowerSmoothForwardStats(SmoothForwardStatsOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  ForwardStatsArgs args;
  PartialSums partials;
  auto producer = op.getPsi().getDefiningOp<QuadraticMeanOp>();
  bool fused = producer && fusedInto.lookup(producer) == op;
  if (fused) {
    Value x = view2D(b, bufferOf(b, producer.getX()));
    args.mask = producer.getMask()
                    ? viewTokens(b, bufferOf(b, producer.getMask()))
                    : Value();
    partials = emitSquareSums(b, loc, ctx, x, args.mask);
    args.partials = &partials;
    args.tokens = dim(b, loc, x, 0);
  } else {
    args.psi = bufferOf(b, op.getPsi());
  }
  args.runningVar = bufferOf(b, op.getRunningVar());
  args.window = bufferOf(b, op.getWinX2());
  args.t = scalarRef(op.getT());
  args.skips = scalarRef(op.getSkips());
  Value channels = dim(b, loc, args.window, 1);
  Value rows = dim(b, loc, args.window, 0);
  args.var = outputBuffer(b, op.getVar(), {channels});
  args.r = outputBuffer(b, op.getR(), {channels});
  args.runningVarNew = outputBuffer(b, op.getRunningVarNew(), {channels});
  args.windowNew = outputBuffer(b, op.getWinX2New(), {rows, channels});
  args.eps = op.getEps().convertToFloat();
  args.momentum = op.getMomentum().convertToFloat();
  args.rMax = op.getRMax().convertToFloat();
  args.warmupIters = op.getWarmupIters();
  args.rWarmup = op.getRWarmup();
  args.outlierFiltration = op.getOutlierFiltration();

  // skip and skips_new live in a device buffer; stores of them into
  // arguments that nothing else uses are done by the kernel.
  Type i64 = b.getI64Type();
  args.scalars = memref::AllocOp::create(b, loc, MemRefType::get({2}, i64));
  SmallVector<Operation *> foldedStores, foldedExts;
  auto collectStores = [&](Value result, SmallVector<ScalarStore> &targets) {
    for (OpOperand &use : llvm::make_early_inc_range(result.getUses())) {
      Operation *user = use.getOwner();
      ScalarStore target;
      Operation *ext = nullptr;
      if (isa<arith::ExtUIOp, arith::ExtSIOp>(user) && user->hasOneUse()) {
        ext = user;
        target.extension = isa<arith::ExtSIOp>(user)
                               ? ScalarStore::Extension::Signed
                               : ScalarStore::Extension::Unsigned;
        user = *user->getUsers().begin();
      }
      auto store = dyn_cast<memref::StoreOp>(user);
      if (!store || store->getBlock() != op->getBlock() ||
          !isArgument(store.getMemRef()) ||
          store.getValueToStore() != (ext ? ext->getResult(0) : result))
        continue;
      bool onlyStores =
          llvm::all_of(store.getMemRef().getUsers(),
                       [](Operation *u) { return isa<memref::StoreOp>(u); });
      if (!onlyStores)
        continue;
      target.memref = store.getMemRef();
      target.indices = SmallVector<Value>(store.getIndices());
      targets.push_back(target);
      foldedStores.push_back(store);
      if (ext)
        foldedExts.push_back(ext);
    }
  };
  collectStores(op.getSkip(), args.skipStores);
  collectStores(op.getSkipsNew(), args.skipsStores);
  emitForwardStats(b, loc, ctx, args);
  for (Operation *store : foldedStores)
    store->erase();
  for (Operation *ext : foldedExts)
    if (ext->use_empty())
      ext->erase();

  finishResult(b, op.getVar(), args.var);
  finishResult(b, op.getR(), args.r);
  finishResult(b, op.getRunningVarNew(), args.runningVarNew);
  finishResult(b, op.getWinX2New(), args.windowNew);
  // Scalars: un users read the device buffer; others get a host copy.
  Value hostCopy;
  Value scalarResults[] = {op.getSkip(), op.getSkipsNew()};
  for (int64_t index = 0; index < 2; ++index) {
    Value result = scalarResults[index];
    auto placeholder = UnrealizedConversionCastOp::create(
        b, loc, TypeRange{result.getType()}, ValueRange{});
    placeholders.push_back(placeholder);
    ScalarRef ref;
    ref.memref = args.scalars;
    ref.indices = {arith::ConstantIndexOp::create(b, loc, index)};
    deviceScalars[placeholder.getResult(0)] = ref;
    result.replaceUsesWithIf(placeholder.getResult(0), [](OpOperand &use) {
      return isPrimitive(use.getOwner());
    });
    if (result.use_empty())
      continue;
    if (!hostCopy) {
      OpBuilder entry = OpBuilder::atBlockBegin(&func.getBody().front());
      hostCopy =
          memref::AllocaOp::create(entry, loc, MemRefType::get({2}, i64));
      memref::CopyOp::create(b, loc, args.scalars, hostCopy);
    }
    Value loaded = memref::LoadOp::create(b, loc, hostCopy, ref.indices);
    if (result.getType() != i64)
      loaded = arith::TruncIOp::create(b, loc, result.getType(), loaded);
    result.replaceAllUsesWith(loaded);
  }
  op->erase();
  if (fused)
    producer->erase();
  return success();
}

LogicalResult FunctionLowering::lowerNormalize(NormalizeOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value xBuffer = bufferOf(b, op.getX());
  auto xType = cast<MemRefType>(xBuffer.getType());
  SmallVector<Value> dims;
  for (int64_t i = 0; i < xType.getRank(); ++i)
    dims.push_back(dim(b, loc, xBuffer, i));
  Value z = outputBuffer(b, op.getZ(), dims, /*required=*/false);
  Value y = outputBuffer(b, op.getY(), dims, /*required=*/false);
  if (z || y)
    emitNormalize(b, loc, ctx, view2D(b, xBuffer), bufferOf(b, op.getVar()),
                  bufferOf(b, op.getGamma()), bufferOf(b, op.getBeta()),
                  op.getEps().convertToFloat(), z ? view2D(b, z) : Value(),
                  y ? view2D(b, y) : Value());
  finishResult(b, op.getZ(), z);
  finishResult(b, op.getY(), y);
  op->erase();
  return success();
}

LogicalResult FunctionLowering::lowerGradStats(GradStatsOp op) {
  if (fusedInto.count(op))
    return success(); // emitted with its smooth_grad_stats
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value gy = view2D(b, bufferOf(b, op.getGy()));
  Value z = view2D(b, bufferOf(b, op.getZ()));
  PartialSums partials = emitGradSums(
      b, loc, ctx, gy, z, bufferOf(b, op.getR()), bufferOf(b, op.getGamma()));
  Value channels = dim(b, loc, gy, 1);
  Value gz = outputBuffer(b, op.getGz(), {channels});
  Value ggamma = outputBuffer(b, op.getGgamma(), {channels}, false);
  Value gbeta = outputBuffer(b, op.getGbeta(), {channels}, false);
  // Across processes, gz is over every process's tokens; ggamma and gbeta
  // stay this process's.
  bool allRanks = op.getAllRanks();
  Value local = allRanks ? allocSumsAndCount(b, loc, channels) : gz;
  emitGradStatsFinalize(b, loc, ctx, partials, dim(b, loc, gy, 0), local,
                        ggamma, gbeta, allRanks);
  if (allRanks)
    divideAcrossRanks(b, loc, ctx, local, gz);
  finishResult(b, op.getGz(), gz);
  finishResult(b, op.getGgamma(), ggamma);
  finishResult(b, op.getGbeta(), gbeta);
  op->erase();
  return success();
}

LogicalResult FunctionLowering::lowerSmoothGradStats(SmoothGradStatsOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  GradStatsArgs args;
  PartialSums partials;
  auto producer = op.getGz().getDefiningOp<GradStatsOp>();
  bool fused = producer && fusedInto.lookup(producer) == op;
  if (fused) {
    Value gy = view2D(b, bufferOf(b, producer.getGy()));
    Value z = view2D(b, bufferOf(b, producer.getZ()));
    partials = emitGradSums(b, loc, ctx, gy, z, bufferOf(b, producer.getR()),
                            bufferOf(b, producer.getGamma()));
    args.partials = &partials;
    args.tokens = dim(b, loc, gy, 0);
    Value channels = dim(b, loc, gy, 1);
    args.ggamma = outputBuffer(b, producer.getGgamma(), {channels}, false);
    args.gbeta = outputBuffer(b, producer.getGbeta(), {channels}, false);
  } else {
    args.gz = bufferOf(b, op.getGz());
  }
  args.skip = scalarRef(op.getSkip());
  args.t = scalarRef(op.getT());
  args.ema = bufferOf(b, op.getEmaGz());
  args.window = bufferOf(b, op.getWinGz());
  Value channels = dim(b, loc, args.window, 1);
  Value rows = dim(b, loc, args.window, 0);
  args.coef = outputBuffer(b, op.getCoef(), {channels});
  args.emaNew = outputBuffer(b, op.getEmaGzNew(), {channels});
  args.windowNew = outputBuffer(b, op.getWinGzNew(), {rows, channels});
  args.momentum = op.getMomentum().convertToFloat();
  args.warmupIters = op.getWarmupIters();
  emitGradStats(b, loc, ctx, args);
  finishResult(b, op.getCoef(), args.coef);
  finishResult(b, op.getEmaGzNew(), args.emaNew);
  finishResult(b, op.getWinGzNew(), args.windowNew);
  if (fused) {
    finishResult(b, producer.getGgamma(), args.ggamma);
    finishResult(b, producer.getGbeta(), args.gbeta);
  }
  op->erase();
  if (fused)
    producer->erase();
  return success();
}

LogicalResult FunctionLowering::lowerInputGrad(InputGradOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value gyBuffer = bufferOf(b, op.getGy());
  auto type = cast<MemRefType>(gyBuffer.getType());
  SmallVector<Value> dims;
  for (int64_t i = 0; i < type.getRank(); ++i)
    dims.push_back(dim(b, loc, gyBuffer, i));
  Value gx = outputBuffer(b, op.getGx(), dims);
  emitInputGrad(b, loc, ctx, view2D(b, gyBuffer),
                view2D(b, bufferOf(b, op.getZ())), bufferOf(b, op.getVar()),
                bufferOf(b, op.getR()), bufferOf(b, op.getGamma()),
                bufferOf(b, op.getCoef()), op.getEps().convertToFloat(),
                view2D(b, gx));
  finishResult(b, op.getGx(), gx);
  op->erase();
  return success();
}

LogicalResult FunctionLowering::lowerAffine(AffineOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Value xBuffer = bufferOf(b, op.getX());
  auto type = cast<MemRefType>(xBuffer.getType());
  SmallVector<Value> dims;
  for (int64_t i = 0; i < type.getRank(); ++i)
    dims.push_back(dim(b, loc, xBuffer, i));
  Value y = outputBuffer(b, op.getY(), dims);
  emitAffine(b, loc, ctx, view2D(b, xBuffer), bufferOf(b, op.getScale()),
             bufferOf(b, op.getShift()), view2D(b, y));
  finishResult(b, op.getY(), y);
  op->erase();
  return success();
}

LogicalResult FunctionLowering::lower(Operation *op) {
  return TypeSwitch<Operation *, LogicalResult>(op)
      .Case([&](QuadraticMeanOp o) { return lowerQuadraticMean(o); })
      .Case([&](SmoothForwardStatsOp o) { return lowerSmoothForwardStats(o); })
      .Case([&](NormalizeOp o) { return lowerNormalize(o); })
      .Case([&](GradStatsOp o) { return lowerGradStats(o); })
      .Case([&](SmoothGradStatsOp o) { return lowerSmoothGradStats(o); })
      .Case([&](InputGradOp o) { return lowerInputGrad(o); })
      .Case([&](AffineOp o) { return lowerAffine(o); })
      .Default([](Operation *) { return success(); });
}

/// True if every use of `value` is `consumer` or after it in its block.
static bool allUsesAfter(Value value, Operation *consumer) {
  Block *block = consumer->getBlock();
  for (Operation *user : value.getUsers()) {
    Operation *ancestor = block->findAncestorOpInBlock(*user);
    if (!ancestor ||
        (ancestor != consumer && !consumer->isBeforeInBlock(ancestor)))
      return false;
  }
  return true;
}

LogicalResult FunctionLowering::run() {
  SmallVector<Operation *> ops;
  WalkResult composites = func.walk([&](Operation *op) {
    if (isa<TrainForwardOp, TrainBackwardOp, InferOp>(op)) {
      op->emitOpError("is a composite op: run -un-decompose before "
                      "-convert-un-to-gpu");
      return WalkResult::interrupt();
    }
    if (isPrimitive(op))
      ops.push_back(op);
    return WalkResult::advance();
  });
  if (composites.wasInterrupted())
    return failure();
  if (ops.empty())
    return success();
  ctx.prefix = func.getSymName().str();

  // Fusion: a reduction whose statistic feeds only the smoothing op in the
  // same block, and whose other results are used after it.
  for (Operation *op : ops) {
    // Statistics across processes are summed over the processes between
    // the reduction and its consumer: never fused.
    if (op->hasAttr("all_ranks"))
      continue;
    if (auto mean = dyn_cast<QuadraticMeanOp>(op)) {
      Value psi = mean.getPsi();
      if (!psi.hasOneUse())
        continue;
      auto smooth = dyn_cast<SmoothForwardStatsOp>(*psi.getUsers().begin());
      if (smooth && smooth->getBlock() == op->getBlock() &&
          smooth.getPsi() == psi)
        fusedInto[op] = smooth;
    } else if (auto stats = dyn_cast<GradStatsOp>(op)) {
      Value gz = stats.getGz();
      if (!gz.hasOneUse())
        continue;
      auto smooth = dyn_cast<SmoothGradStatsOp>(*gz.getUsers().begin());
      if (smooth && smooth->getBlock() == op->getBlock() &&
          smooth.getGz() == gz && allUsesAfter(stats.getGgamma(), smooth) &&
          allUsesAfter(stats.getGbeta(), smooth))
        fusedInto[op] = smooth;
    }
  }

  // Host-side checks of what only run time knows, before any launch, on
  // the operands that come from outside the un ops.
  for (Operation *op : ops) {
    insertShapeChecks(op, /*onlyInputs=*/true);
    Value window;
    if (auto smooth = dyn_cast<SmoothForwardStatsOp>(op))
      window = smooth.getWinX2();
    else if (auto smooth = dyn_cast<SmoothGradStatsOp>(op))
      window = smooth.getWinGz();
    if (window && !window.getDefiningOp<SmoothForwardStatsOp>() &&
        !window.getDefiningOp<SmoothGradStatsOp>()) {
      OpBuilder b(op);
      insertWindowRowsCheck(b, op->getLoc(), window);
    }
  }

  for (Operation *op : ops)
    if (failed(lower(op)))
      return failure();

  for (Operation *placeholder : placeholders) {
    if (!placeholder->use_empty())
      return placeholder->emitError("device scalar still in use");
    placeholder->erase();
  }
  // Peeked-through loads, casts and to_tensor ops that are now dead.
  DenseSet<Operation *> erased;
  bool changed = true;
  while (changed) {
    changed = false;
    for (Operation *op : maybeDead)
      if (!erased.contains(op) && isOpTriviallyDead(op)) {
        op->erase();
        erased.insert(op);
        changed = true;
      }
  }
  return success();
}

namespace {
struct ConvertUNToGPUPass : un::impl::ConvertUNToGPUBase<ConvertUNToGPUPass> {
  using ConvertUNToGPUBase::ConvertUNToGPUBase;

  void runOnOperation() override {
    KernelContext ctx;
    ctx.smCount = smCount;
    ctx.exactDivision = exactDivision;
    for (auto func : getOperation().getOps<func::FuncOp>())
      if (failed(FunctionLowering(func, ctx).run()))
        return signalPassFailure();
  }
};
} // namespace
