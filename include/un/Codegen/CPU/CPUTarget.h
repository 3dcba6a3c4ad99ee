//===- CPUTarget.h - What the CPU code generator reads of a target -*- C++
//-*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The CPU passes choose their tile shapes from the target they compile for:
// the host (what LLVM detects on this machine) or a CPU named the way
// `llc -mcpu=` names it, with optional `-mattr=`-style feature changes.
//
//===----------------------------------------------------------------------===//

#ifndef UN_CODEGEN_CPU_CPUTARGET_H
#define UN_CODEGEN_CPU_CPUTARGET_H

#include "mlir/Support/LLVM.h"
#include "llvm/ADT/StringRef.h"

#include <string>

namespace mlir {
namespace un {

/// The vector unit of a CPU, as the matmul micro-kernel needs it.
struct CPUTarget {
  /// The resolved CPU name (`znver3`, `skylake-avx512`, ...).
  std::string cpu;
  /// Width of the widest vector register the code may use, in bits.
  unsigned vectorBits = 128;
  /// Number of architectural vector registers of that width.
  unsigned vectorRegisters = 16;
  /// Whether the target has fused multiply-add instructions.
  bool hasFMA = false;

  /// f32 lanes of one vector register.
  unsigned f32Lanes() const { return vectorBits / 32; }
};

/// Describes `cpu` (`host` or empty: this machine, with the features LLVM
/// detects on it; otherwise an LLVM CPU name) with `features` applied on
/// top (`+avx2,-avx512f`). Fails with a message in `error` when the CPU or
/// a feature is unknown to LLVM.
FailureOr<CPUTarget> lookupCPUTarget(llvm::StringRef cpu,
                                     llvm::StringRef features,
                                     std::string &error);

/// The register-tile shape of the f32 matmul micro-kernel for `target`.
struct MatmulTiling {
  int64_t lanes;   ///< f32 lanes of one vector
  int64_t tileM;   ///< rows of the register tile
  int64_t tileN;   ///< columns of the register tile (a multiple of `lanes`)
  int64_t tileK;   ///< largest K block (a 64 KiB packed B panel)
  int64_t unrollK; ///< k steps per iteration of the innermost loop
  bool fma;        ///< multiply-add as one fused instruction
};

/// Chooses the micro-kernel: two vectors across N, as many rows as the
/// register file holds without spilling (the accumulators, the two B
/// vectors and one broadcast of A), and a K block whose packed B panel
/// is 64 KiB: it streams from L2, and C is loaded and stored once per K
/// block (bench/cpu/bench_matmul.py measured 16, 32 and 64 KiB).
MatmulTiling chooseMatmulTiling(const CPUTarget &target);

} // namespace un
} // namespace mlir

#endif // UN_CODEGEN_CPU_CPUTARGET_H
