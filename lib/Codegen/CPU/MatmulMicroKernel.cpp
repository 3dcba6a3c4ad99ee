//===- MatmulMicroKernel.cpp - Packed, register-tiled f32 matmuls ---------===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Runs on buffers (after bufferization). Every linalg.matmul and
// linalg.batch_matmul on f32 memrefs with static K and N (M and the batch
// may be dynamic), the default indexing maps and unit-stride rows of B and
// C becomes, per 2-D matmul C += A B:
//
//   for j in N step NR:                one panel of NR columns
//     for p in K step KC:              one K block
//       Bp[0:kc, 0:NR] = B[p:p+kc, j:j+NR]     (packed: contiguous)
//       for i in M step MR:            one register tile
//         acc[MR][NR] = C[i:i+MR, j:j+NR]      (zeros in the first block
//                                               when C was just zero-filled)
//         for k in kc (unrolled):      acc += A[i:i+MR, p+k] (x) Bp[k, :]
//         C[i:i+MR, j:j+NR] = acc              (or the epilogue, last block)
//
// A matmul on a weight prepared in panels (un/Codegen/PanelMatmul.h) runs
// the same loops without the packing step: B's vectors are read from the
// prepared panels directly.
//
// The register tile [MR, NR] and KC come from the target (CPUTarget.h):
// NR is two vector registers wide, MR as many rows as the register file
// holds without spills. Remainders keep static shapes: an N remainder is a
// panel of fewer vectors whose last one is masked (packed with zeros); a
// static M remainder is a tile of fewer rows; a dynamic M remainder is a
// loop of one-row tiles. The sum over k keeps its order (k = 0 .. K-1,
// fused multiply-adds) for every element, across K blocks too.
//
// Epilogue fusion: an all-parallel linalg.generic that follows the matmul
// and reads its result C elementwise (with bias rows, residuals or other
// [M, N] / [N] / [M] operands, and arith / math in its body) is applied to
// the accumulators of the last K block in registers, written to its own
// output, and erased: no second pass over the result.
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/CPU/CPUTarget.h"
#include "un/Codegen/CPU/Passes.h"
#include "un/Codegen/PanelMatmul.h"

#include "KernelBuilder.h"
#include "VectorBody.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Interfaces/ViewLikeInterface.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNCPUTILEANDVECTORIZE
#include "un/Codegen/CPU/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

//===----------------------------------------------------------------------===//
// Which matmuls
//===----------------------------------------------------------------------===//

/// An f32 (or, with `allowBF16`, bf16) memref whose dims other than the
/// first (M, or the batch and M) are static; `unitRows` also asks for
/// unit-stride rows.
static bool isTileableBuffer(Value v, unsigned firstStatic, bool unitRows,
                             bool allowBF16 = false) {
  auto type = dyn_cast<MemRefType>(v.getType());
  if (!type || !type.hasRank())
    return false;
  Type element = type.getElementType();
  if (!element.isF32() && !(allowBF16 && element.isBF16()))
    return false;
  for (unsigned d = firstStatic; d < type.getRank(); ++d)
    if (type.isDynamicDim(d) || type.getDimSize(d) == 0)
      return false;
  return !unitRows || type.isLastDimUnitStride();
}

/// Whether the micro-kernel takes a (batch_)matmul with `batchDims`
/// leading batch dims: on buffers, default maps, A [.., M, K] any strides,
/// B [.., K, N] and C [.., M, N] with unit row stride, K and N static and
/// non-zero; C f32, A and B f32 or bf16 (widened to f32 as they are read:
/// B when it is packed, A when it is broadcast).
static bool isTileable(linalg::LinalgOp op, unsigned batchDims) {
  if (!op.hasPureBufferSemantics() || op.hasUserDefinedMaps())
    return false;
  return isTileableBuffer(op.getDpsInputOperand(0)->get(), batchDims + 1, false,
                          /*allowBF16=*/true) &&
         isTileableBuffer(op.getDpsInputOperand(1)->get(), batchDims, true,
                          /*allowBF16=*/true) &&
         isTileableBuffer(op.getDpsInitOperand(0)->get(), batchDims + 1, true);
}

/// Whether the micro-kernel takes a matmul on a weight packed in panels
/// (un/Codegen/PanelMatmul.h): on buffers, the panels contiguous, A and C
/// as for a matmul.
static bool isTileablePanelMatmul(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || !un::isPanelMatmul(op))
    return false;
  auto panels = cast<MemRefType>(op.getDpsInputOperand(1)->get().getType());
  auto c = cast<MemRefType>(op.getDpsInitOperand(0)->get().getType());
  return panels.hasStaticShape() && panels.getLayout().isIdentity() &&
         panels.getNumElements() > 0 &&
         isTileableBuffer(op.getDpsInputOperand(0)->get(), 1, false) &&
         isTileableBuffer(op.getDpsInitOperand(0)->get(), 1, true) &&
         c.getDimSize(1) == panels.getDimSize(0) * un::kPanelWidth;
}

/// Whether writing `out` while `in` is still being read may clobber it.
static bool mayAlias(Value out, Value in) {
  Value a = un::rootBuffer(out), b = un::rootBuffer(in);
  if (a == b)
    return true;
  bool aFresh =
      isa_and_present<memref::AllocOp, memref::AllocaOp>(a.getDefiningOp());
  bool bFresh =
      isa_and_present<memref::AllocOp, memref::AllocaOp>(b.getDefiningOp());
  return !aFresh && !bFresh;
}

