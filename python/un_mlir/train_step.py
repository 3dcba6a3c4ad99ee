"""MLIR for a UN training step in destination-passing style, and a host
wrapper that runs it from numpy through the compiled C interface.

`un_forward` and `un_backward` are two functions, as a framework calls them
(the rest of the network runs between them). Every tensor result is written
into a caller-provided buffer (`bufferization.materialize_in_destination`),
so a call allocates nothing of activation size, and the state is updated
in place.

Public API for training steps compiled without PyTorch (docs/api.md).
"""
import numpy as np

from . import aot, memref

_ELEMENT_TYPES = {"f32": "f32", "f16": "f16", "bf16": "bf16"}


def _dims(shape):
    return "".join(("?" if d is None else str(d)) + "x" for d in shape)


def _tensor(shape, elt):
    return f"tensor<{_dims(shape)}{elt}>"


def _memref(shape, elt):
    return f"memref<{_dims(shape)}{elt}>"


class _Types:
    """The MLIR types of a training step's operands: activations `shape`
    (X), masks (K), f32 statistics (V), channel vectors (G), the windows
    (WF, WB); the `...M` twins are the memrefs."""

    def __init__(self, shape, dtype, window_fwd, window_bwd):
        elt = _ELEMENT_TYPES[dtype]
        C = shape[-1]
        self.X, self.XM = _tensor(shape, elt), _memref(shape, elt)
        self.K, self.KM = _tensor(shape[:-1], "i1"), _memref(shape[:-1], "i1")
        self.V, self.VM = _tensor([C], "f32"), _memref([C], "f32")
        self.G, self.GM = _tensor([C], elt), _memref([C], elt)
        self.WF, self.WFM = _tensor([window_fwd, C], "f32"), _memref([window_fwd, C], "f32")
        self.WB, self.WBM = _tensor([window_bwd, C], "f32"), _memref([window_bwd, C], "f32")


_I64, _I1 = "memref<i64>", "memref<i1>"


def _forward_attrs(eps, momentum, warmup_iters, outlier_filtration, r_max, r_warmup,
                   all_ranks=False):
    of = "true" if outlier_filtration else "false"
    return (f"{{eps = {eps:e} : f32, momentum = {momentum:e} : f32, "
            f"warmup_iters = {warmup_iters} : i64, outlier_filtration = {of}, "
            f"r_max = {r_max:e} : f32, r_warmup = {r_warmup} : i64{_all_ranks(all_ranks)}}}")


def _all_ranks(all_ranks):
    """The `all_ranks` attribute entry (statistics over every process)."""
    return ", all_ranks" if all_ranks else ""


def _store(value, dest, t, m):
    """Writes the tensor `value` into the memref argument `dest`."""
    return (f"  bufferization.materialize_in_destination %{value} in restrict writable "
            f"%{dest} : ({t}, {m}) -> ()\n")


def _update(value, dest, t, m):
    """The state `dest` (also read as a tensor) := `value`, through a buffer
    of its own (all reads of the old state come first; the buffer
    deallocation pipeline frees it)."""
    return (f"  %{value}_b = memref.alloc() : {m}\n" + _store(value, f"{value}_b", t, m)
            + f"  memref.copy %{value}_b, %{dest} : {m} to {m}\n")


