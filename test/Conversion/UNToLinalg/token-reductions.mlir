// RUN: un-opt %s -convert-un-to-linalg -split-input-file | FileCheck %s

// One reduction over every token (channels innermost, parallel), f32
// accumulation of x^2, then a [C] division by the token count.
// CHECK-DAG: #[[ALL:.*]] = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
// CHECK-DAG: #[[CH:.*]] = affine_map<(d0, d1, d2) -> (d2)>
// CHECK-LABEL: func.func @quadratic_mean(
// CHECK-SAME: %[[X:.*]]: tensor<?x?x8xf16>)
// CHECK: %[[INIT:.*]] = linalg.fill
// CHECK: %[[SUM:.*]] = linalg.generic {indexing_maps = [#[[ALL]], #[[CH]]], iterator_types = ["reduction", "reduction", "parallel"]} ins(%[[X]] : tensor<?x?x8xf16>) outs(%[[INIT]] : tensor<8xf32>)
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[D0:.*]] = tensor.dim %[[X]], %c0
// CHECK: %[[D1:.*]] = tensor.dim %[[X]], %c1
// CHECK: %[[T:.*]] = arith.muli %[[D0]], %[[D1]]
// CHECK: %[[TI:.*]] = arith.index_castui %[[T]] : index to i64
// CHECK: %[[TF:.*]] = arith.uitofp %[[TI]] : i64 to f32
// CHECK: linalg.generic {{.*}} ins(%[[SUM]] : tensor<8xf32>)
// CHECK: arith.divf %{{.*}}, %[[TF]] : f32
// CHECK-NOT: un.
func.func @quadratic_mean(%x: tensor<?x?x8xf16>) -> tensor<8xf32> {
  %psi = un.quadratic_mean %x : (tensor<?x?x8xf16>) -> tensor<8xf32>
  return %psi : tensor<8xf32>
}

// -----

// With a mask: padded tokens contribute 0 and the divisor counts the
// unpadded tokens only.
// CHECK-DAG: #[[TOK:.*]] = affine_map<(d0, d1) -> (d0)>
// CHECK-LABEL: func.func @quadratic_mean_mask(
// CHECK-SAME: %[[X:.*]]: tensor<5x8xf32>, %[[M:.*]]: tensor<5xi1>)
// CHECK: linalg.generic {{.*}}#[[TOK]]{{.*}} ins(%[[X]], %[[M]] : tensor<5x8xf32>, tensor<5xi1>)
// CHECK: ^bb0(%[[V:.*]]: f32, %[[PAD:.*]]: i1, %[[ACC:.*]]: f32):
// CHECK: %[[SQ:.*]] = arith.mulf %[[V]], %[[V]]
// CHECK: arith.select %[[PAD]], %{{.*}}, %[[SQ]]
// CHECK: linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[M]] : tensor<5xi1>) outs(%{{.*}} : tensor<i64>)
// CHECK: arith.xori
// CHECK: arith.extui
// CHECK: %[[COUNT:.*]] = tensor.extract
// CHECK: arith.uitofp %[[COUNT]] : i64 to f32
func.func @quadratic_mean_mask(%x: tensor<5x8xf32>, %m: tensor<5xi1>) -> tensor<8xf32> {
  %psi = un.quadratic_mean %x mask %m : (tensor<5x8xf32>, tensor<5xi1>) -> tensor<8xf32>
  return %psi : tensor<8xf32>
}

// -----

// The three gradient sums share one pass over gy and z.
// CHECK-LABEL: func.func @grad_stats(
// CHECK: %[[SUMS:.*]]:3 = linalg.generic {{.*}} iterator_types = ["reduction", "parallel"]} ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x16xbf16>, tensor<?x16xbf16>, tensor<16xf32>, tensor<16xbf16>) outs(%{{.*}}, %{{.*}}, %{{.*}} : tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
// CHECK-COUNT-3: arith.extf
// CHECK: linalg.generic {{.*}} ins(%[[SUMS]]#0, %[[SUMS]]#1, %[[SUMS]]#2 : {{.*}}) outs({{.*}} : tensor<16xf32>, tensor<16xbf16>, tensor<16xbf16>)
// CHECK: arith.divf
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: arith.truncf %{{.*}} : f32 to bf16
func.func @grad_stats(%gy: tensor<?x16xbf16>, %z: tensor<?x16xbf16>, %r: tensor<16xf32>, %g: tensor<16xbf16>) -> (tensor<16xf32>, tensor<16xbf16>, tensor<16xbf16>) {
  %0:3 = un.grad_stats %gy, %z, %r, %g : (tensor<?x16xbf16>, tensor<?x16xbf16>, tensor<16xf32>, tensor<16xbf16>) -> (tensor<16xf32>, tensor<16xbf16>, tensor<16xbf16>)
  return %0#0, %0#1, %0#2 : tensor<16xf32>, tensor<16xbf16>, tensor<16xbf16>
}

