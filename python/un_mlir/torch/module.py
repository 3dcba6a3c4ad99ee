"""`UnifiedNorm`: Unified Normalization as a PyTorch module, and
`convert_layernorm`, which swaps it in for every `nn.LayerNorm` of a model
(and, with `rmsnorm=True`, every RMSNorm).

Training follows the spec step by step (docs/spec.md in the repository,
and `un_mlir.reference`, the numpy transcription it is tested against): the
forward computes its statistics in f32 (f64 for f64 inputs), and the backward
is a custom autograd Function implementing the spec's backward (gradient
smoothing), not autograd through the forward. Eval mode is the affine map
`y = gamma * x / sqrt(running_var + eps) + beta`.

With `kernels="auto"` (the default) or "compiled", training and eval run
un-mlir's compiled CPU kernels (`un_mlir.torch.kernels`, torch custom
ops); the PyTorch implementation below is the fallback and the
`kernels="eager"` path.

All state (running_var, ema_gz, win_x2, win_gz, t, skips) lives in buffers,
so `state_dict()` / `load_state_dict()` resume a run mid-sequence. The
statistics buffers stay f32 when the module is converted to f16/bf16.
"""
import dataclasses
import warnings
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.distributed as dist
from torch import nn

from .. import torch_ops  # noqa: F401  (registers un_mlir::unified_norm_infer)
from . import kernels as _kernels

__all__ = ["UnifiedNorm", "convert_layernorm", "convert_sync_unified_norm", "ConversionReport"]

_STAT_BUFFERS = ("running_var", "ema_gz", "win_x2", "win_gz")
_KERNEL_CHOICES = ("auto", "compiled", "eager")


def _compute_dtype(dtype):
    """Statistics in f32, except f64 inputs (finite-difference tests)."""
    return torch.float64 if dtype == torch.float64 else torch.float32


def _geomean(w):
    """Column-wise exp(mean(log(w))); log(0) = -inf gives 0."""
    return torch.exp(torch.log(w).mean(0))


def _token_mean(total, count, group):
    """`total / count`, with both summed over the ranks of `group` first
    (one all-reduce of `[total..., count]`) when `group` is given."""
    if group is None:
        return total / count
    both = torch.cat([total, count.reshape(1).to(total.dtype)])
    dist.all_reduce(both, group=group)
    return both[:-1] / both[-1]


def train_forward(x, gamma, beta, running_var, win_x2, t, skips, mask, *, eps, momentum,
                  warmup_iters, outlier_filtration, r_max, r_warmup, group=None):
    """One training forward step `t` (already incremented) of the spec on
    torch tensors. Returns (y, z, var, r, skip, running_var_new, win_x2_new,
    skips_new); skip and skips_new are 0-d tensors. Inputs are not modified.
    With `group`, the quadratic mean is over the tokens of every rank."""
    ct = _compute_dtype(x.dtype)
    dev = x.device
    C = x.shape[-1]
    xs = x.to(ct)
    x2d = xs.reshape(-1, C)
    g = gamma.to(ct) if gamma is not None else torch.ones(C, dtype=ct, device=dev)
    b = beta.to(ct) if beta is not None else torch.zeros(C, dtype=ct, device=dev)
    rv = running_var.to(ct)
    win = win_x2.to(ct).clone()
    Mf = win.shape[0]
    eps_t = torch.tensor(eps, dtype=ct, device=dev)
    m = torch.tensor(momentum, dtype=ct, device=dev)
    one = torch.ones((), dtype=ct, device=dev)
    W = int(warmup_iters)

    # 1. Quadratic mean over unpadded tokens (T' = 0 gives NaN, as specified).
    sq = x2d * x2d
    if mask is None:
        psi = _token_mean(sq.sum(0), torch.tensor(x2d.shape[0], dtype=ct, device=dev), group)
    else:
        keep = ~mask.reshape(-1).to(torch.bool)
        psi = _token_mean(torch.where(keep[:, None], sq, torch.zeros((), dtype=ct, device=dev)).sum(0),
                          keep.sum().to(ct), group)
    # 2. Spread of the window BEFORE the update (NaN for a single entry).
    s = torch.sqrt(win).reshape(-1)
    if s.numel() > 1:
        s2 = ((s - s.mean()) ** 2).sum() / (s.numel() - 1)
    else:
        s2 = torch.full((), float("nan"), dtype=ct, device=dev)
    # 3. Window update.
    slot = t % Mf
    win[slot] = psi
    # 4.
    skip = torch.tensor(Mf <= 1, device=dev)
    skips_new = torch.as_tensor(skips, dtype=torch.int64, device=dev).clone()
    # 5. Outlier filtration (a NaN spread makes every comparison false).
    if outlier_filtration and t >= W:
        outlier = ((win.mean(0) - _geomean(win)) > s2 * Mf).any()
        win[slot] = torch.where(outlier, rv, win[slot])
        skip = skip | outlier
        skips_new = skips_new + outlier.to(torch.int64)
    # 6. Fluctuation smoothing.
    if t <= Mf or t < W:
        var = psi
    else:
        var = torch.where(skip, psi, _geomean(win))
    # 7. Gradient compensation, with running_var before its update.
    if t <= max(int(r_warmup), W):
        r = torch.ones(C, dtype=ct, device=dev)
    else:
        r = torch.sqrt(var + eps_t) / torch.sqrt(rv + eps_t)
        r = torch.clamp(r, 1 / torch.tensor(r_max, dtype=ct, device=dev),
                        torch.tensor(r_max, dtype=ct, device=dev))
        r = torch.where(skip, torch.ones_like(r), r)
    # 8. Normalize every token, padded ones included.
    z = xs / torch.sqrt(var + eps_t)
    # 9. Running variance (momentum weighs the OLD value).
    rv_new = m * rv + (one - m) * var
    # 10.
    y = g * z + b
    return (y.to(x.dtype), z.to(x.dtype), var, r, skip, rv_new, win, skips_new)


