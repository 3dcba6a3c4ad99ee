"""The public entry point: `un_mlir.compile` and `un_mlir.load`.

    cm = un_mlir.compile(model, (x,), dynamic_shapes={"x": {0: Dim("batch")}})
    y = cm(x)                  # torch tensors (or numpy arrays) in and out
    cm.save("model.un")        # shared library + model.json + model.h
    cm = un_mlir.load("model.un")

A PyTorch model is exported with torch.export (its dynamic_shapes spelled
as torch.export spells them), imported by torch-mlir (weights become
constants), its normalizations raised to `un` ops and folded into the
linear layers around them, then compiled for the host CPU. MLIR text
(linalg on tensors, with or without `un` ops) can be given instead of a
model. Inputs are checked before the compiled code runs.
"""
from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json
import os
import pathlib
import re
import shutil
import sys
import tempfile
import time
import warnings
from typing import Any, Sequence

import numpy as np

from . import aot, harness, memref, torch_mlir_import

FORMAT_VERSION = 1
_LIBRARY = "model.so"
_METADATA = "model.json"
_HEADER = "model.h"

_C_TYPES = {"float32": "float", "float64": "double", "int64": "int64_t", "int32": "int32_t",
            "bool": "bool", "int8": "int8_t", "float16": "uint16_t", "bfloat16": "uint16_t"}


@dataclasses.dataclass(frozen=True)
class TensorSpec:
    """One input or result: numpy dtype name and shape, a dimension being
    an int (static) or a symbol name (dynamic, e.g. "s0"); results have
    only a rank (their sizes come from the compiled code)."""

    dtype: str
    shape: tuple | None = None
    rank: int | None = None

    def to_json(self) -> dict:
        return {"dtype": self.dtype, "shape": None if self.shape is None else list(self.shape),
                "rank": self.rank}

    @staticmethod
    def from_json(d: dict) -> "TensorSpec":
        shape = None if d["shape"] is None else tuple(d["shape"])
        return TensorSpec(d["dtype"], shape, d["rank"])


class InputError(ValueError):
    """An input does not match what the model was compiled for."""


@dataclasses.dataclass
class FoldReport:
    """What happened to the model's normalizations: how many were raised
    to `un` ops (`un-raise-norms`), how many of those stayed a pass over
    the activations because folding was not legal, and the remarks that
    say why (a per-token normalization such as LayerNorm cannot be raised;
    a UN whose neighbours are not linear layers cannot be folded)."""

    raised: int
    unfolded: int
    remarks: list

    def __str__(self) -> str:
        lines = [f"{self.raised} normalization(s) raised to un ops, "
                 f"{self.raised - self.unfolded} folded into linear layers"]
        lines += [f"  {r}" for r in self.remarks]
        return "\n".join(lines)


