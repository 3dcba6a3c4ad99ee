//===- Kernels.h - The GPU kernels of the un primitive ops ------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Emitters of the gpu.launch kernels that implement the un primitive ops on
// buffers. Each takes memrefs (activations as 2-D [T, C] views, per-channel
// vectors as [C], windows as [M, C]) and writes its output buffers; the
// convert-un-to-gpu driver maps tensors to these buffers.
//
// The kernels of one training step:
//
//   forward:  column sums of x^2 (partial sums per block row)
//             -> statistics kernel (one block: sums the partials, spread s2,
//                outlier test, smoothing, r, running_var, window)
//             -> normalize (elementwise: z, y)
//   backward: column sums of (g*z, gy*r*z, gy)
//             -> gradient statistics kernel (per channel: sums the
//                partials, ggamma, gbeta, window, mu, ema_gz, coef)
//             -> input gradient (elementwise: gx)
//
//===----------------------------------------------------------------------===//

#ifndef UN_LIB_CONVERSION_UNTOGPU_KERNELS_H
#define UN_LIB_CONVERSION_UNTOGPU_KERNELS_H

#include "un/Codegen/GPU/KernelBuilder.h"

namespace mlir {
namespace un {
namespace gpukernels {

/// Module-wide settings and kernel naming.
struct KernelContext : KernelNames {
  /// Streaming multiprocessors of the target (sizes the grids).
  int64_t smCount = 132;
  /// normalize / input_grad divide every element (exact) instead of
  /// multiplying by the channel's reciprocal.
  bool exactDivision = false;
};

/// A scalar operand as a kernel sees it: a host value passed by value, or
/// an element of a device-accessible memref loaded in the kernel (then
/// `casts` are re-applied to the loaded value, in order).
struct ScalarRef {
  Value host;
  Value memref;
  SmallVector<Value> indices;
  SmallVector<Operation *> casts;

  /// The value inside a kernel, converted to the integer type `type`.
  Value get(OpBuilder &b, Location loc, Type type) const;
};

/// A memref element that a kernel stores a scalar result into (a host
/// `memref.store` folded into the kernel), extended as `extension` says.
struct ScalarStore {
  Value memref;
  SmallVector<Value> indices;
  enum class Extension { None, Unsigned, Signed } extension = Extension::None;
};

/// Per-block partial column sums: `numSums` rows of C values per block row,
/// in a flat f32 buffer [rows][numSums][C].
struct PartialSums {
  Value buffer;
  Value rows;
  Value channels;
  int64_t numSums = 0;
};

/// Inside a kernel: the total over the block rows of partial sum `k` for
/// `channel`.
Value sumPartials(OpBuilder &b, Location loc, const PartialSums &partials,
                  int64_t k, Value channel);

/// Column sums of x^2 over the unpadded rows of x [T, C] (mask: [T] i1 or
/// null).
PartialSums emitSquareSums(OpBuilder &b, Location loc, KernelContext &ctx,
                           Value x, Value mask);

/// Column sums of (gy * gamma * r) * z, (gy * r) * z and gy.
PartialSums emitGradSums(OpBuilder &b, Location loc, KernelContext &ctx,
                         Value gy, Value z, Value r, Value gamma);

/// psi = (sum of partials) / T' into `psi` [C] (T' counted from `mask` when
/// given, else `tokens`). With `sumsAndCount`, `psi` is [C + 1] and gets
/// the sums and T' (statistics across processes: emitDivideByCount divides
/// once they are summed over the processes).
void emitQuadraticMeanFinalize(OpBuilder &b, Location loc, KernelContext &ctx,
                               const PartialSums &partials, Value mask,
                               Value tokens, Value psi, bool sumsAndCount);

/// gz = sum / T, ggamma, gbeta from the grad partial sums. With
/// `sumsAndCount`, `gz` is [C + 1] and gets the sums and T.
void emitGradStatsFinalize(OpBuilder &b, Location loc, KernelContext &ctx,
                           const PartialSums &partials, Value tokens, Value gz,
                           Value ggamma, Value gbeta, bool sumsAndCount);

/// out[c] = totals[c] / totals[C] for c < C (`totals`: [C + 1] sums and
/// count).
void emitDivideByCount(OpBuilder &b, Location loc, KernelContext &ctx,
                       Value totals, Value out);

/// Operands and results of the forward statistics kernel.
struct ForwardStatsArgs {
  // psi: either a [C] buffer, or partial sums with the mask/token count.
  Value psi;
  const PartialSums *partials = nullptr;
  Value mask, tokens;
  Value runningVar, window;
  ScalarRef t, skips;
  // Results.
  Value var, r, runningVarNew, windowNew;
  Value scalars; ///< memref<2xi64>: skip (0/1), skips_new
  SmallVector<ScalarStore> skipStores, skipsStores;
  // Hyper-parameters.
  float eps, momentum, rMax;
  int64_t warmupIters, rWarmup;
  bool outlierFiltration;
};
void emitForwardStats(OpBuilder &b, Location loc, KernelContext &ctx,
                      const ForwardStatsArgs &args);

/// Operands and results of the gradient statistics kernel.
struct GradStatsArgs {
  // gz: either a [C] buffer, or grad partial sums with the token count (then
  // ggamma/gbeta, where non-null, are written too).
  Value gz;
  const PartialSums *partials = nullptr;
  Value tokens, ggamma, gbeta;
  ScalarRef skip, t;
  Value ema, window;
  Value coef, emaNew, windowNew;
  float momentum;
  int64_t warmupIters;
};
void emitGradStats(OpBuilder &b, Location loc, KernelContext &ctx,
                   const GradStatsArgs &args);

/// z = x / sqrt(var + eps), y = gamma * z + beta (z or y may be null).
void emitNormalize(OpBuilder &b, Location loc, KernelContext &ctx, Value x,
                   Value var, Value gamma, Value beta, float eps, Value z,
                   Value y);

/// gx = (gy * gamma * r - coef * z) / sqrt(var + eps).
void emitInputGrad(OpBuilder &b, Location loc, KernelContext &ctx, Value gy,
                   Value z, Value var, Value r, Value gamma, Value coef,
                   float eps, Value gx);

/// y = scale * x + shift.
void emitAffine(OpBuilder &b, Location loc, KernelContext &ctx, Value x,
                Value scale, Value shift, Value y);

} // namespace gpukernels
} // namespace un
} // namespace mlir

#endif // UN_LIB_CONVERSION_UNTOGPU_KERNELS_H
