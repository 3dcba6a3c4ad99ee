// The kernels of un-gpu-launch-loops, run on the host by un-gpu-emulate,
// compute what the loops they replace compute: a fill of a 3 x 97 x 5
// buffer (1455 iterations: not a multiple of the 256-thread block) and a
// row sum with a sequential inner loop, each element against scalar loops;
// and reductions into an accumulator in memory (what linalg reductions
// become), one warp per row: a max over 197 (111 rows: not a multiple of
// the block's 8 warps) whose accumulator a parallel fill sets just before
// (folded into the kernel), a sum over 5 (fewer than the 32 lanes) into
// accumulators a parallel fill sets to 7 (folded in too), an i32 sum over
// 70 into accumulators that start at 1000 + row (read by the kernel). The
// float values are integers, so the reassociated sums are exact.
//
// RUN: un-opt %s --un-gpu-launch-loops | FileCheck %s --check-prefix=IR
// RUN: un-opt %s --un-gpu-launch-loops --un-gpu-emulate --un-cpu-pipeline | mlir-runner -e main -entry-point-result=void --shared-libs=%mlir_runner_utils,%mlir_c_runner_utils | FileCheck %s

// IR-COUNT-2: gpu.launch
// The max's fill (a parallel loop right before it) is folded into it.
// IR-NOT: gpu.launch
// IR-NOT: gpu.shuffle
// IR: gpu.launch blocks({{.*}}) in (%{{[a-z0-9]+}} = %c14{{[_0-9]*}}, {{.*}} threads({{.*}}) in (%{{[a-z0-9]+}} = %c256{{[_0-9]*}},
// IR-COUNT-5: gpu.shuffle  xor {{.*}} : f32
// IR-NOT: gpu.launch
// IR: gpu.launch blocks({{.*}}) in (%{{[a-z0-9]+}} = %c14{{[_0-9]*}},
// IR-COUNT-5: gpu.shuffle  xor {{.*}} : f32
// IR: gpu.launch blocks({{.*}}) in (%{{[a-z0-9]+}} = %c14{{[_0-9]*}},
// IR-COUNT-5: gpu.shuffle  xor {{.*}} : i32
// A body that stores twice keeps one thread per row.
// IR: gpu.launch blocks({{.*}}) in (%{{[a-z0-9]+}} = %c1{{[_0-9]*}},
// IR-NOT: gpu.shuffle
// IR-NOT: gpu.launch
// IR-NOT: scf.parallel

// CHECK: fill bad 0
// CHECK-NEXT: sums bad 0
// CHECK-NEXT: max bad 0
// CHECK-NEXT: short sums bad 0
// CHECK-NEXT: int sums bad 0
// CHECK-NEXT: two stores bad 0


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
  call @row_reductions() : () -> ()
  return
}

