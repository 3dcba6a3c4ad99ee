"""Export PyTorch models to MLIR with `un` ops.

`export(model, example_inputs, mode="eval" | "train")` traces the model with
torch.fx (`UnifiedNorm` and the standard `torch.nn` layers are leaves),
runs it once on the example inputs to learn every shape (and the Python
values of `x.shape`-style expressions), and emits one MLIR module on
tensors with static shapes:

- `mode="eval"`: `func.func @forward(inputs...) -> outputs`; UnifiedNorm is
  `un.infer` with its running statistics (as constants, or as arguments
  with `params="arguments"`), everything else linalg / tensor / arith /
  math: Linear (linalg.matmul on the transposed weight + bias), LayerNorm,
  matmul/bmm, add/sub/mul/div, GELU/ReLU/SiLU/tanh/sigmoid, softmax,
  reshape/view/flatten/permute/transpose/unsqueeze, getitem/unbind/chunk,
  dropout and identity (eval), scaled_dot_product_attention.
- `mode="train"`: `@forward` with `un.train_forward` and the UN state in and
  out, plus `@backward` with `un.train_backward` and the reverse-mode
  gradients of the rest (Linear, add/sub, scalar mul, ReLU, reshapes,
  identity); parameters are arguments. See `Exported` for the argument and
  result layout.

Anything the exporter cannot translate is named in an `ExportError`; no op
is ever dropped. The IR is accepted by `un-opt --un-cpu-pipeline`.
"""
import dataclasses
import math
import operator
from typing import Dict, List

import numpy as np
import torch
import torch.fx
import torch.nn.functional as F
from torch import nn

from .module import UnifiedNorm

__all__ = ["export", "Exported", "ExportError"]


class ExportError(Exception):
    """The model contains something the exporter cannot translate."""


@dataclasses.dataclass
class V:
    """An SSA value: name, static shape and element type."""
    name: str
    shape: tuple
    dtype: str = "f32"

    @property
    def type(self):
        return _ttype(self.shape, self.dtype)


def _ttype(shape, dt):
    return "tensor<" + "".join(f"{d}x" for d in shape) + dt + ">"


def _flt(v):
    """An MLIR f32 literal."""
    v = float(np.float32(v))
    if math.isnan(v):
        return "0x7FC00000"
    if math.isinf(v):
        return "0x7F800000" if v > 0 else "0xFF800000"
    return "%.9e" % v


_TORCH_DTYPES = {torch.float32: "f32"}


@dataclasses.dataclass
class Exported:
    """An exported model. `text` is the MLIR module (also `str(exported)`).

    `signatures[func]` = (argument names, result names) of each function
    (`forward`, and `backward` in train mode). Names:
    `input:<i>` (the i-th example input), `output:<i>`,
    `param:<qualified name>` (parameters and buffers passed as arguments),
    `state:<layer>.<running_var|win_x2|skips|t|ema_gz|win_gz>` (UN state;
    `t` is the step number, already incremented: the first step is 1),
    `saved:<...>` (forward values the backward needs), `grad:<name>`.
    `pack(func, values)` orders a {name: value} dict as arguments and
    `unpack(func, results)` names a JIT call's results."""

    text: str
    mode: str
    signatures: Dict[str, tuple]
    un_layers: List[str]

    def __str__(self):
        return self.text

    def pack(self, func, values):
        names = self.signatures[func][0]
        missing = [n for n in names if n not in values]
        if missing:
            raise KeyError(f"@{func} needs {missing}")
        return [values[n] for n in names]

    def unpack(self, func, results):
        names = self.signatures[func][1]
        if not isinstance(results, tuple):
            results = (results,)
        return dict(zip(names, results))


class _Tracer(torch.fx.Tracer):
    def is_leaf_module(self, m, qualname):
        return isinstance(m, UnifiedNorm) or super().is_leaf_module(m, qualname)


def _trace(model):
    tracer = _Tracer()
    tracer.record_stack_traces = True  # errors show the user's source line
    graph = tracer.trace(model)
    return torch.fx.GraphModule(model, graph)


def _concrete_values(gm, inputs):
    """Runs the graph once, recording every node's value."""
    values = {}

    class Recorder(torch.fx.Interpreter):
        def run_node(self, n):
            r = super().run_node(n)
            values[n] = r
            return r

    with torch.no_grad():
        Recorder(gm).run(*inputs)
    return values


