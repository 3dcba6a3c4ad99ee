// un-cpu-vectorize-generics: elementwise and reduction linalg ops on
// buffers become loops over vectors of the target's width (AVX2: 8 f32
// lanes), the rest of a dim one masked step.
// RUN: un-opt %s --split-input-file --un-cpu-vectorize-generics=cpu=znver3 | FileCheck %s
// RUN: un-opt %s --split-input-file --un-cpu-vectorize-generics=cpu=skylake-avx512 | FileCheck %s --check-prefix=AVX512

// A parallel elementwise op with a broadcast row: 197 = 24 * 8 + 5.
// CHECK-LABEL: func.func @bias_gelu(
// CHECK: scf.for %[[I:.*]] = %c0 to %c197 step %c1
// CHECK: scf.for %[[J:.*]] = %c0{{.*}} to %c192 step %c8
// CHECK: vector.load %arg0[%[[I]], %[[J]]] : memref<197x197xf32>, vector<8xf32>
// CHECK: vector.load %arg1[%[[J]]] : memref<197xf32>, vector<8xf32>
// CHECK: arith.addf {{.*}} : vector<8xf32>
// CHECK: math.tanh {{.*}} : vector<8xf32>
// CHECK: vector.store {{.*}} : memref<197x197xf32>, vector<8xf32>
// CHECK: vector.constant_mask [5] : vector<8xi1>
// CHECK: vector.maskedload
// CHECK: vector.maskedstore
// CHECK-NOT: linalg.generic
// AVX512-LABEL: func.func @bias_gelu(
// AVX512: step %c16
// AVX512: vector.constant_mask [5] : vector<16xi1>
func.func @bias_gelu(%x: memref<197x197xf32>, %b: memref<197xf32>, %y: memref<197x197xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d1)>,
                                   affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x, %b : memref<197x197xf32>, memref<197xf32>) outs(%y : memref<197x197xf32>) {
  ^bb0(%a: f32, %c: f32, %o: f32):
    %s = arith.addf %a, %c : f32
    %t = math.tanh %s : f32
    linalg.yield %t : f32
  }
  return
}

// -----

// A row reduction (softmax's max): one partial maximum per lane from -inf,
// the masked rest keeps the partials, then one vector.reduction.
// CHECK-LABEL: func.func @row_max(
// CHECK: scf.for %[[I:.*]] = %c0 to %c6 step %c1
// CHECK: %[[NINF:.*]] = arith.constant dense<0xFF800000> : vector<8xf32>
// CHECK: %[[P:.*]] = scf.for {{.*}} step %c8 iter_args(%[[ACC:.*]] = %[[NINF]]) -> (vector<8xf32>)
// CHECK: arith.maximumf %[[ACC]], {{.*}} : vector<8xf32>
// CHECK: %[[M:.*]] = vector.constant_mask [5] : vector<8xi1>
// CHECK: %[[T:.*]] = arith.maximumf %[[P]], {{.*}} : vector<8xf32>
// CHECK: %[[Q:.*]] = arith.select %[[M]], %[[T]], %[[P]]
// CHECK: %[[R:.*]] = vector.reduction <maximumf>, %[[Q]] : vector<8xf32> into f32
// CHECK: %[[OLD:.*]] = memref.load %arg1[%[[I]]]
// CHECK: %[[NEW:.*]] = arith.maximumf %[[OLD]], %[[R]] : f32
// CHECK: memref.store %[[NEW]], %arg1[%[[I]]]
func.func @row_max(%s: memref<6x197xf32>, %m: memref<6xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%s : memref<6x197xf32>) outs(%m : memref<6xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.maximumf %acc, %a : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A column reduction (sum over tokens per channel, channels innermost):
// the channel dim is parallel and goes innermost; the sum over tokens
// keeps its order.
// CHECK-LABEL: func.func @column_sum_of_squares(
// CHECK: scf.for %[[T:.*]] = %c0 to %c197 step %c1
// CHECK: scf.for %[[C:.*]] = %c0{{.*}} to %c384{{.*}} step %c8
// CHECK: vector.load %arg0[%[[T]], %[[C]]]
// CHECK: vector.load %arg1[%[[C]]]
// CHECK: arith.mulf {{.*}} : vector<8xf32>
// CHECK: arith.addf {{.*}} : vector<8xf32>
// CHECK: vector.store {{.*}}, %arg1[%[[C]]]
// CHECK-NOT: vector.reduction
func.func @column_sum_of_squares(%x: memref<197x384xf32>, %acc: memref<384xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<197x384xf32>) outs(%acc : memref<384xf32>) {
  ^bb0(%a: f32, %o: f32):
    %sq = arith.mulf %a, %a : f32
    %r = arith.addf %o, %sq : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// Dynamic sizes: the rest is one step under vector.create_mask when any.
// Named ops (fill, transpose) are generalized first.
// CHECK-LABEL: func.func @dynamic(
// CHECK: %[[N:.*]] = memref.dim %arg0, %c1
// CHECK: scf.for {{.*}} step %c8
// CHECK: scf.if
// CHECK: vector.create_mask
// CHECK-LABEL: func.func @named(
// CHECK: vector.store {{.*}} : memref<16x24xf32>, vector<8xf32>
// CHECK: vector.load %arg0{{.*}} : memref<2x16x4x24xf32>, vector<8xf32>
// CHECK: vector.store {{.*}} : memref<2x4x16x24xf32>, vector<8xf32>
// CHECK-NOT: linalg.
func.func @dynamic(%x: memref<?x?xf32>, %y: memref<?x?xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<?x?xf32>) outs(%y : memref<?x?xf32>) {
  ^bb0(%a: f32, %o: f32):
    %e = math.exp %a : f32
    linalg.yield %e : f32
  }
  return
}
func.func @named(%x: memref<2x16x4x24xf32>, %y: memref<2x4x16x24xf32>, %z: memref<16x24xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%z : memref<16x24xf32>)
  linalg.transpose ins(%x : memref<2x16x4x24xf32>) outs(%y : memref<2x4x16x24xf32>) permutation = [0, 2, 1, 3]
  return
}