class CompiledModel:
    """A compiled model: call it like the original (torch tensors or numpy
    arrays; keyword inputs as in the example), or `run` it on the flat list
    of input arrays. `save(path)` writes a self-contained artifact."""

    def __init__(self, directory: pathlib.Path, metadata: dict, owned: bool = False):
        self._dir = pathlib.Path(directory)
        self._meta = metadata
        self._owned = owned
        self.inputs = [TensorSpec.from_json(t) for t in metadata["inputs"]]
        self.outputs = [TensorSpec.from_json(t) for t in metadata["outputs"]]
        self.symbols = {k: tuple(v) for k, v in metadata["symbols"].items()}
        self.report = FoldReport(**metadata["report"]) if metadata.get("report") else None
        library = memref.load(self._dir / _LIBRARY)
        results = [("memref", t.rank, np.dtype(t.dtype)) for t in self.outputs]
        self._fn = memref.FunctionWithResults(library, metadata["entry"], results)
        self._library = library
        self._out_spec = None
        self._in_structure = metadata.get("in_structure")

    def __del__(self):
        if getattr(self, "_owned", False):
            shutil.rmtree(self._dir, ignore_errors=True)

    # ----------------------------------------------------------- calling

    def run(self, *arrays: Any) -> list:
        """Runs the compiled code on the flat inputs (numpy arrays or torch
        tensors, in the order of `inputs`); returns numpy arrays."""
        if len(arrays) != len(self.inputs):
            raise InputError(f"the model takes {len(self.inputs)} tensor input(s), "
                             f"got {len(arrays)}")
        values = [self._checked(i, a) for i, a in enumerate(arrays)]
        self._check_symbols(values)
        return self._fn(*values)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        torch = _torch_or_none()
        as_torch = torch is not None and any(
            isinstance(a, torch.Tensor) for a in list(args) + list(kwargs.values()))
        flat = self._flatten_call(args, kwargs)
        results = self.run(*flat)
        if as_torch:
            results = [torch.from_numpy(r) for r in results]
        return self._restructure(results)

    def _flatten_call(self, args, kwargs):
        structure = self._in_structure
        if structure is None:  # MLIR text: positional tensors only
            if kwargs:
                raise InputError("a model compiled from MLIR text takes positional inputs only")
            return list(args)
        if len(args) != structure["args"]:
            raise InputError(f"the model was compiled with {structure['args']} positional "
                             f"input(s), got {len(args)}")
        names = structure["kwargs"]
        if set(kwargs) != set(names):
            missing = sorted(set(names) - set(kwargs))
            extra = sorted(set(kwargs) - set(names))
            raise InputError(f"keyword inputs differ from the example's: missing {missing}, "
                             f"unexpected {extra}")
        leaves = list(args) + [kwargs[n] for n in names]
        flat = []
        for i, (leaf, kind) in enumerate(zip(leaves, structure["leaves"])):
            where = f"input {i}" if i < len(args) else f"input {names[i - len(args)]!r}"
            if kind == "tensor":
                if leaf is None or not hasattr(leaf, "shape"):
                    raise InputError(f"{where}: a tensor was expected, got {type(leaf).__name__}")
                flat.append(leaf)
            elif leaf != kind["constant"]:
                raise InputError(f"{where}: the model was compiled for {kind['constant']!r} "
                                 f"here, got {leaf!r}")
        return flat

    def _checked(self, index, value):
        spec = self.inputs[index]
        torch = _torch_or_none()
        if torch is not None and isinstance(value, torch.Tensor):
            if value.device.type != "cpu":
                raise InputError(f"input {index}: on {value.device}, expected a CPU tensor")
            if value.requires_grad:
                value = value.detach()
            value = value.resolve_conj().resolve_neg().numpy()
        elif not isinstance(value, np.ndarray):
            raise InputError(f"input {index}: expected a tensor or numpy array, got "
                             f"{type(value).__name__}")
        if value.dtype != np.dtype(spec.dtype):
            raise InputError(f"input {index}: dtype {value.dtype}, expected {spec.dtype}")
        if value.ndim != len(spec.shape):
            raise InputError(f"input {index}: rank {value.ndim} (shape {value.shape}), "
                             f"expected shape {_shape_text(spec.shape)}")
        for d, (got, want) in enumerate(zip(value.shape, spec.shape)):
            if isinstance(want, int) and got != want:
                raise InputError(f"input {index}: shape {value.shape}, expected "
                                 f"{_shape_text(spec.shape)} (dim {d} must be {want})")
        if not value.dtype.isnative:
            value = value.astype(value.dtype.newbyteorder("="))
        return np.ascontiguousarray(value)

    def _check_symbols(self, values):
        bound = {}
        for i, (spec, value) in enumerate(zip(self.inputs, values)):
            for d, (got, want) in enumerate(zip(value.shape, spec.shape)):
                if isinstance(want, int):
                    continue
                if want in bound and bound[want][0] != got:
                    j, e, size = bound[want][1], bound[want][2], bound[want][0]
                    raise InputError(f"input {i} dim {d} is {got}, but input {j} dim {e} is "
                                     f"{size}: both are the dynamic size {want}")
                bound.setdefault(want, (got, i, d))
                low, high = self.symbols.get(want, (0, None))
                if got < low or (high is not None and got > high):
                    raise InputError(f"input {i} dim {d} is {got}: the dynamic size {want} "
                                     f"must be in [{low}, {'inf' if high is None else high}]")

    def _restructure(self, results):
        spec = self._output_structure()
        if spec is None:
            return results[0] if len(results) == 1 else tuple(results)
        import torch.utils._pytree as pytree

        return pytree.tree_unflatten(results, spec)

    def _output_structure(self):
        if self._out_spec is None and self._meta.get("out_spec"):
            self._out_spec = _load_treespec(self._meta["out_spec"],
                                            self._meta.get("out_modules", []))
        return self._out_spec

    # ----------------------------------------------------------- artifact

    def save(self, path: str | os.PathLike) -> pathlib.Path:
        """Writes the artifact to the directory `path`: model.so (weights
        included), model.json (inputs, outputs, dynamic sizes) and model.h
        (the C entry point). Loadable with `un_mlir.load(path)` without the
        build tree."""
        path = pathlib.Path(path)
        path.mkdir(parents=True, exist_ok=True)
        for name in (_LIBRARY, _METADATA, _HEADER):
            if (self._dir / name).resolve() != (path / name).resolve():
                shutil.copyfile(self._dir / name, path / name)
        return path

    def __repr__(self):
        ins = ", ".join(f"{t.dtype}{_shape_text(t.shape)}" for t in self.inputs)
        return f"CompiledModel({ins})"