def train_backward(gy, z, var, r, skip, gamma, ema_gz, win_gz, t, *, eps, momentum,
                   warmup_iters, group=None):
    """The spec's backward of step `t` on torch tensors. Returns (gx, ggamma,
    gbeta, ema_gz_new, win_gz_new); ggamma/gbeta in f32 (the caller casts).
    With `group`, the mean of g * z is over the tokens of every rank
    (ggamma and gbeta stay this rank's: the data-parallel wrapper reduces
    them with the other gradients)."""
    ct = _compute_dtype(gy.dtype)
    dev = gy.device
    C = gy.shape[-1]
    gys, zs = gy.to(ct), z.to(ct)
    g_ = gamma.to(ct) if gamma is not None else torch.ones(C, dtype=ct, device=dev)
    var, r = var.to(ct), r.to(ct)
    ema = ema_gz.to(ct)
    win = win_gz.to(ct).clone()
    Mb = win.shape[0]
    eps_t = torch.tensor(eps, dtype=ct, device=dev)
    m = torch.tensor(momentum, dtype=ct, device=dev)
    one = torch.ones((), dtype=ct, device=dev)
    W = int(warmup_iters)

    g = gys * g_ * r                                   # 1.
    g2d, z2d = g.reshape(-1, C), zs.reshape(-1, C)
    gz = _token_mean((g2d * z2d).sum(0),               # 2. all tokens
                     torch.tensor(g2d.shape[0], dtype=ct, device=dev), group)
    slot = t % Mb
    win[slot] = torch.where(skip, ema, gz)             # 3.
    if t <= Mb or t < W:                               # 4.
        mu = gz
    else:
        mu = torch.where(skip, gz, win.mean(0))
    ema_new = m * ema + (one - m) * mu                 # 5.
    h = g - torch.where(skip, mu, ema_new) * zs        # 6.
    gx = h / torch.sqrt(var + eps_t)                   # 7.
    gy2d = gys.reshape(-1, C)                          # 8.
    ggamma = (gy2d * r * z2d).sum(0)
    gbeta = gy2d.sum(0)
    return gx.to(gy.dtype), ggamma, gbeta, ema_new, win


def infer(x, gamma, beta, running_var, eps):
    """The inference map `gamma / sqrt(running_var + eps) * x + beta` in
    PyTorch ops (f32, f64 for f64 inputs; gamma and beta may be None), in
    the op order un-raise-norms recognizes."""
    ct = _compute_dtype(x.dtype)
    denom = torch.sqrt(running_var.to(ct) + torch.tensor(eps, dtype=ct))
    a = (gamma.to(ct) if gamma is not None else 1) / denom
    y = a * x.to(ct)
    if beta is not None:
        y = y + beta.to(ct)
    return y.to(x.dtype)