class _Func:
    """Builds one func.func: arguments, body lines, results."""

    def __init__(self, name):
        self.name = name
        self.args = []      # (V, name)
        self.lines = []
        self.counter = 0
        self.results = []   # (V or scalar V, name)

    def fresh(self, prefix="v"):
        self.counter += 1
        return f"%{prefix}{self.counter}"

    def emit(self, line, indent=2):
        self.lines.append(" " * indent + line)

    def arg(self, shape, dt, label, scalar=False):
        v = V(f"%arg{len(self.args)}", tuple(shape), dt)
        v.scalar = scalar
        self.args.append((v, label))
        return v

    def text(self):
        def t(v):
            return v.dtype if getattr(v, "scalar", False) else v.type
        args = ", ".join(f"{v.name}: {t(v)}" for v, _ in self.args)
        res = ", ".join(t(v) for v, _ in self.results)
        out = [f"func.func @{self.name}({args}) -> ({res}) {{"] + self.lines
        out.append("  return " + ", ".join(v.name for v, _ in self.results) +
                   (" : " + res if self.results else ""))
        out.append("}")
        return "\n".join(out)

    # ------------------------------------------------------------ builders

    def const(self, arr, dt="f32"):
        arr = np.ascontiguousarray(np.asarray(arr, np.float32))
        name = self.fresh("cst")
        flat = arr.reshape(-1)
        if flat.size and np.all(flat == flat[0]):
            lit = _flt(flat[0])
        else:
            lit = '"0x' + arr.tobytes().hex().upper() + '"'
        self.emit(f"{name} = arith.constant dense<{lit}> : {_ttype(arr.shape, dt)}")
        return V(name, tuple(arr.shape), dt)

    def scalar(self, value, dt="f32", indent=2):
        name = self.fresh("c")
        if dt == "f32":
            self.emit(f"{name} = arith.constant {_flt(value)} : f32", indent)
        else:
            self.emit(f"{name} = arith.constant {int(value)} : {dt}", indent)
        return name

    def empty(self, shape, dt="f32"):
        name = self.fresh("e")
        self.emit(f"{name} = tensor.empty() : {_ttype(shape, dt)}")
        return V(name, tuple(shape), dt)

    def fill(self, shape, value, dt="f32"):
        e = self.empty(shape, dt)
        c = self.scalar(value, dt)
        name = self.fresh("f")
        self.emit(f"{name} = linalg.fill ins({c} : {dt}) outs({e.name} : {e.type}) -> {e.type}")
        return V(name, tuple(shape), dt)

    def generic(self, inputs, maps, out, iterators, body, rank):
        """linalg.generic over `rank` loops; `body(in_names, out_name)`
        emits the region and returns the yielded value."""
        dims = ", ".join(f"d{i}" for i in range(rank))
        amap = ", ".join(f"affine_map<({dims}) -> ({', '.join(m)})>" for m in maps)
        its = ", ".join(f'"{i}"' for i in iterators)
        name = self.fresh("g")
        ins = ""
        if inputs:
            ins = (" ins(" + ", ".join(v.name for v in inputs) + " : " +
                   ", ".join(v.type for v in inputs) + ")")
        self.emit(f"{name} = linalg.generic {{indexing_maps = [{amap}], iterator_types = [{its}]}}"
                  f"{ins} outs({out.name} : {out.type}) {{")
        in_names = [self.fresh("in") for _ in inputs]
        out_name = self.fresh("out")
        bargs = ", ".join(f"{n}: {v.dtype}" for n, v in zip(in_names, inputs))
        bargs = (bargs + ", " if bargs else "") + f"{out_name}: {out.dtype}"
        self.emit(f"^bb0({bargs}):", 2)
        res = body(in_names, out_name)
        self.emit(f"linalg.yield {res} : {out.dtype}", 4)
        self.emit(f"}} -> {out.type}")
        return V(name, out.shape, out.dtype)

    def ew(self, inputs, body, out_shape=None, out_dt="f32"):
        """Elementwise map with numpy broadcasting of `inputs` (V's)."""
        if out_shape is None:
            out_shape = tuple(np.broadcast_shapes(*[v.shape for v in inputs]))
        rank = len(out_shape)
        maps = []
        for v in inputs:
            off = rank - len(v.shape)
            maps.append(["0" if (s == 1 and out_shape[off + i] != 1) else f"d{off + i}"
                         for i, s in enumerate(v.shape)])
        maps.append([f"d{i}" for i in range(rank)])
        out = self.empty(out_shape, out_dt)
        return self.generic(inputs, maps, out, ["parallel"] * rank, body, rank)

    def op(self, opname, *operands, dt="f32"):
        """Emits a scalar op inside a region; returns its name."""
        name = self.fresh("s")
        self.emit(f"{name} = {opname} {', '.join(operands)} : {dt}", 4)
        return name

    def reduce(self, x, dim, kind):
        """Sum or max over `dim` (dropped from the shape)."""
        dim %= len(x.shape)
        out_shape = tuple(s for i, s in enumerate(x.shape) if i != dim)
        init = self.fill(out_shape, 0.0 if kind == "sum" else -np.inf)
        rank = len(x.shape)
        maps = [[f"d{i}" for i in range(rank)], [f"d{i}" for i in range(rank) if i != dim]]
        its = ["reduction" if i == dim else "parallel" for i in range(rank)]

        def body(ins, out):
            return self.op("arith.addf" if kind == "sum" else "arith.maximumf", ins[0], out)
        return self.generic([x], maps, init, its, body, rank)

    def expand_unit(self, x, dim):
        """Inserts a unit dim at `dim` (keepdim after a reduction)."""
        r = len(x.shape)
        shape = list(x.shape)
        shape.insert(dim, 1)
        if r == 0:
            groups = []
        else:
            groups = [[i if i < dim else i + 1] for i in range(r)]
            if dim == 0:
                groups[0].insert(0, 0)
            else:
                groups[dim - 1].append(dim)
        return self._expand(x, groups, shape)

    def _expand(self, x, groups, shape):
        name = self.fresh("x")
        g = ", ".join("[" + ", ".join(map(str, grp)) + "]" for grp in groups)
        self.emit(f"{name} = tensor.expand_shape {x.name} [{g}] output_shape "
                  f"[{', '.join(map(str, shape))}] : {x.type} into {_ttype(shape, x.dtype)}")
        return V(name, tuple(shape), x.dtype)

    def _collapse(self, x, groups, shape):
        name = self.fresh("x")
        g = ", ".join("[" + ", ".join(map(str, grp)) + "]" for grp in groups)
        self.emit(f"{name} = tensor.collapse_shape {x.name} [{g}] : {x.type} into "
                  f"{_ttype(shape, x.dtype)}")
        return V(name, tuple(shape), x.dtype)

    def reshape(self, x, shape):
        shape = tuple(int(s) for s in shape)
        if shape == x.shape:
            return x
        if int(np.prod(shape)) != int(np.prod(x.shape)):
            raise ExportError(f"cannot reshape {x.shape} to {shape}")
        n = int(np.prod(x.shape))
        flat = x
        if len(x.shape) != 1:
            flat = self._collapse(x, [list(range(len(x.shape)))] if x.shape else [], (n,)) \
                if x.shape else self._expand(x, [], (1,))
        if len(shape) == 1:
            return flat
        if len(shape) == 0:
            return self._collapse(flat, [], ())
        return self._expand(flat, [list(range(len(shape)))], shape)

    def transpose(self, x, perm):
        perm = [p % len(x.shape) for p in perm]
        if perm == list(range(len(x.shape))):
            return x
        shape = tuple(x.shape[p] for p in perm)
        out = self.empty(shape, x.dtype)
        name = self.fresh("t")
        self.emit(f"{name} = linalg.transpose ins({x.name} : {x.type}) outs({out.name} : "
                  f"{out.type}) permutation = [{', '.join(map(str, perm))}]")
        return V(name, shape, x.dtype)

    def matmul2d(self, a, b):
        M, K = a.shape
        K2, N = b.shape
        assert K == K2, (a.shape, b.shape)
        init = self.fill((M, N), 0.0)
        name = self.fresh("mm")
        self.emit(f"{name} = linalg.matmul ins({a.name}, {b.name} : {a.type}, {b.type}) "
                  f"outs({init.name} : {init.type}) -> {init.type}")
        return V(name, (M, N), "f32")

    def matmul(self, a, b):
        """torch.matmul semantics for rank >= 2 operands (1-D not supported)."""
        if len(a.shape) < 2 or len(b.shape) < 2:
            raise ExportError("matmul with a 1-D operand is not supported")
        if len(a.shape) == 2 and len(b.shape) == 2:
            return self.matmul2d(a, b)
        if len(b.shape) == 2:  # [..., M, K] @ [K, N]: fold the batch into M
            lead = a.shape[:-1]
            a2 = self.reshape(a, (int(np.prod(lead)), a.shape[-1]))
            return self.reshape(self.matmul2d(a2, b), lead + (b.shape[-1],))
        batch = tuple(np.broadcast_shapes(a.shape[:-2], b.shape[:-2]))
        if a.shape[:-2] == batch and b.shape[:-2] == batch:
            nb = int(np.prod(batch))
            a3 = self.reshape(a, (nb,) + a.shape[-2:])
            b3 = self.reshape(b, (nb,) + b.shape[-2:])
            M, N = a.shape[-2], b.shape[-1]
            init = self.fill((nb, M, N), 0.0)
            name = self.fresh("bmm")
            self.emit(f"{name} = linalg.batch_matmul ins({a3.name}, {b3.name} : {a3.type}, "
                      f"{b3.type}) outs({init.name} : {init.type}) -> {init.type}")
            return self.reshape(V(name, (nb, M, N)), batch + (M, N))
        # broadcast batch dims: a contraction generic over (batch..., m, n, k)
        nbd = len(batch)
        rank = nbd + 3
        m_, n_, k_ = f"d{nbd}", f"d{nbd + 1}", f"d{nbd + 2}"

        def bmap(v, last2):
            off = nbd - (len(v.shape) - 2)
            e = ["0" if (s == 1 and batch[off + i] != 1) else f"d{off + i}"
                 for i, s in enumerate(v.shape[:-2])]
            return e + last2
        M, N = a.shape[-2], b.shape[-1]
        init = self.fill(batch + (M, N), 0.0)
        maps = [bmap(a, [m_, k_]), bmap(b, [k_, n_]), [f"d{i}" for i in range(nbd)] + [m_, n_]]

        def body(ins, out):
            p = self.op("arith.mulf", ins[0], ins[1])
            return self.op("arith.addf", out, p)
        return self.generic([a, b], maps, init, ["parallel"] * (nbd + 2) + ["reduction"], body,
                            rank)

    def slice(self, x, dim, start, size, drop=False):
        """x[..., start:start+size, ...] along `dim`; `drop` removes the dim
        (size must be 1)."""
        dim %= len(x.shape)
        offs = [0] * len(x.shape)
        offs[dim] = start
        sizes = list(x.shape)
        sizes[dim] = size
        out = [s for i, s in enumerate(sizes) if not (drop and i == dim)]
        name = self.fresh("sl")
        self.emit(f"{name} = tensor.extract_slice {x.name}[{', '.join(map(str, offs))}] "
                  f"[{', '.join(map(str, sizes))}] [{', '.join(['1'] * len(sizes))}] : "
                  f"{x.type} to {_ttype(out, x.dtype)}")
        return V(name, tuple(out), x.dtype)


