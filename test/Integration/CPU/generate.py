#!/usr/bin/env python3
"""Generate the CPU integration tests of test/Integration/CPU.

    python3 test/Integration/CPU/generate.py [--out DIR]

writes one lit test `<case>.mlir` per case (into this directory by default).
Each test runs a whole sequence of UN training steps (or inference calls)
through `un-opt --un-cpu-pipeline` and `mlir-runner`, prints every output
and every state tensor of every step bit-exactly, and `check_outputs.py`
compares them with the values of the numpy reference of the spec
(python/un_mlir/reference.py), stored at the end of the file as
`// EXPECTED:` lines (format and tolerances: see check_outputs.py).

Deterministic: the data come from seeded numpy RandomState streams (whose
output numpy keeps stable across versions) and the expected values from the
reference. test/python/test_integration_generator.py re-runs this script and
checks that the checked-in files are what it writes.

Before writing a case the generator checks that the expected values are a
fair target for any correct f32 implementation:

* Every run-time decision that is not continuous in the data (the outlier
  test `any(am - gm > s2 * Mf)`) is recomputed in float64 and must be far
  from its threshold: |d - thr| >= 5% of max(|d|, |thr|) and >= 1e-3 of the
  largest column mean, where d = max_c(am[c] - gm[c]) (exact ties of exact
  zeros, which no rounding can move, are accepted). The margins are written
  into each file's header.
* f32 cases: the whole sequence is re-run with the reference in float64;
  every item must agree with the f32 expectation within 1/4 of its
  tolerance, and all integer items (skip, skips) exactly. So the expected
  values are not sensitive to f32 rounding, and an implementation that
  sums in another order or has other exp/log ulps still passes.
* f16/bf16 cases: values rounded to f16/bf16 may round the other way when
  the f32 value before rounding differs by a few ulps, and the rounded z
  feeds the backward. The sequence is re-run twice with every f32 value
  moved by +8 and by -8 f32 ulps before it is rounded to f16/bf16; every
  item must still agree within its tolerance.

Tolerances (per item; see check_outputs.py for the rule and the absolute
floor): f32 values 1e-5 relative. Values stored in f16: 1e-3, which covers
one f16 ulp (2^-10 relative at most) of rounding difference; bf16: 1e-2
(one bf16 ulp is at most 2^-7 = 7.8e-3). The forward statistics of f16/bf16
cases (var, r, running_var, win_x2) stay at 1e-5: they depend only on the
inputs, which are exact in f16/bf16 and widened exactly to f32. The
backward state (ema_gz, win_gz) is f32 but is computed from the z that the
forward stored in f16/bf16, so one element of z rounding the other way
moves it by about 2^-11 (2^-8 for bf16) of one term of a mean: it gets the
tolerance of the storage type.
"""

import argparse
import contextlib
import dataclasses
import json
import math
import pathlib
import sys
from typing import Optional

import numpy as np

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[2]
sys.path.insert(0, str(ROOT / "python"))
sys.path.insert(0, str(HERE))

from un_mlir import reference as ref  # noqa: E402
import check_outputs  # noqa: E402

F32 = np.float32
RUN_LINES = (
    "// RUN: un-opt %s --un-cpu-pipeline | mlir-runner -e main -entry-point-result=void "
    "--shared-libs=%mlir_runner_utils,%mlir_c_runner_utils > %t.out\n"
    "// RUN: %python %S/check_outputs.py %s %t.out\n")
RTOL = {"f32": 1e-5, "f16": 1e-3, "bf16": 1e-2}
DEFAULTS = dict(eps=1e-5, momentum=0.9, warmup_iters=4000, outlier_filtration=False,
                r_max=5.0, r_warmup=1000)
FWD_ATTRS = ("eps", "momentum", "warmup_iters", "outlier_filtration", "r_max", "r_warmup")
BWD_ATTRS = ("eps", "momentum", "warmup_iters")
FLOAT_ATTRS = ("eps", "momentum", "r_max")
STEP_NAMES = ("y", "z", "var", "r", "skip", "running_var", "win_x2", "skips",
              "gx", "ggamma", "gbeta", "ema_gz", "win_gz")


# ---------------------------------------------------------------- numbers and types

def to_storage(a, dtype):
    """Round to the activation type: float16 array, or bf16 values in a float32 array."""
    a = np.asarray(a, np.float64).astype(F32)
    if dtype == "f16":
        return a.astype(np.float16)
    if dtype == "bf16":
        return ref.round_bf16(a)
    return a


def _mlir_float(s):
    """Make a Python float string a valid MLIR float literal (it needs a '.')."""
    mant, _, exp = s.partition("e")
    if "." not in mant:
        mant += ".0"
    return mant + ("e" + exp if exp else "")


def fmt_float(v, dtype):
    """Shortest decimal that MLIR parses back to exactly v in `dtype`.

    MLIR parses a float literal to a double and rounds that to the element
    type; this replays that path in numpy and falls back to the exact
    decimal expansion of v if the short form would not round-trip.
    """
    v32 = F32(v)
    if not np.isfinite(v32):
        bits = {"f32": int(np.array(v32).view(np.uint32)),
                "f16": int(np.array(np.float16(v)).view(np.uint16)),
                "bf16": int(np.array(v32).view(np.uint32)) >> 16}[dtype]
        return f"0x{bits:X}"
    if dtype == "f16":
        s = str(np.float16(v))
        if np.float16(float(s)) == np.float16(v) and "inf" not in s:
            return _mlir_float(s)
        return _mlir_float(repr(float(np.float16(v))))
    if dtype == "bf16":
        return _mlir_float(repr(float(v32)))  # bf16 values are exact short doubles
    s = str(v32)
    if F32(float(s)).view(np.uint32) == v32.view(np.uint32):
        return _mlir_float(s)
    return _mlir_float(repr(float(v32)))


def dense(a, dtype):
    """`dense<...>` literal of a numpy array (splat when all elements are equal)."""
    a = np.asarray(a)
    if dtype == "i1":
        flat = ["true" if b else "false" for b in a.reshape(-1)]
    else:
        flat = [fmt_float(v, dtype) for v in a.reshape(-1)]
    if len(set(flat)) == 1 and a.size > 1:
        return f"dense<{flat[0]}>"

    def nest(vals, dims):
        if len(dims) == 1:
            return "[" + ", ".join(vals) + "]"
        n = len(vals) // dims[0]
        return "[" + ", ".join(nest(vals[k * n:(k + 1) * n], dims[1:])
                               for k in range(dims[0])) + "]"

    return f"dense<{nest(flat, list(a.shape)) if a.shape else flat[0]}>"