//===----------------------------------------------------------------------===//
// Epilogue: an elementwise consumer of the matmul result
//===----------------------------------------------------------------------===//

namespace {

/// An elementwise linalg.generic applied to C's tiles in registers.
struct Epilogue {
  linalg::GenericOp op;
  Value result; ///< C, the matmul result it reads
  /// memref.alloc ops between the matmul and the generic that it needs:
  /// moved above the matmul.
  SmallVector<Operation *> hoisted;
};

/// The operand kinds an epilogue may read: C itself, an [M, N] operand, an
/// [N] operand (a bias row), an [M] operand (one value per row).
enum class EpilogueOperand { Result, Tile, Row, Column };

} // namespace

static FailureOr<EpilogueOperand>
classifyEpilogueOperand(linalg::GenericOp g, OpOperand &operand, Value result) {
  AffineMap map = g.getMatchingIndexingMap(&operand);
  MLIRContext *ctx = g.getContext();
  AffineExpr d0 = getAffineDimExpr(0, ctx), d1 = getAffineDimExpr(1, ctx);
  Value v = operand.get();
  auto type = dyn_cast<MemRefType>(v.getType());
  if (!type || !type.getElementType().isF32() || !type.isLastDimUnitStride())
    return failure();
  if (map == AffineMap::get(2, 0, {d0, d1}, ctx))
    return v == result ? EpilogueOperand::Result : EpilogueOperand::Tile;
  if (v == result)
    return failure();
  if (map == AffineMap::get(2, 0, {d1}, ctx))
    return EpilogueOperand::Row;
  if (map == AffineMap::get(2, 0, {d0}, ctx))
    return EpilogueOperand::Column;
  return failure();
}

/// The elementwise generic to fuse into `matmul`'s last K block, if any.
static std::optional<Epilogue> findEpilogue(linalg::LinalgOp matmul) {
  Value c = matmul.getDpsInitOperand(0)->get();
  Operation *cDef = c.getDefiningOp();
  if (!isa_and_present<memref::AllocOp, memref::AllocaOp>(cDef))
    return std::nullopt;

  // The next op that touches memory must be the generic.
  Epilogue epilogue;
  SmallVector<Operation *> between;
  Operation *next = matmul->getNextNode();
  for (; next; next = next->getNextNode()) {
    if (isa<linalg::GenericOp>(next))
      break;
    if (isa<memref::AllocOp, memref::AllocaOp>(next) ||
        isMemoryEffectFree(next)) {
      between.push_back(next);
      continue;
    }
    if (auto dealloc = dyn_cast<memref::DeallocOp>(next)) {
      if (un::rootBuffer(dealloc.getMemref()) == c)
        return std::nullopt;
      between.push_back(next);
      continue;
    }
    return std::nullopt;
  }
  auto g = dyn_cast_or_null<linalg::GenericOp>(next);
  if (!g || !g.hasPureBufferSemantics() || g.getNumLoops() != 2 ||
      g.getNumParallelLoops() != 2 || g.getNumDpsInits() != 1 ||
      !un::isVectorizableBody(*g.getBlock()))
    return std::nullopt;

  // Operands: C elementwise, others [M, N], [N] or [M]; the output an
  // [M, N] buffer that no input of the matmul may alias.
  bool readsResult = false;
  for (OpOperand *in : g.getDpsInputOperands()) {
    FailureOr<EpilogueOperand> kind = classifyEpilogueOperand(g, *in, c);
    if (failed(kind))
      return std::nullopt;
    readsResult |= *kind == EpilogueOperand::Result;
  }
  // The output is C itself (in place) or another [M, N] buffer.
  OpOperand *out = g.getDpsInitOperand(0);
  FailureOr<EpilogueOperand> outKind = classifyEpilogueOperand(g, *out, c);
  if (failed(outKind) || *outKind == EpilogueOperand::Row ||
      *outKind == EpilogueOperand::Column)
    return std::nullopt;
  // (An in-place generic may read C through its output.)
  readsResult |= *outKind == EpilogueOperand::Result &&
                 !g.getMatchingBlockArgument(out).use_empty();
  if (!readsResult)
    return std::nullopt;
  for (OpOperand *in : matmul.getDpsInputOperands())
    if (mayAlias(out->get(), in->get()))
      return std::nullopt;
  // An operand of the generic that is another view of its output would see
  // some tiles written early (the same buffer, read in place, is fine).
  for (OpOperand *in : g.getDpsInputOperands())
    if (in->get() != out->get() && in->get() != c &&
        un::rootBuffer(in->get()) == un::rootBuffer(out->get()))
      return std::nullopt;
  if (cast<MemRefType>(out->get().getType()).getShape() !=
      cast<MemRefType>(c.getType()).getShape())
    return std::nullopt;

  // Written elsewhere, C keeps only partial sums: nothing else may read it
  // (its fill, the matmul, the generic and its dealloc are its users).
  if (*outKind != EpilogueOperand::Result)
    for (Operation *user : c.getUsers())
      if (user != matmul && user != g && !isa<memref::DeallocOp>(user) &&
          !isa<linalg::FillOp>(user))
        return std::nullopt;

  // Whatever the generic uses must be available at the matmul: values
  // from before it, or allocations in between (moved up).
  DominanceInfo dominance;
  SmallPtrSet<Operation *, 4> betweenSet(between.begin(), between.end());
  auto available = [&](Value v) {
    Operation *def = v.getDefiningOp();
    if (def && betweenSet.contains(def)) {
      if (!isa<memref::AllocOp, memref::AllocaOp>(def) ||
          def->getNumOperands() != 0)
        return false;
      if (!llvm::is_contained(epilogue.hoisted, def))
        epilogue.hoisted.push_back(def);
      return true;
    }
    return dominance.properlyDominates(v, matmul);
  };
  for (Value v : g->getOperands())
    if (!available(v))
      return std::nullopt;
  bool capturedOk = true;
  g.getRegion().walk([&](Operation *op) {
    for (Value v : op->getOperands())
      if (v.getParentRegion() != &g.getRegion() && !available(v))
        capturedOk = false;
  });
  if (!capturedOk)
    return std::nullopt;

  epilogue.op = g;
  epilogue.result = c;
  return epilogue;
}

