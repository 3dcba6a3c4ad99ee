"""Attention fused into one loop over heads and row blocks
(un-cpu-fuse-attention, in un-cpu-pipeline): whole encoder blocks give the
same bits as the same block compiled without the fusion, with one row
block, several of one size and blocks of uneven size (a dynamic last
block), on one thread and on all cores.
"""
import dataclasses

import numpy as np
import pytest

from conftest import UN_OPT
from test_cpu_codegen import pipeline_with_tile
from un_mlir import aot, blocks, harness

pytestmark = pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built")

# 16 channels in 2 heads. Scores tiles are at most 256 KiB: 197 tokens are
# one row block, 300 two of 150, 301 two of 151 and 150.
TOKENS = [197, 300, 301]


def dims(tokens, batch=1):
    return dataclasses.replace(blocks.SMALL, batch=batch, tokens=tokens, channels=16, mlp=32)


@pytest.mark.parametrize("tokens", TOKENS)
def test_fused_ir(tokens):
    text = aot.run_un_opt(blocks.block_mlir("bert", "un", dims(tokens), name="b"),
                          ["un-inference-pipeline", "un-cpu-fuse-attention", "cse", "canonicalize"])
    body = harness.function_body(text, "b_folded")
    # A loop over heads, and one over row blocks where there are several.
    assert body.count("scf.for") == (1 if tokens == 197 else 2)
    assert f"tensor<2x{tokens}x{tokens}xf32>" not in body, "no [heads, T, T] tensor is left"


@pytest.mark.parametrize("tokens", TOKENS)
@pytest.mark.parametrize("threads", [False, True], ids=["1-thread", "threads"])
def test_same_bits_as_unfused(tmp_path, tokens, threads):
    d = dims(tokens, batch=2)
    text = aot.run_un_opt(blocks.block_mlir("bert", "un", d, name="b"), ["un-inference-pipeline"])
    inputs = blocks.example_inputs("bert", "un", d, np.random.default_rng(tokens))
    fused_pipeline = ["un-cpu-pipeline{threads=true}"] if threads else "un-cpu-pipeline"
    fused = harness.compile_module(text, ["b"], tmp_path / "fused.so", fused_pipeline)["b"]
    # The CPU pipeline's passes without the attention fusion (tiles from
    # the target).
    plain = harness.compile_module(text, ["b"], tmp_path / "plain.so",
                                   pipeline_with_tile(0, 0, 0))["b"]
    got, want = fused(*inputs)[0], plain(*inputs)[0]
    assert np.all(np.isfinite(want))
    assert np.array_equal(got, want)