def ttype(dims, et):
    if not dims:
        return f"tensor<{et}>"
    return "tensor<" + "x".join(str(d) for d in dims) + f"x{et}>"


def f32_bits(a):
    return [int(b) for b in np.asarray(a, np.float64).astype(F32).reshape(-1).view(np.uint32)]


def fmt_attr(key, value):
    if key in FLOAT_ATTRS:
        return f"{key} = {fmt_float(value, 'f32')} : f32"
    if key == "outlier_filtration":
        return f"{key} = {'true' if value else 'false'}"
    return f"{key} = {int(value)} : i64"


# ---------------------------------------------------------------- case descriptions

@dataclasses.dataclass
class Training:
    """A sequence of training steps through one `@step`-like function."""
    func: str
    dtype: str
    xs: list  # per step, activation values (float32/float16 arrays)
    gys: list
    gamma: np.ndarray
    beta: np.ndarray
    window_fwd: int
    window_bwd: int
    hparams: dict  # given to the reference (defaults filled in)
    attrs: tuple  # which hyper-parameters are written as attributes
    masks: Optional[list] = None
    label: str = ""  # prefix of item names when a file holds several parts
    # Types of the function's arguments: None = static; otherwise dims with '?'.
    x_dims: Optional[list] = None
    c_dim: object = None
    mf_dim: object = None
    mb_dim: object = None
    post: object = None  # optional extra check: post(self, steps) -> lines for the header

    @property
    def C(self):
        return self.gamma.shape[0]


@dataclasses.dataclass
class Inference:
    """One `un.infer` call: in its own function (func) or inline in @main (func=None)."""
    func: Optional[str]
    dtype: str
    x: np.ndarray
    gamma: np.ndarray
    beta: np.ndarray
    running_var: np.ndarray
    eps: Optional[float] = None  # None: attribute left out (default 1e-5)
    x_dims: Optional[list] = None
    c_dim: object = None
    label: str = ""


@dataclasses.dataclass
class Case:
    name: str
    doc: str
    parts: list


def hp(**kw):
    out = dict(DEFAULTS)
    out.update(kw)
    for k in FLOAT_ATTRS:
        out[k] = float(F32(out[k]))  # the value the f32 attribute holds
    return out


# ---------------------------------------------------------------- reference runs

def reference_steps(p, dtype=None):
    """Run the reference over the sequence. Returns per step (items, info).

    items: list of (name, kind, value) in print order with kind 'act'
    (stored in the activation type), 'fstat' (forward f32 statistic),
    'bstat' (backward f32 state) or 'int'. info: the state before the step
    and psi, for the decision margins.
    """
    dt = dtype or p.dtype
    fh = {k: p.hparams[k] for k in FWD_ATTRS}
    bh = {k: p.hparams[k] for k in BWD_ATTRS}
    C = p.C
    ct = np.float64 if dt == "f64" else F32
    rv = np.ones(C, ct)
    ema = np.zeros(C, ct)
    wx = np.zeros((p.window_fwd, C), ct)
    wgz = np.zeros((p.window_bwd, C), ct)
    skips = 0

    def ld(a):
        return np.asarray(a, np.float64) if dt == "f64" else a

    out = []
    for k, (x, gy) in enumerate(zip(p.xs, p.gys)):
        t = k + 1
        mask = None if p.masks is None else p.masks[k]
        info = dict(t=t, rv=rv, wx=wx, skips=skips, x=x, mask=mask)
        f = ref.train_forward(ld(x), ld(p.gamma), ld(p.beta), rv, wx, t, skips, mask,
                              dtype=dt, **fh)
        b = ref.train_backward(ld(gy), f["z"], f["var"], f["r"], f["skip"], ld(p.gamma), ema,
                               wgz, t, dtype=dt, **bh)
        # The op returns ggamma and gbeta in the activation type; the reference keeps
        # them in its compute type: round them the way the op stores them.
        ggamma, gbeta = b["ggamma"], b["gbeta"]
        if dt in ("f16", "bf16"):
            ggamma, gbeta = to_storage(ggamma, dt), to_storage(gbeta, dt)
        items = [("y", "act", f["y"]), ("z", "act", f["z"]), ("var", "fstat", f["var"]),
                 ("r", "fstat", f["r"]), ("skip", "int", int(f["skip"])),
                 ("running_var", "fstat", f["running_var_new"]),
                 ("win_x2", "fstat", f["win_x2_new"]), ("skips", "int", f["skips_new"]),
                 ("gx", "act", b["gx"]), ("ggamma", "act", ggamma), ("gbeta", "act", gbeta),
                 ("ema_gz", "bstat", b["ema_gz_new"]), ("win_gz", "bstat", b["win_gz_new"])]
        assert tuple(n for n, _, _ in items) == STEP_NAMES
        info.update(skip=f["skip"], skips_new=f["skips_new"], var=f["var"], r=f["r"])
        out.append((items, info))
        rv, wx, skips = f["running_var_new"], f["win_x2_new"], f["skips_new"]
        ema, wgz = b["ema_gz_new"], b["win_gz_new"]
    return out


def item_rtol(kind, dtype):
    if kind == "act" or (kind == "bstat" and dtype != "f32"):
        return RTOL[dtype]
    return RTOL["f32"]


def expected_items(p, steps):
    items = []
    prefix = p.label + "." if p.label else ""
    for k, (its, _) in enumerate(steps):
        for name, kind, v in its:
            if kind == "int":
                items.append({"step": k + 1, "name": prefix + name, "dtype": "i64", "shape": [],
                              "values": [int(v)]})
                continue
            v = np.asarray(v)
            it = {"step": k + 1, "name": prefix + name, "dtype": "f32", "shape": list(v.shape),
                  "values": f32_bits(v)}
            rtol = item_rtol(kind, p.dtype)
            if rtol != RTOL["f32"]:
                it["rtol"] = rtol
            if kind == "act" and p.dtype != "f32":
                it["storage"] = p.dtype
            items.append(it)
    return items


def as_got(items):
    """Expected-like items as if printed (for checking one reference run against another)."""
    return [{"kind": "scalar" if it["dtype"] == "i64" else "memref", "shape": it["shape"],
             "values": it["values"]} for it in items]


@contextlib.contextmanager
def perturbed_rounding(ulps):
    """Move every value by `ulps` f32 ulps (relative) before it is rounded to f16/bf16."""
    orig = ref._store

    def store(a, dtype):
        if dtype in ("f16", "bf16"):
            a = np.asarray(a, F32) * F32(1 + ulps * 2.0 ** -23)
        return orig(a, dtype)

    ref._store = store
    try:
        yield
    finally:
        ref._store = orig


