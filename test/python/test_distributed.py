"""UnifiedNorm's statistics synchronized across ranks (torchrun, gloo on
127.0.0.1): 2 and 4 ranks with uneven shards and padding masks, 12 steps
with warm-up, smoothing and filtered batches, match one process on the
whole batch (y, gx, all state), and a DistributedDataParallel model trains
like its single-process twin (sync_stats_worker.py does the checks)."""
import os
import socket
import subprocess
import sys

import pytest
import torch
import torch.distributed as dist

from conftest import ROOT
from un_mlir.torch import UnifiedNorm, convert_sync_unified_norm

WORKER = ROOT / "test" / "python" / "sync_stats_worker.py"

pytestmark = pytest.mark.skipif(not (dist.is_available() and dist.is_gloo_available()),
                                reason="torch.distributed with gloo is not available")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("ranks", [2, 4])
def test_synchronized_statistics_match_one_process(ranks):
    cmd = [sys.executable, "-m", "torch.distributed.run", f"--nproc_per_node={ranks}",
           "--master_addr=127.0.0.1", f"--master_port={free_port()}", str(WORKER)]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-5000:]
    for rank in range(ranks):
        assert f"rank {rank} of {ranks}: ok" in proc.stdout


def test_without_a_process_group_nothing_is_synchronized():
    m = UnifiedNorm(8, process_group=None)
    assert m._sync_group() is None
    m(torch.randn(3, 8)).sum().backward()  # no collective is called
    if not dist.is_initialized():
        with pytest.raises(RuntimeError, match="not initialized"):
            convert_sync_unified_norm(m)
