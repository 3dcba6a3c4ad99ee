// RUN: un-opt %s --un-gpu-matmul | FileCheck %s

// Static f32 matmuls become one shared-memory tiled kernel each: 256
// threads, 64 x 64 outputs per block, K steps of 16 staged in workgroup
// memory (A transposed and padded: 16 x 65, B: 16 x 64) between barriers.

// CHECK-LABEL: func.func @qkv(
// CHECK-NOT: linalg.matmul
// CHECK: %[[C:.*]] = memref.alloc() : memref<197x1152xf32>
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c18{{.*}}, {{.*}} = %c4{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c256{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) module(@un_kernels) function(@qkv_matmul) workgroup(%[[AT:.*]] : memref<1040xf32, #gpu.address_space<workgroup>>, %[[BT:.*]] : memref<1024xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for {{.*}} = %c0{{.*}} to %c24{{.*}} step %c1{{.*}} iter_args(
// CHECK-COUNT-4: memref.store {{.*}}, %[[AT]]
// CHECK-COUNT-4: memref.store {{.*}}, %[[BT]]
// CHECK: gpu.barrier
// The 16 k of a step unrolled: 4 + 4 workgroup loads, 16 FMAs each.
// CHECK-COUNT-4: memref.load %[[AT]]
// CHECK-COUNT-4: memref.load %[[BT]]
// CHECK-COUNT-256: math.fma
// CHECK-NOT: math.fma
// CHECK: gpu.barrier
// Rows beyond 197 are not stored (1152 is a multiple of 64: no column check).
// CHECK: scf.if
// CHECK: memref.store {{.*}}, %[[C]]
// CHECK: gpu.terminator
// CHECK: bufferization.to_tensor %[[C]] restrict writable
func.func @qkv(%a: tensor<197x384xf32>, %b: tensor<384x1152xf32>) -> tensor<197x1152xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<197x1152xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<197x1152xf32>) -> tensor<197x1152xf32>
  %c = linalg.matmul ins(%a, %b : tensor<197x384xf32>, tensor<384x1152xf32>) outs(%f : tensor<197x1152xf32>) -> tensor<197x1152xf32>
  return %c : tensor<197x1152xf32>
}

// Batches on grid z: 4 x 4 x 6 blocks, 4 K steps.
// CHECK-LABEL: func.func @scores(
// CHECK-NOT: linalg.batch_matmul
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c4{{.*}}, {{.*}} = %c4{{.*}}, {{.*}} = %c6{{.*}}) threads({{.*}}) in ({{.*}} = %c256{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) module(@un_kernels) function(@scores_matmul) workgroup(
// CHECK: scf.for {{.*}} = %c0{{.*}} to %c4{{.*}} step
// CHECK: gpu.barrier
// CHECK: gpu.barrier
func.func @scores(%q: tensor<6x197x64xf32>, %k: tensor<6x64x197xf32>) -> tensor<6x197x197xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<6x197x197xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<6x197x197xf32>) -> tensor<6x197x197xf32>
  %c = linalg.batch_matmul ins(%q, %k : tensor<6x197x64xf32>, tensor<6x64x197xf32>) outs(%f : tensor<6x197x197xf32>) -> tensor<6x197x197xf32>
  return %c : tensor<6x197x197xf32>
}

// Any other init is read by the kernel.
// CHECK-LABEL: func.func @with_init(
// CHECK: %[[INIT:.*]] = bufferization.to_buffer %arg2
// CHECK: gpu.launch {{.*}} function(@with_init_matmul)
// CHECK: memref.load %[[INIT]]
func.func @with_init(%a: tensor<70x20xf32>, %b: tensor<20x33xf32>, %c: tensor<70x33xf32>) -> tensor<70x33xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<70x20xf32>, tensor<20x33xf32>) outs(%c : tensor<70x33xf32>) -> tensor<70x33xf32>
  return %r : tensor<70x33xf32>
}

// Dynamic shapes and other element types keep the generic path.
// CHECK-LABEL: func.func @dynamic(
// CHECK-NOT: gpu.launch
// CHECK: linalg.matmul
func.func @dynamic(%a: tensor<?x384xf32>, %b: tensor<384x384xf32>, %c: tensor<?x384xf32>) -> tensor<?x384xf32> {
  %r = linalg.matmul ins(%a, %b : tensor<?x384xf32>, tensor<384x384xf32>) outs(%c : tensor<?x384xf32>) -> tensor<?x384xf32>
  return %r : tensor<?x384xf32>
}

// CHECK-LABEL: func.func @half(
// CHECK-NOT: gpu.launch
// CHECK: linalg.matmul
func.func @half(%a: tensor<64x64xf16>, %b: tensor<64x64xf16>, %c: tensor<64x64xf16>) -> tensor<64x64xf16> {
  %r = linalg.matmul ins(%a, %b : tensor<64x64xf16>, tensor<64x64xf16>) outs(%c : tensor<64x64xf16>) -> tensor<64x64xf16>
  return %r : tensor<64x64xf16>
}
