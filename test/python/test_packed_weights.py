"""Numbers of matmuls on weights prepared in panels
(`un-inference-pipeline{pack-weights=true}`, un/Codegen/PanelMatmul.h).

- weight arguments (plain and in Linear's [N, K] layout), a weight read by
  two matmuls, a constant weight, N not a multiple of 16 (left unpacked),
  fused epilogues, M of every row remainder and of several row blocks:
  against float64 numpy, with the register tiles of this host, of SSE (4 lanes) and of AVX-512's geometry (12 x 32,
  two panels a tile) run on this host's vectors;
- the preparation runs once and the hot function many times;
- whole blocks: the same bits with and without packing (the same sums in
  the same order).
"""
import re

import numpy as np
import pytest

from conftest import UN_OPT
from test_cpu_codegen import pipeline_with_tile
from un_mlir import aot, blocks, harness

pytestmark = pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built")

PACK = "un-inference-pipeline{pack-weights=true}"

# y = h tanh(h) + x @ t^T with h = x @ w + bias (t in Linear's [N, K] layout), z = y @ w2,
# u = x @ w (w again), v = x @ c (c a constant), r = x @ odd (N = 20).
MAPS = """
#row = affine_map<(i, j) -> (j)>
#id = affine_map<(i, j) -> (i, j)>
"""
MODEL = """
func.func @model{M}(%x: tensor<{M}x{K}xf32>, %w: tensor<{K}x48xf32>, %bias: tensor<48xf32>,
                 %t: tensor<48x{K}xf32>, %w2: tensor<48x32xf32>, %odd: tensor<{K}x20xf32>)
    -> (tensor<{M}x32xf32>, tensor<{M}x48xf32>, tensor<{M}x16xf32>, tensor<{M}x20xf32>) {{
  %zero = arith.constant 0.0 : f32
  %e48 = tensor.empty() : tensor<{M}x48xf32>
  %f48 = linalg.fill ins(%zero : f32) outs(%e48 : tensor<{M}x48xf32>) -> tensor<{M}x48xf32>
  %xw = linalg.matmul ins(%x, %w : tensor<{M}x{K}xf32>, tensor<{K}x48xf32>) outs(%f48 : tensor<{M}x48xf32>) -> tensor<{M}x48xf32>
  %et = tensor.empty() : tensor<{K}x48xf32>
  %tt = linalg.transpose ins(%t : tensor<48x{K}xf32>) outs(%et : tensor<{K}x48xf32>) permutation = [1, 0]
  %xt = linalg.matmul ins(%x, %tt : tensor<{M}x{K}xf32>, tensor<{K}x48xf32>) outs(%f48 : tensor<{M}x48xf32>) -> tensor<{M}x48xf32>
  %y = linalg.generic {{indexing_maps = [#id, #row, #id, #id], iterator_types = ["parallel", "parallel"]}}
      ins(%xw, %bias, %xt : tensor<{M}x48xf32>, tensor<48xf32>, tensor<{M}x48xf32>) outs(%e48 : tensor<{M}x48xf32>) {{
  ^bb0(%a: f32, %b: f32, %r: f32, %o: f32):
    %u = arith.addf %a, %b : f32
    %th = math.tanh %u : f32
    %g = arith.mulf %u, %th : f32
    %out = arith.addf %g, %r : f32
    linalg.yield %out : f32
  }} -> tensor<{M}x48xf32>
  %e32 = tensor.empty() : tensor<{M}x32xf32>
  %f32 = linalg.fill ins(%zero : f32) outs(%e32 : tensor<{M}x32xf32>) -> tensor<{M}x32xf32>
  %z = linalg.matmul ins(%y, %w2 : tensor<{M}x48xf32>, tensor<48x32xf32>) outs(%f32 : tensor<{M}x32xf32>) -> tensor<{M}x32xf32>
  %u2 = linalg.matmul ins(%x, %w : tensor<{M}x{K}xf32>, tensor<{K}x48xf32>) outs(%y : tensor<{M}x48xf32>) -> tensor<{M}x48xf32>
  %c = arith.constant dense<{CONST}> : tensor<{K}x16xf32>
  %e16 = tensor.empty() : tensor<{M}x16xf32>
  %f16 = linalg.fill ins(%zero : f32) outs(%e16 : tensor<{M}x16xf32>) -> tensor<{M}x16xf32>
  %v = linalg.matmul ins(%x, %c : tensor<{M}x{K}xf32>, tensor<{K}x16xf32>) outs(%f16 : tensor<{M}x16xf32>) -> tensor<{M}x16xf32>
  %e20 = tensor.empty() : tensor<{M}x20xf32>
  %f20 = linalg.fill ins(%zero : f32) outs(%e20 : tensor<{M}x20xf32>) -> tensor<{M}x20xf32>
  %r = linalg.matmul ins(%x, %odd : tensor<{M}x{K}xf32>, tensor<{K}x20xf32>) outs(%f20 : tensor<{M}x20xf32>) -> tensor<{M}x20xf32>
  return %z, %u2, %v, %r : tensor<{M}x32xf32>, tensor<{M}x48xf32>, tensor<{M}x16xf32>, tensor<{M}x20xf32>
}}
"""

# K over one and several K blocks on every target.
KS = [3, 700, 1100]


