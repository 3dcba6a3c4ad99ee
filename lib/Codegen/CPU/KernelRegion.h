//===- KernelRegion.h - The code of one kernel, before outlining -*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The CPU code generators emit the loops of each linalg op they rewrite
// inside an `scf.execute_region` marked `un.kernel = "<kind>"`: one unit
// that un-cpu-outline-kernels turns into a function shared by every
// identical kernel (and that is inlined like any execute_region without it).
//
//===----------------------------------------------------------------------===//

#ifndef UN_LIB_CODEGEN_CPU_KERNELREGION_H
#define UN_LIB_CODEGEN_CPU_KERNELREGION_H

#include "mlir/IR/Builders.h"

namespace mlir {
namespace un {

/// The attribute that marks a kernel region and names its kind.
inline constexpr llvm::StringLiteral kKernelAttrName = "un.kernel";

/// Creates a kernel region of `kind` at `b`'s insertion point and moves the
/// insertion point into it (before its terminator).
void beginKernelRegion(OpBuilder &b, Location loc, StringRef kind);

} // namespace un
} // namespace mlir

#endif // UN_LIB_CODEGEN_CPU_KERNELREGION_H