/// The zero-fill of C right before `matmul` (nothing in between touches
/// memory), if any: the first K block then starts from zeros and the fill
/// goes away.
static linalg::FillOp findZeroFill(linalg::LinalgOp matmul) {
  Value c = matmul.getDpsInitOperand(0)->get();
  for (Operation *prev = matmul->getPrevNode(); prev;
       prev = prev->getPrevNode()) {
    if (auto fill = dyn_cast<linalg::FillOp>(prev)) {
      if (fill.getDpsInitOperand(0)->get() != c)
        return nullptr;
      auto value = fill.getInputs()[0].getDefiningOp<arith::ConstantOp>();
      auto f = value ? dyn_cast<FloatAttr>(value.getValue()) : FloatAttr();
      if (f && f.getValue().isPosZero())
        return fill;
      return nullptr;
    }
    if (!isMemoryEffectFree(prev) &&
        !isa<memref::AllocOp, memref::AllocaOp>(prev))
      return nullptr;
  }
  return nullptr;
}

//===----------------------------------------------------------------------===//
// Code generation
//===----------------------------------------------------------------------===//

namespace {

/// Emits the packed, register-tiled loops of one 2-D matmul.
class MatmulEmitter {
public:
  MatmulEmitter(OpBuilder &b, Location loc, const un::MatmulTiling &tiling,
                bool zeroInit, const Epilogue *epilogue)
      : b(b), loc(loc), t(tiling), zeroInit(zeroInit), epilogue(epilogue),
        f32(b.getF32Type()), vecType(VectorType::get({tiling.lanes}, f32)) {}

  /// C[M, N] += A[M, K] B[K, N], in slabs of panels of NR columns: each
  /// slab's K block is packed at once (rows of B read over several cache
  /// lines, not one: fewer TLB misses on large weights), then its panels
  /// run. With `parallelSlabs` the slabs are an scf.parallel (each
  /// iteration packs into a buffer of its own); otherwise one buffer
  /// serves them all. With `prepacked`, `bm` is B already in panels
  /// ([N / kPanelWidth, K, kPanelWidth]) and nothing is packed.
  void emit(Value a, Value bm, Value c, bool parallelSlabs,
            bool prepacked = false) {
    this->bm = bm;
    this->c = c;
    this->prepacked = prepacked;
    auto bType = cast<MemRefType>(bm.getType());
    int64_t k = bType.getDimSize(prepacked ? 1 : 0),
            n = cast<MemRefType>(c.getType()).getDimSize(1);
    // A bf16 A is widened to f32 once (M x K work), not at every broadcast.
    Value widened =
        isa<Float32Type>(cast<MemRefType>(a.getType()).getElementType())
            ? Value()
            : widenRows(a, k);
    this->a = widened ? widened : a;
    kc = blockK(k, t.tileK);
    int64_t nFull = n / t.tileN, nRest = n % t.tileN;
    int64_t slab = std::clamp<int64_t>(kSlabBytes / (kc * t.tileN * 4), 1,
                                       std::max<int64_t>(nFull, 1));
    // Threads share the slabs out: at least 8 of them where N allows, all
    // of one size (a divisor of the panel count), so none is left over.
    if (parallelSlabs) {
      slab = std::clamp<int64_t>(std::min(slab, nFull / 8), 1, slab);
      while (nFull % slab)
        --slab;
    }
    auto packedType = MemRefType::get({slab, kc, t.tileN}, f32);
    auto allocatePacked = [&]() -> Value {
      if (prepacked)
        return nullptr;
      return memref::AllocaOp::create(b, loc, packedType,
                                      b.getI64IntegerAttr(64));
    };
    const int64_t vectors = t.tileN / t.lanes;
    int64_t slabs = nFull / slab;
    if (!parallelSlabs)
      packed = allocatePacked();
    // All columns, slab by slab, for the rows of `rowBlock`.
    auto emitColumns = [&]() {
      if (slabs > 0) {
        OpBuilder::InsertionGuard guard(b);
        int64_t step = slab * t.tileN;
        Value j = un::beginLoop(b, loc, cst(0), cst(slabs * step), cst(step),
                                parallelSlabs);
        if (parallelSlabs)
          packed = allocatePacked();
        emitSlab(j, k, slab, vectors, t.lanes);
      }
      // The rest: the full panels no whole slab took, and the N remainder.
      int64_t restPanels = nFull % slab + (nRest > 0 ? 1 : 0);
      if (restPanels > 0) {
        if (parallelSlabs)
          packed = allocatePacked();
        int64_t lastVectors = nRest ? (nRest + t.lanes - 1) / t.lanes : vectors;
        int64_t lastWidth =
            nRest ? nRest - (lastVectors - 1) * t.lanes : t.lanes;
        emitSlab(cst(slabs * slab * t.tileN), k, restPanels, lastVectors,
                 lastWidth);
      }
    };
    // With B prepared (nothing packed per slab), a static M whose rows of a
    // K block of A would not stay in L2 beside a slab runs in row blocks,
    // each against every slab in turn.
    auto cType = cast<MemRefType>(c.getType());
    int64_t m = cType.getDimSize(0);
    int64_t blockRows =
        cType.isDynamicDim(0) || !prepacked ? m : rowBlockRows(m);
    rowBlock = {cst(0), m};
    if (blockRows == m) {
      emitColumns();
    } else {
      int64_t fullBlocks = m / blockRows;
      {
        OpBuilder::InsertionGuard guard(b);
        rowBlock = {un::beginLoop(b, loc, cst(0), cst(fullBlocks * blockRows),
                                  cst(blockRows)),
                    blockRows};
        emitColumns();
      }
      if (m % blockRows) {
        rowBlock = {cst(fullBlocks * blockRows), m % blockRows};
        emitColumns();
      }
    }
    if (widened)
      memref::DeallocOp::create(b, loc, widened);
  }

