//===- ChannelTiling.h - Channels-last activations over a grid --*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// How the un ops' kernels split a channels-last [T, C] activation over a
// grid: vectors of 16 bytes along C (coalesced), rows split over a 2-D grid
// that fills the device, several rows of loads in flight per thread.
//
//===----------------------------------------------------------------------===//

#ifndef UN_LIB_CONVERSION_UNTOGPU_CHANNELTILING_H
#define UN_LIB_CONVERSION_UNTOGPU_CHANNELTILING_H

#include "un/Codegen/GPU/KernelBuilder.h"

namespace mlir {
namespace un {
namespace gpukernels {

/// Threads per block of the activation-sized kernels.
constexpr int64_t kBlockThreads = 256;
/// Threads of the single-block [window, C] statistics kernel.
constexpr int64_t kStatsThreads = 512;
/// Rows each thread handles per loop iteration (loads in flight).
constexpr int64_t kRowUnroll = 4;
/// Most channel vectors a block covers along C: 8 x 16 bytes = one 128-byte
/// line per row, so a warp covers 4 rows and reduces them with shuffles.
constexpr int64_t kMaxBlockColumns = 8;

/// How a [T, C] activation is split over a kernel: each thread owns one
/// vector of `vectorWidth` channels (16 bytes where C allows) and a strided
/// set of rows; a block covers `blockColumns` vectors x `blockRows` rows
/// per step, the grid `gridX` x `gridY` blocks.
struct ChannelTiling {
  int64_t vectorWidth = 1;
  int64_t blockColumns = 1;
  int64_t blockRows = 1;
  Type elementType;
  Value tokens;         ///< T (index)
  Value channels;       ///< C (index)
  Value channelVectors; ///< C / vectorWidth
  Value gridX, gridY;
};

/// Chooses the tiling of the [tokens, channels] activation buffer
/// `activation` for a grid of about `targetBlocks` blocks of kBlockThreads
/// threads.
ChannelTiling computeTiling(IndexMath &m, Value activation,
                            int64_t targetBlocks);

/// A thread's place in a channel-tiled kernel.
struct TileCoords {
  Value vectorIndex; ///< this thread's channel vector, clamped into range
  Value valid;       ///< the unclamped vector index is in range
  Value column;      ///< first channel of the vector
  Value localColumn; ///< the vector's index within the block (0..BX-1)
  Value rowStart, rowStride;
};
TileCoords getTileCoords(IndexMath &m, Kernel &kernel,
                         const ChannelTiling &tiling);

/// Body of a row loop: given kRowUnroll row indices (clamped into range, so
/// loads are always in bounds), whether each is a real row, and the loop
/// carried values, returns the next carried values.
using RowChunkBody = std::function<SmallVector<Value>(
    OpBuilder &, Location, ArrayRef<Value> rows, ArrayRef<Value> inRange,
    ValueRange carried)>;

/// Loops over this thread's rows, kRowUnroll at a time (no rows for
/// threads whose channel vector is out of range).
SmallVector<Value> forEachRowChunk(IndexMath &m, const TileCoords &coords,
                                   const ChannelTiling &tiling, ValueRange init,
                                   const RowChunkBody &body);

} // namespace gpukernels
} // namespace un
} // namespace mlir

#endif // UN_LIB_CONVERSION_UNTOGPU_CHANNELTILING_H
