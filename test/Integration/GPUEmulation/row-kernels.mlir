// A softmax-shaped chain of loops over the same rows, as bufferized linalg
// writes it: a fill and a row max into an accumulator, an elementwise map
// of the row and its max, a fill (of the same accumulator buffer) and a
// row sum of the map, and an elementwise map of the map and the sum written
// in place. un-gpu-launch-loops makes it one kernel of a warp per row (3 x
// 37 = 111 rows: not a multiple of the block's 8 warps; 45 elements a row:
// more than the 32 lanes, not a multiple), a barrier between the four
// stages; un-gpu-emulate runs it on the host, and every element is
// compared with scalar loops. The values are small integers, so the
// reassociated sums are exact.
//
// RUN: un-opt %s --un-gpu-launch-loops | FileCheck %s --check-prefix=IR
// RUN: un-opt %s --un-gpu-launch-loops --un-gpu-emulate --un-cpu-pipeline | mlir-runner -e main -entry-point-result=void --shared-libs=%mlir_runner_utils,%mlir_c_runner_utils | FileCheck %s

// IR: gpu.launch blocks({{.*}}) in (%{{[a-z0-9]+}} = %c14{{[_0-9]*}},
// IR-COUNT-5: gpu.shuffle  xor
// IR: gpu.barrier
// IR: scf.for
// IR: gpu.barrier
// IR-COUNT-5: gpu.shuffle  xor
// IR: gpu.barrier
// IR: scf.for
// IR-NOT: gpu.barrier
// IR-NOT: gpu.launch
// IR-NOT: scf.parallel

// CHECK: max bad 0
// CHECK-NEXT: sum bad 0
// CHECK-NEXT: out bad 0