def check_robustness(p, expected):
    """The expected values must not hinge on f32 rounding details (see the module doc)."""
    if p.dtype == "f32":
        runs = [("float64 reference", 0.25, lambda: reference_steps(p, "f64"))]
    else:
        def run(u):
            def f():
                with perturbed_rounding(u):
                    return reference_steps(p)
            return f
        # A value that rounds the other way is one f16/bf16 ulp off, which the
        # tolerance is sized for: check at the full tolerance.
        runs = [(f"{u:+d}-ulp rounding", 1.0, run(u)) for u in (8, -8)]
    notes = []
    for what, scale, fn in runs:
        other = expected_items(p, fn())
        errors = check_outputs.compare(expected, as_got(other), scale=scale)
        if errors:
            raise AssertionError(f"{p.func or 'main'}: the {what} does not agree with the "
                                 f"expected values within {scale} of the tolerance:\n  "
                                 + "\n  ".join(errors[:10]))
        notes.append(f"{what}: within {scale} x tolerance "
                     f"(max rel. diff {check_outputs.max_relative_error(expected, as_got(other)):.2g})")
    return notes


def decision_margins(p, steps):
    """Recompute each outlier test in float64; assert it is far from its threshold."""
    h = p.hparams
    lines = []
    if not h["outlier_filtration"]:
        return lines
    Mf = p.window_fwd
    for items, info in steps:
        t = info["t"]
        if t < h["warmup_iters"]:
            continue
        x = np.asarray(info["x"], np.float64).reshape(-1, p.C)
        keep = (np.ones(x.shape[0], bool) if info["mask"] is None
                else ~np.asarray(info["mask"]).reshape(-1))
        psi = np.mean(x[keep] ** 2, axis=0)
        win = np.asarray(info["wx"], np.float64)
        s = np.sqrt(win).reshape(-1)
        s2 = np.var(s, ddof=1) if s.size > 1 else math.nan
        win = win.copy()
        win[t % Mf] = psi
        am = win.mean(axis=0)
        with np.errstate(divide="ignore"):
            gm = np.exp(np.mean(np.log(win), axis=0))
        d = float(np.max(am - gm))
        thr = s2 * Mf
        filtered = info["skips_new"] > info["skips"]
        if math.isnan(thr):
            assert not filtered
            lines.append(f"t={t}: s2 is NaN (Mf*C = 1): not filtered")
            continue
        outlier = d > thr
        assert outlier == filtered, (p.func, t, d, thr, filtered)
        margin = abs(d - thr)
        if np.all(win == 0):
            kind = "exact (all-zero window: am = gm = s2 = 0)"
        else:
            rel = margin / max(abs(d), abs(thr))
            assert rel >= 0.05 and margin >= 1e-3 * float(np.max(am)), \
                f"{p.func}: outlier test at t={t} too close to its threshold: d={d} thr={thr}"
            kind = f"relative margin {rel:.2f}"
        # Rounding noise (numpy's SIMD kernels differ between CPUs) prints
        # as 0, so the checked-in file does not depend on the host.
        scale = 1e-9 * max(float(np.max(np.abs(am))), 1.0)
        shown_d, shown_thr = (v if abs(v) > scale else 0.0 for v in (d, thr))
        lines.append(f"t={t}: max(am-gm) = {shown_d:.4g} {'>' if outlier else '<='} s2*Mf = "
                     f"{shown_thr:.4g}: {'FILTERED' if outlier else 'kept'}, {kind}")
    return lines


# ---------------------------------------------------------------- MLIR emission

class Emitter:
    def __init__(self):
        self.funcs = []  # function texts
        self.main = []  # lines of @main's body
        self.n = 0

    def tmp(self, base="v"):
        self.n += 1
        return f"%{base}{self.n}"

    def op(self, line):
        self.main.append("  " + line)

    def const(self, name, a, dtype, dims):
        self.op(f"{name} = arith.constant {dense(a, dtype)} : {ttype(dims, dtype)}")
        return name

    def cast(self, v, from_ty, to_ty):
        if from_ty == to_ty:
            return v
        c = self.tmp("c")
        self.op(f"{c} = tensor.cast {v} : {from_ty} to {to_ty}")
        return c

    def print_tensor(self, v, shape, et, arg_ty=None):
        """Print a float tensor bit-exactly (casting it to its static type first)."""
        st = ttype(shape, et)
        if arg_ty is not None:
            v = self.cast(v, arg_ty, st)
        if et != "f32":
            w = self.tmp("w")
            self.op(f"{w} = arith.extf {v} : {st} to {ttype(shape, 'f32')}")
            v = w
        i, m, u = self.tmp("i"), self.tmp("m"), self.tmp("u")
        self.op(f"{i} = arith.bitcast {v} : {ttype(shape, 'f32')} to {ttype(shape, 'i32')}")
        self.op(f"{m} = bufferization.to_buffer {i} : {ttype(shape, 'i32')} to "
                f"memref<{'x'.join(map(str, shape)) + 'x' if shape else ''}i32>")
        self.op(f"{u} = memref.cast {m} : memref<{'x'.join(map(str, shape)) + 'x' if shape else ''}"
                f"i32> to memref<*xi32>")
        self.op(f"call @printMemrefI32({u}) : (memref<*xi32>) -> ()")

    def print_int(self, v, ty):
        if ty == "i1":
            w = self.tmp("e")
            self.op(f"{w} = arith.extui {v} : i1 to i64")
            v = w
        self.op(f"call @printI64({v}) : (i64) -> ()")
        self.op("call @printNewline() : () -> ()")


