// The CPU pipeline takes tensor-level IR with un, linalg, arith, tensor and
// bufferization ops and external calls all the way to the LLVM dialect.
// RUN: un-opt %s --un-cpu-pipeline | FileCheck %s
// The target-independent part leaves one loop nest per pass over the
// activations: one reduction and one elementwise nest for the forward (the
// user's residual add fused into it), and per-channel work outside them.
// RUN: un-opt %s --un-to-linalg-pipeline | FileCheck %s --check-prefix=LINALG

// CHECK-NOT: un.
// CHECK-NOT: linalg.
// CHECK-NOT: tensor.
// CHECK-NOT: memref.
// CHECK-NOT: bufferization.
// CHECK-NOT: scf.
// CHECK-DAG: llvm.func @printMemrefF32(
// CHECK-DAG: llvm.func @forward_residual(
// CHECK-DAG: llvm.func @_mlir_ciface_forward_residual(
// CHECK-DAG: llvm.func @main(

// LINALG-LABEL: func.func @forward_residual(
// LINALG-SAME: %[[X:[^:]*]]: tensor<2x3x4xf32>
// LINALG: linalg.generic {{.*}} iterator_types = ["reduction", "reduction", "parallel"]} ins(%[[X]] : tensor<2x3x4xf32>)
// LINALG: math.sqrt
// LINALG: linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel"]} ins(%[[X]], %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>)
// LINALG-NEXT: ^bb0(%[[XV:[^:]*]]: f32,
// LINALG-NOT: math.sqrt
// LINALG: arith.divf %[[XV]]
// LINALG: %[[Y:.*]] = arith.addf
// LINALG: %[[O:.*]] = arith.addf %[[Y]], %[[XV]]
// LINALG: linalg.yield %[[O]]
// LINALG-NOT: linalg.generic
// LINALG: return
func.func @forward_residual(%x: tensor<2x3x4xf32>, %g: tensor<4xf32>, %b: tensor<4xf32>, %rv: tensor<4xf32>, %w: tensor<4x4xf32>, %t: i64, %s: i64) -> tensor<2x3x4xf32> attributes {llvm.emit_c_interface} {
  %0:8 = "un.train_forward"(%x, %g, %b, %rv, %w, %t, %s) : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> (tensor<2x3x4xf32>, tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>, tensor<4x4xf32>, i64)
  %o = arith.addf %0#0, %x : tensor<2x3x4xf32>
  return %o : tensor<2x3x4xf32>
}

func.func private @printMemrefF32(memref<*xf32>)

func.func @main() {
  %x = arith.constant dense<1.0> : tensor<2x3x4xf32>
  %g = arith.constant dense<1.0> : tensor<4xf32>
  %b = arith.constant dense<0.0> : tensor<4xf32>
  %w = arith.constant dense<0.0> : tensor<4x4xf32>
  %t = arith.constant 1 : i64
  %s = arith.constant 0 : i64
  %y = call @forward_residual(%x, %g, %b, %g, %w, %t, %s) : (tensor<2x3x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4x4xf32>, i64, i64) -> tensor<2x3x4xf32>
  %m = bufferization.to_buffer %y : tensor<2x3x4xf32> to memref<2x3x4xf32>
  %u = memref.cast %m : memref<2x3x4xf32> to memref<*xf32>
  call @printMemrefF32(%u) : (memref<*xf32>) -> ()
  return
}
