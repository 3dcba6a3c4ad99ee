"""Statistics across processes on the CUDA path, host side, without a GPU:
the runtime's `un_cuda_sum_across_ranks_f32` (what un-gpu-collectives
calls) in jobs of 1, 2 and 3 processes under a fake CUDA driver (device
memory the host cannot touch) and a fake NCCL (test/python/fake_nccl.c:
it sums through files, reading and writing device memory with the
driver's copies); the job's errors; and a training step compiled by
un-cuda-pipeline with `all_ranks` that runs its two all-reduces in two
processes. The kernels' numbers across processes are checked by
test_mpi.py (the same kernels run on the host, MPI summing)."""
import json
import os
import subprocess
import sys

import pytest

from conftest import CUDA_RUNTIME as RUNTIME
from conftest import FAKECUDA, ROOT, cuda_host_skips

pytestmark = cuda_host_skips()

# Rank r holds [10 r, 10 r + 1, ...]; sums out of place, then in place.
SUM_SCRIPT = """
import ctypes, json, os, sys
import cuda_runtime_client as client
rt = client.load(sys.argv[1])
rt.un_cuda_sum_across_ranks_f32.argtypes = [ctypes.c_ssize_t] * 3
rank, n = int(os.environ.get("RANK", "0")), int(sys.argv[2])
host = (ctypes.c_float * n)(*[10.0 * rank + i for i in range(n)])
a, b = (rt.mgpuMemAlloc(4 * n, None, False) for _ in range(2))
rt.mgpuMemcpy(a, host, 4 * n, None)
rt.un_cuda_sum_across_ranks_f32(a, b, n)
rt.un_cuda_sum_across_ranks_f32(a, a, n)
out, inplace = (ctypes.c_float * n)(), (ctypes.c_float * n)()
rt.mgpuMemcpy(out, b, 4 * n, None)
rt.mgpuMemcpy(inplace, a, 4 * n, None)
print(json.dumps([list(out), list(inplace)]))
"""


@pytest.fixture(scope="module")
def fake_nccl(tmp_path_factory):
    lib = tmp_path_factory.mktemp("nccl") / "libnccl.so.2"
    subprocess.run(["cc", "-O1", "-shared", "-fPIC", "-o", str(lib),
                    str(ROOT / "test" / "python" / "fake_nccl.c"), "-ldl"], check=True)
    return lib


def job_env(tmp_path, fake_nccl, world, rank):
    env = dict(os.environ, LD_LIBRARY_PATH=FAKECUDA, FAKECUDA_STRICT="1",
               UN_NCCL_LIBRARY=str(fake_nccl), UN_NCCL_ID_FILE=str(tmp_path / "nccl.id"),
               FAKE_NCCL_DIR=str(tmp_path), FAKE_NCCL_LOG=str(tmp_path / f"nccl.{rank}.log"),
               UN_NCCL_TIMEOUT_S="60",
               PYTHONPATH=os.pathsep.join([str(ROOT / "python"), str(ROOT / "test" / "python"),
                                           os.environ.get("PYTHONPATH", "")]))
    for name in ("WORLD_SIZE", "RANK", "PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE",
                 "OMPI_COMM_WORLD_RANK"):
        env.pop(name, None)
    if world:
        env.update(WORLD_SIZE=str(world), RANK=str(rank))
    return env


def run_job(tmp_path, fake_nccl, world, args):
    """Runs `args` as every process of a job of `world` (0: no job
    variables); [(returncode, stdout, stderr)] by rank."""
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              env=job_env(tmp_path, fake_nccl, world, rank))
             for rank in range(max(world, 1))]
    results = []
    for proc in procs:
        out, err = proc.communicate(timeout=300)
        results.append((proc.returncode, out, err))
    return results


@pytest.mark.parametrize("world", [2, 3])
def test_processes_sum_their_vectors(tmp_path, fake_nccl, world):
    n = 5
    results = run_job(tmp_path, fake_nccl, world, [sys.executable, "-c", SUM_SCRIPT,
                                                   str(RUNTIME), str(n)])
    want = [10.0 * world * (world - 1) / 2 + world * i for i in range(n)]
    for rank, (code, out, err) in enumerate(results):
        assert code == 0, err[-2000:]
        assert json.loads(out) == [want, want], rank
        log = (tmp_path / f"nccl.{rank}.log").read_text().splitlines()
        assert log == [f"rank {rank} of {world} call {k} count {n}" for k in range(2)]


