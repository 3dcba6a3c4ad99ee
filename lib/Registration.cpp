//===- Registration.cpp - Register everything un-mlir provides --*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Registration.h"

#include "un/Codegen/CPU/Passes.h"
#include "un/Conversion/Passes.h"
#include "un/Dialect/UN/IR/UNDialect.h"
#include "un/Dialect/UN/Transforms/Passes.h"
#include "un/Pipelines/Pipelines.h"

#include "mlir/IR/DialectRegistry.h"

using namespace mlir;

void un::registerUNDialect(DialectRegistry &registry) {
  registry.insert<un::UNDialect>();
}

void un::registerUNPasses() {
  registerUNTransformsPasses();
  registerUNConversionPasses();
  registerUNCodegenCPUPasses();
  registerUNPipelines();
}
