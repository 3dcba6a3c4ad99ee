//===- CPUPipeline.cpp - un ops to LLVM for the host CPU --------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The stages, in order:
//  1. un ops -> linalg on tensors (un-decompose, convert-un-to-linalg), and
//     elementwise arith on tensors -> linalg;
//  2. elementwise fusion, so each pass over the activations is one loop
//     nest (normalize, input gradient, and user epilogues around them);
//  3. one-shot bufferization across function boundaries (identity layouts,
//     so the C interface takes plain strided memrefs; results written with
//     bufferization.materialize_in_destination land directly in the
//     caller's buffers), then ownership-based deallocation;
//  4. static f32 matmuls / batch_matmuls -> register tiles of vector FMAs
//     (un-cpu-tile-and-vectorize; the vector ops are lowered by
//     convert-vector-to-scf and convert-vector-to-llvm), the other linalg
//     ops -> loops, then everything to the LLVM dialect (bf16 casts are
//     expanded to integer ops so no soft-float runtime is needed).
//
//===----------------------------------------------------------------------===//

#include "un/Pipelines/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/Support/raw_ostream.h"

using namespace mlir;

/// Appends a textual pass pipeline; the pipelines below are fixed strings
/// of upstream passes, so a parse failure is a programming error.
static void addPipeline(OpPassManager &pm, StringRef pipeline) {
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("un-mlir: malformed built-in pipeline");
}

void un::buildUNToLinalgPipeline(OpPassManager &pm) {
  addPipeline(pm, "un-decompose,"
                  "convert-un-to-linalg,"
                  "convert-elementwise-to-linalg,"
                  "canonicalize,cse,"
                  "un-fuse-elementwise,"
                  "canonicalize,cse");
}

void un::buildUNCPUPipeline(OpPassManager &pm) {
  buildUNToLinalgPipeline(pm);
  addPipeline(pm, "eliminate-empty-tensors,"
                  "one-shot-bufferize{bufferize-function-boundaries "
                  "function-boundary-type-conversion=identity-layout-map},"
                  "canonicalize,"
                  "buffer-deallocation-pipeline,"
                  "convert-bufferization-to-memref,"
                  "un-cpu-tile-and-vectorize,"
                  "convert-linalg-to-loops,"
                  "convert-vector-to-scf{full-unroll=true},"
                  "convert-scf-to-cf,"
                  "expand-strided-metadata,"
                  "lower-affine,"
                  "arith-expand{include-bf16},"
                  "convert-vector-to-llvm{vector-contract-lowering="
                  "outerproduct},"
                  "convert-math-to-llvm,"
                  "convert-math-to-libm,"
                  "finalize-memref-to-llvm,"
                  "convert-to-llvm,"
                  "reconcile-unrealized-casts");
}

void un::buildUNGPUEmulationPipeline(OpPassManager &pm) {
  addPipeline(pm, "un-decompose,convert-un-to-gpu,un-gpu-matmul,"
                  "un-gpu-emulate,"
                  "canonicalize,cse");
  buildUNCPUPipeline(pm);
}

void un::registerUNPipelines() {
  PassPipelineRegistration<>(
      "un-to-linalg-pipeline",
      "Lower un ops to fused linalg on tensors (target independent)",
      buildUNToLinalgPipeline);
  PassPipelineRegistration<>(
      "un-cpu-pipeline",
      "Lower tensor-level IR with un ops to the LLVM dialect for the host "
      "CPU (runnable by mlir-runner)",
      buildUNCPUPipeline);
  registerUNInferencePipeline();
  PassPipelineRegistration<>(
      "un-gpu-emulation-pipeline",
      "Lower un ops to the GPU kernels of convert-un-to-gpu, then run them "
      "sequentially on the host (un-gpu-emulate) through the CPU pipeline: "
      "checks the GPU kernels' numbers without a GPU",
      buildUNGPUEmulationPipeline);
#if UN_ENABLE_CUDA_PIPELINE
  registerUNCUDAPipeline();
#endif
}
