"""Run tensor functions of an MLIR module on numpy arrays.

`compile_module(text, names, path, pipeline)` appends, for every function
`@f` in `names` (static-shaped tensor arguments and results), a wrapper
`@f_dps` in destination-passing style with a C interface, compiles the
module ahead of time (`un_mlir.aot`) and returns callables that take numpy
arrays and return numpy arrays:

    fns = compile_module(text, ["block"], tmp / "m.so",
                         ["un-inference-pipeline", "un-cpu-pipeline"])
    (y,) = fns["block"](x, w, b)

The wrappers are added before the pipeline runs, so passes that split a
function (hoist-weight-prep) keep them working; to call functions that a
pass creates, run that pass first (`aot.run_un_opt`) and wrap afterwards.

Internal helper of the package, tests and benchmarks, not public API
(docs/api.md).
"""
import re

import numpy as np

from . import aot, memref

# MLIR element types and the numpy dtypes that hold them (bf16 as
# ml_dtypes' "bfloat16" name; numpy itself has none).
NUMPY_DTYPES = {"f32": "float32", "f64": "float64", "f16": "float16", "bf16": "bfloat16",
                "i64": "int64", "i32": "int32", "i8": "int8", "i1": "bool"}


def parse_tensor_type(text, what="a tensor type"):
    """(element type, dims) of a ranked tensor type such as
    `tensor<?x3xf32>` (element "f32", dims [None, 3]); a dynamic dim is
    None, the element one of NUMPY_DTYPES."""
    m = re.fullmatch(r"tensor<((?:(?:\d+|\?)x)*)([a-z0-9]+)>", text.strip())
    if not m or m.group(2) not in NUMPY_DTYPES:
        raise ValueError(f"{what}: {text} is not a ranked tensor of a supported element type")
    dims = [None if d == "?" else int(d) for d in m.group(1).split("x") if d]
    return m.group(2), dims


class TensorType:
    """A static-shaped ranked tensor type, e.g. `tensor<2x3xf32>`."""

    def __init__(self, text):
        element, dims = parse_tensor_type(text)
        if None in dims or element == "bf16":  # numpy has no bfloat16
            raise ValueError(f"not a static tensor type of a supported element type: {text}")
        self.text = text.strip()
        self.shape = tuple(dims)
        self.element = element
        self.dtype = np.dtype(NUMPY_DTYPES[element]).type

    @property
    def memref(self):
        return self.text.replace("tensor<", "memref<", 1)

    def __repr__(self):
        return self.text


class _StaticType:
    """A static-shaped ranked tensor type of any supported element type
    (bf16 included: for wrappers that C code calls, not numpy)."""

    def __init__(self, text):
        _, dims = parse_tensor_type(text)
        if None in dims:
            raise ValueError(f"not a static tensor type: {text}")
        self.text = text.strip()
        self.memref = self.text.replace("tensor<", "memref<", 1)

    def __str__(self):
        return self.text


def _split_top_level(text, sep=","):
    """Splits at `sep` outside of <>, (), [] and {}."""
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "<([{":
            depth += 1
        elif ch in ">)]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if text[start:].strip():
        parts.append(text[start:])
    return [p.strip() for p in parts]


def signature(text, name):
    """(argument names, argument types, result types) of `func.func @name`,
    read from MLIR text (custom form). Types are strings."""
    m = re.search(r"func\.func\s+(?:(?:public|private)\s+)?@" + re.escape(name) + r"\s*\(", text)
    if not m:
        raise KeyError(f"no func.func @{name}")
    i, depth = m.end(), 1
    while depth:
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        i += 1
    args_text = text[m.end():i - 1]
    names, types = [], []
    for arg in _split_top_level(args_text):
        arg_name, arg_type = arg.split(":", 1)
        arg_type = _split_top_level(arg_type.strip(), " ")[0]  # drop {attrs}
        names.append(arg_name.strip().lstrip("%"))
        types.append(arg_type)
    rest = text[i:]
    results = []
    r = re.match(r"\s*->\s*", rest)
    if r:
        rest = rest[r.end():]
        if rest.startswith("("):
            j, depth = 1, 1
            while depth:
                depth += {"(": 1, ")": -1}.get(rest[j], 0)
                j += 1
            results = _split_top_level(rest[1:j - 1])
        else:
            results = [_split_top_level(rest, " ")[0].rstrip("{").strip()]
    return names, types, results


def function_names(text):
    """Names of the functions defined (with a body) in MLIR text."""
    return re.findall(r"func\.func\s+(?:public\s+)?@([\w$.]+)\s*\([^{]*\{", text)