// acc[i, j] = combine(acc[i, j], f(i, j, k)) over k, as
// convert-linalg-to-parallel-loops writes a linalg reduction (pure bodies:
// f is computed inline; @value computes the same for the reference).
func.func @row_reductions() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c5 = arith.constant 5 : index
  %c37 = arith.constant 37 : index
  %c70 = arith.constant 70 : index
  %c197 = arith.constant 197 : index
  %c10 = arith.constant 10 : index
  %c1000 = arith.constant 1000 : index
  %c1e6 = arith.constant 1000000 : index
  %c1e9 = arith.constant 1000000000 : index
  %ninf = arith.constant 0xFF800000 : f32
  %seven = arith.constant 7.0 : f32
  %max = memref.alloc() : memref<3x37xf32>
  %sum = memref.alloc() : memref<3x37xf32>
  %isum = memref.alloc() : memref<3x37xi32>
  %two = memref.alloc() : memref<3x37xf32>
  scf.for %i = %c0 to %c3 step %c1 {
    scf.for %j = %c0 to %c37 step %c1 {
      %r = arith.addi %j, %c1000 : index
      %ri = arith.index_cast %r : index to i64
      %rf = arith.sitofp %ri : i64 to f32
      %r32 = arith.index_cast %r : index to i32
      memref.store %r32, %isum[%i, %j] : memref<3x37xi32>
      memref.store %rf, %two[%i, %j] : memref<3x37xf32>
    }
  }
  // Under test.
  scf.parallel (%i, %j) = (%c0, %c0) to (%c3, %c37) step (%c1, %c1) {
    memref.store %ninf, %max[%i, %j] : memref<3x37xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c3, %c37) step (%c1, %c1) {
    scf.for %k = %c0 to %c197 step %c1 {
      %ia = arith.muli %i, %c1000 : index
      %jb = arith.muli %j, %c10 : index
      %ab = arith.addi %ia, %jb : index
      %abk = arith.addi %ab, %k : index
      %vi64 = arith.index_cast %abk : index to i64
      %v = arith.sitofp %vi64 : i64 to f32
      %kk = arith.muli %k, %k : index
      %ki = arith.index_cast %kk : index to i64
      %kf = arith.sitofp %ki : i64 to f32
      %w = arith.subf %kf, %v : f32  // rises then falls: the max is inside
      %acc = memref.load %max[%i, %j] : memref<3x37xf32>
      %m = arith.maximumf %acc, %w : f32
      memref.store %m, %max[%i, %j] : memref<3x37xf32>
    }
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c3, %c37) step (%c1, %c1) {
    memref.store %seven, %sum[%i, %j] : memref<3x37xf32>
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c3, %c37) step (%c1, %c1) {
    scf.for %k = %c0 to %c5 step %c1 {
      %ia = arith.muli %i, %c1000 : index
      %jb = arith.muli %j, %c10 : index
      %ab = arith.addi %ia, %jb : index
      %abk = arith.addi %ab, %k : index
      %vi64 = arith.index_cast %abk : index to i64
      %v = arith.sitofp %vi64 : i64 to f32
      %acc = memref.load %sum[%i, %j] : memref<3x37xf32>
      %s = arith.addf %v, %acc : f32
      memref.store %s, %sum[%i, %j] : memref<3x37xf32>
    }
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c3, %c37) step (%c1, %c1) {
    scf.for %k = %c0 to %c70 step %c1 {
      %ij = arith.addi %i, %j : index
      %v = arith.addi %ij, %k : index
      %vi = arith.index_cast %v : index to i32
      %acc = memref.load %isum[%i, %j] : memref<3x37xi32>
      %s = arith.addi %acc, %vi : i32
      memref.store %s, %isum[%i, %j] : memref<3x37xi32>
    }
    scf.reduce
  }
  scf.parallel (%i, %j) = (%c0, %c0) to (%c3, %c37) step (%c1, %c1) {
    scf.for %k = %c0 to %c5 step %c1 {
      %ia = arith.muli %i, %c1000 : index
      %jb = arith.muli %j, %c10 : index
      %ab = arith.addi %ia, %jb : index
      %abk = arith.addi %ab, %k : index
      %vi64 = arith.index_cast %abk : index to i64
      %v = arith.sitofp %vi64 : i64 to f32
      %acc = memref.load %two[%i, %j] : memref<3x37xf32>
      %s = arith.addf %acc, %v : f32
      memref.store %s, %two[%i, %j] : memref<3x37xf32>
      memref.store %s, %two[%i, %j] : memref<3x37xf32>
    }
    scf.reduce
  }
  // Reference: scalar loops, the same values.
  %bad = scf.for %i = %c0 to %c3 step %c1 iter_args(%b0 = %c0) -> (index) {
    %b1 = scf.for %j = %c0 to %c37 step %c1 iter_args(%b2 = %b0) -> (index) {
      %wm = scf.for %k = %c0 to %c197 step %c1 iter_args(%a = %ninf) -> (f32) {
        %v = func.call @value(%i, %j, %k) : (index, index, index) -> f32
        %kk = arith.muli %k, %k : index
        %ki = arith.index_cast %kk : index to i64
        %kf = arith.sitofp %ki : i64 to f32
        %w = arith.subf %kf, %v : f32
        %m = arith.maximumf %a, %w : f32
        scf.yield %m : f32
      }
      %r = arith.addi %j, %c1000 : index
      %ri = arith.index_cast %r : index to i64
      %rf = arith.sitofp %ri : i64 to f32
      %ws = scf.for %k = %c0 to %c5 step %c1 iter_args(%a = %seven) -> (f32) {
        %v = func.call @value(%i, %j, %k) : (index, index, index) -> f32
        %s = arith.addf %a, %v : f32
        scf.yield %s : f32
      }
      %w2 = scf.for %k = %c0 to %c5 step %c1 iter_args(%a = %rf) -> (f32) {
        %v = func.call @value(%i, %j, %k) : (index, index, index) -> f32
        %s = arith.addf %a, %v : f32
        scf.yield %s : f32
      }
      %r32 = arith.index_cast %r : index to i32
      %wi = scf.for %k = %c0 to %c70 step %c1 iter_args(%a = %r32) -> (i32) {
        %ij = arith.addi %i, %j : index
        %v = arith.addi %ij, %k : index
        %vi = arith.index_cast %v : index to i32
        %s = arith.addi %a, %vi : i32
        scf.yield %s : i32
      }
      %gm = memref.load %max[%i, %j] : memref<3x37xf32>
      %gs = memref.load %sum[%i, %j] : memref<3x37xf32>
      %gi = memref.load %isum[%i, %j] : memref<3x37xi32>
      %g2 = memref.load %two[%i, %j] : memref<3x37xf32>
      %n0 = arith.cmpf une, %gm, %wm : f32
      %n1 = arith.cmpf une, %gs, %ws : f32
      %n2 = arith.cmpi ne, %gi, %wi : i32
      %n3 = arith.cmpf une, %g2, %w2 : f32
      %e0 = arith.select %n0, %c1, %c0 : index
      %e1 = arith.select %n1, %c1000, %c0 : index
      %e2 = arith.select %n2, %c1e6, %c0 : index
      %e3 = arith.select %n3, %c1e9, %c0 : index
      %t0 = arith.addi %b2, %e0 : index
      %t1 = arith.addi %t0, %e1 : index
      %t2 = arith.addi %t1, %e2 : index
      %t3 = arith.addi %t2, %e3 : index
      scf.yield %t3 : index
    }
    scf.yield %b1 : index
  }
  // The four counts (each under 1000) are groups of three digits.
  %bad_max = arith.remui %bad, %c1000 : index
  %r1 = arith.divui %bad, %c1000 : index
  %bad_sum = arith.remui %r1, %c1000 : index
  %r2 = arith.divui %r1, %c1000 : index
  %bad_int = arith.remui %r2, %c1000 : index
  %bad_two = arith.divui %r2, %c1000 : index
  vector.print str "max bad "
  vector.print %bad_max : index
  vector.print str "short sums bad "
  vector.print %bad_sum : index
  vector.print str "int sums bad "
  vector.print %bad_int : index
  vector.print str "two stores bad "
  vector.print %bad_two : index
  return
}