def emit_training(em, p):
    et = p.dtype
    C, Mf, Mb = p.C, p.window_fwd, p.window_bwd
    x_dims = p.x_dims
    c = p.c_dim if p.c_dim is not None else C
    X = ttype(x_dims, et) if x_dims is not None else None  # None: per-step static types
    G = ttype([c], et)
    S = ttype([c], "f32")
    WX = ttype([p.mf_dim if p.mf_dim is not None else Mf, c], "f32")
    WG = ttype([p.mb_dim if p.mb_dim is not None else Mb, c], "f32")
    shapes = {tuple(x.shape) for x in p.xs}
    if X is None:
        assert len(shapes) == 1, "static step functions need one shape"
        X = ttype(list(p.xs[0].shape), et)
    M = ttype((x_dims or list(p.xs[0].shape))[:-1], "i1")
    has_mask = p.masks is not None

    # The step function: one training forward + backward, in generic form.
    fwd_attrs = ", ".join(fmt_attr(k, p.hparams[k]) for k in FWD_ATTRS if k in p.attrs)
    bwd_attrs = ", ".join(fmt_attr(k, p.hparams[k]) for k in BWD_ATTRS if k in p.attrs)
    args = [f"%x: {X}", f"%gamma: {G}", f"%beta: {G}", f"%running_var: {S}", f"%win_x2: {WX}",
            "%t: i64", "%skips: i64"] + ([f"%mask: {M}"] if has_mask else []) + \
           [f"%gy: {X}", f"%ema_gz: {S}", f"%win_gz: {WG}"]
    res = [X, X, S, S, "i1", S, WX, "i64", X, G, G, S, WG]
    fwd_in = [X, G, G, S, WX, "i64", "i64"] + ([M] if has_mask else [])
    fwd_out = [X, X, S, S, "i1", S, WX, "i64"]
    bwd_in = [X, X, S, S, "i1", G, S, WG, "i64"]
    bwd_out = [X, G, G, S, WG]
    fwd_operands = "%x, %gamma, %beta, %running_var, %win_x2, %t, %skips" + \
        (", %mask" if has_mask else "")
    f = [f"func.func @{p.func}({', '.join(args)})",
         f"    -> ({', '.join(res)}) {{",
         f"  %f:8 = \"un.train_forward\"({fwd_operands})" +
         (f" {{{fwd_attrs}}}" if fwd_attrs else "") +
         f" : ({', '.join(fwd_in)}) -> ({', '.join(fwd_out)})",
         "  %b:5 = \"un.train_backward\"(%gy, %f#1, %f#2, %f#3, %f#4, %gamma, %ema_gz, "
         "%win_gz, %t)" + (f" {{{bwd_attrs}}}" if bwd_attrs else "") +
         f" : ({', '.join(bwd_in)}) -> ({', '.join(bwd_out)})",
         "  return %f#0, %f#1, %f#2, %f#3, %f#4, %f#5, %f#6, %f#7, %b#0, %b#1, %b#2, %b#3, "
         f"%b#4 : {', '.join(res)}",
         "}"]
    text = "\n".join(f)
    same = [fn for fn in em.funcs if fn.startswith(f"func.func @{p.func}(")]
    assert all(fn == text for fn in same), f"two different @{p.func}"
    if not same:
        em.funcs.append(text)

    # @main: constants, the calls threading the state, and the prints.
    q = p.label or p.func
    em.op(f"// ---- {q}: {len(p.xs)} training steps through @{p.func}")
    gamma = em.cast(em.const(f"%{q}_gamma", p.gamma, et, [C]), ttype([C], et), G)
    beta = em.cast(em.const(f"%{q}_beta", p.beta, et, [C]), ttype([C], et), G)
    rv = em.cast(em.const(f"%{q}_rv0", np.ones(C, F32), "f32", [C]), ttype([C], "f32"), S)
    ema = em.cast(em.const(f"%{q}_ema0", np.zeros(C, F32), "f32", [C]), ttype([C], "f32"), S)
    wx = em.cast(em.const(f"%{q}_wx0", np.zeros((Mf, C), F32), "f32", [Mf, C]),
                 ttype([Mf, C], "f32"), WX)
    wgz = em.cast(em.const(f"%{q}_wgz0", np.zeros((Mb, C), F32), "f32", [Mb, C]),
                  ttype([Mb, C], "f32"), WG)
    skips = f"%{q}_skips0"
    em.op(f"{skips} = arith.constant 0 : i64")
    for k, (x, gy) in enumerate(zip(p.xs, p.gys)):
        t = k + 1
        em.op(f"// {q} step t = {t}")
        xshape = list(x.shape)
        xs_ty = ttype(xshape, et)
        xv = em.cast(em.const(f"%{q}_x{t}", x, et, xshape), xs_ty, X)
        operands = [xv, gamma, beta, rv, wx, f"%{q}_t{t}", skips]
        em.op(f"%{q}_t{t} = arith.constant {t} : i64")
        if has_mask:
            mshape = xshape[:-1]
            mv = em.cast(em.const(f"%{q}_mask{t}", p.masks[k], "i1", mshape),
                         ttype(mshape, "i1"), M)
            operands.append(mv)
        gyv = em.cast(em.const(f"%{q}_gy{t}", gy, et, xshape), xs_ty, X)
        operands += [gyv, ema, wgz]
        r = f"%{q}_s{t}"
        em.op(f"{r}:13 = call @{p.func}({', '.join(operands)}) : "
              f"({', '.join(args_ty for args_ty in [a.split(': ')[1] for a in args])}) -> "
              f"({', '.join(res)})")
        # Print in the order of STEP_NAMES.
        for j, (name, ty) in enumerate(zip(STEP_NAMES, res)):
            v = f"{r}#{j}"
            if name in ("skip", "skips"):
                em.print_int(v, ty)
            elif name in ("y", "z", "gx"):
                em.print_tensor(v, xshape, et, X)
            elif name in ("ggamma", "gbeta"):
                em.print_tensor(v, [C], et, G)
            elif name == "win_x2":
                em.print_tensor(v, [Mf, C], "f32", WX)
            elif name == "win_gz":
                em.print_tensor(v, [Mb, C], "f32", WG)
            else:
                em.print_tensor(v, [C], "f32", S)
        rv, wx, skips, ema, wgz = f"{r}#5", f"{r}#6", f"{r}#7", f"{r}#11", f"{r}#12"


def emit_inference(em, p, idx):
    et = p.dtype
    C = p.gamma.shape[0]
    shape = list(p.x.shape)
    X = ttype(p.x_dims if p.x_dims is not None else shape, et)
    c = p.c_dim if p.c_dim is not None else C
    G, S = ttype([c], et), ttype([c], "f32")
    attr = f" {{{fmt_attr('eps', p.eps)}}}" if p.eps is not None else ""
    sig = f"({X}, {G}, {G}, {S}) -> {X}"
    q = p.label
    em.op(f"// ---- {q}: un.infer " + (f"through @{p.func}" if p.func else "inline in @main"))
    xv = em.cast(em.const(f"%{q}_x", p.x, et, shape), ttype(shape, et), X)
    g = em.cast(em.const(f"%{q}_gamma", p.gamma, et, [C]), ttype([C], et), G)
    b = em.cast(em.const(f"%{q}_beta", p.beta, et, [C]), ttype([C], et), G)
    rv = em.cast(em.const(f"%{q}_rv", p.running_var, "f32", [C]), ttype([C], "f32"), S)
    y = f"%{q}_y"
    if p.func:
        if not any(f"@{p.func}(" in fn for fn in em.funcs):
            em.funcs.append(
                f"func.func @{p.func}(%x: {X}, %gamma: {G}, %beta: {G}, %running_var: {S})"
                f" -> {X} {{\n"
                f"  %y = \"un.infer\"(%x, %gamma, %beta, %running_var){attr} : {sig}\n"
                f"  return %y : {X}\n}}")
        em.op(f"{y} = call @{p.func}({xv}, {g}, {b}, {rv}) : {sig}")
    else:
        em.op(f"{y} = \"un.infer\"({xv}, {g}, {b}, {rv}){attr} : {sig}")
    em.print_tensor(y, shape, et, X)


