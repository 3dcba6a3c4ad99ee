// The shared-memory tiled matmul kernels of un-gpu-matmul, run on the host
// by un-gpu-emulate (un-gpu-emulation-pipeline), against a reference
// computed by the CPU pipeline from a linalg.generic with matmul semantics:
// every element within a relative 1e-5. Shapes are not multiples of the
// 64 x 64 x 16 tile: the folded QKV projection of ViT-S (197x384 @
// 384x1152), the attention scores per head (6x197x64 @ 6x64x197) and a
// small matmul with K not a multiple of 16 and a non-constant init.
//
// RUN: un-opt %s --un-gpu-matmul | FileCheck %s --check-prefix=IR
// RUN: un-opt %s --un-gpu-emulation-pipeline | mlir-runner -e main -entry-point-result=void --shared-libs=%mlir_runner_utils,%mlir_c_runner_utils | FileCheck %s

// The three matmuls are kernels; the references are not.
// IR-COUNT-3: gpu.launch
// IR-NOT: gpu.launch
// IR-NOT: linalg.matmul
// IR-NOT: linalg.batch_matmul

// CHECK: qkv bad 0
// CHECK-NEXT: scores bad 0
// CHECK-NEXT: init bad 0

#a2 = affine_map<(i, j, k) -> (i, k)>
#b2 = affine_map<(i, j, k) -> (k, j)>
#c2 = affine_map<(i, j, k) -> (i, j)>
#a3 = affine_map<(b, i, j, k) -> (b, i, k)>
#b3 = affine_map<(b, i, j, k) -> (b, k, j)>
#c3 = affine_map<(b, i, j, k) -> (b, i, j)>
#id2 = affine_map<(i, j) -> (i, j)>
#id3 = affine_map<(b, i, j) -> (b, i, j)>
#to0_2 = affine_map<(i, j) -> ()>
#to0_3 = affine_map<(b, i, j) -> ()>

