"""Transformer blocks in MLIR (linalg, tensor, arith, math and un ops).

Each block is written the way torch-mlir lowers a PyTorch module: a Linear
is `linalg.fill` + `linalg.matmul` + a broadcast bias add in a
`linalg.generic` (with the GELU or the residual add in the same generic),
attention is reshapes, transposes, two `linalg.batch_matmul`s and a softmax
of four generics. The normalization is a parameter:

  "un"    `un.infer` (gamma, beta, running_var are arguments)
  "ln"    LayerNorm written in linalg (mean, variance, normalize generics)
  "none"  no normalization at all

Blocks (activations `tensor<B x T x C>`):

  vit   pre-norm encoder block (ViT / T2T-ViT / DeiT): norm before the
        Q/K/V projections and before the MLP
  bert  post-norm encoder block (BERT / fairseq): norm after each residual
  head  final norm, class token, classifier Linear

`block_mlir(kind, norm, dims)` returns the function's MLIR text and
`parameters(kind, norm, dims)` the names and shapes of its arguments;
`example_inputs` draws arguments at a realistic scale.

`Dims.dtype` is the element type of the activations, weights, biases and
norm parameters (running variances stay f32): "f32", or "bf16" as mixed
precision runs a model: matmuls read bf16 and accumulate in f32, every
elementwise op and reduction computes in f32 from bf16 loads, and what an
op stores as an activation is rounded to bf16 (scores and softmax
statistics stay f32).

Internal helper of the package, tests and benchmarks, not public API
(docs/api.md).
"""
import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dims:
    batch: int = 1
    tokens: int = 197
    channels: int = 384
    heads: int = 6
    mlp: int = 1536
    classes: int = 1000
    eps: float = 1e-5
    dtype: str = "f32"


VIT_S = Dims()
BERT_BASE = Dims(batch=1, tokens=128, channels=768, heads=12, mlp=3072)
SMALL = Dims(batch=2, tokens=5, channels=8, heads=2, mlp=16, classes=3)
NORMS = ("un", "ln", "none")
KINDS = ("vit", "bert", "head")


DTYPES = ("f32", "bf16")


def _t(shape, et="f32"):
    return "tensor<" + "x".join(str(d) for d in shape) + f"x{et}>"


def argument_type(name, d):
    """Element type of the argument `name`: running variances are f32."""
    return "f32" if name.startswith("rv") else d.dtype


def _norm_params(norm, index, C):
    if norm == "un":
        return [(f"g{index}", (C,)), (f"beta{index}", (C,)), (f"rv{index}", (C,))]
    if norm == "ln":
        return [(f"g{index}", (C,)), (f"beta{index}", (C,))]
    return []


def parameters(kind, norm, d):
    """[(name, shape)] of the block's arguments, activations first."""
    B, T, C, F = d.batch, d.tokens, d.channels, d.mlp
    x = [("x", (B, T, C))]
    attention = [("wq", (C, C)), ("bq", (C,)), ("wk", (C, C)), ("bk", (C,)),
                 ("wv", (C, C)), ("bv", (C,)), ("wo", (C, C)), ("bo", (C,))]
    mlp = [("w1", (C, F)), ("b1", (F,)), ("w2", (F, C)), ("b2", (C,))]
    if kind == "vit":
        return x + _norm_params(norm, 1, C) + attention + _norm_params(norm, 2, C) + mlp
    if kind == "bert":
        return x + attention + _norm_params(norm, 1, C) + mlp + _norm_params(norm, 2, C)
    if kind == "head":
        return x + _norm_params(norm, 1, C) + [("wh", (C, d.classes)), ("bh", (d.classes,))]
    raise ValueError(kind)


def result_shape(kind, d):
    return (d.batch, d.classes) if kind == "head" else (d.batch, d.tokens, d.channels)


