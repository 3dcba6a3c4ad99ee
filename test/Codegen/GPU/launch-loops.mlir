// RUN: un-opt %s --un-gpu-launch-loops --split-input-file | FileCheck %s

// A host parallel loop of any shape becomes one launch: one iteration per
// thread, 256 threads a block, iterations numbered row-major (innermost
// fastest), threads past the end idle, no launch for no iterations.
// CHECK-LABEL: func.func @three_dims(
// CHECK-SAME: %[[M:.*]]: memref<1x197x384xf32>)
// CHECK-DAG: %[[C256:.*]] = arith.constant 256 : index
// CHECK-DAG: %[[N:.*]] = arith.constant 75648 : index
// CHECK-DAG: %[[NB:.*]] = arith.constant 296 : index
// CHECK-NOT: scf.if
// CHECK: gpu.launch blocks(%[[BX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[NB]], %{{.*}} = %{{.*}}, %{{.*}} = %{{.*}}) threads(%[[TX:.*]], %{{.*}}, %{{.*}}) in (%{{.*}} = %[[C256]],
// CHECK: %[[B:.*]] = arith.muli %[[BX]], %[[C256]]
// CHECK: %[[I:.*]] = arith.addi %[[B]], %[[TX]]
// CHECK: %[[IN:.*]] = arith.cmpi slt, %[[I]], %[[N]]
// CHECK: scf.if %[[IN]] {
// CHECK: %[[J:.*]] = arith.remui %[[I]], %[[C384:.*]] :
// CHECK: %[[R:.*]] = arith.divui %[[I]], %[[C384]] :
// CHECK: memref.store %{{.*}}, %[[M]][%{{.*}}, %{{.*}}, %{{.*}}]
// CHECK: gpu.terminator
// CHECK-NOT: scf.parallel
func.func @three_dims(%m: memref<1x197x384xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c197 = arith.constant 197 : index
  %c384 = arith.constant 384 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%a, %b, %c) = (%c0, %c0, %c0) to (%c1, %c197, %c384) step (%c1, %c1, %c1) {
    memref.store %f, %m[%a, %b, %c] : memref<1x197x384xf32>
    scf.reduce
  }
  return
}

// -----

// Dynamic bounds, a step and a reduction loop inside (a softmax row):
// the trip count is computed at run time, the inner loop stays sequential
// in the thread.
// CHECK-LABEL: func.func @dynamic(
// CHECK: arith.ceildivsi
// CHECK: arith.cmpi sgt
// CHECK: gpu.launch
// CHECK: scf.for
// CHECK-NOT: scf.parallel
func.func @dynamic(%m: memref<?x?xf32>, %n: index, %k: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %f = arith.constant 0.0 : f32
  scf.parallel (%i) = (%c0) to (%n) step (%c2) {
    %s = scf.for %j = %c0 to %k step %c1 iter_args(%acc = %f) -> (f32) {
      %v = memref.load %m[%i, %j] : memref<?x?xf32>
      %a = arith.addf %acc, %v : f32
      scf.yield %a : f32
    }
    memref.store %s, %m[%i, %c0] : memref<?x?xf32>
    scf.reduce
  }
  return
}

// -----

// A loop that reduces across its iterations, and loops already in a
// kernel, are left alone.
// CHECK-LABEL: func.func @left_alone(
// CHECK: scf.parallel
// CHECK: scf.reduce(
// CHECK: gpu.launch
// CHECK: scf.parallel
func.func @left_alone(%m: memref<8xf32>) -> f32 {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %sum = scf.parallel (%i) = (%c0) to (%c8) step (%c1) init (%zero) -> f32 {
    %v = memref.load %m[%i] : memref<8xf32>
    scf.reduce(%v : f32) {
    ^bb0(%x: f32, %y: f32):
      %s = arith.addf %x, %y : f32
      scf.reduce.return %s : f32
    }
  }
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1) threads(%tx, %ty, %tz) in (%sx = %c1, %sy = %c1, %sz = %c1) {
    scf.parallel (%i) = (%c0) to (%c8) step (%c1) {
      memref.store %zero, %m[%i] : memref<8xf32>
      scf.reduce
    }
    gpu.terminator
  }
  return %sum : f32
}

// -----

// No iteration: no launch.
// CHECK-LABEL: func.func @empty(
// CHECK-NOT: gpu.launch
// CHECK-NOT: scf.parallel
// CHECK: return
func.func @empty(%m: memref<0x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %f = arith.constant 1.0 : f32
  scf.parallel (%a, %b) = (%c0, %c0) to (%c0, %c4) step (%c1, %c1) {
    memref.store %f, %m[%a, %b] : memref<0x4xf32>
    scf.reduce
  }
  return
}

// -----

