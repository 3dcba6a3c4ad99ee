//===- Registration.cpp - Register everything un-mlir provides --*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Registration.h"

#include "un/Codegen/CPU/Passes.h"
#include "un/Codegen/GPU/Passes.h"
#include "un/Conversion/Passes.h"
#include "un/Dialect/UN/IR/UNDialect.h"
#include "un/Dialect/UN/Transforms/Passes.h"
#include "un/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

using namespace mlir;

void un::registerUNDialect(DialectRegistry &registry) {
  registry.insert<un::UNDialect>();
}

void un::registerUNPipelineDependencies(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  // gpu-module-to-binary translates kernels to LLVM IR (un-cuda-pipeline).
  registerAllToLLVMIRTranslations(registry);
}

void un::registerUNPasses() {
  registerUNTransformsPasses();
  registerUNConversionPasses();
  registerUNCodegenCPUPasses();
  registerUNCodegenGPUPasses();
  registerUNPipelines();
}