class _UnifiedNormFunction(torch.autograd.Function):
    """Training step: forward updates the forward state of `module`, backward
    (the spec's, not autograd through the forward) updates its gradient
    state."""

    @staticmethod
    def forward(ctx, x, weight, bias, module, pad_mask):
        t = int(module.t) + 1  # the counter is incremented first
        y, z, var, r, skip, rv_new, win_new, skips_new = train_forward(
            x, weight, bias, module.running_var, module.win_x2, t, module.skips, pad_mask,
            **module._forward_hparams(), group=module._sync_group())
        module.running_var.copy_(rv_new)
        module.win_x2.copy_(win_new)
        module.skips.copy_(skips_new)
        module.t.fill_(t)
        module._last_skip = skip
        ctx.module = module
        ctx.group = module._sync_group()
        ctx.t = t
        ctx.save_for_backward(z, var, r, skip, weight if weight is not None else None)
        ctx.has_weight, ctx.has_bias = weight is not None, bias is not None
        return y

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, gy):
        z, var, r, skip, weight = ctx.saved_tensors
        module = ctx.module
        gx, ggamma, gbeta, ema_new, wgz_new = train_backward(
            gy.contiguous(), z, var, r, skip, weight, module.ema_gz, module.win_gz, ctx.t,
            **module._backward_hparams(), group=ctx.group)
        with torch.no_grad():
            module.ema_gz.copy_(ema_new)
            module.win_gz.copy_(wgz_new)
        gw = ggamma.to(weight.dtype) if ctx.has_weight else None
        gb = gbeta.to(weight.dtype if ctx.has_weight else gy.dtype) if ctx.has_bias else None
        return gx, gw, gb, None, None


