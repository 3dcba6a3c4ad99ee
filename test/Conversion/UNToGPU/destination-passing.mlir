// RUN: un-opt %S/Inputs/train-step-dps.mlir --un-decompose --convert-un-to-gpu | FileCheck %s

// A destination-passing training step never waits for the host: kernels
// write every result into the caller's buffers (no copies, no
// materialize_in_destination left), load t/skips/skip from the scalar
// arguments on the device, and the statistics kernel stores skip and
// skips_new into the output scalars itself.

// CHECK-LABEL: func.func @un_forward(
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<2x3x8xf32>
// CHECK-SAME: %[[SCALARS:[a-z0-9]+]]: memref<2xi64>, %[[Y:[a-z0-9]+]]: memref<2x3x8xf32>, %[[Z:[a-z0-9]+]]: memref<2x3x8xf32>
// CHECK-SAME: %[[SCALARS_OUT:[a-z0-9]+]]: memref<2xi64>)
// CHECK-NOT: materialize_in_destination
// CHECK-NOT: memref.copy
// CHECK: function(@un_forward_forward_stats)
// CHECK: memref.load %[[SCALARS]][%{{.*}}] : memref<2xi64>
// CHECK: memref.store %{{.*}}, %[[SCALARS_OUT]][%{{.*}}] : memref<2xi64>
// CHECK: memref.store %{{.*}}, %[[SCALARS_OUT]][%{{.*}}] : memref<2xi64>
// CHECK-DAG: memref.collapse_shape %[[Y]]
// CHECK-DAG: memref.collapse_shape %[[Z]]
// CHECK: function(@un_forward_normalize)
// CHECK-NOT: materialize_in_destination
// CHECK-NOT: memref.copy
// CHECK: return

// CHECK-LABEL: func.func @un_backward(
// CHECK-SAME: %[[SCALARS:[a-z0-9]+]]: memref<2xi64>, %[[GX:[a-z0-9]+]]: memref<2x3x8xf32>
// CHECK-NOT: memref.load %[[SCALARS]]
// CHECK: function(@un_backward_grad_stats)
// CHECK-DAG: memref.load %[[SCALARS]][%c1{{.*}}] : memref<2xi64>
// CHECK-DAG: memref.load %[[SCALARS]][%c0{{.*}}] : memref<2xi64>
// CHECK: memref.collapse_shape %[[GX]]
// CHECK: function(@un_backward_input_grad)
// CHECK-NOT: materialize_in_destination
// CHECK-NOT: memref.copy
// CHECK: return
