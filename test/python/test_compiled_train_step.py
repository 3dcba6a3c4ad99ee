"""The AOT-compiled training step (destination-passing style, C interface)
matches the numpy reference of the spec over a multi-step sequence."""
import numpy as np
import pytest

from conftest import UN_OPT
from un_mlir import reference
from un_mlir.train_step import CompiledTrainStep, compile_train_step

pytestmark = pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built")

HPARAMS = dict(eps=1e-5, momentum=0.9, warmup_iters=3, outlier_filtration=True,
               r_max=2.0, r_warmup=5)


def test_sequence_matches_reference(tmp_path):
    shape, C = (2, 5, 16), 16
    rng = np.random.default_rng(7)
    lib = compile_train_step(shape, tmp_path / "step.so", **HPARAMS)
    gamma = (1 + 0.1 * rng.standard_normal(C)).astype(np.float32)
    beta = (0.1 * rng.standard_normal(C)).astype(np.float32)
    scales = [1, 1.2, 0.9, 1.1, 1, 25.0, 1, 0.95, 1.05, 1]  # step 6 is an outlier
    xs = [(s * rng.standard_normal(shape)).astype(np.float32) for s in scales]
    gys = [rng.standard_normal(shape).astype(np.float32) for _ in scales]

    expected = reference.run_sequence(xs, gys, gamma, beta, reference.UNState.fresh(C),
                                      **HPARAMS)
    step = CompiledTrainStep(lib, shape, gamma, beta, reference.UNState.fresh(C))
    skipped = []
    for t, (x, gy, want) in enumerate(zip(xs, gys, expected), start=1):
        y = step.forward(x, t)
        gx = step.backward(gy, t)
        skipped.append(step.skip)
        assert step.skip == want["skip"], f"step {t}"
        for name, got in (("y", y), ("z", step.z), ("var", step.var), ("r", step.r),
                          ("gx", gx), ("ggamma", step.ggamma), ("gbeta", step.gbeta),
                          ("running_var", step.state.running_var),
                          ("ema_gz", step.state.ema_gz), ("win_x2", step.state.win_x2),
                          ("win_gz", step.state.win_gz)):
            ref = want["state"].__dict__[name] if name in (
                "running_var", "ema_gz", "win_x2", "win_gz") else want[name]
            scale = max(1.0, float(np.max(np.abs(ref))))
            np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6 * scale,
                                       err_msg=f"{name} at step {t}")
        assert step.state.skips == want["state"].skips
    assert True in skipped and False in skipped  # both paths were taken