def dps_wrapper(name, arg_types, result_types):
    """MLIR text of `@<name>_dps(inputs..., outputs...)`, a C-interface
    wrapper of `@name` that writes every result into a caller's buffer."""
    args = [_StaticType(t) for t in arg_types]
    results = [_StaticType(t) for t in result_types]
    params = [f"%a{i}: {t.memref}" for i, t in enumerate(args)]
    params += [f"%r{i}: {t.memref}" for i, t in enumerate(results)]
    lines = [f"func.func @{name}_dps({', '.join(params)}) attributes {{llvm.emit_c_interface}} {{"]
    for i, t in enumerate(args):
        lines.append(f"  %t{i} = bufferization.to_tensor %a{i} restrict : {t.memref} to {t}")
    operands = ", ".join(f"%t{i}" for i in range(len(args)))
    fn_type = f"({', '.join(map(str, args))}) -> ({', '.join(map(str, results))})"
    if len(results) == 1:
        lines.append(f"  %res = func.call @{name}({operands}) : {fn_type}")
        values = ["%res"]
    else:
        lines.append(f"  %res:{len(results)} = func.call @{name}({operands}) : {fn_type}")
        values = [f"%res#{i}" for i in range(len(results))]
    for i, (v, t) in enumerate(zip(values, results)):
        lines.append(f"  bufferization.materialize_in_destination {v} in restrict writable "
                     f"%r{i} : ({t}, {t.memref}) -> ()")
    lines += ["  return", "}"]
    return "\n".join(lines) + "\n"


def f32_interface(name, arg_types, result_type):
    """MLIR text of `@<name>_f32`, which calls `@name` with f32 tensors in
    place of its bf16 ones: bf16 arguments are rounded (to nearest even),
    a bf16 result is extended, so numpy (which has no bf16) can run a bf16
    function through `compile_module`."""
    def f32(t):
        return t.replace("xbf16>", "xf32>")
    args = ", ".join(f"%a{i}: {f32(t)}" for i, t in enumerate(arg_types))
    lines = [f"  %b{i} = arith.truncf %a{i} : {f32(t)} to {t}"
             for i, t in enumerate(arg_types) if t != f32(t)]
    operands = ", ".join(f"%b{i}" if t != f32(t) else f"%a{i}" for i, t in enumerate(arg_types))
    result = f"%r = call @{name}({operands}) : ({', '.join(arg_types)}) -> {result_type}"
    if f32(result_type) == result_type:
        tail = "  return %r : " + result_type
    else:
        tail = (f"  %y = arith.extf %r : {result_type} to {f32(result_type)}\n"
                f"  return %y : {f32(result_type)}")
    return (f"func.func @{name}_f32({args}) -> {f32(result_type)} {{\n" + "\n".join(lines)
            + f"\n  {result}\n{tail}\n}}\n")


class Function:
    """A compiled function: call it with numpy arrays, get a tuple of arrays."""

    def __init__(self, library, name, arg_types, result_types):
        self._fn = memref.CompiledFunction(library, f"{name}_dps")
        self.name = name
        self.args = [TensorType(t) for t in arg_types]
        self.results = [TensorType(t) for t in result_types]

    def __call__(self, *arrays, out=None):
        if len(arrays) != len(self.args):
            raise TypeError(f"@{self.name} takes {len(self.args)} arguments, got {len(arrays)}")
        inputs = []
        for a, t in zip(arrays, self.args):
            a = np.ascontiguousarray(a, dtype=t.dtype)
            if a.shape != t.shape:
                raise ValueError(f"@{self.name}: argument of shape {a.shape}, expected {t.shape}")
            inputs.append(a)
        outputs = out if out is not None else [np.empty(t.shape, t.dtype) for t in self.results]
        self._fn(*inputs, *outputs)
        return tuple(outputs)


def with_functions(text, functions):
    """MLIR `text` with the function definitions `functions` added: inside
    the module of a printed module, before a trailing `{-#
    dialect_resources ... #-}` section."""
    body, marker, resources = text.partition("\n{-#")
    if re.search(r"^module\b", body, re.M):  # printed form: inside the module
        end = body.rstrip().rindex("}")
        body = body[:end] + functions + body[end:]
    else:
        body = body + "\n" + functions
    return body + marker + resources


def compile_module(text, names, library_path, pipeline="un-cpu-pipeline", cpu="native"):
    """Compiles `text` plus DPS wrappers of the functions `names` through
    un-opt's `pipeline` (then `un-cpu-pipeline` must be its last stage) into
    `library_path`; returns {name: Function}."""
    signatures = {n: signature(text, n) for n in names}
    wrappers = "".join(dps_wrapper(n, s[1], s[2]) for n, s in signatures.items())
    aot.compile_shared_library(with_functions(text, wrappers), library_path, cpu=cpu,
                               pipeline=pipeline)
    library = memref.load(library_path)
    return {n: Function(library, n, s[1], s[2]) for n, s in signatures.items()}


