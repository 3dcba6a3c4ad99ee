//===- Pipelines.h - un-mlir pass pipelines ---------------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_PIPELINES_PIPELINES_H
#define UN_PIPELINES_PIPELINES_H

namespace mlir {
class OpPassManager;
namespace un {

/// Tensor-level IR with un, linalg, tensor, arith, math, func and
/// bufferization ops -> LLVM dialect for the host CPU, runnable by
/// mlir-runner or translatable to an object file.
void buildUNCPUPipeline(OpPassManager &pm);

/// The part of the CPU pipeline that stays on tensors: un ops lowered to
/// linalg, fused. Shared by every target.
void buildUNToLinalgPipeline(OpPassManager &pm);

/// Registers `un-cpu-pipeline` and `un-to-linalg-pipeline`.
void registerUNPipelines();

} // namespace un
} // namespace mlir

#endif // UN_PIPELINES_PIPELINES_H