// -----

// Left to convert-linalg-to-loops: integer division (it would trap on
// masked-off lanes), a non-constant powi exponent, a dim shorter than one
// vector, a transpose of the innermost dim, linalg.index, i1 buffers (a
// vector of i1 is bit-packed in memory, a memref of i1 is not), an input
// that is the output read through another map.
// CHECK-LABEL: func.func @left_alone(
// CHECK-COUNT-7: linalg.generic
// CHECK-NOT: vector.
func.func @left_alone(%i: memref<64x64xi32>, %x: memref<64x64xf32>, %n: i32, %s: memref<64x3xf32>,
                      %t: memref<64x64xf32>, %b: memref<64x64xi1>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%b : memref<64x64xi1>) {
  ^bb0(%o: i1):
    %nb = arith.xori %o, %o : i1
    linalg.yield %nb : i1
  }
  %row = memref.subview %x[0, 0] [1, 64] [1, 1] : memref<64x64xf32> to memref<64xf32, strided<[1]>>
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%row : memref<64xf32, strided<[1]>>) outs(%x : memref<64x64xf32>) {
  ^bb0(%a: f32, %o: f32):
    %sum = arith.addf %a, %o : f32
    linalg.yield %sum : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%i : memref<64x64xi32>) {
  ^bb0(%o: i32):
    %d = arith.divsi %o, %o : i32
    linalg.yield %d : i32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%x : memref<64x64xf32>) {
  ^bb0(%o: f32):
    %p = math.fpowi %o, %n : f32, i32
    linalg.yield %p : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%s : memref<64x3xf32>) {
  ^bb0(%o: f32):
    %p = arith.addf %o, %o : f32
    linalg.yield %p : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0, d1)>],
                  iterator_types = ["parallel", "parallel"]}
      ins(%x : memref<64x64xf32>) outs(%t : memref<64x64xf32>) {
  ^bb0(%a: f32, %o: f32):
    linalg.yield %a : f32
  }
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      outs(%x : memref<64x64xf32>) {
  ^bb0(%o: f32):
    %j = linalg.index 1 : index
    %f = arith.index_cast %j : index to i32
    %g = arith.sitofp %f : i32 to f32
    linalg.yield %g : f32
  }
  return
}

// -----

// With parallel=true the outermost loop becomes scf.parallel when it is a
// parallel dim (rows of a softmax), not when it is a reduction (tokens of
// a column sum).
// RUN: un-opt %s --split-input-file --un-cpu-vectorize-generics="cpu=znver3 parallel=true" | FileCheck %s --check-prefix=PAR
// CHECK-LABEL: func.func @parallel_rows(
// CHECK-NOT: scf.parallel
// PAR-LABEL: func.func @parallel_rows(
// PAR: scf.parallel (%{{.*}}) = (%c0) to (%c6) step (%c1)
// PAR: vector.reduction <add>
// PAR-LABEL: func.func @serial_tokens(
// PAR-NOT: scf.parallel
// PAR: return
func.func @parallel_rows(%s: memref<6x197xf32>, %m: memref<6xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%s : memref<6x197xf32>) outs(%m : memref<6xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  }
  return
}
func.func @serial_tokens(%x: memref<197x384xf32>, %acc: memref<384xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1, d0)>, affine_map<(d0, d1) -> (d0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<197x384xf32>) outs(%acc : memref<384xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %o, %a : f32
    linalg.yield %r : f32
  }
  return
}

// -----

// A keepdim reduction as torch-mlir writes it (the output read at a
// constant 0 in its unit dim).
// CHECK-LABEL: func.func @keepdim_sum(
// CHECK: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>)
// CHECK: vector.reduction <add>
// CHECK: memref.load %arg1[%{{.*}}, %c0{{.*}}] : memref<40x1xf32>
// CHECK-NOT: linalg.generic
func.func @keepdim_sum(%x: memref<40x10xf32>, %s: memref<40x1xf32>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, 0)>],
                  iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<40x10xf32>) outs(%s : memref<40x1xf32>) {
  ^bb0(%a: f32, %acc: f32):
    %r = arith.addf %acc, %a : f32
    linalg.yield %r : f32
  }
  return
}
