//===- KernelBuilder.h - What the CPU code generators share -----*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The CPU code generators emit the loops of each linalg op they rewrite
// inside an `scf.execute_region` marked `un.kernel = "<kind>"`: one unit
// that un-cpu-outline-kernels turns into a function shared by every
// identical kernel (and that is inlined like any execute_region without it).
// Also here: their loops, the vector width their functions need, and the
// buffer a view is a view of.
//
//===----------------------------------------------------------------------===//

#ifndef UN_LIB_CODEGEN_CPU_KERNELBUILDER_H
#define UN_LIB_CODEGEN_CPU_KERNELBUILDER_H

#include "mlir/IR/Builders.h"

namespace mlir {
namespace un {

/// The attribute that marks a kernel region and names its kind.
inline constexpr llvm::StringLiteral kKernelAttrName = "un.kernel";

/// Creates a kernel region of `kind` at `b`'s insertion point and moves the
/// insertion point into it (before its terminator).
void beginKernelRegion(OpBuilder &b, Location loc, StringRef kind);

/// Creates a loop over [lb, ub) by `step` (an scf.parallel with `parallel`,
/// else an scf.for without results) at `b`'s insertion point, moves the
/// insertion point into its body and returns its induction variable.
Value beginLoop(OpBuilder &b, Location loc, Value lb, Value ub, Value step,
                bool parallel = false);

/// Tells LLVM not to split vectors of `bits` in the function around `op`
/// (most AVX-512 CPUs prefer 256-bit vectors): nothing for 256 bits or less.
void requireVectorWidth(Operation *op, int64_t bits);

/// The buffer `v` is a view of (through view-like ops), or `v` itself.
Value rootBuffer(Value v);

} // namespace un
} // namespace mlir

#endif // UN_LIB_CODEGEN_CPU_KERNELBUILDER_H
