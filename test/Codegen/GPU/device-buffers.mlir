// RUN: un-opt %s --un-gpu-device-buffers --split-input-file | FileCheck %s

// A buffer that a kernel uses moves to device memory and is freed there; a
// host-only buffer stays on the host; copies go through the GPU runtime.

module attributes {gpu.container_module} {
  gpu.module @k {
    gpu.func @fill(%m: memref<16xf32>) kernel { gpu.return }
  }
  // CHECK-LABEL: func.func @f(
  func.func @f(%out: memref<16xf32>) {
    %c1 = arith.constant 1 : index
    // CHECK: %[[DEV:.*]] = gpu.alloc () : memref<16xf32>
    %dev = memref.alloc() : memref<16xf32>
    // CHECK: %[[HOST:.*]] = memref.alloc() : memref<2xi64>
    %host = memref.alloc() : memref<2xi64>
    gpu.launch_func @k::@fill blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%dev : memref<16xf32>)
    // CHECK: gpu.memcpy %{{.*}}, %[[DEV]] : memref<16xf32>, memref<16xf32>
    memref.copy %dev, %out : memref<16xf32> to memref<16xf32>
    %c0 = arith.constant 0 : index
    %v = memref.load %host[%c0] : memref<2xi64>
    // CHECK-DAG: gpu.dealloc %[[DEV]] : memref<16xf32>
    // CHECK-DAG: memref.dealloc %[[HOST]] : memref<2xi64>
    // CHECK: return
    return
  }
}

// -----

// A buffer returned to the caller is not freed by the callee; the caller
// frees it in device memory.
module attributes {gpu.container_module} {
  gpu.module @k {
    gpu.func @fill(%m: memref<16xf32>) kernel { gpu.return }
  }
  // CHECK-LABEL: func.func @make(
  // CHECK: gpu.alloc
  // CHECK-NOT: dealloc
  // CHECK: return
  func.func @make() -> memref<16xf32> {
    %c1 = arith.constant 1 : index
    %dev = memref.alloc() : memref<16xf32>
    gpu.launch_func @k::@fill blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%dev : memref<16xf32>)
    return %dev : memref<16xf32>
  }
  // CHECK-LABEL: func.func @use(
  // CHECK: %[[M:.*]] = call @make()
  // CHECK: gpu.dealloc %[[M]]
  func.func @use() {
    %m = call @make() : () -> memref<16xf32>
    memref.dealloc %m : memref<16xf32>
    return
  }
}

// -----

// A destination-passing wrapper launches nothing itself: it copies the
// device buffer its callee returns into the caller's buffer with the GPU
// runtime (not a host memcpy of device memory) and frees it after.

module attributes {gpu.container_module} {
  gpu.module @k {
    gpu.func @fill(%m: memref<16xf32>) kernel { gpu.return }
  }
  func.func @compute() -> memref<16xf32> {
    %c1 = arith.constant 1 : index
    %dev = memref.alloc() : memref<16xf32>
    gpu.launch_func @k::@fill blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%dev : memref<16xf32>)
    return %dev : memref<16xf32>
  }
  // CHECK-LABEL: func.func @compute_dps(
  // CHECK-SAME: %[[OUT:.*]]: memref<16xf32>)
  // CHECK: %[[R:.*]] = call @compute()
  // CHECK-NEXT: gpu.memcpy %[[OUT]], %[[R]] : memref<16xf32>, memref<16xf32>
  // CHECK-NEXT: gpu.dealloc %[[R]] : memref<16xf32>
  // CHECK-NEXT: return
  func.func @compute_dps(%out: memref<16xf32>) {
    %r = call @compute() : () -> memref<16xf32>
    memref.copy %r, %out : memref<16xf32> to memref<16xf32>
    return
  }
}

// -----

// Buffers whose pointers go to a callee marked un.device_pointers (the
// runtime's cuBLASLt matmul) are device buffers, even in a function that
// launches no kernel, and the call does not keep them: freed after it.
// A pointer passed to an unmarked callee leaves its buffer on the host and
// unfreed (it may be kept).
// CHECK-LABEL: func.func @library_call
// CHECK: %[[A:.*]] = gpu.alloc  () : memref<4x8xf32>
// CHECK: %[[C:.*]] = gpu.alloc  () : memref<4x4xf32>
// CHECK: %[[H:.*]] = memref.alloc() : memref<4xf32>
// CHECK: gpu.memcpy  %[[A]], %arg0
// CHECK: call @un_cuda_matmul_f32
// CHECK: call @keeps
// CHECK: gpu.memcpy  %arg2, %[[C]]
// CHECK-DAG: gpu.dealloc  %[[A]]
// CHECK-DAG: gpu.dealloc  %[[C]]
// CHECK-NOT: memref.dealloc %[[H]]
// CHECK: return
func.func private @un_cuda_matmul_f32(index, index, index, index, index, index, index, index) attributes {un.device_pointers}
func.func private @keeps(index)
func.func @library_call(%arg0: memref<4x8xf32>, %arg1: memref<8x4xf32>, %arg2: memref<4x4xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %a = memref.alloc() : memref<4x8xf32>
  %c = memref.alloc() : memref<4x4xf32>
  %h = memref.alloc() : memref<4xf32>
  memref.copy %arg0, %a : memref<4x8xf32> to memref<4x8xf32>
  %pa = memref.extract_aligned_pointer_as_index %a : memref<4x8xf32> -> index
  %pb = memref.extract_aligned_pointer_as_index %arg1 : memref<8x4xf32> -> index
  %pc = memref.extract_aligned_pointer_as_index %c : memref<4x4xf32> -> index
  func.call @un_cuda_matmul_f32(%pa, %pb, %pc, %c1, %c4, %c4, %c8, %c0) : (index, index, index, index, index, index, index, index) -> ()
  %ph = memref.extract_aligned_pointer_as_index %h : memref<4xf32> -> index
  func.call @keeps(%ph) : (index) -> ()
  memref.copy %c, %arg2 : memref<4x4xf32> to memref<4x4xf32>
  return
}