# ---------------------------------------------------------------- elementwise bodies

def _binary(f, opname, a, b):
    """a OP b where each is a V or a Python number."""
    if isinstance(a, V) and isinstance(b, V):
        return f.ew([a, b], lambda i, o: f.op(opname, i[0], i[1]))
    if isinstance(a, V):
        return f.ew([a], lambda i, o: f.op(opname, i[0], f.scalar(b, indent=4)))
    if isinstance(b, V):
        return f.ew([b], lambda i, o: f.op(opname, f.scalar(a, indent=4), i[0]))
    raise ExportError("binary op on two Python numbers should have been folded")


def _gelu(f, x, approximate="none"):
    def body(i, o):
        v = i[0]
        half = f.scalar(0.5, indent=4)
        one = f.scalar(1.0, indent=4)
        if approximate == "tanh":
            c = f.scalar(math.sqrt(2 / math.pi), indent=4)
            k = f.scalar(0.044715, indent=4)
            x3 = f.op("arith.mulf", f.op("arith.mulf", v, v), v)
            inner = f.op("arith.mulf", c, f.op("arith.addf", v, f.op("arith.mulf", k, x3)))
            t = f.op("math.tanh", inner)
        else:
            r = f.scalar(1 / math.sqrt(2), indent=4)
            t = f.op("math.erf", f.op("arith.mulf", v, r))
        return f.op("arith.mulf", f.op("arith.mulf", half, v), f.op("arith.addf", one, t))
    return f.ew([x], body)


def _relu(f, x):
    return f.ew([x], lambda i, o: f.op("arith.maximumf", i[0], f.scalar(0.0, indent=4)))


def _sigmoid_body(f, v):
    one = f.scalar(1.0, indent=4)
    e = f.op("math.exp", f.op("arith.negf", v))
    return f.op("arith.divf", one, f.op("arith.addf", one, e))


def _silu(f, x):
    return f.ew([x], lambda i, o: f.op("arith.mulf", i[0], _sigmoid_body(f, i[0])))


def _softmax(f, x, dim):
    dim %= len(x.shape)
    mx = f.expand_unit(f.reduce(x, dim, "max"), dim)
    e = f.ew([x, mx], lambda i, o: f.op("math.exp", f.op("arith.subf", i[0], i[1])))
    s = f.expand_unit(f.reduce(e, dim, "sum"), dim)
    return f.ew([e, s], lambda i, o: f.op("arith.divf", i[0], i[1]))


