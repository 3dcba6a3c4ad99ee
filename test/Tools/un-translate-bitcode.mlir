// un-translate --mlir-to-llvmbc: the LLVM dialect as LLVM bitcode, which
// llvm-dis reads back (weights as dense constants included).
// RUN: un-translate --mlir-to-llvmbc %s -o %t.bc
// RUN: llvm-dis %t.bc -o - | FileCheck %s

// CHECK: @weights = internal constant [4 x float] [float 1.000000e+00, float 2.000000e+00, float 3.000000e+00, float 4.000000e+00]
// CHECK: define float @second()
// CHECK: load float, ptr getelementptr
llvm.mlir.global internal constant @weights(dense<[1.0, 2.0, 3.0, 4.0]> : tensor<4xf32>) : !llvm.array<4 x f32>
llvm.func @second() -> f32 {
  %0 = llvm.mlir.addressof @weights : !llvm.ptr
  %1 = llvm.getelementptr %0[0, 1] : (!llvm.ptr) -> !llvm.ptr, !llvm.array<4 x f32>
  %2 = llvm.load %1 : !llvm.ptr -> f32
  llvm.return %2 : f32
}
