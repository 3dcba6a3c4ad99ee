"""CPU benchmark of the f32 matmul code of un-cpu-pipeline against torch.mm
(MKL or oneDNN inside PyTorch) and numpy (OpenBLAS), one thread.

The shapes are the matmuls of the ViT-S and BERT-base blocks
(M x K x N): 197x384x1152 (ViT Q/K/V), 197x1536x384 (ViT MLP down),
128x768x3072 and 512x768x3072 (BERT MLP up). Every contender's result is
checked against float64 numpy before timing.

Two tables:
  B per call      A @ B with both operands as given: every contender packs B
                  in each call (un-mlir: linalg.matmul).
  prepared B      B a weight prepared once, as in a deployed model:
                  un-mlir's panels (un-inference-pipeline{pack-weights=true},
                  @mm_prepare_weights once, @mm_folded timed) against MKL's
                  GEMM on a weight it packed once (torch.ops.mkl._mkl_linear
                  on _mkl_reorder_linear_weight, PyTorch's packed-weight
                  Linear). Each timed call runs --layers such matmuls, each
                  with its own weight, so weights come from memory as a
                  model's layers do, not from the cache.
                  With --compare-build DIR, the same compiled by DIR's
                  un-opt (a build of another commit) runs in the same
                  rounds: a before/after comparison.

Usage: python3 bench/cpu/bench_matmul.py [--rounds N] [--shapes 197x384x1152,...]
    [--layers 8] [--compare-build DIR]
"""
import argparse
import os
import pathlib
import sys
import tempfile

for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ[var] = "1"

import numpy as np  # noqa: E402
import torch  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(ROOT / "bench" / "cpu"))
from common import cpu_description, interleaved, summary, un_build  # noqa: E402
from un_mlir import aot, blocks, harness  # noqa: E402

SHAPES = "197x384x1152,197x1536x384,128x768x3072,512x768x3072"


def gflops(stats, flop):
    """{contender: (GFLOP/s of the fastest round, of the median round)}."""
    return {c: (flop / (lo * 1e-3) / 1e9, flop / (med * 1e-3) / 1e9)
            for c, (lo, med) in stats.items()}


def per_call_table(args, shapes, rng, tmp):
    """A @ B, both as given, against torch.mm and numpy."""
    text = "".join(blocks.matmul_mlir(f"mm{i}", *s) for i, s in enumerate(shapes))
    fns = harness.compile_module(text, [f"mm{i}" for i in range(len(shapes))],
                                 pathlib.Path(tmp) / "mm.so")
    print(f"{'M x K x N':>16s} {'un-mlir':>16s} {'torch.mm':>16s} {'numpy':>16s}  un/torch")
    for i, (m, k, n) in enumerate(shapes):
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        want = a.astype(np.float64) @ b.astype(np.float64)
        out = [np.empty((m, n), np.float32)]
        ta, tb, tc = torch.from_numpy(a), torch.from_numpy(b), torch.empty(m, n)
        nc = np.empty((m, n), np.float32)
        fn = fns[f"mm{i}"]
        contenders = {
            "un-mlir": lambda: fn(a, b, out=out),
            "torch.mm": lambda: torch.mm(ta, tb, out=tc),
            "numpy": lambda: np.matmul(a, b, out=nc),
        }
        for name, call in contenders.items():
            call()
        got = {"un-mlir": out[0], "torch.mm": tc.numpy(), "numpy": nc}
        for name, g in got.items():
            harness.assert_close(g, want, rtol=1e-4, what=f"{name} {m}x{k}x{n}")
        flop = 2.0 * m * k * n
        reps = max(1, int(2e9 / flop))
        gf = gflops(summary(interleaved(contenders, args.rounds, reps)), flop)
        cells = " ".join(f"{gf[c][0]:7.1f} [{gf[c][1]:6.1f}]" for c in contenders)
        print(f"{m:>5d}x{k:>4d}x{n:>5d} {cells}  {gf['un-mlir'][0] / gf['torch.mm'][0]:.2f}x")