def reference_infer(p, dtype=None):
    dt = dtype or p.dtype
    eps = p.eps if p.eps is not None else DEFAULTS["eps"]
    ld = (lambda a: np.asarray(a, np.float64)) if dt == "f64" else (lambda a: a)
    rvv = ld(p.running_var) if dt == "f64" else p.running_var
    return ref.infer(ld(p.x), ld(p.gamma), ld(p.beta), rvv, eps=float(F32(eps)), dtype=dt)


def infer_item(p, idx, y):
    it = {"step": idx, "name": f"{p.label}.y", "dtype": "f32", "shape": list(p.x.shape),
          "values": f32_bits(y)}
    if p.dtype != "f32":
        it["rtol"] = RTOL[p.dtype]
        it["storage"] = p.dtype
    return it


def render(case):
    em = Emitter()
    expected, notes = [], []
    for idx, p in enumerate(case.parts, 1):
        if isinstance(p, Training):
            steps = reference_steps(p)
            items = expected_items(p, steps)
            notes.append(f"@{p.func} ({p.label or 'single part'}), {p.dtype}, "
                         f"x {'/'.join(sorted({'x'.join(map(str, x.shape)) for x in p.xs}))}"
                         f", Mf={p.window_fwd}, Mb={p.window_bwd}, "
                         + ", ".join(f"{k}={p.hparams[k]:g}" if k in FLOAT_ATTRS
                                     else f"{k}={p.hparams[k]}" for k in FWD_ATTRS))
            skip_str = "".join("S" if info["skip"] else "." for _, info in steps)
            notes.append(f"  skip per step: {skip_str}; skips at the end: "
                         f"{steps[-1][1]['skips_new']}")
            notes += ["  outlier test " + m for m in decision_margins(p, steps)]
            notes += ["  robustness: " + n for n in check_robustness(p, items)]
            if p.post is not None:
                notes += ["  " + n for n in p.post(p, steps)]
            emit_training(em, p)
        else:
            y = reference_infer(p)
            items = [infer_item(p, idx, y)]
            y64 = reference_infer(p, "f64") if p.dtype == "f32" else None
            if y64 is not None:
                errs = check_outputs.compare(items, as_got([infer_item(p, idx, y64)]), 0.25)
                assert not errs, errs
            notes.append(f"{p.label}: un.infer {p.dtype} x {list(p.x.shape)}"
                         + (f" through @{p.func}" if p.func else " inline in @main"))
            emit_inference(em, p, idx)
        expected += items

    out = [RUN_LINES, "//\n"]
    out += [f"// {line}\n" if line else "//\n" for line in case.doc.strip().splitlines()]
    out.append("//\n// Generated by generate.py (do not edit; edit the generator and re-run"
               " it).\n")
    out += [f"// {n}\n" for n in notes]
    out.append("\nfunc.func private @printMemrefI32(memref<*xi32>)\n"
               "func.func private @printI64(i64)\n"
               "func.func private @printNewline()\n\n")
    for fn in em.funcs:
        out.append(fn + "\n\n")
    out.append("func.func @main() {\n")
    out += [line + "\n" for line in em.main]
    out.append("  return\n}\n\n")
    out.append("// The values @main prints, in order (format: check_outputs.py).\n")
    for it in expected:
        out.append("// EXPECTED: " + json.dumps(it, separators=(", ", ": ")) + "\n")
    return "".join(out)


# ---------------------------------------------------------------- data

def activations(rng, shape, ch_scale, noise=0.2, scale=1.0):
    """Random signs times (1 +- noise), per-channel scale: a stable quadratic mean."""
    signs = rng.choice([-1.0, 1.0], size=shape)
    mag = 1.0 + noise * rng.uniform(-1.0, 1.0, size=shape)
    return signs * mag * np.asarray(ch_scale) * scale + 0.0  # + 0.0: no -0.0


def gaussian(rng, shape, ch_scale=1.0, scale=1.0):
    return rng.standard_normal(shape) * np.asarray(ch_scale) * scale


def affine_params(rng, C, dtype):
    gamma = to_storage(1.0 + 0.3 * rng.uniform(-1, 1, C), dtype)
    beta = to_storage(0.2 * rng.uniform(-1, 1, C), dtype)
    return gamma, beta


def upstream(rng, x, dtype, corr=0.3):
    """An upstream gradient, partly correlated with x so that gz is not tiny."""
    gy = 0.5 * rng.standard_normal(x.shape) + corr * np.asarray(x, np.float64)
    return to_storage(gy, dtype)


def training(func, dtype, rng, shapes, ch_scale, step_scale, window_fwd, window_bwd, attrs,
             noise=0.2, masks=None, data="signs", **kw):
    xs, gys = [], []
    for k, shape in enumerate(shapes):
        gen = activations if data == "signs" else gaussian
        args = dict(noise=noise) if data == "signs" else {}
        x = to_storage(gen(rng, shape, ch_scale, scale=step_scale[k], **args), dtype)
        if masks is not None:
            # Padded tokens hold garbage far from the data: psi must not see them.
            pad = np.asarray(masks[k])[..., None]
            x = to_storage(np.where(pad, 40.0 * np.asarray(x, np.float64), x), dtype)
        xs.append(x)
        gys.append(upstream(rng, x, dtype))
    C = len(ch_scale)
    gamma, beta = affine_params(rng, C, dtype)
    label = kw.pop("label", "")
    dims = {k: kw.pop(k) for k in ("x_dims", "c_dim", "mf_dim", "mb_dim") if k in kw}
    h = hp(**kw)
    return Training(func=func, dtype=dtype, xs=xs, gys=gys, gamma=gamma, beta=beta,
                    window_fwd=window_fwd, window_bwd=window_bwd, hparams=h, attrs=attrs,
                    masks=masks, label=label, **dims)


ALL = FWD_ATTRS