def _shape_text(shape):
    return "[" + ", ".join(str(d) for d in shape) + "]"


def _torch_or_none():
    return sys.modules.get("torch")


def _dump_treespec(spec):
    """(the results' structure as text, the modules defining its types), or
    (None, []) for a structure without a serialization (a flat tuple)."""
    import torch.utils._pytree as pytree

    try:
        text = pytree.treespec_dumps(spec)
    except Exception:  # a result type without a serialization: flat tuple
        return None, []
    modules, pending = set(), [spec]
    while pending:
        node = pending.pop()
        if node.type is not None and node.type.__module__ != "builtins":
            modules.add(node.type.__module__)
        pending.extend(node.children())
    return text, sorted(modules)


def _load_treespec(text, modules):
    """The results' structure, after importing the modules that define
    its types (a Hugging Face ModelOutput's); None, with a warning, where
    they are not importable here."""
    import torch.utils._pytree as pytree

    try:
        for module in modules:
            importlib.import_module(module)
        return pytree.treespec_loads(text)
    except Exception as e:  # noqa: BLE001 (a missing module or an unregistered type)
        warnings.warn(f"the results' structure cannot be restored ({type(e).__name__}: {e}); "
                      "returning a flat tuple", stacklevel=3)
        return None


# --------------------------------------------------------------- compile

def _log(progress, start):
    if not progress:
        return lambda message: None

    def log(message):
        print(f"[un_mlir.compile {time.time() - start:6.1f}s] {message}", file=sys.stderr,
              flush=True)

    return log


def compile(model: Any, example_args: Sequence | Any = (), example_kwargs: dict | None = None,
            *, dynamic_shapes: Any = None, target: str = "cpu", threads: bool = False,
            cpu: str = "native", entry: str = "main",
            progress: bool | None = None) -> CompiledModel:
    """Compiles `model` for the CPU.

    `model`: a torch.nn.Module (put in eval mode, exported with the
    example inputs) or MLIR text (linalg on tensors, possibly with `un`
    ops; `entry` names its function). `example_args` / `example_kwargs`:
    the inputs of one call (tensors, or constants such as None that every
    call must repeat). `dynamic_shapes`: as torch.export takes it (e.g.
    `{"input_ids": {0: torch.export.Dim("batch")}}`). `threads`: run on
    all cores (OpenMP). `cpu`: the target CPU as llc names it (`native`:
    this machine). `progress`: log the stages to stderr (default: when
    stderr is a terminal).
    """
    if target != "cpu":
        raise ValueError(f"target {target!r}: only 'cpu' is supported by un_mlir.compile")
    if progress is None:
        progress = sys.stderr.isatty()
    log = _log(progress, time.time())
    if isinstance(model, str):
        text, metadata = _from_mlir_text(model, entry)
    else:
        text, metadata = _from_torch(model, example_args, example_kwargs, dynamic_shapes, log)
    return _build(text, metadata, threads, cpu, log)


def _from_mlir_text(text, entry):
    _, arg_types, result_types = harness.signature(text, entry)
    if not re.search(rf"func\.func\s+(?:public\s+)?@{re.escape(entry)}\(.*llvm\.emit_c_interface",
                     text):
        text = torch_mlir_import.add_c_interface(text, entry)
    inputs = []
    for i, t in enumerate(arg_types):
        element, dims = harness.parse_tensor_type(t, f"argument {i} of @{entry}")
        inputs.append(TensorSpec(harness.NUMPY_DTYPES[element], tuple(d if d is not None else f"d{i}_{k}"
                                              for k, d in enumerate(dims))).to_json())
    outputs = [TensorSpec(*_result_spec(t, entry)).to_json() for t in result_types]
    return text, {"entry": entry, "inputs": inputs, "outputs": outputs, "symbols": {},
                  "in_structure": None, "out_spec": None}


