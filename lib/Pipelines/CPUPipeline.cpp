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
//     attention as one loop over heads and row blocks (un-cpu-fuse-attention);
//     a fill shared by several matmuls cloned for each
//     (un-cpu-privatize-fills);
//  3. one-shot bufferization across function boundaries (identity layouts,
//     so the C interface takes plain strided memrefs; results written with
//     bufferization.materialize_in_destination land directly in the
//     caller's buffers), then ownership-based deallocation; the all-reduces
//     of statistics taken over every process (`all_ranks`) -> MPI
//     (convert-un-to-mpi);
//  4. f32 matmuls / batch_matmuls -> packed register tiles of vector FMAs
//     for the target CPU, with their elementwise epilogues fused
//     (un-cpu-tile-and-vectorize), the other linalg ops -> loops over
//     vectors (un-cpu-vectorize-generics) or, where they cannot be, scalar
//     loops; each kernel becomes a function shared by every identical one
//     (un-cpu-outline-kernels), so LLVM compiles a repeated layer once;
//     transcendental math -> polynomial approximations that vectorize
//     (un-cpu-approximate-math), then everything to the LLVM dialect (bf16
//     casts are expanded to integer ops so no soft-float runtime is needed).
//
// The pipelines are built from pass constructors, not parsed from text: a
// tool that links un-mlir runs them without registering upstream passes.
//
//===----------------------------------------------------------------------===//

#include "un/Pipelines/Pipelines.h"

#include "Bufferization.h"

#include "un/Codegen/CPU/Passes.h"
#include "un/Codegen/GPU/Passes.h"
#include "un/Conversion/Passes.h"
#include "un/Dialect/UN/Transforms/Passes.h"

#include "mlir/Conversion/AffineToStandard/AffineToStandard.h"
#include "mlir/Conversion/BufferizationToMemRef/BufferizationToMemRef.h"
#include "mlir/Conversion/ConvertToLLVM/ToLLVMPass.h"
#include "mlir/Conversion/MathToLLVM/MathToLLVM.h"
#include "mlir/Conversion/MathToLibm/MathToLibm.h"
#include "mlir/Conversion/MemRefToLLVM/MemRefToLLVM.h"
#include "mlir/Conversion/OpenMPToLLVM/ConvertOpenMPToLLVM.h"
#include "mlir/Conversion/ReconcileUnrealizedCasts/ReconcileUnrealizedCasts.h"
#include "mlir/Conversion/SCFToControlFlow/SCFToControlFlow.h"
#include "mlir/Conversion/SCFToOpenMP/SCFToOpenMP.h"
#include "mlir/Conversion/VectorToLLVM/ConvertVectorToLLVMPass.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void un::buildUNToLinalgPipeline(OpPassManager &pm) {
  pm.addPass(createUNCheckDimIndices());
  pm.addPass(createUNDecompose());
  pm.addPass(createConvertUNToLinalg());
  pm.addPass(createConvertElementwiseToLinalgPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createUNFuseElementwise());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void un::buildUNCPUPipeline(OpPassManager &pm,
                            const UNCPUPipelineOptions &options) {
  buildUNToLinalgPipeline(pm);
  pm.addPass(createUNCPUPatchConvToMatmul());
  if (!options.exactDivision)
    pm.addPass(createUNCPUReciprocalDivision());
  UNCPUFuseAttentionOptions attention;
  attention.parallel = options.threads;
  pm.addPass(createUNCPUFuseAttention(attention));
  pm.addPass(createCSEPass());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createUNCPUPrivatizeFills());

  addBufferizationPasses(pm);
  // Buffers of static size allocated in sequential loops (the attention's
  // tiles) are allocated once, before the loop. (Not with threads: the
  // iterations of an scf.forall each need their own.)
  if (!options.threads)
    pm.addNestedPass<func::FuncOp>(
        bufferization::createBufferLoopHoistingPass());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createConvertBufferizationToMemRefPass());
  // Statistics across processes: MPI all-reduces (MPICH).
  pm.addPass(createConvertUNToMPI());
  if (options.threads)
    pm.addPass(createForallToParallelLoopPass());

  // Code generation for the target CPU.
  UNCPUTileAndVectorizeOptions matmul;
  matmul.cpu = options.cpu;
  matmul.features = options.features;
  matmul.parallel = options.threads;
  pm.addPass(createUNCPUTileAndVectorize(matmul));
  pm.addPass(createUNCPUStridedCopiesToLinalg());
  UNCPUVectorizeGenericsOptions generics;
  generics.cpu = options.cpu;
  generics.features = options.features;
  generics.parallel = options.threads;
  pm.addPass(createUNCPUVectorizeGenerics(generics));
  pm.addPass(createUNCPUOutlineKernels());
  pm.addPass(createConvertLinalgToLoopsPass());
  pm.addPass(createUNCPUApproximateMath());
  if (options.threads)
    pm.addPass(createConvertSCFToOpenMPPass());

  // To the LLVM dialect. Memrefs are lowered before scf: the alloca scopes
  // that convert-scf-to-openmp puts in parallel loops must still hold one
  // block when memrefs are lowered.
  pm.addPass(createConvertVectorToSCFPass(
      VectorTransferToSCFOptions().enableFullUnroll()));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  arith::ArithExpandOpsPassOptions expand;
  expand.includeBf16 = true;
  pm.addPass(arith::createArithExpandOpsPass(expand));
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createSCFToControlFlowPass());
  if (options.threads)
    pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
}

void un::buildUNGPUEmulationPipeline(OpPassManager &pm,
                                     const UNCPUPipelineOptions &options) {
  pm.addPass(createUNCheckDimIndices());
  pm.addPass(createUNDecompose());
  pm.addPass(createConvertUNToGPU());
  pm.addPass(createUNGPUMatmul());
  pm.addPass(createUNGPUEmulate());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  buildUNCPUPipeline(pm, options);
}

void un::registerUNPipelines() {
  PassPipelineRegistration<>(
      "un-to-linalg-pipeline",
      "Lower un ops to fused linalg on tensors (target independent)",
      buildUNToLinalgPipeline);
  PassPipelineRegistration<UNCPUPipelineOptions>(
      "un-cpu-pipeline",
      "Lower tensor-level IR with un ops to the LLVM dialect for the host "
      "CPU (runnable by mlir-runner)",
      buildUNCPUPipeline);
  registerUNInferencePipeline();
  PassPipelineRegistration<UNCPUPipelineOptions>(
      "un-gpu-emulation-pipeline",
      "Lower un ops to the GPU kernels of convert-un-to-gpu, then run them "
      "sequentially on the host (un-gpu-emulate) through the CPU pipeline: "
      "checks the GPU kernels' numbers without a GPU",
      buildUNGPUEmulationPipeline);
#if UN_ENABLE_CUDA_PIPELINE
  registerUNCUDAPipeline();
#endif
}
