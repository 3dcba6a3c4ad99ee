//===- PackMatmulWeights.h - Weights of matmuls packed in panels -*- C++
//-*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// `pack-weights` of un-fold-into-linear. A matmul whose right operand is a
// weight reads it, on the CPU, one panel of columns at a time; packing
// those panels on every call is a copy of the whole weight per call. With
// this option, every f32 linalg.matmul C = A B whose B [K, N] (N a
// multiple of the panel width) is a weight becomes a matmul on B packed
// in panels (un/Codegen/PanelMatmul.h):
//
//  - a constant B (through reshapes and transposes) is packed at compile
//    time into a new constant;
//  - a B computed from function arguments by reshapes, transposes or
//    weight preparation is packed by ops marked as weight preparation,
//    which hoist-weight-prep moves into @<name>_prepare_weights: the
//    packed weight is one more prepared value. So a 2-D matmul's right
//    operand that comes from an argument is taken to be a weight. Without
//    hoist-weight-prep, that work would run on every call: only constant
//    weights are packed then.
//
//===----------------------------------------------------------------------===//

#ifndef UN_LIB_DIALECT_UN_TRANSFORMS_PACKMATMULWEIGHTS_H
#define UN_LIB_DIALECT_UN_TRANSFORMS_PACKMATMULWEIGHTS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir {
namespace un {
namespace fold {

/// Rewrites the matmuls of `func` as described above, those on constant
/// weights only unless `packArguments`; returns how many.
unsigned packMatmulWeights(func::FuncOp func, bool packArguments);

} // namespace fold
} // namespace un
} // namespace mlir

#endif // UN_LIB_DIALECT_UN_TRANSFORMS_PACKMATMULWEIGHTS_H