def _result_spec(text, entry):
    element, dims = harness.parse_tensor_type(text, f"a result of @{entry}")
    return harness.NUMPY_DTYPES[element], None, len(dims)


def _from_torch(model, example_args, example_kwargs, dynamic_shapes, log):
    import torch
    import torch.utils._pytree as pytree

    if isinstance(example_args, torch.Tensor):
        example_args = (example_args,)
    example_args = tuple(example_args)
    example_kwargs = dict(example_kwargs or {})
    log("exporting (torch.export)")
    with _without_kv_cache(model):
        program, out_spec = torch_mlir_import.export_program(model, example_args,
                                                             example_kwargs, dynamic_shapes)
    leaves = []
    for leaf in list(example_args) + list(example_kwargs.values()):
        if isinstance(leaf, torch.Tensor):
            leaves.append("tensor")
        elif leaf is None or isinstance(leaf, (bool, int, float, str)):
            leaves.append({"constant": leaf})
        else:
            raise TypeError(f"example input of type {type(leaf).__name__}: inputs must be "
                            "tensors or constants (None, bool, int, float, str)")
    inputs, symbols = _input_specs(program)
    if len(inputs) != leaves.count("tensor"):
        raise RuntimeError(f"torch.export gave {len(inputs)} tensor inputs for "
                           f"{leaves.count('tensor')} example tensors")
    outputs = []
    for node in program.graph.find_nodes(op="output"):
        for value in pytree.tree_leaves(node.args[0]):
            fake = value.meta["val"]
            outputs.append(TensorSpec(str(fake.dtype).removeprefix("torch."), None,
                                      fake.dim()).to_json())
    log("importing (torch-mlir)")
    text = torch_mlir_import.import_program(program, c_interface=False)
    # A C program has its own main: the model's entry point is @forward.
    if len(re.findall(r"@main\b", text)) != 1:
        raise RuntimeError("torch-mlir's module refers to @main more than once")
    text = torch_mlir_import.add_c_interface(text.replace("@main(", "@forward("), "forward")
    out_text, out_modules = _dump_treespec(out_spec)
    return text, {"entry": "forward", "inputs": inputs, "outputs": outputs, "symbols": symbols,
                  "in_structure": {"args": len(example_args),
                                   "kwargs": list(example_kwargs), "leaves": leaves},
                  "out_spec": out_text, "out_modules": out_modules}


@contextlib.contextmanager
def _without_kv_cache(model):
    """Hugging Face decoders return a KV cache object by default; the
    compiled forward is the one without it (config.use_cache = False while
    the model is exported)."""
    config = getattr(model, "config", None)
    if not getattr(config, "use_cache", False):
        yield
        return
    config.use_cache = False
    try:
        yield
    finally:
        config.use_cache = True


def _input_specs(program):
    """The user inputs' dtypes and shapes (dynamic sizes by symbol name),
    and each symbol's range."""
    from torch.export.graph_signature import InputKind

    user = {s.arg.name for s in program.graph_signature.input_specs
            if s.kind == InputKind.USER_INPUT}
    inputs = []
    for node in program.graph.find_nodes(op="placeholder"):
        if node.name not in user or not hasattr(node.meta.get("val"), "shape"):
            continue
        fake = node.meta["val"]
        shape = tuple(int(d) if isinstance(d, int) or d.node.is_constant()
                      else str(d) for d in fake.shape)
        inputs.append(TensorSpec(str(fake.dtype).removeprefix("torch."), shape).to_json())
    symbols = {}
    for symbol, bounds in program.range_constraints.items():
        try:
            high = int(bounds.upper)
        except (ArithmeticError, AttributeError, TypeError, ValueError):  # unbounded
            high = None
        symbols[str(symbol)] = [int(bounds.lower), high]
    for spec in inputs:
        for d in spec["shape"]:
            if isinstance(d, str) and not re.fullmatch(r"[A-Za-z_]\w*", d):
                raise NotImplementedError(f"input size {d}: only plain dynamic sizes "
                                          "(one symbol) are supported")
    return inputs, symbols


