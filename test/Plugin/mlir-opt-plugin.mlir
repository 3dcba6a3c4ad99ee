// Debian's stock mlir-opt (LLVM 22) gains the un dialect, passes and
// pipelines by loading UNPlugin.so; without it the ops are unknown.
// RUN: mlir-opt %s --load-dialect-plugin=%un_plugin | FileCheck %s --check-prefix=PARSE
// RUN: mlir-opt %s --load-dialect-plugin=%un_plugin --load-pass-plugin=%un_plugin \
// RUN:   --pass-pipeline="builtin.module(un-decompose,canonicalize)" | FileCheck %s --check-prefix=DECOMPOSE
// RUN: mlir-opt %s --load-dialect-plugin=%un_plugin --load-pass-plugin=%un_plugin \
// RUN:   --pass-pipeline="builtin.module(un-cpu-pipeline)" | FileCheck %s --check-prefix=LLVM
// RUN: not mlir-opt %s 2>&1 | FileCheck %s --check-prefix=NOPLUGIN

// PARSE-LABEL: func.func @step(
// PARSE: un.train_forward
// PARSE: un.infer

// DECOMPOSE-LABEL: func.func @step(
// DECOMPOSE: un.quadratic_mean
// DECOMPOSE: un.smooth_forward_stats
// DECOMPOSE: un.normalize
// DECOMPOSE-NOT: un.train_forward
// DECOMPOSE-NOT: un.infer

// LLVM: llvm.func @step(
// LLVM-NOT: un.

// NOPLUGIN: Dialect `un' not found for custom op 'un.train_forward'

func.func @step(%x: tensor<?x8xf32>, %g: tensor<8xf32>, %b: tensor<8xf32>, %rv: tensor<8xf32>, %w: tensor<4x8xf32>, %t: i64, %s: i64) -> (tensor<?x8xf32>, tensor<?x8xf32>) {
  %0:8 = un.train_forward %x, %g, %b, %rv, %w, %t, %s : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<4x8xf32>, i64, i64) -> (tensor<?x8xf32>, tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, i1, tensor<8xf32>, tensor<4x8xf32>, i64)
  %y = un.infer %x, %g, %b, %rv : (tensor<?x8xf32>, tensor<8xf32>, tensor<8xf32>, tensor<8xf32>) -> tensor<?x8xf32>
  return %0#0, %y : tensor<?x8xf32>, tensor<?x8xf32>
}
