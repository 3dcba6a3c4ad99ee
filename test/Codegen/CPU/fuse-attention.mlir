// un-cpu-fuse-attention: O = softmax(Q K^T) V as one loop over heads and
// blocks of rows, the scores and their softmax computed per tile.
// RUN: un-opt %s --un-cpu-fuse-attention --cse --canonicalize -split-input-file | FileCheck %s
// RUN: un-opt %s --un-cpu-fuse-attention=parallel=true --cse --canonicalize -split-input-file | FileCheck %s --check-prefix=PAR

// 2 heads of 1024 tokens: a tile of scores is at most 256 KiB, 64 rows of
// 1024 floats, so 16 row blocks per head.
// CHECK-LABEL: func.func @attention(
// CHECK: %[[O:.*]] = scf.for %[[H:.*]] = %c0 to %c2 step %c1 iter_args(%[[OH:.*]] = %{{.*}}) -> (tensor<2x1024x8xf32>)
// CHECK: scf.for %[[R:.*]] = %c0 to %c1024 step %c64 iter_args(%[[OR:.*]] = %[[OH]])
// CHECK-DAG: tensor.extract_slice %{{.*}}[%[[H]], %[[R]], 0] [1, 64, 8] [1, 1, 1] : tensor<2x1024x8xf32> to tensor<1x64x8xf32>
// CHECK-DAG: tensor.extract_slice %{{.*}}[%[[H]], 0, 0] [1, 8, 1024] [1, 1, 1] : tensor<2x8x1024xf32> to tensor<1x8x1024xf32>
// CHECK: %[[S:.*]] = linalg.batch_matmul ins({{.*}} : tensor<1x64x8xf32>, tensor<1x8x1024xf32>) outs(%{{.*}} : tensor<1x64x1024xf32>)
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}} ins(%[[S]] : tensor<1x64x1024xf32>) outs(%{{.*}} : tensor<1x64xf32>)
// CHECK: arith.maximumf
// CHECK: %[[E:.*]] = linalg.generic {{.*}} ins(%[[S]], %[[MAX]] : tensor<1x64x1024xf32>, tensor<1x64xf32>)
// CHECK: math.exp
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[E]] : tensor<1x64x1024xf32>)
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[E]], %[[SUM]] : tensor<1x64x1024xf32>, tensor<1x64xf32>)
// CHECK: %[[PV:.*]] = linalg.batch_matmul ins(%[[P]], %{{.*}} : tensor<1x64x1024xf32>, tensor<1x1024x8xf32>) outs(%{{.*}} : tensor<1x64x8xf32>)
// CHECK: tensor.insert_slice %[[PV]] into %[[OR]][%[[H]], %[[R]], 0] [1, 64, 8]
// CHECK-NOT: tensor<2x1024x1024xf32>
// CHECK: return %[[O]]
// PAR-LABEL: func.func @attention(
// PAR: scf.forall (%{{.*}}, %{{.*}}) = (0, 0) to (2, 1024) step (1, 64) shared_outs(%{{.*}} = %{{.*}}) -> (tensor<2x1024x8xf32>)
// PAR: linalg.batch_matmul {{.*}} outs(%{{.*}} : tensor<1x64x1024xf32>)
// PAR: tensor.parallel_insert_slice
#id = affine_map<(b, i, j) -> (b, i, j)>
#row = affine_map<(b, i, j) -> (b, i)>
func.func @attention(%q: tensor<2x1024x8xf32>, %kt: tensor<2x8x1024xf32>, %v: tensor<2x1024x8xf32>) -> tensor<2x1024x8xf32> {
  %zero = arith.constant 0.0 : f32
  %ninf = arith.constant 0xFF800000 : f32
  %es = tensor.empty() : tensor<2x1024x1024xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x1024x1024xf32>) -> tensor<2x1024x1024xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x1024x8xf32>, tensor<2x8x1024xf32>) outs(%fs : tensor<2x1024x1024xf32>) -> tensor<2x1024x1024xf32>
  %er = tensor.empty() : tensor<2x1024xf32>
  %fm = linalg.fill ins(%ninf : f32) outs(%er : tensor<2x1024xf32>) -> tensor<2x1024xf32>
  %max = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%s : tensor<2x1024x1024xf32>) outs(%fm : tensor<2x1024xf32>) {
  ^bb0(%x: f32, %m: f32):
    %r = arith.maximumf %m, %x : f32
    linalg.yield %r : f32
  } -> tensor<2x1024xf32>
  %e = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%s, %max : tensor<2x1024x1024xf32>, tensor<2x1024xf32>) outs(%es : tensor<2x1024x1024xf32>) {
  ^bb0(%x: f32, %m: f32, %o: f32):
    %d = arith.subf %x, %m : f32
    %x2 = math.exp %d : f32
    linalg.yield %x2 : f32
  } -> tensor<2x1024x1024xf32>
  %fz = linalg.fill ins(%zero : f32) outs(%er : tensor<2x1024xf32>) -> tensor<2x1024xf32>
  %sum = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%e : tensor<2x1024x1024xf32>) outs(%fz : tensor<2x1024xf32>) {
  ^bb0(%x: f32, %a: f32):
    %r = arith.addf %a, %x : f32
    linalg.yield %r : f32
  } -> tensor<2x1024xf32>
  %p = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%e, %sum : tensor<2x1024x1024xf32>, tensor<2x1024xf32>) outs(%es : tensor<2x1024x1024xf32>) {
  ^bb0(%x: f32, %t: f32, %o: f32):
    %r = arith.divf %x, %t : f32
    linalg.yield %r : f32
  } -> tensor<2x1024x1024xf32>
  %eo = tensor.empty() : tensor<2x1024x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x1024x8xf32>) -> tensor<2x1024x8xf32>
  %o = linalg.batch_matmul ins(%p, %v : tensor<2x1024x1024xf32>, tensor<2x1024x8xf32>) outs(%fo : tensor<2x1024x8xf32>) -> tensor<2x1024x8xf32>
  return %o : tensor<2x1024x8xf32>
}

