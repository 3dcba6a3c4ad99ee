//===- ChannelTiling.cpp - Channels-last activations over a grid -*- C++ -*-=//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "ChannelTiling.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace mlir::un;
using namespace mlir::un::gpukernels;

ChannelTiling gpukernels::computeTiling(IndexMath &m, Value activation,
                                        int64_t targetBlocks) {
  Type elementType = cast<MemRefType>(activation.getType()).getElementType();
  Value tokens = m.b.createOrFold<memref::DimOp>(m.loc, activation, 0);
  Value channels = m.b.createOrFold<memref::DimOp>(m.loc, activation, 1);
  ChannelTiling tiling;
  tiling.elementType = elementType;
  tiling.tokens = tokens;
  tiling.channels = channels;
  int64_t elementBytes = elementType.getIntOrFloatBitWidth() / 8;
  int64_t widest = 16 / elementBytes;
  std::optional<int64_t> staticC = getConstantIntValue(channels);
  tiling.vectorWidth = 1;
  if (staticC)
    for (int64_t width = widest; width > 1; width /= 2)
      if (*staticC % width == 0) {
        tiling.vectorWidth = width;
        break;
      }
  tiling.channelVectors = m.div(channels, m.c(tiling.vectorWidth));
  tiling.blockColumns = kMaxBlockColumns;
  if (staticC)
    tiling.blockColumns = std::min<int64_t>(
        kMaxBlockColumns, llvm::PowerOf2Ceil(std::max<int64_t>(
                              1, *staticC / tiling.vectorWidth)));
  tiling.blockRows = kBlockThreads / tiling.blockColumns;
  tiling.gridX = m.ceilDiv(tiling.channelVectors, m.c(tiling.blockColumns));
  Value rowSteps = m.ceilDiv(tokens, m.c(tiling.blockRows * kRowUnroll));
  Value perColumn = m.max(m.c(1), m.div(m.c(targetBlocks), tiling.gridX));
  tiling.gridY = m.max(m.c(1), m.min(rowSteps, perColumn));
  return tiling;
}

TileCoords gpukernels::getTileCoords(IndexMath &m, Kernel &kernel,
                                     const ChannelTiling &tiling) {
  TileCoords coords;
  Value blockColumns = m.c(tiling.blockColumns);
  Value blockRows = m.c(tiling.blockRows);
  coords.localColumn = m.rem(kernel.threadId, blockColumns);
  Value localRow = m.div(kernel.threadId, blockColumns);
  Value vectorIndex =
      m.add(m.mul(kernel.blockIdX, blockColumns), coords.localColumn);
  coords.valid = m.lt(vectorIndex, tiling.channelVectors);
  coords.vectorIndex = m.select(coords.valid, vectorIndex, m.c(0));
  coords.column = m.mul(coords.vectorIndex, m.c(tiling.vectorWidth));
  coords.rowStart = m.add(m.mul(kernel.blockIdY, blockRows), localRow);
  coords.rowStride = m.mul(kernel.gridDimY, blockRows);
  return coords;
}

SmallVector<Value> gpukernels::forEachRowChunk(IndexMath &m,
                                               const TileCoords &coords,
                                               const ChannelTiling &tiling,
                                               ValueRange init,
                                               const RowChunkBody &body) {
  Value end = m.select(coords.valid, tiling.tokens, m.c(0));
  Value step = m.mul(coords.rowStride, m.c(kRowUnroll));
  Value tokens = tiling.tokens;
  Value stride = coords.rowStride;
  return forLoop(
      m.b, m.loc, coords.rowStart, end, step, init,
      [&](OpBuilder &b, Location loc, Value first,
          ValueRange carried) -> SmallVector<Value> {
        IndexMath nm(b, loc);
        SmallVector<Value> rows, inRange;
        for (int64_t u = 0; u < kRowUnroll; ++u) {
          Value row = u == 0 ? first : nm.add(first, nm.mul(stride, nm.c(u)));
          Value ok = u == 0 ? arith::ConstantIntOp::create(b, loc, 1, 1)
                            : nm.lt(row, tokens);
          rows.push_back(u == 0 ? row : nm.select(ok, row, first));
          inRange.push_back(ok);
        }
        return body(b, loc, rows, inRange, carried);
      });
}
