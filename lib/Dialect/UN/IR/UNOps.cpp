//===- UNOps.cpp - UN op verifiers ------------------------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Verifiers for every `un` op: what the ODS constraints (ranks, element
// types, AllTypesMatch) cannot say. Every channel dim agreeing on C >= 1,
// windows of at least one row, mask shapes and hyper-parameter ranges.
// Shapes may be dynamic: a check that needs a static size is skipped when
// the size is unknown.
//
//===----------------------------------------------------------------------===//

#include "un/Dialect/UN/IR/UNOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace mlir::un;

#define GET_OP_CLASSES
#include "un/Dialect/UN/IR/UNOps.cpp.inc"

namespace {
/// Tracks the channel count C of one op: every operand and result that has
/// a channel dimension must agree on it where it is static.
class ChannelChecker {
public:
  explicit ChannelChecker(Operation *op) : op(op) {}

  /// Records that `name` has channel dim `dim`; fails on a conflict.
  LogicalResult add(StringRef name, int64_t dim) {
    if (ShapedType::isDynamic(dim))
      return success();
    if (dim == 0)
      return op->emitOpError()
             << "'" << name
             << "' has no channels: UN normalizes at least one channel";
    if (known && *known != dim)
      return op->emitOpError() << "channel dim of '" << name << "' (" << dim
                               << ") does not match channel dim of '"
                               << knownName << "' (" << *known << ")";
    if (!known) {
      known = dim;
      knownName = name.str();
    }
    return success();
  }

  Operation *getOp() const { return op; }

private:
  Operation *op;
  std::optional<int64_t> known;
  std::string knownName;
};
} // namespace

/// The channel dim (the last) of a ranked tensor value.
static int64_t channels(Value v) {
  return cast<RankedTensorType>(v.getType()).getShape().back();
}

/// Records the channel dim of each named value; fails on the first
/// conflict.
static LogicalResult
addChannels(ChannelChecker &cc,
            std::initializer_list<std::pair<StringRef, Value>> values) {
  for (auto [name, value] : values)
    if (failed(cc.add(name, channels(value))))
      return failure();
  return success();
}

/// Statistics windows [M, C] have M >= 1.
static LogicalResult verifyWindow(ChannelChecker &cc, StringRef name,
                                  Value window) {
  int64_t rows = cast<RankedTensorType>(window.getType()).getDimSize(0);
  if (!ShapedType::isDynamic(rows) && rows < 1)
    return cc.getOp()->emitOpError()
           << "'" << name << "' must have a window of at least 1 row, got "
           << rows;
  return cc.add(name, channels(window));
}

/// The padding mask has the shape of `x` without its channel dim.
static LogicalResult verifyMask(Operation *op, Value maskValue, Value xValue) {
  auto mask = cast<RankedTensorType>(maskValue.getType());
  auto x = cast<RankedTensorType>(xValue.getType());
  if (mask.getRank() != x.getRank() - 1)
    return op->emitOpError()
           << "'mask' must have the shape of 'x' without its channel dim: "
              "expected rank "
           << x.getRank() - 1 << ", got " << mask.getRank();
  for (int64_t i = 0, e = mask.getRank(); i < e; ++i) {
    int64_t m = mask.getDimSize(i), d = x.getDimSize(i);
    if (!ShapedType::isDynamic(m) && !ShapedType::isDynamic(d) && m != d)
      return op->emitOpError()
             << "'mask' dim " << i << " (" << m << ") does not match 'x' dim "
             << i << " (" << d << ")";
  }
  return success();
}

/// Hyper-parameter ranges from the spec; unset ones are not checked.
struct HyperParameters {
  std::optional<float> eps, momentum, rMax;
  std::optional<int64_t> warmupIters, rWarmup;
};

static LogicalResult verifyHyperParameters(Operation *op,
                                           const HyperParameters &hp) {
  if (hp.eps && !(*hp.eps > 0.0f))
    return op->emitOpError() << "'eps' must be > 0, got " << *hp.eps;
  if (hp.momentum && !(*hp.momentum >= 0.0f && *hp.momentum < 1.0f))
    return op->emitOpError()
           << "'momentum' must be in [0, 1), got " << *hp.momentum;
  if (hp.rMax && !(*hp.rMax >= 1.0f))
    return op->emitOpError() << "'r_max' must be >= 1, got " << *hp.rMax;
  if (hp.warmupIters && *hp.warmupIters < 0)
    return op->emitOpError()
           << "'warmup_iters' must be >= 0, got " << *hp.warmupIters;
  if (hp.rWarmup && *hp.rWarmup < 0)
    return op->emitOpError() << "'r_warmup' must be >= 0, got " << *hp.rWarmup;
  return success();
}

//===----------------------------------------------------------------------===//
// Composite ops
//===----------------------------------------------------------------------===//

