//===- InferencePipeline.cpp - Fold inference UN, then simplify -*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The target-independent inference pipeline, on tensors:
//  1. un-fold-into-linear: un.infer -> un.affine, folded into the weights
//     and biases of the linear layers around it (constants folded at
//     compile time; weight work on function arguments optionally moved
//     into @<name>_prepare_weights);
//  2. canonicalize and cse;
//  3. the shared un-to-linalg stage: what is left of the un dialect (an
//     affine map next to a residual add, say) becomes linalg, and
//     un-fuse-elementwise fuses it into the elementwise loop next to it.
//
// Its output holds no un op and feeds any target pipeline:
// `un-opt --un-inference-pipeline --un-cpu-pipeline`.
//
//===----------------------------------------------------------------------===//

#include "un/Pipelines/Pipelines.h"

#include "un/Dialect/UN/Transforms/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

using namespace mlir;

void un::buildUNInferencePipeline(OpPassManager &pm,
                                  const UNInferencePipelineOptions &options) {
  pm.addPass(createUNCheckDimIndices());
  UNFoldIntoLinearOptions foldOptions;
  foldOptions.hoistWeightPrep = options.hoistWeightPrep;
  foldOptions.packWeights = options.packWeights;
  foldOptions.reportUnfolded = options.reportUnfolded;
  pm.addPass(createUNFoldIntoLinear(foldOptions));
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  buildUNToLinalgPipeline(pm);
}

void un::registerUNInferencePipeline() {
  PassPipelineRegistration<UNInferencePipelineOptions>(
      "un-inference-pipeline",
      "Fold inference UN into the linear layers around it and simplify at "
      "the linalg level (target independent; no un op is left)",
      buildUNInferencePipeline);
}