class _Emitter:
    def __init__(self, d):
        self.lines = []
        self.count = 0
        self.eps = d.eps
        self.dt = d.dtype  # storage type of activations and weights
        self.constants = {}

    def fresh(self, base):
        self.count += 1
        return f"%{base}{self.count}"

    def emit(self, line):
        self.lines.append("  " + line)

    def const(self, value):
        if value not in self.constants:
            name = self.fresh("cst")
            literal = value if isinstance(value, str) else f"{value:.9e}"
            self.emit(f"{name} = arith.constant {literal} : f32")
            self.constants[value] = name
        return self.constants[value]

    def empty(self, shape, et="f32"):
        name = self.fresh("e")
        self.emit(f"{name} = tensor.empty() : {_t(shape, et)}")
        return name

    def filled(self, shape, value):
        e = self.empty(shape)
        name = self.fresh("f")
        self.emit(f"{name} = linalg.fill ins({self.const(value)} : f32) outs({e} : {_t(shape)})"
                  f" -> {_t(shape)}")
        return name

    def generic(self, ins, out, iterators, body, out_init=None):
        """ins: [(value, shape, map[, element type])]; out: (shape, map[,
        element type]); body(args) -> lines, result, in f32: bf16 inputs
        are extended first and a bf16 result is rounded last."""
        ins = [i if len(i) == 4 else (*i, "f32") for i in ins]
        shape, out_map, out_et = out if len(out) == 3 else (*out, "f32")
        init = out_init or self.empty(shape, out_et)
        name = self.fresh("g")
        maps_text = ", ".join(i[2] for i in ins) + (", " if ins else "") + out_map
        ins_text = ", ".join(i[0] for i in ins)
        types = ", ".join(_t(i[1], i[3]) for i in ins)
        its = ", ".join(f'"{i}"' for i in iterators)
        raw = [(f"%in{i}", ins[i][3]) for i in range(len(ins))] + [("%out", out_et)]
        lines, args = [], []
        for a, et in raw:
            if et == "f32":
                args.append(a)
            else:
                lines.append(f"{a}_f = arith.extf {a} : {et} to f32")
                args.append(a + "_f")
        body_lines, result = body(args)
        lines += body_lines
        if out_et != "f32":
            lines.append(f"%rounded = arith.truncf {result} : f32 to {out_et}")
            result = "%rounded"
        self.emit(f"{name} = linalg.generic {{indexing_maps = [{maps_text}], "
                  f"iterator_types = [{its}]}} ins({ins_text} : {types}) "
                  f"outs({init} : {_t(shape, out_et)}) {{")
        self.emit("^bb0(" + ", ".join(f"{a}: {et}" for a, et in raw) + "):")
        for line in lines:
            self.emit("  " + line)
        self.emit(f"  linalg.yield {result} : {out_et}")
        self.emit(f"}} -> {_t(shape, out_et)}")
        return name

    def rounded(self, x, shape):
        """`x` (f32) in the storage type."""
        if self.dt == "f32":
            return x
        ident = f"affine_map<({', '.join(f'd{i}' for i in range(len(shape)))}) -> " \
                f"({', '.join(f'd{i}' for i in range(len(shape)))})>"
        return self.generic([(x, shape, ident)], (shape, ident, self.dt),
                            ["parallel"] * len(shape), lambda a: ([], a[0]))

    # ----------------------------------------------------------- layers

    def linear(self, x, w, b, M, K, N, act=None, residual=None):
        """x [M, K] W [K, N] + b, then GELU or + residual [M, N]."""
        dt = self.dt
        f = self.filled((M, N), 0.0)
        m = self.fresh("mm")
        self.emit(f"{m} = linalg.matmul ins({x}, {w} : {_t((M, K), dt)}, {_t((K, N), dt)}) "
                  f"outs({f} : {_t((M, N))}) -> {_t((M, N))}")
        ident = "affine_map<(d0, d1) -> (d0, d1)>"
        row = "affine_map<(d0, d1) -> (d1)>"
        ins = [(m, (M, N), ident), (b, (N,), row, dt)]
        if residual:
            ins.append((residual, (M, N), ident, dt))

        def body(args):
            lines = [f"%u = arith.addf {args[0]}, {args[1]} : f32"]
            result = "%u"
            if act == "gelu":
                lines += [
                    "%u2 = arith.mulf %u, %u : f32",
                    "%u3 = arith.mulf %u2, %u : f32",
                    "%k3 = arith.constant 0.044715 : f32",
                    "%p = arith.mulf %k3, %u3 : f32",
                    "%q = arith.addf %u, %p : f32",
                    "%k = arith.constant 0.7978845608 : f32",
                    "%s = arith.mulf %k, %q : f32",
                    "%th = math.tanh %s : f32",
                    "%one = arith.constant 1.0 : f32",
                    "%t1 = arith.addf %one, %th : f32",
                    "%half = arith.constant 0.5 : f32",
                    "%h = arith.mulf %half, %u : f32",
                    "%gl = arith.mulf %h, %t1 : f32"]
                result = "%gl"
            if residual:
                lines.append(f"%r = arith.addf {result}, {args[2]} : f32")
                result = "%r"
            return lines, result

        return self.generic(ins, ((M, N), ident, dt), ["parallel", "parallel"], body)

    def norm(self, kind, x, shape, params):
        """Normalization over the last dim of `x` (any rank)."""
        if kind == "none":
            return x
        rank = len(shape)
        dims = ", ".join(f"d{i}" for i in range(rank))
        dt = self.dt
        if kind == "un":
            g, beta, rv = params
            C = shape[-1]
            name = self.fresh("un")
            self.emit(f"{name} = un.infer {x}, {g}, {beta}, {rv} {{eps = {self.eps:e} : f32}} : "
                      f"({_t(shape, dt)}, {_t((C,), dt)}, {_t((C,), dt)}, {_t((C,))}) -> "
                      f"{_t(shape, dt)}")
            return name
        # LayerNorm: mean and variance over C per token, then normalize.
        g, beta = params
        C = shape[-1]
        tokens = shape[:-1]
        tdims = ", ".join(f"d{i}" for i in range(rank - 1))
        ident = f"affine_map<({dims}) -> ({dims})>"
        tok = f"affine_map<({dims}) -> ({tdims})>"
        chan = f"affine_map<({dims}) -> (d{rank - 1})>"
        red = ["parallel"] * (rank - 1) + ["reduction"]
        par = ["parallel"] * rank
        inv_c = self.const(1.0 / C)
        eps = self.const(self.eps)
        mean = self.generic(
            [(x, shape, ident, dt)], (tokens, tok), red,
            lambda a: ([f"%m = arith.mulf {a[0]}, {inv_c} : f32",
                        "%s = arith.addf %out, %m : f32"], "%s"),
            out_init=self.filled(tokens, 0.0))
        var = self.generic(
            [(x, shape, ident, dt), (mean, tokens, tok)], (tokens, tok), red,
            lambda a: ([f"%d = arith.subf {a[0]}, {a[1]} : f32",
                        "%d2 = arith.mulf %d, %d : f32",
                        f"%m = arith.mulf %d2, {inv_c} : f32",
                        "%s = arith.addf %out, %m : f32"], "%s"),
            out_init=self.filled(tokens, 0.0))
        return self.generic(
            [(x, shape, ident, dt), (mean, tokens, tok), (var, tokens, tok),
             (g, (C,), chan, dt), (beta, (C,), chan, dt)], (shape, ident, dt), par,
            lambda a: ([f"%d = arith.subf {a[0]}, {a[1]} : f32",
                        f"%v = arith.addf {a[2]}, {eps} : f32",
                        "%sd = math.sqrt %v : f32",
                        "%z = arith.divf %d, %sd : f32",
                        f"%gz = arith.mulf %z, {a[3]} : f32",
                        f"%y = arith.addf %gz, {a[4]} : f32"], "%y"))

    def collapse(self, x, shape, groups, out_shape, et=None):
        et = et or self.dt
        name = self.fresh("c")
        self.emit(f"{name} = tensor.collapse_shape {x} {groups} : {_t(shape, et)} into "
                  f"{_t(out_shape, et)}")
        return name

    def expand(self, x, shape, groups, out_shape, et=None):
        et = et or self.dt
        name = self.fresh("x")
        sizes = ", ".join(str(s) for s in out_shape)
        self.emit(f"{name} = tensor.expand_shape {x} {groups} output_shape [{sizes}] : "
                  f"{_t(shape, et)} into {_t(out_shape, et)}")
        return name

    def transpose(self, x, shape, perm, et=None):
        et = et or self.dt
        out_shape = tuple(shape[p] for p in perm)
        e = self.empty(out_shape, et)
        name = self.fresh("tr")
        self.emit(f"{name} = linalg.transpose ins({x} : {_t(shape, et)}) "
                  f"outs({e} : {_t(out_shape, et)}) permutation = [{', '.join(map(str, perm))}]")
        return name, out_shape

    def heads(self, y, d, perm):
        """[B*T, C] -> [B*H, ., .] with the head dims ordered by `perm`."""
        B, T, C, H = d.batch, d.tokens, d.channels, d.heads
        D = C // H
        y4 = self.expand(y, (B * T, C), "[[0, 1], [2, 3]]", (B, T, H, D))
        yt, shape = self.transpose(y4, (B, T, H, D), perm)
        return self.collapse(yt, shape, "[[0, 1], [2], [3]]",
                             (B * H, shape[2], shape[3]))

    def attention(self, q, k, v, d):
        B, T, C, H = d.batch, d.tokens, d.channels, d.heads
        D = C // H
        BH = B * H
        qh = self.heads(q, d, (0, 2, 1, 3))  # [BH, T, D]
        kh = self.heads(k, d, (0, 2, 3, 1))  # [BH, D, T]
        vh = self.heads(v, d, (0, 2, 1, 3))  # [BH, T, D]
        dt = self.dt
        f = self.filled((BH, T, T), 0.0)
        s = self.fresh("scores")
        self.emit(f"{s} = linalg.batch_matmul ins({qh}, {kh} : {_t((BH, T, D), dt)}, "
                  f"{_t((BH, D, T), dt)}) outs({f} : {_t((BH, T, T))}) -> {_t((BH, T, T))}")
        ident = "affine_map<(d0, d1, d2) -> (d0, d1, d2)>"
        row = "affine_map<(d0, d1, d2) -> (d0, d1)>"
        red = ["parallel", "parallel", "reduction"]
        par = ["parallel"] * 3
        scale = self.const(1.0 / math.sqrt(D))
        mx = self.generic([(s, (BH, T, T), ident)], ((BH, T), row), red,
                          lambda a: ([f"%m = arith.maximumf %out, {a[0]} : f32"], "%m"),
                          out_init=self.filled((BH, T), "0xFF800000"))
        ex = self.generic([(s, (BH, T, T), ident), (mx, (BH, T), row)], ((BH, T, T), ident), par,
                          lambda a: ([f"%d = arith.subf {a[0]}, {a[1]} : f32",
                                      f"%ds = arith.mulf %d, {scale} : f32",
                                      "%ex = math.exp %ds : f32"], "%ex"))
        sm = self.generic([(ex, (BH, T, T), ident)], ((BH, T), row), red,
                          lambda a: ([f"%s = arith.addf %out, {a[0]} : f32"], "%s"),
                          out_init=self.filled((BH, T), 0.0))
        p = self.generic([(ex, (BH, T, T), ident), (sm, (BH, T), row)], ((BH, T, T), ident, dt),
                         par, lambda a: ([f"%p = arith.divf {a[0]}, {a[1]} : f32"], "%p"))
        f2 = self.filled((BH, T, D), 0.0)
        o = self.fresh("ctx")
        self.emit(f"{o} = linalg.batch_matmul ins({p}, {vh} : {_t((BH, T, T), dt)}, "
                  f"{_t((BH, T, D), dt)}) outs({f2} : {_t((BH, T, D))}) -> {_t((BH, T, D))}")
        o = self.rounded(o, (BH, T, D))
        o4 = self.expand(o, (BH, T, D), "[[0, 1], [2], [3]]", (B, H, T, D))
        ot, shape = self.transpose(o4, (B, H, T, D), (0, 2, 1, 3))
        return self.collapse(ot, shape, "[[0, 1], [2, 3]]", (B * T, C))