def _build(text, metadata, threads, cpu, log):
    directory = pathlib.Path(tempfile.mkdtemp(prefix="un_mlir_"))
    try:
        log("raising and folding normalizations (un-opt)")
        report, folded = _fold(text)
        metadata["report"] = dataclasses.asdict(report)
        log("code generation (un-opt, LLVM)")
        pipeline = "un-cpu-pipeline{threads=true}" if threads else "un-cpu-pipeline"
        aot.compile_shared_library(folded, directory / _LIBRARY, cpu=cpu, pipeline=[pipeline])
        metadata["format"] = FORMAT_VERSION
        metadata["threads"] = threads
        (directory / _METADATA).write_text(json.dumps(metadata, indent=1))
        (directory / _HEADER).write_text(c_header(metadata))
        log("done")
        return CompiledModel(directory, metadata, owned=True)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def _fold(text):
    """Raises and folds the normalizations in one un-opt run; the remarks
    say what was raised, what was not, and what stayed unfolded."""
    folded, remarks = aot.run_un_opt_with_remarks(
        text, ["un-raise-norms{report-raised=true}",
               "un-inference-pipeline{pack-weights=true report-unfolded=true}"])
    def says(remark, start):
        return re.sub(r"^(remark|warning): ", "", remark).startswith(start)
    others = [r for r in remarks if not says(r, "raised to ")]
    unfolded = [r for r in others if not says(r, "per-token normalization")]
    return FoldReport(len(remarks) - len(others), len(unfolded), others), folded


def load(path: str | os.PathLike) -> CompiledModel:
    """A CompiledModel from a directory written by `CompiledModel.save`."""
    path = pathlib.Path(path)
    try:
        metadata = json.loads((path / _METADATA).read_text())
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: no {_METADATA}; not a saved un_mlir model") from None
    if metadata.get("format") != FORMAT_VERSION:
        raise ValueError(f"{path}: artifact format {metadata.get('format')}, this un_mlir "
                         f"reads {FORMAT_VERSION}")
    return CompiledModel(path, metadata)


# --------------------------------------------------------------- C header

def c_header(metadata: dict) -> str:
    """model.h: the C declaration of the compiled entry point."""
    entry = metadata["entry"]
    lines = ["/* The entry point of a model compiled by un-mlir (un_mlir.compile).",
             " *",
             " * Link with model.so. Every tensor is a memref descriptor: the",
             " * buffer (allocated, aligned), an offset in elements, then sizes and",
             " * strides in elements, row-major. Inputs are read only. Results are",
             " * written into `results`; each result's buffer is allocated by the",
             " * model with malloc: free(results->rN.allocated) when done.",
             " * Input sizes must match those below (a dynamic size, named by its",
             " * symbol, must be equal wherever the symbol appears).",
             " */",
             "#include <stdbool.h>", "#include <stdint.h>", ""]
    for i, spec in enumerate(metadata["inputs"]):
        dims = ", ".join(str(d) for d in spec["shape"])
        lines += [f"/* input {i}: {spec['dtype']} [{dims}] */",
                  _descriptor_struct(f"un_input{i}", spec["dtype"], len(spec["shape"]))]
    fields = []
    for i, spec in enumerate(metadata["outputs"]):
        lines.append(_descriptor_struct(f"un_result{i}", spec["dtype"], spec["rank"]))
        fields.append(f"  struct un_result{i} r{i};")
    lines += ["struct un_results {", *fields, "};", ""]
    params = ", ".join(["struct un_results *results"] +
                       [f"struct un_input{i} *input{i}" for i in range(len(metadata["inputs"]))])
    lines += [f"void _mlir_ciface_{entry}({params});", ""]
    return "\n".join(lines)


def _descriptor_struct(name, dtype, rank):
    ctype = _C_TYPES[dtype]
    shape = (f"  int64_t sizes[{rank}];\n  int64_t strides[{rank}];\n" if rank else "")
    return (f"struct {name} {{\n  {ctype} *allocated;\n  {ctype} *aligned;\n"
            f"  int64_t offset;\n{shape}}};\n")


__all__ = ["compile", "load", "CompiledModel", "TensorSpec", "InputError", "FoldReport"]
