"""One rank of test_distributed.py (run by torchrun): UnifiedNorm with
statistics synchronized over all ranks (on the PyTorch implementation and
on the compiled kernels), on this rank's uneven shard of a global batch,
against one process (no synchronization) on the whole batch.

Checks, every step: this rank's rows of y and gx, and all state; then a
DistributedDataParallel model against the same model trained on the whole
batch in one process. Exits non-zero on a mismatch."""
import os
import sys

import torch
import torch.distributed as dist
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
from un_mlir.torch import UnifiedNorm, convert_sync_unified_norm  # noqa: E402

HP = dict(window=3, window_bwd=2, warmup_iters=2, outlier_filtration=True, r_max=3.0,
          r_warmup=3)
C, T = 16, 5
STEPS = 12
SCALES = [1, 1.2, 0.9, 1.1, 1, 30.0, 1, 0.95, 1.05, 40.0, 1, 1.1]  # steps 6, 10: outliers


def shards(world):
    """Sequences per rank: uneven (rank r holds r + 1 of them)."""
    sizes = [r + 1 for r in range(world)]
    starts = [sum(sizes[:r]) for r in range(world)]
    return sizes, starts


def check(name, got, want, rtol=1e-5, atol=1e-6):
    if got.dtype == torch.bool or not got.is_floating_point():
        ok = torch.equal(got, want)
    else:
        ok = torch.allclose(got, want, rtol=rtol, atol=atol)
    if not ok:
        err = (got.float() - want.float()).abs().max().item()
        raise AssertionError(f"rank {dist.get_rank()}: {name} differs (max abs {err})")


def norm_sequence(rank, world, kernels):
    """The synchronized module on the compiled kernels (the step split at
    its token reductions) or on the PyTorch implementation."""
    sizes, starts = shards(world)
    batch = sum(sizes)
    gen = torch.Generator().manual_seed(0)
    synced = convert_sync_unified_norm(UnifiedNorm(C, kernels=kernels, **HP))
    assert synced._compiled_kernels(torch.randn(2, C)) == (kernels == "compiled")
    whole = UnifiedNorm(C, kernels="eager", **HP)
    with torch.no_grad():
        synced.weight.copy_(1 + 0.1 * torch.randn(C, generator=gen))
        synced.bias.copy_(0.1 * torch.randn(C, generator=gen))
    whole.load_state_dict(synced.state_dict())
    lo, hi = starts[rank], starts[rank] + sizes[rank]
    skipped = []
    for step, scale in enumerate(SCALES[:STEPS]):
        x = scale * torch.randn(batch, T, C, generator=gen)
        gy = torch.randn(batch, T, C, generator=gen)
        mask = torch.rand(batch, T, generator=gen) < 0.3
        mask[:, 0] = False  # every sequence keeps a token,
        if step == 2:
            mask[: sizes[0]] = True  # but at step 3 rank 0 has only padding
        xa = x.clone().requires_grad_()
        ya = whole(xa, mask)
        ya.backward(gy)
        xr = x[lo:hi].clone().requires_grad_()
        yr = synced(xr, mask[lo:hi])
        yr.backward(gy[lo:hi])
        what = f"at step {step + 1} ({kernels})"
        check(f"y {what}", yr.detach(), ya.detach()[lo:hi])
        check(f"gx {what}", xr.grad, xa.grad[lo:hi])
        for key, value in whole.state_dict().items():
            check(f"{key} {what}", synced.state_dict()[key], value)
        skipped.append(synced.last_skip)
        assert synced.last_skip == whole.last_skip
    assert any(skipped[3:]) and not all(skipped[3:]), skipped


def ddp_training(rank, world):
    """A model with UnifiedNorm under DDP (gradients averaged over ranks)
    trains like the same model on the whole batch in one process."""
    sizes, starts = shards(world)
    batch = sum(sizes)
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(C, C), UnifiedNorm(C, kernels="compiled", **HP), nn.GELU(),
                          nn.Linear(C, 4))
    reference = nn.Sequential(nn.Linear(C, C), UnifiedNorm(C, kernels="eager", **HP),
                              nn.GELU(), nn.Linear(C, 4))
    reference.load_state_dict(model.state_dict())
    ddp = nn.parallel.DistributedDataParallel(convert_sync_unified_norm(model))
    opt = torch.optim.SGD(ddp.parameters(), lr=0.1)
    opt_ref = torch.optim.SGD(reference.parameters(), lr=0.1)
    gen = torch.Generator().manual_seed(2)
    lo, hi = starts[rank], starts[rank] + sizes[rank]
    tokens = batch * T
    for step in range(8):
        x = (1 + step % 3) * torch.randn(batch, T, C, generator=gen)
        target = torch.randn(batch, T, 4, generator=gen)
        opt_ref.zero_grad()
        ((reference(x) - target) ** 2).sum().div(tokens).backward()
        opt_ref.step()
        opt.zero_grad()
        # DDP averages over ranks: scale each rank's share of the global mean.
        ((ddp(x[lo:hi]) - target[lo:hi]) ** 2).sum().div(tokens / world).backward()
        opt.step()
    # Each rank's loss is scaled by the world size (DDP divides the summed
    # gradients by it), so the gradients reaching UnifiedNorm, and with them
    # its gradient statistics, are `world` times the single process's.
    for (name, p), q in zip(model.state_dict().items(), reference.state_dict().values()):
        scale = world if name.endswith(("ema_gz", "win_gz")) else 1
        check(f"DDP {name}", p, scale * q, rtol=1e-4, atol=1e-6)


def main():
    dist.init_process_group("gloo")
    rank, world = dist.get_rank(), dist.get_world_size()
    for kernels in ("eager", "compiled"):
        norm_sequence(rank, world, kernels)
    ddp_training(rank, world)
    dist.barrier()
    dist.destroy_process_group()
    print(f"rank {rank} of {world}: ok")


if __name__ == "__main__":
    main()