def _emit_block(em, kind, norm, d, p, x3):
    """Emits block `kind` on the activations `x3` [B, T, C] with the
    arguments `p` ({parameter name: SSA name}); returns its result."""
    B, T, C, F = d.batch, d.tokens, d.channels, d.mlp
    N = B * T

    def norm_args(i):
        return [p[n] for n, _ in _norm_params(norm, i, C)]

    if kind == "vit":
        n1 = em.norm(norm, x3, (B, T, C), norm_args(1))
        n1c = em.collapse(n1, (B, T, C), "[[0, 1], [2]]", (N, C))
        xc = em.collapse(x3, (B, T, C), "[[0, 1], [2]]", (N, C))
        q = em.linear(n1c, p["wq"], p["bq"], N, C, C)
        k = em.linear(n1c, p["wk"], p["bk"], N, C, C)
        v = em.linear(n1c, p["wv"], p["bv"], N, C, C)
        a = em.attention(q, k, v, d)
        x1 = em.linear(a, p["wo"], p["bo"], N, C, C, residual=xc)
        n2 = em.norm(norm, x1, (N, C), norm_args(2))
        h = em.linear(n2, p["w1"], p["b1"], N, C, F, act="gelu")
        x2 = em.linear(h, p["w2"], p["b2"], N, F, C, residual=x1)
        return em.expand(x2, (N, C), "[[0, 1], [2]]", (B, T, C))
    if kind == "bert":
        xc = em.collapse(x3, (B, T, C), "[[0, 1], [2]]", (N, C))
        q = em.linear(xc, p["wq"], p["bq"], N, C, C)
        k = em.linear(xc, p["wk"], p["bk"], N, C, C)
        v = em.linear(xc, p["wv"], p["bv"], N, C, C)
        a = em.attention(q, k, v, d)
        h1 = em.linear(a, p["wo"], p["bo"], N, C, C, residual=xc)
        y1 = em.norm(norm, h1, (N, C), norm_args(1))
        f = em.linear(y1, p["w1"], p["b1"], N, C, F, act="gelu")
        h2 = em.linear(f, p["w2"], p["b2"], N, F, C, residual=y1)
        y2 = em.norm(norm, h2, (N, C), norm_args(2))
        return em.expand(y2, (N, C), "[[0, 1], [2]]", (B, T, C))
    if kind == "head":
        n = em.norm(norm, x3, (B, T, C), norm_args(1))
        cls = em.fresh("cls")
        em.emit(f"{cls} = tensor.extract_slice {n}[0, 0, 0] [{B}, 1, {C}] [1, 1, 1] : "
                f"{_t((B, T, C), d.dtype)} to {_t((B, C), d.dtype)}")
        return em.linear(cls, p["wh"], p["bh"], B, C, d.classes)
    raise ValueError(kind)


