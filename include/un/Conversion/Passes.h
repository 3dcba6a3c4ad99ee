//===- Passes.h - un-mlir conversions ---------------------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_CONVERSION_PASSES_H
#define UN_CONVERSION_PASSES_H

#include "un/Conversion/UNToLinalg/UNToLinalg.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/DLTI/DLTI.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MPI/IR/MPI.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir {
namespace un {

#define GEN_PASS_DECL
#include "un/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "un/Conversion/Passes.h.inc"

} // namespace un
} // namespace mlir

#endif // UN_CONVERSION_PASSES_H
