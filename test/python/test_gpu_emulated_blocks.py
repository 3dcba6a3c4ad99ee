"""UN-folded Transformer blocks with every op a GPU kernel
(`un-cuda-kernels-pipeline`: the SGEMM kernels, the loop kernels, the
softmax's row reductions one warp per row with shuffles), run on the host
by `un-gpu-emulate` and compared with the same blocks compiled for the
CPU: the CUDA path's numbers without a GPU. Small dims with every
remainder: rows not a multiple of a block's warps, rows shorter and longer
than a warp, matmul tiles cut at every edge."""
import numpy as np
import pytest

from conftest import require_native

require_native()

from un_mlir import aot, blocks, harness  # noqa: E402

EMULATED = ["un-cuda-kernels-pipeline", "un-gpu-emulate", "un-cpu-pipeline"]


@pytest.mark.parametrize("kind, dims", [
    ("vit", blocks.Dims(batch=1, tokens=37, channels=48, heads=3, mlp=80)),
    ("bert", blocks.Dims(batch=2, tokens=19, channels=64, heads=2, mlp=96)),
])
def test_emulated_gpu_block_matches_the_cpu(tmp_path, kind, dims):
    folded = aot.run_un_opt(blocks.block_mlir(kind, "un", dims, name="blk"),
                            "un-inference-pipeline")
    fn = "blk_folded"
    inputs = harness.random_inputs(folded, fn, np.random.default_rng(3))
    (want,) = harness.compile_module(folded, [fn], tmp_path / "cpu.so")[fn](*inputs)
    (got,) = harness.compile_module(folded, [fn], tmp_path / "gpu.so",
                                    pipeline=EMULATED)[fn](*inputs)
    # The warps' reassociated sums differ from the CPU's in the last bits.
    harness.assert_close(got, want, rtol=1e-5, what=f"{kind} block, GPU kernels emulated")