def train_step_mlir(shape, window_fwd=4, window_bwd=4, dtype="f32", *, mask=False,
                    save_input=False, eps=1e-5, momentum=0.9, warmup_iters=4000,
                    outlier_filtration=False, r_max=5.0, r_warmup=1000, all_ranks=False):
    """MLIR text with `un_forward` and `un_backward` for activations `shape`
    (None: a dynamic dim; the last one, C, is static):

        un_forward(x, gamma, beta, running_var, win_x2, t, skips,
                   y, z, var, r, skip, step [, mask])
        un_backward(gy, z, var, r, skip, step, gamma, ema_gz, win_gz,
                    gx, ggamma, gbeta)

    The state (running_var, win_x2, ema_gz, win_gz, and the 0-d i64 `t` and
    `skips`) is updated in place: `un_forward` increments `t` (the last
    step) and runs step `t + 1`, which it also writes to the 0-d `step`;
    `skip` is a 0-d i1. With `mask`, `un_forward` takes the padding mask
    (i1, `shape` without C) last. With `save_input`, `un_forward` has no
    `z` output and `un_backward` takes `x` instead of `z` and normalizes it
    again (`un.normalize`, the op the forward computes z with): the
    backward keeps the input alive, as LayerNorm's does, not a second
    activation-sized tensor. With `all_ranks`, `x` is this process's share
    of the batch and the statistics are taken over the tokens of every MPI
    process (the ops' `all_ranks`; link with MPICH, call MPI_Init first:
    `un_mlir.mpi`)."""
    ty = _Types(shape, dtype, window_fwd, window_bwd)
    X, XM, K, KM, V, VM, G, GM = ty.X, ty.XM, ty.K, ty.KM, ty.V, ty.VM, ty.G, ty.GM
    WF, WFM, WB, WBM = ty.WF, ty.WFM, ty.WB, ty.WBM
    I64, I1 = _I64, _I1
    fwd_attrs = _forward_attrs(eps, momentum, warmup_iters, outlier_filtration, r_max, r_warmup,
                               all_ranks)
    bwd_attrs = (f"{{eps = {eps:e} : f32, momentum = {momentum:e} : f32, "
                 f"warmup_iters = {warmup_iters} : i64{_all_ranks(all_ranks)}}}")
    store, update = _store, _update

    def signature(name, args):
        return (f"func.func @{name}(" + ", ".join(f"%{n}: {m}" for n, m in args)
                + ") attributes {llvm.emit_c_interface} {\n")

    def to_tensor(name, m, t):
        return f"  %{name} = bufferization.to_tensor %{name}_m restrict : {m} to {t}\n"

    fwd_args = [("x_m", XM), ("gamma_m", GM), ("beta_m", GM), ("rv_m", VM), ("win_m", WFM),
                ("t_m", I64), ("skips_m", I64), ("y_o", XM)]
    fwd_args += [] if save_input else [("z_o", XM)]
    fwd_args += [("var_o", VM), ("r_o", VM), ("skip_o", I1), ("step_o", I64)]
    fwd_args += [("mask_m", KM)] if mask else []
    fwd = signature("un_forward", fwd_args)
    for name, m, t in (("x", XM, X), ("gamma", GM, G), ("beta", GM, G), ("rv", VM, V),
                       ("win", WFM, WF)) + ((("mask", KM, K),) if mask else ()):
        fwd += to_tensor(name, m, t)
    fwd += ("  %c1_i64 = arith.constant 1 : i64\n"
            f"  %t0 = memref.load %t_m[] : {I64}\n"
            "  %t = arith.addi %t0, %c1_i64 : i64\n"
            f"  %skips = memref.load %skips_m[] : {I64}\n"
            f"  %y, %z, %var, %r, %skip, %rv1, %win1, %skips1 = \"un.train_forward\"(%x, %gamma, "
            f"%beta, %rv, %win, %t, %skips{', %mask' if mask else ''}) {fwd_attrs} : "
            f"({X}, {G}, {G}, {V}, {WF}, i64, i64{', ' + K if mask else ''}) "
            f"-> ({X}, {X}, {V}, {V}, i1, {V}, {WF}, i64)\n")
    outputs = [("y", "y_o", X, XM)] + ([] if save_input else [("z", "z_o", X, XM)])
    for value, dest, t, m in outputs + [("var", "var_o", V, VM), ("r", "r_o", V, VM)]:
        fwd += store(value, dest, t, m)
    fwd += update("rv1", "rv_m", V, VM) + update("win1", "win_m", WF, WFM)
    fwd += (f"  memref.store %skip, %skip_o[] : {I1}\n"
            f"  memref.store %t, %step_o[] : {I64}\n"
            f"  memref.store %t, %t_m[] : {I64}\n"
            f"  memref.store %skips1, %skips_m[] : {I64}\n  return\n}}\n")

    saved = "x" if save_input else "z"
    bwd = signature("un_backward", [
        ("gy_m", XM), (f"{saved}_m", XM), ("var_m", VM), ("r_m", VM), ("skip_m", I1),
        ("step_m", I64), ("gamma_m", GM), ("ema_m", VM), ("wgz_m", WBM), ("gx_o", XM),
        ("ggamma_o", GM), ("gbeta_o", GM)])
    for name, m, t in (("gy", XM, X), (saved, XM, X), ("var", VM, V), ("r", VM, V),
                       ("gamma", GM, G), ("ema", VM, V), ("wgz", WBM, WB)):
        bwd += to_tensor(name, m, t)
    if save_input:
        bwd += (f"  %z, %unused = \"un.normalize\"(%x, %var, %gamma, %gamma) {{eps = {eps:e} : f32}}"
                f" : ({X}, {V}, {G}, {G}) -> ({X}, {X})\n")
    bwd += (f"  %t = memref.load %step_m[] : {I64}\n"
            f"  %skip = memref.load %skip_m[] : {I1}\n"
            f"  %gx, %ggamma, %gbeta, %ema1, %wgz1 = \"un.train_backward\"(%gy, %z, %var, %r, "
            f"%skip, %gamma, %ema, %wgz, %t) {bwd_attrs} : ({X}, {X}, {V}, {V}, i1, {G}, {V}, "
            f"{WB}, i64) -> ({X}, {G}, {G}, {V}, {WB})\n")
    for value, dest, t, m in (("gx", "gx_o", X, XM), ("ggamma", "ggamma_o", G, GM),
                              ("gbeta", "gbeta_o", G, GM)):
        bwd += store(value, dest, t, m)
    bwd += update("ema1", "ema_m", V, VM) + update("wgz1", "wgz_m", WB, WBM)
    bwd += "  return\n}\n"
    return fwd + "\n" + bwd


