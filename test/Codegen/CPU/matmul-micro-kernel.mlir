// The register tile of un-cpu-tile-and-vectorize comes from the target:
// AVX2 (16 ymm): 6 rows x 2 vectors of 8; AVX-512 (32 zmm): 12 rows x 2
// vectors of 16, and LLVM told not to split them; SSE2 without FMA: 6 rows
// x 2 vectors of 4, multiply and add. B is packed per K block into a
// stack buffer of [panels, kc, NR], a 256 KiB slab of panels at a time (K
// = 1536: blocks of 768 with AVX2, 512 with AVX-512, one block with SSE);
// the k loop is unrolled by 4.
// RUN: un-opt %s --un-cpu-tile-and-vectorize=cpu=znver3 | FileCheck %s --check-prefix=AVX2
// RUN: un-opt %s --un-cpu-tile-and-vectorize=cpu=skylake-avx512 | FileCheck %s --check-prefix=AVX512
// RUN: un-opt %s --un-cpu-tile-and-vectorize=cpu=x86-64 | FileCheck %s --check-prefix=SSE
// RUN: un-opt %s --un-cpu-tile-and-vectorize="cpu=skylake-avx512 features=-avx512f" | FileCheck %s --check-prefix=AVX2
// RUN: un-opt %s --un-cpu-tile-and-vectorize="cpu=znver3 tile-m=4 tile-n=32 tile-k=64" | FileCheck %s --check-prefix=OVERRIDE

// AVX2-LABEL: func.func @matmul(
// AVX2-NOT: passthrough
// AVX2: memref.alloca() {alignment = 64 : i64} : memref<5x768x16xf32>
// AVX2: scf.for %[[J:.*]] = %{{.*}} to %c1120 step %c80
// AVX2: scf.for %[[P:.*]] = %{{.*}} to %c768{{.*}} step %c768
// Packing: two vectors of 8 per row of each of the 5 panels.
// AVX2-COUNT-10: vector.store {{.*}} : memref<5x768x16xf32>, vector<8xf32>
// Row tiles, and in each the slab's 5 panels.
// AVX2: scf.for %{{.*}} = %{{.*}} to %c192{{.*}} step %c6
// AVX2: scf.for %{{.*}} = %{{.*}} to %c5{{.*}} step %c1
// The first K block starts from zeros (C was zero-filled).
// AVX2: scf.if
// AVX2-COUNT-12: vector.load %{{.*}} : memref<197x1152xf32>, vector<8xf32>
// AVX2: scf.for %{{.*}} = %{{.*}} to %c768{{.*}} step %c4{{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2-COUNT-48: vector.fma
// AVX2: scf.yield
// AVX2-COUNT-12: vector.store %{{.*}} : memref<197x1152xf32>, vector<8xf32>
// The row remainder (197 = 32 * 6 + 5): a tile of 5 rows.
// AVX2: iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2-NOT: linalg.matmul
// AVX2-NOT: linalg.fill

// AVX512-LABEL: func.func @matmul(
// AVX512-SAME: passthrough = {{\[\[}}"min-legal-vector-width", "512"]]
// AVX512: memref.alloca() {alignment = 64 : i64} : memref<4x512x32xf32>
// AVX512: step %c128
// AVX512: step %c12
// AVX512: iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// AVX512-COUNT-96: vector.fma {{.*}} : vector<16xf32>

// SSE-LABEL: func.func @matmul(
// SSE: memref.alloca() {alignment = 64 : i64} : memref<5x1536x8xf32>
// SSE: step %c6
// SSE-NOT: vector.fma
// SSE: arith.mulf {{.*}} : vector<4xf32>
// SSE-NEXT: arith.addf {{.*}} : vector<4xf32>

// OVERRIDE-LABEL: func.func @matmul(
// OVERRIDE: memref.alloca() {alignment = 64 : i64} : memref<32x64x32xf32>
// OVERRIDE: step %c1024
// OVERRIDE: step %c64
// OVERRIDE: step %c4