  /// A fresh f32 [M, k] copy of `source` (any float type, M static or
  /// dynamic), converted a vector at a time.
  Value widenRows(Value source, int64_t k) {
    auto type = cast<MemRefType>(source.getType());
    SmallVector<Value> dynamicSizes;
    if (type.isDynamicDim(0))
      dynamicSizes.push_back(memref::DimOp::create(b, loc, source, 0));
    Value copy = memref::AllocOp::create(
        b, loc, MemRefType::get({type.getDimSize(0), k}, f32), dynamicSizes,
        b.getI64IntegerAttr(64));
    Value rows =
        type.isDynamicDim(0) ? dynamicSizes.front() : cst(type.getDimSize(0));
    OpBuilder::InsertionGuard guard(b);
    Value row = un::beginLoop(b, loc, cst(0), rows, cst(1));
    int64_t full = k - k % t.lanes;
    if (full > 0) {
      OpBuilder::InsertionGuard inner(b);
      Value col = un::beginLoop(b, loc, cst(0), cst(full), cst(t.lanes));
      store(load(source, {row, col}, nullptr), copy, {row, col}, nullptr);
    }
    if (full < k) {
      Value m = mask(k - full);
      store(load(source, {row, cst(full)}, m), copy, {row, cst(full)}, m);
    }
    return copy;
  }

  /// Bytes of B packed at once (one slab's K block).
  static constexpr int64_t kSlabBytes = 256 * 1024;
  /// Bytes of A in one row block's K block (at most, about).
  static constexpr int64_t kRowBlockBytes = 256 * 1024;

  /// Rows of a row block for a static M: M in blocks of about equal size,
  /// each a whole number of tiles, of at most about kRowBlockBytes of A per
  /// K block (M itself when it fits). Measured (AVX-512, M = 504, K = 768,
  /// N = 3072, weights from memory): row blocks of 96 to 192 rows took the
  /// micro-kernel from 0.91-0.95x to 0.95-0.99x of MKL's packed GEMM.
  int64_t rowBlockRows(int64_t m) const {
    int64_t bytes = m * kc * 4;
    int64_t blocks = (bytes + kRowBlockBytes - 1) / kRowBlockBytes;
    if (blocks <= 1)
      return m;
    int64_t rows = (m + blocks - 1) / blocks;
    return std::min(m, (rows + t.tileM - 1) / t.tileM * t.tileM);
  }

  /// The K block for `k`: at most `maxBlock`, blocks of equal size.
  static int64_t blockK(int64_t k, int64_t maxBlock) {
    int64_t blocks = (k + maxBlock - 1) / maxBlock;
    return (k + blocks - 1) / blocks;
  }

private:
  Value cst(int64_t v) {
    return arith::ConstantIndexOp::create(b, loc, v).getResult();
  }
  Value add(Value x, int64_t v) {
    if (v == 0)
      return x;
    if (std::optional<int64_t> known = getConstantIntValue(x))
      return cst(*known + v);
    return arith::AddIOp::create(b, loc, x, cst(v));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }

  /// A mask of the first `width` lanes, or null for a full vector.
  Value mask(int64_t width) {
    if (width == t.lanes)
      return nullptr;
    auto type = VectorType::get({t.lanes}, b.getI1Type());
    return vector::ConstantMaskOp::create(b, loc, type,
                                          ArrayRef<int64_t>{width});
  }
  Value zeros() {
    return arith::ConstantOp::create(b, loc, vecType,
                                     DenseElementsAttr::get(vecType, 0.0f));
  }
  /// A vector of `lanes` elements of `base` from `idx` (the first lanes of
  /// `m` only, zeros elsewhere, when given), widened to f32.
  Value load(Value base, ValueRange idx, Value m) {
    Type element = cast<MemRefType>(base.getType()).getElementType();
    auto type = VectorType::get({t.lanes}, element);
    Value v;
    if (!m) {
      v = vector::LoadOp::create(b, loc, type, base, idx);
    } else {
      Value zero = arith::ConstantOp::create(
          b, loc, type, DenseElementsAttr::get(type, b.getZeroAttr(element)));
      v = vector::MaskedLoadOp::create(b, loc, type, base, idx, m, zero);
    }
    return element.isF32() ? v : arith::ExtFOp::create(b, loc, vecType, v);
  }
  void store(Value v, Value base, ValueRange idx, Value m) {
    if (!m)
      vector::StoreOp::create(b, loc, v, base, idx);
    else
      vector::MaskedStoreOp::create(b, loc, base, idx, m, v);
  }