/// The statistics state of a forward step (`un.train_forward`,
/// `un.smooth_forward_stats`) and its hyper-parameters.
template <typename OpTy>
static LogicalResult verifyForwardStatistics(OpTy op, ChannelChecker &cc) {
  if (failed(addChannels(cc, {{"running_var", op.getRunningVar()},
                              {"var", op.getVar()},
                              {"r", op.getR()}})) ||
      failed(verifyWindow(cc, "win_x2", op.getWinX2())))
    return failure();
  return verifyHyperParameters(op, {op.getEps().convertToFloat(),
                                    op.getMomentum().convertToFloat(),
                                    op.getRMax().convertToFloat(),
                                    op.getWarmupIters(), op.getRWarmup()});
}

LogicalResult TrainForwardOp::verify() {
  ChannelChecker cc(*this);
  if (failed(addChannels(
          cc, {{"x", getX()}, {"gamma", getGamma()}, {"beta", getBeta()}})))
    return failure();
  if (getMask() && failed(verifyMask(*this, getMask(), getX())))
    return failure();
  return verifyForwardStatistics(*this, cc);
}

LogicalResult TrainBackwardOp::verify() {
  ChannelChecker cc(*this);
  if (failed(addChannels(cc, {{"gy", getGy()},
                              {"var", getVar()},
                              {"r", getR()},
                              {"gamma", getGamma()},
                              {"ema_gz", getEmaGz()},
                              {"ggamma", getGgamma()},
                              {"gbeta", getGbeta()}})) ||
      failed(verifyWindow(cc, "win_gz", getWinGz())))
    return failure();
  return verifyHyperParameters(
      *this, {getEps().convertToFloat(), getMomentum().convertToFloat(),
              std::nullopt, getWarmupIters(), std::nullopt});
}

LogicalResult InferOp::verify() {
  ChannelChecker cc(*this);
  if (failed(addChannels(cc, {{"x", getX()},
                              {"gamma", getGamma()},
                              {"beta", getBeta()},
                              {"running_var", getRunningVar()}})))
    return failure();
  return verifyHyperParameters(*this, {getEps().convertToFloat()});
}

//===----------------------------------------------------------------------===//
// Primitive ops
//===----------------------------------------------------------------------===//

LogicalResult QuadraticMeanOp::verify() {
  ChannelChecker cc(*this);
  if (failed(addChannels(cc, {{"x", getX()}, {"psi", getPsi()}})))
    return failure();
  if (getMask())
    return verifyMask(*this, getMask(), getX());
  return success();
}

LogicalResult SmoothForwardStatsOp::verify() {
  ChannelChecker cc(*this);
  if (failed(addChannels(cc, {{"psi", getPsi()}})))
    return failure();
  return verifyForwardStatistics(*this, cc);
}

LogicalResult NormalizeOp::verify() {
  ChannelChecker cc(*this);
  if (failed(addChannels(cc, {{"x", getX()},
                              {"var", getVar()},
                              {"gamma", getGamma()},
                              {"beta", getBeta()}})))
    return failure();
  return verifyHyperParameters(*this, {getEps().convertToFloat()});
}

LogicalResult GradStatsOp::verify() {
  ChannelChecker cc(*this);
  return addChannels(
      cc,
      {{"gy", getGy()}, {"r", getR()}, {"gamma", getGamma()}, {"gz", getGz()}});
}

LogicalResult SmoothGradStatsOp::verify() {
  ChannelChecker cc(*this);
  if (failed(addChannels(
          cc,
          {{"gz", getGz()}, {"ema_gz", getEmaGz()}, {"coef", getCoef()}})) ||
      failed(verifyWindow(cc, "win_gz", getWinGz())))
    return failure();
  return verifyHyperParameters(*this,
                               {std::nullopt, getMomentum().convertToFloat(),
                                std::nullopt, getWarmupIters()});
}

LogicalResult InputGradOp::verify() {
  ChannelChecker cc(*this);
  if (failed(addChannels(cc, {{"gy", getGy()},
                              {"var", getVar()},
                              {"r", getR()},
                              {"gamma", getGamma()},
                              {"coef", getCoef()}})))
    return failure();
  return verifyHyperParameters(*this, {getEps().convertToFloat()});
}

LogicalResult AffineOp::verify() {
  ChannelChecker cc(*this);
  Type activation = getElementTypeOrSelf(getX().getType());
  for (auto [name, coefficient] :
       {std::pair<StringRef, Value>{"scale", getScale()},
        {"shift", getShift()}}) {
    // f32, or the element type of the activations.
    Type elt = getElementTypeOrSelf(coefficient.getType());
    if (!elt.isF32() && elt != activation)
      return emitOpError() << "'" << name
                           << "' must have element type f32 or that of the "
                              "activations ("
                           << activation << "), got " << elt;
  }
  return addChannels(
      cc, {{"x", getX()}, {"scale", getScale()}, {"shift", getShift()}});
}