def compile_prepared(names, shapes, library):
    """{name: (@name_prepare_weights, @name_folded)} of matmuls `names` of
    `shapes` through un-inference-pipeline{pack-weights=true}."""
    text = "".join(blocks.matmul_mlir(n, *s) for n, s in zip(names, shapes))
    prepared = aot.run_un_opt(text, ["un-inference-pipeline{pack-weights=true}"])
    fns = harness.compile_module(
        prepared, [f"{n}_{part}" for n in names for part in ("prepare_weights", "folded")],
        library)
    return {n: (fns[f"{n}_prepare_weights"], fns[f"{n}_folded"]) for n in names}


def prepared_table(args, shapes, rng, tmp):
    """A @ W with W prepared once: un-mlir's panels against MKL's packed
    weight, `args.layers` weights used in turn."""
    mkl = getattr(torch.ops.mkl, "_mkl_linear", None) if torch.backends.mkl.is_available() \
        else None
    names = [f"mm{i}" for i in range(len(shapes))]
    builds = {"un-mlir": compile_prepared(names, shapes, pathlib.Path(tmp) / "mm_prepared.so")}
    if args.compare_build:
        with un_build(args.compare_build):
            builds["compared"] = compile_prepared(names, shapes,
                                                  pathlib.Path(tmp) / "mm_compared.so")
        print(f"compared: un-mlir compiled by {args.compare_build}/bin/un-opt")
    header = "".join(f" {c:>16s}" for c in builds) + (f" {'MKL packed':>16s}" if mkl else "")
    print(f"{'M x K x N':>16s}{header}  un/MKL"
          + ("" if mkl else "   (MKL packed: torch without MKL, not timed)"))
    for name, (m, k, n) in zip(names, shapes):
        a = rng.standard_normal((m, k), dtype=np.float32)
        weights = [rng.standard_normal((k, n), dtype=np.float32) for _ in range(args.layers)]
        want = a.astype(np.float64) @ weights[-1].astype(np.float64)
        contenders = {}
        for build, fns in builds.items():
            prepare, folded = fns[name]
            panels = [prepare(w)[0] for w in weights]
            out = [np.empty((m, n), np.float32)]
            harness.assert_close(folded(a, panels[-1], out=out)[0], want, rtol=1e-4,
                                 what=f"{build} {m}x{k}x{n}")
            contenders[build] = (lambda f, ps, o: lambda: [f(a, p, out=o) for p in ps])(
                folded, panels, out)
        if mkl:
            ta = torch.from_numpy(a)
            linear = [torch.from_numpy(np.ascontiguousarray(w.T)) for w in weights]
            pairs = [(torch.ops.mkl._mkl_reorder_linear_weight(w, m), w) for w in linear]
            harness.assert_close(mkl(ta, *pairs[-1], None, m).numpy(), want, rtol=1e-4,
                                 what=f"MKL packed {m}x{k}x{n}")
            contenders["MKL packed"] = lambda: [mkl(ta, p, w, None, m) for p, w in pairs]
        flop = 2.0 * m * k * n * args.layers
        gf = gflops(summary(interleaved(contenders, args.rounds, max(1, int(2e9 / flop)))),
                    flop)
        cells = " ".join(f"{gf[c][0]:7.1f} [{gf[c][1]:6.1f}]" for c in contenders)
        ratio = f"  {gf['un-mlir'][0] / gf['MKL packed'][0]:.2f}x" if mkl else ""
        print(f"{m:>5d}x{k:>4d}x{n:>5d} {cells}{ratio}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--shapes", default=SHAPES)
    parser.add_argument("--layers", type=int, default=8,
                        help="weights used in turn in the prepared-B table")
    parser.add_argument("--compare-build", type=pathlib.Path,
                        help="a build directory of another commit: its un-opt's code "
                             "runs in the same rounds of the prepared-B table")
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(cpu_description())
    print(f"torch {torch.__version__}, numpy {np.__version__}; 1 thread, thread CPU time, "
          f"{args.rounds} interleaved rounds; GFLOP/s from the fastest round (median in brackets)")
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
        print("\nB per call:")
        per_call_table(args, shapes, rng, tmp)
        print(f"\nprepared B ({args.layers} weights in turn):")
        prepared_table(args, shapes, rng, tmp)


if __name__ == "__main__":
    main()
