"""MLIR for a UN training step in destination-passing style, and a host
wrapper that runs it from numpy through the compiled C interface.

`un_forward` and `un_backward` are two functions, as a framework calls them
(the rest of the network runs between them). Every tensor result is written
into a caller-provided buffer (`bufferization.materialize_in_destination`),
so a call allocates nothing of activation size.

Internal helper of the package, tests and benchmarks, not public API
(docs/api.md).
"""
import numpy as np

from . import aot, memref

_ELEMENT_TYPES = {"f32": "f32", "f16": "f16", "bf16": "bf16"}


def _tensor(shape, elt):
    return "tensor<" + "x".join(str(d) for d in shape) + f"x{elt}>"


def _memref(shape, elt):
    return "memref<" + "x".join(str(d) for d in shape) + f"x{elt}>"


def train_step_mlir(shape, window_fwd=4, window_bwd=4, dtype="f32", *, eps=1e-5,
                    momentum=0.9, warmup_iters=4000, outlier_filtration=False,
                    r_max=5.0, r_warmup=1000):
    """MLIR text with `un_forward` and `un_backward` for activations `shape`."""
    elt = _ELEMENT_TYPES[dtype]
    C = shape[-1]
    X, XM = _tensor(shape, elt), _memref(shape, elt)
    V, VM = _tensor([C], "f32"), _memref([C], "f32")
    G, GM = _tensor([C], elt), _memref([C], elt)
    WF, WFM = _tensor([window_fwd, C], "f32"), _memref([window_fwd, C], "f32")
    WB, WBM = _tensor([window_bwd, C], "f32"), _memref([window_bwd, C], "f32")
    of = "true" if outlier_filtration else "false"
    fwd_attrs = (f"{{eps = {eps:e} : f32, momentum = {momentum:e} : f32, "
                 f"warmup_iters = {warmup_iters} : i64, outlier_filtration = {of}, "
                 f"r_max = {r_max:e} : f32, r_warmup = {r_warmup} : i64}}")
    bwd_attrs = (f"{{eps = {eps:e} : f32, momentum = {momentum:e} : f32, "
                 f"warmup_iters = {warmup_iters} : i64}}")

    def to_tensor(name, m, t):
        return f"  %{name} = bufferization.to_tensor %{name}_m restrict : {m} to {t}\n"

    def store(value, dest, t, m):
        return (f"  bufferization.materialize_in_destination %{value} in restrict writable "
                f"%{dest} : ({t}, {m}) -> ()\n")

    fwd = (f"func.func @un_forward(%x_m: {XM}, %gamma_m: {GM}, %beta_m: {GM}, "
           f"%rv_m: {VM}, %win_m: {WFM}, %scalars: memref<2xi64>, "
           f"%y_o: {XM}, %z_o: {XM}, %var_o: {VM}, %r_o: {VM}, %rv_o: {VM}, "
           f"%win_o: {WFM}, %scalars_o: memref<2xi64>) attributes {{llvm.emit_c_interface}} {{\n")
    for name, m, t in (("x", XM, X), ("gamma", GM, G), ("beta", GM, G), ("rv", VM, V),
                       ("win", WFM, WF)):
        fwd += to_tensor(name, m, t)
    fwd += ("  %c0 = arith.constant 0 : index\n  %c1 = arith.constant 1 : index\n"
            "  %t = memref.load %scalars[%c0] : memref<2xi64>\n"
            "  %skips = memref.load %scalars[%c1] : memref<2xi64>\n"
            f"  %y, %z, %var, %r, %skip, %rv1, %win1, %skips1 = \"un.train_forward\"(%x, %gamma, "
            f"%beta, %rv, %win, %t, %skips) {fwd_attrs} : ({X}, {G}, {G}, {V}, {WF}, i64, i64) "
            f"-> ({X}, {X}, {V}, {V}, i1, {V}, {WF}, i64)\n")
    for value, dest, t, m in (("y", "y_o", X, XM), ("z", "z_o", X, XM), ("var", "var_o", V, VM),
                              ("r", "r_o", V, VM), ("rv1", "rv_o", V, VM),
                              ("win1", "win_o", WF, WFM)):
        fwd += store(value, dest, t, m)
    fwd += ("  %skip64 = arith.extui %skip : i1 to i64\n"
            "  memref.store %skip64, %scalars_o[%c0] : memref<2xi64>\n"
            "  memref.store %skips1, %scalars_o[%c1] : memref<2xi64>\n  return\n}\n")

    bwd = (f"func.func @un_backward(%gy_m: {XM}, %z_m: {XM}, %var_m: {VM}, %r_m: {VM}, "
           f"%gamma_m: {GM}, %ema_m: {VM}, %wgz_m: {WBM}, %scalars: memref<2xi64>, "
           f"%gx_o: {XM}, %ggamma_o: {GM}, %gbeta_o: {GM}, %ema_o: {VM}, %wgz_o: {WBM}) "
           "attributes {llvm.emit_c_interface} {\n")
    for name, m, t in (("gy", XM, X), ("z", XM, X), ("var", VM, V), ("r", VM, V),
                       ("gamma", GM, G), ("ema", VM, V), ("wgz", WBM, WB)):
        bwd += to_tensor(name, m, t)
    bwd += ("  %c0 = arith.constant 0 : index\n  %c1 = arith.constant 1 : index\n"
            "  %t = memref.load %scalars[%c0] : memref<2xi64>\n"
            "  %skip64 = memref.load %scalars[%c1] : memref<2xi64>\n"
            "  %skip = arith.trunci %skip64 : i64 to i1\n"
            f"  %gx, %ggamma, %gbeta, %ema1, %wgz1 = \"un.train_backward\"(%gy, %z, %var, %r, "
            f"%skip, %gamma, %ema, %wgz, %t) {bwd_attrs} : ({X}, {X}, {V}, {V}, i1, {G}, {V}, "
            f"{WB}, i64) -> ({X}, {G}, {G}, {V}, {WB})\n")
    for value, dest, t, m in (("gx", "gx_o", X, XM), ("ggamma", "ggamma_o", G, GM),
                              ("gbeta", "gbeta_o", G, GM), ("ema1", "ema_o", V, VM),
                              ("wgz1", "wgz_o", WB, WBM)):
        bwd += store(value, dest, t, m)
    bwd += "  return\n}\n"
    return fwd + "\n" + bwd


