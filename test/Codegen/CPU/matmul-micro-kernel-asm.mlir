// The micro-kernel chosen for AVX2 and for AVX-512 compiles to machine code
// whose k loop keeps every accumulator in a register: no vector spills or
// reloads anywhere in the matmul (llc marks them "N-byte Spill/Reload").
// REQUIRES: x86-target
// RUN: un-opt %s --un-cpu-pipeline=cpu=znver3 | mlir-translate --mlir-to-llvmir \
// RUN:   | llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=znver3 \
// RUN:   | FileCheck %s --check-prefix=AVX2 --implicit-check-not="32-byte Spill" --implicit-check-not="32-byte Reload"
// RUN: un-opt %s --un-cpu-pipeline=cpu=skylake-avx512 | mlir-translate --mlir-to-llvmir \
// RUN:   | llc -O3 -mtriple=x86_64-unknown-linux-gnu -mcpu=skylake-avx512 \
// RUN:   | FileCheck %s --check-prefix=AVX512 --implicit-check-not="64-byte Spill" --implicit-check-not="64-byte Reload"

// AVX2-LABEL: matmul:
// AVX2-COUNT-12: vfmadd231ps {{.*}}%ymm{{[0-9]+}}
// AVX512-LABEL: matmul:
// AVX512-COUNT-24: vfmadd231ps {{.*}}%zmm{{[0-9]+}}

func.func @matmul(%a: tensor<197x384xf32>, %b: tensor<384x1152xf32>) -> tensor<197x1152xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<197x1152xf32>
  %f = linalg.fill ins(%zero : f32) outs(%e : tensor<197x1152xf32>) -> tensor<197x1152xf32>
  %r = linalg.matmul ins(%a, %b : tensor<197x384xf32>, tensor<384x1152xf32>) outs(%f : tensor<197x1152xf32>) -> tensor<197x1152xf32>
  return %r : tensor<197x1152xf32>
}