def test_one_process_copies_without_nccl(tmp_path, fake_nccl):
    env_nccl = tmp_path / "missing" / "libnccl.so.2"  # never loaded
    results = run_job(tmp_path, env_nccl, 0, [sys.executable, "-c", SUM_SCRIPT, str(RUNTIME),
                                              "4"])
    code, out, err = results[0]
    assert code == 0, err[-2000:]
    assert json.loads(out) == [[0.0, 1.0, 2.0, 3.0]] * 2
    assert not (tmp_path / "nccl.0.log").exists()


@pytest.mark.parametrize("problem, message", [
    ("no-id-file", "set UN_NCCL_ID_FILE to a path that every process of the job sees"),
    ("no-library", "statistics across processes need NCCL: could not load"),
    ("bad-rank", "WORLD_SIZE=2 needs a rank in [0, 2)"),
    ("bad-size", 'WORLD_SIZE="two" is not a process count or rank'),
])
def test_a_job_it_cannot_join_is_a_clear_error(tmp_path, fake_nccl, problem, message):
    env = job_env(tmp_path, fake_nccl, 2, 0)
    if problem == "no-id-file":
        del env["UN_NCCL_ID_FILE"]
    elif problem == "no-library":
        env["UN_NCCL_LIBRARY"] = str(tmp_path / "nowhere" / "libnccl.so.2")
    elif problem == "bad-rank":
        env["RANK"] = "5"
    else:
        env["WORLD_SIZE"] = "two"
    proc = subprocess.run([sys.executable, "-c", SUM_SCRIPT, str(RUNTIME), "3"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode != 0
    assert message in proc.stderr, proc.stderr[-2000:]


# A training step (make_artifacts.py's destination-passing functions, as
# the GPU harness runs them) with every buffer in device memory.
STEP_SCRIPT = """
import ctypes, sys
import numpy as np
import cuda_runtime_client as client
rt = client.load(sys.argv[1])
step = ctypes.CDLL(sys.argv[2])
T, C, MF, MB = 6, 16, 3, 2
device = lambda array: client.device(rt, array)

f32 = np.float32
x, gy = np.ones((T, C), f32), np.ones((T, C), f32)
vec, ones = np.zeros(C, f32), np.ones(C, f32)
fwd = [device(a) for a in (x, ones, vec, ones, np.zeros((MF, C), f32),
                           np.array([1, 0], np.int64), np.zeros(T, np.bool_),
                           x, x, vec, vec, vec, np.zeros((MF, C), f32),
                           np.zeros(2, np.int64))]
bwd = [device(a) for a in (gy, x, vec, vec, ones, vec, np.zeros((MB, C), f32),
                           np.array([1, 0], np.int64), x, vec, vec, vec,
                           np.zeros((MB, C), f32))]
for name, args in (("step_forward", fwd), ("step_backward", bwd)):
    getattr(step, "_mlir_ciface_" + name)(*[ctypes.byref(d) for d in args])
print("ran")
"""


def test_compiled_step_runs_its_all_reduces_in_every_process(tmp_path, fake_nccl):
    from un_mlir import aot
    # In its own process: make_artifacts imports the CPU integration tests'
    # `generate`, a module name other test folders use too.
    text = subprocess.run(
        [sys.executable, "-c",
         "import make_artifacts as m; print(m.training_functions("
         "'step', 'f32', [6, 16], 16, 3, 2, [6], m.gen.hp(), all_ranks=True))"],
        cwd=ROOT / "bench" / "gpu", capture_output=True, text=True, check=True).stdout
    library = aot.compile_shared_library(text, tmp_path / "step.so", pipeline="un-cuda-pipeline")
    results = run_job(tmp_path, fake_nccl, 2, [sys.executable, "-c", STEP_SCRIPT,
                                               str(RUNTIME), str(library)])
    for rank, (code, out, err) in enumerate(results):
        assert code == 0, err[-3000:]
        assert out.strip() == "ran"
        # The forward's [x^2 sums, count] and the backward's [g*z sums, count].
        log = (tmp_path / f"nccl.{rank}.log").read_text().splitlines()
        assert log == [f"rank {rank} of 2 call {k} count 17" for k in range(2)]