func.func @main() {
  %c0_i64 = arith.constant 0 : i64
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %c7 = arith.constant 7 : index
  %c11 = arith.constant 11 : index
  %c13 = arith.constant 13 : index
  %c17 = arith.constant 17 : index
  %f17 = arith.constant 17.0 : f32
  %half = arith.constant 0.5 : f32
  %zero = arith.constant 0.0 : f32
  %rtol = arith.constant 1.0e-5 : f32

  // QKV: [197, 384] @ [384, 1152].
  %qa_e = tensor.empty() : tensor<197x384xf32>
  %qa = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]}
      outs(%qa_e : tensor<197x384xf32>) {
  ^bb0(%out: f32):
    %qa_i0 = linalg.index 0 : index
    %qa_i1 = linalg.index 1 : index
    %qa_m0 = arith.muli %qa_i0, %c7 : index
    %qa_m1 = arith.muli %qa_i1, %c3 : index
    %qa_s1 = arith.addi %qa_m0, %qa_m1 : index
    %qa_r = arith.remui %qa_s1, %c17 : index
    %qa_n = arith.index_cast %qa_r : index to i64
    %qa_f = arith.uitofp %qa_n : i64 to f32
    %qa_d = arith.divf %qa_f, %f17 : f32
    %qa_v = arith.addf %qa_d, %half : f32
    linalg.yield %qa_v : f32
  } -> tensor<197x384xf32>
  %qb_e = tensor.empty() : tensor<384x1152xf32>
  %qb = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]}
      outs(%qb_e : tensor<384x1152xf32>) {
  ^bb0(%out: f32):
    %qb_i0 = linalg.index 0 : index
    %qb_i1 = linalg.index 1 : index
    %qb_m0 = arith.muli %qb_i0, %c5 : index
    %qb_m1 = arith.muli %qb_i1, %c11 : index
    %qb_s1 = arith.addi %qb_m0, %qb_m1 : index
    %qb_r = arith.remui %qb_s1, %c17 : index
    %qb_n = arith.index_cast %qb_r : index to i64
    %qb_f = arith.uitofp %qb_n : i64 to f32
    %qb_d = arith.divf %qb_f, %f17 : f32
    %qb_v = arith.addf %qb_d, %half : f32
    linalg.yield %qb_v : f32
  } -> tensor<384x1152xf32>
  %qe = tensor.empty() : tensor<197x1152xf32>
  %q0 = linalg.fill ins(%zero : f32) outs(%qe : tensor<197x1152xf32>) -> tensor<197x1152xf32>
  %qc = linalg.matmul ins(%qa, %qb : tensor<197x384xf32>, tensor<384x1152xf32>) outs(%q0 : tensor<197x1152xf32>) -> tensor<197x1152xf32>
  %qr = linalg.generic {indexing_maps = [#a2, #b2, #c2], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%qa, %qb : tensor<197x384xf32>, tensor<384x1152xf32>) outs(%q0 : tensor<197x1152xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<197x1152xf32>
  %qkv_z = tensor.empty() : tensor<i64>
  %qkv_zf = linalg.fill ins(%c0_i64 : i64) outs(%qkv_z : tensor<i64>) -> tensor<i64>
  %qkv_bad = linalg.generic {indexing_maps = [#id2, #id2, #to0_2], iterator_types = ["reduction", "reduction"]}
      ins(%qc, %qr : tensor<197x1152xf32>, tensor<197x1152xf32>) outs(%qkv_zf : tensor<i64>) {
  ^bb0(%x: f32, %y: f32, %n: i64):
    %d = arith.subf %x, %y : f32
    %ad = math.absf %d : f32
    %ay = math.absf %y : f32
    %tol = arith.mulf %ay, %rtol : f32
    %bad = arith.cmpf ugt, %ad, %tol : f32
    %one = arith.extui %bad : i1 to i64
    %s = arith.addi %n, %one : i64
    linalg.yield %s : i64
  } -> tensor<i64>
  %qkv_cnt = tensor.extract %qkv_bad[] : tensor<i64>
  vector.print str "qkv bad "
  vector.print %qkv_cnt : i64

  // Attention scores: [6, 197, 64] @ [6, 64, 197].
  %sa_e = tensor.empty() : tensor<6x197x64xf32>
  %sa = linalg.generic {indexing_maps = [#id3], iterator_types = ["parallel", "parallel", "parallel"]}
      outs(%sa_e : tensor<6x197x64xf32>) {
  ^bb0(%out: f32):
    %sa_i0 = linalg.index 0 : index
    %sa_i1 = linalg.index 1 : index
    %sa_i2 = linalg.index 2 : index
    %sa_m0 = arith.muli %sa_i0, %c13 : index
    %sa_m1 = arith.muli %sa_i1, %c7 : index
    %sa_s1 = arith.addi %sa_m0, %sa_m1 : index
    %sa_m2 = arith.muli %sa_i2, %c3 : index
    %sa_s2 = arith.addi %sa_s1, %sa_m2 : index
    %sa_r = arith.remui %sa_s2, %c17 : index
    %sa_n = arith.index_cast %sa_r : index to i64
    %sa_f = arith.uitofp %sa_n : i64 to f32
    %sa_d = arith.divf %sa_f, %f17 : f32
    %sa_v = arith.addf %sa_d, %half : f32
    linalg.yield %sa_v : f32
  } -> tensor<6x197x64xf32>
  %sb_e = tensor.empty() : tensor<6x64x197xf32>
  %sb = linalg.generic {indexing_maps = [#id3], iterator_types = ["parallel", "parallel", "parallel"]}
      outs(%sb_e : tensor<6x64x197xf32>) {
  ^bb0(%out: f32):
    %sb_i0 = linalg.index 0 : index
    %sb_i1 = linalg.index 1 : index
    %sb_i2 = linalg.index 2 : index
    %sb_m0 = arith.muli %sb_i0, %c3 : index
    %sb_m1 = arith.muli %sb_i1, %c5 : index
    %sb_s1 = arith.addi %sb_m0, %sb_m1 : index
    %sb_m2 = arith.muli %sb_i2, %c11 : index
    %sb_s2 = arith.addi %sb_s1, %sb_m2 : index
    %sb_r = arith.remui %sb_s2, %c17 : index
    %sb_n = arith.index_cast %sb_r : index to i64
    %sb_f = arith.uitofp %sb_n : i64 to f32
    %sb_d = arith.divf %sb_f, %f17 : f32
    %sb_v = arith.addf %sb_d, %half : f32
    linalg.yield %sb_v : f32
  } -> tensor<6x64x197xf32>
  %se = tensor.empty() : tensor<6x197x197xf32>
  %s0 = linalg.fill ins(%zero : f32) outs(%se : tensor<6x197x197xf32>) -> tensor<6x197x197xf32>
  %sc = linalg.batch_matmul ins(%sa, %sb : tensor<6x197x64xf32>, tensor<6x64x197xf32>) outs(%s0 : tensor<6x197x197xf32>) -> tensor<6x197x197xf32>
  %sr = linalg.generic {indexing_maps = [#a3, #b3, #c3], iterator_types = ["parallel", "parallel", "parallel", "reduction"]}
      ins(%sa, %sb : tensor<6x197x64xf32>, tensor<6x64x197xf32>) outs(%s0 : tensor<6x197x197xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<6x197x197xf32>
  %scores_z = tensor.empty() : tensor<i64>
  %scores_zf = linalg.fill ins(%c0_i64 : i64) outs(%scores_z : tensor<i64>) -> tensor<i64>
  %scores_bad = linalg.generic {indexing_maps = [#id3, #id3, #to0_3], iterator_types = ["reduction", "reduction", "reduction"]}
      ins(%sc, %sr : tensor<6x197x197xf32>, tensor<6x197x197xf32>) outs(%scores_zf : tensor<i64>) {
  ^bb0(%x: f32, %y: f32, %n: i64):
    %d = arith.subf %x, %y : f32
    %ad = math.absf %d : f32
    %ay = math.absf %y : f32
    %tol = arith.mulf %ay, %rtol : f32
    %bad = arith.cmpf ugt, %ad, %tol : f32
    %one = arith.extui %bad : i1 to i64
    %s = arith.addi %n, %one : i64
    linalg.yield %s : i64
  } -> tensor<i64>
  %scores_cnt = tensor.extract %scores_bad[] : tensor<i64>
  vector.print str "scores bad "
  vector.print %scores_cnt : i64

  // K = 20 (not a multiple of 16), a non-constant init: [70, 20] @ [20, 33].
  %ia_e = tensor.empty() : tensor<70x20xf32>
  %ia = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]}
      outs(%ia_e : tensor<70x20xf32>) {
  ^bb0(%out: f32):
    %ia_i0 = linalg.index 0 : index
    %ia_i1 = linalg.index 1 : index
    %ia_m0 = arith.muli %ia_i0, %c7 : index
    %ia_m1 = arith.muli %ia_i1, %c3 : index
    %ia_s1 = arith.addi %ia_m0, %ia_m1 : index
    %ia_r = arith.remui %ia_s1, %c17 : index
    %ia_n = arith.index_cast %ia_r : index to i64
    %ia_f = arith.uitofp %ia_n : i64 to f32
    %ia_d = arith.divf %ia_f, %f17 : f32
    %ia_v = arith.addf %ia_d, %half : f32
    linalg.yield %ia_v : f32
  } -> tensor<70x20xf32>
  %ib_e = tensor.empty() : tensor<20x33xf32>
  %ib = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]}
      outs(%ib_e : tensor<20x33xf32>) {
  ^bb0(%out: f32):
    %ib_i0 = linalg.index 0 : index
    %ib_i1 = linalg.index 1 : index
    %ib_m0 = arith.muli %ib_i0, %c5 : index
    %ib_m1 = arith.muli %ib_i1, %c11 : index
    %ib_s1 = arith.addi %ib_m0, %ib_m1 : index
    %ib_r = arith.remui %ib_s1, %c17 : index
    %ib_n = arith.index_cast %ib_r : index to i64
    %ib_f = arith.uitofp %ib_n : i64 to f32
    %ib_d = arith.divf %ib_f, %f17 : f32
    %ib_v = arith.addf %ib_d, %half : f32
    linalg.yield %ib_v : f32
  } -> tensor<20x33xf32>
  %i0_e = tensor.empty() : tensor<70x33xf32>
  %i0 = linalg.generic {indexing_maps = [#id2], iterator_types = ["parallel", "parallel"]}
      outs(%i0_e : tensor<70x33xf32>) {
  ^bb0(%out: f32):
    %i0_i0 = linalg.index 0 : index
    %i0_i1 = linalg.index 1 : index
    %i0_m0 = arith.muli %i0_i0, %c13 : index
    %i0_m1 = arith.muli %i0_i1, %c1 : index
    %i0_s1 = arith.addi %i0_m0, %i0_m1 : index
    %i0_r = arith.remui %i0_s1, %c17 : index
    %i0_n = arith.index_cast %i0_r : index to i64
    %i0_f = arith.uitofp %i0_n : i64 to f32
    %i0_d = arith.divf %i0_f, %f17 : f32
    %i0_v = arith.addf %i0_d, %half : f32
    linalg.yield %i0_v : f32
  } -> tensor<70x33xf32>
  %ic = linalg.matmul ins(%ia, %ib : tensor<70x20xf32>, tensor<20x33xf32>) outs(%i0 : tensor<70x33xf32>) -> tensor<70x33xf32>
  %ir = linalg.generic {indexing_maps = [#a2, #b2, #c2], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%ia, %ib : tensor<70x20xf32>, tensor<20x33xf32>) outs(%i0 : tensor<70x33xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<70x33xf32>
  %init_z = tensor.empty() : tensor<i64>
  %init_zf = linalg.fill ins(%c0_i64 : i64) outs(%init_z : tensor<i64>) -> tensor<i64>
  %init_bad = linalg.generic {indexing_maps = [#id2, #id2, #to0_2], iterator_types = ["reduction", "reduction"]}
      ins(%ic, %ir : tensor<70x33xf32>, tensor<70x33xf32>) outs(%init_zf : tensor<i64>) {
  ^bb0(%x: f32, %y: f32, %n: i64):
    %d = arith.subf %x, %y : f32
    %ad = math.absf %d : f32
    %ay = math.absf %y : f32
    %tol = arith.mulf %ay, %rtol : f32
    %bad = arith.cmpf ugt, %ad, %tol : f32
    %one = arith.extui %bad : i1 to i64
    %s = arith.addi %n, %one : i64
    linalg.yield %s : i64
  } -> tensor<i64>
  %init_cnt = tensor.extract %init_bad[] : tensor<i64>
  vector.print str "init bad "
  vector.print %init_cnt : i64
  return
}