// A row reduction and the loops right after it over the same rows (and
// the same k) are one kernel, a warp per row, a barrier between stages
// (test/Integration/GPUEmulation/row-kernels.mlir runs a whole softmax
// chain). Not joined: a map that reads another row, a map over another
// k, a buffer written through two views, a written function argument.
// CHECK-LABEL: func.func @row_kernel(
// CHECK: gpu.launch
// CHECK-COUNT-5: gpu.shuffle  xor
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK: scf.for
// CHECK-NOT: gpu.launch
// CHECK: return
func.func @row_kernel(%x: memref<4x40xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c40 = arith.constant 40 : index
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<4xf32>
  %y = memref.alloc() : memref<4x40xf32>
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    memref.store %zero, %acc[%i] : memref<4xf32>
    scf.reduce
  }
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.for %k = %c0 to %c40 step %c1 {
      %v = memref.load %x[%i, %k] : memref<4x40xf32>
      %s = memref.load %acc[%i] : memref<4xf32>
      %n = arith.addf %s, %v : f32
      memref.store %n, %acc[%i] : memref<4xf32>
    }
    scf.reduce
  }
  scf.parallel (%i, %k) = (%c0, %c0) to (%c4, %c40) step (%c1, %c1) {
    %v = memref.load %x[%i, %k] : memref<4x40xf32>
    %s = memref.load %acc[%i] : memref<4xf32>
    %d = arith.divf %v, %s : f32
    memref.store %d, %y[%i, %k] : memref<4x40xf32>
    scf.reduce
  }
  return
}

// CHECK-LABEL: func.func @not_row_kernels(
// CHECK-COUNT-8: gpu.launch
// CHECK-NOT: gpu.launch
// CHECK-NOT: gpu.barrier
// CHECK: return
func.func @not_row_kernels(%x: memref<4x40xf32>, %out: memref<4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c4 = arith.constant 4 : index
  %c39 = arith.constant 39 : index
  %c40 = arith.constant 40 : index
  %zero = arith.constant 0.0 : f32
  %acc = memref.alloc() : memref<4xf32>
  %y = memref.alloc() : memref<4x40xf32>
  // Another row: acc[3 - i].
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.for %k = %c0 to %c40 step %c1 {
      %v = memref.load %x[%i, %k] : memref<4x40xf32>
      %s = memref.load %acc[%i] : memref<4xf32>
      %n = arith.addf %s, %v : f32
      memref.store %n, %acc[%i] : memref<4xf32>
    }
    scf.reduce
  }
  scf.parallel (%i, %k) = (%c0, %c0) to (%c4, %c40) step (%c1, %c1) {
    %r = arith.subi %c3, %i : index
    %s = memref.load %acc[%r] : memref<4xf32>
    memref.store %s, %y[%i, %k] : memref<4x40xf32>
    scf.reduce
  }
  // Another k: 39 elements of the row.
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.for %k = %c0 to %c40 step %c1 {
      %v = memref.load %x[%i, %k] : memref<4x40xf32>
      %s = memref.load %acc[%i] : memref<4xf32>
      %n = arith.addf %s, %v : f32
      memref.store %n, %acc[%i] : memref<4xf32>
    }
    scf.reduce
  }
  scf.parallel (%i, %k) = (%c0, %c0) to (%c4, %c39) step (%c1, %c1) {
    %s = memref.load %acc[%i] : memref<4xf32>
    memref.store %s, %y[%i, %k] : memref<4x40xf32>
    scf.reduce
  }
  // Two views of what is written.
  %flat = memref.collapse_shape %y [[0, 1]] : memref<4x40xf32> into memref<160xf32>
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.for %k = %c0 to %c40 step %c1 {
      %v = memref.load %x[%i, %k] : memref<4x40xf32>
      %s = memref.load %acc[%i] : memref<4xf32>
      %n = arith.addf %s, %v : f32
      memref.store %n, %acc[%i] : memref<4xf32>
    }
    scf.reduce
  }
  scf.parallel (%i, %k) = (%c0, %c0) to (%c4, %c40) step (%c1, %c1) {
    %s = memref.load %acc[%i] : memref<4xf32>
    memref.store %s, %y[%i, %k] : memref<4x40xf32>
    memref.store %s, %flat[%i] : memref<160xf32>
    scf.reduce
  }
  // A function argument written.
  scf.parallel (%i) = (%c0) to (%c4) step (%c1) {
    scf.for %k = %c0 to %c40 step %c1 {
      %v = memref.load %x[%i, %k] : memref<4x40xf32>
      %s = memref.load %out[%i] : memref<4xf32>
      %n = arith.addf %s, %v : f32
      memref.store %n, %out[%i] : memref<4xf32>
    }
    scf.reduce
  }
  scf.parallel (%i, %k) = (%c0, %c0) to (%c4, %c40) step (%c1, %c1) {
    %s = memref.load %out[%i] : memref<4xf32>
    memref.store %s, %y[%i, %k] : memref<4x40xf32>
    scf.reduce
  }
  return
}
