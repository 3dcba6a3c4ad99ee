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

def UNGPUDeviceBuffers : Pass<"un-gpu-device-buffers", "::mlir::ModuleOp"> {
  let summary = "Allocate the buffers that kernels use in device memory";
  let description = [{
    In functions that launch GPU kernels (after bufferization and
    deallocation): a `memref.alloc` whose buffer reaches a kernel becomes
    `gpu.alloc`, its `memref.dealloc`s `gpu.dealloc` (also in callers that
    receive it as a function result), and every `memref.copy` becomes
    `gpu.memcpy`. Buffers that only the host uses stay on the host.

    Before:

    ```mlir
    %buf = memref.alloc() : memref<384xf32>
    gpu.launch_func @un_kernels::@k args(%buf : memref<384xf32>) ...
    memref.dealloc %buf : memref<384xf32>
    ```

    After:

    ```mlir
    %buf = gpu.alloc () : memref<384xf32>
    gpu.launch_func @un_kernels::@k args(%buf : memref<384xf32>) ...
    gpu.dealloc %buf : memref<384xf32>
    ```

    With `unified`, every buffer of the module is managed memory instead
    (`gpu.alloc host_shared`), global constants are copied into managed
    buffers where they are used, copies stay on the host and nothing is
    freed: for whole test programs whose host code reads what kernels
    wrote (test/Integration/CUDA), run without gpu-async-region.
  }];
  let options = [
    Option<"unified", "unified", "bool", /*default=*/"false",
           "Put every buffer in managed memory (tests)">
  ];
  let dependentDialects = ["::mlir::gpu::GPUDialect"];
}

