//===- Pipelines.h - un-mlir pass pipelines ---------------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_PIPELINES_PIPELINES_H
#define UN_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

#include <string>

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
  PassOptions::Option<bool> packWeights{
      *this, "pack-weights",
      llvm::cl::desc("Prepare the weights of f32 matmuls packed in panels "
                     "of 16 columns, the layout the CPU micro-kernel reads "
                     "(un-fold-into-linear's pack-weights; for CPU targets)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> reportUnfolded{
      *this, "report-unfolded",
      llvm::cl::desc("Emit a remark on every normalization left unfolded, "
                     "saying why (un-fold-into-linear's report-unfolded)"),
      llvm::cl::init(false)};
};

/// Inference UN folded into the linear layers around it, then simplified
/// and lowered to fused linalg on tensors (target independent; no un op
/// is left). Composes with the CPU pipeline.
void buildUNInferencePipeline(OpPassManager &pm,
                              const UNInferencePipelineOptions &options);

/// Tensor-level IR with un, linalg, tensor, arith, math, func and
/// bufferization ops -> LLVM dialect for the host CPU, runnable by
/// mlir-runner or translatable to an object file.
/// Options of the pipelines that end in code for the host CPU.
struct UNCPUPipelineOptions : public PassPipelineOptions<UNCPUPipelineOptions> {
  PassOptions::Option<std::string> cpu{
      *this, "cpu",
      llvm::cl::desc("Target CPU as llc -mcpu names it (host: this machine); "
                     "compile the result for the same CPU"),
      llvm::cl::init("host")};
  PassOptions::Option<std::string> features{
      *this, "features",
      llvm::cl::desc("Target features to add or remove, as llc -mattr "
                     "writes them (+avx2,-avx512f)"),
      llvm::cl::init("")};
  PassOptions::Option<bool> exactDivision{
      *this, "exact-division",
      llvm::cl::desc("Divide every element by a per-row value (softmax's "
                     "sum, layer norm's deviation) instead of multiplying by "
                     "its reciprocal (un-cpu-reciprocal-division)"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> threads{
      *this, "threads",
      llvm::cl::desc("Run the parallel loops (matmul column panels, "
                     "attention heads, rows of elementwise ops) on all cores "
                     "through OpenMP (convert-scf-to-openmp); link the result "
                     "with the OpenMP runtime (-lomp). Results are identical "
                     "to one thread: no reduction is split between threads"),
      llvm::cl::init(false)};
};

void buildUNCPUPipeline(OpPassManager &pm,
                        const UNCPUPipelineOptions &options = {});

/// The part of the CPU pipeline that stays on tensors: un ops lowered to
/// linalg, fused. Shared by every target.
void buildUNToLinalgPipeline(OpPassManager &pm);

/// The GPU kernels of convert-un-to-gpu emulated on the host (un-gpu-emulate)
/// and lowered by the CPU pipeline: runnable by mlir-runner, for testing
/// the kernels' numbers without a GPU.
void buildUNGPUEmulationPipeline(OpPassManager &pm,
                                 const UNCPUPipelineOptions &options = {});

/// Options of `un-cuda-pipeline`.
struct UNCUDAPipelineOptions
    : public PassPipelineOptions<UNCUDAPipelineOptions> {
  Option<std::string> chip{*this, "chip",
                           llvm::cl::desc("Target GPU (sm_80, sm_90, ...)"),
                           llvm::cl::init("sm_90")};
  Option<std::string> features{
      *this, "features",
      llvm::cl::desc("PTX features; sm_90 needs +ptx80 or later"),
      llvm::cl::init("+ptx80")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("Kernel binary: isa (PTX text), bin (cubin, needs "
                     "ptxas), fatbin (needs ptxas and fatbinary)"),
      llvm::cl::init("fatbin")};
  Option<int64_t> optLevel{*this, "opt-level",
                           llvm::cl::desc("LLVM optimization level of the "
                                          "kernels"),
                           llvm::cl::init(3)};
  Option<int64_t> smCount{*this, "sm-count",
                          llvm::cl::desc("Streaming multiprocessors of the "
                                         "target (sizes the grids)"),
                          llvm::cl::init(132)};
  Option<bool> exactDivision{
      *this, "exact-division",
      llvm::cl::desc("UN kernels divide every element by sqrt(var + eps); "
                     "default: multiply by the channel's reciprocal "
                     "(convert-un-to-gpu's exact-division)"),
      llvm::cl::init(false)};
  Option<std::string> matmulLibrary{
      *this, "matmul-library",
      llvm::cl::desc("Matmuls as the project's tiled SGEMM kernels "
                     "(kernels: static f32 only) or as calls of cuBLASLt "
                     "through the runtime (cublaslt: tensor cores for bf16 "
                     "and f16, loaded at run time; un-gpu-matmul's library)"),
      llvm::cl::init("kernels")};
  Option<bool> tf32{
      *this, "tf32",
      llvm::cl::desc("With matmul-library=cublaslt: f32 matmuls on TF32 "
                     "tensor cores (about 1e-3 relative error)"),
      llvm::cl::init(false)};
  Option<bool> unifiedMemory{
      *this, "unified-memory",
      llvm::cl::desc("Every buffer in managed memory, synchronous launches: "
                     "for whole programs whose host code reads results "
                     "(tests); default: device memory, one stream per call"),
      llvm::cl::init(false)};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit root (ptxas, libdevice); default: the "
                     "one found at configure time, else PATH"),
      llvm::cl::init("")};
};

/// Tensor-level IR with un ops -> GPU kernels (PTX/cubin/fatbin embedded
/// in gpu.binary) and host code in the LLVM dialect calling the mgpu*
/// runtime entry points (lib/Runtime/CUDA, or MLIR's CUDA runtime).
void buildUNCUDAPipeline(OpPassManager &pm,
                         const UNCUDAPipelineOptions &options);

/// The first half of `un-cuda-pipeline`: the model as gpu.launch kernels
/// (and cuBLASLt calls) for NVIDIA GPUs on buffers, before outlining.
void buildUNCUDAKernelsPipeline(OpPassManager &pm,
                                const UNCUDAPipelineOptions &options);

/// Registers `un-cuda-pipeline` and `un-cuda-kernels-pipeline`.
void registerUNCUDAPipeline();

/// Registers `un-cpu-pipeline`, `un-to-linalg-pipeline`,
/// `un-inference-pipeline`, `un-gpu-emulation-pipeline`, and the CUDA
/// pipelines where the build has MLIR's NVVM target.
void registerUNPipelines();

/// Registers `un-inference-pipeline` (called by registerUNPipelines).
void registerUNInferencePipeline();

} // namespace un
} // namespace mlir

#endif // UN_PIPELINES_PIPELINES_H
