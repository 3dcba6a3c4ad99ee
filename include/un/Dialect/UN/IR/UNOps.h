//===- UNOps.h - UN dialect operations --------------------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_DIALECT_UN_IR_UNOPS_H
#define UN_DIALECT_UN_IR_UNOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "un/Dialect/UN/IR/UNDialect.h"

#define GET_OP_CLASSES
#include "un/Dialect/UN/IR/UNOps.h.inc"

#endif // UN_DIALECT_UN_IR_UNOPS_H