func.func @matmul(%a: memref<197x1536xf32>, %b: memref<1536x1152xf32>, %c: memref<197x1152xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<197x1152xf32>)
  linalg.matmul ins(%a, %b : memref<197x1536xf32>, memref<1536x1152xf32>) outs(%c : memref<197x1152xf32>)
  return
}

// An N remainder (197 = 12 * 16 + 5) is a panel of one masked vector; C
// is not known to be zero, so every block starts from C. A batch_matmul
// is a loop over the batch.
// AVX2-LABEL: func.func @batch_matmul(
// AVX2: scf.for %[[BATCH:.*]] = %c0{{.*}} to %c6
// AVX2: memref.subview %arg0[%[[BATCH]], 0, 0] [1, 197, 64] [1, 1, 1]
// AVX2: vector.constant_mask [5] : vector<8xi1>
// AVX2: vector.maskedload %subview
// AVX2-NOT: scf.if
// AVX2: vector.maskedstore
// AVX2-NOT: linalg.batch_matmul
func.func @batch_matmul(%a: memref<6x197x64xf32>, %b: memref<6x64x197xf32>, %c: memref<6x197x197xf32>) {
  linalg.batch_matmul ins(%a, %b : memref<6x197x64xf32>, memref<6x64x197xf32>) outs(%c : memref<6x197x197xf32>)
  return
}

// Dynamic M: full tiles up to M - M mod 6, then one-row tiles.
// AVX2-LABEL: func.func @dynamic_m(
// AVX2: %[[M:.*]] = memref.dim %arg2, %c0
// AVX2: %[[REST:.*]] = arith.remui %[[M]], %c6
// AVX2: %[[MAIN:.*]] = arith.subi %[[M]], %[[REST]]
// AVX2: scf.for %{{.*}} = %{{.*}} to %[[MAIN]] step %c6
// AVX2: scf.for %{{.*}} = %[[MAIN]] to %[[M]] step %c1
// AVX2: iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>)
func.func @dynamic_m(%a: memref<?x64xf32>, %b: memref<64x32xf32>, %c: memref<?x32xf32>) {
  linalg.matmul ins(%a, %b : memref<?x64xf32>, memref<64x32xf32>) outs(%c : memref<?x32xf32>)
  return
}

// Dynamic K or N, and other element types, are left to convert-linalg-to-loops.
// AVX2-LABEL: func.func @left_alone(
// AVX2: linalg.matmul {{.*}} memref<8x?xf32>
// AVX2: linalg.matmul {{.*}} memref<8x8xf16>
func.func @left_alone(%a: memref<8x?xf32>, %b: memref<?x8xf32>, %c: memref<8x8xf32>,
                      %h: memref<8x8xf16>) {
  linalg.matmul ins(%a, %b : memref<8x?xf32>, memref<?x8xf32>) outs(%c : memref<8x8xf32>)
  linalg.matmul ins(%h, %h : memref<8x8xf16>, memref<8x8xf16>) outs(%h : memref<8x8xf16>)
  return
}

// With parallel=true the slabs of panels are an scf.parallel (at least 8
// of them, of one size dividing the panel count: 72 panels -> 18 slabs of
// 4), each iteration packing into its own buffer; a batch_matmul
// parallelizes its batch.
// RUN: un-opt %s --un-cpu-tile-and-vectorize="cpu=znver3 parallel=true" | FileCheck %s --check-prefix=PAR
// PAR-LABEL: func.func @matmul(
// PAR: scf.parallel (%{{.*}}) = (%{{.*}}) to (%c1152) step (%c64)
// PAR-NEXT: memref.alloca() {alignment = 64 : i64} : memref<4x768x16xf32>
// PAR-LABEL: func.func @batch_matmul(
// PAR: scf.parallel (%{{.*}}) = (%{{.*}}) to (%c6) step (%c1)
// PAR-NOT: scf.parallel
// PAR: return

