//===- PanelMatmul.h - Matmuls that read a weight packed in panels -*- C++
//-*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// A weight B [K, N] read by a matmul can be stored once, ahead of time, in
// panels of kPanelWidth columns: Bp [N / kPanelWidth, K, kPanelWidth], with
// Bp[q, k, r] = B[k, q * kPanelWidth + r]. Each panel is contiguous, so a
// register tile streams it without the per-call copy (packing) that a plain
// row-major B needs. kPanelWidth is one 64-byte cache line of f32 and a
// multiple of every micro-kernel's vector (SSE/NEON 4, AVX2 8, AVX-512 16
// lanes): the layout does not depend on the target.
//
// The matmul on such a weight is a linalg.generic with the maps
//   A (m, n, k) -> (m, k)
//   Bp (m, n, k) -> (n floordiv 16, k, n mod 16)
//   C (m, n, k) -> (m, n)
// and the body acc + a * b: any backend can run it as loops; the CPU
// micro-kernel (un-cpu-tile-and-vectorize) runs it like a matmul that
// skips packing.
//
//===----------------------------------------------------------------------===//

#ifndef UN_CODEGEN_PANELMATMUL_H
#define UN_CODEGEN_PANELMATMUL_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Builders.h"

namespace mlir {
namespace un {

/// Columns of one panel of a packed weight.
constexpr int64_t kPanelWidth = 16;

/// The type of `b` ([K, N], N a multiple of kPanelWidth) packed in panels.
RankedTensorType getPanelType(RankedTensorType b);

/// The packed panels of the [K, N] tensor `b`: an expand_shape and a
/// linalg.transpose.
Value buildPanels(OpBuilder &builder, Location loc, Value b);

/// init + a x B on the panels `panels` of B, as the generic above; `a`
/// [M, K], `init` [M, N], tensors.
Value buildPanelMatmul(OpBuilder &builder, Location loc, Value a, Value panels,
                       Value init);

/// Whether `op` is such a matmul (tensors or buffers, f32, any M).
bool isPanelMatmul(linalg::GenericOp op);

} // namespace un
} // namespace mlir

#endif // UN_CODEGEN_PANELMATMUL_H
