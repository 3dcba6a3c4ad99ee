// The kernels of un-gpu-launch-loops, run on the host by un-gpu-emulate,
// compute what the loops they replace compute: a fill of a 3 x 97 x 5
// buffer (1455 iterations: not a multiple of the 256-thread block) and a
// row sum with a sequential inner loop, each element against scalar loops.
//
// RUN: un-opt %s --un-gpu-launch-loops | FileCheck %s --check-prefix=IR
// RUN: un-opt %s --un-gpu-launch-loops --un-gpu-emulate --un-cpu-pipeline | mlir-runner -e main -entry-point-result=void --shared-libs=%mlir_runner_utils,%mlir_c_runner_utils | FileCheck %s

// IR-COUNT-2: gpu.launch
// IR-NOT: gpu.launch
// IR-NOT: scf.parallel

// CHECK: fill bad 0
// CHECK-NEXT: sums bad 0


func.func @value(%i: index, %j: index, %k: index) -> f32 {
  %c1000 = arith.constant 1000 : index
  %c10 = arith.constant 10 : index
  %a = arith.muli %i, %c1000 : index
  %b = arith.muli %j, %c10 : index
  %ab = arith.addi %a, %b : index
  %v = arith.addi %ab, %k : index
  %vi = arith.index_cast %v : index to i64
  %f = arith.sitofp %vi : i64 to f32
  return %f : f32
}

func.func @main() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %c97 = arith.constant 97 : index
  %zero = arith.constant 0.0 : f32
  %a = memref.alloc() : memref<3x97x5xf32>
  %s = memref.alloc() : memref<3x97xf32>
  // Under test: parallel loops.
  scf.parallel (%i, %j, %k) = (%c0, %c0, %c0) to (%c3, %c97, %c5) step (%c1, %c1, %c1) {
    %v = func.call @value(%i, %j, %k) : (index, index, index) -> f32
    memref.store %v, %a[%i, %j, %k] : memref<3x97x5xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c3, %c97) step (%c1, %c1) {
    %sum = scf.for %k = %c0 to %c5 step %c1 iter_args(%acc = %zero) -> (f32) {
      %v = memref.load %a[%i, %j, %k] : memref<3x97x5xf32>
      %n = arith.addf %acc, %v : f32
      scf.yield %n : f32
    }
    memref.store %sum, %s[%i, %j] : memref<3x97xf32>
    scf.reduce
  }
  // Reference: scalar loops.
  %bad_fill = scf.for %i = %c0 to %c3 step %c1 iter_args(%b0 = %c0) -> (index) {
    %b1 = scf.for %j = %c0 to %c97 step %c1 iter_args(%b2 = %b0) -> (index) {
      %b3 = scf.for %k = %c0 to %c5 step %c1 iter_args(%b4 = %b2) -> (index) {
        %want = func.call @value(%i, %j, %k) : (index, index, index) -> f32
        %got = memref.load %a[%i, %j, %k] : memref<3x97x5xf32>
        %ne = arith.cmpf une, %got, %want : f32
        %inc = arith.select %ne, %c1, %c0 : index
        %b5 = arith.addi %b4, %inc : index
        scf.yield %b5 : index
      }
      scf.yield %b3 : index
    }
    scf.yield %b1 : index
  }
  %bad_sums = scf.for %i = %c0 to %c3 step %c1 iter_args(%b0 = %c0) -> (index) {
    %b1 = scf.for %j = %c0 to %c97 step %c1 iter_args(%b2 = %b0) -> (index) {
      %want = scf.for %k = %c0 to %c5 step %c1 iter_args(%acc = %zero) -> (f32) {
        %v = func.call @value(%i, %j, %k) : (index, index, index) -> f32
        %n = arith.addf %acc, %v : f32
        scf.yield %n : f32
      }
      %got = memref.load %s[%i, %j] : memref<3x97xf32>
      %ne = arith.cmpf une, %got, %want : f32
      %inc = arith.select %ne, %c1, %c0 : index
      %b3 = arith.addi %b2, %inc : index
      scf.yield %b3 : index
    }
    scf.yield %b1 : index
  }
  vector.print str "fill bad "
  vector.print %bad_fill : index
  vector.print str "sums bad "
  vector.print %bad_sums : index
  return
}
