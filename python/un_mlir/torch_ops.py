"""`torch.ops.un_mlir.unified_norm_infer`: UnifiedNorm in eval mode as one
PyTorch custom op, so that an exported graph keeps it intact (the
"preserved" route into un-mlir; see `un_mlir.torch_mlir_import`).

Internal helper of the package, tests and benchmarks, not public API
(docs/api.md).
"""
import torch


@torch.library.custom_op("un_mlir::unified_norm_infer", mutates_args=())
def unified_norm_infer(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
                       running_var: torch.Tensor, eps: float) -> torch.Tensor:
    """y = gamma * x / sqrt(running_var + eps) + beta (the spec's inference)."""
    return gamma * x / torch.sqrt(running_var + eps) + beta


@unified_norm_infer.register_fake
def _(x, gamma, beta, running_var, eps):
    return torch.empty_like(x)
