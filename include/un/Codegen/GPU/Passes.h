//===- Passes.h - GPU code generation passes --------------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_CODEGEN_GPU_PASSES_H
#define UN_CODEGEN_GPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace un {

namespace gpukernels {
/// On the callee of a runtime call: its index operands that come from
/// memref.extract_aligned_pointer_as_index are device buffers that the
/// call reads or writes and does not keep (un-gpu-device-buffers).
constexpr StringLiteral kDevicePointersAttr = "un.device_pointers";
} // namespace gpukernels

#define GEN_PASS_DECL
#include "un/Codegen/GPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "un/Codegen/GPU/Passes.h.inc"

} // namespace un
} // namespace mlir

#endif // UN_CODEGEN_GPU_PASSES_H
