//===- ShapeChecks.h - Run-time checks of dims the verifier cannot see -*- C++
//-*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// The verifiers compare static dims only. Where a dim is dynamic in more
// than one operand (a [?, C] activation and a [?] gamma, a [?, ?] mask),
// a shorter operand would be read out of bounds at run time. Before an op
// is lowered, these checks are inserted as cf.assert on the dims that must
// agree: the channel count of every operand, the full shape of operands of
// the first operand's rank (gy and z), and a mask's dims against the
// tokens. A failed check stops the program with the message, before any
// memory is touched.
//
//===----------------------------------------------------------------------===//

#ifndef UN_LIB_CONVERSION_UNTOLINALG_SHAPECHECKS_H
#define UN_LIB_CONVERSION_UNTOLINALG_SHAPECHECKS_H

namespace mlir {
class Operation;
namespace un {
namespace lowering {

/// Inserts, before the primitive `un` op `op`, the checks described above
/// for the dims that are dynamic.
void insertShapeChecks(Operation *op);

} // namespace lowering
} // namespace un
} // namespace mlir

#endif // UN_LIB_CONVERSION_UNTOLINALG_SHAPECHECKS_H
