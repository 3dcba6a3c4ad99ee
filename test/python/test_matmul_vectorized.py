"""The register-tiled, vectorized matmuls of un-cpu-pipeline
(un-cpu-tile-and-vectorize) compute the same numbers as numpy.

Shapes that the [8, 32] register tile does not divide (M and N
remainders, matrices smaller than one tile), a matmul that accumulates
into an initialized result, a batch_matmul and a contraction
linalg.generic are compiled for the host CPU and compared with numpy
(float64) at relative 1e-5 (with the absolute floor of test/Integration/CPU).
"""
import re

import numpy as np
import pytest

from conftest import UN_OPT
from un_mlir import aot, blocks, harness

pytestmark = pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built")


def _t(shape):
    return "tensor<" + "x".join(map(str, shape)) + "xf32>"


def matmul_text(name, m, k, n, accumulate=False):
    return blocks.matmul_mlir(name, m, k, n, accumulate)


def batch_matmul_text(name, bs, m, k, n):
    a, b, c = _t((bs, m, k)), _t((bs, k, n)), _t((bs, m, n))
    return f"""
func.func @{name}(%a: {a}, %b: {b}) -> {c} {{
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : {c}
  %f = linalg.fill ins(%zero : f32) outs(%e : {c}) -> {c}
  %r = linalg.batch_matmul ins(%a, %b : {a}, {b}) outs(%f : {c}) -> {c}
  return %r : {c}
}}
"""


def generic_matmul_text(name, m, k, n):
    a, b, c = _t((m, k)), _t((k, n)), _t((m, n))
    return f"""
func.func @{name}(%a: {a}, %b: {b}) -> {c} {{
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : {c}
  %f = linalg.fill ins(%zero : f32) outs(%e : {c}) -> {c}
  %r = linalg.generic {{indexing_maps = [affine_map<(i, j, k) -> (i, k)>,
                                        affine_map<(i, j, k) -> (k, j)>,
                                        affine_map<(i, j, k) -> (i, j)>],
                       iterator_types = ["parallel", "parallel", "reduction"]}}
      ins(%a, %b : {a}, {b}) outs(%f : {c}) {{
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %p = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }} -> {c}
  return %r : {c}
}}
"""


CASES = {
    # 197 = 24 * 8 + 5 rows; 1152 = 36 * 32 columns.
    "vit_qkv": (matmul_text, (197, 384, 1152), lambda a, b: a @ b),
    # N remainder too (197 = 6 * 32 + 5), K = 64.
    "scores": (matmul_text, (197, 64, 197), lambda a, b: a @ b),
    # Smaller than one tile in every dim.
    "tiny": (matmul_text, (5, 3, 7), lambda a, b: a @ b),
    "accumulate": (lambda n, m, k, nn: matmul_text(n, m, k, nn, accumulate=True),
                   (19, 40, 45), lambda a, b, c: c + a @ b),
    "batch": (batch_matmul_text, (6, 197, 64, 197), lambda a, b: a @ b),
    "generic": (generic_matmul_text, (13, 20, 40), lambda a, b: a @ b),
}


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    text = "".join(make(name, *shape) for name, (make, shape, _) in CASES.items())
    library = tmp_path_factory.mktemp("matmul") / "matmul.so"
    return text, harness.compile_module(text, list(CASES), library)


def test_matmuls_are_vector_fmas(compiled):
    text, _ = compiled
    llvm = aot.run_un_opt(text, ["un-cpu-pipeline"])
    assert re.search(r"llvm.intr.fmuladd.*vector<\d+xf32>", llvm), "no vector FMA"
    assert "llvm.intr.masked.store" in llvm, "no masked N-remainder tile"


@pytest.mark.parametrize("name", list(CASES))
def test_matches_numpy(compiled, name):
    text, fns = compiled
    rng = np.random.default_rng(len(name))
    inputs = harness.random_inputs(text, name, rng)
    (got,) = fns[name](*inputs)
    want = CASES[name][2](*[x.astype(np.float64) for x in inputs])
    harness.assert_close(got, want, what=name)