class UnifiedNorm(nn.Module):
    """Unified Normalization over the last dim: a drop-in for
    `nn.LayerNorm(normalized_shape, eps)` (channels last, `[..., C]`).

    Args beyond LayerNorm's (defaults are the spec's):
        window: forward and backward window length (Mf = Mb), or
        window_bwd: a different backward window length;
        warmup_iters: steps before smoothing (W);
        outlier_filtration: adaptive outlier filtration;
        momentum: weight of the OLD value in every moving average;
        r_max, r_warmup: gradient-compensation clamp and warm-up;
        kernels: "auto" (default) runs un-mlir's compiled CPU kernels
            (torch custom ops `un_mlir::train_forward`, `train_backward`,
            `infer`; compiled once per channel count, dtype and
            hyper-parameters, cached on disk) where they apply, and the
            PyTorch implementation elsewhere (CUDA, float64, a weight
            of another dtype than the input); "compiled" insists on the
            kernels (an error says what prevents them); "eager" is the
            PyTorch implementation;
        process_group: a torch.distributed process group whose ranks'
            tokens the training statistics are taken over (one all-reduce
            in the forward and one in the backward; see
            `convert_sync_unified_norm`). None: this rank's tokens only.

    `forward(x, pad_mask=None)`: `pad_mask` has the shape of `x` without its
    last dim, True = padding; padded tokens are left out of the forward
    statistic only. In eval mode the module is the affine map
    `gamma * x / sqrt(running_var + eps) + beta`.
    """

    def __init__(self, normalized_shape: Union[int, Sequence[int]], eps: float = 1e-5,
                 elementwise_affine: bool = True, bias: bool = True, device=None, dtype=None,
                 *, window: int = 4, window_bwd: Optional[int] = None,
                 warmup_iters: int = 4000, outlier_filtration: bool = False,
                 momentum: float = 0.9, r_max: float = 5.0, r_warmup: int = 1000,
                 kernels: str = "auto", process_group=None) -> None:
        super().__init__()
        if isinstance(normalized_shape, (tuple, list, torch.Size)):
            if len(normalized_shape) != 1:
                raise ValueError("UnifiedNorm normalizes over the last dim only: "
                                 f"normalized_shape must have one entry, got {normalized_shape}")
            normalized_shape = normalized_shape[0]
        C = int(normalized_shape)
        window_bwd = window if window_bwd is None else window_bwd
        if window < 1 or window_bwd < 1:
            raise ValueError("window lengths must be >= 1")
        if not eps > 0:
            raise ValueError("eps must be > 0")
        if not 0 <= momentum < 1:
            raise ValueError("momentum must be in [0, 1)")
        if r_max < 1:
            raise ValueError("r_max must be >= 1")
        if kernels not in _KERNEL_CHOICES:
            raise ValueError(f"kernels must be one of {_KERNEL_CHOICES}, got {kernels!r}")
        self.kernels = kernels
        self.process_group = process_group
        self.normalized_shape = (C,)
        self.num_features = C
        self.eps = float(eps)
        self.momentum = float(momentum)
        self.window = int(window)
        self.window_bwd = int(window_bwd)
        self.warmup_iters = int(warmup_iters)
        self.outlier_filtration = bool(outlier_filtration)
        self.r_max = float(r_max)
        self.r_warmup = int(r_warmup)
        self.elementwise_affine = elementwise_affine
        factory = dict(device=device, dtype=dtype)
        if elementwise_affine:
            self.weight = nn.Parameter(torch.ones(C, **factory))
            self.bias = nn.Parameter(torch.zeros(C, **factory)) if bias else None
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        f32 = dict(device=device, dtype=torch.float32)
        self.register_buffer("running_var", torch.ones(C, **f32))
        self.register_buffer("ema_gz", torch.zeros(C, **f32))
        self.register_buffer("win_x2", torch.zeros(self.window, C, **f32))
        self.register_buffer("win_gz", torch.zeros(self.window_bwd, C, **f32))
        self.register_buffer("t", torch.zeros((), dtype=torch.int64, device=device))
        self.register_buffer("skips", torch.zeros((), dtype=torch.int64, device=device))
        self._last_skip = None

    def _forward_hparams(self):
        return dict(eps=self.eps, momentum=self.momentum, warmup_iters=self.warmup_iters,
                    outlier_filtration=self.outlier_filtration, r_max=self.r_max,
                    r_warmup=self.r_warmup)

    def _backward_hparams(self):
        return dict(eps=self.eps, momentum=self.momentum, warmup_iters=self.warmup_iters)

    def hparams(self):
        """Every hyper-parameter, with the names the un ops use."""
        return dict(self._forward_hparams(), window_fwd=self.window, window_bwd=self.window_bwd)

    def reset_running_stats(self):
        with torch.no_grad():
            self.running_var.fill_(1)
            self.ema_gz.zero_()
            self.win_x2.zero_()
            self.win_gz.zero_()
            self.t.zero_()
            self.skips.zero_()

    @property
    def last_skip(self):
        """Whether the last training step was skipped (window 1 or a filtered
        outlier batch), or None before the first step."""
        return None if self._last_skip is None else bool(self._last_skip)

    def _apply(self, fn, *args, **kwargs):
        # Keep the statistics in f32 when the module moves to f16/bf16.
        saved = {n: getattr(self, n) for n in _STAT_BUFFERS}
        super()._apply(fn, *args, **kwargs)
        for name, old in saved.items():
            new = getattr(self, name)
            if new.dtype in (torch.float16, torch.bfloat16):
                setattr(self, name, old.to(device=new.device))
        return self

    def forward(self, x: torch.Tensor,
                pad_mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        C = self.num_features
        if x.shape[-1] != C:
            raise ValueError(f"UnifiedNorm({C}) got an input with last dim {x.shape[-1]}")
        if pad_mask is not None:
            if tuple(pad_mask.shape) != tuple(x.shape[:-1]):
                raise ValueError(f"pad_mask must have shape {tuple(x.shape[:-1])} "
                                 f"(x without its last dim), got {tuple(pad_mask.shape)}")
            pad_mask = pad_mask.to(torch.bool)
        if self.training:
            if self._compiled_kernels(x, pad_mask):
                y, skip = _kernels.TrainStep.apply(x, self.weight, self.bias, pad_mask, self,
                                                   self._sync_group())
                self._last_skip = skip
                return y
            return _UnifiedNormFunction.apply(x, self.weight, self.bias, self, pad_mask)
        return self.infer(x)

    def _sync_group(self):
        """The process group the statistics are synchronized over, or None
        (no group, torch.distributed not initialized, or one rank)."""
        group = self.process_group
        if group is None or not dist.is_available() or not dist.is_initialized():
            return None
        return group if dist.get_world_size(group) > 1 else None

    def _compiled_kernels(self, x, pad_mask=None):
        """Whether this call runs un-mlir's compiled kernels (`kernels`):
        "compiled" always (an error names what prevents it), "eager" never,
        "auto" where they can (a CPU input of float32, bfloat16 or float16
        with parameters of its dtype, un-mlir's tools at hand and the
        kernels built; a build that fails warns once)."""
        if self.kernels == "eager":
            return False
        reason = _kernels.unsupported_reason(x, self.weight, self.bias)
        synchronized = self.training and self._sync_group() is not None
        if reason is None and synchronized and torch.compiler.is_compiling():
            reason = ("under torch.compile, statistics synchronized across ranks run on the "
                      "PyTorch implementation")
        if reason is None:
            reason = _kernels.build_failure(self, x, pad_mask is not None, synchronized)
            if reason is not None and self.kernels == "auto":
                warnings.warn(f"UnifiedNorm: {reason}; running the PyTorch implementation",
                              RuntimeWarning, stacklevel=3)
        if reason is not None and self.kernels == "compiled":
            raise RuntimeError(f"UnifiedNorm(kernels='compiled'): {reason}")
        return reason is None

    def infer(self, x: torch.Tensor) -> torch.Tensor:
        """The inference map, differentiable by autograd. Traced by
        torch.compile or torch.export it is PyTorch ops, which the
        compiler fuses with their neighbours (and un_mlir.compile folds)."""
        if not torch.compiler.is_compiling() and self._compiled_kernels(x):
            C = self.num_features
            gamma = self.weight if self.weight is not None else x.new_ones(C)
            beta = self.bias if self.bias is not None else x.new_zeros(C)
            return torch.ops.un_mlir.unified_norm_infer(x, gamma, beta, self.running_var,
                                                        self.eps)
        return infer(x, self.weight, self.bias, self.running_var, self.eps)

    def extra_repr(self):
        s = (f"{self.num_features}, eps={self.eps}, window={self.window}, "
             f"warmup_iters={self.warmup_iters}, outlier_filtration={self.outlier_filtration}, "
             f"momentum={self.momentum}, r_max={self.r_max}, r_warmup={self.r_warmup}")
        if self.window_bwd != self.window:
            s += f", window_bwd={self.window_bwd}"
        if not self.elementwise_affine:
            s += ", elementwise_affine=False"
        if self.kernels != "auto":
            s += f", kernels={self.kernels!r}"
        if self.process_group is not None:
            s += ", synchronized statistics"
        return s


@dataclasses.dataclass
class ConversionReport:
    """What `convert_layernorm` did: `swapped` lists (qualified name,
    description), `skipped` lists (qualified name, reason); `model` is the
    converted model (a new module only when the model itself was a
    normalization). `rmsnorm_swapped` names the entries of `swapped` that
    were RMSNorms."""

    model: nn.Module
    swapped: List[Tuple[str, str]] = dataclasses.field(default_factory=list)
    skipped: List[Tuple[str, str]] = dataclasses.field(default_factory=list)
    rmsnorm_swapped: List[str] = dataclasses.field(default_factory=list)

    def __len__(self):
        return len(self.swapped)

    def __str__(self):
        n_rms = len(self.rmsnorm_swapped)
        n_ln = len(self.swapped) - n_rms
        counts = ", ".join([f"{n_ln} LayerNorm"] * bool(n_ln or not n_rms)
                           + [f"{n_rms} RMSNorm"] * bool(n_rms))
        lines = [f"convert_layernorm: {counts} swapped for UnifiedNorm"
                 + (f", {len(self.skipped)} skipped" if self.skipped else "")]
        lines += [f"  {name or '<model>'}: {what}" for name, what in self.swapped]
        lines += [f"  skipped {name or '<model>'}: {why}" for name, why in self.skipped]
        return "\n".join(lines)


def _to_unified(ln, un_args):
    weight = ln.weight
    un = UnifiedNorm(ln.normalized_shape, eps=ln.eps, elementwise_affine=ln.elementwise_affine,
                     bias=ln.bias is not None,
                     device=weight.device if weight is not None else None,
                     dtype=weight.dtype if weight is not None else None, **un_args)
    with torch.no_grad():
        if ln.weight is not None:
            un.weight.copy_(ln.weight)
        if ln.bias is not None:
            un.bias.copy_(ln.bias)
    un.train(ln.training)
    return un


def _disable_fast_path(module):
    """nn.TransformerEncoderLayer's eval fast path computes LayerNorm from
    norm1/norm2's weights itself; it is not taken when a forward pre-hook
    is attached."""
    if isinstance(module, (nn.TransformerEncoderLayer, nn.TransformerDecoderLayer)):
        if not getattr(module, "_un_fast_path_disabled", False):
            module.register_forward_pre_hook(lambda mod, args: None)
            module._un_fast_path_disabled = True


def _rms_eps(module):
    """The eps of an RMSNorm-like module (`variance_epsilon` in transformers'
    Llama/T5 norms, `eps` elsewhere; nn.RMSNorm's eps=None means the
    dtype's machine epsilon), or None."""
    for attr in ("variance_epsilon", "eps"):
        eps = getattr(module, attr, None)
        if isinstance(eps, (int, float)) and not isinstance(eps, bool):
            return float(eps)
    if isinstance(module, nn.RMSNorm) and module.eps is None:
        weight = module.weight
        return torch.finfo(weight.dtype if weight is not None else torch.float32).eps
    return None


def _rmsnorm_candidate(module):
    """(channels, weight, eps) if `module` is shaped like an RMSNorm over the
    last dim: a leaf with a 1-D `weight` (nn.RMSNorm: or none), an eps and
    no bias; else None. Whether it computes an RMSNorm is probed apart."""
    if isinstance(module, (nn.LayerNorm, UnifiedNorm)) or next(module.children(), None) is not None:
        return None
    eps = _rms_eps(module)
    weight = getattr(module, "weight", None)
    if eps is None or getattr(module, "bias", None) is not None:
        return None
    if isinstance(module, nn.RMSNorm):
        shape = tuple(module.normalized_shape)
        return (shape[0] if len(shape) == 1 else shape), weight, eps
    if isinstance(weight, nn.Parameter) and weight.dim() == 1:
        return weight.shape[0], weight, eps
    return None


def _probe_rmsnorm(module, channels, weight, eps):
    """Runs `module` (in eval mode) on a probe input. If it computes
    `x / sqrt(mean(x^2) + eps) * gamma`, returns (form, gamma) with form
    "weight" (Llama, T5, nn.RMSNorm), "1 + weight" (Gemma-style) or "1" (no
    weight, gamma None); else a string saying why it is no RMSNorm."""
    dtype = weight.dtype if weight is not None else torch.float32
    device = weight.device if weight is not None else None
    if not dtype.is_floating_point:
        return f"weight of type {dtype}"
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, channels, generator=gen).to(device=device, dtype=dtype)
    training = module.training
    try:
        with torch.no_grad():
            y = module.eval()(x)  # eval: a stateful module keeps its state
    except Exception as e:  # noqa: BLE001 (a module that needs other inputs)
        return f"could not be probed with one [N, {channels}] input ({type(e).__name__}: {e})"
    finally:
        module.train(training)
    if not isinstance(y, torch.Tensor) or y.shape != x.shape:
        return "its output on a probe input is not a tensor of the input's shape"
    xf = x.float()
    normed = xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)
    w = weight.detach().float() if weight is not None else None
    tol = dict(rtol=1e-4, atol=1e-5) if dtype in (torch.float32, torch.float64) \
        else dict(rtol=2e-2, atol=2e-2)
    forms = {"weight": w, "1 + weight": 1 + w} if w is not None else {"1": None}
    matches = [name for name, g in forms.items()
               if torch.allclose(y.float(), normed if g is None else normed * g, **tol)]
    if len(matches) != 1:
        return ("does not compute x / sqrt(mean(x^2) + eps) * gamma with gamma = weight or "
                "1 + weight on a probe input" if not matches
                else "weight and 1 + weight fit a probe input alike")
    form = matches[0]
    return form, (None if w is None else forms[form])


