"""Compiles the bundled ViT-S block (examples/vit_s_block.mlir) for the CPU
and checks what it computes against the numpy reference of the spec:
  - @norm_training_step over a sequence of steps (warm-up, then smoothing
    and outlier filtration), every output and the state after each step;
  - @mlp_inference (UN inference then the MLP and the residual), compiled
    as written and with UN folded into the first Linear.
Prints one line per check and exits 1 on any mismatch.
"""
import pathlib
import re
import sys
import tempfile

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
from un_mlir import aot, memref, reference  # noqa: E402

EXAMPLE = ROOT / "examples" / "vit_s_block.mlir"
T, C, H, B = 197, 384, 1536, 8
# The hyper-parameters written in @norm_training_step.
HPARAMS = dict(eps=1e-5, momentum=0.9, warmup_iters=4000, outlier_filtration=True,
               r_max=5.0, r_warmup=1000)


def constant(text, name):
    match = re.search(rf"%{name} = arith.constant dense<\[([^\]]*)\]>", text)
    return np.array([float(v) for v in match.group(1).split(",")], np.float32)


def rel_err(got, want, floor=1e-6):
    """Largest |got - want| / |want|, with |want| floored at `floor` times
    the tensor's largest magnitude (values near zero are judged by that)."""
    want = np.asarray(want, np.float64)
    floor = floor * max(1.0, float(np.max(np.abs(want))))
    return float(np.max(np.abs(np.asarray(got, np.float64) - want) / np.maximum(np.abs(want), floor)))


def check(label, errors, rtol):
    worst = max(errors, key=errors.get)
    ok = errors[worst] <= rtol
    print(f"   {'ok  ' if ok else 'FAIL'} {label:28s} worst rel. err {errors[worst]:.1e} "
          f"({worst}; tol {rtol:g})")
    return ok


def main():
    text = EXAMPLE.read_text()
    rng = np.random.default_rng(0)
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        lib = memref.load(aot.compile_shared_library(text, pathlib.Path(tmp) / "block.so"))
        folded_lib = memref.load(aot.compile_shared_library(
            text, pathlib.Path(tmp) / "folded.so",
            pipeline=["un-inference-pipeline", "un-cpu-pipeline"]))
    train = memref.FunctionWithResults(
        lib, "norm_training_step",
        [("memref", 3, np.float32), ("memref", 3, np.float32)]
        + [("memref", 1, np.float32)] * 4 + [("memref", 2, np.float32)] * 2
        + [("scalar", "i64")], scalar_args={8: "i64", 9: "i64"})
    infer = memref.FunctionWithResults(lib, "mlp_inference", [("memref", 2, np.float32)])
    infer_folded = memref.FunctionWithResults(folded_lib, "mlp_inference",
                                              [("memref", 2, np.float32)])

    # The first steps of training (the example keeps warmup_iters = 4000, so
    # var = psi and r = 1 while the window fills); every output and the
    # state are compared.
    gamma = (1 + 0.1 * rng.standard_normal(C)).astype(np.float32)
    beta = (0.1 * rng.standard_normal(C)).astype(np.float32)
    state = reference.UNState.fresh(C)
    print("== training step (@norm_training_step), 6 steps, f32, checked against the spec")
    for t in range(1, 7):
        x = (rng.standard_normal((B, T, C)) * (1 + 0.2 * t)).astype(np.float32)
        gy = rng.standard_normal((B, T, C)).astype(np.float32)
        y, gx, ggamma, gbeta, rv, ema, win_x2, win_gz, skips = train(
            x, gy, gamma, beta, state.running_var, state.ema_gz, state.win_x2,
            state.win_gz, t, state.skips)
        f = reference.train_forward(x, gamma, beta, state.running_var, state.win_x2, t,
                                    state.skips, **HPARAMS)
        b = reference.train_backward(gy, f["z"], f["var"], f["r"], f["skip"], gamma,
                                     state.ema_gz, state.win_gz, t, eps=HPARAMS["eps"],
                                     momentum=HPARAMS["momentum"],
                                     warmup_iters=HPARAMS["warmup_iters"])
        errors = {label: rel_err(got, want) for label, got, want in (
            ("y", y, f["y"]), ("gx", gx, b["gx"]), ("ggamma", ggamma, b["ggamma"]),
            ("gbeta", gbeta, b["gbeta"]), ("running_var", rv, f["running_var_new"]),
            ("ema_gz", ema, b["ema_gz_new"]), ("win_x2", win_x2, f["win_x2_new"]),
            ("win_gz", win_gz, b["win_gz_new"]))}
        ok &= check(f"step {t}: 8 outputs and state", errors, 1e-5)
        ok &= skips == f["skips_new"]
        state = reference.UNState(rv, ema, win_x2, win_gz, t, int(skips))

    print("== inference (@mlp_inference): UN, Linear, GELU, Linear, residual")
    x = rng.standard_normal((T, C)).astype(np.float32)
    w1 = (rng.standard_normal((C, H)) / np.sqrt(C)).astype(np.float32)
    b1 = (0.02 * rng.standard_normal(H)).astype(np.float32)
    w2 = (rng.standard_normal((H, C)) / np.sqrt(H)).astype(np.float32)
    b2 = (0.02 * rng.standard_normal(C)).astype(np.float32)
    (y,) = infer(x, w1, b1, w2, b2)
    n = reference.infer(x, constant(text, "gamma"), constant(text, "beta"),
                        constant(text, "running_var")).astype(np.float64)
    h = n @ w1 + b1
    a = 0.5 * h * (1 + np.tanh(0.7978845608 * (h + 0.044715 * h ** 3)))
    want = a @ w2 + b2 + x
    # Two matmuls of depth 384 and 1536 accumulate in f32 in another order
    # than numpy's float64: judged relative to the output's scale.
    ok &= check("y = x + MLP(UN(x))", {"y": rel_err(y, want, floor=1e-2)}, 1e-4)
    # The same function compiled with UN folded into the first Linear
    # (un-inference-pipeline): the same numbers as the unfolded one, up to
    # the rounding of the folded weights (judged against max |y|).
    (y_folded,) = infer_folded(x, w1, b1, w2, b2)
    ok &= check("folded (un-inference-pipeline)", {"y": rel_err(y_folded, y, floor=1.0)},
                1e-5)
    print("== result check:", "PASS" if ok else "FAIL")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
