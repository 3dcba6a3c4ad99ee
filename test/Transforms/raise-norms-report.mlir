// With report-raised, un-raise-norms says what it raised, one remark per
// normalization (un_mlir.compile counts them without printing the module):
// a decomposed UnifiedNorm and a preserved call.
// RUN: un-opt %s -un-raise-norms=report-raised=true -split-input-file -verify-diagnostics -o /dev/null
#ch = affine_map<(d0, d1) -> (d1)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#v = affine_map<(d0) -> (d0)>

func.func @un_inference(%x: tensor<3x8xf32>, %gamma: tensor<8xf32>, %beta: tensor<8xf32>, %rv: tensor<8xf32>) -> tensor<3x8xf32> {
  %eps = arith.constant 1.0e-03 : f64
  %e = tensor.empty() : tensor<3x8xf32>
  %ec = tensor.empty() : tensor<8xf32>
  %1 = linalg.generic {indexing_maps = [#ch, #id, #id], iterator_types = ["parallel", "parallel"]} ins(%gamma, %x : tensor<8xf32>, tensor<3x8xf32>) outs(%e : tensor<3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.mulf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<3x8xf32>
  %2 = linalg.generic {indexing_maps = [#v, #v], iterator_types = ["parallel"]} ins(%rv : tensor<8xf32>) outs(%ec : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %t = arith.truncf %eps : f64 to f32
    %r = arith.addf %in, %t : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %3 = linalg.generic {indexing_maps = [#v, #v], iterator_types = ["parallel"]} ins(%2 : tensor<8xf32>) outs(%ec : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %r = math.sqrt %in : f32
    linalg.yield %r : f32
  } -> tensor<8xf32>
  %4 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%1, %3 : tensor<3x8xf32>, tensor<8xf32>) outs(%e : tensor<3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.divf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<3x8xf32>
  // expected-remark @+1 {{raised to un.infer}}
  %5 = linalg.generic {indexing_maps = [#id, #ch, #id], iterator_types = ["parallel", "parallel"]} ins(%4, %beta : tensor<3x8xf32>, tensor<8xf32>) outs(%e : tensor<3x8xf32>) {
  ^bb0(%in: f32, %in_1: f32, %out: f32):
    %r = arith.addf %in, %in_1 : f32
    linalg.yield %r : f32
  } -> tensor<3x8xf32>
  return %5 : tensor<3x8xf32>
}
// -----

func.func private @un_mlir.unified_norm_infer.0(tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, f64) -> tensor<3x8xf32>
func.func @preserved(%x: tensor<3x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %rv: tensor<8xf32>) -> tensor<3x8xf32> {
  %eps = arith.constant 1.0e-03 : f64
  // expected-remark @+1 {{raised to un.infer}}
  %y = func.call @un_mlir.unified_norm_infer.0(%x, %g, %b, %rv, %eps) : (tensor<3x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, f64) -> tensor<3x8xf32>
  return %y : tensor<3x8xf32>
}