def case_warmup_smoothing():
    rng = np.random.RandomState(1001)
    C = 8
    ch = np.linspace(0.5, 2.0, C)
    # The scale drifts so that the window's geometric mean differs from psi.
    drift = [1.0, 1.3, 0.8, 1.1, 1.5, 0.7, 1.2, 0.9]
    a = training("step_a", "f32", rng, [(2, 3, C)] * 8, ch, drift, 4, 4, ALL, noise=0.3,
                 label="a", warmup_iters=3, r_warmup=5, r_max=5.0)
    b = training("step_b", "f32", rng, [(2, 3, C)] * 7, ch, drift[:7][::-1], 2, 2, ALL,
                 noise=0.3, label="b", warmup_iters=4, r_warmup=2, r_max=5.0, momentum=0.75)
    return Case("warmup-smoothing", """
Warm-up and fluctuation smoothing, f32, x [2, 3, 8], no outlier filtration;
the batch scale drifts from step to step so that the window's geometric
mean differs from psi. Two parts, so that each condition of the spec decides
some step on its own:
Part a: windows Mf = Mb = 4, warmup_iters W = 3, r_warmup = 5, 8 steps.
t = 1, 2: t < W (var = psi, mu = gz); t = 3, 4: t <= Mf = Mb only (still
psi and gz; t = 4 is the step t = window); t = 5..8: var is the geometric
mean of the forward window, mu the arithmetic mean of the gradient window;
r = 1 while t <= max(r_warmup, W) = 5 (r_warmup decides), then
sqrt(var + eps) / sqrt(running_var + eps).
Part b: Mf = Mb = 2, W = 4, r_warmup = 2, momentum 0.75, 7 steps. t = 3 is
past the window but t < W decides (var = psi, mu = gz); smoothing from
t = 4 = W; r is pinned while t <= max(r_warmup, W) = 4 (W decides).
""", [a, b])


def case_outlier_filtration():
    rng = np.random.RandomState(2002)
    C = 8
    ch = np.linspace(0.5, 2.0, C)
    scale = [1.0, 1.1, 4.0, 1.0, 0.9, 1.05, 4.0, 0.95, 1.0, 5.0, 4.5, 1.0, 1.1]
    kw = dict(noise=0.1, warmup_iters=3, outlier_filtration=True, r_warmup=4, r_max=5.0,
              momentum=0.8, eps=1e-4)
    a = training("step", "f32", rng, [(2, 4, C)] * len(scale), ch, scale, 3, 3, ALL,
                 label="seq", **kw)
    b = training("step", "f32", rng, [(2, 4, C)] * 3, ch, [1.0, 4.0, 1.0], 3, 3, ALL,
                 label="early", **kw)
    # Part c2: C = 2, Mf = 2, so s2 is the variance of only 4 entries and dividing by
    # n - 1 = 3 instead of n = 4 matters. Before t = 3 the window is [[1, 4], [1, 4]]:
    # sqrt entries 1, 2, 1, 2, s2 = 1/3 (1/4 if biased), s2 * Mf = 2/3 (1/2). At t = 3
    # channel 1 has psi = 3.077^2 and am - gm = (3.077 - 2)^2 / 2 = 0.58: kept (0.87 of
    # the threshold); a biased s2 would filter it.
    u = 3.077
    xs = [np.array(v, F32) for v in ([[1, 2], [-1, 2]], [[1, -2], [1, 2]],
                                     [[1, u], [-1, -u]], [[1.1, 2], [-0.9, 2.1]])]
    c = Training(func="step_c2", dtype="f32", xs=xs,
                 gys=[upstream(rng, x, "f32") for x in xs],
                 gamma=np.array([1.25, 0.75], F32), beta=np.array([0.125, -0.25], F32),
                 window_fwd=2, window_bwd=2, hparams=hp(**{k: v for k, v in kw.items()
                                                            if k != "noise"}),
                 attrs=ALL, label="c2")
    return Case("outlier-filtration", """
Adaptive outlier filtration, f32, x [2, 4, 8], Mf = Mb = 3, W = 3,
r_warmup = 4, momentum 0.8, eps 1e-4. The channels have different scales
(so s2, the spread of sqrt(win_x2) over all entries, is large next to the
step-to-step spread of one channel).
Part seq, 13 steps: the batches at t = 3 (= W), 7, 10 and 11 are scaled by
4, 4, 5 and 4.5 and are filtered: skip = 1, skips counts 1 to 4, the window
slot t mod Mf gets running_var, var = psi, r = 1, and the backward writes
ema_gz into its window slot and uses h = g - gz * z. t = 10 and 11 are
consecutive outliers. The other batches after W are kept and smoothed.
Part early, 3 steps (same @step): the batch at t = 2 is scaled by 4 but
t < W, so it is not tested and enters the window.
Part c2, 4 steps through @step_c2, x [2, 2], Mf = Mb = 2: s2 over only
Mf * C = 4 entries, where the unbiased variance (divide by 3) matters: at
t = 3 max(am - gm) is 0.87 of s2 * Mf and the batch is kept; with a biased
variance (divide by 4) it would be filtered.
Each test is checked far from its threshold (margins below).
""", [a, b, c])


def case_window_one():
    rng = np.random.RandomState(3003)
    C = 8
    ch = np.linspace(0.5, 2.0, C)
    a = training("step_c8", "f32", rng, [(3, C)] * 5, ch, [1.0, 1.4, 0.7, 1.0, 1.2], 1, 1, ALL,
                 noise=0.3, label="c8", warmup_iters=2, outlier_filtration=True, r_warmup=1,
                 r_max=2.0)
    b = training("step_c1", "f32", rng, [(4, 1)] * 4, [1.5], [1.0, 2.0, 0.5, 1.0], 1, 1, ALL,
                 noise=0.3, label="c1", warmup_iters=1, outlier_filtration=True, r_warmup=0,
                 r_max=2.0)
    return Case("window-one", """
Windows of length 1 (window_fwd = window_bwd = 1): skip = (Mf <= 1) is true
at every step, so var = psi, r = 1 (although t > r_warmup), the gradient
window gets the old ema_gz and mu = gz, and skips never moves.
Part c8: x [3, 8], W = 2, outlier filtration on: am - gm is psi - exp(log
psi) ~ 0, far below s2 * Mf (s2 is the spread of sqrt(psi) of the previous
step over the 8 channels). Part c1: x [4, 1], C = 1, W = 1: Mf * C = 1 so s2
is NaN and the outlier test is false even at t = 1.
""", [a, b])