def _layer_norm(f, x, weight, bias, eps):
    C = x.shape[-1]
    d = len(x.shape) - 1
    inv_c = 1.0 / C
    mean = f.expand_unit(f.reduce(x, d, "sum"), d)
    xc = f.ew([x, mean], lambda i, o: f.op("arith.subf", i[0],
                                           f.op("arith.mulf", i[1], f.scalar(inv_c, indent=4))))
    sq = f.ew([xc], lambda i, o: f.op("arith.mulf", i[0], i[0]))
    var = f.expand_unit(f.reduce(sq, d, "sum"), d)
    ins = [xc, var] + [v for v in (weight, bias) if v is not None]

    def body(i, o):
        v = f.op("arith.mulf", i[1], f.scalar(inv_c, indent=4))
        v = f.op("math.sqrt", f.op("arith.addf", v, f.scalar(eps, indent=4)))
        y = f.op("arith.divf", i[0], v)
        k = 2
        if weight is not None:
            y = f.op("arith.mulf", y, i[k])
            k += 1
        if bias is not None:
            y = f.op("arith.addf", y, i[k])
        return y
    return f.ew(ins, body, out_shape=x.shape)


# ---------------------------------------------------------------- the exporter

_ADD = {operator.add, torch.add, "add", operator.iadd}
_SUB = {operator.sub, torch.sub, "sub", operator.isub}
_MUL = {operator.mul, torch.mul, "mul", operator.imul}
_DIV = {operator.truediv, torch.div, "div", operator.itruediv}
_MATMUL = {operator.matmul, torch.matmul, torch.bmm, "matmul", "bmm"}
_RESHAPE = {"view", "reshape", torch.reshape}
_PERMUTE = {"permute", torch.permute}
_TRANSPOSE = {"transpose", torch.transpose}
_IDENTITY = {"contiguous", "clone", torch.clone}
_FLATTEN = {"flatten", torch.flatten}
_UNSQUEEZE = {"unsqueeze", torch.unsqueeze}
_SOFTMAX = {F.softmax, torch.softmax, "softmax"}
_UNBIND = {"unbind", torch.unbind}
_CHUNK = {"chunk", torch.chunk}
_ACT = {F.gelu: "gelu", F.relu: "relu", torch.relu: "relu", "relu": "relu", F.silu: "silu",
        torch.tanh: "tanh", "tanh": "tanh", torch.sigmoid: "sigmoid", "sigmoid": "sigmoid",
        torch.exp: "exp", "exp": "exp", torch.sqrt: "sqrt", "sqrt": "sqrt",
        torch.rsqrt: "rsqrt", "rsqrt": "rsqrt", operator.neg: "neg", torch.neg: "neg",
        "neg": "neg"}
_MODULE_ACT = {nn.GELU: "gelu", nn.ReLU: "relu", nn.SiLU: "silu", nn.Tanh: "tanh",
               nn.Sigmoid: "sigmoid"}


def _user_frame(node):
    """'  at file:line: source' of the user's code that created `node`."""
    lines = (node.meta.get("stack_trace") or "").splitlines()
    frames = []
    for i, line in enumerate(lines):
        line = line.strip()
        if line.startswith('File "'):
            code = lines[i + 1].strip() if i + 1 < len(lines) else ""
            frames.append((line, code))
    user = [(f, c) for f, c in frames if "/torch/" not in f.split(",")[0]]
    if not user:
        return ""
    f, c = user[-1]
    path = f.split('"')[1].rsplit("/", 1)[-1]
    lineno = f.split(", line ")[1].split(",")[0]
    return f"\n      at {path}:{lineno}: {c}"


def _target_name(node, modules=None):
    t = node.target
    if node.op == "call_module":
        kind = type(modules[t]).__name__ if modules and t in modules else "module"
        return f"module {t!r}: {kind}"
    if t is getattr and len(node.args) > 1:
        return f"attribute .{node.args[1]}"
    if isinstance(t, str):
        return f"method .{t}()"
    return f"function {getattr(t, '__module__', '')}.{getattr(t, '__name__', t)}"