class CompiledTrainStep:
    """A compiled UN training step for f32 activations of one shape, with
    numpy state. `forward(x, t)` and `backward(gy, t)` thread the state the
    way `un_mlir.reference.run_sequence` does."""

    def __init__(self, library_path, shape, gamma, beta, state):
        lib = memref.load(library_path)
        self._forward = memref.CompiledFunction(lib, "un_forward")
        self._backward = memref.CompiledFunction(lib, "un_backward")
        self.shape = tuple(shape)
        self.gamma = np.ascontiguousarray(gamma, np.float32)
        self.beta = np.ascontiguousarray(beta, np.float32)
        self.state = state
        C = shape[-1]
        f32 = np.float32
        self.y, self.z, self.gx = (np.empty(shape, f32) for _ in range(3))
        self.var, self.r, self.ggamma, self.gbeta = (np.empty(C, f32) for _ in range(4))
        self._rv, self._ema = np.empty(C, f32), np.empty(C, f32)
        self._win_x2 = np.empty_like(state.win_x2)
        self._win_gz = np.empty_like(state.win_gz)
        self._scalars_out = np.zeros(2, np.int64)
        self.skip = False

    def forward(self, x, t):
        st = self.state
        self._forward(np.ascontiguousarray(x, np.float32), self.gamma, self.beta,
                      st.running_var, st.win_x2, np.array([t, st.skips], np.int64),
                      self.y, self.z, self.var, self.r, self._rv, self._win_x2,
                      self._scalars_out)
        self.skip = bool(self._scalars_out[0])
        st.skips = int(self._scalars_out[1])
        st.running_var, self._rv = self._rv, st.running_var
        st.win_x2, self._win_x2 = self._win_x2, st.win_x2
        st.t = t
        return self.y

    def backward(self, gy, t):
        st = self.state
        self._backward(np.ascontiguousarray(gy, np.float32), self.z, self.var, self.r,
                       self.gamma, st.ema_gz, st.win_gz,
                       np.array([t, int(self.skip)], np.int64),
                       self.gx, self.ggamma, self.gbeta, self._ema, self._win_gz)
        st.ema_gz, self._ema = self._ema, st.ema_gz
        st.win_gz, self._win_gz = self._win_gz, st.win_gz
        return self.gx


def compile_train_step(shape, library_path, **hparams):
    """Compiles the f32 training step for `shape` into `library_path`."""
    window_fwd = hparams.pop("window_fwd", 4)
    window_bwd = hparams.pop("window_bwd", 4)
    text = train_step_mlir(shape, window_fwd, window_bwd, "f32", **hparams)
    return aot.compile_shared_library(text, library_path)