def _check_dtype(d):
    if d.dtype not in DTYPES:
        raise ValueError(f"element type {d.dtype!r}: not one of {DTYPES}")


def _function(name, params, em, out, rtype, c_interface, d):
    args = ", ".join(f"%{n}: {_t(s, argument_type(n, d))}" for n, s in params)
    attrs = " attributes {llvm.emit_c_interface}" if c_interface else ""
    return (f"func.func @{name}({args}) -> {rtype}{attrs} {{\n" + "\n".join(em.lines)
            + f"\n  return {out} : {rtype}\n}}\n")


def block_mlir(kind, norm, d, name=None, c_interface=False):
    """MLIR text of one function computing block `kind` with `norm`."""
    if norm not in NORMS:
        raise ValueError(norm)
    _check_dtype(d)
    name = name or f"{kind}_block"
    params = parameters(kind, norm, d)
    em = _Emitter(d)
    out = _emit_block(em, kind, norm, d, {n: f"%{n}" for n, _ in params}, "%x")
    return _function(name, params, em, out, _t(result_shape(kind, d), d.dtype), c_interface, d)


def encoder_parameters(kind, norm, d, layers):
    """[(name, shape)] of `encoder_mlir`'s arguments: x, then each layer's
    parameters prefixed `l<i>_`."""
    per_layer = parameters(kind, norm, d)[1:]
    return [parameters(kind, norm, d)[0]] + [(f"l{i}_{n}", s) for i in range(layers)
                                             for n, s in per_layer]


