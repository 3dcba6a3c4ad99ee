// un-gpu-collectives: un.sum_across_ranks on buffers -> a call of the CUDA
// runtime's NCCL all-reduce with the buffers' pointers and length. The
// callee is marked un.device_pointers, so un-gpu-device-buffers, after it,
// allocates the buffers on the device and frees them (the all-reduce does
// not keep them).
// RUN: un-opt %s -split-input-file -un-gpu-collectives -verify-diagnostics | FileCheck %s
// RUN: un-opt %s -split-input-file -un-gpu-collectives -un-gpu-device-buffers -verify-diagnostics | FileCheck %s --check-prefix=BUFFERS
// RUN: un-opt %s -split-input-file -un-gpu-collectives -un-gpu-device-buffers -gpu-async-region -verify-diagnostics | FileCheck %s --check-prefix=ASYNC

// CHECK: func.func private @un_cuda_sum_across_ranks_f32(index, index, index)
// CHECK-SAME: attributes {un.device_pointers}
// CHECK-LABEL: func.func @static(
// CHECK-SAME: %[[IN:.*]]: memref<9xf32>, %[[OUT:.*]]: memref<9xf32>)
// CHECK-NOT: cf.assert
// CHECK: %[[P:.*]] = memref.extract_aligned_pointer_as_index %[[IN]]
// CHECK: %[[Q:.*]] = memref.extract_aligned_pointer_as_index %[[OUT]]
// CHECK: %[[N:.*]] = arith.constant 9 : index
// CHECK: call @un_cuda_sum_across_ranks_f32(%[[P]], %[[Q]], %[[N]])
// CHECK-NOT: un.sum_across_ranks
func.func @static(%in: memref<9xf32>, %out: memref<9xf32>) {
  un.sum_across_ranks %in into %out : memref<9xf32>, memref<9xf32>
  return
}

// -----

// Dynamic lengths are checked before the call.
// CHECK-LABEL: func.func @dynamic(
// CHECK-SAME: %[[IN:.*]]: memref<?xf32>, %[[OUT:.*]]: memref<9xf32>)
// CHECK: %[[N:.*]] = memref.dim %[[IN]]
// CHECK: %[[SAME:.*]] = arith.cmpi eq, %[[N]], %c9
// CHECK: cf.assert %[[SAME]], "un.sum_across_ranks: 'input' and 'init' differ in length"
// CHECK: %[[LEN:.*]] = memref.dim %[[IN]]
// CHECK: call @un_cuda_sum_across_ranks_f32(%{{.*}}, %{{.*}}, %[[LEN]])
func.func @dynamic(%in: memref<?xf32>, %out: memref<9xf32>) {
  un.sum_across_ranks %in into %out : memref<?xf32>, memref<9xf32>
  return
}

// -----

// The buffers of an all-reduce between kernels are device buffers, freed
// after their last use; gpu-async-region waits for the kernels before the
// call (a host op) and starts a new stream after it.
module attributes {gpu.container_module} {
  gpu.module @k {
    gpu.func @write(%b: memref<9xf32>) kernel { gpu.return }
    gpu.func @read(%b: memref<9xf32>) kernel { gpu.return }
  }
  // BUFFERS-LABEL: func.func @between_kernels(
  // BUFFERS: %[[L:.*]] = gpu.alloc () : memref<9xf32>
  // BUFFERS: %[[T:.*]] = gpu.alloc () : memref<9xf32>
  // BUFFERS-DAG: memref.extract_aligned_pointer_as_index %[[L]]
  // BUFFERS-DAG: memref.extract_aligned_pointer_as_index %[[T]]
  // BUFFERS: call @un_cuda_sum_across_ranks_f32
  // BUFFERS-DAG: gpu.dealloc %[[L]]
  // BUFFERS-DAG: gpu.dealloc %[[T]]
  // ASYNC-LABEL: func.func @between_kernels(
  // ASYNC: %[[W:.*]] = gpu.launch_func async {{.*}} @k::@write
  // ASYNC: gpu.wait [%[[W]]]
  // ASYNC: call @un_cuda_sum_across_ranks_f32
  // ASYNC: gpu.wait async
  // ASYNC: gpu.launch_func async {{.*}} @k::@read
  func.func @between_kernels() {
    %c1 = arith.constant 1 : index
    %local = memref.alloc() : memref<9xf32>
    %total = memref.alloc() : memref<9xf32>
    gpu.launch_func @k::@write blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%local : memref<9xf32>)
    un.sum_across_ranks %local into %total : memref<9xf32>, memref<9xf32>
    gpu.launch_func @k::@read blocks in (%c1, %c1, %c1) threads in (%c1, %c1, %c1) args(%total : memref<9xf32>)
    return
  }
}


// -----

// An all-reduce alone, without kernels: its buffers are device buffers too
// (NCCL reads and writes them on the device), and the host's copy into the
// input is a device copy.
// BUFFERS-LABEL: func.func @without_kernels(
// BUFFERS-SAME: %[[X:.*]]: memref<9xf32>)
// BUFFERS: %[[L:.*]] = gpu.alloc () : memref<9xf32>
// BUFFERS: gpu.memcpy %[[L]], %[[X]]
// BUFFERS: %[[T:.*]] = gpu.alloc () : memref<9xf32>
// BUFFERS: call @un_cuda_sum_across_ranks_f32
// BUFFERS-DAG: gpu.dealloc %[[L]]
// BUFFERS-DAG: gpu.dealloc %[[T]]
func.func @without_kernels(%x: memref<9xf32>) {
  %local = memref.alloc() : memref<9xf32>
  memref.copy %x, %local : memref<9xf32> to memref<9xf32>
  %total = memref.alloc() : memref<9xf32>
  un.sum_across_ranks %local into %total : memref<9xf32>, memref<9xf32>
  return
}
