"""CPU benchmark of the f32 matmul code of un-cpu-pipeline against torch.mm
(MKL or oneDNN inside PyTorch) and numpy (OpenBLAS), one thread.

The shapes are the matmuls of the ViT-S and BERT-base blocks
(M x K x N): 197x384x1152 (ViT Q/K/V), 197x1536x384 (ViT MLP down),
128x768x3072 and 512x768x3072 (BERT MLP up). Every contender's result is
checked against float64 numpy before timing.

Usage: python3 bench/cpu/bench_matmul.py [--rounds N] [--shapes 197x384x1152,...]
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
from common import cpu_description, interleaved, summary  # noqa: E402
from un_mlir import blocks, harness  # noqa: E402

SHAPES = "197x384x1152,197x1536x384,128x768x3072,512x768x3072"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--shapes", default=SHAPES)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(cpu_description())
    print(f"torch {torch.__version__}, numpy {np.__version__}; 1 thread, thread CPU time, "
          f"{args.rounds} interleaved rounds; GFLOP/s from the fastest round (median in brackets)")
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp:
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
            stats = summary(interleaved(contenders, args.rounds, reps))
            gf = {c: (flop / (lo * 1e-3) / 1e9, flop / (med * 1e-3) / 1e9)
                  for c, (lo, med) in stats.items()}
            cells = " ".join(f"{gf[c][0]:7.1f} [{gf[c][1]:6.1f}]" for c in contenders)
            print(f"{m:>5d}x{k:>4d}x{n:>5d} {cells}  {gf['un-mlir'][0] / gf['torch.mm'][0]:.2f}x")


if __name__ == "__main__":
    main()
