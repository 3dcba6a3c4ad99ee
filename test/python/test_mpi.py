"""The compiled training step with statistics across MPI processes
(`all_ranks`, convert-un-to-mpi, MPICH): examples/mpi's 12 steps with
uneven shards, padding masks and filtered batches, run under
`mpirun.mpich -np 2` and `-np 3` and in one process without mpirun, match
the spec's reference on the whole batch (the example does the checks); the
same with the GPU kernels of `all_ranks` run on the host
(un-gpu-emulation-pipeline)."""
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, UN_OPT
from un_mlir import aot, mpi
from un_mlir.train_step import CompiledTrainStep, compile_train_step

EXAMPLE = ROOT / "examples" / "mpi" / "train_across_processes.py"
MPIRUN = shutil.which("mpirun.mpich")

pytestmark = [
    pytest.mark.skipif(not UN_OPT.exists(), reason="un-opt is not built"),
    pytest.mark.skipif(not mpi.mpich_installed(), reason=mpi.MISSING),
]


def run_example(prefix, pipeline="un-cpu-pipeline"):
    env = dict(os.environ, OMP_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([str(ROOT / "python"),
                                           os.environ.get("PYTHONPATH", "")]))
    proc = subprocess.run([*prefix, sys.executable, str(EXAMPLE), "--pipeline", pipeline],
                          capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    return proc.stdout


@pytest.mark.skipif(MPIRUN is None, reason="mpirun.mpich (Debian's mpich) is not installed")
@pytest.mark.parametrize("ranks", [2, 3])
def test_processes_match_one_process_on_the_whole_batch(ranks):
    out = run_example([MPIRUN, "-np", str(ranks)])
    for rank in range(ranks):
        assert (f"rank {rank} of {ranks}: 12 steps (un-cpu-pipeline) match one process on the "
                "whole batch") in out


@pytest.mark.skipif(MPIRUN is None, reason="mpirun.mpich (Debian's mpich) is not installed")
def test_gpu_kernels_across_processes_match_one_process():
    # convert-un-to-gpu's kernels for all_ranks ([sums, count] finalize,
    # divide after the all-reduce), run on the host; MPI does the all-reduce.
    out = run_example([MPIRUN, "-np", "2"], pipeline="un-gpu-emulation-pipeline")
    for rank in range(2):
        assert (f"rank {rank} of 2: 12 steps (un-gpu-emulation-pipeline) match one process on "
                "the whole batch") in out


def test_one_process_without_mpirun():
    assert "rank 0 of 1: 12 steps (un-cpu-pipeline) match" in run_example([])


def test_without_mpich_compiling_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(mpi, "mpich_installed", lambda: False)
    with pytest.raises(aot.CompileError, match="MPICH was not found"):
        compile_train_step((None, 8), tmp_path / "step.so", all_ranks=True)


def test_without_all_ranks_nothing_calls_mpi(tmp_path):
    text = aot.run_un_opt(
        (ROOT / "test" / "Pipelines" / "cpu-pipeline.mlir").read_text(), "un-cpu-pipeline")
    assert "MPI_" not in text


def test_shapes_are_checked(tmp_path):
    lib = compile_train_step((None, 4, 8), tmp_path / "step.so")
    from un_mlir import reference
    step = CompiledTrainStep(lib, (None, 4, 8), np.ones(8), np.zeros(8),
                             reference.UNState.fresh(8))
    with pytest.raises(RuntimeError, match="backward needs the forward"):
        step.backward(np.ones((2, 4, 8), np.float32), 1)
    with pytest.raises(ValueError, match=r"x has shape \(2, 4, 9\).*\(\?, 4, 8\)"):
        step.forward(np.zeros((2, 4, 9), np.float32), 1)
    step.forward(np.ones((3, 4, 8), np.float32), 1)
    with pytest.raises(ValueError, match="gy has shape"):
        step.backward(np.ones((2, 4, 8), np.float32), 1)
