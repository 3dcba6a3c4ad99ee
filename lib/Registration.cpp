//===- Registration.cpp - Register everything un-mlir provides --*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Registration.h"

#include "un/Dialect/UN/IR/UNDialect.h"

#include "mlir/IR/DialectRegistry.h"

using namespace mlir;

void un::registerUNDialect(DialectRegistry &registry) {
  registry.insert<un::UNDialect>();
}

void un::registerUNPasses() {}