def UNGPUCollectives : Pass<"un-gpu-collectives", "::mlir::ModuleOp"> {
  let summary = "Lower un.sum_across_ranks on device buffers to NCCL calls "
                "of the CUDA runtime";
  let description = [{
    Replaces each `un.sum_across_ranks` on buffers (device buffers: run
    after `un-gpu-device-buffers`) with a call of the CUDA runtime's
    `un_cuda_sum_across_ranks_f32(input, output, count)`, which all-reduces
    the f32 vector with NCCL (`ncclAllReduce`, loaded with dlopen) over
    the processes of the job, or copies it in a job of one process
    (docs/training.md). The buffers are passed as pointers (their aligned
    pointers: identity layouts, so no offset). The call is a host op with
    side effects: `gpu-async-region` waits for the kernels before it.

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

def UNGPUMatmul : Pass<"un-gpu-matmul", "::mlir::ModuleOp"> {
  let summary = "linalg.matmul / batch_matmul to tiled GPU kernels or cuBLASLt calls";
  let description = [{
    Replaces every `linalg.matmul` and `linalg.batch_matmul` on tensors
    with static shapes, f32 operands and the default indexing maps by one
    shared-memory tiled `gpu.launch` (SGEMM): blocks of 256 threads compute
    64 x 64 tiles of the result (grid `ceil(N/64) x ceil(M/64) x batch`),
    stepping K by 16: the block stages the A tile (transposed, padded) and
    the B tile in workgroup memory with coalesced loads, `gpu.barrier`,
    then each thread accumulates a 4 x 4 micro-tile in registers; loads
    outside the operands read 0 and stores outside the result are skipped
    (shapes need not be multiples of the tile). Operands are read through
    `bufferization.to_buffer`, the result is a new buffer seen through
    `bufferization.to_tensor`; a constant `linalg.fill` init becomes the
    accumulators' start value. Other matmuls (dynamic shapes, other
    element types, transposed maps) are left for the generic path.

    Before:

    ```mlir
    %c = linalg.matmul ins(%a, %b : tensor<197x384xf32>, tensor<384x1152xf32>)
                       outs(%zero : tensor<197x1152xf32>) -> tensor<197x1152xf32>
    ```

    After (abridged):

    ```mlir
    %buf = memref.alloc() : memref<197x1152xf32>
    gpu.launch blocks(%bx, %by, %bz) in (%gx = %c18, %gy = %c4, %gz = %c1)
               threads(%tx, %ty, %tz) in (%x = %c256, %y = %c1, %z = %c1)
               workgroup(%at : memref<1040xf32, #gpu.address_space<workgroup>>,
                         %bt : memref<1024xf32, #gpu.address_space<workgroup>>) {
      scf.for %step = %c0 to %c24 step %c1 iter_args(...) {
        // 4 + 4 coalesced loads into %at / %bt
        gpu.barrier
        // 16 k unrolled: 4 + 4 workgroup loads, 16 math.fma each
        gpu.barrier
      }
      // bounds-checked stores of the 4 x 4 micro-tile
    }
    %c = bufferization.to_tensor %buf restrict writable : ...
    ```

    With `library=cublaslt`, every matmul / batch_matmul with the default
    maps, f32, bf16 or f16 inputs and an f32 result (or one of the inputs'
    type), static or dynamic shapes, becomes instead a call of the CUDA
    runtime's cuBLASLt entry point `un_cuda_matmul_<in>[_<out>][_tf32]`
    on the operands' buffers (tensor cores for bf16 and f16, and for f32
    with `tf32`; f32 without it is cuBLASLt's exact f32 path): operands
    `(a, b, c, d, bias, batch, M, N, K)`, `D = A B (+ C if c != 0) (+ bias
    if bias != 0)`. A zero `linalg.fill` init is c = 0; another init is
    filled or copied into D first and c = d. When a 2-D f32 matmul's only
    user is an elementwise op that adds a bias along N, or a bias and a
    residual, and nothing else, that op becomes the call's epilogue (bias,
    and the residual as C). Dims that must agree and are dynamic are
    asserted.

    ```mlir
    %d = memref.alloc() : memref<197x1152xf32>
    func.call @un_cuda_matmul_f32(%pa, %pb, %c0, %pd, %pbias, %c1, %c197,
                                  %c1152, %c384) : (index, ...) -> ()
    ```
  }];
  let options = [
    Option<"library", "library", "std::string", "\"kernels\"",
           "kernels: the tiled SGEMM kernels above (static f32 only); "
           "cublaslt: calls of the runtime's cuBLASLt entry points">,
    Option<"tf32", "tf32", "bool", "false",
           "With library=cublaslt: f32 matmuls may round their inputs to "
           "TF32 on tensor cores (about 1e-3 relative error)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::bufferization::BufferizationDialect",
    "::mlir::cf::ControlFlowDialect", "::mlir::func::FuncDialect",
    "::mlir::gpu::GPUDialect", "::mlir::linalg::LinalgDialect",
    "::mlir::LLVM::LLVMDialect", "::mlir::tensor::TensorDialect",
    "::mlir::math::MathDialect", "::mlir::memref::MemRefDialect",
    "::mlir::scf::SCFDialect"
  ];
}

def UNGPULaunchLoops : Pass<"un-gpu-launch-loops", "::mlir::func::FuncOp"> {
  let summary = "Run every host scf.parallel as a GPU kernel of 256-thread blocks";
  let description = [{
    The ops around the un ops and the matmuls (bias adds, softmax, GELU,
    residual adds, copies, fills), lowered to `scf.parallel` loops on
    buffers (`convert-linalg-to-parallel-loops`: reductions are sequential
    loops inside), become one `gpu.launch` each: the loop's iterations are
    numbered row-major (the innermost dim fastest, so consecutive threads
    touch consecutive elements), one per thread, in blocks of 256 threads
    (`ceil(n / 256)` blocks; threads past `n` do nothing; no launch when
    `n = 0`). Any trip counts, static or dynamic, divisible or not: no op
    stays a host loop over device memory, and no block runs one thread.
    Loops with reductions across iterations (`scf.reduce` with operands)
    are left as they are.

    An iteration that is pure index math and then one sequential reduction
    into a 32-bit accumulator in memory, `for k { acc[i] = combine(acc[i],
    f(k)) }` with `combine` an arith op with a neutral element (what
    linalg reductions such as a softmax's row max and sum become), gets a
    warp instead of a thread (8 warps a block): lane `l` reduces `f(k)` for
    every 32nd `k` from `l` (coalesced loads), the lanes combine their
    partials with five xor `gpu.shuffle`s, and lane 0 stores
    `combine(total, acc[i])`. Sums are reassociated (last bits differ from
    the sequential loop). When the op before it is a parallel loop over the
    same iterations that only fills `acc` with one value (a `linalg.fill`),
    that value replaces the load of `acc[i]` and the fill loop goes away.

    ```mlir
    scf.parallel (%i, %j) = (%c0, %c0) to (%c197, %c384) step (%c1, %c1) {
      ... body(%i, %j) ...
    }
    // becomes
    gpu.launch blocks(%bx, ...) in (%nb = 296, ...) threads(%tx, ...) in (256, 1, 1) {
      %k = %bx * 256 + %tx
      scf.if %k < 75648 { body(%k floordiv 384, %k mod 384) }
    }
    ```
  }];
  let dependentDialects = ["::mlir::gpu::GPUDialect", "::mlir::scf::SCFDialect",
                           "::mlir::arith::ArithDialect"];
}

def UNGPUEmulate : Pass<"un-gpu-emulate", "::mlir::ModuleOp"> {
  let summary = "Run gpu.launch kernels sequentially on the host (testing)";
  let description = [{
    Replaces each `gpu.launch` with host loops over its blocks and threads
    that run the same kernel body: the body is cut at its top-level
    `gpu.barrier` and `gpu.shuffle` ops into segments, each segment runs
    for every thread of a block before the next starts, values that later
    segments use are kept per thread in host buffers, shuffles are computed
    between segments, and workgroup memory is a host buffer. For a
    race-free kernel this is what the GPU computes, so the kernels of
    `convert-un-to-gpu` can be checked for numbers without a GPU
    (`un-gpu-emulation-pipeline`, test/Integration/GPUEmulation).
    libdevice's `__nv_fsqrt_rn` becomes `math.sqrt`.

    Top-level `scf.for` loops with constant bounds that contain barriers
    (the K loop of `un-gpu-matmul`) are unrolled first. Requires barriers
    and shuffles at the top level of kernel bodies otherwise, xor
    shuffles with constant offset and width, and ids taken from the
    launch's block arguments, as `convert-un-to-gpu` emits them.
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect"
  ];
}

#endif // UN_CONVERSION_PASSES_TD
