"""Run-time guards of compiled un ops, for what only run time knows:
- a negative step t addresses window row t mod M in [0, M), as the
  contract's modulo says (the reference's Python `%`);
- a window with no rows (a dynamic dim of 0) stops with a message instead
  of dividing by zero and writing outside the window;
- dims that are dynamic in several operands (channels of x and gamma, a
  mask against the tokens) must agree: a mismatch stops with a message
  naming the op and the operand instead of reading out of bounds."""
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


def stops_with(call, message):
    """Runs `call` (Python source using this module's names) in a child
    process: it must stop, with `message` in its output."""
    script = f"""
import sys
sys.path.insert(0, {str(ROOT / "python")!r})
sys.path.insert(0, {str(ROOT / "test" / "python")!r})
import numpy as np
from test_runtime_guards import *
{call}
print("returned")
"""
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode != 0 and "returned" not in proc.stdout, proc.stdout + proc.stderr
    assert message in proc.stderr + proc.stdout


def test_empty_window_stops_with_a_message():
    stops_with("compiler.compile(FORWARD, pipeline='un-cpu-pipeline')"
               ".forward(*inputs(0), 1, 0)", "a statistics window has no rows")


INFER = """
func.func @infer(%x: tensor<?x?xf32>, %gamma: tensor<?xf32>, %beta: tensor<?xf32>,
                 %rv: tensor<?xf32>) -> tensor<?x?xf32> {
  %y = un.infer %x, %gamma, %beta, %rv {eps = 1.0e-05 : f32}
      : (tensor<?x?xf32>, tensor<?xf32>, tensor<?xf32>, tensor<?xf32>) -> tensor<?x?xf32>
  return %y : tensor<?x?xf32>
}
func.func @mean(%x: tensor<?x?x4xf32>, %mask: tensor<?x?xi1>) -> tensor<4xf32> {
  %psi = un.quadratic_mean %x mask %mask : (tensor<?x?x4xf32>, tensor<?x?xi1>) -> tensor<4xf32>
  return %psi : tensor<4xf32>
}
"""


def test_matching_dynamic_dims_run():
    exe = compiler.compile(INFER, pipeline="un-cpu-pipeline")
    x = np.ones((3, 5), np.float32)
    v = np.ones(5, np.float32)
    np.testing.assert_allclose(exe.infer(x, v, v, v), np.full((3, 5), 1 / np.sqrt(1 + 1e-5) + 1),
                               rtol=1e-6)
    psi = exe.mean(np.ones((2, 3, 4), np.float32), np.zeros((2, 3), bool))
    np.testing.assert_allclose(psi, np.ones(4), rtol=1e-6)


def test_channel_mismatch_stops_with_a_message():
    stops_with("exe = compiler.compile(INFER, pipeline='un-cpu-pipeline')\n"
               "v = np.ones(5, np.float32)\n"
               "exe.infer(np.ones((3, 5), np.float32), np.ones(2, np.float32), v, v)",
               "has another channel count")


def test_mask_mismatch_stops_with_a_message():
    stops_with("exe = compiler.compile(INFER, pipeline='un-cpu-pipeline')\n"
               "exe.mean(np.ones((2, 3, 4), np.float32), np.zeros((2, 2), bool))",
               "un.quadratic_mean: operand 1 (the mask) differs in dim 1")
