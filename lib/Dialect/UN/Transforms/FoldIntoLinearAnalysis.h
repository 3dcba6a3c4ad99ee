//===- FoldIntoLinearAnalysis.h - Where an affine map can fold --*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Legality of folding a per-channel `un.affine` (y = a * x + beta, channels
// last) into a neighbouring linear layer, and the facts a rewrite needs:
//
//  - a *consumer* fold: y reaches an input of a contraction (linalg.matmul
//    with any indexing maps, linalg.batch_matmul, a contraction
//    linalg.generic, ...) through shape-only ops, and the channel dim is a
//    contracted dim; then y W = x (diag(a) W) + beta W;
//  - a *producer* fold: x is the output of a contraction (optionally
//    followed by a broadcast bias add), reached through shape-only ops,
//    and the channel dim is an output dim that only the weight carries;
//    then a (u V + c) + beta = u (V diag(a)) + (a c + beta).
//
// Shape-only ops ("views") are tensor.collapse_shape, tensor.expand_shape,
// tensor.extract_slice (consumer side only), tensor.cast, linalg.transpose
// and copy linalg.generics with permutation maps; the channel must map to
// exactly one dim of their result (it is never merged with or split into
// other non-unit dims).
//
// Every function that can fail writes why into `why` (for debug output,
// notifyMatchFailure and the pass's remarks).
//
//===----------------------------------------------------------------------===//

#ifndef UN_LIB_DIALECT_UN_TRANSFORMS_FOLDINTOLINEARANALYSIS_H
#define UN_LIB_DIALECT_UN_TRANSFORMS_FOLDINTOLINEARANALYSIS_H

#include "un/Dialect/UN/IR/UNOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"

#include <string>

namespace mlir {
namespace un {
namespace fold {

/// True if `op` only moves data (see the file comment); its data operand is
/// `getViewSource(op)`.
bool isViewOp(Operation *op);

/// The operand of view op `op` that carries the data.
OpOperand &getViewSource(Operation *op);

/// Dim of the result of view `op` that holds dim `dim` of its source, if
/// exactly one does and holds all of it.
std::optional<int64_t> mapDimForward(Operation *op, int64_t dim);

/// Dim of the source of view `op` that dim `dim` of its result comes from,
/// if exactly one does and `dim` holds all of it.
std::optional<int64_t> mapDimBackward(Operation *op, int64_t dim);

/// True if `value` is a parameter: computed from function arguments and
/// constants only by side-effect-free ops that are neither contractions nor
/// reductions (weight preparation made by this pass excepted) nor un ops,
/// and independent of `activation`. Activations that meet the weight
/// operand of a contraction (attention's K and V) are computed by
/// contractions and so are not parameters.
bool isParameter(Value value, Value activation, std::string &why);

/// A legal consumer fold: y (through `views`) is input `activationIndex`
/// of `contraction`, and its channel is contracted with dim `weightDim` of
/// input `weightIndex`.
struct ConsumerFold {
  SmallVector<Operation *> views; ///< from y to the contraction, in order
  linalg::LinalgOp contraction;
  unsigned activationIndex = 0, weightIndex = 0;
  int64_t weightDim = 0;
  /// For every dim of the weight other than `weightDim`, in order, the dim
  /// of the contraction's output that carries it.
  SmallVector<int64_t> weightDimsInOutput;
  /// beta W is absorbed by bias input `biasIndex` of `biasAdd` (the
  /// contraction's only user, after `biasViews`)...
  linalg::GenericOp biasAdd;
  unsigned biasIndex = 0;
  SmallVector<Operation *> biasViews;
  /// ...or else by the `linalg.fill` that initializes the contraction.
  linalg::FillOp initFill;
};

/// Checks the consumer fold of `affine` along `use`, a use of its result
/// or of a view of it (`views` leads there; `channelDim` is where the
/// channel is in the used value).
FailureOr<ConsumerFold> analyzeConsumerFold(AffineOp affine, OpOperand &use,
                                            ArrayRef<Operation *> views,
                                            int64_t channelDim,
                                            std::string &why);

/// A use of y, or of a view of y, that is not itself a view (where a
/// consumer fold may happen), with the path to it.
struct TerminalUse {
  OpOperand *use;
  SmallVector<Operation *> views;
  int64_t channelDim;
};

/// Every terminal use of `affine`'s result. Views that do not preserve the
/// channel are terminal uses too (and cannot fold).
SmallVector<TerminalUse> getTerminalUses(AffineOp affine);

/// A legal producer fold: x is the output of `contraction` (through
/// `viewsBeforeBias`, an optional `biasAdd` and `viewsAfterBias`) and the
/// channel is output dim `outputDim`, carried by dim `weightDim` of input
/// `weightIndex` only.
struct ProducerFold {
  linalg::LinalgOp contraction;
  unsigned weightIndex = 0;
  int64_t weightDim = 0, outputDim = 0;
  SmallVector<Operation *> viewsBeforeBias, viewsAfterBias; ///< program order
  linalg::GenericOp biasAdd; ///< null without bias
  unsigned biasIndex = 0;    ///< input of biasAdd holding the [C] bias
  linalg::FillOp initFill;   ///< the contraction's init (without bias)
};

/// Checks the producer fold of `affine`.
FailureOr<ProducerFold> analyzeProducerFold(AffineOp affine, std::string &why);

} // namespace fold
} // namespace un
} // namespace mlir

#endif // UN_LIB_DIALECT_UN_TRANSFORMS_FOLDINTOLINEARANALYSIS_H