def sync_train_step_mlir(channels, window_fwd=4, window_bwd=4, dtype="f32", *, mask=False,
                         eps=1e-5, momentum=0.9, warmup_iters=4000, outlier_filtration=False,
                         r_max=5.0, r_warmup=1000):
    """MLIR text of the training step split at its two token reductions, for
    statistics taken over the tokens of several processes (activations
    `[?, channels]`, the input saved for the backward, state in place):

        un_forward_stats(x, psi [, mask])          psi: this process's mean of x^2
        un_forward_apply(x, psi, gamma, beta, running_var, win_x2, t, skips,
                         y, var, r, skip, step)     psi: the mean over all of them
        un_backward_stats(gy, x, var, r, gamma, gz, ggamma, gbeta)
        un_backward_apply(gy, x, var, r, skip, step, gamma, gz, ema_gz, win_gz, gx)

    Between the halves the caller combines the processes' means
    (weighted by their token counts). The halves are the primitives
    `un.train_forward` / `un.train_backward` decompose into
    (`un.quadratic_mean`, `un.smooth_forward_stats`, `un.normalize`;
    `un.grad_stats`, `un.smooth_grad_stats`, `un.input_grad`)."""
    ty = _Types([None, channels], dtype, window_fwd, window_bwd)
    X, XM, K, KM, V, VM, G, GM = ty.X, ty.XM, ty.K, ty.KM, ty.V, ty.VM, ty.G, ty.GM
    WF, WFM, WB, WBM = ty.WF, ty.WFM, ty.WB, ty.WBM
    I64, I1 = _I64, _I1
    smooth_attrs = _forward_attrs(eps, momentum, warmup_iters, outlier_filtration, r_max,
                                  r_warmup)
    store, update = _store, _update
    grad_attrs = f"{{momentum = {momentum:e} : f32, warmup_iters = {warmup_iters} : i64}}"
    eps_attr = f"{{eps = {eps:e} : f32}}"

    def function(name, args, body):
        text = (f"func.func @{name}(" + ", ".join(f"%{n}: {m}" for n, m, _ in args)
                + ") attributes {llvm.emit_c_interface} {\n")
        for n, m, t in args:
            if t:  # an input read as a tensor
                text += f"  %{n[:-2]} = bufferization.to_tensor %{n} restrict : {m} to {t}\n"
        return text + body + "  return\n}\n"

    normalize_x = (f"  %z, %unused = \"un.normalize\"(%x, %var, %gamma, %gamma) {eps_attr} : "
                   f"({X}, {V}, {G}, {G}) -> ({X}, {X})\n")

    forward_stats = function(
        "un_forward_stats",
        [("x_m", XM, X), ("psi_o", VM, None)] + ([("mask_m", KM, K)] if mask else []),
        f"  %psi = \"un.quadratic_mean\"(%x{', %mask' if mask else ''}) : "
        f"({X}{', ' + K if mask else ''}) -> {V}\n" + store("psi", "psi_o", V, VM))
    forward_apply = function(
        "un_forward_apply",
        [("x_m", XM, X), ("psi_m", VM, V), ("gamma_m", GM, G), ("beta_m", GM, G),
         ("rv_m", VM, V), ("win_m", WFM, WF), ("t_m", I64, None), ("skips_m", I64, None),
         ("y_o", XM, None), ("var_o", VM, None), ("r_o", VM, None), ("skip_o", I1, None),
         ("step_o", I64, None)],
        "  %c1_i64 = arith.constant 1 : i64\n"
        f"  %t0 = memref.load %t_m[] : {I64}\n"
        "  %t = arith.addi %t0, %c1_i64 : i64\n"
        f"  %skips = memref.load %skips_m[] : {I64}\n"
        f"  %var, %r, %skip, %rv1, %win1, %skips1 = \"un.smooth_forward_stats\"(%psi, %rv, %win, "
        f"%t, %skips) {smooth_attrs} : ({V}, {V}, {WF}, i64, i64) -> ({V}, {V}, i1, {V}, {WF}, "
        "i64)\n"
        f"  %z, %y = \"un.normalize\"(%x, %var, %gamma, %beta) {eps_attr} : "
        f"({X}, {V}, {G}, {G}) -> ({X}, {X})\n"
        + store("y", "y_o", X, XM) + store("var", "var_o", V, VM) + store("r", "r_o", V, VM)
        + update("rv1", "rv_m", V, VM) + update("win1", "win_m", WF, WFM)
        + f"  memref.store %skip, %skip_o[] : {I1}\n"
        f"  memref.store %t, %step_o[] : {I64}\n"
        f"  memref.store %t, %t_m[] : {I64}\n"
        f"  memref.store %skips1, %skips_m[] : {I64}\n")
    backward_stats = function(
        "un_backward_stats",
        [("gy_m", XM, X), ("x_m", XM, X), ("var_m", VM, V), ("r_m", VM, V), ("gamma_m", GM, G),
         ("gz_o", VM, None), ("ggamma_o", GM, None), ("gbeta_o", GM, None)],
        normalize_x
        + f"  %gz, %ggamma, %gbeta = \"un.grad_stats\"(%gy, %z, %r, %gamma) : "
        f"({X}, {X}, {V}, {G}) -> ({V}, {G}, {G})\n"
        + store("gz", "gz_o", V, VM) + store("ggamma", "ggamma_o", G, GM)
        + store("gbeta", "gbeta_o", G, GM))
    backward_apply = function(
        "un_backward_apply",
        [("gy_m", XM, X), ("x_m", XM, X), ("var_m", VM, V), ("r_m", VM, V),
         ("skip_m", I1, None), ("step_m", I64, None), ("gamma_m", GM, G), ("gz_m", VM, V),
         ("ema_m", VM, V), ("wgz_m", WBM, WB), ("gx_o", XM, None)],
        normalize_x
        + f"  %t = memref.load %step_m[] : {I64}\n"
        f"  %skip = memref.load %skip_m[] : {I1}\n"
        f"  %coef, %ema1, %wgz1 = \"un.smooth_grad_stats\"(%gz, %skip, %ema, %wgz, %t) "
        f"{grad_attrs} : ({V}, i1, {V}, {WB}, i64) -> ({V}, {V}, {WB})\n"
        f"  %gx = \"un.input_grad\"(%gy, %z, %var, %r, %gamma, %coef) {eps_attr} : "
        f"({X}, {X}, {V}, {V}, {G}, {V}) -> {X}\n"
        + store("gx", "gx_o", X, XM) + update("ema1", "ema_m", V, VM)
        + update("wgz1", "wgz_m", WB, WBM))
    return "\n".join((forward_stats, forward_apply, backward_stats, backward_apply))


