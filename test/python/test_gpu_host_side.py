"""The GPU harness's host side, without a GPU: bench/gpu/build.sh's
artifacts run by run.sh under a fake CUDA driver (a libcuda.so.1 whose
device memory faults on host access and which checks every launch against
the device's limits and the loaded kernels), and the runtime library's
requirements of the GPU machine.

The fake driver is not part of the project: point UN_FAKECUDA_DIR at a
folder holding one (CI does); without it those tests skip. Kernels do not
execute under it, so the values fail their checks; what must hold is that
every case and every benchmark (the UN-folded Transformer blocks included,
with the project's matmul kernels and with cuBLASLt calls, here a fake
cuBLASLt: test/python/fake_cublaslt.c) ran to its end, each in its own
process, with no fault, no bad launch, and the results written under $OUT."""
import functools
import json
import os
import re
import shutil
import subprocess

import pytest

from conftest import BUILD, CUDA_HOME, FAKECUDA, ROOT, build_fake_cublaslt, cuda_host_skips
from conftest import CUDA_RUNTIME as RUNTIME

needs_runtime = pytest.mark.skipif(
    not RUNTIME.exists() or not (CUDA_HOME / "bin" / "ptxas").exists(),
    reason="un-mlir was built without the CUDA toolkit")


def needs_fake_driver(test):
    """`test` with the skips of cuda_host_skips(cublaslt=True)."""
    return functools.reduce(lambda t, mark: mark(t), cuda_host_skips(cublaslt=True), test)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory):
    out = tmp_path_factory.mktemp("gpu") / "artifacts"
    proc = subprocess.run(["bash", str(ROOT / "bench" / "gpu" / "build.sh"), str(out)],
                          capture_output=True, text=True, timeout=900,
                          env=dict(os.environ, UN_BUILD=str(BUILD)))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


@needs_runtime
def test_runtime_needs_no_newer_glibc_than_2_34():
    if shutil.which("objdump") is None:
        pytest.skip("objdump (binutils) is not installed")
    symbols = subprocess.run(["objdump", "-T", str(RUNTIME)], capture_output=True, text=True,
                             check=True).stdout
    versions = {tuple(int(v) for v in m.split(".")) for m in re.findall(r"GLIBC_([0-9.]+)", symbols)}
    assert versions and max(versions) <= (2, 34), sorted(versions)
    assert "GLIBCXX" not in symbols and "CXXABI" not in symbols


def run_under_fake_driver(artifacts, tmp_path):
    out, log = tmp_path / "out", tmp_path / "fakecuda.log"
    # Few calls per timing: the fake driver never reuses freed device memory.
    env = dict(os.environ, OUT=str(out), LD_LIBRARY_PATH=FAKECUDA, FAKECUDA_STRICT="1",
               FAKECUDA_LOG=str(log), ITERS="3",
               UN_CUBLASLT_LIBRARY=str(build_fake_cublaslt(tmp_path)),
               FAKE_CUBLASLT_LOG=str(tmp_path / "cublaslt.log"),
               FAKE_CUBLASLT_MAX_MACS="0")  # copies checked, products not computed
    proc = subprocess.run(["bash", str(artifacts / "run.sh")], capture_output=True, text=True,
                          timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads((out / "results.json").read_text()), log.read_text(), proc.stdout


@needs_runtime
@needs_fake_driver
def test_every_case_and_benchmark_runs_its_host_side(artifacts, tmp_path):
    results, log, stdout = run_under_fake_driver(artifacts, tmp_path)
    cases = sorted(p.stem for p in (artifacts / "check").glob("*.mlir"))
    assert len(cases) >= 10
    assert "padding-mask-all-ranks" in cases  # statistics across processes, one process
    # Each case ran to its end (its values are not computed: no GPU).
    assert sorted(c.split()[1] for c in results["checks"]) == cases
    assert all(c.endswith("(values)") for c in results["checks"]), results["checks"]
    for case in cases:
        assert re.search(r"ran [1-9][0-9]* parts", results["check_logs"][case]), case
    rows = {(r["shape"], r["dtype"], r["op"]) for r in results["un_gpu_bench"]
            if r.get("kind") == "un"}
    assert len(rows) == 24, rows  # 3 shapes, 2 types, 4 ops
    assert not [r for r in results["un_gpu_bench"] if r.get("kind") == "error"]
    # The UN-folded blocks: every op a kernel, no host access to device memory.
    timed = {r["block"] for r in results["un_gpu_bench"] if r.get("kind") == "block"}
    checked = {r["block"] for r in results["un_gpu_bench"] if r.get("kind") == "block_check"}
    blocks = {"vit-b1", "vit-b8", "bert-b1", "bert-b8"}
    variants = {"", "-cublaslt", "-tf32", "-bf16"}
    assert timed == {b + v for b in blocks for v in variants}, timed
    assert checked == {b + v for b in ("vit-b1", "bert-b1") for v in variants}, checked
    # The cuBLASLt blocks called it: ViT-S's MLP (column-major: C^T = B^T A^T),
    # in f32 (compute type 68) and TF32 (77).
    calls = (tmp_path / "cublaslt.log").read_text()
    for compute in (68, 77):
        assert (f"matmul A 1536x384 B 384x197 D 1536x197 batch 1 types 0 0 compute {compute} "
                "beta 0") in calls
    # The bf16 block: its Q/K/V projections in bf16 (14) with a bf16 result
    # and the bias in cuBLASLt's epilogue.
    assert "matmul A 384x384 B 384x197 D 384x197 batch 1 types 14 14 compute 68 beta 0 bias" \
        in calls
    # Every launch was within the device's limits and named a loaded kernel:
    # with FAKECUDA_STRICT a process with a bad one exits 97, which the checks
    # above would show. The log holds the last process's launches.
    assert re.search(r"launches [1-9][0-9]*, bad 0,", log), log[-500:]
    assert "results:" in stdout


@needs_runtime
@needs_fake_driver
def test_a_failing_case_loses_only_itself(artifacts, tmp_path):
    broken = tmp_path / "artifacts"
    shutil.copytree(artifacts, broken, symlinks=True)
    victim = sorted((broken / "check").glob("window_one_p*.bin"))[0]
    victim.write_bytes(victim.read_bytes()[:8])  # its inputs end early
    results, _, _ = run_under_fake_driver(broken, tmp_path)
    checks = {c.split()[1]: c for c in results["checks"]}
    assert checks["window-one"] == "FAIL window-one (un_gpu_check exit 2)"
    assert all(c.endswith("(values)") for name, c in checks.items() if name != "window-one")
