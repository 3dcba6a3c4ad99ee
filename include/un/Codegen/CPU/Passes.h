//===- Passes.h - CPU code generation passes --------------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_CODEGEN_CPU_PASSES_H
#define UN_CODEGEN_CPU_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir {
namespace un {

#define GEN_PASS_DECL
#include "un/Codegen/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "un/Codegen/CPU/Passes.h.inc"

} // namespace un
} // namespace mlir

#endif // UN_CODEGEN_CPU_PASSES_H