class CompiledTrainStep:
    """A compiled UN training step for f32 activations, with numpy state.
    `forward(x, t[, mask])` and `backward(gy, t)` thread the state the way
    `un_mlir.reference.run_sequence` does. Dims that are None in `shape`
    may differ from call to call. With `all_ranks` (a library compiled
    with it) the statistics are taken over every MPI process, and MPI is
    initialized here (`un_mlir.mpi.init`)."""

    def __init__(self, library_path, shape, gamma, beta, state, *, all_ranks=False):
        if all_ranks:
            from . import mpi
            mpi.init()
        lib = memref.load(library_path)
        self._forward = memref.CompiledFunction(lib, "un_forward")
        self._backward = memref.CompiledFunction(lib, "un_backward")
        self.shape = tuple(shape)
        self.gamma = np.ascontiguousarray(gamma, np.float32)
        self.beta = np.ascontiguousarray(beta, np.float32)
        self.state = state
        C = shape[-1]
        f32 = np.float32
        self.var, self.r, self.ggamma, self.gbeta = (np.empty(C, f32) for _ in range(4))
        self._skip, self._step = np.zeros((), np.bool_), np.zeros((), np.int64)
        self.skip = False
        self.y = self.z = self.gx = None

    def _check_shape(self, name, array):
        if array.ndim != len(self.shape) or any(
                d is not None and d != n for d, n in zip(self.shape, array.shape)):
            dims = ", ".join("?" if d is None else str(d) for d in self.shape)
            raise ValueError(f"{name} has shape {array.shape}; the step was compiled for "
                             f"({dims})")

    def forward(self, x, t, mask=None):
        x = np.ascontiguousarray(x, np.float32)
        self._check_shape("x", x)
        if self.y is None or self.y.shape != x.shape:  # reused while the shape stays
            self.y, self.z, self.gx = (np.empty_like(x) for _ in range(3))
        st = self.state
        t_in, skips = np.array(t - 1, np.int64), np.array(st.skips, np.int64)
        masks = () if mask is None else (np.ascontiguousarray(mask, np.bool_),)
        if masks and masks[0].shape != x.shape[:-1]:
            raise ValueError(f"mask has shape {masks[0].shape}, x {x.shape}")
        self._forward(x, self.gamma, self.beta, st.running_var, st.win_x2, t_in, skips,
                      self.y, self.z, self.var, self.r, self._skip, self._step, *masks)
        self.skip = bool(self._skip)
        st.skips = int(skips)
        st.t = int(t_in)
        return self.y

    def backward(self, gy, t):
        if self.z is None:
            raise RuntimeError("backward needs the forward of the same step first")
        gy = np.ascontiguousarray(gy, np.float32)
        if gy.shape != self.z.shape:
            raise ValueError(f"gy has shape {gy.shape}, the forward's x {self.z.shape}")
        st = self.state
        self._step[()] = t
        self._backward(gy, self.z, self.var, self.r, self._skip, self._step, self.gamma,
                       st.ema_gz, st.win_gz, self.gx, self.ggamma, self.gbeta)
        return self.gx