// -----

// The scores are also a result: fusing would compute them twice, so the
// attention is left as it is.
// CHECK-LABEL: func.func @scores_escape(
// CHECK-NOT: scf.for
// CHECK: linalg.batch_matmul {{.*}} -> tensor<2x64x64xf32>
// CHECK: linalg.batch_matmul {{.*}} -> tensor<2x64x8xf32>
func.func @scores_escape(%q: tensor<2x64x8xf32>, %kt: tensor<2x8x64xf32>, %v: tensor<2x64x8xf32>) -> (tensor<2x64x8xf32>, tensor<2x64x64xf32>) {
  %zero = arith.constant 0.0 : f32
  %es = tensor.empty() : tensor<2x64x64xf32>
  %fs = linalg.fill ins(%zero : f32) outs(%es : tensor<2x64x64xf32>) -> tensor<2x64x64xf32>
  %s = linalg.batch_matmul ins(%q, %kt : tensor<2x64x8xf32>, tensor<2x8x64xf32>) outs(%fs : tensor<2x64x64xf32>) -> tensor<2x64x64xf32>
  %eo = tensor.empty() : tensor<2x64x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x64x8xf32>) -> tensor<2x64x8xf32>
  %o = linalg.batch_matmul ins(%s, %v : tensor<2x64x64xf32>, tensor<2x64x8xf32>) outs(%fo : tensor<2x64x8xf32>) -> tensor<2x64x8xf32>
  return %o, %s : tensor<2x64x8xf32>, tensor<2x64x64xf32>
}

// -----

// A product of two matrices that are not scores is no attention.
// CHECK-LABEL: func.func @plain(
// CHECK-NOT: scf.for
func.func @plain(%a: tensor<2x64x64xf32>, %v: tensor<2x64x8xf32>) -> tensor<2x64x8xf32> {
  %zero = arith.constant 0.0 : f32
  %eo = tensor.empty() : tensor<2x64x8xf32>
  %fo = linalg.fill ins(%zero : f32) outs(%eo : tensor<2x64x8xf32>) -> tensor<2x64x8xf32>
  %o = linalg.batch_matmul ins(%a, %v : tensor<2x64x64xf32>, tensor<2x64x8xf32>) outs(%fo : tensor<2x64x8xf32>) -> tensor<2x64x8xf32>
  return %o : tensor<2x64x8xf32>
}