class _Exporter:
    def __init__(self, gm, values, mode, params):
        self.gm = gm
        self.values = values
        self.mode = mode
        self.params = "arguments" if mode == "train" else params
        self.modules = dict(gm.named_modules())
        self.fwd = _Func("forward")
        self.env = {}
        self.param_args = {}
        self.un_layers = []
        self.un_saved = {}       # layer -> dict of saved V's / info
        self.saved = {}          # label -> V (forward values the backward needs)

    # -------------------------------------------------------------- helpers

    def where(self, node):
        return f"node '{node.name}' ({_target_name(node, self.modules)}){_user_frame(node)}"

    def val(self, a):
        if isinstance(a, torch.fx.Node):
            return self.env[a]
        if isinstance(a, (list, tuple)):
            return type(a)(self.val(x) for x in a)
        return a

    def tensor_param(self, tensor, label, dt="f32"):
        """A parameter or buffer: a constant, or a function argument."""
        if self.params == "constants":
            return self.fwd.const(tensor.detach().float().cpu().numpy(), dt)
        if label not in self.param_args:
            self.param_args[label] = self.fwd.arg(tuple(tensor.shape), dt, f"param:{label}")
        return self.param_args[label]

    def check_dtype(self, node, value):
        if isinstance(value, torch.Tensor) and value.is_floating_point() and \
                value.dtype != torch.float32:
            raise ExportError(f"{self.where(node)} produces {value.dtype}: the exporter "
                              "handles float32 models (convert with model.float())")

    # -------------------------------------------------------------- driver

    def unsupported(self):
        bad = []
        for n in self.gm.graph.nodes:
            if n.op in ("placeholder", "output", "get_attr"):
                continue
            v = self.values.get(n)
            if not isinstance(v, (torch.Tensor, tuple, list)) or (
                    isinstance(v, (tuple, list)) and not any(isinstance(e, torch.Tensor)
                                                             for e in v)):
                continue  # Python values (shapes, sizes) are folded
            if not self.supported(n):
                bad.append(self.where(n))
        return bad

    def supported(self, n):
        if n.op == "call_module":
            m = self.modules[n.target]
            return isinstance(m, (nn.Linear, nn.LayerNorm, UnifiedNorm, nn.Dropout, nn.Identity,
                                  nn.Softmax, nn.Flatten, *_MODULE_ACT))
        t = n.target
        known = (_ADD | _SUB | _MUL | _DIV | _MATMUL | _RESHAPE | _PERMUTE | _TRANSPOSE |
                 _IDENTITY | _FLATTEN | _UNSQUEEZE | _SOFTMAX | _UNBIND | _CHUNK | set(_ACT) |
                 {operator.getitem, F.linear, F.layer_norm, F.dropout,
                  F.scaled_dot_product_attention, "mT"})
        try:
            return t in known
        except TypeError:
            return False

    def run(self):
        bad = self.unsupported()
        if bad:
            raise ExportError("cannot export these ops (nothing was dropped):\n  " +
                              "\n  ".join(bad))
        inputs = 0
        for n in self.gm.graph.nodes:
            v = self.values.get(n)
            if n.op == "placeholder":
                if not isinstance(v, torch.Tensor):
                    self.env[n] = v
                    continue
                dt = {torch.float32: "f32", torch.bool: "i1", torch.int64: "i64"}.get(v.dtype)
                if dt is None:
                    raise ExportError(f"input '{n.name}' has dtype {v.dtype}: float32, bool "
                                      "and int64 inputs are supported")
                self.env[n] = self.fwd.arg(tuple(v.shape), dt, f"input:{inputs}")
                inputs += 1
                continue
            if n.op == "output":
                outs = n.args[0]
                flat = list(outs) if isinstance(outs, (tuple, list)) else [outs]
                for i, o in enumerate(flat):
                    r = self.val(o)
                    if not isinstance(r, V):
                        raise ExportError(f"output {i} is not a tensor")
                    self.fwd.results.append((r, f"output:{i}"))
                self.outputs = flat
                continue
            if n.op == "get_attr":
                obj = self.gm
                for part in n.target.split("."):
                    obj = getattr(obj, part)
                self.env[n] = self.tensor_param(obj, n.target) if isinstance(
                    obj, torch.Tensor) else obj
                continue
            self.check_dtype(n, v)
            if isinstance(v, torch.Tensor) or (isinstance(v, (tuple, list)) and any(
                    isinstance(e, torch.Tensor) for e in v)):
                self.env[n] = self.emit(n)
            else:
                self.env[n] = v  # a Python value: x.shape, sizes, arithmetic on them

    # -------------------------------------------------------------- ops

    def emit(self, n):
        f = self.fwd
        if n.op == "call_module":
            return self.emit_module(n, self.modules[n.target])
        t = n.target
        args = [self.val(a) for a in n.args]
        kw = {k: self.val(v) for k, v in n.kwargs.items()}
        if t in _ADD or t in _SUB:
            a, b = args[0], args[1]
            alpha = kw.get("alpha", 1)
            if alpha != 1:
                b = _binary(f, "arith.mulf", b, alpha) if isinstance(b, V) else b * alpha
            return _binary(f, "arith.addf" if t in _ADD else "arith.subf", a, b)
        if t in _MUL:
            return _binary(f, "arith.mulf", args[0], args[1])
        if t in _DIV:
            if kw.get("rounding_mode"):
                raise ExportError(f"{self.where(n)}: division with rounding_mode")
            return _binary(f, "arith.divf", args[0], args[1])
        if t in _MATMUL:
            return f.matmul(args[0], args[1])
        if t in _ACT:
            if t is F.gelu:
                return _gelu(f, args[0], kw.get("approximate", "none"))
            return self.activation(_ACT[t], args[0])
        if t in _SOFTMAX:
            dim = kw.get("dim", args[1] if len(args) > 1 else None)
            return _softmax(f, args[0], dim)
        if t in _RESHAPE:
            shape = args[1:] if len(args) > 2 or isinstance(args[1], int) else args[1]
            return f.reshape(args[0], tuple(self.values[n].shape))
        if t in _FLATTEN or t in _UNSQUEEZE:
            return f.reshape(args[0], tuple(self.values[n].shape))
        if t in _PERMUTE:
            perm = args[1:] if isinstance(args[1], int) else args[1]
            if "dims" in kw:
                perm = kw["dims"]
            return f.transpose(args[0], list(perm))
        if t in _TRANSPOSE:
            x = args[0]
            d0, d1 = args[1] % len(x.shape), args[2] % len(x.shape)
            perm = list(range(len(x.shape)))
            perm[d0], perm[d1] = perm[d1], perm[d0]
            return f.transpose(x, perm)
        if t == "mT":
            x = args[0]
            perm = list(range(len(x.shape)))
            perm[-1], perm[-2] = perm[-2], perm[-1]
            return f.transpose(x, perm)
        if t in _IDENTITY:
            return args[0]
        if t is F.dropout:
            training = kw.get("training", args[2] if len(args) > 2 else True)
            p = kw.get("p", args[1] if len(args) > 1 else 0.5)
            return self.dropout(n, args[0], p if training else 0.0)
        if t is F.linear:
            return self.linear(args[0], args[1], args[2] if len(args) > 2 else kw.get("bias"))
        if t is F.layer_norm:
            shape = args[1]
            if len(shape) != 1:
                raise ExportError(f"{self.where(n)}: layer_norm over several dims")
            w = args[2] if len(args) > 2 else kw.get("weight")
            b = args[3] if len(args) > 3 else kw.get("bias")
            eps = args[4] if len(args) > 4 else kw.get("eps", 1e-5)
            return _layer_norm(f, args[0], w, b, eps)
        if t is F.scaled_dot_product_attention:
            return self.sdpa(n, *args, **kw)
        if t in _UNBIND:
            x = args[0]
            dim = kw.get("dim", args[1] if len(args) > 1 else 0) % len(x.shape)
            return tuple(f.slice(x, dim, i, 1, drop=True) for i in range(x.shape[dim]))
        if t in _CHUNK:
            x = args[0]
            dim = kw.get("dim", args[2] if len(args) > 2 else 0) % len(x.shape)
            pieces = self.values[n]
            out, start = [], 0
            for p in pieces:
                out.append(f.slice(x, dim, start, p.shape[dim]))
                start += p.shape[dim]
            return tuple(out)
        if t is operator.getitem:
            return self.getitem(n, args[0], args[1])
        raise ExportError(f"cannot export {self.where(n)}")

    def activation(self, kind, x):
        f = self.fwd
        if kind == "gelu":
            return _gelu(f, x)
        if kind == "relu":
            return _relu(f, x)
        if kind == "silu":
            return _silu(f, x)
        if kind == "sigmoid":
            return f.ew([x], lambda i, o: _sigmoid_body(f, i[0]))
        if kind == "rsqrt":
            return f.ew([x], lambda i, o: f.op("math.rsqrt", i[0]))
        op = {"tanh": "math.tanh", "exp": "math.exp", "sqrt": "math.sqrt", "neg": "arith.negf"}
        return f.ew([x], lambda i, o: f.op(op[kind], i[0]))

    def dropout(self, n, x, p):
        if p and self.mode == "train":
            raise ExportError(f"{self.where(n)}: dropout with p={p} in training is random "
                              "and cannot be exported; set p=0 or export in eval mode")
        return x

    def getitem(self, n, x, idx):
        if isinstance(x, (tuple, list)):
            return x[idx]
        f = self.fwd
        if not isinstance(idx, tuple):
            idx = (idx,)
        out, dim = x, 0
        for i in idx:
            if i is Ellipsis:
                dim = len(out.shape) - (len(idx) - 1 - idx.index(Ellipsis)) + 0
                continue
            if isinstance(i, int):
                out = f.slice(out, dim, i % out.shape[dim], 1, drop=True)
            elif isinstance(i, slice):
                start, stop, step = i.indices(out.shape[dim])
                if step != 1:
                    raise ExportError(f"{self.where(n)}: strided slices are not supported")
                if (start, stop) != (0, out.shape[dim]):
                    out = f.slice(out, dim, start, stop - start)
                dim += 1
            elif i is None:
                out = f.expand_unit(out, dim)
                dim += 1
            else:
                raise ExportError(f"{self.where(n)}: indexing with {type(i).__name__}")
        want = tuple(self.values[n].shape)
        if out.shape != want:
            raise ExportError(f"{self.where(n)}: indexing gave {out.shape}, expected {want}")
        return out

    def linear(self, x, w, b, label=None):
        """x @ W^T + b; W is [N, K]. With constant weights the transposed
        weight is the constant; as arguments, a linalg.transpose."""
        f = self.fwd
        if isinstance(w, torch.Tensor):
            if self.params == "constants":
                wt = f.const(w.detach().float().cpu().numpy().T)
            else:
                wt = f.transpose(self.tensor_param(w, label + ".weight"), [1, 0])
        else:
            wt = f.transpose(w, [1, 0])
        if isinstance(b, torch.Tensor):
            b = self.tensor_param(b, label + ".bias")
        lead = x.shape[:-1]
        x2 = f.reshape(x, (int(np.prod(lead)), x.shape[-1])) if len(x.shape) != 2 else x
        y = f.matmul2d(x2, wt)
        if b is not None:
            y = f.ew([y, b], lambda i, o: f.op("arith.addf", i[0], i[1]))
        return f.reshape(y, lead + (wt.shape[1],))

    def sdpa(self, n, q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
             enable_gqa=False):
        f = self.fwd
        if dropout_p and self.mode == "train":
            raise ExportError(f"{self.where(n)}: attention dropout in training")
        if enable_gqa:
            raise ExportError(f"{self.where(n)}: grouped-query attention")
        d = q.shape[-1]
        s = 1 / math.sqrt(d) if scale is None else scale
        perm = list(range(len(k.shape)))
        perm[-1], perm[-2] = perm[-2], perm[-1]
        scores = f.matmul(q, f.transpose(k, perm))
        scores = _binary(f, "arith.mulf", scores, s)
        L, S = q.shape[-2], k.shape[-2]
        if is_causal:
            bias = np.triu(np.full((L, S), -np.inf, np.float32), 1)
            scores = f.ew([scores, f.const(bias)], lambda i, o: f.op("arith.addf", i[0], i[1]))
        if attn_mask is not None:
            if attn_mask.dtype == "i1":  # True = take part in attention
                scores = f.ew([scores, attn_mask], lambda i, o: self._select(i[1], i[0]))
            else:  # additive
                scores = f.ew([scores, attn_mask], lambda i, o: f.op("arith.addf", i[0], i[1]))
        return f.matmul(_softmax(f, scores, -1), v)

    def _select(self, cond, a):
        f = self.fwd
        ni = f.scalar(-np.inf, indent=4)
        name = f.fresh("s")
        f.emit(f"{name} = arith.select {cond}, {a}, {ni} : f32", 4)
        return name

    def emit_module(self, n, m):
        f = self.fwd
        args = [self.val(a) for a in n.args]
        kw = {k: self.val(v) for k, v in n.kwargs.items()}
        label = n.target
        if isinstance(m, nn.Linear):
            return self.linear(args[0], m.weight, m.bias, label)
        if isinstance(m, nn.LayerNorm):
            if len(m.normalized_shape) != 1:
                raise ExportError(f"{self.where(n)}: LayerNorm over several dims")
            w = self.tensor_param(m.weight, label + ".weight") if m.weight is not None else None
            b = self.tensor_param(m.bias, label + ".bias") if m.bias is not None else None
            return _layer_norm(f, args[0], w, b, m.eps)
        if isinstance(m, UnifiedNorm):
            mask = kw.get("pad_mask", args[1] if len(args) > 1 else None)
            return self.unified_norm(n, m, args[0], mask)
        if isinstance(m, tuple(_MODULE_ACT)):
            if isinstance(m, nn.GELU):
                return _gelu(f, args[0], m.approximate)
            return self.activation(_MODULE_ACT[type(m)], args[0])
        if isinstance(m, nn.Softmax):
            return _softmax(f, args[0], m.dim if m.dim is not None else -1)
        if isinstance(m, nn.Dropout):
            return self.dropout(n, args[0], m.p if self.mode == "train" else 0.0)
        if isinstance(m, nn.Identity):
            return args[0]
        if isinstance(m, nn.Flatten):
            return f.reshape(args[0], tuple(self.values[n].shape))
        raise ExportError(f"cannot export {self.where(n)}")

    def un_params(self, m, label):
        C = m.num_features
        if m.weight is not None:
            g = self.tensor_param(m.weight, label + ".weight")
        else:
            g = self.fwd.const(np.ones(C, np.float32))
        if m.bias is not None:
            b = self.tensor_param(m.bias, label + ".bias")
        else:
            b = self.fwd.const(np.zeros(C, np.float32))
        return g, b

    def unified_norm(self, n, m, x, mask):
        f = self.fwd
        label = n.target
        self.un_layers.append(label)
        g, b = self.un_params(m, label)
        if self.mode == "eval":
            rv = self.tensor_param(m.running_var, label + ".running_var")
            name = f.fresh("un")
            f.emit(f"{name} = un.infer {x.name}, {g.name}, {b.name}, {rv.name} "
                   f"{{eps = {_flt(m.eps)} : f32}} : ({x.type}, {g.type}, {b.type}, {rv.type}) "
                   f"-> {x.type}")
            return V(name, x.shape)
        C = m.num_features
        rv = f.arg((C,), "f32", f"state:{label}.running_var")
        win = f.arg((m.window, C), "f32", f"state:{label}.win_x2")
        t = f.arg((), "i64", f"state:{label}.t", scalar=True)
        skips = f.arg((), "i64", f"state:{label}.skips", scalar=True)
        V_ = _ttype((C,), "f32")
        W_ = _ttype((m.window, C), "f32")
        names = [f.fresh("un") for _ in range(8)]
        hp = m.hparams()
        attrs = (f"{{eps = {_flt(hp['eps'])} : f32, momentum = {_flt(hp['momentum'])} : f32, "
                 f"warmup_iters = {hp['warmup_iters']} : i64, outlier_filtration = "
                 f"{'true' if hp['outlier_filtration'] else 'false'}, r_max = {_flt(hp['r_max'])}"
                 f" : f32, r_warmup = {hp['r_warmup']} : i64}}")
        operands = [x, g, b, rv, win]
        types = [v.type for v in operands] + ["i64", "i64"]
        mask_part = ""
        if mask is not None:
            if not isinstance(mask, V) or mask.dtype != "i1":
                raise ExportError(f"{self.where(n)}: pad_mask must be a bool input tensor")
            mask_part = f" mask {mask.name}"
            types.append(mask.type)
        f.emit(f"{', '.join(names)} = un.train_forward "
               f"{', '.join(v.name for v in operands)}, {t.name}, {skips.name}{mask_part} "
               f"{attrs} : ({', '.join(types)}) -> ({x.type}, {x.type}, {V_}, {V_}, i1, {V_}, "
               f"{W_}, i64)")
        y, z, var, r, skip, rv1, win1, skips1 = names
        sv = lambda nm, shape, dt="f32": V(nm, shape, dt)  # noqa: E731
        f.results.append((sv(rv1, (C,)), f"state:{label}.running_var"))
        f.results.append((sv(win1, (m.window, C)), f"state:{label}.win_x2"))
        s1 = sv(skips1, (), "i64")
        s1.scalar = True
        f.results.append((s1, f"state:{label}.skips"))
        sk = sv(skip, (), "i1")
        sk.scalar = True
        self.un_saved[label] = dict(z=sv(z, x.shape), var=sv(var, (C,)), r=sv(r, (C,)),
                                    skip=sk, module=m)
        return V(y, x.shape)


