//===- UNDialect.h - UN dialect declaration ---------------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_DIALECT_UN_IR_UNDIALECT_H
#define UN_DIALECT_UN_IR_UNDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Dialect.h"

#include "un/Dialect/UN/IR/UNOpsDialect.h.inc"

#endif // UN_DIALECT_UN_IR_UNDIALECT_H
