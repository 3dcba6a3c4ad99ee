// The GPU lowering checks in host code, before any kernel runs, what only
// run time knows: dims that are dynamic in several operands agree (here
// the mask's tokens and the activations' tokens) and a dynamic window has
// at least one row. Operands computed by other un ops are not checked
// again (psi comes from un.quadratic_mean).
// RUN: un-opt %s --un-decompose --convert-un-to-gpu | FileCheck %s

// CHECK-LABEL: func.func @train_forward_dynamic(
// CHECK: cf.assert %{{.*}}, "un.quadratic_mean: operand 1 (the mask) differs in dim 0 from the tokens of operand 0"
// CHECK: cf.assert %{{.*}}, "un: a statistics window has no rows
// CHECK-NOT: cf.assert
// CHECK: gpu.launch
func.func @train_forward_dynamic(%x: tensor<?x16xf32>, %g: tensor<16xf32>, %b: tensor<16xf32>, %rv: tensor<16xf32>, %w: tensor<?x16xf32>, %t: i64, %s: i64, %m: tensor<?xi1>) -> tensor<?x16xf32> {
  %y, %z, %var, %r, %skip, %rv1, %w1, %s1 = un.train_forward %x, %g, %b, %rv, %w, %t, %s mask %m : (tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<16xf32>, tensor<?x16xf32>, i64, i64, tensor<?xi1>) -> (tensor<?x16xf32>, tensor<?x16xf32>, tensor<16xf32>, tensor<16xf32>, i1, tensor<16xf32>, tensor<?x16xf32>, i64)
  return %y : tensor<?x16xf32>
}

// Channel counts that are dynamic in several operands are checked too.
// CHECK-LABEL: func.func @normalize_dynamic_channels(
// CHECK: cf.assert %{{.*}}, "un.normalize: operand 1 has another channel count than operand 0"
// CHECK: cf.assert %{{.*}}, "un.normalize: operand 2 has another channel count than operand 0"
// CHECK: gpu.launch
func.func @normalize_dynamic_channels(%x: tensor<8x?xf32>, %var: tensor<?xf32>, %g: tensor<?xf32>) -> tensor<8x?xf32> {
  %z, %y = un.normalize %x, %var, %g, %g : (tensor<8x?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>) -> (tensor<8x?xf32>, tensor<8x?xf32>)
  return %y : tensor<8x?xf32>
}