  /// `panels` panels from column `j0` (all full but the last, which has
  /// `lastVectors` vectors, the last one `lastWidth` wide), over all of K in
  /// blocks of `kc`; the last block carries the epilogue.
  void emitSlab(Value j0, int64_t k, int64_t panels, int64_t lastVectors,
                int64_t lastWidth) {
    int64_t blocks = (k + kc - 1) / kc;
    int64_t lastSize = k - (blocks - 1) * kc;
    if (blocks > 1) {
      OpBuilder::InsertionGuard guard(b);
      Value p = un::beginLoop(b, loc, cst(0), cst((blocks - 1) * kc), cst(kc));
      Value first = zeroInit ? arith::CmpIOp::create(
                                   b, loc, arith::CmpIPredicate::eq, p, cst(0))
                                   .getResult()
                             : Value();
      setNextBlock(j0, add(p, kc), panels);
      emitBlock(j0, panels, lastVectors, lastWidth, p, kc, first,
                /*last=*/false);
    }
    setNextBlock(add(j0, panels * t.tileN), cst(0), panels);
    Value first =
        blocks == 1 && zeroInit
            ? arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1).getResult()
            : Value();
    emitBlock(j0, panels, lastVectors, lastWidth, cst((blocks - 1) * kc),
              lastSize, first, /*last=*/true);
  }

  /// With B prepared in panels: the block that runs after the one about to
  /// be emitted starts at column `j` and row `row` of B (the same slab's
  /// next K block, or the next slab's first; past the last, the indices
  /// are clamped). `panels` is the emitted block's panel count.
  void setNextBlock(Value j, Value row, int64_t panels) {
    if (!prepacked)
      return;
    next.panel = arith::DivUIOp::create(b, loc, j, cst(un::kPanelWidth));
    next.row = row;
    next.tilePanels = panels;
  }

  /// Where tile `tile` (row tile by row tile, panel by panel) of the block
  /// being emitted prefetches the next block (setNextBlock) into L2, one
  /// line per iteration of its k loop of `iterations`: a run of rows of one
  /// of the next block's kPanelWidth-column panels, the tiles taking the
  /// panels in turn, then the next run of rows. So the tiles of a block
  /// fetch the next one while they compute, and its first row tile does not
  /// wait on memory (as a GEMM library prefetches its next packed panel).
  /// Returns the panel and the first row, clamped into B.
  std::pair<Value, Value> nextBlockRun(Value tile, int64_t iterations) {
    auto type = cast<MemRefType>(bm.getType());
    int64_t panels = next.tilePanels * (t.tileN / un::kPanelWidth);
    Value panel = arith::MinUIOp::create(
        b, loc,
        add(next.panel, arith::RemUIOp::create(b, loc, tile, cst(panels))),
        cst(type.getDimSize(0) - 1));
    Value run = arith::RemUIOp::create(
        b, loc, arith::DivUIOp::create(b, loc, tile, cst(panels)),
        cst(t.unrollK));
    Value row = arith::MinUIOp::create(
        b, loc,
        add(next.row, arith::MulIOp::create(b, loc, run, cst(iterations))),
        cst(type.getDimSize(1) - iterations));
    return {panel, row};
  }

  /// One K block [p, p + size) of a slab: pack it, then every panel's row
  /// tiles.
  void emitBlock(Value j0, int64_t panels, int64_t lastVectors,
                 int64_t lastWidth, Value p, int64_t size, Value first,
                 bool last) {
    const int64_t vectors = t.tileN / t.lanes;
    // Pack B[p:p+size, j0:...] row by row into packed[panel, k, :].
    if (!prepacked) {
      OpBuilder::InsertionGuard guard(b);
      Value kk = un::beginLoop(b, loc, cst(0), cst(size), cst(1));
      Value row = add(p, kk);
      for (int64_t pi = 0; pi < panels; ++pi) {
        bool lastPanel = pi + 1 == panels;
        int64_t n = lastPanel ? lastVectors : vectors;
        for (int64_t v = 0; v < n; ++v) {
          Value m = lastPanel && v + 1 == n ? mask(lastWidth) : nullptr;
          Value x = load(bm, {row, add(j0, pi * t.tileN + v * t.lanes)}, m);
          store(x, packed, {cst(pi), kk, cst(v * t.lanes)}, nullptr);
        }
      }
    }
    // The full panels, then the last one (full or not) on its own.
    int64_t looped =
        lastVectors == vectors && lastWidth == t.lanes ? panels : panels - 1;
    if (looped > 0)
      emitRowTiles(j0, 0, looped, p, size, vectors, t.lanes, first, last);
    if (looped < panels)
      emitRowTiles(j0, looped, 1, p, size, lastVectors, lastWidth, first, last);
  }

