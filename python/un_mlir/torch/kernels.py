"""un-mlir's compiled CPU kernels for `UnifiedNorm`, as PyTorch custom ops.

Two ops in the `un_mlir` namespace (torch.library), each with a fake
implementation, so they run in eager mode, under autograd (`TrainStep`)
and inside torch.compile graphs without a graph break:

- `un_mlir::train_forward(x, weight, bias, running_var, win_x2, t, skips,
  mask, ...)`: one training forward step. It increments `t` and updates
  `running_var`, `win_x2` and `skips` in place (declared as mutated), and
  returns `(y, var, r, skip, step)`;
- `un_mlir::train_backward(gy, x, var, r, skip, step, weight, ema_gz,
  win_gz, ...)`: the spec's backward of step `step`; it updates `ema_gz` and
  `win_gz` in place and returns `(gx, ggamma, gbeta)`;
and `infer`, the kernel behind `un_mlir::unified_norm_infer` (the inference
map; `un_mlir.torch_ops`).

The kernels are the `un` dialect's ops compiled by un-mlir
(`un_mlir.train_step` writes the MLIR: activations `[?, C]`, so one kernel
serves every batch size and token count) for the host CPU, once per
(channels, dtype, mask or none, hyper-parameters), and cached on disk in
`$UN_MLIR_CACHE_DIR` (default `~/.cache/un_mlir/kernels`, under
`$XDG_CACHE_HOME` when set). A cache entry is named by a hash of the MLIR,
the un-mlir tools that compile it and the host CPU, so a rebuilt un-mlir or
another CPU never loads a stale kernel.

Internal module of `un_mlir.torch`; users choose the kernels with
`UnifiedNorm(kernels=...)`.
"""
import array
import ctypes
import functools
import hashlib
import os
import pathlib
import platform
import tempfile
import threading
from typing import Optional, Tuple

import torch
import torch.distributed as dist
from torch import Tensor

from .. import aot, harness, memref, train_step
from ..tools import un_tool

_DTYPES = {torch.float32: "f32", torch.bfloat16: "bf16", torch.float16: "f16"}


def unsupported_reason(x: Tensor, weight: Optional[Tensor],
                       bias: Optional[Tensor]) -> Optional[str]:
    """Why the compiled kernels cannot run on `x` (with `weight` and `bias`),
    or None."""
    if x.device.type != "cpu":
        return f"the input is on {x.device}; the compiled kernels run on the CPU"
    if x.dtype not in _DTYPES:
        return f"the input is {x.dtype}; the compiled kernels take float32, bfloat16 or float16"
    for name, p in (("weight", weight), ("bias", bias)):
        if p is not None and p.dtype != x.dtype:
            return (f"the {name} is {p.dtype} and the input {x.dtype}; the compiled kernels "
                    "need them alike")
    if x.dim() == 0:
        return "the input is a scalar"
    return toolchain_missing()


_TOOLCHAIN = {}


def toolchain_missing() -> Optional[str]:
    """Why kernels cannot be compiled here (un-opt or LLVM missing), or None."""
    if "missing" not in _TOOLCHAIN:
        try:
            un_tool("un-opt")
            un_tool("un-translate")
            aot.llvm_tool("opt")
            aot.llvm_tool("llc")
            _TOOLCHAIN["missing"] = None
        except FileNotFoundError as e:
            _TOOLCHAIN["missing"] = str(e)
    return _TOOLCHAIN["missing"]


