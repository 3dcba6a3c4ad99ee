// Activations whose token dims are a static 0 and a dynamic size: the
// [0, ?] group collapses to a dynamic token count (upstream's type
// inference would make it a static 0, which memref.collapse_shape's
// verifier rejects). The whole CUDA pipeline accepts it too.
// RUN: un-opt %s --un-decompose --convert-un-to-gpu | FileCheck %s
// RUN: %if cuda-pipeline %{ un-opt %s --un-cuda-pipeline="format=isa" -o /dev/null %}
// RUN: un-opt %s --un-gpu-emulation-pipeline -o /dev/null

// CHECK-LABEL: func.func @infer_empty_batch(
// CHECK: memref.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : memref<0x?x16xf32> into memref<?x16xf32>
func.func @infer_empty_batch(%x: tensor<0x?x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>, %rv: tensor<16xf32>) -> tensor<0x?x16xf32> {
  %y = un.infer %x, %g, %b, %rv : (tensor<0x?x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>) -> tensor<0x?x16xf32>
  return %y : tensor<0x?x16xf32>
}

// CHECK-LABEL: func.func @quadratic_mean_empty_batch(
// CHECK: memref.collapse_shape %{{.*}} {{\[\[}}0, 1], [2]] : memref<0x?x16xf32> into memref<?x16xf32>
func.func @quadratic_mean_empty_batch(%x: tensor<0x?x16xf32>) -> tensor<16xf32> {
  %p = un.quadratic_mean %x : (tensor<0x?x16xf32>) -> tensor<16xf32>
  return %p : tensor<16xf32>
}
