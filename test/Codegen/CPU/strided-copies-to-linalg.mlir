// RUN: un-opt %s --un-cpu-strided-copies-to-linalg | FileCheck %s
// RUN: un-opt %s --un-cpu-pipeline | FileCheck %s --check-prefix=LLVM

// A copy out of a strided subview would call the runtime's memrefCopy.
// CHECK-LABEL: func.func @strided
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%{{.*}} : memref<4x8xf32, strided<[16, 1]>>) outs(%{{.*}} : memref<4x8xf32>)
// LLVM-LABEL: llvm.func @strided
// LLVM-NOT: memrefCopy
func.func @strided(%a: memref<4x16xf32>, %b: memref<4x8xf32>) {
  %v = memref.subview %a[0, 0] [4, 8] [1, 1] : memref<4x16xf32> to memref<4x8xf32, strided<[16, 1]>>
  memref.copy %v, %b : memref<4x8xf32, strided<[16, 1]>> to memref<4x8xf32>
  return
}

// Contiguous buffers, static or dynamic: memcpy, left alone.
// CHECK-LABEL: func.func @contiguous
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<4x8xf32> to memref<4x8xf32>
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<?x8xf32> to memref<?x8xf32>
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<8xf32, strided<[1], offset: 8>> to memref<8xf32>
func.func @contiguous(%a: memref<4x8xf32>, %b: memref<4x8xf32>, %c: memref<?x8xf32>, %d: memref<?x8xf32>, %e: memref<16xf32>, %f: memref<8xf32>) {
  memref.copy %a, %b : memref<4x8xf32> to memref<4x8xf32>
  memref.copy %c, %d : memref<?x8xf32> to memref<?x8xf32>
  %tail = memref.subview %e[8] [8] [1] : memref<16xf32> to memref<8xf32, strided<[1], offset: 8>>
  memref.copy %tail, %f : memref<8xf32, strided<[1], offset: 8>> to memref<8xf32>
  return
}