def constant(k):
    return np.random.default_rng(k).standard_normal((k, 16)).astype(np.float32) / np.sqrt(k)


# M: every row remainder of 6- and 12-row tiles; 251 rows of K = 700 or 1100
# exceed one row block (un-cpu-tile-and-vectorize runs them in several, the
# last with a row remainder).
MS = (1, 5, 13, 37, 251)


def model_text(k, ms=MS):
    values = ", ".join("[" + ", ".join(f"{v:.9e}" for v in row) + "]" for row in constant(k))
    return MAPS + "".join(MODEL.format(K=k, M=m, CONST=f"[{values}]") for m in ms)


def reference(k, x, w, bias, t, w2, odd):
    x, w, t, w2, odd = (a.astype(np.float64) for a in (x, w, t, w2, odd))
    h = x @ w + bias
    y = h * np.tanh(h) + x @ t.T
    return y @ w2, y + x @ w, x @ constant(k).astype(np.float64), x @ odd


def arguments(k, m, rng):
    scale = 1 / np.sqrt(k)
    return [rng.standard_normal((m, k)).astype(np.float32),
            (rng.standard_normal((k, 48)) * scale).astype(np.float32),
            rng.standard_normal(48).astype(np.float32),
            (rng.standard_normal((48, k)) * scale).astype(np.float32),
            (rng.standard_normal((48, 32)) / np.sqrt(48)).astype(np.float32),
            rng.standard_normal((k, 20)).astype(np.float32)]


def check(fns, k, what):
    for m in MS:
        args = arguments(k, m, np.random.default_rng(m))
        got = fns[f"model{m}"](*args)
        for g, want, name in zip(got, reference(k, *args), ("z", "u", "v", "r")):
            harness.assert_close(g, want, rtol=1e-5, what=f"{what} K={k} M={m} {name}")


@pytest.mark.parametrize("k", KS)
def test_packed_ir(k):
    text = aot.run_un_opt(model_text(k, [5]), [PACK])
    prep = harness.signature(text, "model5_prepare_weights")
    # w (once for both of its matmuls), t transposed, w2; the constant
    # packed at compile time; odd (N = 20) is not packed.
    assert sorted(prep[2]) == sorted([f"tensor<3x{k}x16xf32>", f"tensor<3x{k}x16xf32>",
                                      "tensor<2x48x16xf32>"])
    folded = harness.function_body(text, "model5_folded")
    assert "linalg.transpose" not in folded
    assert folded.count("linalg.matmul") == 1 and f"tensor<{k}x20xf32>" in folded
    assert f"tensor<1x{k}x16xf32>" in folded  # the packed constant


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("stage", ["host", "x86-64", "tile-12x32"])
def test_packed_numbers(tmp_path, k, stage):
    if stage == "tile-12x32":
        pipeline = [PACK] + pipeline_with_tile(12, 32, 512)
    else:
        pipeline = [PACK, "un-cpu-pipeline" if stage == "host" else f"un-cpu-pipeline{{cpu={stage}}}"]
    cpu = "x86-64" if stage == "x86-64" else "native"
    fns = harness.compile_module(model_text(k), [f"model{m}" for m in MS], tmp_path / "model.so",
                                 pipeline, cpu=cpu)
    check(fns, k, stage)


def test_prepared_once(tmp_path):
    """@model_prepare_weights once, @model_folded for several batches."""
    k, m = 700, 13
    text = aot.run_un_opt(model_text(k, [m]), [PACK])
    fns = harness.compile_module(text, [f"model{m}_prepare_weights", f"model{m}_folded"],
                                 tmp_path / "hoisted.so")
    prep_args, operands = harness.hoisted_calls(text, f"model{m}")
    weights = arguments(k, m, np.random.default_rng(0))[1:]
    prepared = fns[f"model{m}_prepare_weights"](*[([None] + weights)[i] for i in prep_args])
    for seed in range(3):
        args = [np.random.default_rng(seed).standard_normal((m, k)).astype(np.float32)] + weights
        call = [args[i] if source == "arg" else prepared[i] for source, i in operands]
        got = fns[f"model{m}_folded"](*call)
        for g, want, name in zip(got, reference(k, *args), ("z", "u", "v", "r")):
            harness.assert_close(g, want, rtol=1e-5, what=f"batch {seed} {name}")


@pytest.mark.parametrize("kind,dims", [("vit", blocks.SMALL), ("bert", blocks.SMALL)],
                         ids=["vit-small", "bert-small"])
def test_blocks_same_bits(tmp_path, kind, dims):
    name = f"{kind}_block"
    text = blocks.block_mlir(kind, "un", dims, name=name)
    inputs = blocks.example_inputs(kind, "un", dims, np.random.default_rng(5))
    outputs = []
    for pack in (False, True):
        folded = aot.run_un_opt(text, [PACK if pack else "un-inference-pipeline"])
        panels = re.search(r"tensor<\d+x\d+x16xf32>", harness.function_body(folded, f"{name}_folded"))
        assert bool(panels) == pack
        fn = harness.compile_module(folded, [name], tmp_path / f"{kind}_{pack}.so")[name]
        outputs.append(fn(*inputs)[0])
    assert np.array_equal(outputs[0], outputs[1])