# ---------------------------------------------------------------- backward (train)

class _Backward:
    """Reverse mode over the traced graph for mode="train"."""

    def __init__(self, ex):
        self.ex = ex
        self.b = _Func("backward")
        self.grads = {}
        self.saved_args = {}
        self.param_grads = {}

    def saved(self, label, v):
        """A forward value the backward reads: a forward result and a
        backward argument."""
        if label not in self.saved_args:
            fv = V(v.name, v.shape, v.dtype)
            fv.scalar = getattr(v, "scalar", False)
            self.ex.fwd.results.append((fv, f"saved:{label}"))
            self.saved_args[label] = self.b.arg(v.shape, v.dtype, f"saved:{label}",
                                                scalar=fv.scalar)
        return self.saved_args[label]

    def param(self, label, shape):
        key = f"param:{label}"
        for v, name in self.b.args:
            if name == key:
                return v
        return self.b.arg(shape, "f32", key)

    def acc(self, node, g):
        if not isinstance(node, torch.fx.Node):
            return
        if node in self.grads:
            prev = self.grads[node]
            g = self.b.ew([prev, g], lambda i, o: self.b.op("arith.addf", i[0], i[1]))
        self.grads[node] = g

    def add_param_grad(self, label, g):
        if label in self.param_grads:
            prev = self.param_grads[label]
            g = self.b.ew([prev, g], lambda i, o: self.b.op("arith.addf", i[0], i[1]))
        self.param_grads[label] = g

    def unbroadcast(self, g, shape):
        """Sums `g` down to `shape` (numpy broadcasting in reverse)."""
        b = self.b
        while len(g.shape) > len(shape):
            g = b.reduce(g, 0, "sum")
        for d, s in enumerate(shape):
            if s == 1 and g.shape[d] != 1:
                g = b.expand_unit(b.reduce(g, d, "sum"), d)
        return g

    def run(self):
        ex, b = self.ex, self.b
        for i, o in enumerate(ex.outputs):
            ov = ex.val(o)
            self.acc(o, b.arg(ov.shape, "f32", f"grad:output:{i}"))
        nodes = list(ex.gm.graph.nodes)
        for n in reversed(nodes):
            if n not in self.grads or n.op in ("placeholder", "output"):
                continue
            g = self.grads[n]
            self.node(n, g)
        for n in nodes:
            if n.op == "placeholder" and isinstance(ex.env.get(n), V) and \
                    ex.env[n].dtype == "f32":
                label = next(lbl for v, lbl in ex.fwd.args if v is ex.env[n])
                gv = self.grads.get(n) or b.fill(ex.env[n].shape, 0.0)
                b.results.append((gv, f"grad:{label}"))
        for label, g in self.param_grads.items():
            b.results.append((g, f"grad:param:{label}"))

    def node(self, n, g):
        ex, b = self.ex, self.b
        where = ex.where(n)
        if n.op == "call_module":
            m = ex.modules[n.target]
            x = n.args[0]
            xv = ex.val(x)
            if isinstance(m, UnifiedNorm):
                return self.unified_norm(n, m, x, g)
            if isinstance(m, nn.Linear):
                return self.linear(n.target, m, x, xv, g)
            if isinstance(m, (nn.Identity, nn.Dropout)):
                return self.acc(x, g)
            if isinstance(m, nn.ReLU):
                return self.relu(n.target, x, xv, g)
            if isinstance(m, nn.Flatten):
                return self.acc(x, b.reshape(g, xv.shape))
            raise ExportError(f"train export: no backward for {where}")
        t = n.target
        args = n.args
        if t in _ADD or t in _SUB:
            if n.kwargs.get("alpha", 1) != 1:
                raise ExportError(f"train export: no backward for {where} with alpha")
            a, c = args[0], args[1]
            if isinstance(a, torch.fx.Node):
                self.acc(a, self.unbroadcast(g, ex.val(a).shape))
            if isinstance(c, torch.fx.Node):
                gc = self.unbroadcast(g, ex.val(c).shape)
                if t in _SUB:
                    gc = b.ew([gc], lambda i, o: b.op("arith.negf", i[0]))
                self.acc(c, gc)
            return
        if t in _MUL:
            a, c = args[0], args[1]
            if isinstance(a, torch.fx.Node) and isinstance(c, torch.fx.Node):
                raise ExportError(f"train export: no backward for {where} (tensor * tensor)")
            node, s = (a, c) if isinstance(a, torch.fx.Node) else (c, a)
            return self.acc(node, b.ew([g], lambda i, o: b.op("arith.mulf", i[0],
                                                              b.scalar(s, indent=4))))
        if t in _ACT and _ACT[t] == "relu":
            return self.relu(n.name, args[0], ex.val(args[0]), g)
        if t in _RESHAPE or t in _FLATTEN or t in _UNSQUEEZE:
            return self.acc(args[0], b.reshape(g, ex.val(args[0]).shape))
        if t in _IDENTITY:
            return self.acc(args[0], g)
        if t is F.dropout:
            return self.acc(args[0], g)
        raise ExportError(f"train export: no backward for {where}")

    def relu(self, label, x, xv, g):
        b = self.b
        xs = self.saved(f"{label}.input", xv)

        def body(i, o):
            zero = b.scalar(0.0, indent=4)
            c = b.fresh("s")
            b.emit(f"{c} = arith.cmpf ogt, {i[0]}, {zero} : f32", 4)
            s = b.fresh("s")
            b.emit(f"{s} = arith.select {c}, {i[1]}, {zero} : f32", 4)
            return s
        self.acc(x, b.ew([xs, g], body))

    def linear(self, label, m, x, xv, g):
        b = self.b
        N, K = m.weight.shape
        lead = g.shape[:-1]
        M = int(np.prod(lead))
        g2 = b.reshape(g, (M, N))
        w = self.param(label + ".weight", (N, K))
        gx = b.reshape(b.matmul2d(g2, w), xv.shape)
        self.acc(x, gx)
        if m.weight.requires_grad:
            xs = b.reshape(self.saved(f"{label}.input", xv), (M, K))
            self.add_param_grad(label + ".weight", b.matmul2d(b.transpose(g2, [1, 0]), xs))
        if m.bias is not None and m.bias.requires_grad:
            self.add_param_grad(label + ".bias", b.reduce(g2, 0, "sum"))

    def unified_norm(self, n, m, x, g):
        b = self.b
        label = n.target
        s = self.ex.un_saved[label]
        C = m.num_features
        z = self.saved(f"{label}.z", s["z"])
        var = self.saved(f"{label}.var", s["var"])
        r = self.saved(f"{label}.r", s["r"])
        skip = self.saved(f"{label}.skip", s["skip"])
        gamma = self.param(label + ".weight", (C,)) if m.weight is not None else b.const(
            np.ones(C, np.float32))
        ema = b.arg((C,), "f32", f"state:{label}.ema_gz")
        wgz = b.arg((m.window_bwd, C), "f32", f"state:{label}.win_gz")
        t = b.arg((), "i64", f"state:{label}.t", scalar=True)
        names = [b.fresh("ub") for _ in range(5)]
        hp = m.hparams()
        attrs = (f"{{eps = {_flt(hp['eps'])} : f32, momentum = {_flt(hp['momentum'])} : f32, "
                 f"warmup_iters = {hp['warmup_iters']} : i64}}")
        V_ = _ttype((C,), "f32")
        W_ = _ttype((m.window_bwd, C), "f32")
        b.emit(f"{', '.join(names)} = un.train_backward {g.name}, {z.name}, {var.name}, "
               f"{r.name}, {skip.name}, {gamma.name}, {ema.name}, {wgz.name}, {t.name} {attrs} "
               f": ({g.type}, {z.type}, {V_}, {V_}, i1, {V_}, {V_}, {W_}, i64) -> ({g.type}, "
               f"{V_}, {V_}, {V_}, {W_})")
        gx, gg, gb, ema1, wgz1 = names
        self.acc(x[0] if isinstance(x, tuple) else x, V(gx, g.shape))
        if m.weight is not None:
            self.add_param_grad(label + ".weight", V(gg, (C,)))
        if m.bias is not None:
            self.add_param_grad(label + ".bias", V(gb, (C,)))
        b.results.append((V(ema1, (C,)), f"state:{label}.ema_gz"))
        b.results.append((V(wgz1, (m.window_bwd, C)), f"state:{label}.win_gz"))