  /// The row tiles of panels [firstPanel, firstPanel + count) of the slab at
  /// column `j0`: for each row tile, every panel (the tile's rows of A stay
  /// in L1 while the packed slab streams from L2).
  void emitRowTiles(Value j0, int64_t firstPanel, int64_t count, Value p,
                    int64_t size, int64_t vectors, int64_t lastWidth,
                    Value first, bool last) {
    auto tileAt = [&](Value i, int64_t rows) {
      if (count == 1) {
        emitTile(i, rows, cst(firstPanel), add(j0, firstPanel * t.tileN), p,
                 size, vectors, lastWidth, first, last);
        return;
      }
      OpBuilder::InsertionGuard guard(b);
      Value panel = un::beginLoop(b, loc, cst(firstPanel),
                                  cst(firstPanel + count), cst(1));
      Value j = add(j0, arith::MulIOp::create(b, loc, panel, cst(t.tileN)));
      emitTile(i, rows, panel, j, p, size, vectors, lastWidth, first, last);
    };
    if (!ShapedType::isDynamic(rowBlock.rows)) {
      // Static M: full tiles, then the rest. A rest under 4 rows has too
      // few independent accumulators to hide the FMA latency: it and the
      // last full tile become two tiles of about half their rows each.
      int64_t m = rowBlock.rows, rows = m % t.tileM;
      int64_t fullTiles = m / t.tileM;
      SmallVector<int64_t> restTiles;
      if (rows > 0 && rows < 4 && fullTiles > 0) {
        --fullTiles;
        restTiles = {(t.tileM + rows + 1) / 2, (t.tileM + rows) / 2};
      } else if (rows > 0) {
        restTiles = {rows};
      }
      if (fullTiles > 0) {
        OpBuilder::InsertionGuard guard(b);
        tileAt(un::beginLoop(b, loc, rowBlock.first,
                             add(rowBlock.first, fullTiles * t.tileM),
                             cst(t.tileM)),
               t.tileM);
      }
      int64_t row = fullTiles * t.tileM;
      for (int64_t r : restTiles) {
        tileAt(add(rowBlock.first, row), r);
        row += r;
      }
      return;
    }
    // Dynamic M: full tiles, then one-row tiles.
    Value m = memref::DimOp::create(b, loc, c, 0);
    Value rest = arith::RemUIOp::create(b, loc, m, cst(t.tileM));
    Value main = arith::SubIOp::create(b, loc, m, rest);
    {
      OpBuilder::InsertionGuard guard(b);
      tileAt(un::beginLoop(b, loc, cst(0), main, cst(t.tileM)), t.tileM);
    }
    OpBuilder::InsertionGuard guard(b);
    tileAt(un::beginLoop(b, loc, main, m, cst(1)), 1);
  }

  /// The register tile C[i:i+rows, j:j+vectors*lanes] over K block
  /// [p, p + size).
  void emitTile(Value i, int64_t rows, Value panel, Value j, Value p,
                int64_t size, int64_t vectors, int64_t lastWidth, Value first,
                bool last) {
    SmallVector<Value> rowIdx, colIdx, masks;
    for (int64_t r = 0; r < rows; ++r)
      rowIdx.push_back(add(i, r));
    for (int64_t v = 0; v < vectors; ++v) {
      colIdx.push_back(add(j, v * t.lanes));
      masks.push_back(v + 1 == vectors ? mask(lastWidth) : nullptr);
    }

    // The accumulators: C, or zeros in the first block after a zero-fill.
    auto loadC = [&]() {
      SmallVector<Value> acc;
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t v = 0; v < vectors; ++v)
          acc.push_back(load(c, {rowIdx[r], colIdx[v]}, masks[v]));
      return acc;
    };
    SmallVector<Value> acc;
    SmallVector<Type> accTypes(rows * vectors, vecType);
    if (!first) {
      acc = loadC();
    } else if (matchPattern(first, m_One())) {
      acc.assign(rows * vectors, zeros());
    } else {
      auto ifOp = scf::IfOp::create(b, loc, accTypes, first, true, true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        Value z = zeros();
        scf::YieldOp::create(b, loc, SmallVector<Value>(rows * vectors, z));
        b.setInsertionPointToStart(ifOp.elseBlock());
        scf::YieldOp::create(b, loc, loadC());
      }
      acc = SmallVector<Value>(ifOp.getResults());
    }

    // Where each vector of the tile's row of B is: packed[panel, k, v*lanes],
    // or in the prepared panels bm[c / kPanelWidth, p + k, c % kPanelWidth]
    // for its first column c.
    SmallVector<Value> bPanel, bOffset;
    for (int64_t v = 0; v < vectors; ++v) {
      if (!prepacked) {
        bPanel.push_back(panel);
        bOffset.push_back(cst(v * t.lanes));
        continue;
      }
      Value width = cst(un::kPanelWidth);
      bPanel.push_back(arith::DivUIOp::create(b, loc, colIdx[v], width));
      bOffset.push_back(arith::RemUIOp::create(b, loc, colIdx[v], width));
    }
    Value bSource = prepacked ? bm : packed;

