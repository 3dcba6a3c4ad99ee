//===- UNOps.cpp - UN op verifiers ------------------------------*- C++ -*-===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//
//
// Verifiers for every `un` op. Shapes may be dynamic: a check that needs a
// static size is skipped when the size is unknown.
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

static RankedTensorType rankedType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

/// Activations are `[..., C]`, channels last.
static LogicalResult verifyActivation(ChannelChecker &cc, StringRef name,
                                      RankedTensorType type) {
  if (type.getRank() < 1)
    return cc.getOp()->emitOpError()
           << "'" << name << "' must have rank >= 1 (channels last), got "
           << type;
  return cc.add(name, type.getShape().back());
}

/// Per-channel vectors are `[C]`; `elementType`, when set, is required.
static LogicalResult verifyChannelVector(ChannelChecker &cc, StringRef name,
                                         RankedTensorType type,
                                         Type elementType = {}) {
  if (type.getRank() != 1)
    return cc.getOp()->emitOpError()
           << "'" << name << "' must be a 1-D tensor [C], got " << type;
  if (elementType && type.getElementType() != elementType)
    return cc.getOp()->emitOpError()
           << "'" << name << "' must have element type " << elementType
           << " (that of the activations), got " << type.getElementType();
  return cc.add(name, type.getDimSize(0));
}

/// Statistics windows are `[M, C]` with M >= 1.
static LogicalResult verifyWindow(ChannelChecker &cc, StringRef name,
                                  RankedTensorType type) {
  if (type.getRank() != 2)
    return cc.getOp()->emitOpError()
           << "'" << name << "' must be a 2-D tensor [window, C], got " << type;
  int64_t window = type.getDimSize(0);
  if (!ShapedType::isDynamic(window) && window < 1)
    return cc.getOp()->emitOpError()
           << "'" << name << "' must have a window of at least 1 row, got "
           << window;
  return cc.add(name, type.getDimSize(1));
}

