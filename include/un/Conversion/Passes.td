//===- Passes.td - un-mlir conversions ---------------------*- tablegen -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_CONVERSION_PASSES_TD
#define UN_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertUNToLinalg : Pass<"convert-un-to-linalg"> {
  let summary = "Lower primitive un ops to linalg on tensors";
  let description = [{
    Lowers every primitive `un` op to `linalg.generic` ops on tensors plus
    `tensor`, `arith` and `math` ops, with f32 arithmetic for every
    statistic. The big `[tokens, C]` work becomes one reduction or one
    elementwise `linalg.generic` per op (channels innermost); the small
    `[window, C]` statistics work becomes small generics and scalar logic
    that evaluates the spec's run-time decisions (warm-up, `t <= window`,
    the outlier test, skip) as data. Composite ops must be decomposed
    first (`un-decompose`); any `un` op left is an error, except
    `un.sum_across_ranks`, which `all_ranks` statistics lower to and which
    is lowered on buffers (`convert-un-to-mpi`).

    Before:

    ```mlir
    %psi = un.quadratic_mean %x : (tensor<?x384xf32>) -> tensor<384xf32>
    ```

    After (abridged):

    ```mlir
    %sum = linalg.generic {iterator_types = ["reduction", "parallel"], ...}
        ins(%x : tensor<?x384xf32>) outs(%zero : tensor<384xf32>) {
      ^bb0(%v: f32, %acc: f32):
        %sq = arith.mulf %v, %v : f32
        %s = arith.addf %acc, %sq : f32
        linalg.yield %s : f32
    } -> tensor<384xf32>
    %psi = linalg.generic ... // %sum / T
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::linalg::LinalgDialect", "::mlir::math::MathDialect",
    "::mlir::tensor::TensorDialect"
  ];
}

def ConvertUNToMPI : Pass<"convert-un-to-mpi", "::mlir::ModuleOp"> {
  let summary = "Lower un.sum_across_ranks on buffers to an MPI all-reduce";
  let description = [{
    Replaces every `un.sum_across_ranks` on memrefs (after bufferization
    and deallocation) with `mpi.allreduce(..., MPI_SUM, mpi.comm_world)`,
    and marks the module for the MPICH ABI
    (`dlti.map = #dlti.map<"MPI:Implementation" = "MPICH">`), which
    `convert-to-llvm` lowers to calls of `MPI_Allreduce`. Link the result
    with MPICH (`-lmpich`); the program calls `MPI_Init` before the first
    collective. A module that asks for another MPI implementation is
    rejected: MLIR 22's lowering names symbols that other implementations
    do not export. An `un.sum_across_ranks` still on tensors is an error.

    ```mlir
    un.sum_across_ranks %local into %total : memref<385xf32>, memref<385xf32>
    // becomes
    %comm = mpi.comm_world : !mpi.comm
    mpi.allreduce(%local, %total, MPI_SUM, %comm)
      : memref<385xf32>, memref<385xf32>
    ```
  }];
  let dependentDialects = [
    "::mlir::mpi::MPIDialect", "::mlir::DLTIDialect",
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::memref::MemRefDialect"
  ];
}

