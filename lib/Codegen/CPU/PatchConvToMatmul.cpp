//===- PatchConvToMatmul.cpp - Patch embeddings as matmuls ----------------===//
//
// Part of the un-mlir project.
//
//===----------------------------------------------------------------------===//

#include "un/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir {
namespace un {
#define GEN_PASS_DEF_UNCPUPATCHCONVTOMATMUL
#include "un/Codegen/CPU/Passes.h.inc"
} // namespace un
} // namespace mlir

using namespace mlir;

namespace {
/// conv_2d_nchw_fchw with strides == kernel, dilations 1 ->
///   x[N, C, OH*KH, OW*KW] -> [N, C, OH, KH, OW, KW] -> [N, OH, OW, C, KH, KW]
///     -> A[N*OH*OW, C*KH*KW];  w[F, C, KH, KW] -> [F, CKK] -> B[CKK, F];
///   init[N, F, OH, OW] -> [N, OH, OW, F] -> [N*OH*OW, F];
///   matmul(A, B, init) -> [N, OH, OW, F] -> [N, F, OH, OW].
struct PatchConvToMatmul : OpRewritePattern<linalg::Conv2DNchwFchwOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::Conv2DNchwFchwOp conv,
                                PatternRewriter &rewriter) const override {
    if (!conv.hasPureTensorSemantics())
      return rewriter.notifyMatchFailure(conv, "not on tensors");
    Value input = conv.getInputs()[0], filter = conv.getInputs()[1];
    Value init = conv.getOutputs()[0];
    auto inputType = cast<RankedTensorType>(input.getType());
    auto filterType = cast<RankedTensorType>(filter.getType());
    auto initType = cast<RankedTensorType>(init.getType());
    Type f32 = rewriter.getF32Type();
    if (inputType.getElementType() != f32 ||
        filterType.getElementType() != f32 || initType.getElementType() != f32)
      return rewriter.notifyMatchFailure(conv, "not f32");
    if (!filterType.hasStaticShape() ||
        ShapedType::isDynamicShape(initType.getShape().drop_front()) ||
        ShapedType::isDynamicShape(inputType.getShape().drop_front()))
      return rewriter.notifyMatchFailure(conv, "dynamic channels or sizes");
    int64_t f = filterType.getDimSize(0), c = filterType.getDimSize(1);
    int64_t kh = filterType.getDimSize(2), kw = filterType.getDimSize(3);
    int64_t oh = initType.getDimSize(2), ow = initType.getDimSize(3);
    auto strides = conv.getStrides().getValues<int64_t>();
    auto dilations = conv.getDilations().getValues<int64_t>();
    if (strides[0] != kh || strides[1] != kw || dilations[0] != 1 ||
        dilations[1] != 1)
      return rewriter.notifyMatchFailure(conv, "patches overlap or skip");
    if (inputType.getDimSize(1) != c || initType.getDimSize(1) != f ||
        inputType.getDimSize(2) < oh * kh || inputType.getDimSize(3) < ow * kw)
      return rewriter.notifyMatchFailure(conv, "inconsistent shapes");

    Location loc = conv.getLoc();
    OpFoldResult batch = tensor::getMixedSize(rewriter, loc, input, 0);
    int64_t staticBatch = inputType.getDimSize(0);
    // Pixels past the last whole patch are not read by the convolution.
    if (inputType.getDimSize(2) != oh * kh ||
        inputType.getDimSize(3) != ow * kw) {
      SmallVector<OpFoldResult> offsets(4, rewriter.getIndexAttr(0));
      SmallVector<OpFoldResult> sizes = {batch, rewriter.getIndexAttr(c),
                                         rewriter.getIndexAttr(oh * kh),
                                         rewriter.getIndexAttr(ow * kw)};
      SmallVector<OpFoldResult> ones(4, rewriter.getIndexAttr(1));
      input = tensor::ExtractSliceOp::create(rewriter, loc, input, offsets,
                                             sizes, ones);
    }
    auto index = [&](int64_t v) -> OpFoldResult {
      return rewriter.getIndexAttr(v);
    };
    auto transpose = [&](Value v, ArrayRef<int64_t> permutation,
                         ArrayRef<OpFoldResult> sizes) -> Value {
      Value empty = tensor::EmptyOp::create(rewriter, loc, sizes, f32);
      return linalg::TransposeOp::create(rewriter, loc, v, empty, permutation)
          ->getResult(0);
    };

    // A: the input's patches, one per row.
    auto patches = RankedTensorType::get({staticBatch, c, oh, kh, ow, kw}, f32);
    Value split = tensor::ExpandShapeOp::create(
        rewriter, loc, patches, input,
        ArrayRef<ReassociationIndices>{{0}, {1}, {2, 3}, {4, 5}},
        ArrayRef<OpFoldResult>{batch, index(c), index(oh), index(kh), index(ow),
                               index(kw)});
    Value rows = transpose(
        split, {0, 2, 4, 1, 3, 5},
        {batch, index(oh), index(ow), index(c), index(kh), index(kw)});
    Value a = tensor::CollapseShapeOp::create(
        rewriter, loc, rows,
        ArrayRef<ReassociationIndices>{{0, 1, 2}, {3, 4, 5}});

    // B: the filter, one column per output channel.
    Value flatFilter = tensor::CollapseShapeOp::create(
        rewriter, loc, filter, ArrayRef<ReassociationIndices>{{0}, {1, 2, 3}});
    Value b = transpose(flatFilter, {1, 0}, {index(c * kh * kw), index(f)});

    // The init, and the product, in [N*OH*OW, F].
    Value initRows =
        transpose(init, {0, 2, 3, 1}, {batch, index(oh), index(ow), index(f)});
    Value accumulator = tensor::CollapseShapeOp::create(
        rewriter, loc, initRows,
        ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}});
    Value product = linalg::MatmulOp::create(rewriter, loc, ValueRange{a, b},
                                             ValueRange{accumulator})
                        ->getResult(0);
    Value expanded = tensor::ExpandShapeOp::create(
        rewriter, loc, RankedTensorType::get({staticBatch, oh, ow, f}, f32),
        product, ArrayRef<ReassociationIndices>{{0, 1, 2}, {3}},
        ArrayRef<OpFoldResult>{batch, index(oh), index(ow), index(f)});
    rewriter.replaceOp(conv,
                       transpose(expanded, {0, 3, 1, 2},
                                 {batch, index(f), index(oh), index(ow)}));
    return success();
  }
};

struct UNCPUPatchConvToMatmulPass
    : un::impl::UNCPUPatchConvToMatmulBase<UNCPUPatchConvToMatmulPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<PatchConvToMatmul>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};
} // namespace