def case_r_clamp():
    rng = np.random.RandomState(4004)
    C = 8
    base = np.linspace(0.7, 1.4, C)
    shapes = [(2, 3, C)] * 8
    xs_scale = []
    # From t = 4 on, channels 0 and 1 grow 5x and channels 2 and 3 shrink 5x.
    for t in range(1, 9):
        s = base.copy()
        if t >= 4:
            s[0:2] *= 5.0
            s[2:4] /= 5.0
        xs_scale.append(s)
    p = training("step", "f32", rng, shapes, base, [1.0] * 8, 2, 2, ALL, noise=0.2,
                 warmup_iters=2, r_warmup=3, r_max=3.0)
    # Replace the data by the per-step channel scales above.
    p.xs = [to_storage(activations(rng, sh, s, noise=0.2), "f32")
            for sh, s in zip(shapes, xs_scale)]
    p.gys = [upstream(rng, x, "f32") for x in p.xs]
    p.post = check_r_clamp
    return Case("r-clamp", """
Gradient-compensation clamp, f32, x [2, 3, 8], Mf = Mb = 2, W = 2,
r_warmup = 3, r_max = 3, 8 steps. From t = 4 channels 0-1 grow 5x and
channels 2-3 shrink 5x; running_var lags behind var, so sqrt(var + eps) /
sqrt(running_var + eps) goes past r_max on channels 0-1 at t = 5 and below
1/r_max on channels 2-3 from t = 5 on (r is r_max and 1/r_max there: 3 and
the f32 1/3), while channels 4-7 (and 0-1 after t = 5) keep an unclamped r
(per-step ratios below).
""", [p])


def check_r_clamp(p, steps):
    """Both bounds must be hit (with the unclamped ratio well past them) and some r free."""
    h = p.hparams
    r_max = F32(h["r_max"])
    lo_bound, hi_bound = F32(1) / r_max, r_max
    lines, hit_lo, hit_hi = [], False, False
    for _, info in steps:
        t = info["t"]
        if t <= max(h["r_warmup"], h["warmup_iters"]) or info["skip"]:
            continue
        raw = (np.sqrt(np.asarray(info["var"], np.float64) + h["eps"])
               / np.sqrt(np.asarray(info["rv"], np.float64) + h["eps"]))
        r = info["r"]
        hi, lo = raw > float(hi_bound), raw < float(lo_bound)
        assert np.all(r[hi] == hi_bound) and np.all(r[lo] == lo_bound)
        # Clamped ratios must be clearly past the bound, free ones clearly inside.
        rel = np.minimum(np.abs(raw / float(hi_bound) - 1), np.abs(raw / float(lo_bound) - 1))
        assert np.all(rel >= 0.02), (t, raw)
        hit_lo |= bool(lo.any())
        hit_hi |= bool(hi.any())
        free = ~(hi | lo)
        lines.append(f"t={t}: unclamped r = {', '.join(f'{v:.3g}' for v in raw)}; clamped to "
                     f"r_max on {np.flatnonzero(hi).tolist()}, to 1/r_max on "
                     f"{np.flatnonzero(lo).tolist()}, free on {np.flatnonzero(free).tolist()}")
    assert hit_lo and hit_hi, "r-clamp must hit both bounds"
    return lines


def padding_masks(rng, shapes, min_keep=1):
    masks = []
    for sh in shapes:
        m = rng.uniform(size=sh[:-1]) < 0.35
        flat = m.reshape(-1)
        if flat.sum() == 0:
            flat[rng.randint(flat.size)] = True
        if (~flat).sum() < min_keep:
            flat[:min_keep] = False
        masks.append(flat.reshape(sh[:-1]))
    return masks


def case_padding_mask():
    rng = np.random.RandomState(5005)
    C = 8
    ch = np.linspace(0.5, 2.0, C)
    shapes = [(2, 4, C)] * 6
    masks = padding_masks(rng, shapes, min_keep=3)
    p = training("step", "f32", rng, shapes, ch, [1.0, 1.2, 0.8, 1.1, 0.9, 1.3], 2, 2,
                 ("warmup_iters", "outlier_filtration", "r_max", "r_warmup"), noise=0.3,
                 masks=masks, warmup_iters=2, outlier_filtration=True, r_warmup=3, r_max=5.0)
    return Case("padding-mask", """
Padding mask, f32, x [2, 4, 8] with a mask [2, 4] (true = padding) that
changes every step, Mf = Mb = 2, W = 2, r_warmup = 3, outlier filtration on,
eps and momentum left at their defaults (attributes not written), 6 steps.
Padded tokens hold values 40x larger than the rest: they are left out of
psi (so of var, the window, the outlier test) but are normalized (z, y) and
count in gz, ggamma, gbeta and gx.
""", [p])


def case_lowp(name, dtype, seed):
    rng = np.random.RandomState(seed)
    C = 8
    ch = np.linspace(0.5, 2.0, C)
    scale = [1.0, 1.2, 0.9, 1.1, 4.0, 1.0, 0.8]
    shapes = [(2, 3, C)] * len(scale)
    masks = padding_masks(rng, shapes, min_keep=3) if dtype == "bf16" else None
    p = training("step", dtype, rng, shapes, ch, scale, 2, 2, ALL, noise=0.2, masks=masks,
                 warmup_iters=2, outlier_filtration=True, r_warmup=3, r_max=3.0)
    tol = {"f16": "1e-3 (one f16 ulp is\nat most 2^-10 = 9.8e-4 relative)",
           "bf16": "1e-2 (one bf16 ulp is\nat most 2^-7 = 7.8e-3 relative)"}[dtype]
    return Case(name, f"""
{dtype} activations: x, gy, gamma, beta, y, z, gx, ggamma, gbeta in {dtype},
every statistic in f32. x [2, 3, 8]{', with a padding mask' if masks else ''},
Mf = Mb = 2, W = 2, r_warmup = 3, r_max = 3, outlier filtration on, 7 steps;
the batch at t = 5 is scaled by 4 and filtered. The expected values round
to {dtype} where the op stores {dtype} (the reference rounds y, z, gx; the
generator rounds ggamma and gbeta, which the reference returns in f32).
Tolerances: {dtype} items {tol}; forward statistics 1e-5 (they depend only
on the exact {dtype} inputs); ema_gz and win_gz, computed from the
{dtype}-rounded z, get the {dtype} tolerance. Checked by re-running the
reference with every value moved by +-8 f32 ulps before rounding.
""", [p])