func.func @value(%i: index, %j: index, %k: index) -> f32 {
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %c7 = arith.constant 7 : index
  %c11 = arith.constant 11 : index
  %a = arith.muli %i, %c7 : index
  %b = arith.muli %j, %c3 : index
  %c = arith.muli %k, %c5 : index
  %ab = arith.addi %a, %b : index
  %abc = arith.addi %ab, %c : index
  %v = arith.remui %abc, %c11 : index
  %vi = arith.index_cast %v : index to i64
  %f = arith.sitofp %vi : i64 to f32
  return %f : f32
}

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c37 = arith.constant 37 : index
  %c45 = arith.constant 45 : index
  %zero = arith.constant 0.0 : f32
  %two = arith.constant 2.0 : f32
  %minf = arith.constant 0xFF800000 : f32
  %x = memref.alloc() : memref<3x37x45xf32>
  %e = memref.alloc() : memref<3x37x45xf32>
  %acc = memref.alloc() : memref<3x37xf32>
  %maxes = memref.alloc() : memref<3x37xf32>
  scf.for %i = %c0 to %c3 step %c1 {
    scf.for %j = %c0 to %c37 step %c1 {
      scf.for %k = %c0 to %c45 step %c1 {
        %v = func.call @value(%i, %j, %k) : (index, index, index) -> f32
        memref.store %v, %x[%i, %j, %k] : memref<3x37x45xf32>
      }
    }
  }
  // Under test: the chain of parallel loops.
  scf.parallel (%i, %j) = (%c0, %c0) to (%c3, %c37) step (%c1, %c1) {
    memref.store %minf, %acc[%i, %j] : memref<3x37xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c3, %c37) step (%c1, %c1) {
    scf.for %k = %c0 to %c45 step %c1 {
      %v = memref.load %x[%i, %j, %k] : memref<3x37x45xf32>
      %m = memref.load %acc[%i, %j] : memref<3x37xf32>
      %n = arith.maximumf %m, %v : f32
      memref.store %n, %acc[%i, %j] : memref<3x37xf32>
    }
    scf.reduce
  }
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c3, %c37, %c45) step (%c1, %c1, %c1) {
    %v = memref.load %x[%i, %j, %k] : memref<3x37x45xf32>
    %m = memref.load %acc[%i, %j] : memref<3x37xf32>
    %d = arith.subf %v, %m : f32
    memref.store %d, %e[%i, %j, %k] : memref<3x37x45xf32>
    // The max, kept for the check.
    memref.store %m, %maxes[%i, %j] : memref<3x37xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c3, %c37) step (%c1, %c1) {
    memref.store %zero, %acc[%i, %j] : memref<3x37xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c3, %c37) step (%c1, %c1) {
    scf.for %k = %c0 to %c45 step %c1 {
      %v = memref.load %e[%i, %j, %k] : memref<3x37x45xf32>
      %s = memref.load %acc[%i, %j] : memref<3x37xf32>
      %n = arith.addf %s, %v : f32
      memref.store %n, %acc[%i, %j] : memref<3x37xf32>
    }
    scf.reduce
  }
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c3, %c37, %c45) step (%c1, %c1, %c1) {
    %v = memref.load %e[%i, %j, %k] : memref<3x37x45xf32>
    %s = memref.load %acc[%i, %j] : memref<3x37xf32>
    %d = arith.mulf %v, %two : f32
    %o = arith.addf %d, %s : f32
    memref.store %o, %e[%i, %j, %k] : memref<3x37x45xf32>
    scf.reduce
  }
  // Reference: scalar loops, mismatches counted.
  %bad:3 = scf.for %i = %c0 to %c3 step %c1 iter_args(%b0 = %c0, %b1 = %c0, %b2 = %c0) -> (index, index, index) {
    %r:3 = scf.for %j = %c0 to %c37 step %c1 iter_args(%m0 = %b0, %m1 = %b1, %m2 = %b2) -> (index, index, index) {
      %mx = scf.for %k = %c0 to %c45 step %c1 iter_args(%a = %minf) -> (f32) {
        %v = func.call @value(%i, %j, %k) : (index, index, index) -> f32
        %n = arith.maximumf %a, %v : f32
        scf.yield %n : f32
      }
      %sum = scf.for %k = %c0 to %c45 step %c1 iter_args(%a = %zero) -> (f32) {
        %v = func.call @value(%i, %j, %k) : (index, index, index) -> f32
        %d = arith.subf %v, %mx : f32
        %n = arith.addf %a, %d : f32
        scf.yield %n : f32
      }
      %outs = scf.for %k = %c0 to %c45 step %c1 iter_args(%a = %m2) -> (index) {
        %v = func.call @value(%i, %j, %k) : (index, index, index) -> f32
        %d = arith.subf %v, %mx : f32
        %d2 = arith.mulf %d, %two : f32
        %want = arith.addf %d2, %sum : f32
        %got = memref.load %e[%i, %j, %k] : memref<3x37x45xf32>
        %ne = arith.cmpf une, %got, %want : f32
        %inc = arith.select %ne, %c1, %c0 : index
        %n = arith.addi %a, %inc : index
        scf.yield %n : index
      }
      %gmx = memref.load %maxes[%i, %j] : memref<3x37xf32>
      %gsum = memref.load %acc[%i, %j] : memref<3x37xf32>
      %ne0 = arith.cmpf une, %gmx, %mx : f32
      %ne1 = arith.cmpf une, %gsum, %sum : f32
      %i0 = arith.select %ne0, %c1, %c0 : index
      %i1 = arith.select %ne1, %c1, %c0 : index
      %n0 = arith.addi %m0, %i0 : index
      %n1 = arith.addi %m1, %i1 : index
      scf.yield %n0, %n1, %outs : index, index, index
    }
    scf.yield %r#0, %r#1, %r#2 : index, index, index
  }
  vector.print str "max bad "
  vector.print %bad#0 : index
  vector.print str "sum bad "
  vector.print %bad#1 : index
  vector.print str "out bad "
  vector.print %bad#2 : index
  return
}