def encoder_mlir(kind, norm, d, layers, name=None, c_interface=False):
    """MLIR text of one function applying `layers` blocks `kind` ("vit" or
    "bert") in sequence, each with its own weights, all in one function as
    torch-mlir imports a whole encoder."""
    if kind not in ("vit", "bert") or norm not in NORMS:
        raise ValueError((kind, norm))
    _check_dtype(d)
    name = name or f"{kind}_encoder"
    params = encoder_parameters(kind, norm, d, layers)
    em = _Emitter(d)
    x = "%x"
    for i in range(layers):
        p = {n[len(f"l{i}_"):]: f"%{n}" for n, _ in params if n.startswith(f"l{i}_")}
        x = _emit_block(em, kind, norm, d, p, x)
    return _function(name, params, em, x, _t(result_shape(kind, d), d.dtype), c_interface, d)


def matmul_mlir(name, m, k, n, accumulate=False):
    """MLIR text of `@name(a [m, k], b [k, n]) -> a @ b` as a Linear lowers
    (zero-filled result, then linalg.matmul), or with `accumulate`
    `@name(a, b, c) -> c + a @ b`."""
    a, b, c = _t((m, k)), _t((k, n)), _t((m, n))
    if accumulate:
        return (f"func.func @{name}(%a: {a}, %b: {b}, %c: {c}) -> {c} {{\n"
                f"  %r = linalg.matmul ins(%a, %b : {a}, {b}) outs(%c : {c}) -> {c}\n"
                f"  return %r : {c}\n}}\n")
    return (f"func.func @{name}(%a: {a}, %b: {b}) -> {c} {{\n"
            f"  %zero = arith.constant 0.0 : f32\n"
            f"  %e = tensor.empty() : {c}\n"
            f"  %f = linalg.fill ins(%zero : f32) outs(%e : {c}) -> {c}\n"
            f"  %r = linalg.matmul ins(%a, %b : {a}, {b}) outs(%f : {c}) -> {c}\n"
            f"  return %r : {c}\n}}\n")


