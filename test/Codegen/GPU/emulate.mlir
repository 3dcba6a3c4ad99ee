// RUN: un-opt %s --un-gpu-emulate | FileCheck %s
// RUN: un-opt %s --un-gpu-emulate --convert-scf-to-cf --finalize-memref-to-llvm --convert-to-llvm --reconcile-unrealized-casts | mlir-runner -e main -entry-point-result=void --shared-libs=%mlir_runner_utils,%mlir_c_runner_utils | FileCheck %s --check-prefix=OUT

// A block sum (xor shuffles within warps of 32 lanes, then shared memory
// across warps after a barrier) of thread ids 0..63, emulated on the host:
// every thread gets 2016.

// CHECK-LABEL: func.func @block_sum(
// CHECK-NOT: gpu.
// Blocks z, y, x, then a loop over threads per segment; the first shuffle
// reads the value of thread t ^ 1.
// CHECK-COUNT-4: scf.for
// CHECK: scf.for %[[T:[a-z0-9]+]] = %{{.*}} to
// CHECK-NEXT: %[[ONE:.*]] = arith.constant 1 : index
// CHECK-NEXT: arith.xori %[[T]], %[[ONE]] : index
func.func @block_sum(%out: memref<64xf32>) {
  %c1 = arith.constant 1 : index
  %c64 = arith.constant 64 : index
  gpu.launch blocks(%bx, %by, %bz) in (%gx = %c1, %gy = %c1, %gz = %c1)
             threads(%tx, %ty, %tz) in (%sx = %c64, %sy = %c1, %sz = %c1)
             workgroup(%smem : memref<2xf32, #gpu.address_space<workgroup>>) {
    %c0 = arith.constant 0 : index
    %c32 = arith.constant 32 : index
    %c1_i32 = arith.constant 1 : i32
    %c2_i32 = arith.constant 2 : i32
    %c4_i32 = arith.constant 4 : i32
    %c8_i32 = arith.constant 8 : i32
    %c16_i32 = arith.constant 16 : i32
    %c32_i32 = arith.constant 32 : i32
    %i = arith.index_cast %tx : index to i32
    %v0 = arith.sitofp %i : i32 to f32
    %s1, %ok1 = gpu.shuffle xor %v0, %c1_i32, %c32_i32 : f32
    %v1 = arith.addf %v0, %s1 : f32
    %s2, %ok2 = gpu.shuffle xor %v1, %c2_i32, %c32_i32 : f32
    %v2 = arith.addf %v1, %s2 : f32
    %s3, %ok3 = gpu.shuffle xor %v2, %c4_i32, %c32_i32 : f32
    %v3 = arith.addf %v2, %s3 : f32
    %s4, %ok4 = gpu.shuffle xor %v3, %c8_i32, %c32_i32 : f32
    %v4 = arith.addf %v3, %s4 : f32
    %s5, %ok5 = gpu.shuffle xor %v4, %c16_i32, %c32_i32 : f32
    %v5 = arith.addf %v4, %s5 : f32
    %lane = arith.remui %tx, %c32 : index
    %warp = arith.divui %tx, %c32 : index
    %first = arith.cmpi eq, %lane, %c0 : index
    scf.if %first {
      memref.store %v5, %smem[%warp] : memref<2xf32, #gpu.address_space<workgroup>>
    }
    gpu.barrier
    %a = memref.load %smem[%c0] : memref<2xf32, #gpu.address_space<workgroup>>
    %b = memref.load %smem[%c1] : memref<2xf32, #gpu.address_space<workgroup>>
    %total = arith.addf %a, %b : f32
    memref.store %total, %out[%tx] : memref<64xf32>
    gpu.terminator
  }
  return
}

func.func private @printMemrefF32(memref<*xf32>)

// OUT: [2016, 2016,
func.func @main() {
  %out = memref.alloc() : memref<64xf32>
  call @block_sum(%out) : (memref<64xf32>) -> ()
  %u = memref.cast %out : memref<64xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  memref.dealloc %out : memref<64xf32>
  return
}
