//===- Passes.td - GPU code generation passes --------------*- tablegen -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The GPU backend: passes that do not touch un ops. They map the rest of a
// model (matmuls, elementwise ops, reductions) to gpu.launch kernels or
// library calls, place buffers in device memory, and emulate kernels on
// the host for tests. The un ops' own kernels are convert-un-to-gpu's
// (un/Conversion/Passes.td).
//
//===----------------------------------------------------------------------===//

#ifndef UN_CODEGEN_GPU_PASSES_TD
#define UN_CODEGEN_GPU_PASSES_TD

include "mlir/Pass/PassBase.td"

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

    Such a reduction and the loops right after it over the same rows
    (more such reductions over the same `k`, elementwise loops over `[i,
    k]`; only fills of those reductions, pure ops and allocations in
    between) become one kernel: the row's warp runs them in turn, its
    lanes on every 32nd `k`, with a `gpu.barrier` between them (a softmax's
    max, exp, sum and division: one launch). Only when every buffer they
    write is a `memref.alloc`, accessed through one view and only at the
    row of the loop accessing it; else the chain stops before the loop
    that breaks this.

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

#endif // UN_CODEGEN_GPU_PASSES_TD
