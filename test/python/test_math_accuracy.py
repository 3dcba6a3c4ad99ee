"""Accuracy of the transcendental functions of un-cpu-pipeline.

un-cpu-approximate-math replaces exp, expm1, tanh, erf, log, log1p and
log2 by upstream MLIR's polynomial approximations (arithmetic that
vectorizes). Each is compiled inside an elementwise linalg.generic (so it
runs on the vectorized loops and their masked rest: 4099 elements) and
compared with float64 numpy / math over its useful range, in units in the
last place of the float32 result; special values (infinities, NaN, zeros,
overflow and underflow) must come out as IEEE libm gives them.

Measured when written (AVX2 + FMA host): max error exp 0.94 ulp, expm1
1.56, tanh 3.76, erf 3.26, log 0.71, log1p 1.54, log2 0.89. The bounds
below leave room for hosts without FMA.
"""
import math

import numpy as np
import pytest

from conftest import UN_OPT
from un_mlir import harness

pytestmark = pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built")

N = 4096 + 3
# function: (sampling of x, reference in float64, bound in ulp)
FUNCTIONS = {
    "exp": ("uniform", (-87.0, 88.0), np.exp, 2),
    "expm1": ("uniform", (-20.0, 20.0), np.expm1, 3),
    "tanh": ("uniform", (-10.0, 10.0), np.tanh, 6),
    "erf": ("uniform", (-5.0, 5.0), np.vectorize(math.erf), 6),
    "log": ("log-uniform", (1e-30, 1e30), np.log, 2),
    "log1p": ("log-uniform", (1e-30, 1e30), np.log1p, 3),
    "log2": ("log-uniform", (1e-30, 1e30), np.log2, 2),
}
SPECIAL = {
    "exp": {-np.inf: 0.0, np.inf: np.inf, -200.0: 0.0, 200.0: np.inf, 0.0: 1.0},
    "expm1": {-np.inf: -1.0, np.inf: np.inf, 0.0: 0.0},
    "tanh": {-np.inf: -1.0, np.inf: 1.0, 0.0: 0.0, 50.0: 1.0},
    "erf": {-np.inf: -1.0, np.inf: 1.0, 0.0: 0.0},
    "log": {0.0: -np.inf, np.inf: np.inf, -1.0: np.nan, 1.0: 0.0},
    "log1p": {-1.0: -np.inf, np.inf: np.inf, -2.0: np.nan, 0.0: 0.0},
    "log2": {0.0: -np.inf, np.inf: np.inf, -1.0: np.nan, 1.0: 0.0},
}


def function_text(fn):
    t = f"tensor<{N}xf32>"
    return f"""
func.func @apply_{fn}(%x: {t}) -> {t} {{
  %e = tensor.empty() : {t}
  %r = linalg.generic {{indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                        iterator_types = ["parallel"]}} ins(%x : {t}) outs(%e : {t}) {{
  ^bb0(%a: f32, %o: f32):
    %y = math.{fn} %a : f32
    linalg.yield %y : f32
  }} -> {t}
  return %r : {t}
}}
"""


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    text = "".join(function_text(fn) for fn in FUNCTIONS)
    library = tmp_path_factory.mktemp("math") / "math.so"
    llvm = harness.compile_module(text, [f"apply_{fn}" for fn in FUNCTIONS], library)
    return llvm


def test_no_libm_calls_left(tmp_path):
    from un_mlir import aot
    llvm = aot.run_un_opt("".join(function_text(fn) for fn in FUNCTIONS), "un-cpu-pipeline")
    for fn in FUNCTIONS:
        assert f"@{fn}f(" not in llvm and f"llvm.intr.{fn}" not in llvm, fn


@pytest.mark.parametrize("fn", list(FUNCTIONS))
def test_within_bound_of_float64(compiled, fn):
    sampling, (lo, hi), reference, bound = FUNCTIONS[fn]
    rng = np.random.default_rng(len(fn))
    if sampling == "uniform":
        x = rng.uniform(lo, hi, N)
    else:
        x = np.exp(rng.uniform(math.log(lo), math.log(hi), N))
    x = x.astype(np.float32)
    (got,) = compiled[f"apply_{fn}"](x)
    want = reference(x.astype(np.float64))
    ulp = np.spacing(np.abs(want).astype(np.float32)).astype(np.float64)
    err = np.abs(got.astype(np.float64) - want) / ulp
    worst = int(np.argmax(err))
    assert err[worst] <= bound, f"{fn}({x[worst]!r}) = {got[worst]!r}, want {want[worst]!r}: " \
                                f"{err[worst]:.2f} ulp > {bound}"


@pytest.mark.parametrize("fn", list(SPECIAL))
def test_special_values(compiled, fn):
    inputs = list(SPECIAL[fn])
    x = np.zeros(N, np.float32)
    x[:len(inputs)] = inputs
    x[len(inputs)] = np.nan
    (got,) = compiled[f"apply_{fn}"](x)
    for i, value in enumerate(inputs):
        want = SPECIAL[fn][value]
        if np.isnan(want):
            assert np.isnan(got[i]), f"{fn}({value}) = {got[i]}, want NaN"
        else:
            assert got[i] == want, f"{fn}({value}) = {got[i]}, want {want}"
    assert np.isnan(got[len(inputs)]), f"{fn}(NaN) = {got[len(inputs)]}"
