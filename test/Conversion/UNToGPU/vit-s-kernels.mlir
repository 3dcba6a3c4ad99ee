// RUN: un-opt %S/../../Pipelines/Inputs/vit-s.mlir --un-decompose --convert-un-to-gpu | FileCheck %s

// Kernel structure of a ViT-S training step (8 x 197 x 384, f32) and of
// inference UN: six launches for forward + backward, one for inference;
// 256-thread blocks over a 12 x 13 grid (12 blocks of 8 channel vectors of
// 4 floats = 384 channels; 13 blocks of rows, 4 rows in flight per thread)
// for the activation-sized kernels; one 512-thread block for the forward
// statistics; one thread per channel for the gradient statistics.

// CHECK-LABEL: func.func @train_step
// Column sums of x^2: 128-bit loads, rows of a warp combined with shuffles
// (xor 8, 16: 4 rows of 8 lanes), warps through shared memory.
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c12{{(_[0-9]+)?}}, {{.*}} = %c13{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c256{{(_[0-9]+)?}}, {{.*}}) module(@un_kernels) function(@train_step_square_sums) workgroup(%{{.*}} : memref<256xf32, #gpu.address_space<workgroup>>)
// CHECK: vector.load %{{.*}} {alignment = 16 : i64} : memref<1576x384xf32>, vector<4xf32>
// CHECK: gpu.shuffle  xor %{{.*}}, %c8_i32{{.*}}, %c32_i32
// CHECK: gpu.shuffle  xor %{{.*}}, %c16_i32{{.*}}, %c32_i32
// CHECK: gpu.barrier
// Statistics: one block, block-wide reductions (s2, outlier vote), then
// skip/skips published in device memory by thread 0.
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{(_[0-9]+)?}}, {{.*}} = %c1{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c512{{(_[0-9]+)?}}, {{.*}}) module(@un_kernels) function(@train_step_forward_stats)
// CHECK: gpu.shuffle  xor %{{.*}}, %c1_i32
// CHECK: math.log
// CHECK: math.exp
// CHECK: memref.store %{{.*}}, %[[SCALARS:.*]][%{{.*}}] : memref<2xi64>
// The host reads skips_new (returned) once, after the statistics kernel.
// CHECK: memref.copy %[[SCALARS]], %{{.*}} : memref<2xi64> to memref<2xi64>
// Normalize: elementwise, z and y stored with 128-bit stores.
// CHECK: gpu.launch {{.*}} function(@train_step_normalize)
// CHECK: vector.store %{{.*}} {alignment = 16 : i64} : memref<1576x384xf32>, vector<4xf32>
// Backward: column sums of (g z, gy r z, gy), then per-channel statistics
// that read skip from device memory, then the input gradient.
// CHECK: gpu.launch {{.*}} function(@train_step_grad_sums) workgroup(%{{.*}} : memref<768xf32, #gpu.address_space<workgroup>>)
// CHECK: gpu.launch blocks({{.*}}) in ({{.*}} = %c2{{(_[0-9]+)?}}, {{.*}}) threads({{.*}}) in ({{.*}} = %c256{{(_[0-9]+)?}}, {{.*}}) module(@un_kernels) function(@train_step_grad_stats)
// CHECK: memref.load %[[SCALARS]]
// CHECK: gpu.launch {{.*}} function(@train_step_input_grad)
// CHECK-NOT: gpu.launch
// CHECK: return

// CHECK-LABEL: func.func @inference
// CHECK: gpu.launch {{.*}} function(@inference_normalize)
// CHECK-NOT: gpu.launch
// CHECK: return
