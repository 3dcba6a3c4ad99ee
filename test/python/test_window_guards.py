"""Run-time guards of the compiled training statistics: a negative step t
addresses row t mod M in [0, M) as the contract's modulo says (the
reference's Python `%`), and a window with no rows (a dynamic dim of 0)
stops with a message instead of dividing by zero and writing outside the
window."""
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, require_native
from un_mlir import reference

compiler = require_native()

FORWARD = """
func.func @forward(%x: tensor<6x4xf32>, %gamma: tensor<4xf32>, %beta: tensor<4xf32>,
                   %rv: tensor<4xf32>, %win: tensor<?x4xf32>, %t: i64, %skips: i64)
    -> (tensor<4xf32>, tensor<?x4xf32>) {
  %y, %z, %var, %r, %skip, %rv1, %win1, %skips1 = "un.train_forward"(%x, %gamma, %beta, %rv,
      %win, %t, %skips) {eps = 1.0e-05 : f32, momentum = 0.9 : f32, warmup_iters = 0 : i64,
      outlier_filtration = false, r_max = 5.0 : f32, r_warmup = 0 : i64}
      : (tensor<6x4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<4xf32>, tensor<?x4xf32>, i64, i64)
      -> (tensor<6x4xf32>, tensor<6x4xf32>, tensor<4xf32>, tensor<4xf32>, i1, tensor<4xf32>,
          tensor<?x4xf32>, i64)
  return %var, %win1 : tensor<4xf32>, tensor<?x4xf32>
}
"""


def inputs(rows, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((6, 4)).astype(np.float32)
    gamma, beta = np.ones(4, np.float32), np.zeros(4, np.float32)
    rv = np.ones(4, np.float32)
    win = rng.uniform(0.5, 2.0, (rows, 4)).astype(np.float32)
    return x, gamma, beta, rv, win


@pytest.mark.parametrize("t", [-1, -3, -7, 5])
def test_negative_step_writes_the_contract_row(t):
    exe = compiler.compile(FORWARD, pipeline="un-cpu-pipeline")
    x, gamma, beta, rv, win = inputs(3)
    var, win_new = exe.forward(x, gamma, beta, rv, win, t, 0)
    want = reference.train_forward(x, gamma, beta, rv, win, t, 0, warmup_iters=0, r_warmup=0)
    np.testing.assert_allclose(win_new, want["win_x2_new"], rtol=1e-6)
    np.testing.assert_allclose(var, want["var"], rtol=1e-5)


def test_empty_window_stops_with_a_message():
    script = f"""
import sys
sys.path.insert(0, {str(ROOT / "python")!r})
sys.path.insert(0, {str(ROOT / "test" / "python")!r})
import numpy as np
from test_window_guards import FORWARD, inputs, compiler
exe = compiler.compile(FORWARD, pipeline="un-cpu-pipeline")
exe.forward(*inputs(0), 1, 0)
print("returned")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0 and "returned" not in proc.stdout
    assert "a statistics window has no rows" in proc.stderr + proc.stdout