def _rms_to_unified(module, channels, weight, gamma, un_args):
    """A UnifiedNorm with gamma (the RMSNorm's scale), no beta, the same eps."""
    eps = _rms_eps(module)
    un = UnifiedNorm(channels, eps=eps, elementwise_affine=weight is not None, bias=False,
                     device=weight.device if weight is not None else None,
                     dtype=weight.dtype if weight is not None else None, **un_args)
    if weight is not None:
        with torch.no_grad():
            un.weight.copy_(gamma.to(weight.dtype))
    un.train(module.training)
    return un


def _convert_one(module, name, rmsnorm, un_args, report):
    """The replacement of `module` (a LayerNorm or an RMSNorm), or None;
    appends to `report`."""
    if isinstance(module, nn.LayerNorm):
        if len(module.normalized_shape) != 1:
            report.skipped.append((name, f"normalizes over {tuple(module.normalized_shape)}, "
                                         "UnifiedNorm only over the last dim"))
            return None
        un = _to_unified(module, un_args)
        report.swapped.append((name, f"{module} -> {un}"))
        return un
    candidate = _rmsnorm_candidate(module)
    if candidate is None:
        return None
    channels, weight, eps = candidate
    looks_rms = "rmsnorm" in type(module).__name__.lower() or isinstance(module, nn.RMSNorm)
    if isinstance(channels, tuple):
        report.skipped.append((name, f"RMSNorm over {channels}, UnifiedNorm only over the last dim"))
        return None
    probe = _probe_rmsnorm(module, channels, weight, eps)
    if isinstance(probe, str):
        if looks_rms:  # named like an RMSNorm: say why it was left
            report.skipped.append((name, f"{type(module).__name__}: {probe}"))
        return None
    form, gamma = probe
    if not eps > 0:
        report.skipped.append((name, f"RMSNorm with eps={eps}; UnifiedNorm needs eps > 0"))
        return None
    if not rmsnorm:
        report.skipped.append((name, f"RMSNorm ({type(module).__name__}); pass rmsnorm=True to "
                                     "convert it (gamma = its scale, no beta)"))
        return None
    un = _rms_to_unified(module, channels, weight, gamma, un_args)
    report.swapped.append((name, f"{type(module).__name__}({channels}, eps={eps}) -> {un} "
                                 f"(RMSNorm: gamma = {form}, no beta)"))
    report.rmsnorm_swapped.append(name)
    return un


