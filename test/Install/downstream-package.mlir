// `cmake --install` yields a usable package: a downstream project finds it
// with find_package(UN), builds its own opt tool with our dialect and
// passes, and runs them.
// RUN: rm -rf %t && mkdir -p %t
// RUN: cmake --install %un_obj_root --prefix %t/install > %t/install.log
// RUN: cmake -G Ninja -S %un_src_root/test/downstream -B %t/build \
// RUN:   -DUN_DIR=%t/install/lib/cmake/un -DCMAKE_BUILD_TYPE=Release > %t/configure.log
// RUN: cmake --build %t/build > %t/build.log
// RUN: %t/build/downstream-opt %s --canonicalize | FileCheck %s
// RUN: %t/build/downstream-opt %s --un-decompose | FileCheck %s --check-prefix=DECOMPOSE
// Every pipeline the project registers runs in a tool that registers only
// what include/un/Registration.h says (no upstream pass by name).
// RUN: %t/build/downstream-opt %s --un-to-linalg-pipeline | FileCheck %s --check-prefix=LINALG
// RUN: %t/build/downstream-opt %s --un-inference-pipeline="pack-weights=true" | FileCheck %s --check-prefix=LINALG
// RUN: %t/build/downstream-opt %s --un-cpu-pipeline | FileCheck %s --check-prefix=LLVM
// RUN: %t/build/downstream-opt %s --un-gpu-emulation-pipeline | FileCheck %s --check-prefix=LLVM
// Statistics across processes: the MPI lowering is registered too.
// RUN: %t/build/downstream-opt %S/../Pipelines/cpu-pipeline-all-ranks.mlir --un-cpu-pipeline \
// RUN:   | FileCheck %S/../Pipelines/cpu-pipeline-all-ranks.mlir
// RUN: %if cuda-pipeline %{ %t/build/downstream-opt %s --un-cuda-kernels-pipeline | FileCheck %s --check-prefix=KERNELS %}
// RUN: %if cuda-pipeline %{ %t/build/downstream-opt %s --un-cuda-pipeline="format=isa" | FileCheck %s --check-prefix=CUDA %}
// The installed tools and plugin are there too.
// RUN: %t/install/bin/un-opt %s --canonicalize | FileCheck %s
// RUN: test -f %t/install/lib/UNPlugin.so
// RUN: test -f %t/install/include/un/Dialect/UN/IR/UNOps.h.inc

// Inference UN with constant statistics folds to a per-channel affine map.
// CHECK-LABEL: func.func @fold(
// CHECK: arith.constant dense<[1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK: un.affine
// CHECK-NOT: un.infer

// DECOMPOSE-LABEL: func.func @fold(
// DECOMPOSE: un.normalize

// LINALG-LABEL: func.func @fold(
// LINALG: linalg.generic
// LINALG-NOT: un.

// LLVM: llvm.func @fold(
// LLVM-NOT: un.

// KERNELS: gpu.launch

// CUDA-DAG: gpu.binary @un_kernels
// CUDA-DAG: llvm.func @fold(
func.func @fold(%x: tensor<?x2xf32>, %beta: tensor<2xf32>) -> tensor<?x2xf32> {
  %gamma = arith.constant dense<[2.0, 6.0]> : tensor<2xf32>
  %rv = arith.constant dense<[3.0, 8.0]> : tensor<2xf32>
  %y = un.infer %x, %gamma, %beta, %rv {eps = 1.0 : f32} : (tensor<?x2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<?x2xf32>
  return %y : tensor<?x2xf32>
}
