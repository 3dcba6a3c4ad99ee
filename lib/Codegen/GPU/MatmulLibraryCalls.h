//===- MatmulLibraryCalls.h - Matmuls as calls of cuBLASLt ------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// What un-gpu-matmul's kernel route asks of its library route.
//
//===----------------------------------------------------------------------===//

#ifndef UN_LIB_CODEGEN_GPU_MATMULLIBRARYCALLS_H
#define UN_LIB_CODEGEN_GPU_MATMULLIBRARYCALLS_H

#include "mlir/Dialect/Linalg/IR/LinalgInterfaces.h"

namespace mlir {
namespace un {
namespace gpukernels {

/// True if `op` is a linalg.matmul or linalg.batch_matmul on tensors with
/// the default indexing maps (no transposes or broadcasts).
bool isPlainMatmul(linalg::LinalgOp op);

/// True if `op` is a matmul / batch_matmul on tensors that the runtime's
/// cuBLASLt entry points compute: default maps; f32, bf16 or f16 inputs of
/// one type, an f32 result or one of the inputs' type; any shapes.
bool isLibraryMatmul(linalg::LinalgOp op);

/// Replaces `op` (isLibraryMatmul) by a call of the runtime's entry point
/// on its buffers; with `tf32`, f32 matmuls may use TF32 tensor cores.
LogicalResult lowerMatmulToLibraryCall(linalg::LinalgOp op, bool tf32);

} // namespace gpukernels
} // namespace un
} // namespace mlir

#endif // UN_LIB_CODEGEN_GPU_MATMULLIBRARYCALLS_H
