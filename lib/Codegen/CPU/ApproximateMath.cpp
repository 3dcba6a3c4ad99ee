//===- ApproximateMath.cpp - Vectorizable transcendental functions --------===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Upstream MLIR's polynomial approximations of the math dialect, applied to
// the functions a Transformer uses (exp in softmax, tanh / erf in GELU, log
// in losses), so they become arith that LLVM vectorizes instead of scalar
// libm calls. sqrt and rsqrt are left alone: they are instructions.
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/StringSet.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNCPUAPPROXIMATEMATH
#include "un/Codegen/CPU/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

namespace {

struct UNCPUApproximateMathPass
    : un::impl::UNCPUApproximateMathBase<UNCPUApproximateMathPass> {
  using Base::Base;

  void runOnOperation() override {
    static const llvm::StringSet<> approximated = {
        "exp",  "expm1", "tanh", "erf", "log",  "log1p", "log2",
        "atan", "atan2", "sin",  "cos", "asin", "acos",  "cbrt"};
    // The patterns ask for the full op name (`math.tanh`).
    auto predicate = [](StringRef name) {
      return name.consume_front("math.") && approximated.contains(name);
    };
    RewritePatternSet patterns(&getContext());
    // x^n with a constant n: multiplications (LLVM's powi wants a scalar n).
    math::populateExpansionPatterns(patterns, {"fpowi"});
    populateMathF32ExpansionPatterns(patterns, predicate);
    populateMathPolynomialApproximationPatterns(patterns, predicate);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
