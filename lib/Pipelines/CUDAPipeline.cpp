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
//     (un-gpu-matmul: 64x64 block tiles, K steps of 16, 4x4 per thread),
//     or with matmul-library=cublaslt every f32/bf16/f16 matmul -> a call
//     of the runtime's cuBLASLt entry point (tensor cores);
//  2. whatever else is on tensors (epilogues, softmax, other matmuls) ->
//     linalg -> one-shot bufferization (identity layouts at function
//     boundaries, as in the CPU pipeline) -> parallel loops -> one
//     gpu.launch each, one iteration per thread in blocks of 256
//     (un-gpu-launch-loops);
//  3. kernel outlining into one gpu.module, un-gpu-collectives
//     (all-reduces across processes: NCCL calls of the runtime),
//     un-gpu-device-buffers (buffers that kernels and the runtime's device
//     calls touch become gpu.alloc, copies gpu.memcpy; frees what does not
//     escape: ownership-based deallocation rejects kernels),
//     gpu-async-region (one stream per call, one wait at the end);
//  4. kernels -> NVVM -> PTX (and cubin/fatbin via ptxas) with
//     gpu-module-to-binary; host -> LLVM calling the mgpu* runtime entry
//     points (lib/Runtime/CUDA).
//
// Built from pass constructors, like the CPU pipeline: a tool that links
// un-mlir runs it without registering upstream passes.
//
//===----------------------------------------------------------------------===//

#include "un/Pipelines/Pipelines.h"

#include "Bufferization.h"

#include "un/Codegen/GPU/Passes.h"
#include "un/Conversion/Passes.h"
#include "un/Dialect/UN/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

#ifndef UN_CUDA_TOOLKIT_PATH
#define UN_CUDA_TOOLKIT_PATH ""
#endif

static void addCleanup(OpPassManager &pm) {
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void un::buildUNCUDAKernelsPipeline(OpPassManager &pm,
                                    const UNCUDAPipelineOptions &options) {
  pm.addPass(createUNCheckDimIndices());
  pm.addPass(createUNDecompose());
  ConvertUNToGPUOptions toGPU;
  toGPU.smCount = options.smCount;
  toGPU.exactDivision = options.exactDivision;
  pm.addPass(createConvertUNToGPU(toGPU));
  UNGPUMatmulOptions matmul;
  matmul.library = options.matmulLibrary;
  matmul.tf32 = options.tf32;
  pm.addPass(createUNGPUMatmul(matmul));
  addCleanup(pm);
  // Tensor-level ops around the un ops: the generic path.
  pm.addPass(createConvertElementwiseToLinalgPass());
  // Named ops left (transposes, fills) as generics, so that elementwise
  // fusion merges them with their neighbours: fewer kernels.
  pm.addPass(createLinalgGeneralizeNamedOpsPass());
  pm.addPass(createLinalgElementwiseOpFusionPass());
  addBufferizationPasses(pm);
  OpPassManager &funcs = pm.nest<func::FuncOp>();
  funcs.addPass(createConvertLinalgToParallelLoopsPass());
  funcs.addPass(createUNGPULaunchLoops());
  addCleanup(pm);
}

void un::buildUNCUDAPipeline(OpPassManager &pm,
                             const UNCUDAPipelineOptions &options) {
  buildUNCUDAKernelsPipeline(pm, options);
  std::string toolkit = options.toolkit.getValue();
  if (toolkit.empty())
    toolkit = UN_CUDA_TOOLKIT_PATH;

  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createSymbolDCEPass());
  pm.addPass(createConvertBufferizationToMemRefPass());
  pm.addPass(createUNGPUCollectives());
  UNGPUDeviceBuffersOptions buffers;
  buffers.unified = options.unifiedMemory;
  pm.addPass(createUNGPUDeviceBuffers(buffers));
  if (!options.unifiedMemory)
    pm.nest<func::FuncOp>().addPass(createGpuAsyncRegionPass());
  addCleanup(pm);

  // Common to host and device.
  pm.addPass(createConvertVectorToSCFPass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  target.optLevel = options.optLevel;
  pm.addPass(createGpuNVVMAttachTarget(target));
  pm.addPass(createLowerAffinePass());

  // Device.
  OpPassManager &device = pm.nest<gpu::GPUModuleOp>();
  device.addPass(createConvertGpuOpsToNVVMOps());
  addCleanup(device);
  device.addPass(createReconcileUnrealizedCastsPass());

  // Host (bf16 casts expanded: no soft-float runtime needed).
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.nest<func::FuncOp>().addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());

  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.format;
  binary.toolkitPath = toolkit;
  pm.addPass(createGpuModuleToBinaryPass(binary));
  addCleanup(pm);
}

void un::registerUNCUDAPipeline() {
  PassPipelineRegistration<UNCUDAPipelineOptions>(
      "un-cuda-pipeline",
      "Lower tensor-level IR with un ops to GPU kernels (PTX/cubin via "
      "NVVM) and host LLVM calling the mgpu* CUDA runtime entry points",
      buildUNCUDAPipeline);
  PassPipelineRegistration<UNCUDAPipelineOptions>(
      "un-cuda-kernels-pipeline",
      "The first half of un-cuda-pipeline: the model as gpu.launch kernels "
      "for NVIDIA GPUs on buffers (warps of 32, libdevice calls) or cuBLASLt "
      "calls, before kernel outlining and NVVM",
      buildUNCUDAKernelsPipeline);
}
