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
