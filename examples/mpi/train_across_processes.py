"""Worked example (docs/training.md): a UN layer trained with statistics
taken over every MPI process, compiled by un-mlir, checked against one
process that trains on the whole batch.

    mpirun.mpich -np 2 env PYTHONPATH=python python3 examples/mpi/train_across_processes.py

Each process compiles the training step with `all_ranks` (un-cpu-pipeline
lowers its two token reductions to MPI all-reduces: convert-un-to-mpi) and
trains 12 steps on its share of a global batch: rank r holds r + 1
sequences (uneven shards), with padding masks (at step 3 rank 0 holds only
padding); steps 6 and 10 are outliers, which the filter skips. Every step,
this process's rows of y and gx, var, r, skip and all state must equal the
spec's reference run on the whole batch in one process (to 1e-5 relative).
Prints one line per process; exits non-zero on a mismatch.

With `--pipeline un-gpu-emulation-pipeline` the step is compiled to the
CUDA kernels (convert-un-to-gpu, whose reductions write [sums, count] for
the all-reduce) and those run on the host, the all-reduces still by MPI:
the numbers of the GPU path across processes, without a GPU.
"""
import argparse
import sys
import tempfile

import numpy as np

from un_mlir import mpi, reference
from un_mlir.train_step import CompiledTrainStep, compile_train_step

C, T = 16, 5
HPARAMS = dict(eps=1e-5, momentum=0.9, warmup_iters=3, outlier_filtration=True, r_max=3.0,
               r_warmup=3)
WINDOWS = dict(window_fwd=5, window_bwd=2)
SCALES = [1, 1.2, 0.9, 1.1, 1, 30.0, 1, 0.95, 1.05, 40.0, 1, 1.1]  # 6, 10: outliers


def global_batches(world):
    """The same data in every process: per step x, gy and the padding mask
    of the whole batch (sum of the shards' sequences)."""
    batch = world * (world + 1) // 2
    rng = np.random.default_rng(0)
    steps = []
    for step, scale in enumerate(SCALES):
        x = (scale * rng.standard_normal((batch, T, C))).astype(np.float32)
        gy = rng.standard_normal((batch, T, C)).astype(np.float32)
        mask = rng.random((batch, T)) < 0.3
        mask[:, 0] = False  # every sequence keeps a token,
        if step == 2 and world > 1:
            mask[:1] = True  # but at step 3 rank 0 (one sequence) has only padding
        steps.append((x, gy, mask))
    return steps


def check(name, got, want, step, rank):
    scale = max(1.0, float(np.max(np.abs(want))))
    if not np.allclose(got, want, rtol=1e-5, atol=1e-6 * scale):
        err = float(np.max(np.abs(np.asarray(got, np.float64) - want)))
        sys.exit(f"rank {rank}: {name} differs at step {step} (max abs {err:.3g})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pipeline", default="un-cpu-pipeline",
                        choices=("un-cpu-pipeline", "un-gpu-emulation-pipeline"))
    args = parser.parse_args()
    rank, world = mpi.rank(), mpi.size()
    lo, hi = rank * (rank + 1) // 2, (rank + 1) * (rank + 2) // 2  # rank r: r + 1 sequences
    rng = np.random.default_rng(1)
    gamma = (1 + 0.1 * rng.standard_normal(C)).astype(np.float32)
    beta = (0.1 * rng.standard_normal(C)).astype(np.float32)
    batches = global_batches(world)

    whole = reference.run_sequence([x for x, _, _ in batches], [gy for _, gy, _ in batches],
                                   gamma, beta,
                                   reference.UNState.fresh(C, WINDOWS["window_fwd"],
                                                           WINDOWS["window_bwd"]),
                                   masks=[m for _, _, m in batches], **HPARAMS)

    with tempfile.TemporaryDirectory() as tmp:
        library = compile_train_step((None, T, C), f"{tmp}/step.so", pipeline=args.pipeline,
                                     mask=True, all_ranks=True, **WINDOWS, **HPARAMS)
        state = reference.UNState.fresh(C, WINDOWS["window_fwd"], WINDOWS["window_bwd"])
        step = CompiledTrainStep(library, (None, T, C), gamma, beta, state, all_ranks=True)
        skipped = []
        for t, ((x, gy, mask), want) in enumerate(zip(batches, whole), start=1):
            y = step.forward(x[lo:hi], t, mask[lo:hi])
            gx = step.backward(gy[lo:hi], t)
            if step.skip != want["skip"]:
                sys.exit(f"rank {rank}: skip is {step.skip} at step {t}, expected {want['skip']}")
            skipped.append(step.skip)
            check("y", y, want["y"][lo:hi], t, rank)
            check("gx", gx, want["gx"][lo:hi], t, rank)
            check("var", step.var, want["var"], t, rank)
            check("r", step.r, want["r"], t, rank)
            for name in ("running_var", "win_x2", "ema_gz", "win_gz"):
                check(name, getattr(state, name), getattr(want["state"], name), t, rank)
            if state.skips != want["state"].skips:
                sys.exit(f"rank {rank}: {state.skips} skips at step {t}")
    if not (skipped[5] and skipped[9]) or all(skipped):
        sys.exit(f"rank {rank}: the outliers were not filtered as expected: {skipped}")
    print(f"rank {rank} of {world}: {len(SCALES)} steps ({args.pipeline}) match one process on "
          f"the whole batch ({sum(skipped)} filtered)")


if __name__ == "__main__":
    main()