def random_inputs(text, name, rng):
    """Random arguments for `@name`: standard normal, except arguments whose
    name says they are variances (`rv`, `var`, `running_var` prefixes),
    which are uniform in [0.5, 2]."""
    names, types, _ = signature(text, name)
    inputs = []
    for arg, t in zip(names, (TensorType(t) for t in types)):
        if re.match(r"(rv|var|running_var)", arg):
            inputs.append(rng.uniform(0.5, 2.0, t.shape).astype(t.dtype))
        else:
            inputs.append(rng.standard_normal(t.shape).astype(t.dtype))
    return inputs


def assert_close(got, want, rtol=1e-5, what=""):
    """|got - want| <= max(rtol |want|, rtol / 10 * max(1, max |want|))
    elementwise: relative `rtol`, with an absolute floor for values that
    come out of a cancellation (the rule of test/Integration/CPU)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, f"{what}: shape {got.shape} != {want.shape}"
    floor = rtol / 10 * max(1.0, float(np.max(np.abs(want))) if want.size else 1.0)
    err = np.abs(got - want)
    bad = err > np.maximum(rtol * np.abs(want), floor)
    if bad.any():
        idx = np.unravel_index(np.argmax(np.where(bad, err, -1)), want.shape)
        raise AssertionError(f"{what}: {int(bad.sum())} of {want.size} values differ; "
                             f"worst at {idx}: got {got[idx]!r}, want {want[idx]!r}")


def max_relative_error(got, want):
    """Largest |got - want| / |want| over the nonzero expected values."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    nz = want != 0
    return float(np.max(np.abs(got[nz] - want[nz]) / np.abs(want[nz]))) if nz.any() else 0.0


def function_body(text, name):
    """The text of `func.func @name`, from its name to its closing brace."""
    m = re.search(r"func\.func\s+(?:(?:public|private)\s+)?@" + re.escape(name) + r"\s*\(", text)
    if not m:
        raise KeyError(f"no func.func @{name}")
    i = text.index("{", text.index(")", m.end()))
    # Skip an `attributes {...}` dictionary before the body.
    head = text[m.end():i]
    if re.search(r"attributes\s*$", head):
        depth, j = 1, i + 1
        while depth:
            depth += {"{": 1, "}": -1}.get(text[j], 0)
            j += 1
        i = text.index("{", j)
    depth, j = 1, i + 1
    while depth:
        depth += {"{": 1, "}": -1}.get(text[j], 0)
        j += 1
    return text[m.start():j]


_OP = re.compile(r"(?:^|[=\s])\"?((?:un|linalg)\.[a-z_]+)\b", re.M)
_NOT_OPS = {"linalg.yield", "linalg.index"}


def count_ops(text, name):
    """{op name: count} of the un and linalg ops in `func.func @name`
    (printed custom form; linalg.yield and linalg.index excluded)."""
    counts = {}
    for op in _OP.findall(function_body(text, name)):
        if op not in _NOT_OPS:
            counts[op] = counts.get(op, 0) + 1
    return counts


def summarize_counts(counts):
    """(un ops, linalg ops) totals of a `count_ops` result."""
    un = sum(n for op, n in counts.items() if op.startswith("un."))
    linalg = sum(n for op, n in counts.items() if op.startswith("linalg."))
    return un, linalg


def hoisted_calls(text, name):
    """How `@name` calls its hoisted parts (un-fold-into-linear with
    hoist-weight-prep): (indices of @name's arguments passed to
    @name_prepare_weights, operands of @name_folded as ("arg", i) for
    argument i of @name or ("prepared", j) for result j of the
    preparation)."""
    body = function_body(text, name)
    prep = re.search(r"=\s*call @" + re.escape(name) + r"_prepare_weights\(([^)]*)\)", body)
    folded = re.search(r"call @" + re.escape(name) + r"_folded\(([^)]*)\)", body)
    if not prep or not folded:
        raise KeyError(f"@{name} does not call hoisted weight preparation")
    prep_args = [int(a) for a in re.findall(r"%arg(\d+)", prep.group(1))]
    operands = []
    for op in _split_top_level(folded.group(1)):
        m = re.fullmatch(r"%arg(\d+)", op)
        if m:
            operands.append(("arg", int(m.group(1))))
        else:
            m = re.fullmatch(r"%[\w]+(?:#(\d+))?", op)
            operands.append(("prepared", int(m.group(1) or 0)))
    return prep_args, operands