def compile_train_step(shape, library_path, pipeline="un-cpu-pipeline", **hparams):
    """Compiles the f32 training step for `shape` (None: a dynamic dim) into
    `library_path` with `pipeline` (`un-gpu-emulation-pipeline`: the GPU
    kernels, run on the host); `hparams` as `train_step_mlir` takes them
    (`mask`, `all_ranks` included)."""
    window_fwd = hparams.pop("window_fwd", 4)
    window_bwd = hparams.pop("window_bwd", 4)
    text = train_step_mlir(shape, window_fwd, window_bwd, "f32", **hparams)
    return aot.compile_shared_library(text, library_path, pipeline=pipeline)


def infer_mlir(shape, dtype="f32", *, eps=1e-5):
    """MLIR text with `un_infer(x, gamma, beta, running_var, y_out)`: the
    inference map on activations `shape` (None: a dynamic dim)."""
    elt = _ELEMENT_TYPES[dtype]
    C = shape[-1]
    X, XM = _tensor(shape, elt), _memref(shape, elt)
    G, GM = _tensor([C], elt), _memref([C], elt)
    V, VM = _tensor([C], "f32"), _memref([C], "f32")
    return (f"func.func @un_infer(%x_m: {XM}, %gamma_m: {GM}, %beta_m: {GM}, %rv_m: {VM}, "
            f"%y_o: {XM}) attributes {{llvm.emit_c_interface}} {{\n"
            f"  %x = bufferization.to_tensor %x_m restrict : {XM} to {X}\n"
            f"  %gamma = bufferization.to_tensor %gamma_m restrict : {GM} to {G}\n"
            f"  %beta = bufferization.to_tensor %beta_m restrict : {GM} to {G}\n"
            f"  %rv = bufferization.to_tensor %rv_m restrict : {VM} to {V}\n"
            f"  %y = \"un.infer\"(%x, %gamma, %beta, %rv) {{eps = {eps:e} : f32}} : "
            f"({X}, {G}, {G}, {V}) -> {X}\n"
            f"  bufferization.materialize_in_destination %y in restrict writable %y_o : "
            f"({X}, {XM}) -> ()\n  return\n}}\n")