def convert_layernorm(model: nn.Module, *, rmsnorm: bool = False,
                      **un_args) -> "ConversionReport":
    """Replaces every `nn.LayerNorm` over the last dim in `model` (in place)
    by a `UnifiedNorm` with the same eps, weight and bias, and the
    hyper-parameters `un_args` (window, warmup_iters, outlier_filtration,
    momentum, r_max, r_warmup, window_bwd). Returns a ConversionReport;
    LayerNorms over several dims are left alone and listed as skipped.

    RMSNorms are recognized by structure and behaviour, not by class name: a
    leaf module with a 1-D `weight`, an `eps` or `variance_epsilon` and no
    bias (or an `nn.RMSNorm`) whose output on a probe input is
    `x / sqrt(mean(x^2) + eps) * gamma`, with gamma = `weight` (transformers'
    LlamaRMSNorm, T5LayerNorm, ..., `nn.RMSNorm`) or `1 + weight`
    (Gemma-style). With `rmsnorm=True` each becomes a UnifiedNorm with that
    gamma, no beta (bias=False) and the same eps; without, they are listed
    as skipped. Modules named like an RMSNorm that fail the probe (a gated
    norm, another formula) are listed as skipped with the reason."""
    report = ConversionReport(model=model)
    top = _convert_one(model, "", rmsnorm, un_args, report)
    if top is not None:
        report.model = top
        return report
    if report.skipped:  # the model itself is a norm that was left
        return report
    for parent_name, parent in list(model.named_modules()):
        for child_name, child in list(parent.named_children()):
            name = f"{parent_name}.{child_name}" if parent_name else child_name
            un = _convert_one(child, name, rmsnorm, un_args, report)
            if un is None:
                continue
            setattr(parent, child_name, un)
            if isinstance(child, nn.LayerNorm):
                _disable_fast_path(parent)
    return report


def convert_sync_unified_norm(model: nn.Module, process_group=None) -> nn.Module:
    """Makes every UnifiedNorm of `model` (in place; the model itself if it
    is one) take its training statistics over the tokens of all ranks of
    `process_group` (default: every rank, `torch.distributed`'s default
    group, which must be initialized), as `nn.SyncBatchNorm` does for
    BatchNorm. UN needs one all-reduce per direction: the forward's sum of
    squares over unpadded tokens with their count, the backward's sum of
    g * z with the token count; every later step is a function of state
    all ranks hold alike. Ranks may hold different numbers of tokens and
    padding. Returns `model`."""
    if process_group is None:
        if not (dist.is_available() and dist.is_initialized()):
            raise RuntimeError("convert_sync_unified_norm: torch.distributed is not "
                               "initialized; call init_process_group first or pass a group")
        process_group = dist.group.WORLD
    for module in model.modules():
        if isinstance(module, UnifiedNorm):
            module.process_group = process_group
    return model
