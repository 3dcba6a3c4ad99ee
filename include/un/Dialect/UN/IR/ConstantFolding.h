//===- ConstantFolding.h - Constant arithmetic of UN folds -------*- C++
//-*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// What the canonicalization of `un.infer` and the fold into linear layers
// share: reading float constants (dense or dense_resource) and UN's
// inference scale, computed once, in f32, the same way everywhere.
//
//===----------------------------------------------------------------------===//

#ifndef UN_DIALECT_UN_IR_CONSTANTFOLDING_H
#define UN_DIALECT_UN_IR_CONSTANTFOLDING_H

#include "mlir/IR/BuiltinAttributeInterfaces.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>

namespace mlir {
namespace un {

/// The elements of a float constant as doubles: dense elements, or a
/// dense_resource blob of f32, f16 or bf16 (how torch-mlir stores
/// weights); nullopt for anything else.
std::optional<SmallVector<double>> readFloatElements(ElementsAttr attr);

/// UN's inference scale a[c] = gamma[c] / sqrt(running_var[c] + eps),
/// computed in f32 as the compiled code would.
SmallVector<double> computeInferScale(ArrayRef<double> gamma,
                                      ArrayRef<double> runningVar, float eps);

} // namespace un
} // namespace mlir

#endif // UN_DIALECT_UN_IR_CONSTANTFOLDING_H
