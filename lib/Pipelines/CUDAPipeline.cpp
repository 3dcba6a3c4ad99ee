//===- CUDAPipeline.cpp - un ops to NVVM, PTX/cubin and host LLVM -*- C++ -*-//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The stages, in order:
//  1. un ops -> structured gpu.launch kernels on buffers (un-decompose,
//     convert-un-to-gpu: coalesced 128-bit loads, shuffle/shared-memory
//     reductions, fused statistics kernels; see docs/cuda.md);
//     static f32 matmuls / batch_matmuls -> shared-memory tiled kernels
//     (un-gpu-matmul: 64x64 block tiles, K steps of 16, 4x4 per thread);
//  2. whatever else is on tensors (epilogues, other matmuls) -> linalg ->
//     one-shot bufferization (identity layouts at function boundaries, as
//     in the CPU pipeline) -> parallel loops tiled 16x16 / 256 -> gpu.launch;
//  3. kernel outlining into one gpu.module, un-gpu-device-buffers
//     (frees what does not escape: ownership-based deallocation rejects
//     kernels) (buffers that kernels touch become gpu.alloc,
//     copies gpu.memcpy), gpu-async-region (one stream per call, one wait
//     at the end);
//  4. kernels -> NVVM -> PTX (and cubin/fatbin via ptxas) with
//     gpu-module-to-binary; host -> LLVM calling the mgpu* runtime entry
//     points (lib/Runtime/CUDA).
//
//===----------------------------------------------------------------------===//

#include "un/Pipelines/Pipelines.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;

static void addPipeline(OpPassManager &pm, StringRef pipeline) {
  if (failed(parsePassPipeline(pipeline, pm, llvm::errs())))
    llvm::report_fatal_error("un-mlir: malformed built-in CUDA pipeline");
}

#ifndef UN_CUDA_TOOLKIT_PATH
#define UN_CUDA_TOOLKIT_PATH ""
#endif

void un::buildUNToGPUKernelsPipeline(OpPassManager &pm,
                                     const UNCUDAPipelineOptions &options) {
  addPipeline(pm, llvm::formatv("un-decompose,"
                                "convert-un-to-gpu{{sm-count={0}},"
                                "un-gpu-matmul,"
                                "canonicalize,cse",
                                options.smCount.getValue())
                      .str());
  // Tensor-level ops around the un ops: the generic path.
  addPipeline(pm, "convert-elementwise-to-linalg,"
                  "linalg-fuse-elementwise-ops,"
                  "eliminate-empty-tensors,"
                  "one-shot-bufferize{bufferize-function-boundaries "
                  "function-boundary-type-conversion=identity-layout-map},"
                  "canonicalize,"
                  "func.func(convert-linalg-to-parallel-loops,"
                  "scf-parallel-loop-tiling{parallel-loop-tile-sizes=16,16},"
                  "gpu-map-parallel-loops,"
                  "convert-parallel-loops-to-gpu),"
                  "canonicalize,cse");
}

void un::buildUNCUDAPipeline(OpPassManager &pm,
                             const UNCUDAPipelineOptions &options) {
  buildUNToGPUKernelsPipeline(pm, options);
  std::string toolkit = options.toolkit.getValue();
  if (toolkit.empty())
    toolkit = UN_CUDA_TOOLKIT_PATH;
  addPipeline(
      pm,
      llvm::formatv(
          "gpu-launch-sink-index-computations,"
          "gpu-kernel-outlining,"
          "symbol-dce,"
          "convert-bufferization-to-memref,"
          "{5},"
          "canonicalize,cse,"
          // Common to host and device.
          "convert-vector-to-scf,"
          "convert-scf-to-cf,"
          "convert-nvvm-to-llvm,"
          "expand-strided-metadata,"
          "nvvm-attach-target{{chip={0} features={1} O={2}},"
          "lower-affine,"
          // Device.
          "gpu.module(convert-gpu-to-nvvm,canonicalize,cse,"
          "reconcile-unrealized-casts),"
          // Host (bf16 casts expanded: no soft-float runtime needed).
          "func.func(arith-expand{{include-bf16}),"
          "convert-math-to-llvm,"
          "convert-math-to-libm,"
          "convert-func-to-llvm,"
          "convert-arith-to-llvm,"
          "convert-index-to-llvm,"
          "gpu-to-llvm,"
          "finalize-memref-to-llvm,"
          "convert-to-llvm,"
          "reconcile-unrealized-casts,"
          "gpu-module-to-binary{{format={3}{4}},"
          "canonicalize,cse",
          options.chip.getValue(), options.features.getValue(),
          options.optLevel.getValue(), options.format.getValue(),
          toolkit.empty() ? std::string() : " toolkit=" + toolkit,
          options.unifiedMemory ? "un-gpu-device-buffers{unified}"
                                : "un-gpu-device-buffers,"
                                  "func.func(gpu-async-region)")
          .str());
}

void un::registerUNCUDAPipeline() {
  PassPipelineRegistration<UNCUDAPipelineOptions>(
      "un-cuda-pipeline",
      "Lower tensor-level IR with un ops to GPU kernels (PTX/cubin via "
      "NVVM) and host LLVM calling the mgpu* CUDA runtime entry points",
      buildUNCUDAPipeline);
  PassPipelineRegistration<UNCUDAPipelineOptions>(
      "un-to-gpu-kernels-pipeline",
      "The first half of un-cuda-pipeline: un ops to gpu.launch kernels on "
      "buffers, the rest mapped to GPU loops (target independent)",
      buildUNToGPUKernelsPipeline);
}