    // acc += A[i:i+rows, p+k] (x) B[p+k, j:...], unrolled by unrollK.
    auto step = [&](Value k, SmallVector<Value> &acc) {
      Value col = add(p, k);
      SmallVector<Value> bv;
      for (int64_t v = 0; v < vectors; ++v)
        bv.push_back(vector::LoadOp::create(
            b, loc, vecType, bSource,
            ValueRange{bPanel[v], prepacked ? col : k, bOffset[v]}));
      for (int64_t r = 0; r < rows; ++r) {
        Value s = memref::LoadOp::create(b, loc, a, ValueRange{rowIdx[r], col});
        if (!s.getType().isF32())
          s = arith::ExtFOp::create(b, loc, f32, s);
        Value sv = vector::BroadcastOp::create(b, loc, vecType, s);
        for (int64_t v = 0; v < vectors; ++v) {
          Value &x = acc[r * vectors + v];
          if (t.fma) {
            x = vector::FMAOp::create(b, loc, sv, bv[v], x);
          } else {
            Value prod = arith::MulFOp::create(b, loc, sv, bv[v]);
            x = arith::AddFOp::create(b, loc, x, prod);
          }
        }
      }
    };
    int64_t unrolled = size - size % t.unrollK;
    if (unrolled > 0) {
      std::pair<Value, Value> run;
      if (next.panel) {
        Value rowTile = arith::DivUIOp::create(
            b, loc, arith::SubIOp::create(b, loc, i, rowBlock.first),
            cst(t.tileM));
        Value tile =
            add(arith::MulIOp::create(b, loc, rowTile, cst(next.tilePanels)),
                panel);
        run = nextBlockRun(tile, unrolled / t.unrollK);
      }
      auto loop = scf::ForOp::create(b, loc, cst(0), cst(unrolled),
                                     cst(t.unrollK), acc);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      if (next.panel)
        memref::PrefetchOp::create(
            b, loc, bm,
            ValueRange{run.first,
                       add(run.second,
                           arith::DivUIOp::create(
                               b, loc, loop.getInductionVar(), cst(t.unrollK))),
                       cst(0)},
            /*isWrite=*/false, /*localityHint=*/2, /*isDataCache=*/true);
      SmallVector<Value> carried(loop.getRegionIterArgs());
      for (int64_t u = 0; u < t.unrollK; ++u)
        step(add(loop.getInductionVar(), u), carried);
      scf::YieldOp::create(b, loc, carried);
      acc = SmallVector<Value>(loop.getResults());
    }
    for (int64_t kk = unrolled; kk < size; ++kk)
      step(cst(kk), acc);

    // Write back: to C, or through the epilogue on the last block.
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t v = 0; v < vectors; ++v) {
        Value x = acc[r * vectors + v];
        if (last && epilogue)
          emitEpilogue(x, rowIdx[r], colIdx[v], masks[v]);
        else
          store(x, c, {rowIdx[r], colIdx[v]}, masks[v]);
      }
  }

  /// The epilogue's body on the accumulator vector `x` of C[row, col:+lanes].
  void emitEpilogue(Value x, Value row, Value col, Value m) {
    linalg::GenericOp g = epilogue->op;
    Block &body = *g.getBlock();
    IRMapping map;
    for (OpOperand &operand : g->getOpOperands()) {
      BlockArgument arg = body.getArgument(operand.getOperandNumber());
      if (arg.use_empty())
        continue;
      auto kind = classifyEpilogueOperand(g, operand, epilogue->result);
      Value v;
      switch (*kind) {
      case EpilogueOperand::Result:
        v = x;
        break;
      case EpilogueOperand::Tile:
        v = load(operand.get(), {row, col}, m);
        break;
      case EpilogueOperand::Row:
        v = load(operand.get(), {col}, m);
        break;
      case EpilogueOperand::Column:
        v = vector::BroadcastOp::create(
            b, loc, vecType,
            memref::LoadOp::create(b, loc, operand.get(), ValueRange{row}));
        break;
      }
      map.map(arg, v);
    }
    Value y = un::emitVectorBody(b, loc, body, t.lanes, map).front();
    store(y, g.getDpsInitOperand(0)->get(), {row, col}, m);
  }

  OpBuilder &b;
  Location loc;
  const un::MatmulTiling &t;
  bool zeroInit;
  const Epilogue *epilogue;
  Type f32;
  VectorType vecType;
  Value a, bm, c, packed;
  bool prepacked = false;
  int64_t kc = 0;
  /// The rows the tiles being emitted run over: from `first`, `rows` of
  /// them (dynamic: all of a dynamic M).
  struct {
    Value first;
    int64_t rows = 0;
  } rowBlock;
  /// The block after the one being emitted (setNextBlock).
  struct {
    Value panel, row;
    int64_t tilePanels = 0;
  } next;
};

} // namespace

/// A rank-reduced [M, K]-style view of `source[batch]`.
static Value batchSlice(OpBuilder &b, Location loc, Value source, Value batch) {
  auto type = cast<MemRefType>(source.getType());
  SmallVector<OpFoldResult> offsets = {batch, b.getIndexAttr(0),
                                       b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1)};
  for (int64_t d = 1; d < 3; ++d)
    sizes.push_back(
        type.isDynamicDim(d)
            ? OpFoldResult(memref::DimOp::create(b, loc, source, d).getResult())
            : OpFoldResult(b.getIndexAttr(type.getDimSize(d))));
  SmallVector<OpFoldResult> strides(3, b.getIndexAttr(1));
  SmallVector<int64_t> reducedShape = {type.getDimSize(1), type.getDimSize(2)};
  MemRefType reduced = memref::SubViewOp::inferRankReducedResultType(
      reducedShape, type, offsets, sizes, strides);
  return memref::SubViewOp::create(b, loc, reduced, source, offsets, sizes,
                                   strides);
}

/// A 2-D matmul: linalg.matmul, or the panel matmul (`prepacked`).
static void rewriteMatmul(linalg::LinalgOp op, const un::MatmulTiling &t,
                          bool parallel, bool prepacked) {
  IRRewriter rewriter(op);
  std::optional<Epilogue> epilogue = findEpilogue(op);
  linalg::FillOp fill = findZeroFill(op);
  if (epilogue)
    for (Operation *alloc : epilogue->hoisted)
      alloc->moveBefore(op);
  rewriter.setInsertionPoint(op);
  Location loc = op.getLoc();
  un::beginKernelRegion(rewriter, loc, "matmul");
  Value a = op.getDpsInputs()[0], bm = op.getDpsInputs()[1],
        c = op.getDpsInits()[0];
  MatmulEmitter(rewriter, loc, t, /*zeroInit=*/fill != nullptr,
                epilogue ? &*epilogue : nullptr)
      .emit(a, bm, c, parallel, prepacked);
  if (epilogue)
    rewriter.eraseOp(epilogue->op);
  if (fill)
    rewriter.eraseOp(fill);
  rewriter.eraseOp(op);
}