/// The padding mask has the shape of `x` without its channel dim.
static LogicalResult verifyMask(Operation *op, RankedTensorType mask,
                                RankedTensorType x) {
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

/// A result that must have exactly the type of an operand.
static LogicalResult verifySameType(Operation *op, StringRef resultName,
                                    Type result, StringRef operandName,
                                    Type operand) {
  if (result != operand)
    return op->emitOpError()
           << "result '" << resultName << "' must have the type of '"
           << operandName << "' (" << operand << "), got " << result;
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
/// `un.smooth_forward_stats`): running_var and win_x2 in, var and r out,
/// the updated state of the same types, and the hyper-parameters.
template <typename OpTy>
static LogicalResult verifyForwardStatistics(OpTy op, ChannelChecker &cc) {
  if (failed(verifyChannelVector(cc, "running_var",
                                 rankedType(op.getRunningVar()))) ||
      failed(verifyWindow(cc, "win_x2", rankedType(op.getWinX2()))) ||
      failed(verifyChannelVector(cc, "var", rankedType(op.getVar()))) ||
      failed(verifyChannelVector(cc, "r", rankedType(op.getR()))) ||
      failed(verifySameType(op, "running_var_new",
                            op.getRunningVarNew().getType(), "running_var",
                            op.getRunningVar().getType())) ||
      failed(verifySameType(op, "win_x2_new", op.getWinX2New().getType(),
                            "win_x2", op.getWinX2().getType())))
    return failure();
  return verifyHyperParameters(op, {op.getEps().convertToFloat(),
                                    op.getMomentum().convertToFloat(),
                                    op.getRMax().convertToFloat(),
                                    op.getWarmupIters(), op.getRWarmup()});
}

LogicalResult TrainForwardOp::verify() {
  ChannelChecker cc(*this);
  RankedTensorType x = rankedType(getX());
  Type elt = x.getElementType();
  if (failed(verifyActivation(cc, "x", x)) ||
      failed(verifyChannelVector(cc, "gamma", rankedType(getGamma()), elt)) ||
      failed(verifyChannelVector(cc, "beta", rankedType(getBeta()), elt)))
    return failure();
  if (getMask() && failed(verifyMask(*this, rankedType(getMask()), x)))
    return failure();
  if (failed(verifySameType(*this, "y", getY().getType(), "x", x)) ||
      failed(verifySameType(*this, "z", getZ().getType(), "x", x)))
    return failure();
  return verifyForwardStatistics(*this, cc);
}

LogicalResult TrainBackwardOp::verify() {
  ChannelChecker cc(*this);
  RankedTensorType gy = rankedType(getGy());
  Type elt = gy.getElementType();
  if (failed(verifyActivation(cc, "gy", gy)) ||
      failed(verifySameType(*this, "z", getZ().getType(), "gy", gy)) ||
      failed(verifyChannelVector(cc, "var", rankedType(getVar()))) ||
      failed(verifyChannelVector(cc, "r", rankedType(getR()))) ||
      failed(verifyChannelVector(cc, "gamma", rankedType(getGamma()), elt)) ||
      failed(verifyChannelVector(cc, "ema_gz", rankedType(getEmaGz()))) ||
      failed(verifyWindow(cc, "win_gz", rankedType(getWinGz()))))
    return failure();
  if (failed(verifySameType(*this, "gx", getGx().getType(), "gy", gy)) ||
      failed(verifyChannelVector(cc, "ggamma", rankedType(getGgamma()), elt)) ||
      failed(verifyChannelVector(cc, "gbeta", rankedType(getGbeta()), elt)) ||
      failed(verifySameType(*this, "ema_gz_new", getEmaGzNew().getType(),
                            "ema_gz", getEmaGz().getType())) ||
      failed(verifySameType(*this, "win_gz_new", getWinGzNew().getType(),
                            "win_gz", getWinGz().getType())))
    return failure();
  return verifyHyperParameters(
      *this, {getEps().convertToFloat(), getMomentum().convertToFloat(),
              std::nullopt, getWarmupIters(), std::nullopt});
}

LogicalResult InferOp::verify() {
  ChannelChecker cc(*this);
  RankedTensorType x = rankedType(getX());
  Type elt = x.getElementType();
  if (failed(verifyActivation(cc, "x", x)) ||
      failed(verifyChannelVector(cc, "gamma", rankedType(getGamma()), elt)) ||
      failed(verifyChannelVector(cc, "beta", rankedType(getBeta()), elt)) ||
      failed(verifyChannelVector(cc, "running_var",
                                 rankedType(getRunningVar()))) ||
      failed(verifySameType(*this, "y", getY().getType(), "x", x)))
    return failure();
  return verifyHyperParameters(*this, {getEps().convertToFloat()});
}

//===----------------------------------------------------------------------===//
// Primitive ops
//===----------------------------------------------------------------------===//

LogicalResult QuadraticMeanOp::verify() {
  ChannelChecker cc(*this);
  RankedTensorType x = rankedType(getX());
  if (failed(verifyActivation(cc, "x", x)))
    return failure();
  if (getMask() && failed(verifyMask(*this, rankedType(getMask()), x)))
    return failure();
  return verifyChannelVector(cc, "psi", rankedType(getPsi()));
}

LogicalResult SmoothForwardStatsOp::verify() {
  ChannelChecker cc(*this);
  if (failed(verifyChannelVector(cc, "psi", rankedType(getPsi()))))
    return failure();
  return verifyForwardStatistics(*this, cc);
}

LogicalResult NormalizeOp::verify() {
  ChannelChecker cc(*this);
  RankedTensorType x = rankedType(getX());
  Type elt = x.getElementType();
  if (failed(verifyActivation(cc, "x", x)) ||
      failed(verifyChannelVector(cc, "var", rankedType(getVar()))) ||
      failed(verifyChannelVector(cc, "gamma", rankedType(getGamma()), elt)) ||
      failed(verifyChannelVector(cc, "beta", rankedType(getBeta()), elt)) ||
      failed(verifySameType(*this, "z", getZ().getType(), "x", x)) ||
      failed(verifySameType(*this, "y", getY().getType(), "x", x)))
    return failure();
  return verifyHyperParameters(*this, {getEps().convertToFloat()});
}

LogicalResult GradStatsOp::verify() {
  ChannelChecker cc(*this);
  RankedTensorType gy = rankedType(getGy());
  Type elt = gy.getElementType();
  if (failed(verifyActivation(cc, "gy", gy)) ||
      failed(verifySameType(*this, "z", getZ().getType(), "gy", gy)) ||
      failed(verifyChannelVector(cc, "r", rankedType(getR()))) ||
      failed(verifyChannelVector(cc, "gamma", rankedType(getGamma()), elt)) ||
      failed(verifyChannelVector(cc, "gz", rankedType(getGz()))) ||
      failed(verifyChannelVector(cc, "ggamma", rankedType(getGgamma()), elt)) ||
      failed(verifyChannelVector(cc, "gbeta", rankedType(getGbeta()), elt)))
    return failure();
  return success();
}

LogicalResult SmoothGradStatsOp::verify() {
  ChannelChecker cc(*this);
  if (failed(verifyChannelVector(cc, "gz", rankedType(getGz()))) ||
      failed(verifyChannelVector(cc, "ema_gz", rankedType(getEmaGz()))) ||
      failed(verifyWindow(cc, "win_gz", rankedType(getWinGz()))) ||
      failed(verifyChannelVector(cc, "coef", rankedType(getCoef()))) ||
      failed(verifySameType(*this, "ema_gz_new", getEmaGzNew().getType(),
                            "ema_gz", getEmaGz().getType())) ||
      failed(verifySameType(*this, "win_gz_new", getWinGzNew().getType(),
                            "win_gz", getWinGz().getType())))
    return failure();
  return verifyHyperParameters(*this,
                               {std::nullopt, getMomentum().convertToFloat(),
                                std::nullopt, getWarmupIters()});
}

LogicalResult InputGradOp::verify() {
  ChannelChecker cc(*this);
  RankedTensorType gy = rankedType(getGy());
  Type elt = gy.getElementType();
  if (failed(verifyActivation(cc, "gy", gy)) ||
      failed(verifySameType(*this, "z", getZ().getType(), "gy", gy)) ||
      failed(verifyChannelVector(cc, "var", rankedType(getVar()))) ||
      failed(verifyChannelVector(cc, "r", rankedType(getR()))) ||
      failed(verifyChannelVector(cc, "gamma", rankedType(getGamma()), elt)) ||
      failed(verifyChannelVector(cc, "coef", rankedType(getCoef()))) ||
      failed(verifySameType(*this, "gx", getGx().getType(), "gy", gy)))
    return failure();
  return verifyHyperParameters(*this, {getEps().convertToFloat()});
}

/// `scale` and `shift` may each be f32 or of the activation element type.
static LogicalResult verifyAffineCoefficient(ChannelChecker &cc, StringRef name,
                                             RankedTensorType type,
                                             Type activationType) {
  Type elt = type.getElementType();
  Type f32 = Float32Type::get(type.getContext());
  return verifyChannelVector(cc, name, type, elt == f32 ? f32 : activationType);
}

LogicalResult AffineOp::verify() {
  ChannelChecker cc(*this);
  RankedTensorType x = rankedType(getX());
  Type elt = x.getElementType();
  if (failed(verifyActivation(cc, "x", x)) ||
      failed(
          verifyAffineCoefficient(cc, "scale", rankedType(getScale()), elt)) ||
      failed(
          verifyAffineCoefficient(cc, "shift", rankedType(getShift()), elt)) ||
      failed(verifySameType(*this, "y", getY().getType(), "x", x)))
    return failure();
  return success();
}
