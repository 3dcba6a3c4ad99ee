"""CPU benchmark of one Transformer encoder block at inference, f32.

The same block (python/un_mlir/blocks.py: pre-norm ViT-S by default) with
the same weights, compiled by the same pipeline (`un-opt
--un-inference-pipeline --un-cpu-pipeline`, AOT, -O3, -mcpu=native), in
these forms, measured side by side in interleaved rounds of one run:

  no-norm       the block without normalization: the floor
  UN-folded     UN folded into the weights; the weights are prepared once
                (@<block>_prepare_weights) and every call runs the hot path
                (@<block>_folded), as a deployed model does
  UN+prep       the same, but the weight preparation runs on every call
                (calling @<block> itself, whose signature is unchanged)
  UN-unfolded   UN not folded (un-cpu-pipeline alone): the affine map runs
                as its own elementwise loops
  LN            LayerNorm written in linalg (mean, variance, normalize)

Every contender runs on one thread and is timed in CPU time of that thread
(time.thread_time), so that time spent descheduled on a shared machine does
not count. Before timing, the folded block is
checked against the unfolded one (relative 1e-5) and LayerNorm against a
numpy reference.

Usage: python3 bench/cpu/bench_inference_block.py [--rounds N] [--blocks vit,bert]
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
from un_mlir import aot, blocks, harness  # noqa: E402

BLOCKS = {"vit": ("vit", blocks.VIT_S), "bert": ("bert", blocks.BERT_BASE)}
PIPELINE = ["un-inference-pipeline", "un-cpu-pipeline"]


def layer_norm_reference(kind, d, inputs):
    """The LN block in numpy (float64), for the correctness check."""
    p = {n: a.astype(np.float64) for (n, _), a in zip(blocks.parameters(kind, "ln", d), inputs)}
    B, T, C, H = d.batch, d.tokens, d.channels, d.heads
    Dh = C // H

    def ln(x, i):
        m = x.mean(-1, keepdims=True)
        v = ((x - m) ** 2).mean(-1, keepdims=True)
        return (x - m) / np.sqrt(v + d.eps) * p[f"g{i}"] + p[f"beta{i}"]

    def gelu(u):
        return 0.5 * u * (1 + np.tanh(0.7978845608 * (u + 0.044715 * u ** 3)))

    def attention(q, k, v):
        def heads(t):
            return t.reshape(B, T, H, Dh).transpose(0, 2, 1, 3)
        s = heads(q) @ heads(k).transpose(0, 1, 3, 2)
        e = np.exp((s - s.max(-1, keepdims=True)) / np.sqrt(Dh))
        o = (e / e.sum(-1, keepdims=True)) @ heads(v)
        return o.transpose(0, 2, 1, 3).reshape(B * T, C)

    x = p["x"].reshape(B * T, C)
    if kind == "vit":
        n1 = ln(x, 1)
        a = attention(n1 @ p["wq"] + p["bq"], n1 @ p["wk"] + p["bk"], n1 @ p["wv"] + p["bv"])
        x1 = a @ p["wo"] + p["bo"] + x
        x2 = gelu(ln(x1, 2) @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"] + x1
    else:
        a = attention(x @ p["wq"] + p["bq"], x @ p["wk"] + p["bk"], x @ p["wv"] + p["bv"])
        y1 = ln(a @ p["wo"] + p["bo"] + x, 1)
        x2 = ln(gelu(y1 @ p["w1"] + p["b1"]) @ p["w2"] + p["b2"] + y1, 2)
    return x2.reshape(B, T, C)


def time_call(fn, reps):
    """CPU seconds of this thread per call: on a shared machine, time spent
    descheduled by other processes is not counted (all contenders are
    single-threaded)."""
    start = time.thread_time()
    for _ in range(reps):
        fn()
    return (time.thread_time() - start) / reps


def bench_block(key, rounds, reps, workdir):
    kind, d = BLOCKS[key]
    name = f"{kind}_block"
    rng = np.random.default_rng(0)
    un_inputs = blocks.example_inputs(kind, "un", d, rng)
    un_params = blocks.parameters(kind, "un", d)
    by_name = {n: a for (n, _), a in zip(un_params, un_inputs)}
    ln_inputs = [by_name[n] for n, _ in blocks.parameters(kind, "ln", d)]
    none_inputs = [by_name[n] for n, _ in blocks.parameters(kind, "none", d)]

    texts = {norm: blocks.block_mlir(kind, norm, d, name=name) for norm in blocks.NORMS}
    fns = {}
    fns["none"] = harness.compile_module(texts["none"], [name], workdir / f"{key}_none.so", PIPELINE)[name]
    fns["ln"] = harness.compile_module(texts["ln"], [name], workdir / f"{key}_ln.so", PIPELINE)[name]
    fns["un-unfolded"] = harness.compile_module(texts["un"], [name], workdir / f"{key}_unfolded.so",
                                                "un-cpu-pipeline")[name]
    folded_text = aot.run_un_opt(texts["un"], ["un-inference-pipeline"])
    parts = [name, f"{name}_prepare_weights", f"{name}_folded"]
    folded = harness.compile_module(folded_text, parts, workdir / f"{key}_folded.so", "un-cpu-pipeline")

    # Weights prepared once, then the hot path.
    prep_args, operands = harness.hoisted_calls(folded_text, name)
    prepared = folded[f"{name}_prepare_weights"](*[un_inputs[i] for i in prep_args])
    hot_inputs = [un_inputs[i] if kind_ == "arg" else prepared[i] for kind_, i in operands]

    # Correctness first.
    (y_unfolded,) = fns["un-unfolded"](*un_inputs)
    (y_hot,) = folded[f"{name}_folded"](*hot_inputs)
    (y_prep,) = folded[name](*un_inputs)
    harness.assert_close(y_hot, y_unfolded, what="UN folded vs unfolded")
    harness.assert_close(y_prep, y_unfolded, what="UN folded (with prep) vs unfolded")
    (y_ln,) = fns["ln"](*ln_inputs)
    harness.assert_close(y_ln, layer_norm_reference(kind, d, ln_inputs), rtol=1e-4,
                         what="LN block vs numpy")

    out = {k: [np.empty(blocks.result_shape(kind, d), np.float32)] for k in
           ("none", "un-folded", "un+prep", "un-unfolded", "ln")}
    contenders = {
        "no-norm": lambda: fns["none"](*none_inputs, out=out["none"]),
        "UN-folded": lambda: folded[f"{name}_folded"](*hot_inputs, out=out["un-folded"]),
        "UN+prep": lambda: folded[name](*un_inputs, out=out["un+prep"]),
        "UN-unfolded": lambda: fns["un-unfolded"](*un_inputs, out=out["un-unfolded"]),
        "LN": lambda: fns["ln"](*ln_inputs, out=out["ln"]),
    }
    times = {n: [] for n in contenders}
    for fn in contenders.values():  # warm up
        fn()
    for r in range(rounds):
        order = list(contenders.items())
        if r % 2:
            order.reverse()
        for n, fn in order:
            times[n].append(time_call(fn, reps))
    med = {n: statistics.median(ts) for n, ts in times.items()}

    # The normalization alone, unfolded, on the activations of one norm
    # layer ([B*T, C]): what folding removes, and what LN costs per layer.
    N = d.batch * d.tokens
    x2 = by_name["x"].reshape(N, d.channels)
    alone = {}
    for norm in ("un", "ln"):
        text = blocks.norm_mlir(norm, (N, d.channels), d.eps, name=f"{norm}_only")
        alone[norm] = harness.compile_module(text, [f"{norm}_only"], workdir / f"{key}_{norm}_only.so",
                                             PIPELINE)[f"{norm}_only"]
    norm_args = {"un": [x2, by_name["g1"], by_name["beta1"], by_name["rv1"]],
                 "ln": [x2, by_name["g1"], by_name["beta1"]]}
    norm_out = [np.empty((N, d.channels), np.float32)]
    norm_times = {"un": [], "ln": []}
    for r in range(rounds):
        for norm in ("un", "ln"):
            norm_times[norm].append(time_call(lambda: alone[norm](*norm_args[norm], out=norm_out),
                                              50))
    norm_ms = {n: statistics.median(ts) * 1e3 for n, ts in norm_times.items()}
    # Ratios per round (same round, so the same machine load), then median.
    ratio = {n: statistics.median(t / base for t, base in zip(times[n], times["no-norm"]))
             for n in contenders}
    ln_over_un = statistics.median(a / b for a, b in zip(times["LN"], times["UN-folded"]))
    # Interference from other processes only adds time: the fastest round of
    # each contender is the least disturbed.
    best = {n: min(ts) for n, ts in times.items()}
    return {"block": key, "dims": d, "ms": {n: v * 1e3 for n, v in med.items()},
            "best_ms": {n: v * 1e3 for n, v in best.items()},
            "over_no_norm": ratio, "ln_over_un": ln_over_un,
            "best_over_no_norm": {n: best[n] / best["no-norm"] for n in contenders},
            "best_ln_over_un": best["LN"] / best["UN-folded"],
            "norm_alone_ms": norm_ms,
            # Two norm layers per block, on top of the block without norm.
            "expected_ln_over_un": (med["no-norm"] * 1e3 + 2 * norm_ms["ln"]) / (med["no-norm"] * 1e3)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--reps", type=int, default=1, help="calls per timing")
    parser.add_argument("--blocks", default="vit")
    args = parser.parse_args()
    print(f"numpy {np.__version__}, 1 thread, thread CPU time, {args.rounds} interleaved rounds "
          f"of {args.reps} call(s), median; ratios are medians of per-round ratios")
    with tempfile.TemporaryDirectory() as tmp:
        for key in args.blocks.split(","):
            r = bench_block(key, args.rounds, args.reps, pathlib.Path(tmp))
            d = r["dims"]
            print(f"\n{key}: B={d.batch} T={d.tokens} C={d.channels} heads={d.heads} "
                  f"MLP={d.mlp}, f32")
            print(f"  {'':12s} {'median':>10s}    {'per-round':>9s}   {'fastest':>10s}   "
                  f"{'fastest':>9s}")
            for n, ms in r["ms"].items():
                print(f"  {n:12s} {ms:7.2f} ms   {r['over_no_norm'][n]:.4f}x   "
                      f"{r['best_ms'][n]:7.2f} ms   {r['best_over_no_norm'][n]:.4f}x  (x no-norm)")
            print(f"  LN / UN-folded           {r['ln_over_un']:.4f}x               "
                  f"{r['best_ln_over_un']:.4f}x")
            na = r["norm_alone_ms"]
            print(f"  one norm layer alone on [{d.batch * d.tokens}, {d.channels}] (unfolded): "
                  f"UN {na['un']:.3f} ms, LN {na['ln']:.3f} ms")
            print(f"  LN / UN-folded expected from it (2 layers per block): "
                  f"{r['expected_ln_over_un']:.4f}x")


if __name__ == "__main__":
    main()
