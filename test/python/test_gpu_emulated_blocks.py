"""UN-folded Transformer blocks with every op a GPU kernel
(`un-cuda-kernels-pipeline`: the SGEMM kernels, the loop kernels, the
softmax's row reductions one warp per row with shuffles), run on the host
by `un-gpu-emulate` and compared with the same blocks compiled for the
CPU: the CUDA path's numbers without a GPU. Small dims with every
remainder: rows not a multiple of a block's warps, rows shorter and longer
than a warp, matmul tiles cut at every edge; f32 and bf16 blocks."""
import dataclasses

import numpy as np
import pytest

from conftest import require_native

require_native()

from un_mlir import aot, blocks, harness  # noqa: E402

EMULATED = ["un-cuda-kernels-pipeline", "un-gpu-emulate", "un-cpu-pipeline"]


def _trained_scale(inputs):
    """Standard normal arguments at a trained model's scale: weights N(0,
    1 / fan-in), small vectors (with unit weights the activations grow to
    1e4 and cancel: the blocks' roundings, not the kernels, would be
    compared)."""
    return [a / np.sqrt(a.shape[0]) if a.ndim == 2 else 0.1 * a if a.ndim == 1 else a
            for a in inputs]


@pytest.mark.parametrize("kind, dims, norm", [
    ("vit", blocks.Dims(batch=1, tokens=37, channels=48, heads=3, mlp=80), "un"),
    ("bert", blocks.Dims(batch=2, tokens=19, channels=64, heads=2, mlp=96), "un"),
    # LayerNorm kept: its mean, variance and normalization as one row kernel.
    ("vit", blocks.Dims(batch=1, tokens=37, channels=48, heads=3, mlp=80), "ln"),
])
def test_emulated_gpu_block_matches_the_cpu(tmp_path, kind, dims, norm):
    folded = aot.run_un_opt(blocks.block_mlir(kind, norm, dims, name="blk"),
                            "un-inference-pipeline")
    fn = "blk_folded" if norm == "un" else "blk"
    inputs = _trained_scale(harness.random_inputs(folded, fn, np.random.default_rng(3)))
    (want,) = harness.compile_module(folded, [fn], tmp_path / "cpu.so")[fn](*inputs)
    (got,) = harness.compile_module(folded, [fn], tmp_path / "gpu.so",
                                    pipeline=EMULATED)[fn](*inputs)
    # The warps' reassociated sums differ from the CPU's in the last bits.
    harness.assert_close(got, want, rtol=1e-5, what=f"{kind} {norm} block, GPU kernels emulated")



def _bf16_block_as_f32(kind, dims):
    """The UN-folded block in `dims.dtype` and `@blk_folded_f32`, which runs
    it on f32 arrays (rounded to bf16 on the way in, widened on the way
    out)."""
    folded = aot.run_un_opt(blocks.block_mlir(kind, "un", dims, name="blk"),
                            "un-inference-pipeline")
    _, arg_types, (result_type,) = harness.signature(folded, "blk_folded")
    return harness.with_functions(
        folded, harness.f32_interface("blk_folded", arg_types, result_type))


@pytest.mark.parametrize("kind, dims", [
    ("vit", blocks.Dims(batch=1, tokens=37, channels=48, heads=3, mlp=80, dtype="bf16")),
    ("bert", blocks.Dims(batch=2, tokens=19, channels=64, heads=2, mlp=96, dtype="bf16")),
])
def test_emulated_gpu_bf16_block_matches_the_cpu(tmp_path, kind, dims):
    """bf16 storage, f32 math: the kernels widen loads and round stores as
    the CPU does (bf16 matmuls take the generic path here)."""
    text = _bf16_block_as_f32(kind, dims)
    assert "xbf16>" in harness.signature(text, "blk_folded")[2][0]
    fn = "blk_folded_f32"
    inputs = _trained_scale(harness.random_inputs(text, fn, np.random.default_rng(3)))
    (want,) = harness.compile_module(text, [fn], tmp_path / "cpu.so")[fn](*inputs)
    (got,) = harness.compile_module(text, [fn], tmp_path / "gpu.so",
                                    pipeline=EMULATED)[fn](*inputs)
    # Reassociated sums may round an activation to the neighbouring bf16
    # value, and the difference carries on: a few bf16 ulps of max |y|.
    err = np.abs(got - want).max() / np.abs(want).max()
    assert err < 3e-2, f"{kind} bf16 block: max error {err:.3g} of max |y|"
    # The same block in f32 on the same inputs: bf16's rounding apart.
    f32_text = aot.run_un_opt(
        blocks.block_mlir(kind, "un", dataclasses.replace(dims, dtype="f32"), name="blk"),
        "un-inference-pipeline")
    (exact,) = harness.compile_module(f32_text, ["blk_folded"],
                                      tmp_path / "f32.so")["blk_folded"](*inputs)
    err = np.abs(want - exact).max() / np.abs(exact).max()
    assert 1e-4 < err < 3e-2, f"{kind} bf16 block against f32: {err:.3g} of max |y|"