def case_dynamic_shapes():
    rng = np.random.RandomState(6006)
    C = 8
    ch = np.linspace(0.5, 2.0, C)
    shapes = [(2, 3, C), (1, 5, C), (3, 2, C), (2, 4, C), (4, 1, C), (2, 3, C)]
    masks = padding_masks(rng, shapes, min_keep=2)
    a = training("step_dyn", "f32", rng, shapes, ch, [1.0, 1.2, 0.9, 1.1, 4.0, 1.0], 3, 2, ALL,
                 noise=0.2, masks=masks, label="dyn", warmup_iters=2, outlier_filtration=True,
                 r_warmup=3, r_max=5.0, x_dims=["?", "?", C], mf_dim="?", mb_dim="?")
    C2 = 4
    b = training("step_dyn_c", "f32", rng, [(5, C2)] * 5, np.linspace(0.8, 1.6, C2),
                 [1.0, 1.3, 0.8, 1.0, 1.2], 2, 3, ALL, data="gaussian", label="dync",
                 warmup_iters=2, r_warmup=3, r_max=5.0, x_dims=["?", "?"], c_dim="?",
                 mf_dim="?", mb_dim="?")
    return Case("dynamic-shapes", """
Dynamic shapes. Part dyn: @step_dyn takes x and gy as tensor<?x?x8xf32>, the
mask as tensor<?x?xi1> and the windows as tensor<?x8xf32>; the batch shape
changes every step ([2,3], [1,5], [3,2], [2,4], [4,1], [2,3] tokens), with a
padding mask, Mf = 3 and Mb = 2 (different window lengths), W = 2,
r_warmup = 3, outlier filtration on; the batch at t = 5 is an outlier.
Part dync: @step_dyn_c is fully dynamic (x tensor<?x?xf32>, gamma, beta and
statistics tensor<?xf32>, windows tensor<?x?xf32>), x [5, 4], Mf = 2,
Mb = 3, Gaussian data, no outlier filtration. main casts the constants to
the dynamic types before the calls and the results back before printing.
""", [a, b])


def case_all_zero():
    rng = np.random.RandomState(7007)
    C = 8
    ch = np.linspace(0.5, 2.0, C)
    zero = [1.0, 1.1, 0.9, 0.0, 0.0, 0.0, 1.0, 0.0, 1.2]
    a = training("step", "f32", rng, [(2, 3, C)] * len(zero), ch, zero, 2, 2, ALL, noise=0.2,
                 label="after", warmup_iters=2, outlier_filtration=True, r_warmup=2,
                 r_max=5.0)
    b = training("step", "f32", rng, [(2, 3, C)] * 5, ch, [0.0, 0.0, 0.0, 1.0, 1.0], 2, 2,
                 ALL, noise=0.2, label="fresh", warmup_iters=2, outlier_filtration=True,
                 r_warmup=2, r_max=5.0)
    # Channels 0-2 are always zero; channel 3 is zero at t = 3, 5 and 6.
    dead_ch = np.array([0.0, 0.0, 0.0, 0.6, 0.8, 1.0, 1.2, 1.4])
    dead_scale = []
    for t in range(1, 9):
        s = np.ones(C)
        if t in (3, 5, 6):
            s[3] = 0.0
        dead_scale.append(s)
    c = training("step", "f32", rng, [(2, 3, C)] * 8, dead_ch, dead_scale, 2, 2, ALL,
                 noise=0.2, label="dead", warmup_iters=2, outlier_filtration=True, r_warmup=2,
                 r_max=5.0)
    return Case("all-zero", """
Zero inputs (log(0) = -inf in the geometric means) with smoothing and outlier
filtration on, f32, x [2, 3, 8], Mf = Mb = 2, W = 2, r_warmup = 2, r_max = 5,
all three parts through one @step.
Part after: 3 normal steps, then all-zero batches at t = 4, 5, 6 and 8. In
the outlier test the new window column holds psi = 0, so gm = exp(-inf) = 0
and am - gm = am; the zero batches (and the normal ones between them) are
filtered: var = psi = 0, z = 0 / sqrt(eps) = 0, y = beta, running_var
decays, the slot gets running_var.
Part fresh: zero batches from the fresh state (all-zero window): s2 = 0,
am = gm = 0 and 0 > 0 is false, exactly; at t = 3 > Mf var is the geometric
mean of an all-zero window, exp(-inf) = 0; then two normal batches: with
s2 = 0 the first one is an outlier.
Part dead: channels 0-2 are zero at every step and channel 3 at t = 3, 5, 6.
The dead channels give am = gm = 0 (0 - 0) and var = 0, z = 0; the batches
are kept, so at t = 4 and 7 channel 3 has a zero in its window column and
a nonzero x: var = exp(-inf) = 0 and z = x / sqrt(eps) (about 300 x), r
clamps to 1/r_max there, and gx = (g - ema_gz * z) / sqrt(eps).
""", [a, b, c])


def case_inference():
    rng = np.random.RandomState(8008)
    parts = []

    def mk(label, func, dtype, shape, x_dims=None, c_dim=None, eps=None):
        C = shape[-1]
        x = to_storage(gaussian(rng, shape, np.linspace(0.5, 3.0, C)), dtype)
        gamma, beta = affine_params(rng, C, dtype)
        rv = (0.2 + 3.0 * rng.uniform(size=C)).astype(F32)
        parts.append(Inference(func=func, dtype=dtype, x=x, gamma=gamma, beta=beta,
                               running_var=rv, eps=eps, x_dims=x_dims, c_dim=c_dim,
                               label=label))

    mk("static", "infer_static", "f32", (5, 8))
    mk("dyn1", "infer_dyn", "f32", (5, 8), x_dims=["?", "?"], c_dim="?", eps=1e-3)
    mk("dyn2", "infer_dyn", "f32", (3, 4), x_dims=["?", "?"], c_dim="?", eps=1e-3)
    mk("f16", "infer_f16", "f16", (2, 3, 8), x_dims=["?", 3, 8])
    mk("inline", None, "f32", (2, 2, 8), eps=1e-3)
    return Case("inference", """
Inference, y = gamma * x / sqrt(running_var + eps) + beta with fixed
running_var: @infer_static (f32, [5, 8]); @infer_dyn (fully dynamic
tensor<?x?xf32>, eps = 1e-3) called on [5, 8] and on [3, 4]; @infer_f16
(tensor<?x3x8xf16>, default eps, f16 output compared with rtol 1e-3); and
un.infer inline in @main on constants (which canonicalizes to un.affine
with a constant f32 scale when the pipeline canonicalizes).
""", parts)


CASES = [
    case_warmup_smoothing,
    case_outlier_filtration,
    case_window_one,
    case_r_clamp,
    case_padding_mask,
    lambda: case_lowp("f16", "f16", 9009),
    lambda: case_lowp("bf16", "bf16", 9119),
    case_dynamic_shapes,
    case_all_zero,
    case_inference,
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=str(HERE), help="output directory (default: next to "
                    "this script)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for make in CASES:
        case = make()
        text = render(case)
        path = out / f"{case.name}.mlir"
        path.write_text(text)
        if not args.quiet:
            print(f"{path}: {len(text) // 1024} KiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