// -----

// Results less static than the computed values are reached by casts.
// CHECK-LABEL: func.func @grad_stats_dynamic_results(
// CHECK: %[[S:.*]]:3 = linalg.generic
// CHECK: %[[R:.*]]:3 = linalg.generic {{.*}} ins(%[[S]]#0, %[[S]]#1, %[[S]]#2
// CHECK: } -> (tensor<16xf32>, tensor<16xf32>, tensor<16xf32>)
// CHECK: %[[GG:.*]] = tensor.cast %[[R]]#1 : tensor<16xf32> to tensor<?xf32>
// CHECK: return %[[R]]#0, %[[GG]], %[[R]]#2
func.func @grad_stats_dynamic_results(%gy: tensor<?x16xf32>, %z: tensor<?x16xf32>, %r: tensor<16xf32>, %g: tensor<16xf32>) -> (tensor<16xf32>, tensor<?xf32>, tensor<16xf32>) {
  %0:3 = un.grad_stats %gy, %z, %r, %g : (tensor<?x16xf32>, tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>) -> (tensor<16xf32>, tensor<?xf32>, tensor<16xf32>)
  return %0#0, %0#1, %0#2 : tensor<16xf32>, tensor<?xf32>, tensor<16xf32>
}

// -----

// all_ranks: the per-channel sums and the unpadded-token count travel in one
// [C + 1] vector through un.sum_across_ranks; psi divides the totals.
// CHECK-LABEL: func.func @quadratic_mean_all_ranks(
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<8xf32>)
// CHECK: %[[COUNT:.*]] = arith.uitofp %{{.*}} : i64 to f32
// CHECK: %[[P0:.*]] = tensor.insert_slice %[[SUM]] into %{{.*}}[0] [8] [1] : tensor<8xf32> into tensor<9xf32>
// CHECK: %[[P1:.*]] = tensor.insert %[[COUNT]] into %[[P0]][%[[C8:.*]]] : tensor<9xf32>
// CHECK: %[[TOTAL:.*]] = un.sum_across_ranks %[[P1]] into %{{.*}} : tensor<9xf32>, tensor<9xf32> -> tensor<9xf32>
// CHECK: %[[SUMS:.*]] = tensor.extract_slice %[[TOTAL]][0] [8] [1] : tensor<9xf32> to tensor<8xf32>
// CHECK: %[[N:.*]] = tensor.extract %[[TOTAL]][%[[C8]]] : tensor<9xf32>
// CHECK: linalg.generic {{.*}} ins(%[[SUMS]] : tensor<8xf32>)
// CHECK: arith.divf %{{.*}}, %[[N]] : f32
func.func @quadratic_mean_all_ranks(%x: tensor<?x8xf32>, %m: tensor<?xi1>) -> tensor<8xf32> {
  %psi = un.quadratic_mean %x mask %m {all_ranks} : (tensor<?x8xf32>, tensor<?xi1>) -> tensor<8xf32>
  return %psi : tensor<8xf32>
}

// -----

// all_ranks with a dynamic channel count: a [C + 1] vector of dynamic size.
// Only gz is taken across processes; ggamma and gbeta stay local.
// CHECK-LABEL: func.func @grad_stats_all_ranks(
// CHECK: %[[SUMS:.*]]:3 = linalg.generic
// CHECK: %[[C:.*]] = tensor.dim %[[SUMS]]#0, %c0
// CHECK: %[[N1:.*]] = arith.addi %[[C]], %c1
// CHECK: tensor.empty(%[[N1]]) : tensor<?xf32>
// CHECK: tensor.insert_slice %[[SUMS]]#0 into
// CHECK: %[[TOTAL:.*]] = un.sum_across_ranks {{.*}} : tensor<?xf32>, tensor<?xf32> -> tensor<?xf32>
// CHECK: %[[GZ:.*]] = tensor.extract_slice %[[TOTAL]][0] [%[[C]]] [1]
// CHECK: linalg.generic {{.*}} ins(%[[GZ]], %[[SUMS]]#1, %[[SUMS]]#2 :
// CHECK-NOT: un.sum_across_ranks
func.func @grad_stats_all_ranks(%gy: tensor<?x?xf32>, %z: tensor<?x?xf32>, %r: tensor<?xf32>, %g: tensor<?xf32>) -> (tensor<?xf32>, tensor<?xf32>, tensor<?xf32>) {
  %gz, %gg, %gb = un.grad_stats %gy, %z, %r, %g {all_ranks} : (tensor<?x?xf32>, tensor<?x?xf32>, tensor<?xf32>, tensor<?xf32>) -> (tensor<?xf32>, tensor<?xf32>, tensor<?xf32>)
  return %gz, %gg, %gb : tensor<?xf32>, tensor<?xf32>, tensor<?xf32>
}