def cache_dir() -> pathlib.Path:
    """Where compiled kernels are kept."""
    if os.environ.get("UN_MLIR_CACHE_DIR"):
        return pathlib.Path(os.environ["UN_MLIR_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or pathlib.Path.home() / ".cache"
    return pathlib.Path(base) / "un_mlir" / "kernels"


def _toolchain_identity():
    """What a compiled kernel depends on besides its MLIR: the tools that
    built it (path, size, modification time) and the host CPU's features."""
    if "identity" not in _TOOLCHAIN:
        parts = [platform.machine()]
        for tool in ("un-opt", "un-translate"):
            path = un_tool(tool)
            st = os.stat(path)
            parts.append(f"{path}:{st.st_size}:{st.st_mtime_ns}")
        try:
            with open("/proc/cpuinfo") as f:
                parts += sorted({line for line in f if line.startswith(("flags", "Features",
                                                                        "model name"))})
        except OSError:
            parts.append(platform.processor())
        _TOOLCHAIN["identity"] = "\n".join(parts)
    return _TOOLCHAIN["identity"]


_LIBRARIES = {}
_LOCK = threading.Lock()


def _library(text: str):
    """The loaded shared library of MLIR `text`, compiled once (on disk)."""
    key = hashlib.sha256((text + "\n" + _toolchain_identity()).encode()).hexdigest()[:32]
    with _LOCK:
        lib = _LIBRARIES.get(key)
        if lib is not None:
            return lib
        directory = cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"un_{key}.so"
        if not path.exists():
            # Compiled under a temporary name and renamed: processes that
            # compile the same kernel at once never load a partial file.
            fd, tmp = tempfile.mkstemp(suffix=".so", dir=directory)
            os.close(fd)
            try:
                aot.compile_shared_library(text, tmp)
                os.replace(tmp, path)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
        lib = _LIBRARIES[key] = memref.load(path)
        return lib


class _Kernel:
    """`_mlir_ciface_<name>` of a library compiled from MLIR `text`, called
    with CPU tensors for its memref arguments, of the ranks its signature
    in `text` gives (outputs are written in place). A tensor of
    another rank must be contiguous: it is passed as the rows of its last
    dim ([numel / n, n] for rank 2, flat for rank 1), with no view made.
    The descriptors ({allocated, aligned, offset, sizes, strides}: all
    64-bit) are laid out in one int64 array per call."""

    def __init__(self, library, name, text):
        _, types, _ = harness.signature(text, name)
        self._ranks = [t.removeprefix("memref<").count("x") for t in types]
        self._fn = getattr(library, f"_mlir_ciface_{name}")
        self._fn.restype = None
        self._fn.argtypes = [ctypes.c_void_p] * len(self._ranks)

    def __call__(self, *tensors):
        flat, offsets = [], []
        for t, rank in zip(tensors, self._ranks, strict=True):
            offsets.append(len(flat))
            ptr = t.data_ptr()
            if t.dim() == rank:
                flat += (ptr, ptr, 0, *t.shape, *t.stride())
            elif rank == 2:
                n = t.shape[-1]
                flat += (ptr, ptr, 0, t.numel() // n if n else 0, n, n, 1)
            else:
                flat += (ptr, ptr, 0, t.numel(), 1)
        descriptors = array.array("q", flat)
        base = descriptors.buffer_info()[0]
        self._fn(*[base + 8 * o for o in offsets])


_KERNELS = {}
_FAILED = {}


def _cached(key, build):
    """The kernels of `key`, built once; a build that failed raises the same
    error again without trying again."""
    kernels = _KERNELS.get(key)
    if kernels is None:
        if key in _FAILED:
            raise _FAILED[key]
        try:
            kernels = _KERNELS[key] = build()
        except (aot.CompileError, OSError) as e:
            _FAILED[key] = e
            raise
    return kernels


def build_failure(module, x, masked, synchronized):
    """Builds (or loads from the cache) the kernels `module` runs on `x`;
    why that failed (a tool error, an unwritable cache), or None."""
    m = module
    try:
        if not m.training:
            _infer_kernel(x.shape[-1], x.dtype, m.eps)
        else:
            kernels = _sync_kernels if synchronized else _train_kernels
            kernels(x.shape[-1], x.dtype, masked, m.window, m.window_bwd, m.eps, m.momentum,
                    m.warmup_iters, m.outlier_filtration, m.r_max, m.r_warmup)
    except (aot.CompileError, OSError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else ""
        return f"its kernels could not be built ({type(e).__name__}: {first})"
    return None


def _train_kernels(channels, dtype, mask, window_fwd, window_bwd, eps, momentum, warmup_iters,
                   outlier_filtration, r_max, r_warmup):
    """(forward, backward) kernels for `channels` and these hyper-parameters."""
    def build():
        text = train_step.train_step_mlir(
            [None, channels], window_fwd, window_bwd, _DTYPES[dtype], mask=mask,
            save_input=True, eps=eps, momentum=momentum, warmup_iters=warmup_iters,
            outlier_filtration=outlier_filtration, r_max=r_max, r_warmup=r_warmup)
        lib = _library(text)
        return _Kernel(lib, "un_forward", text), _Kernel(lib, "un_backward", text)
    return _cached(("train", channels, dtype, mask, window_fwd, window_bwd, eps, momentum,
                    warmup_iters, outlier_filtration, r_max, r_warmup), build)


def _sync_kernels(channels, dtype, mask, window_fwd, window_bwd, eps, momentum, warmup_iters,
                  outlier_filtration, r_max, r_warmup):
    """{name: kernel} of the step split at its token reductions
    (`train_step.sync_train_step_mlir`), for statistics over several ranks."""
    def build():
        text = train_step.sync_train_step_mlir(
            channels, window_fwd, window_bwd, _DTYPES[dtype], mask=mask, eps=eps,
            momentum=momentum, warmup_iters=warmup_iters, outlier_filtration=outlier_filtration,
            r_max=r_max, r_warmup=r_warmup)
        lib = _library(text)
        return {name: _Kernel(lib, name, text)
                for name in ("un_forward_stats", "un_forward_apply", "un_backward_stats",
                             "un_backward_apply")}
    return _cached(("sync", channels, dtype, mask, window_fwd, window_bwd, eps, momentum,
                    warmup_iters, outlier_filtration, r_max, r_warmup), build)


def _infer_kernel(channels, dtype, eps):
    def build():
        text = train_step.infer_mlir([None, channels], _DTYPES[dtype], eps=eps)
        return _Kernel(_library(text), "un_infer", text)
    return _cached(("infer", channels, dtype, eps), build)


_CONSTANTS = {}


def _constant(value, channels, dtype):
    """A [channels] tensor of `value`, made once (the kernels only read it)."""
    key = (value, channels, dtype)
    if key not in _CONSTANTS:
        _CONSTANTS[key] = torch.full((channels,), value, dtype=dtype)
    return _CONSTANTS[key]


def _gamma(weight, channels, dtype):
    """The weight as a contiguous tensor, or ones when there is none."""
    return weight.detach().contiguous() if weight is not None else _constant(1.0, channels, dtype)


def _beta(bias, channels, dtype):
    """The bias as a contiguous tensor, or zeros when there is none."""
    return bias.detach().contiguous() if bias is not None else _constant(0.0, channels, dtype)


_STATE_DTYPES = {0: torch.int64, 1: torch.float32, 2: torch.float32}


def _check_state(x, statistic, window, *counters):
    """The state the kernels update in place, for activations `x`: a [C]
    statistic and an [M, C] window (f32), 0-d counters (i64), contiguous."""
    channels = x.shape[-1]
    if statistic.shape != (channels,):
        raise ValueError(f"a statistic has shape {tuple(statistic.shape)}, expected ({channels},)")
    if window.dim() != 2 or window.shape[1] != channels:
        raise ValueError(f"a window has shape {tuple(window.shape)}, expected (M, {channels})")
    for tensor in (statistic, window, *counters):
        if not tensor.is_contiguous() or tensor.dtype != _STATE_DTYPES.get(tensor.dim()):
            raise ValueError(f"UnifiedNorm state of shape {tuple(tensor.shape)} must be a "
                             f"contiguous {_STATE_DTYPES.get(tensor.dim())} tensor, got "
                             f"{tensor.dtype}")


def _forward_outputs(x):
    """Buffers for a training forward's results on `x`: y, var, r, skip, step."""
    stat = functools.partial(x.new_empty, x.shape[-1], dtype=torch.float32)
    return (torch.empty_like(x), stat(), stat(), x.new_empty((), dtype=torch.bool),
            x.new_empty((), dtype=torch.int64))


def _backward_outputs(gy, gamma):
    """Buffers for a training backward's results: gx, ggamma, gbeta."""
    return torch.empty_like(gy), torch.empty_like(gamma), torch.empty_like(gamma)


def _train_forward(x: Tensor, weight: Optional[Tensor], bias: Optional[Tensor],
                  running_var: Tensor, win_x2: Tensor, t: Tensor, skips: Tensor,
                  mask: Optional[Tensor], window_bwd: int, eps: float, momentum: float,
                  warmup_iters: int, outlier_filtration: bool, r_max: float,
                  r_warmup: int) -> Tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    channels = x.shape[-1]
    _check_state(x, running_var, win_x2, t, skips)
    forward, _ = _train_kernels(channels, x.dtype, mask is not None, win_x2.shape[0], window_bwd,
                                eps, momentum, warmup_iters, outlier_filtration, r_max, r_warmup)
    x = x.detach().contiguous()
    y, var, r, skip, step = _forward_outputs(x)
    args = [x, _gamma(weight, channels, x.dtype), _beta(bias, channels, x.dtype),
            running_var, win_x2, t, skips, y, var, r, skip, step]
    if mask is not None:
        args.append(mask.to(torch.bool).contiguous())
    forward(*args)  # updates running_var, win_x2, t and skips in place
    return y, var, r, skip, step


train_forward = torch.library.custom_op(
    "un_mlir::train_forward", _train_forward,
    mutates_args=("running_var", "win_x2", "t", "skips"))


@train_forward.register_fake
def _(x, weight, bias, running_var, win_x2, t, skips, mask, window_bwd, eps, momentum,
      warmup_iters, outlier_filtration, r_max, r_warmup):
    return _forward_outputs(x)


def _train_backward(gy: Tensor, x: Tensor, var: Tensor, r: Tensor, skip: Tensor, step: Tensor,
                   weight: Optional[Tensor], ema_gz: Tensor, win_gz: Tensor, window_fwd: int,
                   eps: float, momentum: float, warmup_iters: int, outlier_filtration: bool,
                   r_max: float, r_warmup: int,
                   forward_masked: bool) -> Tuple[Tensor, Tensor, Tensor]:
    channels = gy.shape[-1]
    _check_state(gy, ema_gz, win_gz)
    # The backward takes no mask; it comes from the forward's library.
    _, backward = _train_kernels(channels, x.dtype, forward_masked, window_fwd, win_gz.shape[0],
                                 eps, momentum, warmup_iters, outlier_filtration, r_max, r_warmup)
    gy = gy.detach().to(x.dtype).contiguous()
    gamma = _gamma(weight, channels, x.dtype)
    gx, ggamma, gbeta = _backward_outputs(gy, gamma)
    backward(gy, x.detach().contiguous(), var.contiguous(), r.contiguous(), skip, step, gamma,
             ema_gz, win_gz, gx, ggamma, gbeta)
    return gx, ggamma, gbeta


train_backward = torch.library.custom_op("un_mlir::train_backward", _train_backward,
                                         mutates_args=("ema_gz", "win_gz"))


@train_backward.register_fake
def _(gy, x, var, r, skip, step, weight, ema_gz, win_gz, window_fwd, eps, momentum,
      warmup_iters, outlier_filtration, r_max, r_warmup, forward_masked):
    return _backward_outputs(x.new_empty(gy.shape), x.new_empty(gy.shape[-1]))


def infer(x: Tensor, gamma: Tensor, beta: Tensor, running_var: Tensor, eps: float) -> Tensor:
    """The inference map on the compiled kernel (`unsupported_reason(x,
    gamma, beta)` must be None)."""
    channels = x.shape[-1]
    if running_var.shape != (channels,):
        raise ValueError(f"running_var has shape {tuple(running_var.shape)}, "
                         f"expected ({channels},)")
    x = x.detach().contiguous()
    y = torch.empty_like(x)
    _infer_kernel(channels, x.dtype, eps)(
        x, gamma.detach().contiguous(), beta.detach().contiguous(),
        running_var.detach().to(torch.float32).contiguous(), y)  # statistics are f32
    return y


def _op(op, implementation):
    """The custom op inside torch.compile graphs; in eager mode its
    implementation, called directly (the dispatcher's Python layers cost
    more than a small kernel)."""
    return op if torch.compiler.is_compiling() else implementation


def _all_tokens_mean(mean, count, group):
    """The mean over the tokens of every rank of `group`, from this rank's
    `mean` over its `count` tokens: one all-reduce of [mean * count, count]
    (a rank without tokens adds nothing, not its NaN mean)."""
    both = torch.cat([torch.where(count > 0, mean * count, 0.0), count.reshape(1)])
    dist.all_reduce(both, group=group)
    return both[:-1] / both[-1]


def _sync_forward(x, weight, bias, mask, m, group):
    """`_train_forward` with the quadratic mean over the tokens of `group`."""
    channels = x.shape[-1]
    _check_state(x, m.running_var, m.win_x2, m.t, m.skips)
    k = _sync_kernels(channels, x.dtype, mask is not None, m.window, m.window_bwd, m.eps,
                      m.momentum, m.warmup_iters, m.outlier_filtration, m.r_max, m.r_warmup)
    x = x.detach().contiguous()
    psi = x.new_empty(channels, dtype=torch.float32)
    if mask is None:
        k["un_forward_stats"](x, psi)
        count = torch.tensor(float(x.numel() // channels))
    else:
        mask = mask.to(torch.bool).contiguous()
        k["un_forward_stats"](x, psi, mask)
        count = (~mask).sum().to(torch.float32)
    psi = _all_tokens_mean(psi, count, group)
    y, var, r, skip, step = _forward_outputs(x)
    k["un_forward_apply"](x, psi, _gamma(weight, channels, x.dtype),
                          _beta(bias, channels, x.dtype), m.running_var, m.win_x2, m.t, m.skips,
                          y, var, r, skip, step)
    return y, var, r, skip, step, k


def _sync_backward(gy, x, var, r, skip, step, weight, m, group, k):
    """`_train_backward` with the mean of g * z over the tokens of `group`."""
    channels = gy.shape[-1]
    _check_state(gy, m.ema_gz, m.win_gz)
    gy = gy.detach().to(x.dtype).contiguous()
    gamma = _gamma(weight, channels, x.dtype)
    gz = x.new_empty(channels, dtype=torch.float32)
    gx, ggamma, gbeta = _backward_outputs(gy, gamma)
    k["un_backward_stats"](gy, x, var, r, gamma, gz, ggamma, gbeta)
    gz = _all_tokens_mean(gz, torch.tensor(float(gy.numel() // channels)), group)
    k["un_backward_apply"](gy, x, var, r, skip, step, gamma, gz, m.ema_gz, m.win_gz, gx)
    return gx, ggamma, gbeta


class TrainStep(torch.autograd.Function):
    """A training step of `module` (a UnifiedNorm) on the compiled kernels:
    `train_forward` forward, `train_backward` (the spec's backward, with
    its gradient smoothing) backward; with a process `group`, the step split
    at its token reductions, each followed by an all-reduce over the ranks.
    Returns (y, skip)."""

    @staticmethod
    def forward(ctx, x, weight, bias, mask, module, group):
        m = module
        ctx.group = group
        if group is None:
            y, var, r, skip, step = _op(torch.ops.un_mlir.train_forward, _train_forward)(
                x, weight, bias, m.running_var, m.win_x2, m.t, m.skips, mask, m.window_bwd,
                m.eps, m.momentum, m.warmup_iters, m.outlier_filtration, m.r_max, m.r_warmup)
        else:
            y, var, r, skip, step, ctx.sync_kernels = _sync_forward(x, weight, bias, mask, m,
                                                                    group)
        ctx.save_for_backward(x, var, r, skip, step, weight)
        ctx.module = module
        ctx.masked = mask is not None
        ctx.has_weight, ctx.has_bias = weight is not None, bias is not None
        ctx.mark_non_differentiable(skip)
        return y, skip

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, gy, _gskip):
        x, var, r, skip, step, weight = ctx.saved_tensors
        m = ctx.module
        if ctx.group is None:
            gx, ggamma, gbeta = _op(torch.ops.un_mlir.train_backward, _train_backward)(
                gy, x, var, r, skip, step, weight, m.ema_gz, m.win_gz, m.window, m.eps,
                m.momentum, m.warmup_iters, m.outlier_filtration, m.r_max, m.r_warmup,
                ctx.masked)
        else:
            gx, ggamma, gbeta = _sync_backward(gy, x, var, r, skip, step, weight, m, ctx.group,
                                               ctx.sync_kernels)
        return (gx, ggamma if ctx.has_weight else None, gbeta if ctx.has_bias else None, None,
                None, None)