def ConvertUNToGPU : Pass<"convert-un-to-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower primitive un ops to structured gpu.launch kernels";
  let description = [{
    Replaces every primitive `un` op with `gpu.launch` kernels on buffers
    (scf, arith, math, memref, vector and gpu ops in their bodies), leaving
    the rest of the tensor program in place: operands are read through
    `bufferization.to_buffer` (or straight from the buffer of a
    `bufferization.to_tensor`), results are written into new buffers seen
    through `bufferization.to_tensor`, or directly into a `restrict
    writable` argument when the result is only materialized there.

    Kernels (channels-last `[T, C]` activations, see docs/cuda.md):

    * reductions over tokens (`un.quadratic_mean`, `un.grad_stats`): a 2-D
      grid of 256-thread blocks; each thread owns a 16-byte vector of
      channels (`vector.load` with 16-byte alignment: one `ld.global.v4`)
      and a strided set of rows, accumulates in f32, and the block combines
      its rows with xor shuffles (`gpu.shuffle`) and shared memory into one
      row of partial sums per block row (deterministic: no atomics);
    * the `[window, C]` statistics (`un.smooth_forward_stats`: one block,
      block-wide reductions for the spread and the outlier test;
      `un.smooth_grad_stats`: one thread per channel), which also sum the
      partial sums of the reduction that feeds them (fused);
    * elementwise maps (`un.normalize`, `un.input_grad`, `un.affine`):
      the same tiling, parameters loaded once per thread, 128-bit loads
      and stores.

    `skip` and `skips_new` stay in device memory for the kernels that read
    them; `t`, `skips` and `skip` loaded from an argument are loaded by the
    kernels. A training step (forward + backward) is six launches.

    Statistics across processes (`all_ranks`): the reduction's finalize
    kernel writes `[sums..., count]` into a `[C + 1]` buffer, an
    `un.sum_across_ranks` on buffers sums it over the processes (lowered by
    `un-gpu-collectives`), and a small kernel divides; the reduction is
    then not fused with its consumer.

    Before:

    ```mlir
    %psi = un.quadratic_mean %x : (tensor<1576x384xf32>) -> tensor<384xf32>
    ```

    After (abridged):

    ```mlir
    %xm = bufferization.to_buffer %x read_only : ... to memref<1576x384xf32>
    %partials = memref.alloc(...) : memref<?xf32>
    gpu.launch blocks(...) in (%gx = %c12, %gy = %c13, ...)
               threads(...) in (%sx = %c256, ...)
               workgroup(%smem : memref<256xf32, #gpu.address_space<workgroup>>) {
      %v = vector.load %xm[%row, %col] {alignment = 16 : i64} : ..., vector<4xf32>
      ...
      %s, %ok = gpu.shuffle xor %p, %c8, %c32 : f32
      ...
    }
    gpu.launch ... // psi = sum of the partial rows / T
    %psi = bufferization.to_tensor %psim restrict : ...
    ```
  }];
  let options = [
    Option<"smCount", "sm-count", "int64_t", /*default=*/"132",
           "Streaming multiprocessors of the target GPU (sizes the grids; "
           "132 on H100/H200)">,
    Option<"exactDivision", "exact-division", "bool", /*default=*/"false",
           "Divide every element by sqrt(var + eps) (an IEEE division each, "
           "with its slow path); by default multiply it by the channel's "
           "reciprocal, computed once (one more rounding, within the "
           "spec's tolerance)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::gpu::GPUDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect", "::mlir::vector::VectorDialect"
  ];
}

def UNGPUCollectives : Pass<"un-gpu-collectives", "::mlir::ModuleOp"> {
  let summary = "Lower un.sum_across_ranks on buffers to NCCL calls of the "
                "CUDA runtime";
  let description = [{
    Replaces each `un.sum_across_ranks` on buffers with a call of the CUDA
    runtime's `un_cuda_sum_across_ranks_f32(input, output, count)`, which
    all-reduces the f32 vector with NCCL (`ncclAllReduce`, loaded with dlopen) over
    the processes of the job, or copies it in a job of one process
    (docs/training.md). The buffers are passed as pointers (their aligned
    pointers: identity layouts, so no offset). The callee is marked
    `un.device_pointers`, so `un-gpu-device-buffers` (run after this pass)
    puts the buffers in device memory. The call is a host op with side
    effects: `gpu-async-region` waits for the kernels before it.

    ```mlir
    un.sum_across_ranks %local into %total : memref<385xf32>, memref<385xf32>
    ```

    becomes

    ```mlir
    %in = memref.extract_aligned_pointer_as_index %local : memref<385xf32> -> index
    %out = memref.extract_aligned_pointer_as_index %total : memref<385xf32> -> index
    %n = arith.constant 385 : index
    func.call @un_cuda_sum_across_ranks_f32(%in, %out, %n) : (index, index, index) -> ()
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::cf::ControlFlowDialect",
    "::mlir::func::FuncDialect", "::mlir::memref::MemRefDialect"
  ];
}

#endif // UN_CONVERSION_PASSES_TD
