//===- UNToLinalg.h - Lower primitive un ops to linalg ----------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_CONVERSION_UNTOLINALG_UNTOLINALG_H
#define UN_CONVERSION_UNTOLINALG_UNTOLINALG_H

namespace mlir {
class RewritePatternSet;
namespace un {

/// Reductions over tokens: `un.quadratic_mean`, `un.grad_stats`.
void populateUNTokenReductionPatterns(RewritePatternSet &patterns);

/// Elementwise maps: `un.normalize`, `un.input_grad`, `un.affine`.
void populateUNElementwisePatterns(RewritePatternSet &patterns);

/// `[window, C]` statistics: `un.smooth_forward_stats`,
/// `un.smooth_grad_stats`.
void populateUNStatisticsUpdatePatterns(RewritePatternSet &patterns);

/// All of the above.
void populateUNToLinalgConversionPatterns(RewritePatternSet &patterns);

} // namespace un
} // namespace mlir

#endif // UN_CONVERSION_UNTOLINALG_UNTOLINALG_H
