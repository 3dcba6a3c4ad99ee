//===- UNDialect.cpp - UN dialect registration ------------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Dialect/UN/IR/UNDialect.h"
#include "un/Dialect/UN/IR/UNOps.h"

using namespace mlir;
using namespace mlir::un;

#include "un/Dialect/UN/IR/UNOpsDialect.cpp.inc"

void UNDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "un/Dialect/UN/IR/UNOps.cpp.inc"
      >();
}
