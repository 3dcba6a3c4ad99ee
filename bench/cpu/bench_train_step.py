"""CPU benchmark of one UN training step (forward + backward), f32.

Contenders, measured side by side in interleaved rounds of one run:
  un-mlir    the step compiled by `un-opt --un-cpu-pipeline` (AOT, -O3,
             -mcpu=native), forward and backward as two calls
  torch-UN   the same step written with PyTorch ops, eager
  torch-LN   PyTorch's LayerNorm forward + backward (autograd)
  copy       a plain copy of one activation tensor (numpy), the bandwidth
             ceiling

Every contender runs on one thread. The roofline is the traffic a step must
do, 9 activation-sized transfers (forward: read x twice, write y and z;
backward: read gy and z twice each, write gx), divided by the copy
bandwidth (bytes read + written per second) of the same run.

Usage: python3 bench/cpu/bench_train_step.py [--rounds N] [--shapes vit,bert]
"""
import argparse
import os
import pathlib
import statistics
import sys
import tempfile
import time

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
from un_mlir import reference  # noqa: E402
from un_mlir.train_step import CompiledTrainStep, compile_train_step  # noqa: E402

SHAPES = {"vit": (8, 197, 384), "bert": (8, 512, 768)}
# Past warm-up, window and r warm-up, with filtration on: every branch of the
# statistics update is live.
HPARAMS = dict(eps=1e-5, momentum=0.9, warmup_iters=4, outlier_filtration=True,
               r_max=5.0, r_warmup=4)
T_STEP = 10


def torch_un_step(torch, x, gy, gamma, beta, st, t, hp):
    """The spec's training step (forward then backward) in eager PyTorch."""
    eps, m, W = hp["eps"], hp["momentum"], hp["warmup_iters"]
    C = x.shape[-1]
    Mf, Mb = st["win_x2"].shape[0], st["win_gz"].shape[0]
    x2 = x.reshape(-1, C)
    psi = (x2 * x2).mean(0)
    s2 = torch.sqrt(st["win_x2"]).flatten().var()
    win = st["win_x2"].clone()
    win[t % Mf] = psi
    skip = Mf <= 1
    if hp["outlier_filtration"] and t >= W:
        am, gm = win.mean(0), torch.exp(torch.log(win).mean(0))
        if bool(((am - gm) > s2 * Mf).any()):
            win[t % Mf] = st["running_var"]
            skip = True
    var = psi if (t <= Mf or t < W or skip) else torch.exp(torch.log(win).mean(0))
    if t <= max(hp["r_warmup"], W) or skip:
        r = torch.ones_like(var)
    else:
        r = (torch.sqrt(var + eps) / torch.sqrt(st["running_var"] + eps)).clamp(
            1 / hp["r_max"], hp["r_max"])
    z = x / torch.sqrt(var + eps)
    running_var = m * st["running_var"] + (1 - m) * var
    y = gamma * z + beta
    # backward
    g = gy * gamma * r
    gz = (g * z).reshape(-1, C).mean(0)
    wgz = st["win_gz"].clone()
    wgz[t % Mb] = st["ema_gz"] if skip else gz
    mu = gz if (t <= Mb or t < W or skip) else wgz.mean(0)
    ema = m * st["ema_gz"] + (1 - m) * mu
    h = g - (mu if skip else ema) * z
    gx = h / torch.sqrt(var + eps)
    ggamma = (gy * r * z).reshape(-1, C).sum(0)
    gbeta = gy.reshape(-1, C).sum(0)
    return y, gx, ggamma, gbeta, running_var, win, ema, wgz


def time_call(fn, reps):
    start = time.perf_counter()
    for _ in range(reps):
        fn()
    return (time.perf_counter() - start) / reps