/// A loop over the batch (an scf.parallel with `parallel`) of 2-D matmuls.
static void rewriteBatchMatmul(linalg::BatchMatmulOp op,
                               const un::MatmulTiling &t, bool parallel) {
  IRRewriter rewriter(op);
  linalg::FillOp fill = findZeroFill(op);
  Location loc = op.getLoc();
  un::beginKernelRegion(rewriter, loc, "batch_matmul");
  Value a = op.getInputs()[0], bm = op.getInputs()[1], c = op.getOutputs()[0];
  auto cst = [&](int64_t v) {
    return arith::ConstantIndexOp::create(rewriter, loc, v).getResult();
  };
  auto cType = cast<MemRefType>(c.getType());
  Value batch = cType.isDynamicDim(0)
                    ? memref::DimOp::create(rewriter, loc, c, 0).getResult()
                    : cst(cType.getDimSize(0));
  Value iv = un::beginLoop(rewriter, loc, cst(0), batch, cst(1), parallel);
  MatmulEmitter(rewriter, loc, t, /*zeroInit=*/fill != nullptr, nullptr)
      .emit(batchSlice(rewriter, loc, a, iv), batchSlice(rewriter, loc, bm, iv),
            batchSlice(rewriter, loc, c, iv), /*parallelSlabs=*/false);
  if (fill)
    rewriter.eraseOp(fill);
  rewriter.eraseOp(op);
}

namespace {

/// A contraction generic on buffers that is a plain matmul or batch_matmul
/// -> the named op (which the pass then tiles).
struct SpecializeMatmulGeneric : OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureBufferSemantics())
      return rewriter.notifyMatchFailure(op, "not on buffers");
    if (!linalg::isaContractionOpInterface(op))
      return rewriter.notifyMatchFailure(op, "not a contraction");
    for (Value v : op->getOperands())
      if (!isTileableBuffer(v, 0, false))
        return rewriter.notifyMatchFailure(op, "not a static f32 memref");
    // Other contractions become other named ops (or stay generics); the
    // ones that are not plain matmuls go to convert-linalg-to-loops.
    FailureOr<linalg::LinalgOp> named =
        linalg::specializeGenericOp(rewriter, op);
    if (failed(named))
      return rewriter.notifyMatchFailure(op, "no named form");
    return success();
  }
};

struct UNCPUTileAndVectorizePass
    : un::impl::UNCPUTileAndVectorizeBase<UNCPUTileAndVectorizePass> {
  using Base::Base;

  void runOnOperation() override {
    MLIRContext *ctx = &getContext();
    std::string error;
    FailureOr<un::CPUTarget> target = un::lookupCPUTarget(cpu, features, error);
    if (failed(target)) {
      emitError(getOperation()->getLoc(), "un-cpu-tile-and-vectorize: ")
          << error;
      return signalPassFailure();
    }
    un::MatmulTiling tiling = un::chooseMatmulTiling(*target);
    if (tileM < 0 || tileN < 0 || tileK < 0 ||
        (tileN > 0 && tileN % tiling.lanes != 0)) {
      emitError(getOperation()->getLoc(),
                "un-cpu-tile-and-vectorize: tile-m, tile-n "
                "and tile-k must be positive (0: from the "
                "target), tile-n a multiple of ")
          << tiling.lanes << " f32 lanes";
      return signalPassFailure();
    }
    if (tileM)
      tiling.tileM = tileM;
    if (tileN)
      tiling.tileN = tileN;
    if (tileK)
      tiling.tileK = tileK;

    if (specializeGenerics) {
      RewritePatternSet patterns(ctx);
      patterns.add<SpecializeMatmulGeneric>(ctx);
      GreedyRewriteConfig config;
      config.setRegionSimplificationLevel(GreedySimplifyRegionLevel::Disabled);
      if (failed(applyPatternsGreedily(getOperation(), std::move(patterns),
                                       config)))
        return signalPassFailure();
    }

    SmallVector<linalg::LinalgOp> matmuls;
    getOperation()->walk([&](linalg::LinalgOp op) {
      auto matmul = dyn_cast<linalg::MatmulOp>(op.getOperation());
      auto generic = dyn_cast<linalg::GenericOp>(op.getOperation());
      if ((matmul && isTileable(op, 0) &&
           matmul.getCast() == linalg::TypeFn::cast_signed) ||
          (isa<linalg::BatchMatmulOp>(op) && isTileable(op, 1)) ||
          (generic && un::kPanelWidth % tiling.lanes == 0 &&
           isTileablePanelMatmul(generic)))
        matmuls.push_back(op);
    });
    for (linalg::LinalgOp op : matmuls) {
      // The tiles' vectors must not be split (most AVX-512 CPUs prefer 256
      // bits): that would double the accumulators and spill.
      un::requireVectorWidth(op, tiling.lanes * 32);
      if (isa<linalg::MatmulOp>(op.getOperation()))
        rewriteMatmul(op, tiling, parallel, /*prepacked=*/false);
      else if (isa<linalg::GenericOp>(op.getOperation()))
        rewriteMatmul(op, tiling, parallel, /*prepacked=*/true);
      else
        rewriteBatchMatmul(cast<linalg::BatchMatmulOp>(op.getOperation()),
                           tiling, parallel);
    }
  }
};

} // namespace
