// un-cpu-outline-kernels: each kernel region becomes a call of a private,
// internal, noinline function (buffers of static shape passed as bare
// pointers); identical kernels (the same body on the same argument types)
// share one; constants are copied in.
// RUN: un-opt %s --un-cpu-outline-kernels | FileCheck %s

// CHECK-LABEL: func.func @two_layers(
// CHECK: call @[[K:__un_elementwise]](%arg0, %arg1)
// CHECK: call @[[K]](%arg1, %arg2)
// CHECK: call @[[OTHER:__un_elementwise_0]](%arg3)
// CHECK-NOT: scf.execute_region
// CHECK: func.func private @[[K]](%{{.*}}: memref<64xf32>, %{{.*}}: memref<64xf32>)
// CHECK-SAME: llvm.bareptr
// CHECK-SAME: llvm.linkage = #llvm.linkage<internal>
// CHECK-SAME: passthrough = ["noinline"]
// CHECK: arith.constant 2.0
// CHECK: return
// CHECK: func.func private @[[OTHER]](%{{.*}}: memref<32xf32>)
func.func @two_layers(%a: memref<64xf32>, %b: memref<64xf32>, %c: memref<64xf32>, %d: memref<32xf32>) {
  %two = arith.constant 2.0 : f32
  %c0 = arith.constant 0 : index
  scf.execute_region {
    %x = memref.load %a[%c0] : memref<64xf32>
    %y = arith.mulf %x, %two : f32
    memref.store %y, %b[%c0] : memref<64xf32>
    scf.yield
  } {un.kernel = "elementwise"}
  scf.execute_region {
    %x = memref.load %b[%c0] : memref<64xf32>
    %y = arith.mulf %x, %two : f32
    memref.store %y, %c[%c0] : memref<64xf32>
    scf.yield
  } {un.kernel = "elementwise"}
  scf.execute_region {
    %x = memref.load %d[%c0] : memref<32xf32>
    %y = arith.mulf %x, %two : f32
    memref.store %y, %d[%c0] : memref<32xf32>
    scf.yield
  } {un.kernel = "elementwise"}
  return
}
