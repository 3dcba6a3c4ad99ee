//===- Bufferization.h - The bufferization stage of the pipelines -*- C++
//-*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_LIB_PIPELINES_BUFFERIZATION_H
#define UN_LIB_PIPELINES_BUFFERIZATION_H

namespace mlir {
class OpPassManager;
namespace un {

/// Tensors -> buffers, as the CPU and CUDA pipelines do it: empty-tensor
/// elimination, one-shot bufferization across function boundaries with
/// identity layouts there (so the C interface takes plain strided
/// memrefs), canonicalize.
void addBufferizationPasses(OpPassManager &pm);

} // namespace un
} // namespace mlir

#endif // UN_LIB_PIPELINES_BUFFERIZATION_H
