"""`torch.ops.un_mlir.unified_norm_infer`: UnifiedNorm in eval mode as one
PyTorch custom op, with an autograd formula. UnifiedNorm calls it in eager
mode; it runs un-mlir's compiled kernel where that applies (a CPU input of
float32, bfloat16 or float16 with gamma and beta of its dtype) and the
PyTorch formula elsewhere. An exported graph that calls it keeps it intact
(the "preserved" route into un-mlir; see `un_mlir.torch_mlir_import`).

Internal helper of the package, tests and benchmarks, not public API
(docs/api.md).
"""
import torch


@torch.library.custom_op("un_mlir::unified_norm_infer", mutates_args=())
def unified_norm_infer(x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor,
                       running_var: torch.Tensor, eps: float) -> torch.Tensor:
    """y = gamma * x / sqrt(running_var + eps) + beta (the spec's inference:
    computed in f32, stored in x's dtype)."""
    from .torch import kernels, module

    if kernels.unsupported_reason(x, gamma, beta) is None:
        return kernels.infer(x, gamma, beta, running_var, eps)
    return module.infer(x, gamma, beta, running_var, eps)


@unified_norm_infer.register_fake
def _(x, gamma, beta, running_var, eps):
    return torch.empty_like(x)


def _setup(ctx, inputs, output):
    x, gamma, beta, running_var, eps = inputs
    ctx.save_for_backward(x, gamma, running_var)
    ctx.eps = eps
    ctx.dtypes = (gamma.dtype, beta.dtype)


def _backward(ctx, gy):
    x, gamma, running_var = ctx.saved_tensors
    ct = torch.float64 if x.dtype == torch.float64 else torch.float32
    inv = torch.rsqrt(running_var.to(ct) + ctx.eps)
    g = gy.to(ct)
    reduce = tuple(range(gy.dim() - 1))
    gx = (g * gamma.to(ct) * inv).to(x.dtype)
    ggamma = (g * x.to(ct) * inv).sum(reduce).to(ctx.dtypes[0])
    gbeta = g.sum(reduce).to(ctx.dtypes[1])
    return gx, ggamma, gbeta, None, None


torch.library.register_autograd("un_mlir::unified_norm_infer", _backward, setup_context=_setup)