// A row rest under 4 rows has too few accumulators to hide the FMA latency:
// M = 14 = 6 + 8 runs as one tile of 6 rows and two of 4.
// AVX2-LABEL: func.func @short_rest(
// AVX2: scf.for %{{.*}} = %{{.*}} to %c6{{.*}} step %c6
// AVX2-COUNT-2: iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>)
// AVX2-NOT: iter_args
// AVX2: return
func.func @short_rest(%a: memref<14x64xf32>, %b: memref<64x16xf32>, %c: memref<14x16xf32>) {
  linalg.matmul ins(%a, %b : memref<14x64xf32>, memref<64x16xf32>) outs(%c : memref<14x16xf32>)
  return
}

// A matmul on a weight prepared in panels of 16 columns
// (un-fold-into-linear's pack-weights): no packing, no stack buffer; each
// vector of a tile's row of B is read from panel (column / 16), at offset
// (column mod 16), row p + k. With AVX2 the two vectors of a 16-column tile
// are the two halves of one panel; with AVX-512 the two vectors of a
// 32-column tile are two panels; with SSE a vector of 4 is at offset 0, 4, 8 or
// 12. 64 = 10 * 6 + 4 rows.
// AVX2-LABEL: func.func @panels(
// AVX2-NOT: memref.alloca
// AVX2: scf.for %{{.*}} step %c6
// AVX2: %[[Q0:.*]] = arith.divui %[[C0:.*]], %c16
// AVX2-NEXT: %[[R0:.*]] = arith.remui %[[C0]], %c16
// AVX2: scf.for %[[K:.*]] = %{{.*}} to %c256 step %c4
// AVX2: %[[KK:.*]] = arith.addi %{{.*}}, %[[K]] :
// AVX2: vector.load %{{.*}}[%[[Q0]], %[[KK]], %[[R0]]] : memref<3x256x16xf32>, vector<8xf32>
// AVX2-NEXT: vector.load %{{.*}} : memref<3x256x16xf32>, vector<8xf32>
// AVX2-COUNT-12: vector.fma
// AVX2-NOT: linalg.generic
// AVX2: return
// Each iteration of a tile's k loop also prefetches a line of the block that
// runs next (here the next slab: panel (j + 32) / 16, clamped to the last
// panel; rows from 0, a run of 64 per tile) into L2 (locality 2).
// AVX512-LABEL: func.func @panels(
// AVX512-NOT: memref.alloca
// AVX512: %[[NEXTJ:.*]] = arith.addi %{{.*}}, %c32
// AVX512: %[[NEXTQ:.*]] = arith.divui %[[NEXTJ]], %c16
// AVX512: %[[Q:.*]] = arith.addi %[[NEXTQ]], %{{.*}}
// AVX512: %[[QC:.*]] = arith.minui %[[Q]], %c2
// AVX512: arith.muli %{{.*}}, %c64
// AVX512: %[[FIRST:.*]] = arith.minui %{{.*}}, %c192
// AVX512: scf.for %[[K:.*]] = %{{.*}} to %c256{{.*}} step %c4
// AVX512: %[[I:.*]] = arith.divui %[[K]], %c4
// AVX512: %[[ROW:.*]] = arith.addi %[[FIRST]], %[[I]]
// AVX512: memref.prefetch %arg1[%[[QC]], %[[ROW]], %{{.*}}], read, locality<2>, data : memref<3x256x16xf32>
// AVX512: vector.load %{{.*}} : memref<3x256x16xf32>, vector<16xf32>
// AVX512-NEXT: vector.load %{{.*}} : memref<3x256x16xf32>, vector<16xf32>
// AVX512-COUNT-16: vector.fma
// AVX512-NOT: linalg.generic
// AVX512: return
// SSE-LABEL: func.func @panels(
// SSE-NOT: memref.alloca
// SSE: vector.load %{{.*}} : memref<3x256x16xf32>, vector<4xf32>
// SSE-NEXT: vector.load %{{.*}} : memref<3x256x16xf32>, vector<4xf32>
// SSE-NOT: linalg.generic
// SSE: return
#pa = affine_map<(m, n, k) -> (m, k)>
#pb = affine_map<(m, n, k) -> (n floordiv 16, k, n mod 16)>
#pc = affine_map<(m, n, k) -> (m, n)>
func.func @panels(%a: memref<64x256xf32>, %b: memref<3x256x16xf32>, %c: memref<64x48xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<64x48xf32>)
  linalg.generic {indexing_maps = [#pa, #pb, #pc], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<64x256xf32>, memref<3x256x16xf32>) outs(%c : memref<64x48xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// Panels that are not one contiguous buffer are left to
// convert-linalg-to-loops.
// AVX2-LABEL: func.func @panels_strided(
// AVX2: linalg.generic
func.func @panels_strided(%a: memref<4x8xf32>, %b: memref<2x8x16xf32, strided<[256, 16, 1]>>, %c: memref<4x32xf32>) {
  linalg.generic {indexing_maps = [#pa, #pb, #pc], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<4x8xf32>, memref<2x8x16xf32, strided<[256, 16, 1]>>) outs(%c : memref<4x32xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}

// bf16 inputs, f32 accumulation: A is widened to an f32 copy once, B as
// it is packed; the k loop is the f32 one.
// AVX2-LABEL: func.func @bf16_inputs(
// AVX2: %[[A32:.*]] = memref.alloc() {alignment = 64 : i64} : memref<12x64xf32>
// AVX2: vector.load %{{.*}} : memref<12x64xbf16>, vector<8xbf16>
// AVX2-NEXT: arith.extf %{{.*}} : vector<8xbf16> to vector<8xf32>
// AVX2: vector.load %{{.*}} : memref<64x32xbf16>, vector<8xbf16>
// AVX2-NEXT: arith.extf %{{.*}} : vector<8xbf16> to vector<8xf32>
// AVX2: memref.load %[[A32]]
// AVX2: vector.fma
// AVX2-NOT: linalg.matmul
// AVX2: memref.dealloc %[[A32]]
func.func @bf16_inputs(%a: memref<12x64xbf16>, %b: memref<64x32xbf16>, %c: memref<12x32xf32>) {
  linalg.matmul ins(%a, %b : memref<12x64xbf16>, memref<64x32xbf16>) outs(%c : memref<12x32xf32>)
  return
}

// With B prepared in panels, an M whose rows of a K block of A exceed
// 256 KiB runs in row blocks of whole tiles, each against all the slabs
// (A's block stays in L2): M = 512, K = 768 in blocks of 384 (AVX-512) is
// 786 KiB, so three blocks: two of 180 rows, then 152 (12 tiles + 8 rows);
// with AVX2, K = 768 is one block (1.5 MiB): six blocks, five of 90 rows
// (the last 62 rows: 9 tiles, then two of 4 rows).
// Per call packed B keeps one pass (packing per row block would cost more).
// AVX512-LABEL: func.func @panels_row_blocks(
// AVX512: scf.for %[[R:.*]] = %{{.*}} to %c360 step %c180
// AVX512: %[[END:.*]] = arith.addi %[[R]], %c180
// AVX512: scf.for %{{.*}} = %[[R]] to %[[END]] step %c12
// AVX512: scf.for %{{.*}} = %c360{{.*}} to %c504{{.*}} step %c12
// AVX512: iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// AVX512: return
// AVX2-LABEL: func.func @panels_row_blocks(
// AVX2: scf.for %[[R:.*]] = %{{.*}} to %c450 step %c90
// AVX2: scf.for %{{.*}} = %[[R]] to %{{.*}} step %c6
// AVX2: scf.for %{{.*}} = %c450{{.*}} to %c504{{.*}} step %c6
// AVX2: return
func.func @panels_row_blocks(%a: memref<512x768xf32>, %b: memref<4x768x16xf32>, %c: memref<512x64xf32>) {
  linalg.generic {indexing_maps = [#pa, #pb, #pc], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : memref<512x768xf32>, memref<4x768x16xf32>) outs(%c : memref<512x64xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }
  return
}
