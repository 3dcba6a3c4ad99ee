//===- Pipelines.h - un-mlir pass pipelines ---------------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_PIPELINES_PIPELINES_H
#define UN_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace un {

/// Options of `un-inference-pipeline`.
struct UNInferencePipelineOptions
    : public PassPipelineOptions<UNInferencePipelineOptions> {
  PassOptions::Option<bool> hoistWeightPrep{
      *this, "hoist-weight-prep",
      llvm::cl::desc("Move the preparation of folded weights that are "
                     "function arguments into @<name>_prepare_weights, the "
                     "rest into @<name>_folded (see docs/folding.md)"),
      llvm::cl::init(true)};
};

/// Inference UN folded into the linear layers around it, then simplified
/// and lowered to fused linalg on tensors (target independent; no un op
/// is left). Composes with the CPU pipeline.
void buildUNInferencePipeline(OpPassManager &pm,
                              const UNInferencePipelineOptions &options);

/// Tensor-level IR with un, linalg, tensor, arith, math, func and
/// bufferization ops -> LLVM dialect for the host CPU, runnable by
/// mlir-runner or translatable to an object file.
void buildUNCPUPipeline(OpPassManager &pm);

/// The part of the CPU pipeline that stays on tensors: un ops lowered to
/// linalg, fused. Shared by every target.
void buildUNToLinalgPipeline(OpPassManager &pm);

/// Registers `un-cpu-pipeline`, `un-to-linalg-pipeline` and
/// `un-inference-pipeline`.
void registerUNPipelines();

/// Registers `un-inference-pipeline` (called by registerUNPipelines).
void registerUNInferencePipeline();

} // namespace un
} // namespace mlir

#endif // UN_PIPELINES_PIPELINES_H