def export(model, example_inputs, mode="eval", *, params="constants"):
    """Exports `model` to MLIR (see the module docstring).

    `example_inputs`: a tensor or a tuple of tensors (shapes are taken from
    them; float32 activations, bool padding masks). `mode`: "eval" (un.infer)
    or "train" (un.train_forward / un.train_backward, parameters as
    arguments). `params`: "constants" (eval default: weights and running
    statistics are constants, so un.infer folds into the linear layers) or
    "arguments". Returns an `Exported`; raises ExportError naming every op
    it cannot translate."""
    if mode not in ("eval", "train"):
        raise ValueError("mode must be 'eval' or 'train'")
    if params not in ("constants", "arguments"):
        raise ValueError("params must be 'constants' or 'arguments'")
    if isinstance(example_inputs, torch.Tensor):
        example_inputs = (example_inputs,)
    example_inputs = tuple(example_inputs)
    was_training = model.training
    try:
        model.train(mode == "train")
        gm = _trace(model)
        # Shapes and Python values from one run in eval mode (no state change).
        gm.eval()
        values = _concrete_values(gm, example_inputs)
        gm.train(mode == "train")
        ex = _Exporter(gm, values, mode, params)
        ex.run()
        funcs = [ex.fwd]
        if mode == "train":
            bw = _Backward(ex)
            bw.run()
            funcs.append(bw.b)
    finally:
        model.train(was_training)
    text = "module {\n" + "\n\n".join(fn.text() for fn in funcs) + "\n}\n"
    sigs = {fn.name: ([lbl for _, lbl in fn.args], [lbl for _, lbl in fn.results])
            for fn in funcs}
    return Exported(text=text, mode=mode, signatures=sigs, un_layers=ex.un_layers)
