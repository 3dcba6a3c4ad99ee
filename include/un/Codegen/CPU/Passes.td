//===- Passes.td - CPU code generation passes --------------*- tablegen -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Passes of the CPU backend that do not touch un ops: they run on the
// linalg, memref and vector IR that un-cpu-pipeline produces from any
// model, and read the target CPU where their choices depend on it.
//
//===----------------------------------------------------------------------===//

#ifndef UN_CODEGEN_CPU_PASSES_TD
#define UN_CODEGEN_CPU_PASSES_TD

include "mlir/Pass/PassBase.td"

def UNCPUTileAndVectorize : Pass<"un-cpu-tile-and-vectorize"> {
  let summary = "Packed, register-tiled f32 matmuls for the target CPU, "
                "with elementwise epilogues fused";
  let description = [{
    Runs after bufferization. Every `linalg.matmul` and `linalg.batch_matmul`
    with an f32 result and f32 or bf16 inputs (widened to f32 once: A into
    an f32 copy, B as it is packed), static K and N (M and the batch may be
    dynamic), the
    default indexing maps and unit-stride rows of B and C (and, with
    `specialize-generics`, every contraction `linalg.generic` that
    specializes to one) becomes, per 2-D matmul:

    - a loop over slabs of panels of `NR` columns of B and C, and in each a
      loop over K blocks of at most `KC`;
    - the slab's block of B packed, row by row, into a contiguous
      `[panels, kc, NR]` stack buffer of about 256 KiB (each panel then
      streams contiguously from L2 whatever the row stride of B), then a
      loop over its panels;
    - a loop over register tiles of `MR` rows: the `MR x NR` accumulators
      are loaded once (or start at zero when C was just zero-filled, and
      the `linalg.fill` goes), updated in a k loop unrolled by 4 with one
      vector FMA per row and vector of the tile (A broadcast from memory,
      B from the packed panel), and stored once.

    A matmul on a weight prepared in panels (un/Codegen/PanelMatmul.h)
    reads B's vectors from the panels, without packing. Its tiles also
    prefetch, one line per iteration of their k loop, the block of panels
    that runs next into L2 (`memref.prefetch`, locality 2), so the next
    block's first row tile does not wait on memory; and a static M whose
    rows of A per K block exceed about 256 KiB runs in row blocks of whole
    tiles, each against all the slabs, so that A's block stays in L2.

    The tile comes from the target (`cpu`, `features`: the host by
    default): NR is two vector registers (16 lanes for AVX2, 32 for
    AVX-512, 8 for SSE and NEON), MR as many rows as the register file holds
    without spills (6 with 16 registers, 12 with 32), KC such that a packed
    panel is 64 KiB (measured: fewer passes over C pay more than an
    L1-resident panel; K up to 1024 is one block with AVX2). `tile-m`, `tile-n` and `tile-k` override them. An N
    remainder is a panel of fewer vectors with the last one masked; a
    static M remainder a tile of fewer rows; a dynamic one a loop of
    one-row tiles. The sum over k keeps its order (k = 0 .. K-1, fused
    multiply-adds) for every element.

    Epilogue fusion: when the next op that touches memory after a 2-D
    matmul is an all-parallel `linalg.generic` over `[M, N]` that reads the
    matmul's result elementwise (plus `[M, N]`, `[N]` or `[M]` operands,
    e.g. a bias and a residual; arith and math ops in its body) and nothing
    else reads that result, the generic's body runs on the accumulators of
    the last K block in registers and writes its output directly; the
    generic is erased.

    Matmuls with dynamic K or N, other element types or transposed operands
    are left to `convert-linalg-to-loops`.

    Before:

    ```mlir
    linalg.fill ins(%zero : f32) outs(%c : memref<197x384xf32>)
    linalg.matmul ins(%a, %b : memref<197x1536xf32>, memref<1536x384xf32>)
                  outs(%c : memref<197x384xf32>)
    linalg.generic {...} ins(%c, %bias : memref<197x384xf32>, memref<384xf32>)
                         outs(%y : memref<197x384xf32>) { addf }
    ```

    After (AVX2: NR = 16, MR = 6, K = 1536 in two blocks of 768):

    ```mlir
    %packed = memref.alloca() {alignment = 64} : memref<768x16xf32>
    scf.for %j = %c0 to %c384 step %c16 {
      scf.for %p = %c0 to %c768 step %c768 {     // all blocks but the last
        scf.for %k = ... { // pack
          %v = vector.load %b[%row, %j] : memref<1536x384xf32>, vector<8xf32>
          vector.store %v, %packed[%k, %c0] : memref<768x16xf32>, vector<8xf32>
          ...
        }
        scf.for %i = %c0 to %c192 step %c6 {
          %acc = scf.if %first -> (vector<8xf32>, ...) { zeros } else { C }
          %r:12 = scf.for %k = %c0 to %c768 step %c4 iter_args(...) {
            %bv0 = vector.load %packed[%k, %c0] : ..., vector<8xf32>
            %a0 = memref.load %a[%i, %kk] : memref<197x1536xf32>
            %s0 = vector.broadcast %a0 : f32 to vector<8xf32>
            %f = vector.fma %s0, %bv0, %acc0 : vector<8xf32>
            ...
          }
          vector.store %r#0, %c[%i, %j] : memref<197x384xf32>, vector<8xf32>
          ...
        }
      }
      // the last K block: the same, then the epilogue on the accumulators
      //   %bias = vector.load %bias[%j] ; %y = arith.addf %r#0, %bias
      //   vector.store %y, %y_buffer[%i, %j]
    }
    ```

    Lower the result with `convert-vector-to-llvm`, as `un-cpu-pipeline`
    does. On targets with vectors wider than 256 bits the functions get
    `passthrough = [["min-legal-vector-width", "512"]]`, so LLVM does not
    split the tile's vectors.
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", "\"host\"",
           "Target CPU as llc -mcpu names it (host: this machine)">,
    Option<"features", "features", "std::string", "\"\"",
           "Target features to add or remove, as llc -mattr writes them "
           "(+avx2,-avx512f)">,
    Option<"tileM", "tile-m", "int64_t", "0",
           "Rows of the register tile (0: from the target)">,
    Option<"tileN", "tile-n", "int64_t", "0",
           "Columns of the register tile, a multiple of the vector width "
           "(0: from the target)">,
    Option<"tileK", "tile-k", "int64_t", "0",
           "Largest K block (0: from the target)">,
    Option<"parallel", "parallel", "bool", "false",
           "Emit the loop over slabs of column panels (a batch_matmul: over the "
           "batch) as scf.parallel, for convert-scf-to-openmp">,
    Option<"specializeGenerics", "specialize-generics", "bool", "true",
           "Also handle contraction linalg.generics that are plain "
           "matmuls or batch_matmuls">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def UNCPUFuseAttention : Pass<"un-cpu-fuse-attention"> {
  let summary = "Attention as one loop over heads and row blocks: scores, "
                "softmax and the product with V per tile, on tensors";
  let description = [{
    Runs on tensors, before bufferization. An attention is a
    `linalg.batch_matmul` O = P V whose left operand P comes from another
    batch_matmul S = Q K^T through `linalg.generic`s (softmax: row maxima,
    exponentials, row sums, the division) and `linalg.fill`s that nothing
    else uses. Unfused, S and P are [heads, T, T] tensors (12.6 MB at
    BERT-base with 512 tokens) written and read back by every pass.

    The pass tiles O over (head, block of rows) with upstream tile-and-fuse
    (`scf::tileConsumerAndFuseProducersUsingSCF`) and fuses the whole chain
    into the loop: each iteration computes the scores of its rows, their
    softmax and their product with V, on a tile that stays in L2 (rows
    chosen so that a tile of scores is at most 256 KiB). Every element is
    computed as before, in the same order: results are bit-identical.

    With `parallel`, the loop is an `scf.forall` (heads and row blocks run
    on all cores after `scf-forall-to-parallel` and `convert-scf-to-openmp`).
  }];
  let options = [
    Option<"parallel", "parallel", "bool", "false",
           "Emit the loop over tiles as scf.forall">
  ];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::tensor::TensorDialect"];
}

def UNCPUPatchConvToMatmul : Pass<"un-cpu-patch-conv-to-matmul"> {
  let summary = "Patch-embedding convolutions (stride = kernel) as matmuls, "
                "on tensors";
  let description = [{
    A `linalg.conv_2d_nchw_fchw` whose strides equal its kernel size and
    whose dilations are 1 (the patch embedding of a vision Transformer)
    reads every input pixel once: its im2col matrix is the input reshaped
    and transposed, `[N*OH*OW, C*KH*KW]`. The pass rewrites such a
    convolution (f32; static channels, kernel and output size, any batch)
    as that reshape, a `linalg.matmul` with the filter reshaped and
    transposed to `[C*KH*KW, F]`, and the result transposed back to NCHW;
    the convolution's init (its bias) is the matmul's init, transposed
    alike. The matmul then gets the CPU micro-kernel instead of scalar
    loops. Sums run over (c, kh, kw) in the same order as the convolution's
    loops.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def UNCPUReciprocalDivision : Pass<"un-cpu-reciprocal-division"> {
  let summary = "Divisions by one value per row as products with its "
                "reciprocal, on tensors";
  let description = [{
    In an all-parallel `linalg.generic` on tensors, an f32 `arith.divf`
    whose divisor is read through an input that does not vary along the
    innermost loop (one value per row: a softmax's sum, a layer norm's
    deviation) becomes an `arith.mulf` by that value's reciprocal, computed
    once per value by a `linalg.generic` of its own over the input's shape
    (a new input of the op, read through the same map): one division per
    row instead of one per element (a vector division costs about ten
    times a multiplication). One more rounding: `x * (1 / s)` is within
    1.5 ulp of `x / s` (rounded to nearest, 0.5 ulp). PyTorch's own softmax
    kernel multiplies by the reciprocal alike. `un-cpu-pipeline` runs the
    pass unless `exact-division` is set.

    ```mlir
    %p = linalg.generic {indexing_maps = [#id, #row, #id], ...}
        ins(%e, %sum : tensor<12x128x512xf32>, tensor<12x128xf32>) ... {
      %q = arith.divf %x, %s : f32
    ```
    becomes
    ```mlir
    %r = linalg.generic ... ins(%sum) ... { 1.0 / %s }
    %p = linalg.generic {indexing_maps = [#id, #row, #row, #id], ...}
        ins(%e, %sum, %r : ...) ... {
      %q = arith.mulf %x, %rs : f32
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def UNCPUPrivatizeFills : Pass<"un-cpu-privatize-fills"> {
  let summary = "One linalg.fill per op that writes into it, on tensors";
  let description = [{
    Runs on tensors, right before bufferization. CSE merges identical fills,
    so the zero-filled init of several matmuls is one `linalg.fill`; each
    matmul writes into it, and bufferization then fills one buffer and
    copies it for each matmul (a copy of an activation-sized buffer per
    matmul, and the micro-kernel, which folds a zero-fill right before a
    matmul into its first K block, sees a copy instead). The pass gives
    every op after the first that uses a fill's result as its init (a DPS
    init operand) a clone of the fill right before it: each fills its own
    buffer in place. A fill of a `tensor.empty` gets its own empty too, so
    one-shot bufferization sees unrelated tensors rather than many writers
    of one.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def UNCPUStridedCopiesToLinalg : Pass<"un-cpu-strided-copies-to-linalg"> {
  let summary = "memref.copy between non-contiguous buffers as linalg.copy";
  let description = [{
    `finalize-memref-to-llvm` lowers a `memref.copy` between buffers that
    are not both contiguous (a strided subview, a transposed view) to a call
    of `memrefCopy`, a function of MLIR's C runner utilities: a compiled
    library that contains such a call does not load on its own. This pass
    rewrites each of those copies as `linalg.copy`, which
    `un-cpu-vectorize-generics` turns into loops over vectors. Copies
    between contiguous buffers (identity layouts, or static shapes with
    row-major strides) stay `memref.copy`: they lower to `memcpy`.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def UNCPUVectorizeGenerics : Pass<"un-cpu-vectorize-generics"> {
  let summary = "Elementwise and reduction linalg ops on buffers as loops "
                "over vectors of the target's width";
  let description = [{
    Runs after bufferization and `un-cpu-tile-and-vectorize`. Every
    `linalg.generic` (and `linalg.fill`, `copy`, `transpose`, `broadcast`,
    `map`, generalized first) on buffers whose body is elementwise arith and
    math, with projected-permutation indexing maps, becomes scalar loops
    over all dims but one, the vector dim, which runs as a loop over
    `vector<lanes x T>` (lanes: f32 lanes of the target's vector registers)
    and one masked step for the rest.

    The vector dim is a loop that every operand indexes with its last,
    unit-stride dim or not at all (those operands are loaded as scalars and
    broadcast). A parallel vector dim moves innermost, which is always
    legal, and every element is computed exactly as by the scalar loops. A
    reduction vector dim (the op's only reduction, the body updating its one
    output as `out = combine(out, x)` with `addf`, `mulf`, `maximumf`,
    `minimumf`, `maxnumf` or `minnumf`) keeps one partial result per lane,
    starting at the neutral element, and combines them with
    `vector.reduction` after the loop: sums are reassociated into `lanes`
    interleaved partial sums. Bodies with integer division or remainder
    (which would trap on masked lanes), `linalg.index`, or dims that are too
    short (static and under one vector) are left to
    `convert-linalg-to-loops`.

    Before (softmax's row maximum):

    ```mlir
    linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                     affine_map<(d0, d1) -> (d0)>],
                    iterator_types = ["parallel", "reduction"]}
        ins(%s : memref<197x197xf32>) outs(%m : memref<197xf32>) {
    ^bb0(%x: f32, %acc: f32):
      %r = arith.maximumf %acc, %x : f32
      linalg.yield %r : f32
    }
    ```

    After (AVX2):

    ```mlir
    scf.for %i = %c0 to %c197 step %c1 {
      %p = scf.for %j = %c0 to %c192 step %c8 iter_args(%acc = %ninf) {
        %x = vector.load %s[%i, %j] : memref<197x197xf32>, vector<8xf32>
        %r = arith.maximumf %acc, %x : vector<8xf32>
        scf.yield %r : vector<8xf32>
      }
      %mask = vector.constant_mask [5] : vector<8xi1>
      ... one masked step, arith.select on the mask ...
      %red = vector.reduction <maximumf>, %q : vector<8xf32> into f32
      %old = memref.load %m[%i] : memref<197xf32>
      %new = arith.maximumf %old, %red : f32
      memref.store %new, %m[%i] : memref<197xf32>
    }
    ```
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", "\"host\"",
           "Target CPU as llc -mcpu names it (host: this machine)">,
    Option<"features", "features", "std::string", "\"\"",
           "Target features to add or remove, as llc -mattr writes them">,
    Option<"parallel", "parallel", "bool", "false",
           "Emit the outermost loop as scf.parallel when it is a parallel "
           "dim, for convert-scf-to-openmp">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def UNCPUOutlineKernels : Pass<"un-cpu-outline-kernels", "ModuleOp"> {
  let summary = "One private function per distinct kernel, called where "
                "each kernel ran";
  let description = [{
    `un-cpu-tile-and-vectorize` and `un-cpu-vectorize-generics` emit the
    loops of each op they rewrite inside an `scf.execute_region` marked
    `un.kernel = "<kind>"`. This pass turns each into a call of a private
    function (`llvm.linkage = internal`) whose arguments are the values the
    kernel uses from outside (as bare pointers, `llvm.bareptr`, when every
    buffer has a static shape and identity layout); constants are copied
    in. Kernels whose
    functions are identical (the same body on the same argument types, as in
    every layer of a model that repeats one block N times) share one
    function: LLVM then optimizes and compiles each distinct kernel once,
    and compile time grows with the number of distinct kernels, not with
    the depth of the model. A kernel used once is inlined back by LLVM.

    Before:

    ```mlir
    scf.execute_region {
      scf.for ... { ... %a ... %b ... %c ... }   // layer 1's matmul
      scf.yield
    } {un.kernel = "matmul"}
    scf.execute_region {
      scf.for ... { ... %a2 ... %b2 ... %c2 ... } // layer 2's, same types
      scf.yield
    } {un.kernel = "matmul"}
    ```

    After:

    ```mlir
    call @__un_matmul(%a, %b, %c) : (...) -> ()
    call @__un_matmul(%a2, %b2, %c2) : (...) -> ()
    func.func private @__un_matmul(...) attributes {llvm.linkage = ...} {
      scf.for ... { ... }
      return
    }
    ```
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def UNCPUApproximateMath : Pass<"un-cpu-approximate-math"> {
  let summary = "Transcendental math ops as polynomial approximations "
                "that vectorize";
  let description = [{
    Rewrites f32 (scalar or vector) `math.exp`, `math.expm1`, `math.tanh`,
    `math.erf`, `math.log`, `math.log1p`, `math.log2`, `math.atan`,
    `math.atan2`, `math.sin`, `math.cos`, `math.asin`, `math.acos` and
    `math.cbrt` into arithmetic with upstream MLIR's polynomial
    approximations (`populateMathPolynomialApproximationPatterns`), and
    f16/bf16 ones into f32 first. The result is plain arith that LLVM
    vectorizes, instead of one scalar libm call per element. Accuracy: a
    few ulp in f32 over the whole range (`test/python/test_math_accuracy.py`
    measures it against numpy).

    Before:

    ```mlir
    %t = math.tanh %x : vector<8xf32>
    ```

    After: a clamp, a rational polynomial in `%x * %x` and selects, all
    `arith` on `vector<8xf32>`.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::vector::VectorDialect"];
}

#endif // UN_CODEGEN_CPU_PASSES_TD