def norm_mlir(norm, shape, eps=1e-5, name=None):
    """MLIR text of one function applying normalization `norm` ("un" or
    "ln") alone to `x` of `shape` (over its last dim)."""
    name = name or f"{norm}_only"
    C = shape[-1]
    params = [("x", tuple(shape))] + _norm_params(norm, 1, C)
    em = _Emitter(Dims(eps=eps))
    y = em.norm(norm, "%x", tuple(shape), [f"%{n}" for n, _ in params[1:]])
    args = ", ".join(f"%{n}: {_t(s)}" for n, s in params)
    return (f"func.func @{name}({args}) -> {_t(shape)} {{\n" + "\n".join(em.lines)
            + f"\n  return {y} : {_t(shape)}\n}}\n")


def example_inputs(kind, norm, d, rng):
    """Arguments at the scale of a trained model: x ~ N(0, 1), weights
    ~ N(0, 1 / fan_in), biases and beta ~ N(0, 0.02^2), gamma ~ 1 + N(0,
    0.1^2), running_var ~ U(0.5, 2)."""
    out = []
    for name, shape in parameters(kind, norm, d):
        if name == "x":
            a = rng.standard_normal(shape)
        elif name.startswith("w"):
            a = rng.standard_normal(shape) / math.sqrt(shape[0])
        elif name.startswith("g"):
            a = 1 + 0.1 * rng.standard_normal(shape)
        elif name.startswith("rv"):
            a = rng.uniform(0.5, 2.0, shape)
        else:  # biases, beta
            a = 0.02 * rng.standard_normal(shape)
        out.append(np.ascontiguousarray(a, np.float32))
    return out


def without_norm_inputs(kind, norm, d, inputs):
    """The arguments of the "none" variant among those of `norm`'s."""
    keep = {n for n, _ in parameters(kind, "none", d)}
    return [a for (n, _), a in zip(parameters(kind, norm, d), inputs) if n in keep]
