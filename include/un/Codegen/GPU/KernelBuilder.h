//===- KernelBuilder.h - Building blocks of GPU kernels ---------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Helpers that the hand-built GPU kernels (the un ops' kernels of
// convert-un-to-gpu, the SGEMM of un-gpu-matmul) are written with: kernel
// naming, index arithmetic, gpu.launch creation, warp and block reductions
// (xor shuffles and workgroup memory), vector loads and stores, loops.
//
//===----------------------------------------------------------------------===//

#ifndef UN_CODEGEN_GPU_KERNELBUILDER_H
#define UN_CODEGEN_GPU_KERNELBUILDER_H

#include "un/Utils/FloatCasts.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/Builders.h"
#include "llvm/ADT/StringSet.h"

#include <functional>
#include <optional>

namespace mlir {
namespace un {
namespace gpukernels {

/// Threads of a warp (NVIDIA).
constexpr int64_t kWarpSize = 32;

/// Names of the kernels of one function: `<prefix>_<what>[_<n>]`, unique,
/// all outlined into the gpu.module `moduleName`.
struct KernelNames {
  std::string moduleName = "un_kernels";
  std::string prefix;
  /// Names taken so far.
  llvm::StringSet<> names;

  /// A unique kernel name `<prefix>_<what>[_<n>]`.
  std::string name(StringRef what);
};

/// Index arithmetic that folds when its operands are constants.
class IndexMath {
public:
  IndexMath(OpBuilder &b, Location loc) : b(b), loc(loc) {}
  Value c(int64_t value);
  Value add(Value x, Value y);
  Value sub(Value x, Value y);
  Value mul(Value x, Value y);
  Value div(Value x, Value y);
  Value rem(Value x, Value y);
  Value ceilDiv(Value x, Value y);
  Value min(Value x, Value y);
  Value max(Value x, Value y);
  Value lt(Value x, Value y);
  Value eq(Value x, Value y);
  Value select(Value cond, Value x, Value y);
  /// An index as f32 (exact below 2^24).
  Value toF32(Value x);

  OpBuilder &b;
  Location loc;
};

/// An f32 constant.
Value f32Const(OpBuilder &b, Location loc, float value);
/// A vector<n x f32> splat constant.
Value f32Splat(OpBuilder &b, Location loc, int64_t n, float value);
/// IEEE square root: libdevice's __nv_fsqrt_rn (`sqrt.rn.f32`), not
/// math.sqrt, whose __nv_sqrtf is approximate unless the module asks for
/// precise square roots through NVVM reflection.
Value preciseSqrt(OpBuilder &b, Location loc, Value v);

/// A gpu.launch with a 1-D block and a 2-D grid, being built.
struct Kernel {
  gpu::LaunchOp op;
  Value threadId; ///< thread id x
  Value blockIdX, blockIdY, blockIdZ;
  Value gridDimY;
  int64_t threads = 0;
  /// Workgroup (shared) memory buffers, memref<N x f32, workgroup>.
  SmallVector<Value> workgroup;
};

/// Creates a gpu.launch of `gridX` x `gridY` blocks of `threads` threads
/// at `b`'s insertion point, named `name` in gpu.module `moduleName` when
/// outlined, with one f32 workgroup buffer per entry of `workgroupSizes`,
/// and sets `b`'s insertion point inside its body, before its terminator.
/// `gridZ` (default 1) adds a third grid dimension.
Kernel createKernel(OpBuilder &b, Location loc, StringRef moduleName,
                    StringRef name, Value gridX, Value gridY, int64_t threads,
                    ArrayRef<int64_t> workgroupSizes = {},
                    Value gridZ = Value());

/// Sums `v` (f32) over the lanes of a warp whose ids differ only in the
/// bits from `firstOffset` (a power of two) to 16, with xor shuffles.
Value warpSum(OpBuilder &b, Location loc, Value v, int64_t firstOffset = 1);

/// Sums each of `values` (f32) over the whole block; every thread gets the
/// totals. `scratch` is a workgroup buffer of at least
/// (threads / 32) * values.size() f32. Contains barriers: every thread of
/// the block must call it.
SmallVector<Value> blockSum(OpBuilder &b, Location loc, Kernel &kernel,
                            ValueRange values, Value scratch);

/// Loads/stores the vector of `width` elements at [row, column] of a 2-D
/// memref with the alignment its size gives (16 bytes: one 128-bit access).
Value loadVector(OpBuilder &b, Location loc, Value memref,
                 ArrayRef<Value> indices, int64_t width);
void storeVector(OpBuilder &b, Location loc, Value vector, Value memref,
                 ArrayRef<Value> indices);

/// Loops `for (i = start; i < end; i += step)` without carried values.
void forLoop(OpBuilder &b, Location loc, Value start, Value end, Value step,
             function_ref<void(OpBuilder &, Location, Value)> body);

/// Loops with carried values.
SmallVector<Value> forLoop(
    OpBuilder &b, Location loc, Value start, Value end, Value step,
    ValueRange init,
    function_ref<SmallVector<Value>(OpBuilder &, Location, Value, ValueRange)>
        body);

/// `if (cond) { body }` without results.
void ifThen(OpBuilder &b, Location loc, Value cond,
            function_ref<void(OpBuilder &, Location)> body);

} // namespace gpukernels
} // namespace un
} // namespace mlir

#endif // UN_CODEGEN_GPU_KERNELBUILDER_H
