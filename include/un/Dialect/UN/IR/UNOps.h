//===- UNOps.h - UN dialect operations --------------------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#ifndef UN_DIALECT_UN_IR_UNOPS_H
#define UN_DIALECT_UN_IR_UNOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/Dialect/Bufferization/IR/BufferizableOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "un/Dialect/UN/IR/UNDialect.h"

namespace mlir {
namespace un {
/// The communicator of the processes that share a batch. Collectives (ops
/// with `all_ranks`, un.sum_across_ranks) write it, so that no pass
/// removes, duplicates, reorders or speculates them: every process must run
/// the same collectives in the same order.
struct CommunicatorResource
    : public SideEffects::Resource::Base<CommunicatorResource> {
  StringRef getName() final { return "un::Communicator"; }
};
} // namespace un
} // namespace mlir

#define GET_OP_CLASSES
#include "un/Dialect/UN/IR/UNOps.h.inc"

namespace mlir {
namespace un {
/// The un.sum_across_ranks ops under `root`, for a lowering that takes them
/// on buffers: one still on tensors is reported ("bufferize before
/// -`pass`") and fails.
FailureOr<SmallVector<SumAcrossRanksOp>>
sumsAcrossRanksOnBuffers(Operation *root, StringRef pass);
} // namespace un
} // namespace mlir

#endif // UN_DIALECT_UN_IR_UNOPS_H