def bench_shape(shape, rounds, workdir, torch):
    C = shape[-1]
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    gy = rng.standard_normal(shape).astype(np.float32)
    gamma = (1 + 0.1 * rng.standard_normal(C)).astype(np.float32)
    beta = (0.1 * rng.standard_normal(C)).astype(np.float32)
    state = reference.UNState.fresh(C)
    state.win_x2[:] = 1 + 0.1 * rng.random(state.win_x2.shape, np.float32)
    state.running_var[:] = 1.0

    lib = compile_train_step(shape, workdir / f"step_{'x'.join(map(str, shape))}.so",
                             **HPARAMS)
    step = CompiledTrainStep(lib, shape, gamma, beta, state)

    # Correctness first: one step against the numpy reference.
    want = reference.train_forward(x, gamma, beta, state.running_var, state.win_x2, T_STEP,
                                   state.skips, **HPARAMS)
    want_b = reference.train_backward(gy, want["z"], want["var"], want["r"], want["skip"],
                                      gamma, state.ema_gz, state.win_gz, T_STEP,
                                      eps=HPARAMS["eps"], momentum=HPARAMS["momentum"],
                                      warmup_iters=HPARAMS["warmup_iters"])
    saved = (state.running_var.copy(), state.win_x2.copy(), state.ema_gz.copy(),
             state.win_gz.copy(), state.skips)
    step.forward(x, T_STEP)
    step.backward(gy, T_STEP)
    np.testing.assert_allclose(step.y, want["y"], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(step.gx, want_b["gx"], rtol=1e-4, atol=1e-5)

    def un_step():
        # Same state every call, so every call takes the same branches.
        (state.running_var[:], state.win_x2[:], state.ema_gz[:], state.win_gz[:]) = saved[:4]
        state.skips = saved[4]
        step.forward(x, T_STEP)
        step.backward(gy, T_STEP)

    tx, tgy = torch.from_numpy(x), torch.from_numpy(gy)
    tgamma, tbeta = torch.from_numpy(gamma), torch.from_numpy(beta)
    tstate = {"running_var": torch.from_numpy(saved[0]), "win_x2": torch.from_numpy(saved[1]),
              "ema_gz": torch.from_numpy(saved[2]), "win_gz": torch.from_numpy(saved[3])}
    ty = torch_un_step(torch, tx, tgy, tgamma, tbeta, tstate, T_STEP, HPARAMS)[0]
    np.testing.assert_allclose(ty.numpy(), want["y"], rtol=1e-4, atol=1e-5)

    def torch_un():
        with torch.no_grad():
            torch_un_step(torch, tx, tgy, tgamma, tbeta, tstate, T_STEP, HPARAMS)

    ln = torch.nn.LayerNorm(C)
    xl = tx.clone().requires_grad_(True)

    def torch_ln():
        xl.grad = None
        ln.zero_grad(set_to_none=True)
        ln(xl).backward(tgy)

    src, dst = np.ones(shape, np.float32), np.empty(shape, np.float32)

    def copy():
        np.copyto(dst, src)

    contenders = {"un-mlir": un_step, "torch-UN": torch_un, "torch-LN": torch_ln, "copy": copy}
    times = {name: [] for name in contenders}
    for fn in contenders.values():  # warm up
        fn()
    for _ in range(rounds):
        for name, fn in contenders.items():
            times[name].append(time_call(fn, 5))
    med = {name: statistics.median(ts) for name, ts in times.items()}

    nbytes = x.nbytes
    copy_bw = 2 * nbytes / med["copy"]
    step_bytes = 9 * nbytes
    roofline = step_bytes / copy_bw
    return {
        "shape": shape,
        "ms": {k: v * 1e3 for k, v in med.items()},
        "copy_GBps": copy_bw / 1e9,
        "roofline_ms": roofline * 1e3,
        "un_fraction_of_roofline": roofline / med["un-mlir"],
        "torch_UN_over_un": med["torch-UN"] / med["un-mlir"],
        "torch_LN_over_un": med["torch-LN"] / med["un-mlir"],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--shapes", default="vit,bert")
    args = parser.parse_args()
    import torch
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, numpy {np.__version__}, 1 thread each, "
          f"{args.rounds} interleaved rounds, median")
    with tempfile.TemporaryDirectory() as tmp:
        for key in args.shapes.split(","):
            r = bench_shape(SHAPES[key], args.rounds, pathlib.Path(tmp), torch)
            ms = r["ms"]
            print(f"\n{key} {r['shape']} f32")
            for name in ("un-mlir", "torch-UN", "torch-LN", "copy"):
                print(f"  {name:9s} {ms[name]:8.3f} ms")
            print(f"  copy bandwidth            {r['copy_GBps']:.1f} GB/s")
            print(f"  roofline (9 transfers)    {r['roofline_ms']:.3f} ms")
            print(f"  un-mlir / roofline        {r['un_fraction_of_roofline']:.0%}")
            print(f"  torch-UN / un-mlir        {r['torch_UN_over_un']:.2f}x")
            print(f"  torch-LN / un-mlir        {r['torch_LN_over_un']:.2f}x")


if __name__ == "__main__":
    main()
